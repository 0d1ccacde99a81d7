//! `pipeline!` end to end: a stream of orders goes through named stages (parse, price, keep
//! the large ones, batch them) and fans out to a billing sink and an audit log with per-edge
//! options; the example prints the stream graph, what each sink received, then shows a stalled
//! sink cut off by its timeout.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --example pipeline
//! ```
//!
//! The book's "Pipelines" chapter (`book/src/pipelines.md`) explains the notation.

use std::time::Duration;

use weir::pipeline;
use weir::stream::{self, Channel};
use weir::{Error, runtime};

/// How long any step may wait before the example gives up.
const LIMIT: Duration = Duration::from_secs(5);

fn main() -> Result<(), Error> {
    runtime::block_on(runtime::timeout(LIMIT, run())).map_err(|_| Error::timed_out(LIMIT))?
}

async fn run() -> Result<(), Error> {
    let orders = Channel::<&'static str>::new(8);
    let billing = Channel::new(8);
    let audit = Channel::new(16);

    let done = pipeline!(
        orders.clone()
            => map_each(|line: &str| line.split_once(' ').map(|(item, qty)| (item, qty.parse::<u32>().unwrap_or(0)))) as "parse"
            => filter_each(|order| order.is_some())
            => map_each(|order| { let (item, qty) = order.unwrap(); (item, qty * 10) }) as "price"
            => filter_each(|(_, cents)| *cents >= 20) as "large orders"
            => batch(2)
            => [
                billing.clone() { description: "billing", timeout: Duration::from_secs(1) },
                audit.clone() { description: "audit", downstream: false },
            ]
    );

    println!("the stream graph, from the orders channel:");
    print!("{}", orders.node().render_text());

    stream::put_all(
        orders.clone(),
        ["apple 3", "pear 1", "not an order", "plum 7", "fig 2"],
    )
    .await?;
    orders.close();
    done.await?;
    println!("pipeline done: the source drained and both sinks accepted everything");

    while let Some(batch) = billing.take_next().await {
        println!("billing got {batch:?}");
    }
    println!("billing closed: {}", billing.is_closed());
    println!(
        "audit still open (downstream: false): {}",
        !audit.is_closed()
    );
    audit.close();
    while let Some(batch) = audit.take_next().await {
        println!("audit got {batch:?}");
    }

    let stuck = Channel::<u32>::unbuffered();
    let done =
        pipeline!(stream::iter(1..=3) => stuck.clone() { timeout: Duration::from_millis(100) });
    match done.await {
        Err(error) if error.is_timeout() => println!("a stalled sink was cut off: {error}"),
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}

//! A walk through weir's streams, printing what happens at each step: channels and
//! backpressure, unbuffered channels, `try_put`/`try_take`, closing and draining, the limit on
//! pending puts, then `connect` with fan-out and a timeout, and the resulting stream graph
//! rendered as text.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --example streams
//! ```
//!
//! The book's "Streams and backpressure" and "Connecting streams" chapters
//! (`book/src/streams.md`, `book/src/connecting.md`) explain each step.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use weir::stream::{self, Channel, ConnectOptions, MAX_PENDING_PUTS, Source};
use weir::{Error, runtime};

/// How long any step may wait before the example gives up.
const LIMIT: Duration = Duration::from_secs(5);

fn main() -> Result<(), Error> {
    let start = Instant::now();
    run(backpressure())?;
    run(unbuffered())?;
    run(trying())?;
    run(closing_and_draining())?;
    run(pending_limit())?;
    run(fan_out())?;
    run(cutting_off())?;
    println!("\nall done in {:?}", start.elapsed());
    Ok(())
}

/// Runs one step on the current thread, failing it if it takes longer than `LIMIT`.
fn run(step: impl Future<Output = Result<(), Error>>) -> Result<(), Error> {
    runtime::block_on(runtime::timeout(LIMIT, step))?
}

/// Everything left in `channel`, until it is drained.
async fn drain<T>(channel: &Channel<T>) -> Vec<T> {
    let mut taken = Vec::new();
    while let Some(message) = channel.take_next().await {
        taken.push(message);
    }
    taken
}

/// True if `future` is not ready when polled once (it is polled, not awaited).
fn is_pending<F: Future + Unpin>(future: &mut F) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    Pin::new(future).poll(&mut cx).is_pending()
}

async fn backpressure() -> Result<(), Error> {
    println!("== a channel with room for 3, a fast producer and a slow consumer");
    let channel = Channel::new(3);
    let produced = Arc::new(AtomicUsize::new(0));
    let producer = {
        let (channel, produced) = (channel.clone(), produced.clone());
        runtime::spawn(async move {
            for i in 0..10 {
                channel.put(i).await?;
                produced.fetch_add(1, Ordering::SeqCst);
            }
            channel.close();
            Ok::<_, Error>(())
        })
    };
    let mut taken = 0;
    while let Some(message) = channel.take_next().await {
        taken += 1;
        println!(
            "took {message}: the producer has put {} so far, never more than 3 ahead",
            produced.load(Ordering::SeqCst)
        );
        // The consumer is slow.
        runtime::sleep(Duration::from_millis(2)).await;
    }
    producer.await?;
    println!("took {taken} messages, then `take` returned None: closed and drained");
    Ok(())
}

async fn unbuffered() -> Result<(), Error> {
    println!("\n== an unbuffered channel: a put completes only when its message is taken");
    let channel = Channel::unbuffered();
    let mut put = channel.put("hello");
    println!("put(\"hello\") is pending: {}", is_pending(&mut put));
    println!("pending puts: {}", channel.description().pending_puts);
    println!("take_next() -> {:?}", channel.take_next().await);
    println!("the put now completes: {:?}", put.await);
    Ok(())
}

async fn trying() -> Result<(), Error> {
    println!("\n== try_put and try_take: waiting with a limit (zero: only if possible now)");
    let channel = Channel::new(1);
    println!(
        "try_put(1, 0) on an empty channel -> {:?}",
        channel.try_put(1, Duration::ZERO).await
    );
    let full = channel
        .try_put(2, Duration::from_millis(10))
        .await
        .unwrap_err();
    println!("try_put(2, 10ms) on a full channel -> {full}");
    println!("  and hands the message back: {}", full.into_inner());
    println!(
        "try_take(0) -> {:?}",
        channel.try_take(Duration::ZERO).await
    );
    println!(
        "try_take(10ms) on an empty channel -> {:?}",
        channel.try_take(Duration::from_millis(10)).await
    );
    channel.close();
    println!(
        "after close, try_take(5s) -> {:?} (at once: nothing will ever come)",
        channel.try_take(LIMIT).await
    );
    Ok(())
}

async fn closing_and_draining() -> Result<(), Error> {
    println!("\n== closing keeps what is buffered and pending; the drain reports the cause");
    let channel = Channel::new(1);
    channel.on_closed(|| println!("  (on_closed: no more puts)"));
    channel.on_drained(|outcome| {
        let outcome = outcome.map_err(|cause| cause.to_string());
        println!("  (on_drained: {outcome:?})");
    });
    channel.put("buffered").await?;
    let mut pending = channel.put("pending");
    println!("a second put is pending: {}", is_pending(&mut pending));

    channel.close_with_error(Error::msg("the producer failed"));
    let refused = channel.put("too late").await.unwrap_err();
    println!("a put after close -> {refused}");
    println!("  and hands the message back: {:?}", refused.into_inner());
    println!("take_next() -> {:?}", channel.take_next().await);
    println!("take_next() -> {:?}", channel.take_next().await);
    println!("take_next() -> {:?}", channel.take_next().await);
    println!(
        "drained() -> {:?}",
        channel.drained().await.map_err(|cause| cause.to_string())
    );
    Ok(())
}

async fn pending_limit() -> Result<(), Error> {
    println!("\n== at most {MAX_PENDING_PUTS} puts may wait at once; one more is refused");
    let channel = Channel::unbuffered();
    let mut waiting: Vec<_> = (0..MAX_PENDING_PUTS).map(|i| channel.put(i)).collect();
    let mut pending = 0;
    for put in &mut waiting {
        if is_pending(put) {
            pending += 1;
        }
    }
    println!("{pending} puts are pending");
    let refused = channel.put(MAX_PENDING_PUTS).await.unwrap_err();
    println!(
        "one more -> {refused} (is_too_many_pending: {})",
        refused.is_too_many_pending()
    );
    println!("  and hands the message back: {}", refused.into_inner());
    println!(
        "nothing pending was lost: take_next() -> {:?}, {:?}, ...",
        channel.take_next().await,
        channel.take_next().await
    );
    Ok(())
}

async fn fan_out() -> Result<(), Error> {
    println!("\n== connect: orders fan out to billing and audit; billing is slow");
    let orders = Channel::builder().capacity(4).description("orders").build();
    let audit = Channel::builder().capacity(4).description("audit").build();
    let billing = Channel::builder().description("billing").build(); // unbuffered
    let to_billing = stream::connect(
        orders.clone(),
        billing.clone(),
        ConnectOptions::new().description("to billing"),
    );
    let to_audit = stream::connect(
        orders.clone(),
        audit.clone(),
        ConnectOptions::new().description("to audit"),
    );
    for id in [1001, 1002, 1003] {
        orders.put(id).await?;
    }
    orders.close();
    println!("put 3 orders and closed `orders`");
    println!("audit took {:?}", audit.take_next().await);
    println!(
        "audit, again at once: {:?}",
        audit.try_take(Duration::ZERO).await
    );
    println!("(1002 waits until billing has accepted 1001)");
    println!("the graph now:\n{}", orders.node().render_text());

    println!("billing takes everything: {:?}", drain(&billing).await);
    println!("audit takes the rest: {:?}", drain(&audit).await);
    println!(
        "the connections ended: {:?}, {:?}",
        to_billing.await,
        to_audit.await
    );
    println!(
        "and left the graph: {} edges",
        orders.node().downstream().len()
    );
    Ok(())
}

async fn cutting_off() -> Result<(), Error> {
    println!("\n== a timeout cuts off a sink that stalls, so the others go on");
    let source = Channel::new(4);
    let fast = Channel::new(4);
    let stuck = Channel::unbuffered(); // nobody takes from it
    stream::connect(source.clone(), fast.clone(), ConnectOptions::new());
    let cut_off = stream::connect(
        source.clone(),
        stuck.clone(),
        ConnectOptions::new().timeout(Duration::from_millis(20)),
    );
    for i in 0..4 {
        source.put(i).await?;
    }
    source.close();
    let outcome = cut_off.await;
    println!(
        "the stuck sink's connection -> {:?}; stuck is closed: {}",
        outcome.map_err(|e| e.to_string()),
        stuck.is_closed()
    );
    println!("the fast sink received {:?}", drain(&fast).await);
    Ok(())
}

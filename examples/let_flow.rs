//! `let_flow!`: a small order page assembled from three "services", printing when each step
//! starts and finishes so the concurrency shows. The user and the catalogue are fetched at the
//! same time, the orders once the user is known, the page once everything is in; then the same
//! flow with a failing service, whose error cancels the fetch still in flight.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --example let_flow
//! ```
//!
//! The book's "let_flow!" chapter (`book/src/let-flow.md`) explains each rule.

use std::time::{Duration, Instant};

use weir::{Deferred, Error, let_flow, runtime};

/// How long the example may wait before it gives up.
const LIMIT: Duration = Duration::from_secs(5);

/// A pretend service call: waits `latency`, then answers (or fails when `fail` is set).
async fn call(name: String, latency_ms: u64, start: Instant, fail: bool) -> Result<String, Error> {
    println!("{:>5.0?}  {name}: started", start.elapsed());
    runtime::sleep(Duration::from_millis(latency_ms)).await;
    if fail {
        println!("{:>5.0?}  {name}: failed", start.elapsed());
        return Err(Error::msg(format!("{name} is down")));
    }
    println!("{:>5.0?}  {name}: done", start.elapsed());
    Ok(format!("<{name}>"))
}

fn page(fail_orders: bool) -> Deferred<String> {
    let start = Instant::now();
    let_flow! {
        let user = call("user".into(), 50, start, false);
        let catalogue = call("catalogue".into(), 120, start, false); // concurrent with `user`
        let orders = call(format!("orders of {user}"), 30, start, fail_orders); // once `user` is in
        let summary = format!("{user} has {orders}");
        format!("{summary}, browsing {catalogue} ({:?})", start.elapsed())
    }
}

fn main() -> Result<(), Error> {
    println!("a page with every service up:");
    let ok = page(false).timeout(LIMIT).wait()?;
    println!("  => {ok}\n");

    println!("a page whose orders service is down:");
    let err = page(true).timeout(LIMIT).wait().unwrap_err();
    println!("  => error: {err} (the catalogue call was dropped)");
    Ok(())
}

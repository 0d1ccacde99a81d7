//! Timeouts on deferreds and the runtime's timers.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::{BOUND, DropSignal, run};
use weir::{Deferred, Error, runtime};

#[test]
fn smoke() {
    let d = Deferred::<u8>::new().timeout(Duration::from_millis(1));
    assert!(d.wait().unwrap_err().is_timeout());
}

#[test]
fn timeout_realizes_the_deferred_itself_with_a_timeout_error() {
    let d: Deferred<u8> = Deferred::new();
    let listener = d.clone();
    drop(d.clone().timeout(Duration::from_millis(20)));
    let error = run(listener).unwrap_err();
    assert!(error.is_timeout());
    assert_eq!(error.to_string(), "timed out after 20ms");
    assert!(d.is_error(), "the original deferred carries the timeout");
    let _ = d.wait();
}

#[test]
fn a_timeout_does_not_fire_before_its_duration() {
    let d: Deferred<u8> = Deferred::new();
    drop(d.clone().timeout(Duration::from_secs(3600)));
    assert!(!d.is_realized(), "an hour has not passed");
    d.success(1);
    assert_eq!(d.wait().unwrap(), 1);
}

#[test]
fn timeout_with_realizes_a_default() {
    let d = Deferred::<&str>::new().timeout_with(Duration::from_millis(5), "default");
    assert_eq!(run(d).unwrap(), "default");
}

#[test]
fn realized_in_time_keeps_its_value() {
    let d = Deferred::<u8>::new().timeout(Duration::from_millis(50));
    d.success(1);
    assert_eq!(run(d).unwrap(), 1);
}

#[test]
fn zero_and_realized_cases_need_no_timer() {
    let zero = Deferred::<u8>::new().timeout(Duration::ZERO);
    assert!(zero.is_error(), "a zero timeout fires at once");
    assert!(zero.wait().unwrap_err().is_timeout());
    let done = Deferred::<u8>::succeeded(1).timeout(Duration::ZERO);
    assert_eq!(done.wait().unwrap(), 1);
}

#[test]
fn the_timer_is_cancelled_when_realized_first() {
    // If the timer task still held the deferred, the value would live for an hour.
    let (tx, rx) = mpsc::channel();
    let d: Deferred<DropSignal> = Deferred::new().timeout(Duration::from_secs(3600));
    d.success(DropSignal(tx));
    drop(d);
    rx.recv_timeout(BOUND)
        .expect("the timer released the deferred");
}

#[test]
fn a_timeout_skips_chain_stages_not_yet_run() {
    let source: Deferred<u8> = Deferred::new();
    let out = source
        .clone()
        .map(|x| x + 1)
        .timeout(Duration::from_millis(5));
    assert!(run(out).unwrap_err().is_timeout());
    source.success(1);
}

#[test]
fn a_timeout_cancels_spawned_work() {
    let (tx, rx) = mpsc::channel();
    let work = Deferred::<u8>::spawn(async move {
        let _guard = DropSignal(tx);
        std::future::pending::<Result<u8, Error>>().await
    })
    .timeout(Duration::from_millis(5));
    assert!(run(work).unwrap_err().is_timeout());
    rx.recv_timeout(BOUND).expect("the work was dropped");
}

#[test]
fn runtime_timers() {
    let start = Instant::now();
    let fired = runtime::block_on(runtime::sleep(Duration::from_millis(5)));
    assert!(fired >= start + Duration::from_millis(5));
    let deadline = Instant::now() + Duration::from_millis(5);
    assert!(runtime::block_on(runtime::sleep_until(deadline)) >= deadline);
    let slow = runtime::block_on(runtime::timeout(
        Duration::from_millis(5),
        runtime::sleep(Duration::from_secs(3600)),
    ));
    assert!(slow.unwrap_err().is_timeout());
    let ticks: Vec<Instant> = run(futures_lite::StreamExt::collect(
        futures_lite::StreamExt::take(runtime::interval(Duration::from_millis(2)), 3),
    ));
    assert!(ticks.windows(2).all(|w| w[0] < w[1]));
}

//! Chaining stages: map, try_map, then, chain; errors and panics through chains.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::{BOUND, Connection, run};
use weir::{Deferred, Error};

#[test]
fn smoke() {
    assert_eq!(
        Deferred::<u32>::succeeded(1).map(|x| x + 1).wait().unwrap(),
        2
    );
}

#[test]
fn stages_run_in_order_once_the_source_is_realized() {
    let d: Deferred<u32> = Deferred::new();
    let out = d
        .clone()
        .map(|x| x + 1)
        .try_map(|x| Ok(x * 10))
        .then(|x| async move { Ok::<_, Error>(x + 5) })
        .chain(|x| Deferred::succeeded(format!("#{x}")));
    assert!(!out.is_realized());
    d.success(1);
    assert_eq!(run(out).unwrap(), "#25");
}

#[test]
fn a_stage_may_return_a_deferred_through_then() {
    let inner: Deferred<u32> = Deferred::new();
    let handle = inner.clone();
    let out = Deferred::<u32>::succeeded(1).then(move |x| handle.map(move |y| x + y));
    inner.success(41);
    assert_eq!(run(out).unwrap(), 42);
}

#[test]
fn synchronous_stages_on_a_realized_deferred_realize_at_once() {
    let out = Deferred::<u32>::succeeded(2)
        .map(|x| x * 2)
        .try_map(|x| Ok(x + 1));
    assert!(out.is_realized(), "no task or thread involved");
    assert_eq!(out.wait().unwrap(), 5);
}

#[test]
fn an_error_skips_every_later_stage() {
    let ran = Arc::new(AtomicUsize::new(0));
    let (a, b, c) = (ran.clone(), ran.clone(), ran.clone());
    let out = Deferred::<u32>::succeeded(1)
        .try_map(|_| Err::<u32, _>(Error::msg("stage one failed")))
        .map(move |x| {
            a.fetch_add(1, Ordering::SeqCst);
            x
        })
        .then(move |x| {
            b.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, Error>(x) }
        })
        .chain(move |x| {
            c.fetch_add(1, Ordering::SeqCst);
            Deferred::succeeded(x)
        });
    assert_eq!(run(out).unwrap_err().to_string(), "stage one failed");
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn an_error_from_a_future_stage_skips_later_stages() {
    let out = Deferred::<u32>::succeeded(1)
        .then(|_| async { Err::<u32, _>(Error::closed("upstream")) })
        .map(|x| x + 1);
    assert!(run(out).unwrap_err().is_closed());
}

#[test]
fn a_panicking_stage_becomes_a_panic_error() {
    let out = Deferred::<u32>::succeeded(1)
        .map(|_| -> u32 { panic!("stage bug") })
        .map(|x| x + 1);
    let error = run(out).unwrap_err();
    assert!(error.is_panic());
    assert_eq!(error.to_string(), "panicked: stage bug");

    let future_panics = Deferred::<u32>::succeeded(1).then(|_| async {
        if true {
            panic!("async stage bug");
        }
        Ok::<u32, Error>(0)
    });
    assert!(run(future_panics).unwrap_err().is_panic());
}

#[test]
fn chaining_moves_a_value_that_is_not_clone() {
    let out = Deferred::<Connection>::succeeded(Connection(1))
        .map(|c| Connection(c.0 + 1))
        .then(|c| async move { Ok::<_, Error>(Connection(c.0 * 10)) });
    assert_eq!(run(out).unwrap(), Connection(20));
}

#[test]
fn cancelling_the_result_drops_the_future_stage() {
    let (tx, rx) = std::sync::mpsc::channel();
    let started: Deferred<()> = Deferred::new();
    let started_r = started.realizer();
    let out = Deferred::<u32>::succeeded(1).then(move |_| {
        let guard = support::DropSignal(tx);
        async move {
            let _guard = guard;
            started_r.success(());
            std::future::pending::<Result<u32, Error>>().await
        }
    });
    run(started).unwrap();
    assert!(out.error(Error::cancelled()));
    rx.recv_timeout(BOUND)
        .expect("the stage's future was dropped");
    assert!(run(out).unwrap_err().is_cancelled());
}

#[test]
fn a_stage_not_yet_run_is_skipped_when_the_result_is_cancelled() {
    let source: Deferred<u32> = Deferred::new();
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let out = source.clone().map(move |x| {
        r.fetch_add(1, Ordering::SeqCst);
        x
    });
    out.error(Error::cancelled());
    source.success(1);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert!(out.wait().unwrap_err().is_cancelled());
}

/// Stages in a chain that realizes in one go; deep enough to overflow the stack if each stage
/// ran inside the frame of the one before it.
const DEEP: u32 = 1_000_000;

#[test]
fn a_million_stages_attached_before_realization_do_not_overflow_the_stack() {
    let source: Deferred<u32> = Deferred::new();
    let mut d = source.clone().map(|x| x + 1);
    for _ in 1..DEEP {
        d = d.map(|x| x + 1);
    }
    assert!(!d.is_realized());
    source.success(0);
    assert!(d.is_realized(), "every stage ran before `success` returned");
    assert_eq!(d.wait().unwrap(), DEEP);
}

#[test]
fn a_million_stages_attached_after_realization_do_not_overflow_the_stack() {
    let mut d = Deferred::<u32>::succeeded(0);
    for _ in 0..DEEP {
        d = d.map(|x| x + 1);
    }
    assert_eq!(d.wait().unwrap(), DEEP);
}

/// Manifold-style recursion: each stage returns the next deferred of the chain.
fn count_down(n: u32) -> Deferred<u32> {
    if n == 0 {
        return Deferred::succeeded(0);
    }
    Deferred::<u32>::succeeded(n).chain(|n| count_down(n - 1).map(|x| x + 1))
}

#[test]
fn a_million_recursive_chain_stages_on_realized_deferreds_do_not_overflow_the_stack() {
    assert_eq!(count_down(DEEP).wait().unwrap(), DEEP);
}

#[test]
fn a_stage_that_waits_on_a_queued_stage_does_not_deadlock() {
    let source: Deferred<u32> = Deferred::new();
    let out = source.clone().map(|x| {
        // Inside a stage, the inner stage is queued behind this one; `wait` runs it first.
        let inner = Deferred::<u32>::succeeded(x).map(|y| y * 2);
        inner.wait_timeout(BOUND).unwrap().unwrap() + 1
    });
    source.success(1);
    assert_eq!(out.wait_timeout(BOUND).unwrap().unwrap(), 3);
}

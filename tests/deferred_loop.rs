//! loop_fn: asynchronous loops.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::run;
use weir::deferred::{Loop, loop_fn};
use weir::{Deferred, Error};

#[test]
fn smoke() {
    let d = loop_fn(0u32, |n| async move {
        Ok::<_, Error>(if n < 3 {
            Loop::Recur(n + 1)
        } else {
            Loop::Done(n)
        })
    });
    assert_eq!(run(d).unwrap(), 3);
}

#[test]
fn a_long_loop_does_not_grow_the_stack() {
    let d = loop_fn(0u64, |n| {
        Deferred::<Loop<u64, u64>>::succeeded(if n < 200_000 {
            Loop::Recur(n + 1)
        } else {
            Loop::Done(n)
        })
    });
    assert_eq!(run(d).unwrap(), 200_000);
}

#[test]
fn each_turn_may_wait_on_a_deferred() {
    let inputs: Vec<Deferred<u32>> = (0..5).map(|_| Deferred::new()).collect();
    let queue = inputs.clone();
    let total = loop_fn((0usize, 0u32), move |(i, sum)| {
        let next = queue.get(i).cloned();
        async move {
            match next {
                Some(d) => Ok(Loop::Recur((i + 1, sum + d.await?))),
                None => Ok::<_, Error>(Loop::Done(sum)),
            }
        }
    });
    for (i, d) in inputs.iter().enumerate() {
        d.success(i as u32 + 1);
    }
    assert_eq!(run(total).unwrap(), 15);
}

#[test]
fn an_error_ends_the_loop() {
    let turns = Arc::new(AtomicUsize::new(0));
    let t = turns.clone();
    let d = loop_fn(0u32, move |n| {
        t.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 3 {
                Err(Error::msg("third turn failed"))
            } else {
                Ok(Loop::<u32, ()>::Recur(n + 1))
            }
        }
    });
    assert_eq!(run(d).unwrap_err().to_string(), "third turn failed");
    assert_eq!(turns.load(Ordering::SeqCst), 4);
}

#[test]
fn a_panic_ends_the_loop_with_a_panic_error() {
    let d = loop_fn(0u32, |n| {
        if n == 2 {
            panic!("loop bug");
        }
        async move { Ok::<_, Error>(Loop::<u32, ()>::Recur(n + 1)) }
    });
    assert!(run(d).unwrap_err().is_panic());
}

#[test]
fn cancelling_stops_the_loop() {
    let turns = Arc::new(AtomicUsize::new(0));
    let t = turns.clone();
    let gate: Deferred<()> = Deferred::new();
    let g = gate.clone();
    let d = loop_fn((), move |()| {
        t.fetch_add(1, Ordering::SeqCst);
        let g = g.clone();
        async move {
            g.await?;
            Ok::<_, Error>(Loop::<(), ()>::Recur(()))
        }
    });
    d.error(Error::cancelled());
    assert!(run(d).unwrap_err().is_cancelled());
    // The loop is parked on the gate in its first turn or was never started; opening the gate
    // must not start further turns.
    gate.success(());
    let after = turns.load(Ordering::SeqCst);
    assert!(after <= 1, "{after} turns ran after cancellation");
}

#[test]
fn the_common_cases_need_no_annotations() {
    // The error type is weir's: `Ok(..)` and `?` infer it.
    let looped = loop_fn(0u32, |n| async move {
        Ok(if n < 3 {
            Loop::Recur(n + 1)
        } else {
            Loop::Done(n)
        })
    });
    assert_eq!(run(looped).unwrap(), 3);
    let blocking = Deferred::spawn_blocking(|| {
        let parsed: u32 = "7".parse().map_err(Error::other)?;
        let _dir = std::fs::metadata(".")?;
        Ok(parsed)
    });
    assert_eq!(run(blocking).unwrap(), 7);
}

/// Realizes its deferred when dropped: tells the test that a loop's body is gone.
struct DropSignal(Deferred<()>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.0.success(());
    }
}

#[test]
fn a_cancelled_loop_whose_turns_are_always_ready_ends() {
    let started: Deferred<()> = Deferred::new();
    let ended: Deferred<()> = Deferred::new();
    let (s, signal) = (started.clone(), DropSignal(ended.clone()));
    let d = loop_fn(0u64, move |n| {
        let _alive = &signal;
        s.success(());
        // Ready at once, every turn: the loop never waits on anything.
        std::future::ready(Ok::<_, Error>(Loop::<u64, ()>::Recur(n + 1)))
    });
    run(started).unwrap();
    d.error(Error::cancelled());
    // The loop's task drops its body when it stops: before the fix it never did.
    run(ended).unwrap();
    assert!(run(d).unwrap_err().is_cancelled());
}

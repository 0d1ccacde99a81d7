//! Creating, realizing, listening to and waiting on deferreds.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::Duration;

use support::{BOUND, Connection, run};
use weir::{Deferred, Error};

#[test]
fn smoke() {
    let d: Deferred<u32> = Deferred::new();
    assert!(d.success(1));
    assert_eq!(d.wait().unwrap(), 1);
}

#[test]
fn only_the_first_realization_counts() {
    let d: Deferred<&str> = Deferred::new();
    assert!(!d.is_realized());
    assert!(d.success("first"));
    assert!(!d.success("second"));
    assert!(!d.error(Error::cancelled()));
    let refused = d.try_realize(Ok("third")).unwrap_err();
    assert_eq!(refused.into_inner().unwrap(), "third");
    assert!(d.is_realized() && d.is_success() && !d.is_error());
    assert_eq!(d.peek().unwrap().unwrap(), "first");
    assert_eq!(run(d).unwrap(), "first");
}

#[test]
fn error_first_then_success_is_refused() {
    let d: Deferred<u8> = Deferred::new();
    assert!(d.error(Error::closed("stream")));
    assert!(!d.success(1));
    assert!(d.is_error());
    assert!(d.wait().unwrap_err().is_closed());
}

#[test]
fn pre_realized_constructors() {
    assert_eq!(Deferred::<u8>::succeeded(3).wait().unwrap(), 3);
    assert!(
        Deferred::<u8>::failed(Error::cancelled())
            .wait()
            .unwrap_err()
            .is_cancelled()
    );
    let from: Deferred<u8, String> = Err("no".to_string()).into();
    assert_eq!(from.wait().unwrap_err(), "no");
}

#[test]
fn any_clone_error_type_works() {
    #[derive(Clone, Debug, PartialEq)]
    enum MyError {
        Missing,
    }
    let d: Deferred<u8, MyError> = Deferred::new();
    let listener = d.clone();
    d.error(MyError::Missing);
    assert_eq!(listener.wait(), Err(MyError::Missing));
    assert_eq!(d.peek(), Some(Err(MyError::Missing)));
}

#[test]
fn every_clone_is_a_listener() {
    let d: Deferred<String> = Deferred::new();
    let listeners: Vec<_> = (0..5).map(|_| d.clone()).collect();
    d.success("shared".to_string());
    for listener in listeners {
        assert_eq!(run(listener).unwrap(), "shared");
    }
    assert_eq!(d.wait().unwrap(), "shared");
}

#[test]
fn many_listeners_on_many_threads_see_the_same_value() {
    let d: Deferred<Arc<Vec<u32>>> = Deferred::new();
    let start = Arc::new(Barrier::new(9));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (listener, start) = (d.clone(), start.clone());
            thread::spawn(move || {
                start.wait();
                if i % 2 == 0 {
                    listener.wait_timeout(BOUND).unwrap().unwrap()
                } else {
                    run(listener).unwrap()
                }
            })
        })
        .collect();
    start.wait();
    d.success(Arc::new(vec![1, 2, 3]));
    for handle in handles {
        assert_eq!(*handle.join().unwrap(), vec![1, 2, 3]);
    }
}

#[test]
fn racing_success_against_error_has_one_winner_seen_by_all() {
    for _round in 0..200 {
        let d: Deferred<u32> = Deferred::new();
        let wins = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(8));
        let racers: Vec<_> = (0..4)
            .map(|i| {
                let (d, wins, start) = (d.clone(), wins.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    let won = if i % 2 == 0 {
                        d.success(i)
                    } else {
                        d.error(Error::msg(format!("racer {i}")))
                    };
                    if won {
                        wins.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let listeners: Vec<_> = (0..4)
            .map(|_| {
                let (d, start) = (d.clone(), start.clone());
                thread::spawn(move || {
                    start.wait();
                    d.wait_timeout(BOUND).unwrap().map_err(|e| e.to_string())
                })
            })
            .collect();
        for racer in racers {
            racer.join().unwrap();
        }
        let seen: Vec<_> = listeners.into_iter().map(|l| l.join().unwrap()).collect();
        assert_eq!(wins.load(Ordering::SeqCst), 1);
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
        assert_eq!(d.wait().map_err(|e| e.to_string()), seen[0]);
    }
}

#[test]
fn a_single_owner_awaits_a_value_that_is_not_clone() {
    let d: Deferred<Connection> = Deferred::new();
    let realizer = d.realizer();
    let producer = thread::spawn(move || realizer.success(Connection(7)));
    assert_eq!(run(d).unwrap(), Connection(7));
    assert!(producer.join().unwrap());
}

#[test]
fn a_single_owner_gets_the_value_by_callback_too() {
    let d: Deferred<Connection> = Deferred::new();
    let realizer = d.realizer();
    let (tx, rx) = mpsc::channel();
    d.on_realized(move |outcome| tx.send(outcome.unwrap()).unwrap());
    realizer.success(Connection(9));
    assert_eq!(rx.recv_timeout(BOUND).unwrap(), Connection(9));
}

#[test]
fn the_last_listener_receives_the_value_by_move() {
    // Counts clones of the value: one extra listener costs exactly one clone.
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    #[derive(Debug)]
    struct Counted;
    impl Clone for Counted {
        fn clone(&self) -> Self {
            CLONES.fetch_add(1, Ordering::SeqCst);
            Counted
        }
    }
    let d: Deferred<Counted> = Deferred::new();
    let other = d.clone();
    d.success(Counted);
    run(other).unwrap();
    run(d).unwrap();
    assert_eq!(CLONES.load(Ordering::SeqCst), 1);
}

#[test]
fn callbacks_run_at_once_when_registered_after_realization() {
    let d: Deferred<u32> = Deferred::succeeded(4);
    let seen = Arc::new(AtomicUsize::new(0));
    let s = seen.clone();
    d.clone().on_realized(move |outcome| {
        s.store(outcome.unwrap() as usize, Ordering::SeqCst);
    });
    // No waiting: the callback already ran on this thread.
    assert_eq!(seen.load(Ordering::SeqCst), 4);
}

#[test]
fn callbacks_registered_before_realization_run_on_the_realizing_thread() {
    let d: Deferred<u32> = Deferred::new();
    let (tx, rx) = mpsc::channel();
    for _ in 0..3 {
        let tx = tx.clone();
        d.clone().on_realized(move |outcome| {
            tx.send((outcome.unwrap(), thread::current().id())).unwrap();
        });
    }
    let realizer = d.realizer();
    let realizing = thread::spawn(move || {
        realizer.success(11);
        thread::current().id()
    })
    .join()
    .unwrap();
    for _ in 0..3 {
        assert_eq!(rx.recv_timeout(BOUND).unwrap(), (11, realizing));
    }
}

#[test]
fn a_panicking_callback_reaches_neither_the_realizer_nor_other_listeners() {
    let d: Deferred<u32> = Deferred::new();
    d.clone().on_realized(|_| panic!("listener bug"));
    let (tx, rx) = mpsc::channel();
    d.clone()
        .on_realized(move |outcome| tx.send(outcome.unwrap()).unwrap());
    assert!(d.success(5), "the panic must not reach success()");
    assert_eq!(rx.recv_timeout(BOUND).unwrap(), 5);
    // Not poisoned: the deferred still answers.
    assert!(d.is_success());
    assert_eq!(d.peek().unwrap().unwrap(), 5);
    let late = d.clone();
    assert_eq!(late.wait().unwrap(), 5);
}

#[test]
fn wait_timeout_hands_the_deferred_back() {
    let d: Deferred<Connection> = Deferred::new();
    let realizer = d.realizer();
    let d = d
        .wait_timeout(Duration::from_millis(10))
        .unwrap_err()
        .into_inner();
    realizer.success(Connection(1));
    assert_eq!(d.wait_timeout(BOUND).unwrap().unwrap(), Connection(1));
}

#[test]
fn realizer_watches_for_realization() {
    let d: Deferred<u8> = Deferred::new();
    let realizer = d.realizer();
    let watcher = weir::runtime::spawn(async move {
        realizer.realized().await;
        realizer.is_realized()
    });
    d.error(Error::cancelled());
    assert!(run(watcher));
    assert!(d.wait().unwrap_err().is_cancelled());
}

#[test]
fn debug_shows_the_state() {
    let d: Deferred<u32> = Deferred::new();
    assert_eq!(format!("{d:?}"), r#"Deferred { state: "pending" }"#);
    d.success(3);
    assert_eq!(format!("{d:?}"), "Deferred { value: 3 }");
    let e: Deferred<u32, &str> = Deferred::failed("boom");
    assert_eq!(format!("{e:?}"), r#"Deferred { error: "boom" }"#);
    let _ = e.wait();
}

#[test]
fn a_handle_that_handed_its_value_over_panics_clearly_when_reused() {
    let mut d: Deferred<u32> = Deferred::succeeded(1);
    assert_eq!(run(&mut d).unwrap(), 1);
    assert!(d.is_realized());
    assert!(d.peek().is_none());
    let clone = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.clone()));
    let message = clone.unwrap_err().downcast::<String>().unwrap();
    assert!(
        message.contains("clone the deferred before awaiting it"),
        "{message}"
    );
    let repoll = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&mut d)));
    assert!(repoll.is_err());
}

/// Whether `f` panics, with the panic message kept out of the test output.
fn panics(f: impl FnOnce()) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err()
}

/// A handle polled to completion through `&mut`, last listener or not.
fn spent(with_other_listener: bool) -> (Deferred<u32>, Option<Deferred<u32>>) {
    let mut d: Deferred<u32> = Deferred::succeeded(5);
    let other = with_other_listener.then(|| d.clone());
    assert_eq!(run(&mut d).unwrap(), 5);
    (d, other)
}

#[test]
fn a_spent_handle_says_so_whatever_the_other_listeners_did() {
    use futures::future::FusedFuture;
    for with_other in [false, true] {
        let (d, other) = spent(with_other);
        assert!(d.is_terminated());
        assert!(d.is_realized() && d.is_success());
        assert!(!d.success(6), "realizing through it still answers");
        if let Some(other) = other {
            assert!(!other.is_terminated());
            assert_eq!(other.wait().unwrap(), 5);
        }
    }
}

#[test]
fn a_spent_handle_that_held_the_cell_last_answers_like_one_that_did_not() {
    // The single-listener fast path: the last holder of a realized cell takes the value and the
    // cell goes away; the spent handle still answers every query that works on spent handles.
    for with_other in [false, true] {
        let mut d: Deferred<u32, &str> = Deferred::failed("boom");
        let other = with_other.then(|| d.clone());
        assert_eq!(run(&mut d), Err("boom"));
        assert!(d.is_realized() && d.is_error() && !d.is_success());
        assert!(!d.success(1) && !d.error("again"));
        assert_eq!(d.try_realize(Ok(2)).unwrap_err().into_inner(), Ok(2));
        let realizer = d.realizer();
        assert!(realizer.is_realized());
        assert!(!realizer.success(3));
        run(realizer.realized());
        match other {
            Some(other) => assert_eq!(other.wait(), Err("boom")),
            None => assert_eq!(format!("{d:?}"), r#"Deferred { state: "taken" }"#),
        }
    }
}

#[test]
fn polling_a_spent_handle_again_behaves_the_same_whatever_its_history() {
    // Before: polling again returned another copy while a second listener existed, and panicked
    // once it had been the last one; now both histories give the same answer.
    let outcomes: Vec<bool> = [false, true]
        .into_iter()
        .map(|with_other| {
            let (mut d, _other) = spent(with_other);
            panics(move || drop(run(&mut d)))
        })
        .collect();
    assert_eq!(outcomes, [true, true]);
}

#[test]
fn cloning_a_spent_handle_behaves_the_same_whatever_its_history() {
    let outcomes: Vec<bool> = [false, true]
        .into_iter()
        .map(|with_other| {
            let (d, _other) = spent(with_other);
            panics(move || drop(d.clone()))
        })
        .collect();
    assert_eq!(outcomes, [true, true]);
}

#[test]
fn a_spent_handle_stops_counting_as_a_listener_so_the_last_one_gets_the_value_by_move() {
    let mut first: Deferred<Counted> = Deferred::succeeded(Counted);
    let second = first.clone();
    let before = CLONES.load(Ordering::SeqCst);
    run(&mut first).unwrap();
    let _value = second.wait().unwrap();
    // One clone for `first`; `second`, now the only listener, takes the value itself.
    assert_eq!(CLONES.load(Ordering::SeqCst) - before, 1);
    drop(first);
}

static CLONES: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
struct Counted;

impl Clone for Counted {
    fn clone(&self) -> Self {
        CLONES.fetch_add(1, Ordering::SeqCst);
        Counted
    }
}

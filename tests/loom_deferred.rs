//! A loom model of the deferred cell's races: realize against listen, success against error,
//! callbacks against realization, and two listeners against the move-out of the last one.
//!
//! Run with `RUSTFLAGS="--cfg weir_loom" cargo test --test loom_deferred` (`.ci/run` does, in its
//! own target directory). Without the cfg this file is empty.
#![cfg(weir_loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use weir::Deferred;

#[test]
fn realize_races_listen_and_one_of_two_realizers_wins() {
    loom::model(|| {
        let d: Deferred<u32, u32> = Deferred::new();
        let listener = d.clone();
        let (success, error) = (d.realizer(), d.realizer());
        let a = thread::spawn(move || success.success(1));
        let b = thread::spawn(move || error.error(2));
        let seen = loom::future::block_on(listener);
        let (won_a, won_b) = (a.join().unwrap(), b.join().unwrap());
        assert!(won_a ^ won_b, "exactly one realization wins");
        assert_eq!(seen, if won_a { Ok(1) } else { Err(2) });
        assert_eq!(loom::future::block_on(d), seen);
    });
}

#[test]
fn a_callback_registered_during_realization_runs_exactly_once() {
    loom::model(|| {
        let d: Deferred<u32, ()> = Deferred::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let realizer = d.realizer();
        let listener = d.clone();
        let counted = runs.clone();
        let t = thread::spawn(move || {
            listener.on_realized(move |outcome| {
                assert_eq!(outcome, Ok(5));
                counted.fetch_add(1, Ordering::SeqCst);
            })
        });
        realizer.success(5);
        t.join().unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        drop(d);
    });
}

#[test]
fn two_listeners_both_get_the_value_whoever_moves_it_out() {
    loom::model(|| {
        let d: Deferred<u32, ()> = Deferred::new();
        let (first, second) = (d.clone(), d.clone());
        let realizer = d.realizer();
        drop(d);
        let t = thread::spawn(move || loom::future::block_on(first));
        realizer.success(9);
        assert_eq!(loom::future::block_on(second), Ok(9));
        assert_eq!(t.join().unwrap(), Ok(9));
    });
}

#[test]
fn a_chain_attached_while_it_is_realized_runs_every_stage_once() {
    loom::model(|| {
        let d: Deferred<u32, ()> = Deferred::new();
        let realizer = d.realizer();
        let t = thread::spawn(move || {
            d.map_err(|()| weir::Error::cancelled())
                .map(|x| x + 1)
                .map(|x| x * 2)
        });
        realizer.success(1);
        let out = t.join().unwrap();
        assert_eq!(loom::future::block_on(out).unwrap(), 4);
    });
}

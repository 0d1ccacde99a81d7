//! A loom model of the deferred cell's races: realize against listen, success against error,
//! callbacks against realization, and two listeners against the move-out of the last one; and
//! the single-listener fast path (one waker slot, the last holder taking the value without the
//! lock): one listener racing one realizer, a second listener arriving while the first waits,
//! a listener dropped while the realizer writes.
//!
//! Run with `RUSTFLAGS="--cfg weir_loom" cargo test --test loom_deferred` (`.ci/run` does, in its
//! own target directory). Without the cfg this file is empty.
#![cfg(weir_loom)]

use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};
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

#[test]
fn one_listener_races_one_realizer() {
    // The realizer goes away with its thread, so the listener finds the cell either still
    // shared (the locked path) or its own (the fast path): both give the value exactly once.
    loom::model(|| {
        let d: Deferred<Box<u32>, ()> = Deferred::new();
        let realizer = d.realizer();
        let t = thread::spawn(move || assert!(realizer.success(Box::new(7))));
        assert_eq!(loom::future::block_on(d), Ok(Box::new(7)));
        t.join().unwrap();
    });
}

#[test]
fn a_second_listener_arrives_while_the_first_waits() {
    // The first listener waits alone on its thread (its waker in the single slot); a second
    // one is cloned and a callback registered while it waits, then the realizer writes: every
    // listener gets the value, the fast path never moves it out from under the others.
    loom::model(|| {
        let origin: Deferred<u32, ()> = Deferred::new();
        let realizer = origin.realizer();
        let first = origin.clone();
        let t = thread::spawn(move || loom::future::block_on(first));
        let second = origin.clone();
        let called = Arc::new(AtomicUsize::new(0));
        let counted = called.clone();
        origin.on_realized(move |outcome| {
            assert_eq!(outcome, Ok(3));
            counted.fetch_add(1, Ordering::SeqCst);
        });
        realizer.success(3);
        drop(realizer);
        assert_eq!(loom::future::block_on(second), Ok(3));
        assert_eq!(t.join().unwrap(), Ok(3));
        assert_eq!(called.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn a_listener_dropped_while_the_realizer_writes() {
    // The only listener polls once (registering its waker, or taking the value) and is dropped
    // while the realizer writes: the value is dropped exactly once, by whoever holds it last,
    // whatever the interleaving, and the realizer never wakes a handle that is gone.
    loom::model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let d: Deferred<Counted, ()> = Deferred::new();
        let realizer = d.realizer();
        let value = Counted(drops.clone());
        let writer = thread::spawn(move || realizer.success(value));
        let mut cx = Context::from_waker(Waker::noop());
        let mut d = d;
        let polled = Pin::new(&mut d).poll(&mut cx).is_ready();
        drop(d);
        assert!(writer.join().unwrap());
        assert_eq!(drops.load(Ordering::SeqCst), 1, "polled: {polled}");
    });
}

struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

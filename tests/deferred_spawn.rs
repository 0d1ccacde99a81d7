//! Deferreds of work: spawn, from_future, spawn_blocking.

mod support;

use std::sync::mpsc;

use support::{BOUND, DropSignal, run};
use weir::{Deferred, Error};

#[test]
fn smoke() {
    assert_eq!(
        run(Deferred::spawn(async { Ok::<_, Error>(1) })).unwrap(),
        1
    );
}

#[test]
fn from_future_converts_any_future() {
    let d: Deferred<String> = Deferred::from_future(async { "converted".to_string() });
    assert_eq!(run(d).unwrap(), "converted");
}

#[test]
fn spawned_work_runs_on_weir_worker_threads() {
    let d: Deferred<String> =
        Deferred::from_future(async { std::thread::current().name().unwrap_or("").to_string() });
    assert!(run(d).unwrap().starts_with("weir-worker-"));
}

#[test]
fn spawn_blocking_runs_a_closure() {
    let d = Deferred::spawn_blocking(|| Ok::<_, Error>(std::thread::current().id()));
    assert_ne!(run(d).unwrap(), std::thread::current().id());
}

#[test]
fn panics_in_work_become_errors() {
    let d = Deferred::<u8>::spawn(async { panic!("task bug") });
    assert!(run(d).unwrap_err().is_panic());
    let b = Deferred::<u8>::spawn_blocking(|| panic!("blocking bug"));
    assert!(run(b).unwrap_err().is_panic());
}

#[test]
fn cancelling_drops_the_spawned_future() {
    let (tx, rx) = mpsc::channel();
    let d = Deferred::<u8>::spawn(async move {
        let _guard = DropSignal(tx);
        std::future::pending::<Result<u8, Error>>().await
    });
    d.error(Error::cancelled());
    rx.recv_timeout(BOUND).expect("the future was dropped");
}

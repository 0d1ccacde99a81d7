//! Recovering from errors: catch, catch_if, catch_as, or_else, map_err, finally.

mod support;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::run;
use weir::{Deferred, Error};

#[test]
fn smoke() {
    assert_eq!(
        Deferred::<u8>::failed(Error::cancelled())
            .catch(|_| 1)
            .wait()
            .unwrap(),
        1
    );
}

#[test]
fn catch_recovers_from_any_error_and_passes_values() {
    let recovered = Deferred::<u32>::new();
    let out = recovered
        .clone()
        .map(|x| x + 1)
        .catch(|e| if e.is_closed() { 100 } else { 0 });
    recovered.error(Error::closed("socket"));
    assert_eq!(run(out).unwrap(), 100);
    assert_eq!(
        Deferred::<u32>::succeeded(3).catch(|_| 0).wait().unwrap(),
        3
    );
}

#[test]
fn catch_if_recovers_only_matching_errors() {
    let timeout = Error::timed_out(std::time::Duration::from_millis(1));
    let matched = Deferred::<&str>::failed(timeout).catch_if(Error::is_timeout, |_| "late");
    assert_eq!(matched.wait().unwrap(), "late");
    let unmatched =
        Deferred::<&str>::failed(Error::cancelled()).catch_if(Error::is_timeout, |_| "late");
    assert!(unmatched.wait().unwrap_err().is_cancelled());
}

#[test]
fn catch_as_recovers_by_the_type_of_the_cause() {
    let reset = Error::from(io::Error::from(io::ErrorKind::ConnectionReset));
    let out = Deferred::<io::ErrorKind>::failed(reset).catch_as(|e: &io::Error| e.kind());
    assert_eq!(out.wait().unwrap(), io::ErrorKind::ConnectionReset);
    let parse = Error::other("x".parse::<u8>().unwrap_err());
    let passes = Deferred::<io::ErrorKind>::failed(parse).catch_as(|e: &io::Error| e.kind());
    assert!(
        passes
            .wait()
            .unwrap_err()
            .downcast_ref::<std::num::ParseIntError>()
            .is_some()
    );
}

#[test]
fn or_else_recovers_with_a_future_and_may_change_the_error_type() {
    #[derive(Debug, PartialEq)]
    struct Fatal(String);
    impl From<Error> for Fatal {
        fn from(e: Error) -> Self {
            Fatal(e.to_string())
        }
    }
    let out: Deferred<u32, Fatal> = Deferred::<u32>::failed(Error::cancelled())
        .or_else(|e| async move { Err::<u32, _>(Fatal(format!("gave up: {e}"))) });
    assert_eq!(run(out).unwrap_err(), Fatal("gave up: cancelled".into()));
    let fixed =
        Deferred::<u32>::failed(Error::cancelled()).or_else(|_| async { Ok::<_, Error>(1) });
    assert_eq!(run(fixed).unwrap(), 1);
}

#[test]
fn map_err_changes_only_errors() {
    let out = Deferred::<u8, u16>::failed(404).map_err(|code| Error::msg(format!("status {code}")));
    assert_eq!(out.wait().unwrap_err().to_string(), "status 404");
    let ok = Deferred::<u8, u16>::succeeded(1).map_err(|code| Error::msg(code.to_string()));
    assert_eq!(ok.wait().unwrap(), 1);
}

#[test]
fn finally_runs_on_both_outcomes_and_keeps_them() {
    let runs = Arc::new(AtomicUsize::new(0));
    let (a, b) = (runs.clone(), runs.clone());
    let ok = Deferred::<u8>::succeeded(1).finally(move || {
        a.fetch_add(1, Ordering::SeqCst);
    });
    let err = Deferred::<u8>::failed(Error::cancelled()).finally(move || {
        b.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(ok.wait().unwrap(), 1);
    assert!(err.wait().unwrap_err().is_cancelled());
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn a_panic_in_finally_becomes_the_error() {
    let out = Deferred::<u8>::succeeded(1).finally(|| panic!("cleanup bug"));
    assert!(out.wait().unwrap_err().is_panic());
}

#[test]
fn a_panic_in_a_handler_becomes_the_error() {
    let out = Deferred::<u8>::failed(Error::cancelled()).catch(|_| panic!("handler bug"));
    assert!(out.wait().unwrap_err().is_panic());
}

#[test]
fn the_very_error_comes_back_through_stages_and_clones() {
    let cause = Error::msg("disk full");
    let d = Deferred::<u32>::failed(cause.clone())
        .map(|x| x + 1)
        .catch_if(Error::is_timeout, |_| 0);
    let back = d.wait().unwrap_err();
    assert!(back.same(&cause) && cause.same(&back));
    assert!(back.clone().same(&cause), "a clone is the same error");
    assert!(
        !back.same(&Error::msg("disk full")),
        "a look-alike is another error"
    );
}

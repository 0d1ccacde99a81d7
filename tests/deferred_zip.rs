//! zip, zip_all and alt.

mod support;

use support::{Connection, run};
use weir::{Deferred, Error, deferred};

#[test]
fn smoke() {
    let d = deferred::zip((Deferred::<u8>::succeeded(1), Deferred::succeeded(2)));
    assert_eq!(d.wait().unwrap(), (1, 2));
}

#[test]
fn zip_waits_for_every_value_in_any_order() {
    let (a, b, c) = (
        Deferred::<u8>::new(),
        Deferred::<&str>::new(),
        Deferred::<Connection>::new(),
    );
    let c_realizer = c.realizer();
    let all = deferred::zip((a.clone(), b.clone(), c));
    c_realizer.success(Connection(3));
    b.success("two");
    assert!(!all.is_realized());
    a.success(1);
    assert_eq!(run(all).unwrap(), (1, "two", Connection(3)));
}

#[test]
fn zip_takes_twelve() {
    let d = deferred::zip((
        Deferred::<u8>::succeeded(1),
        Deferred::<u16>::succeeded(2),
        Deferred::<u32>::succeeded(3),
        Deferred::<u64>::succeeded(4),
        Deferred::<i8>::succeeded(5),
        Deferred::<i16>::succeeded(6),
        Deferred::<i32>::succeeded(7),
        Deferred::<i64>::succeeded(8),
        Deferred::<char>::succeeded('9'),
        Deferred::<bool>::succeeded(true),
        Deferred::<&str>::succeeded("11"),
        Deferred::<()>::succeeded(()),
    ));
    assert_eq!(
        d.wait().unwrap(),
        (1, 2, 3, 4, 5, 6, 7, 8, '9', true, "11", ())
    );
}

#[test]
fn the_first_error_wins_at_once() {
    let (never, failing) = (Deferred::<u8>::new(), Deferred::<u8>::new());
    let all = deferred::zip((never.clone(), failing.clone()));
    failing.error(Error::closed("b"));
    // Realized without waiting for `never`.
    assert!(run(all).unwrap_err().is_closed());
    let many = deferred::zip_all([Deferred::<u8>::new(), Deferred::failed(Error::cancelled())]);
    assert!(many.wait().unwrap_err().is_cancelled());
    never.success(0);
}

#[test]
fn zip_all_keeps_input_order() {
    let parts: Vec<Deferred<usize>> = (0..100).map(|_| Deferred::new()).collect();
    let all = deferred::zip_all(parts.clone());
    for (i, part) in parts.iter().enumerate().rev() {
        part.success(i);
    }
    assert_eq!(run(all).unwrap(), (0..100).collect::<Vec<_>>());
    assert_eq!(
        deferred::zip_all(Vec::<Deferred<u8>>::new())
            .wait()
            .unwrap(),
        Vec::<u8>::new()
    );
}

#[test]
fn method_zip_pairs_two() {
    let d = Deferred::<u8>::succeeded(1).zip(Deferred::succeeded("x"));
    assert_eq!(d.wait().unwrap(), (1, "x"));
}

#[test]
fn alt_takes_the_first_realized_success_or_error() {
    let (a, b) = (Deferred::<u8>::new(), Deferred::<u8>::new());
    let first = deferred::alt([a.clone(), b.clone()]);
    b.error(Error::closed("b"));
    a.success(1);
    assert!(run(first).unwrap_err().is_closed());

    let (a, b) = (Deferred::<u8>::new(), Deferred::<u8>::new());
    let first = a.clone().or(b.clone());
    a.success(1);
    b.error(Error::cancelled());
    assert_eq!(run(first).unwrap(), 1);
}

#[test]
fn alt_of_realized_deferreds_picks_the_first_in_order() {
    let first = deferred::alt([Deferred::<u8>::succeeded(1), Deferred::succeeded(2)]);
    assert_eq!(first.wait().unwrap(), 1);
}

#[test]
fn alt_of_nothing_is_an_error_not_a_hang() {
    assert!(deferred::alt(Vec::<Deferred<u8>>::new()).wait().is_err());
}

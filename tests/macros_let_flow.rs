//! `let_flow!`: kinds of right-hand sides, dependency inference, concurrency, errors.

mod support;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use support::{BOUND, Connection, DropSignal, run};
use weir::{Deferred, Error, let_flow};

#[test]
fn smoke() {
    let flow = let_flow! {
        let a = 1;
        let b = 2;
        a + b
    };
    assert_eq!(run(flow).unwrap(), 3);
}

#[test]
fn a_body_alone_is_a_flow() {
    assert_eq!(run(let_flow! { "only a body" }).unwrap(), "only a body");
}

#[test]
fn values_futures_and_deferreds_are_realized() {
    let deferred: Deferred<u32> = Deferred::succeeded(1000);
    let io_deferred: Deferred<u32, io::Error> = Deferred::succeeded(10000);
    let flow = let_flow! {
        let value = 1u32;
        let future = async { 10u32 };
        let fallible = async { Ok::<u32, Error>(100) };
        let deferred = deferred;
        let io_deferred = io_deferred;
        let result = "7".parse::<u32>(); // a plain Result is a plain value
        value + future + fallible + deferred + io_deferred + result.unwrap()
    };
    assert_eq!(run(flow).unwrap(), 11118);
}

#[test]
fn a_future_of_a_result_with_another_error_converts_it() {
    let flow = let_flow! {
        let a = async { Err::<u32, io::Error>(io::Error::other("disk")) };
        a
    };
    let err = run(flow).unwrap_err();
    assert!(err.is_io());
}

#[test]
fn shadowing_reads_the_previous_binding_and_later_uses_see_the_new_one() {
    let flow = let_flow! {
        let a = async { 1u32 };
        let a = async move { a + 1 };
        let b = a * 10;
        let a = a + b; // 2 + 20
        (a, b)
    };
    assert_eq!(run(flow).unwrap(), (22, 20));
}

#[test]
fn a_binding_mentioned_only_inside_a_closure_or_a_macro_is_a_dependency() {
    // If the mentions were missed, the closure and `vec!` would read these outer variables.
    let a = 100u32;
    let b = 100u32;
    let gate: Deferred<u32> = Deferred::new();
    let realized = gate.clone();
    let flow = let_flow! {
        let a = realized;
        let b = async { 3u32 };
        let times_a = move |x: u32| x * a;
        let both = vec![b, b];
        let shown = format!("{a}/{b}");
        (times_a(21), both, shown)
    };
    assert_eq!(a + b, 200);
    gate.success(2);
    assert_eq!(run(flow).unwrap(), (42, vec![3, 3], "2/3".to_string()));
}

#[test]
fn method_calls_and_field_access_on_bindings() {
    let flow = let_flow! {
        let s = async { String::from("abcd") };
        let pair = async { (5usize, "x") };
        let len = s.len();
        let first = pair.0;
        let range_sum = (0..first).sum::<usize>();
        len + first + range_sum + pair.1.len()
    };
    assert_eq!(run(flow).unwrap(), 4 + 5 + 10 + 1);
}

mod a {
    pub const K: u32 = 7;
}

struct Holder {
    a: u32,
}

impl Holder {
    fn a(&self) -> u32 {
        self.a + 1
    }
}

#[test]
fn a_field_method_or_path_named_like_a_binding_is_not_a_mention() {
    let (started, started_rx) = mpsc::channel();
    let gate: Deferred<u32> = Deferred::new();
    let holder = Holder { a: 1 };
    let realized = gate.clone();
    let flow = let_flow! {
        let a = realized;
        let n = {
            started.send(()).unwrap();
            holder.a + holder.a() + a::K
        };
        (a, n)
    };
    // `n` starts while `a` is still pending: it does not depend on it.
    started_rx.recv_timeout(BOUND).unwrap();
    assert!(!flow.is_realized());
    gate.success(5);
    assert_eq!(run(flow).unwrap(), (5, 1 + 2 + 7));
}

#[test]
fn bindings_used_only_for_their_effect_are_awaited_before_the_body() {
    let effect = Arc::new(AtomicBool::new(false));
    let gate: Deferred<()> = Deferred::new();
    let seen = effect.clone();
    let held = gate.clone();
    let flow = let_flow! {
        let _ = async move {
            seen.store(true, Ordering::SeqCst);
        };
        let _held = held;
        effect.load(Ordering::SeqCst)
    };
    assert!(!flow.is_realized());
    gate.success(());
    assert!(run(flow).unwrap());
}

#[derive(Debug, Clone, PartialEq)]
struct Point {
    x: i32,
    y: i32,
}

struct Pair(u8, u8);

#[test]
fn tuple_struct_and_slice_patterns_destructure_the_realized_value() {
    let flow = let_flow! {
        let (a, mut b) = async { (1, 2) };
        let Point { x, y: why } = async { Point { x: 10, y: 20 } };
        let Pair(first, second) = Pair(3, 4);
        let [p, q, ..] = [100, 200, 300];
        let (c, d): (i32, i32) = async { (1000, 2000) };
        let sum = a + x + why + i32::from(first) + i32::from(second) + p + q + c + d;
        {
            b += 1;
            (sum, b)
        }
    };
    assert_eq!(run(flow).unwrap(), (3338, 3));
}

#[test]
fn independent_bindings_run_concurrently() {
    let first: Deferred<u32> = Deferred::new();
    let second: Deferred<u32> = Deferred::new();
    let (events, events_rx) = mpsc::channel();
    let (a_events, b_events) = (events.clone(), events);
    let (a_gate, b_gate) = (first.clone(), second.clone());
    let flow = let_flow! {
        let a = async move {
            let value = a_gate.await;
            a_events.send("a done").unwrap();
            value
        };
        let b = async move {
            b_events.send("b started").unwrap();
            let value = b_gate.await;
            b_events.send("b done").unwrap();
            value
        };
        a + b
    };
    // `b` starts although `a` waits for `first`, and finishes before it: realized in reverse.
    assert_eq!(events_rx.recv_timeout(BOUND).unwrap(), "b started");
    second.success(2);
    assert_eq!(events_rx.recv_timeout(BOUND).unwrap(), "b done");
    first.success(1);
    assert_eq!(events_rx.recv_timeout(BOUND).unwrap(), "a done");
    assert_eq!(run(flow).unwrap(), 3);
}

#[test]
fn a_dependent_binding_starts_only_once_its_dependency_is_realized() {
    let starts = Arc::new(AtomicUsize::new(0));
    let gate: Deferred<u32> = Deferred::new();
    let (later, later_rx) = mpsc::channel();
    let counted = starts.clone();
    let realized = gate.clone();
    let flow = let_flow! {
        let a = realized;
        let b = {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { a + 1 }
        };
        let c = later.send(()).unwrap(); // independent, listed after `b`
        (b, c)
    };
    later_rx.recv_timeout(BOUND).unwrap();
    assert_eq!(starts.load(Ordering::SeqCst), 0);
    gate.success(41);
    assert_eq!(run(flow).unwrap(), (42, ()));
    assert_eq!(starts.load(Ordering::SeqCst), 1);
}

#[test]
fn the_first_error_wins_and_cancels_bindings_in_flight() {
    let failing: Deferred<u32> = Deferred::new();
    let (started, started_rx) = mpsc::channel();
    let (dropped, dropped_rx) = mpsc::channel();
    let gate = failing.clone();
    let flow = let_flow! {
        let a = gate;
        let b = async move {
            let _guard = DropSignal(dropped);
            started.send(()).unwrap();
            std::future::pending::<u32>().await
        };
        let never = a + 1; // depends on the failing binding: never starts
        b + never
    };
    started_rx.recv_timeout(BOUND).unwrap();
    failing.error(Error::msg("upstream failed"));
    assert_eq!(run(flow).unwrap_err().to_string(), "upstream failed");
    dropped_rx.recv_timeout(BOUND).unwrap();
}

#[test]
fn cancelling_the_flow_drops_its_bindings() {
    let (started, started_rx) = mpsc::channel();
    let (dropped, dropped_rx) = mpsc::channel();
    let flow = let_flow! {
        let b = async move {
            let _guard = DropSignal(dropped);
            started.send(()).unwrap();
            std::future::pending::<u32>().await
        };
        b
    };
    started_rx.recv_timeout(BOUND).unwrap();
    flow.error(Error::cancelled());
    dropped_rx.recv_timeout(BOUND).unwrap();
    assert!(run(flow).unwrap_err().is_cancelled());
}

fn parse(text: &str) -> io::Result<u32> {
    text.parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "not a number"))
}

#[test]
fn question_mark_works_in_the_body_and_in_bindings() {
    let ok = let_flow! {
        let text = async { "20" };
        let n = parse(text)?;
        n + parse("1")?
    };
    assert_eq!(run(ok).unwrap(), 21);

    let in_body = let_flow! {
        let text = async { "twenty" };
        parse(text)?
    };
    assert!(run(in_body).unwrap_err().is_io());

    let in_binding = let_flow! {
        let n = parse("x")?;
        n
    };
    assert!(run(in_binding).unwrap_err().is_io());
}

#[test]
fn a_value_read_once_is_moved_and_shared_values_are_cloned() {
    let flow = let_flow! {
        let connection = async { Connection(7) }; // not Clone: read once
        let name = async { String::from("db") };  // Clone: read three times
        let upper = name.to_uppercase();
        let len = name.len();
        (connection, format!("{name}:{upper}:{len}"))
    };
    assert_eq!(run(flow).unwrap(), (Connection(7), "db:DB:2".to_string()));
}

#[test]
fn mut_bindings_can_be_changed_in_the_body() {
    let flow = let_flow! {
        let mut v = async { vec![1] };
        let w = async { 2 };
        {
            v.push(w);
            v
        }
    };
    assert_eq!(run(flow).unwrap(), vec![1, 2]);
}

#[test]
fn outer_futures_are_not_awaited_implicitly() {
    let outer: Deferred<u32> = Deferred::new();
    let flow = let_flow! {
        let a = async { 1u32 };
        (a, outer) // `outer` is moved in as it is, not awaited
    };
    let (a, outer_back) = run(flow).unwrap();
    assert_eq!(a, 1);
    assert!(!outer_back.is_realized());
}

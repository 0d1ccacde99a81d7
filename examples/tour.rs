//! The tour: everything weir can do so far, exercised on loopback, one line per check.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --release --example tour
//! ```
//!
//! Each check prints `ok   <section>: <what>` or `FAIL <section>: <what>: <why>`, and the tour
//! ends with a summary line. The exit status is 0 when every check passed, 1 otherwise. Every
//! wait is bounded, so a broken check fails instead of hanging; the whole tour takes well under
//! a second.
//!
//! Today the sections are `deferred` and `runtime`. Later releases add a section each (streams,
//! then the network adapters): a list of checks in the style of `DEFERRED`, and one
//! `tour.section(..)` line in `main`.

use std::any::Any;
use std::fmt::Debug;
use std::panic;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use weir::deferred::{Loop, loop_fn};
use weir::{Deferred, Error, deferred, runtime};

/// The longest any single wait in the tour may take before its check fails.
const LIMIT: Duration = Duration::from_secs(5);

/// Panics and log records containing this are provoked on purpose, and kept off the terminal.
const EXPECTED: &str = "tour: expected";

/// A check: `Ok` when weir behaved, or what went wrong.
type Check = fn() -> Result<(), String>;

fn main() -> ExitCode {
    quiet::install();
    let started = Instant::now();
    let mut tour = Tour::default();
    tour.section("deferred", DEFERRED);
    tour.section("runtime", RUNTIME);
    tour.finish(started.elapsed())
}

/// Runs sections of checks and counts the outcomes.
#[derive(Default)]
struct Tour {
    passed: usize,
    failed: usize,
}

impl Tour {
    /// Runs every check of one section, printing a line for each. A check that panics fails.
    fn section(&mut self, name: &str, checks: &[(&str, Check)]) {
        for (what, check) in checks {
            let outcome = panic::catch_unwind(*check).unwrap_or_else(|panic| {
                Err(format!("panicked: {}", panic_message(panic.as_ref())))
            });
            match outcome {
                Ok(()) => {
                    self.passed += 1;
                    println!("ok   {name}: {what}");
                }
                Err(why) => {
                    self.failed += 1;
                    println!("FAIL {name}: {what}: {why}");
                }
            }
        }
    }

    fn finish(self, elapsed: Duration) -> ExitCode {
        println!(
            "tour: {} checks passed, {} failed ({:.2}s)",
            self.passed,
            self.failed,
            elapsed.as_secs_f64()
        );
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

/// Fails the check with a message unless the condition holds.
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

/// The outcome of `d`, or a failure if it is not realized within `LIMIT`.
fn wait<T, E>(d: Deferred<T, E>) -> Result<Result<T, E>, String> {
    d.wait_timeout(LIMIT)
        .map_err(|_| format!("not realized within {LIMIT:?}"))
}

/// The value of `d`, or a failure if it is an error or not realized within `LIMIT`.
fn value<T, E: Debug>(d: Deferred<T, E>) -> Result<T, String> {
    wait(d)?.map_err(|error| format!("unexpected error: {error:?}"))
}

/// The error of `d`, or a failure if it is a value or not realized within `LIMIT`.
fn error<T, E>(d: Deferred<T, E>) -> Result<E, String> {
    match wait(d)? {
        Ok(_) => Err("expected an error, got a value".into()),
        Err(error) => Ok(error),
    }
}

/// Sends a message when dropped: shows that a future was dropped (cancelled).
struct DropSignal(mpsc::Sender<()>);

impl DropSignal {
    fn new() -> (DropSignal, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        (DropSignal(tx), rx)
    }
}

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

fn dropped_within_limit(rx: &mpsc::Receiver<()>) -> Result<(), String> {
    rx.recv_timeout(LIMIT)
        .map_err(|_| format!("the work was not dropped within {LIMIT:?}"))
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a non-string payload".into()
    }
}

// ---------------------------------------------------------------------------------------------
// deferred

const DEFERRED: &[(&str, Check)] = &[
    (
        "realize on one thread, listen from a thread, a task and a callback",
        realize_and_listen,
    ),
    (
        "the first realization wins; try_realize hands the value back",
        first_realization_wins,
    ),
    (
        "each clone is a listener; the value is cloned once per extra listener",
        clones_per_listener,
    ),
    (
        "a non-Clone value reaches its single owner through a realizer",
        single_owner,
    ),
    (
        "wait_timeout gives up and hands the deferred back",
        wait_timeout_hands_back,
    ),
    (
        "callbacks run at once when realized; a panicking callback is contained",
        callbacks,
    ),
    ("map, try_map, then and chain", chaining),
    (
        "an error skips later stages; a panicking stage becomes an error",
        errors_skip_stages,
    ),
    (
        "catch, catch_if, catch_as, or_else, map_err, finally",
        recovering,
    ),
    ("zip of three values", zip_three),
    (
        "zip_all keeps order; the first error wins at once",
        zip_all_order_and_errors,
    ),
    ("alt: the first realized wins", alt_first_wins),
    ("timeout and timeout_with", timeouts),
    ("loop_fn: 100000 turns in one deferred", loop_many_turns),
    ("spawn, from_future, spawn_blocking", spawned_work),
    (
        "cancelling a spawned deferred drops its pending future",
        cancel_spawned,
    ),
    (
        "a timeout cancels the work behind its deferred",
        timeout_cancels_work,
    ),
    ("cancelling a loop_fn stops the loop", cancel_loop),
    ("awaited from tokio, async-std and smol", other_executors),
    (
        "dropped errors are logged; the switch turns it off",
        dropped_error_switch,
    ),
];

fn realize_and_listen() -> Result<(), String> {
    let d: Deferred<String> = Deferred::new();
    let (tx, rx) = mpsc::channel();
    d.clone().on_realized(move |outcome| {
        let _ = tx.send(outcome);
    });
    let task = runtime::spawn(d.clone());
    let waiter = {
        let d = d.clone();
        thread::spawn(move || wait(d))
    };
    let realizer = d.realizer();
    let producer = thread::spawn(move || realizer.success("hello".to_string()));

    ensure!(
        producer.join().unwrap_or(false),
        "the producer did not realize it"
    );
    let from_thread = waiter.join().map_err(|_| "the waiting thread panicked")??;
    let from_task = runtime::block_on(runtime::timeout(LIMIT, task)).map_err(|e| e.to_string())?;
    let from_callback = rx.recv_timeout(LIMIT).map_err(|e| e.to_string())?;
    for (listener, outcome) in [
        ("thread", from_thread),
        ("task", from_task),
        ("callback", from_callback),
        ("owner", wait(d)?),
    ] {
        ensure!(
            outcome.as_deref().ok() == Some("hello"),
            "the {listener} got {outcome:?}"
        );
    }
    Ok(())
}

fn first_realization_wins() -> Result<(), String> {
    let d: Deferred<String> = Deferred::new();
    ensure!(!d.is_realized(), "a new deferred is realized");
    ensure!(
        d.success("first".into()),
        "the first success did not realize it"
    );
    ensure!(!d.success("second".into()), "a second success realized it");
    ensure!(
        !d.error(Error::cancelled()),
        "an error after a success realized it"
    );
    let handed_back = match d.try_realize(Ok("third".into())) {
        Ok(()) => None,
        Err(refused) => refused.into_inner().ok(),
    };
    ensure!(
        handed_back.as_deref() == Some("third"),
        "try_realize did not hand the value back"
    );
    ensure!(value(d)? == "first", "the first value was not kept");
    ensure!(
        Deferred::<u8>::succeeded(1).is_success()
            && error(Deferred::<u8>::failed(Error::cancelled()))?.is_cancelled(),
        "pre-realized constructors"
    );
    Ok(())
}

fn clones_per_listener() -> Result<(), String> {
    static CLONES: AtomicUsize = AtomicUsize::new(0);
    struct Counted;
    impl Clone for Counted {
        fn clone(&self) -> Self {
            CLONES.fetch_add(1, Ordering::SeqCst);
            Counted
        }
    }

    let d: Deferred<Counted> = Deferred::new();
    let listeners: Vec<_> = (0..3).map(|_| d.clone()).collect();
    d.success(Counted);
    for listener in listeners {
        value(listener)?;
    }
    value(d)?;
    let clones = CLONES.load(Ordering::SeqCst);
    ensure!(
        clones == 3,
        "four listeners made {clones} clones, expected 3"
    );
    Ok(())
}

fn single_owner() -> Result<(), String> {
    struct Connection(u16); // not Clone

    let d: Deferred<Connection> = Deferred::new();
    let realizer = d.realizer();
    let opener = thread::spawn(move || realizer.success(Connection(8080)));
    let connection = value(d)?;
    ensure!(connection.0 == 8080, "wrong connection");
    ensure!(
        opener.join().unwrap_or(false),
        "the realizer did not realize it"
    );
    Ok(())
}

fn wait_timeout_hands_back() -> Result<(), String> {
    let d: Deferred<u32> = Deferred::new();
    let started = Instant::now();
    let d = match d.wait_timeout(Duration::from_millis(10)) {
        Ok(outcome) => return Err(format!("a pending deferred gave {outcome:?}")),
        Err(timed_out) => timed_out.into_inner(),
    };
    ensure!(
        started.elapsed() >= Duration::from_millis(10),
        "gave up early"
    );
    d.success(7);
    ensure!(value(d)? == 7, "the handed-back deferred lost its value");
    Ok(())
}

fn callbacks() -> Result<(), String> {
    let d: Deferred<u32> = Deferred::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    d.clone().on_realized(move |outcome| {
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(("early", outcome.ok()))
    });
    d.clone()
        .on_realized(|_| panic!("{EXPECTED} panic in a callback"));
    ensure!(
        seen.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty(),
        "a callback ran before the deferred was realized"
    );
    ensure!(d.success(1), "a panicking callback stopped success");
    let log = seen.clone();
    d.clone().on_realized(move |outcome| {
        log.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(("late", outcome.ok()))
    });
    let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
    ensure!(
        seen == [("early", Some(1)), ("late", Some(1))],
        "callbacks saw {seen:?}"
    );
    ensure!(
        value(d)? == 1,
        "the deferred is unusable after a callback panicked"
    );
    Ok(())
}

fn chaining() -> Result<(), String> {
    let d = Deferred::<&str>::succeeded("20")
        .try_map(|text| text.parse::<u32>().map_err(Error::other))
        .map(|n| n + 1)
        .then(|n| async move {
            runtime::sleep(Duration::from_millis(1)).await;
            Ok::<_, Error>(n * 2)
        })
        .chain(|n| Deferred::spawn(async move { Ok::<_, Error>(format!("answer: {n}")) }));
    let answer = value(d)?;
    ensure!(answer == "answer: 42", "got {answer:?}");
    Ok(())
}

fn errors_skip_stages() -> Result<(), String> {
    let ran = Arc::new(AtomicUsize::new(0));
    let (a, b) = (ran.clone(), ran.clone());
    let d = Deferred::<&str>::succeeded("forty-two")
        .try_map(|text| text.parse::<u32>().map_err(Error::other))
        .map(move |n| {
            a.fetch_add(1, Ordering::SeqCst);
            n
        })
        .then(move |n| {
            b.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, Error>(n) }
        });
    let failure = error(d)?;
    ensure!(
        failure.downcast_ref::<std::num::ParseIntError>().is_some(),
        "the parse error did not come out at the end: {failure:?}"
    );
    ensure!(ran.load(Ordering::SeqCst) == 0, "a later stage ran");

    let panicked =
        Deferred::<u32>::succeeded(1).map(|_| -> u32 { panic!("{EXPECTED} stage panic") });
    ensure!(
        error(panicked)?.is_panic(),
        "a panicking stage did not give a panic error"
    );
    Ok(())
}

fn recovering() -> Result<(), String> {
    ensure!(
        value(Deferred::<u32>::failed(Error::cancelled()).catch(|_| 0))? == 0,
        "catch"
    );
    let timed_out = Deferred::<&str>::failed(Error::timed_out(Duration::from_secs(1)))
        .catch_if(Error::is_timeout, |_| "cached");
    let closed =
        Deferred::<&str>::failed(Error::closed("stream")).catch_if(Error::is_timeout, |_| "cached");
    ensure!(
        value(timed_out)? == "cached" && error(closed)?.is_closed(),
        "catch_if"
    );
    let refused = Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
    let offline = Deferred::<String>::failed(refused)
        .catch_as(|e: &std::io::Error| format!("{:?}", e.kind()));
    ensure!(value(offline)? == "ConnectionRefused", "catch_as");

    let cleaned = Arc::new(AtomicUsize::new(0));
    let cleanup = cleaned.clone();
    let recovered = Deferred::<&str>::failed(Error::closed("primary"))
        .or_else(|_| Deferred::spawn(async { Ok::<_, Error>("replica") }))
        .finally(move || {
            cleanup.fetch_add(1, Ordering::SeqCst);
        });
    ensure!(value(recovered)? == "replica", "or_else");
    ensure!(
        cleaned.load(Ordering::SeqCst) == 1,
        "finally did not run once"
    );

    let renamed = Deferred::<u8, &str>::failed("disk full").map_err(Error::msg);
    ensure!(error(renamed)?.to_string() == "disk full", "map_err");
    Ok(())
}

fn zip_three() -> Result<(), String> {
    let name = Deferred::<&str>::new();
    let age = Deferred::spawn(async { Ok::<_, Error>(36u32) });
    let admin = Deferred::<bool>::succeeded(false);
    let profile = deferred::zip((name.clone(), age, admin));
    ensure!(!profile.is_realized(), "zip did not wait for the name");
    name.success("ada");
    let profile = value(profile)?;
    ensure!(profile == ("ada", 36, false), "got {profile:?}");
    Ok(())
}

fn zip_all_order_and_errors() -> Result<(), String> {
    let parts: Vec<Deferred<u32>> = (0..5).map(|_| Deferred::new()).collect();
    let all = deferred::zip_all(parts.clone());
    for (i, part) in parts.iter().enumerate().rev() {
        part.success(i as u32);
    }
    let all = value(all)?;
    ensure!(all == [0, 1, 2, 3, 4], "got {all:?}");

    let pending = Deferred::<u32>::new();
    let failing = deferred::zip_all([pending.clone(), Deferred::failed(Error::cancelled())]);
    ensure!(failing.is_realized(), "zip_all waited for a pending input");
    ensure!(error(failing)?.is_cancelled(), "the wrong error");
    ensure!(
        value(deferred::zip_all(Vec::<Deferred<u32>>::new()))?.is_empty(),
        "zip_all of nothing"
    );
    Ok(())
}

fn alt_first_wins() -> Result<(), String> {
    let slow = Deferred::<&str>::new();
    let fast = Deferred::<&str>::new();
    let first = deferred::alt([slow.clone(), fast.clone()]);
    fast.success("fast");
    slow.success("slow");
    ensure!(value(first)? == "fast", "alt");

    let failed_first = Deferred::<&str>::new().or(Deferred::failed(Error::closed("peer")));
    ensure!(
        error(failed_first)?.is_closed(),
        "an error realized first did not win"
    );
    Ok(())
}

fn timeouts() -> Result<(), String> {
    let started = Instant::now();
    let never = Deferred::<u32>::new();
    let timed_out = error(never.clone().timeout(Duration::from_millis(20)))?;
    let elapsed = started.elapsed();
    ensure!(timed_out.is_timeout(), "got {timed_out:?}");
    ensure!(
        elapsed >= Duration::from_millis(20),
        "timed out early, after {elapsed:?}"
    );
    ensure!(
        never.is_error(),
        "the timeout did not realize the deferred itself"
    );
    let defaulted = Deferred::<&str>::new().timeout_with(Duration::from_millis(5), "default");
    ensure!(value(defaulted)? == "default", "timeout_with");
    let quick = Deferred::<u32>::succeeded(1).timeout(Duration::from_millis(5));
    ensure!(value(quick)? == 1, "a realized deferred was changed");
    Ok(())
}

fn loop_many_turns() -> Result<(), String> {
    let total = loop_fn((1u64, 0u64), |(i, sum)| async move {
        if i > 100_000 {
            Ok::<_, Error>(Loop::Done(sum))
        } else {
            Ok(Loop::Recur((i + 1, sum + i)))
        }
    });
    let total = value(total)?;
    ensure!(total == 5_000_050_000, "got {total}");

    let failing = loop_fn(1u32, |attempt| async move {
        if attempt < 3 {
            Ok(Loop::Recur(attempt + 1))
        } else {
            Err::<Loop<u32, ()>, _>(Error::msg("gave up"))
        }
    });
    ensure!(
        error(failing)?.to_string() == "gave up",
        "an error did not end the loop"
    );
    Ok(())
}

fn spawned_work() -> Result<(), String> {
    ensure!(
        value(Deferred::spawn(async { Ok::<_, Error>(6 * 7) }))? == 42,
        "spawn"
    );
    ensure!(
        value(Deferred::<&str>::from_future(async { "ready" }))? == "ready",
        "from_future"
    );
    let blocking = Deferred::spawn_blocking(|| {
        let on_worker = thread::current()
            .name()
            .is_some_and(|name| name.starts_with("weir-worker"));
        Ok::<_, Error>(on_worker)
    });
    ensure!(
        !value(blocking)?,
        "spawn_blocking ran on an executor worker"
    );
    let panicked = Deferred::<u32>::spawn(async { panic!("{EXPECTED} task panic") });
    ensure!(error(panicked)?.is_panic(), "a panicking task");
    Ok(())
}

fn cancel_spawned() -> Result<(), String> {
    let (signal, dropped) = DropSignal::new();
    let work: Deferred<()> = Deferred::spawn(async move {
        let _signal = signal;
        std::future::pending::<()>().await;
        Ok(())
    });
    ensure!(
        work.error(Error::cancelled()),
        "the work finished before it was cancelled"
    );
    dropped_within_limit(&dropped)?;
    ensure!(error(work)?.is_cancelled(), "the cancelled deferred");
    Ok(())
}

fn timeout_cancels_work() -> Result<(), String> {
    let (signal, dropped) = DropSignal::new();
    let work: Deferred<()> = Deferred::spawn(async move {
        let _signal = signal;
        runtime::sleep(Duration::from_secs(3600)).await;
        Ok(())
    })
    .timeout(Duration::from_millis(10));
    ensure!(error(work)?.is_timeout(), "spawned work did not time out");
    dropped_within_limit(&dropped)?;

    let (signal, dropped) = DropSignal::new();
    let stage = Deferred::<u32>::succeeded(1)
        .then(move |n| async move {
            let _signal = signal;
            runtime::sleep(Duration::from_secs(3600)).await;
            Ok::<_, Error>(n)
        })
        .timeout(Duration::from_millis(10));
    ensure!(error(stage)?.is_timeout(), "a then stage did not time out");
    dropped_within_limit(&dropped)
}

fn cancel_loop() -> Result<(), String> {
    let (signal, dropped) = DropSignal::new();
    let forever = loop_fn((), move |()| {
        let _ = &signal; // the body, and so the loop, owns the signal
        async {
            runtime::sleep(Duration::from_millis(1)).await;
            Ok::<Loop<(), ()>, Error>(Loop::Recur(()))
        }
    });
    ensure!(
        forever.error(Error::cancelled()),
        "the loop ended by itself"
    );
    // The body was dropped with the loop's task: no turn can follow.
    dropped_within_limit(&dropped)?;
    ensure!(error(forever)?.is_cancelled(), "the cancelled loop");
    Ok(())
}

fn other_executors() -> Result<(), String> {
    fn answer() -> Deferred<u32> {
        Deferred::spawn(async {
            runtime::sleep(Duration::from_millis(1)).await;
            Ok::<_, Error>(42)
        })
        .timeout(LIMIT)
    }

    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let from_tokio = tokio
        .block_on(async { tokio::spawn(answer()).await })
        .map_err(|e| e.to_string())?;
    let from_async_std = async_std::task::block_on(async_std::task::spawn(answer()));
    let from_smol = smol::block_on(smol::spawn(answer()));
    for (executor, outcome) in [
        ("tokio", from_tokio),
        ("async-std", from_async_std),
        ("smol", from_smol),
    ] {
        ensure!(
            outcome.as_ref().ok() == Some(&42),
            "{executor} got {outcome:?}"
        );
    }
    Ok(())
}

/// An error type whose name marks its dropped-error warnings as expected.
struct TourExpectedDropped;

fn dropped_error_switch() -> Result<(), String> {
    let warnings = || quiet::count(std::any::type_name::<TourExpectedDropped>());
    let before = warnings();
    ensure!(
        deferred::dropped_error_logging(),
        "detection is off by default"
    );

    drop(Deferred::<(), _>::failed(TourExpectedDropped));
    ensure!(
        warnings() == before + 1,
        "an unobserved error was not logged"
    );

    Deferred::<(), _>::failed(TourExpectedDropped).on_realized(|_| {});
    ensure!(warnings() == before + 1, "an observed error was logged");

    deferred::set_dropped_error_logging(false);
    drop(Deferred::<(), _>::failed(TourExpectedDropped));
    deferred::set_dropped_error_logging(true);
    ensure!(
        warnings() == before + 1,
        "logged although detection was off"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// runtime

const RUNTIME: &[(&str, Check)] = &[
    ("spawn and block_on", spawn_and_block_on),
    (
        "spawned tasks run on weir-worker threads, blocking work elsewhere",
        worker_threads,
    ),
    ("sleep and sleep_until wait at least their duration", sleeps),
    ("interval ticks in order", interval_ticks),
    ("timeout bounds any future", timeout_any_future),
    ("dropping a task cancels it", dropping_task_cancels),
];

fn spawn_and_block_on() -> Result<(), String> {
    let task = runtime::spawn(async { 40 + 2 });
    let n = runtime::block_on(runtime::timeout(LIMIT, task)).map_err(|e| e.to_string())?;
    ensure!(n == 42, "got {n}");
    Ok(())
}

fn worker_threads() -> Result<(), String> {
    let thread_name = || thread::current().name().unwrap_or("").to_owned();
    let on_executor = runtime::block_on(runtime::timeout(
        LIMIT,
        runtime::spawn(async move { thread_name() }),
    ))
    .map_err(|e| e.to_string())?;
    ensure!(
        on_executor.starts_with("weir-worker-"),
        "a task ran on {on_executor:?}"
    );
    let blocking = runtime::block_on(runtime::timeout(
        LIMIT,
        runtime::spawn_blocking(thread_name),
    ))
    .map_err(|e| e.to_string())?;
    ensure!(
        !blocking.starts_with("weir-worker-"),
        "blocking work ran on {blocking:?}"
    );
    Ok(())
}

fn sleeps() -> Result<(), String> {
    let started = Instant::now();
    runtime::block_on(runtime::sleep(Duration::from_millis(10)));
    let slept = started.elapsed();
    ensure!(
        slept >= Duration::from_millis(10),
        "sleep returned after {slept:?}"
    );
    let deadline = Instant::now() + Duration::from_millis(10);
    let fired = runtime::block_on(runtime::sleep_until(deadline));
    ensure!(fired >= deadline, "sleep_until fired early");
    Ok(())
}

fn interval_ticks() -> Result<(), String> {
    let ticks = runtime::interval(Duration::from_millis(2))
        .take(3)
        .collect::<Vec<_>>();
    let ticks = runtime::block_on(runtime::timeout(LIMIT, ticks)).map_err(|e| e.to_string())?;
    ensure!(
        ticks.len() == 3 && ticks.windows(2).all(|w| w[0] < w[1]),
        "ticks {ticks:?}"
    );
    Ok(())
}

fn timeout_any_future() -> Result<(), String> {
    let quick = runtime::block_on(runtime::timeout(LIMIT, async { 1 }));
    ensure!(quick.as_ref().ok() == Some(&1), "got {quick:?}");
    let started = Instant::now();
    let slow = runtime::block_on(runtime::timeout(
        Duration::from_millis(10),
        runtime::sleep(Duration::from_secs(3600)),
    ));
    ensure!(slow.as_ref().is_err_and(Error::is_timeout), "got {slow:?}");
    ensure!(started.elapsed() < LIMIT, "the timeout fired late");
    Ok(())
}

fn dropping_task_cancels() -> Result<(), String> {
    let (signal, dropped) = DropSignal::new();
    let (started_tx, started) = mpsc::channel();
    let task = runtime::spawn(async move {
        let _signal = signal;
        let _ = started_tx.send(());
        std::future::pending::<()>().await;
    });
    started
        .recv_timeout(LIMIT)
        .map_err(|_| "the task did not start")?;
    drop(task);
    dropped_within_limit(&dropped)
}

/// Keeps provoked panics and log records off the terminal, and counts log records.
mod quiet {
    use std::panic;
    use std::sync::{Mutex, PoisonError};

    use super::{EXPECTED, panic_message};

    static RECORDS: Mutex<Vec<String>> = Mutex::new(Vec::new());

    struct Logger;

    impl log::Log for Logger {
        fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
            metadata.level() <= log::Level::Warn
        }

        fn log(&self, record: &log::Record<'_>) {
            let line = format!("{} {}: {}", record.level(), record.target(), record.args());
            if !is_expected(&line) {
                eprintln!("log  {line}");
            }
            RECORDS
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(line);
        }

        fn flush(&self) {}
    }

    static LOGGER: Logger = Logger;

    fn is_expected(text: &str) -> bool {
        text.contains(EXPECTED) || text.contains("TourExpected")
    }

    /// Installs the logger and a panic hook that hides the panics the tour provokes.
    pub(super) fn install() {
        if log::set_logger(&LOGGER).is_ok() {
            log::set_max_level(log::LevelFilter::Warn);
        }
        let default_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !is_expected(&panic_message(info.payload())) {
                default_hook(info);
            }
        }));
    }

    /// How many log records so far mention `text`.
    pub(super) fn count(text: &str) -> usize {
        RECORDS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|line| line.contains(text))
            .count()
    }
}

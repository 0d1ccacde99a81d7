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
//! Today the sections are `deferred`, `runtime`, `streams`, `macros`, `bytes`, `codec`, `udp`,
//! `tcp`, `tls` and `http`.
//! Later releases add a section each (the other network adapters): a list of checks in the style
//! of `DEFERRED`, and one `tour.section(..)` line in `main`.

use std::any::Any;
use std::fmt::Debug;
use std::future::Future;
use std::panic;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use futures::SinkExt;
use futures_lite::StreamExt;
use weir::deferred::{Loop, loop_fn};
use weir::stream::{self, Channel, ConnectOptions, MAX_PENDING_PUTS, PutError, Source, TakeError};
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
    tour.section("streams", STREAMS);
    tour.section("macros", MACROS);
    tour.section("bytes", BYTES);
    tour.section("codec", CODEC);
    #[cfg(feature = "udp")]
    tour.section("udp", UDP);
    #[cfg(feature = "tcp")]
    tour.section("tcp", TCP);
    #[cfg(feature = "tls")]
    tour.section("tls", TLS);
    #[cfg(all(feature = "http2", feature = "tls"))]
    tour.section("http", HTTP);
    #[cfg(all(feature = "http2", feature = "json", feature = "compression"))]
    tour.section("http client", HTTP_CLIENT);
    #[cfg(feature = "ws")]
    tour.section("ws", WS);
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
    (
        "a task that blocks its worker does not hold up the task it spawned",
        blocked_worker_s_task_runs,
    ),
    ("sleep and sleep_until wait at least their duration", sleeps),
    ("interval ticks in order", interval_ticks),
    ("timeout bounds any future", timeout_any_future),
    ("dropping a task cancels it", dropping_task_cancels),
];

fn blocked_worker_s_task_runs() -> Result<(), String> {
    let workers = std::env::var("WEIR_WORKER_THREADS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or_else(|| thread::available_parallelism().map_or(2, |n| n.get()));
    if workers < 2 {
        // One worker: nobody else could take the task.
        return Ok(());
    }
    let outer = runtime::spawn(async {
        let (tx, rx) = std::sync::mpsc::channel();
        runtime::spawn(async move { tx.send(()).unwrap_or(()) }).detach();
        // Holds this worker until the task it spawned has run on another one.
        rx.recv_timeout(LIMIT).is_ok()
    });
    let ran = runtime::block_on(runtime::timeout(LIMIT * 2, outer)).map_err(|e| e.to_string())?;
    ensure!(ran, "the spawned task waited behind its blocked worker");
    Ok(())
}

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

// ---------------------------------------------------------------------------------------------
// streams

const STREAMS: &[(&str, Check)] = &[
    (
        "put and take keep order; the producer stays within the buffer",
        put_and_take,
    ),
    (
        "an unbuffered put completes only when its message is taken",
        unbuffered_backpressure,
    ),
    (
        "close keeps buffered and pending messages takeable",
        close_keeps_messages,
    ),
    ("try_put and try_take: every outcome", try_outcomes),
    (
        "a put past MAX_PENDING_PUTS fails clearly and drops nothing",
        put_limit,
    ),
    (
        "the drain reports its cause; on_closed and on_drained run",
        drain_cause,
    ),
    ("a permanent channel ignores close", permanent_channel),
    (
        "a dropped put withdraws its message; a dropped take loses nothing",
        cancel_safety,
    ),
    (
        "a channel is a futures Stream and Sink with put semantics",
        futures_interop,
    ),
    (
        "put_now acts at once, as Manifold's put!: a dropped deferred still delivers",
        put_now_is_eager,
    ),
    (
        "fan_out: every output sees every message; xform's transducers beside StreamExt",
        fan_out_and_xform,
    ),
    (
        "connect: messages flow and the end propagates downstream",
        connect_downstream,
    ),
    (
        "connect: a closing sink closes its source at once, upstream(true) even with others",
        connect_upstream,
    ),
    (
        "fan-out: every sink connected before a put receives it",
        fan_out_every_sink,
    ),
    (
        "fan-out: the next message waits until every sink accepted the last",
        fan_out_pace,
    ),
    (
        "a timeout cuts off a stalled sink and the others go on",
        connect_timeout,
    ),
    (
        "the source's drain cause reaches connect's deferred",
        connect_drain_cause,
    ),
    (
        "the graph: descriptions, edges, render_text and render_dot",
        graph_rendering,
    ),
];

/// Runs `check` on the current thread, failing it if it takes longer than `LIMIT`.
fn within_limit(check: impl Future<Output = Result<(), String>>) -> Result<(), String> {
    runtime::block_on(runtime::timeout(LIMIT, check))
        .map_err(|_| format!("did not finish within {LIMIT:?}"))?
}

/// The next message of `channel` (`None` once drained), or a failure after `LIMIT`.
async fn take_within<T>(channel: &Channel<T>) -> Result<Option<T>, String> {
    match channel.try_take(LIMIT).await {
        Ok(message) => Ok(Some(message)),
        Err(TakeError::Drained) => Ok(None),
        Err(error) => Err(format!("{error} after {LIMIT:?}")),
    }
}

/// Everything left in `channel` until it is drained.
async fn drain<T>(channel: &Channel<T>) -> Result<Vec<T>, String> {
    let mut taken = Vec::new();
    while let Some(message) = take_within(channel).await? {
        taken.push(message);
    }
    Ok(taken)
}

/// Polls `future` once, without waiting.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

fn put_and_take() -> Result<(), String> {
    within_limit(async {
        let channel = Channel::new(4);
        let produced = Arc::new(AtomicUsize::new(0));
        let producer = {
            let (channel, produced) = (channel.clone(), produced.clone());
            runtime::spawn(async move {
                for i in 0..1000 {
                    channel.put(i).await.map_err(|e| e.to_string())?;
                    produced.fetch_add(1, Ordering::SeqCst);
                }
                channel.close();
                Ok::<_, String>(())
            })
        };
        let mut taken = 0;
        while let Some(message) = take_within(&channel).await? {
            ensure!(message == taken, "got {message}, expected {taken}");
            taken += 1;
            let produced = produced.load(Ordering::SeqCst);
            ensure!(
                produced <= taken + 4,
                "{produced} put with {taken} taken and room for 4"
            );
        }
        producer.await?;
        ensure!(taken == 1000, "took {taken} messages");
        Ok(())
    })
}

fn unbuffered_backpressure() -> Result<(), String> {
    within_limit(async {
        let channel = Channel::unbuffered();
        let mut put = channel.put("hello");
        ensure!(poll_once(&mut put).is_pending(), "accepted with no taker");
        ensure!(
            channel.description().pending_puts == 1,
            "the put is not counted as pending"
        );
        ensure!(
            take_within(&channel).await? == Some("hello"),
            "the take missed it"
        );
        ensure!(
            matches!(poll_once(&mut put), Poll::Ready(Ok(()))),
            "the take did not complete the put"
        );

        let mut take = Channel::take_next(&channel);
        ensure!(poll_once(&mut take).is_pending(), "took from nothing");
        let mut put = channel.put("world");
        ensure!(
            matches!(poll_once(&mut put), Poll::Ready(Ok(()))),
            "a put to a waiting taker was not accepted at once"
        );
        ensure!(
            poll_once(&mut take) == Poll::Ready(Some("world")),
            "the waiting taker"
        );
        Ok(())
    })
}

fn close_keeps_messages() -> Result<(), String> {
    within_limit(async {
        let channel = Channel::new(1);
        channel.put(1).await.map_err(|e| e.to_string())?;
        let mut pending = channel.put(2);
        ensure!(poll_once(&mut pending).is_pending(), "the buffer had room");
        channel.close();
        ensure!(
            channel.is_closed() && !channel.is_drained(),
            "closed with messages in it, but drained"
        );
        let refused = channel.put(3).await.err();
        ensure!(
            refused.as_ref().is_some_and(PutError::is_closed),
            "a put after close was not refused as closed"
        );
        ensure!(
            refused.map(PutError::into_inner) == Some(3),
            "the refused message was not handed back"
        );
        let taken = drain(&channel).await?;
        ensure!(taken == [1, 2], "took {taken:?} after close");
        ensure!(
            matches!(poll_once(&mut pending), Poll::Ready(Ok(()))),
            "the pending put did not complete when taken"
        );
        ensure!(channel.is_drained(), "empty and closed, but not drained");
        Ok(())
    })
}

fn try_outcomes() -> Result<(), String> {
    within_limit(async {
        let channel = Channel::new(1);
        let accepted = channel.try_put(1, Duration::ZERO).await;
        ensure!(accepted.is_ok(), "try_put with room: {accepted:?}");
        let started = Instant::now();
        let full = channel.try_put(2, Duration::ZERO).await;
        ensure!(started.elapsed() < LIMIT, "a zero try_put waited");
        let full = full.err();
        ensure!(
            full.as_ref().is_some_and(PutError::is_timeout),
            "a zero try_put into a full channel did not time out"
        );
        ensure!(
            full.map(PutError::into_inner) == Some(2),
            "the timed-out message was not handed back"
        );
        let later = channel.try_put(3, Duration::from_millis(10)).await;
        ensure!(
            later.is_err_and(|e| e.is_timeout()),
            "try_put(10ms) into a full channel"
        );
        ensure!(
            channel.description().pending_puts == 0,
            "a timed-out put stayed pending"
        );

        ensure!(
            channel.try_take(Duration::ZERO).await == Ok(1),
            "try_take of a buffered message"
        );
        ensure!(
            channel.try_take(Duration::ZERO).await == Err(TakeError::Timeout),
            "a zero try_take of an empty channel"
        );
        ensure!(
            channel.try_take(Duration::from_millis(10)).await == Err(TakeError::Timeout),
            "try_take(10ms) of an empty channel"
        );
        channel.close();
        ensure!(
            channel
                .try_put(4, Duration::ZERO)
                .await
                .is_err_and(|e| e.is_closed()),
            "try_put into a closed channel"
        );
        let started = Instant::now();
        ensure!(
            channel.try_take(LIMIT).await == Err(TakeError::Drained),
            "try_take of a drained channel"
        );
        ensure!(
            started.elapsed() < LIMIT / 2,
            "try_take waited on a drained channel"
        );
        Ok(())
    })
}

fn put_limit() -> Result<(), String> {
    within_limit(async {
        let channel = Channel::unbuffered();
        let mut waiting: Vec<_> = (0..MAX_PENDING_PUTS).map(|i| channel.put(i)).collect();
        for put in &mut waiting {
            ensure!(
                poll_once(put).is_pending(),
                "a put was accepted with no taker"
            );
        }
        let refused = channel.put(usize::MAX).await.err();
        ensure!(
            refused.as_ref().is_some_and(PutError::is_too_many_pending),
            "the put past the limit was not refused as too many pending"
        );
        let message = refused.as_ref().map(ToString::to_string);
        ensure!(
            message.as_deref() == Some("put refused: the stream already has 16384 pending puts"),
            "unclear error: {message:?}"
        );
        ensure!(
            refused.map(PutError::into_inner) == Some(usize::MAX),
            "the refused message was not handed back"
        );
        ensure!(!channel.is_closed(), "the limit closed the channel");
        for expected in 0..3 {
            ensure!(
                take_within(&channel).await? == Some(expected),
                "a pending message was lost"
            );
        }
        Ok(())
    })
}

fn drain_cause() -> Result<(), String> {
    within_limit(async {
        let channel = Channel::new(2);
        channel.put("last").await.map_err(|e| e.to_string())?;
        let (tx, events) = mpsc::channel();
        let on_closed = tx.clone();
        channel.on_closed(move || {
            let _ = on_closed.send("closed".to_string());
        });
        channel.on_drained(move |outcome| {
            let _ = tx.send(format!("drained: {outcome:?}"));
        });
        channel.close_with_error(Error::protocol("bad frame"));
        ensure!(
            events.try_recv().ok().as_deref() == Some("closed"),
            "on_closed did not run at close"
        );
        ensure!(events.try_recv().is_err(), "drained with a message left");
        ensure!(
            take_within(&channel).await? == Some("last"),
            "the buffered message was lost"
        );
        let drained = events.try_recv().unwrap_or_default();
        ensure!(
            drained.starts_with("drained: Err") && drained.contains("bad frame"),
            "on_drained got {drained:?}"
        );
        let cause = wait(channel.drained())?.err();
        ensure!(
            cause.as_ref().is_some_and(Error::is_protocol),
            "drained() gave {cause:?}"
        );
        let clean = Channel::<u8>::new(1);
        clean.close();
        ensure!(
            wait(clean.drained())?.is_ok(),
            "a plain close drained with an error"
        );
        Ok(())
    })
}

fn permanent_channel() -> Result<(), String> {
    within_limit(async {
        let channel = Channel::builder().capacity(1).permanent(true).build();
        channel.close();
        channel.close_with_error(Error::msg("ignored"));
        ensure!(
            !channel.is_closed() && channel.description().permanent,
            "a permanent channel closed"
        );
        channel.put(5).await.map_err(|e| e.to_string())?;
        ensure!(take_within(&channel).await? == Some(5), "take");
        Ok(())
    })
}

fn cancel_safety() -> Result<(), String> {
    within_limit(async {
        let channel = Channel::unbuffered();
        let abandoned = runtime::timeout(Duration::from_millis(5), channel.put("draft")).await;
        ensure!(abandoned.is_err(), "a put with no taker completed");
        ensure!(
            channel.description().pending_puts == 0,
            "the dropped put's message stayed in the channel"
        );
        let gave_up =
            runtime::timeout(Duration::from_millis(5), Channel::take_next(&channel)).await;
        ensure!(gave_up.is_err(), "a take from nothing completed");
        ensure!(
            channel.description().pending_takes == 0,
            "the dropped take is still waiting"
        );

        // A taker woken for a message but dropped before taking it passes it on.
        let mut first = Channel::take_next(&channel);
        let mut second = Channel::take_next(&channel);
        ensure!(
            poll_once(&mut first).is_pending() && poll_once(&mut second).is_pending(),
            "took from nothing"
        );
        channel
            .try_put("kept", Duration::ZERO)
            .await
            .map_err(|e| e.to_string())?;
        drop(first);
        ensure!(
            poll_once(&mut second) == Poll::Ready(Some("kept")),
            "the message was lost with the dropped take"
        );
        Ok(())
    })
}

fn futures_interop() -> Result<(), String> {
    within_limit(async {
        let channel = Channel::unbuffered();
        let mut sink = channel.clone();
        let producer = runtime::spawn(async move {
            for i in 0..100 {
                sink.send(i).await?;
            }
            SinkExt::close(&mut sink).await
        });
        let received: Vec<i32> = channel.clone().collect().await;
        producer.await.map_err(|e| e.to_string())?;
        ensure!(
            received == (0..100).collect::<Vec<_>>(),
            "received {} messages out of 100",
            received.len()
        );
        let mut closed = channel.clone();
        ensure!(
            closed.send(1).await.is_err_and(|e| e.is_closed()),
            "send into a closed channel"
        );
        Ok(())
    })
}

fn put_now_is_eager() -> Result<(), String> {
    use weir::stream::PutExt;
    within_limit(async {
        let channel = Channel::unbuffered();
        drop(channel.put_now(1)); // fire and forget, as `(put! s 1)`
        let view = stream::sink_only(channel.clone());
        drop(view.put_now(2)); // on any sink, through PutExt
        ensure!(
            drain_n(&channel, 2).await? == [1, 2],
            "fire-and-forget puts delivered"
        );
        channel.close();
        let refused = channel.put_now(3).await;
        ensure!(
            refused.is_err_and(|e| e.is_closed() && e.into_inner() == 3),
            "a refused put_now hands the message back"
        );
        Ok(())
    })
}

/// The next `n` messages of `channel`.
async fn drain_n<T>(channel: &Channel<T>, n: usize) -> Result<Vec<T>, String> {
    let mut taken = Vec::new();
    while taken.len() < n {
        match take_within(channel).await? {
            Some(message) => taken.push(message),
            None => break,
        }
    }
    Ok(taken)
}

fn fan_out_and_xform() -> Result<(), String> {
    use weir::stream::{SourceExt, Transducer, xform};
    within_limit(async {
        let mut outputs = stream::iter([1, 1, 2, 3, 3, 4]).fan_out(2).into_iter();
        let (a, b) = (outputs.next().unwrap(), outputs.next().unwrap());
        let deduped = a.transform(xform::dedupe().then(xform::take(3)));
        let doubled = b.map_each(|n| n * 2);
        let deduped = runtime::spawn(deduped.collect::<Vec<_>>());
        let doubled: Vec<i32> = doubled.collect().await; // futures_lite::StreamExt::collect
        let deduped = deduped.await;
        ensure!(deduped == [1, 2, 3], "dedupe then take: {deduped:?}");
        ensure!(
            doubled == [2, 2, 4, 6, 6, 8],
            "every message reached both: {doubled:?}"
        );
        Ok(())
    })
}

fn connect_downstream() -> Result<(), String> {
    within_limit(async {
        let (source, sink) = (Channel::new(4), Channel::new(4));
        let done = stream::connect(source.clone(), sink.clone(), ConnectOptions::new());
        let producer = {
            let source = source.clone();
            runtime::spawn(async move {
                for i in 0..100 {
                    source.put(i).await.map_err(|e| e.to_string())?;
                }
                source.close();
                Ok::<_, String>(())
            })
        };
        let received = drain(&sink).await?;
        producer.await?;
        ensure!(
            received == (0..100).collect::<Vec<_>>(),
            "received {} messages out of 100, or out of order",
            received.len()
        );
        ensure!(wait(done)?.is_ok(), "a clean drain did not end cleanly");

        let (source, sink) = (Channel::new(4), Channel::new(4));
        let done = stream::connect(
            source.clone(),
            sink.clone(),
            ConnectOptions::new().downstream(false),
        );
        source.put(1).await.map_err(|e| e.to_string())?;
        source.close();
        ensure!(wait(done)?.is_ok(), "downstream(false) connection");
        ensure!(!sink.is_closed(), "downstream(false) closed the sink");
        ensure!(
            sink.try_take(Duration::ZERO).await == Ok(1),
            "downstream(false) lost the message"
        );

        let numbers = stream::iter(1..=3);
        let sink = Channel::new(4);
        stream::connect(numbers, sink.clone(), ConnectOptions::new());
        let received = drain(&sink).await?;
        ensure!(received == [1, 2, 3], "from stream::iter: {received:?}");
        Ok(())
    })
}

fn connect_upstream() -> Result<(), String> {
    within_limit(async {
        // The only sink closes: the source closes, with no message sent.
        let (source, sink) = (Channel::<u8>::new(4), Channel::<u8>::new(4));
        let done = stream::connect(source.clone(), sink.clone(), ConnectOptions::new());
        sink.close();
        wait(source.closed())?.map_err(|e| e.to_string())?;
        ensure!(wait(done)?.is_ok(), "the connection of a closed sink");

        // One of two sinks closes: it is detached, the other goes on.
        let source = Channel::new(4);
        let (a, b) = (Channel::new(4), Channel::new(4));
        stream::connect_fan_out(source.clone(), a.clone(), ConnectOptions::new());
        let b_done = stream::connect_fan_out(source.clone(), b.clone(), ConnectOptions::new());
        b.close();
        ensure!(wait(b_done)?.is_ok(), "the closed sink's connection");
        ensure!(!source.is_closed(), "closed although a sink remains");
        source.put(7).await.map_err(|e| e.to_string())?;
        ensure!(take_within(&a).await? == Some(7), "the remaining sink");

        // upstream(true): one sink closing closes the source at once.
        let source = Channel::<u8>::new(4);
        let (a, b) = (Channel::new(4), Channel::new(4));
        stream::connect_fan_out(source.clone(), a.clone(), ConnectOptions::new());
        stream::connect_fan_out(
            source.clone(),
            b.clone(),
            ConnectOptions::new().upstream(true),
        );
        b.close();
        wait(source.closed())?.map_err(|e| e.to_string())?;
        ensure!(
            take_within(&a).await?.is_none(),
            "the other sink was not closed when the source drained"
        );
        Ok(())
    })
}

fn fan_out_every_sink() -> Result<(), String> {
    // A sink must take part from the moment `connect` returns; repeat to catch a race.
    const ROUNDS: usize = 200;
    within_limit(async {
        let mut missed = 0;
        for _ in 0..ROUNDS {
            let source = Channel::new(4);
            let (a, b) = (Channel::new(4), Channel::new(4));
            stream::connect_fan_out(source.clone(), a.clone(), ConnectOptions::new());
            stream::connect_fan_out(source.clone(), b.clone(), ConnectOptions::new());
            source.put(1).await.map_err(|e| e.to_string())?;
            source.close();
            if drain(&a).await? != [1] || drain(&b).await? != [1] {
                missed += 1;
            }
        }
        ensure!(
            missed == 0,
            "in {missed} of {ROUNDS} rounds a sink connected before the put missed the message"
        );
        Ok(())
    })
}

fn fan_out_pace() -> Result<(), String> {
    within_limit(async {
        let source = Channel::new(8);
        let (a, slow) = (Channel::new(8), Channel::unbuffered());
        stream::connect_fan_out(source.clone(), slow.clone(), ConnectOptions::new());
        stream::connect_fan_out(source.clone(), a.clone(), ConnectOptions::new());
        for i in 0..3 {
            source.put(i).await.map_err(|e| e.to_string())?;
        }
        source.close();
        ensure!(take_within(&a).await? == Some(0), "the first message");
        ensure!(
            a.try_take(Duration::ZERO).await == Err(TakeError::Timeout),
            "the next message went out before the slow sink accepted the first"
        );
        let slow_got = drain(&slow).await?;
        let a_got = drain(&a).await?;
        ensure!(
            slow_got == [0, 1, 2] && a_got == [1, 2],
            "slow got {slow_got:?}, the other got 0 then {a_got:?}"
        );
        Ok(())
    })
}

fn connect_timeout() -> Result<(), String> {
    within_limit(async {
        let source = Channel::new(8);
        let (fast, stuck) = (Channel::new(8), Channel::<u32>::unbuffered());
        stream::connect_fan_out(source.clone(), fast.clone(), ConnectOptions::new());
        let cut_off = stream::connect_fan_out(
            source.clone(),
            stuck.clone(),
            ConnectOptions::new().timeout(Duration::from_millis(10)),
        );
        for i in 0..4 {
            source.put(i).await.map_err(|e| e.to_string())?;
        }
        source.close();
        let outcome = wait(cut_off)?;
        ensure!(
            outcome.as_ref().is_err_and(Error::is_timeout),
            "the stalled sink's connection ended with {outcome:?}"
        );
        ensure!(stuck.is_closed(), "the stalled sink was not closed");
        let received = drain(&fast).await?;
        ensure!(
            received == [0, 1, 2, 3],
            "the fast sink received {received:?}"
        );
        Ok(())
    })
}

fn connect_drain_cause() -> Result<(), String> {
    within_limit(async {
        let (source, sink) = (Channel::new(4), Channel::new(4));
        let done = stream::connect(source.clone(), sink.clone(), ConnectOptions::new());
        source.put("before").await.map_err(|e| e.to_string())?;
        source.close_with_error(Error::protocol("bad frame"));
        let outcome = wait(done)?;
        ensure!(
            outcome.as_ref().is_err_and(Error::is_protocol),
            "connect's deferred got {outcome:?}"
        );
        let received = drain(&sink).await?;
        ensure!(received == ["before"], "the sink received {received:?}");
        Ok(())
    })
}

fn graph_rendering() -> Result<(), String> {
    within_limit(async {
        let orders = Channel::builder().capacity(4).description("orders").build();
        let audit = Channel::builder().description("audit").build();
        let billing = Channel::builder().description("billing").build();
        let to_audit = stream::connect_fan_out(
            orders.clone(),
            audit.clone(),
            ConnectOptions::new().description("to audit"),
        );
        let to_billing = stream::connect_fan_out(
            orders.clone(),
            billing.clone(),
            ConnectOptions::new().description("to billing"),
        );
        orders.put(1001).await.map_err(|e| e.to_string())?;
        ensure!(take_within(&billing).await? == Some(1001), "billing");

        let edges = orders.node().downstream();
        let labels: Vec<_> = edges
            .iter()
            .map(|edge| edge.description.as_deref())
            .collect();
        ensure!(
            labels == [Some("to audit"), Some("to billing")],
            "edges {labels:?}"
        );
        let text = orders.node().render_text();
        let expected = "stream \"orders\" buffer=0/4\n  \
            -[to audit]-> stream \"audit\" buffer=0/0 pending_puts=1\n  \
            -[to billing]-> stream \"billing\" buffer=0/0\n";
        ensure!(text == expected, "render_text gave\n{text}");
        let dot = orders.node().render_dot();
        ensure!(
            dot.starts_with("digraph weir {")
                && dot.contains("n0 -> n1 [label=\"to audit\"];")
                && dot.contains("label=\"stream \\\"audit\\\" buffer=0/0 pending_puts=1\""),
            "render_dot gave\n{dot}"
        );

        orders.close();
        ensure!(take_within(&audit).await? == Some(1001), "audit");
        wait(to_audit)?.map_err(|e| e.to_string())?;
        wait(to_billing)?.map_err(|e| e.to_string())?;
        ensure!(
            orders.node().downstream().is_empty(),
            "edges outlived their connections"
        );
        Ok(())
    })
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

// ---- macros: let_flow! and pipeline! -------------------------------------------------------

const MACROS: &[(&str, Check)] = &[
    (
        "let_flow!: deferred bindings and a binding that depends on them",
        let_flow_concurrency,
    ),
    (
        "let_flow!: the first error wins and `?` works in the body",
        let_flow_errors,
    ),
    (
        "pipeline!: named stages into two sinks, the graph shows the names",
        pipeline_fan_out,
    ),
];

fn let_flow_concurrency() -> Result<(), String> {
    let (a, b) = (Deferred::<u32>::new(), Deferred::<u32>::new());
    let (a2, b2) = (a.clone(), b.clone());
    let flow = weir::let_flow! {
        let x = a2;
        let y = b2;
        let sum = x + y;
        sum * 2
    };
    // Realized in the reverse order of the bindings.
    b.success(20);
    a.success(1);
    let doubled = value(flow)?;
    ensure!(doubled == 42, "let_flow! gave {doubled}");
    Ok(())
}

fn let_flow_errors() -> Result<(), String> {
    let failing = Deferred::<u32>::failed(weir::Error::closed("upstream"));
    let flow = weir::let_flow! {
        let x = failing;
        let y = 2u32;
        x + y
    };
    let failed = error(flow)?;
    ensure!(
        failed.is_closed(),
        "expected the binding's error, got {failed}"
    );
    let parsed = weir::let_flow! {
        let text = "41";
        text.parse::<u32>().map_err(weir::Error::other)? + 1
    };
    let parsed = value(parsed)?;
    ensure!(parsed == 42, "`?` in the body gave {parsed}");
    Ok(())
}

fn pipeline_fan_out() -> Result<(), String> {
    let source = Channel::new(8);
    let (evens, audit) = (Channel::new(8), Channel::new(8));
    let done = weir::pipeline!(
        source.clone()
            => map_each(|n: u32| n * 10) as "scale"
            => filter_each(|n: &u32| n % 20 == 0) as "evens"
            => [evens.clone(), audit.clone()]
    );
    let graph = source.node().render_text();
    ensure!(
        graph.contains("\"scale\"") && graph.contains("\"evens\""),
        "stage names missing from the graph:\n{graph}"
    );
    weir::runtime::block_on(async {
        for n in 1..=4 {
            source.put(n).await.map_err(|e| e.to_string())?;
        }
        source.close();
        Ok::<_, String>(())
    })?;
    value(done)?;
    let (mut left, mut right) = (Vec::new(), Vec::new());
    weir::runtime::block_on(async {
        while let Some(n) = Channel::take_next(&evens).await {
            left.push(n);
        }
        while let Some(n) = Channel::take_next(&audit).await {
            right.push(n);
        }
    });
    ensure!(
        left == [20, 40] && right == [20, 40],
        "sinks got {left:?} and {right:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// bytes

const BYTES: &[(&str, Check)] = &[
    (
        "IntoBytes takes owned buffers over without copying",
        into_bytes_zero_copy,
    ),
    (
        "to_bytes and to_string collect within a limit; past it the source is closed",
        collect_with_limits,
    ),
    (
        "invalid UTF-8 is an error at its byte; the lossy variant replaces it",
        invalid_utf8,
    ),
    (
        "chunks, from_reader and to_reader round trip; a failed source fails the reader",
        readers_round_trip,
    ),
    (
        "lines across chunks; an overlong line ends them with a protocol error",
        lines_with_a_maximum,
    ),
    (
        "files: write, read with a limit, a source of chunks; a missing file names its path",
        files,
    ),
    (
        "transfer closes the writer unless told not to",
        transfer_closes,
    ),
    ("compare_bytes and hex_dump", compare_and_dump),
];

/// A message for an unexpected error.
fn unexpected(error: impl std::fmt::Display) -> String {
    format!("unexpected error: {error}")
}

fn into_bytes_zero_copy() -> Result<(), String> {
    use weir::bytes::IntoBytes;

    let vec = b"owned".to_vec();
    let address = vec.as_ptr();
    let bytes = vec.into_bytes();
    ensure!(bytes == "owned", "the Vec became {bytes:?}");
    ensure!(bytes.as_ptr() == address, "the Vec was copied");
    let text = String::from("text");
    let address = text.as_ptr();
    let bytes = IntoBytes::into_bytes(text);
    ensure!(
        bytes == "text" && bytes.as_ptr() == address,
        "the String was copied"
    );
    let borrowed = "borrowed".into_bytes();
    ensure!(borrowed == "borrowed", "&str became {borrowed:?}");
    Ok(())
}

fn collect_with_limits() -> Result<(), String> {
    within_limit(async {
        let all = weir::bytes::to_bytes(stream::iter(vec!["ab", "cd", "ef"]), 6)
            .await
            .map_err(unexpected)?;
        ensure!(all == "abcdef", "collected {all:?}");
        let text =
            weir::bytes::to_string(stream::iter(vec![b"caf\xc3".to_vec(), b"\xa9".to_vec()]), 5)
                .await
                .map_err(unexpected)?;
        ensure!(
            text == "café",
            "a character split across chunks became {text:?}"
        );

        let source = Channel::new(4);
        source.put("0123456789").await.map_err(unexpected)?;
        source.put("more").await.map_err(unexpected)?;
        let over = weir::bytes::to_bytes(source.clone(), 5).await;
        let over = over.err().ok_or("11 bytes collected within a limit of 5")?;
        ensure!(over.is_protocol(), "past the limit: {over}");
        ensure!(
            over.to_string() == "protocol error: stream longer than the limit of 5 bytes",
            "the error says {over}"
        );
        ensure!(
            source.is_closed(),
            "the source was left open past the limit"
        );
        Ok(())
    })
}

fn invalid_utf8() -> Result<(), String> {
    within_limit(async {
        let invalid = weir::bytes::to_string(stream::iter(vec![&b"ok\xff"[..]]), 16).await;
        let invalid = invalid.err().ok_or("invalid UTF-8 was accepted")?;
        ensure!(
            invalid.is_protocol()
                && invalid.to_string() == "protocol error: invalid UTF-8 at byte 2",
            "the error says {invalid}"
        );
        let lossy = weir::bytes::to_string_lossy(stream::iter(vec![&b"ok\xff"[..]]), 16)
            .await
            .map_err(unexpected)?;
        ensure!(lossy == "ok\u{fffd}", "lossy gave {lossy:?}");
        ensure!(
            weir::bytes::decode_utf8(&b"a\xc3"[..]).is_err_and(|e| e.is_protocol()),
            "decode_utf8 accepted a cut character"
        );
        ensure!(
            weir::bytes::decode_utf8_lossy(&b"a\xffb"[..]) == "a\u{fffd}b",
            "decode_utf8_lossy"
        );
        Ok(())
    })
}

fn readers_round_trip() -> Result<(), String> {
    use futures_lite::AsyncReadExt;

    within_limit(async {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let original = bytes::Bytes::from(data.clone());
        let pieces: Vec<bytes::Bytes> = weir::bytes::chunks(original.clone(), 1000).collect().await;
        ensure!(pieces.len() == 10, "{} chunks of 1000", pieces.len());
        ensure!(
            pieces[3].as_ptr() == original[3000..].as_ptr(),
            "chunks copied the buffer"
        );

        let mut reader = weir::bytes::to_reader(stream::iter(pieces));
        let mut copy = Vec::new();
        reader.read_to_end(&mut copy).await.map_err(unexpected)?;
        let source = weir::bytes::from_reader(futures_lite::io::Cursor::new(copy), 333);
        let drained = source.drained();
        let again = weir::bytes::to_bytes(source, data.len())
            .await
            .map_err(unexpected)?;
        ensure!(again == data, "the bytes changed on the way");
        ensure!(drained.await.is_ok(), "end of file was not a clean end");

        let failing = Channel::new(2);
        failing.put("partial").await.map_err(unexpected)?;
        failing.close_with_error(Error::msg("connection reset"));
        let mut read = Vec::new();
        let failed = weir::bytes::to_reader(failing).read_to_end(&mut read).await;
        ensure!(read == b"partial", "read {read:?} before the error");
        ensure!(
            failed.is_err_and(|e| e.to_string().contains("connection reset")),
            "the reader hid the source's error"
        );
        Ok(())
    })
}

fn lines_with_a_maximum() -> Result<(), String> {
    within_limit(async {
        let text = stream::iter(vec!["one\r\ntw", "o\n", "three"]);
        let lines: Vec<String> = weir::bytes::lines(text, 5).collect().await;
        ensure!(lines == ["one", "two", "three"], "lines: {lines:?}");

        let long = weir::bytes::lines(stream::iter(vec!["short\nmuch too long\nnever\n"]), 8);
        let drained = long.drained();
        let lines: Vec<String> = long.collect().await;
        ensure!(lines == ["short"], "before the long line: {lines:?}");
        let error = drained.await.err().ok_or("an overlong line was accepted")?;
        ensure!(
            error.to_string() == "protocol error: line longer than 8 bytes at byte 6",
            "the error says {error}"
        );
        Ok(())
    })
}

fn files() -> Result<(), String> {
    within_limit(async {
        let path = std::env::temp_dir().join(format!("weir-tour-{}", std::process::id()));
        let written = weir::bytes::write_file(&path, weir::bytes::chunks(vec![7u8; 100_000], 4096))
            .await
            .map_err(unexpected)?;
        ensure!(written == 100_000, "wrote {written} bytes");
        let read = weir::bytes::read_file(&path, 100_000)
            .await
            .map_err(unexpected)?;
        ensure!(
            read.len() == 100_000 && read.iter().all(|&b| b == 7),
            "read back {} bytes",
            read.len()
        );
        let over = weir::bytes::read_file(&path, 99_999).await;
        ensure!(
            over.is_err_and(|e| e.is_protocol()),
            "a file past the limit was read"
        );
        let chunks = weir::bytes::file_source(&path, 64 * 1024).count().await;
        ensure!(chunks >= 2, "100000 bytes in {chunks} chunks of 64 KiB");
        std::fs::remove_file(&path).map_err(unexpected)?;

        let missing = weir::bytes::read_file(&path, 10).await;
        ensure!(
            missing.is_err_and(|e| e.is_io() && e.to_string().contains("weir-tour-")),
            "a missing file: no I/O error naming the path"
        );
        Ok(())
    })
}

/// A writer that records what it is given and whether it was closed.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<(Vec<u8>, bool)>>);

impl Recorder {
    fn get(&self) -> (Vec<u8>, bool) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl futures_io::AsyncWrite for Recorder {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut record = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        record.0.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).1 = true;
        Poll::Ready(Ok(()))
    }
}

fn transfer_closes() -> Result<(), String> {
    use weir::bytes::TransferOptions;

    within_limit(async {
        let writer = Recorder::default();
        let source = stream::iter(vec!["hello ", "world"]);
        let written = weir::bytes::transfer(source, writer.clone(), TransferOptions::new())
            .await
            .map_err(unexpected)?;
        let (bytes, closed) = writer.get();
        ensure!(
            written == 11 && bytes == b"hello world",
            "transferred {written}: {bytes:?}"
        );
        ensure!(closed, "the writer was not closed by default");

        let writer = Recorder::default();
        let keep_open = TransferOptions::new().close(false);
        weir::bytes::transfer(stream::iter(vec!["kept"]), writer.clone(), keep_open)
            .await
            .map_err(unexpected)?;
        let (bytes, closed) = writer.get();
        ensure!(bytes == b"kept", "transferred {bytes:?}");
        ensure!(!closed, "close(false) closed the writer");
        Ok(())
    })
}

fn compare_and_dump() -> Result<(), String> {
    use std::cmp::Ordering;
    use weir::bytes::{compare_bytes, hex_dump};

    ensure!(
        compare_bytes(b"abc", b"abd") == Ordering::Less
            && compare_bytes([0xff], [0x01]) == Ordering::Greater
            && compare_bytes(b"ab", b"abc") == Ordering::Less
            && compare_bytes("same", b"same") == Ordering::Equal,
        "compare_bytes ordering"
    );
    let dump = hex_dump(b"hello, world\n\x00\xff!XY");
    let expected = "00000000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 0a 00 ff 21  |hello, world...!|\n\
                    00000010  58 59                                             |XY|\n";
    ensure!(dump == expected, "hex_dump gave\n{dump}");
    ensure!(hex_dump(b"").is_empty(), "an empty dump is not empty");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// codec

const CODEC: &[(&str, Check)] = &[
    (
        "lines: encode into a channel and decode back, split anywhere",
        lines_round_trip,
    ),
    (
        "length-prefixed: every prefix and byte order round trips",
        length_prefixed_round_trip,
    ),
    ("delimiter: frames round trip", delimiter_round_trip),
    (
        "an oversize frame ends the frames with a protocol error and closes the input",
        oversize_frame,
    ),
    (
        "framed: two ends of an in-memory connection talk",
        framed_pipe,
    ),
];

/// Encodes every item with `codec` into one buffer, then decodes it from chunks of `size`
/// bytes through `codec::decode`.
async fn round_trip<C, T>(mut codec: C, items: Vec<T>, size: usize) -> Result<Vec<C::Frame>, String>
where
    C: weir::codec::Encoder<T> + weir::codec::Decoder + Send + 'static,
{
    let mut buf = bytes::BytesMut::new();
    for item in items {
        codec.encode(item, &mut buf).map_err(unexpected)?;
    }
    let frames = weir::codec::decode(weir::bytes::chunks(buf.freeze(), size), codec);
    let drained = frames.drained();
    let frames: Vec<C::Frame> = frames.collect().await;
    drained.await.map_err(unexpected)?;
    Ok(frames)
}

fn lines_round_trip() -> Result<(), String> {
    use weir::codec::LinesCodec;

    within_limit(async {
        let pipe = Channel::<bytes::Bytes>::new(8);
        let mut writer = weir::codec::encode(pipe.clone(), LinesCodec::new());
        let reader = weir::codec::decode(pipe.clone(), LinesCodec::new());
        for line in ["GET /", "Host: example", ""] {
            writer.send(line).await.map_err(unexpected)?;
        }
        ensure!(
            writer
                .send("two\nlines")
                .await
                .is_err_and(|e| e.is_protocol()),
            "a line with a newline was encoded"
        );
        SinkExt::<&str>::close(&mut writer)
            .await
            .map_err(unexpected)?;
        let lines: Vec<String> = reader.collect().await;
        ensure!(lines == ["GET /", "Host: example", ""], "decoded {lines:?}");

        for size in [1, 2, 7] {
            let lines = round_trip(LinesCodec::new(), vec!["héllo", "wörld"], size).await?;
            ensure!(
                lines == ["héllo", "wörld"],
                "in chunks of {size}: {lines:?}"
            );
        }
        Ok(())
    })
}

fn length_prefixed_round_trip() -> Result<(), String> {
    use weir::codec::{Endian, LengthPrefixedCodec, Prefix};

    within_limit(async {
        let frames = vec![
            bytes::Bytes::new(),
            bytes::Bytes::from_static(b"x"),
            bytes::Bytes::from(vec![9u8; 200]),
        ];
        for prefix in [
            Prefix::U8,
            Prefix::U16,
            Prefix::U32,
            Prefix::U64,
            Prefix::Varint,
        ] {
            for endian in [Endian::Big, Endian::Little] {
                let codec = LengthPrefixedCodec::new(prefix).endian(endian);
                let decoded = round_trip(codec, frames.clone(), 3).await?;
                ensure!(decoded == frames, "{prefix:?} {endian:?}: {decoded:?}");
            }
        }
        Ok(())
    })
}

fn delimiter_round_trip() -> Result<(), String> {
    use weir::codec::DelimiterCodec;

    within_limit(async {
        let frames = vec![
            bytes::Bytes::from_static(b"Host: example"),
            bytes::Bytes::new(),
            bytes::Bytes::from_static(b"Accept: */*"),
        ];
        let decoded = round_trip(DelimiterCodec::new(b"\r\n\r\n"), frames.clone(), 3).await?;
        ensure!(decoded == frames, "decoded {decoded:?}");
        let mut buf = bytes::BytesMut::new();
        ensure!(
            weir::codec::Encoder::encode(&mut DelimiterCodec::new(b";"), b"a;b", &mut buf)
                .is_err_and(|e| e.is_protocol())
                && buf.is_empty(),
            "a frame containing its delimiter was encoded"
        );
        Ok(())
    })
}

fn oversize_frame() -> Result<(), String> {
    use weir::codec::{Decoder, DelimiterCodec, LengthPrefixedCodec, LinesCodec, Prefix};

    /// Decodes `input` fed through a channel; the frames before the end, the error, and
    /// whether the channel was closed.
    async fn refused<D>(decoder: D, input: &'static [u8]) -> Result<(usize, Error, bool), String>
    where
        D: Decoder + Send + 'static,
    {
        let channel = Channel::<bytes::Bytes>::new(4);
        channel
            .put(bytes::Bytes::from_static(input))
            .await
            .map_err(unexpected)?;
        let frames = weir::codec::decode(channel.clone(), decoder);
        let drained = frames.drained();
        let count = frames.count().await;
        let error = drained
            .await
            .err()
            .ok_or("the oversize frame was accepted")?;
        Ok((count, error, channel.is_closed()))
    }

    within_limit(async {
        let max = LengthPrefixedCodec::new(Prefix::U32).max_frame_size(8);
        let (count, error, closed) = refused(max, b"\x00\x00\x00\x02ok\xff\xff\xff\xff").await?;
        ensure!(count == 1, "{count} frames before the oversize one");
        ensure!(
            error.is_protocol()
                && error.to_string()
                    == "protocol error: frame of 4294967295 bytes exceeds the maximum of 8 bytes",
            "the error says {error}"
        );
        ensure!(closed, "the input was left open");

        let (count, error, closed) =
            refused(LinesCodec::new().max_length(4), b"ok\nfar too long").await?;
        ensure!(
            count == 1 && closed && error.to_string() == "protocol error: line longer than 4 bytes",
            "lines: {count} frames, closed {closed}, {error}"
        );
        let (count, error, closed) = refused(
            DelimiterCodec::new(b";").max_frame_size(2),
            b"ok;far too long",
        )
        .await?;
        ensure!(
            count == 1
                && closed
                && error.to_string() == "protocol error: frame longer than 2 bytes",
            "delimiter: {count} frames, closed {closed}, {error}"
        );
        Ok(())
    })
}

fn framed_pipe() -> Result<(), String> {
    use weir::codec::{LengthPrefixedCodec, Prefix};

    within_limit(async {
        let (a_to_b, b_to_a) = (
            Channel::<bytes::Bytes>::new(2),
            Channel::<bytes::Bytes>::new(2),
        );
        let codec = LengthPrefixedCodec::new(Prefix::Varint);
        let mut a = weir::codec::framed(
            stream::splice(a_to_b.clone(), b_to_a.clone()),
            codec.clone(),
        );
        let mut b = weir::codec::framed(stream::splice(b_to_a, a_to_b), codec);
        let server = runtime::spawn(async move {
            while let Some(request) = b.next().await {
                let reply = [&b"echo "[..], &request].concat();
                b.send(bytes::Bytes::from(reply)).await?;
            }
            Ok::<_, Error>(())
        });
        for i in 0..100 {
            a.send(bytes::Bytes::from(format!("{i}")))
                .await
                .map_err(unexpected)?;
            let reply = a.next().await.ok_or("the connection ended")?;
            ensure!(reply == format!("echo {i}"), "reply {reply:?} to {i}");
        }
        Source::close(&a);
        server.await.map_err(unexpected)?;
        ensure!(
            a.drained().await.is_ok(),
            "the connection did not end cleanly"
        );
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// udp

#[cfg(feature = "udp")]
const UDP: &[(&str, Check)] = &[
    (
        "a round trip between two sockets on loopback",
        udp_checks::round_trip,
    ),
    (
        "put_to sends to a host name, resolved to the socket's family",
        udp_checks::by_name,
    ),
    (
        "an oversize datagram is refused on its put; the socket still works",
        udp_checks::oversize,
    ),
    (
        "connect: an echo server is its inbound side mapped into its outbound side",
        udp_checks::echo,
    ),
    (
        "closing ends a pending take and closes the operating-system socket",
        udp_checks::closing,
    ),
];

#[cfg(feature = "udp")]
mod udp_checks {
    use weir::runtime;
    use weir::stream::{self, Channel, ConnectOptions, Source, SourceExt};
    use weir::udp::{self, Datagram, DatagramTooLarge, MAX_PAYLOAD_V4, SocketOptions, UdpSocket};

    use super::{LIMIT, unexpected, within_limit};

    async fn open(options: SocketOptions) -> Result<UdpSocket, String> {
        udp::socket(options.address(([127, 0, 0, 1], 0)))
            .await
            .map_err(unexpected)
    }

    /// The next inbound datagram, or a failure after `LIMIT` or at the socket's end.
    async fn take(socket: &UdpSocket) -> Result<Datagram, String> {
        runtime::timeout(LIMIT, UdpSocket::take_next(socket))
            .await
            .map_err(|_| format!("no datagram within {LIMIT:?}"))?
            .ok_or_else(|| "the socket ended".to_string())
    }

    pub(super) fn round_trip() -> Result<(), String> {
        within_limit(async {
            let server = open(SocketOptions::new()).await?;
            let client = open(SocketOptions::new()).await?;
            ensure!(
                server.local_addr().ip().is_loopback() && server.local_addr().port() != 0,
                "bound to {}",
                server.local_addr()
            );
            client
                .put(Datagram::new(server.local_addr(), "ping"))
                .await
                .map_err(unexpected)?;
            let request = take(&server).await?;
            ensure!(
                request.peer == client.local_addr() && request.payload == "ping",
                "the server got {request:?}"
            );
            server
                .put(Datagram::new(request.peer, "pong"))
                .await
                .map_err(unexpected)?;
            let reply = take(&client).await?;
            ensure!(
                reply.peer == server.local_addr() && reply.payload == "pong",
                "the client got {reply:?}"
            );
            Ok(())
        })
    }

    pub(super) fn by_name() -> Result<(), String> {
        within_limit(async {
            let server = open(SocketOptions::new()).await?;
            let client = open(SocketOptions::new()).await?;
            let port = server.local_addr().port();
            client
                .put_to("localhost", port, "by name")
                .await
                .map_err(unexpected)?;
            let got = take(&server).await?;
            ensure!(got.payload == "by name", "the server got {got:?}");
            let refused = client.put_to("::1", port, "v6").await;
            ensure!(
                refused.is_err(),
                "an IPv4 socket accepted an IPv6 destination"
            );
            Ok(())
        })
    }

    pub(super) fn oversize() -> Result<(), String> {
        within_limit(async {
            let socket = open(SocketOptions::new()).await?;
            let me = socket.local_addr();
            let error = socket
                .put(Datagram::new(me, vec![0; MAX_PAYLOAD_V4 + 1]))
                .await
                .err()
                .ok_or("an oversize datagram was accepted")?;
            let too_large = error
                .downcast_ref::<DatagramTooLarge>()
                .ok_or_else(|| format!("not a DatagramTooLarge: {error}"))?;
            ensure!(
                (too_large.size(), too_large.limit(), too_large.peer())
                    == (MAX_PAYLOAD_V4 + 1, MAX_PAYLOAD_V4, me),
                "the error says {too_large:?}"
            );
            ensure!(
                error.to_string()
                    == format!(
                        "datagram of 65508 bytes to {me} is larger than the maximum UDP payload of 65507 bytes"
                    ),
                "the error says {error}"
            );
            socket
                .put(Datagram::new(me, vec![7; MAX_PAYLOAD_V4]))
                .await
                .map_err(unexpected)?;
            let largest = take(&socket).await?;
            ensure!(
                largest.len() == MAX_PAYLOAD_V4 && largest.payload.iter().all(|&b| b == 7),
                "the largest datagram came back as {} bytes",
                largest.len()
            );
            Ok(())
        })
    }

    pub(super) fn echo() -> Result<(), String> {
        within_limit(async {
            let server = open(SocketOptions::new()).await?;
            let shout = server.clone().map_each(|request: Datagram| {
                Datagram::new(request.peer, request.payload.to_ascii_uppercase())
            });
            let echo = stream::connect(shout, server.clone(), ConnectOptions::new());

            let client = open(SocketOptions::new()).await?;
            let to = server.local_addr();
            let words = ["hello", "udp", "echo"];
            let requests = stream::iter(words.map(|word| Datagram::new(to, word)));
            stream::connect(
                requests,
                client.clone(),
                ConnectOptions::new().downstream(false),
            );
            let replies = Channel::new(8);
            stream::connect(client.clone(), replies.clone(), ConnectOptions::new());
            for word in words {
                let reply = super::take_within(&replies)
                    .await?
                    .ok_or("the replies ended")?;
                ensure!(
                    reply.payload == word.to_ascii_uppercase() && reply.peer == to,
                    "the reply to {word:?} is {reply:?}"
                );
            }
            server.close();
            echo.await.map_err(unexpected)?;
            client.close();
            ensure!(
                super::take_within(&replies).await?.is_none(),
                "the replies were not closed with the client"
            );
            Ok(())
        })
    }

    pub(super) fn closing() -> Result<(), String> {
        within_limit(async {
            let socket = open(SocketOptions::new()).await?;
            let address = socket.local_addr();
            let waiting = {
                let socket = socket.clone();
                runtime::spawn(async move { UdpSocket::take_next(&socket).await })
            };
            socket.close();
            ensure!(waiting.await.is_none(), "a pending take got a datagram");
            ensure!(
                socket
                    .put(Datagram::new(address, "late"))
                    .await
                    .is_err_and(|e| e.is_closed()),
                "a put after close was accepted"
            );
            socket.socket_closed().await.map_err(unexpected)?;
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// tcp

#[cfg(feature = "tcp")]
const TCP: &[(&str, Check)] = &[
    (
        "an echo round trip on loopback",
        tcp_checks::echo_round_trip,
    ),
    (
        "many concurrent clients each get their own bytes back",
        tcp_checks::many_clients,
    ),
    (
        "a slow consumer stops the reading: the inbound buffer stays at its capacity",
        tcp_checks::backpressure,
    ),
    (
        "half-close: the server reads to the end and still answers",
        tcp_checks::half_close,
    ),
    (
        "a refused connection is an I/O error naming the address",
        tcp_checks::refused,
    ),
];

#[cfg(feature = "tcp")]
mod tcp_checks {
    use std::sync::mpsc;

    use futures::SinkExt;
    use weir::stream::{self, ConnectOptions, Description, Source};
    use weir::tcp::{self, ClientOptions, Server, ServerOptions, TcpConnection};

    use super::{LIMIT, unexpected, within_limit};

    fn localhost() -> ServerOptions {
        ServerOptions::new().address(([127, 0, 0, 1], 0))
    }

    async fn echo_server() -> Result<Server, String> {
        let echo = |c: TcpConnection| {
            stream::connect(c.clone(), c, ConnectOptions::new());
        };
        tcp::start_server(echo, localhost())
            .await
            .map_err(unexpected)
    }

    /// A server that hands each accepted connection over.
    async fn handing_server(
        options: ServerOptions,
    ) -> Result<(Server, mpsc::Receiver<TcpConnection>), String> {
        let (tx, rx) = mpsc::channel();
        let server = tcp::start_server(
            move |c| {
                let _ = tx.send(c);
            },
            options,
        )
        .await
        .map_err(unexpected)?;
        Ok((server, rx))
    }

    async fn connect(server: &Server) -> Result<TcpConnection, String> {
        tcp::client(ClientOptions::new().remote_address(server.local_addr()))
            .await
            .map_err(unexpected)
    }

    /// Takes from `connection` until `n` bytes arrived, each take bounded by `LIMIT`.
    async fn read_exactly(connection: &TcpConnection, n: usize) -> Result<Vec<u8>, String> {
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            let chunk = weir::runtime::timeout(LIMIT, connection.take_next())
                .await
                .map_err(|_| format!("no bytes within {LIMIT:?} after {}", got.len()))?
                .ok_or_else(|| format!("the connection ended after {} bytes", got.len()))?;
            got.extend_from_slice(&chunk);
        }
        Ok(got)
    }

    /// The description of the connection's channel behind `edge` (`sink` or `source`).
    fn channel(connection: &TcpConnection, edge: &str) -> Result<Description, String> {
        Source::node(connection)
            .downstream()
            .into_iter()
            .find(|e| e.description.as_deref() == Some(edge))
            .map(|e| e.target.description())
            .ok_or_else(|| format!("no {edge} edge in the graph"))
    }

    pub(super) fn echo_round_trip() -> Result<(), String> {
        within_limit(async {
            let server = echo_server().await?;
            let client = connect(&server).await?;
            client.put("marco").await.map_err(unexpected)?;
            let echoed = read_exactly(&client, 5).await?;
            ensure!(echoed == b"marco", "echoed {echoed:?}");
            ensure!(
                Source::description(&client).kind == "tcp"
                    && client.info().remote_addr() == server.local_addr(),
                "the connection says {:?}",
                client.info()
            );
            Source::close(&client);
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn many_clients() -> Result<(), String> {
        within_limit(async {
            let server = echo_server().await?;
            let clients: Vec<_> = (0..16u8)
                .map(|i| {
                    let address = server.local_addr();
                    weir::runtime::spawn(async move {
                        let client = tcp::client(ClientOptions::new().remote_address(address))
                            .await
                            .map_err(unexpected)?;
                        let data: Vec<u8> = (0..20_000u32).map(|n| (n as u8) ^ i).collect();
                        for chunk in data.chunks(1000) {
                            client.put(chunk.to_vec()).await.map_err(unexpected)?;
                        }
                        let got = read_exactly(&client, data.len()).await?;
                        ensure!(got == data, "client {i} got other bytes back");
                        Source::close(&client);
                        Ok::<_, String>(())
                    })
                })
                .collect();
            for client in clients {
                client.await?;
            }
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn backpressure() -> Result<(), String> {
        within_limit(async {
            let options = localhost().inbound_buffer(2).read_chunk_size(4096);
            let (server, accepted) = handing_server(options).await?;
            let client = connect(&server).await?;
            let slow = accepted.recv_timeout(LIMIT).map_err(unexpected)?;
            ensure!(
                channel(&client, "sink")?.buffer_capacity == Some(64),
                "the outbound queue is not the short one (64 messages) gathered into writes"
            );
            const TOTAL: usize = 1 << 20;
            let writer = {
                let client = client.clone();
                weir::runtime::spawn(async move {
                    for _ in 0..TOTAL / 16384 {
                        client.put(vec![7u8; 16384]).await?;
                    }
                    Ok::<_, weir::Error>(())
                })
            };
            // Nothing taken: the inbound buffer fills to its capacity and reading stops there.
            loop {
                let buffered = channel(&slow, "source")?.buffer_size.unwrap_or(0);
                ensure!(buffered <= 2, "{buffered} chunks buffered, capacity 2");
                if buffered == 2 {
                    break;
                }
                futures_lite::future::yield_now().await;
            }
            let mut received = 0;
            while received < TOTAL {
                let chunk = weir::runtime::timeout(LIMIT, slow.take_next())
                    .await
                    .map_err(unexpected)?
                    .ok_or("the connection ended early")?;
                received += chunk.len();
                let buffered = channel(&slow, "source")?.buffer_size.unwrap_or(0);
                ensure!(
                    chunk.len() <= 4096 && buffered <= 2,
                    "a chunk of {} bytes, {buffered} chunks buffered",
                    chunk.len()
                );
            }
            writer.await.map_err(unexpected)?;
            Source::close(&client);
            Source::close(&slow);
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn half_close() -> Result<(), String> {
        within_limit(async {
            let (server, accepted) = handing_server(localhost()).await?;
            let mut client = connect(&server).await?;
            let on_server = accepted.recv_timeout(LIMIT).map_err(unexpected)?;
            client.send("question").await.map_err(unexpected)?;
            SinkExt::<&str>::close(&mut client)
                .await
                .map_err(unexpected)?;
            let request = weir::bytes::to_bytes(on_server.clone(), 1024)
                .await
                .map_err(unexpected)?;
            ensure!(request == "question", "the server read {request:?}");
            ensure!(
                Source::drained(&on_server).await.is_ok(),
                "the half-close did not drain the server's side cleanly"
            );
            on_server.put("answer").await.map_err(unexpected)?;
            Source::close(&on_server);
            let reply = weir::bytes::to_bytes(client.clone(), 1024)
                .await
                .map_err(unexpected)?;
            ensure!(reply == "answer", "the client read {reply:?}");
            client.socket_closed().await.map_err(unexpected)?;
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn refused() -> Result<(), String> {
        within_limit(async {
            let address = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .map_err(unexpected)?;
            let error = tcp::client(ClientOptions::new().remote_address(address))
                .await
                .err()
                .ok_or("connected to a port nothing listens on")?;
            let kind = std::error::Error::source(&error)
                .and_then(|e| e.downcast_ref::<std::io::Error>())
                .map(std::io::Error::kind);
            ensure!(
                error.is_io()
                    && error.to_string().contains(&address.to_string())
                    && kind == Some(std::io::ErrorKind::ConnectionRefused),
                "the error says {error} ({kind:?})"
            );
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------------------------
// tls

#[cfg(feature = "tls")]
const TLS: &[(&str, Check)] = &[
    (
        "an echo over TLS with a self-signed certificate",
        tls_checks::echo,
    ),
    (
        "the negotiated ALPN protocol is in the connection info on both sides",
        tls_checks::alpn,
    ),
    (
        "an untrusted certificate is refused with a clear error",
        tls_checks::untrusted,
    ),
];

#[cfg(feature = "tls")]
mod tls_checks {
    use std::sync::mpsc;

    use weir::stream::{self, ConnectOptions, Source};
    use weir::tcp::{self, ClientOptions, Server, ServerOptions, TcpConnection};
    use weir::tls::{self, ClientConfig, SelfSigned};

    use super::{LIMIT, unexpected, within_limit};

    /// A TLS echo server for `certificate` offering `alpn`; accepted connections are sent on.
    async fn echo_server(
        certificate: &SelfSigned,
        alpn: &[&str],
    ) -> Result<(Server, mpsc::Receiver<TcpConnection>), String> {
        let (tx, rx) = mpsc::channel();
        let config = certificate
            .server_config()
            .with_alpn_protocols(alpn.iter().copied());
        let options = ServerOptions::new()
            .address(([127, 0, 0, 1], 0))
            .tls(config);
        let echo = move |c: TcpConnection| {
            let _ = tx.send(c.clone());
            stream::connect(c.clone(), c, ConnectOptions::new());
        };
        let server = tcp::start_server(echo, options).await.map_err(unexpected)?;
        Ok((server, rx))
    }

    fn certificate() -> Result<SelfSigned, String> {
        tls::self_signed(&["localhost"]).map_err(unexpected)
    }

    pub(super) fn echo() -> Result<(), String> {
        within_limit(async {
            let certificate = certificate()?;
            let (server, _accepted) = echo_server(&certificate, &[]).await?;
            let options = ClientOptions::new()
                .host("localhost")
                .port(server.local_addr().port())
                .tls(certificate.client_config_trusting_it());
            let client = tcp::client(options).await.map_err(unexpected)?;
            let message = "hello over TLS";
            client.put(message).await.map_err(unexpected)?;
            let mut echoed = Vec::new();
            while echoed.len() < message.len() {
                let chunk = weir::runtime::timeout(LIMIT, client.take_next())
                    .await
                    .map_err(unexpected)?
                    .ok_or("the connection ended")?;
                echoed.extend_from_slice(&chunk);
            }
            ensure!(echoed == message.as_bytes(), "echoed {echoed:?}");
            ensure!(
                client.info().tls_protocol_version() == Some("TLSv1.3"),
                "the info says {:?}",
                client.info()
            );
            Source::close(&client);
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn alpn() -> Result<(), String> {
        within_limit(async {
            let certificate = certificate()?;
            let (server, accepted) = echo_server(&certificate, &["h2", "http/1.1"]).await?;
            let config = certificate
                .client_config_trusting_it()
                .with_alpn_protocols(["http/1.1"]);
            let options = ClientOptions::new()
                .remote_address(server.local_addr())
                .tls(config)
                .tls_server_name("localhost");
            let client = tcp::client(options).await.map_err(unexpected)?;
            let on_server = accepted.recv_timeout(LIMIT).map_err(unexpected)?;
            for (side, info) in [("client", client.info()), ("server", on_server.info())] {
                ensure!(
                    info.alpn_protocol() == Some(&b"http/1.1"[..]),
                    "the {side} agreed on {:?}",
                    info.alpn_protocol()
                );
            }
            ensure!(
                client
                    .info()
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    == Some(&bytes::Bytes::copy_from_slice(
                        certificate.certificate_der()
                    )),
                "the client does not have the server's certificate"
            );
            Source::close(&client);
            drop(on_server);
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn untrusted() -> Result<(), String> {
        within_limit(async {
            let certificate = certificate()?;
            let (server, _accepted) = echo_server(&certificate, &[]).await?;
            let options = ClientOptions::new()
                .host("localhost")
                .port(server.local_addr().port())
                .tls(ClientConfig::default()); // webpki roots: a self-signed certificate is unknown
            let error = tcp::client(options)
                .await
                .err()
                .ok_or("connected to a server nobody vouches for")?;
            let message = error.to_string();
            ensure!(
                error.is_protocol()
                    && message.contains("TLS handshake failed")
                    && message.contains("UnknownIssuer"),
                "the error says {message}"
            );
            // The server's side of the failed handshake ends a moment after the client's:
            // wait for it, within a bound.
            for _ in 0..200 {
                if server.connection_count() == 0 {
                    break;
                }
                weir::runtime::sleep(std::time::Duration::from_millis(10)).await;
            }
            ensure!(
                server.connection_count() == 0,
                "the server kept a connection"
            );
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }
}

#[cfg(all(feature = "http2", feature = "tls"))]
const HTTP: &[(&str, Check)] = &[
    (
        "every route over HTTP/1.1 (hyper's client)",
        http_checks::over_http1,
    ),
    (
        "every route over HTTP/2 with TLS, h2 chosen by ALPN (the h2 crate's client)",
        http_checks::over_h2_tls,
    ),
    (
        "every route over h2c, HTTP/2 by prior knowledge (the h2 crate's client)",
        http_checks::over_h2c,
    ),
    (
        "an HTTP/1.1 `Upgrade: h2c` gets 101, then the server's HTTP/2 SETTINGS",
        http_checks::h2c_upgrade,
    ),
    (
        "a file's ETag revalidates: If-None-Match gets 304, If-Range keeps the range",
        http_checks::conditional_file,
    ),
];

/// A few routes of `examples/http_server.rs`, served by one handler over HTTP/1.1, HTTP/2 over
/// TLS and h2c, each checked with an independent client.
#[cfg(all(feature = "http2", feature = "tls"))]
mod http_checks {
    use std::net::SocketAddr;
    use std::time::Duration;

    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    use tokio_util::compat::FuturesAsyncReadCompatExt;
    use weir::Deferred;
    use weir::http::{
        self, Body, HeaderMap, HeaderValue, HttpError, HttpVersion, Request, Response,
        ServerOptions, StatusCode, header,
    };
    use weir::stream::{self, SourceExt};
    use weir::tls::{self, SelfSigned};

    use super::{unexpected, within_limit};

    /// The routes: `/`, `POST /echo`, `/stream?n=N`, `/delay?ms=M` (through a deferred),
    /// `/status/CODE`, `/headers` (as JSON), `/trailers`.
    fn route(request: Request<Body>) -> Deferred<Response<Body>, weir::Error> {
        let path = request.uri().path().to_string();
        let number = |name: &str, default: u64| {
            request
                .uri()
                .query()
                .unwrap_or("")
                .split('&')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .and_then(|value| value.parse().ok())
                .unwrap_or(default)
        };
        match (request.method().as_str(), path.as_str()) {
            ("GET", "/") => Deferred::succeeded(Response::new(Body::from("hello!"))),
            ("POST", "/echo") => Deferred::spawn(async move {
                let body = request.into_body().to_bytes(1 << 20).await?;
                Ok(Response::new(Body::from(body)))
            }),
            ("GET", "/stream") => {
                let n = number("n", 3) as usize;
                let mut i = 0;
                let chunks = stream::periodically(Duration::from_millis(1), move || {
                    i += 1;
                    Ok::<_, weir::Error>(format!("chunk {}\n", i - 1))
                })
                .transform(stream::xform::take(n));
                Deferred::succeeded(Response::new(Body::from_source(chunks)))
            }
            ("GET", "/delay") => Deferred::new()
                .timeout_with(Duration::from_millis(number("ms", 10)), "hello!")
                .map(|text| Response::new(Body::from(text))),
            ("GET", "/headers") => {
                let mut object = serde_json::Map::new();
                for (name, value) in request.headers() {
                    let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                    object.insert(name.to_string(), serde_json::Value::String(value));
                }
                let json = serde_json::Value::Object(object).to_string();
                Deferred::succeeded(Response::new(Body::from(json)))
            }
            ("GET", "/trailers") => {
                let mut trailers = HeaderMap::new();
                trailers.insert("x-checksum", HeaderValue::from_static("c0ffee"));
                let body = Body::from_source(stream::iter(vec!["a body, then trailers"]))
                    .with_trailers(Deferred::succeeded(trailers));
                let mut response = Response::new(body);
                response
                    .headers_mut()
                    .insert(header::TRAILER, HeaderValue::from_static("x-checksum"));
                Deferred::succeeded(response)
            }
            ("GET", status) if status.starts_with("/status/") => {
                match status["/status/".len()..]
                    .parse::<u16>()
                    .ok()
                    .and_then(|code| StatusCode::from_u16(code).ok())
                {
                    Some(status) => {
                        let mut response = Response::new(Body::empty());
                        *response.status_mut() = status;
                        Deferred::succeeded(response)
                    }
                    None => Deferred::failed(
                        HttpError::new(StatusCode::BAD_REQUEST, "bad status code").into(),
                    ),
                }
            }
            _ => Deferred::failed(HttpError::new(StatusCode::NOT_FOUND, "no such route").into()),
        }
    }

    /// What a client saw: status, body, trailers.
    type Seen = (u16, Bytes, Option<HeaderMap>);

    /// The clients of the three protocols.
    enum Client {
        Http1(SocketAddr),
        H2(h2::client::SendRequest<Bytes>, &'static str),
    }

    impl Client {
        async fn fetch(
            &self,
            method: &str,
            path: &str,
            body: &'static str,
        ) -> Result<Seen, String> {
            match self {
                Client::Http1(addr) => {
                    let tcp = async_net::TcpStream::connect(addr)
                        .await
                        .map_err(unexpected)?;
                    let (mut sender, connection) =
                        hyper::client::conn::http1::handshake(TokioIo::new(tcp.compat()))
                            .await
                            .map_err(unexpected)?;
                    weir::runtime::spawn(connection).detach();
                    let request = hyper::Request::builder()
                        .method(method)
                        .uri(path)
                        .header("host", "localhost")
                        .header("te", "trailers")
                        .header("x-tour", "http")
                        .body(Full::new(Bytes::from_static(body.as_bytes())))
                        .map_err(unexpected)?;
                    let response = sender.send_request(request).await.map_err(unexpected)?;
                    let status = response.status().as_u16();
                    let collected = response.into_body().collect().await.map_err(unexpected)?;
                    let trailers = collected.trailers().cloned();
                    Ok((status, collected.to_bytes(), trailers))
                }
                Client::H2(client, scheme) => {
                    let mut client = client.clone().ready().await.map_err(unexpected)?;
                    let request = hyper::Request::builder()
                        .method(method)
                        .uri(format!("{scheme}://localhost{path}"))
                        .header("x-tour", "http")
                        .body(())
                        .map_err(unexpected)?;
                    let (response, mut send) = client
                        .send_request(request, body.is_empty())
                        .map_err(unexpected)?;
                    if !body.is_empty() {
                        send.send_data(Bytes::from_static(body.as_bytes()), true)
                            .map_err(unexpected)?;
                    }
                    let (parts, mut stream) = response.await.map_err(unexpected)?.into_parts();
                    let mut data = Vec::new();
                    while let Some(chunk) = stream.data().await {
                        let chunk = chunk.map_err(unexpected)?;
                        let _ = stream.flow_control().release_capacity(chunk.len());
                        data.extend_from_slice(&chunk);
                    }
                    let trailers = stream.trailers().await.map_err(unexpected)?;
                    Ok((parts.status.as_u16(), Bytes::from(data), trailers))
                }
            }
        }
    }

    /// Asks every route through `client`; the first route that answered wrong.
    async fn every_route(client: &Client) -> Result<(), String> {
        let expect = |what: &str, seen: Seen, status: u16, body: &str| {
            if seen.0 == status && seen.1 == body {
                Ok(())
            } else {
                Err(format!("{what}: expected {status} {body:?}, got {seen:?}"))
            }
        };
        expect("GET /", client.fetch("GET", "/", "").await?, 200, "hello!")?;
        expect(
            "POST /echo",
            client.fetch("POST", "/echo", "echo me").await?,
            200,
            "echo me",
        )?;
        expect(
            "GET /stream?n=3",
            client.fetch("GET", "/stream?n=3", "").await?,
            200,
            "chunk 0\nchunk 1\nchunk 2\n",
        )?;
        expect(
            "GET /delay?ms=10",
            client.fetch("GET", "/delay?ms=10", "").await?,
            200,
            "hello!",
        )?;
        expect(
            "GET /status/418",
            client.fetch("GET", "/status/418", "").await?,
            418,
            "",
        )?;
        expect(
            "GET /nowhere",
            client.fetch("GET", "/nowhere", "").await?,
            404,
            "no such route",
        )?;
        let headers = client.fetch("GET", "/headers", "").await?;
        let json: serde_json::Value = serde_json::from_slice(&headers.1).map_err(unexpected)?;
        ensure!(
            headers.0 == 200 && json["x-tour"] == "http",
            "GET /headers: got {headers:?}"
        );
        let trailers = client.fetch("GET", "/trailers", "").await?;
        ensure!(
            trailers.1 == "a body, then trailers"
                && trailers
                    .2
                    .as_ref()
                    .and_then(|t| t.get("x-checksum"))
                    .is_some_and(|v| v == "c0ffee"),
            "GET /trailers: got {trailers:?}"
        );
        Ok(())
    }

    pub(super) fn over_http1() -> Result<(), String> {
        within_limit(async {
            let options = ServerOptions::new().address(([127, 0, 0, 1], 0));
            let server = http::start_server(route, options)
                .await
                .map_err(unexpected)?;
            let outcome = every_route(&Client::Http1(server.local_addr())).await;
            server.close().await.map_err(unexpected)?;
            outcome
        })
    }

    pub(super) fn over_h2_tls() -> Result<(), String> {
        within_limit(async {
            let certificate: SelfSigned = tls::self_signed(&["localhost"]).map_err(unexpected)?;
            let options = ServerOptions::new()
                .address(([127, 0, 0, 1], 0))
                .tls(certificate.server_config())
                .http_versions([HttpVersion::Http2, HttpVersion::Http1]);
            let server = http::start_server(route, options)
                .await
                .map_err(unexpected)?;
            let tcp = async_net::TcpStream::connect(server.local_addr())
                .await
                .map_err(unexpected)?;
            let config = certificate
                .client_config_trusting_it()
                .with_alpn_protocols(["h2", "http/1.1"]);
            let stream = tls::connect(&config, "localhost", tcp)
                .await
                .map_err(unexpected)?;
            ensure!(
                stream.session_info().alpn_protocol() == Some(&b"h2"[..]),
                "ALPN agreed on {:?}",
                stream.session_info().alpn_protocol()
            );
            let (client, connection) = h2::client::handshake(stream.compat())
                .await
                .map_err(unexpected)?;
            weir::runtime::spawn(async move {
                let _ = connection.await;
            })
            .detach();
            let outcome = every_route(&Client::H2(client, "https")).await;
            server.close().await.map_err(unexpected)?;
            outcome
        })
    }

    /// A server with `use_h2c` on the tour's routes, and a plain TCP socket connected to it.
    async fn h2c_server_and_socket() -> Result<(http::Server, async_net::TcpStream), String> {
        let options = ServerOptions::new()
            .address(([127, 0, 0, 1], 0))
            .use_h2c(true);
        let server = http::start_server(route, options)
            .await
            .map_err(unexpected)?;
        let tcp = async_net::TcpStream::connect(server.local_addr())
            .await
            .map_err(unexpected)?;
        Ok((server, tcp))
    }

    pub(super) fn h2c_upgrade() -> Result<(), String> {
        use futures_lite::{AsyncReadExt, AsyncWriteExt};
        within_limit(async {
            let (server, mut tcp) = h2c_server_and_socket().await?;
            tcp.write_all(
                b"GET / HTTP/1.1\r\nhost: tour\r\nconnection: Upgrade, HTTP2-Settings\r\n\
                  upgrade: h2c\r\nhttp2-settings: AAMAAABk\r\n\r\n",
            )
            .await
            .map_err(unexpected)?;
            let mut read = Vec::new();
            let mut chunk = [0u8; 1024];
            while !read.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = tcp.read(&mut chunk).await.map_err(unexpected)?;
                ensure!(n > 0, "the server closed before answering the upgrade");
                read.extend_from_slice(&chunk[..n]);
            }
            ensure!(
                read.starts_with(b"HTTP/1.1 101 "),
                "the upgrade was answered {:?}",
                String::from_utf8_lossy(&read)
            );
            let head_end = read.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
            let mut frames = read.split_off(head_end);
            // The client's preface and an empty SETTINGS; the server's first frame is SETTINGS.
            tcp.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
                .await
                .map_err(unexpected)?;
            while frames.len() < 9 {
                let n = tcp.read(&mut chunk).await.map_err(unexpected)?;
                ensure!(n > 0, "the server closed before its HTTP/2 preface");
                frames.extend_from_slice(&chunk[..n]);
            }
            ensure!(
                frames[3] == 4,
                "the first HTTP/2 frame was of type {}",
                frames[3]
            );
            drop(tcp);
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn conditional_file() -> Result<(), String> {
        within_limit(async {
            let path = std::env::temp_dir().join(format!("weir-tour-{}.txt", std::process::id()));
            std::fs::write(&path, "0123456789").map_err(unexpected)?;
            let served = path.clone();
            let handler = move |request: Request<Body>| http::serve_file(&request, &served);
            let server =
                http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
                    .await
                    .map_err(unexpected)?;
            let url = format!("http://{}/file.txt", server.local_addr());
            let first = http::get(&url).await.map_err(unexpected)?;
            let etag = first
                .headers()
                .get(header::ETAG)
                .cloned()
                .ok_or("no ETag on a file")?;
            drop(first);
            let again = http::request(
                http::ClientRequest::new(http::Method::GET, &url)
                    .header(header::IF_NONE_MATCH, etag.clone()),
            )
            .await
            .map_err(unexpected)?;
            ensure!(
                again.status() == StatusCode::NOT_MODIFIED,
                "If-None-Match got {}",
                again.status()
            );
            let ranged = http::request(
                http::ClientRequest::new(http::Method::GET, &url)
                    .header(header::RANGE, "bytes=2-4")
                    .header(header::IF_RANGE, etag),
            )
            .await
            .map_err(unexpected)?;
            ensure!(
                ranged.status() == StatusCode::PARTIAL_CONTENT,
                "If-Range got {}",
                ranged.status()
            );
            let text = ranged.into_body().to_string(64).await.map_err(unexpected)?;
            ensure!(text == "234", "the range was {text:?}");
            server.close().await.map_err(unexpected)?;
            let _ = std::fs::remove_file(&path);
            Ok(())
        })
    }

    pub(super) fn over_h2c() -> Result<(), String> {
        within_limit(async {
            let (server, tcp) = h2c_server_and_socket().await?;
            let (client, connection) = h2::client::handshake(tcp.compat())
                .await
                .map_err(unexpected)?;
            weir::runtime::spawn(async move {
                let _ = connection.await;
            })
            .detach();
            let outcome = every_route(&Client::H2(client, "http")).await;
            server.close().await.map_err(unexpected)?;
            outcome
        })
    }
}

#[cfg(all(feature = "http2", feature = "json", feature = "compression"))]
const HTTP_CLIENT: &[(&str, Check)] = &[
    (
        "GET, and a POST of JSON echoed back",
        client_checks::get_and_json,
    ),
    (
        "a streamed download, chunk by chunk as sent",
        client_checks::streaming_download,
    ),
    (
        "redirects followed with the cookies they set",
        client_checks::redirects_with_cookies,
    ),
    (
        "a multipart upload, and a gzip response decoded",
        client_checks::multipart_and_gzip,
    ),
    (
        "HTTP/2 multiplexing: 16 requests on one connection",
        client_checks::http2_multiplexing,
    ),
    (
        "a cancelled request, and the pool's statistics",
        client_checks::cancel_and_stats,
    ),
];

/// weir's HTTP client against weir's server.
#[cfg(all(feature = "http2", feature = "json", feature = "compression"))]
mod client_checks {
    use std::sync::Arc;
    use std::time::Duration;

    use weir::http::client::{CookieJar, Multipart, RedirectTrace, ResponseExt};
    use weir::http::{
        self, Body, Client, ClientOptions, ClientRequest, Compression, HttpVersion, Method,
        Request, Response, Server, ServerOptions, StatusCode,
    };
    use weir::stream::Channel;

    use super::{unexpected, within_limit};

    async fn site() -> Result<Server, String> {
        let handler = |request: Request<Body>| async move {
            let path = request.uri().path().to_string();
            let mut response = match path.as_str() {
                "/echo" => {
                    let content_type = request.headers().get("content-type").cloned();
                    let body = request.into_body().to_bytes(1 << 20).await?;
                    let mut response = Response::new(Body::from(body));
                    if let Some(content_type) = content_type {
                        response.headers_mut().insert("content-type", content_type);
                    }
                    response
                }
                "/login" => {
                    let mut response = Response::new(Body::empty());
                    *response.status_mut() = StatusCode::FOUND;
                    response
                        .headers_mut()
                        .insert("location", "/home".parse().unwrap());
                    response
                        .headers_mut()
                        .insert("set-cookie", "session=tour; Path=/".parse().unwrap());
                    response
                }
                "/home" => {
                    let cookie = request.headers().get("cookie").cloned();
                    Response::new(Body::from(format!("{cookie:?}")))
                }
                "/upload" => {
                    let content_type = request.headers()["content-type"]
                        .to_str()
                        .unwrap()
                        .to_string();
                    let body = request.into_body().to_bytes(1 << 20).await?;
                    Response::new(Body::from(format!(
                        "{} bytes as {}",
                        body.len(),
                        &content_type[..19]
                    )))
                }
                "/text" => Response::new(Body::from("compressible ".repeat(500))),
                "/slow" => {
                    weir::runtime::sleep(Duration::from_secs(3600)).await;
                    Response::new(Body::empty())
                }
                _ => Response::new(Body::from("hello!")),
            };
            response
                .headers_mut()
                .insert("x-path", path.parse().unwrap());
            Ok::<_, weir::Error>(response)
        };
        let options = ServerOptions::new()
            .address(([127, 0, 0, 1], 0))
            .use_h2c(true)
            .compression(Compression::new())
            .shutdown_timeout(Duration::from_millis(100));
        http::start_server(handler, options)
            .await
            .map_err(unexpected)
    }

    fn url(server: &Server, path: &str) -> String {
        format!("http://{}{path}", server.local_addr())
    }

    pub(super) fn get_and_json() -> Result<(), String> {
        within_limit(async {
            let server = site().await?;
            let hello = http::get(url(&server, "/")).await.map_err(unexpected)?;
            let text = hello.text(1024).await.map_err(unexpected)?;
            ensure!(text == "hello!", "GET said {text:?}");
            let value = serde_json::json!({"weir": ["deferreds", "streams"]});
            let request = ClientRequest::new(Method::POST, url(&server, "/echo")).json(&value);
            let echoed: serde_json::Value = http::request(request)
                .await
                .map_err(unexpected)?
                .json(1024)
                .await
                .map_err(unexpected)?;
            ensure!(echoed == value, "the JSON came back as {echoed}");
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn streaming_download() -> Result<(), String> {
        within_limit(async {
            let chunks: Channel<String> = Channel::new(1);
            let feed = chunks.clone();
            let handler = move |_: Request<Body>| Response::new(Body::from_source(feed.clone()));
            let server =
                http::start_server(handler, ServerOptions::new().address(([127, 0, 0, 1], 0)))
                    .await
                    .map_err(unexpected)?;
            let response = http::get(url(&server, "/")).await.map_err(unexpected)?;
            let mut body = response.into_body();
            // Each chunk arrives before the next is even put.
            for i in 0..3 {
                chunks
                    .put(format!("chunk {i}\n"))
                    .await
                    .map_err(unexpected)?;
                let got = futures_lite::StreamExt::next(&mut body).await;
                ensure!(
                    got.as_deref() == Some(format!("chunk {i}\n").as_bytes()),
                    "chunk {i} came as {got:?}"
                );
            }
            chunks.close();
            drop(body);
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn redirects_with_cookies() -> Result<(), String> {
        within_limit(async {
            let server = site().await?;
            let jar = Arc::new(CookieJar::new());
            let client = Client::with_options(ClientOptions::new().cookie_store(jar));
            let home = client
                .get(url(&server, "/login"))
                .await
                .map_err(unexpected)?;
            let hops = home
                .extensions()
                .get::<RedirectTrace>()
                .map_or(0, |t| t.urls().len());
            ensure!(hops == 1, "{hops} redirects");
            let text = home.text(1024).await.map_err(unexpected)?;
            ensure!(
                text == r#"Some("session=tour")"#,
                "the cookie came as {text}"
            );
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn multipart_and_gzip() -> Result<(), String> {
        within_limit(async {
            let server = site().await?;
            let form = Multipart::new().text("title", "tour").bytes(
                "file",
                "data.bin",
                "application/octet-stream",
                vec![7u8; 1000],
            );
            let request = ClientRequest::new(Method::POST, url(&server, "/upload")).multipart(form);
            let answer = http::request(request).await.map_err(unexpected)?;
            let text = answer.text(1024).await.map_err(unexpected)?;
            ensure!(
                text.starts_with("1") && text.ends_with("as multipart/form-data"),
                "the upload was {text}"
            );
            let text = http::get(url(&server, "/text")).await.map_err(unexpected)?;
            ensure!(
                text.headers().get("content-encoding").is_none(),
                "the body was not decoded"
            );
            let decoded = text.text(1 << 20).await.map_err(unexpected)?;
            ensure!(decoded.len() == 13 * 500, "decoded {} bytes", decoded.len());
            // Asked for as sent: gzip on the wire.
            let raw = Client::with_options(ClientOptions::new().decompress(false))
                .request(
                    ClientRequest::new(Method::GET, url(&server, "/text"))
                        .header("accept-encoding", "gzip"),
                )
                .await
                .map_err(unexpected)?;
            ensure!(
                raw.headers().get("content-encoding").map(|v| v.as_bytes()) == Some(b"gzip"),
                "the server did not compress"
            );
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn http2_multiplexing() -> Result<(), String> {
        within_limit(async {
            let server = site().await?;
            let client = Client::with_options(
                ClientOptions::new()
                    .http_versions([HttpVersion::Http2])
                    .force_h2c(true),
            );
            let pending: Vec<_> = (0..16).map(|_| client.get(url(&server, "/"))).collect();
            for response in pending {
                let response = response.await.map_err(unexpected)?;
                ensure!(response.version() == http::Version::HTTP_2, "not HTTP/2");
                response.bytes(64).await.map_err(unexpected)?;
            }
            let connects = client.stats().first().map_or(0, |host| host.connects);
            ensure!(connects == 1, "{connects} connections for 16 requests");
            server.close().await.map_err(unexpected)?;
            Ok(())
        })
    }

    pub(super) fn cancel_and_stats() -> Result<(), String> {
        within_limit(async {
            let server = site().await?;
            let client = Client::new();
            for _ in 0..3 {
                client
                    .get(url(&server, "/"))
                    .await
                    .map_err(unexpected)?
                    .bytes(64)
                    .await
                    .map_err(unexpected)?;
            }
            let slow = client.get(url(&server, "/slow"));
            slow.error(weir::Error::cancelled());
            let outcome = slow.await;
            ensure!(
                outcome.as_ref().is_err_and(weir::Error::is_cancelled),
                "the cancelled request ended with {:?}",
                outcome.map(|r| r.status())
            );
            let stats = client.stats();
            let host = stats.first().ok_or("no stats")?;
            ensure!(
                host.requests >= 3 && host.reused >= 2 && host.acquire_latency[2] > Duration::ZERO,
                "the pool says {host:?}"
            );
            drop(server.close());
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------------------
// ws: weir's WebSocket client against weir's WebSocket server.

#[cfg(feature = "ws")]
const WS: &[(&str, Check)] = &[
    ("an echo server is connect(socket, socket)", ws_checks::echo),
    ("a ping answered by a pong", ws_checks::ping),
    (
        "a close code and reason seen on the other side",
        ws_checks::close_code,
    ),
    (
        "an unanswered heartbeat closes with 1011",
        ws_checks::heartbeat_timeout,
    ),
    ("permessage-deflate negotiated", ws_checks::deflate),
];

#[cfg(feature = "ws")]
mod ws_checks {
    use std::time::Duration;

    use futures::{AsyncReadExt, AsyncWriteExt, SinkExt, StreamExt};
    use weir::http::{self, Body, IntoResponse, Request, Server, ServerOptions};
    use weir::stream::{self, Channel, ConnectOptions, Source};
    use weir::ws::{
        self, CloseFrame, DeflateOptions, Heartbeats, Message, WebSocket, WebSocketClientOptions,
        WebSocketOptions,
    };

    use super::{unexpected, within_limit};

    /// A server whose sockets echo, and are also handed to the check.
    async fn echo_server(
        options: WebSocketOptions,
    ) -> Result<(Server, Channel<WebSocket>), String> {
        let sockets = Channel::new(4);
        let handed = sockets.clone();
        let handler = move |mut request: Request<Body>| {
            let (options, handed) = (options.clone(), handed.clone());
            async move {
                let socket = ws::websocket_connection(&mut request, options).await?;
                // The echo ends with the close status as its cause when it is not a normal
                // one: observed here, so that it is not logged as an error nobody saw.
                let echoing =
                    stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
                echoing.on_realized(|_| {});
                let _ = handed.put(socket.clone()).await;
                socket.into_response()
            }
        };
        let options = ServerOptions::new().address(([127, 0, 0, 1], 0));
        let server = http::start_server(handler, options)
            .await
            .map_err(unexpected)?;
        Ok((server, sockets))
    }

    fn url(server: &Server) -> String {
        format!("ws://{}/", server.local_addr())
    }

    pub(super) fn echo() -> Result<(), String> {
        within_limit(async {
            let (server, _) = echo_server(WebSocketOptions::new()).await?;
            let mut socket = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
                .await
                .map_err(unexpected)?;
            socket.send("hello").await.map_err(unexpected)?;
            socket.send(vec![1u8, 2, 3]).await.map_err(unexpected)?;
            let (text, binary) = (socket.next().await, socket.next().await);
            ensure!(
                text == Some(Message::from("hello"))
                    && binary == Some(Message::from(vec![1u8, 2, 3])),
                "echoed {text:?} and {binary:?}"
            );
            drop(server.close());
            Ok(())
        })
    }

    pub(super) fn ping() -> Result<(), String> {
        within_limit(async {
            let (server, _) = echo_server(WebSocketOptions::new()).await?;
            let socket = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
                .await
                .map_err(unexpected)?;
            let ponged = socket.ping("are you there?").await.map_err(unexpected)?;
            ensure!(ponged, "no pong");
            drop(server.close());
            Ok(())
        })
    }

    pub(super) fn close_code() -> Result<(), String> {
        within_limit(async {
            let (server, sockets) = echo_server(WebSocketOptions::new()).await?;
            let client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
                .await
                .map_err(unexpected)?;
            let on_server = sockets.take_next().await.ok_or("no server socket")?;
            let started = client.close(4000, "see you").await.map_err(unexpected)?;
            ensure!(started, "the close was not this call's");
            let cause = on_server.drained().await.err().ok_or("drained cleanly")?;
            let status = cause.downcast_ref::<CloseFrame>().cloned();
            ensure!(
                status == Some(CloseFrame::new(4000, "see you")),
                "the server saw {status:?}"
            );
            drop(server.close());
            Ok(())
        })
    }

    pub(super) fn heartbeat_timeout() -> Result<(), String> {
        within_limit(async {
            let heartbeats =
                Heartbeats::new(Duration::from_millis(50)).timeout(Duration::from_millis(100));
            let (server, sockets) =
                echo_server(WebSocketOptions::new().heartbeats(heartbeats)).await?;
            // A peer that upgrades and then goes silent: it never answers the ping.
            let mut silent = async_net::TcpStream::connect(server.local_addr())
                .await
                .map_err(unexpected)?;
            silent
                .write_all(
                    b"GET / HTTP/1.1\r\nHost: tour\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                      Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                )
                .await
                .map_err(unexpected)?;
            let mut head = [0u8; 12];
            silent.read_exact(&mut head).await.map_err(unexpected)?;
            ensure!(head.starts_with(b"HTTP/1.1 101"), "no 101");
            let on_server = sockets.take_next().await.ok_or("no server socket")?;
            let cause = on_server.drained().await.err().ok_or("drained cleanly")?;
            let failed = on_server
                .description()
                .extra
                .iter()
                .any(|(key, value)| key == "failed" && value.starts_with("1011"));
            ensure!(cause.is_timeout() && failed, "ended with {cause}");
            drop(server.close());
            Ok(())
        })
    }

    pub(super) fn deflate() -> Result<(), String> {
        within_limit(async {
            let options = WebSocketOptions::new().compression(DeflateOptions::new());
            let (server, _) = echo_server(options).await?;
            let client_options = WebSocketClientOptions::new().compression(DeflateOptions::new());
            let mut socket = ws::websocket_client(&url(&server), client_options)
                .await
                .map_err(unexpected)?;
            ensure!(socket.is_compressed(), "no compression agreed");
            let text = "to compress, or not to compress ".repeat(100);
            socket.send(text.clone()).await.map_err(unexpected)?;
            let back = socket.next().await.and_then(|m| m.into_text().ok());
            ensure!(back.as_deref() == Some(text.as_str()), "echoed {back:?}");
            drop(server.close());
            Ok(())
        })
    }
}

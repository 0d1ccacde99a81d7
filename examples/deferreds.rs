//! A walk through weir's deferreds, printing what happens at each step: realizing and listening,
//! single owners and realizers, callbacks, chaining, recovering, `zip`/`alt`, timeouts,
//! `loop_fn`, spawned work and cancellation.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --example deferreds
//! ```
//!
//! The book's "Deferreds" chapter (`book/src/deferreds.md`) explains each step.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use weir::deferred::{Loop, loop_fn};
use weir::{Deferred, Error, deferred, runtime};

/// How long any step may wait before the example gives up.
const LIMIT: Duration = Duration::from_secs(5);

fn main() -> Result<(), Error> {
    // Some steps panic on purpose, to show weir catching it: print those panics in one line.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| info.payload().downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a non-string payload");
        println!("  (panic hook: {message:?})");
    }));
    let start = Instant::now();
    realize_and_listen()?;
    single_owner()?;
    callbacks();
    chaining()?;
    recovering()?;
    zip_and_alt()?;
    timeouts()?;
    loops()?;
    spawned_work()?;
    cancellation()?;
    println!("\nall done in {:?}", start.elapsed());
    Ok(())
}

/// Waits for `d` for at most `LIMIT`, turning a wait that runs out into a timeout error.
fn wait<T, E: From<Error>>(d: Deferred<T, E>) -> Result<T, E> {
    match d.wait_timeout(LIMIT) {
        Ok(outcome) => outcome,
        Err(_) => Err(E::from(Error::timed_out(LIMIT))),
    }
}

fn realize_and_listen() -> Result<(), Error> {
    println!("== realizing and listening");
    let d: Deferred<String> = Deferred::new();
    println!("new deferred: {d:?}");

    let listener = d.clone();
    let task = runtime::spawn(listener);

    println!(
        "success(\"hello\") realized it: {}",
        d.success("hello".into())
    );
    println!(
        "success(\"again\") realized it: {}",
        d.success("again".into())
    );
    println!("now: {d:?}");
    println!(
        "a task awaiting a clone got: {:?}",
        runtime::block_on(task)?
    );
    println!("the original handle gets: {:?}", wait(d)?);

    let refused = Deferred::<u32>::failed(Error::closed("connection"));
    println!("a pre-failed deferred: {refused:?}");
    println!("waiting on it: {}", wait(refused).unwrap_err());
    Ok(())
}

/// A value that cannot be cloned has one owner; the producer holds a `Realizer`.
fn single_owner() -> Result<(), Error> {
    println!("\n== one owner of a value that is not Clone");
    struct Connection {
        peer: &'static str,
    }

    let d: Deferred<Connection> = Deferred::new();
    let realizer = d.realizer();
    let opener = thread::spawn(move || {
        realizer.success(Connection {
            peer: "127.0.0.1:80",
        })
    });
    let connection = wait(d)?;
    println!("owner received the connection to {}", connection.peer);
    println!(
        "opener thread realized it: {}",
        opener.join().unwrap_or(false)
    );

    let d: Deferred<u32> = Deferred::new();
    let still_pending = d.wait_timeout(Duration::from_millis(10)).unwrap_err();
    println!("wait_timeout on a pending deferred: {still_pending}");
    let d = still_pending.into_inner();
    d.success(7);
    println!(
        "...and the handed-back deferred, once realized: {}",
        wait(d)?
    );
    Ok(())
}

fn callbacks() {
    println!("\n== callbacks");
    let d: Deferred<u32> = Deferred::new();
    let (tx, rx) = mpsc::channel();
    let early = tx.clone();
    d.clone().on_realized(move |outcome| {
        let _ = early.send(format!("early callback got {outcome:?}"));
    });
    println!(
        "registered a callback; received so far: {:?}",
        rx.try_recv().ok()
    );
    d.success(1);
    println!("after success: {:?}", rx.try_recv().ok());
    d.on_realized(move |outcome| {
        let _ = tx.send(format!("late callback got {outcome:?}"));
    });
    println!(
        "registered on a realized deferred: {:?}",
        rx.try_recv().ok()
    );

    // weir catches the panic (and logs it through the `log` facade, at error level).
    let d: Deferred<u32> = Deferred::new();
    d.clone()
        .on_realized(|_| panic!("a buggy listener (expected, caught by weir)"));
    println!("success despite a panicking callback: {}", d.success(5));
    println!(
        "the deferred is still usable: {:?}",
        d.wait_timeout(LIMIT).ok()
    );
}

fn chaining() -> Result<(), Error> {
    println!("\n== chaining");
    let d = Deferred::<&str>::succeeded("20")
        .try_map(|text| text.parse::<u32>().map_err(Error::other))
        .map(|n| n + 1)
        .then(|n| async move {
            runtime::sleep(Duration::from_millis(1)).await;
            Ok::<_, Error>(n * 2)
        })
        .chain(|n| Deferred::succeeded(format!("the answer is {n}")));
    println!("try_map, map, then, chain: {}", wait(d)?);

    let skipped = Deferred::<&str>::succeeded("forty-two")
        .try_map(|text| text.parse::<u32>().map_err(Error::other))
        .map(|n| {
            println!("this stage never runs");
            n + 1
        });
    println!(
        "an error skips later stages: {}",
        wait(skipped).unwrap_err()
    );

    let panicked =
        Deferred::<u32>::succeeded(1).map(|_| -> u32 { panic!("a bad stage (expected)") });
    println!("a panicking stage becomes: {}", wait(panicked).unwrap_err());
    Ok(())
}

fn recovering() -> Result<(), Error> {
    println!("\n== recovering");
    let caught = Deferred::<u32>::failed(Error::cancelled()).catch(|_| 0);
    println!("catch: {}", wait(caught)?);

    let only_timeouts = Deferred::<&str>::failed(Error::closed("stream"))
        .catch_if(Error::is_timeout, |_| "cached copy");
    println!(
        "catch_if(is_timeout) on a closed error: {}",
        wait(only_timeouts).unwrap_err()
    );

    let refused = Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
    let offline = Deferred::<String>::failed(refused)
        .catch_as(|cause: &std::io::Error| format!("offline ({:?})", cause.kind()));
    println!("catch_as::<io::Error>: {}", wait(offline)?);

    let recovered = Deferred::<&str>::failed(Error::closed("primary"))
        .or_else(|_| Deferred::spawn(async { Ok::<_, Error>("from the replica") }))
        .finally(|| println!("finally: cleaning up"));
    println!("or_else: {}", wait(recovered)?);

    let renamed = Deferred::<u8, &str>::failed("disk full").map_err(Error::msg);
    println!(
        "map_err(&str -> weir::Error): {:?}",
        wait(renamed).unwrap_err()
    );
    Ok(())
}

fn zip_and_alt() -> Result<(), Error> {
    println!("\n== zip, zip_all, alt");
    let name = Deferred::<&str>::new();
    let profile = deferred::zip((
        name.clone(),
        Deferred::succeeded(36u32),
        Deferred::succeeded(false),
    ));
    println!("zip before the name arrives: {profile:?}");
    name.success("ada");
    println!("zip after: {:?}", wait(profile)?);

    let parts: Vec<Deferred<u32>> = (1..=4).map(Deferred::succeeded).collect();
    println!("zip_all: {:?}", wait(deferred::zip_all(parts))?);

    let slow = Deferred::<&str>::new();
    let fast = Deferred::<&str>::new();
    let first = deferred::alt([slow.clone(), fast.clone()]);
    fast.success("fast");
    slow.success("slow");
    println!("alt: {}", wait(first)?);
    Ok(())
}

fn timeouts() -> Result<(), Error> {
    println!("\n== timeouts");
    let started = Instant::now();
    let never = Deferred::<u32>::new().timeout(Duration::from_millis(20));
    let error = wait(never).unwrap_err();
    println!("timeout(20ms): {error} (after {:?})", started.elapsed());

    let defaulted = Deferred::<&str>::new().timeout_with(Duration::from_millis(20), "default");
    println!("timeout_with: {}", wait(defaulted)?);

    let slow = runtime::sleep(Duration::from_secs(60));
    let bounded = runtime::block_on(runtime::timeout(Duration::from_millis(20), slow));
    println!("runtime::timeout on a 60s sleep: {}", bounded.unwrap_err());
    Ok(())
}

fn loops() -> Result<(), Error> {
    println!("\n== loop_fn");
    let total = loop_fn((1u64, 0u64), |(i, sum)| async move {
        if i > 10_000 {
            Ok::<_, Error>(Loop::Done(sum))
        } else {
            Ok(Loop::Recur((i + 1, sum + i)))
        }
    });
    println!("sum of 1..=10000 in 10000 turns: {}", wait(total)?);
    Ok(())
}

fn spawned_work() -> Result<(), Error> {
    println!("\n== spawned work");
    let spawned = Deferred::spawn(async { Ok::<_, Error>(6 * 7) });
    println!("Deferred::spawn: {}", wait(spawned)?);
    let converted: Deferred<&str> = Deferred::from_future(async { "ready" });
    println!("Deferred::from_future: {}", wait(converted)?);
    let blocking = Deferred::spawn_blocking(|| {
        let name = thread::current().name().map(str::to_owned);
        Ok::<_, Error>(name.unwrap_or_else(|| "an unnamed thread".into()))
    });
    println!("Deferred::spawn_blocking ran on {}", wait(blocking)?);
    Ok(())
}

fn cancellation() -> Result<(), Error> {
    println!("\n== cancellation");
    struct Guard(mpsc::Sender<&'static str>);
    impl Drop for Guard {
        fn drop(&mut self) {
            let _ = self.0.send("the pending future was dropped");
        }
    }

    let (tx, rx) = mpsc::channel();
    let guard = Guard(tx);
    let work: Deferred<()> = Deferred::spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
        Ok(())
    });
    println!(
        "cancelling spawned work: realized by us = {}",
        work.error(Error::cancelled())
    );
    match rx.recv_timeout(LIMIT) {
        Ok(message) => println!("{message}"),
        Err(_) => println!("the work was NOT dropped within {LIMIT:?}"),
    }
    println!("its deferred: {}", wait(work).unwrap_err());
    Ok(())
}

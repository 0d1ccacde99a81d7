//! Dropped-error detection: a warning for errors nobody observed, silenced by observing, and a
//! switch. One test, because the logger and the switch are process-wide.

use std::sync::Mutex;

use weir::{Deferred, deferred};

struct Capture;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if record.level() == log::Level::Warn {
            LINES.lock().unwrap().push(record.args().to_string());
        }
    }
    fn flush(&self) {}
}

fn warnings_about<E>() -> usize {
    let name = std::any::type_name::<E>();
    LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains(name))
        .count()
}

#[derive(Clone, Debug)]
struct Unobserved;
#[derive(Clone, Debug)]
struct Awaited;
#[derive(Clone, Debug)]
struct Caught;
#[derive(Clone, Debug)]
struct Peeked;
#[derive(Clone, Debug)]
struct Switched;
#[derive(Clone, Debug)]
struct Success;

impl From<weir::Error> for Caught {
    fn from(_: weir::Error) -> Self {
        Caught
    }
}

#[test]
fn dropped_errors_are_reported_unless_observed_or_switched_off() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Warn);

    // Fires: realized with an error, every handle dropped, nobody looked.
    let d: Deferred<u8, Unobserved> = Deferred::new();
    let listener = d.clone();
    d.error(Unobserved);
    drop((d, listener));
    assert_eq!(warnings_about::<Unobserved>(), 1);

    // Pre-realized errors too.
    drop(Deferred::<u8, Unobserved>::failed(Unobserved));
    assert_eq!(warnings_about::<Unobserved>(), 2);

    // Whichever handle goes last: here a realizer.
    let d: Deferred<u8, Unobserved> = Deferred::new();
    let realizer = d.realizer();
    drop(d);
    realizer.error(Unobserved);
    drop(realizer);
    assert_eq!(warnings_about::<Unobserved>(), 3);

    // Observing silences it: awaiting, a combinator, peeking.
    let d: Deferred<u8, Awaited> = Deferred::failed(Awaited);
    assert!(weir::runtime::block_on(d).is_err());
    assert_eq!(warnings_about::<Awaited>(), 0);

    let d: Deferred<u8, Caught> = Deferred::failed(Caught);
    assert_eq!(d.catch(|_| 1).wait().unwrap(), 1);
    assert_eq!(warnings_about::<Caught>(), 0);

    let d: Deferred<u8, Peeked> = Deferred::failed(Peeked);
    assert!(d.peek().unwrap().is_err());
    drop(d);
    assert_eq!(warnings_about::<Peeked>(), 0);

    // Successes never warn.
    drop(Deferred::<u8, Success>::succeeded(1));
    drop(Deferred::<Success, Success>::new());
    assert_eq!(warnings_about::<Success>(), 0);

    // The switch.
    deferred::set_dropped_error_logging(false);
    drop(Deferred::<u8, Switched>::failed(Switched));
    assert_eq!(warnings_about::<Switched>(), 0);
    deferred::set_dropped_error_logging(true);
    drop(Deferred::<u8, Switched>::failed(Switched));
    assert_eq!(warnings_about::<Switched>(), 1);
}

//! A loom model of the channel queue's races: the hand-off of a message to one of several
//! waiting takers, a notified take that is dropped before it takes (its notification passes
//! on), a pending put that is dropped (withdrawn, or delivered exactly once), close and drain
//! against a waiting taker, and a pending put when the last handle that can take goes.
//!
//! Run with `RUSTFLAGS="--cfg weir_loom" CARGO_TARGET_DIR=target/loom cargo test
//! --no-default-features --test loom_queue` (`scripts/test.sh` does). Without the cfg this file
//! is empty.
#![cfg(weir_loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::thread;
use weir::stream::{self, Channel, Source};

/// Polls `future` once with a waker that does nothing (a future that is then dropped).
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Interleavings are explored up to four preemptions: the seeded bugs this model was checked
/// against show with three, and the bound keeps the whole model under half a minute (five
/// takes about 90 s).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(4);
    builder.check(f);
}

#[test]
fn a_message_goes_to_exactly_one_of_two_waiting_takers() {
    model(|| {
        let channel = Channel::<u32>::unbuffered();
        let (a, b) = (channel.clone(), channel.clone());
        let first = thread::spawn(move || block_on(a.take_next()));
        let second = thread::spawn(move || block_on(b.take_next()));
        block_on(channel.put(1)).unwrap();
        block_on(channel.put(2)).unwrap();
        let mut got = [first.join().unwrap(), second.join().unwrap()];
        got.sort();
        assert_eq!(got, [Some(1), Some(2)]);
    });
}

#[test]
fn a_notified_take_that_is_dropped_passes_the_message_on() {
    model(|| {
        let channel = Channel::<u32>::unbuffered();
        let (leaving, staying) = (channel.clone(), channel.clone());
        // A take that waits once and is dropped: if it was notified of a message meanwhile,
        // the notification must go to the other taker.
        let leaver = thread::spawn(move || {
            let mut take = leaving.take_next();
            match poll_once(&mut take) {
                Poll::Ready(message) => message,
                Poll::Pending => None,
            }
        });
        let stayer = thread::spawn(move || block_on(staying.take_next()));
        block_on(channel.put(1)).unwrap();
        let left_with = leaver.join().unwrap();
        if left_with.is_some() {
            block_on(channel.put(2)).unwrap();
        }
        let stayed_with = stayer.join().unwrap();
        match left_with {
            Some(message) => assert_eq!((message, stayed_with), (1, Some(2))),
            None => assert_eq!(stayed_with, Some(1)),
        }
    });
}

#[test]
fn a_dropped_pending_put_is_withdrawn_or_delivered_once() {
    model(|| {
        let channel = Channel::<u32>::unbuffered();
        let putter = channel.clone();
        let reader = stream::source_only(channel);
        let put = thread::spawn(move || {
            // A put that waits once and is dropped: withdrawn, unless a taker took it first.
            let mut first = putter.put(1);
            let accepted = poll_once(&mut first).is_ready();
            drop(first);
            block_on(putter.put(2)).unwrap();
            // The last handle that can put goes: the channel closes.
            drop(putter);
            accepted
        });
        let mut got = Vec::new();
        while let Some(message) = block_on(reader.take_next()) {
            got.push(message);
        }
        let accepted = put.join().unwrap();
        assert!(got == [1, 2] || (!accepted && got == [2]), "{got:?}");
        assert!(
            matches!(reader.drained().peek(), Some(Ok(()))),
            "drained once empty"
        );
    });
}

#[test]
fn close_wakes_a_waiting_taker_after_what_is_buffered() {
    model(|| {
        let channel = Channel::<u32>::new(1);
        let closer = channel.clone();
        let taker = thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(message) = block_on(channel.take_next()) {
                got.push(message);
            }
            assert!(channel.is_drained());
            got
        });
        block_on(closer.put(1)).unwrap();
        block_on(closer.put(2)).unwrap();
        closer.close();
        assert!(block_on(closer.put(3)).unwrap_err().is_closed());
        assert_eq!(taker.join().unwrap(), [1, 2]);
        assert!(block_on(closer.drained()).is_ok());
    });
}

#[test]
fn a_pending_put_fails_when_the_last_taker_goes() {
    model(|| {
        let channel = Channel::<u32>::unbuffered();
        let writer = stream::sink_only(channel.clone());
        let put = thread::spawn(move || block_on(writer.put(1)).map_err(|e| e.into_inner()));
        // The last handle that can take goes, before or after the put waits: it fails with its
        // message either way, and never hangs.
        drop(channel);
        assert_eq!(put.join().unwrap(), Err(1));
    });
}

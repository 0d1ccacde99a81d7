//! Channel semantics: put/take, backpressure, close and drain, limits, interop.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures::{FutureExt, SinkExt};
use support::run;
use weir::Error;
use weir::stream::{Channel, MAX_PENDING_PUTS, MAX_PENDING_TAKES, Source, TakeError};

/// A waker that records whether it was woken.
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn flag() -> (Arc<Flag>, Waker) {
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    (flag.clone(), Waker::from(flag))
}

fn poll_once<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(waker))
}

#[test]
fn smoke() {
    run(async {
        let s = Channel::new(1);
        s.put(1).await.unwrap();
        assert_eq!(s.take_next().await, Some(1));
    });
}

#[test]
fn a_put_completes_at_once_with_room_and_when_taken_without() {
    run(async {
        let s = Channel::new(1);
        s.put(1).await.unwrap();
        let mut second = s.put(2);
        assert!(
            poll_once(&mut second, Waker::noop()).is_pending(),
            "buffer full"
        );
        assert_eq!(s.description().pending_puts, 1);
        assert_eq!(s.take_next().await, Some(1));
        // Taking 1 moved 2 into the buffer: the put is accepted.
        assert!(second.await.is_ok());
        assert_eq!(s.take_next().await, Some(2));
    });
}

#[test]
fn an_unbuffered_put_completes_only_when_consumed() {
    run(async {
        let s = Channel::unbuffered();
        let (woken, waker) = flag();
        let mut put = s.put("hello");
        assert!(poll_once(&mut put, &waker).is_pending());
        assert!(!woken.0.load(Ordering::SeqCst));
        assert_eq!(s.take_next().await, Some("hello"));
        assert!(
            woken.0.load(Ordering::SeqCst),
            "the put was woken by the take"
        );
        assert!(put.await.is_ok());
    });
}

#[test]
fn a_put_to_a_waiting_taker_completes_at_once_even_unbuffered() {
    run(async {
        let s = Channel::unbuffered();
        let mut take = s.take_next();
        assert!(poll_once(&mut take, Waker::noop()).is_pending());
        assert!(s.put(5).now_or_never().expect("accepted at once").is_ok());
        assert_eq!(take.await, Some(5));
    });
}

#[test]
fn a_put_into_a_closed_channel_hands_the_message_back() {
    run(async {
        let s = Channel::new(4);
        s.close();
        let refused = s.put(vec![1, 2]).await.unwrap_err();
        assert!(refused.is_closed() && !refused.is_timeout());
        assert_eq!(refused.into_inner(), vec![1, 2]);
    });
}

#[test]
fn buffered_and_pending_puts_stay_takeable_after_close() {
    run(async {
        let s = Channel::new(1);
        s.put(1).await.unwrap();
        let mut pending = s.put(2);
        assert!(poll_once(&mut pending, Waker::noop()).is_pending());
        s.close();
        assert!(s.is_closed() && !s.is_drained());
        assert_eq!(s.take_next().await, Some(1));
        assert_eq!(s.take_next().await, Some(2));
        assert!(
            pending.await.is_ok(),
            "the pending put was taken, so accepted"
        );
        assert_eq!(s.take_next().await, None);
        assert!(s.is_drained());
    });
}

#[test]
fn takers_get_nothing_once_drained_and_are_woken_by_close() {
    run(async {
        let s = Channel::<u8>::new(1);
        let (woken, waker) = flag();
        let mut take = s.take_next();
        assert!(poll_once(&mut take, &waker).is_pending());
        s.close();
        assert!(woken.0.load(Ordering::SeqCst));
        assert_eq!(take.await, None);
        assert_eq!(s.take_next().await, None);
    });
}

#[test]
fn try_put_times_out_and_withdraws_the_message() {
    run(async {
        let s = Channel::new(1);
        s.try_put(1, Duration::ZERO).await.unwrap();
        let zero = s.try_put(2, Duration::ZERO).await.unwrap_err();
        assert!(zero.is_timeout());
        assert_eq!(zero.into_inner(), 2);
        let later = s.try_put(3, Duration::from_millis(10)).await.unwrap_err();
        assert_eq!(later.into_inner(), 3);
        assert_eq!(s.description().pending_puts, 0, "withdrawn");
        s.close();
        assert_eq!(
            futures::StreamExt::collect::<Vec<_>>(s).await,
            vec![1],
            "nothing withdrawn was delivered"
        );
    });
}

#[test]
fn try_take_says_which_outcome_happened() {
    run(async {
        let s = Channel::new(1);
        assert_eq!(s.try_take(Duration::ZERO).await, Err(TakeError::Timeout));
        assert_eq!(
            s.try_take(Duration::from_millis(5)).await,
            Err(TakeError::Timeout)
        );
        s.put(1).await.unwrap();
        assert_eq!(s.try_take(Duration::ZERO).await, Ok(1));
        s.put(2).await.unwrap();
        assert_eq!(s.try_take(Duration::from_secs(5)).await, Ok(2));
        s.close();
        assert_eq!(
            s.try_take(Duration::from_secs(5)).await,
            Err(TakeError::Drained)
        );
        assert_eq!(s.try_take(Duration::ZERO).await, Err(TakeError::Drained));
    });
}

#[test]
fn dropping_a_put_withdraws_its_message() {
    run(async {
        let s = Channel::new(0);
        let mut put = s.put(1);
        assert!(poll_once(&mut put, Waker::noop()).is_pending());
        drop(put);
        s.close();
        assert_eq!(s.take_next().await, None);
    });
}

#[test]
fn close_callbacks_run_at_once_when_already_closed_or_drained() {
    let s = Channel::<u8>::new(1);
    s.close_with_error(Error::msg("boom"));
    let (tx, rx) = std::sync::mpsc::channel();
    let tx2 = tx.clone();
    s.on_closed(move || tx.send("closed".to_string()).unwrap());
    s.on_drained(move |outcome| tx2.send(outcome.unwrap_err().to_string()).unwrap());
    assert_eq!(rx.try_recv().unwrap(), "closed");
    assert_eq!(rx.try_recv().unwrap(), "boom");
}

#[test]
fn the_drain_is_clean_or_carries_its_cause() {
    run(async {
        let clean = Channel::<u8>::new(1);
        clean.put(1).await.unwrap();
        clean.close();
        assert!(
            !clean.drained().is_realized(),
            "a message is still buffered"
        );
        assert_eq!(clean.take_next().await, Some(1));
        assert!(clean.drained().await.is_ok());
        let failed = Channel::<u8>::new(1);
        failed.close_with_error(Error::protocol("bad frame"));
        assert!(failed.drained().await.unwrap_err().is_protocol());
    });
}

#[test]
fn a_permanent_channel_ignores_close() {
    run(async {
        let s = Channel::<u8>::builder().capacity(1).permanent(true).build();
        s.close();
        assert!(!s.is_closed());
        s.put(1).await.unwrap();
        assert_eq!(s.take_next().await, Some(1));
    });
}

#[test]
fn pending_puts_are_bounded() {
    let s = Channel::<usize>::unbuffered();
    let mut puts: Vec<_> = (0..MAX_PENDING_PUTS).map(|i| s.put(i)).collect();
    for put in &mut puts {
        assert!(poll_once(put, Waker::noop()).is_pending());
    }
    let refused = s.put(usize::MAX).now_or_never().unwrap().unwrap_err();
    assert!(refused.is_too_many_pending());
    assert_eq!(refused.into_inner(), usize::MAX);
    assert_eq!(s.description().pending_puts, MAX_PENDING_PUTS);
    // Nothing lost: every pending message is takeable, in order.
    for i in 0..3 {
        assert_eq!(s.take_next().now_or_never().unwrap(), Some(i));
    }
}

#[test]
fn one_excess_take_is_refused_and_the_stream_stays_open_for_the_others() {
    let s = Channel::<u8>::new(1);
    let mut takes: Vec<_> = (0..MAX_PENDING_TAKES).map(|_| s.take_next()).collect();
    for take in &mut takes {
        assert!(poll_once(take, Waker::noop()).is_pending());
    }
    assert_eq!(s.description().pending_takes, MAX_PENDING_TAKES);
    // The excess take is refused, with a clear error through `try_take`...
    let mut excess = s.try_take(support::BOUND);
    match poll_once(&mut excess, Waker::noop()) {
        Poll::Ready(Err(TakeError::TooManyPending)) => {}
        other => panic!("expected TooManyPending, got {other:?}"),
    }
    drop(excess);
    assert!(
        TakeError::TooManyPending
            .to_string()
            .contains("already wait")
    );
    // ...and `take` yields `None` although the stream is neither closed nor drained.
    assert_eq!(s.take_next().now_or_never().unwrap(), None);
    assert!(!s.is_closed() && !s.is_drained());
    // The waiting takes still get messages.
    s.put(7).now_or_never().unwrap().unwrap();
    assert_eq!(
        poll_once(&mut takes[0], Waker::noop()),
        Poll::Ready(Some(7))
    );
    drop(takes);
    s.put(8).now_or_never().unwrap().unwrap();
    assert_eq!(s.take_next().now_or_never().unwrap(), Some(8));
}

#[test]
fn a_notified_taker_that_goes_away_passes_the_message_on() {
    run(async {
        let s = Channel::new(4);
        let mut first = s.take_next();
        let mut second = s.take_next();
        let (second_woken, second_waker) = flag();
        assert!(poll_once(&mut first, Waker::noop()).is_pending());
        assert!(poll_once(&mut second, &second_waker).is_pending());
        s.put(9).await.unwrap();
        assert!(
            !second_woken.0.load(Ordering::SeqCst),
            "one taker is woken per message"
        );
        drop(first);
        assert!(second_woken.0.load(Ordering::SeqCst));
        assert_eq!(second.await, Some(9));
    });
}

#[test]
fn description_reports_the_state() {
    run(async {
        let s = Channel::<u8>::builder()
            .capacity(2)
            .description("orders")
            .build();
        s.put(1).await.unwrap();
        let d = s.description();
        assert_eq!(d.kind, "stream");
        assert_eq!(d.label.as_deref(), Some("orders"));
        assert_eq!((d.buffer_size, d.buffer_capacity), (Some(1), Some(2)));
        assert!(!d.closed && !d.drained && !d.permanent);
        s.close();
        assert!(s.description().closed && !s.description().drained);
        s.take_next().await;
        assert!(s.description().drained);
    });
}

#[test]
fn futures_stream_and_sink_interop() {
    run(async {
        let s = Channel::new(0);
        let mut sink = s.clone();
        let producer = weir::runtime::spawn(async move {
            for i in 0..100 {
                // `send` completes once the message was accepted (taken, here).
                sink.send(i).await.unwrap();
            }
            SinkExt::close(&mut sink).await.unwrap();
        });
        let received: Vec<i32> = futures::StreamExt::collect(s.clone()).await;
        producer.await;
        assert_eq!(received, (0..100).collect::<Vec<_>>());
        let mut closed = s.clone();
        assert!(closed.send(1).await.unwrap_err().is_closed());
    });
}

#[test]
fn many_producers_and_consumers_lose_and_duplicate_nothing() {
    let s = Channel::new(3);
    let producers: Vec<_> = (0..4u64)
        .map(|p| {
            let s = s.clone();
            weir::runtime::spawn(async move {
                for i in 0..2_000u64 {
                    s.put(p * 1_000_000 + i).await.unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Some(m) = weir::runtime::block_on(s.take_next()) {
                    got.push(m);
                }
                got
            })
        })
        .collect();
    run(async {
        for p in producers {
            p.await;
        }
    });
    s.close();
    let mut all: Vec<u64> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    all.sort_unstable();
    let mut expected: Vec<u64> = (0..4u64)
        .flat_map(|p| (0..2_000u64).map(move |i| p * 1_000_000 + i))
        .collect();
    expected.sort_unstable();
    assert_eq!(all, expected);
}

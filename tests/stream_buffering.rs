//! Buffering and time: batch, throttle, buffer, buffered channels, periodically, dropping and
//! sliding channels.

mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_lite::StreamExt;
use support::run;
use weir::Error;
use weir::runtime::sleep;
use weir::stream::{
    self, BufferedChannel, Channel, DroppingChannel, Sink, SlidingChannel, Source, SourceExt,
    TakeError,
};

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Waits until `condition` holds: the state a test checks next is then quiescent (a background task
/// is blocked where the test expects it). Fails, saying `what` it waited for, after half of
/// `run`'s bound.
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let reached = weir::runtime::timeout(support::BOUND / 2, async {
        while !condition() {
            futures_lite::future::yield_now().await;
        }
    })
    .await;
    assert!(reached.is_ok(), "never reached: {what}");
}

#[test]
fn smoke() {
    run(async {
        let batches = stream::iter(1..=5).batch(2);
        assert_eq!(
            batches.collect::<Vec<_>>().await,
            vec![vec![1, 2], vec![3, 4], vec![5]]
        );
    });
}

// ---- batch

#[test]
fn batch_of_an_empty_source_is_empty_and_drains_cleanly() {
    run(async {
        let batches = stream::iter(Vec::<u8>::new()).batch(3);
        let drained = batches.drained();
        assert_eq!(batches.collect::<Vec<_>>().await, Vec::<Vec<u8>>::new());
        assert!(drained.await.is_ok());
    });
}

#[test]
fn batch_divides_exactly_without_an_empty_tail() {
    run(async {
        let batches = stream::iter(0..6).batch(3);
        assert_eq!(
            batches.collect::<Vec<_>>().await,
            vec![vec![0, 1, 2], vec![3, 4, 5]]
        );
    });
}

#[test]
fn batch_emits_a_full_batch_without_waiting_for_more() {
    run(async {
        let s = Channel::new(8);
        let mut batches = s.clone().batch(2);
        s.put(1).await.unwrap();
        s.put(2).await.unwrap();
        s.put(3).await.unwrap();
        assert_eq!(batches.next().await, Some(vec![1, 2]));
        // 3 waits for company (no latency given) until the channel closes.
        let mut next = batches.next();
        assert!(poll_once(&mut next).is_pending());
        assert_eq!(s.description().buffer_size, Some(0), "3 was taken in");
        assert!(poll_once(&mut next).is_pending());
        s.close();
        assert_eq!(next.await, Some(vec![3]));
        assert_eq!(batches.next().await, None);
    });
}

#[test]
fn batch_reports_the_upstream_error_after_the_last_batch() {
    run(async {
        let s = Channel::new(4);
        let batches = s.clone().batch(3);
        let drained = batches.drained();
        s.put(1).await.unwrap();
        s.put(2).await.unwrap();
        s.close_with_error(Error::msg("upstream failed"));
        assert_eq!(batches.collect::<Vec<_>>().await, vec![vec![1, 2]]);
        assert_eq!(drained.await.unwrap_err().to_string(), "upstream failed");
    });
}

#[test]
fn closing_a_batch_closes_its_upstream_and_shows_in_the_graph() {
    let s = Channel::<u8>::new(1);
    let batches = s.clone().batch(2);
    let downstream = s.node().downstream();
    assert_eq!(downstream.len(), 1);
    assert_eq!(downstream[0].target.description().kind, "batch");
    batches.close();
    assert!(s.is_closed());
    assert!(batches.description().closed);
}

#[test]
#[should_panic(expected = "max_size must be at least 1")]
fn batch_of_zero_panics() {
    let _ = stream::iter([1]).batch(0);
}

#[test]
fn batch_within_emits_a_partial_batch_after_the_latency() {
    run(async {
        let s = Channel::new(8);
        let mut batches = s.clone().batch_within(100, Duration::from_millis(20));
        s.put('a').await.unwrap();
        s.put('b').await.unwrap();
        // The poll takes both in and starts the clock: the partial batch is not due yet.
        let mut first = batches.next();
        assert!(poll_once(&mut first).is_pending());
        assert_eq!(s.description().buffer_size, Some(0));
        assert_eq!(first.await, Some(vec!['a', 'b']));
        // The clock starts again with the next batch's first message: the expired timer of
        // the first batch does not let the second out at once.
        s.put('c').await.unwrap();
        let mut second = batches.next();
        assert!(poll_once(&mut second).is_pending());
        assert_eq!(second.await, Some(vec!['c']));
        s.close();
        assert_eq!(batches.next().await, None);
    });
}

#[test]
fn batch_within_emits_a_full_batch_before_the_latency() {
    run(async {
        let s = Channel::new(8);
        // An hour of latency: only a full batch can come out within the test's bound.
        let mut batches = s.clone().batch_within(2, Duration::from_secs(3600));
        for n in 0..3 {
            s.put(n).await.unwrap();
        }
        assert_eq!(batches.next().await, Some(vec![0, 1]));
        s.close();
        assert_eq!(batches.next().await, Some(vec![2]));
        assert_eq!(batches.next().await, None);
    });
}

#[test]
fn batch_by_sums_the_metric() {
    run(async {
        let words = stream::iter(["a", "bb", "c", "dddd", "eeeeee", "f", "g"]);
        let batches = words.batch_by(|w| w.len(), 4, None);
        assert_eq!(
            batches.collect::<Vec<_>>().await,
            vec![
                vec!["a", "bb", "c"],
                vec!["dddd"],
                vec!["eeeeee"],
                vec!["f", "g"]
            ]
        );
    });
}

#[test]
fn batch_by_with_latency_flushes_a_light_batch() {
    run(async {
        let s = Channel::new(8);
        let mut batches = s
            .clone()
            .batch_by(|n: &usize| *n, 100, Some(Duration::from_millis(10)));
        s.put(1).await.unwrap();
        s.put(2).await.unwrap();
        assert_eq!(batches.next().await, Some(vec![1, 2]));
        s.close();
        assert_eq!(batches.next().await, None);
    });
}

#[test]
fn a_panicking_metric_ends_batch_by_after_what_was_gathered() {
    run(async {
        let s = Channel::new(8);
        let batches = s.clone().batch_by(
            |n: &u32| if *n == 3 { panic!("metric failed") } else { 1 },
            10,
            None,
        );
        let drained = batches.drained();
        for n in 1..=4 {
            s.put(n).await.unwrap();
        }
        assert_eq!(batches.collect::<Vec<_>>().await, vec![vec![1, 2]]);
        let error = drained.await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.to_string(), "panicked: metric failed");
        assert!(s.is_closed(), "the upstream is closed");
    });
}

// ---- throttle

#[test]
fn throttle_paces_messages_and_keeps_their_order() {
    run(async {
        let paced = stream::iter(0..6).throttle(100.0);
        let drained = paced.drained();
        assert_eq!(paced.collect::<Vec<_>>().await, vec![0, 1, 2, 3, 4, 5]);
        assert!(drained.await.is_ok());
        // The first passes at once; the second waits for a token (one an hour here).
        let mut hourly = stream::iter(0..6).throttle(1.0 / 3600.0);
        assert_eq!(poll_once(&mut hourly.next()), Poll::Ready(Some(0)));
        assert!(poll_once(&mut hourly.next()).is_pending());
        assert!(poll_once(&mut hourly.next()).is_pending());
    });
}

#[test]
fn throttle_with_a_backlog_lets_a_burst_through_after_idling() {
    run(async {
        let s = Channel::new(16);
        let mut burst = s.clone().throttle_with_backlog(5.0, 3.0);
        let mut strict = {
            let t = Channel::new(16);
            (t.clone(), t.throttle_with_backlog(5.0, 0.0))
        };
        for n in 0..6 {
            s.put(n).await.unwrap();
            strict.0.put(n).await.unwrap();
        }
        // Idle long enough (at 5 per second) to earn the whole backlog.
        sleep(Duration::from_millis(700)).await;
        // One message plus the backlog of three pass without waiting for a timer...
        for n in 0..4 {
            assert_eq!(poll_once(&mut burst.next()), Poll::Ready(Some(n)));
        }
        assert!(poll_once(&mut burst.next()).is_pending());
        // ... while a strict throttle lets one through.
        assert_eq!(poll_once(&mut strict.1.next()), Poll::Ready(Some(0)));
        assert!(poll_once(&mut strict.1.next()).is_pending());
        // The rest still comes, paced.
        assert_eq!(burst.next().await, Some(4));
        assert_eq!(strict.1.next().await, Some(1));
        s.close();
        strict.0.close();
    });
}

#[test]
fn throttle_passes_the_end_and_close_through() {
    run(async {
        let s = Channel::<u8>::new(1);
        let paced = s.clone().throttle(1000.0);
        let drained = paced.drained();
        paced.close();
        assert!(s.is_closed());
        assert_eq!(paced.collect::<Vec<_>>().await, Vec::<u8>::new());
        assert!(drained.await.is_ok());
    });
}

#[test]
#[should_panic(expected = "max_rate must be positive")]
fn throttle_of_zero_panics() {
    let _ = stream::iter([1]).throttle(0.0);
}

// ---- buffer

#[test]
fn buffer_reads_ahead_by_its_limit() {
    run(async {
        let s = Channel::unbuffered();
        let mut buffered = s.clone().read_ahead(3);
        // Three in the buffer, one held by the reading task.
        for n in 0..4 {
            s.put(n).await.unwrap();
        }
        // Quiescent: the reading task waits for room for the message it holds.
        until("the reading task's put of 3 waits for room", || {
            buffered.description().pending_puts == 1
        })
        .await;
        let mut fifth = s.put(4);
        assert!(poll_once(&mut fifth).is_pending(), "the buffer is full");
        assert_eq!(s.description().pending_puts, 1, "nobody takes from `s`");
        assert_eq!(buffered.next().await, Some(0));
        fifth.await.unwrap();
        s.close();
        assert_eq!(buffered.collect::<Vec<_>>().await, vec![1, 2, 3, 4]);
    });
}

#[test]
fn buffer_shows_in_the_graph() {
    let s = Channel::<u8>::unbuffered();
    let buffered = s.clone().read_ahead(2);
    let downstream = s.node().downstream();
    assert_eq!(downstream.len(), 1);
    let d = downstream[0].target.description();
    assert_eq!(d.kind, "buffer");
    assert_eq!(d.buffer_capacity, Some(2));
    assert_eq!(buffered.description().kind, "buffer");
    buffered.close();
}

#[test]
fn closing_a_buffer_closes_its_upstream_and_keeps_what_is_buffered() {
    run(async {
        let s = Channel::unbuffered();
        let buffered = s.clone().read_ahead(4);
        // The task took 3 from `s` only after it had buffered 1 and 2.
        for n in 1..=3 {
            s.put(n).await.unwrap();
        }
        buffered.close();
        s.closed().await.unwrap();
        assert!(s.put(4).await.unwrap_err().is_closed());
        // 3 may have been in the task's hands when the buffer closed, and is then lost with it.
        let rest = buffered.collect::<Vec<_>>().await;
        assert!(rest == [1, 2] || rest == [1, 2, 3], "{rest:?}");
    });
}

#[test]
fn dropping_a_buffer_closes_its_upstream() {
    run(async {
        let s = Channel::<u8>::unbuffered();
        drop(s.clone().read_ahead(4));
        s.closed().await.unwrap();
    });
}

#[test]
fn buffer_reports_the_upstream_error_after_its_messages() {
    run(async {
        let s = Channel::new(2);
        let buffered = s.clone().read_ahead(4);
        let drained = buffered.drained();
        s.put(1).await.unwrap();
        s.close_with_error(Error::msg("source broke"));
        assert_eq!(buffered.collect::<Vec<_>>().await, vec![1]);
        assert_eq!(drained.await.unwrap_err().to_string(), "source broke");
    });
}

#[test]
fn buffer_by_waits_once_the_metric_is_over_its_limit() {
    run(async {
        let s = Channel::unbuffered();
        let mut buffered = s.clone().read_ahead_by(|n: &usize| *n, 10);
        s.put(6).await.unwrap();
        s.put(4).await.unwrap();
        // 6 + 4 + 5 = 15 > 10: the task's put waits, holding 5, so 7 cannot be taken from `s`.
        s.put(5).await.unwrap();
        until("the reading task's put of 5 waits for room", || {
            buffered.description().pending_puts == 1
        })
        .await;
        let mut fourth = s.put(7);
        assert!(poll_once(&mut fourth).is_pending());
        assert_eq!(s.description().pending_puts, 1, "nobody takes from `s`");
        assert_eq!(buffered.next().await, Some(6));
        fourth.await.unwrap();
        s.close();
        assert_eq!(buffered.collect::<Vec<_>>().await, vec![4, 5, 7]);
    });
}

#[test]
fn a_panicking_metric_closes_buffer_by_with_the_panic() {
    run(async {
        let source = stream::iter([1u32, 2, 3]);
        let buffered = source.read_ahead_by(|n| if *n == 2 { panic!("weigh") } else { 1 }, 8);
        let drained = buffered.drained();
        assert_eq!(buffered.collect::<Vec<_>>().await, vec![1]);
        assert!(drained.await.unwrap_err().is_panic());
    });
}

// ---- buffered channel

#[test]
fn buffered_channel_acknowledges_puts_within_its_limit() {
    run(async {
        let s = BufferedChannel::new(2);
        s.put(1).await.unwrap();
        s.put(2).await.unwrap();
        let mut third = s.put(3);
        assert!(poll_once(&mut third).is_pending());
        let d = s.description();
        assert_eq!((d.buffer_size, d.buffer_capacity), (Some(3), Some(2)));
        assert_eq!(d.pending_puts, 1);
        // The message is accepted already, so it can be taken before the put completes.
        assert_eq!(BufferedChannel::take_next(&s).await, Some(1));
        third.await.unwrap();
        assert_eq!(s.description().pending_puts, 0);
        assert_eq!(BufferedChannel::take_next(&s).await, Some(2));
        assert_eq!(BufferedChannel::take_next(&s).await, Some(3));
        assert_eq!(s.size(), 0);
    });
}

#[test]
fn buffered_channel_with_a_metric_counts_in_metric_units() {
    run(async {
        let s = BufferedChannel::with_metric(|bytes: &Vec<u8>| bytes.len(), 8);
        s.put(vec![0; 5]).await.unwrap();
        s.put(vec![0; 3]).await.unwrap();
        let mut over = s.put(vec![0; 1]);
        assert!(poll_once(&mut over).is_pending());
        assert_eq!(s.size(), 9);
        // Taking 3 bytes is not enough if the 5 stay... but takes come in order.
        assert_eq!(
            BufferedChannel::take_next(&s).await.map(|b| b.len()),
            Some(5)
        );
        over.await.unwrap();
        assert_eq!(s.size(), 4);
        assert_eq!(s.description().kind, "buffered-stream");
    });
}

#[test]
fn closing_a_buffered_channel_acknowledges_waiting_puts() {
    run(async {
        let s = BufferedChannel::new(0);
        let mut put = s.put('x');
        assert!(poll_once(&mut put).is_pending());
        s.close();
        put.await.unwrap();
        assert!(s.put('y').await.unwrap_err().is_closed());
        assert_eq!(
            BufferedChannel::take_next(&s).await,
            Some('x'),
            "what was accepted stays takeable"
        );
        assert_eq!(BufferedChannel::take_next(&s).await, None);
        assert!(Source::drained(&s).await.is_ok());
    });
}

#[test]
fn a_buffered_channel_is_a_sink_with_put_semantics() {
    run(async {
        let mut s = BufferedChannel::new(1);
        let reader = s.clone();
        futures::SinkExt::send(&mut s, 1).await.unwrap();
        // Over the limit: `send` waits for the acknowledgement.
        let consumer = weir::runtime::spawn(async move {
            let mut all = Vec::new();
            while let Some(n) = BufferedChannel::take_next(&reader).await {
                all.push(n);
            }
            all
        });
        futures::SinkExt::send(&mut s, 2).await.unwrap();
        futures::SinkExt::send(&mut s, 3).await.unwrap();
        futures::SinkExt::close(&mut s).await.unwrap();
        assert!(Sink::is_closed(&s));
        assert_eq!(consumer.await, vec![1, 2, 3]);
    });
}

#[test]
fn a_panicking_metric_closes_the_buffered_channel() {
    run(async {
        let s = BufferedChannel::with_metric(|n: &u8| if *n == 0 { panic!("zero") } else { 1 }, 4);
        s.put(1).await.unwrap();
        let refused = s.put(0).await.unwrap_err();
        assert!(refused.is_closed());
        assert_eq!(refused.into_inner(), 0);
        assert_eq!(BufferedChannel::take_next(&s).await, Some(1));
        assert_eq!(BufferedChannel::take_next(&s).await, None);
        assert!(Source::drained(&s).await.unwrap_err().is_panic());
    });
}

#[test]
fn buffered_channel_take_now() {
    run(async {
        let s = BufferedChannel::new(4);
        assert_eq!(s.take_now(), Err(TakeError::Timeout));
        s.put(1).await.unwrap();
        assert_eq!(s.take_now(), Ok(1));
        s.close();
        assert_eq!(s.take_now(), Err(TakeError::Drained));
    });
}

// ---- periodically

#[test]
fn periodically_emits_every_period() {
    run(async {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let ticks = stream::periodically(Duration::from_millis(5), move || {
            Ok(counter.fetch_add(1, Ordering::SeqCst))
        });
        let first: Vec<usize> = ticks.take(4).collect().await;
        assert_eq!(first, vec![0, 1, 2, 3]);
        assert_eq!(calls.load(Ordering::SeqCst), 4, "f runs only when asked");
        // The first message waits one period (an hour here), and f is not called before.
        let hourly_calls = Arc::new(AtomicUsize::new(0));
        let counter = hourly_calls.clone();
        let mut hourly = stream::periodically(Duration::from_secs(3600), move || {
            Ok(counter.fetch_add(1, Ordering::SeqCst))
        });
        assert!(poll_once(&mut hourly.next()).is_pending());
        assert_eq!(hourly_calls.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn periodically_after_a_zero_delay_starts_at_once() {
    run(async {
        let mut ticks =
            stream::periodically_after(Duration::from_secs(3600), Duration::ZERO, || Ok(7));
        assert_eq!(ticks.next().await, Some(7));
        let mut next = ticks.next();
        assert!(
            poll_once(&mut next).is_pending(),
            "the next one is an hour away"
        );
    });
}

#[test]
fn periodically_ends_with_the_error_of_f() {
    run(async {
        let mut n = 0;
        let ticks = stream::periodically(Duration::from_millis(1), move || {
            n += 1;
            if n < 3 {
                Ok(n)
            } else {
                Err(Error::msg("no more"))
            }
        });
        let drained = ticks.drained();
        assert_eq!(ticks.collect::<Vec<_>>().await, vec![1, 2]);
        assert_eq!(drained.await.unwrap_err().to_string(), "no more");
    });
}

#[test]
fn periodically_ends_with_a_panic_of_f() {
    run(async {
        let ticks = stream::periodically(Duration::from_millis(1), || -> Result<u8, Error> {
            panic!("tick")
        });
        let drained = ticks.drained();
        assert_eq!(ticks.collect::<Vec<_>>().await, Vec::<u8>::new());
        assert!(drained.await.unwrap_err().is_panic());
    });
}

#[test]
fn closing_periodically_ends_it_cleanly() {
    run(async {
        let mut ticks = stream::periodically(Duration::from_millis(1), || Ok(()));
        assert_eq!(ticks.next().await, Some(()));
        ticks.close();
        assert_eq!(ticks.next().await, None);
        assert!(ticks.drained().await.is_ok());
        assert!(ticks.description().closed);
    });
}

// ---- dropping and sliding

#[test]
fn dropping_drops_new_messages_when_full() {
    run(async {
        let s = stream::dropping(2);
        assert_eq!(s.put(1).unwrap(), None);
        assert_eq!(s.put(2).unwrap(), None);
        assert_eq!(s.put(3).unwrap(), Some(3));
        assert_eq!(DroppingChannel::take_next(&s).await, Some(1));
        assert_eq!(s.put(4).unwrap(), None);
        s.close();
        assert!(s.put(5).unwrap_err().is_closed());
        assert_eq!(s.collect::<Vec<_>>().await, vec![2, 4]);
    });
}

#[test]
fn sliding_drops_the_oldest_message_when_full() {
    run(async {
        let s = stream::sliding(2);
        assert_eq!(s.put(1).unwrap(), None);
        assert_eq!(s.put(2).unwrap(), None);
        assert_eq!(s.put(3).unwrap(), Some(1));
        assert_eq!(s.put(4).unwrap(), Some(2));
        assert_eq!(SlidingChannel::take_next(&s).await, Some(3));
        s.close();
        assert!(s.put(5).unwrap_err().is_closed());
        assert_eq!(s.collect::<Vec<_>>().await, vec![4]);
    });
}

#[test]
fn dropping_and_sliding_of_zero_deliver_only_to_a_waiting_taker() {
    run(async {
        let dropping = stream::dropping(0);
        let sliding = stream::sliding(0);
        assert_eq!(dropping.put(1).unwrap(), Some(1));
        assert_eq!(sliding.put(1).unwrap(), Some(1));

        let mut take = DroppingChannel::take_next(&dropping);
        assert!(poll_once(&mut take).is_pending());
        assert_eq!(dropping.put(2).unwrap(), None);
        assert_eq!(take.await, Some(2));

        let mut take = SlidingChannel::take_next(&sliding);
        assert!(poll_once(&mut take).is_pending());
        assert_eq!(sliding.put(2).unwrap(), None);
        assert_eq!(take.await, Some(2));
    });
}

#[test]
fn dropping_and_sliding_are_sinks_that_never_wait() {
    run(async {
        let mut dropping = stream::dropping(1);
        let mut sliding = stream::sliding(1);
        for n in 0..5 {
            futures::SinkExt::send(&mut dropping, n).await.unwrap();
            futures::SinkExt::send(&mut sliding, n).await.unwrap();
        }
        assert_eq!(dropping.description().kind, "dropping-stream");
        assert_eq!(sliding.description().kind, "sliding-stream");
        futures::SinkExt::close(&mut dropping).await.unwrap();
        futures::SinkExt::close(&mut sliding).await.unwrap();
        assert!(
            futures::SinkExt::send(&mut dropping, 9)
                .await
                .unwrap_err()
                .is_closed()
        );
        assert_eq!(dropping.collect::<Vec<_>>().await, vec![0]);
        assert_eq!(sliding.collect::<Vec<_>>().await, vec![4]);
    });
}

#[test]
fn source_ext_dropping_and_sliding_never_hold_the_source_back() {
    run(async {
        let source = stream::iter(0..50);
        let read = source.drained();
        let dropped = source.dropping(4);
        read.await.unwrap();
        assert_eq!(dropped.collect::<Vec<_>>().await, vec![0, 1, 2, 3]);

        let source = stream::iter(0..50);
        let read = source.drained();
        let slid = source.sliding(4);
        read.await.unwrap();
        assert_eq!(slid.collect::<Vec<_>>().await, vec![46, 47, 48, 49]);
    });
}

#[test]
fn closing_a_sliding_buffer_closes_its_upstream() {
    run(async {
        let s = Channel::<u8>::unbuffered();
        let slid = s.clone().sliding(2);
        slid.close();
        s.closed().await.unwrap();
        assert_eq!(slid.collect::<Vec<_>>().await, Vec::<u8>::new());
    });
}

#[test]
fn public_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    type Upstream = Channel<u8>;
    send_sync::<stream::Batch<Upstream>>();
    send_sync::<stream::BatchBy<Upstream, fn(&u8) -> usize>>();
    send_sync::<stream::Throttle<Upstream>>();
    send_sync::<stream::Buffer<u8>>();
    send_sync::<BufferedChannel<u8>>();
    send_sync::<stream::BufferedPut<'static, u8>>();
    send_sync::<stream::BufferedTake<'static, u8>>();
    send_sync::<DroppingChannel<u8>>();
    send_sync::<SlidingChannel<u8>>();
    send_sync::<stream::Periodically<fn() -> Result<u8, Error>>>();
}

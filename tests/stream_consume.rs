//! Consuming sources: drain_into, consume, consume_async, put_all, the blocking iterator and
//! connect_via.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use support::{BOUND, run};
use weir::stream::{self, Channel, ConnectOptions, Source, SourceExt};
use weir::{Deferred, Error};

async fn drain<T>(s: &Channel<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(m) = s.take_next().await {
        out.push(m);
    }
    out
}

/// What a callback saw.
type Log<T> = Arc<Mutex<Vec<T>>>;

/// A shared log of what a callback saw: one handle to read, one for the callback.
fn log<T: Send + 'static>() -> (Log<T>, Log<T>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    (seen.clone(), seen)
}

#[test]
fn smoke() {
    run(async {
        let sink = Channel::new(4);
        stream::drain_into(stream::iter(vec![1, 2]), sink.clone())
            .await
            .unwrap();
        sink.close();
        assert_eq!(drain(&sink).await, vec![1, 2]);
    });
}

// ---- drain_into

#[test]
fn drain_into_respects_backpressure() {
    run(async {
        let sink = Channel::unbuffered();
        let done = stream::drain_into(stream::iter(0..3), sink.clone());
        assert_eq!(sink.take_next().await, Some(0));
        assert!(!done.is_realized(), "two messages are still to be taken");
        assert_eq!(sink.take_next().await, Some(1));
        assert!(!done.is_realized(), "one message is still to be taken");
        assert_eq!(sink.take_next().await, Some(2));
        done.await.unwrap();
        assert!(!sink.is_closed());
    });
}

#[test]
fn drain_into_ends_when_the_sink_closes_and_closes_the_source() {
    run(async {
        let (source, sink) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
        let done = stream::drain_into(source.clone(), sink.clone());
        sink.close();
        done.await.unwrap();
        assert!(source.is_closed());
    });
}

#[test]
fn drain_into_ends_when_the_sink_closes_while_a_put_waits() {
    run(async {
        let source = Channel::new(4);
        let sink = Channel::unbuffered();
        source.put(1).await.unwrap();
        source.put(2).await.unwrap();
        let done = stream::drain_into(source.clone(), sink.clone());
        assert_eq!(sink.take_next().await, Some(1));
        // The second message is now waiting on the unbuffered sink.
        sink.close();
        done.await.unwrap();
        assert!(source.is_closed());
    });
}

#[test]
fn drain_into_reports_the_sources_drain_cause() {
    run(async {
        let (source, sink) = (Channel::new(2), Channel::new(2));
        source.put(1).await.unwrap();
        source.close_with_error(Error::msg("upstream broke"));
        let cause = stream::drain_into(source, sink.clone()).await.unwrap_err();
        assert_eq!(cause.to_string(), "upstream broke");
        assert_eq!(sink.take_next().await, Some(1));
        assert!(!sink.is_closed());
    });
}

#[test]
fn drain_into_shows_an_edge_while_it_runs() {
    run(async {
        let (source, sink) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
        let done = stream::drain_into(source.clone(), sink.clone());
        let edges = source.node().downstream();
        assert_eq!(edges.len(), 1);
        assert_eq!(edges[0].description.as_deref(), Some("drain-into"));
        source.close();
        done.await.unwrap();
        assert!(source.node().downstream().is_empty());
    });
}

#[test]
fn drain_into_method_matches_the_function() {
    run(async {
        let sink = Channel::new(4);
        stream::iter(["x", "y"])
            .drain_into(sink.clone())
            .await
            .unwrap();
        assert_eq!(
            (sink.take_next().await, sink.take_next().await),
            (Some("x"), Some("y"))
        );
    });
}

#[test]
fn drain_into_can_be_cancelled() {
    run(async {
        let (source, sink) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
        let done = stream::drain_into(source.clone(), sink.clone());
        done.error(Error::cancelled());
        assert!(done.await.unwrap_err().is_cancelled());
        assert!(!source.is_closed() && !sink.is_closed());
    });
}

// ---- put_all

#[test]
fn put_all_puts_in_order() {
    run(async {
        let sink = Channel::new(10);
        stream::put_all(sink.clone(), 0..10).await.unwrap();
        sink.close();
        assert_eq!(drain(&sink).await, (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn put_all_respects_backpressure() {
    run(async {
        let sink = Channel::unbuffered();
        let done = stream::put_all(sink.clone(), vec!["a", "b"]);
        assert_eq!(sink.take_next().await, Some("a"));
        assert!(!done.is_realized(), "b is not taken yet");
        assert_eq!(sink.take_next().await, Some("b"));
        done.await.unwrap();
        assert!(!sink.is_closed(), "put_all does not close the sink");
    });
}

#[test]
fn put_all_into_a_closed_sink_says_none_were_put() {
    run(async {
        let sink = Channel::<u8>::new(4);
        sink.close();
        let error = stream::put_all(sink, vec![1, 2]).await.unwrap_err();
        assert!(error.is_closed());
        assert_eq!(
            error.to_string(),
            "put_all: 0 messages were put, then the sink closed"
        );
    });
}

/// A weir sink that accepts `n` messages and then reports itself closed.
fn closing_after(n: usize) -> impl weir::stream::Sink<u32> {
    stream::into_sink(futures::sink::unfold(
        0usize,
        move |count, _: u32| async move {
            if count < n {
                Ok(count + 1)
            } else {
                Err(Error::closed("test sink"))
            }
        },
    ))
}

#[test]
fn put_all_says_how_many_were_put_when_the_sink_closes() {
    run(async {
        let error = stream::put_all(closing_after(2), 0..5).await.unwrap_err();
        assert!(error.is_closed());
        assert_eq!(
            error.to_string(),
            "put_all: 2 messages were put, then the sink closed"
        );
        let error = stream::put_all(closing_after(1), 0..5).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "put_all: 1 message was put, then the sink closed"
        );
        stream::put_all(closing_after(3), 0..3).await.unwrap();
    });
}

#[test]
fn put_all_returns_other_sink_failures_as_they_are() {
    run(async {
        let failing = stream::into_sink(futures::sink::unfold((), |(), _: u32| async {
            Err::<(), _>(Error::protocol("refused"))
        }));
        let error = stream::put_all(failing, vec![1]).await.unwrap_err();
        assert!(error.is_protocol());
    });
}

// ---- consume

#[test]
fn consume_sees_every_message_in_order() {
    run(async {
        let (seen, sink) = log();
        let source = Channel::new(4);
        let done = stream::consume(source.clone(), move |n| sink.lock().unwrap().push(n));
        for n in 0..20 {
            source.put(n).await.unwrap();
        }
        source.close();
        done.await.unwrap();
        assert_eq!(*seen.lock().unwrap(), (0..20).collect::<Vec<_>>());
    });
}

#[test]
fn consume_reports_the_drain_cause() {
    run(async {
        let source = Channel::<u8>::new(1);
        source.close_with_error(Error::msg("gone"));
        let error = source.consume(|_| {}).await.unwrap_err();
        assert_eq!(error.to_string(), "gone");
    });
}

#[test]
fn consume_panic_closes_the_source_and_is_reported() {
    run(async {
        let source = Channel::new(4);
        source.put(1).await.unwrap();
        source.put(2).await.unwrap();
        let done = stream::consume(source.clone(), |n: u32| {
            if n == 2 {
                panic!("cannot handle 2");
            }
        });
        let error = done.await.unwrap_err();
        assert!(error.is_panic());
        assert_eq!(error.to_string(), "panicked: cannot handle 2");
        assert!(source.is_closed());
    });
}

// ---- consume_async

#[test]
fn consume_async_waits_for_each_future_before_the_next_message() {
    run(async {
        let source = Channel::new(4);
        source.put(1).await.unwrap();
        source.put(2).await.unwrap();
        let gate: Deferred<()> = Deferred::new();
        let (called_tx, called_rx) = async_channel::unbounded();
        let waiting = gate.clone();
        let done = stream::consume_async(source.clone(), move |n: u32| {
            called_tx.try_send(n).unwrap();
            let gate = waiting.clone();
            async move {
                gate.await.unwrap();
                true
            }
        });
        assert_eq!(called_rx.recv().await.unwrap(), 1);
        // The callback for 1 waits on the gate: 2 is still in the source.
        assert_eq!(source.description().buffer_size, Some(1));
        gate.success(());
        assert_eq!(called_rx.recv().await.unwrap(), 2);
        source.close();
        done.await.unwrap();
    });
}

#[test]
fn consume_async_false_stops_and_closes_the_source() {
    run(async {
        let (seen, sink) = log();
        let source = Channel::new(8);
        for n in 0..5 {
            source.put(n).await.unwrap();
        }
        let done = source.clone().consume_async(move |n| {
            sink.lock().unwrap().push(n);
            async move { n != 2 }
        });
        done.await.unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![0, 1, 2]);
        assert!(source.is_closed());
        assert_eq!(drain(&source).await, vec![3, 4], "the rest stays takeable");
    });
}

#[test]
fn consume_async_reports_panics_in_the_callback_and_its_future() {
    run(async {
        let source = Channel::new(1);
        source.put(1u8).await.unwrap();
        let error = stream::consume_async(source.clone(), |_| -> std::future::Ready<bool> {
            panic!("in the callback")
        })
        .await
        .unwrap_err();
        assert!(error.is_panic());
        assert!(source.is_closed());

        let source = Channel::new(1);
        source.put(1u8).await.unwrap();
        let error = stream::consume_async(source.clone(), |_| async {
            panic!("in the future");
        })
        .await
        .unwrap_err();
        assert_eq!(error.to_string(), "panicked: in the future");
        assert!(source.is_closed());
    });
}

#[test]
fn consume_async_reports_the_drain_cause() {
    run(async {
        let source = Channel::<u8>::new(1);
        source.close_with_error(Error::protocol("bad"));
        let error = stream::consume_async(source, |_| async { true })
            .await
            .unwrap_err();
        assert!(error.is_protocol());
    });
}

// ---- blocking iterator

/// Runs `f` on its own thread and fails the test if it does not finish within [`BOUND`].
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(BOUND).expect("blocking test timed out")
}

#[test]
fn blocking_iter_reads_a_source_from_synchronous_code() {
    let channel = Channel::new(2);
    let producer = channel.clone();
    let task = weir::runtime::spawn(async move {
        for n in 0..10 {
            producer.put(n).await.unwrap();
        }
        producer.close();
    });
    let all = bounded(move || channel.into_blocking_iter().collect::<Vec<u32>>());
    assert_eq!(all, (0..10).collect::<Vec<_>>());
    run(task);
}

#[test]
fn blocking_iter_over_a_lazy_source_and_after_the_end() {
    let mut it = stream::iter(vec![1, 2]).into_blocking_iter();
    assert_eq!(it.size_hint(), (2, Some(2)));
    assert_eq!(it.next(), Some(1));
    assert_eq!(it.next(), Some(2));
    assert_eq!(it.next(), None);
    assert_eq!(it.next(), None);
    assert!(!it.timed_out());
    assert!(it.source().is_drained());
}

#[test]
fn blocking_iter_idle_timeout_ends_and_can_resume() {
    bounded(|| {
        let channel = Channel::new(4);
        let producer = channel.clone();
        weir::runtime::block_on(async {
            producer.put(1).await.unwrap();
        });
        let mut it = channel.into_blocking_iter_timeout(Duration::from_millis(20));
        assert_eq!(it.next(), Some(1));
        assert_eq!(it.next(), None);
        assert!(it.timed_out());
        assert!(!it.source().is_drained());
        weir::runtime::block_on(async {
            producer.put(2).await.unwrap();
        });
        assert_eq!(it.next(), Some(2));
        assert!(!it.timed_out());
        producer.close();
        assert_eq!(it.next(), None);
        assert!(!it.timed_out());
    });
}

#[test]
fn blocking_iter_with_timeout_collects_until_idle() {
    let all = bounded(|| {
        let source = stream::iter(0..5).into_blocking_iter_timeout(Duration::from_secs(5));
        source.collect::<Vec<_>>()
    });
    assert_eq!(all, vec![0, 1, 2, 3, 4]);
}

// ---- connect_via

/// A callback that puts `n * 10` into `out`, true while the put succeeds.
fn times_ten(out: Channel<u32>) -> impl FnMut(u32) -> futures::future::BoxFuture<'static, bool> {
    move |n| {
        let out = out.clone();
        Box::pin(async move { out.put(n * 10).await.is_ok() })
    }
}

#[test]
fn connect_via_feeds_every_message_through_the_callback() {
    run(async {
        let (source, sink) = (Channel::new(4), Channel::new(4));
        let done = stream::connect_via(
            source.clone(),
            times_ten(sink.clone()),
            sink.clone(),
            ConnectOptions::new(),
        );
        for n in 1..=3 {
            source.put(n).await.unwrap();
        }
        source.close();
        done.await.unwrap();
        assert_eq!(drain(&sink).await, vec![10, 20, 30]);
    });
}

#[test]
fn connect_via_takes_the_next_message_only_when_the_future_is_done() {
    run(async {
        let source = Channel::new(4);
        let sink = Channel::<u32>::new(4);
        source.put(1).await.unwrap();
        source.put(2).await.unwrap();
        let gate: Deferred<()> = Deferred::new();
        let waiting = gate.clone();
        let (called_tx, called_rx) = async_channel::unbounded();
        let done = stream::connect_via(
            source.clone(),
            move |n: u32| {
                called_tx.try_send(n).unwrap();
                let gate = waiting.clone();
                async move { gate.await.is_ok() }
            },
            sink.clone(),
            ConnectOptions::new(),
        );
        assert_eq!(called_rx.recv().await.unwrap(), 1);
        assert_eq!(source.description().buffer_size, Some(1), "2 not taken yet");
        gate.success(());
        assert_eq!(called_rx.recv().await.unwrap(), 2);
        source.close();
        done.await.unwrap();
    });
}

#[test]
fn connect_via_false_severs_the_connection() {
    run(async {
        let (source, sink) = (Channel::new(8), Channel::<u32>::new(8));
        for n in 0..5 {
            source.put(n).await.unwrap();
        }
        let (seen, log_sink) = log();
        let done = stream::connect_via(
            source.clone(),
            move |n: u32| {
                log_sink.lock().unwrap().push(n);
                async move { n < 1 }
            },
            sink.clone(),
            ConnectOptions::new(),
        );
        done.await.unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![0, 1]);
        assert!(!source.is_closed(), "upstream is off by default");
        assert!(!sink.is_closed(), "severing does not close the sink");
        assert!(source.node().downstream().is_empty(), "the edge is gone");
    });
}

#[test]
fn connect_via_sever_with_upstream_closes_the_source() {
    run(async {
        let (source, sink) = (Channel::new(2), Channel::<u32>::new(2));
        source.put(0).await.unwrap();
        let done = stream::connect_via(
            source.clone(),
            |_n: u32| async { false },
            sink.clone(),
            ConnectOptions::new().upstream(true),
        );
        done.await.unwrap();
        assert!(source.is_closed());
    });
}

#[test]
fn connect_via_closes_the_sink_when_the_source_drains_if_downstream() {
    run(async {
        let (source, sink) = (Channel::<u32>::new(1), Channel::new(1));
        source.close();
        stream::connect_via(
            source,
            times_ten(sink.clone()),
            sink.clone(),
            ConnectOptions::new(),
        )
        .await
        .unwrap();
        assert!(sink.is_closed());

        let (source, sink) = (Channel::<u32>::new(1), Channel::new(1));
        source.close();
        stream::connect_via(
            source,
            times_ten(sink.clone()),
            sink.clone(),
            ConnectOptions::new().downstream(false),
        )
        .await
        .unwrap();
        assert!(!sink.is_closed());
    });
}

#[test]
fn connect_via_closes_the_source_when_the_sink_closes_if_upstream() {
    run(async {
        // Noticed while idle, without a message.
        let (source, sink) = (Channel::<u32>::new(1), Channel::new(1));
        let done = stream::connect_via(
            source.clone(),
            times_ten(sink.clone()),
            sink.clone(),
            ConnectOptions::new().upstream(true),
        );
        sink.close();
        done.await.unwrap();
        assert!(source.is_closed());

        let (source, sink) = (Channel::<u32>::new(1), Channel::new(1));
        let done = stream::connect_via(
            source.clone(),
            times_ten(sink.clone()),
            sink.clone(),
            ConnectOptions::new(),
        );
        sink.close();
        done.await.unwrap();
        assert!(!source.is_closed(), "upstream off: the source stays open");
    });
}

#[test]
fn connect_via_notices_the_sink_closing_while_a_future_waits() {
    run(async {
        let (source, sink) = (Channel::new(2), Channel::<u32>::new(1));
        source.put(1).await.unwrap();
        let (called_tx, called_rx) = async_channel::unbounded();
        let done = stream::connect_via(
            source.clone(),
            move |_n: u32| {
                called_tx.try_send(()).unwrap();
                // Stands for a put that never completes.
                std::future::pending::<bool>()
            },
            sink.clone(),
            ConnectOptions::new().upstream(true),
        );
        called_rx.recv().await.unwrap();
        sink.close();
        done.await.unwrap();
        assert!(source.is_closed());
    });
}

#[test]
fn connect_via_reports_the_drain_cause_and_panics() {
    run(async {
        let (source, sink) = (Channel::<u32>::new(1), Channel::new(1));
        source.close_with_error(Error::msg("source failed"));
        let error = stream::connect_via(
            source,
            times_ten(sink.clone()),
            sink.clone(),
            ConnectOptions::new(),
        )
        .await
        .unwrap_err();
        assert_eq!(error.to_string(), "source failed");
        assert!(sink.is_closed());

        let (source, sink) = (Channel::<u32>::new(1), Channel::<u32>::new(1));
        source.put(1).await.unwrap();
        let error = stream::connect_via(
            source.clone(),
            |_n: u32| -> std::future::Ready<bool> { panic!("callback broke") },
            sink.clone(),
            ConnectOptions::new(),
        )
        .await
        .unwrap_err();
        assert!(error.is_panic());
        assert!(source.is_closed());
        assert!(sink.is_closed());
    });
}

#[test]
fn connect_via_shows_an_edge_while_connected() {
    run(async {
        let (source, sink) = (Channel::<u32>::new(1), Channel::new(1));
        let done = stream::connect_via(
            source.clone(),
            times_ten(sink.clone()),
            sink.clone(),
            ConnectOptions::new(),
        );
        let text = source.node().render_text();
        assert!(text.contains("-[connect-via]-> stream"), "{text}");
        source.close();
        done.await.unwrap();
        assert!(source.node().downstream().is_empty());
    });
}

#[test]
fn connect_via_times_out_a_slow_callback_and_labels_its_edge() {
    support::run(async {
        let (source, sink) = (Channel::<u8>::new(2), Channel::<u8>::new(2));
        let done = weir::stream::connect_via(
            source.clone(),
            |_| std::future::pending::<bool>(),
            sink.clone(),
            ConnectOptions::new()
                .timeout(std::time::Duration::from_millis(10))
                .description("slow callback"),
        );
        let edges = source.node().downstream();
        assert_eq!(edges[0].description.as_deref(), Some("slow callback"));
        source.put(1).await.unwrap();
        assert!(done.await.unwrap_err().is_timeout());
        assert!(sink.is_closed(), "downstream is on by default");
        assert!(!source.is_closed(), "upstream is off by default");
    });
}

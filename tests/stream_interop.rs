//! Interop: splice, source-only and sink-only views, and the conversions from the futures
//! ecosystem (`from_stream`, `once`, `from_receiver`, `into_sink`).

mod support;

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{SinkExt, Stream, StreamExt};
use support::run;
use weir::stream::{self, Channel, ConnectOptions, Sink, Source, connect};
use weir::{Deferred, Error};

async fn drain<T>(s: &Channel<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(m) = s.take_next().await {
        out.push(m);
    }
    out
}

#[test]
fn smoke() {
    run(async {
        let (out, inn) = (Channel::new(1), Channel::new(1));
        let mut duplex = stream::splice(out.clone(), inn.clone());
        duplex.send(1).await.unwrap();
        inn.put(2).await.unwrap();
        assert_eq!(Channel::take_next(&out).await, Some(1));
        assert_eq!(duplex.next().await, Some(2));
    });
}

#[test]
fn new_types_are_send_and_sync_where_they_should_be() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<stream::Splice<Channel<u8>, Channel<u8>>>();
    sync::<stream::Splice<Channel<u8>, Channel<u8>>>();
    send::<stream::SourceOnly<Channel<u8>>>();
    send::<stream::SinkOnly<Channel<u8>>>();
    send::<stream::FromStream<futures::stream::Iter<std::vec::IntoIter<u8>>>>();
    send::<stream::Once<u8, Error>>();
    send::<stream::FromReceiver<u8>>();
    send::<stream::IntoSink<futures::channel::mpsc::Sender<u8>>>();
    send::<stream::EventBus<String, u8>>();
    sync::<stream::EventBus<String, u8>>();
    send::<stream::BlockingIter<Channel<u8>>>();
}

// ---- splice

#[test]
fn splice_takes_from_the_source_and_puts_into_the_sink() {
    run(async {
        let (out, inn) = (Channel::new(4), Channel::new(4));
        let mut duplex = stream::splice(out.clone(), inn.clone());
        duplex.send("a").await.unwrap();
        duplex.send("b").await.unwrap();
        inn.put("x").await.unwrap();
        inn.close();
        assert_eq!(duplex.by_ref().collect::<Vec<_>>().await, vec!["x"]);
        out.close();
        assert_eq!(drain(&out).await, vec!["a", "b"]);
    });
}

#[test]
fn splice_halves_may_carry_different_types() {
    run(async {
        let (out, inn) = (Channel::<u32>::new(1), Channel::<String>::new(1));
        let mut duplex = stream::splice(out.clone(), inn.clone());
        duplex.send(7).await.unwrap();
        inn.put("seven".to_string()).await.unwrap();
        assert_eq!(Channel::take_next(&out).await, Some(7));
        assert_eq!(duplex.next().await.as_deref(), Some("seven"));
    });
}

#[test]
fn splice_close_closes_both_halves() {
    let (out, inn) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
    let duplex = stream::splice(out.clone(), inn.clone());
    Source::close(&duplex);
    assert!(out.is_closed());
    assert!(inn.is_closed());
    assert!(Sink::is_closed(&duplex));
    assert!(duplex.is_drained());
}

#[test]
fn splice_sink_close_closes_only_the_sink_half() {
    run(async {
        let (out, inn) = (Channel::new(1), Channel::new(1));
        let mut duplex = stream::splice(out.clone(), inn.clone());
        SinkExt::close(&mut duplex).await.unwrap();
        assert!(out.is_closed());
        assert!(!inn.is_closed());
        inn.put(5u8).await.unwrap();
        assert_eq!(duplex.next().await, Some(5));
        assert!(duplex.send(1u8).await.unwrap_err().is_closed());
    });
}

#[test]
fn splice_close_now_closes_the_sink_half() {
    let (out, inn) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
    let duplex = stream::splice(out.clone(), inn.clone());
    Sink::close_now(&duplex);
    assert!(out.is_closed());
    assert!(!inn.is_closed());
}

#[test]
fn splice_is_drained_when_its_source_is_with_the_same_cause() {
    run(async {
        let (out, inn) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
        let duplex = stream::splice(out, inn.clone());
        let drained = duplex.drained();
        inn.close_with_error(Error::msg("peer reset"));
        assert_eq!(drained.await.unwrap_err().to_string(), "peer reset");
    });
}

#[test]
fn splice_description_and_edges() {
    let (out, inn) = (Channel::<u8>::new(1), Channel::<u8>::new(2));
    let duplex = stream::splice(out.clone(), inn.clone());
    let d = Source::description(&duplex);
    assert_eq!(d.kind, "splice");
    assert!(!d.closed && !d.drained);

    let node = Source::node(&duplex);
    let edges = node.downstream();
    let labels: Vec<_> = edges.iter().map(|e| e.description.clone()).collect();
    assert_eq!(
        labels,
        vec![Some("sink".to_string()), Some("source".to_string())]
    );
    assert_eq!(edges[0].target.description().buffer_capacity, Some(1));
    assert_eq!(edges[1].target.description().buffer_capacity, Some(2));

    out.close();
    assert!(node.description().closed);
    assert!(!node.description().drained);
    inn.close();
    assert!(node.description().drained);

    let text = node.render_text();
    assert!(text.starts_with("splice"), "{text}");
    assert!(text.contains("-[sink]-> stream"), "{text}");
}

#[test]
fn splice_sink_and_source_views_share_one_node() {
    let duplex = stream::splice(Channel::<u8>::new(1), Channel::<u8>::new(1));
    let as_source = Source::node(&duplex).description();
    let as_sink = Sink::node(&duplex).description();
    assert_eq!(as_source, as_sink);
}

#[test]
fn splice_connects_as_a_source_and_as_a_sink() {
    run(async {
        // upstream -> [duplex sink half] ... [duplex source half] -> downstream
        let (out, inn) = (Channel::new(4), Channel::new(4));
        let duplex = stream::splice(out.clone(), inn.clone());
        let upstream = Channel::new(4);
        let downstream = Channel::new(4);
        let into = connect(
            upstream.clone(),
            stream::splice(out.clone(), inn.clone()),
            ConnectOptions::new(),
        );
        let from = connect(duplex, downstream.clone(), ConnectOptions::new());
        upstream.put(1).await.unwrap();
        upstream.close();
        into.await.unwrap();
        assert_eq!(drain(&out).await, vec![1], "closed when upstream drained");
        inn.put(2).await.unwrap();
        inn.close();
        from.await.unwrap();
        assert_eq!(drain(&downstream).await, vec![2]);
    });
}

#[test]
fn splice_exposes_and_returns_its_halves() {
    let (out, inn) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
    let duplex = stream::splice(out.clone(), inn.clone());
    assert!(duplex.sink().same_channel(&out));
    assert!(duplex.source().same_channel(&inn));
    let copy = duplex.clone();
    assert_eq!(
        Source::node(&copy).description(),
        Source::node(&duplex).description()
    );
    let (sink, source) = duplex.into_parts();
    assert!(sink.same_channel(&out) && source.same_channel(&inn));
}

// ---- source_only / sink_only

#[test]
fn source_only_takes_closes_and_reports() {
    run(async {
        let channel = Channel::new(2);
        let view = stream::source_only(channel.clone());
        channel.put(1).await.unwrap();
        assert_eq!(stream::SourceOnly::take_next(&view).await, Some(1));
        assert_eq!(view.description().kind, "stream");
        assert_eq!(view.description().buffer_capacity, Some(2));
        let drained = view.drained();
        view.close();
        assert!(channel.is_closed() && view.is_closed());
        drained.await.unwrap();
        assert_eq!(view.collect::<Vec<u8>>().await, Vec::<u8>::new());
    });
}

#[test]
fn source_only_views_a_lazy_source() {
    run(async {
        let view = stream::source_only(stream::iter(vec![1, 2, 3]));
        assert_eq!(view.size_hint(), (3, Some(3)));
        assert_eq!(view.collect::<Vec<_>>().await, vec![1, 2, 3]);
    });
}

#[test]
fn sink_only_puts_closes_and_reports() {
    run(async {
        let channel = Channel::new(2);
        let mut view = stream::sink_only(channel.clone());
        view.put(1).await.unwrap();
        view.send(2).await.unwrap();
        assert_eq!(Sink::description(&view).buffer_size, Some(2));
        view.close();
        assert!(Sink::is_closed(&view));
        assert_eq!(drain(&channel).await, vec![1, 2]);
        assert!(view.send(3).await.unwrap_err().is_closed());
    });
}

#[test]
fn sink_only_is_a_sink_for_connect() {
    run(async {
        let (source, target) = (Channel::new(2), Channel::new(2));
        let done = connect(
            source.clone(),
            stream::sink_only(target.clone()),
            ConnectOptions::new(),
        );
        source.put("m").await.unwrap();
        source.close();
        done.await.unwrap();
        assert_eq!(drain(&target).await, vec!["m"]);
    });
}

#[test]
fn sink_only_close_now_and_poll_closed() {
    run(async {
        let channel = Channel::<u8>::new(1);
        let mut view = stream::sink_only(channel.clone());
        let waiter = weir::runtime::spawn(async move {
            std::future::poll_fn(|cx| Pin::new(&mut view).poll_closed(cx)).await;
        });
        Sink::close_now(&stream::sink_only(channel.clone()));
        waiter.await;
        assert!(channel.is_closed());
    });
}

// ---- from_stream

#[test]
fn from_stream_yields_the_stream_and_drains_cleanly() {
    run(async {
        let source = stream::from_stream(futures::stream::iter(1..=3));
        assert_eq!(source.description().kind, "stream-adapter");
        assert_eq!(source.size_hint(), (3, Some(3)));
        let drained = source.drained();
        assert_eq!(source.collect::<Vec<_>>().await, vec![1, 2, 3]);
        drained.await.unwrap();
    });
}

#[test]
fn from_stream_composes_with_futures_stream_ext_both_ways() {
    run(async {
        let source = stream::from_stream(
            futures::stream::iter(1..=10)
                .filter(|n| futures::future::ready(n % 2 == 0))
                .map(|n| n * 10),
        );
        let out: Vec<i32> = source.map(|n| n + 1).take(3).collect().await;
        assert_eq!(out, vec![21, 41, 61]);
    });
}

#[test]
fn from_stream_close_ends_it_at_once() {
    run(async {
        let mut source = stream::from_stream(futures::stream::iter(1..));
        assert_eq!(source.next().await, Some(1));
        source.close();
        assert_eq!(source.next().await, None);
        assert!(source.description().closed);
        source.drained().await.unwrap();
    });
}

#[test]
fn from_stream_connects_into_a_channel() {
    run(async {
        let target = Channel::new(8);
        let done = connect(
            stream::from_stream(futures::stream::iter(vec!['a', 'b'])),
            target.clone(),
            ConnectOptions::new(),
        );
        done.await.unwrap();
        assert_eq!(drain(&target).await, vec!['a', 'b']);
    });
}

// ---- once

#[test]
fn once_yields_the_value_then_ends() {
    run(async {
        let d: Deferred<u32> = Deferred::new();
        let mut source = stream::once(d.clone());
        assert_eq!(source.description().kind, "once");
        assert_eq!(source.size_hint(), (0, Some(1)));
        let realizer = d.realizer();
        weir::runtime::spawn(async move { realizer.success(9) }).detach();
        assert_eq!(source.next().await, Some(9));
        assert!(source.is_drained());
        assert_eq!(source.next().await, None);
        source.drained().await.unwrap();
    });
}

#[test]
fn once_of_a_failed_deferred_ends_with_its_error() {
    run(async {
        let source = stream::once(Deferred::<u8>::failed(Error::protocol("bad frame")));
        let drained = source.drained();
        assert_eq!(source.collect::<Vec<_>>().await, Vec::<u8>::new());
        let cause = drained.await.unwrap_err();
        assert!(cause.is_protocol());
    });
}

#[test]
fn once_converts_the_error_type() {
    run(async {
        let d: Deferred<u8, std::io::Error> =
            Deferred::failed(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let source = stream::once(d);
        let drained = source.drained();
        assert_eq!(source.count().await, 0);
        assert!(drained.await.unwrap_err().is_io());
    });
}

#[test]
fn once_closed_before_the_value_ends_empty() {
    run(async {
        let d: Deferred<u8> = Deferred::new();
        let mut source = stream::once(d.clone());
        source.close();
        d.success(1);
        assert_eq!(source.next().await, None);
        source.drained().await.unwrap();
    });
}

// ---- from_receiver

#[test]
fn from_receiver_yields_until_every_sender_is_gone() {
    run(async {
        let (tx, rx) = async_channel::bounded(2);
        let source = stream::from_receiver(rx);
        assert_eq!(source.description().kind, "receiver");
        let drained = source.drained();
        let producer = weir::runtime::spawn(async move {
            for n in 0..5 {
                tx.send(n).await.unwrap();
            }
        });
        assert_eq!(source.collect::<Vec<_>>().await, vec![0, 1, 2, 3, 4]);
        producer.await;
        drained.await.unwrap();
    });
}

#[test]
fn from_receiver_close_closes_the_async_channel() {
    run(async {
        let (tx, rx) = async_channel::unbounded();
        tx.send(1).await.unwrap();
        let source = stream::from_receiver(rx);
        source.close();
        assert!(tx.is_closed());
        assert!(tx.send(2).await.is_err());
        assert!(source.description().closed);
        // What was in it can still be taken.
        assert_eq!(source.collect::<Vec<_>>().await, vec![1]);
    });
}

#[test]
fn from_receiver_feeds_connect_and_weir_combinators() {
    run(async {
        let (tx, rx) = async_channel::unbounded();
        for n in 1..=3 {
            tx.send(n).await.unwrap();
        }
        drop(tx);
        let target = Channel::new(8);
        connect(
            stream::from_receiver(rx),
            target.clone(),
            ConnectOptions::new(),
        )
        .await
        .unwrap();
        assert_eq!(drain(&target).await, vec![1, 2, 3]);
    });
}

// ---- into_sink

#[test]
fn into_sink_forwards_to_a_futures_sink() {
    run(async {
        let (tx, rx) = futures::channel::mpsc::channel(4);
        let mut sink = stream::into_sink(tx.sink_map_err(Error::other));
        assert_eq!(Sink::<u8>::description(&sink).kind, "sink-adapter");
        sink.send(1u8).await.unwrap();
        sink.send_all(&mut futures::stream::iter(vec![Ok(2), Ok(3)]))
            .await
            .unwrap();
        assert!(!Sink::<u8>::is_closed(&sink));
        SinkExt::close(&mut sink).await.unwrap();
        assert!(Sink::<u8>::is_closed(&sink));
        assert!(Sink::<u8>::description(&sink).closed);
        assert!(sink.send(4).await.unwrap_err().is_closed());
        assert_eq!(rx.collect::<Vec<_>>().await, vec![1, 2, 3]);
    });
}

/// A futures sink that accepts `limit` messages, then fails with `error`.
struct Failing {
    accepted: Vec<u32>,
    limit: usize,
    error: Error,
}

impl futures_sink::Sink<u32> for Failing {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.accepted.len() >= self.limit {
            Poll::Ready(Err(self.error.clone()))
        } else {
            Poll::Ready(Ok(()))
        }
    }

    fn start_send(mut self: Pin<&mut Self>, item: u32) -> Result<(), Error> {
        self.accepted.push(item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
fn into_sink_is_closed_once_a_send_failed() {
    run(async {
        let mut sink = stream::into_sink(Failing {
            accepted: Vec::new(),
            limit: 1,
            error: Error::msg("disk full"),
        });
        sink.send(1).await.unwrap();
        let error = sink.send(2).await.unwrap_err();
        assert_eq!(error.to_string(), "disk full");
        assert!(Sink::<u32>::is_closed(&sink));
        assert!(sink.send(3).await.unwrap_err().is_closed());
        std::future::poll_fn(|cx| Sink::<u32>::poll_closed(Pin::new(&mut sink), cx)).await;
    });
}

#[test]
fn into_sink_close_now_refuses_further_sends_but_still_closes_the_inner_sink() {
    run(async {
        let (tx, rx) = futures::channel::mpsc::unbounded::<u8>();
        let mut sink = stream::into_sink(tx.sink_map_err(Error::other));
        sink.send(1).await.unwrap();
        Sink::<u8>::close_now(&sink);
        assert!(Sink::<u8>::is_closed(&sink));
        assert!(sink.send(2).await.unwrap_err().is_closed());
        // Closing still reaches the inner sink: the receiver sees the end.
        SinkExt::close(&mut sink).await.unwrap();
        assert_eq!(rx.collect::<Vec<_>>().await, vec![1]);
    });
}

#[test]
fn into_sink_poll_closed_completes_on_close_now() {
    run(async {
        let (tx, _rx) = futures::channel::mpsc::unbounded::<u8>();
        let sink = stream::into_sink(tx.sink_map_err(Error::other));
        let sink = std::sync::Arc::new(std::sync::Mutex::new(sink));
        let watcher = sink.clone();
        let closed = weir::runtime::spawn(async move {
            std::future::poll_fn(|cx| {
                let mut guard = watcher.lock().unwrap();
                Sink::<u8>::poll_closed(Pin::new(&mut *guard), cx)
            })
            .await;
        });
        Sink::<u8>::close_now(&*sink.lock().unwrap());
        closed.await;
    });
}

#[test]
fn into_sink_is_a_sink_for_connect() {
    run(async {
        let (tx, rx) = futures::channel::mpsc::channel(1);
        let source = Channel::new(4);
        let done = connect(
            source.clone(),
            stream::into_sink(tx.sink_map_err(Error::other)),
            ConnectOptions::new(),
        );
        for n in 0..4 {
            source.put(n).await.unwrap();
        }
        source.close();
        let received = weir::runtime::spawn(rx.collect::<Vec<_>>());
        done.await.unwrap();
        assert_eq!(received.await, vec![0, 1, 2, 3]);
    });
}

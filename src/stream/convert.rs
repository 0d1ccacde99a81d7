//! Conversions from the futures ecosystem into weir: any stream, a deferred, an async-channel
//! receiver as a [`Source`]; any `futures_sink::Sink` as a [`Sink`]. Manifold's `->source` and
//! `->sink`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::{Description, Edge, Edges, Node, Vertex};
use super::sink::Sink;
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// A `futures_core::Stream` as a weir source; see [`from_stream`].
    #[must_use = "sources do nothing unless polled"]
    pub struct FromStream<St> {
        #[pin]
        stream: St,
        done: bool,
        stage: Stage,
    }
}

/// Any `futures_core::Stream` as a weir [`Source`], with a graph node of kind `stream-adapter`.
/// The source drains cleanly when the stream ends; closing it ends it at once (the stream is
/// not polled again).
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use weir::stream::{self, Source};
///
/// # weir::runtime::block_on(async {
/// let source = stream::from_stream(futures::stream::iter(vec![1, 2, 3]).map(|n| n * 10));
/// assert_eq!(source.description().kind, "stream-adapter");
/// let drained = source.drained();
/// assert_eq!(source.collect::<Vec<_>>().await, vec![10, 20, 30]);
/// assert!(drained.await.is_ok());
/// # });
/// ```
pub fn from_stream<St: futures_core::Stream + Send>(stream: St) -> FromStream<St> {
    FromStream {
        stream,
        done: false,
        stage: Stage::root("stream-adapter"),
    }
}

impl<St: futures_core::Stream> futures_core::Stream for FromStream<St> {
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let this = self.project();
        if *this.done || this.stage.is_finished() {
            *this.done = true;
            return Poll::Ready(None);
        }
        let item = ready!(this.stream.poll_next(cx));
        if item.is_none() {
            *this.done = true;
            this.stage.finish(Ok(()));
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            self.stream.size_hint()
        }
    }
}

impl<St: futures_core::Stream + Send> Source for FromStream<St> {
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<St> fmt::Debug for FromStream<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromStream")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// A source of the one value of a deferred; see [`once`].
#[must_use = "sources do nothing unless polled"]
pub struct Once<T, E> {
    deferred: Option<Deferred<T, E>>,
    stage: Stage,
}

/// A source of exactly one message, the value of `deferred`, with a graph node of kind `once`:
/// Manifold's `->source` of a deferred.
///
/// It yields the value once the deferred succeeds and is then drained. If the deferred fails,
/// it yields nothing and its drain outcome ([`Source::drained`]) is the deferred's error.
/// Closing it before the value arrives ends it without one.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use weir::{Deferred, Error};
/// use weir::stream::{self, Source};
///
/// # weir::runtime::block_on(async {
/// let answer: Deferred<u32> = Deferred::new();
/// let source = stream::once(answer.clone());
/// answer.success(42);
/// assert_eq!(source.collect::<Vec<_>>().await, vec![42]);
///
/// let failed = stream::once(Deferred::<u32>::failed(Error::msg("no answer")));
/// let cause = failed.drained();
/// assert_eq!(failed.collect::<Vec<_>>().await, Vec::<u32>::new());
/// assert_eq!(cause.await.unwrap_err().to_string(), "no answer");
/// # });
/// ```
pub fn once<T, E>(deferred: Deferred<T, E>) -> Once<T, E>
where
    E: Into<Error>,
{
    Once {
        deferred: Some(deferred),
        stage: Stage::root("once"),
    }
}

impl<T, E: Into<Error>> futures_core::Stream for Once<T, E> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.stage.is_finished() {
            this.deferred = None;
        }
        let Some(deferred) = this.deferred.as_mut() else {
            this.stage.finish(Ok(()));
            return Poll::Ready(None);
        };
        let outcome = ready!(Pin::new(deferred).poll(cx));
        this.deferred = None;
        match outcome {
            Ok(value) => {
                this.stage.finish(Ok(()));
                Poll::Ready(Some(value))
            }
            Err(error) => {
                this.stage.finish(Err(error.into()));
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.deferred {
            Some(_) => (0, Some(1)),
            None => (0, Some(0)),
        }
    }
}

impl<T: Send, E: Into<Error> + Send> Source for Once<T, E> {
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<T, E> fmt::Debug for Once<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("done", &self.deferred.is_none())
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// An `async_channel::Receiver` as a weir source; see [`from_receiver`]. It is `Unpin`
    /// (the receiver, which is not, is boxed), so it can be boxed and polled like any source.
    #[must_use = "sources do nothing unless polled"]
    pub struct FromReceiver<T> {
        receiver: Pin<Box<async_channel::Receiver<T>>>,
        done: bool,
        stage: Stage,
    }
}

/// An [`async_channel::Receiver`] as a weir [`Source`], with a graph node of kind `receiver`.
///
/// It drains cleanly once the channel is closed (every sender dropped, or
/// [`close`](async_channel::Receiver::close) called) and empty. Closing the source closes the
/// async channel, so senders fail from then on; messages already in it can still be taken.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use weir::stream::{self, Source};
///
/// # weir::runtime::block_on(async {
/// let (tx, rx) = async_channel::bounded(4);
/// let source = stream::from_receiver(rx);
/// tx.send("a").await.unwrap();
/// tx.send("b").await.unwrap();
/// drop(tx);
/// assert_eq!(source.collect::<Vec<_>>().await, vec!["a", "b"]);
/// # });
/// ```
pub fn from_receiver<T>(receiver: async_channel::Receiver<T>) -> FromReceiver<T> {
    FromReceiver {
        receiver: Box::pin(receiver),
        done: false,
        stage: Stage::root("receiver"),
    }
}

impl<T> futures_core::Stream for FromReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let item = ready!(this.receiver.as_mut().poll_next(cx));
        if item.is_none() {
            *this.done = true;
            this.stage.finish(Ok(()));
        }
        Poll::Ready(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            self.receiver.size_hint()
        }
    }
}

impl<T: Send> Source for FromReceiver<T> {
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.mark_closed();
        self.receiver.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<T> fmt::Debug for FromReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromReceiver")
            .field("receiver", &self.receiver)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// A `futures_sink::Sink` as a weir sink; see [`into_sink`].
    #[must_use = "sinks do nothing unless messages are sent"]
    pub struct IntoSink<K> {
        #[pin]
        sink: K,
        // The inner sink failed or finished closing: it is not polled again.
        finished: bool,
        vertex: Arc<SinkVertex>,
        watch: Option<Deferred<(), Error>>,
    }
}

struct SinkVertex {
    closed: Deferred<(), Error>,
    edges: Edges,
}

/// Any `futures_sink::Sink` whose error converts into [`weir::Error`](Error) as a weir
/// [`Sink`], with a graph node of kind `sink-adapter`: Manifold's `->sink`.
///
/// The weir sink counts as closed once `poll_close` ran to completion, once the inner sink
/// reported an error, or once [`Sink::close_now`] was called; from then on sends fail with a
/// [closed error](Error::is_closed). After `close_now`, flushing and closing still reach the
/// inner sink, so what it accepted before can be delivered.
///
/// A sink whose error does not convert (`Infallible`, `SendError`) can be adapted first with
/// `futures::SinkExt::sink_map_err`.
///
/// # Examples
///
/// ```
/// use futures::SinkExt;
/// use weir::stream::{self, Sink};
///
/// # weir::runtime::block_on(async {
/// let (tx, rx) = futures::channel::mpsc::channel(4);
/// let mut sink = stream::into_sink(tx.sink_map_err(weir::Error::other));
/// sink.send(1).await.unwrap();
/// sink.close().await.unwrap();
/// assert!(Sink::<i32>::is_closed(&sink));
/// assert!(sink.send(2).await.unwrap_err().is_closed());
/// drop(sink);
/// assert_eq!(futures::StreamExt::collect::<Vec<_>>(rx).await, vec![1]);
/// # });
/// ```
pub fn into_sink<K>(sink: K) -> IntoSink<K> {
    IntoSink {
        sink,
        finished: false,
        vertex: Arc::new(SinkVertex {
            closed: Deferred::new(),
            edges: Edges::default(),
        }),
        watch: None,
    }
}

impl<K> IntoSink<K> {
    fn closed_error() -> Error {
        Error::closed("sink")
    }
}

impl<T, K> futures_sink::Sink<T> for IntoSink<K>
where
    K: futures_sink::Sink<T>,
    K::Error: Into<Error>,
{
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.project();
        if *this.finished || this.vertex.closed.is_realized() {
            return Poll::Ready(Err(Self::closed_error()));
        }
        let outcome = ready!(this.sink.poll_ready(cx));
        Poll::Ready(fail_on_error(outcome, this.finished, this.vertex))
    }

    fn start_send(self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        let this = self.project();
        if *this.finished || this.vertex.closed.is_realized() {
            return Err(Self::closed_error());
        }
        let outcome = this.sink.start_send(message);
        fail_on_error(outcome, this.finished, this.vertex)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.project();
        if *this.finished {
            return Poll::Ready(Ok(()));
        }
        let outcome = ready!(this.sink.poll_flush(cx));
        Poll::Ready(fail_on_error(outcome, this.finished, this.vertex))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.project();
        if *this.finished {
            return Poll::Ready(Ok(()));
        }
        let outcome = ready!(this.sink.poll_close(cx));
        *this.finished = true;
        this.vertex.closed.success(());
        Poll::Ready(outcome.map_err(Into::into))
    }
}

/// Marks the sink finished and closed if the inner sink failed.
fn fail_on_error<E: Into<Error>>(
    outcome: Result<(), E>,
    finished: &mut bool,
    vertex: &SinkVertex,
) -> Result<(), Error> {
    outcome.map_err(|error| {
        *finished = true;
        vertex.closed.success(());
        error.into()
    })
}

impl<T, K> Sink<T> for IntoSink<K>
where
    K: futures_sink::Sink<T> + Send,
    K::Error: Into<Error>,
{
    fn node(&self) -> Node {
        Node::new(self.vertex.clone())
    }

    fn poll_closed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if this.vertex.closed.is_realized() {
            return Poll::Ready(());
        }
        let watch = this.watch.get_or_insert_with(|| this.vertex.closed.clone());
        Pin::new(watch).poll(cx).map(|_| ())
    }

    fn is_closed(&self) -> bool {
        self.vertex.closed.is_realized()
    }

    fn close_now(&self) {
        self.vertex.closed.success(());
    }
}

impl<K> fmt::Debug for IntoSink<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoSink")
            .field("closed", &self.vertex.closed.is_realized())
            .finish_non_exhaustive()
    }
}

impl Vertex for SinkVertex {
    fn description(&self) -> Description {
        let mut description = Description::new("sink-adapter");
        description.closed = self.closed.is_realized();
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.edges.snapshot()
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.edges.add(description, target);
    }

    fn unlink(&self, target: &Node) {
        self.edges.remove(target);
    }
}

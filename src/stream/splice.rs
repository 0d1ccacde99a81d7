//! `splice`: a duplex stream made of a sink to put into and a source to take from.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::{Description, Edge, Edges, Node, Vertex};
use super::sink::Sink;
use super::source::Source;

pin_project! {
    /// A duplex stream: messages put into it go to one stream, messages taken from it come from
    /// another; see [`splice`].
    ///
    /// It is a [`Source`] of the source half's messages and a [`Sink`] into the sink half, so one
    /// value stands for both directions of a conversation, as a network connection does.
    #[must_use = "streams do nothing unless used"]
    pub struct Splice<K, S> {
        #[pin]
        sink: K,
        #[pin]
        source: S,
        close_sink: fn(&K),
        vertex: Arc<SpliceVertex>,
    }
}

struct SpliceVertex {
    sink: Node,
    source: Node,
    edges: Edges,
}

/// A duplex stream that puts into `sink` and takes from `source`: Manifold's `splice`, which is
/// how every network connection is represented.
///
/// - Taking (as a [`Source`] or `futures_core::Stream`) takes from `source`; the splice is
///   drained when `source` is, with the same outcome.
/// - Putting (as a [`Sink`] or `futures_sink::Sink`) puts into `sink`. `SinkExt::close` closes
///   only `sink`: the write side is done, messages can still be taken.
/// - [`Source::close`] closes both halves.
///
/// Its [`Description`] has kind `splice`, is closed when `sink` is and drained when `source`
/// is; its graph node has an edge labelled `sink` to the sink half and one labelled `source`
/// to the source half.
///
/// The type `T` of the messages `sink` accepts is usually inferred; for a sink that accepts
/// several types, name it: `splice::<u8, _, _>(sink, source)`.
///
/// # Examples
///
/// ```
/// use futures::SinkExt;
/// use weir::stream::{self, Channel, Source};
///
/// # weir::runtime::block_on(async {
/// let (outbound, inbound) = (Channel::new(4), Channel::new(4));
/// let mut duplex = stream::splice(outbound.clone(), inbound.clone());
///
/// duplex.send("ping").await.unwrap();
/// assert_eq!(outbound.take_next().await, Some("ping"));
///
/// inbound.put("pong").await.unwrap();
/// assert_eq!(futures::StreamExt::next(&mut duplex).await, Some("pong"));
///
/// assert_eq!(duplex.description().kind, "splice");
/// duplex.close();
/// assert!(outbound.is_closed() && inbound.is_closed());
/// # });
/// ```
pub fn splice<T, K, S>(mut sink: K, mut source: S) -> Splice<K, S>
where
    K: Sink<T>,
    S: Source,
{
    // The splice only puts into `sink` and only takes from `source`.
    sink.release_take_role();
    source.release_put_role();
    let vertex = Arc::new(SpliceVertex {
        sink: sink.node(),
        source: source.node(),
        edges: Edges::default(),
    });
    Splice {
        sink,
        source,
        close_sink: |sink| <K as Sink<T>>::close_now(sink),
        vertex,
    }
}

impl<K, S> Splice<K, S> {
    /// The sink half.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel};
    ///
    /// let (out, inn) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
    /// let duplex = stream::splice(out.clone(), inn);
    /// assert!(duplex.sink().same_channel(&out));
    /// ```
    pub fn sink(&self) -> &K {
        &self.sink
    }

    /// The source half.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel};
    ///
    /// let (out, inn) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
    /// let duplex = stream::splice(out, inn.clone());
    /// assert!(duplex.source().same_channel(&inn));
    /// ```
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The two halves, sink first.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel};
    ///
    /// let duplex = stream::splice(Channel::<u8>::new(1), Channel::<char>::new(2));
    /// let (sink, source) = duplex.into_parts();
    /// assert_eq!((sink.capacity(), source.capacity()), (1, 2));
    /// ```
    pub fn into_parts(self) -> (K, S) {
        (self.sink, self.source)
    }

    fn graph_node(&self) -> Node {
        Node::new(self.vertex.clone())
    }
}

impl<K: Clone, S: Clone> Clone for Splice<K, S> {
    /// Another handle on the same two halves, with the same graph node.
    fn clone(&self) -> Self {
        Splice {
            sink: self.sink.clone(),
            source: self.source.clone(),
            close_sink: self.close_sink,
            vertex: self.vertex.clone(),
        }
    }
}

impl<K, S: Source> futures_core::Stream for Splice<K, S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.project().source.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.source.size_hint()
    }
}

impl<K: Send, S: Source> Source for Splice<K, S> {
    fn node(&self) -> Node {
        self.graph_node()
    }

    /// Closes both halves.
    fn close(&self) {
        self.source.close();
        (self.close_sink)(&self.sink);
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.source.drained()
    }

    fn poll_next_batch(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<S::Item>,
    ) -> Poll<bool> {
        self.project().source.poll_next_batch(cx, limit, out)
    }
}

impl<T, K: Sink<T>, S> futures_sink::Sink<T> for Splice<K, S> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.project().sink.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        self.project().sink.start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.project().sink.poll_flush(cx)
    }

    /// Closes the sink half only; the source half can still be taken from.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.project().sink.poll_close(cx)
    }
}

impl<T, K: Sink<T>, S: Send> Sink<T> for Splice<K, S> {
    fn node(&self) -> Node {
        self.graph_node()
    }

    fn poll_closed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().sink.poll_closed(cx)
    }

    fn is_closed(&self) -> bool {
        self.sink.is_closed()
    }

    /// Closes the sink half at once.
    fn close_now(&self) {
        self.sink.close_now();
    }

    fn close_with_cause(&self, cause: Error) {
        self.sink.close_with_cause(cause);
    }

    fn room(&self) -> usize {
        self.sink.room()
    }

    fn start_send_all(
        self: Pin<&mut Self>,
        messages: &mut std::collections::VecDeque<T>,
    ) -> Result<(), Error> {
        self.project().sink.start_send_all(messages)
    }
}

impl<K: fmt::Debug, S: fmt::Debug> fmt::Debug for Splice<K, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Splice")
            .field("sink", &self.sink)
            .field("source", &self.source)
            .finish()
    }
}

impl Vertex for SpliceVertex {
    fn description(&self) -> Description {
        let mut description = Description::new("splice");
        description.closed = self.sink.description().closed;
        description.drained = self.source.description().drained;
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.edges.with_halves(&self.sink, &self.source)
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.edges.add(description, target);
    }

    fn unlink(&self, target: &Node) {
        self.edges.remove(target);
    }
}

/// Implements `Clone`, `futures_core::Stream`, [`Source`] and both sinks for a duplex type of
/// weir's own connections: a `splice` field, which does the work, and a `shared: Arc<_>` field
/// whose `vertex` is the connection's graph node. `$item` is what it yields, `$bound` what it
/// accepts, the two texts document its `Source` and `Sink` impls; whatever follows `extra` goes
/// into its [`Sink`] impl.
#[cfg(feature = "tcp")]
macro_rules! splice_duplex {
    (
        $duplex:ident,
        item: $item:ty,
        accepts: $bound:path,
        source_doc: $source_doc:literal,
        sink_doc: $sink_doc:literal
        $(, extra: { $($extra:tt)* })?
    ) => {
        impl Clone for $duplex {
            /// Another handle on the same connection.
            fn clone(&self) -> Self {
                $duplex {
                    splice: self.splice.clone(),
                    shared: self.shared.clone(),
                }
            }
        }

        impl futures_core::Stream for $duplex {
            type Item = $item;

            fn poll_next(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<$item>> {
                std::pin::Pin::new(&mut self.splice).poll_next(cx)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.splice.size_hint()
            }
        }

        #[doc = $source_doc]
        impl $crate::stream::Source for $duplex {
            fn node(&self) -> $crate::stream::Node {
                $crate::stream::Node::new(self.shared.vertex.clone())
            }

            fn close(&self) {
                $crate::stream::Source::close(&self.splice);
            }

            fn drained(&self) -> $crate::Deferred<(), $crate::Error> {
                $crate::stream::Source::drained(&self.splice)
            }
        }

        #[doc = $sink_doc]
        impl<T: $bound> futures_sink::Sink<T> for $duplex {
            type Error = $crate::Error;

            fn poll_ready(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Result<(), $crate::Error>> {
                futures_sink::Sink::<T>::poll_ready(std::pin::Pin::new(&mut self.splice), cx)
            }

            fn start_send(
                mut self: std::pin::Pin<&mut Self>,
                message: T,
            ) -> Result<(), $crate::Error> {
                std::pin::Pin::new(&mut self.splice).start_send(message)
            }

            fn poll_flush(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Result<(), $crate::Error>> {
                futures_sink::Sink::<T>::poll_flush(std::pin::Pin::new(&mut self.splice), cx)
            }

            fn poll_close(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Result<(), $crate::Error>> {
                futures_sink::Sink::<T>::poll_close(std::pin::Pin::new(&mut self.splice), cx)
            }
        }

        impl<T: $bound> $crate::stream::Sink<T> for $duplex {
            fn node(&self) -> $crate::stream::Node {
                $crate::stream::Node::new(self.shared.vertex.clone())
            }

            fn poll_closed(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<()> {
                $crate::stream::Sink::<T>::poll_closed(std::pin::Pin::new(&mut self.splice), cx)
            }

            fn is_closed(&self) -> bool {
                $crate::stream::Sink::<T>::is_closed(&self.splice)
            }

            fn close_now(&self) {
                $crate::stream::Sink::<T>::close_now(&self.splice);
            }

            fn close_with_cause(&self, cause: $crate::Error) {
                $crate::stream::Sink::<T>::close_with_cause(&self.splice, cause);
            }

            $($($extra)*)?
        }
    };
}

#[cfg(feature = "tcp")]
pub(crate) use splice_duplex;

//! `source_only`, `sink_only`: views that hide one half of a duplex stream.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::channel::{Channel, Put, Take, TryPut, TryTake};
use super::graph::Node;
use super::sink::Sink;
use super::source::Source;

pin_project! {
    /// A view of a stream that can only be taken from; see [`source_only`].
    ///
    /// It forwards [`Source`] (and `futures_core::Stream`) to the stream it wraps and nothing
    /// else: there is no way back to the put side. Its graph node is the wrapped stream's.
    #[must_use = "sources do nothing unless polled"]
    #[derive(Clone)]
    pub struct SourceOnly<S> {
        #[pin]
        inner: S,
    }
}

pin_project! {
    /// A view of a stream that can only be put into; see [`sink_only`].
    ///
    /// It forwards [`Sink`] (and `futures_sink::Sink`) to the stream it wraps and nothing else:
    /// there is no way back to the take side. Its graph node is the wrapped stream's.
    #[must_use = "sinks do nothing unless messages are sent"]
    #[derive(Clone)]
    pub struct SinkOnly<K> {
        #[pin]
        inner: K,
    }
}

/// A view of `source` that can only be taken from: Manifold's `source-only`. Whoever holds it
/// can take, close and observe, but not put.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, Channel, Source};
///
/// # weir::runtime::block_on(async {
/// let channel = Channel::new(2);
/// let view = stream::source_only(channel.clone());
/// channel.put(1).await.unwrap();
/// channel.close();
/// // `view.put(..)` would not compile: the view has no put side.
/// assert_eq!(view.collect::<Vec<_>>().await, vec![1]);
/// # });
/// ```
pub fn source_only<S: Source>(mut source: S) -> SourceOnly<S> {
    source.release_put_role();
    SourceOnly { inner: source }
}

/// A view of `sink` that can only be put into: Manifold's `sink-only`. Whoever holds it can put,
/// close and observe, but not take.
///
/// # Examples
///
/// ```
/// use futures::SinkExt;
/// use weir::stream::{self, Channel};
///
/// # weir::runtime::block_on(async {
/// let channel = Channel::new(2);
/// let mut view = stream::sink_only(channel.clone());
/// view.send(7).await.unwrap();
/// // `view.take_next()` would not compile: the view has no take side.
/// assert_eq!(channel.take_next().await, Some(7));
/// # });
/// ```
pub fn sink_only<T, K: Sink<T>>(mut sink: K) -> SinkOnly<K> {
    sink.release_take_role();
    SinkOnly { inner: sink }
}

impl<T> SourceOnly<Channel<T>> {
    /// Takes the next message, or `None` once the channel is drained; see [`Channel::take_next`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel};
    ///
    /// # weir::runtime::block_on(async {
    /// let channel = Channel::new(1);
    /// let view = stream::source_only(channel.clone());
    /// channel.put("hi").await.unwrap();
    /// assert_eq!(view.take_next().await, Some("hi"));
    /// # });
    /// ```
    pub fn take_next(&self) -> Take<'_, T> {
        self.inner.take_next()
    }

    /// Takes the next message, giving up after `timeout`; see [`Channel::try_take`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::stream::{self, Channel, TakeError};
    ///
    /// # weir::runtime::block_on(async {
    /// let channel = Channel::<u8>::new(1);
    /// let view = stream::source_only(channel.clone());
    /// assert_eq!(view.try_take(Duration::ZERO).await, Err(TakeError::Timeout));
    /// drop(channel); // the last handle that could put: the view's channel closes
    /// assert_eq!(view.try_take(Duration::ZERO).await, Err(TakeError::Drained));
    /// # });
    /// ```
    pub fn try_take(&self, timeout: Duration) -> TryTake<'_, T> {
        self.inner.try_take(timeout)
    }

    /// True once the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel, Source};
    ///
    /// let view = stream::source_only(Channel::<u8>::new(1));
    /// view.close();
    /// assert!(view.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

impl<T> SinkOnly<Channel<T>> {
    /// Puts a message; see [`Channel::put`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel};
    ///
    /// # weir::runtime::block_on(async {
    /// let channel = Channel::new(1);
    /// let view = stream::sink_only(channel.clone());
    /// view.put(5).await.unwrap();
    /// assert_eq!(channel.take_next().await, Some(5));
    /// # });
    /// ```
    pub fn put(&self, message: T) -> Put<'_, T> {
        self.inner.put(message)
    }

    /// Puts a message, giving up after `timeout`; see [`Channel::try_put`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::stream::{self, Channel};
    ///
    /// # weir::runtime::block_on(async {
    /// let channel = Channel::unbuffered();
    /// let view = stream::sink_only(channel.clone());
    /// let refused = view.try_put(1, Duration::ZERO).await.unwrap_err();
    /// assert!(refused.is_timeout());
    /// drop(channel); // the last handle that could take: puts fail
    /// assert!(view.try_put(2, Duration::ZERO).await.unwrap_err().is_closed());
    /// # });
    /// ```
    pub fn try_put(&self, message: T, timeout: Duration) -> TryPut<'_, T> {
        self.inner.try_put(message, timeout)
    }

    /// Closes the channel; see [`Channel::close`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel, Sink};
    ///
    /// let view = stream::sink_only(Channel::<u8>::new(1));
    /// view.close();
    /// assert!(Sink::is_closed(&view));
    /// ```
    pub fn close(&self) {
        self.inner.close();
    }
}

impl<S: Source> futures_core::Stream for SourceOnly<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.project().inner.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<S: Source> Source for SourceOnly<S> {
    fn node(&self) -> Node {
        self.inner.node()
    }

    fn close(&self) {
        self.inner.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.inner.drained()
    }

    fn poll_next_batch(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<S::Item>,
    ) -> Poll<bool> {
        self.project().inner.poll_next_batch(cx, limit, out)
    }
}

impl<T, K: Sink<T>> futures_sink::Sink<T> for SinkOnly<K> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.project().inner.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        self.project().inner.start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.project().inner.poll_close(cx)
    }
}

impl<T, K: Sink<T>> Sink<T> for SinkOnly<K> {
    fn node(&self) -> Node {
        self.inner.node()
    }

    fn poll_closed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll_closed(cx)
    }

    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn close_now(&self) {
        self.inner.close_now();
    }

    fn close_with_cause(&self, cause: Error) {
        self.inner.close_with_cause(cause);
    }

    fn room(&self) -> usize {
        self.inner.room()
    }

    fn start_send_all(
        self: Pin<&mut Self>,
        messages: &mut std::collections::VecDeque<T>,
    ) -> Result<(), Error> {
        self.project().inner.start_send_all(messages)
    }
}

impl<S: fmt::Debug> fmt::Debug for SourceOnly<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SourceOnly").field(&self.inner).finish()
    }
}

impl<K: fmt::Debug> fmt::Debug for SinkOnly<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SinkOnly").field(&self.inner).finish()
    }
}

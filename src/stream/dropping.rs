//! `dropping`: a channel whose puts never wait, dropping new messages when it is full.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::{Deferred, Error};

use super::buffered_stream::poll_now;
use super::channel::{Channel, Take, TryTake};
use super::errors::PutError;
use super::graph::{Description, Node};
use super::sink::Sink;
use super::source::Source;

/// A channel of buffer `n` whose puts never wait: when it is full, the **new** message is
/// dropped. Manifold's `dropping-stream`.
///
/// This channel and [`SlidingChannel`](super::SlidingChannel) are the only weir streams that
/// deliberately drop messages: use them where the latest data matters more than every datum
/// (metrics, progress, UI state) and a slow consumer must never hold the producer back. A put
/// reports what it dropped: [`put`](DroppingChannel::put) returns `Ok(Some(message))` with the
/// message it dropped.
///
/// With `n = 0` a message gets through only to a taker already waiting for it.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// # weir::runtime::block_on(async {
/// let s = weir::stream::dropping(2);
/// assert_eq!(s.put(1).unwrap(), None);
/// assert_eq!(s.put(2).unwrap(), None);
/// assert_eq!(s.put(3).unwrap(), Some(3), "full: the new message is dropped");
/// s.close();
/// assert_eq!(s.collect::<Vec<_>>().await, vec![1, 2]);
/// # });
/// ```
pub fn dropping<T>(n: usize) -> DroppingChannel<T> {
    DroppingChannel {
        channel: Channel::builder()
            .capacity(n)
            .kind("dropping-stream")
            .build(),
        closed_watch: None,
    }
}

/// The channel returned by [`dropping`]: a [`Source`] and a [`Sink`] whose puts never wait and
/// drop the new message when the buffer is full. Clones share the same channel.
pub struct DroppingChannel<T> {
    channel: Channel<T>,
    closed_watch: Option<Deferred<(), Error>>,
}

impl<T> DroppingChannel<T> {
    /// Puts a message without waiting: `Ok(None)` if it was buffered (or handed to a waiting
    /// taker), `Ok(Some(message))` handing it back if the buffer was full and it was dropped,
    /// and an error if the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::dropping(1);
    /// assert_eq!(s.put('a').unwrap(), None);
    /// assert_eq!(s.put('b').unwrap(), Some('b'));
    /// s.close();
    /// assert!(s.put('c').unwrap_err().is_closed());
    /// ```
    pub fn put(&self, message: T) -> Result<Option<T>, PutError<T>> {
        match poll_now(self.channel.try_put(message, Duration::ZERO)) {
            Some(Ok(())) => Ok(None),
            Some(Err(full)) if full.is_timeout() => Ok(Some(full.into_inner())),
            Some(Err(refused)) => Err(refused),
            None => unreachable!("a try_put without a timeout completes at once"),
        }
    }

    /// Takes the next message, or `None` once the channel is drained; as
    /// [`Channel::take`].
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::dropping(1);
    /// s.put(7).unwrap();
    /// assert_eq!(s.take().await, Some(7));
    /// # });
    /// ```
    pub fn take(&self) -> Take<'_, T> {
        self.channel.take()
    }

    /// Takes the next message, giving up after `timeout`; as [`Channel::try_take`].
    pub fn try_take(&self, timeout: Duration) -> TryTake<'_, T> {
        self.channel.try_take(timeout)
    }

    /// Closes the channel: no more puts; what is buffered stays takeable.
    pub fn close(&self) {
        self.channel.close();
    }

    /// Closes the channel because of `cause`, which [`Source::drained`] then reports.
    pub fn close_with_error(&self, cause: Error) {
        self.channel.close_with_error(cause);
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }

    /// A deferred realized when the channel closes.
    pub fn closed(&self) -> Deferred<(), Error> {
        self.channel.closed()
    }

    /// The capacity of the buffer.
    pub fn capacity(&self) -> usize {
        self.channel.capacity()
    }
}

impl<T: Send + 'static> DroppingChannel<T> {
    /// The channel's graph node.
    pub fn node(&self) -> Node {
        self.channel.node()
    }

    /// A snapshot of the channel's state (kind `dropping-stream`).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::dropping::<u8>(3);
    /// s.put(1).unwrap();
    /// let d = s.description();
    /// assert_eq!(d.kind, "dropping-stream");
    /// assert_eq!((d.buffer_size, d.buffer_capacity), (Some(1), Some(3)));
    /// ```
    pub fn description(&self) -> Description {
        self.channel.description()
    }
}

impl<T> Clone for DroppingChannel<T> {
    fn clone(&self) -> Self {
        DroppingChannel {
            channel: self.channel.clone(),
            closed_watch: None,
        }
    }
}

impl<T> fmt::Debug for DroppingChannel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DroppingChannel")
            .field("capacity", &self.channel.capacity())
            .field("closed", &self.channel.is_closed())
            .finish_non_exhaustive()
    }
}

impl<T> futures_core::Stream for DroppingChannel<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.get_mut().channel).poll_next(cx)
    }
}

/// Sending never waits; a message dropped because the buffer is full still counts as sent.
impl<T> futures_sink::Sink<T> for DroppingChannel<T> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.channel.is_closed() {
            return Poll::Ready(Err(Error::closed("stream")));
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        self.put(message)
            .map(drop)
            .map_err(|refused| refused.to_error())
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.channel.close();
        Poll::Ready(Ok(()))
    }
}

impl<T: Send + 'static> Source for DroppingChannel<T> {
    fn node(&self) -> Node {
        self.channel.node()
    }

    fn close(&self) {
        self.channel.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        Source::drained(&self.channel)
    }
}

impl<T: Send + 'static> Sink<T> for DroppingChannel<T> {
    fn node(&self) -> Node {
        self.channel.node()
    }

    fn poll_closed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let watch = this
            .closed_watch
            .get_or_insert_with(|| this.channel.closed());
        Pin::new(watch).poll(cx).map(|_| ())
    }

    fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }

    fn close_now(&self) {
        self.channel.close();
    }
}

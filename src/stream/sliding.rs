//! `sliding`: a channel whose puts never wait, dropping the oldest message when it is full.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::{Deferred, Error};

use super::buffered_stream::poll_now;
use super::channel::{Channel, Take, TryTake};
use super::errors::{PutError, TakeError};
use super::graph::{Description, Node};
use super::sink::Sink;
use super::source::Source;

/// A channel of buffer `n` whose puts never wait: when it is full, the **oldest** buffered
/// message is dropped to make room. Manifold's `sliding-stream`.
///
/// This channel and [`DroppingChannel`](super::DroppingChannel) are the only weir streams that
/// deliberately drop messages: use them where the latest data matters more than every datum
/// (metrics, progress, UI state) and a slow consumer must never hold the producer back. A put
/// reports what it dropped: [`put`](SlidingChannel::put) returns `Ok(Some(message))` with the
/// message it evicted.
///
/// With `n = 0` nothing is buffered: a message gets through only to a taker already waiting for
/// it, and is dropped (handed back by `put`) otherwise.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
///
/// # weir::runtime::block_on(async {
/// let s = weir::stream::sliding(2);
/// assert_eq!(s.put(1).unwrap(), None);
/// assert_eq!(s.put(2).unwrap(), None);
/// assert_eq!(s.put(3).unwrap(), Some(1), "full: the oldest message is dropped");
/// s.close();
/// assert_eq!(s.collect::<Vec<_>>().await, vec![2, 3]);
/// # });
/// ```
pub fn sliding<T>(n: usize) -> SlidingChannel<T> {
    SlidingChannel {
        channel: Channel::builder()
            .capacity(n)
            .kind("sliding-stream")
            .build(),
        closed_watch: None,
    }
}

/// The channel returned by [`sliding`]: a [`Source`] and a [`Sink`] whose puts never wait and
/// drop the oldest message when the buffer is full. Clones share the same channel.
pub struct SlidingChannel<T> {
    channel: Channel<T>,
    closed_watch: Option<Deferred<(), Error>>,
}

impl<T> SlidingChannel<T> {
    /// Puts a message without waiting: `Ok(None)` if it was buffered (or handed to a waiting
    /// taker) with nothing dropped, `Ok(Some(oldest))` handing back the message evicted to make
    /// room, and an error if the channel is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::sliding(1);
    /// assert_eq!(s.put('a').unwrap(), None);
    /// assert_eq!(s.put('b').unwrap(), Some('a'));
    /// s.close();
    /// assert!(s.put('c').unwrap_err().is_closed());
    /// ```
    pub fn put(&self, message: T) -> Result<Option<T>, PutError<T>> {
        let mut message = message;
        let mut evicted = None;
        loop {
            match poll_now(self.channel.try_put(message, Duration::ZERO)) {
                Some(Ok(())) => return Ok(evicted),
                Some(Err(full)) if full.is_timeout() => message = full.into_inner(),
                Some(Err(refused)) => return Err(refused),
                None => unreachable!("a try_put without a timeout completes at once"),
            }
            // Full: evict the oldest and try again (another put may have taken the room).
            match poll_now(self.channel.try_take(Duration::ZERO)) {
                Some(Ok(oldest)) => evicted = Some(oldest),
                // Nothing buffered to evict (n = 0): the new message is the one dropped.
                Some(Err(TakeError::Timeout)) | None => return Ok(Some(message)),
                Some(Err(_)) => return Err(PutError::closed(message)),
            }
        }
    }

    /// Takes the next message, or `None` once the channel is drained; as
    /// [`Channel::take`].
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::sliding(1);
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

impl<T: Send + 'static> SlidingChannel<T> {
    /// The channel's graph node.
    pub fn node(&self) -> Node {
        self.channel.node()
    }

    /// A snapshot of the channel's state (kind `sliding-stream`).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::sliding::<u8>(3);
    /// s.put(1).unwrap();
    /// let d = s.description();
    /// assert_eq!(d.kind, "sliding-stream");
    /// assert_eq!((d.buffer_size, d.buffer_capacity), (Some(1), Some(3)));
    /// ```
    pub fn description(&self) -> Description {
        self.channel.description()
    }
}

impl<T> Clone for SlidingChannel<T> {
    fn clone(&self) -> Self {
        SlidingChannel {
            channel: self.channel.clone(),
            closed_watch: None,
        }
    }
}

impl<T> fmt::Debug for SlidingChannel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlidingChannel")
            .field("capacity", &self.channel.capacity())
            .field("closed", &self.channel.is_closed())
            .finish_non_exhaustive()
    }
}

impl<T> futures_core::Stream for SlidingChannel<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.get_mut().channel).poll_next(cx)
    }
}

/// Sending never waits; a message dropped because the buffer is full still counts as sent.
impl<T> futures_sink::Sink<T> for SlidingChannel<T> {
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

impl<T: Send + 'static> Source for SlidingChannel<T> {
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

impl<T: Send + 'static> Sink<T> for SlidingChannel<T> {
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

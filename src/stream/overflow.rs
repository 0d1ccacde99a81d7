//! `OverflowChannel`: the channel behind [`dropping`](super::dropping) and
//! [`sliding`](super::sliding), whose puts never wait and drop a message when full.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::{Deferred, Error};

use super::channel::{Channel, Take, TryTake};
use super::errors::PutError;
use super::graph::{Description, Node};
use super::sink::Sink;
use super::source::Source;

/// A channel of buffer `n` whose puts never wait: when it is full, the policy `P` drops a
/// message: the new one ([`DroppingChannel`](super::DroppingChannel), Manifold's `dropping-stream`) or the oldest
/// buffered one ([`SlidingChannel`](super::SlidingChannel), Manifold's `sliding-stream`).
///
/// These are the only weir streams that deliberately drop messages: use them where the latest
/// data matters more than every datum (metrics, progress, UI state) and a slow consumer must
/// never hold the producer back. A put reports what it dropped: [`put`](OverflowChannel::put)
/// returns `Ok(Some(message))` with it. With `n = 0` a message gets through only to a taker
/// already waiting for it.
///
/// It is a [`Source`] and a [`Sink`]; clones share the same channel.
pub struct OverflowChannel<T, P> {
    channel: Channel<T>,
    closed_watch: Option<Deferred<(), Error>>,
    policy: PhantomData<fn() -> P>,
}

/// What an [`OverflowChannel`] drops when it is full: [`DropNewest`](super::DropNewest) or
/// [`DropOldest`](super::DropOldest). Sealed: weir defines the two policies.
pub trait Overflow: sealed::Sealed + Send + Sync + 'static {
    /// Drop the oldest buffered message rather than the new one.
    const DROP_OLDEST: bool;
    /// The kind shown in the channel's description.
    const KIND: &'static str;
    /// The name shown by `Debug`.
    const NAME: &'static str;
}

pub(super) mod sealed {
    pub trait Sealed {}
}

/// A channel of buffer `n` with the overflow policy `P`.
pub(super) fn overflow_channel<T, P: Overflow>(n: usize) -> OverflowChannel<T, P> {
    OverflowChannel {
        channel: Channel::builder().capacity(n).kind(P::KIND).build(),
        closed_watch: None,
        policy: PhantomData,
    }
}

impl<T, P: Overflow> OverflowChannel<T, P> {
    /// Puts a message without waiting: `Ok(None)` if it was buffered (or handed to a waiting
    /// taker) with nothing dropped; when the buffer is full, `Ok(Some(dropped))` handing back
    /// the message the policy dropped (the new one for [`DroppingChannel`](super::DroppingChannel), the oldest buffered
    /// one for [`SlidingChannel`](super::SlidingChannel)); an error if the channel is closed. The check and the drop
    /// happen under one lock, so concurrent puts never drop more than they must.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::dropping(1);
    /// assert_eq!(s.put('a').unwrap(), None);
    /// assert_eq!(s.put('b').unwrap(), Some('b'));
    /// s.close();
    /// assert!(s.put('c').unwrap_err().is_closed());
    ///
    /// let s = weir::stream::sliding(1);
    /// assert_eq!(s.put('a').unwrap(), None);
    /// assert_eq!(s.put('b').unwrap(), Some('a'));
    /// ```
    pub fn put(&self, message: T) -> Result<Option<T>, PutError<T>> {
        self.channel
            .queue()
            .put_overflowing(message, P::DROP_OLDEST)
    }

    /// Takes the next message, or `None` once the channel is drained; as
    /// [`Channel::take_next`].
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::dropping(1);
    /// s.put(7).unwrap();
    /// assert_eq!(s.take_next().await, Some(7));
    /// # });
    /// ```
    pub fn take_next(&self) -> Take<'_, T> {
        self.channel.take_next()
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

impl<T: Send + 'static, P: Overflow> OverflowChannel<T, P> {
    /// The channel's graph node.
    pub fn node(&self) -> Node {
        self.channel.node()
    }

    /// A snapshot of the channel's state (kind `dropping-stream` or `sliding-stream`).
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

impl<T, P> OverflowChannel<T, P> {
    /// The channel underneath, for the event bus.
    pub(super) fn channel(&self) -> &Channel<T> {
        &self.channel
    }
}

impl<T, P> Clone for OverflowChannel<T, P> {
    fn clone(&self) -> Self {
        OverflowChannel {
            channel: self.channel.clone(),
            closed_watch: None,
            policy: PhantomData,
        }
    }
}

impl<T, P: Overflow> fmt::Debug for OverflowChannel<T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(P::NAME)
            .field("capacity", &self.channel.capacity())
            .field("closed", &self.channel.is_closed())
            .finish_non_exhaustive()
    }
}

impl<T, P> futures_core::Stream for OverflowChannel<T, P> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.get_mut().channel).poll_next(cx)
    }
}

/// Sending never waits; a message dropped because the buffer is full still counts as sent.
impl<T, P: Overflow> futures_sink::Sink<T> for OverflowChannel<T, P> {
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

impl<T: Send + 'static, P: Overflow> Source for OverflowChannel<T, P> {
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

impl<T: Send + 'static, P: Overflow> Sink<T> for OverflowChannel<T, P> {
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

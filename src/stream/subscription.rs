//! `Subscription`: a subscriber's stream of an event bus topic.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::{Deferred, Error};

use super::channel::{Channel, Take, TryTake};
use super::graph::Node;
use super::source::Source;

/// A subscriber's stream of one [`EventBus`](super::EventBus) topic: it can only be taken from.
/// Closing it, or dropping it, unsubscribes.
///
/// # Examples
///
/// ```
/// use weir::stream::EventBus;
///
/// let bus = EventBus::<&str, u8>::with_stream_factory(|| weir::stream::Channel::new(1));
/// let subscription = bus.subscribe("alerts");
/// assert_eq!(bus.subscriber_count("alerts"), 1);
/// drop(subscription);
/// assert_eq!(bus.subscriber_count("alerts"), 0);
/// ```
pub struct Subscription<T> {
    channel: Channel<T>,
}

impl<T> Subscription<T> {
    pub(crate) fn new(channel: Channel<T>) -> Self {
        // The subscriber only takes; the bus keeps the put side.
        Subscription {
            channel: channel.into_take_only(),
        }
    }

    /// Takes the next message, or `None` once the subscription is closed and drained; see
    /// [`Channel::take_next`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let bus = weir::stream::EventBus::<&str, u8>::with_stream_factory(|| weir::stream::Channel::new(1));
    /// let s = bus.subscribe("t");
    /// bus.publish("t", 5).await.unwrap();
    /// assert_eq!(s.take_next().await, Some(5));
    /// # });
    /// ```
    pub fn take_next(&self) -> Take<'_, T> {
        self.channel.take_next()
    }

    /// Takes the next message, giving up after `timeout`; see [`Channel::try_take`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # weir::runtime::block_on(async {
    /// let bus = weir::stream::EventBus::<&str, u8>::new();
    /// let s = bus.subscribe("t");
    /// assert!(s.try_take(Duration::ZERO).await.is_err());
    /// # });
    /// ```
    pub fn try_take(&self, timeout: Duration) -> TryTake<'_, T> {
        self.channel.try_take(timeout)
    }

    /// Unsubscribes: the bus forgets this subscriber; messages already accepted stay takeable.
    pub fn close(&self) {
        self.channel.close();
    }

    /// True once unsubscribed.
    pub fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }
}

impl<T> Drop for Subscription<T> {
    fn drop(&mut self) {
        self.channel.close();
    }
}

impl<T> futures_core::Stream for Subscription<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.channel).poll_next(cx)
    }
}

impl<T: Send + 'static> Source for Subscription<T> {
    fn node(&self) -> Node {
        self.channel.node()
    }

    fn close(&self) {
        self.channel.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        Source::drained(&self.channel)
    }

    fn poll_next_batch(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<T>,
    ) -> Poll<bool> {
        Pin::new(&mut self.channel).poll_next_batch(cx, limit, out)
    }
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("closed", &self.channel.is_closed())
            .finish()
    }
}

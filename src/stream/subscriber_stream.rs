//! `SubscriberStream`: the streams an event bus can give its subscribers.

use super::channel::Channel;
use super::overflow::{Overflow, OverflowChannel};

/// A stream an [`EventBus`](super::EventBus) can give each subscriber: what the factory of
/// [`with_stream_factory`](super::EventBus::with_stream_factory) returns (Manifold's
/// `stream-generator`). It decides what a publish does when a subscriber is full:
///
/// | the factory returns | a publish to a full subscriber |
/// |---|---|
/// | a [`Channel`] | waits until it takes (backpressure: the future of `publish` completes later) |
/// | a [`dropping`](super::dropping) channel | drops the new message for that subscriber, and completes at once |
/// | a [`sliding`](super::sliding) channel | drops that subscriber's oldest message, and completes at once |
///
/// The trait is sealed: these are the streams whose put a publish can complete without a task.
///
/// # Examples
///
/// ```
/// use weir::stream::{self, EventBus};
///
/// # weir::runtime::block_on(async {
/// // Each subscriber keeps the latest two prices; a slow one never holds up publishing.
/// let prices = EventBus::with_stream_factory(|| stream::sliding(2));
/// let watcher = prices.subscribe("ACME");
/// for price in [10, 11, 12, 13] {
///     assert!(prices.publish("ACME", price).await.unwrap());
/// }
/// assert_eq!(watcher.take_next().await, Some(12));
/// assert_eq!(watcher.take_next().await, Some(13));
/// # });
/// ```
pub trait SubscriberStream<T>: sealed::Sealed + Send + 'static {
    /// The channel underneath, and the overflow policy: `None` to wait for room,
    /// `Some(drop_oldest)` to drop a message instead.
    #[doc(hidden)]
    fn into_channel(self) -> (Channel<T>, Option<bool>);
}

impl<T: Send + 'static> SubscriberStream<T> for Channel<T> {
    fn into_channel(self) -> (Channel<T>, Option<bool>) {
        (self, None)
    }
}

impl<T: Send + 'static, P: Overflow> SubscriberStream<T> for OverflowChannel<T, P> {
    fn into_channel(self) -> (Channel<T>, Option<bool>) {
        (self.channel().clone(), Some(P::DROP_OLDEST))
    }
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for super::Channel<T> {}
    impl<T, P> Sealed for super::OverflowChannel<T, P> {}
}

//! `sliding`: a channel whose puts never wait, dropping the oldest message when it is full.

use super::overflow::{Overflow, OverflowChannel, overflow_channel, sealed};

/// The overflow policy of [`sliding`]: when full, the oldest buffered message is dropped.
#[derive(Clone, Copy, Debug)]
pub enum DropOldest {}

impl sealed::Sealed for DropOldest {}

impl Overflow for DropOldest {
    const DROP_OLDEST: bool = true;
    const KIND: &'static str = "sliding-stream";
    const NAME: &'static str = "SlidingChannel";
}

/// The channel returned by [`sliding`]: puts never wait and drop the oldest message when full.
pub type SlidingChannel<T> = OverflowChannel<T, DropOldest>;

/// A channel of buffer `n` whose puts never wait: when it is full, the **oldest** buffered
/// message is dropped to make room. Manifold's `sliding-stream`; see [`OverflowChannel`] for
/// when to use it.
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
    overflow_channel(n)
}

//! `dropping`: a channel whose puts never wait, dropping new messages when it is full.

use super::overflow::{Overflow, OverflowChannel, overflow_channel, sealed};

/// The overflow policy of [`dropping`]: when full, the new message is dropped.
#[derive(Clone, Copy, Debug)]
pub enum DropNewest {}

impl sealed::Sealed for DropNewest {}

impl Overflow for DropNewest {
    const DROP_OLDEST: bool = false;
    const KIND: &'static str = "dropping-stream";
    const NAME: &'static str = "DroppingChannel";
}

/// The channel returned by [`dropping`]: puts never wait and drop the new message when full.
pub type DroppingChannel<T> = OverflowChannel<T, DropNewest>;

/// A channel of buffer `n` whose puts never wait: when it is full, the **new** message is
/// dropped. Manifold's `dropping-stream`; see [`OverflowChannel`] for when to use it.
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
    overflow_channel(n)
}

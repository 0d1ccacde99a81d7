//! The `Source` trait: what weir can take messages from.

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::{Deferred, Error};

use super::graph::{Description, Node};

/// A weir source: a [`futures_core::Stream`] of messages that also reports its place in the
/// stream graph, can be closed by its consumer, and says how it ended.
///
/// Channels, splices, conversions and every combinator are sources, so they compose with each
/// other through [`SourceExt`](super::SourceExt) and with the whole futures ecosystem through
/// `futures::StreamExt`.
pub trait Source: futures_core::Stream + Send {
    /// This source's node in the stream graph.
    fn node(&self) -> Node;

    /// Tells the source that no more messages are wanted. For a channel this closes it; a
    /// combinator passes it upstream.
    fn close(&self);

    /// A deferred realized once the source is drained: `Ok(())` for a clean end, or the error
    /// that ended it (a failing or panicking user function, a stream closed with an error, an
    /// I/O failure in an adapter).
    fn drained(&self) -> Deferred<(), Error>;

    /// The source's current state; shorthand for `self.node().description()`.
    fn description(&self) -> Description {
        self.node().description()
    }

    /// True once the source is drained.
    fn is_drained(&self) -> bool {
        self.drained().is_realized()
    }

    /// Gives up this handle's right to put: from now on it counts only as a taker of the stream
    /// it reads, so the stream closes once every handle that can put is gone. weir calls it on
    /// a source it takes over (`connect`, combinators, `source_only`); a wrapper passes it to
    /// what it wraps. The default does nothing.
    #[doc(hidden)]
    fn release_put_role(&mut self) {}

    /// True if this source, once closed or once it has yielded `None`, yields `None` for ever
    /// without taking another message (an iterator source; combinators over one). A combinator
    /// over such a source needs no end flag of its own on the per-message path: weir's hot
    /// loops check it at compile time. The default is false (a closed channel still yields what
    /// it buffered).
    #[doc(hidden)]
    fn ends_when_closed() -> bool
    where
        Self: Sized,
    {
        false
    }

    /// Takes up to `limit` messages at once into `out`: `Ready(true)` with at least one,
    /// `Ready(false)` at the end. Channels take them under one lock; the default takes one.
    /// Used by [`connect`](super::connect) to move runs of messages cheaply.
    #[doc(hidden)]
    fn poll_next_batch(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<Self::Item>,
    ) -> Poll<bool> {
        let _ = limit;
        self.poll_next(cx).map(|message| match message {
            Some(message) => {
                out.push(message);
                true
            }
            None => false,
        })
    }
}

/// A boxed source is a source, so `Box<dyn Source<Item = T> + Unpin>` keeps the weir API.
///
/// # Examples
///
/// ```
/// use weir::stream::{self, Source, SourceExt};
///
/// let boxed: Box<dyn Source<Item = u32> + Unpin> = Box::new(stream::iter(1..=3));
/// assert_eq!(boxed.into_blocking_iter().collect::<Vec<_>>(), vec![1, 2, 3]);
/// ```
impl<S: Source + Unpin + ?Sized> Source for Box<S> {
    fn node(&self) -> Node {
        (**self).node()
    }

    fn close(&self) {
        (**self).close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        (**self).drained()
    }

    fn poll_next_batch(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<Self::Item>,
    ) -> Poll<bool> {
        Pin::new(&mut **self).poll_next_batch(cx, limit, out)
    }
}

/// A pinned, boxed source is a source, so `Pin<Box<dyn Source<Item = T>>>` keeps the weir API
/// even for sources that are not `Unpin`.
///
/// # Examples
///
/// ```
/// use std::pin::Pin;
///
/// use weir::stream::{self, Source, SourceExt};
///
/// let boxed: Pin<Box<dyn Source<Item = u32>>> = Box::pin(stream::iter(1..=3).map_each(|n| n * 2));
/// assert_eq!(boxed.description().kind, "map");
/// assert_eq!(boxed.into_blocking_iter().collect::<Vec<_>>(), vec![2, 4, 6]);
/// ```
impl<S: Source + ?Sized> Source for Pin<Box<S>> {
    fn node(&self) -> Node {
        (**self).node()
    }

    fn close(&self) {
        (**self).close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        (**self).drained()
    }

    fn poll_next_batch(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<Self::Item>,
    ) -> Poll<bool> {
        self.get_mut().as_mut().poll_next_batch(cx, limit, out)
    }
}

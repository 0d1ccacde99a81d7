//! `iter`: a source of an iterator's items.

use std::cell::Cell;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::{Deferred, Error};

use super::graph::Node;
use super::source::Source;
use super::stage::Stage;

/// A source that yields the items of an iterator, ending when it does; see [`iter`].
pub struct Iter<I> {
    iter: I,
    /// Set by `close`. Kept inline (not in the shared stage) because it is checked for every
    /// item: a `Cell` costs a plain load, which keeps iterator pipelines as fast as the
    /// iterator itself. (A source need only be `Send`, so `Iter` is not `Sync`.)
    closed: Cell<bool>,
    stage: Stage,
}

/// A source of `items`' items: Manifold's `->source` of a sequence. Closing it ends the
/// source at once; the iterator is dropped with it.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, Source};
///
/// # weir::runtime::block_on(async {
/// let source = stream::iter(1..=3);
/// let drained = source.drained();
/// assert_eq!(source.collect::<Vec<_>>().await, vec![1, 2, 3]);
/// assert!(drained.await.is_ok());
/// # });
/// ```
pub fn iter<I: IntoIterator>(items: I) -> Iter<I::IntoIter> {
    Iter {
        iter: items.into_iter(),
        closed: Cell::new(false),
        stage: Stage::root("iter"),
    }
}

impl<I: Iterator + Unpin> futures_core::Stream for Iter<I> {
    type Item = I::Item;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<I::Item>> {
        let this = &mut *self;
        if this.closed.get() {
            return Poll::Ready(None);
        }
        match this.iter.next() {
            Some(item) => Poll::Ready(Some(item)),
            None => {
                this.closed.set(true);
                this.stage.finish(Ok(()));
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.closed.get() {
            (0, Some(0))
        } else {
            self.iter.size_hint()
        }
    }
}

impl<I: Iterator + Unpin + Send> Source for Iter<I> {
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.closed.set(true);
        self.stage.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }

    fn ends_when_closed() -> bool {
        true
    }
}

impl<I> fmt::Debug for Iter<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").finish_non_exhaustive()
    }
}

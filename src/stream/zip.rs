//! `zip_each` and `zip_all`: pairs up the messages of several sources.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::Node;
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// The source returned by [`SourceExt::zip_each`](super::SourceExt::zip_each).
    #[must_use = "sources do nothing unless polled"]
    pub struct Zip<A: Source, B: Source> {
        #[pin]
        a: A,
        #[pin]
        b: B,
        a_item: Option<A::Item>,
        b_item: Option<B::Item>,
        done: bool,
        stage: Stage,
    }
}

impl<A: Source, B: Source> Zip<A, B> {
    pub(super) fn new(mut a: A, mut b: B) -> Self {
        a.release_put_role();
        b.release_put_role();
        let stage = Stage::after_all("zip", [&a.node(), &b.node()]);
        Zip {
            a,
            b,
            a_item: None,
            b_item: None,
            done: false,
            stage,
        }
    }
}

impl<A: Source, B: Source> futures_core::Stream for Zip<A, B> {
    type Item = (A::Item, B::Item);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        if this.a_item.is_none() {
            match this.a.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => *this.a_item = Some(item),
                Poll::Ready(None) => {
                    *this.done = true;
                    this.stage.finish_like(&*this.a);
                    this.b.close();
                    return Poll::Ready(None);
                }
                Poll::Pending => {}
            }
        }
        if this.b_item.is_none() {
            match this.b.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => *this.b_item = Some(item),
                Poll::Ready(None) => {
                    *this.done = true;
                    this.stage.finish_like(&*this.b);
                    this.a.close();
                    return Poll::Ready(None);
                }
                Poll::Pending => {}
            }
        }
        match (this.a_item.take(), this.b_item.take()) {
            (Some(a), Some(b)) => Poll::Ready(Some((a, b))),
            (a, b) => {
                *this.a_item = a;
                *this.b_item = b;
                Poll::Pending
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let a = with_held(self.a.size_hint(), self.a_item.is_some());
        let b = with_held(self.b.size_hint(), self.b_item.is_some());
        min_hint(a, b)
    }
}

impl<A: Source, B: Source> Source for Zip<A, B>
where
    A::Item: Send,
    B::Item: Send,
{
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.mark_closed();
        self.a.close();
        self.b.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<A, B> fmt::Debug for Zip<A, B>
where
    A: Source + fmt::Debug,
    B: Source + fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Zip")
            .field("a", &self.a)
            .field("b", &self.b)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// A source of vectors holding one message from each of `sources`, in order: Manifold's `zip`
/// of any number of streams. It ends when any of them ends (with that source's drain outcome),
/// closing the others; with no sources it ends at once.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, Source};
///
/// # weir::runtime::block_on(async {
/// let zipped = stream::zip_all(vec![stream::iter(0..3), stream::iter(10..20), stream::iter(20..30)]);
/// let drained = zipped.drained();
/// let rows: Vec<Vec<i32>> = zipped.collect().await;
/// assert_eq!(rows, vec![vec![0, 10, 20], vec![1, 11, 21], vec![2, 12, 22]]);
/// assert!(drained.await.is_ok());
/// # });
/// ```
pub fn zip_all<S: Source>(mut sources: Vec<S>) -> ZipAll<S> {
    sources.iter_mut().for_each(Source::release_put_role);
    let nodes: Vec<Node> = sources.iter().map(Source::node).collect();
    let stage = Stage::after_all("zip", &nodes);
    ZipAll {
        items: sources.iter().map(|_| None).collect(),
        sources: sources.into_iter().map(Box::pin).collect(),
        done: false,
        stage,
    }
}

/// The source returned by [`zip_all`].
#[must_use = "sources do nothing unless polled"]
pub struct ZipAll<S: Source> {
    sources: Vec<Pin<Box<S>>>,
    items: Vec<Option<S::Item>>,
    done: bool,
    stage: Stage,
}

impl<S: Source> ZipAll<S> {
    /// Ends the zip the way `sources[ended]` ended and closes the others.
    fn end(&mut self, ended: usize) {
        self.done = true;
        self.stage.finish_like(&*self.sources[ended]);
        for (index, source) in self.sources.iter().enumerate() {
            if index != ended {
                source.close();
            }
        }
    }
}

// The sources are pinned in their boxes and the messages are never pinned.
impl<S: Source> Unpin for ZipAll<S> {}

impl<S: Source> futures_core::Stream for ZipAll<S> {
    type Item = Vec<S::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<S::Item>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.sources.is_empty() {
            this.done = true;
            this.stage.finish(Ok(()));
            return Poll::Ready(None);
        }
        let mut ready = true;
        for index in 0..this.sources.len() {
            if this.items[index].is_some() {
                continue;
            }
            match this.sources[index].as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => this.items[index] = Some(item),
                Poll::Ready(None) => {
                    this.end(index);
                    return Poll::Ready(None);
                }
                Poll::Pending => ready = false,
            }
        }
        if !ready {
            return Poll::Pending;
        }
        Poll::Ready(Some(
            this.items.iter_mut().filter_map(Option::take).collect(),
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done || self.sources.is_empty() {
            return (0, Some(0));
        }
        self.sources
            .iter()
            .zip(&self.items)
            .map(|(source, item)| with_held(source.size_hint(), item.is_some()))
            .fold((usize::MAX, None), min_hint)
    }
}

impl<S: Source> Source for ZipAll<S>
where
    S::Item: Send,
{
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.mark_closed();
        for source in &self.sources {
            source.close();
        }
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<S: Source + fmt::Debug> fmt::Debug for ZipAll<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ZipAll")
            .field("sources", &self.sources)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// A size hint counting one more message when one is already held.
fn with_held((low, high): (usize, Option<usize>), held: bool) -> (usize, Option<usize>) {
    let held = usize::from(held);
    (
        low.saturating_add(held),
        high.and_then(|high| high.checked_add(held)),
    )
}

/// The size hint of a zip of two streams with these hints.
fn min_hint(a: (usize, Option<usize>), b: (usize, Option<usize>)) -> (usize, Option<usize>) {
    let high = match (a.1, b.1) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) | (None, x) => x,
    };
    (a.0.min(b.0), high)
}

//! `flatten_each`: flattens a source of sources, one after the other.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::Node;
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// The source returned by [`SourceExt::flatten_each`](super::SourceExt::flatten_each).
    #[must_use = "sources do nothing unless polled"]
    pub struct Concat<S: Source> {
        #[pin]
        outer: S,
        #[pin]
        inner: Option<S::Item>,
        done: bool,
        stage: Stage,
    }
}

impl<S: Source> Concat<S> {
    pub(super) fn new(mut outer: S) -> Self {
        let stage = Stage::reading("concat", &mut outer);
        Concat {
            outer,
            inner: None,
            done: false,
            stage,
        }
    }
}

impl<S> futures_core::Stream for Concat<S>
where
    S: Source,
    S::Item: Source,
{
    type Item = <S::Item as futures_core::Stream>::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        loop {
            if let Some(inner) = this.inner.as_mut().as_pin_mut() {
                if let Some(item) = ready!(inner.poll_next(cx)) {
                    return Poll::Ready(Some(item));
                }
                let inner = this.inner.as_ref().get_ref().as_ref();
                let outcome = inner.and_then(|inner| {
                    inner.node().unlink(&this.stage.node());
                    inner.drained().peek()
                });
                this.inner.set(None);
                if let Some(Err(error)) = outcome {
                    *this.done = true;
                    this.stage.fail(error, &*this.outer);
                    return Poll::Ready(None);
                }
            }
            match ready!(this.outer.as_mut().poll_next(cx)) {
                Some(inner) => {
                    inner.node().link(None, &this.stage.node());
                    this.inner.set(Some(inner));
                }
                None => {
                    *this.done = true;
                    this.stage.finish_like(&*this.outer);
                    return Poll::Ready(None);
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let (low, high) = self
            .inner
            .as_ref()
            .map_or((0, Some(0)), |inner| inner.size_hint());
        match self.outer.size_hint() {
            (0, Some(0)) => (low, high),
            _ => (low, None),
        }
    }
}

impl<S> Source for Concat<S>
where
    S: Source,
    S::Item: Source,
{
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.mark_closed();
        self.outer.close();
        if let Some(inner) = &self.inner {
            inner.close();
        }
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<S> fmt::Debug for Concat<S>
where
    S: Source + fmt::Debug,
    S::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Concat")
            .field("outer", &self.outer)
            .field("inner", &self.inner)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

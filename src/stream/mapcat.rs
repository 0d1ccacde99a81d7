//! `mapcat`: maps every message to a collection and yields the collections' items.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::Node;
use super::guard::guard;
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// The source returned by [`SourceExt::mapcat`](super::SourceExt::mapcat); `I` is the
    /// iterator of the collection being yielded.
    #[must_use = "sources do nothing unless polled"]
    pub struct Mapcat<S, F, I> {
        #[pin]
        upstream: S,
        f: F,
        current: Option<I>,
        done: bool,
        stage: Stage,
    }
}

impl<S: Source, F, I> Mapcat<S, F, I> {
    pub(super) fn new(mut upstream: S, f: F) -> Self {
        let stage = Stage::reading("mapcat", &mut upstream);
        Mapcat {
            upstream,
            f,
            current: None,
            done: false,
            stage,
        }
    }
}

impl<S, F, C, I> futures_core::Stream for Mapcat<S, F, I>
where
    S: Source,
    F: FnMut(S::Item) -> C,
    C: IntoIterator<IntoIter = I>,
    I: Iterator<Item = C::Item>,
{
    type Item = C::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<C::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        loop {
            if let Some(current) = this.current {
                // The iterator may run user code too (a lazy `map`, say).
                match guard(|| current.next()) {
                    Ok(Some(item)) => return Poll::Ready(Some(item)),
                    Ok(None) => *this.current = None,
                    Err(error) => {
                        *this.current = None;
                        *this.done = true;
                        this.stage.fail(error, &*this.upstream);
                        return Poll::Ready(None);
                    }
                }
            }
            match ready!(this.upstream.as_mut().poll_next(cx)) {
                Some(item) => match guard(|| (this.f)(item).into_iter()) {
                    Ok(iter) => *this.current = Some(iter),
                    Err(error) => {
                        *this.done = true;
                        this.stage.fail(error, &*this.upstream);
                        return Poll::Ready(None);
                    }
                },
                None => {
                    *this.done = true;
                    this.stage.finish_like(&*this.upstream);
                    return Poll::Ready(None);
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let (low, high) = self.current.as_ref().map_or((0, Some(0)), I::size_hint);
        match self.upstream.size_hint() {
            (0, Some(0)) => (low, high),
            _ => (low, None),
        }
    }
}

impl<S, F, C, I> Source for Mapcat<S, F, I>
where
    S: Source,
    F: FnMut(S::Item) -> C + Send,
    C: IntoIterator<IntoIter = I>,
    I: Iterator<Item = C::Item> + Send,
{
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.mark_closed();
        self.upstream.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<S: fmt::Debug, F, I> fmt::Debug for Mapcat<S, F, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapcat")
            .field("upstream", &self.upstream)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

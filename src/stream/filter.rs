//! `filter_each`: keeps the messages a predicate accepts.

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
    /// The source returned by [`SourceExt::filter_each`](super::SourceExt::filter_each).
    #[must_use = "sources do nothing unless polled"]
    pub struct Filter<S, F> {
        #[pin]
        upstream: S,
        f: F,
        done: bool,
        stage: Stage,
    }
}

impl<S: Source, F> Filter<S, F> {
    pub(super) fn new(mut upstream: S, f: F) -> Self {
        let stage = Stage::reading("filter", &mut upstream);
        Filter {
            upstream,
            f,
            done: false,
            stage,
        }
    }
}

impl<S, F> futures_core::Stream for Filter<S, F>
where
    S: Source,
    F: FnMut(&S::Item) -> bool,
{
    type Item = S::Item;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        // Over a source that ends for ever once closed or ended, the flag is redundant (and
        // this check, on every message, compiles away).
        if !S::ends_when_closed() && *this.done {
            return Poll::Ready(None);
        }
        loop {
            match ready!(this.upstream.as_mut().poll_next(cx)) {
                Some(item) => match guard(|| (this.f)(&item)) {
                    Ok(true) => return Poll::Ready(Some(item)),
                    Ok(false) => {}
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
            (0, Some(0))
        } else {
            (0, self.upstream.size_hint().1)
        }
    }
}

impl<S, F> Source for Filter<S, F>
where
    S: Source,
    F: FnMut(&S::Item) -> bool + Send,
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

    /// Its `close` closes the upstream, and it ends when the upstream ends.
    fn ends_when_closed() -> bool {
        S::ends_when_closed()
    }
}

impl<S: fmt::Debug, F> fmt::Debug for Filter<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("upstream", &self.upstream)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

//! `map_each`: applies a function to every message.

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
    /// The source returned by [`SourceExt::map_each`](super::SourceExt::map_each).
    #[must_use = "sources do nothing unless polled"]
    pub struct Map<S, F> {
        #[pin]
        upstream: S,
        f: F,
        done: bool,
        stage: Stage,
    }
}

impl<S: Source, F> Map<S, F> {
    pub(super) fn new(mut upstream: S, f: F) -> Self {
        let stage = Stage::reading("map", &mut upstream);
        Map {
            upstream,
            f,
            done: false,
            stage,
        }
    }
}

impl<S, F, T> futures_core::Stream for Map<S, F>
where
    S: Source,
    F: FnMut(S::Item) -> T,
{
    type Item = T;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut this = self.project();
        // Over a source that ends for ever once closed or ended, the flag is redundant (and
        // this check, on every message, compiles away).
        if !S::ends_when_closed() && *this.done {
            return Poll::Ready(None);
        }
        match ready!(this.upstream.as_mut().poll_next(cx)) {
            Some(item) => match guard(|| (this.f)(item)) {
                Ok(out) => Poll::Ready(Some(out)),
                Err(error) => {
                    *this.done = true;
                    this.stage.fail(error, &*this.upstream);
                    Poll::Ready(None)
                }
            },
            None => {
                *this.done = true;
                this.stage.finish_like(&*this.upstream);
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            self.upstream.size_hint()
        }
    }
}

impl<S, F, T> Source for Map<S, F>
where
    S: Source,
    F: FnMut(S::Item) -> T + Send,
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

impl<S: fmt::Debug, F> fmt::Debug for Map<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Map")
            .field("upstream", &self.upstream)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

//! `try_map`: applies a fallible function to every message; the first error ends the source.

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
    /// The source returned by [`SourceExt::try_map`](super::SourceExt::try_map).
    #[must_use = "sources do nothing unless polled"]
    pub struct TryMap<S, F> {
        #[pin]
        upstream: S,
        f: F,
        done: bool,
        stage: Stage,
    }
}

impl<S: Source, F> TryMap<S, F> {
    pub(super) fn new(mut upstream: S, f: F) -> Self {
        let stage = Stage::reading("try-map", &mut upstream);
        TryMap {
            upstream,
            f,
            done: false,
            stage,
        }
    }
}

impl<S, F, T, E> futures_core::Stream for TryMap<S, F>
where
    S: Source,
    F: FnMut(S::Item) -> Result<T, E>,
    E: Into<Error>,
{
    type Item = T;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        match ready!(this.upstream.as_mut().poll_next(cx)) {
            Some(item) => match guard(|| (this.f)(item)).and_then(|out| out.map_err(Into::into)) {
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

impl<S, F, T, E> Source for TryMap<S, F>
where
    S: Source,
    F: FnMut(S::Item) -> Result<T, E> + Send,
    E: Into<Error>,
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

impl<S: fmt::Debug, F> fmt::Debug for TryMap<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryMap")
            .field("upstream", &self.upstream)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

//! `reductions`: yields every intermediate accumulator of a fold.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::Node;
use super::guard::guard;
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// The source returned by [`SourceExt::reductions`](super::SourceExt::reductions).
    #[must_use = "sources do nothing unless polled"]
    pub struct Reductions<S, F, A> {
        #[pin]
        upstream: S,
        f: F,
        // `None` once the stream has ended (or while `f` runs).
        acc: Option<A>,
        // The initial value has not been yielded yet.
        initial: bool,
        stage: Stage,
    }
}

impl<S: Source, F, A> Reductions<S, F, A> {
    pub(super) fn new(mut upstream: S, init: A, f: F) -> Self {
        let stage = Stage::reading("reductions", &mut upstream);
        Reductions {
            upstream,
            f,
            acc: Some(init),
            initial: true,
            stage,
        }
    }
}

impl<S, F, A> futures_core::Stream for Reductions<S, F, A>
where
    S: Source,
    F: FnMut(A, S::Item) -> A,
    A: Clone,
{
    type Item = A;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<A>> {
        let mut this = self.project();
        let Some(acc) = this.acc.take() else {
            return Poll::Ready(None);
        };
        if *this.initial {
            *this.initial = false;
            *this.acc = Some(acc.clone());
            return Poll::Ready(Some(acc));
        }
        let item = match this.upstream.as_mut().poll_next(cx) {
            Poll::Pending => {
                *this.acc = Some(acc);
                return Poll::Pending;
            }
            Poll::Ready(item) => item,
        };
        let Some(item) = item else {
            this.stage.finish_like(&*this.upstream);
            return Poll::Ready(None);
        };
        match guard(|| {
            let next = (this.f)(acc, item);
            (next.clone(), next)
        }) {
            Ok((kept, out)) => {
                *this.acc = Some(kept);
                Poll::Ready(Some(out))
            }
            Err(error) => {
                this.stage.fail(error, &*this.upstream);
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.acc.is_none() {
            return (0, Some(0));
        }
        let (low, high) = self.upstream.size_hint();
        let initial = usize::from(self.initial);
        (
            low.saturating_add(initial),
            high.and_then(|high| high.checked_add(initial)),
        )
    }
}

impl<S, F, A> Source for Reductions<S, F, A>
where
    S: Source,
    F: FnMut(A, S::Item) -> A + Send,
    A: Clone + Send,
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

impl<S: fmt::Debug, F, A: fmt::Debug> fmt::Debug for Reductions<S, F, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reductions")
            .field("upstream", &self.upstream)
            .field("acc", &self.acc)
            .finish_non_exhaustive()
    }
}

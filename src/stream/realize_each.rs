//! `realize_each`: awaits each message (a deferred or a future), one after the other.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::Node;
use super::guard::guard;
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// The source returned by [`SourceExt::realize_each`](super::SourceExt::realize_each).
    #[must_use = "sources do nothing unless polled"]
    pub struct RealizeEach<S>
    where
        S: Source,
        S::Item: IntoFuture,
    {
        #[pin]
        upstream: S,
        #[pin]
        pending: Option<<S::Item as IntoFuture>::IntoFuture>,
        done: bool,
        stage: Stage,
    }
}

impl<S> RealizeEach<S>
where
    S: Source,
    S::Item: IntoFuture,
{
    pub(super) fn new(mut upstream: S) -> Self {
        let stage = Stage::reading("realize_each", &mut upstream);
        RealizeEach {
            upstream,
            pending: None,
            done: false,
            stage,
        }
    }
}

impl<S, T, E> futures_core::Stream for RealizeEach<S>
where
    S: Source,
    S::Item: IntoFuture<Output = Result<T, E>>,
    E: Into<Error>,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        loop {
            if let Some(future) = this.pending.as_mut().as_pin_mut() {
                let error = match guard(|| future.poll(cx)) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(Ok(value))) => {
                        this.pending.set(None);
                        return Poll::Ready(Some(value));
                    }
                    Ok(Poll::Ready(Err(error))) => error.into(),
                    Err(panic) => panic,
                };
                this.pending.set(None);
                *this.done = true;
                this.stage.fail(error, &*this.upstream);
                return Poll::Ready(None);
            }
            match ready!(this.upstream.as_mut().poll_next(cx)) {
                Some(item) => match guard(|| item.into_future()) {
                    Ok(future) => this.pending.set(Some(future)),
                    Err(panic) => {
                        *this.done = true;
                        this.stage.fail(panic, &*this.upstream);
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
        let held = usize::from(self.pending.is_some());
        let (low, high) = self.upstream.size_hint();
        (
            low.saturating_add(held),
            high.and_then(|high| high.checked_add(held)),
        )
    }
}

impl<S, T, E> Source for RealizeEach<S>
where
    S: Source,
    S::Item: IntoFuture<Output = Result<T, E>>,
    <S::Item as IntoFuture>::IntoFuture: Send,
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

impl<S> fmt::Debug for RealizeEach<S>
where
    S: Source + fmt::Debug,
    S::Item: IntoFuture,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RealizeEach")
            .field("upstream", &self.upstream)
            .field("pending", &self.pending.is_some())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

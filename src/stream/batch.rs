//! `batch`, `batch_within` and `batch_by`: messages gathered into vectors.

use std::fmt;
use std::future::Future;
use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::Timer;
use futures_core::Stream;
use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::Node;
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// The source returned by [`batch`](super::SourceExt::batch) and
    /// [`batch_within`](super::SourceExt::batch_within): vectors of at most `max_size` messages.
    #[must_use = "sources do nothing unless polled"]
    pub struct Batch<S: Stream> {
        #[pin]
        inner: BatchBy<S, fn(&S::Item) -> usize>,
    }
}

pin_project! {
    /// The source returned by [`batch_by`](super::SourceExt::batch_by): vectors whose summed
    /// metric is at most `max_size` (a single message over it makes a batch of its own).
    #[must_use = "sources do nothing unless polled"]
    pub struct BatchBy<S: Stream, F> {
        #[pin]
        upstream: S,
        metric: F,
        max_size: usize,
        max_latency: Option<Duration>,
        batch: Vec<S::Item>,
        // The summed metric of `batch`.
        size: usize,
        // Fires `max_latency` after the first message of `batch` arrived.
        timer: Option<Timer>,
        // The upstream ended; `batch` is the last one.
        upstream_done: bool,
        // The metric panicked: ends the stage once `batch` is out.
        error: Option<Error>,
        stage: Stage,
    }
}

fn one<T>(_: &T) -> usize {
    1
}

impl<S: Source> Batch<S> {
    pub(super) fn new(upstream: S, max_size: usize, max_latency: Option<Duration>) -> Self {
        Batch {
            inner: BatchBy::new(upstream, one::<S::Item>, max_size, max_latency, "batch"),
        }
    }
}

impl<S, F> BatchBy<S, F>
where
    S: Source,
    F: FnMut(&S::Item) -> usize,
{
    pub(super) fn new(
        mut upstream: S,
        metric: F,
        max_size: usize,
        max_latency: Option<Duration>,
        kind: &'static str,
    ) -> Self {
        assert!(max_size > 0, "{kind}: max_size must be at least 1");
        let stage = Stage::reading(kind, &mut upstream);
        BatchBy {
            upstream,
            metric,
            max_size,
            max_latency,
            batch: Vec::new(),
            size: 0,
            timer: None,
            upstream_done: false,
            error: None,
            stage,
        }
    }
}

impl<S, F> BatchBy<S, F>
where
    S: Stream,
{
    /// Starts a new batch with `first` (or empty), restarting the latency clock if needed.
    fn restart(
        batch: &mut Vec<S::Item>,
        size: &mut usize,
        timer: &mut Option<Timer>,
        max_latency: Option<Duration>,
        first: Option<(S::Item, usize)>,
    ) -> Vec<S::Item> {
        let full = mem::take(batch);
        *size = 0;
        *timer = None;
        if let Some((message, weight)) = first {
            batch.push(message);
            *size = weight;
            if let Some(latency) = max_latency {
                *timer = Some(Timer::after(latency));
            }
        }
        full
    }
}

impl<S, F> Stream for BatchBy<S, F>
where
    S: Source,
    F: FnMut(&S::Item) -> usize,
{
    type Item = Vec<S::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<S::Item>>> {
        let mut this = self.project();
        loop {
            if this.stage.is_finished() {
                return Poll::Ready(None);
            }
            if !this.batch.is_empty() {
                // Full (perhaps by a message carried over), out of time, or the last one.
                let due = *this.size >= *this.max_size
                    || this.error.is_some()
                    || *this.upstream_done
                    || this
                        .timer
                        .as_mut()
                        .is_some_and(|timer| Pin::new(timer).poll(cx).is_ready());
                if due {
                    let batch = Self::restart(this.batch, this.size, this.timer, None, None);
                    return Poll::Ready(Some(batch));
                }
            }
            if let Some(error) = this.error.take() {
                this.stage.fail(error, &*this.upstream);
                return Poll::Ready(None);
            }
            if *this.upstream_done {
                this.stage.finish_like(&*this.upstream);
                return Poll::Ready(None);
            }
            match this.upstream.as_mut().poll_next(cx) {
                Poll::Ready(Some(message)) => {
                    let metric = &mut *this.metric;
                    let weight = match catch_unwind(AssertUnwindSafe(|| metric(&message))) {
                        Ok(weight) => weight,
                        Err(payload) => {
                            *this.error = Some(Error::panicked(payload));
                            continue;
                        }
                    };
                    if this.batch.is_empty() {
                        if let Some(latency) = *this.max_latency {
                            *this.timer = Some(Timer::after(latency));
                        }
                    }
                    let size = this.size.saturating_add(weight);
                    if size > *this.max_size && !this.batch.is_empty() {
                        // The message would overflow the batch: the batch goes out as it is,
                        // and the message starts the next one.
                        let batch = Self::restart(
                            this.batch,
                            this.size,
                            this.timer,
                            *this.max_latency,
                            Some((message, weight)),
                        );
                        return Poll::Ready(Some(batch));
                    }
                    this.batch.push(message);
                    *this.size = size;
                }
                Poll::Ready(None) => *this.upstream_done = true,
                // The timer, if any, was polled above.
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.stage.is_finished() {
            return (0, Some(0));
        }
        let held = self.batch.len();
        if self.upstream_done {
            return (usize::from(held > 0), Some(usize::from(held > 0)));
        }
        let (lower, upper) = self.upstream.size_hint();
        let lower = usize::from(lower.saturating_add(held) > 0);
        (lower, upper.and_then(|upper| upper.checked_add(held)))
    }
}

impl<S, F> Source for BatchBy<S, F>
where
    S: Source,
    S::Item: Send,
    F: FnMut(&S::Item) -> usize + Send,
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

impl<S: Source> Stream for Batch<S> {
    type Item = Vec<S::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<S::Item>>> {
        self.project().inner.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lower, upper) = self.inner.size_hint();
        let held = self.inner.batch.len();
        let max = self.inner.max_size;
        // Every message lands in a batch of at most `max_size`, and every batch holds one.
        let lower = if self.inner.stage.is_finished() {
            0
        } else if self.inner.upstream_done {
            lower
        } else {
            self.inner
                .upstream
                .size_hint()
                .0
                .saturating_add(held)
                .div_ceil(max)
        };
        (lower, upper)
    }
}

impl<S> Source for Batch<S>
where
    S: Source,
    S::Item: Send,
{
    fn node(&self) -> Node {
        self.inner.node()
    }

    fn close(&self) {
        self.inner.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.inner.drained()
    }
}

impl<S: Stream + fmt::Debug> fmt::Debug for Batch<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batch")
            .field("upstream", &self.inner.upstream)
            .field("max_size", &self.inner.max_size)
            .field("max_latency", &self.inner.max_latency)
            .field("held", &self.inner.batch.len())
            .finish_non_exhaustive()
    }
}

impl<S: Stream + fmt::Debug, F> fmt::Debug for BatchBy<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchBy")
            .field("upstream", &self.upstream)
            .field("max_size", &self.max_size)
            .field("max_latency", &self.max_latency)
            .field("held", &self.batch.len())
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

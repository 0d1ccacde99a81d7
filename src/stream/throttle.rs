//! `throttle` and `throttle_with_backlog`: a source paced to a maximum rate.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;
use futures_core::Stream;
use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::Node;
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// The source returned by [`throttle`](super::SourceExt::throttle) and
    /// [`throttle_with_backlog`](super::SourceExt::throttle_with_backlog): the upstream's
    /// messages, at most `max_rate` per second on average.
    ///
    /// It is a token bucket: each message spends a token, tokens come back at `max_rate` per
    /// second, and the bucket holds one token plus the backlog. Waiting for a token uses a
    /// timer; the upstream is not polled meanwhile, so backpressure reaches it.
    #[must_use = "sources do nothing unless polled"]
    pub struct Throttle<S> {
        #[pin]
        upstream: S,
        max_rate: f64,
        // Tokens the bucket holds at most: one plus the backlog.
        capacity: f64,
        tokens: f64,
        refilled_at: Instant,
        timer: Option<Timer>,
        stage: Stage,
    }
}

impl<S: Source> Throttle<S> {
    pub(super) fn new(mut upstream: S, max_rate: f64, max_backlog: f64) -> Self {
        assert!(
            max_rate > 0.0,
            "throttle: max_rate must be positive, not {max_rate}"
        );
        assert!(
            max_backlog >= 0.0,
            "throttle: max_backlog must be zero or more, not {max_backlog}"
        );
        let stage = Stage::reading("throttle", &mut upstream);
        Throttle {
            upstream,
            max_rate,
            capacity: 1.0 + max_backlog,
            tokens: 1.0,
            refilled_at: Instant::now(),
            timer: None,
            stage,
        }
    }
}

impl<S: Source> Stream for Throttle<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        loop {
            if this.stage.is_finished() {
                return Poll::Ready(None);
            }
            let now = Instant::now();
            let earned = now.duration_since(*this.refilled_at).as_secs_f64() * *this.max_rate;
            *this.tokens = if earned.is_nan() {
                *this.capacity
            } else {
                (*this.tokens + earned).min(*this.capacity)
            };
            *this.refilled_at = now;
            if *this.tokens < 1.0 {
                let wait = Duration::try_from_secs_f64((1.0 - *this.tokens) / *this.max_rate)
                    .unwrap_or(Duration::ZERO);
                let timer = this.timer.get_or_insert_with(Timer::never);
                timer.set_after(wait);
                match Pin::new(timer).poll(cx) {
                    Poll::Ready(_) => continue,
                    Poll::Pending => return Poll::Pending,
                }
            }
            return match this.upstream.as_mut().poll_next(cx) {
                Poll::Ready(Some(message)) => {
                    *this.tokens -= 1.0;
                    Poll::Ready(Some(message))
                }
                Poll::Ready(None) => {
                    this.stage.finish_like(&*this.upstream);
                    Poll::Ready(None)
                }
                Poll::Pending => Poll::Pending,
            };
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.stage.is_finished() {
            (0, Some(0))
        } else {
            self.upstream.size_hint()
        }
    }
}

impl<S: Source> Source for Throttle<S> {
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

impl<S: fmt::Debug> fmt::Debug for Throttle<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("upstream", &self.upstream)
            .field("max_rate", &self.max_rate)
            .field("max_backlog", &(self.capacity - 1.0))
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

//! `periodically` and `periodically_after`: a source of a function's results, one per period.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;
use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::Node;
use super::source::Source;
use super::stage::Stage;

pin_project! {
    /// The source returned by [`periodically`] and [`periodically_after`].
    #[must_use = "sources do nothing unless polled"]
    pub struct Periodically<F> {
        f: Option<F>,
        period: Duration,
        deadline: Instant,
        timer: Timer,
        stage: Stage,
    }
}

/// A source that calls `f` once every `period` and emits what it returns, the first time one
/// period from now: Manifold's `periodically`.
///
/// `f` returns a `Result`: `Ok(message)` is emitted, and an `Err` (or a panic) ends the source
/// with that error, reported by [`Source::drained`]. The source also ends when its consumer
/// closes it. It never ends otherwise.
///
/// The source is lazy: `f` runs when a tick is due and the consumer asks for a message, so
/// messages are never queued up behind a slow consumer. A consumer that comes late gets a fresh
/// message at once, and the next tick is then one full period later (ticks missed meanwhile are
/// skipped, as Manifold reschedules its next tick after a pending put completes).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures_lite::StreamExt;
/// use weir::stream::{self, Source};
///
/// # weir::runtime::block_on(async {
/// let mut n = 0;
/// let ticks = stream::periodically(Duration::from_millis(1), move || {
///     n += 1;
///     if n <= 3 { Ok(n) } else { Err(weir::Error::msg("enough")) }
/// });
/// let drained = ticks.drained();
/// assert_eq!(ticks.collect::<Vec<_>>().await, vec![1, 2, 3]);
/// assert_eq!(drained.await.unwrap_err().to_string(), "enough");
/// # });
/// ```
pub fn periodically<T, F>(period: Duration, f: F) -> Periodically<F>
where
    F: FnMut() -> Result<T, Error>,
{
    periodically_after(period, period, f)
}

/// Like [`periodically`], with the first call after `initial_delay` (zero: at once).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures_lite::StreamExt;
/// use weir::stream::{self, Source};
///
/// # weir::runtime::block_on(async {
/// let mut clock = stream::periodically_after(Duration::from_secs(3600), Duration::ZERO, || {
///     Ok("now")
/// });
/// // The first message comes at once; the second would take an hour.
/// assert_eq!(clock.next().await, Some("now"));
/// clock.close();
/// assert_eq!(clock.next().await, None);
/// assert!(clock.drained().await.is_ok());
/// # });
/// ```
pub fn periodically_after<T, F>(period: Duration, initial_delay: Duration, f: F) -> Periodically<F>
where
    F: FnMut() -> Result<T, Error>,
{
    let deadline = Instant::now().checked_add(initial_delay);
    Periodically {
        f: Some(f),
        period,
        deadline: deadline.unwrap_or_else(Instant::now),
        timer: deadline.map_or_else(Timer::never, Timer::at),
        stage: Stage::root("periodically"),
    }
}

impl<T, F> futures_core::Stream for Periodically<F>
where
    F: FnMut() -> Result<T, Error>,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.project();
        if this.stage.is_finished() {
            *this.f = None;
            return Poll::Ready(None);
        }
        let Some(f) = this.f.as_mut() else {
            return Poll::Ready(None);
        };
        if Pin::new(&mut *this.timer).poll(cx).is_pending() {
            return Poll::Pending;
        }
        let outcome = match catch_unwind(AssertUnwindSafe(f)) {
            Ok(outcome) => outcome,
            Err(payload) => Err(Error::panicked(payload)),
        };
        match outcome {
            Ok(message) => {
                let now = Instant::now();
                let next = this
                    .deadline
                    .checked_add(*this.period)
                    .filter(|&next| next > now)
                    .or_else(|| now.checked_add(*this.period));
                match next {
                    Some(next) => {
                        *this.deadline = next;
                        this.timer.set_at(next);
                    }
                    None => *this.timer = Timer::never(),
                }
                Poll::Ready(Some(message))
            }
            Err(error) => {
                *this.f = None;
                this.stage.finish(Err(error));
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.f.is_none() || self.stage.is_finished() {
            (0, Some(0))
        } else {
            (0, None)
        }
    }
}

impl<T, F> Source for Periodically<F>
where
    F: FnMut() -> Result<T, Error> + Send,
{
    fn node(&self) -> Node {
        self.stage.node()
    }

    /// Ends the source: the next poll returns `None` (a consumer already waiting for a tick
    /// sees it at that tick).
    fn close(&self) {
        self.stage.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<F> fmt::Debug for Periodically<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Periodically")
            .field("period", &self.period)
            .field("next", &self.deadline)
            .finish_non_exhaustive()
    }
}

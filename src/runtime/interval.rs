//! `interval` and `interval_at`.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;
use futures_core::Stream;

/// A stream that yields the instant of each tick, every `period`; see [`interval`]. It never
/// ends. Ticks keep to the original schedule: a consumer that falls behind gets the ticks it
/// missed at once, one after another, until it has caught up.
pub struct Interval {
    timer: Timer,
}

/// Ticks every `period`, the first tick one period from now.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use std::time::Duration;
///
/// let ticks = weir::runtime::interval(Duration::from_millis(1)).take(3);
/// let ticks: Vec<_> = weir::runtime::block_on(ticks.collect());
/// assert_eq!(ticks.len(), 3);
/// assert!(ticks[0] < ticks[1] && ticks[1] < ticks[2]);
/// ```
pub fn interval(period: Duration) -> Interval {
    Interval {
        timer: Timer::interval(period),
    }
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// let mut ticks = weir::runtime::interval_at(start, Duration::from_secs(60));
/// let first = weir::runtime::block_on(ticks.next()).unwrap();
/// assert!(first >= start && first < start + Duration::from_secs(60));
/// ```
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    Interval {
        timer: Timer::interval_at(start, period),
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        Pin::new(&mut self.timer).poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval").finish_non_exhaustive()
    }
}

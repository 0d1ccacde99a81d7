//! `sleep` and `sleep_until`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_io::Timer;

/// A future that completes at a deadline, yielding the instant it fired; see [`sleep`] and
/// [`sleep_until`]. Dropping it cancels the timer.
pub struct Sleep {
    timer: Timer,
}

/// Completes after `duration`.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// weir::runtime::block_on(weir::runtime::sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        timer: Timer::after(duration),
    }
}

/// Completes at `deadline` (at once if it has passed).
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let deadline = Instant::now() + Duration::from_millis(5);
/// let fired = weir::runtime::block_on(weir::runtime::sleep_until(deadline));
/// assert!(fired >= deadline);
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        timer: Timer::at(deadline),
    }
}

impl Sleep {
    /// Moves the deadline to `deadline`, as if the timer had been created with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let mut sleep = weir::runtime::sleep(Duration::from_secs(3600));
    /// sleep.reset(Instant::now());
    /// weir::runtime::block_on(sleep);
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.timer.set_at(deadline);
    }
}

impl Future for Sleep {
    type Output = Instant;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        Pin::new(&mut self.timer).poll(cx)
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep").finish_non_exhaustive()
    }
}

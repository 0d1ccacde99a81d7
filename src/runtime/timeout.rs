//! `timeout`: bound any future by a duration.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::Timer;
use pin_project_lite::pin_project;

use crate::Error;

pin_project! {
    /// The future returned by [`timeout`].
    pub struct Timeout<F> {
        #[pin]
        future: F,
        // `None` for no bound (`timeout_if`).
        timer: Option<Timer>,
        after: Duration,
    }
}

/// Runs `future` for at most `after`: its output, or a [timeout error](Error::is_timeout).
/// Dropping the returned future drops `future` too.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::runtime::{block_on, sleep, timeout};
///
/// let quick = block_on(timeout(Duration::from_secs(5), async { 1 }));
/// assert_eq!(quick.unwrap(), 1);
///
/// let slow = block_on(timeout(Duration::from_millis(5), sleep(Duration::from_secs(3600))));
/// assert!(slow.unwrap_err().is_timeout());
/// ```
pub fn timeout<F: Future>(after: Duration, future: F) -> Timeout<F> {
    Timeout {
        future,
        timer: Some(Timer::after(after)),
        after,
    }
}

/// [`timeout`] when `after` is given, `future` as it is otherwise: one future either way, so
/// that a caller with an optional bound holds `future` once, not once per branch of a `match`
/// (which a task keeps for as long as it runs).
#[cfg(feature = "http1")]
pub(crate) fn timeout_if<F: Future>(after: Option<Duration>, future: F) -> Timeout<F> {
    Timeout {
        future,
        timer: after.map(Timer::after),
        after: after.unwrap_or_default(),
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match this.timer {
            Some(timer) => match Pin::new(timer).poll(cx) {
                Poll::Ready(_) => Poll::Ready(Err(Error::timed_out(*this.after))),
                Poll::Pending => Poll::Pending,
            },
            None => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

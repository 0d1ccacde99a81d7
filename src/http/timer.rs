//! hyper's `Timer` on async-io, always installed (without one hyper silently turns its
//! header-read timeout off).
//!
//! hyper moves its header-read deadline forward on every request. Re-arming an async-io timer
//! costs a trip through the reactor each time, so a [`Deadline`] keeps its timer armed at the
//! earliest deadline it was given and only re-arms when that timer fires early (the deadline
//! moved later meanwhile) or the deadline moves earlier: one timer operation per deadline that
//! actually passes, not one per request.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// weir's timer for hyper.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct WeirTimer;

impl hyper::rt::Timer for WeirTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Deadline::new(Instant::now() + duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Deadline::new(deadline))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Deadline>() {
            Some(deadline) => deadline.get_mut().reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

/// A deadline whose timer is re-armed lazily.
#[derive(Debug)]
pub(crate) struct Deadline {
    deadline: Instant,
    /// When the timer is armed for, if it is.
    armed_at: Option<Instant>,
    timer: async_io::Timer,
}

impl Deadline {
    pub(crate) fn new(deadline: Instant) -> Deadline {
        Deadline {
            deadline,
            armed_at: None,
            timer: async_io::Timer::never(),
        }
    }

    /// Moves the deadline; costs nothing until the timer is polled.
    pub(crate) fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
    }
}

impl hyper::rt::Sleep for Deadline {}

impl Future for Deadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if Instant::now() >= this.deadline {
                this.armed_at = None;
                return Poll::Ready(());
            }
            match this.armed_at {
                Some(at) if at <= this.deadline => {}
                _ => {
                    this.timer.set_at(this.deadline);
                    this.armed_at = Some(this.deadline);
                }
            }
            match Pin::new(&mut this.timer).poll(cx) {
                Poll::Pending => return Poll::Pending,
                // Fired at `armed_at`; the deadline may have moved later: look again.
                Poll::Ready(_) => this.armed_at = None,
            }
        }
    }
}

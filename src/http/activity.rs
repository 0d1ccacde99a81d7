//! What a connection has in flight, for its idle timeout.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Requests in flight on one connection, and when the last one ended.
#[derive(Debug)]
pub(crate) struct Activity {
    started: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `started` when the connection last had nothing in flight.
    idle_since_ms: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity {
            started: Instant::now(),
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
        }
    }

    /// Counts a request as in flight until the returned guard is dropped.
    pub(crate) fn start(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight {
            activity: self.clone(),
        }
    }

    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// None when the connection has idled for `timeout`; otherwise when to look again.
    pub(crate) fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        let now = Instant::now();
        if self.in_flight() > 0 {
            return Some(now + timeout);
        }
        let since =
            self.started + Duration::from_millis(self.idle_since_ms.load(Ordering::Acquire));
        let deadline = since + timeout;
        if deadline <= now {
            None
        } else {
            Some(deadline)
        }
    }
}

/// One request in flight; see [`Activity::start`].
#[derive(Debug)]
pub(crate) struct InFlight {
    activity: Arc<Activity>,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let ms = self.activity.started.elapsed().as_millis() as u64;
        self.activity.idle_since_ms.store(ms, Ordering::Release);
        self.activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

//! HTTP/2 keep-alive PINGs, for the server's connections and the client's.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use super::timer::Deadline;

/// Keep-alive PINGs: one an interval after the last PONG; false when one went unanswered
/// within the timeout (or the connection can no longer send one).
pub(crate) struct KeepAlive {
    ping_pong: h2::PingPong,
    interval: Duration,
    timeout: Duration,
    next: Deadline,
    waiting: bool,
}

impl KeepAlive {
    pub(crate) fn new(ping_pong: h2::PingPong, interval: Duration, timeout: Duration) -> KeepAlive {
        KeepAlive {
            ping_pong,
            interval,
            timeout,
            next: Deadline::new(Instant::now() + interval),
            waiting: false,
        }
    }

    /// Pending while the peer answers; `Ready(false)` once it has not.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        loop {
            if self.waiting {
                match self.ping_pong.poll_pong(cx) {
                    Poll::Ready(Ok(_)) => {
                        self.waiting = false;
                        self.next.reset(Instant::now() + self.interval);
                        continue;
                    }
                    Poll::Ready(Err(_)) => return Poll::Ready(false),
                    Poll::Pending => {}
                }
                ready!(Pin::new(&mut self.next).poll(cx));
                return Poll::Ready(false);
            }
            ready!(Pin::new(&mut self.next).poll(cx));
            if self.ping_pong.send_ping(h2::Ping::opaque()).is_err() {
                return Poll::Ready(false);
            }
            self.waiting = true;
            self.next.reset(Instant::now() + self.timeout);
        }
    }
}

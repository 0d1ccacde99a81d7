//! `OsSocket` and `Owner`: the operating-system socket, and what the send and receive sides
//! share about it.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_io::Async;

use crate::stream::Channel;
use crate::{Deferred, Error};

use super::datagram::Datagram;

/// The operating-system socket; dropping the last reference closes it and then realizes
/// `closed` ([`UdpSocket::socket_closed`](super::UdpSocket::socket_closed)), so that once that
/// deferred is realized the port can be bound again.
pub(super) struct OsSocket {
    io: Option<Async<std::net::UdpSocket>>,
    closed: Deferred<(), Error>,
}

impl OsSocket {
    pub(super) fn new(io: Async<std::net::UdpSocket>, closed: Deferred<(), Error>) -> Self {
        OsSocket {
            io: Some(io),
            closed,
        }
    }

    pub(super) fn io(&self) -> &Async<std::net::UdpSocket> {
        self.io
            .as_ref()
            .expect("the socket is only taken out when dropped")
    }
}

impl Drop for OsSocket {
    fn drop(&mut self) {
        drop(self.io.take());
        self.closed.success(());
    }
}

/// Owns the socket for both sides. The send loop holds it until the outbound side is drained;
/// the inbound side holds it until it is closed (see `Inbound`). Once both let go, the socket
/// is closed (unless a receive that is being woken still holds the [`OsSocket`] for a moment).
pub(super) struct Owner {
    pub(super) socket: Arc<OsSocket>,
    /// How many outbound datagrams are not yet handed to the kernel: queued in the outbound
    /// channel (counted before they are offered, uncounted if refused), in the send loop's
    /// hands, or being sent directly by a put. A put may send directly (the fast path, which
    /// saves the channel and the hop to the send loop) only when it moves this from 0 to 1:
    /// then nothing put before it is still waiting, so no datagram overtakes an earlier one.
    /// It may over-count (a put cancelled while waiting for room is kept counted, as it may
    /// have been accepted), which only turns the fast path off; it never under-counts.
    unsent: AtomicUsize,
}

impl Owner {
    pub(super) fn new(socket: Arc<OsSocket>) -> Self {
        Owner {
            socket,
            unsent: AtomicUsize::new(0),
        }
    }

    /// The fast path: sends `datagram` now, without blocking, if nothing put before it is
    /// still unsent and the outbound side is open. `Ok(None)` when it sent the datagram;
    /// `Err` when the kernel refused this datagram ([`send_failed`]: a destination that is
    /// unreachable or refused, a datagram too large for the route): that put fails and the
    /// socket stays open. An error of the socket itself closes the outbound side with the
    /// error, as the send loop would, and the put succeeds as a queued one would have.
    /// Otherwise the datagram is handed back with `unsent` counting it, and the caller must
    /// queue it (uncounting it if the channel refuses it).
    pub(super) fn try_send_now(
        &self,
        outbound: &Channel<Datagram>,
        datagram: Datagram,
    ) -> Result<Option<Datagram>, Error> {
        if self
            .unsent
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.unsent.fetch_add(1, Ordering::AcqRel);
            return Ok(Some(datagram));
        }
        if outbound.is_closed() {
            return Ok(Some(datagram));
        }
        let outcome = match self
            .socket
            .io()
            .get_ref()
            .send_to(&datagram.payload, datagram.peer)
        {
            Ok(_) => Ok(None),
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                // Still counted: the channel is empty (nothing was unsent), so it goes next.
                return Ok(Some(datagram));
            }
            Err(error) if is_socket_error(&error) => {
                outbound.close_with_error(Error::from(error));
                Ok(None)
            }
            Err(error) => Err(send_failed(&datagram, error)),
        };
        self.unsent.fetch_sub(1, Ordering::Release);
        outcome
    }

    /// Counts `n` datagrams about to be queued as unsent.
    pub(super) fn count(&self, n: usize) {
        self.unsent.fetch_add(n, Ordering::AcqRel);
    }

    /// Uncounts `n` datagrams that were counted but not queued, or that the send loop is done
    /// with.
    pub(super) fn uncount(&self, n: usize) {
        if n > 0 {
            self.unsent.fetch_sub(n, Ordering::Release);
        }
    }
}

/// True for a send error of the socket itself, which closes the outbound side: the socket is
/// no longer a usable socket (`EBADF`, `ENOTSOCK`) or was shut down for writing. Every other
/// error is about one datagram and its destination (`ECONNREFUSED` from an earlier ICMP
/// message, `EHOSTUNREACH`, `ENETUNREACH`, `EMSGSIZE`, `EACCES` for a broadcast address
/// without [`broadcast`](super::SocketOptions::broadcast), `ENOBUFS`…): it fails that datagram
/// only.
pub(super) fn is_socket_error(error: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    const NOT_A_SOCKET: &[i32] = &[9, 88]; // EBADF, ENOTSOCK
    #[cfg(all(unix, not(target_os = "linux")))]
    const NOT_A_SOCKET: &[i32] = &[9, 38]; // EBADF, ENOTSOCK (BSDs, macOS)
    #[cfg(windows)]
    const NOT_A_SOCKET: &[i32] = &[10009, 10038]; // WSAEBADF, WSAENOTSOCK
    #[cfg(not(any(unix, windows)))]
    const NOT_A_SOCKET: &[i32] = &[];
    matches!(
        error.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::NotConnected
    ) || error
        .raw_os_error()
        .is_some_and(|code| NOT_A_SOCKET.contains(&code))
}

/// The error of a datagram the kernel refused to send, naming its destination and size; the
/// error is an [I/O error](Error::is_io) of the same [`io::ErrorKind`].
pub(super) fn send_failed(datagram: &Datagram, error: io::Error) -> Error {
    let context = format!(
        "sending a datagram of {} bytes to {} failed",
        datagram.len(),
        datagram.peer
    );
    Error::from(io::Error::new(error.kind(), format!("{context}: {error}")))
}

//! `Inbound`: the source half of a UDP socket. It reads the socket when it is taken from: no
//! task and no buffer stand between the kernel and the consumer, so a datagram costs one
//! `recv_from` in the consumer's own task, as with a raw socket.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};

use bytes::Bytes;
use event_listener::Event;
use futures_lite::future;

use crate::stream::{Description, Edge, Edges, Node, Source, Vertex};
use crate::{Deferred, Error};

use super::datagram::Datagram;
use super::owner::{OsSocket, Owner};

thread_local! {
    /// Where datagrams are received before being copied into their own `Bytes`: one buffer
    /// per thread, large enough for any datagram, instead of one per socket or handle.
    static RECEIVE_BUFFER: RefCell<Box<[u8]>> =
        RefCell::new(vec![0; usize::from(u16::MAX)].into_boxed_slice());
}

/// What every handle of one socket's inbound side shares; also its vertex in the stream graph.
pub(super) struct InboundState {
    label: String,
    drained: Deferred<(), Error>,
    /// Set once `drained` is realized: the per-receive check.
    closed: AtomicBool,
    /// Wakes the receives waiting for the socket when the inbound side closes.
    close_event: Event,
    /// Keeps the socket open for receiving until the inbound side closes.
    keeper: Mutex<Option<Arc<Owner>>>,
    max_datagram_size: usize,
    /// How many receives are waiting for a datagram (the description's `pending_takes`).
    waiting: AtomicUsize,
    edges: Edges,
}

impl InboundState {
    /// The inbound side of the socket at `local_addr`, receiving through `owner`; without one
    /// (a send-only socket) it is drained from the start.
    pub(super) fn new(
        local_addr: SocketAddr,
        owner: Option<Arc<Owner>>,
        max_datagram_size: usize,
    ) -> Arc<Self> {
        let send_only = owner.is_none();
        let state = Arc::new(InboundState {
            label: format!("udp {local_addr} inbound"),
            drained: Deferred::new().quiet(),
            closed: AtomicBool::new(false),
            close_event: Event::new(),
            keeper: Mutex::new(owner),
            max_datagram_size,
            waiting: AtomicUsize::new(0),
            edges: Edges::default(),
        });
        if send_only {
            state.close();
        }
        state
    }

    /// Closes the inbound side at the consumer's request: a clean end.
    pub(super) fn close(&self) {
        self.finish(Ok(()));
    }

    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Ends the inbound side (the first outcome sticks): the drain is realized before any
    /// receive can see the end, the socket is let go, and waiting receives wake up.
    fn finish(&self, outcome: Result<(), Error>) {
        let _ = self.drained.try_realize(outcome);
        self.closed.store(true, Ordering::Release);
        let keeper = self
            .keeper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(keeper);
        self.close_event.notify(usize::MAX);
    }
}

impl Vertex for InboundState {
    fn description(&self) -> Description {
        let mut description = Description::new("udp-inbound");
        description.label = Some(self.label.clone());
        description.pending_takes = self.waiting.load(Ordering::Relaxed);
        description.drained = self.drained.is_realized();
        description.closed = description.drained;
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.edges.snapshot()
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.edges.add(description, target);
    }

    fn unlink(&self, target: &Node) {
        self.edges.remove(target);
    }
}

/// One handle on the inbound side: a [`Source`] of the datagrams the socket receives.
pub(super) struct Inbound {
    state: Arc<InboundState>,
    /// Weak: a handle does not keep the socket open; the state's keeper does.
    owner: Weak<Owner>,
    /// The wait of this handle's `poll_next`, when it found nothing to receive.
    waiting: Option<Waiting>,
}

impl Inbound {
    pub(super) fn new(state: Arc<InboundState>, owner: Weak<Owner>) -> Self {
        Inbound {
            state,
            owner,
            waiting: None,
        }
    }

    /// Receives the next datagram, or `None` once the inbound side is drained; `waiting` is
    /// the caller's wait, kept between polls. Nothing is lost when the caller stops polling:
    /// a datagram is received only in the poll that returns it.
    pub(super) fn poll_take(
        &self,
        waiting: &mut Option<Waiting>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Datagram>> {
        loop {
            let owner = match self.receive_now() {
                Received::Datagram(datagram) => {
                    *waiting = None;
                    return Poll::Ready(Some(datagram));
                }
                Received::Closed => {
                    *waiting = None;
                    return Poll::Ready(None);
                }
                Received::Nothing(owner) => owner,
            };
            let wait = waiting.get_or_insert_with(|| Waiting::new(&self.state, &owner.socket));
            drop(owner);
            // Listening before this check: a close after it wakes the wait.
            if self.state.is_closed() {
                continue;
            }
            match wait.ready.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(outcome) => {
                    *waiting = None;
                    if let Err(error) = outcome {
                        self.state.finish(Err(Error::from(error)));
                    }
                    // Readable, or closed: the next receive tells which.
                }
            }
        }
    }

    /// Receives a datagram if one is there, without waiting.
    fn receive_now(&self) -> Received {
        loop {
            if self.state.is_closed() {
                return Received::Closed;
            }
            let Some(owner) = self.owner.upgrade() else {
                // The socket is gone, which happens only once the inbound side is closed.
                self.state.close();
                return Received::Closed;
            };
            let received = RECEIVE_BUFFER.with_borrow_mut(|buffer| -> io::Result<Datagram> {
                let buffer = &mut buffer[..self.state.max_datagram_size];
                let (length, peer) = owner.socket.io().get_ref().recv_from(buffer)?;
                Ok(Datagram {
                    peer,
                    payload: Bytes::copy_from_slice(&buffer[..length]),
                })
            });
            match received {
                Ok(datagram) => return Received::Datagram(datagram),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    return Received::Nothing(owner);
                }
                Err(error) if is_skippable_receive_error(&error) => continue,
                Err(error) => {
                    self.state.finish(Err(Error::from(error)));
                    return Received::Closed;
                }
            }
        }
    }
}

impl Clone for Inbound {
    /// Another handle, with no wait of its own yet.
    fn clone(&self) -> Self {
        Inbound::new(self.state.clone(), self.owner.clone())
    }
}

impl futures_core::Stream for Inbound {
    type Item = Datagram;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Datagram>> {
        let this = self.get_mut();
        let mut waiting = this.waiting.take();
        let polled = this.poll_take(&mut waiting, cx);
        this.waiting = waiting;
        polled
    }
}

impl Source for Inbound {
    fn node(&self) -> Node {
        Node::new(self.state.clone())
    }

    fn close(&self) {
        self.state.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.state.drained.clone()
    }

    /// The first datagram as `poll_next`, then whatever else is already there, up to `limit`.
    fn poll_next_batch(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<Datagram>,
    ) -> Poll<bool> {
        let this = self.get_mut();
        let mut waiting = this.waiting.take();
        let polled = this.poll_take(&mut waiting, cx);
        this.waiting = waiting;
        let Some(first) = std::task::ready!(polled) else {
            return Poll::Ready(false);
        };
        out.push(first);
        while out.len() < limit {
            match this.receive_now() {
                Received::Datagram(datagram) => out.push(datagram),
                Received::Nothing(_) | Received::Closed => break,
            }
        }
        Poll::Ready(true)
    }
}

/// What a receive without waiting found.
enum Received {
    Datagram(Datagram),
    /// Nothing yet; the socket, to wait on.
    Nothing(Arc<Owner>),
    Closed,
}

/// A receive waiting until the socket is readable (`Ok(true)`), the inbound side closes
/// (`Ok(false)`) or the reactor fails; counted in the description's `pending_takes`.
pub(super) struct Waiting {
    ready: Pin<Box<dyn Future<Output = io::Result<bool>> + Send + Sync>>,
    state: Arc<InboundState>,
}

impl Waiting {
    fn new(state: &Arc<InboundState>, socket: &Arc<OsSocket>) -> Self {
        let closed = state.close_event.listen();
        let socket = socket.clone();
        let readable = async move { socket.io().readable().await.map(|()| true) };
        let ready = Box::pin(future::or(readable, async move {
            closed.await;
            Ok(false)
        }));
        state.waiting.fetch_add(1, Ordering::Relaxed);
        Waiting {
            ready,
            state: state.clone(),
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.state.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Errors a receive reports that do not end the socket: an interrupted call; the ICMP "port
/// unreachable" of an earlier send, which Windows reports on the next receive; and a datagram
/// longer than the buffer, which Windows reports as `WSAEMSGSIZE` (the sender is not reported
/// then, so the datagram is skipped; elsewhere the kernel truncates it silently).
fn is_skippable_receive_error(error: &io::Error) -> bool {
    const WSAEMSGSIZE: i32 = 10040;
    matches!(
        error.kind(),
        io::ErrorKind::Interrupted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    ) || (cfg!(windows) && error.raw_os_error() == Some(WSAEMSGSIZE))
}

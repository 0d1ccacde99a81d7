//! `Outbound`: the sink half of a UDP socket, a channel behind a check of each datagram, and
//! the send loop that empties the channel.

use std::collections::VecDeque;
use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use crate::Error;
use crate::stream::{Channel, Node, Sink};

use super::datagram::Datagram;
use super::owner::{Owner, is_socket_error, send_failed};

/// The outbound half of the splice: the outbound channel, behind a check of each datagram.
pub(super) struct Outbound {
    pub(super) channel: Channel<Datagram>,
    pub(super) local_addr: SocketAddr,
    /// For the fast path and the count of unsent datagrams; weak so that the handles do not
    /// keep the socket open.
    pub(super) owner: Weak<Owner>,
}

impl Clone for Outbound {
    fn clone(&self) -> Self {
        Outbound {
            channel: self.channel.clone(),
            local_addr: self.local_addr,
            owner: self.owner.clone(),
        }
    }
}

impl fmt::Debug for Outbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbound")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl futures_sink::Sink<Datagram> for Outbound {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.channel).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, datagram: Datagram) -> Result<(), Error> {
        datagram.check_sendable(self.local_addr)?;
        let Some(owner) = self.owner.upgrade() else {
            return Pin::new(&mut self.channel).start_send(datagram);
        };
        // As in `UdpSocket::put`: send at once if nothing is unsent, else queue, counted.
        // A datagram left pending in the channel stays there (the sink never withdraws it).
        let Some(datagram) = owner.try_send_now(&self.channel, datagram)? else {
            return Ok(());
        };
        let sent = Pin::new(&mut self.channel).start_send(datagram);
        if sent.is_err() {
            owner.uncount(1);
        }
        sent
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        futures_sink::Sink::<Datagram>::poll_flush(Pin::new(&mut self.channel), cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        futures_sink::Sink::<Datagram>::poll_close(Pin::new(&mut self.channel), cx)
    }
}

impl Sink<Datagram> for Outbound {
    fn node(&self) -> Node {
        self.channel.node()
    }

    fn poll_closed(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Sink::poll_closed(Pin::new(&mut self.channel), cx)
    }

    fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }

    fn close_now(&self) {
        self.channel.close();
    }

    fn close_with_cause(&self, cause: Error) {
        self.channel.close_with_error(cause);
    }

    fn room(&self) -> usize {
        Sink::room(&self.channel)
    }

    /// Checks the whole run first: a run of sendable datagrams goes to the channel at once;
    /// otherwise the sendable ones before the first refused datagram do, and the refused one is
    /// the error.
    fn start_send_all(
        mut self: Pin<&mut Self>,
        datagrams: &mut VecDeque<Datagram>,
    ) -> Result<(), Error> {
        let local_addr = self.local_addr;
        let refused = datagrams
            .iter()
            .position(|datagram| datagram.check_sendable(local_addr).is_err());
        let Some(refused) = refused else {
            return self.queue_all(datagrams);
        };
        let mut rest = datagrams.split_off(refused);
        if !datagrams.is_empty() {
            self.queue_all(datagrams)?;
        }
        let result = match rest.pop_front() {
            Some(datagram) => datagram.check_sendable(local_addr),
            None => Ok(()),
        };
        *datagrams = rest;
        result
    }
}

impl Outbound {
    /// Queues a run of checked datagrams, counting those the channel took as unsent (see
    /// `Owner::unsent`); the ones it did not take stay in `datagrams`.
    fn queue_all(&mut self, datagrams: &mut VecDeque<Datagram>) -> Result<(), Error> {
        let owner = self.owner.upgrade();
        let offered = datagrams.len();
        if let Some(owner) = &owner {
            owner.count(offered);
        }
        let queued = Pin::new(&mut self.channel).start_send_all(datagrams);
        if let Some(owner) = &owner {
            owner.uncount(datagrams.len());
        }
        queued
    }
}

/// Sends the datagrams of the outbound channel until it is closed and drained, or an error of
/// the socket itself closes it. A datagram the kernel refuses for its destination (see
/// [`is_socket_error`]) is dropped and logged, as the network would drop it: its put has
/// completed already, and the next datagrams go on.
pub(super) async fn send_loop(owner: Arc<Owner>, outbound: Channel<Datagram>) {
    let socket = &owner.socket;
    while let Some(datagram) = outbound.take_next().await {
        let sent = socket.io().send_to(&datagram.payload, datagram.peer).await;
        // Uncounted once the kernel has it (or the send failed), not before: until then a put
        // must not send directly, which would overtake it.
        owner.uncount(1);
        match sent {
            Ok(_) => {}
            Err(error) if is_socket_error(&error) => {
                outbound.close_with_error(Error::from(error));
                // Drop what is still queued, so that the outbound side drains with the cause.
                while outbound.take_next().await.is_some() {
                    owner.uncount(1);
                }
                return;
            }
            Err(error) => {
                log::debug!("weir: udp: {}", send_failed(&datagram, error));
            }
        }
    }
}

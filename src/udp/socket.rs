//! `socket` and `UdpSocket`: a UDP socket as a weir duplex stream of datagrams, a splice of an
//! outbound channel (drained by a send loop) and an inbound side that reads the socket when taken
//! from.

use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use async_io::Async;
use futures_lite::future;

use crate::runtime;
use crate::stream::{self, Channel, Node, Sink, Source, Splice};
use crate::{Deferred, Error};

use super::datagram::Datagram;
use super::inbound::{Inbound, InboundState};
use super::options::SocketOptions;
use super::outbound::{Outbound, send_loop};
use super::owner::{OsSocket, Owner};

/// Opens a UDP socket: Aleph's `udp/socket`. The deferred is realized at once (binding does not
/// wait) with the socket as a duplex stream of [`Datagram`]s, or with the error that prevented
/// it (an address in use, a refused multicast join…).
///
/// The socket is [`stream::splice`] of an outbound channel and an inbound source:
///
/// - **Receiving** happens in the consumer's own task: taking from the socket (a
///   [`take_next`](UdpSocket::take_next), a poll of the stream, a [`stream::connect`]) reads the next
///   datagram from the operating-system socket, or waits until one arrives. No task and no
///   buffer sit between the kernel and the consumer, so a datagram costs what it costs on a
///   raw socket. While nobody takes, datagrams wait in the kernel's receive buffer
///   ([`SocketOptions::receive_buffer_size`]) and the kernel drops those that do not fit,
///   which is how UDP behaves under a slow consumer; weir's memory stays bounded whatever
///   the peers send. To read ahead while the consumer is busy, put a
///   [`SourceExt::read_ahead`](crate::stream::SourceExt::read_ahead) after the socket. A receive
///   error ends the inbound side with that error as its drain cause ([`Source::drained`]); an
///   ICMP "port unreachable" reported on receive (Windows does) is not an error and is
///   skipped. With [`send_only`](SocketOptions::send_only) nothing is read and the inbound
///   side is drained at once.
/// - **Sending**: a put sends at once when nothing is queued before it, otherwise it queues
///   the datagram in the outbound channel, which a **send loop** task empties with `send_to`.
///   A send error about one datagram (its destination unreachable or refused, a datagram too
///   large for the route, a broadcast address without
///   [`broadcast`](SocketOptions::broadcast)) fails that datagram only: a put that sent at
///   once fails with the [I/O error](Error::is_io), naming the destination; a queued datagram
///   (its put has completed) is dropped and logged, as the network would drop it. The socket
///   stays open for every other peer. Only an error of the socket itself closes the outbound
///   side with that error as its cause: the datagrams still queued are dropped, later puts
///   fail, and [`UdpSocket::outbound_drained`] reports the error. The inbound side keeps
///   working.
///
/// Closing the socket ([`Source::close`], or dropping every handle) closes both sides: waiting
/// takes return `None` at once, the send loop stops once it has sent what was already queued,
/// and then the operating-system socket is closed ([`UdpSocket::socket_closed`]).
///
/// # Cancel safety
///
/// The deferred is realized before it is returned, so there is nothing to cancel: dropping it
/// unawaited drops the socket's only handle, which closes the socket.
///
/// # Examples
///
/// ```
/// use weir::udp::{self, Datagram, SocketOptions};
///
/// # weir::runtime::block_on(async {
/// let localhost = || SocketOptions::new().address(([127, 0, 0, 1], 0));
/// let server = udp::socket(localhost()).await.unwrap();
/// let client = udp::socket(localhost()).await.unwrap();
///
/// client.put(Datagram::new(server.local_addr(), "ping")).await.unwrap();
/// let request = server.take_next().await.unwrap();
/// assert_eq!(request.peer, client.local_addr());
/// assert_eq!(&request.payload[..], b"ping");
///
/// server.put(Datagram::new(request.peer, "pong")).await.unwrap();
/// assert_eq!(&client.take_next().await.unwrap().payload[..], b"pong");
/// # });
/// ```
pub fn socket(options: SocketOptions) -> Deferred<UdpSocket, Error> {
    match UdpSocket::open(options) {
        Ok(socket) => Deferred::succeeded(socket),
        Err(error) => Deferred::failed(error),
    }
}

/// A UDP socket as a weir duplex stream, returned by [`socket`]: a [`Source`] of inbound
/// [`Datagram`]s (`peer` is the sender) and a [`Sink`] of outbound ones (`peer` is the
/// destination). See [`socket`] for how it reads, writes and closes.
///
/// It is [`stream::splice`] of an outbound channel and an inbound source, wrapped so that it can
/// report its [`local_addr`](UdpSocket::local_addr) and check outbound datagrams before they
/// are queued: a datagram larger than UDP can carry (see
/// [`DatagramTooLarge`](super::DatagramTooLarge)), addressed to the other IP family, or to
/// port 0 is refused with an error on its put (or `start_send`), and the socket stays usable.
///
/// Handles are cheap to clone and share the socket, so one task can take while another puts.
/// The socket closes when any handle closes it or when the last handle is dropped.
///
/// With [`stream::connect`], note that `connect` treats a refused message as a closed sink: a
/// datagram refused on its way into the socket ends that connection.
///
/// # Examples
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use weir::stream::Source;
/// use weir::udp::{self, Datagram, SocketOptions};
///
/// # weir::runtime::block_on(async {
/// let mut socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
/// let me = socket.local_addr();
/// socket.send(Datagram::new(me, "to myself")).await.unwrap();
/// assert_eq!(socket.next().await.unwrap().payload, "to myself");
/// socket.close();
/// assert_eq!(socket.next().await, None);
/// socket.socket_closed().await.unwrap();
/// # });
/// ```
pub struct UdpSocket {
    splice: Splice<Outbound, Inbound>,
    shared: Arc<Shared>,
}

/// What every handle of one socket shares; dropping the last handle closes the socket.
struct Shared {
    local_addr: SocketAddr,
    broadcast: bool,
    outbound: Channel<Datagram>,
    inbound: Arc<InboundState>,
    socket_closed: Deferred<(), Error>,
    /// For the direct-send fast path and the socket options; weak so that the handles do not
    /// keep the socket open.
    owner: Weak<Owner>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.inbound.close();
        self.outbound.close();
    }
}

impl UdpSocket {
    fn open(options: SocketOptions) -> Result<UdpSocket, Error> {
        let std_socket = std::net::UdpSocket::bind(options.address)?;
        if options.broadcast {
            std_socket.set_broadcast(true)?;
        }
        if let Some((group, interface)) = options.multicast_v4 {
            std_socket.join_multicast_v4(&group, &interface)?;
        }
        let kernel_buffers = socket2::SockRef::from(&std_socket);
        if let Some(bytes) = options.receive_buffer_size {
            kernel_buffers.set_recv_buffer_size(bytes)?;
        }
        if let Some(bytes) = options.send_buffer_size {
            kernel_buffers.set_send_buffer_size(bytes)?;
        }
        let io = Async::new(std_socket)?;
        let local_addr = io.get_ref().local_addr()?;

        let outbound = Channel::builder()
            .capacity(options.outbound_buffer)
            .description(format!("udp {local_addr} outbound"))
            .build();
        let socket_closed = Deferred::new().quiet();
        let owner = Arc::new(Owner::new(Arc::new(OsSocket::new(
            io,
            socket_closed.clone(),
        ))));
        let weak_owner = Arc::downgrade(&owner);
        let receiver = (!options.send_only).then(|| owner.clone());
        let inbound = InboundState::new(local_addr, receiver, options.max_datagram_size);
        runtime::spawn_detached(send_loop(owner, outbound.clone()));

        let shared = Arc::new(Shared {
            local_addr,
            broadcast: options.broadcast,
            outbound: outbound.clone(),
            inbound: inbound.clone(),
            socket_closed,
            owner: weak_owner.clone(),
        });
        let splice = stream::splice(
            Outbound {
                channel: outbound,
                local_addr,
                owner: weak_owner.clone(),
            },
            Inbound::new(inbound, weak_owner),
        );
        Ok(UdpSocket { splice, shared })
    }

    /// The local address the socket is bound to, with the port the system chose when it was
    /// bound to port 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// assert_ne!(socket.local_addr().port(), 0);
    /// # });
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local_addr
    }

    /// True when the socket may send to broadcast addresses
    /// ([`SocketOptions::broadcast`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// assert!(!socket.is_broadcast());
    /// # });
    /// ```
    pub fn is_broadcast(&self) -> bool {
        self.shared.broadcast
    }

    /// Sends a datagram to `datagram.peer`: checks it (see [`UdpSocket`]), then queues it for
    /// the send loop, completing once it is queued (or, when the outbound buffer is full, once
    /// there is room). Fails with a [`DatagramTooLarge`](super::DatagramTooLarge) error, another
    /// refusal, the kernel's [I/O error](Error::is_io) for this datagram when it was sent at
    /// once (the socket stays open), or a [closed](Error::is_closed) error once the outbound
    /// side is closed.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes withdraws the datagram: it is never sent. A put
    /// that completed has queued its datagram, which the send loop sends.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::Source;
    /// use weir::udp::{self, Datagram, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let to_self = |payload: &'static str| Datagram::new(socket.local_addr(), payload);
    /// socket.put(to_self("hello")).await.unwrap();
    /// assert_eq!(socket.take_next().await.unwrap().payload, "hello");
    ///
    /// socket.close();
    /// assert!(socket.put(to_self("late")).await.unwrap_err().is_closed());
    /// # });
    /// ```
    pub async fn put(&self, datagram: Datagram) -> Result<(), Error> {
        datagram.check_sendable(self.shared.local_addr)?;
        let outbound = &self.shared.outbound;
        let Some(owner) = self.shared.owner.upgrade() else {
            // The send loop is done and the inbound side closed: the put fails as closed.
            return outbound.put(datagram).await.map_err(|e| e.to_error());
        };
        let Some(datagram) = owner.try_send_now(outbound, datagram)? else {
            return Ok(());
        };
        // Queued: counted until the send loop is done with it. A refused datagram was not
        // queued; a put dropped while waiting for room stays counted (it may have been
        // accepted), see `Owner::unsent`.
        match outbound.put(datagram).await {
            Ok(()) => Ok(()),
            Err(refused) => {
                owner.uncount(1);
                Err(refused.to_error())
            }
        }
    }

    /// Takes the next inbound datagram (`peer` is its sender), or `None` once the inbound side
    /// is drained: closed, send-only, or ended by a receive error (see
    /// [`Source::drained`] for the cause). It reads the operating-system socket itself, in the
    /// calling task, and waits for a datagram when none is there. Several tasks may take at
    /// once: each datagram goes to one of them.
    ///
    /// Manifold's `take!`; it is named so that it means the same with `futures::StreamExt` in
    /// scope (see [`Channel`](crate::stream::Channel#take_next-not-take)).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses nothing: a datagram is read from the socket only in the poll
    /// that returns it, so a cancelled take leaves the next datagram in the kernel's buffer for
    /// the next take.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::udp::{self, Datagram, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// // Nothing was sent: taking waits (bounded here by a timeout).
    /// let waited = weir::runtime::timeout(Duration::from_millis(10), socket.take_next()).await;
    /// assert!(waited.unwrap_err().is_timeout());
    /// # });
    /// ```
    pub async fn take_next(&self) -> Option<Datagram> {
        let inbound = self.splice.source();
        let mut waiting = None;
        future::poll_fn(|cx| inbound.poll_take(&mut waiting, cx)).await
    }

    /// The kernel's receive buffer for this socket, in bytes (`SO_RCVBUF`, as the system
    /// reports it: Linux doubles the size asked with
    /// [`SocketOptions::receive_buffer_size`] for its bookkeeping, and caps it). Datagrams
    /// that arrive while nobody takes wait there; what does not fit is dropped by the kernel.
    /// Fails with a [closed](Error::is_closed) error once the socket is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let options = SocketOptions::new().address(([127, 0, 0, 1], 0)).receive_buffer_size(65_536);
    /// let socket = udp::socket(options).await.unwrap();
    /// assert!(socket.receive_buffer_size().unwrap() >= 65_536);
    /// # });
    /// ```
    pub fn receive_buffer_size(&self) -> Result<usize, Error> {
        let owner = self
            .shared
            .owner
            .upgrade()
            .ok_or_else(|| Error::closed("the UDP socket is closed"))?;
        Ok(socket2::SockRef::from(owner.socket.io().get_ref()).recv_buffer_size()?)
    }

    /// How many datagrams waiting to be sent the outbound buffer holds
    /// ([`SocketOptions::outbound_buffer`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// assert_eq!(socket.outbound_capacity(), 128);
    /// # });
    /// ```
    pub fn outbound_capacity(&self) -> usize {
        self.shared.outbound.capacity()
    }

    /// A deferred realized once the outbound side is done: `Ok(())` when it was closed and
    /// every datagram queued before was handed to the kernel, or the send error that stopped
    /// the send loop (the datagrams still queued then are dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::Source;
    /// use weir::udp::{self, Datagram, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// socket.put(Datagram::new(socket.local_addr(), "last words")).await.unwrap();
    /// socket.close();
    /// assert!(socket.outbound_drained().await.is_ok());
    /// # });
    /// ```
    pub fn outbound_drained(&self) -> Deferred<(), Error> {
        Source::drained(&self.shared.outbound)
    }

    /// A deferred realized once the send loop has stopped, the inbound side is closed and the
    /// operating-system socket is closed, so that its address can be bound again. It follows
    /// closing the socket (or dropping every handle) once the queued datagrams are sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::Source;
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let address = socket.local_addr();
    /// let closed = socket.socket_closed();
    /// drop(socket);
    /// closed.await.unwrap();
    /// // The port is free again.
    /// let again = udp::socket(SocketOptions::new().address(address)).await.unwrap();
    /// assert_eq!(again.local_addr(), address);
    /// # });
    /// ```
    pub fn socket_closed(&self) -> Deferred<(), Error> {
        self.shared.socket_closed.clone()
    }
}

impl Clone for UdpSocket {
    /// Another handle on the same socket.
    fn clone(&self) -> Self {
        UdpSocket {
            splice: self.splice.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.shared.local_addr)
            .field("outbound_closed", &self.shared.outbound.is_closed())
            .field("inbound_closed", &self.shared.inbound.is_closed())
            .finish_non_exhaustive()
    }
}

impl futures_core::Stream for UdpSocket {
    type Item = Datagram;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Datagram>> {
        Pin::new(&mut self.splice).poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.splice.size_hint()
    }
}

/// Taking yields inbound datagrams; the source is drained when the inbound side is, with the
/// receive error as the cause if one ended it. Closing closes both sides.
impl Source for UdpSocket {
    fn node(&self) -> Node {
        Source::node(&self.splice)
    }

    fn close(&self) {
        Source::close(&self.splice);
    }

    fn drained(&self) -> Deferred<(), Error> {
        Source::drained(&self.splice)
    }
}

/// Sending queues outbound datagrams after checking them (a refused datagram is an error from
/// `start_send`, and the socket stays usable); `poll_flush` completes once every datagram sent
/// is queued. `poll_close` closes the outbound side only: inbound datagrams can still be taken.
impl futures_sink::Sink<Datagram> for UdpSocket {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Pin::new(&mut self.splice).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, datagram: Datagram) -> Result<(), Error> {
        Pin::new(&mut self.splice).start_send(datagram)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        futures_sink::Sink::<Datagram>::poll_flush(Pin::new(&mut self.splice), cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        futures_sink::Sink::<Datagram>::poll_close(Pin::new(&mut self.splice), cx)
    }
}

impl Sink<Datagram> for UdpSocket {
    fn node(&self) -> Node {
        Sink::<Datagram>::node(&self.splice)
    }

    fn poll_closed(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Sink::<Datagram>::poll_closed(Pin::new(&mut self.splice), cx)
    }

    fn is_closed(&self) -> bool {
        Sink::<Datagram>::is_closed(&self.splice)
    }

    fn close_now(&self) {
        Sink::<Datagram>::close_now(&self.splice);
    }

    fn close_with_cause(&self, cause: Error) {
        self.splice.sink().close_with_cause(cause);
    }

    fn room(&self) -> usize {
        Sink::<Datagram>::room(&self.splice)
    }

    fn start_send_all(
        mut self: Pin<&mut Self>,
        datagrams: &mut std::collections::VecDeque<Datagram>,
    ) -> Result<(), Error> {
        Pin::new(&mut self.splice).start_send_all(datagrams)
    }
}

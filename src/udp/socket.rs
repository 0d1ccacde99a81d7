//! `socket` and `UdpSocket`: a UDP socket as a weir duplex stream of datagrams, a splice of an
//! outbound channel (drained by a send loop) and an inbound channel (filled by a receive loop).

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use async_io::Async;

use bytes::Bytes;
use futures_lite::future;

use crate::runtime;
use crate::stream::{self, Channel, Node, Sink, Source, Splice, Take};
use crate::{Deferred, Error};

use super::datagram::Datagram;
use super::options::SocketOptions;

/// Opens a UDP socket: Aleph's `udp/socket`. The deferred is realized at once (binding does not
/// wait) with the socket as a duplex stream of [`Datagram`]s, or with the error that prevented
/// it (an address in use, a refused multicast join…).
///
/// The socket is [`stream::splice`] of two channels and runs two tasks on weir's executor:
///
/// - A **receive loop** reads datagrams and puts them into the inbound channel, awaiting each
///   put. A slow consumer therefore stops the reading: datagrams then queue in the kernel's
///   receive buffer and the kernel drops those that do not fit, which is how UDP behaves. A
///   receive error ends the inbound side with that error as its drain cause
///   ([`Source::drained`]); an ICMP "port unreachable" reported on receive (Windows does) is
///   not an error and is skipped. With [`send_only`](SocketOptions::send_only) there is no
///   receive loop and the inbound side is drained at once.
/// - A **send loop** takes datagrams from the outbound channel and sends each with `send_to`.
///   A send error (no route to the destination, say) closes the outbound side with that error
///   as its cause: the datagrams still queued are dropped, later puts fail, and
///   [`UdpSocket::outbound_drained`] reports the error. The inbound side keeps working.
///
/// Closing the socket ([`Source::close`], or dropping every handle) closes both channels: the
/// receive loop stops at once, the send loop once it has sent what was already queued, and
/// then the operating-system socket is closed ([`UdpSocket::socket_closed`]).
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
/// let request = server.take().await.unwrap();
/// assert_eq!(request.peer, client.local_addr());
/// assert_eq!(&request.payload[..], b"ping");
///
/// server.put(Datagram::new(request.peer, "pong")).await.unwrap();
/// assert_eq!(&client.take().await.unwrap().payload[..], b"pong");
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
/// It is [`stream::splice`] of an outbound and an inbound channel, wrapped so that it can
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
    splice: Splice<Outbound, Channel<Datagram>>,
    shared: Arc<Shared>,
}

/// What every handle of one socket shares; dropping the last handle closes the socket.
struct Shared {
    local_addr: SocketAddr,
    broadcast: bool,
    outbound: Channel<Datagram>,
    inbound: Channel<Datagram>,
    socket_closed: Deferred<(), Error>,
    /// For the direct-send fast path; weak so that the handles do not keep the socket open.
    owner: Weak<Owner>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.inbound.close();
        self.outbound.close();
    }
}

/// Owns the operating-system socket for the loops; the last loop to finish closes it and then
/// realizes `closed`.
struct Owner {
    socket: Option<Arc<Async<std::net::UdpSocket>>>,
    closed: Deferred<(), Error>,
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
    /// The fast path: sends `datagram` now, without blocking, if nothing put before it is
    /// still unsent and the outbound side is open. `None` when it sent the datagram (or the
    /// send failed, which closes the outbound side with the error, as the send loop would:
    /// the put itself succeeded, as a queued one would have); otherwise the datagram is handed
    /// back with `unsent` counting it, and the caller must queue it (uncounting it if the
    /// channel refuses it).
    fn try_send_now(&self, outbound: &Channel<Datagram>, datagram: Datagram) -> Option<Datagram> {
        if self
            .unsent
            .compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.unsent.fetch_add(1, Ordering::AcqRel);
            return Some(datagram);
        }
        let socket = match &self.socket {
            Some(socket) if !outbound.is_closed() => socket,
            _ => return Some(datagram),
        };
        match socket.get_ref().send_to(&datagram.payload, datagram.peer) {
            Ok(_) => {}
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                // Still counted: the channel is empty (nothing was unsent), so it goes next.
                return Some(datagram);
            }
            Err(error) => outbound.close_with_error(Error::from(error)),
        }
        self.unsent.fetch_sub(1, Ordering::Release);
        None
    }

    /// Uncounts `n` datagrams that were counted but not queued, or that the send loop is done
    /// with.
    fn uncount(&self, n: usize) {
        if n > 0 {
            self.unsent.fetch_sub(n, Ordering::Release);
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        drop(self.socket.take());
        self.closed.success(());
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
        let socket = Arc::new(Async::new(std_socket)?);
        let local_addr = socket.get_ref().local_addr()?;

        let outbound = Channel::builder()
            .capacity(options.outbound_buffer)
            .description(format!("udp {local_addr} outbound"))
            .build();
        let inbound = Channel::builder()
            .capacity(options.inbound_buffer)
            .description(format!("udp {local_addr} inbound"))
            .build();
        let socket_closed = Deferred::new().quiet();
        let owner = Arc::new(Owner {
            socket: Some(socket),
            closed: socket_closed.clone(),
            unsent: AtomicUsize::new(0),
        });
        let weak_owner = Arc::downgrade(&owner);

        if options.send_only {
            inbound.close();
        } else {
            runtime::spawn(receive_loop(
                owner.clone(),
                inbound.clone(),
                options.max_datagram_size,
            ))
            .detach();
        }
        runtime::spawn(send_loop(owner, outbound.clone())).detach();

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
                owner: weak_owner,
            },
            inbound,
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
    /// refusal, or a [closed](Error::is_closed) error once the outbound side is closed.
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
    /// assert_eq!(socket.take().await.unwrap().payload, "hello");
    ///
    /// socket.close();
    /// assert!(socket.put(to_self("late")).await.unwrap_err().is_closed());
    /// # });
    /// ```
    pub async fn put(&self, datagram: Datagram) -> Result<(), Error> {
        datagram.check_sendable(self.shared.local_addr)?;
        let outbound = &self.shared.outbound;
        let Some(owner) = self.shared.owner.upgrade() else {
            // Both loops are done: the outbound side is closed, and the put fails.
            return outbound.put(datagram).await.map_err(|e| e.to_error());
        };
        let Some(datagram) = owner.try_send_now(outbound, datagram) else {
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
    /// [`Source::drained`] for the cause).
    ///
    /// As for [`Channel::take`](crate::stream::Channel#take-and-futuresstreamext): with
    /// `futures::StreamExt` in scope, `socket.take()` on an owned socket resolves to
    /// `StreamExt::take(n)`; write `UdpSocket::take(&socket)` or use `StreamExt::next`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses nothing: a datagram is removed only when the future returns it.
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
    /// let waited = weir::runtime::timeout(Duration::from_millis(10), socket.take()).await;
    /// assert!(waited.unwrap_err().is_timeout());
    /// # });
    /// ```
    pub fn take(&self) -> Take<'_, Datagram> {
        self.splice.source().take()
    }

    /// How many received datagrams the inbound buffer holds
    /// ([`SocketOptions::inbound_buffer`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::udp::{self, SocketOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// assert_eq!(socket.inbound_capacity(), 128);
    /// # });
    /// ```
    pub fn inbound_capacity(&self) -> usize {
        self.shared.inbound.capacity()
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

    /// A deferred realized once both loops have stopped and the operating-system socket is
    /// closed, so that its address can be bound again. It follows closing the socket (or
    /// dropping every handle): at once for the receive loop, after the queued datagrams are
    /// sent for the send loop.
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
}

/// The outbound half of the splice: the outbound channel, behind a check of each datagram.
struct Outbound {
    channel: Channel<Datagram>,
    local_addr: SocketAddr,
    /// As in [`Shared`], for the fast path and the count of unsent datagrams.
    owner: Weak<Owner>,
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
        let Some(datagram) = owner.try_send_now(&self.channel, datagram) else {
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
            owner.unsent.fetch_add(offered, Ordering::AcqRel);
        }
        let queued = Pin::new(&mut self.channel).start_send_all(datagrams);
        if let Some(owner) = &owner {
            owner.uncount(datagrams.len());
        }
        queued
    }
}

/// Reads datagrams into the inbound channel until it closes or a receive error ends it.
async fn receive_loop(owner: Arc<Owner>, mut inbound: Channel<Datagram>, max_datagram_size: usize) {
    let Some(socket) = owner.socket.as_ref() else {
        return;
    };
    let mut buffer = vec![0; max_datagram_size];
    let mut closed = inbound.closed();
    let mut batch = VecDeque::new();
    // An error met while filling a batch, handled as the next receive's outcome.
    let mut deferred_error = None;
    loop {
        // Receive without waiting first: while datagrams keep coming (a burst, a window of
        // them) this skips building the race against `closed` and polling it for each one. A
        // closed inbound side still stops the loop: the put below then fails.
        let received = match deferred_error.take() {
            Some(error) => Err(error),
            None => socket.get_ref().recv_from(&mut buffer),
        };
        let received = match received {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                let readable = future::or(async { Some(socket.readable().await) }, async {
                    let _ = (&mut closed).await;
                    None
                })
                .await;
                match readable {
                    None => return,
                    Some(Ok(())) => continue,
                    Some(Err(error)) => Err(error),
                }
            }
            received => received,
        };
        let (length, peer) = match received {
            Ok(received) => received,
            Err(error) if is_skippable_receive_error(&error) => continue,
            Err(error) => {
                inbound.close_with_error(Error::from(error));
                return;
            }
        };
        batch.push_back(Datagram {
            peer,
            payload: Bytes::copy_from_slice(&buffer[..length]),
        });
        // Take what else is already there, without waiting, up to the room the inbound buffer
        // has now (only this loop puts into it, so the room can only grow), and put it in one
        // go: one lock and at most one wakeup of the taker for the lot, and never more than
        // one pending put (backpressure as before: with no room, one datagram is put and
        // awaited).
        let room = Sink::room(&inbound);
        while batch.len() < room {
            match socket.get_ref().recv_from(&mut buffer) {
                Ok((length, peer)) => batch.push_back(Datagram {
                    peer,
                    payload: Bytes::copy_from_slice(&buffer[..length]),
                }),
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                Err(error) => {
                    deferred_error = Some(error);
                    break;
                }
            }
        }
        if batch.len() == 1 {
            let datagram = batch.pop_front().expect("one datagram");
            if inbound.put(datagram).await.is_err() {
                return;
            }
        } else {
            if Pin::new(&mut inbound).start_send_all(&mut batch).is_err() {
                return;
            }
            let flushed =
                future::poll_fn(|cx| futures_sink::Sink::poll_flush(Pin::new(&mut inbound), cx));
            if flushed.await.is_err() {
                return;
            }
        }
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

/// Sends the datagrams of the outbound channel until it is closed and drained, or a send error
/// closes it.
async fn send_loop(owner: Arc<Owner>, outbound: Channel<Datagram>) {
    let Some(socket) = owner.socket.as_ref() else {
        return;
    };
    while let Some(datagram) = outbound.take().await {
        let sent = socket.send_to(&datagram.payload, datagram.peer).await;
        // Uncounted once the kernel has it (or the send failed), not before: until then a put
        // must not send directly, which would overtake it.
        owner.uncount(1);
        if let Err(error) = sent {
            outbound.close_with_error(Error::from(error));
            // Drop what is still queued, so that the outbound side drains with the cause.
            while outbound.take().await.is_some() {
                owner.uncount(1);
            }
            return;
        }
    }
}

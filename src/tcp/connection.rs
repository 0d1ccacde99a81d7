//! `TcpConnection`: a connected byte stream as a weir duplex stream, a splice of an outbound
//! channel (drained by a write task) and an inbound channel (filled by a read task).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::{AsyncWriteExt, future};

use crate::bytes::IntoBytes;
use crate::runtime;
use crate::stream::{
    self, Channel, Description, Edge, Edges, Node, Sink, Source, Splice, Take, Vertex,
};
use crate::{Deferred, Error};

use super::info::ConnectionInfo;
use super::options::Buffers;

/// Wraps any connected byte stream (a TCP socket, a TLS stream over one) into a
/// [`TcpConnection`], starting its read and write tasks. TLS plugs in here: it hands over the
/// stream after its handshake, with `info` carrying what the handshake negotiated.
pub(crate) fn connection<S: ConnectionIo>(
    io: S,
    info: ConnectionInfo,
    buffers: Buffers,
) -> TcpConnection {
    let label = format!("tcp {} -> {}", info.local_addr, info.remote_addr);
    let inbound = Channel::builder()
        .capacity(buffers.inbound_buffer)
        .description(format!("{label} inbound"))
        .build();
    let outbound = Channel::builder()
        .capacity(0)
        .description(format!("{label} outbound"))
        .build();
    let io_state = Arc::new(IoState {
        read_done: AtomicBool::new(false),
        write_done: AtomicBool::new(false),
        abort: Deferred::new(),
        socket_closed: Deferred::new().quiet(),
    });
    let owner = Arc::new(Owner {
        state: io_state.clone(),
    });
    let (reader, writer) = io.into_halves();
    let reading = read_task(
        Half {
            io: reader,
            owner: owner.clone(),
        },
        inbound.clone(),
        outbound.clone(),
        buffers.read_chunk_size,
        S::TLS,
    );
    let writing = write_task(Half { io: writer, owner }, outbound.clone());
    if S::TLS {
        // One task for both directions: a TLS session is one state that both encrypt and
        // decrypt, behind the split's lock. From two tasks on two threads, one would block its
        // thread on that lock while the other encrypts or decrypts a whole chunk.
        runtime::spawn_detached(async move {
            future::zip(reading, writing).await;
        });
    } else {
        // A plain socket's halves are independent handles: reads and writes run in parallel.
        runtime::spawn_detached(reading);
        runtime::spawn_detached(writing);
    }

    let vertex = Arc::new(ConnectionVertex {
        local_addr: info.local_addr,
        remote_addr: info.remote_addr,
        tls: info.tls_protocol_version.clone(),
        io: io_state.clone(),
        sink: outbound.node(),
        source: inbound.node(),
        edges: Edges::default(),
    });
    let shared = Arc::new(Shared {
        info,
        buffers,
        outbound: outbound.clone(),
        inbound: inbound.clone(),
        io: io_state,
        vertex,
    });
    let splice = stream::splice::<Bytes, _, _>(
        Outbound {
            channel: outbound,
            written: None,
        },
        inbound,
    );
    TcpConnection { splice, shared }
}

/// A TCP connection as a weir duplex stream: a [`Source`] of the [`Bytes`] chunks read from the
/// socket and a [`Sink`] of anything [`IntoBytes`] to write to it. Returned by
/// [`client`](super::client) and handed to the handler of
/// [`start_server`](super::start_server).
///
/// Like every weir connection it is a [`stream::splice`] of two channels, served by two tasks
/// on weir's executor:
///
/// - A **read task** reads chunks of at most [`read_chunk_size`](TcpConnection::read_chunk_size)
///   bytes and puts each into the inbound channel, awaiting the put. While the inbound channel
///   is full (its [`inbound_capacity`](TcpConnection::inbound_capacity) chunks wait for a
///   taker), nothing more is read: the kernel's buffers fill and the peer's writes stop, so
///   memory stays below `(inbound_capacity + 1) × read_chunk_size` under a slow consumer.
///   Over TLS, a chunk gathers every record already decrypted or readable without waiting, up
///   to the chunk size, rather than one record (at most 16 KiB) per chunk.
/// - A **write task** takes from the outbound channel, which is **unbuffered**, writes each
///   message completely and then **acknowledges** it: a put ([`TcpConnection::put`],
///   `SinkExt::send`, `poll_flush`) completes only once its bytes were written to the socket
///   (handed to the kernel, or to the TLS layer and flushed).
///
/// Over TLS the two run as one task: both directions go through one TLS session, and from two
/// threads one would wait for the other to encrypt or decrypt.
///
/// Closing:
///
/// - Closing the write side (`SinkExt::close`, [`Sink::close_now`]) lets the write task write
///   what was already put, then shuts the socket down for writing (a TCP half-close: the peer
///   reads an end of stream). Inbound chunks can still be taken.
/// - The peer closing its write side drains the inbound source cleanly
///   ([`Source::drained`] is `Ok`); writing still works.
/// - [`Source::close`] (or dropping every handle) closes both: reading stops at once, writing
///   after what was already put. Once both tasks are done the socket is closed
///   ([`socket_closed`](TcpConnection::socket_closed)).
/// - A reset or another I/O error on read ends the inbound source with the
///   [I/O error](Error::is_io) as its drain cause and closes the outbound side with it; an
///   error on write fails that put and closes the outbound side with the error. Never a panic.
///
/// The connection's graph node has kind `tcp`, edges `sink` and `source` to the two channels
/// (whose descriptions show the buffering), and its [`Description::extra`] shows `local`,
/// `remote`, `state` (`open`, `half-closed` once one direction is done, `closed` once the
/// socket is) and `tls` (the protocol version) on a TLS connection.
///
/// Handles are cheap to clone and share the connection.
///
/// # Examples
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use weir::stream::Source;
/// use weir::tcp::{self, ClientOptions, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// // An echo server: each connection is connected to itself.
/// let echo = |c: tcp::TcpConnection| {
///     weir::stream::connect(c.clone(), c, weir::stream::ConnectOptions::new());
/// };
/// let server = tcp::start_server(echo, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
///
/// let mut client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
///     .await
///     .unwrap();
/// client.send("hello").await.unwrap(); // completes once written
/// assert_eq!(client.next().await.unwrap(), "hello");
/// assert_eq!(client.description().kind, "tcp");
/// client.close();
/// client.socket_closed().await.unwrap();
/// # server.close();
/// # });
/// ```
pub struct TcpConnection {
    splice: Splice<Outbound, Channel<Bytes>>,
    shared: Arc<Shared>,
}

/// What every handle of one connection shares; dropping the last handle closes the connection.
struct Shared {
    info: ConnectionInfo,
    buffers: Buffers,
    outbound: Channel<Outgoing>,
    inbound: Channel<Bytes>,
    io: Arc<IoState>,
    vertex: Arc<ConnectionVertex>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.inbound.close();
        self.outbound.close();
    }
}

/// A connected byte stream a [`TcpConnection`] can run over, and how to read and write it from
/// its two tasks.
pub(crate) trait ConnectionIo: Send + 'static {
    type Reader: AsyncRead + Unpin + Send + 'static;
    type Writer: AsyncWrite + Unpin + Send + 'static;
    /// A TLS session: one state for both directions (run them in one task), and one record
    /// per read (gather records into chunks).
    const TLS: bool;

    fn into_halves(self) -> (Self::Reader, Self::Writer);
}

/// A socket's handles are independent: one reads while the other writes, with no lock.
impl ConnectionIo for async_net::TcpStream {
    type Reader = async_net::TcpStream;
    type Writer = async_net::TcpStream;
    const TLS: bool = false;

    fn into_halves(self) -> (Self::Reader, Self::Writer) {
        (self.clone(), self)
    }
}

#[cfg(feature = "tls")]
impl<IO> ConnectionIo for crate::tls::TlsStream<IO>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Reader = futures_lite::io::ReadHalf<Self>;
    type Writer = futures_lite::io::WriteHalf<Self>;
    const TLS: bool = true;

    fn into_halves(self) -> (Self::Reader, Self::Writer) {
        futures_lite::io::split(self)
    }
}

/// The state of the two tasks, shared with the graph node and the server.
pub(crate) struct IoState {
    read_done: AtomicBool,
    write_done: AtomicBool,
    /// Realized with an error to stop both tasks at once and close the socket.
    abort: Deferred<(), Error>,
    /// Realized once both tasks are done and the stream is dropped.
    socket_closed: Deferred<(), Error>,
}

impl IoState {
    /// Stops both tasks at once: the inbound side drains with `cause`, the outbound side is
    /// closed with it, and the stream is dropped without a half-close.
    pub(crate) fn abort(&self, cause: Error) {
        self.abort.error(cause);
    }

    pub(crate) fn socket_closed(&self) -> Deferred<(), Error> {
        self.socket_closed.clone()
    }

    fn state(&self) -> &'static str {
        if self.socket_closed.is_realized() {
            "closed"
        } else if self.read_done.load(Ordering::Acquire) || self.write_done.load(Ordering::Acquire)
        {
            "half-closed"
        } else {
            "open"
        }
    }
}

/// Held by both tasks; the last one to finish, once its half of the stream is dropped, realizes
/// `socket_closed`.
struct Owner {
    state: Arc<IoState>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.state.socket_closed.success(());
    }
}

/// One half of the stream and the owner: fields drop in order, so the half goes first.
struct Half<H> {
    io: H,
    owner: Arc<Owner>,
}

/// A message on its way to the socket and its acknowledgement, realized once it is written.
struct Outgoing {
    bytes: Bytes,
    written: Deferred<(), Error>,
}

impl TcpConnection {
    /// What is known about the connection: its addresses and, with TLS, what the handshake
    /// negotiated.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let server = tcp::start_server(
    ///     move |c: tcp::TcpConnection| tx.send(c.info().clone()).unwrap(),
    ///     ServerOptions::new().address(([127, 0, 0, 1], 0)),
    /// )
    /// .await
    /// .unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// let on_server = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(on_server.remote_addr(), client.info().local_addr());
    /// assert_eq!(on_server.local_addr(), client.info().remote_addr());
    /// # server.close();
    /// # });
    /// ```
    pub fn info(&self) -> &ConnectionInfo {
        &self.shared.info
    }

    /// This end's address; shorthand for `info().local_addr()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::tcp::{self, ClientOptions, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert!(client.local_addr().ip().is_loopback());
    /// # server.close();
    /// # });
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.info.local_addr
    }

    /// The peer's address; shorthand for `info().remote_addr()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::tcp::{self, ClientOptions, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(client.remote_addr(), server.local_addr());
    /// # server.close();
    /// # });
    /// ```
    pub fn remote_addr(&self) -> SocketAddr {
        self.shared.info.remote_addr
    }

    /// Writes `message` (anything [`IntoBytes`]), completing once it was completely written to
    /// the socket. Fails with the write error, or with a [closed](Error::is_closed) error once
    /// the write side is closed (with the error that closed it, if one did).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the write task took the message withdraws it: nothing is
    /// written. Once taken, the message is written completely even if the future is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::Sink;
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let server = tcp::start_server(move |c| tx.send(c).unwrap(), ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// let on_server: tcp::TcpConnection = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// client.put("ping").await.unwrap();
    /// assert_eq!(on_server.take_next().await.unwrap(), "ping");
    ///
    /// Sink::<&str>::close_now(&client);
    /// assert!(client.put("late").await.unwrap_err().is_closed());
    /// # server.close();
    /// # });
    /// ```
    pub async fn put(&self, message: impl IntoBytes) -> Result<(), Error> {
        let written = Deferred::new();
        let outgoing = Outgoing {
            bytes: message.into_bytes(),
            written: written.clone(),
        };
        if self.shared.outbound.put(outgoing).await.is_err() {
            return Err(closed_error(&self.shared.outbound));
        }
        written.await
    }

    /// Takes the next inbound chunk, or `None` once the inbound side is drained: the peer
    /// closed its write side, the connection was closed, or an I/O error ended it (see
    /// [`Source::drained`] for the cause).
    ///
    /// Manifold's `take!`; it is named so that it means the same with `futures::StreamExt` in
    /// scope (see [`Channel`](crate::stream::Channel#take_next-not-take)).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses nothing: a chunk is removed only when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// // The server keeps each connection open and silent.
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let options = ServerOptions::new().address(([127, 0, 0, 1], 0));
    /// let server = tcp::start_server(move |c| tx.send(c).unwrap(), options).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// let _accepted: tcp::TcpConnection = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// // The server sends nothing: taking waits (bounded here by a timeout).
    /// let waited = weir::runtime::timeout(Duration::from_millis(10), client.take_next()).await;
    /// assert!(waited.unwrap_err().is_timeout());
    /// # server.close();
    /// # });
    /// ```
    pub fn take_next(&self) -> Take<'_, Bytes> {
        self.splice.source().take_next()
    }

    /// How many read chunks wait for a taker before reading stops
    /// ([`ServerOptions::inbound_buffer`](super::ServerOptions::inbound_buffer)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::tcp::{self, ClientOptions, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(client.inbound_capacity(), 16);
    /// # server.close();
    /// # });
    /// ```
    pub fn inbound_capacity(&self) -> usize {
        self.shared.inbound.capacity()
    }

    /// The most one read takes from the socket: the largest inbound chunk
    /// ([`ServerOptions::read_chunk_size`](super::ServerOptions::read_chunk_size)).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::tcp::{self, ClientOptions, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(client.read_chunk_size(), 64 * 1024);
    /// # server.close();
    /// # });
    /// ```
    pub fn read_chunk_size(&self) -> usize {
        self.shared.buffers.read_chunk_size
    }

    /// A deferred realized once the write side is done: `Ok(())` when it was closed and
    /// everything put before was written, or the error that closed it.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::Sink;
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// client.put("last words").await.unwrap();
    /// Sink::<Vec<u8>>::close_now(&client);
    /// assert!(client.outbound_drained().await.is_ok());
    /// # server.close();
    /// # });
    /// ```
    pub fn outbound_drained(&self) -> Deferred<(), Error> {
        Source::drained(&self.shared.outbound)
    }

    /// A deferred realized once both tasks have stopped and the socket is closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::Source;
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// let closed = client.socket_closed();
    /// drop(client); // the last handle: the connection closes
    /// closed.await.unwrap();
    /// # server.close();
    /// # });
    /// ```
    pub fn socket_closed(&self) -> Deferred<(), Error> {
        self.shared.io.socket_closed()
    }

    /// The tasks' state, for the server's registry.
    pub(crate) fn io_state(&self) -> Arc<IoState> {
        self.shared.io.clone()
    }
}

/// The error for a put refused by the closed outbound channel: the cause it was closed with,
/// if any.
fn closed_error(outbound: &Channel<Outgoing>) -> Error {
    match Source::drained(outbound).peek() {
        Some(Err(cause)) => cause,
        _ => Error::closed("tcp connection write side"),
    }
}

impl Clone for TcpConnection {
    /// Another handle on the same connection.
    fn clone(&self) -> Self {
        TcpConnection {
            splice: self.splice.clone(),
            shared: self.shared.clone(),
        }
    }
}

impl fmt::Debug for TcpConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpConnection")
            .field("local_addr", &self.shared.info.local_addr)
            .field("remote_addr", &self.shared.info.remote_addr)
            .field("state", &self.shared.io.state())
            .finish_non_exhaustive()
    }
}

impl futures_core::Stream for TcpConnection {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        Pin::new(&mut self.splice).poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.splice.size_hint()
    }
}

/// Taking yields inbound chunks; the source is drained when the inbound side is, with the I/O
/// error as the cause if one ended it. Closing closes both sides.
impl Source for TcpConnection {
    fn node(&self) -> Node {
        Node::new(self.shared.vertex.clone())
    }

    fn close(&self) {
        Source::close(&self.splice);
    }

    fn drained(&self) -> Deferred<(), Error> {
        Source::drained(&self.splice)
    }
}

/// Sending writes: `poll_flush` (so `SinkExt::send`) completes once every message sent was
/// written to the socket. `poll_close` closes the write side only (a half-close once what was
/// sent is written): inbound chunks can still be taken.
impl<T: IntoBytes> futures_sink::Sink<T> for TcpConnection {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        futures_sink::Sink::<T>::poll_ready(Pin::new(&mut self.splice), cx)
    }

    fn start_send(mut self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        Pin::new(&mut self.splice).start_send(message)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        futures_sink::Sink::<T>::poll_flush(Pin::new(&mut self.splice), cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        futures_sink::Sink::<T>::poll_close(Pin::new(&mut self.splice), cx)
    }
}

impl<T: IntoBytes> Sink<T> for TcpConnection {
    fn node(&self) -> Node {
        Node::new(self.shared.vertex.clone())
    }

    fn poll_closed(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Sink::<T>::poll_closed(Pin::new(&mut self.splice), cx)
    }

    fn is_closed(&self) -> bool {
        Sink::<T>::is_closed(&self.splice)
    }

    fn close_now(&self) {
        Sink::<T>::close_now(&self.splice);
    }

    fn close_with_cause(&self, cause: Error) {
        Sink::<T>::close_with_cause(&self.splice, cause);
    }
}

/// The outbound half of the splice: converts messages to bytes and remembers the
/// acknowledgement of the last one, for `poll_flush`.
struct Outbound {
    channel: Channel<Outgoing>,
    written: Option<Deferred<(), Error>>,
}

impl Clone for Outbound {
    fn clone(&self) -> Self {
        Outbound {
            channel: self.channel.clone(),
            written: None,
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

impl Outbound {
    fn refused(&self, error: Error) -> Error {
        if error.is_closed() {
            closed_error(&self.channel)
        } else {
            error
        }
    }
}

impl<T: IntoBytes> futures_sink::Sink<T> for Outbound {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let ready = ready!(futures_sink::Sink::<Outgoing>::poll_ready(
            Pin::new(&mut self.channel),
            cx
        ));
        Poll::Ready(ready.map_err(|error| self.refused(error)))
    }

    fn start_send(mut self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        let written = Deferred::new();
        let outgoing = Outgoing {
            bytes: message.into_bytes(),
            written: written.clone(),
        };
        futures_sink::Sink::start_send(Pin::new(&mut self.channel), outgoing)
            .map_err(|error| self.refused(error))?;
        self.written = Some(written);
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let flushed = ready!(futures_sink::Sink::<Outgoing>::poll_flush(
            Pin::new(&mut self.channel),
            cx
        ));
        if let Err(error) = flushed {
            self.written = None;
            return Poll::Ready(Err(self.refused(error)));
        }
        if let Some(written) = self.written.as_mut() {
            let outcome = ready!(Pin::new(written).poll(cx));
            self.written = None;
            outcome?;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(futures_sink::Sink::<T>::poll_flush(self.as_mut(), cx))?;
        futures_sink::Sink::<Outgoing>::poll_close(Pin::new(&mut self.channel), cx)
    }
}

impl<T: IntoBytes> Sink<T> for Outbound {
    fn node(&self) -> Node {
        self.channel.node()
    }

    fn poll_closed(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Sink::<Outgoing>::poll_closed(Pin::new(&mut self.channel), cx)
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
}

/// The connection's graph node: kind `tcp`, the addresses and state as extras, edges to the
/// two channels.
struct ConnectionVertex {
    local_addr: SocketAddr,
    remote_addr: SocketAddr,
    tls: Option<String>,
    io: Arc<IoState>,
    sink: Node,
    source: Node,
    edges: Edges,
}

impl Vertex for ConnectionVertex {
    fn description(&self) -> Description {
        let mut description = Description::new("tcp");
        description.closed = self.sink.description().closed;
        description.drained = self.source.description().drained;
        description.extra = vec![
            ("local".into(), self.local_addr.to_string()),
            ("remote".into(), self.remote_addr.to_string()),
            ("state".into(), self.io.state().to_string()),
        ];
        if let Some(version) = &self.tls {
            description.extra.push(("tls".into(), version.clone()));
        }
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.edges.with_halves(&self.sink, &self.source)
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.edges.add(description, target);
    }

    fn unlink(&self, target: &Node) {
        self.edges.remove(target);
    }
}

/// Completes when the read task must stop: the inbound channel was closed (`Ok`) or the
/// connection aborted (`Err` with the cause).
async fn stopped(
    closed: &mut Deferred<(), Error>,
    abort: &mut Deferred<(), Error>,
) -> Option<Error> {
    future::or(async { closed.await.err() }, async { abort.await.err() }).await
}

/// Reads chunks into the inbound channel until the peer's end of stream, an I/O error, the
/// inbound channel closing or an abort. With `fill`, a chunk takes everything the stream can
/// give without waiting, up to `chunk_size` (see [`read_chunk`]).
async fn read_task<R: AsyncRead + Unpin>(
    mut half: Half<R>,
    inbound: Channel<Bytes>,
    outbound: Channel<Outgoing>,
    chunk_size: usize,
    fill: bool,
) {
    let state = half.owner.state.clone();
    let mut closed = inbound.closed();
    let mut abort = state.abort.clone();
    let mut buffer = BytesMut::new();
    let mut held_back = None;
    loop {
        // Zeroed once per allocation: after a chunk is split off, the rest is reused.
        buffer.resize(chunk_size, 0);
        let reading = read_chunk(&mut half.io, &mut buffer[..], fill, &mut held_back);
        let read = future::or(async { Ok(reading.await) }, async {
            Err(stopped(&mut closed, &mut abort).await)
        })
        .await;
        let chunk = match read {
            Err(None) => break,
            Err(Some(cause)) => {
                inbound.close_with_error(cause);
                break;
            }
            Ok(Ok(0)) => {
                inbound.close();
                break;
            }
            Ok(Ok(n)) => buffer.split_to(n.min(chunk_size)).freeze(),
            Ok(Err(error)) if error.kind() == io::ErrorKind::Interrupted => continue,
            Ok(Err(error)) => {
                let error = Error::from(error);
                inbound.close_with_error(error.clone());
                outbound.close_with_error(error);
                break;
            }
        };
        let put = future::or(async { Ok(inbound.put(chunk).await.is_ok()) }, async {
            Err(stopped(&mut closed, &mut abort).await)
        })
        .await;
        match put {
            Ok(true) => {}
            Ok(false) | Err(None) => break,
            Err(Some(cause)) => {
                inbound.close_with_error(cause);
                break;
            }
        }
    }
    state.read_done.store(true, Ordering::Release);
}

/// Reads at least one byte (or the end of the stream, or an error) into `buffer`. With `fill`,
/// it then goes on reading while the stream has data ready, until `buffer` is full: a TLS
/// stream hands out one record (at most 16 KiB) per read, and a chunk of several records costs
/// one trip through the inbound channel instead of several. An end of stream or an error met
/// after some bytes is `held_back` for the next call, so that those bytes come first.
///
/// Cancel safety: it returns in the poll that reads anything, so dropping it while it waits
/// loses nothing.
async fn read_chunk<R: AsyncRead + Unpin>(
    io: &mut R,
    buffer: &mut [u8],
    fill: bool,
    held_back: &mut Option<io::Result<usize>>,
) -> io::Result<usize> {
    if let Some(outcome) = held_back.take() {
        return outcome;
    }
    let mut filled = 0;
    future::poll_fn(|cx| {
        loop {
            let outcome = match Pin::new(&mut *io).poll_read(cx, &mut buffer[filled..]) {
                Poll::Pending if filled == 0 => return Poll::Pending,
                Poll::Pending => return Poll::Ready(Ok(filled)),
                Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Ok(n)) if n > 0 => {
                    filled += n;
                    if fill && filled < buffer.len() {
                        continue;
                    }
                    return Poll::Ready(Ok(filled));
                }
                Poll::Ready(outcome) => outcome,
            };
            // The end of the stream, or an error.
            if filled == 0 {
                return Poll::Ready(outcome);
            }
            *held_back = Some(outcome);
            return Poll::Ready(Ok(filled));
        }
    })
    .await
}

/// Writes what is put into the outbound channel, acknowledging each message once written;
/// once the channel is closed and drained, shuts the stream down for writing.
async fn write_task<W: AsyncWrite + Unpin>(mut half: Half<W>, outbound: Channel<Outgoing>) {
    let state = half.owner.state.clone();
    let mut abort = state.abort.clone();
    let failure = loop {
        let next = future::or(async { Ok(outbound.take_next().await) }, async {
            Err((&mut abort).await.err())
        })
        .await;
        let outgoing = match next {
            Ok(Some(outgoing)) => outgoing,
            Ok(None) => {
                // Closed and drained: half-close (a TLS stream sends close_notify first).
                let closing = future::or(
                    async { half.io.close().await.map_err(Error::from) },
                    async { Err((&mut abort).await.err().unwrap_or_else(aborted)) },
                )
                .await;
                if let Err(error) = closing {
                    log::debug!("weir: tcp: closing the write side failed: {error}");
                }
                break None;
            }
            Err(cause) => break Some(cause.unwrap_or_else(aborted)),
        };
        let written = future::or(
            async {
                half.io.write_all(&outgoing.bytes).await?;
                half.io.flush().await.map_err(Error::from)
            },
            async { Err((&mut abort).await.err().unwrap_or_else(aborted)) },
        )
        .await;
        match written {
            Ok(()) => {
                outgoing.written.success(());
            }
            Err(error) => {
                outgoing.written.error(error.clone());
                break Some(error);
            }
        }
    };
    if let Some(error) = failure {
        outbound.close_with_error(error.clone());
        // Fail what is still queued, so that every put reports the error.
        while let Some(outgoing) = outbound.take_next().await {
            outgoing.written.error(error.clone());
        }
    }
    state.write_done.store(true, Ordering::Release);
}

fn aborted() -> Error {
    Error::closed("tcp connection aborted")
}

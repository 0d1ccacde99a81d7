//! `TcpConnection`: a connected byte stream as a weir duplex stream, a splice of an outbound
//! channel (drained by a write task) and an inbound channel (filled by a read task).

use std::fmt;
use std::future::Future;
use std::io;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use event_listener::{Event, EventListener};
use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::{AsyncWriteExt, future};

use crate::bytes::IntoBytes;
use crate::runtime;
use crate::stream::{self, Channel, Description, Edge, Edges, Node, Sink, Source, Splice, Vertex};
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
        .capacity(OUTBOUND_QUEUE)
        .description(format!("{label} outbound"))
        .build();
    let io_state = Arc::new(IoState {
        read_done: AtomicBool::new(false),
        write_done: AtomicBool::new(false),
        abort: Deferred::new(),
        socket_closed: Deferred::new().quiet(),
        activity: Activity::new(),
    });
    let owner = Arc::new(Owner {
        state: io_state.clone(),
    });
    let inbound_budget = Arc::new(Budget::new(buffers.inbound_buffer_bytes));
    let outbound_budget = Arc::new(Budget::new(OUTBOUND_QUEUE_BYTES));
    let (reader, writer) = io.into_halves();
    let reading = read_task(
        Half {
            io: reader,
            owner: owner.clone(),
        },
        Reads {
            inbound: inbound.clone(),
            outbound: outbound.clone(),
            budget: inbound_budget.clone(),
            chunk_size: buffers.read_chunk_size,
            fill: S::TLS,
        },
    );
    let writing = write_task(
        Half { io: writer, owner },
        outbound.clone(),
        outbound_budget.clone(),
    );
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
        outbound_budget: outbound_budget.clone(),
        inbound: inbound.clone(),
        io: io_state,
        vertex,
    });
    let splice = stream::splice::<Bytes, _, _>(
        Outbound {
            channel: outbound,
            budget: outbound_budget,
            waiting: None,
            written: None,
        },
        Inbound {
            channel: inbound,
            budget: inbound_budget,
        },
    );
    TcpConnection { splice, shared }
}

/// How many messages may wait in the outbound queue for the write task, which writes what
/// waits in one vectored write.
const OUTBOUND_QUEUE: usize = 64;
/// How many bytes may wait in the outbound queue together: a put waits for room beyond that
/// (a single larger message is queued alone).
const OUTBOUND_QUEUE_BYTES: usize = 256 * 1024;
/// The first read of a connection, and the smallest: reads grow from here while they come
/// back full, up to the chunk size.
const INITIAL_READ: usize = 8 * 1024;
/// A read without a buffer goes to this much stack space in the read task: a connection
/// that waits for data, or whose reads are small, allocates no read buffer.
const PROBE: usize = 1024;
/// The most messages gathered into one vectored write.
const MAX_GATHER: usize = 64;

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
///   is full (its [`inbound_capacity`](TcpConnection::inbound_capacity) chunks, or chunks
///   holding [`inbound_buffer_bytes`](TcpConnection::inbound_buffer_bytes) together, wait for
///   a taker), nothing more is read: the kernel's buffers fill and the peer's writes stop, so
///   inbound memory stays below `inbound_buffer_bytes` plus one read buffer under a slow
///   consumer. Reads adapt: they start at 8 KiB, grow while they come back full and shrink
///   after short reads; a read buffer is reused without being zero-filled again, a small read
///   is copied into a chunk of its own size (so that it pins no large buffer), and a new
///   connection, or one whose reads are small, waits for data holding no read buffer (a 1 KiB
///   read on the read task's stack comes first; a buffer is allocated once data streams in,
///   and given back when reads become short again). Over TLS, a chunk
///   gathers every record already decrypted or readable without waiting, up to the read size,
///   rather than one record (at most 16 KiB) per chunk.
/// - A **write task** takes from the outbound queue (at most 64 messages and 256 KiB wait
///   there), writes every message waiting in one vectored write, flushes once and then
///   **acknowledges** them together: a put ([`TcpConnection::put`], `SinkExt::send`,
///   `poll_flush`) completes only once its bytes were written to the socket (handed to the
///   kernel, or to the TLS layer and flushed).
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
    splice: Splice<Outbound, Inbound>,
    shared: Arc<Shared>,
}

/// What every handle of one connection shares; dropping the last handle closes the connection.
struct Shared {
    info: ConnectionInfo,
    buffers: Buffers,
    outbound: Channel<Outgoing>,
    outbound_budget: Arc<Budget>,
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
impl ConnectionIo for super::TcpSocket {
    type Reader = super::TcpSocket;
    type Writer = super::TcpSocket;
    const TLS: bool = false;

    fn into_halves(self) -> (Self::Reader, Self::Writer) {
        (self.clone(), self)
    }
}

/// A Unix domain socket's handles are independent too.
#[cfg(unix)]
impl ConnectionIo for async_net::unix::UnixStream {
    type Reader = async_net::unix::UnixStream;
    type Writer = async_net::unix::UnixStream;
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
    /// When bytes last moved, for the server's idle timeout.
    activity: Activity,
}

/// When a connection last read or wrote, cheaply: milliseconds since it opened.
pub(crate) struct Activity {
    opened: std::time::Instant,
    last_ms: std::sync::atomic::AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: std::time::Instant::now(),
            last_ms: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = self.opened.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// When the connection last moved bytes (or opened).
    pub(crate) fn last(&self) -> std::time::Instant {
        self.opened + std::time::Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

impl IoState {
    pub(crate) fn activity(&self) -> &Activity {
        &self.activity
    }

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
    /// Messages wait in a short queue (64 messages, 256 KiB) for the write task, which writes
    /// what waits in one vectored write and then acknowledges every message it wrote.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it waits for room in the queue withdraws the message: nothing
    /// is written. Once queued, the message is written completely even if the future is
    /// dropped.
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
        let bytes = message.into_bytes();
        let written = Deferred::new();
        let budget = &self.shared.outbound_budget;
        budget.room().await;
        let reservation = Reservation::new(budget, bytes.len());
        let outgoing = Outgoing {
            bytes,
            written: written.clone(),
        };
        if self.shared.outbound.put(outgoing).await.is_err() {
            return Err(closed_error(&self.shared.outbound));
        }
        // Queued: the write task releases the bytes once written.
        reservation.keep();
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
    pub async fn take_next(&self) -> Option<Bytes> {
        let inbound = self.splice.source();
        let chunk = inbound.channel.take_next().await;
        if let Some(chunk) = &chunk {
            inbound.budget.release(chunk.len());
        }
        chunk
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

    /// How many bytes read may wait for a taker before reading stops
    /// ([`ServerOptions::inbound_buffer_bytes`](super::ServerOptions::inbound_buffer_bytes)).
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
    /// assert_eq!(client.inbound_buffer_bytes(), 256 * 1024);
    /// # server.close();
    /// # });
    /// ```
    pub fn inbound_buffer_bytes(&self) -> usize {
        self.shared.buffers.inbound_buffer_bytes
    }

    /// How many bytes were read from the socket and not yet taken: at most
    /// [`inbound_buffer_bytes`](TcpConnection::inbound_buffer_bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let options = ServerOptions::new().address(([127, 0, 0, 1], 0));
    /// let server = tcp::start_server(move |c| tx.send(c).unwrap(), options).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// let on_server: tcp::TcpConnection = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(on_server.inbound_buffered_bytes(), 0);
    /// client.put("ping").await.unwrap();
    /// assert_eq!(on_server.take_next().await.unwrap(), "ping");
    /// assert_eq!(on_server.inbound_buffered_bytes(), 0); // taken: released
    /// # server.close();
    /// # });
    /// ```
    pub fn inbound_buffered_bytes(&self) -> usize {
        self.splice.source().budget.held()
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

stream::splice_duplex!(
    TcpConnection,
    item: Bytes,
    accepts: IntoBytes,
    source_doc: "Taking yields inbound chunks; the source is drained when the inbound side is, \
                 with the I/O error as the cause if one ended it. Closing closes both sides.",
    sink_doc: "Sending writes: `poll_flush` (so `SinkExt::send`) completes once every message \
               sent was written to the socket. `poll_close` closes the write side only (a \
               half-close once what was sent is written): inbound chunks can still be taken."
);

impl fmt::Debug for TcpConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpConnection")
            .field("local_addr", &self.shared.info.local_addr)
            .field("remote_addr", &self.shared.info.remote_addr)
            .field("state", &self.shared.io.state())
            .finish_non_exhaustive()
    }
}

/// The outbound half of the splice: converts messages to bytes, keeps the outbound queue
/// within its bytes, and remembers the acknowledgement of the last message, for `poll_flush`.
struct Outbound {
    channel: Channel<Outgoing>,
    budget: Arc<Budget>,
    /// Waiting for room in the queue's bytes.
    waiting: Option<EventListener>,
    written: Option<Deferred<(), Error>>,
}

impl Clone for Outbound {
    fn clone(&self) -> Self {
        Outbound {
            channel: self.channel.clone(),
            budget: self.budget.clone(),
            waiting: None,
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
        let this = &mut *self;
        ready!(this.budget.poll_room(&mut this.waiting, cx));
        let ready = ready!(futures_sink::Sink::<Outgoing>::poll_ready(
            Pin::new(&mut this.channel),
            cx
        ));
        Poll::Ready(ready.map_err(|error| this.refused(error)))
    }

    fn start_send(mut self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        let written = Deferred::new();
        let bytes = message.into_bytes();
        let this = &mut *self;
        let reservation = Reservation::new(&this.budget, bytes.len());
        let outgoing = Outgoing {
            bytes,
            written: written.clone(),
        };
        let sent = futures_sink::Sink::start_send(Pin::new(&mut this.channel), outgoing);
        match sent {
            Ok(()) => reservation.keep(),
            Err(error) => {
                drop(reservation);
                return Err(self.refused(error));
            }
        }
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

/// The inbound half of the splice: the inbound channel, releasing each chunk's bytes from the
/// inbound budget as it is taken, so that the read task can read again.
struct Inbound {
    channel: Channel<Bytes>,
    budget: Arc<Budget>,
}

impl Clone for Inbound {
    fn clone(&self) -> Self {
        Inbound {
            channel: self.channel.clone(),
            budget: self.budget.clone(),
        }
    }
}

impl fmt::Debug for Inbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inbound")
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl futures_core::Stream for Inbound {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let chunk = ready!(Pin::new(&mut self.channel).poll_next(cx));
        if let Some(chunk) = &chunk {
            self.budget.release(chunk.len());
        }
        Poll::Ready(chunk)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.channel.size_hint()
    }
}

impl Source for Inbound {
    fn node(&self) -> Node {
        self.channel.node()
    }

    fn close(&self) {
        self.channel.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        Source::drained(&self.channel)
    }

    fn poll_next_batch(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<Bytes>,
    ) -> Poll<bool> {
        let before = out.len();
        let more = ready!(Pin::new(&mut self.channel).poll_next_batch(cx, limit, out));
        let taken: usize = out[before..].iter().map(Bytes::len).sum();
        self.budget.release(taken);
        Poll::Ready(more)
    }
}

/// A count of bytes held against a limit, with an event for the side waiting for room: the
/// inbound chunks not yet taken (the read task waits), or the outbound messages not yet
/// written (puts wait).
struct Budget {
    held: AtomicUsize,
    /// `usize::MAX` once nobody will release any more (the write task is done).
    limit: AtomicUsize,
    room: Event,
}

impl Budget {
    fn new(limit: usize) -> Self {
        Budget {
            held: AtomicUsize::new(0),
            limit: AtomicUsize::new(limit.max(1)),
            room: Event::new(),
        }
    }

    /// How many bytes may still be held (0: none).
    fn room_left(&self) -> usize {
        self.limit
            .load(Ordering::Acquire)
            .saturating_sub(self.held.load(Ordering::Acquire))
    }

    fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    fn acquire(&self, bytes: usize) {
        self.held.fetch_add(bytes, Ordering::AcqRel);
    }

    fn release(&self, bytes: usize) {
        if bytes > 0 {
            self.held.fetch_sub(bytes, Ordering::AcqRel);
            self.room.notify(usize::MAX);
        }
    }

    /// No limit any more: whoever waits for room goes on (and finds the stream closed).
    fn unlimit(&self) {
        self.limit.store(usize::MAX, Ordering::Release);
        self.room.notify(usize::MAX);
    }

    /// Completes once some bytes may be held.
    async fn room(&self) {
        let mut waiting = None;
        future::poll_fn(|cx| self.poll_room(&mut waiting, cx)).await;
    }

    fn poll_room(&self, waiting: &mut Option<EventListener>, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.room_left() > 0 {
                *waiting = None;
                return Poll::Ready(());
            }
            match waiting {
                None => *waiting = Some(self.room.listen()),
                Some(listener) => {
                    ready!(Pin::new(listener).poll(cx));
                    *waiting = None;
                }
            }
        }
    }
}

/// Bytes acquired from a budget for a message on its way into the outbound queue, released
/// again unless the queue took the message.
struct Reservation<'a> {
    budget: &'a Budget,
    bytes: usize,
}

impl<'a> Reservation<'a> {
    fn new(budget: &'a Budget, bytes: usize) -> Self {
        budget.acquire(bytes);
        Reservation { budget, bytes }
    }

    /// The queue took the message: the write task releases the bytes.
    fn keep(mut self) {
        self.bytes = 0;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
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

/// What the read task reads into and with.
struct Reads {
    inbound: Channel<Bytes>,
    outbound: Channel<Outgoing>,
    budget: Arc<Budget>,
    chunk_size: usize,
    /// A TLS session: a chunk gathers every record readable at once (see [`read_chunk`]).
    fill: bool,
}

/// Reads chunks into the inbound channel until the peer's end of stream, an I/O error, the
/// inbound channel closing or an abort. Reads adapt ([`ReadBuffer`]) and stop while the
/// chunks not yet taken hold the inbound budget's bytes; a plain socket waits for data with
/// no buffer while idle.
async fn read_task<R: AsyncRead + Unpin>(mut half: Half<R>, reads: Reads) {
    let Reads {
        inbound,
        outbound,
        budget,
        chunk_size,
        fill,
    } = reads;
    let state = half.owner.state.clone();
    let mut closed = inbound.closed();
    let mut abort = state.abort.clone();
    let mut buffer = ReadBuffer::new(chunk_size);
    let mut probe = [0u8; PROBE];
    let mut held_back = None;
    loop {
        if budget.room_left() == 0 {
            // The chunks not yet taken hold the budget: wait for a take.
            let waited = future::or(
                async {
                    budget.room().await;
                    Ok(())
                },
                async { Err(stopped(&mut closed, &mut abort).await) },
            )
            .await;
            match waited {
                Ok(()) => {}
                Err(None) => break,
                Err(Some(cause)) => {
                    inbound.close_with_error(cause);
                    break;
                }
            }
        }
        let want = buffer.size.min(budget.room_left().max(1));
        // Without a buffer (a new or quiet connection), a small read on the stack: a waiting
        // connection holds no read buffer.
        let probing = buffer.probes();
        let window = if probing {
            &mut probe[..want.min(PROBE)]
        } else {
            buffer.window(want)
        };
        let asked = window.len();
        let reading = read_chunk(&mut half.io, window, fill, &mut held_back);
        let read = future::or(async { Ok(reading.await) }, async {
            Err(stopped(&mut closed, &mut abort).await)
        })
        .await;
        if matches!(read, Ok(Ok(n)) if n > 0) {
            state.activity.touch();
        }
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
            Ok(Ok(n)) if probing => {
                let n = n.min(asked);
                buffer.probed(n, asked);
                Bytes::copy_from_slice(&probe[..n])
            }
            Ok(Ok(n)) => buffer.chunk(n.min(want), want),
            Ok(Err(error)) if error.kind() == io::ErrorKind::Interrupted => continue,
            Ok(Err(error)) => {
                let error = Error::from(error);
                inbound.close_with_error(error.clone());
                outbound.close_with_error(error);
                break;
            }
        };
        budget.acquire(chunk.len());
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

/// The read task's buffer: one initialised allocation read into again and again, so that a
/// read never zero-fills or copies stale bytes.
///
/// - A read that filled at least half of what is left of the buffer is handed over as it is
///   (split off, no copy); the rest of the allocation serves the next reads, and a new one
///   (zero-filled once) is made only when too little is left. A read that leaves less than
///   the smallest read takes the whole allocation with it, as its only owner.
/// - A smaller read is copied into a chunk of its own size, so that a small chunk never pins a
///   large allocation, and the buffer stays for the next read.
/// - The read size adapts: it starts at [`INITIAL_READ`], doubles after a read that filled it
///   (up to the chunk size) and halves after a read of less than a quarter of it, giving a
///   buffer larger than the reads back.
/// - Without a buffer (a new connection, or after one was given back) and while reads come
///   back small, a read goes to a [`PROBE`] on the read task's stack, copied into its chunk:
///   a connection waiting for data holds no read buffer.
struct ReadBuffer {
    buffer: BytesMut,
    /// How much the next read asks for.
    size: usize,
    smallest: usize,
    largest: usize,
    /// The last read filled its window.
    streaming: bool,
}

impl ReadBuffer {
    fn new(largest: usize) -> Self {
        let smallest = INITIAL_READ.min(largest).max(1);
        ReadBuffer {
            buffer: BytesMut::new(),
            size: smallest,
            smallest,
            largest: largest.max(1),
            streaming: false,
        }
    }

    /// The first `want` bytes of the buffer, allocating (zero-filled) only when what is left
    /// is too short.
    fn window(&mut self, want: usize) -> &mut [u8] {
        if self.buffer.len() < want {
            self.buffer = BytesMut::zeroed(self.size.max(want));
        }
        &mut self.buffer[..want]
    }

    /// The chunk of the `n` bytes just read into a window of `want`, and the next read size.
    fn chunk(&mut self, n: usize, want: usize) -> Bytes {
        let chunk = if n * 2 < self.buffer.len() {
            Bytes::copy_from_slice(&self.buffer[..n])
        } else if self.buffer.len() - n < self.smallest {
            // Too little left for another read: the chunk takes the whole allocation, and
            // is its only owner (a decoder can then use it as its buffer without a copy).
            let mut whole = std::mem::take(&mut self.buffer);
            whole.truncate(n);
            whole.freeze()
        } else {
            self.buffer.split_to(n).freeze()
        };
        self.streaming = n == want && want == self.size;
        if self.streaming {
            self.size = (self.size * 2).min(self.largest);
        } else if n * 4 < self.size {
            self.size = (self.size / 2).max(self.smallest);
            if self.buffer.len() > self.size {
                // Much larger than the reads now: allocate again at the new size.
                self.buffer = BytesMut::new();
            }
        }
        chunk
    }

    /// True when the next read goes to the stack probe: no buffer is allocated and the
    /// reads are not streaming (a new connection, or one whose reads come back small).
    fn probes(&self) -> bool {
        self.buffer.is_empty() && !self.streaming
    }

    /// After a probe read of `n` bytes into `asked`: a full one means more is streaming in,
    /// so the next read gets a buffer.
    fn probed(&mut self, n: usize, asked: usize) {
        self.streaming = n == asked;
    }
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

/// Writes what is put into the outbound channel: every message waiting is gathered into one
/// vectored write (at most [`MAX_GATHER`]), flushed once, and all of them are acknowledged
/// together. Once the channel is closed and drained, shuts the stream down for writing.
async fn write_task<W: AsyncWrite + Unpin>(
    mut half: Half<W>,
    mut outbound: Channel<Outgoing>,
    budget: Arc<Budget>,
) {
    let state = half.owner.state.clone();
    let mut abort = state.abort.clone();
    let mut batch: Vec<Outgoing> = Vec::new();
    let failure = loop {
        let next = future::or(
            async {
                Ok(future::poll_fn(|cx| {
                    Pin::new(&mut outbound).poll_next_batch(cx, MAX_GATHER, &mut batch)
                })
                .await)
            },
            async { Err((&mut abort).await.err()) },
        )
        .await;
        match next {
            Ok(true) => {}
            Ok(false) => {
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
        }
        let written = future::or(
            async {
                write_gathered(&mut half.io, &batch).await?;
                half.io.flush().await.map_err(Error::from)
            },
            async { Err((&mut abort).await.err().unwrap_or_else(aborted)) },
        )
        .await;
        budget.release(batch.iter().map(|outgoing| outgoing.bytes.len()).sum());
        if written.is_ok() {
            state.activity.touch();
        }
        match written {
            Ok(()) => {
                for outgoing in batch.drain(..) {
                    outgoing.written.success(());
                }
            }
            Err(error) => {
                for outgoing in batch.drain(..) {
                    outgoing.written.error(error.clone());
                }
                break Some(error);
            }
        }
    };
    if let Some(error) = failure {
        for outgoing in batch.drain(..) {
            budget.release(outgoing.bytes.len());
            outgoing.written.error(error.clone());
        }
        outbound.close_with_error(error.clone());
        // Fail what is still queued, so that every put reports the error.
        while let Some(outgoing) = outbound.take_next().await {
            budget.release(outgoing.bytes.len());
            outgoing.written.error(error.clone());
        }
    }
    budget.unlimit();
    state.write_done.store(true, Ordering::Release);
}

/// Writes every message of `batch` completely, as one vectored write where the stream takes
/// them so (a socket does; a TLS stream writes one buffer per call).
async fn write_gathered<W: AsyncWrite + Unpin>(io: &mut W, batch: &[Outgoing]) -> io::Result<()> {
    if let [one] = batch {
        return io.write_all(&one.bytes).await;
    }
    let mut slices: Vec<IoSlice<'_>> = batch
        .iter()
        .filter(|outgoing| !outgoing.bytes.is_empty())
        .map(|outgoing| IoSlice::new(&outgoing.bytes))
        .collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match io.write_vectored(rest).await {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

fn aborted() -> Error {
    Error::closed("tcp connection aborted")
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll};

    use super::*;

    #[test]
    fn reads_grow_after_full_reads_and_shrink_after_short_ones() {
        let mut reads = ReadBuffer::new(64 * 1024);
        assert_eq!(reads.size, INITIAL_READ);
        let mut sizes = Vec::new();
        for _ in 0..5 {
            let want = reads.size;
            reads.window(want).fill(1);
            let chunk = reads.chunk(want, want);
            assert_eq!(chunk.len(), want);
            sizes.push(reads.size);
        }
        assert_eq!(sizes, [16, 32, 64, 64, 64].map(|k| k * 1024));
        // Short reads halve the size, down to the smallest.
        let want = reads.size;
        reads.window(want);
        reads.chunk(10, want);
        assert_eq!(reads.size, 32 * 1024);
        // Short reads go on: the size halves down to the smallest, the large buffer goes back,
        // and small reads go to the probe.
        for _ in 0..2 {
            let want = reads.size;
            reads.window(want);
            reads.chunk(10, want);
        }
        assert_eq!(reads.size, INITIAL_READ);
        assert!(reads.buffer.is_empty(), "a large buffer is given back");
        assert!(reads.probes());
        reads.probed(PROBE, PROBE);
        assert!(
            !reads.probes(),
            "a full probe: the data streams in, a buffer next"
        );
    }

    #[test]
    fn small_reads_reuse_one_buffer_and_come_out_right_sized() {
        let mut reads = ReadBuffer::new(64 * 1024);
        let first = reads.window(INITIAL_READ).as_ptr();
        let mut chunks = Vec::new();
        for i in 0..100u8 {
            let window = reads.window(INITIAL_READ);
            // The same allocation every time: nothing zero-filled, nothing copied.
            assert_eq!(window.as_ptr(), first);
            window[..64].fill(i);
            chunks.push(reads.chunk(64, INITIAL_READ));
        }
        for (i, chunk) in chunks.into_iter().enumerate() {
            assert!(chunk.iter().all(|&b| usize::from(b) == i));
            // Each chunk owns an allocation of its own size, not the read buffer.
            let owned = chunk.try_into_mut().expect("a chunk of its own");
            assert!(owned.capacity() < 1024, "{}", owned.capacity());
        }
    }

    #[test]
    fn a_large_read_is_handed_over_without_a_copy() {
        let mut reads = ReadBuffer::new(64 * 1024);
        let window = reads.window(INITIAL_READ);
        let start = window.as_ptr();
        window.fill(9);
        let chunk = reads.chunk(INITIAL_READ, INITIAL_READ);
        assert_eq!(chunk.as_ptr(), start);
        assert!(chunk.iter().all(|&b| b == 9));
        // The whole buffer went with it: the chunk is its only owner.
        assert!(reads.buffer.is_empty());
        let owned = chunk.try_into_mut().expect("the only owner");
        assert_eq!(owned.as_ptr(), start);
    }

    /// A writer that records each write call.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Vec<u8>>>>);

    impl futures_io::AsyncWrite for Recorder {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.lock().unwrap().push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
            let n = all.len();
            self.0.lock().unwrap().push(all);
            Poll::Ready(Ok(n))
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn queued_messages_go_out_in_one_vectored_write_and_are_acknowledged_together() {
        runtime::block_on(async {
            let outbound = Channel::new(OUTBOUND_QUEUE);
            let budget = Arc::new(Budget::new(OUTBOUND_QUEUE_BYTES));
            let mut acks = Vec::new();
            for i in 0..32u8 {
                let written = Deferred::new();
                acks.push(written.clone());
                budget.acquire(64);
                outbound
                    .put(Outgoing {
                        bytes: Bytes::from(vec![i; 64]),
                        written,
                    })
                    .await
                    .unwrap();
            }
            outbound.close();
            let state = Arc::new(IoState {
                read_done: AtomicBool::new(false),
                write_done: AtomicBool::new(false),
                abort: Deferred::new(),
                socket_closed: Deferred::new().quiet(),
                activity: Activity::new(),
            });
            let recorder = Recorder::default();
            let half = Half {
                io: recorder.clone(),
                owner: Arc::new(Owner { state }),
            };
            write_task(half, outbound, budget.clone()).await;
            let writes = recorder.0.lock().unwrap().clone();
            assert_eq!(writes.len(), 1, "one gathered write");
            let expected: Vec<u8> = (0..32u8).flat_map(|i| [i; 64]).collect();
            assert_eq!(writes[0], expected);
            assert!(acks.iter().all(|ack| matches!(ack.peek(), Some(Ok(())))));
            assert_eq!(budget.held(), 0);
        });
    }
}

//! `start_server` and `Server`: accepting TCP connections and handing each to a handler.

use std::fmt;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::runtime;
use crate::{Deferred, Error};

use super::accept::{AcceptCore, AcceptOptions, Bind, ConnectionGuard, Transport};
use super::connection::{IoState, TcpConnection, connection};
use super::info::ConnectionInfo;
use super::options::ServerOptions;

/// Starts a TCP server: Aleph's `tcp/start-server`. Binds (or takes over
/// [`ServerOptions::listener`]) at once, so the deferred is realized before it is returned:
/// with the [`Server`], or with the error that prevented listening (an address in use…).
///
/// An accept loop on weir's executor then calls `handler` with each accepted connection, a
/// [`TcpConnection`] whose [`info`](TcpConnection::info) gives the addresses. The handler runs
/// on the accept loop, so it should hand the connection over (connect it, spawn a task) rather
/// than block; a panic in it is caught and logged, and drops that connection. An accept error
/// is logged (at `warn`) and accepting goes on; after an error that is not about one
/// connection, such as running out of file descriptors, the loop pauses 100 ms first instead
/// of spinning. Dropping the [`Server`] handle does not stop the server, as in Aleph: call
/// [`Server::close`].
///
/// # Cancel safety
///
/// The deferred is realized before it is returned, so there is nothing to cancel; dropping it
/// leaves the server running.
///
/// # Examples
///
/// ```
/// use weir::tcp::{self, ClientOptions, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// // Greets each client and closes.
/// let greet = |c: tcp::TcpConnection| {
///     weir::runtime::spawn(async move {
///         let _ = c.put(format!("hello {}", c.remote_addr())).await;
///         weir::stream::Source::close(&c);
///     })
///     .detach();
/// };
/// let server = tcp::start_server(greet, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
/// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
///     .await
///     .unwrap();
/// let greeting = weir::bytes::to_string(client.clone(), 1024).await.unwrap();
/// assert_eq!(greeting, format!("hello {}", client.local_addr()));
/// server.close().await.unwrap();
/// # });
/// ```
pub fn start_server<H>(handler: H, options: ServerOptions) -> Deferred<Server, Error>
where
    H: Fn(TcpConnection) + Send + Sync + 'static,
{
    match Server::start(handler, options) {
        Ok(server) => Deferred::succeeded(server),
        Err(error) => Deferred::failed(error),
    }
}

/// A running TCP server, returned by [`start_server`]: Aleph's `AlephServer`. Handles are cheap
/// to clone and share the server.
///
/// # Examples
///
/// ```
/// use weir::tcp::{self, ClientOptions, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
/// let done = server.wait_for_close();
/// server.close().await.unwrap();
/// done.await.unwrap();
/// // Nothing listens any more.
/// let refused = tcp::client(ClientOptions::new().remote_address(server.local_addr())).await;
/// assert!(refused.unwrap_err().is_io());
/// # });
/// ```
#[derive(Clone)]
pub struct Server {
    core: Arc<AcceptCore>,
}

impl Server {
    fn start<H>(handler: H, options: ServerOptions) -> Result<Server, Error>
    where
        H: Fn(TcpConnection) + Send + Sync + 'static,
    {
        let bind = match options.listener {
            Some(listener) => Bind::Listener(listener),
            None => Bind::Address(options.address),
        };
        let buffers = options.buffers;
        let idle_timeout = options.idle_timeout;
        let executor = options.executor.clone();
        let on_connection = move |transport: Transport,
                                  info: ConnectionInfo,
                                  guard: ConnectionGuard| {
            let remote_addr = info.remote_addr;
            let connection = match transport {
                Transport::Tcp(stream) => connection(stream, info, buffers),
                #[cfg(feature = "tls")]
                Transport::Tls(stream) => connection(*stream, info, buffers),
                #[cfg(unix)]
                Transport::Unix(stream) => connection(stream, info, buffers),
            };
            let io = connection.io_state();
            // Counted as open until its socket is closed; closed at the shutdown timeout.
            let weak: Weak<IoState> = Arc::downgrade(&io);
            guard.on_abort(move || {
                if let Some(io) = weak.upgrade() {
                    io.abort(Error::closed("tcp server shut down"));
                }
            });
            if let Some(timeout) = idle_timeout {
                runtime::spawn_detached_on(
                    executor.as_ref(),
                    close_when_idle(Arc::downgrade(&io), timeout),
                );
            }
            io.socket_closed().on_realized(move |_| drop(guard));
            if catch_unwind(AssertUnwindSafe(|| handler(connection))).is_err() {
                log::error!(
                    "weir: tcp server: the handler panicked on the connection from {remote_addr}"
                );
            }
        };
        let core = AcceptCore::start(
            AcceptOptions {
                bind,
                nodelay: options.nodelay,
                #[cfg(feature = "tls")]
                tls: options.tls,
                max_connections: options.max_connections,
                shutdown_timeout: options.shutdown_timeout,
                executor: options.executor,
                name: "tcp server",
            },
            on_connection,
        )?;
        Ok(Server { core })
    }

    /// The address the server listens on, with the port the system chose for port 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// assert_ne!(server.local_addr().port(), 0);
    /// # server.close();
    /// # });
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.core.local_addr()
    }

    /// How long [`close`](Server::close) waits for open connections
    /// ([`ServerOptions::shutdown_timeout`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::tcp::{self, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(server.shutdown_timeout(), Duration::from_secs(15));
    /// # server.close();
    /// # });
    /// ```
    pub fn shutdown_timeout(&self) -> Duration {
        self.core.shutdown_timeout()
    }

    /// How many accepted connections are open now (their sockets not yet closed).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let server = tcp::start_server(move |c| tx.send(c).unwrap(), ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(server.connection_count(), 0);
    /// let _client = tcp::client(ClientOptions::new().remote_address(server.local_addr())).await;
    /// let accepted: tcp::TcpConnection = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    /// assert_eq!(server.connection_count(), 1);
    /// let closed = accepted.socket_closed();
    /// drop(accepted);
    /// closed.await.unwrap();
    /// assert_eq!(server.connection_count(), 0);
    /// # server.close();
    /// # });
    /// ```
    pub fn connection_count(&self) -> usize {
        self.core.connection_count()
    }

    /// How many accepted connections are still in their TLS handshake: not yet counted by
    /// [`connection_count`](Server::connection_count) nor handed to the handler. Always 0
    /// without [TLS](ServerOptions::tls).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(server.handshake_count(), 0);
    /// # server.close();
    /// # });
    /// ```
    pub fn handshake_count(&self) -> usize {
        self.core.handshake_count()
    }

    /// Closes the server gracefully: stops accepting at once (the listening socket is closed),
    /// then lets open connections work until they close, for at most the
    /// [shutdown timeout](ServerOptions::shutdown_timeout); connections still open then are
    /// closed (their inbound sides drain with a [closed](Error::is_closed) error). With
    /// [TLS](ServerOptions::tls), a connection accepted before the close whose handshake is
    /// still under way counts as open: it is handed to the handler if its handshake finishes
    /// within the timeout, and abandoned (its socket closed) otherwise. The deferred is
    /// realized once every connection's socket is closed and no handshake is left. Calling it
    /// again returns the same outcome.
    ///
    /// # Cancel safety
    ///
    /// Closing proceeds on weir's executor whether or not the deferred is awaited.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let options = ServerOptions::new()
    ///     .address(([127, 0, 0, 1], 0))
    ///     .shutdown_timeout(Duration::from_millis(50));
    /// let server = tcp::start_server(move |c| tx.send(c).unwrap(), options).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// let accepted: tcp::TcpConnection = rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap();
    ///
    /// // Nobody closes the connection: the server closes it after the timeout.
    /// server.close().await.unwrap();
    /// assert!(accepted.socket_closed().is_realized());
    /// assert_eq!(client.take_next().await, None); // the client sees the end
    /// # });
    /// ```
    pub fn close(&self) -> Deferred<(), Error> {
        self.core.close()
    }

    /// A deferred realized once the server is closed (see [`close`](Server::close)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::tcp::{self, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// let waiting = weir::runtime::timeout(Duration::from_millis(10), server.wait_for_close());
    /// assert!(waiting.await.unwrap_err().is_timeout()); // still running
    /// server.close();
    /// server.wait_for_close().await.unwrap();
    /// # });
    /// ```
    pub fn wait_for_close(&self) -> Deferred<(), Error> {
        self.core.wait_for_close()
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr())
            .field("connections", &self.connection_count())
            .field("closed", &self.wait_for_close().is_realized())
            .finish_non_exhaustive()
    }
}

/// Closes the connection once no bytes moved either way for `timeout`.
async fn close_when_idle(io: Weak<IoState>, timeout: Duration) {
    loop {
        let deadline = match io.upgrade() {
            Some(io) if !io.socket_closed().is_realized() => io.activity().last() + timeout,
            _ => return,
        };
        let now = std::time::Instant::now();
        if deadline <= now {
            if let Some(io) = io.upgrade() {
                io.abort(Error::timed_out(timeout));
            }
            return;
        }
        runtime::sleep(deadline - now).await;
    }
}

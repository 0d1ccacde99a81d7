//! `start_server` and `Server`: accepting TCP connections and handing each to a handler.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use futures_lite::future;

use crate::runtime;
use crate::{Deferred, Error};

use super::connection::{IoState, TcpConnection, connection};
use super::info::ConnectionInfo;
use super::options::{Buffers, ServerOptions};

/// How long the accept loop pauses after an error that is not about one connection (out of
/// file descriptors, say), so that it does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

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
    inner: Arc<Inner>,
}

struct Inner {
    local_addr: SocketAddr,
    shutdown_timeout: Duration,
    /// Realized by `close`: the accept loop stops.
    stop: Deferred<(), Error>,
    /// Realized once the accept loop has dropped the listener.
    accept_stopped: Deferred<(), Error>,
    /// Realized once the server and all its connections are closed.
    closed: Deferred<(), Error>,
    /// Realized when the shutdown timeout has passed: handshakes still under way are
    /// abandoned, and connections still open are closed.
    aborted: Deferred<(), Error>,
    connections: Mutex<Registry>,
    /// A handle on the listening socket, so that `close` can stop the listening at once (the
    /// accept loop drops its own handle a moment later).
    listener: async_net::TcpListener,
}

#[derive(Default)]
struct Registry {
    next_id: u64,
    open: HashMap<u64, Arc<IoState>>,
    /// Accepted connections whose TLS handshake is under way: not yet handed to the handler,
    /// but waited for by a graceful close like open ones.
    handshakes: usize,
    /// Set by `close`: realized once nothing is open and no handshake is under way.
    idle: Option<Deferred<(), Error>>,
}

impl Registry {
    /// Records an open connection; its id.
    fn insert(&mut self, io: Arc<IoState>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.open.insert(id, io);
        id
    }

    fn is_idle(&self) -> bool {
        self.open.is_empty() && self.handshakes == 0
    }

    /// Realizes `idle` (when closing) if nothing is left.
    fn check_idle(&self) {
        if let Some(idle) = &self.idle {
            if self.is_idle() {
                idle.success(());
            }
        }
    }
}

impl Server {
    fn start<H>(handler: H, options: ServerOptions) -> Result<Server, Error>
    where
        H: Fn(TcpConnection) + Send + Sync + 'static,
    {
        let std_listener = match options.listener {
            Some(listener) => listener,
            None => std::net::TcpListener::bind(options.address).map_err(|error| {
                Error::from(io::Error::new(
                    error.kind(),
                    format!("could not listen on {}: {error}", options.address),
                ))
            })?,
        };
        let listener = async_net::TcpListener::try_from(std_listener)?;
        let local_addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            listener: listener.clone(),
            local_addr,
            shutdown_timeout: options.shutdown_timeout,
            stop: Deferred::new(),
            accept_stopped: Deferred::new(),
            closed: Deferred::new(),
            aborted: Deferred::new().quiet(),
            connections: Mutex::new(Registry::default()),
        });
        runtime::spawn_detached_on(
            options.executor.as_ref(),
            accept_loop(
                listener,
                inner.clone(),
                Arc::new(handler),
                options.nodelay,
                options.buffers,
                #[cfg(feature = "tls")]
                options.tls,
            ),
        );
        Ok(Server { inner })
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
        self.inner.local_addr
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
        self.inner.shutdown_timeout
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
        self.inner.registry().open.len()
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
        self.inner.registry().handshakes
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
        if self.inner.stop.success(()) {
            // Stop listening now: the kernel refuses new connections from here on (shutting a
            // listening socket down closes its queue), and the accept loop sees the stop.
            let _ = socket2::SockRef::from(&self.inner.listener).shutdown(std::net::Shutdown::Both);
            runtime::spawn_detached(shut_down(self.inner.clone()));
        }
        self.inner.closed.clone()
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
        self.inner.closed.clone()
    }
}

impl Inner {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records an accepted connection; forgets it once its socket is closed.
    fn register(self: &Arc<Self>, connection: &TcpConnection) {
        let io = connection.io_state();
        let id = self.registry().insert(io.clone());
        self.forget_when_closed(id, io);
    }

    /// Counts a TLS handshake as under way.
    #[cfg(feature = "tls")]
    fn handshake_started(&self) {
        self.registry().handshakes += 1;
    }

    /// Ends a handshake counted by `handshake_started`: registers its connection, if it has
    /// one, unless the shutdown timeout has passed meanwhile. True when the connection is to
    /// be handed to the handler.
    #[cfg(feature = "tls")]
    fn handshake_finished(self: &Arc<Self>, connection: Option<&TcpConnection>) -> bool {
        let mut registry = self.registry();
        registry.handshakes -= 1;
        // Checked under the lock that `shut_down` takes to list what it aborts, after it
        // realized `aborted`: a connection is either refused here or aborted there.
        let registered = match connection {
            Some(connection) if !self.aborted.is_realized() => {
                let io = connection.io_state();
                Some((registry.insert(io.clone()), io))
            }
            _ => None,
        };
        registry.check_idle();
        drop(registry);
        match registered {
            Some((id, io)) => {
                self.forget_when_closed(id, io);
                true
            }
            None => false,
        }
    }

    /// Removes a registered connection once its socket is closed.
    fn forget_when_closed(self: &Arc<Self>, id: u64, io: Arc<IoState>) {
        let server: Weak<Inner> = Arc::downgrade(self);
        io.socket_closed().on_realized(move |_| {
            if let Some(server) = server.upgrade() {
                let mut registry = server.registry();
                registry.open.remove(&id);
                registry.check_idle();
            }
        });
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.inner.local_addr)
            .field("connections", &self.connection_count())
            .field("closing", &self.inner.stop.is_realized())
            .field("closed", &self.inner.closed.is_realized())
            .finish_non_exhaustive()
    }
}

/// Accepts connections until the server is closed, then drops the listener.
async fn accept_loop<H>(
    listener: async_net::TcpListener,
    server: Arc<Inner>,
    handler: Arc<H>,
    nodelay: bool,
    buffers: Buffers,
    #[cfg(feature = "tls")] tls: Option<crate::tls::ServerConfig>,
) where
    H: Fn(TcpConnection) + Send + Sync + 'static,
{
    let mut stop = server.stop.clone();
    loop {
        // The stop is checked first, so that nothing is accepted once `close` was called.
        let accepted = future::or(
            async {
                let _ = (&mut stop).await;
                None
            },
            async { Some(listener.accept().await) },
        )
        .await;
        let (stream, remote_addr) = match accepted {
            None => break,
            Some(Ok(accepted)) => accepted,
            Some(Err(error)) => {
                log::warn!(
                    "weir: tcp server {}: accept failed: {error}",
                    server.local_addr
                );
                if !is_per_connection_error(&error) {
                    let paused = future::or(
                        async {
                            runtime::sleep(ACCEPT_BACKOFF).await;
                            false
                        },
                        async {
                            let _ = (&mut stop).await;
                            true
                        },
                    )
                    .await;
                    if paused {
                        break;
                    }
                }
                continue;
            }
        };
        if nodelay {
            if let Err(error) = stream.set_nodelay(true) {
                log::debug!("weir: tcp server: setting TCP_NODELAY failed: {error}");
            }
        }
        let local_addr = stream.local_addr().unwrap_or(server.local_addr);
        #[cfg(feature = "tls")]
        if let Some(config) = &tls {
            // The handshake runs on its own, so that a slow one never holds up accepting. It
            // counts as open for a graceful close, and is abandoned at the shutdown timeout.
            let (server, handler, config) = (server.clone(), handler.clone(), config.clone());
            server.handshake_started();
            runtime::spawn_detached(async move {
                let handshake = crate::tls::accept(&config, stream);
                let cancel = handshake.realizer();
                let aborted = server.aborted.clone();
                let outcome = future::or(async { Some(handshake.await) }, async {
                    let _ = aborted.await;
                    None
                })
                .await;
                let connection = match outcome {
                    Some(Ok(stream)) => {
                        let info =
                            ConnectionInfo::tls(local_addr, remote_addr, stream.session_info());
                        Some(connection(stream, info, buffers))
                    }
                    Some(Err(error)) => {
                        log::debug!(
                            "weir: tcp server {}: TLS handshake with {remote_addr} failed: {error}",
                            server.local_addr
                        );
                        None
                    }
                    None => {
                        // Failing the handshake's deferred cancels it, which closes the socket.
                        cancel.error(Error::closed("tcp server shut down during the handshake"));
                        None
                    }
                };
                if server.handshake_finished(connection.as_ref()) {
                    let connection = connection.expect("a registered connection");
                    hand_over(&server, &*handler, connection, remote_addr);
                } else if let Some(connection) = connection {
                    connection
                        .io_state()
                        .abort(Error::closed("tcp server shut down"));
                }
            });
            continue;
        }
        let connection = connection(
            stream,
            ConnectionInfo::tcp(local_addr, remote_addr),
            buffers,
        );
        server.register(&connection);
        hand_over(&server, &*handler, connection, remote_addr);
    }
    drop(listener);
    server.accept_stopped.success(());
}

/// Calls the handler with a new connection; a panic in it is logged and goes no further.
fn hand_over<H>(server: &Inner, handler: &H, connection: TcpConnection, remote_addr: SocketAddr)
where
    H: Fn(TcpConnection) + Send + Sync + 'static,
{
    if catch_unwind(AssertUnwindSafe(|| handler(connection))).is_err() {
        log::error!(
            "weir: tcp server {}: the handler panicked on the connection from {remote_addr}",
            server.local_addr
        );
    }
}

/// Accept errors about one connection (it was reset before being accepted…): accepting goes on
/// at once.
fn is_per_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// Waits for the accept loop to stop and the connections to close, up to the shutdown
/// timeout; then closes the remaining ones and waits for their sockets.
async fn shut_down(server: Arc<Inner>) {
    let _ = server.accept_stopped.clone().await;
    let timeout = server.shutdown_timeout;
    let _ = runtime::timeout(timeout, idle(&server)).await;
    // Past the timeout (or idle already): abandon the handshakes still under way, then close
    // what is still open, listed after `aborted` so that no handshake can register later.
    server.aborted.success(());
    let remaining: Vec<Arc<IoState>> = server.registry().open.values().cloned().collect();
    for io in &remaining {
        io.abort(Error::closed("tcp server shut down"));
    }
    for io in remaining {
        let _ = io.socket_closed().await;
    }
    // The abandoned handshakes end at once: wait until their tasks have uncounted them.
    let _ = idle(&server).await;
    server.closed.success(());
}

/// A deferred realized once no connection is open and no handshake under way.
fn idle(server: &Inner) -> Deferred<(), Error> {
    let idle = Deferred::new();
    let mut registry = server.registry();
    registry.idle = Some(idle.clone());
    registry.check_idle();
    idle
}

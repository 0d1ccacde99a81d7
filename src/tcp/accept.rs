//! The accept core shared by the servers: a listener (TCP or a Unix domain socket), TLS as a
//! layer over it, a registry of open connections with a cap, and the signals a protocol
//! observes on shutdown (drain first, abort at the deadline).
//!
//! A protocol (HTTP, say) gets each connection as a [`Transport`] (the raw I/O, plain or TLS),
//! its [`ConnectionInfo`] (addresses, TLS parameters, the ALPN result) and a
//! [`ConnectionGuard`] that keeps it counted as open until dropped. On [`AcceptCore::close`]
//! the listener stops at once, every guard's [`ConnectionGuard::draining`] is realized (the
//! protocol finishes what is in flight: hyper's graceful shutdown, h2's GOAWAY), and at the
//! shutdown timeout [`ConnectionGuard::aborted`] is realized (the protocol drops the
//! connection).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::future;

use crate::runtime::{self, Executor};
use crate::{Deferred, Error};

use super::info::ConnectionInfo;

/// How long the accept loop pauses after an error that is not about one connection (out of
/// file descriptors, say), so that it does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Where a server listens.
#[derive(Debug)]
pub(crate) enum Bind {
    /// Bind this address (port 0: the system picks one).
    Address(SocketAddr),
    /// Take over a listener bound by the caller (Aleph's `:listen-socket`).
    Listener(std::net::TcpListener),
    /// A Unix domain socket at this path (aleph#465). A stale socket file is replaced.
    #[cfg(unix)]
    Unix(PathBuf),
}

/// The raw I/O of one accepted connection.
pub(crate) enum Transport {
    Tcp(super::TcpSocket),
    #[cfg(feature = "tls")]
    Tls(Box<crate::tls::TlsStream<super::TcpSocket>>),
    #[cfg(unix)]
    Unix(async_net::unix::UnixStream),
}

impl Transport {
    /// Whether vectored writes reach the socket as one `writev` (plain sockets), rather than
    /// being flattened (TLS encrypts record by record anyway).
    pub(crate) fn is_write_vectored(&self) -> bool {
        match self {
            Transport::Tcp(_) => true,
            #[cfg(feature = "tls")]
            Transport::Tls(_) => false,
            #[cfg(unix)]
            Transport::Unix(_) => true,
        }
    }

    /// Makes the socket's reads wait on within one task run once they found it empty
    /// ([`TcpSocket::set_waits_within_run`](super::TcpSocket::set_waits_within_run)): on for
    /// HTTP, off again for an upgraded connection.
    pub(crate) fn set_waits_within_run(&mut self, on: bool) {
        if let Some(tcp) = self.tcp_mut() {
            tcp.set_waits_within_run(on);
        }
    }

    /// Makes the socket's reads wait for readiness once one found it empty, until the wait
    /// reports it ([`TcpSocket::set_waits_while_empty`](super::TcpSocket::set_waits_while_empty)):
    /// on for the HTTP/1.1 client.
    #[cfg(feature = "http1")]
    pub(crate) fn set_waits_while_empty(&mut self, on: bool) {
        if let Some(tcp) = self.tcp_mut() {
            tcp.set_waits_while_empty(on);
        }
    }

    /// The TCP socket under the transport, if it has one (a Unix domain socket has not).
    fn tcp_mut(&mut self) -> Option<&mut super::TcpSocket> {
        match self {
            Transport::Tcp(tcp) => Some(tcp),
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => Some(tls.io_mut()),
            #[cfg(unix)]
            Transport::Unix(_) => None,
        }
    }

    /// The local and remote addresses of a TCP transport (a Unix domain socket has none).
    #[allow(dead_code, reason = "used by the WebSocket client")]
    pub(crate) fn addresses(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        let tcp = match self {
            Transport::Tcp(tcp) => tcp,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => tls.io(),
            #[cfg(unix)]
            Transport::Unix(_) => return (None, None),
        };
        (tcp.local_addr().ok(), tcp.peer_addr().ok())
    }
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Transport::Tcp(_) => "tcp",
            #[cfg(feature = "tls")]
            Transport::Tls(_) => "tls",
            #[cfg(unix)]
            Transport::Unix(_) => "unix",
        };
        f.debug_tuple("Transport").field(&kind).finish()
    }
}

macro_rules! delegate {
    ($self:ident, $io:ident => $e:expr) => {
        match $self.get_mut() {
            Transport::Tcp($io) => $e,
            #[cfg(feature = "tls")]
            Transport::Tls($io) => $e,
            #[cfg(unix)]
            Transport::Unix($io) => $e,
        }
    };
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, io => Pin::new(io).poll_read(cx, buf))
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, io => Pin::new(io).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, io => Pin::new(io).poll_write_vectored(cx, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => Pin::new(io).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, io => Pin::new(io).poll_close(cx))
    }
}

/// What the accept core needs to start.
pub(crate) struct AcceptOptions {
    pub(crate) bind: Bind,
    pub(crate) nodelay: bool,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::ServerConfig>,
    /// At most this many connections open (handshakes included); past it, accepting waits.
    pub(crate) max_connections: Option<usize>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) executor: Option<Executor>,
    /// The kind of server, for log lines ("http server").
    pub(crate) name: &'static str,
}

/// The running accept loop and its registry; shared by the server handle.
pub(crate) struct AcceptCore {
    local_addr: SocketAddr,
    #[cfg(unix)]
    unix_path: Option<PathBuf>,
    shutdown_timeout: Duration,
    name: &'static str,
    /// Realized by `close`: the accept loop stops and connections drain.
    stop: Deferred<(), Error>,
    /// Realized once the accept loop has dropped the listener.
    accept_stopped: Deferred<(), Error>,
    /// Realized at the shutdown timeout: what is still open is dropped.
    aborted: Deferred<(), Error>,
    /// Realized once the server and all its connections are closed.
    closed: Deferred<(), Error>,
    registry: Mutex<Registry>,
    /// A handle on the listening socket, so that `close` stops the listening at once (the
    /// accept loop drops its own a moment later).
    listener: Listener,
}

/// What a connection's protocol runs when the shutdown timeout passes.
type AbortHook = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Registry {
    /// Open connections, handshakes under way included.
    open: usize,
    /// TLS handshakes under way (counted in `open` too).
    handshakes: usize,
    accepted: u64,
    next_id: u64,
    /// Run at the shutdown timeout, by connection.
    abort_hooks: HashMap<u64, AbortHook>,
    /// Set by the shutdown: realized once nothing is open.
    idle: Option<Deferred<(), Error>>,
    /// Set by the accept loop while it waits for a free slot under `max_connections`.
    slot_free: Option<Deferred<(), Error>>,
}

/// Keeps one connection counted as open; dropping it forgets the connection.
pub(crate) struct ConnectionGuard {
    core: Arc<AcceptCore>,
    id: u64,
}

impl ConnectionGuard {
    /// Realized when the server starts closing: finish what is in flight, take nothing new.
    pub(crate) fn draining(&self) -> Deferred<(), Error> {
        self.core.stop.clone()
    }

    /// Realized at the shutdown timeout: drop the connection.
    pub(crate) fn aborted(&self) -> Deferred<(), Error> {
        self.core.aborted.clone()
    }

    /// True once the server started closing.
    pub(crate) fn is_draining(&self) -> bool {
        self.core.stop.is_realized()
    }

    /// Runs `hook` at the shutdown timeout if the connection is still open then (at once if
    /// the timeout has passed already). Replaces an earlier hook.
    pub(crate) fn on_abort(&self, hook: impl FnOnce() + Send + 'static) {
        let mut registry = self.core.registry();
        if self.core.aborted.is_realized() {
            drop(registry);
            hook();
            return;
        }
        registry.abort_hooks.insert(self.id, Box::new(hook));
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut registry = self.core.registry();
        registry.open -= 1;
        registry.abort_hooks.remove(&self.id);
        if let Some(slot) = registry.slot_free.take() {
            slot.success(());
        }
        registry.check_idle();
    }
}

impl fmt::Debug for ConnectionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionGuard")
            .field("server", &self.core.local_addr)
            .finish_non_exhaustive()
    }
}

impl Registry {
    fn check_idle(&mut self) {
        if self.open == 0 {
            if let Some(idle) = self.idle.take() {
                idle.success(());
            }
        }
    }
}

#[derive(Clone)]
enum Listener {
    Tcp(async_net::TcpListener),
    #[cfg(unix)]
    Unix(async_net::unix::UnixListener),
}

impl Listener {
    async fn accept(&self, nodelay: bool) -> io::Result<(Transport, SocketAddr, SocketAddr)> {
        match self {
            Listener::Tcp(listener) => {
                let (stream, remote) = listener.accept().await?;
                if nodelay {
                    if let Err(error) = stream.set_nodelay(true) {
                        log::debug!("weir: setting TCP_NODELAY failed: {error}");
                    }
                }
                let local = stream.local_addr()?;
                Ok((Transport::Tcp(super::TcpSocket::new(stream)), local, remote))
            }
            #[cfg(unix)]
            Listener::Unix(listener) => {
                let (stream, _) = listener.accept().await?;
                let unspecified = SocketAddr::from(([0, 0, 0, 0], 0));
                Ok((Transport::Unix(stream), unspecified, unspecified))
            }
        }
    }
}

impl AcceptCore {
    /// Binds (or takes over the listener) at once, then runs the accept loop on the executor,
    /// calling `on_connection` with each connection (after its TLS handshake, if any).
    pub(crate) fn start<H>(
        options: AcceptOptions,
        on_connection: H,
    ) -> Result<Arc<AcceptCore>, Error>
    where
        H: Fn(Transport, ConnectionInfo, ConnectionGuard) + Send + Sync + 'static,
    {
        #[cfg(unix)]
        let mut unix_path = None;
        let (listener, local_addr) = match options.bind {
            Bind::Address(address) => {
                let listener = std::net::TcpListener::bind(address).map_err(|error| {
                    Error::from(io::Error::new(
                        error.kind(),
                        format!("could not listen on {address}: {error}"),
                    ))
                })?;
                let listener = async_net::TcpListener::try_from(listener)?;
                let local = listener.local_addr()?;
                (Listener::Tcp(listener), local)
            }
            Bind::Listener(listener) => {
                let listener = async_net::TcpListener::try_from(listener)?;
                let local = listener.local_addr()?;
                (Listener::Tcp(listener), local)
            }
            #[cfg(unix)]
            Bind::Unix(path) => {
                // A socket file left by an earlier run would make the bind fail.
                if let Ok(meta) = std::fs::symlink_metadata(&path) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                let listener = std::os::unix::net::UnixListener::bind(&path).map_err(|error| {
                    Error::from(io::Error::new(
                        error.kind(),
                        format!("could not listen on {}: {error}", path.display()),
                    ))
                })?;
                let listener = async_net::unix::UnixListener::try_from(listener)?;
                unix_path = Some(path);
                (
                    Listener::Unix(listener),
                    SocketAddr::from(([0, 0, 0, 0], 0)),
                )
            }
        };
        let core = Arc::new(AcceptCore {
            local_addr,
            #[cfg(unix)]
            unix_path,
            shutdown_timeout: options.shutdown_timeout,
            name: options.name,
            stop: Deferred::new().quiet(),
            accept_stopped: Deferred::new().quiet(),
            aborted: Deferred::new().quiet(),
            closed: Deferred::new().quiet(),
            registry: Mutex::new(Registry::default()),
            listener: listener.clone(),
        });
        let executor = options.executor.clone();
        runtime::spawn_detached_on(
            executor.as_ref(),
            accept_loop(
                listener,
                core.clone(),
                Arc::new(on_connection),
                options.nodelay,
                options.max_connections,
                #[cfg(feature = "tls")]
                options.tls,
                executor.clone(),
            ),
        );
        Ok(core)
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    #[cfg(unix)]
    pub(crate) fn unix_path(&self) -> Option<&std::path::Path> {
        self.unix_path.as_deref()
    }

    pub(crate) fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// Open connections, handshakes under way not included.
    pub(crate) fn connection_count(&self) -> usize {
        let registry = self.registry();
        registry.open - registry.handshakes
    }

    /// Accepted connections whose TLS handshake is under way.
    pub(crate) fn handshake_count(&self) -> usize {
        self.registry().handshakes
    }

    /// Connections accepted since the start.
    pub(crate) fn accepted_count(&self) -> u64 {
        self.registry().accepted
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.stop.is_realized()
    }

    /// Starts the shutdown (idempotent) and returns a deferred realized once it is complete.
    pub(crate) fn close(self: &Arc<Self>) -> Deferred<(), Error> {
        if self.stop.success(()) {
            // The kernel refuses new connections from here on (shutting a listening socket
            // down closes its queue), and the accept loop sees the stop.
            let _ = match &self.listener {
                Listener::Tcp(listener) => {
                    socket2::SockRef::from(listener).shutdown(std::net::Shutdown::Both)
                }
                #[cfg(unix)]
                Listener::Unix(listener) => {
                    socket2::SockRef::from(listener).shutdown(std::net::Shutdown::Both)
                }
            };
            runtime::spawn_detached(shut_down(self.clone()));
        }
        self.closed.clone()
    }

    pub(crate) fn wait_for_close(&self) -> Deferred<(), Error> {
        self.closed.clone()
    }

    /// A guard counting one more open connection.
    fn guard(self: &Arc<Self>) -> ConnectionGuard {
        let mut registry = self.registry();
        registry.open += 1;
        registry.accepted += 1;
        registry.next_id += 1;
        ConnectionGuard {
            core: self.clone(),
            id: registry.next_id,
        }
    }

    /// None when there is room for one more connection, else a deferred realized when a
    /// connection closes.
    fn wait_for_slot(&self, max: Option<usize>) -> Option<Deferred<(), Error>> {
        let max = max?;
        let mut registry = self.registry();
        if registry.open < max {
            return None;
        }
        let slot = Deferred::new();
        registry.slot_free = Some(slot.clone());
        Some(slot)
    }

    fn idle(&self) -> Deferred<(), Error> {
        let idle = Deferred::new();
        let mut registry = self.registry();
        registry.idle = Some(idle.clone());
        registry.check_idle();
        idle
    }
}

impl fmt::Debug for AcceptCore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptCore")
            .field("local_addr", &self.local_addr)
            .field("connections", &self.connection_count())
            .field("closing", &self.is_closing())
            .finish_non_exhaustive()
    }
}

#[allow(clippy::too_many_arguments)]
async fn accept_loop<H>(
    listener: Listener,
    core: Arc<AcceptCore>,
    on_connection: Arc<H>,
    nodelay: bool,
    max_connections: Option<usize>,
    #[cfg(feature = "tls")] tls: Option<crate::tls::ServerConfig>,
    executor: Option<Executor>,
) where
    H: Fn(Transport, ConnectionInfo, ConnectionGuard) + Send + Sync + 'static,
{
    let mut stop = core.stop.clone();
    loop {
        if let Some(slot) = core.wait_for_slot(max_connections) {
            let stopped = future::or(
                async {
                    let _ = slot.await;
                    false
                },
                async {
                    let _ = (&mut stop).await;
                    true
                },
            )
            .await;
            if stopped {
                break;
            }
            continue;
        }
        // The stop is checked first, so that nothing is accepted once `close` was called.
        let accepted = future::or(
            async {
                let _ = (&mut stop).await;
                None
            },
            async { Some(listener.accept(nodelay).await) },
        )
        .await;
        let (transport, local_addr, remote_addr) = match accepted {
            None => break,
            Some(Ok(accepted)) => accepted,
            Some(Err(error)) => {
                log::warn!(
                    "weir: {} {}: accept failed: {error}",
                    core.name,
                    core.local_addr
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
        let guard = core.guard();
        #[cfg(feature = "tls")]
        if let (Some(config), Transport::Tcp(stream)) = (&tls, &transport) {
            // The handshake runs on its own, so that a slow one never holds up accepting. It
            // counts as open for a graceful close, and is abandoned at the shutdown timeout.
            let stream = stream.clone();
            drop(transport);
            core.registry().handshakes += 1;
            let (core, on_connection, config) =
                (core.clone(), on_connection.clone(), config.clone());
            runtime::spawn_detached_on(executor.as_ref(), async move {
                let handshake = crate::tls::accept(&config, stream);
                let cancel = handshake.realizer();
                let aborted = core.aborted.clone();
                let outcome = future::or(async { Some(handshake.await) }, async {
                    let _ = aborted.await;
                    None
                })
                .await;
                core.registry().handshakes -= 1;
                match outcome {
                    Some(Ok(stream)) if !core.aborted.is_realized() => {
                        let info =
                            ConnectionInfo::tls(local_addr, remote_addr, stream.session_info());
                        hand_over(
                            &core,
                            &*on_connection,
                            Transport::Tls(Box::new(stream)),
                            info,
                            guard,
                        );
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => log::debug!(
                        "weir: {} {}: TLS handshake with {remote_addr} failed: {error}",
                        core.name,
                        core.local_addr
                    ),
                    None => {
                        cancel.error(Error::closed("server shut down during the TLS handshake"));
                    }
                }
            });
            continue;
        }
        let info = ConnectionInfo::tcp(local_addr, remote_addr);
        hand_over(&core, &*on_connection, transport, info, guard);
    }
    drop(listener);
    #[cfg(unix)]
    if let Some(path) = &core.unix_path {
        let _ = std::fs::remove_file(path);
    }
    let _ = &executor;
    core.accept_stopped.success(());
}

fn hand_over<H>(
    core: &AcceptCore,
    on_connection: &H,
    transport: Transport,
    info: ConnectionInfo,
    guard: ConnectionGuard,
) where
    H: Fn(Transport, ConnectionInfo, ConnectionGuard) + Send + Sync + 'static,
{
    let remote = info.remote_addr;
    let handed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        on_connection(transport, info, guard)
    }));
    if handed.is_err() {
        log::error!(
            "weir: {} {}: the connection handler panicked on the connection from {remote}",
            core.name,
            core.local_addr
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

/// Waits for the accept loop to stop and the connections to drain, up to the shutdown
/// timeout; then aborts what is left and waits for it to go.
async fn shut_down(core: Arc<AcceptCore>) {
    let _ = core.accept_stopped.clone().await;
    let _ = runtime::timeout(core.shutdown_timeout, core.idle()).await;
    core.aborted.success(());
    let hooks: Vec<AbortHook> = core
        .registry()
        .abort_hooks
        .drain()
        .map(|(_, hook)| hook)
        .collect();
    for hook in hooks {
        hook();
    }
    // Aborted connections drop their guards as their tasks see the signal; bounded so that a
    // protocol task stuck elsewhere cannot keep `closed` from ever being realized.
    let _ = runtime::timeout(Duration::from_secs(5), core.idle()).await;
    core.closed.success(());
}

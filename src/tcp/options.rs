//! `ServerOptions` and `ClientOptions`: how [`start_server`](super::start_server) listens and
//! how [`client`](super::client) connects.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

/// The default number of chunks read from a socket but not yet taken.
pub(crate) const DEFAULT_INBOUND_BUFFER: usize = 16;
/// The default size of one read from a socket, in bytes.
pub(crate) const DEFAULT_READ_CHUNK_SIZE: usize = 64 * 1024;
/// The default number of bytes read from a socket but not yet taken.
pub(crate) const DEFAULT_INBOUND_BUFFER_BYTES: usize = 256 * 1024;

/// The inbound buffering of one connection: at most `inbound_buffer` chunks, holding at most
/// `inbound_buffer_bytes` bytes together, wait for a taker; one read takes at most
/// `read_chunk_size` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Buffers {
    pub(crate) inbound_buffer: usize,
    pub(crate) inbound_buffer_bytes: usize,
    pub(crate) read_chunk_size: usize,
}

impl Default for Buffers {
    fn default() -> Self {
        Buffers {
            inbound_buffer: DEFAULT_INBOUND_BUFFER,
            inbound_buffer_bytes: DEFAULT_INBOUND_BUFFER_BYTES,
            read_chunk_size: DEFAULT_READ_CHUNK_SIZE,
        }
    }
}

/// How a TCP server listens; a builder passed to [`start_server`](super::start_server).
///
/// | option | default | what it does |
/// |---|---|---|
/// | [`address`](ServerOptions::address), [`ip`](ServerOptions::ip), [`port`](ServerOptions::port) | `0.0.0.0:0` | the address to listen on: every IPv4 interface, as Aleph's `:port` does, and an ephemeral port that [`Server::local_addr`](super::Server::local_addr) reports |
/// | [`listener`](ServerOptions::listener) | none | an already-bound `std::net::TcpListener` to accept on instead (Aleph's `:listen-socket`); weir owns it from then on and closes it when the server closes |
/// | [`nodelay`](ServerOptions::nodelay) | on | `TCP_NODELAY` on each accepted connection: small writes go out at once |
/// | [`inbound_buffer`](ServerOptions::inbound_buffer) | 16 chunks | chunks read but not yet taken, per connection; when full, weir stops reading that socket |
/// | [`inbound_buffer_bytes`](ServerOptions::inbound_buffer_bytes) | 256 KiB | bytes read but not yet taken, per connection; when reached, weir stops reading that socket |
/// | [`read_chunk_size`](ServerOptions::read_chunk_size) | 64 KiB | the most one read takes from the socket: the largest inbound chunk (reads start at 8 KiB and grow while they come back full) |
/// | [`shutdown_timeout`](ServerOptions::shutdown_timeout) | 15 s | how long [`Server::close`](super::Server::close) waits for open connections before closing them (Aleph's `:shutdown-timeout`) |
/// | [`executor`](ServerOptions::executor) | the current one | where the accept loop and the connections' tasks run ([`runtime`](crate::runtime)) |
///
/// Memory per connection for inbound data stays below `inbound_buffer_bytes` plus one read
/// buffer (at most `read_chunk_size`), whatever the peer sends; a connection that has received
/// nothing, or only small reads, holds no read buffer while it waits.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::tcp::{self, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// let options = ServerOptions::new()
///     .address(([127, 0, 0, 1], 0))
///     .inbound_buffer(4)
///     .read_chunk_size(4096)
///     .shutdown_timeout(Duration::from_secs(1));
/// let server = tcp::start_server(|_connection| {}, options).await.unwrap();
/// assert_ne!(server.local_addr().port(), 0);
/// server.close().await.unwrap();
/// # });
/// ```
#[derive(Debug)]
pub struct ServerOptions {
    pub(crate) address: SocketAddr,
    pub(crate) listener: Option<std::net::TcpListener>,
    pub(crate) nodelay: bool,
    pub(crate) buffers: Buffers,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) executor: Option<crate::runtime::Executor>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::ServerConfig>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) idle_timeout: Option<Duration>,
}

impl ServerOptions {
    /// The default options; see the [table](ServerOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::ServerOptions;
    ///
    /// let options = ServerOptions::new();
    /// assert_eq!(format!("{options:?}"), format!("{:?}", ServerOptions::default()));
    /// ```
    pub fn new() -> Self {
        ServerOptions {
            address: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            listener: None,
            nodelay: true,
            buffers: Buffers::default(),
            shutdown_timeout: Duration::from_secs(15),
            executor: None,
            #[cfg(feature = "tls")]
            tls: None,
            max_connections: None,
            idle_timeout: None,
        }
    }

    /// At most this many connections open at once, TLS handshakes included (default:
    /// unlimited). Past it the server stops accepting (new clients wait in the kernel's
    /// backlog) until one closes.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::tcp::ServerOptions::new().max_connections(100);
    /// assert!(format!("{options:?}").contains("max_connections: Some(100)"));
    /// ```
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = Some(connections.max(1));
        self
    }

    /// Closes a connection once no bytes moved in either direction for `timeout` (Aleph's
    /// `:idle-timeout`; default: never). Its inbound side drains with a
    /// [timeout](crate::Error::is_timeout) error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::tcp::ServerOptions::new().idle_timeout(Duration::from_secs(30));
    /// assert!(format!("{options:?}").contains("30s"));
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Serves TLS with `config` (default: plain TCP). Each accepted connection's handshake runs
    /// in a task of its own, so a slow handshake never holds up accepting; the handler gets the
    /// connection once the handshake is done, with the negotiated protocol, cipher suite, ALPN
    /// protocol and client certificates in its [`ConnectionInfo`](super::ConnectionInfo). A
    /// failed handshake is logged and the socket closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::ServerOptions;
    ///
    /// let certificate = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let options = ServerOptions::new().tls(certificate.server_config());
    /// assert!(format!("{options:?}").contains("tls: Some"));
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::tls::ServerConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// The address and port to listen on (port 0: an ephemeral port). Anything convertible to
    /// a [`SocketAddr`], such as `([127, 0, 0, 1], 0)`.
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
    /// assert_eq!(server.local_addr().ip().to_string(), "127.0.0.1");
    /// # server.close();
    /// # });
    /// ```
    pub fn address(mut self, address: impl Into<SocketAddr>) -> Self {
        self.address = address.into();
        self
    }

    /// The IP address to listen on, keeping the port.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use weir::tcp::{self, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let server = tcp::start_server(|_| {}, ServerOptions::new().ip(Ipv4Addr::LOCALHOST.into()))
    ///     .await
    ///     .unwrap();
    /// assert!(server.local_addr().ip().is_loopback());
    /// # server.close();
    /// # });
    /// ```
    pub fn ip(mut self, ip: IpAddr) -> Self {
        self.address.set_ip(ip);
        self
    }

    /// The port to listen on, keeping the IP address (0: an ephemeral port).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let localhost = || ServerOptions::new().address(([127, 0, 0, 1], 0));
    /// let first = tcp::start_server(|_| {}, localhost()).await.unwrap();
    /// // The same port again is taken: starting fails with the I/O error.
    /// let taken = localhost().port(first.local_addr().port());
    /// assert!(tcp::start_server(|_| {}, taken).await.unwrap_err().is_io());
    /// # first.close();
    /// # });
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.address.set_port(port);
        self
    }

    /// Accepts on an already-bound listener instead of binding
    /// [`address`](ServerOptions::address) (Aleph's `:listen-socket`). weir takes it over: it
    /// is made non-blocking and closed when the server closes, as Aleph closes its listening
    /// channel. To keep using the socket afterwards, pass a
    /// [`try_clone`](std::net::TcpListener::try_clone).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let address = listener.local_addr().unwrap();
    /// let server = tcp::start_server(|_| {}, ServerOptions::new().listener(listener))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(server.local_addr(), address);
    /// # server.close();
    /// # });
    /// ```
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Sets `TCP_NODELAY` on accepted connections (default on), so that small writes are sent
    /// at once rather than coalesced (Nagle's algorithm).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::ServerOptions;
    ///
    /// let options = ServerOptions::new().nodelay(false);
    /// assert!(format!("{options:?}").contains("nodelay: false"));
    /// ```
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// How many chunks read from each connection wait for a taker (default 16; 0: each chunk
    /// waits for its taker). When they are all waiting, weir stops reading that socket and the
    /// peer's writes block once the kernel's buffers fill: backpressure reaches the peer.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let options = ServerOptions::new().address(([127, 0, 0, 1], 0)).inbound_buffer(2);
    /// let server = tcp::start_server(move |c| tx.send(c.inbound_capacity()).unwrap(), options)
    ///     .await
    ///     .unwrap();
    /// let _client = tcp::client(ClientOptions::new().remote_address(server.local_addr())).await;
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(), 2);
    /// # server.close();
    /// # });
    /// ```
    pub fn inbound_buffer(mut self, chunks: usize) -> Self {
        self.buffers.inbound_buffer = chunks;
        self
    }

    /// How many bytes read from each connection may wait for a taker together (default
    /// 256 KiB; at least 1): once the chunks waiting hold that many, weir stops reading that
    /// socket until some are taken, and a read never takes more than the room left. With
    /// [`inbound_buffer`](ServerOptions::inbound_buffer) (a count of chunks), whichever is
    /// reached first stops reading.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let options = ServerOptions::new().address(([127, 0, 0, 1], 0)).inbound_buffer_bytes(4096);
    /// let server = tcp::start_server(move |c| tx.send(c.inbound_buffer_bytes()).unwrap(), options)
    ///     .await
    ///     .unwrap();
    /// let _client = tcp::client(ClientOptions::new().remote_address(server.local_addr())).await;
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(), 4096);
    /// # server.close();
    /// # });
    /// ```
    pub fn inbound_buffer_bytes(mut self, bytes: usize) -> Self {
        self.buffers.inbound_buffer_bytes = bytes.max(1);
        self
    }

    /// The most one read takes from a connection, so the largest inbound chunk (default
    /// 64 KiB; at least 1).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let (tx, rx) = std::sync::mpsc::channel();
    /// let options = ServerOptions::new().address(([127, 0, 0, 1], 0)).read_chunk_size(0);
    /// let server = tcp::start_server(move |c| tx.send(c.read_chunk_size()).unwrap(), options)
    ///     .await
    ///     .unwrap();
    /// let _client = tcp::client(ClientOptions::new().remote_address(server.local_addr())).await;
    /// assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)).unwrap(), 1); // clamped to at least 1
    /// # server.close();
    /// # });
    /// ```
    pub fn read_chunk_size(mut self, bytes: usize) -> Self {
        self.buffers.read_chunk_size = bytes.max(1);
        self
    }

    /// How long [`Server::close`](super::Server::close) lets open connections finish before
    /// closing them (default 15 s, Aleph's).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::tcp::{self, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let options = ServerOptions::new()
    ///     .address(([127, 0, 0, 1], 0))
    ///     .shutdown_timeout(Duration::from_millis(100));
    /// let server = tcp::start_server(|_| {}, options).await.unwrap();
    /// assert_eq!(server.shutdown_timeout(), Duration::from_millis(100));
    /// # server.close();
    /// # });
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Runs the server's tasks on `executor` (default: the one in effect where the server
    /// starts, see [`runtime`](crate::runtime)): the accept loop, each connection's read and
    /// write tasks, and whatever weir spawns from them, the handler's work included. The
    /// shutdown of [`Server::close`](super::Server::close) runs where `close` is called.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::runtime::Executor;
    /// use weir::tcp::{self, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let tokio = tokio::runtime::Runtime::new().unwrap();
    /// let handle = tokio.handle().clone();
    /// let on_tokio = Executor::new(move |task| {
    ///     handle.spawn(task);
    /// });
    /// let options = ServerOptions::new().address(([127, 0, 0, 1], 0)).executor(on_tokio);
    /// let server = tcp::start_server(|_connection| {}, options).await.unwrap();
    /// server.close().await.unwrap();
    /// # });
    /// ```
    pub fn executor(mut self, executor: crate::runtime::Executor) -> Self {
        self.executor = Some(executor);
        self
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions::new()
    }
}

/// Where a client connects to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Remote {
    /// Nothing set yet: connecting fails.
    Unset,
    /// A host name (or IP address text) and a port, resolved when connecting.
    Host(String, u16),
    /// An address.
    Address(SocketAddr),
}

/// How a TCP client connects; a builder passed to [`client`](super::client).
///
/// | option | default | what it does |
/// |---|---|---|
/// | [`host`](ClientOptions::host) and [`port`](ClientOptions::port), or [`remote_address`](ClientOptions::remote_address) | none: required | where to connect; a host name is resolved and each of its addresses tried in turn |
/// | [`local_address`](ClientOptions::local_address) | none | the local address (and port, 0: any) to bind before connecting |
/// | [`connect_timeout`](ClientOptions::connect_timeout) | 30 s | resolving and connecting together, Aleph's `:connect-timeout` |
/// | [`nodelay`](ClientOptions::nodelay) | on | `TCP_NODELAY`: small writes go out at once |
/// | [`inbound_buffer`](ClientOptions::inbound_buffer) | 16 chunks | chunks read but not yet taken; when full, weir stops reading |
/// | [`inbound_buffer_bytes`](ClientOptions::inbound_buffer_bytes) | 256 KiB | bytes read but not yet taken; when reached, weir stops reading |
/// | [`read_chunk_size`](ClientOptions::read_chunk_size) | 64 KiB | the most one read takes from the socket |
/// | [`executor`](ClientOptions::executor) | the current one | where the connect and the connection's tasks run ([`runtime`](crate::runtime)) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::tcp::{self, ClientOptions, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
/// let options = ClientOptions::new()
///     .host("127.0.0.1")
///     .port(server.local_addr().port())
///     .connect_timeout(Duration::from_secs(5));
/// let connection = tcp::client(options).await.unwrap();
/// assert_eq!(connection.info().remote_addr(), server.local_addr());
/// # server.close();
/// # });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientOptions {
    pub(crate) remote: Remote,
    pub(crate) local_address: Option<SocketAddr>,
    pub(crate) connect_timeout: Duration,
    pub(crate) nodelay: bool,
    pub(crate) buffers: Buffers,
    pub(crate) executor: Option<crate::runtime::Executor>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<ClientTls>,
    #[cfg(feature = "tls")]
    pub(crate) tls_server_name: Option<String>,
}

/// A client's TLS settings; options compare equal when they share the same config.
#[cfg(feature = "tls")]
#[derive(Clone, Debug)]
pub(crate) struct ClientTls {
    pub(crate) config: crate::tls::ClientConfig,
}

#[cfg(feature = "tls")]
impl PartialEq for ClientTls {
    fn eq(&self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(self.config.rustls(), other.config.rustls())
    }
}

#[cfg(feature = "tls")]
impl Eq for ClientTls {}

impl ClientOptions {
    /// The default options, with no remote address yet; see the [table](ClientOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ClientOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// assert_eq!(ClientOptions::new(), ClientOptions::default());
    /// // Without a remote address there is nothing to connect to.
    /// assert!(tcp::client(ClientOptions::new()).await.unwrap_err().is_io());
    /// # });
    /// ```
    pub fn new() -> Self {
        ClientOptions {
            remote: Remote::Unset,
            local_address: None,
            connect_timeout: Duration::from_secs(30),
            nodelay: true,
            buffers: Buffers::default(),
            executor: None,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "tls")]
            tls_server_name: None,
        }
    }

    /// Connects with TLS using `config` (default: plain TCP). The name checked against the
    /// server's certificate and sent as SNI is the [`host`](ClientOptions::host), unless
    /// [`tls_server_name`](ClientOptions::tls_server_name) or the config's own server name says
    /// otherwise; with only a [`remote_address`](ClientOptions::remote_address) it is the IP
    /// address. Verification is on unless the config was built with
    /// `danger_accept_invalid_certs`. The connect timeout covers the handshake too.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::ClientOptions;
    ///
    /// let options = ClientOptions::new().host("localhost").port(443).tls(weir::tls::ClientConfig::default());
    /// assert_ne!(options, ClientOptions::new().host("localhost").port(443));
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::tls::ClientConfig) -> Self {
        self.tls = Some(ClientTls { config });
        self
    }

    /// The name to verify the server's certificate against and send as SNI, when it differs
    /// from the host connected to. Only used with [`tls`](ClientOptions::tls), in either order.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::ClientOptions;
    ///
    /// let options = ClientOptions::new()
    ///     .remote_address(([127, 0, 0, 1], 8443))
    ///     .tls(weir::tls::ClientConfig::default())
    ///     .tls_server_name("localhost");
    /// assert!(format!("{options:?}").contains("localhost"));
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls_server_name(mut self, name: impl Into<String>) -> Self {
        self.tls_server_name = Some(name.into());
        self
    }

    /// The host to connect to: a name, resolved when connecting, or an IP address as text.
    /// Keeps a port set before (or 0 until [`port`](ClientOptions::port) sets it).
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
    /// let options = ClientOptions::new().host("localhost").port(server.local_addr().port());
    /// // "localhost" may resolve to ::1 first, where nothing listens: the next address is tried.
    /// let connection = tcp::client(options).await.unwrap();
    /// assert_eq!(connection.info().remote_addr(), server.local_addr());
    /// # server.close();
    /// # });
    /// ```
    pub fn host(mut self, host: impl Into<String>) -> Self {
        let port = self.port_or_zero();
        self.remote = Remote::Host(host.into(), port);
        self
    }

    /// The port to connect to, keeping the host or address set before.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::ClientOptions;
    ///
    /// let options = ClientOptions::new().host("example.com").port(7);
    /// assert!(format!("{options:?}").contains("\"example.com\", 7"));
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.remote = match self.remote {
            Remote::Unset => Remote::Host(Ipv4Addr::LOCALHOST.to_string(), port),
            Remote::Host(host, _) => Remote::Host(host, port),
            Remote::Address(mut address) => {
                address.set_port(port);
                Remote::Address(address)
            }
        };
        self
    }

    /// The address to connect to, instead of a host and port (Aleph's `:remote-address`).
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
    /// let connection = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(connection.remote_addr(), server.local_addr());
    /// # server.close();
    /// # });
    /// ```
    pub fn remote_address(mut self, address: impl Into<SocketAddr>) -> Self {
        self.remote = Remote::Address(address.into());
        self
    }

    /// The local address to bind before connecting (Aleph's `:local-address`); port 0 lets the
    /// system pick the port. A local address that cannot be bound is an
    /// [I/O error](crate::Error::is_io) naming it.
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
    /// let options = ClientOptions::new()
    ///     .remote_address(server.local_addr())
    ///     .local_address(([127, 0, 0, 2], 0));
    /// let connection = tcp::client(options).await.unwrap();
    /// assert_eq!(connection.local_addr().ip().to_string(), "127.0.0.2");
    /// # drop(connection);
    /// # server.close();
    /// # });
    /// ```
    pub fn local_address(mut self, address: impl Into<SocketAddr>) -> Self {
        self.local_address = Some(address.into());
        self
    }

    /// How long resolving and connecting may take together (default 30 s, Aleph's). Past it
    /// the client fails with a [timeout error](crate::Error::is_timeout) naming the target. A
    /// zero timeout fails at once: the timer is checked before the connection is tried.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::tcp::{self, ClientOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let options = ClientOptions::new()
    ///     .remote_address(([127, 0, 0, 1], 9))
    ///     .connect_timeout(Duration::ZERO);
    /// assert!(tcp::client(options).await.unwrap_err().is_timeout());
    /// # });
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets `TCP_NODELAY` on the connection (default on).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::ClientOptions;
    ///
    /// assert_ne!(ClientOptions::new().nodelay(false), ClientOptions::new());
    /// ```
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// How many chunks read wait for a taker (default 16; 0: each waits for its taker); when
    /// they are all waiting weir stops reading. See [`ServerOptions::inbound_buffer`].
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
    /// let options = ClientOptions::new().remote_address(server.local_addr()).inbound_buffer(3);
    /// assert_eq!(tcp::client(options).await.unwrap().inbound_capacity(), 3);
    /// # server.close();
    /// # });
    /// ```
    pub fn inbound_buffer(mut self, chunks: usize) -> Self {
        self.buffers.inbound_buffer = chunks;
        self
    }

    /// How many bytes read may wait for a taker together (default 256 KiB; at least 1); once
    /// reached weir stops reading. See [`ServerOptions::inbound_buffer_bytes`].
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
    /// let options = ClientOptions::new().remote_address(server.local_addr()).inbound_buffer_bytes(0);
    /// assert_eq!(tcp::client(options).await.unwrap().inbound_buffer_bytes(), 1); // at least 1
    /// # server.close();
    /// # });
    /// ```
    pub fn inbound_buffer_bytes(mut self, bytes: usize) -> Self {
        self.buffers.inbound_buffer_bytes = bytes.max(1);
        self
    }

    /// The most one read takes from the socket (default 64 KiB; at least 1).
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
    /// let options = ClientOptions::new().remote_address(server.local_addr()).read_chunk_size(512);
    /// assert_eq!(tcp::client(options).await.unwrap().read_chunk_size(), 512);
    /// # server.close();
    /// # });
    /// ```
    pub fn read_chunk_size(mut self, bytes: usize) -> Self {
        self.buffers.read_chunk_size = bytes.max(1);
        self
    }

    /// Runs the client's tasks on `executor` (default: the one in effect where
    /// [`client`](super::client) is called, see [`runtime`](crate::runtime)): the connect, the
    /// connection's read and write tasks, and whatever weir spawns from them.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::runtime::Executor;
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// let smol = std::sync::Arc::new(smol::Executor::new());
    /// let spawner = smol.clone();
    /// let on_smol = Executor::new(move |task| spawner.spawn(task).detach());
    /// std::thread::spawn(move || smol::block_on(smol.run(std::future::pending::<()>())));
    /// let options = ClientOptions::new().remote_address(server.local_addr()).executor(on_smol);
    /// let connection = tcp::client(options).await.unwrap();
    /// assert_eq!(connection.info().remote_addr(), server.local_addr());
    /// # server.close();
    /// # });
    /// ```
    pub fn executor(mut self, executor: crate::runtime::Executor) -> Self {
        self.executor = Some(executor);
        self
    }

    fn port_or_zero(&self) -> u16 {
        match &self.remote {
            Remote::Unset => 0,
            Remote::Host(_, port) => *port,
            Remote::Address(address) => address.port(),
        }
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions::new()
    }
}

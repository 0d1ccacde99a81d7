//! `ServerOptions`: how an HTTP server listens, what it speaks, and its limits.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode};

use crate::Error;
use crate::runtime::Executor;

use super::body::Body;
use super::continue_handler::{Continue, IntoContinue};
use super::error::HttpError;

/// An HTTP version a server speaks, for [`ServerOptions::http_versions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpVersion {
    /// HTTP/1.1 (and 1.0).
    Http1,
    /// HTTP/2: over TLS by ALPN, or in cleartext with [`ServerOptions::use_h2c`].
    Http2,
}

impl HttpVersion {
    /// The ALPN protocol id (`http/1.1`, `h2`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir::http::HttpVersion::Http2.alpn_id(), b"h2");
    /// ```
    pub fn alpn_id(self) -> &'static [u8] {
        match self {
            HttpVersion::Http1 => b"http/1.1",
            HttpVersion::Http2 => b"h2",
        }
    }
}

/// HTTP/2 SETTINGS and flow control, for [`ServerOptions::http2`]. The defaults are hyper's:
/// 1 MiB stream and connection windows, 16 KiB frames, 16 KiB of header list, at most 200
/// concurrent streams, 400 KiB of send buffer per stream.
///
/// # Examples
///
/// ```
/// use weir::http::Http2Settings;
///
/// let settings = Http2Settings::new()
///     .max_concurrent_streams(100)
///     .initial_stream_window_size(256 * 1024)
///     .initial_connection_window_size(4 * 1024 * 1024);
/// assert_eq!(settings.get_max_concurrent_streams(), 100);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Http2Settings {
    pub(crate) max_concurrent_streams: u32,
    pub(crate) initial_stream_window_size: u32,
    pub(crate) initial_connection_window_size: u32,
    pub(crate) max_frame_size: u32,
    pub(crate) max_header_list_size: u32,
    pub(crate) max_send_buffer_size: usize,
    pub(crate) keep_alive_interval: Option<Duration>,
    pub(crate) keep_alive_timeout: Duration,
}

impl Http2Settings {
    /// hyper's defaults (see the [type](Http2Settings)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir::http::Http2Settings::new(), Default::default());
    /// ```
    pub fn new() -> Http2Settings {
        Http2Settings {
            max_concurrent_streams: 200,
            initial_stream_window_size: 1024 * 1024,
            initial_connection_window_size: 1024 * 1024,
            max_frame_size: 16 * 1024,
            max_header_list_size: 16 * 1024,
            max_send_buffer_size: 400 * 1024,
            keep_alive_interval: None,
            keep_alive_timeout: Duration::from_secs(20),
        }
    }

    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open at once (default 200).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::http::Http2Settings::new().max_concurrent_streams(8);
    /// assert_eq!(s.get_max_concurrent_streams(), 8);
    /// ```
    pub fn max_concurrent_streams(mut self, streams: u32) -> Self {
        self.max_concurrent_streams = streams;
        self
    }

    /// The maximum of concurrent streams set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir::http::Http2Settings::new().get_max_concurrent_streams(), 200);
    /// ```
    pub fn get_max_concurrent_streams(&self) -> u32 {
        self.max_concurrent_streams
    }

    /// SETTINGS_INITIAL_WINDOW_SIZE: how much of each request body a client may send before
    /// the handler takes it (default 1 MiB). The window is given back as the handler takes
    /// chunks, so a slow handler slows its client.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::http::Http2Settings::new().initial_stream_window_size(65_535);
    /// assert!(format!("{s:?}").contains("65535"));
    /// ```
    pub fn initial_stream_window_size(mut self, bytes: u32) -> Self {
        self.initial_stream_window_size = bytes;
        self
    }

    /// The connection-level window: request body bytes in flight over all streams of a
    /// connection (default 1 MiB).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::http::Http2Settings::new().initial_connection_window_size(8 << 20);
    /// assert!(format!("{s:?}").contains(&(8u32 << 20).to_string()));
    /// ```
    pub fn initial_connection_window_size(mut self, bytes: u32) -> Self {
        self.initial_connection_window_size = bytes;
        self
    }

    /// SETTINGS_MAX_FRAME_SIZE: the largest frame a client may send (default 16 KiB; 16 KiB to
    /// 16 MiB - 1).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::http::Http2Settings::new().max_frame_size(32 * 1024);
    /// assert!(format!("{s:?}").contains("32768"));
    /// ```
    pub fn max_frame_size(mut self, bytes: u32) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// SETTINGS_MAX_HEADER_LIST_SIZE: the largest header block accepted (default 16 KiB).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::http::Http2Settings::new().max_header_list_size(8192);
    /// assert!(format!("{s:?}").contains("8192"));
    /// ```
    pub fn max_header_list_size(mut self, bytes: u32) -> Self {
        self.max_header_list_size = bytes;
        self
    }

    /// Response bytes buffered per stream before a put into a streamed response body waits
    /// (default 400 KiB).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::http::Http2Settings::new().max_send_buffer_size(64 * 1024);
    /// assert!(format!("{s:?}").contains("65536"));
    /// ```
    pub fn max_send_buffer_size(mut self, bytes: usize) -> Self {
        self.max_send_buffer_size = bytes;
        self
    }

    /// Sends a PING after `interval` without frames from the client, and closes the connection
    /// if no answer comes within [`keep_alive_timeout`](Self::keep_alive_timeout) (default: no
    /// PINGs).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = weir::http::Http2Settings::new().keep_alive_interval(Duration::from_secs(30));
    /// assert!(format!("{s:?}").contains("30s"));
    /// ```
    pub fn keep_alive_interval(mut self, interval: Duration) -> Self {
        self.keep_alive_interval = Some(interval);
        self
    }

    /// How long a keep-alive PING may go unanswered (default 20 s).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = weir::http::Http2Settings::new().keep_alive_timeout(Duration::from_secs(5));
    /// assert!(format!("{s:?}").contains("5s"));
    /// ```
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive_timeout = timeout;
        self
    }
}

impl Default for Http2Settings {
    fn default() -> Self {
        Http2Settings::new()
    }
}

pub(crate) type ErrorHandler = dyn Fn(Error) -> Response<Body> + Send + Sync;
pub(crate) type RejectedHandler = dyn Fn(&Request<Body>) -> Response<Body> + Send + Sync;
pub(crate) type ContinueHandler = dyn Fn(&Request<Body>) -> Continue + Send + Sync;

pub(crate) enum Bind {
    Address(SocketAddr),
    Listener(std::net::TcpListener),
    #[cfg(unix)]
    Unix(PathBuf),
}

/// Options of [`start_server`](super::start_server): Aleph's `start-server` options.
///
/// | option | default | Aleph |
/// |---|---|---|
/// | [`address`](Self::address), [`port`](Self::port), [`ip`](Self::ip) | `0.0.0.0:0` | `:port`, `:socket-address` |
/// | [`listener`](Self::listener) | none | `:listen-socket` |
/// | [`unix_socket`](Self::unix_socket) | none | (aleph#465) |
/// | [`nodelay`](Self::nodelay) | on | (Netty's default) |
/// | [`tls`](Self::tls) | plain | `:ssl-context` |
/// | [`http_versions`](Self::http_versions) | HTTP/1.1 only | `:http-versions` |
/// | [`use_h2c`](Self::use_h2c) | off | `:use-h2c?` |
/// | [`http2`](Self::http2) | hyper's settings | `:http2-settings` |
/// | [`max_request_body_size`](Self::max_request_body_size) | unlimited | `:max-request-body-size` |
/// | [`max_header_size`](Self::max_header_size), [`max_headers`](Self::max_headers) | 16 KiB, 100 | `:max-header-size`, `:max-initial-line-length` |
/// | [`header_read_timeout`](Self::header_read_timeout) | 30 s | (none) |
/// | [`idle_timeout`](Self::idle_timeout) | 60 s | `:idle-timeout` |
/// | [`max_connections`](Self::max_connections) | unlimited | (none) |
/// | [`max_concurrent_handlers`](Self::max_concurrent_handlers), [`rejected_handler`](Self::rejected_handler) | unlimited, 503 | `:executor` bounds, `:rejected-handler` |
/// | [`error_handler`](Self::error_handler) | 500, or an [`HttpError`]'s status | `:error-handler` |
/// | [`continue_handler`](Self::continue_handler) | accept | `:continue-handler` |
/// | [`shutdown_timeout`](Self::shutdown_timeout) | 15 s | `:shutdown-timeout` |
/// | [`server_header`](Self::server_header) | `weir` | (`Server: Aleph/…`) |
/// | [`executor`](Self::executor) | the current one | `:executor` |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::http::{self, HttpVersion, Request, Response, Body, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// let options = ServerOptions::new()
///     .address(([127, 0, 0, 1], 0))
///     .http_versions([HttpVersion::Http1, HttpVersion::Http2])
///     .use_h2c(true)
///     .max_request_body_size(1 << 20)
///     .shutdown_timeout(Duration::from_secs(1));
/// let server = http::start_server(|_: Request<Body>| Response::new(Body::from("hi")), options)
///     .await
///     .unwrap();
/// assert_ne!(server.local_addr().port(), 0);
/// server.close().await.unwrap();
/// # });
/// ```
pub struct ServerOptions {
    pub(crate) bind: Bind,
    pub(crate) nodelay: bool,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::ServerConfig>,
    pub(crate) versions: Vec<HttpVersion>,
    pub(crate) h2c: bool,
    pub(crate) http2: Http2Settings,
    pub(crate) max_request_body_size: Option<u64>,
    pub(crate) max_header_size: usize,
    pub(crate) max_headers: usize,
    pub(crate) header_read_timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) max_concurrent_handlers: Option<usize>,
    pub(crate) rejected_handler: Arc<RejectedHandler>,
    pub(crate) error_handler: Arc<ErrorHandler>,
    pub(crate) continue_handler: Option<Arc<ContinueHandler>>,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) server_header: Option<HeaderValue>,
    pub(crate) half_close: bool,
    pub(crate) executor: Option<Executor>,
    #[cfg(feature = "compression")]
    pub(crate) compression: Option<super::Compression>,
}

impl ServerOptions {
    /// The defaults; see the [table](ServerOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new();
    /// assert!(format!("{options:?}").contains("Http1"));
    /// ```
    pub fn new() -> ServerOptions {
        ServerOptions {
            bind: Bind::Address(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0))),
            nodelay: true,
            #[cfg(feature = "tls")]
            tls: None,
            versions: vec![HttpVersion::Http1],
            h2c: false,
            http2: Http2Settings::new(),
            max_request_body_size: None,
            max_header_size: 16 * 1024,
            max_headers: 100,
            header_read_timeout: Some(Duration::from_secs(30)),
            idle_timeout: Some(Duration::from_secs(60)),
            max_connections: None,
            max_concurrent_handlers: None,
            rejected_handler: Arc::new(|_| {
                let mut response = Response::new(Body::from("503 Service Unavailable"));
                *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
                response
            }),
            error_handler: Arc::new(default_error_response),
            continue_handler: None,
            shutdown_timeout: Duration::from_secs(15),
            server_header: Some(HeaderValue::from_static("weir")),
            half_close: false,
            executor: None,
            #[cfg(feature = "compression")]
            compression: None,
        }
    }

    /// The address and port to listen on (port 0: the system picks one, see
    /// [`Server::local_addr`](super::Server::local_addr)).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().address(([127, 0, 0, 1], 8080));
    /// assert!(format!("{options:?}").contains("127.0.0.1:8080"));
    /// ```
    pub fn address(mut self, address: impl Into<SocketAddr>) -> Self {
        self.bind = Bind::Address(address.into());
        self
    }

    /// The port to listen on, on the address set so far (all interfaces by default).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().port(8080);
    /// assert!(format!("{options:?}").contains("0.0.0.0:8080"));
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        let ip = match &self.bind {
            Bind::Address(address) => address.ip(),
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        self.bind = Bind::Address(SocketAddr::new(ip, port));
        self
    }

    /// The interface to listen on, keeping the port set so far.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().port(80).ip([127, 0, 0, 1].into());
    /// assert!(format!("{options:?}").contains("127.0.0.1:80"));
    /// ```
    pub fn ip(mut self, ip: IpAddr) -> Self {
        let port = match &self.bind {
            Bind::Address(address) => address.port(),
            _ => 0,
        };
        self.bind = Bind::Address(SocketAddr::new(ip, port));
        self
    }

    /// Serves on a listener the caller bound (Aleph's `:listen-socket`); it is closed with the
    /// server.
    ///
    /// # Examples
    ///
    /// ```
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let options = weir::http::ServerOptions::new().listener(listener);
    /// assert!(format!("{options:?}").contains("listener"));
    /// ```
    pub fn listener(mut self, listener: std::net::TcpListener) -> Self {
        self.bind = Bind::Listener(listener);
        self
    }

    /// Serves on a Unix domain socket at `path` (aleph#465; `curl --unix-socket`). A socket
    /// file left there by an earlier run is replaced; the file is removed when the server
    /// closes. Connections report `0.0.0.0:0` as both addresses.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().unix_socket("/tmp/weir-example.sock");
    /// assert!(format!("{options:?}").contains("weir-example.sock"));
    /// ```
    #[cfg(unix)]
    pub fn unix_socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.bind = Bind::Unix(path.into());
        self
    }

    /// Sets `TCP_NODELAY` on accepted sockets (default on: a response goes out in one write
    /// either way, and Nagle would hold back the next).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().nodelay(false);
    /// assert!(format!("{options:?}").contains("nodelay: false"));
    /// ```
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// Serves HTTPS with `config`. Its ALPN list is replaced by the one
    /// [`http_versions`](Self::http_versions) gives, in that order, so HTTP/2 is negotiated
    /// only when it is enabled.
    ///
    /// # Examples
    ///
    /// ```
    /// let certificate = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let options = weir::http::ServerOptions::new().tls(certificate.server_config());
    /// assert!(format!("{options:?}").contains("tls: true"));
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::tls::ServerConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// The HTTP versions to speak, in order of preference for ALPN (default: HTTP/1.1 only, as
    /// Aleph). HTTP/2 needs [`tls`](Self::tls) or [`use_h2c`](Self::use_h2c) to be reachable.
    /// Without `use_h2c`, a cleartext HTTP/1.1 request with `Upgrade: h2c` is answered over
    /// HTTP/1.1, the upgrade ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{HttpVersion, ServerOptions};
    /// let options = ServerOptions::new().http_versions([HttpVersion::Http2, HttpVersion::Http1]);
    /// assert!(format!("{options:?}").contains("[Http2, Http1]"));
    /// ```
    pub fn http_versions(mut self, versions: impl IntoIterator<Item = HttpVersion>) -> Self {
        let mut list = Vec::new();
        for version in versions {
            if !list.contains(&version) {
                list.push(version);
            }
        }
        self.versions = list;
        self
    }

    /// Accepts cleartext HTTP/2 (Aleph's `:use-h2c?`): a connection that opens with the HTTP/2
    /// preface (prior knowledge) speaks HTTP/2, any other HTTP/1.1. On HTTP/1.1, a request
    /// without a body that asks for `Upgrade: h2c` (with one `HTTP2-Settings` header, RFC 7540
    /// section 3.2) gets `101 Switching Protocols`, its response comes as HTTP/2's stream 1, and
    /// the connection goes on as HTTP/2; an upgrade request with a body is answered over
    /// HTTP/1.1, the upgrade ignored (RFC 9110 allows it; curl then stays on HTTP/1.1). Turns
    /// HTTP/2 on if [`http_versions`](Self::http_versions) left it out.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().use_h2c(true);
    /// assert!(format!("{options:?}").contains("h2c: true"));
    /// ```
    pub fn use_h2c(mut self, h2c: bool) -> Self {
        self.h2c = h2c;
        if h2c && !self.versions.contains(&HttpVersion::Http2) {
            self.versions.push(HttpVersion::Http2);
        }
        self
    }

    /// HTTP/2 SETTINGS and flow-control windows (see [`Http2Settings`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{Http2Settings, ServerOptions};
    /// let options = ServerOptions::new().http2(Http2Settings::new().max_concurrent_streams(10));
    /// assert!(format!("{options:?}").contains("max_concurrent_streams: 10"));
    /// ```
    pub fn http2(mut self, settings: Http2Settings) -> Self {
        self.http2 = settings;
        self
    }

    /// The largest request body accepted (default: unlimited). A request whose
    /// `Content-Length` is larger is answered `413 Payload Too Large` before the handler runs;
    /// a body without a length is cut off with an error (an [`HttpError`] 413) once it crosses
    /// the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().max_request_body_size(1 << 20);
    /// assert!(format!("{options:?}").contains("1048576"));
    /// ```
    pub fn max_request_body_size(mut self, bytes: u64) -> Self {
        self.max_request_body_size = Some(bytes);
        self
    }

    /// The largest request head (request line and headers together, default 16 KiB): a
    /// longer request line is answered 414, longer headers 431, and the connection closed.
    /// Values under 8 KiB are raised to 8 KiB (hyper's floor).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().max_header_size(32 * 1024);
    /// assert!(format!("{options:?}").contains("32768"));
    /// ```
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = bytes.max(8192);
        self
    }

    /// The most headers a request may have (default 100); more is answered 431.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().max_headers(50);
    /// assert!(format!("{options:?}").contains("max_headers: 50"));
    /// ```
    pub fn max_headers(mut self, headers: usize) -> Self {
        self.max_headers = headers;
        self
    }

    /// How long a client may take to send a request's head once it started it, and how long
    /// an HTTP/1.1 connection may wait for the next request's first bytes (default 30 s;
    /// slowloris protection). `None` turns it off.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ServerOptions::new().header_read_timeout(Some(Duration::from_secs(5)));
    /// assert!(format!("{options:?}").contains("5s"));
    /// ```
    pub fn header_read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Closes a connection with nothing in flight (no request being handled or answered)
    /// for this long (default 60 s; `None`: never), both protocols: HTTP/1.1 closes the socket,
    /// HTTP/2 sends GOAWAY. A connection still open and idle one more timeout later (a
    /// half-sent head with no header read timeout, an HTTP/2 peer that never acknowledges the
    /// shutdown) is dropped. hyper has no such timeout; Aleph's `:idle-timeout` is this.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ServerOptions::new().idle_timeout(Some(Duration::from_secs(10)));
    /// assert!(format!("{options:?}").contains("10s"));
    /// ```
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// At most this many connections open at once (default: unlimited). Past it the server
    /// stops accepting (new clients wait in the kernel's backlog) until one closes.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().max_connections(1000);
    /// assert!(format!("{options:?}").contains("1000"));
    /// ```
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = Some(connections.max(1));
        self
    }

    /// At most this many handlers running at once over all connections (default: unlimited);
    /// a request past it is answered by the [`rejected_handler`](Self::rejected_handler)
    /// (503 by default), as Aleph does when its executor refuses a task.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().max_concurrent_handlers(64);
    /// assert!(format!("{options:?}").contains("64"));
    /// ```
    pub fn max_concurrent_handlers(mut self, handlers: usize) -> Self {
        self.max_concurrent_handlers = Some(handlers);
        self
    }

    /// Answers requests refused by [`max_concurrent_handlers`](Self::max_concurrent_handlers)
    /// (Aleph's `:rejected-handler`; default `503 Service Unavailable`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{Response, ServerOptions, StatusCode};
    /// let options = ServerOptions::new().rejected_handler(|_request| {
    ///     let mut busy = Response::new("busy".into());
    ///     *busy.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    ///     busy
    /// });
    /// # let _ = options;
    /// ```
    pub fn rejected_handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(&Request<Body>) -> Response<Body> + Send + Sync + 'static,
    {
        self.rejected_handler = Arc::new(handler);
        self
    }

    /// Turns a handler's error (a failed result, a panic, a failed deferred) into the response
    /// sent (Aleph's `:error-handler`). The default answers an [`HttpError`]'s status and
    /// message, and anything else `500 Internal Server Error` (logging the error).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{Response, ServerOptions, StatusCode};
    /// let options = ServerOptions::new().error_handler(|error| {
    ///     let mut response = Response::new(format!("sorry: {error}").into());
    ///     *response.status_mut() = StatusCode::BAD_GATEWAY;
    ///     response
    /// });
    /// # let _ = options;
    /// ```
    pub fn error_handler<F>(mut self, handler: F) -> Self
    where
        F: Fn(Error) -> Response<Body> + Send + Sync + 'static,
    {
        self.error_handler = Arc::new(handler);
        self
    }

    /// Decides on requests with `Expect: 100-continue` before their handler runs (Aleph's
    /// `:continue-handler`): `true` (or [`Continue::Accept`]) lets the request through, and
    /// `100 Continue` is sent once the handler starts reading the body; `false` answers
    /// `417 Expectation Failed`; a response answers with it; a deferred of any of these
    /// decides later. Without one, every such request is accepted. Over HTTP/1.1 and HTTP/2
    /// alike (HTTP/2's 100 is an informational HEADERS frame on the stream).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{Body, Request, ServerOptions};
    /// let options = ServerOptions::new().continue_handler(|request: &Request<Body>| {
    ///     request.headers().contains_key("authorization")
    /// });
    /// # let _ = options;
    /// ```
    pub fn continue_handler<F, R>(mut self, handler: F) -> Self
    where
        F: Fn(&Request<Body>) -> R + Send + Sync + 'static,
        R: IntoContinue,
    {
        self.continue_handler = Some(Arc::new(move |request| handler(request).into_continue()));
        self
    }

    /// How long [`Server::close`](super::Server::close) lets in-flight requests finish before
    /// closing what is left (default 15 s, as Aleph).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ServerOptions::new().shutdown_timeout(Duration::from_secs(2));
    /// assert!(format!("{options:?}").contains("2s"));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The `Server` header added to responses that have none (default `weir`; `None`: no
    /// header).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{HeaderValue, ServerOptions};
    /// let options = ServerOptions::new().server_header(Some(HeaderValue::from_static("mine/1.0")));
    /// assert!(format!("{options:?}").contains("mine/1.0"));
    /// ```
    pub fn server_header(mut self, value: Option<HeaderValue>) -> Self {
        self.server_header = value;
        self
    }

    /// Lets an HTTP/1.1 client half-close its side of the connection and still receive the
    /// response (default off: a read EOF ends the connection).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ServerOptions::new().half_close(true);
    /// assert!(format!("{options:?}").contains("half_close: true"));
    /// ```
    pub fn half_close(mut self, half_close: bool) -> Self {
        self.half_close = half_close;
        self
    }

    /// Runs the accept loop, the connections and the handlers on `executor` (default: the one
    /// in effect where the server starts; see [`runtime`](crate::runtime)).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::runtime::Executor;
    /// let options = weir::http::ServerOptions::new().executor(Executor::pool());
    /// assert!(format!("{options:?}").contains("executor: true"));
    /// ```
    pub fn executor(mut self, executor: Executor) -> Self {
        self.executor = Some(executor);
        self
    }

    /// Compresses responses the client accepts compressed (Aleph's `:compression?` and
    /// `:compression-options`; default off): see [`Compression`](super::Compression) for the
    /// negotiation and which responses are left alone. Needs the `compression` feature.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{Compression, ServerOptions};
    /// let options = ServerOptions::new().compression(Compression::new().min_size(512));
    /// assert!(format!("{options:?}").contains("min_size: 512"));
    /// ```
    #[cfg(feature = "compression")]
    pub fn compression(mut self, compression: super::Compression) -> Self {
        self.compression = Some(compression);
        self
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions::new()
    }
}

impl fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ServerOptions");
        match &self.bind {
            Bind::Address(address) => s.field("address", address),
            Bind::Listener(listener) => s.field("listener", &listener.local_addr().ok()),
            #[cfg(unix)]
            Bind::Unix(path) => s.field("unix_socket", path),
        };
        s.field("nodelay", &self.nodelay);
        #[cfg(feature = "tls")]
        s.field("tls", &self.tls.is_some());
        s.field("http_versions", &self.versions)
            .field("h2c", &self.h2c)
            .field("http2", &self.http2)
            .field("max_request_body_size", &self.max_request_body_size)
            .field("max_header_size", &self.max_header_size)
            .field("max_headers", &self.max_headers)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .field("max_concurrent_handlers", &self.max_concurrent_handlers)
            .field("continue_handler", &self.continue_handler.is_some())
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("server_header", &self.server_header)
            .field("half_close", &self.half_close)
            .field("executor", &self.executor.is_some());
        #[cfg(feature = "compression")]
        s.field("compression", &self.compression);
        s.finish_non_exhaustive()
    }
}

/// The default error response: an [`HttpError`]'s status and message, else 500.
pub(crate) fn default_error_response(error: Error) -> Response<Body> {
    let (status, body) = match error.downcast_ref::<HttpError>() {
        Some(http) => (http.status(), http.message().to_string()),
        None => {
            log::error!("weir: http handler failed: {error}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "500 Internal Server Error".to_string(),
            )
        }
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

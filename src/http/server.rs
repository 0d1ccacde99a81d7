//! `start_server` and `Server`: accepting connections, choosing the protocol, and the dispatch
//! both protocols share (limits, the handler, the error handler, common headers).

use std::fmt;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_lite::AsyncReadExt as _;
use futures_lite::FutureExt as _;
use http::{HeaderValue, Request, Response, StatusCode, header};

use crate::runtime::{self, Executor};
use crate::stream::Node;
use crate::tcp::ConnectionInfo;
use crate::tcp::accept::{self, AcceptCore, AcceptOptions, ConnectionGuard, Transport};
use crate::{Deferred, Error};

use super::body::Body;
use super::continue_handler::{self, Continue};
use super::error::HttpError;
use super::handler::{Erased, ErasedHandler, Handler};
use super::introspection::ServerVertex;
use super::options::{
    Bind, ContinueHandler, ErrorHandler, Http2Settings, HttpVersion, RejectedHandler, ServerOptions,
};
use crate::runtime::stages::{Chosen, Stages};

/// The HTTP/2 connection preface a prior-knowledge client opens with.
pub(crate) const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Starts an HTTP server: Aleph's `start-server`. Binds at once (the deferred is realized
/// before it is returned, with the [`Server`] or the error that kept it from listening), then
/// serves every connection with `handler`, over HTTP/1.1 and, when enabled, HTTP/2 (by ALPN
/// over TLS, or by prior knowledge with [`ServerOptions::use_h2c`]).
///
/// The handler is any closure from [`Request<Body>`] to something that becomes a response
/// (see [`IntoResponse`](super::IntoResponse)), or to a future of one; or a tower service
/// through [`service`](super::service). Each request's extensions hold its [`RequestInfo`]
/// (addresses, TLS, arrival, HTTP/2 stream id).
///
/// # Cancel safety
///
/// The deferred is realized before it is returned, so there is nothing to cancel; dropping it,
/// or the [`Server`], leaves the server running (as in Aleph): call [`Server::close`].
///
/// # Examples
///
/// ```
/// use weir::http::{self, Body, Request, Response, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// let hello = |request: Request<Body>| {
///     Response::new(format!("hello {}", request.uri().path()))
/// };
/// let options = ServerOptions::new().address(([127, 0, 0, 1], 0));
/// let server = http::start_server(hello, options).await.unwrap();
/// assert_ne!(server.local_addr().port(), 0);
/// server.close().await.unwrap();
/// # });
/// ```
pub fn start_server<H, M>(handler: H, options: ServerOptions) -> Deferred<Server, Error>
where
    H: Handler<M>,
    M: 'static,
{
    let handler = Erased {
        handler,
        marker: std::marker::PhantomData,
    };
    match Server::start(Box::new(handler), options) {
        Ok(server) => Deferred::succeeded(server),
        Err(error) => Deferred::failed(error),
    }
}

/// A running HTTP server, returned by [`start_server`]. Handles are cheap to clone and share
/// the server.
///
/// # Examples
///
/// ```
/// use weir::http::{self, Body, Request, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// let server = http::start_server(|_: Request<Body>| (), ServerOptions::new().port(0))
///     .await
///     .unwrap();
/// assert_eq!(server.connection_count(), 0);
/// let closed = server.wait_for_close();
/// server.close().await.unwrap();
/// closed.await.unwrap();
/// # });
/// ```
#[derive(Clone)]
pub struct Server {
    core: Arc<AcceptCore>,
    shared: Arc<Shared>,
}

impl Server {
    fn start(handler: Box<dyn ErasedHandler>, options: ServerOptions) -> Result<Server, Error> {
        let http1 = options.versions.contains(&HttpVersion::Http1);
        let http2 = options.versions.contains(&HttpVersion::Http2);
        if !http1 && !http2 {
            return Err(Error::msg("http server: no HTTP version enabled"));
        }
        #[cfg(not(feature = "http2"))]
        if http2 {
            return Err(Error::msg(
                "http server: HTTP/2 needs weir's `http2` feature",
            ));
        }
        #[cfg(feature = "tls")]
        let tls = options.tls.map(|config| {
            config.with_alpn_protocols(options.versions.iter().map(|v| v.alpn_id().to_vec()))
        });
        let shared = Arc::new(Shared {
            handler,
            http1,
            http2,
            h2c: options.h2c,
            http2_settings: options.http2,
            max_request_body_size: options.max_request_body_size,
            max_header_size: options.max_header_size,
            header_read_timeout: options.header_read_timeout,
            idle_timeout: options.idle_timeout,
            max_concurrent_handlers: options.max_concurrent_handlers,
            running_handlers: AtomicUsize::new(0),
            rejected_handler: options.rejected_handler,
            error_handler: options.error_handler,
            continue_handler: options.continue_handler,
            server_header: options.server_header,
            http1_builder: super::h1::builder(
                options.header_read_timeout,
                options.half_close,
                options.max_header_size,
                options.max_headers,
            ),
            executor: options.executor.clone(),
            requests: AtomicUsize::new(0),
            vertex: ServerVertex::new(match &options.bind {
                Bind::Address(address) => address.to_string(),
                Bind::Listener(listener) => listener
                    .local_addr()
                    .map_or_else(|_| "listener".to_string(), |a| a.to_string()),
                #[cfg(unix)]
                Bind::Unix(path) => path.display().to_string(),
            }),
            #[cfg(feature = "compression")]
            compression: options.compression,
        });
        let bind = match options.bind {
            Bind::Address(address) => accept::Bind::Address(address),
            Bind::Listener(listener) => accept::Bind::Listener(listener),
            #[cfg(unix)]
            Bind::Unix(path) => accept::Bind::Unix(path),
        };
        let on_connection = {
            let shared = shared.clone();
            move |transport: Transport, info: ConnectionInfo, guard: ConnectionGuard| {
                let shared = shared.clone();
                runtime::spawn_detached_on(
                    shared.executor.as_ref(),
                    serve_connection(shared.clone(), transport, info, guard),
                );
            }
        };
        let core = AcceptCore::start(
            AcceptOptions {
                bind,
                nodelay: options.nodelay,
                #[cfg(feature = "tls")]
                tls,
                max_connections: options.max_connections,
                shutdown_timeout: options.shutdown_timeout,
                executor: options.executor,
                name: "http server",
            },
            on_connection,
        )?;
        Ok(Server { core, shared })
    }

    /// The address the server listens on, with the port the system chose for port 0
    /// (`0.0.0.0:0` for a Unix domain socket).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{self, Body, Request, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// let server = http::start_server(|_: Request<Body>| (), ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(server.local_addr().ip(), std::net::Ipv4Addr::LOCALHOST);
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.core.local_addr()
    }

    /// The port listened on (Aleph's `aleph.netty/port`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{self, Body, Request, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// let server = http::start_server(|_: Request<Body>| (), ServerOptions::new().port(0))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(server.port(), server.local_addr().port());
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    pub fn port(&self) -> u16 {
        self.core.local_addr().port()
    }

    /// The Unix domain socket listened on, if the server was started on one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{self, Body, Request, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// let server = http::start_server(|_: Request<Body>| (), ServerOptions::new().port(0))
    ///     .await
    ///     .unwrap();
    /// assert!(server.unix_socket().is_none());
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    #[cfg(unix)]
    pub fn unix_socket(&self) -> Option<&std::path::Path> {
        self.core.unix_path()
    }

    /// Connections open now (TLS handshakes under way included).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{self, Body, Request, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// let server = http::start_server(|_: Request<Body>| (), ServerOptions::new().port(0))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(server.connection_count(), 0);
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    pub fn connection_count(&self) -> usize {
        self.core.connection_count()
    }

    /// Requests received since the server started, over all connections and protocols.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{self, Body, Request, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// let server = http::start_server(|_: Request<Body>| (), ServerOptions::new().port(0))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(server.request_count(), 0);
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    pub fn request_count(&self) -> usize {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// The server's node in the stream graph (kind `http-server`), with an edge to each open
    /// connection (kind `http-connection`: addresses, protocol, requests in flight, bytes in
    /// and out).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{self, Body, Request, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// let server = http::start_server(|_: Request<Body>| (), ServerOptions::new().port(0))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(server.node().description().kind, "http-server");
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    pub fn node(&self) -> Node {
        Node::new(self.shared.vertex.clone())
    }

    /// Closes the server gracefully (idempotent): stops accepting at once, lets requests in
    /// flight finish (HTTP/1.1 answers them with `Connection: close`, HTTP/2 sends GOAWAY) for
    /// up to the [shutdown timeout](ServerOptions::shutdown_timeout), then closes what is
    /// left. The deferred is realized once everything is closed.
    ///
    /// # Cancel safety
    ///
    /// The shutdown runs on its own once started: dropping the deferred does not stop it.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{self, Body, Request, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// let server = http::start_server(|_: Request<Body>| (), ServerOptions::new().port(0))
    ///     .await
    ///     .unwrap();
    /// server.close().await.unwrap();
    /// server.close().await.unwrap(); // again: nothing more to do
    /// # });
    /// ```
    pub fn close(&self) -> Deferred<(), Error> {
        self.shared.vertex.mark_closed();
        self.core.close()
    }

    /// A deferred realized once the server is closed, by [`Server::close`] from any handle.
    ///
    /// # Cancel safety
    ///
    /// Dropping the deferred changes nothing.
    ///
    /// # Examples
    ///
    /// See [`Server`].
    pub fn wait_for_close(&self) -> Deferred<(), Error> {
        self.core.wait_for_close()
    }

    /// The shutdown timeout [`Server::close`] uses.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::http::{self, Body, Request, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// let options = ServerOptions::new().port(0).shutdown_timeout(Duration::from_secs(1));
    /// let server = http::start_server(|_: Request<Body>| (), options).await.unwrap();
    /// assert_eq!(server.shutdown_timeout(), Duration::from_secs(1));
    /// # server.close().await.unwrap();
    /// # });
    /// ```
    pub fn shutdown_timeout(&self) -> Duration {
        self.core.shutdown_timeout()
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr())
            .field("connections", &self.connection_count())
            .field("requests", &self.request_count())
            .field("closing", &self.core.is_closing())
            .finish_non_exhaustive()
    }
}

/// What every request of a server reads: the handler and the options.
pub(crate) struct Shared {
    handler: Box<dyn ErasedHandler>,
    pub(crate) http1: bool,
    pub(crate) http2: bool,
    pub(crate) h2c: bool,
    #[cfg_attr(not(feature = "http2"), allow(dead_code))]
    pub(crate) http2_settings: Http2Settings,
    pub(crate) max_request_body_size: Option<u64>,
    pub(crate) max_header_size: usize,
    pub(crate) header_read_timeout: Option<Duration>,
    pub(crate) idle_timeout: Option<Duration>,
    max_concurrent_handlers: Option<usize>,
    running_handlers: AtomicUsize,
    rejected_handler: Arc<RejectedHandler>,
    error_handler: Arc<ErrorHandler>,
    continue_handler: Option<Arc<ContinueHandler>>,
    server_header: Option<HeaderValue>,
    /// hyper's HTTP/1.1 settings, made once: each connection clones them (and its timer is
    /// shared, where setting one allocates).
    pub(crate) http1_builder: hyper::server::conn::http1::Builder,
    pub(crate) executor: Option<Executor>,
    requests: AtomicUsize,
    vertex: Arc<ServerVertex>,
    #[cfg(feature = "compression")]
    compression: Option<super::Compression>,
}

/// What weir knows about a request beyond its head, in its extensions:
/// `request.extensions().get::<RequestInfo>()`.
///
/// # Examples
///
/// ```
/// use weir::http::{Body, Request, RequestInfo, Response};
///
/// let handler = |request: Request<Body>| {
///     let info = request.extensions().get::<RequestInfo>().unwrap();
///     Response::new(format!("you are {}", info.remote_addr()))
/// };
/// # let _ = handler;
/// ```
#[derive(Clone, Debug)]
pub struct RequestInfo {
    connection: Arc<ConnectionInfo>,
    arrived: Instant,
    stream_id: Option<u32>,
    /// Realized when the server starts closing (HTTP/1.1 connections: a WebSocket upgraded
    /// from one says goodbye then). Kept here rather than as an extension of its own: one
    /// extension per request costs one allocation fewer.
    draining: Option<crate::Deferred<(), crate::Error>>,
}

impl RequestInfo {
    /// Realized when the server that received the request starts closing, for what outlives
    /// the request on its connection (an upgraded WebSocket says goodbye with 1001). HTTP/1.1
    /// requests only.
    #[allow(dead_code, reason = "read by the WebSocket adapter")]
    pub(crate) fn draining(&self) -> Option<&crate::Deferred<(), crate::Error>> {
        self.draining.as_ref()
    }

    /// The client's address (Aleph's `:remote-addr`).
    ///
    /// # Examples
    ///
    /// See [`RequestInfo`].
    pub fn remote_addr(&self) -> SocketAddr {
        self.connection.remote_addr()
    }

    /// The server's address the request came in on (Aleph's `:server-name`, `:server-port`).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn check(info: &weir::http::RequestInfo) {
    /// assert_ne!(info.local_addr().port(), 0);
    /// # }
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.connection.local_addr()
    }

    /// The connection: addresses and, over TLS, the protocol, cipher suite, ALPN protocol and
    /// the client's certificates.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn check(info: &weir::http::RequestInfo) {
    /// if info.connection().is_tls() {
    ///     println!("over {:?}", info.connection().tls_protocol_version());
    /// }
    /// # }
    /// ```
    pub fn connection(&self) -> &ConnectionInfo {
        &self.connection
    }

    /// When the request's head was received (Aleph's `:aleph/request-arrived`).
    ///
    /// # Examples
    ///
    /// ```
    /// # fn check(info: &weir::http::RequestInfo) {
    /// assert!(info.arrived() <= std::time::Instant::now());
    /// # }
    /// ```
    pub fn arrived(&self) -> Instant {
        self.arrived
    }

    /// The HTTP/2 stream id, `None` over HTTP/1.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn check(info: &weir::http::RequestInfo) {
    /// if let Some(id) = info.stream_id() {
    ///     assert_eq!(id % 2, 1); // client-initiated streams are odd
    /// }
    /// # }
    /// ```
    pub fn stream_id(&self) -> Option<u32> {
        self.stream_id
    }
}

/// Which protocol a connection speaks.
enum Protocol {
    Http1,
    #[cfg(feature = "http2")]
    Http2,
}

/// Serves one accepted connection until it ends.
///
/// Not an `async fn`: the connection's description goes into its `Arc` before the future
/// exists, and the future runs in [`Stages`], so that what choosing the protocol needed is gone
/// while the connection is served (see `h1::serve` for the figures).
fn serve_connection(
    shared: Arc<Shared>,
    transport: Transport,
    info: ConnectionInfo,
    guard: ConnectionGuard,
) -> impl Future<Output = ()> + Send + 'static {
    Stages::new(choose_protocol(shared, transport, Arc::new(info), guard))
}

/// Chooses the connection's protocol, reading its first bytes for h2c prior knowledge, and
/// returns what serves it.
async fn choose_protocol(
    shared: Arc<Shared>,
    mut transport: Transport,
    info: Arc<ConnectionInfo>,
    guard: ConnectionGuard,
) -> Chosen<impl Future<Output = ()> + Send + 'static> {
    let mut prefix = bytes::Bytes::new();
    let protocol = match info.alpn_protocol() {
        Some(b"h2") if shared.http2 => {
            #[cfg(feature = "http2")]
            {
                Protocol::Http2
            }
            #[cfg(not(feature = "http2"))]
            Protocol::Http1
        }
        Some(_) => Protocol::Http1,
        None if info.is_tls() || !shared.http2 => {
            if shared.http1 {
                Protocol::Http1
            } else {
                h2_or_h1()
            }
        }
        None => {
            if !shared.http1 {
                h2_or_h1()
            } else if shared.h2c {
                // Prior knowledge: the connection opens with the HTTP/2 preface, or it is
                // HTTP/1.1 (the bytes read are replayed to hyper).
                let peeked = peek_preface(&mut transport, shared.header_read_timeout).await;
                match peeked {
                    Ok((bytes, true)) => {
                        prefix = bytes;
                        h2_or_h1()
                    }
                    Ok((bytes, false)) => {
                        prefix = bytes;
                        Protocol::Http1
                    }
                    Err(error) => {
                        log::debug!("weir: http server: reading the first bytes failed: {error}");
                        return Chosen::Nothing;
                    }
                }
            } else {
                Protocol::Http1
            }
        }
    };
    let vectored = transport.is_write_vectored();
    // Request and response: after an answer, the client sends nothing before it has read it.
    transport.set_waits_within_run(true);
    let registration = shared.vertex.register(&info);
    let io = registration.count(super::io::Prefixed::new(prefix, transport));
    match protocol {
        Protocol::Http1 => {
            registration.set_protocol("http/1.1");
            Chosen::Serve(super::h1::serve(
                io,
                vectored,
                shared,
                info,
                guard,
                registration,
            ))
        }
        #[cfg(feature = "http2")]
        Protocol::Http2 => {
            registration.set_protocol("h2");
            // Boxed: an HTTP/1.1 connection's task is then not as large as an HTTP/2 one's.
            Chosen::Boxed(Box::pin(super::h2::serve(
                io,
                shared,
                info,
                guard,
                registration,
            )))
        }
    }
}

fn h2_or_h1() -> Protocol {
    #[cfg(feature = "http2")]
    {
        Protocol::Http2
    }
    #[cfg(not(feature = "http2"))]
    Protocol::Http1
}

/// Reads until the bytes read are the HTTP/2 preface or cannot become it.
async fn peek_preface(
    transport: &mut Transport,
    timeout: Option<Duration>,
) -> Result<(bytes::Bytes, bool), Error> {
    let read = async {
        let mut buf = [0u8; H2_PREFACE.len()];
        let mut filled = 0;
        while filled < buf.len() {
            let n = transport.read(&mut buf[filled..]).await?;
            if n == 0 {
                break;
            }
            filled += n;
            if buf[..filled] != H2_PREFACE[..filled] {
                break;
            }
        }
        let is_h2 = filled == H2_PREFACE.len() && buf == H2_PREFACE;
        Ok::<_, Error>((bytes::Bytes::copy_from_slice(&buf[..filled]), is_h2))
    };
    match timeout {
        Some(timeout) => runtime::timeout(timeout, read).await?,
        None => read.await,
    }
}

/// A slot among the handlers allowed to run at once; freed on drop.
struct HandlerSlot(Option<Arc<Shared>>);

impl Drop for HandlerSlot {
    fn drop(&mut self) {
        if let Some(shared) = &self.0 {
            shared.running_handlers.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A response, at once or to come.
#[allow(
    clippy::large_enum_variant,
    reason = "the response is moved, not boxed: one per request"
)]
pub(crate) enum Answer {
    /// Nothing had to wait: the handler answered when called (no allocation, no future).
    Now(Response<Body>),
    /// A continue decision or the handler's future still has to finish.
    Later(Pin<Box<dyn Future<Output = Response<Body>> + Send>>),
}

impl Shared {
    pub(crate) fn request_info(
        &self,
        connection: &Arc<ConnectionInfo>,
        stream_id: Option<u32>,
        draining: Option<crate::Deferred<(), crate::Error>>,
    ) -> RequestInfo {
        self.requests.fetch_add(1, Ordering::Relaxed);
        RequestInfo {
            connection: connection.clone(),
            arrived: Instant::now(),
            stream_id,
            draining,
        }
    }

    fn handler_slot(self: &Arc<Self>) -> Option<HandlerSlot> {
        let Some(max) = self.max_concurrent_handlers else {
            return Some(HandlerSlot(None));
        };
        let mut running = self.running_handlers.load(Ordering::Acquire);
        loop {
            if running >= max {
                return None;
            }
            match self.running_handlers.compare_exchange_weak(
                running,
                running + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(HandlerSlot(Some(self.clone()))),
                Err(now) => running = now,
            }
        }
    }

    /// The error handler's answer; a panic in it answers a plain 500.
    pub(crate) fn error_response(&self, error: Error) -> Response<Body> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| (self.error_handler)(error))) {
            Ok(response) => response,
            Err(_) => {
                log::error!("weir: http server: the error handler panicked");
                let mut response = Response::new(Body::from("500 Internal Server Error"));
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        }
    }

    /// The answer to a request refused before its handler (a malformed head): the error
    /// handler's response to `error`, with the common headers and `Connection: close`.
    pub(crate) fn refuse(&self, error: HttpError) -> Response<Body> {
        let mut response = self.error_response(error.into());
        self.finish(&mut response, false);
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }

    /// Everything between a parsed request and the response to send: the body limit, the
    /// continue handler, the handler limit, the handler, the error handler, common headers.
    /// Without a future when nothing has to wait: a handler that answers when called is
    /// answered in the connection's own poll.
    pub(crate) fn answer(self: &Arc<Self>, request: Request<Body>) -> Answer {
        #[cfg(feature = "compression")]
        let negotiated = self
            .compression
            .as_ref()
            .map(|compression| super::compression::negotiate(compression, &request));
        let date = request.version() == http::Version::HTTP_2;
        let finish = move |shared: &Shared, mut response: Response<Body>| {
            shared.finish(&mut response, date);
            #[cfg(feature = "compression")]
            if let (Some(compression), Some(negotiated)) = (&shared.compression, negotiated) {
                super::compression::apply(compression, negotiated, &mut response);
            }
            response
        };
        if let Some(response) = self.refuse_early(&request) {
            return Answer::Now(finish(self, response));
        }
        if self.continue_handler.is_some() && expects_continue(&request) {
            let shared = self.clone();
            let decision = self.continue_decision(&request);
            return Answer::Later(Box::pin(async move {
                let response = match shared.settle_continue(decision).await {
                    Some(response) => response,
                    None => match shared.call_handler(request) {
                        Answer::Now(response) => response,
                        Answer::Later(response) => response.await,
                    },
                };
                finish(&shared, response)
            }));
        }
        match self.call_handler(request) {
            Answer::Now(response) => Answer::Now(finish(self, response)),
            Answer::Later(response) => {
                let shared = self.clone();
                Answer::Later(Box::pin(async move { finish(&shared, response.await) }))
            }
        }
    }

    /// The body limit, when `Content-Length` already says it is crossed.
    fn refuse_early(&self, request: &Request<Body>) -> Option<Response<Body>> {
        let limit = self.max_request_body_size?;
        if content_length(request).is_some_and(|length| length > limit) {
            return Some(self.error_response(HttpError::payload_too_large(limit).into()));
        }
        None
    }

    /// The continue handler's first word on a request that expects `100 Continue`.
    fn continue_decision(&self, request: &Request<Body>) -> Result<Continue, Error> {
        match &self.continue_handler {
            Some(continue_handler) => {
                std::panic::catch_unwind(AssertUnwindSafe(|| continue_handler(request)))
                    .map_err(Error::panicked)
            }
            None => Ok(Continue::Accept),
        }
    }

    /// The continue handler's decision, waited out: `None` to go on to the handler, or the
    /// response that answers the request instead.
    async fn settle_continue(&self, decision: Result<Continue, Error>) -> Option<Response<Body>> {
        let decision = match decision {
            Ok(decision) => continue_handler::decide(decision).await,
            Err(error) => Err(error),
        };
        match decision {
            Ok(Continue::Accept) => None,
            Ok(Continue::Reject) => Some(StatusCode::EXPECTATION_FAILED.into_response_body()),
            Ok(Continue::Respond(response)) => Some(response),
            Ok(Continue::Later(_)) => unreachable!("decide waits out Later"),
            Err(error) => Some(self.error_response(error)),
        }
    }

    /// The handler's answer within the handler limit, errors and panics turned into the error
    /// handler's response.
    fn call_handler(self: &Arc<Self>, request: Request<Body>) -> Answer {
        let Some(slot) = self.handler_slot() else {
            return Answer::Now(
                match std::panic::catch_unwind(AssertUnwindSafe(|| {
                    (self.rejected_handler)(&request)
                })) {
                    Ok(response) => response,
                    Err(payload) => self.error_response(Error::panicked(payload)),
                },
            );
        };
        let outcome =
            |shared: &Shared, outcome: Result<Result<Response<Body>, Error>, _>| match outcome {
                Ok(Ok(response)) => response,
                Ok(Err(error)) => shared.error_response(error),
                Err(payload) => shared.error_response(Error::panicked(payload)),
            };
        // The handler itself ran inside `respond`, under its own `catch_unwind`.
        match self.handler.respond(request).into_ready() {
            Ok(response) => Answer::Now(outcome(self, Ok(response))),
            Err(responding) => {
                let shared = self.clone();
                Answer::Later(Box::pin(async move {
                    let answered = AssertUnwindSafe(responding).catch_unwind().await;
                    drop(slot);
                    outcome(&shared, answered)
                }))
            }
        }
    }

    /// The common headers: `Server`, and `Date` when the protocol's writer does not add it
    /// (hyper writes HTTP/1's from its own per-second cache, without a header map insert).
    fn finish(&self, response: &mut Response<Body>, date: bool) {
        let headers = response.headers_mut();
        if date && !headers.contains_key(header::DATE) {
            headers.insert(header::DATE, super::date::now());
        }
        if let Some(server) = &self.server_header {
            if !headers.contains_key(header::SERVER) {
                headers.insert(header::SERVER, server.clone());
            }
        }
    }
}

trait StatusResponse {
    fn into_response_body(self) -> Response<Body>;
}

impl StatusResponse for StatusCode {
    fn into_response_body(self) -> Response<Body> {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self;
        response
    }
}

/// The request's `Content-Length`, if it has a valid one.
fn content_length<B>(request: &Request<B>) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn expects_continue<B>(request: &Request<B>) -> bool {
    matches!(
        request.version(),
        http::Version::HTTP_11 | http::Version::HTTP_2
    ) && request
        .headers()
        .get(header::EXPECT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.eq_ignore_ascii_case("100-continue"))
}

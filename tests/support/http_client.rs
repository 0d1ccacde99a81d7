//! HTTP client helpers shared by the `http_client_*` test files: servers for weir's client to
//! talk to (weir's own server, an independent hyper server on tokio, raw sockets written by
//! the test) over HTTP/1.1, HTTP/2 with TLS + ALPN and h2c, and the matching client options.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::SinkExt as _;
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use hyper::body::Frame;
use weir::http::{
    self, Body, Client, ClientOptions, Handler, HttpVersion, Method, Request, Response, Server,
    ServerOptions, StatusCode,
};
use weir::stream::Channel;
use weir::tls::{self, SelfSigned};

use super::BOUND;

/// Server options bound to an ephemeral loopback port.
pub fn localhost() -> ServerOptions {
    ServerOptions::new().address(([127, 0, 0, 1], 0))
}

/// Awaits `future`, failing the test after [`BOUND`].
pub async fn bounded<F: std::future::Future>(future: F) -> F::Output {
    weir::runtime::timeout(BOUND, future)
        .await
        .expect("timed out")
}

/// Starts a weir server, waiting at most [`BOUND`].
pub fn start<H, M>(handler: H, options: ServerOptions) -> Server
where
    H: Handler<M>,
    M: 'static,
{
    super::run(http::start_server(handler, options)).expect("listen on loopback")
}

/// Polls `condition` until it holds, failing the test after [`BOUND`] (for state another
/// thread changes with no event to wait on, such as a server's connection count).
pub async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < BOUND, "timed out waiting for {what}");
        weir::runtime::sleep(Duration::from_millis(5)).await;
    }
}

#[allow(unused_imports, reason = "some test binaries count nothing")]
pub use super::Counter;

/// The three ways the client reaches a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// HTTP/1.1 over cleartext TCP.
    H1,
    /// HTTP/2 over TLS, chosen by ALPN (`https://localhost:PORT`).
    H2Tls,
    /// HTTP/2 with prior knowledge over cleartext TCP.
    H2c,
}

pub const PROTOS: [Proto; 3] = [Proto::H1, Proto::H2Tls, Proto::H2c];

impl Proto {
    /// The HTTP version responses come back with.
    pub fn version(self) -> http::Version {
        match self {
            Proto::H1 => http::Version::HTTP_11,
            Proto::H2Tls | Proto::H2c => http::Version::HTTP_2,
        }
    }

    pub fn is_h2(self) -> bool {
        self != Proto::H1
    }
}

/// The servers the conformance tests run against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// weir's own server.
    Weir,
    /// hyper 1 (`hyper_util::server::conn::auto`) on a tokio runtime of its own.
    Hyper,
}

pub const PEERS: [Peer; 2] = [Peer::Weir, Peer::Hyper];

/// A server reachable with one protocol, and what a client needs to reach it.
pub struct Target {
    pub proto: Proto,
    pub addr: SocketAddr,
    pub certificate: Option<SelfSigned>,
    /// weir's server, when the target is one.
    pub server: Option<Server>,
    _hyper: Option<HyperServer>,
}

impl Target {
    /// weir's server running `handler` for `proto` (bound to loopback here).
    pub fn weir<H, M>(proto: Proto, handler: H, options: ServerOptions) -> Target
    where
        H: Handler<M>,
        M: 'static,
    {
        let options = options.address(([127, 0, 0, 1], 0));
        let (options, certificate) = match proto {
            Proto::H1 => (options, None),
            Proto::H2c => (options.use_h2c(true), None),
            Proto::H2Tls => {
                let certificate = tls::self_signed(&["localhost"]).unwrap();
                let options = options
                    .http_versions([HttpVersion::Http2, HttpVersion::Http1])
                    .tls(certificate.server_config());
                (options, Some(certificate))
            }
        };
        let server = start(handler, options);
        Target {
            proto,
            addr: server.local_addr(),
            certificate,
            server: Some(server),
            _hyper: None,
        }
    }

    /// The hyper server with the [fixed routes](Routes) for `proto`.
    pub fn hyper(proto: Proto, routes: Routes) -> Target {
        let certificate = match proto {
            Proto::H2Tls => Some(tls::self_signed(&["localhost"]).unwrap()),
            _ => None,
        };
        let server = HyperServer::start(certificate.as_ref(), routes);
        Target {
            proto,
            addr: server.addr,
            certificate,
            server: None,
            _hyper: Some(server),
        }
    }

    /// The fixed routes on `peer` for `proto`.
    pub fn routes(peer: Peer, proto: Proto, routes: Routes) -> Target {
        match peer {
            Peer::Weir => Target::weir(proto, routes.weir_handler(), localhost()),
            Peer::Hyper => Target::hyper(proto, routes),
        }
    }

    /// An absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        match self.proto {
            Proto::H2Tls => format!("https://localhost:{}{path}", self.addr.port()),
            _ => format!("http://{}{path}", self.addr),
        }
    }

    /// The `scheme://host:port` the client's stats name this server by.
    pub fn stats_host(&self) -> String {
        match self.proto {
            Proto::H2Tls => format!("https://localhost:{}", self.addr.port()),
            _ => format!("http://{}:{}", self.addr.ip(), self.addr.port()),
        }
    }

    /// Client options that reach this server with its protocol.
    pub fn client_options(&self) -> ClientOptions {
        client_options_for(self.proto, self.certificate.as_ref())
    }

    /// A client with [`Target::client_options`].
    pub fn client(&self) -> Client {
        Client::with_options(self.client_options())
    }
}

/// Client options that speak `proto` (trusting `certificate` for TLS).
pub fn client_options_for(proto: Proto, certificate: Option<&SelfSigned>) -> ClientOptions {
    match proto {
        Proto::H1 => ClientOptions::new(),
        Proto::H2c => ClientOptions::new()
            .force_h2c(true)
            .http_versions([HttpVersion::Http2]),
        Proto::H2Tls => ClientOptions::new()
            .tls(
                certificate
                    .expect("a certificate")
                    .client_config_trusting_it(),
            )
            .http_versions([HttpVersion::Http2, HttpVersion::Http1]),
    }
}

/// The body of a streamed response, fed by the test chunk by chunk.
pub enum Feeder {
    Weir(Channel<Bytes>),
    Hyper(futures::channel::mpsc::Sender<Result<Frame<Bytes>, Infallible>>),
}

impl Feeder {
    /// Sends the next chunk; false once the response is gone (the connection closed, the
    /// stream reset).
    pub async fn put(&mut self, chunk: impl Into<Bytes>) -> bool {
        match self {
            Feeder::Weir(channel) => {
                // The test's handle can take too, so a pending put is not refused when the
                // server drops the body: the server closing the channel is the refusal.
                let closed = channel.closed();
                let put = async { channel.put(chunk.into()).await.is_ok() };
                futures_lite::future::or(put, async {
                    let _ = closed.await;
                    false
                })
                .await
            }
            Feeder::Hyper(sender) => sender.send(Ok(Frame::data(chunk.into()))).await.is_ok(),
        }
    }

    /// Ends the body cleanly.
    pub fn finish(self) {
        match self {
            Feeder::Weir(channel) => channel.close(),
            Feeder::Hyper(sender) => drop(sender),
        }
    }
}

/// The fixed routes both servers serve:
/// - `GET`/`HEAD /hello`: `hello` (Content-Length 5);
/// - `POST /echo`: the request body;
/// - `GET /stream`: a body the test feeds: its [`Feeder`] comes out of [`Routes::feeders`].
/// - `POST /upload`: reads the request body chunk by chunk, telling the test through
///   [`Routes::next_upload_event`] when the first chunk came and how the body ended, then
///   answers its length;
/// - anything else: 404.
#[derive(Clone)]
pub struct Routes {
    feeders_in: async_channel::Sender<Feeder>,
    feeders_out: async_channel::Receiver<Feeder>,
    uploads_in: async_channel::Sender<Upload>,
    uploads_out: async_channel::Receiver<Upload>,
    pub hits: Counter,
}

/// What the `/upload` route saw of a request body.
#[derive(Debug, PartialEq, Eq)]
pub enum Upload {
    /// The first chunk arrived.
    Started,
    /// The body ended cleanly after this many bytes.
    Ended(usize),
    /// Reading the body failed (the connection closed, the stream was reset).
    Failed(String),
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    pub fn new() -> Routes {
        let (feeders_in, feeders_out) = async_channel::unbounded();
        let (uploads_in, uploads_out) = async_channel::unbounded();
        Routes {
            feeders_in,
            feeders_out,
            uploads_in,
            uploads_out,
            hits: Counter::default(),
        }
    }

    /// The feeder of the next `/stream` response, waiting at most [`BOUND`].
    pub async fn next_feeder(&self) -> Feeder {
        bounded(self.feeders_out.recv()).await.expect("a feeder")
    }

    /// What the `/upload` route saw next, waiting at most [`BOUND`].
    pub async fn next_upload_event(&self) -> Upload {
        bounded(self.uploads_out.recv())
            .await
            .expect("an upload event")
    }

    /// The routes as a weir handler.
    pub fn weir_handler(
        &self,
    ) -> impl Fn(
        Request<Body>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response<Body>> + Send>>
    + Send
    + Sync
    + 'static
    + use<> {
        let routes = self.clone();
        move |request: Request<Body>| {
            let routes = routes.clone();
            Box::pin(async move {
                routes.hits.hit();
                match (request.method().clone(), request.uri().path()) {
                    (Method::GET | Method::HEAD, "/hello") => Response::new(Body::from("hello")),
                    (Method::POST, "/echo") => match request.into_body().to_bytes(64 << 20).await {
                        Ok(bytes) => Response::new(Body::from(bytes)),
                        Err(error) => status(StatusCode::BAD_REQUEST, error.to_string()),
                    },
                    (Method::POST, "/upload") => {
                        let mut body = request.into_body();
                        let mut length = 0;
                        let outcome = loop {
                            match body.frame().await {
                                None => break Upload::Ended(length),
                                Some(Err(error)) => break Upload::Failed(error.to_string()),
                                Some(Ok(frame)) => {
                                    if let Ok(data) = frame.into_data() {
                                        if length == 0 && !data.is_empty() {
                                            let _ = routes.uploads_in.try_send(Upload::Started);
                                        }
                                        length += data.len();
                                    }
                                }
                            }
                        };
                        let _ = routes.uploads_in.try_send(outcome);
                        Response::new(Body::from(length.to_string()))
                    }
                    (Method::GET, "/stream") => {
                        let channel = Channel::new(1);
                        let _ = routes.feeders_in.try_send(Feeder::Weir(channel.clone()));
                        Response::new(Body::from_source(channel))
                    }
                    _ => status(StatusCode::NOT_FOUND, "no such route".into()),
                }
            })
        }
    }

    async fn hyper_handle(
        self,
        request: Request<hyper::body::Incoming>,
    ) -> Result<Response<BoxBody<Bytes, Infallible>>, Infallible> {
        use http_body_util::{Full, StreamBody};
        self.hits.hit();
        let full = |bytes: Bytes| Full::new(bytes).map_err(|never| match never {}).boxed();
        let response = match (request.method().clone(), request.uri().path()) {
            (Method::GET, "/hello") => Response::new(full(Bytes::from("hello"))),
            // hyper's HTTP/2 server sends whatever body it is given, even to a HEAD (which
            // h2's client rightly refuses): the application leaves it out.
            (Method::HEAD, "/hello") => {
                let mut response = Response::new(full(Bytes::new()));
                response
                    .headers_mut()
                    .insert("content-length", http::HeaderValue::from_static("5"));
                response
            }
            (Method::POST, "/echo") => match request.into_body().collect().await {
                Ok(collected) => Response::new(full(collected.to_bytes())),
                Err(error) => {
                    let mut response = Response::new(full(Bytes::from(error.to_string())));
                    *response.status_mut() = StatusCode::BAD_REQUEST;
                    response
                }
            },
            (Method::POST, "/upload") => {
                let mut body = request.into_body();
                let mut length = 0;
                let outcome = loop {
                    match body.frame().await {
                        None => break Upload::Ended(length),
                        Some(Err(error)) => break Upload::Failed(error.to_string()),
                        Some(Ok(frame)) => {
                            if let Ok(data) = frame.into_data() {
                                if length == 0 && !data.is_empty() {
                                    let _ = self.uploads_in.try_send(Upload::Started);
                                }
                                length += data.len();
                            }
                        }
                    }
                };
                let _ = self.uploads_in.try_send(outcome);
                Response::new(full(Bytes::from(length.to_string())))
            }
            (Method::GET, "/stream") => {
                let (sender, receiver) = futures::channel::mpsc::channel(0);
                let _ = self.feeders_in.try_send(Feeder::Hyper(sender));
                Response::new(StreamBody::new(receiver).boxed())
            }
            _ => {
                let mut response = Response::new(full(Bytes::from("no such route")));
                *response.status_mut() = StatusCode::NOT_FOUND;
                response
            }
        };
        Ok(response)
    }
}

fn status(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response
}

/// hyper's server (HTTP/1.1 and HTTP/2, by ALPN over TLS or by prior knowledge) on a tokio
/// runtime in a thread of its own; stopped when dropped.
pub struct HyperServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl HyperServer {
    pub fn start(certificate: Option<&SelfSigned>, routes: Routes) -> HyperServer {
        let acceptor = certificate.map(|certificate| {
            let config = certificate
                .server_config()
                .with_alpn_protocols(["h2", "http/1.1"]);
            tls::futures_rustls::TlsAcceptor::from(config.rustls().clone())
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let accepting = async {
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else {
                            continue;
                        };
                        let _ = tcp.set_nodelay(true);
                        let acceptor = acceptor.clone();
                        let routes = routes.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |request| {
                                routes.clone().hyper_handle(request)
                            });
                            let builder = hyper_util::server::conn::auto::Builder::new(
                                hyper_util::rt::TokioExecutor::new(),
                            );
                            match acceptor {
                                None => {
                                    let io = hyper_util::rt::TokioIo::new(tcp);
                                    let _ = builder.serve_connection(io, service).await;
                                }
                                Some(acceptor) => {
                                    use tokio_util::compat::{
                                        FuturesAsyncReadCompatExt as _,
                                        TokioAsyncReadCompatExt as _,
                                    };
                                    let Ok(stream) = acceptor.accept(tcp.compat()).await else {
                                        return;
                                    };
                                    let io = hyper_util::rt::TokioIo::new(stream.compat());
                                    let _ = builder.serve_connection(io, service).await;
                                }
                            }
                        });
                    }
                };
                tokio::select! {
                    () = accepting => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime drops the connections' tasks.
        });
        let addr = addr_rx.recv_timeout(BOUND).expect("hyper server started");
        HyperServer {
            addr,
            stop: Some(stop),
        }
    }
}

impl Drop for HyperServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A raw TCP server written by the test: each connection is handed to `serve` on a thread of
/// its own. It counts the connections it accepted.
pub struct RawServer {
    pub addr: SocketAddr,
    pub accepted: Counter,
}

impl RawServer {
    pub fn start(serve: impl Fn(TcpStream, usize) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Counter::default();
        let counter = accepted.clone();
        let serve = Arc::new(serve);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(BOUND));
                let _ = stream.set_write_timeout(Some(BOUND));
                let index = counter.hit();
                let serve = serve.clone();
                std::thread::spawn(move || serve(stream, index));
            }
        });
        RawServer { addr, accepted }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// A request head read off a raw socket.
#[derive(Debug)]
pub struct RawRequest {
    pub method: String,
    pub path: String,
    pub head: String,
    pub content_length: Option<usize>,
}

/// Reads one request head (through the blank line); `None` at EOF or on an error.
pub fn read_head(stream: &mut TcpStream) -> Option<RawRequest> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let method = words.next()?.to_string();
    let path = words.next()?.to_string();
    let content_length = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())?
    });
    Some(RawRequest {
        method,
        path,
        head,
        content_length,
    })
}

/// Reads and drops `length` bytes of a request body.
pub fn skip_body(stream: &mut TcpStream, length: usize) -> bool {
    let mut left = length;
    let mut buffer = [0u8; 8192];
    while left > 0 {
        match stream.read(&mut buffer[..left.min(8192)]) {
            Ok(0) | Err(_) => return false,
            Ok(n) => left -= n,
        }
    }
    true
}

/// Writes a well-formed `200 ok` response (kept alive).
pub fn write_ok(stream: &mut TcpStream) -> bool {
    stream
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        .is_ok()
}

/// Serves well-formed keep-alive `200 ok` responses on `stream` until the client closes it,
/// calling `special` first for each request: if it returns true it has answered (and the
/// connection goes on), if false the connection is dropped.
pub fn serve_raw(
    mut stream: TcpStream,
    special: impl Fn(&RawRequest, &mut TcpStream) -> Option<bool>,
) {
    while let Some(request) = read_head(&mut stream) {
        match special(&request, &mut stream) {
            Some(true) => continue,
            Some(false) => return,
            None => {}
        }
        if let Some(length) = request.content_length {
            if !skip_body(&mut stream, length) {
                return;
            }
        }
        if !write_ok(&mut stream) {
            return;
        }
    }
}

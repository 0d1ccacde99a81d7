//! HTTP helpers shared by the `http_*` test files: servers on loopback, independent clients
//! (hyper's HTTP/1.1 and HTTP/2 clients, the h2 crate's client) over HTTP/1.1, HTTP/2 with
//! TLS + ALPN and h2c, and raw bytes over a socket.

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use hyper::body::Frame;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio_util::compat::FuturesAsyncReadCompatExt as _;
use weir::http::{
    self, Body, Handler, HeaderMap, HttpVersion, Request, Response, Server, ServerOptions,
};
use weir::tls::{self, SelfSigned};

use super::BOUND;

/// Server options bound to an ephemeral loopback port.
pub fn localhost() -> ServerOptions {
    ServerOptions::new().address(([127, 0, 0, 1], 0))
}

/// Runs `future` on a fresh current-thread tokio runtime (the clients' runtime; the server
/// runs on weir's own executor), failing the test after [`BOUND`].
pub fn run_tokio<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(weir::runtime::timeout(BOUND, future))
        .expect("test timed out")
}

/// Awaits `future`, failing the test after [`BOUND`].
pub async fn bounded<F: std::future::Future>(future: F) -> F::Output {
    weir::runtime::timeout(BOUND, future)
        .await
        .expect("timed out")
}

/// Starts a server, waiting at most [`BOUND`].
pub fn start<H, M>(handler: H, options: ServerOptions) -> Server
where
    H: Handler<M>,
    M: 'static,
{
    super::run(http::start_server(handler, options)).expect("listen on loopback")
}

#[allow(unused_imports, reason = "some test binaries count nothing")]
pub use super::Counter;

/// The three ways the protocol tests reach the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// HTTP/1.1 over cleartext TCP (hyper's client).
    H1,
    /// HTTP/2 over TLS, chosen by ALPN (hyper's HTTP/2 client over `weir::tls::connect`).
    H2Tls,
    /// HTTP/2 with prior knowledge over cleartext TCP (the h2 crate's client).
    H2c,
}

pub const ALL: [Proto; 3] = [Proto::H1, Proto::H2Tls, Proto::H2c];

/// A server reachable with one protocol, and what a client needs to reach it.
pub struct Fixture {
    pub proto: Proto,
    pub server: Server,
    pub certificate: Option<SelfSigned>,
}

impl Fixture {
    /// Starts `handler` for `proto` with `options` (bound to loopback here).
    pub fn start<H, M>(proto: Proto, handler: H, options: ServerOptions) -> Fixture
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
        Fixture {
            proto,
            server: start(handler, options),
            certificate,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// A client connection (call inside [`run_tokio`]).
    pub async fn client(&self) -> Client {
        let tcp = bounded(tokio::net::TcpStream::connect(self.addr()))
            .await
            .unwrap();
        match self.proto {
            Proto::H1 => {
                let (send, connection) =
                    bounded(hyper::client::conn::http1::handshake(TokioIo::new(tcp)))
                        .await
                        .unwrap();
                tokio::spawn(async move {
                    let _ = connection.with_upgrades().await;
                });
                Client::H1(send)
            }
            Proto::H2Tls => {
                let tcp = bounded(async_net::TcpStream::connect(self.addr()))
                    .await
                    .unwrap();
                let config = self
                    .certificate
                    .as_ref()
                    .unwrap()
                    .client_config_trusting_it()
                    .with_alpn_protocols(["h2"]);
                let stream = bounded(tls::connect(&config, "localhost", tcp))
                    .await
                    .unwrap();
                assert_eq!(stream.session_info().alpn_protocol(), Some(&b"h2"[..]));
                let io = TokioIo::new(stream.compat());
                let (send, connection) = bounded(
                    hyper::client::conn::http2::Builder::new(TokioExecutor::new()).handshake(io),
                )
                .await
                .unwrap();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Client::H2(send)
            }
            Proto::H2c => {
                let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Client::H2c(send)
            }
        }
    }
}

pub type ClientRequestBody = BoxBody<Bytes, Infallible>;

/// A request body for the clients: data chunks and optional trailers.
#[derive(Clone, Debug, Default)]
pub struct Outgoing {
    pub chunks: Vec<Bytes>,
    pub trailers: Option<HeaderMap>,
}

impl Outgoing {
    pub fn empty() -> Outgoing {
        Outgoing::default()
    }
    pub fn bytes(data: impl Into<Bytes>) -> Outgoing {
        Outgoing {
            chunks: vec![data.into()],
            trailers: None,
        }
    }
    fn into_hyper(self) -> ClientRequestBody {
        let mut frames: Vec<Result<Frame<Bytes>, Infallible>> = self
            .chunks
            .into_iter()
            .map(|c| Ok(Frame::data(c)))
            .collect();
        if let Some(trailers) = self.trailers {
            frames.push(Ok(Frame::trailers(trailers)));
        }
        http_body_util::StreamBody::new(futures::stream::iter(frames)).boxed()
    }
}

/// A client of one connection.
pub enum Client {
    H1(hyper::client::conn::http1::SendRequest<ClientRequestBody>),
    H2(hyper::client::conn::http2::SendRequest<ClientRequestBody>),
    H2c(h2::client::SendRequest<Bytes>),
}

/// A response as a client saw it; its body is read frame by frame.
pub struct Reply {
    pub status: http::StatusCode,
    pub version: http::Version,
    pub headers: HeaderMap,
    pub body: ReplyBody,
}

pub enum ReplyBody {
    Hyper(hyper::body::Incoming),
    H2(h2::RecvStream, bool),
}

impl ReplyBody {
    /// The next data chunk, or `None` at the end (trailers are kept for [`ReplyBody::trailers`]).
    pub async fn next_data(&mut self) -> Option<Result<Bytes, String>> {
        match self {
            ReplyBody::Hyper(body) => match body.frame().await? {
                Ok(frame) if frame.is_data() => Some(Ok(frame.into_data().unwrap())),
                Ok(_) => None,
                Err(e) => Some(Err(e.to_string())),
            },
            ReplyBody::H2(body, _) => match body.data().await? {
                Ok(data) => {
                    let _ = body.flow_control().release_capacity(data.len());
                    Some(Ok(data))
                }
                Err(e) => Some(Err(e.to_string())),
            },
        }
    }

    /// The whole body and its trailers.
    pub async fn collect(self) -> Result<(Bytes, Option<HeaderMap>), String> {
        match self {
            ReplyBody::Hyper(body) => {
                let collected = body.collect().await.map_err(|e| e.to_string())?;
                let trailers = collected.trailers().cloned();
                Ok((collected.to_bytes(), trailers))
            }
            mut body @ ReplyBody::H2(..) => {
                let mut data = Vec::new();
                while let Some(chunk) = body.next_data().await {
                    data.extend_from_slice(&chunk?);
                }
                let ReplyBody::H2(mut body, _) = body else {
                    unreachable!()
                };
                let trailers = body.trailers().await.map_err(|e| e.to_string())?;
                Ok((Bytes::from(data), trailers))
            }
        }
    }
}

impl Reply {
    pub async fn text(self) -> String {
        let (bytes, _) = bounded(self.body.collect()).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}

impl Client {
    /// Sends `request` (its URI a path, the authority is filled in) and waits for the response
    /// head.
    pub async fn send(&mut self, request: Request<Outgoing>) -> Result<Reply, String> {
        let (mut parts, body) = request.into_parts();
        if parts.uri.authority().is_none() && !matches!(self, Client::H1(_)) {
            let scheme = if matches!(self, Client::H2(_)) {
                "https"
            } else {
                "http"
            };
            let pq = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            parts.uri = format!("{scheme}://localhost{pq}").parse().unwrap();
        }
        if matches!(self, Client::H1(_)) && !parts.headers.contains_key(http::header::HOST) {
            parts
                .headers
                .insert(http::header::HOST, "localhost".parse().unwrap());
        }
        match self {
            Client::H1(send) => {
                bounded(send.ready()).await.map_err(|e| e.to_string())?;
                let response =
                    bounded(send.send_request(Request::from_parts(parts, body.into_hyper())))
                        .await
                        .map_err(|e| e.to_string())?;
                Ok(Reply::from_hyper(response))
            }
            Client::H2(send) => {
                bounded(send.ready()).await.map_err(|e| e.to_string())?;
                let response =
                    bounded(send.send_request(Request::from_parts(parts, body.into_hyper())))
                        .await
                        .map_err(|e| e.to_string())?;
                Ok(Reply::from_hyper(response))
            }
            Client::H2c(send) => {
                let mut send_request = bounded(send.clone().ready())
                    .await
                    .map_err(|e| e.to_string())?;
                let end = body.chunks.is_empty() && body.trailers.is_none();
                let (response, mut stream) = send_request
                    .send_request(Request::from_parts(parts, ()), end)
                    .map_err(|e| e.to_string())?;
                if !end {
                    let last = body.chunks.len().saturating_sub(1);
                    for (i, chunk) in body.chunks.into_iter().enumerate() {
                        stream
                            .send_data(chunk, i == last && body.trailers.is_none())
                            .map_err(|e| e.to_string())?;
                    }
                    if let Some(trailers) = body.trailers {
                        stream.send_trailers(trailers).map_err(|e| e.to_string())?;
                    }
                }
                let response = bounded(response).await.map_err(|e| e.to_string())?;
                let (parts, body) = response.into_parts();
                Ok(Reply {
                    status: parts.status,
                    version: parts.version,
                    headers: parts.headers,
                    body: ReplyBody::H2(body, false),
                })
            }
        }
    }

    /// `GET path`, the whole body as text, with the status.
    pub async fn get_text(&mut self, path: &str) -> (http::StatusCode, String) {
        let reply = self.send(get(path)).await.unwrap();
        let status = reply.status;
        (status, reply.text().await)
    }
}

impl Reply {
    fn from_hyper(response: Response<hyper::body::Incoming>) -> Reply {
        let (parts, body) = response.into_parts();
        Reply {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body: ReplyBody::Hyper(body),
        }
    }
}

/// A `GET` request for `path`.
pub fn get(path: &str) -> Request<Outgoing> {
    Request::get(path).body(Outgoing::empty()).unwrap()
}

/// A handler answering `hello!`.
pub fn hello(_: Request<Body>) -> Response<Body> {
    Response::new(Body::from("hello!"))
}

// ---------------------------------------------------------------------------------------------
// Raw bytes over a socket.

/// A blocking loopback socket with a read timeout of [`BOUND`], for raw-byte tests.
pub struct Raw {
    pub stream: TcpStream,
    buffer: Vec<u8>,
    pub closed: bool,
}

/// One response parsed from raw bytes.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

impl Raw {
    pub fn connect(addr: SocketAddr) -> Raw {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(BOUND)).unwrap();
        stream.set_write_timeout(Some(BOUND)).unwrap();
        Raw {
            stream,
            buffer: Vec::new(),
            closed: false,
        }
    }

    /// Reads responses from an already connected socket.
    pub fn from_stream(stream: TcpStream) -> Raw {
        stream.set_read_timeout(Some(BOUND)).unwrap();
        Raw {
            stream,
            buffer: Vec::new(),
            closed: false,
        }
    }

    pub fn send(&mut self, bytes: impl AsRef<[u8]>) -> &mut Raw {
        // The server may already have refused and closed: a failed write is not a failure.
        let _ = self.stream.write_all(bytes.as_ref());
        self
    }

    /// Reads more bytes; false at EOF (or a reset). Fails the test when nothing comes within
    /// [`BOUND`].
    fn fill(&mut self) -> bool {
        if self.closed {
            return false;
        }
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => {
                self.closed = true;
                false
            }
            Ok(n) => {
                self.buffer.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                panic!("no bytes from the server within {BOUND:?}")
            }
            Err(_) => {
                self.closed = true;
                false
            }
        }
    }

    /// The next complete response (interim 1xx responses included), or `None` if the server
    /// closed first.
    pub fn response(&mut self) -> Option<RawResponse> {
        loop {
            if let Some((response, used)) = parse_response(&self.buffer) {
                self.buffer.drain(..used);
                return Some(response);
            }
            if !self.fill() {
                return None;
            }
        }
    }

    /// True once the server has closed the connection (reading what it still sends); fails the
    /// test if it stays open past [`BOUND`].
    pub fn wait_closed(&mut self) -> bool {
        while self.fill() {}
        self.closed
    }

    /// Reads more bytes into [`leftover`](Self::leftover); false at EOF. Fails the test when
    /// nothing comes within [`BOUND`].
    #[allow(dead_code, reason = "not every test binary reads past a response")]
    pub fn read_more(&mut self) -> bool {
        self.fill()
    }

    /// Bytes received but not parsed as a response.
    pub fn leftover(&self) -> &[u8] {
        &self.buffer
    }

    /// Waits for EOF at most `within`; true if the server closed.
    pub fn closed_within(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    self.closed = true;
                    return true;
                }
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return false;
                }
                Err(_) => {
                    self.closed = true;
                    return true;
                }
            }
        }
    }
}

/// One request over a fresh raw connection: its first response (or `None` if the server
/// closed without one), and whether the server then closed the connection.
pub fn exchange(addr: SocketAddr, bytes: impl AsRef<[u8]>) -> (Option<RawResponse>, Raw) {
    let mut raw = Raw::connect(addr);
    raw.send(bytes);
    let response = raw.response();
    (response, raw)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Parses one response from `bytes`: it and the bytes it used, or `None` if incomplete.
pub fn parse_response(bytes: &[u8]) -> Option<(RawResponse, usize)> {
    let end = find(bytes, b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
    let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
    let mut response = RawResponse {
        status,
        head,
        body: Vec::new(),
    };
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return Some((response, end));
    }
    if response
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        let mut at = end;
        loop {
            let line_end = find(&bytes[at..], b"\r\n")? + at;
            let size_text = String::from_utf8_lossy(&bytes[at..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            at = line_end + 2;
            if size == 0 {
                // Trailers up to an empty line.
                let trailer_end = find(&bytes[at..], b"\r\n")? + at;
                if trailer_end == at {
                    return Some((response, at + 2));
                }
                let rest_end = find(&bytes[at..], b"\r\n\r\n")? + at + 4;
                return Some((response, rest_end));
            }
            if bytes.len() < at + size + 2 {
                return None;
            }
            response.body.extend_from_slice(&bytes[at..at + size]);
            at += size + 2;
        }
    }
    let length: usize = response
        .header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    if bytes.len() < end + length {
        return None;
    }
    response.body = bytes[end..end + length].to_vec();
    Some((response, end + length))
}

//! `websocket_client`: the client's end, over TCP or TLS, directly or through a proxy.

use bytes::BytesMut;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::http::client::connect::{Route, open};
use crate::http::client::pool::Key;
use crate::tcp::accept::Transport;
use crate::{Deferred, Error};

use super::codec::{self, Decoder, Encoder, Limits, Role};
use super::driver::Driver;
use super::handshake;
use super::options::WebSocketClientOptions;
use super::socket::{self, State, WebSocket};

/// The most bytes of a handshake response head (Aleph's 16 KiB aggregator).
const MAX_RESPONSE_HEAD: usize = 16 * 1024;

/// Opens a WebSocket to `url` (`ws://` or `wss://`): Aleph's `websocket-client`. The deferred
/// is realized with the socket once the server's `101 Switching Protocols` was checked (the
/// accept key, the subprotocol among those offered, the compression answer), or with an error:
/// a [connect timeout](Error::is_connect_timeout), a refused connection, a TLS failure, or a
/// [protocol error](Error::is_protocol) such as `unexpected HTTP response, status: 404 Not
/// Found` with the start of the body.
///
/// The connection goes through [`proxy`](WebSocketClientOptions::proxy) if one is set (an
/// HTTP proxy by `CONNECT`, for `ws` too, or SOCKS), and `wss` negotiates TLS with ALPN
/// `http/1.1`.
///
/// # Cancel safety
///
/// Realizing the deferred with an error (`deferred.error(Error::cancelled())`) while the
/// connection is being set up abandons it: the connection is closed. Merely dropping the
/// deferred does not stop the set-up; the socket it brings is then dropped, which closes it
/// with 1000.
///
/// # Examples
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use weir::http::{self, Body, Request, ServerOptions};
/// use weir::ws::{self, Message, WebSocketClientOptions, WebSocketOptions};
///
/// # weir::runtime::block_on(async {
/// let greet = |mut request: Request<Body>| async move {
///     let mut socket = ws::websocket_connection(&mut request, WebSocketOptions::new()).await?;
///     let reply = socket.clone();
///     weir::runtime::spawn(async move {
///         let mut reply = reply;
///         reply.send("welcome").await.unwrap();
///     })
///     .detach();
///     Ok::<_, weir::Error>(socket)
/// };
/// let server = http::start_server(greet, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
///
/// let url = format!("ws://127.0.0.1:{}/chat", server.port());
/// let mut socket = ws::websocket_client(&url, WebSocketClientOptions::new()).await.unwrap();
/// assert_eq!(socket.next().await, Some(Message::from("welcome")));
///
/// let wrong = ws::websocket_client("http://127.0.0.1:1/", WebSocketClientOptions::new()).await;
/// assert!(wrong.unwrap_err().to_string().contains("ws or wss"));
/// # server.close().await.unwrap();
/// # });
/// ```
pub fn websocket_client(url: &str, options: WebSocketClientOptions) -> Deferred<WebSocket, Error> {
    let url = url.to_owned();
    let connecting = Deferred::new();
    let realizer = connecting.realizer();
    let abandoned = connecting.clone();
    crate::runtime::spawn_detached(async move {
        let work = connect(&url, options);
        let outcome = futures_lite::future::or(work, async {
            // Someone realized the deferred (with an error): give up.
            let _ = abandoned.await;
            Err(Error::cancelled())
        })
        .await;
        let _ = realizer.try_realize(outcome);
    });
    connecting
}

async fn connect(url: &str, options: WebSocketClientOptions) -> Result<WebSocket, Error> {
    let parsed = url::Url::parse(url).map_err(|error| Error::msg(format!("{url}: {error}")))?;
    let secure = match parsed.scheme() {
        "ws" => false,
        "wss" => true,
        other => {
            return Err(Error::msg(format!(
                "{url}: the scheme must be ws or wss, not {other}"
            )));
        }
    };
    let host = parsed
        .host_str()
        .ok_or_else(|| Error::msg(format!("{url}: no host")))?
        .to_owned();
    let port = parsed
        .port_or_known_default()
        .unwrap_or(if secure { 443 } else { 80 });
    let host_header = match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    let mut target = parsed.path().to_owned();
    if target.is_empty() {
        target.push('/');
    }
    if let Some(query) = parsed.query() {
        target.push('?');
        target.push_str(query);
    }
    let key = Key {
        https: secure,
        host: host.clone(),
        port,
        unix_socket: None,
    };
    let limit = options.connect_timeout;
    let transport = match crate::runtime::timeout(limit, transport(&key, &options)).await {
        Ok(transport) => transport?,
        Err(_) => {
            return Err(crate::http::client::timeout::error(
                crate::http::client::timeout::Phase::Connect,
                &format!("{host}:{port}"),
                limit,
            ));
        }
    };
    let addresses = transport.addresses();
    let limit = options.handshake_timeout;
    let handshake =
        crate::runtime::timeout(limit, handshake(transport, &host_header, &target, &options));
    let (io, prefix, answered) = match handshake.await {
        Ok(outcome) => outcome?,
        Err(_) => {
            return Err(Error::timed_out_because(Error::msg(format!(
                "websocket handshake with {host}:{port} took more than {limit:?}"
            ))));
        }
    };
    let common = options.common;
    let state = State::new(
        Role::Client,
        addresses,
        answered.subprotocol,
        answered.agreement.clone(),
        answered.headers,
    );
    state.set_open();
    let (socket, inbound, outbound) = socket::socket(state, common.inbound_buffer);
    let (deflater, inflater) = match (&answered.agreement, &common.compression) {
        (Some(agreement), Some(deflate)) => {
            let (deflater, inflater) = agreement.codec(Role::Client, deflate);
            (Some(deflater), Some(inflater))
        }
        _ => (None, None),
    };
    let limits = Limits {
        max_frame_payload: common.max_frame_payload,
        max_message_size: common.max_message_size,
        max_fragments: common.max_fragments,
    };
    let decoder = Decoder::new(Role::Client, limits, inflater);
    let encoder = Encoder::new(Role::Client, deflater);
    let state = socket.state().clone();
    crate::runtime::spawn_detached(Driver::new(
        io,
        prefix,
        Role::Client,
        decoder,
        encoder,
        inbound,
        outbound,
        state,
        common,
    ));
    Ok(socket)
}

/// TCP (through the proxy if any, always by `CONNECT`), then TLS with ALPN http/1.1 for `wss`:
/// the HTTP client's route.
async fn transport(key: &Key, options: &WebSocketClientOptions) -> Result<Transport, Error> {
    let route = Route {
        resolver: &options.resolver,
        proxy: options.proxy.as_ref(),
        #[cfg(feature = "tls")]
        tls: options.tls.as_ref(),
        alpn: vec![b"http/1.1".to_vec()],
        tunnel_plain: true,
    };
    open(key, &route).await
}

/// Sends the upgrade request and checks the answer; what the server sent after its head is
/// the first bytes of the WebSocket stream.
async fn handshake(
    mut io: Transport,
    host: &str,
    target: &str,
    options: &WebSocketClientOptions,
) -> Result<(Transport, BytesMut, handshake::Answered), Error> {
    let key = codec::new_key();
    let head = handshake::request_head(host, target, &key, &options.common);
    io.write_all(&head).await?;
    io.flush().await?;
    let mut buffer = BytesMut::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = io.read(&mut chunk).await?;
        if n == 0 {
            return Err(Error::protocol(
                "websocket handshake: the server closed the connection before answering",
            ));
        }
        buffer.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buffer) {
            Ok(httparse::Status::Complete(length)) => {
                let status = response.code.unwrap_or(0);
                let mut map = HeaderMap::new();
                for header in response.headers.iter() {
                    if let (Ok(name), Ok(value)) = (
                        HeaderName::from_bytes(header.name.as_bytes()),
                        HeaderValue::from_bytes(header.value),
                    ) {
                        map.append(name, value);
                    }
                }
                let rest = buffer.split_off(length);
                let preview = &rest[..rest.len().min(1024)];
                let answered =
                    handshake::check_response(status, map, &key, preview, &options.common)?;
                return Ok((io, rest, answered));
            }
            Ok(httparse::Status::Partial) if buffer.len() < MAX_RESPONSE_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                return Err(Error::protocol(format!(
                    "websocket handshake: response head longer than {MAX_RESPONSE_HEAD} bytes"
                )));
            }
            Err(error) => {
                return Err(Error::protocol(format!(
                    "websocket handshake: malformed response: {error}"
                )));
            }
        }
    }
}

//! `websocket_connection`: the server's end, from inside any handler.

use http::{Request, Response, StatusCode};

use crate::http::{Body, IntoResponse};
use crate::runtime::stages::{Chosen, Stages};
use crate::{Deferred, Error};

use super::codec::{Decoder, Encoder, Limits, Role};
use super::driver::Driver;
use super::handshake;
use super::options::{Common, WebSocketOptions};
use super::socket::{self, State, WebSocket};

/// Turns an upgrade request into a [`WebSocket`]: Aleph's `websocket-connection`. Call it
/// inside any handler (a weir handler, or a tower/axum route that weir serves), then answer
/// with the socket itself (it converts into the `101 Switching Protocols` response, with the
/// accept key, the chosen subprotocol and the compression agreed): that response completes
/// the upgrade, and the socket's messages start to flow once it is sent. Messages put before
/// that wait.
///
/// The deferred is realized at once: with the socket, or with a
/// [protocol error](Error::is_protocol) saying what is wrong with a request that is not a
/// valid WebSocket upgrade (not a GET over HTTP/1.1, no `Upgrade: websocket` or `Connection:
/// upgrade`, a version other than 13, a bad key), which the handler can answer with a 400, as
/// Aleph's example does. If the handler answers with anything but the socket's 101, or the
/// client goes away first, the socket closes with that cause.
///
/// The socket lives as long as a handle does: a handler that answers with the socket and
/// keeps no clone (in a `connect`, a task, a registry) has the socket close (1000) as soon as
/// it opens.
///
/// # Cancel safety
///
/// Dropping the socket (every handle) before answering makes its 101 unusable; dropping it
/// after sends a close frame (1000).
///
/// # Examples
///
/// ```
/// use futures::{SinkExt, StreamExt};
/// use weir::http::{self, Body, Request, Response, ServerOptions, StatusCode};
/// use weir::stream::{self, ConnectOptions};
/// use weir::ws::{self, WebSocketClientOptions, WebSocketOptions};
///
/// # weir::runtime::block_on(async {
/// // Aleph's echo handler: a 400 for requests that are not upgrades.
/// let echo = |mut request: Request<Body>| async move {
///     match ws::websocket_connection(&mut request, WebSocketOptions::new()).await {
///         Ok(socket) => {
///             stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
///             http::IntoResponse::into_response(socket)
///         }
///         Err(_) => Ok(Response::builder()
///             .status(StatusCode::BAD_REQUEST)
///             .body(Body::from("expected websocket request"))
///             .unwrap()),
///     }
/// };
/// let server = http::start_server(echo, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
///
/// let plain = http::get(&format!("http://127.0.0.1:{}/", server.port())).await;
/// let refused = plain.unwrap_err();
/// let refused = refused.downcast_ref::<http::client::ResponseError>().unwrap();
/// assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
///
/// let url = format!("ws://127.0.0.1:{}/", server.port());
/// let mut socket = ws::websocket_client(&url, WebSocketClientOptions::new()).await.unwrap();
/// socket.send("echo?").await.unwrap();
/// assert_eq!(socket.next().await.unwrap().as_text(), Some("echo?"));
/// # server.close().await.unwrap();
/// # });
/// ```
pub fn websocket_connection<B>(
    request: &mut Request<B>,
    options: WebSocketOptions,
) -> Deferred<WebSocket, Error> {
    match start(request, options.common) {
        Ok(socket) => Deferred::succeeded(socket),
        Err(error) => Deferred::failed(error),
    }
}

fn start<B>(request: &mut Request<B>, options: Common) -> Result<WebSocket, Error> {
    let accepted = handshake::check_request(request, &options)?;
    let response_headers = handshake::response_headers(&accepted, &options);
    let addresses = request
        .extensions()
        .get::<crate::http::RequestInfo>()
        .map(|info| (Some(info.local_addr()), Some(info.remote_addr())))
        .unwrap_or((None, None));
    let mut state = State::new(
        Role::Server,
        addresses,
        accepted.subprotocol.clone(),
        accepted.agreement.clone(),
        request.headers().clone(),
    );
    state.response_headers = Some(response_headers);
    let (socket, inbound, outbound) = socket::socket(state, options.inbound_buffer);
    let upgraded = crate::http::upgrade::on_any_upgrade(request);
    // The server closing says goodbye to its sockets: 1001, going away.
    let draining = request
        .extensions()
        .get::<crate::http::RequestInfo>()
        .and_then(|info| info.draining().cloned());
    let state = socket.state().clone();
    let limits = Limits {
        max_frame_payload: options.max_frame_payload,
        max_message_size: options.max_message_size,
        max_fragments: options.max_fragments,
    };
    let (deflater, inflater) = match (&accepted.agreement, &options.compression) {
        (Some(agreement), Some(deflate)) => {
            let (deflater, inflater) = agreement.codec(Role::Server, deflate);
            (Some(deflater), Some(inflater))
        }
        _ => (None, None),
    };
    // In two stages: the task waits for the upgrade holding what the driver will be made of,
    // then holds only the driver (1 504 bytes, where one `async` block for both was 2 648).
    crate::runtime::spawn_detached(Stages::new(async move {
        let upgraded = upgraded.await.and_then(|io| {
            if state.responded.load(std::sync::atomic::Ordering::Acquire) {
                Ok(io)
            } else {
                Err(Error::msg(
                    "the handler did not answer with the socket's 101 response",
                ))
            }
        });
        match upgraded {
            Ok(io) => {
                state.set_open();
                let decoder = Decoder::new(Role::Server, limits, inflater);
                let encoder = Encoder::new(Role::Server, deflater);
                Chosen::Serve(
                    Driver::new(
                        io,
                        bytes::BytesMut::new(),
                        Role::Server,
                        decoder,
                        encoder,
                        inbound,
                        outbound,
                        state,
                        options,
                    )
                    .on_drain(draining),
                )
            }
            Err(error) => {
                let error = Error::closed_with_source("websocket upgrade", error);
                inbound.close_with_error(error.clone());
                outbound.close_with_error(error);
                state.finished();
                Chosen::Nothing
            }
        }
    }));
    Ok(socket)
}

/// The socket's `101 Switching Protocols`, which completes the upgrade. A client's socket (or
/// a server's whose response was already taken) has none: an error.
impl IntoResponse for WebSocket {
    fn into_response(self) -> Result<Response<Body>, Error> {
        let headers = self
            .state()
            .response_headers
            .clone()
            .ok_or_else(|| Error::msg("a websocket client socket is not a response"))?;
        self.state()
            .responded
            .store(true, std::sync::atomic::Ordering::Release);
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        *response.headers_mut() = headers;
        Ok(response)
    }
}

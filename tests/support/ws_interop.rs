//! WebSocket helpers for the interop tests (`ws_interop_*`): a weir server on loopback that
//! hands each accepted socket to the test (or echoes), and a bounded tokio runtime for the
//! independent peers.

use std::future::Future;

use futures::{SinkExt, StreamExt};

use weir::http::{self, Body, IntoResponse, Request, Response, Server, ServerOptions, StatusCode};
use weir::stream::{self, ConnectOptions};
use weir::ws::{self, Message, WebSocket, WebSocketOptions};

use super::BOUND;

/// Runs `future` on a fresh current-thread tokio runtime (the peers' runtime; weir's sockets
/// run on weir's own pool), failing the test after [`BOUND`].
pub fn run_tokio<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(weir::runtime::timeout(BOUND, future))
        .expect("test timed out")
}

/// Awaits `future`, failing the test after [`BOUND`] with `what` in the message.
pub async fn within<F: Future>(what: &str, future: F) -> F::Output {
    match weir::runtime::timeout(BOUND, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {BOUND:?} waiting for {what}"),
    }
}

/// Sends `message` on `socket` and checks that the next message taken is the same: an echo
/// peer's answer. `stderr` tells what the peer said, for the failure message.
pub async fn echoed(
    socket: &mut WebSocket,
    message: &Message,
    case: &str,
    stderr: impl Fn() -> String,
) {
    within("weir's send", socket.send(message.clone()))
        .await
        .unwrap();
    let echo = within("the echo", socket.next())
        .await
        .unwrap_or_else(|| panic!("{case}: no echo of {message:?}: {}", stderr()));
    assert!(
        echo == *message,
        "{case}: the echo of {message:?} is {echo:?}"
    );
}

/// What the server does with each socket it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Hands the socket to the test ([`WeirServer::accepted`]).
    Hand,
    /// Echoes every message (`connect(socket.clone(), socket)`), as `examples/ws_echo.rs`.
    Echo,
    /// Puts this text message before answering with the 101, then hands the socket over.
    Greet(&'static str),
}

/// A weir WebSocket server on 127.0.0.1 (an ephemeral port). Requests that are not
/// WebSocket upgrades get a 400 `expected websocket request`, as in Aleph's example.
pub struct WeirServer {
    pub server: Server,
    sockets: async_channel::Receiver<WebSocket>,
}

impl WeirServer {
    /// Starts a server whose sockets have `options`.
    pub async fn start(mode: Mode, options: WebSocketOptions) -> WeirServer {
        let (hand, sockets) = async_channel::unbounded();
        let handler = move |mut request: Request<Body>| {
            let options = options.clone();
            let hand = hand.clone();
            async move {
                match ws::websocket_connection(&mut request, options).await {
                    Ok(socket) => {
                        match mode {
                            Mode::Hand => {}
                            Mode::Echo => {
                                stream::connect(
                                    socket.clone(),
                                    socket.clone(),
                                    ConnectOptions::new(),
                                );
                            }
                            Mode::Greet(text) => {
                                let mut greeter = socket.clone();
                                // Queued: it is written once the 101 is out.
                                greeter.feed(Message::from(text)).await?;
                            }
                        }
                        let _ = hand.try_send(socket.clone());
                        socket.into_response()
                    }
                    Err(_) => bad_request(),
                }
            }
        };
        let options = ServerOptions::new().address(([127, 0, 0, 1], 0));
        let server = within(
            "the weir server to listen",
            http::start_server(handler, options),
        )
        .await
        .expect("listen on loopback");
        WeirServer { server, sockets }
    }

    /// `ws://127.0.0.1:P/`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.server.port())
    }

    /// The next socket the server accepted (its handler's handle).
    pub async fn accepted(&self) -> WebSocket {
        within("the weir server to accept a websocket", self.sockets.recv())
            .await
            .expect("the handler is alive")
    }
}

fn bad_request() -> Result<Response<Body>, weir::Error> {
    Ok(Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .body(Body::from("expected websocket request"))
        .expect("a static response"))
}

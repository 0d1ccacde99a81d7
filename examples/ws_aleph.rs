//! Aleph's `websocket` example in weir: the echo handler three ways, and a chat room over the
//! event bus, with two clients talking.
//!
//! ```text
//! cargo run --example ws_aleph -- [--port P] [--self-test]
//! ```
//!
//! Prints `listening on 127.0.0.1:P` once ready (port 10000 by default, 0 picks a free one)
//! and serves until killed. With `--self-test` it picks a free port, runs a client against each
//! route, prints one line per check and exits (status 1 if a check failed).
//!
//! Routes:
//! - `/echo`: `connect(socket, socket)` once the deferred socket is in (an `async` block).
//! - `/echo-chain`: the same as a deferred chain, Manifold style: `try_map` connects and
//!   answers the 101, `catch` answers requests that are not upgrades with a 400.
//! - `/echo-loop`: a loop that takes each message and puts it back.
//! - `/chat`: the first message a client sends is its room, the second its name; from then on
//!   every message is published on the room's topic of an event bus as `name: message`, and
//!   every client of the room (the sender too) receives it.
//!
//! Any of them answers a plain HTTP request with `400 expected websocket request`.

use std::process::ExitCode;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use weir::http::{self, Body, IntoResponse, Request, Response, ServerOptions, StatusCode};
use weir::stream::{self, ConnectOptions, EventBus, Source};
use weir::ws::{self, Message, WebSocket, WebSocketClientOptions, WebSocketOptions};
use weir::{Deferred, Error};

fn main() -> ExitCode {
    let mut port = 10000;
    let mut self_test = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => return usage("--port needs a port number"),
            },
            "--self-test" => self_test = true,
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    if self_test {
        port = 0;
    }
    let chatrooms: EventBus<String, Message> = EventBus::new();
    let handler = move |request: Request<Body>| -> Deferred<Response<Body>, Error> {
        match request.uri().path() {
            "/echo" => Deferred::spawn(echo(request)),
            "/echo-chain" => echo_chain(request),
            "/echo-loop" => Deferred::spawn(echo_loop(request)),
            "/chat" => Deferred::spawn(chat(request, chatrooms.clone())),
            _ => Deferred::succeeded(non_websocket_request()),
        }
    };
    weir::runtime::block_on(async {
        let options = ServerOptions::new().address(([127, 0, 0, 1], port));
        let server = match http::start_server(handler, options).await {
            Ok(server) => server,
            Err(error) => {
                eprintln!("ws_aleph: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("listening on {}", server.local_addr());
        if !self_test {
            let _ = server.wait_for_close().await;
            return ExitCode::SUCCESS;
        }
        let passed =
            match weir::runtime::timeout(Duration::from_secs(30), checks(server.port())).await {
                Ok(passed) => passed,
                Err(_) => {
                    println!("FAIL the checks took more than 30 s");
                    false
                }
            };
        let _ = server.close().await;
        if passed {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}

/// Aleph's `non-websocket-request`.
fn non_websocket_request() -> Response<Body> {
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .header("content-type", "application/text")
        .body(Body::from("expected websocket request"))
        .expect("a static response")
}

/// The first echo handler: wait for the socket, connect it to itself.
async fn echo(mut request: Request<Body>) -> Result<Response<Body>, Error> {
    match ws::websocket_connection(&mut request, WebSocketOptions::new()).await {
        Ok(socket) => {
            stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
            socket.into_response()
        }
        Err(_) => Ok(non_websocket_request()),
    }
}

/// The second: a deferred chain (`d/chain` then `d/catch` in Aleph's).
fn echo_chain(mut request: Request<Body>) -> Deferred<Response<Body>, Error> {
    ws::websocket_connection(&mut request, WebSocketOptions::new())
        .try_map(|socket| {
            stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
            socket.into_response()
        })
        .catch(|_| non_websocket_request())
}

/// The third: a loop of its own, taking each message and putting it back.
async fn echo_loop(mut request: Request<Body>) -> Result<Response<Body>, Error> {
    let Ok(socket) = ws::websocket_connection(&mut request, WebSocketOptions::new()).await else {
        return Ok(non_websocket_request());
    };
    let mut looping = socket.clone();
    weir::runtime::spawn(async move {
        while let Some(message) = looping.next().await {
            if looping.send(message).await.is_err() {
                break;
            }
        }
    })
    .detach();
    socket.into_response()
}

/// The chat room: the room, then the name, then messages published to the room.
async fn chat(
    mut request: Request<Body>,
    chatrooms: EventBus<String, Message>,
) -> Result<Response<Body>, Error> {
    let Ok(socket) = ws::websocket_connection(&mut request, WebSocketOptions::new()).await else {
        return Ok(non_websocket_request());
    };
    let mut conn = socket.clone();
    weir::runtime::spawn(async move {
        let (Some(room), Some(name)) = (conn.next().await, conn.next().await) else {
            return;
        };
        let (Ok(room), Ok(name)) = (room.into_text(), name.into_text()) else {
            return;
        };
        // Everything published to the room goes to this client...
        stream::connect(
            chatrooms.subscribe(room.clone()),
            conn.clone(),
            ConnectOptions::new(),
        );
        // ...and everything it says is published to the room.
        while let Some(message) = conn.next().await {
            if let Message::Text(text) = message {
                let line = Message::Text(format!("{name}: {text}"));
                let _ = chatrooms.publish(&room, line).await;
            }
        }
    })
    .detach();
    socket.into_response()
}

async fn client(port: u16, path: &str) -> Result<WebSocket, Error> {
    let url = format!("ws://127.0.0.1:{port}{path}");
    ws::websocket_client(&url, WebSocketClientOptions::new()).await
}

async fn next_text(socket: &mut WebSocket) -> Option<String> {
    let message = weir::runtime::timeout(Duration::from_secs(5), socket.next()).await;
    message.ok().flatten().and_then(|m| m.into_text().ok())
}

async fn checks(port: u16) -> bool {
    let mut passed = true;
    let mut check = |ok: bool, what: &str| {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        passed &= ok;
    };
    for path in ["/echo", "/echo-chain", "/echo-loop"] {
        match client(port, path).await {
            Ok(mut socket) => {
                let sent = socket.send(format!("hello {path}")).await.is_ok();
                let back = next_text(&mut socket).await;
                check(
                    sent && back.as_deref() == Some(&format!("hello {path}")),
                    &format!("{path} echoes"),
                );
                let _ = socket.close(1000, "").await;
            }
            Err(error) => check(false, &format!("{path}: {error}")),
        }
        let plain = http::get(format!("http://127.0.0.1:{port}{path}")).await;
        let refused = plain.err().and_then(|e| {
            e.downcast_ref::<http::client::ResponseError>()
                .map(|r| r.status())
        });
        check(
            refused == Some(StatusCode::BAD_REQUEST),
            &format!("{path} answers a plain request with 400"),
        );
    }
    let (alice, bob) = (client(port, "/chat").await, client(port, "/chat").await);
    let (Ok(mut alice), Ok(mut bob)) = (alice, bob) else {
        check(false, "two chat clients connect");
        return passed;
    };
    let joined = alice.send("lobby").await.is_ok()
        && alice.send("alice").await.is_ok()
        && bob.send("lobby").await.is_ok()
        && bob.send("bob").await.is_ok();
    // Joining is asynchronous on the server: say hello until bob hears alice.
    let mut heard = None;
    for _ in 0..50 {
        let _ = alice.send("hi bob").await;
        heard = weir::runtime::timeout(Duration::from_millis(100), bob.next())
            .await
            .ok()
            .flatten()
            .and_then(|m| m.into_text().ok());
        if heard.is_some() {
            break;
        }
    }
    check(
        joined && heard.as_deref() == Some("alice: hi bob"),
        "bob hears alice in the lobby",
    );
    let _ = bob.send("hi alice").await;
    let mut alice_heard = Vec::new();
    while let Some(line) = next_text(&mut alice).await {
        let done = line == "bob: hi alice";
        alice_heard.push(line);
        if done {
            break;
        }
    }
    check(
        alice_heard.last().map(String::as_str) == Some("bob: hi alice"),
        "alice hears bob",
    );
    let _ = alice.close(1000, "").await;
    let _ = bob.close(1000, "").await;
    check(alice.drained().await.is_ok(), "alice leaves cleanly");
    passed
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("ws_aleph: {problem}");
    eprintln!("usage: ws_aleph [--port P] [--self-test]");
    ExitCode::FAILURE
}

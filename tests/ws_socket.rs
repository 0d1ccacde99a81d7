//! weir's WebSocket server and client against each other: handshakes (valid and not),
//! messages, closing handshakes and their statuses, drops, pings, heartbeats, limits,
//! backpressure, TLS, proxies, an axum route, and other executors. The independent peers
//! (tokio-tungstenite, Python's websockets, npm's ws, Autobahn) have their own files and
//! scripts.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures::{AsyncReadExt, AsyncWriteExt, SinkExt, StreamExt};
use support::run;
use weir::http::{self, Body, IntoResponse, Request, Response, ServerOptions, StatusCode};
use weir::stream::{self, Channel, ConnectOptions, Source};
use weir::ws::{
    self, CloseFrame, DeflateOptions, Heartbeats, Message, WebSocket, WebSocketClientOptions,
    WebSocketOptions,
};

fn localhost() -> ServerOptions {
    ServerOptions::new().address(([127, 0, 0, 1], 0))
}

/// A server whose sockets are handed to the test through a channel (the handler keeps
/// nothing), and whose non-upgrade requests get a 400 naming the reason.
fn server_with(options: WebSocketOptions) -> (http::Server, Channel<WebSocket>) {
    let sockets = Channel::new(16);
    let handed = sockets.clone();
    let handler = move |mut request: Request<Body>| {
        let options = options.clone();
        let handed = handed.clone();
        async move {
            match ws::websocket_connection(&mut request, options).await {
                Ok(socket) => {
                    let _ = handed.put(socket.clone()).await;
                    socket.into_response()
                }
                Err(error) => Ok(Response::builder()
                    .status(StatusCode::BAD_REQUEST)
                    .body(Body::from(error.to_string()))
                    .unwrap()),
            }
        }
    };
    let server = run(http::start_server(handler, localhost())).unwrap();
    (server, sockets)
}

/// An echo server (every socket connected to itself).
fn echo_server(options: WebSocketOptions) -> http::Server {
    let handler = move |mut request: Request<Body>| {
        let options = options.clone();
        async move {
            let socket = ws::websocket_connection(&mut request, options).await?;
            stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
            socket.into_response()
        }
    };
    run(http::start_server(handler, localhost())).unwrap()
}

fn url(server: &http::Server) -> String {
    format!("ws://127.0.0.1:{}/", server.port())
}

async fn bounded<F: std::future::Future>(future: F) -> F::Output {
    weir::runtime::timeout(support::BOUND, future)
        .await
        .expect("timed out")
}

/// Sends a raw request over a fresh socket and returns the response head.
async fn raw_exchange(server: &http::Server, request: &str) -> String {
    let mut tcp = async_net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 1024];
    while !reply.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tcp.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&reply).into_owned()
}

const UPGRADE: &str = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn smoke_text_and_binary_echo() {
    let server = echo_server(WebSocketOptions::new());
    run(async {
        let mut client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        client.send("héllo").await.unwrap();
        assert_eq!(client.next().await, Some(Message::Text("héllo".into())));
        client
            .send(Bytes::from_static(&[0, 1, 2, 255]))
            .await
            .unwrap();
        assert_eq!(
            client.next().await,
            Some(Message::Binary(Bytes::from_static(&[0, 1, 2, 255])))
        );
        client.send("").await.unwrap();
        assert_eq!(client.next().await, Some(Message::from("")));
        let big = vec![7u8; 1 << 20];
        client.send(big.clone()).await.unwrap();
        assert_eq!(client.next().await.unwrap().into_bytes(), big);
        assert!(client.close(1000, "").await.unwrap());
        client.drained().await.unwrap();
    });
    run(server.close()).unwrap();
}

#[test]
fn the_rfc_accept_key_and_101_headers() {
    let (server, _sockets) = server_with(WebSocketOptions::new().header("x-extra", "yes"));
    let head = run(raw_exchange(&server, UPGRADE));
    let lower = head.to_ascii_lowercase();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        lower.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    assert!(lower.contains("upgrade: websocket"), "{head}");
    assert!(lower.contains("x-extra: yes"), "{head}");
}

#[test]
fn requests_that_are_not_upgrades_get_an_error_the_handler_answers() {
    let (server, _sockets) = server_with(WebSocketOptions::new());
    let cases = [
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "Upgrade: websocket"),
        (
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
            "unsupported version",
        ),
        (
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "Sec-WebSocket-Key",
        ),
        (
            "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "16 bytes",
        ),
        (
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            "must be GET",
        ),
    ];
    for (request, why) in cases {
        let mut tcp = run(async_net::TcpStream::connect(server.local_addr())).unwrap();
        let reply = run(async {
            tcp.write_all(request.as_bytes()).await.unwrap();
            let mut reply = vec![0u8; 4096];
            let mut got = 0;
            while !String::from_utf8_lossy(&reply[..got]).contains(why) {
                let n = tcp.read(&mut reply[got..]).await.unwrap();
                assert!(n > 0, "closed before the reason {why:?}");
                got += n;
            }
            String::from_utf8_lossy(&reply[..got]).into_owned()
        });
        assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    }
}

#[test]
fn a_client_gets_a_clear_error_for_a_server_that_does_not_upgrade() {
    let server = run(http::start_server(
        |_: Request<Body>| {
            Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body(Body::from("no sockets here"))
                .unwrap()
        },
        localhost(),
    ))
    .unwrap();
    let error = run(ws::websocket_client(
        &url(&server),
        WebSocketClientOptions::new(),
    ))
    .unwrap_err();
    assert!(error.is_protocol(), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("404") && text.contains("no sockets here"),
        "{text}"
    );
}

#[test]
fn a_handler_that_answers_something_else_closes_the_socket_with_the_cause() {
    let (tx, rx) = std::sync::mpsc::channel();
    let handler = move |mut request: Request<Body>| {
        let socket = ws::websocket_connection(&mut request, WebSocketOptions::new())
            .wait()
            .unwrap();
        tx.send(socket).unwrap();
        StatusCode::FORBIDDEN
    };
    let server = run(http::start_server(handler, localhost())).unwrap();
    let error = run(ws::websocket_client(
        &url(&server),
        WebSocketClientOptions::new(),
    ))
    .unwrap_err();
    assert!(error.to_string().contains("403"), "{error}");
    let socket = rx.recv_timeout(support::BOUND).unwrap();
    let cause = run(socket.drained()).unwrap_err();
    assert!(cause.to_string().contains("upgrade"), "{cause}");
}

#[test]
fn subprotocols_are_chosen_by_the_servers_preference_among_the_offers() {
    let (server, sockets) = server_with(WebSocketOptions::new().subprotocols(["v2", "v1"]));
    run(async {
        let options = WebSocketClientOptions::new().subprotocols(["v1", "v2", "v3"]);
        let client = ws::websocket_client(&url(&server), options).await.unwrap();
        assert_eq!(client.subprotocol(), Some("v2"));
        let on_server = sockets.take_next().await.unwrap();
        assert_eq!(on_server.subprotocol(), Some("v2"));
        assert_eq!(
            on_server.handshake_headers()["sec-websocket-protocol"],
            "v1, v2, v3"
        );
        let none = ws::websocket_client(
            &url(&server),
            WebSocketClientOptions::new().subprotocols(["v9"]),
        )
        .await
        .unwrap();
        assert_eq!(none.subprotocol(), None);
    });
}

#[test]
fn close_codes_and_reasons_reach_the_other_side_both_ways() {
    let (server, sockets) = server_with(WebSocketOptions::new());
    run(async {
        // The client closes.
        let client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        let on_server = sockets.take_next().await.unwrap();
        assert!(client.close(4001, "bye").await.unwrap());
        let cause = on_server.drained().await.unwrap_err();
        let status = cause.downcast_ref::<CloseFrame>().unwrap();
        assert_eq!((status.code(), status.reason()), (4001, "bye"));
        assert_eq!(on_server.close_status(), Some(CloseFrame::new(4001, "bye")));
        assert_eq!(client.close_status().unwrap().code(), 4001, "echoed");
        let closed = on_server.description();
        assert!(
            closed
                .extra
                .iter()
                .any(|(k, v)| k == "close" && v == "4001 bye"),
            "{closed:?}"
        );

        // The server closes.
        let client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        let on_server = sockets.take_next().await.unwrap();
        assert!(on_server.close(1008, "policy").await.unwrap());
        let cause = client.drained().await.unwrap_err();
        assert_eq!(
            cause.downcast_ref::<CloseFrame>(),
            Some(&CloseFrame::new(1008, "policy"))
        );
        client.socket_closed().await.unwrap();
        // Normal closes and going away drain cleanly.
        for code in [1000, 1001] {
            let client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
                .await
                .unwrap();
            let on_server = sockets.take_next().await.unwrap();
            on_server.close(code, "").await.unwrap();
            client.drained().await.unwrap();
            assert_eq!(client.close_status().unwrap().code(), code);
        }
    });
}

#[test]
fn invalid_close_codes_fail_without_sending() {
    let server = echo_server(WebSocketOptions::new());
    run(async {
        let mut client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        for code in [0, 999, 1004, 1005, 1006, 1015, 2000, 2999, 5000] {
            assert!(client.close(code, "").await.is_err(), "{code}");
        }
        assert!(client.close(1000, &"x".repeat(124)).await.is_err());
        client.send("still open").await.unwrap();
        assert_eq!(client.next().await, Some(Message::from("still open")));
    });
}

#[test]
fn dropping_every_handle_closes_with_1000() {
    let (server, sockets) = server_with(WebSocketOptions::new());
    run(async {
        let client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        let on_server = sockets.take_next().await.unwrap();
        drop(client);
        on_server.drained().await.unwrap();
        assert_eq!(on_server.close_status().unwrap().code(), 1000);
        on_server.socket_closed().await.unwrap();
    });
}

#[test]
fn closing_the_sink_sends_the_close_after_what_was_put() {
    let (server, sockets) = server_with(WebSocketOptions::new());
    run(async {
        let mut client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        let mut on_server = sockets.take_next().await.unwrap();
        for i in 0..100 {
            client.feed(format!("message {i}")).await.unwrap();
        }
        SinkExt::<Message>::close(&mut client).await.unwrap();
        let mut got = Vec::new();
        while let Some(message) = on_server.next().await {
            got.push(message.into_text().unwrap());
        }
        assert_eq!(got.len(), 100);
        assert_eq!(got[99], "message 99");
        on_server.drained().await.unwrap();
        assert!(
            client.send("late").await.is_err(),
            "nothing goes out after the close"
        );
    });
}

#[test]
fn an_end_without_a_close_frame_is_1006() {
    let (server, sockets) = server_with(WebSocketOptions::new());
    run(async {
        let mut tcp = async_net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        tcp.write_all(UPGRADE.as_bytes()).await.unwrap();
        let mut buf = [0u8; 512];
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 101"));
        let on_server = sockets.take_next().await.unwrap();
        drop(tcp);
        let cause = on_server.drained().await.unwrap_err();
        assert_eq!(cause.downcast_ref::<CloseFrame>().unwrap().code(), 1006);
        assert_eq!(
            on_server.close_status().unwrap().code(),
            CloseFrame::ABNORMAL
        );
    });
}

#[test]
fn pings_are_answered_and_false_once_closed() {
    let server = echo_server(WebSocketOptions::new());
    run(async {
        let client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        let (a, b) = (client.ping("one"), client.ping("two"));
        assert!(a.await.unwrap() && b.await.unwrap());
        client.close(1000, "").await.unwrap();
        assert!(!client.ping("late").await.unwrap());
    });
}

/// Reads one frame's header and payload from a raw (unmasked, server-to-client) stream.
async fn read_frame(tcp: &mut async_net::TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    tcp.read_exact(&mut head).await.unwrap();
    let len = (head[1] & 0x7f) as usize;
    assert!(len < 126);
    let mut payload = vec![0u8; len];
    tcp.read_exact(&mut payload).await.unwrap();
    (head[0] & 0x0f, payload)
}

#[test]
fn an_unanswered_heartbeat_closes_with_1011() {
    let heartbeats = Heartbeats::new(Duration::from_millis(100))
        .timeout(Duration::from_millis(200))
        .payload("tick");
    let (server, sockets) = server_with(WebSocketOptions::new().heartbeats(heartbeats));
    run(async {
        // A raw client that upgrades, then never answers.
        let mut tcp = async_net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        tcp.write_all(UPGRADE.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            tcp.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        let on_server = sockets.take_next().await.unwrap();
        assert_eq!(
            read_frame(&mut tcp).await,
            (0x9, b"tick".to_vec()),
            "a ping"
        );
        let (opcode, payload) = read_frame(&mut tcp).await;
        assert_eq!(opcode, 0x8, "then a close");
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1011);
        assert_eq!(&payload[2..], b"heartbeat timeout");
        let cause = on_server.drained().await.unwrap_err();
        assert!(cause.is_timeout(), "{cause}");
        let described = on_server.description();
        assert!(
            described
                .extra
                .iter()
                .any(|(k, v)| k == "failed" && v.starts_with("1011"))
        );
    });
}

#[test]
fn heartbeats_keep_a_live_connection_open() {
    let heartbeats = Heartbeats::new(Duration::from_millis(50)).timeout(Duration::from_secs(5));
    let server = echo_server(WebSocketOptions::new().heartbeats(heartbeats));
    run(async {
        let mut client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        // Several heartbeat intervals pass while the client waits for its echo, which the
        // server sends only once the message arrives: the socket must still be open.
        for i in 0..5 {
            weir::runtime::sleep(Duration::from_millis(60)).await; // let heartbeats run
            client.send(format!("{i}")).await.unwrap();
            assert_eq!(client.next().await, Some(Message::from(format!("{i}"))));
        }
        assert!(client.close_status().is_none());
    });
}

#[test]
fn messages_past_the_size_limit_close_with_1009() {
    let server = echo_server(WebSocketOptions::new().max_message_size(1024));
    run(async {
        let mut client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        client.send(vec![1u8; 1024]).await.unwrap();
        assert_eq!(client.next().await.unwrap().len(), 1024);
        client.send(vec![1u8; 2048]).await.unwrap();
        assert_eq!(client.next().await, None);
        let cause = client.drained().await.unwrap_err();
        assert_eq!(cause.downcast_ref::<CloseFrame>().unwrap().code(), 1009);
    });
}

#[test]
fn a_slow_consumer_stops_the_sender() {
    let (server, sockets) = server_with(WebSocketOptions::new().inbound_buffer(1));
    run(async {
        let mut client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        let mut on_server = sockets.take_next().await.unwrap();
        // Nobody takes on the server: after the socket buffers and the kernel's fill up, a
        // send stops completing.
        let chunk = vec![0u8; 256 * 1024];
        // The first goes through whatever the machine's load.
        client.send(chunk.clone()).await.unwrap();
        let mut sent = 1usize;
        loop {
            let send = client.send(chunk.clone());
            match weir::runtime::timeout(Duration::from_millis(500), send).await {
                Ok(outcome) => {
                    outcome.unwrap();
                    sent += 1;
                    assert!(sent < 400, "100 MiB went out with nobody reading");
                }
                Err(_) => break,
            }
        }
        // Taking everything lets it all through, nothing lost.
        let mut got = 0usize;
        while got < sent {
            assert_eq!(on_server.next().await.unwrap().len(), chunk.len());
            got += 1;
        }
        assert!(sent >= 1);
    });
}

#[test]
fn compression_is_negotiated_and_messages_round_trip() {
    let server = echo_server(WebSocketOptions::new().compression(DeflateOptions::new()));
    run(async {
        let options = WebSocketClientOptions::new().compression(DeflateOptions::new());
        let mut client = ws::websocket_client(&url(&server), options).await.unwrap();
        assert!(client.is_compressed());
        let text = "the quick brown fox jumps over the lazy dog ".repeat(1000);
        for _ in 0..3 {
            client.send(text.clone()).await.unwrap();
            assert_eq!(client.next().await.unwrap().as_text(), Some(text.as_str()));
        }
        let described = client.description();
        assert!(
            described
                .extra
                .iter()
                .any(|(k, v)| k == "compression" && v.starts_with("permessage-deflate"))
        );
        // A client without compression gets none.
        let plain = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        assert!(!plain.is_compressed());
    });
}

#[test]
fn a_server_that_never_answers_is_a_handshake_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let options = WebSocketClientOptions::new().handshake_timeout(Duration::from_millis(200));
    let error = run(ws::websocket_client(
        &format!("ws://127.0.0.1:{port}/"),
        options,
    ))
    .unwrap_err();
    assert!(error.is_timeout(), "{error}");
    drop(listener);
}

#[test]
fn wss_with_a_self_signed_certificate() {
    let certificate = weir::tls::self_signed(&["localhost"]).unwrap();
    let handler = |mut request: Request<Body>| async move {
        let socket = ws::websocket_connection(&mut request, WebSocketOptions::new()).await?;
        stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
        socket.into_response()
    };
    let server = run(http::start_server(
        handler,
        localhost().tls(certificate.server_config()),
    ))
    .unwrap();
    run(async {
        let options = WebSocketClientOptions::new().tls(certificate.client_config_trusting_it());
        let url = format!("wss://localhost:{}/", server.port());
        let mut client = ws::websocket_client(&url, options).await.unwrap();
        client.send("secret").await.unwrap();
        assert_eq!(client.next().await, Some(Message::from("secret")));
        // Without trusting it: a TLS error.
        let error = ws::websocket_client(&url, WebSocketClientOptions::new())
            .await
            .unwrap_err();
        assert!(error.is_protocol(), "{error}");
    });
}

#[test]
fn through_an_http_proxy_by_connect() {
    let server = echo_server(WebSocketOptions::new());
    let (proxy, seen) = support::proxy::http_proxy();
    run(async {
        let options = WebSocketClientOptions::new()
            .proxy(http::client::Proxy::http("127.0.0.1", proxy.port()));
        let mut client = ws::websocket_client(&url(&server), options).await.unwrap();
        client.send("via proxy").await.unwrap();
        assert_eq!(client.next().await, Some(Message::from("via proxy")));
    });
    let seen = seen.lock().unwrap();
    assert!(
        seen[0].starts_with(&format!("CONNECT 127.0.0.1:{} HTTP/1.1", server.port())),
        "{seen:?}"
    );
}

#[test]
fn through_a_socks5_proxy() {
    let server = echo_server(WebSocketOptions::new());
    let (proxy, seen) = support::proxy::socks5_proxy();
    run(async {
        let options = WebSocketClientOptions::new()
            .proxy(http::client::Proxy::socks5("127.0.0.1", proxy.port()));
        let mut client = ws::websocket_client(&url(&server), options).await.unwrap();
        client.send("via socks").await.unwrap();
        assert_eq!(client.next().await, Some(Message::from("via socks")));
    });
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [format!("127.0.0.1:{}", server.port())]
    );
}

#[test]
fn the_socket_in_the_graph() {
    let (server, sockets) = server_with(WebSocketOptions::new());
    run(async {
        let client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        let on_server = sockets.take_next().await.unwrap();
        let described = client.description();
        assert_eq!(described.kind, "websocket");
        let extra = |d: &weir::stream::Description, key: &str| {
            d.extra
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(extra(&described, "role").as_deref(), Some("client"));
        assert_eq!(extra(&described, "state").as_deref(), Some("open"));
        assert_eq!(
            extra(&on_server.description(), "role").as_deref(),
            Some("server")
        );
        assert_eq!(
            extra(&described, "remote"),
            Some(server.local_addr().to_string())
        );
        assert_eq!(on_server.remote_addr(), client.local_addr());
        client.close(1000, "").await.unwrap();
        assert_eq!(
            extra(&client.description(), "state").as_deref(),
            Some("closed")
        );
    });
}

#[test]
fn an_axum_route_upgrades_through_weir() {
    let route = axum::routing::get(|mut request: axum::extract::Request| async move {
        match ws::websocket_connection(&mut request, WebSocketOptions::new()).await {
            Ok(socket) => {
                stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
                socket.into_response().unwrap()
            }
            Err(_) => Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .body(Body::from("expected websocket request"))
                .unwrap(),
        }
    });
    let router = axum::Router::new().route("/ws", route);
    let server = run(http::start_server(http::service(router), localhost())).unwrap();
    run(async {
        let url = format!("ws://127.0.0.1:{}/ws", server.port());
        let mut client = ws::websocket_client(&url, WebSocketClientOptions::new())
            .await
            .unwrap();
        client.send("from axum").await.unwrap();
        assert_eq!(client.next().await, Some(Message::from("from axum")));
    });
}

#[test]
fn works_under_tokio() {
    let server = echo_server(WebSocketOptions::new());
    let url = url(&server);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        bounded(async {
            let mut client = ws::websocket_client(&url, WebSocketClientOptions::new())
                .await
                .unwrap();
            client.send("on tokio").await.unwrap();
            assert_eq!(client.next().await, Some(Message::from("on tokio")));
        })
        .await
    });
}

#[async_std::test]
async fn works_under_async_std() {
    let server = echo_server(WebSocketOptions::new());
    bounded(async {
        let mut client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        client.send("on async-std").await.unwrap();
        assert_eq!(client.next().await, Some(Message::from("on async-std")));
    })
    .await;
}

#[test]
fn closing_the_server_says_going_away_to_its_sockets() {
    let server = echo_server(WebSocketOptions::new());
    run(async {
        let mut client = ws::websocket_client(&url(&server), WebSocketClientOptions::new())
            .await
            .unwrap();
        client.send("before").await.unwrap();
        assert_eq!(client.next().await, Some(Message::from("before")));
        let closing = server.close();
        assert_eq!(client.next().await, None);
        client.drained().await.unwrap();
        assert_eq!(
            client.close_status(),
            Some(CloseFrame::new(1001, "server shutting down"))
        );
        closing.await.unwrap();
    });
}

#[test]
fn a_peer_that_stops_reading_cannot_hold_a_closing_socket_open() {
    let options = WebSocketOptions::new().close_timeout(Duration::from_millis(200));
    let (server, sockets) = server_with(options);
    run(async {
        // A raw client that upgrades, then never reads again.
        let mut tcp = async_net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        tcp.write_all(UPGRADE.as_bytes()).await.unwrap();
        let on_server = sockets.take_next().await.unwrap();
        // Fill the socket's buffers: puts stop completing once the kernel's are full.
        let mut writer = on_server.clone();
        loop {
            let send = writer.send(vec![0u8; 1 << 20]);
            if weir::runtime::timeout(Duration::from_millis(300), send)
                .await
                .is_err()
            {
                break;
            }
        }
        let closed = on_server.close(1000, "");
        assert!(closed.await.unwrap(), "the close timeout ends it");
        on_server.socket_closed().await.unwrap();
        assert_eq!(on_server.close_status().unwrap().code(), 1006);
        drop(tcp);
    });
}

#[test]
fn realizing_the_client_deferred_with_an_error_abandons_the_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connecting = ws::websocket_client(
        &format!("ws://127.0.0.1:{port}/"),
        WebSocketClientOptions::new(),
    );
    run(async {
        let listener = async_net::TcpListener::try_from(listener).unwrap();
        let (mut tcp, _) = listener.accept().await.unwrap();
        // The request arrives; the server never answers, and the caller gives up.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            tcp.read_exact(&mut byte).await.unwrap();
            head.push(byte[0]);
        }
        connecting.error(weir::Error::cancelled());
        let mut rest = Vec::new();
        assert_eq!(
            tcp.read_to_end(&mut rest).await.unwrap(),
            0,
            "the client closed it"
        );
        assert!(connecting.await.unwrap_err().is_cancelled());
    });
}

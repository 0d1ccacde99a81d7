//! Servers that misbehave (raw sockets written here): a close mid-body, a bad chunk size, a
//! Content-Length longer than the body, oversized headers, no answer at all, an answer before
//! the request body was sent. Each gives a clear error of the right kind, nothing hangs, and
//! the next request works (no broken connection is reused). And the response size limit.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use support::http_client::{PROTOS, RawRequest, RawServer, Target, bounded, localhost, serve_raw};
use support::run;
use weir::Error;
use weir::http::{Body, Client, ClientOptions, ClientRequest, HttpError, Method, StatusCode};

/// A raw server answering `/bad` with `reply` (then closing the connection when `close`),
/// and anything else with a well-formed kept-alive `200 ok`.
fn misbehaving(reply: &'static [u8], close: bool) -> RawServer {
    RawServer::start(move |stream, _| {
        serve_raw(
            stream,
            move |request: &RawRequest, stream: &mut TcpStream| {
                if request.path != "/bad" {
                    return None;
                }
                let _ = stream.write_all(reply);
                let _ = stream.flush();
                if close {
                    let _ = stream.shutdown(Shutdown::Write);
                    return Some(false);
                }
                // Keep the connection open without a word more, until the client gives up.
                let mut sink = [0u8; 1024];
                while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
                Some(false)
            },
        )
    })
}

/// The request to `/ok` that must work after the misbehaviour, on a fresh connection.
async fn next_request_works(client: &Client, server: &RawServer, connections: usize) {
    let response = bounded(client.get(server.url("/ok"))).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        bounded(response.into_body().to_bytes(64)).await.unwrap(),
        "ok"
    );
    assert_eq!(server.accepted.get(), connections, "a fresh connection");
}

/// The error the body of `/bad` ends with (its head must arrive).
async fn body_error(client: &Client, server: &RawServer) -> Error {
    // Warm up: a kept-alive connection that `/bad` then reuses.
    next_request_works(client, server, 1).await;
    let response = bounded(client.get(server.url("/bad"))).await.unwrap();
    assert_eq!(response.status(), 200);
    let error = bounded(response.into_body().to_bytes(1 << 20))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains(&server.addr.to_string()), "{message}");
    error
}

#[test]
fn a_close_mid_body_is_a_closed_connection() {
    let server = misbehaving(
        b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this",
        true,
    );
    let client = Client::new();
    run(async {
        let error = body_error(&client, &server).await;
        assert!(error.is_closed(), "{error}");
        next_request_works(&client, &server, 2).await;
    });
}

#[test]
fn a_close_mid_chunked_body_is_a_closed_connection() {
    let server = misbehaving(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n",
        true,
    );
    let client = Client::new();
    run(async {
        let error = body_error(&client, &server).await;
        assert!(error.is_closed(), "{error}");
        next_request_works(&client, &server, 2).await;
    });
}

#[test]
fn a_bad_chunk_size_is_a_protocol_error() {
    let server = misbehaving(
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        false,
    );
    let client = Client::new();
    run(async {
        let error = body_error(&client, &server).await;
        assert!(error.is_protocol(), "{error}");
        next_request_works(&client, &server, 2).await;
    });
}

#[test]
fn a_content_length_longer_than_the_body_then_a_close_is_a_closed_connection() {
    let server = misbehaving(b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\nshort", true);
    let client = Client::new();
    run(async {
        let error = body_error(&client, &server).await;
        assert!(error.is_closed(), "{error}");
        next_request_works(&client, &server, 2).await;
    });
}

#[test]
fn a_content_length_longer_than_the_body_then_silence_is_a_read_timeout() {
    let server = misbehaving(b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\n\r\nshort", false);
    let client = Client::with_options(
        ClientOptions::new()
            .read_timeout(Duration::from_millis(200))
            .connections_per_host(1),
    );
    run(async {
        let error = body_error(&client, &server).await;
        assert!(error.is_read_timeout(), "{error}");
        next_request_works(&client, &server, 2).await;
    });
}

#[test]
fn oversized_response_headers_are_a_protocol_error() {
    let server = RawServer::start(|stream, _| {
        serve_raw(stream, |request, stream| {
            if request.path != "/bad" {
                return None;
            }
            let mut reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-huge: ".to_vec();
            reply.extend(std::iter::repeat_n(b'h', 1 << 20));
            reply.extend_from_slice(b"\r\n\r\nok");
            let _ = stream.write_all(&reply);
            Some(false)
        })
    });
    let client = Client::new();
    run(async {
        next_request_works(&client, &server, 1).await;
        let error = bounded(client.get(server.url("/bad"))).await.unwrap_err();
        assert!(error.is_protocol(), "{error}");
        next_request_works(&client, &server, 2).await;
    });
}

#[test]
fn too_many_response_headers_are_a_protocol_error() {
    let server = RawServer::start(|stream, _| {
        serve_raw(stream, |request, stream| {
            if request.path != "/bad" {
                return None;
            }
            let mut reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n".to_vec();
            for i in 0..500 {
                reply.extend_from_slice(format!("x-{i}: {i}\r\n").as_bytes());
            }
            reply.extend_from_slice(b"\r\nok");
            let _ = stream.write_all(&reply);
            Some(false)
        })
    });
    let client = Client::new();
    run(async {
        next_request_works(&client, &server, 1).await;
        let error = bounded(client.get(server.url("/bad"))).await.unwrap_err();
        assert!(error.is_protocol(), "{error}");
        next_request_works(&client, &server, 2).await;
    });
}

#[test]
fn a_server_that_never_answers_is_bounded_by_the_request_timeout() {
    let server = RawServer::start(|stream, _| {
        serve_raw(stream, |request, stream| {
            if request.path != "/bad" {
                return None;
            }
            let mut sink = [0u8; 1024];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            Some(false)
        })
    });
    let client = Client::with_options(
        ClientOptions::new()
            .request_timeout(Duration::from_millis(200))
            .connections_per_host(1),
    );
    run(async {
        next_request_works(&client, &server, 1).await;
        let error = bounded(client.get(server.url("/bad"))).await.unwrap_err();
        assert!(error.is_request_timeout(), "{error}");
        assert!(
            error.to_string().contains(&server.addr.to_string()),
            "{error}"
        );
        // Not retried: a timeout is no proof the server did not act on the request.
        next_request_works(&client, &server, 2).await;
        let stats = &client.stats()[0];
        assert_eq!(
            stats.open, 1,
            "the connection left waiting was closed: {stats:?}"
        );
    });
}

#[test]
fn an_answer_before_the_request_body_was_sent_is_the_response() {
    let server = RawServer::start(|stream, _| {
        serve_raw(stream, |request, stream| {
            if request.path != "/bad" {
                return None;
            }
            // Refuses the upload at once, without reading it, and closes.
            let _ = stream.write_all(
                b"HTTP/1.1 413 Payload Too Large\r\ncontent-length: 8\r\nconnection: close\r\n\r\ntoo big!",
            );
            let _ = stream.shutdown(Shutdown::Write);
            // Drain what the client still sends, so that closing does not reset the
            // connection under the response.
            let mut sink = [0u8; 1 << 16];
            while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
            Some(false)
        })
    });
    let client = Client::new();
    run(async {
        next_request_works(&client, &server, 1).await;
        let chunks: Vec<Bytes> = (0..64).map(|_| Bytes::from(vec![b'u'; 1 << 16])).collect();
        let upload = Body::from_source(weir::stream::iter(chunks));
        let request = ClientRequest::new(Method::POST, server.url("/bad"))
            .header("content-length", (64u32 << 16).to_string())
            .body(upload)
            .throw_on_status(false);
        match bounded(client.request(request)).await {
            Ok(response) => {
                assert_eq!(response.status(), 413);
                let body = bounded(response.into_body().to_bytes(64)).await.unwrap();
                assert_eq!(body, "too big!");
            }
            // The response may be lost to the reset of the unread upload: then a clear error.
            Err(error) => {
                assert!(error.is_closed() || error.is_io(), "{error}");
            }
        }
        next_request_works(&client, &server, 2).await;
    });
}

#[test]
fn a_response_body_over_the_limit_is_a_413_error() {
    for proto in PROTOS {
        let target = Target::weir(
            proto,
            |request: weir::http::Request<Body>| match request.uri().path() {
                "/big" => Body::from(vec![b'b'; 256 << 10]),
                _ => Body::from("small"),
            },
            localhost(),
        );
        let client = Client::with_options(target.client_options().max_response_body_size(1000));
        run(async {
            let response = bounded(client.get(target.url("/big"))).await.unwrap();
            let mut body = response.into_body();
            let mut yielded = 0;
            let error = loop {
                match bounded(body.frame()).await {
                    Some(Ok(frame)) => yielded += frame.data_ref().map_or(0, Bytes::len),
                    Some(Err(error)) => break error,
                    None => panic!("{proto:?}: the body ended within the limit"),
                }
            };
            assert!(
                yielded <= 1000,
                "{proto:?}: {yielded} bytes yielded past the limit"
            );
            assert_eq!(
                HttpError::status_of(&error),
                Some(StatusCode::PAYLOAD_TOO_LARGE),
                "{proto:?}: {error}"
            );
            let response = bounded(client.get(target.url("/small"))).await.unwrap();
            assert_eq!(
                bounded(response.into_body().to_bytes(64)).await.unwrap(),
                "small"
            );
        });
    }
}

/// What the raw HTTP/2 server does with a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum H2Misbehaviour {
    /// Answers `/reset` with a head and a first chunk, then resets the stream once the test
    /// says it read the chunk.
    ResetMidBody,
    /// Holds `/goaway` unanswered and shuts the connection down abruptly (GOAWAY with an
    /// error, streams in flight).
    AbruptGoaway,
}

/// A raw HTTP/2 (h2c) server of the h2 crate on tokio, answering `ok` to anything but the
/// misbehaving path. It counts connections; `read` tells it the test read the first chunk.
struct H2Server {
    addr: std::net::SocketAddr,
    accepted: support::http_client::Counter,
    read: async_channel::Sender<()>,
}

fn h2_server(misbehaviour: H2Misbehaviour) -> H2Server {
    use h2::Reason;
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (read, was_read) = async_channel::unbounded::<()>();
    let accepted = support::http_client::Counter::default();
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                counter.hit();
                let was_read = was_read.clone();
                tokio::spawn(async move {
                    let Ok(mut connection) = h2::server::handshake(tcp).await else {
                        return;
                    };
                    let mut held = Vec::new();
                    while let Some(Ok((request, mut respond))) = connection.accept().await {
                        let path = request.uri().path().to_string();
                        match (misbehaviour, path.as_str()) {
                            (H2Misbehaviour::ResetMidBody, "/reset") => {
                                let was_read = was_read.clone();
                                tokio::spawn(async move {
                                    let response = http::Response::new(());
                                    let mut stream = respond.send_response(response, false)?;
                                    stream.send_data(Bytes::from("partial"), false)?;
                                    let _ = was_read.recv().await;
                                    stream.send_reset(Reason::INTERNAL_ERROR);
                                    Ok::<(), h2::Error>(())
                                });
                            }
                            (H2Misbehaviour::AbruptGoaway, "/goaway") => {
                                held.push(respond);
                                connection.abrupt_shutdown(Reason::INTERNAL_ERROR);
                            }
                            _ => {
                                if let Ok(mut stream) =
                                    respond.send_response(http::Response::new(()), false)
                                {
                                    let _ = stream.send_data(Bytes::from("ok"), true);
                                }
                            }
                        }
                    }
                });
            }
        });
    });
    let addr = addr_rx.recv_timeout(support::BOUND).unwrap();
    H2Server {
        addr,
        accepted,
        read,
    }
}

fn h2c_client() -> Client {
    Client::with_options(support::http_client::client_options_for(
        support::http_client::Proto::H2c,
        None,
    ))
}

async fn h2_ok(client: &Client, server: &H2Server) {
    let url = format!("http://{}/ok", server.addr);
    let response = bounded(client.get(url)).await.unwrap();
    assert_eq!(response.version(), weir::http::Version::HTTP_2);
    assert_eq!(
        bounded(response.into_body().to_bytes(64)).await.unwrap(),
        "ok"
    );
}

#[test]
fn an_http2_stream_reset_mid_body_is_a_closed_stream_and_the_connection_goes_on() {
    let server = h2_server(H2Misbehaviour::ResetMidBody);
    let client = h2c_client();
    run(async {
        h2_ok(&client, &server).await;
        let response = bounded(client.get(format!("http://{}/reset", server.addr)))
            .await
            .unwrap();
        let mut body = response.into_body();
        let first = bounded(body.frame()).await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "partial");
        server.read.try_send(()).unwrap();
        let error = bounded(body.frame()).await.unwrap().unwrap_err();
        assert!(error.is_closed(), "{error}");
        assert!(
            error.to_string().contains("stream error received"),
            "{error}"
        );
        // Only the stream was reset: the connection serves the next request.
        h2_ok(&client, &server).await;
        assert_eq!(server.accepted.get(), 1);
        assert_eq!(client.stats()[0].connects, 1);
    });
}

#[test]
fn an_http2_goaway_with_a_stream_in_flight_fails_it_and_the_next_request_connects_anew() {
    let server = h2_server(H2Misbehaviour::AbruptGoaway);
    let client = h2c_client();
    run(async {
        h2_ok(&client, &server).await;
        let error = bounded(client.get(format!("http://{}/goaway", server.addr)))
            .await
            .unwrap_err();
        assert!(error.is_closed() || error.is_io(), "{error}");
        // The GET went once more on a fresh connection (idempotent, no response yet), and
        // met the same GOAWAY there.
        assert_eq!(server.accepted.get(), 2);
        // The next request does not stick to the dying connections.
        h2_ok(&client, &server).await;
        assert_eq!(
            server.accepted.get(),
            3,
            "a fresh connection after the GOAWAY"
        );
        // A POST is not sent again.
        let request = ClientRequest::new(Method::POST, format!("http://{}/goaway", server.addr));
        let error = bounded(client.request(request)).await.unwrap_err();
        assert!(error.is_closed() || error.is_io(), "{error}");
        h2_ok(&client, &server).await;
        assert_eq!(server.accepted.get(), 4);
    });
}

/// A frame-level HTTP/2 (h2c) server that never answers a request: it acknowledges the
/// client's SETTINGS, answers PINGs only when `answer_pings`, and reports each PING it gets on
/// `pings`.
struct PingServer {
    addr: std::net::SocketAddr,
    accepted: support::Counter,
    pings: async_channel::Receiver<()>,
}

fn ping_server(answer_pings: bool) -> PingServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = support::Counter::default();
    let counter = accepted.clone();
    let (ping, pings) = async_channel::unbounded();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            counter.hit();
            let ping = ping.clone();
            std::thread::spawn(move || {
                stream.set_read_timeout(Some(support::BOUND)).unwrap();
                let mut preface = [0u8; 24];
                if stream.read_exact(&mut preface).is_err() {
                    return;
                }
                // The server's SETTINGS (none changed).
                let _ = stream.write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
                loop {
                    let mut head = [0u8; 9];
                    if stream.read_exact(&mut head).is_err() {
                        return;
                    }
                    let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
                    let mut payload = vec![0u8; length];
                    if stream.read_exact(&mut payload).is_err() {
                        return;
                    }
                    match (head[3], head[4] & 1) {
                        // SETTINGS: acknowledged.
                        (4, 0) => {
                            let _ = stream.write_all(&[0, 0, 0, 4, 1, 0, 0, 0, 0]);
                        }
                        // PING: reported, and answered with an ACK of the same payload.
                        (6, 0) => {
                            let _ = ping.try_send(());
                            if answer_pings {
                                let mut pong = vec![0, 0, 8, 6, 1, 0, 0, 0, 0];
                                pong.extend_from_slice(&payload);
                                let _ = stream.write_all(&pong);
                            }
                        }
                        _ => {}
                    }
                }
            });
        }
    });
    PingServer {
        addr,
        accepted,
        pings,
    }
}

fn pinging_client() -> Client {
    Client::with_options(
        support::http_client::client_options_for(support::http_client::Proto::H2c, None)
            .http2_keep_alive_interval(Duration::from_millis(50))
            .http2_keep_alive_timeout(Duration::from_millis(200)),
    )
}

#[test]
fn an_http2_connection_whose_pings_go_unanswered_is_closed_and_its_request_fails() {
    let server = ping_server(false);
    let client = pinging_client();
    run(async {
        // No request timeout is set: only the keep-alive ends the wait.
        let error = bounded(client.get(format!("http://{}/held", server.addr)))
            .await
            .unwrap_err();
        assert!(error.is_closed(), "{error}");
        let text = error.to_string();
        assert!(
            text.contains("no PONG to a keep-alive PING within 200ms")
                && text.contains(&server.addr.to_string()),
            "the error says why and where: {error}"
        );
        assert!(server.pings.try_recv().is_ok(), "a PING was sent");
        // Not sent again: the connection was a fresh one, not a reused one the server may
        // have closed meanwhile.
        assert_eq!(server.accepted.get(), 1);
        // The connection leaves the pool once its task has ended (which may be just after
        // the request's error arrives): polled, bounded.
        bounded(async {
            while client.stats()[0].open != 0 {
                weir::runtime::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
    });
}

#[test]
fn an_http2_connection_whose_pings_are_answered_stays_open() {
    let server = ping_server(true);
    let client = pinging_client();
    run(async {
        let request = client.get(format!("http://{}/held", server.addr));
        // Three PINGs, each answered: a PING an interval after each PONG.
        for _ in 0..3 {
            bounded(server.pings.recv()).await.unwrap();
        }
        assert!(
            !request.is_realized(),
            "the request still waits for its answer"
        );
        assert_eq!(server.accepted.get(), 1);
        assert_eq!(client.stats()[0].open, 1);
    });
}

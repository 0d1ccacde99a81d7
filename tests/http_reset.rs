//! A peer that goes away mid-exchange: an HTTP/2 RST_STREAM or a closed HTTP/1.1 connection
//! ends the request body with an error and makes the response source's puts fail.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use support::http::{bounded, localhost, run_tokio, start};
use weir::http::{Body, Request, Response, Server};
use weir::stream::Channel;
use weir::{Deferred, Error};

/// What the handler saw: the outcome of reading the whole request body, or of its puts.
type Seen = Arc<Mutex<Option<Deferred<String, Error>>>>;

fn seen_slot() -> (Seen, Deferred<String, Error>) {
    let outcome = Deferred::new();
    (Arc::new(Mutex::new(Some(outcome.clone()))), outcome)
}

/// `/read`: reads the whole body and reports how that ended. `/stream`: streams from a
/// channel until a put fails, and reports that.
fn server(options: weir::http::ServerOptions, seen: Seen) -> Server {
    start(
        move |request: Request<Body>| {
            let seen = seen.lock().unwrap().take().expect("one request");
            if request.uri().path() == "/read" {
                weir::runtime::spawn(async move {
                    let outcome = match request.into_body().to_bytes(64 << 20).await {
                        Ok(bytes) => format!("read {}", bytes.len()),
                        Err(error) => format!("failed: {error}"),
                    };
                    seen.success(outcome);
                })
                .detach();
                return Response::new(Body::from("never seen"));
            }
            let channel: Channel<Bytes> = Channel::new(1);
            let feeder = channel.clone();
            weir::runtime::spawn(async move {
                let mut puts = 0u64;
                loop {
                    match feeder.put(Bytes::from(vec![b'x'; 16 << 10])).await {
                        Ok(()) => puts += 1,
                        Err(_) => break,
                    }
                    if puts > 100_000 {
                        break;
                    }
                }
                seen.success(format!("puts stopped after {puts}"));
            })
            .detach();
            Response::new(Body::from_source(channel))
        },
        options,
    )
}

#[test]
fn rst_stream_ends_the_request_body_with_an_error() {
    let (seen, outcome) = seen_slot();
    let server = server(localhost().use_h2c(true), seen);
    let addr = server.local_addr();
    run_tokio(async move {
        let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
        tokio::spawn(connection);
        let mut send = bounded(send.ready()).await.unwrap();
        let request = Request::post("http://localhost/read").body(()).unwrap();
        let (_response, mut stream) = send.send_request(request, false).unwrap();
        stream
            .send_data(Bytes::from_static(b"some of the body"), false)
            .unwrap();
        stream.send_reset(h2::Reason::CANCEL);
        let outcome = bounded(outcome).await.unwrap();
        assert!(outcome.starts_with("failed"), "{outcome}");
        // The connection still serves other streams.
        let _ = send;
    });
}

#[test]
fn rst_stream_makes_the_response_puts_fail() {
    let (seen, outcome) = seen_slot();
    let server = server(localhost().use_h2c(true), seen);
    let addr = server.local_addr();
    run_tokio(async move {
        let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
        tokio::spawn(connection);
        let mut send = bounded(send.ready()).await.unwrap();
        let request = Request::get("http://localhost/stream").body(()).unwrap();
        let (response, mut stream) = send.send_request(request, true).unwrap();
        let response = bounded(response).await.unwrap();
        let mut body = response.into_body();
        let first = bounded(body.data()).await.unwrap().unwrap();
        assert!(!first.is_empty());
        stream.send_reset(h2::Reason::CANCEL);
        drop(body);
        let outcome = bounded(outcome).await.unwrap();
        assert!(outcome.starts_with("puts stopped"), "{outcome}");
        assert!(!outcome.ends_with("after 100001"), "{outcome}");
    });
}

#[test]
fn a_closed_http1_connection_ends_the_request_body_with_an_error() {
    let (seen, outcome) = seen_slot();
    let server = server(localhost(), seen);
    let mut stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    stream
        .write_all(b"POST /read HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly part")
        .unwrap();
    drop(stream);
    let outcome = support::run(outcome).unwrap();
    assert!(outcome.starts_with("failed"), "{outcome}");
}

#[test]
fn a_closed_http1_connection_makes_the_response_puts_fail() {
    let (seen, outcome) = seen_slot();
    let server = server(localhost(), seen);
    let mut stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(support::BOUND)).unwrap();
    stream
        .write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 1024];
    assert!(stream.read(&mut first).unwrap() > 0);
    drop(stream);
    let outcome = support::run(outcome).unwrap();
    assert!(outcome.starts_with("puts stopped"), "{outcome}");
    assert!(!outcome.ends_with("after 100001"), "{outcome}");
}

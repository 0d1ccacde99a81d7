//! The limits, over raw bytes: request line (414), header size and count (431), body size
//! (413, before the handler by `Content-Length`, else when crossed), header read timeout,
//! idle timeout (HTTP/1.1 and HTTP/2), max connections, max concurrent handlers (503).
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::time::Duration;

use bytes::Bytes;
use support::BOUND;
use support::http::{Counter, Raw, bounded, exchange, localhost, run_tokio, start};
use weir::Deferred;
use weir::http::{Body, Request, Response};

/// A handler that counts its calls and answers `ok`.
fn counting(calls: &Counter) -> impl Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static {
    let calls = calls.clone();
    move |_| {
        calls.hit();
        Response::new(Body::from("ok"))
    }
}

#[test]
fn a_too_long_request_line_is_414() {
    let calls = Counter::default();
    let server = start(counting(&calls), localhost());
    let path = "a".repeat(20 * 1024);
    let (response, mut raw) = exchange(
        server.local_addr(),
        format!("GET /{path} HTTP/1.1\r\nHost: x\r\n\r\n"),
    );
    let response = response.expect("a response");
    assert_eq!(response.status, 414, "{}", response.head);
    assert!(raw.wait_closed());
    // Also when the line never ends.
    let (response, mut raw) = exchange(server.local_addr(), format!("GET /{path}"));
    assert_eq!(response.expect("a response").status, 414);
    assert!(raw.wait_closed());
    // After a request served on the same connection, too.
    let mut raw = Raw::connect(server.local_addr());
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(raw.response().unwrap().status, 200);
    raw.send(format!("GET /{path} HTTP/1.1\r\nHost: x\r\n\r\n"));
    assert_eq!(raw.response().unwrap().status, 414);
    assert_eq!(calls.get(), 1);
}

#[test]
fn a_too_large_header_is_431() {
    let calls = Counter::default();
    let server = start(counting(&calls), localhost());
    let value = "v".repeat(20 * 1024);
    let (response, mut raw) = exchange(
        server.local_addr(),
        format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {value}\r\n\r\n"),
    );
    assert_eq!(response.expect("a response").status, 431);
    assert!(raw.wait_closed());
    assert_eq!(calls.get(), 0);
}

#[test]
fn too_many_headers_is_431() {
    let calls = Counter::default();
    let server = start(counting(&calls), localhost().max_headers(10));
    let headers: String = (0..11).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let (response, mut raw) = exchange(
        server.local_addr(),
        format!("GET / HTTP/1.1\r\nHost: x\r\n{headers}\r\n"),
    );
    assert_eq!(response.expect("a response").status, 431);
    assert!(raw.wait_closed());
    assert_eq!(calls.get(), 0);
    // At the limit, it is served.
    let headers: String = (0..9).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let (response, _) = exchange(
        server.local_addr(),
        format!("GET / HTTP/1.1\r\nHost: x\r\n{headers}\r\n"),
    );
    assert_eq!(response.expect("a response").status, 200);
    assert_eq!(calls.get(), 1);
}

#[test]
fn a_content_length_over_the_limit_is_413_before_the_handler() {
    let calls = Counter::default();
    let server = start(counting(&calls), localhost().max_request_body_size(1024));
    let mut raw = Raw::connect(server.local_addr());
    raw.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    raw.send(vec![b'a'; 100]);
    let response = raw.response().expect("a response");
    assert_eq!(response.status, 413, "{}", response.head);
    assert_eq!(calls.get(), 0);
    // The rest of the body is not read as the next request: the connection closes.
    assert!(raw.wait_closed());
    assert_eq!(calls.get(), 0);
    // At the limit it is served.
    let (response, _) = exchange(
        server.local_addr(),
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n{}",
            "a".repeat(1024)
        ),
    );
    assert_eq!(response.unwrap().status, 200);
    assert_eq!(calls.get(), 1);
}

#[test]
fn a_chunked_body_crossing_the_limit_fails_in_the_handler_and_is_413() {
    let calls = Counter::default();
    let errors = Counter::default();
    let handler = {
        let calls = calls.clone();
        let errors = errors.clone();
        move |request: Request<Body>| {
            calls.hit();
            let errors = errors.clone();
            async move {
                match request.into_body().to_bytes(1 << 20).await {
                    Ok(bytes) => Ok(Response::new(Body::from(format!("{}", bytes.len())))),
                    Err(error) => {
                        errors.hit();
                        Err(error)
                    }
                }
            }
        }
    };
    let server = start(handler, localhost().max_request_body_size(1024));
    let mut raw = Raw::connect(server.local_addr());
    raw.send("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..4 {
        raw.send(format!("200\r\n{}\r\n", "b".repeat(0x200)));
    }
    raw.send("0\r\n\r\n");
    let response = raw.response().expect("a response");
    assert_eq!(response.status, 413, "{}", response.head);
    assert_eq!((calls.get(), errors.get()), (1, 1));
    // Under the limit, the same handler is served.
    let (response, _) = exchange(
        server.local_addr(),
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n",
    );
    let response = response.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"16");
}

#[test]
fn a_slow_head_is_cut_off_at_the_header_read_timeout() {
    let calls = Counter::default();
    let server = start(
        counting(&calls),
        localhost().header_read_timeout(Some(Duration::from_millis(300))),
    );
    let mut raw = Raw::connect(server.local_addr());
    raw.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow");
    // Closed (with a 408 or without a response), long before the bound.
    assert!(raw.closed_within(Duration::from_secs(5)), "still open");
    assert_eq!(calls.get(), 0);
    if let Some((response, _)) = support::http::parse_response(raw.leftover()) {
        assert_eq!(response.status, 408);
    }
}

#[test]
fn a_slow_head_after_kept_alive_requests_is_cut_off_too() {
    // Each request's head deadline reuses the timer its predecessor left armed; the deadline
    // must still pass for a head that stalls after several answered requests.
    let calls = Counter::default();
    let server = start(
        counting(&calls),
        localhost().header_read_timeout(Some(Duration::from_millis(300))),
    );
    let mut raw = Raw::connect(server.local_addr());
    for _ in 0..3 {
        raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(raw.response().unwrap().status, 200);
    }
    raw.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow");
    assert!(raw.closed_within(Duration::from_secs(5)), "still open");
    assert_eq!(calls.get(), 3);
}

#[test]
fn an_idle_keep_alive_connection_is_closed_over_http1() {
    let calls = Counter::default();
    let server = start(
        counting(&calls),
        localhost().idle_timeout(Some(Duration::from_millis(300))),
    );
    let mut raw = Raw::connect(server.local_addr());
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(raw.response().unwrap().status, 200);
    // Kept alive, then closed once idle.
    assert!(raw.closed_within(Duration::from_secs(5)), "still open");
    assert_eq!(calls.get(), 1);
}

#[test]
fn an_idle_http2_connection_gets_goaway() {
    let calls = Counter::default();
    let server = start(
        counting(&calls),
        localhost()
            .use_h2c(true)
            .idle_timeout(Some(Duration::from_millis(300))),
    );
    let addr = server.local_addr();
    run_tokio(async move {
        let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
        let connection = tokio::spawn(connection);
        let mut send = bounded(send.ready()).await.unwrap();
        let request = Request::get("http://localhost/").body(()).unwrap();
        let (response, _) = send.send_request(request, true).unwrap();
        let response = bounded(response).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        while let Some(chunk) = bounded(body.data()).await {
            chunk.unwrap();
        }
        drop(send);
        // The server says GOAWAY and closes: the client's connection ends, within the bound.
        let ended = weir::runtime::timeout(Duration::from_secs(5), connection)
            .await
            .expect("the connection stayed open")
            .unwrap();
        match ended {
            Ok(()) => {}
            Err(e) => assert!(e.is_go_away() || e.is_io(), "{e}"),
        }
    });
    assert_eq!(calls.get(), 1);
}

#[test]
fn past_max_connections_a_connection_waits_for_a_free_slot() {
    let calls = Counter::default();
    let server = start(counting(&calls), localhost().max_connections(1));
    let mut first = Raw::connect(server.local_addr());
    first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(first.response().unwrap().status, 200);
    let mut second = Raw::connect(server.local_addr());
    second.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // Not served while the first is open.
    assert!(!second.closed_within(Duration::from_millis(300)));
    assert!(second.leftover().is_empty(), "served past the limit");
    assert_eq!(calls.get(), 1);
    assert_eq!(server.connection_count(), 1);
    drop(first);
    // Served once the first has closed.
    second.stream.set_read_timeout(Some(BOUND)).unwrap();
    assert_eq!(second.response().unwrap().status, 200);
    assert_eq!(calls.get(), 2);
}

#[test]
fn past_max_concurrent_handlers_the_rejected_handler_answers_503() {
    let release: Deferred<(), weir::Error> = Deferred::new();
    let entered = Counter::default();
    let handler = {
        let release = release.clone();
        let entered = entered.clone();
        move |_: Request<Body>| {
            entered.hit();
            let release = release.clone();
            async move {
                release.await?;
                Ok::<_, weir::Error>(Response::new(Body::from("done")))
            }
        }
    };
    let rejected = Counter::default();
    let options = {
        let rejected = rejected.clone();
        localhost()
            .max_concurrent_handlers(1)
            .rejected_handler(move |_| {
                rejected.hit();
                Response::builder()
                    .status(503)
                    .body(Body::from("busy"))
                    .unwrap()
            })
    };
    let server = start(handler, options);
    let mut first = Raw::connect(server.local_addr());
    first.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // Wait until the first handler runs (bounded), without sleeping as synchronisation.
    let deadline = std::time::Instant::now() + BOUND;
    while entered.get() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the handler never ran"
        );
        std::thread::yield_now();
    }
    let (response, _) = exchange(server.local_addr(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let response = response.unwrap();
    assert_eq!(response.status, 503);
    assert_eq!(response.body, b"busy");
    assert_eq!(rejected.get(), 1);
    release.success(());
    let response = first.response().unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"done");
    // A slot is free again.
    let (response, _) = exchange(server.local_addr(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.unwrap().status, 200);
    assert_eq!(entered.get(), 2);
}

#[test]
fn http2_max_concurrent_handlers_rejects_with_503_too() {
    let release: Deferred<(), weir::Error> = Deferred::new();
    let handler = {
        let release = release.clone();
        move |_: Request<Body>| {
            let release = release.clone();
            async move {
                release.await?;
                Ok::<_, weir::Error>(Response::new(Body::from("done")))
            }
        }
    };
    let server = start(
        handler,
        localhost().use_h2c(true).max_concurrent_handlers(1),
    );
    let addr = server.local_addr();
    run_tokio(async move {
        let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
        tokio::spawn(connection);
        let mut send = bounded(send.ready()).await.unwrap();
        let (first, _) = send
            .send_request(Request::get("http://localhost/").body(()).unwrap(), true)
            .unwrap();
        let mut send = bounded(send.ready()).await.unwrap();
        // Retry the second until it is rejected: the first may not have reached its handler yet.
        let mut status = None;
        for _ in 0..100 {
            let (second, _) = send
                .send_request(Request::get("http://localhost/").body(()).unwrap(), true)
                .unwrap();
            let second = bounded(second).await.unwrap();
            if second.status() == 503 {
                status = Some(503);
                break;
            }
            send = bounded(send.ready()).await.unwrap();
        }
        assert_eq!(status, Some(503));
        release.success(());
        assert_eq!(bounded(first).await.unwrap().status(), 200);
        let _ = Bytes::new();
    });
}

/// An h2c client of `addr`, run inside `run_tokio`.
async fn h2c(addr: std::net::SocketAddr) -> h2::client::SendRequest<Bytes> {
    let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
    let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
    tokio::spawn(connection);
    bounded(send.ready()).await.unwrap()
}

#[test]
fn http2_body_limits() {
    let calls = Counter::default();
    let handler = {
        let calls = calls.clone();
        move |request: Request<Body>| {
            calls.hit();
            async move {
                let bytes = request.into_body().to_bytes(1 << 20).await?;
                Ok::<_, weir::Error>(Response::new(Body::from(bytes.len().to_string())))
            }
        }
    };
    let server = start(
        handler,
        localhost().use_h2c(true).max_request_body_size(1024),
    );
    let addr = server.local_addr();
    run_tokio(async move {
        let mut send = h2c(addr).await;
        // A content-length over the limit: 413 before the handler.
        let request = Request::post("http://localhost/")
            .header("content-length", "5000")
            .body(())
            .unwrap();
        let (response, mut stream) = send.send_request(request, false).unwrap();
        stream
            .send_data(Bytes::from(vec![b'a'; 100]), false)
            .unwrap();
        assert_eq!(bounded(response).await.unwrap().status(), 413);
        assert_eq!(calls.get(), 0);
        // No content-length, the data crosses the limit: the handler's read fails, 413.
        let mut send = bounded(send.ready()).await.unwrap();
        let request = Request::post("http://localhost/").body(()).unwrap();
        let (response, mut stream) = send.send_request(request, false).unwrap();
        stream
            .send_data(Bytes::from(vec![b'a'; 2000]), true)
            .unwrap();
        assert_eq!(bounded(response).await.unwrap().status(), 413);
        assert_eq!(calls.get(), 1);
        // Under the limit: served, on the same connection.
        let mut send = bounded(send.ready()).await.unwrap();
        let request = Request::post("http://localhost/").body(()).unwrap();
        let (response, mut stream) = send.send_request(request, false).unwrap();
        stream
            .send_data(Bytes::from(vec![b'a'; 1000]), true)
            .unwrap();
        let response = bounded(response).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        assert_eq!(bounded(body.data()).await.unwrap().unwrap(), "1000");
    });
}

#[test]
fn http2_too_large_header_list_is_refused() {
    let calls = Counter::default();
    let server = start(counting(&calls), localhost().use_h2c(true));
    let addr = server.local_addr();
    run_tokio(async move {
        let mut send = h2c(addr).await;
        let request = Request::get("http://localhost/")
            .header("x-big", "v".repeat(20 * 1024))
            .body(())
            .unwrap();
        match send.send_request(request, true) {
            // The client may refuse it itself, having read the server's SETTINGS.
            Err(_) => {}
            Ok((response, _)) => match bounded(response).await {
                Ok(response) => assert_eq!(response.status(), 431),
                Err(e) => assert!(e.is_reset() || e.is_go_away(), "{e}"),
            },
        }
        assert_eq!(calls.get(), 0);
        // The connection (or a new one) still serves.
        let mut send = match bounded(send.ready()).await {
            Ok(send) => send,
            Err(_) => h2c(addr).await,
        };
        let (response, _) = send
            .send_request(Request::get("http://localhost/").body(()).unwrap(), true)
            .unwrap();
        assert_eq!(bounded(response).await.unwrap().status(), 200);
    });
}

#[test]
fn a_silent_or_half_preface_connection_is_cut_off_at_the_header_read_timeout() {
    for h2c in [false, true] {
        let calls = Counter::default();
        let server = start(
            counting(&calls),
            localhost()
                .use_h2c(h2c)
                .header_read_timeout(Some(Duration::from_millis(300))),
        );
        // Nothing at all.
        let mut raw = Raw::connect(server.local_addr());
        assert!(
            raw.closed_within(Duration::from_secs(5)),
            "h2c={h2c}: silent stays open"
        );
        // Half the HTTP/2 preface.
        let mut raw = Raw::connect(server.local_addr());
        raw.send("PRI * HTTP/2.0\r\n");
        assert!(
            raw.closed_within(Duration::from_secs(5)),
            "h2c={h2c}: half preface stays open"
        );
        assert_eq!(calls.get(), 0);
    }
}

#[test]
fn the_idle_timeout_spares_a_connection_with_a_request_in_flight() {
    let release: Deferred<(), weir::Error> = Deferred::new();
    let handler = {
        let release = release.clone();
        move |_: Request<Body>| {
            let release = release.clone();
            async move {
                release.await?;
                Ok::<_, weir::Error>(Response::new(Body::from("late")))
            }
        }
    };
    let server = start(
        handler,
        localhost().idle_timeout(Some(Duration::from_millis(200))),
    );
    let mut raw = Raw::connect(server.local_addr());
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    // Several idle timeouts pass with the handler still running: the connection stays.
    assert!(
        !raw.closed_within(Duration::from_secs(1)),
        "closed mid-request"
    );
    release.success(());
    raw.stream.set_read_timeout(Some(BOUND)).unwrap();
    assert_eq!(raw.response().unwrap().body, b"late");
    // Then idle: closed.
    assert!(raw.closed_within(Duration::from_secs(5)));
}

#[test]
fn a_long_request_like_line_in_a_body_changes_no_status() {
    let calls = Counter::default();
    let handler = {
        let calls = calls.clone();
        move |request: Request<Body>| {
            calls.hit();
            async move {
                let bytes = request.into_body().to_bytes(1 << 20).await?;
                Ok::<_, weir::Error>(Response::new(Body::from(bytes.len().to_string())))
            }
        }
    };
    let server = start(handler, localhost());
    let line = format!("\nGET /{}", "a".repeat(20 * 1024));
    let mut raw = Raw::connect(server.local_addr());
    raw.send(format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{line}",
        line.len()
    ));
    let response = raw.response().unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.body, line.len().to_string().as_bytes());
    // A too-large header next on the same connection is still a 431.
    let value = "v".repeat(20 * 1024);
    raw.send(format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {value}\r\n\r\n"
    ));
    assert_eq!(raw.response().unwrap().status, 431);
    assert_eq!(calls.get(), 1);
}

#[test]
fn http2_settings_reach_the_client() {
    let server = start(
        |_: Request<Body>| Response::new(Body::from("ok")),
        localhost()
            .use_h2c(true)
            .http2(weir::http::Http2Settings::new().max_concurrent_streams(7)),
    );
    let addr = server.local_addr();
    run_tokio(async move {
        let mut send = h2c(addr).await;
        let (response, _) = send
            .send_request(Request::get("http://localhost/").body(()).unwrap(), true)
            .unwrap();
        assert_eq!(bounded(response).await.unwrap().status(), 200);
        assert_eq!(send.current_max_send_streams(), 7);
    });
}

#[test]
fn a_panicking_handler_gives_its_handler_slot_back() {
    let server = start(
        |request: Request<Body>| {
            if request.uri().path() == "/panic" {
                panic!("handler panicked");
            }
            Response::new(Body::from("ok"))
        },
        localhost().max_concurrent_handlers(1),
    );
    let mut raw = Raw::connect(server.local_addr());
    for _ in 0..3 {
        raw.send("GET /panic HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(raw.response().unwrap().status, 500);
    }
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(raw.response().unwrap().status, 200);
}

#[test]
fn expect_100_continue_over_the_size_limit_is_413_without_100() {
    let calls = Counter::default();
    let server = start(counting(&calls), localhost().max_request_body_size(10));
    let mut raw = Raw::connect(server.local_addr());
    raw.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n");
    // The first response is the final 413: no 100 asks for a body that would be refused.
    assert_eq!(raw.response().unwrap().status, 413);
    assert_eq!(calls.get(), 0);
}

#[test]
fn the_idle_timeout_closes_a_silent_connection_without_a_header_timeout() {
    for h2c in [false, true] {
        let calls = Counter::default();
        let server = start(
            counting(&calls),
            localhost()
                .use_h2c(h2c)
                .header_read_timeout(None)
                .idle_timeout(Some(Duration::from_millis(300))),
        );
        let mut raw = Raw::connect(server.local_addr());
        if h2c {
            // An HTTP/2 connection that opens and then says nothing more.
            raw.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00");
        }
        assert!(
            raw.closed_within(Duration::from_secs(5)),
            "h2c={h2c}: still open"
        );
        // Half a head, then nothing.
        let mut raw = Raw::connect(server.local_addr());
        raw.send("GET / HTTP/1.1\r\nHo");
        assert!(
            raw.closed_within(Duration::from_secs(5)),
            "h2c={h2c}: half a head stays open"
        );
        assert_eq!(calls.get(), 0);
    }
}

#[test]
fn a_silent_tls_connection_is_cut_off_at_the_handshake_timeout() {
    let certificate = weir::tls::self_signed(&["localhost"]).unwrap();
    let config = certificate
        .server_config()
        .with_handshake_timeout(Duration::from_millis(300));
    let calls = Counter::default();
    let server = start(
        counting(&calls),
        localhost()
            .http_versions([
                weir::http::HttpVersion::Http2,
                weir::http::HttpVersion::Http1,
            ])
            .tls(config)
            .max_connections(1),
    );
    let mut silent = Raw::connect(server.local_addr());
    assert!(
        silent.closed_within(Duration::from_secs(5)),
        "a silent TLS client stays"
    );
    // Its slot is free again: a real client is served.
    let fixture_client = async {
        let tcp = bounded(async_net::TcpStream::connect(server.local_addr()))
            .await
            .unwrap();
        let client = certificate.client_config_trusting_it();
        bounded(weir::tls::connect(&client, "localhost", tcp))
            .await
            .unwrap()
    };
    let stream = support::run(fixture_client);
    assert!(
        stream
            .session_info()
            .alpn_protocol()
            .is_none_or(|p| p == b"h2" || p == b"http/1.1")
    );
    assert_eq!(calls.get(), 0);
}

#[test]
fn a_larger_max_header_size_lets_a_larger_head_in() {
    let calls = Counter::default();
    let server = start(counting(&calls), localhost().max_header_size(64 * 1024));
    let value = "v".repeat(40 * 1024);
    let path = "p".repeat(20 * 1024);
    let (response, _) = exchange(
        server.local_addr(),
        format!("GET /{path} HTTP/1.1\r\nHost: x\r\nX-Big: {value}\r\n\r\n"),
    );
    assert_eq!(response.unwrap().status, 200);
    assert_eq!(calls.get(), 1);
}

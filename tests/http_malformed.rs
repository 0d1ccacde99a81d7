//! Malformed and ambiguous HTTP/1.1 requests, as raw bytes: each is refused with a 4xx and the
//! connection closed, or normalised safely. The handler logs what it was called with, so that
//! no test can pass with two requests where the bytes held one, or one where they held two.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::sync::{Arc, Mutex};

use support::http::{Raw, exchange, localhost, start};
use weir::http::{Body, Request, Response, Server};

type Log = Arc<Mutex<Vec<String>>>;

/// A server whose handler logs `METHOD PATH BODY` (or `METHOD PATH error`) for each call.
fn logging_server() -> (Server, Log) {
    let log = Log::default();
    let handler = {
        let log = log.clone();
        move |request: Request<Body>| {
            let log = log.clone();
            async move {
                let line = format!("{} {}", request.method(), request.uri().path());
                match request.into_body().to_bytes(1 << 20).await {
                    Ok(body) => {
                        let body = String::from_utf8_lossy(&body).into_owned();
                        log.lock().unwrap().push(format!("{line} {body}"));
                        Ok(Response::new(Body::from("ok")))
                    }
                    Err(error) => {
                        log.lock().unwrap().push(format!("{line} error"));
                        Err(error)
                    }
                }
            }
        }
    };
    (start(handler, localhost()), log)
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

/// Sends `bytes` on a fresh connection; asserts a 4xx (400 unless `status` says otherwise),
/// the connection closed, and the handler never called.
fn refused(server: &Server, log: &Log, bytes: &[u8], status: u16) {
    let (response, mut raw) = exchange(server.local_addr(), bytes);
    let shown = String::from_utf8_lossy(bytes);
    let response = response.unwrap_or_else(|| panic!("no response to {shown:?}"));
    assert_eq!(response.status, status, "{shown:?}: {}", response.head);
    assert!(raw.wait_closed(), "{shown:?}: left open");
    assert_eq!(
        take(log),
        Vec::<String>::new(),
        "{shown:?}: the handler was called"
    );
}

/// Sends `bytes` on a fresh connection and reads until the server closes: the statuses of
/// the responses, and the handler's log.
fn outcome(server: &Server, log: &Log, bytes: &[u8], close_after: bool) -> (Vec<u16>, Vec<String>) {
    let mut raw = Raw::connect(server.local_addr());
    let mut bytes = bytes.to_vec();
    if !close_after {
        // End with a request that closes, so that the reading ends.
        bytes.extend_from_slice(b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    }
    raw.send(&bytes);
    let mut statuses = Vec::new();
    while let Some(response) = raw.response() {
        statuses.push(response.status);
    }
    assert!(raw.closed);
    (statuses, take(log))
}

#[test]
fn content_length_with_transfer_encoding_is_read_as_chunked_and_the_connection_closed() {
    let (server, log) = logging_server();
    for head in [
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
    ] {
        let bytes = format!(
            "POST /a HTTP/1.1\r\nHost: x\r\n{head}\r\n3\r\nabc\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        let (statuses, calls) = outcome(&server, &log, bytes.as_bytes(), true);
        // Refused, or served once as chunked and then closed: never the smuggled request.
        match statuses.as_slice() {
            [400] => assert!(calls.is_empty(), "{calls:?}"),
            [200] => assert_eq!(calls, ["POST /a abc"]),
            other => panic!("{head:?}: {other:?} {calls:?}"),
        }
    }
}

#[test]
fn differing_or_signed_or_listed_content_lengths_are_refused() {
    let (server, log) = logging_server();
    for head in [
        "Content-Length: 3\r\nContent-Length: 4\r\n",
        "Content-Length: +3\r\n",
        "Content-Length: -3\r\n",
        "Content-Length: 3, 4\r\n",
        "Content-Length: 3, 3\r\n",
        "Content-Length: 0x3\r\n",
        "Content-Length: 3 3\r\n",
        "Content-Length: 99999999999999999999999\r\n",
        "Content-Length: \r\n",
    ] {
        let bytes = format!("POST /a HTTP/1.1\r\nHost: x\r\n{head}\r\nabcd");
        refused(&server, &log, bytes.as_bytes(), 400);
    }
}

#[test]
fn identical_duplicate_content_lengths_are_one_length() {
    let (server, log) = logging_server();
    let bytes = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc";
    let (statuses, calls) = outcome(&server, &log, bytes, false);
    assert_eq!(statuses, [200, 200]);
    assert_eq!(calls, ["POST /a abc", "GET /last "]);
}

#[test]
fn obfuscated_or_unknown_transfer_encodings_are_refused() {
    let (server, log) = logging_server();
    for head in [
        "Transfer-Encoding: xchunked\r\n",
        "Transfer-Encoding: chunked, identity\r\n",
        "Transfer-Encoding: identity\r\n",
        "Transfer-Encoding: chunkedx\r\n",
        "Transfer-Encoding: \"chunked\"\r\n",
        "Transfer-Encoding : chunked\r\n",
        "Transfer-Encoding:\x0bchunked\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: gzip, chunked\r\n",
    ] {
        let bytes = format!("POST /a HTTP/1.1\r\nHost: x\r\n{head}\r\n3\r\nabc\r\n0\r\n\r\n");
        let status = if head.starts_with("Transfer-Encoding: gzip") {
            501
        } else {
            400
        };
        refused(&server, &log, bytes.as_bytes(), status);
    }
    // Chunked in HTTP/1.0 is refused.
    refused(
        &server,
        &log,
        b"POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        400,
    );
}

#[test]
fn chunked_is_case_insensitive() {
    let (server, log) = logging_server();
    let bytes =
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    let (statuses, calls) = outcome(&server, &log, bytes, false);
    assert_eq!(statuses, [200, 200]);
    assert_eq!(calls, ["POST /a abc", "GET /last "]);
}

#[test]
fn bad_chunk_sizes_fail_the_body_and_close_the_connection() {
    let (server, log) = logging_server();
    for chunks in [
        "zz\r\nabc\r\n0\r\n\r\n",
        "-3\r\nabc\r\n0\r\n\r\n",
        "ffffffffffffffffffff\r\nabc\r\n0\r\n\r\n",
        "3 4\r\nabc\r\n0\r\n\r\n",
        "0x3\r\nabc\r\n0\r\n\r\n",
        "3\r\nabcdef\r\n0\r\n\r\n",
        "3\nabc\n0\n\n",
    ] {
        let bytes = format!(
            "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{chunks}GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        let (statuses, calls) = outcome(&server, &log, bytes.as_bytes(), true);
        // The handler saw its body fail; the answer is an error; nothing else is served.
        assert_eq!(calls, ["POST /a error"], "{chunks:?}");
        assert_eq!(statuses.len(), 1, "{chunks:?}: {statuses:?}");
        assert!(
            (400..600).contains(&statuses[0]),
            "{chunks:?}: {statuses:?}"
        );
    }
    // A chunk extension is fine.
    let bytes = b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;name=value\r\nabc\r\n0\r\n\r\n";
    let (statuses, calls) = outcome(&server, &log, bytes, false);
    assert_eq!(statuses, [200, 200]);
    assert_eq!(calls, ["POST /a abc", "GET /last "]);
}

#[test]
fn a_malformed_body_is_a_400_not_a_500() {
    let (server, log) = logging_server();
    let bytes =
        b"POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
    let (statuses, calls) = outcome(&server, &log, bytes, true);
    assert_eq!(calls, ["POST /a error"]);
    assert_eq!(statuses, [400]);
}

#[test]
fn obs_fold_is_refused() {
    let (server, log) = logging_server();
    refused(
        &server,
        &log,
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
        400,
    );
    refused(
        &server,
        &log,
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n",
        400,
    );
    refused(&server, &log, b"GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400);
}

#[test]
fn bare_lf_is_one_request_and_bare_cr_is_refused() {
    let (server, log) = logging_server();
    let (statuses, calls) = outcome(&server, &log, b"GET /a HTTP/1.1\nHost: x\n\n", false);
    assert_eq!(statuses, [200, 200]);
    assert_eq!(calls, ["GET /a ", "GET /last "]);
    refused(&server, &log, b"GET /a HTTP/1.1\rHost: x\r\n\r\n", 400);
    refused(
        &server,
        &log,
        b"GET /a HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n",
        400,
    );
}

#[test]
fn nul_and_control_bytes_are_refused() {
    let (server, log) = logging_server();
    for bytes in [
        &b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-\0A: b\r\n\r\n",
        b"GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\n\0\r\n\r\n",
    ] {
        refused(&server, &log, bytes, 400);
    }
}

#[test]
fn bad_method_tokens_and_versions_are_refused() {
    let (server, log) = logging_server();
    for bytes in [
        &b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        b"GE T / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"\"GET\" / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
        b" GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.2\r\nHost: x\r\n\r\n",
        b"GET / HTTP/11\r\nHost: x\r\n\r\n",
        b"GET / FOO/1.1\r\nHost: x\r\n\r\n",
    ] {
        refused(&server, &log, bytes, 400);
    }
}

#[test]
fn a_missing_or_duplicate_host_over_http11_is_400() {
    let (server, log) = logging_server();
    refused(&server, &log, b"GET / HTTP/1.1\r\n\r\n", 400);
    refused(
        &server,
        &log,
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        400,
    );
    refused(
        &server,
        &log,
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        400,
    );
    refused(&server, &log, b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
    // A refused request with a body does not leave the body to be read as a request.
    refused(
        &server,
        &log,
        b"POST / HTTP/1.1\r\nContent-Length: 36\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
        400,
    );
    // HTTP/1.0 needs no Host.
    let (response, _) = exchange(server.local_addr(), b"GET /old HTTP/1.0\r\n\r\n");
    assert_eq!(response.unwrap().status, 200);
    assert_eq!(take(&log), ["GET /old "]);
    // An empty Host is allowed (RFC 9112 3.2).
    let (statuses, calls) = outcome(&server, &log, b"GET /a HTTP/1.1\r\nHost:\r\n\r\n", false);
    assert_eq!(statuses, [200, 200]);
    assert_eq!(calls, ["GET /a ", "GET /last "]);
}

#[test]
fn pipelined_requests_are_each_served_once() {
    let (server, log) = logging_server();
    let bytes = b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 28\r\n\r\nGET /3 HTTP/1.1\r\nHost: x\r\n\r\nPOST /4 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n";
    let (statuses, calls) = outcome(&server, &log, bytes, false);
    assert_eq!(statuses, [200, 200, 200, 200]);
    assert_eq!(
        calls,
        [
            "GET /1 ",
            "POST /2 GET /3 HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST /4 ok",
            "GET /last "
        ]
    );
}

#[test]
fn connection_close_and_http10_keep_alive_are_honoured() {
    let (server, log) = logging_server();
    // `Connection: close`: one response, then the server closes.
    let (statuses, calls) = outcome(
        &server,
        &log,
        b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
        true,
    );
    assert_eq!((statuses, calls), (vec![200], vec!["GET /a ".to_string()]));
    // HTTP/1.0 closes by default...
    let (statuses, calls) = outcome(
        &server,
        &log,
        b"GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
        true,
    );
    assert_eq!((statuses, calls), (vec![200], vec!["GET /a ".to_string()]));
    // ...unless it asks to be kept alive.
    let (statuses, calls) = outcome(
        &server,
        &log,
        b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        false,
    );
    assert_eq!(statuses, [200, 200]);
    assert_eq!(calls, ["GET /a ", "GET /last "]);
}

#[test]
fn a_hundred_pipelined_requests_are_answered_in_order() {
    let (server, log) = logging_server();
    let bytes: String = (0..100)
        .map(|i| format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n"))
        .collect();
    let (statuses, calls) = outcome(&server, &log, bytes.as_bytes(), false);
    assert_eq!(statuses.len(), 101);
    let expected: Vec<String> = (0..100)
        .map(|i| format!("GET /{i} "))
        .chain(["GET /last ".to_string()])
        .collect();
    assert_eq!(calls, expected);
}

#[test]
fn an_absolute_form_target_is_served_by_its_path() {
    let (server, log) = logging_server();
    let (statuses, calls) = outcome(
        &server,
        &log,
        b"GET http://x/abs?q=1 HTTP/1.1\r\nHost: x\r\n\r\n",
        false,
    );
    assert_eq!(statuses, [200, 200]);
    assert_eq!(calls, ["GET /abs ", "GET /last "]);
}

#[test]
fn oversized_chunk_extensions_and_trailers_fail_the_body() {
    let (server, log) = logging_server();
    let extension = "x".repeat(100 * 1024);
    let trailer = "t".repeat(100 * 1024);
    for chunks in [
        format!("3;{extension}\r\nabc\r\n0\r\n\r\n"),
        format!("3\r\nabc\r\n0\r\nX-Trailer: {trailer}\r\n\r\n"),
    ] {
        let bytes = format!(
            "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{chunks}GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        let (statuses, calls) = outcome(&server, &log, bytes.as_bytes(), true);
        assert_eq!(calls, ["POST /a error"], "{}", &chunks[..20]);
        assert_eq!(statuses.len(), 1, "{statuses:?}");
        assert!((400..500).contains(&statuses[0]), "{statuses:?}");
    }
}

#[test]
fn obs_text_in_a_header_value_is_passed_on() {
    let (server, log) = logging_server();
    let (statuses, calls) = outcome(
        &server,
        &log,
        b"GET /a HTTP/1.1\r\nHost: x\r\nX-Latin: caf\xe9\r\n\r\n",
        false,
    );
    assert_eq!(statuses, [200, 200]);
    assert_eq!(calls, ["GET /a ", "GET /last "]);
}

#[test]
fn ordinary_hosts_are_accepted() {
    let (server, log) = logging_server();
    for host in [
        "example.com",
        "example.com:8080",
        "127.0.0.1:1",
        "[::1]:8080",
        "xn--caf-dma.example",
    ] {
        let bytes = format!("GET /a HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let (statuses, calls) = outcome(&server, &log, bytes.as_bytes(), false);
        assert_eq!(statuses, [200, 200], "{host}");
        assert_eq!(calls, ["GET /a ", "GET /last "], "{host}");
    }
    for host in [
        "user@example.com",
        "exa mple.com",
        "example.com:port",
        "[::1",
    ] {
        let bytes = format!("GET /a HTTP/1.1\r\nHost: {host}\r\n\r\n");
        refused(&server, &log, bytes.as_bytes(), 400);
    }
}

#[test]
fn an_unread_body_is_skipped_not_read_as_a_request() {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let server = {
        let calls = calls.clone();
        start(
            move |request: Request<Body>| {
                calls.lock().unwrap().push(request.uri().path().to_string());
                Response::new(Body::from("not reading"))
            },
            localhost(),
        )
    };
    let body = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    let bytes = format!(
        "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut raw = Raw::connect(server.local_addr());
    raw.send(bytes);
    let mut statuses = Vec::new();
    while let Some(response) = raw.response() {
        statuses.push(response.status);
    }
    let calls = calls.lock().unwrap().clone();
    // Served as two requests, or the first and then closed: never the smuggled one.
    assert!(!calls.contains(&"/smuggled".to_string()), "{calls:?}");
    assert!(calls == ["/a", "/b"] || calls == ["/a"], "{calls:?}");
    assert_eq!(statuses.len(), calls.len());
}

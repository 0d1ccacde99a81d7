//! weir's server against Python's httpx (its HTTP/1.1 on h11, its HTTP/2 on the `h2` package),
//! an independent client: the same requests over HTTP/1.1, HTTP/2 over TLS chosen by ALPN,
//! and h2c with prior knowledge. The peer is `tests/peers/http_peer.py`, run by the venv
//! `scripts/ws-peers.sh install` makes (see `support::http_peer`).
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use serde_json::{Value, json};
use support::http::{Fixture, Proto};
use support::http_peer::http_peer;
use weir::http::{Body, Request, Response, ServerOptions, StatusCode};
use weir::stream;

/// Bytes of the streamed `/big` response.
const BIG: usize = 1 << 20;

fn handler(request: Request<Body>) -> weir::Deferred<Response<Body>, weir::Error> {
    weir::Deferred::spawn(async move {
        let path = request.uri().path().to_string();
        Ok(match path.as_str() {
            "/" => Response::new(Body::from("hello!")),
            "/echo" => {
                let content_type = request.headers().get("content-type").cloned();
                let body = request.into_body().to_bytes(1 << 20).await?;
                let mut response = Response::new(Body::from(body));
                if let Some(value) = content_type {
                    response.headers_mut().insert("content-type", value);
                }
                response
            }
            "/version" => Response::new(Body::from(format!("{:?}", request.version()))),
            "/big" => {
                // Streamed in 16 KiB chunks, no length: chunked over HTTP/1.1, DATA frames
                // over HTTP/2.
                let chunks = (0..BIG / 16_384)
                    .map(|i| bytes::Bytes::from(vec![b'a' + (i % 26) as u8; 16_384]));
                Response::new(Body::from_source(stream::iter(chunks.collect::<Vec<_>>())))
            }
            "/teapot" => {
                let mut response = Response::new(Body::from("short and stout"));
                *response.status_mut() = StatusCode::IM_A_TEAPOT;
                response
            }
            _ => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::NOT_FOUND;
                response
            }
        })
    })
}

fn big_body() -> String {
    (0..BIG / 16_384)
        .map(|i| ((b'a' + (i % 26) as u8) as char).to_string().repeat(16_384))
        .collect()
}

/// Runs the same requests with httpx in `mode` against a server for `proto`.
fn exchange(proto: Proto, mode: &str) -> (Vec<Value>, &'static str) {
    let fixture = Fixture::start(proto, handler, ServerOptions::new());
    let port = fixture.addr().port();
    let (scheme, expected_version, peer_version) = match proto {
        Proto::H1 => ("http", "HTTP/1.1", "HTTP/1.1"),
        Proto::H2Tls => ("https", "HTTP/2.0", "HTTP/2"),
        Proto::H2c => ("http", "HTTP/2.0", "HTTP/2"),
    };
    let url = |path: &str| format!("{scheme}://127.0.0.1:{port}{path}");
    let requests = json!([
        {"method": "GET", "url": url("/")},
        {"method": "GET", "url": url("/version")},
        {"method": "POST", "url": url("/echo"), "body": "posted: ümlaut and ✓"},
        {"method": "POST", "url": url("/echo"), "body": "y".repeat(60_000)},
        {"method": "GET", "url": url("/big")},
        {"method": "GET", "url": url("/teapot")},
        {"method": "HEAD", "url": url("/")},
        {"method": "GET", "url": url("/")},
    ])
    .to_string();
    let pem = std::env::temp_dir().join(format!("weir-http-interop-python-{port}.pem"));
    let lines = match &fixture.certificate {
        Some(certificate) => {
            std::fs::write(&pem, certificate.certificate_pem()).unwrap();
            let lines = http_peer(&["httpx", mode, &requests, pem.to_str().unwrap(), "localhost"]);
            let _ = std::fs::remove_file(&pem);
            lines
        }
        None => http_peer(&["httpx", mode, &requests]),
    };
    support::run(async {
        weir::runtime::timeout(support::BOUND, fixture.server.close())
            .await
            .expect("the server closes in time")
            .unwrap();
    });
    for line in &lines {
        assert_eq!(line["version"], peer_version, "{line}");
    }
    (lines, expected_version)
}

fn check(lines: &[Value], version: &str) {
    assert_eq!(lines.len(), 8);
    let status_body = |i: usize| {
        (
            lines[i]["status"].as_u64().unwrap(),
            lines[i]["body"].as_str().unwrap(),
        )
    };
    assert_eq!(status_body(0), (200, "hello!"));
    assert_eq!(lines[0]["headers"]["content-length"], "6");
    assert_eq!(lines[0]["headers"]["server"], "weir");
    assert!(
        lines[0]["headers"]["date"]
            .as_str()
            .unwrap()
            .ends_with(" GMT")
    );
    assert_eq!(status_body(1), (200, version));
    assert_eq!(status_body(2), (200, "posted: ümlaut and ✓"));
    assert_eq!(status_body(3), (200, "y".repeat(60_000).as_str()));
    assert_eq!(status_body(4), (200, big_body().as_str()));
    assert_eq!(status_body(5), (418, "short and stout"));
    // HEAD: the length a GET would have, no body.
    assert_eq!(status_body(6), (200, ""));
    assert_eq!(lines[6]["headers"]["content-length"], "6");
    assert_eq!(status_body(7), (200, "hello!"));
}

#[test]
fn httpx_over_http1() {
    let (lines, version) = exchange(Proto::H1, "http1");
    check(&lines, version);
    // Streamed without a length: chunked.
    assert_eq!(lines[4]["headers"]["transfer-encoding"], "chunked");
}

#[test]
fn httpx_over_http2_with_tls_and_alpn() {
    let (lines, version) = exchange(Proto::H2Tls, "http2");
    check(&lines, version);
}

#[test]
fn httpx_over_h2c_with_prior_knowledge() {
    let (lines, version) = exchange(Proto::H2c, "h2c");
    check(&lines, version);
}

#[test]
fn python_h2_gets_100_continue_before_sending_and_none_when_refused() {
    let options = ServerOptions::new()
        .continue_handler(|request: &Request<Body>| request.uri().path() != "/refuse");
    let fixture = Fixture::start(Proto::H2c, handler, options);
    let port = fixture.addr().port().to_string();
    let accepted = http_peer(&["expect-continue", "127.0.0.1", &port, "/echo", "the upload"]);
    assert_eq!(
        accepted[0],
        json!({"informational": [100], "status": 200, "body": "the upload", "sent_body": true})
    );
    let refused = http_peer(&[
        "expect-continue",
        "127.0.0.1",
        &port,
        "/refuse",
        "never sent",
    ]);
    assert_eq!(
        refused[0],
        json!({"informational": [], "status": 417, "body": "", "sent_body": false})
    );
    support::run(async {
        weir::runtime::timeout(support::BOUND, fixture.server.close())
            .await
            .expect("the server closes in time")
            .unwrap();
    });
}

//! HTTP/1.1 `Upgrade: h2c` (RFC 7540 section 3.2) against independent clients: curl, nghttp
//! (nghttp2's client) and Python's `h2` state machine (`tests/peers/http_peer.py`, from the venv
//! `scripts/ws-peers.sh install` makes). The request that asks is answered as HTTP/2's stream 1,
//! and the connection goes on as HTTP/2. A request with a body, a server without h2c, and a
//! request missing what RFC 7540 requires are answered over HTTP/1.1 (raw bytes). Every wait is
//! bounded (`--max-time`, socket timeouts, `timeout` on the children).
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::process::Command;

use serde_json::Value;
use support::http::{Fixture, Proto, Raw};
use support::http_peer::{available, curl, http_peer};
use weir::http::{Body, Request, Response, ServerOptions};

/// `/` says hello, `/echo` returns the body, `/version` names the request's HTTP version.
fn handler(request: Request<Body>) -> weir::Deferred<Response<Body>, weir::Error> {
    weir::Deferred::spawn(async move {
        Ok(match request.uri().path() {
            "/echo" => Response::new(Body::from(request.into_body().to_bytes(1 << 20).await?)),
            "/version" => Response::new(Body::from(format!("{:?}", request.version()))),
            _ => Response::new(Body::from("hello!")),
        })
    })
}

fn server(proto: Proto) -> Fixture {
    Fixture::start(proto, handler, ServerOptions::new())
}

fn close(fixture: &Fixture) {
    support::run(async {
        weir::runtime::timeout(support::BOUND, fixture.server.close())
            .await
            .expect("the server closes in time")
            .unwrap();
    });
}

#[test]
fn curl_upgrades_to_h2c() {
    if !available("curl") {
        return;
    }
    let fixture = server(Proto::H2c);
    let url = format!("http://{}/version", fixture.addr());
    // Without prior knowledge curl asks with `Upgrade: h2c`.
    assert_eq!(curl(&["--http2", &url]), ("HTTP/2.0".into(), "2".into()));
    close(&fixture);
}

#[test]
fn curl_posting_a_body_stays_on_http1() {
    if !available("curl") {
        return;
    }
    let fixture = server(Proto::H2c);
    let url = format!("http://{}/echo", fixture.addr());
    // curl asks to upgrade this one too; with a body the server answers over HTTP/1.1.
    assert_eq!(
        curl(&["--http2", "--data-binary", "posted", &url]),
        ("posted".into(), "1.1".into())
    );
    close(&fixture);
}

#[test]
fn a_server_without_h2c_answers_the_upgrade_over_http1() {
    if !available("curl") {
        return;
    }
    let fixture = server(Proto::H1);
    let url = format!("http://{}/version", fixture.addr());
    assert_eq!(curl(&["--http2", &url]), ("HTTP/1.1".into(), "1.1".into()));
    close(&fixture);
}

#[test]
fn nghttp_upgrades_and_opens_more_streams_on_the_connection() {
    if !available("nghttp") {
        return;
    }
    let fixture = server(Proto::H2c);
    let base = format!("http://{}", fixture.addr());
    let output = Command::new("timeout")
        .args(["10", "nghttp", "-u", "-v"])
        .arg(format!("{base}/"))
        .arg(format!("{base}/version"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "nghttp failed:\n{text}");
    assert!(text.contains("HTTP Upgrade success"), "{text}");
    assert!(text.contains("recv (stream_id=1) :status: 200"), "{text}");
    assert_eq!(text.matches(":status: 200").count(), 2, "{text}");
    assert!(text.contains("hello!"), "{text}");
    assert!(text.contains("HTTP/2.0"), "{text}");
    close(&fixture);
}

#[test]
fn python_h2_upgrades_and_reads_stream_one_then_more_streams() {
    let fixture = server(Proto::H2c);
    let port = fixture.addr().port().to_string();
    let lines = http_peer(&[
        "h2c-upgrade",
        "127.0.0.1",
        &port,
        "/version",
        "/",
        "/version",
    ]);
    assert_eq!(lines[0]["upgrade"], "HTTP/1.1 101 Switching Protocols");
    let mut responses: Vec<_> = lines[1..]
        .iter()
        .map(|r| {
            (
                r["stream"].as_u64().unwrap(),
                r["status"].clone(),
                r["body"].clone(),
            )
        })
        .collect();
    responses.sort_by_key(|r| r.0);
    assert_eq!(
        responses,
        [
            (1, Value::from(200), Value::from("HTTP/2.0")),
            (3, Value::from(200), Value::from("hello!")),
            (5, Value::from(200), Value::from("HTTP/2.0")),
        ]
    );
    close(&fixture);
}

#[test]
fn python_h2_against_a_server_without_h2c_gets_http1() {
    let fixture = server(Proto::H1);
    let port = fixture.addr().port().to_string();
    let lines = http_peer(&["h2c-upgrade", "127.0.0.1", &port, "/version"]);
    assert_eq!(lines[0]["upgrade"], "HTTP/1.1 200 OK");
    close(&fixture);
}

/// An upgrade request with its `HTTP2-Settings` value.
fn upgrade_request(extra: &str) -> String {
    format!(
        "GET /version HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, HTTP2-Settings\r\n\
         upgrade: h2c\r\n{extra}\r\n"
    )
}

#[test]
fn an_upgrade_missing_what_rfc_7540_requires_is_answered_over_http1() {
    let fixture = server(Proto::H2c);
    for (case, extra) in [
        ("no HTTP2-Settings", ""),
        (
            "two HTTP2-Settings",
            "http2-settings: AAMAAABk\r\nhttp2-settings: AAMAAABk\r\n",
        ),
        ("settings not whole", "http2-settings: AAMA\r\n"),
        ("not base64url", "http2-settings: !!!!\r\n"),
    ] {
        let mut raw = Raw::connect(fixture.addr());
        raw.send(upgrade_request(extra));
        let response = raw
            .response()
            .unwrap_or_else(|| panic!("{case}: no answer"));
        assert_eq!(response.status, 200, "{case}");
        assert_eq!(response.body, b"HTTP/1.1", "{case}");
    }
    close(&fixture);
}

#[test]
fn a_valid_upgrade_gets_101_then_the_server_preface() {
    let fixture = server(Proto::H2c);
    let mut raw = Raw::connect(fixture.addr());
    raw.send(upgrade_request("http2-settings: AAMAAABk\r\n"));
    let response = raw.response().expect("the 101");
    assert_eq!(response.status, 101);
    assert_eq!(response.header("upgrade").as_deref(), Some("h2c"));
    // The client's preface; the server's own starts with a SETTINGS frame (type 4, stream 0).
    raw.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0");
    while raw.leftover().len() < 9 {
        assert!(raw.read_more(), "closed before a frame after the preface");
    }
    let frame = raw.leftover();
    assert_eq!((frame[3], &frame[5..9]), (4, &[0u8, 0, 0, 0][..]));
    // Gone before the close: a client that never answers the shutdown's PING would hold it
    // for the whole shutdown timeout.
    drop(raw);
    close(&fixture);
}

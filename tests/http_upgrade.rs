//! HTTP/1.1 upgrades (`on_upgrade` hands back the raw connection after a 101) and a server on a
//! Unix domain socket.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::io::{Read, Write};

use futures::{AsyncReadExt as _, AsyncWriteExt as _};
use support::http::{Raw, localhost, start};
use weir::http::{self, Body, Request, Response, StatusCode, header};

/// Upgrades `Upgrade: echo` requests to a protocol that echoes each read upper-cased.
fn upgrading(mut request: Request<Body>) -> Response<Body> {
    if request
        .headers()
        .get(header::UPGRADE)
        .is_none_or(|v| v != "echo")
    {
        return Response::new(Body::from("plain"));
    }
    let upgraded = http::on_upgrade(&mut request);
    weir::runtime::spawn(async move {
        let Ok(mut io) = upgraded.await else {
            return;
        };
        let mut buf = [0u8; 1024];
        loop {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let upper = buf[..n].to_ascii_uppercase();
                    if io.write_all(&upper).await.is_err() || io.flush().await.is_err() {
                        break;
                    }
                }
            }
        }
    })
    .detach();
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::UPGRADE, "echo")
        .header(header::CONNECTION, "upgrade")
        .body(Body::empty())
        .unwrap()
}

fn read_exactly(raw: &mut Raw, n: usize) -> Vec<u8> {
    let mut got = raw.leftover().to_vec();
    while got.len() < n {
        let mut chunk = [0u8; 1024];
        let read = raw.stream.read(&mut chunk).expect("bytes within the bound");
        assert!(read > 0, "closed after {got:?}");
        got.extend_from_slice(&chunk[..read]);
    }
    got
}

#[test]
fn on_upgrade_hands_back_the_connection_with_the_bytes_sent_after_the_head() {
    let server = start(upgrading, localhost());
    let mut raw = Raw::connect(server.local_addr());
    // The head and the first bytes of the new protocol in one write.
    raw.send(
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nearly bytes",
    );
    let response = raw.response().unwrap();
    assert_eq!(response.status, 101, "{}", response.head);
    assert_eq!(response.header("upgrade").as_deref(), Some("echo"));
    assert_eq!(read_exactly(&mut raw, 11), b"EARLY BYTES");
    let mut raw = Raw::from_stream(raw.stream);
    raw.send("later");
    assert_eq!(read_exactly(&mut raw, 5), b"LATER");
    // The server still serves plain requests on other connections.
    let (response, _) =
        support::http::exchange(server.local_addr(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.unwrap().body, b"plain");
}

#[test]
fn a_request_without_upgrade_gets_a_plain_answer_and_keeps_the_connection() {
    let server = start(upgrading, localhost());
    let mut raw = Raw::connect(server.local_addr());
    for _ in 0..2 {
        raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(raw.response().unwrap().body, b"plain");
    }
}

#[cfg(unix)]
#[test]
fn a_server_on_a_unix_domain_socket() {
    let path = std::env::temp_dir().join(format!("weir-http-upgrade-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let server = start(
        |request: Request<Body>| {
            let info = request.extensions().get::<http::RequestInfo>().is_some();
            Response::new(Body::from(format!("over unix, info={info}")))
        },
        weir::http::ServerOptions::new().unix_socket(&path),
    );
    assert_eq!(server.unix_socket(), Some(path.as_path()));
    let mut stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
    stream.set_read_timeout(Some(support::BOUND)).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(text.ends_with("over unix, info=true"), "{text}");
    support::run(server.close()).unwrap();
    assert!(std::os::unix::net::UnixStream::connect(&path).is_err());
    let _ = std::fs::remove_file(&path);
}

#[test]
fn on_upgrade_over_tls() {
    let certificate = weir::tls::self_signed(&["localhost"]).unwrap();
    let server = start(upgrading, localhost().tls(certificate.server_config()));
    support::run(async {
        let tcp = async_net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        let config = certificate
            .client_config_trusting_it()
            .with_alpn_protocols(["http/1.1"]);
        let mut tls = weir::tls::connect(&config, "localhost", tcp).await.unwrap();
        tls.write_all(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nover tls",
        )
        .await
        .unwrap();
        tls.flush().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        while !got.ends_with(b"OVER TLS") {
            let n = tls.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&got));
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got);
        assert!(
            text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "{text}"
        );
    });
}

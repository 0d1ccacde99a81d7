//! TCP with TLS: echo, the negotiated ALPN in the connection info, verification failures.

mod support;

use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use support::{BOUND, run};
use weir::tcp::{self, ClientOptions, ServerOptions, TcpConnection};
use weir::tls::{self, ClientConfig};

/// A TLS echo server on loopback; each accepted connection is also sent on `accepted`.
fn echo_server(
    certificate: &tls::SelfSigned,
    alpn: &[&str],
    accepted: mpsc::Sender<TcpConnection>,
) -> tcp::Server {
    let config = certificate
        .server_config()
        .with_alpn_protocols(alpn.iter().copied());
    let options = ServerOptions::new()
        .address(([127, 0, 0, 1], 0))
        .tls(config);
    run(tcp::start_server(
        move |connection: TcpConnection| {
            let _ = accepted.send(connection.clone());
            weir::runtime::spawn(async move {
                while let Some(chunk) = connection.take().await {
                    if connection.put(chunk).await.is_err() {
                        break;
                    }
                }
                weir::stream::Source::close(&connection);
            })
            .detach();
        },
        options,
    ))
    .unwrap()
}

#[test]
fn smoke() {
    let certificate = tls::self_signed(&["localhost"]).unwrap();
    let (tx, _rx) = mpsc::channel();
    let server = echo_server(&certificate, &[], tx);
    run(async {
        let options = ClientOptions::new()
            .host("localhost")
            .port(server.local_addr().port())
            .tls(certificate.client_config_trusting_it());
        let client = tcp::client(options).await.unwrap();
        assert!(client.info().is_tls());
        client.put("hello over TLS").await.unwrap();
        let echoed = client.take().await.unwrap();
        assert_eq!(echoed, Bytes::from_static(b"hello over TLS"));
    });
    drop(run(server.close()));
}

#[test]
fn the_negotiated_alpn_is_in_the_connection_info_on_both_sides() {
    let certificate = tls::self_signed(&["localhost"]).unwrap();
    let (tx, rx) = mpsc::channel();
    let server = echo_server(&certificate, &["http/1.1"], tx);
    let client = run(async {
        let config = certificate
            .client_config_trusting_it()
            .with_alpn_protocols(["h2", "http/1.1"]);
        let options = ClientOptions::new()
            .remote_address(server.local_addr())
            .tls(config)
            .tls_server_name("localhost");
        tcp::client(options).await.unwrap()
    });
    let info = client.info();
    assert_eq!(info.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert!(
        info.tls_protocol_version()
            .is_some_and(|v| v.starts_with("TLS"))
    );
    assert_eq!(info.peer_certificates().map(<[Bytes]>::len), Some(1));
    let on_server = rx.recv_timeout(BOUND).unwrap();
    assert_eq!(on_server.info().alpn_protocol(), Some(&b"http/1.1"[..]));
    assert!(on_server.info().is_tls());
    weir::stream::Source::close(&client);
    drop((client, on_server));
    drop(run(server.close()));
}

#[test]
fn an_untrusted_certificate_is_refused_with_a_clear_error() {
    let certificate = tls::self_signed(&["localhost"]).unwrap();
    let (tx, _rx) = mpsc::channel();
    let server = echo_server(&certificate, &[], tx);
    let refused = run(async {
        let options = ClientOptions::new()
            .host("localhost")
            .port(server.local_addr().port())
            .tls(ClientConfig::default()) // webpki roots: the self-signed cert is unknown
            .connect_timeout(Duration::from_secs(5));
        tcp::client(options).await.unwrap_err()
    });
    assert!(refused.is_protocol(), "{refused}");
    assert!(
        refused.to_string().contains("TLS handshake failed"),
        "{refused}"
    );
    drop(run(server.close()));
}

#[test]
fn a_wrong_server_name_is_refused() {
    let certificate = tls::self_signed(&["localhost"]).unwrap();
    let (tx, _rx) = mpsc::channel();
    let server = echo_server(&certificate, &[], tx);
    let refused = run(async {
        let options = ClientOptions::new()
            .remote_address(server.local_addr())
            .tls(certificate.client_config_trusting_it())
            .tls_server_name("example.com");
        tcp::client(options).await.unwrap_err()
    });
    assert!(refused.is_protocol(), "{refused}");
    drop(run(server.close()));
}

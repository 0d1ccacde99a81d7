//! TLS handshakes over loopback TCP: echo, ALPN, verification failures, insecure clients,
//! configuration errors and client certificates.

mod support;

use std::net::SocketAddr;

use async_net::{TcpListener, TcpStream};
use futures::{AsyncReadExt, AsyncWriteExt};
use weir::Error;
use weir::tls::{self, ClientConfig, ServerConfig, TlsInfo, TlsStream};

use support::run;

/// A listener on an ephemeral loopback port.
async fn listener() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// One handshake: the server accepts one connection with `server`, the client connects with
/// `client` to `name`. Both outcomes are returned.
async fn handshake(
    server: &ServerConfig,
    client: &ClientConfig,
    name: &str,
) -> (
    Result<TlsStream<TcpStream>, Error>,
    Result<TlsStream<TcpStream>, Error>,
) {
    let (listener, addr) = listener().await;
    let server = server.clone();
    let accepted = weir::runtime::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        tls::accept(&server, tcp).await
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    // A failed client drops its socket, so the server's handshake ends too (and the other way).
    let connected = tls::connect(client, name, tcp).await;
    let accepted = accepted.await;
    (accepted, connected)
}

#[test]
fn smoke_echo_over_tls_with_a_trusted_self_signed_certificate() {
    run(async {
        let cert = tls::self_signed(&["localhost", "127.0.0.1"]).unwrap();
        let (listener, addr) = listener().await;
        let server = cert.server_config();
        let echo = weir::runtime::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut stream = tls::accept(&server, tcp).await.unwrap();
            let mut data = Vec::new();
            stream.read_to_end(&mut data).await.unwrap();
            stream.write_all(&data).await.unwrap();
            stream.close().await.unwrap();
            stream.session_info().clone()
        });

        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut stream = tls::connect(&cert.client_config_trusting_it(), "localhost", tcp)
            .await
            .unwrap();
        let payload: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        stream.write_all(&payload).await.unwrap();
        // Half-close: close_notify, then the TCP write side; the server sees the end.
        stream.close().await.unwrap();
        let mut echoed = Vec::new();
        stream.read_to_end(&mut echoed).await.unwrap();
        assert_eq!(echoed, payload);

        let client_info = stream.session_info();
        assert_eq!(client_info.protocol(), "TLSv1.3");
        assert!(client_info.cipher_suite().starts_with("TLS13_"));
        assert_eq!(client_info.alpn_protocol(), None);
        assert_eq!(client_info.peer_certificates().len(), 1);
        assert_eq!(client_info.peer_certificates()[0], cert.certificate_der());
        assert_eq!(client_info.server_name(), Some("localhost"));

        let server_info = echo.await;
        assert_eq!(server_info.protocol(), "TLSv1.3");
        assert_eq!(server_info.cipher_suite(), client_info.cipher_suite());
        assert_eq!(server_info.server_name(), Some("localhost"));
        assert!(server_info.peer_certificates().is_empty());
    });
}

#[test]
fn connects_by_ip_address_when_the_certificate_names_it() {
    run(async {
        let cert = tls::self_signed(&["localhost", "127.0.0.1"]).unwrap();
        let (accepted, connected) = handshake(
            &cert.server_config(),
            &cert.client_config_trusting_it(),
            "127.0.0.1",
        )
        .await;
        let connected = connected.unwrap();
        assert_eq!(connected.session_info().server_name(), Some("127.0.0.1"));
        // Clients send no SNI for IP addresses.
        assert_eq!(accepted.unwrap().session_info().server_name(), None);
    });
}

#[test]
fn alpn_negotiation_is_visible_on_both_sides() {
    run(async {
        let cert = tls::self_signed(&["localhost"]).unwrap();
        let server = cert
            .server_config_builder()
            .alpn_protocols(["http/1.1"])
            .build()
            .unwrap();
        let client = cert
            .client_config_builder()
            .alpn_protocols(["h2", "http/1.1"])
            .build()
            .unwrap();
        let (accepted, connected) = handshake(&server, &client, "localhost").await;
        let on_server: TlsInfo = accepted.unwrap().session_info().clone();
        let on_client: TlsInfo = connected.unwrap().session_info().clone();
        assert_eq!(on_server.alpn_protocol(), Some(&b"http/1.1"[..]));
        assert_eq!(on_client.alpn_protocol(), Some(&b"http/1.1"[..]));

        // The server's preference wins when both sides offer several.
        let server = server.with_alpn_protocols(["h2", "http/1.1"]);
        let client = client.with_alpn_protocols(["http/1.1", "h2"]);
        let (accepted, connected) = handshake(&server, &client, "localhost").await;
        assert_eq!(
            accepted.unwrap().session_info().alpn_protocol(),
            Some(&b"h2"[..])
        );
        assert_eq!(
            connected.unwrap().session_info().alpn_protocol(),
            Some(&b"h2"[..])
        );
    });
}

#[test]
fn no_alpn_protocol_in_common_is_a_clear_error() {
    run(async {
        let cert = tls::self_signed(&["localhost"]).unwrap();
        let server = cert.server_config().with_alpn_protocols(["h2"]);
        let client = cert
            .client_config_trusting_it()
            .with_alpn_protocols(["http/1.1"]);
        let (accepted, connected) = handshake(&server, &client, "localhost").await;
        let server_err = accepted.unwrap_err();
        assert!(server_err.is_protocol(), "{server_err}");
        assert!(server_err.to_string().contains("ALPN"), "{server_err}");
        let client_err = connected.unwrap_err();
        assert!(client_err.is_protocol(), "{client_err}");
        assert!(client_err.to_string().contains("ALPN"), "{client_err}");
    });
}

#[test]
fn default_webpki_roots_reject_a_self_signed_server() {
    run(async {
        let cert = tls::self_signed(&["localhost"]).unwrap();
        let (accepted, connected) =
            handshake(&cert.server_config(), &ClientConfig::default(), "localhost").await;
        let err = connected.unwrap_err();
        assert!(err.is_protocol(), "{err}");
        let message = err.to_string();
        assert!(message.contains("TLS handshake failed"), "{message}");
        assert!(message.contains("UnknownIssuer"), "{message}");
        assert!(message.contains("add_root_pem"), "{message}");
        // The server learns that its certificate was refused.
        let err = accepted.unwrap_err();
        assert!(err.is_protocol(), "{err}");
        assert!(
            err.to_string().contains("rejected our certificate"),
            "{err}"
        );
    });
}

#[test]
fn danger_accept_invalid_certs_connects_to_an_untrusted_server() {
    run(async {
        let cert = tls::self_signed(&["localhost"]).unwrap();
        let insecure = ClientConfig::builder()
            .danger_accept_invalid_certs()
            .build()
            .unwrap();
        assert!(insecure.is_dangerous());
        // Neither trusted nor issued for this name: accepted anyway.
        let (accepted, connected) =
            handshake(&cert.server_config(), &insecure, "not-the-name.example").await;
        let mut client = connected.unwrap();
        let mut server = accepted.unwrap();
        assert_eq!(
            client.session_info().peer_certificates()[0],
            cert.certificate_der()
        );
        client.write_all(b"still encrypted").await.unwrap();
        client.flush().await.unwrap();
        let mut buf = [0; 15];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"still encrypted");
    });
}

#[test]
fn a_wrong_server_name_is_rejected() {
    run(async {
        let cert = tls::self_signed(&["localhost"]).unwrap();
        let (_, connected) = handshake(
            &cert.server_config(),
            &cert.client_config_trusting_it(),
            "example.com",
        )
        .await;
        let err = connected.unwrap_err();
        assert!(err.is_protocol(), "{err}");
        let message = err.to_string();
        assert!(message.contains("not valid for name"), "{message}");
        assert!(message.contains("example.com"), "{message}");
    });
}

#[test]
fn a_server_name_on_the_config_overrides_the_one_given_to_connect() {
    run(async {
        let cert = tls::self_signed(&["weir.test"]).unwrap();
        let client = cert
            .client_config_builder()
            .server_name("weir.test")
            .build()
            .unwrap();
        let (accepted, connected) = handshake(&cert.server_config(), &client, "127.0.0.1").await;
        assert_eq!(
            connected.unwrap().session_info().server_name(),
            Some("weir.test")
        );
        assert_eq!(
            accepted.unwrap().session_info().server_name(),
            Some("weir.test")
        );
    });
}

#[test]
fn an_invalid_server_name_fails_before_any_handshake() {
    run(async {
        let cert = tls::self_signed(&["localhost"]).unwrap();
        let (listener, addr) = listener().await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let err = tls::connect(&cert.client_config_trusting_it(), "bad name!", tcp)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("invalid TLS server name"), "{err}");
        drop(listener);
    });
}

#[test]
fn a_peer_that_hangs_up_mid_handshake_is_an_io_error() {
    run(async {
        let cert = tls::self_signed(&["localhost"]).unwrap();
        let (listener, addr) = listener().await;
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        drop(tcp);
        let err = tls::accept(&cert.server_config(), accepted)
            .await
            .unwrap_err();
        assert!(err.is_io(), "{err}");
    });
}

#[test]
fn a_silent_peer_times_out_the_handshake() {
    run(async {
        let cert = tls::self_signed(&["localhost"]).unwrap();
        let (listener, addr) = listener().await;
        let _silent = TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        let server = cert
            .server_config()
            .with_handshake_timeout(std::time::Duration::from_millis(100));
        let err = tls::accept(&server, accepted).await.unwrap_err();
        assert!(err.is_timeout(), "{err}");
    });
}

#[test]
fn cancelling_a_handshake_closes_the_socket() {
    run(async {
        let cert = tls::self_signed(&["localhost"]).unwrap();
        let (listener, addr) = listener().await;
        let mut peer = TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await.unwrap();
        let handshake = tls::accept(&cert.server_config(), accepted);
        assert!(handshake.error(Error::cancelled()));
        // The server's end is dropped: the peer reads end of stream (or a reset).
        let mut buf = [0; 1];
        let read = peer.read(&mut buf).await;
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
        assert!(handshake.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn client_certificates_are_visible_to_the_server() {
    run(async {
        let server_cert = tls::self_signed(&["localhost"]).unwrap();
        let client_cert = tls::self_signed(&["client.weir.test"]).unwrap();
        let server = server_cert
            .server_config_builder()
            .require_client_auth(client_cert.certificate_pem())
            .build()
            .unwrap();
        let client = server_cert
            .client_config_builder()
            .client_certificate_pem(client_cert.certificate_pem(), client_cert.private_key_pem())
            .build()
            .unwrap();
        let (accepted, connected) = handshake(&server, &client, "localhost").await;
        connected.unwrap();
        let accepted = accepted.unwrap();
        let peers = accepted.session_info().peer_certificates();
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0], client_cert.certificate_der());

        // Without a client certificate, a server that requires one refuses the client.
        let (accepted, _) = handshake(
            &server,
            &server_cert.client_config_trusting_it(),
            "localhost",
        )
        .await;
        let err = accepted.unwrap_err();
        assert!(err.is_protocol(), "{err}");
        assert!(err.to_string().contains("no certificates"), "{err}");

        // A server that only requests one accepts the client anyway.
        let optional = server_cert
            .server_config_builder()
            .request_client_auth(client_cert.certificate_pem())
            .build()
            .unwrap();
        let (accepted, connected) = handshake(
            &optional,
            &server_cert.client_config_trusting_it(),
            "localhost",
        )
        .await;
        connected.unwrap();
        assert!(
            accepted
                .unwrap()
                .session_info()
                .peer_certificates()
                .is_empty()
        );
    });
}

#[test]
fn configs_load_from_pem_files() {
    let cert = tls::self_signed(&["localhost"]).unwrap();
    let dir = std::env::temp_dir().join(format!("weir-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.certificate_pem()).unwrap();
    std::fs::write(&key_path, cert.private_key_pem()).unwrap();
    let server = ServerConfig::from_pem_files(&cert_path, &key_path).unwrap();
    let client = ClientConfig::builder()
        .no_default_roots()
        .add_root_pem_file(&cert_path)
        .build()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    run(async {
        let (accepted, connected) = handshake(&server, &client, "localhost").await;
        accepted.unwrap();
        connected.unwrap();
    });
}

/// Table of configuration mistakes: each is an error whose message says what is wrong.
#[test]
fn configuration_mistakes_are_clear_errors() {
    let cert = tls::self_signed(&["localhost"]).unwrap();
    let other = tls::self_signed(&["localhost"]).unwrap();
    let cert_pem = cert.certificate_pem();
    let key_pem = cert.private_key_pem();
    let bad_base64 = "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n";
    let truncated = &cert_pem[..cert_pem.len() / 2];
    let garbage_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

    let cases: Vec<(&str, Result<ServerConfig, Error>, &str)> = vec![
        (
            "no certificate given",
            ServerConfig::builder().build(),
            "needs a certificate chain and a private key",
        ),
        (
            "chain is not PEM",
            ServerConfig::from_pem("hello", key_pem),
            "no certificate found",
        ),
        (
            "chain has bad base64",
            ServerConfig::from_pem(bad_base64, key_pem),
            "malformed PEM",
        ),
        (
            "chain is truncated",
            ServerConfig::from_pem(truncated, key_pem),
            "malformed PEM",
        ),
        (
            "certificate is not DER",
            ServerConfig::from_pem(garbage_der, key_pem),
            "cannot use the server certificate",
        ),
        (
            "key missing",
            ServerConfig::from_pem(cert_pem, ""),
            "no private key found",
        ),
        (
            "key given where the chain belongs",
            ServerConfig::from_pem(key_pem, key_pem),
            "no certificate found",
        ),
        (
            "certificate given where the key belongs",
            ServerConfig::from_pem(cert_pem, cert_pem),
            "no private key found",
        ),
        (
            "encrypted key",
            ServerConfig::from_pem(
                cert_pem,
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            ),
            "encrypted",
        ),
        (
            "key of another certificate",
            ServerConfig::from_pem(cert_pem, other.private_key_pem()),
            "private key does not match",
        ),
        (
            "client-auth roots are not PEM",
            cert.server_config_builder()
                .require_client_auth("nope")
                .build(),
            "no certificate found",
        ),
    ];
    for (case, result, expected) in cases {
        let err = result.expect_err(case);
        assert!(
            err.to_string().contains(expected),
            "{case}: {err} should mention {expected:?}"
        );
    }

    let client_cases: Vec<(&str, Result<ClientConfig, Error>, &str)> = vec![
        (
            "no roots at all",
            ClientConfig::builder().no_default_roots().build(),
            "no root certificates",
        ),
        (
            "root PEM is not PEM",
            ClientConfig::builder().add_root_pem("nope").build(),
            "no certificate found",
        ),
        (
            "invalid server name",
            ClientConfig::builder().server_name("a b").build(),
            "invalid TLS server name",
        ),
        (
            "client key of another certificate",
            ClientConfig::builder()
                .client_certificate_pem(cert_pem, other.private_key_pem())
                .build(),
            "private key does not match the client certificate",
        ),
    ];
    for (case, result, expected) in client_cases {
        let err = result.expect_err(case);
        assert!(
            err.to_string().contains(expected),
            "{case}: {err} should mention {expected:?}"
        );
    }

    let missing =
        ServerConfig::from_pem_files("/nonexistent/weir/cert.pem", "/nonexistent/key.pem")
            .unwrap_err();
    assert!(missing.is_io());
    assert!(missing.to_string().contains("/nonexistent/weir/cert.pem"));
}

#[test]
fn debug_output_never_shows_private_keys() {
    let cert = tls::self_signed(&["localhost"]).unwrap();
    let key_body: String = cert.private_key_pem().lines().nth(1).unwrap().to_owned();
    let shown = format!(
        "{cert:?} {:?} {:?} {:?}",
        cert.server_config_builder(),
        cert.server_config(),
        ClientConfig::builder()
            .client_certificate_pem(cert.certificate_pem(), cert.private_key_pem())
    );
    assert!(!shown.contains(&key_body), "{shown}");
}

#[test]
fn platform_roots_load_or_fail_clearly() {
    match ClientConfig::builder().platform_roots().build() {
        Ok(config) => assert!(!config.is_dangerous()),
        Err(e) => assert!(e.to_string().contains("platform root certificates"), "{e}"),
    }
}

#[test]
fn tls_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<ServerConfig>();
    send_sync::<tls::ServerConfigBuilder>();
    send_sync::<ClientConfig>();
    send_sync::<tls::ClientConfigBuilder>();
    send_sync::<tls::SelfSigned>();
    send_sync::<TlsInfo>();
    send_sync::<TlsStream<TcpStream>>();
    send_sync::<weir::Deferred<TlsStream<TcpStream>, Error>>();
}

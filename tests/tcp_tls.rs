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
    start_echo(ServerOptions::new().tls(config), accepted)
}

/// Starts an echo server on loopback with `options`; each accepted connection is also sent on
/// `accepted`.
fn start_echo(options: ServerOptions, accepted: mpsc::Sender<TcpConnection>) -> tcp::Server {
    run(tcp::start_server(
        move |connection: TcpConnection| {
            let _ = accepted.send(connection.clone());
            weir::runtime::spawn(async move {
                while let Some(chunk) = connection.take_next().await {
                    if connection.put(chunk).await.is_err() {
                        break;
                    }
                }
                weir::stream::Source::close(&connection);
            })
            .detach();
        },
        options.address(([127, 0, 0, 1], 0)),
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
        let echoed = client.take_next().await.unwrap();
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

/// A TLS echo server (see `start_echo`) with the given shutdown timeout, whose handshakes only
/// the server's close can end.
fn server_with(
    certificate: &tls::SelfSigned,
    shutdown_timeout: Duration,
    accepted: mpsc::Sender<TcpConnection>,
) -> tcp::Server {
    // Far longer than any bound here: only the server's close may end a stuck handshake.
    let config = certificate
        .server_config()
        .with_handshake_timeout(Duration::from_secs(600));
    let options = ServerOptions::new()
        .shutdown_timeout(shutdown_timeout)
        .tls(config);
    start_echo(options, accepted)
}

/// Connects a plain TCP socket and waits until the server counts its handshake as under way.
async fn connect_without_handshaking(server: &tcp::Server) -> async_net::TcpStream {
    let raw = async_net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    while server.handshake_count() == 0 {
        futures_lite::future::yield_now().await;
    }
    raw
}

#[test]
fn close_waits_for_a_handshake_under_way_and_hands_its_connection_over() {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};

    let certificate = tls::self_signed(&["localhost"]).unwrap();
    let (tx, rx) = mpsc::channel();
    let server = server_with(&certificate, BOUND, tx);
    run(async {
        let raw = connect_without_handshaking(&server).await;
        assert_eq!(server.handshake_count(), 1);
        let closing = server.close();

        // The client only now starts its handshake: the server still completes it.
        let mut client = tls::connect(&certificate.client_config_trusting_it(), "localhost", raw)
            .await
            .expect("the handshake completes after close");
        let accepted = rx.recv_timeout(BOUND).expect("handed to the handler");
        assert!(accepted.info().is_tls());
        assert_eq!(server.handshake_count(), 0);
        assert_eq!(server.connection_count(), 1);
        assert!(
            !closing.is_realized(),
            "closed with a connection still open"
        );

        // It is served as any open connection...
        client.write_all(b"late but served").await.unwrap();
        client.flush().await.unwrap();
        let mut echoed = [0; 15];
        client.read_exact(&mut echoed).await.unwrap();
        assert_eq!(&echoed, b"late but served");

        // ...and the close completes once it is done.
        client.close().await.unwrap();
        drop(client);
        closing.await.unwrap();
        assert_eq!(server.connection_count(), 0);
    });
}

#[test]
fn close_abandons_a_handshake_still_under_way_at_the_shutdown_timeout() {
    use futures_lite::AsyncReadExt;

    let certificate = tls::self_signed(&["localhost"]).unwrap();
    let (tx, rx) = mpsc::channel();
    let server = server_with(&certificate, Duration::from_millis(50), tx);
    run(async {
        let mut raw = connect_without_handshaking(&server).await;
        // The client never says hello: at the timeout the server gives up on it.
        server.close().await.unwrap();
        assert_eq!(server.handshake_count(), 0);
        let mut buffer = [0; 16];
        let read = weir::runtime::timeout(BOUND, raw.read(&mut buffer))
            .await
            .expect("the server closed the socket");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    });
    assert!(
        rx.try_recv().is_err(),
        "the handler got an unfinished connection"
    );
}

#[test]
fn a_burst_then_a_half_close_arrives_whole_and_in_order_over_tls() {
    use futures::SinkExt;
    const PIECES: usize = 40;
    let certificate = tls::self_signed(&["localhost"]).unwrap();
    let (tx, _rx) = mpsc::channel();
    let server = echo_server(&certificate, &[], tx);
    run(async {
        let options = ClientOptions::new()
            .host("localhost")
            .port(server.local_addr().port())
            .tls(certificate.client_config_trusting_it());
        let mut client = tcp::client(options).await.unwrap();
        // Many records back to back, then close_notify: the server may read several records
        // and the end of the stream in one go; every byte must come back before the end.
        let mut sent = Vec::new();
        for i in 0..PIECES {
            let piece = vec![i as u8; 1000 + i * 997];
            sent.extend_from_slice(&piece);
            client.put(piece).await.unwrap();
        }
        SinkExt::<Bytes>::close(&mut client).await.unwrap();
        let mut echoed = Vec::new();
        while let Some(chunk) = client.take_next().await {
            echoed.extend_from_slice(&chunk);
        }
        assert_eq!(echoed.len(), sent.len());
        assert!(echoed == sent, "the echo differs from what was sent");
        assert!(weir::stream::Source::drained(&client).await.is_ok());
    });
    drop(run(server.close()));
}

/// Dropping every handle of a TLS connection closes it: the peer's inbound side ends.
#[test]
fn dropping_every_handle_of_a_tls_connection_closes_it() {
    let certificate = tls::self_signed(&["localhost"]).unwrap();
    let (tx, rx) = mpsc::channel();
    let server = run(tcp::start_server(
        move |connection: TcpConnection| {
            let _ = tx.send(connection);
        },
        ServerOptions::new()
            .tls(certificate.server_config())
            .address(([127, 0, 0, 1], 0)),
    ))
    .unwrap();
    run(async {
        let options = ClientOptions::new()
            .remote_address(server.local_addr())
            .tls_server_name("localhost")
            .tls(certificate.client_config_trusting_it());
        let client = tcp::client(options).await.unwrap();
        let on_server = rx.recv_timeout(BOUND).unwrap();
        on_server.put("last words").await.unwrap();
        let closed = on_server.socket_closed();
        let clone = on_server.clone();
        drop(on_server);
        assert!(!closed.is_realized(), "a handle is still alive");
        drop(clone);
        weir::runtime::timeout(BOUND, closed)
            .await
            .expect("the socket closes")
            .unwrap();
        assert_eq!(client.take_next().await.unwrap(), "last words");
        assert_eq!(client.take_next().await, None, "the client sees the end");

        // And the other way round: the client's handles dropped, the server's side ends.
        let client_closed = client.socket_closed();
        let options = ClientOptions::new()
            .remote_address(server.local_addr())
            .tls_server_name("localhost")
            .tls(certificate.client_config_trusting_it());
        drop(client);
        weir::runtime::timeout(BOUND, client_closed)
            .await
            .expect("the socket closes")
            .unwrap();
        let second = tcp::client(options).await.unwrap();
        let on_server = rx.recv_timeout(BOUND).unwrap();
        drop(second);
        assert_eq!(on_server.take_next().await, None);
    });
    drop(run(server.close()));
}

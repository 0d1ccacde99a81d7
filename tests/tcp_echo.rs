//! TCP on loopback: echo round trips, many clients, bounded buffering under a slow consumer,
//! half-close, a peer reset, connect errors, and a server closing gracefully.

mod support;

use std::io::{Read, Write};
use std::time::Duration;

use futures::SinkExt;
use support::tcp::{connect, handing_server, localhost};
use support::{BOUND, run};
use weir::stream::{self, ConnectOptions, Description, Sink, Source};
use weir::tcp::{self, ClientOptions, Server, ServerOptions, TcpConnection};

/// An echo server: each connection is connected to itself.
async fn echo_server(options: ServerOptions) -> Server {
    let echo = |c: TcpConnection| {
        stream::connect(c.clone(), c, ConnectOptions::new());
    };
    tcp::start_server(echo, options)
        .await
        .expect("listen on loopback")
}

/// Reads from `connection` until `n` bytes have arrived.
async fn read_exactly(connection: &TcpConnection, n: usize) -> Vec<u8> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        let chunk = connection.take_next().await.expect("more bytes");
        got.extend_from_slice(&chunk);
    }
    got
}

/// The description of one of the connection's channels (`sink` or `source`).
fn channel_description(connection: &TcpConnection, edge: &str) -> Description {
    Source::node(connection)
        .downstream()
        .into_iter()
        .find(|e| e.description.as_deref() == Some(edge))
        .expect("a connection has sink and source edges")
        .target
        .description()
}

fn state(connection: &TcpConnection) -> String {
    Source::description(connection)
        .extra
        .into_iter()
        .find(|(key, _)| key == "state")
        .map(|(_, value)| value)
        .expect("a state extra")
}

#[test]
fn smoke() {
    run(async {
        let server = echo_server(localhost()).await;
        let client = connect(&server).await;
        client.put("hello").await.unwrap();
        assert_eq!(read_exactly(&client, 5).await, b"hello");
        client.close();
        server.close().await.unwrap();
    });
}

#[test]
fn echo_round_trip_with_sink_ext_and_description() {
    run(async {
        let server = echo_server(localhost()).await;
        let mut client = connect(&server).await;
        client.send(vec![1u8, 2, 3]).await.unwrap();
        client.send(&b"abc"[..]).await.unwrap();
        client.send(String::from("xyz")).await.unwrap();
        assert_eq!(read_exactly(&client, 9).await, b"\x01\x02\x03abcxyz");

        let d = Source::description(&client);
        assert_eq!(d.kind, "tcp");
        let extra: Vec<_> = d
            .extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        assert!(extra.contains(&("remote".to_string(), server.local_addr().to_string())));
        assert!(extra.contains(&("local".to_string(), client.local_addr().to_string())));
        assert_eq!(state(&client), "open");

        let closed = client.socket_closed();
        client.close();
        closed.await.unwrap();
        assert_eq!(state(&client), "closed");
        server.close().await.unwrap();
    });
}

#[test]
fn many_concurrent_clients_echo_their_own_data() {
    run(async {
        let server = echo_server(localhost()).await;
        let tasks: Vec<_> = (0..32u8)
            .map(|i| {
                let address = server.local_addr();
                weir::runtime::spawn(async move {
                    let client = tcp::client(ClientOptions::new().remote_address(address))
                        .await
                        .unwrap();
                    let data: Vec<u8> = (0..10_000u32).map(|n| (n as u8) ^ i).collect();
                    for chunk in data.chunks(1000) {
                        client.put(chunk.to_vec()).await.unwrap();
                    }
                    let got = read_exactly(&client, data.len()).await;
                    assert_eq!(got, data, "client {i}");
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        server.close().await.unwrap();
    });
}

#[test]
fn a_slow_consumer_keeps_server_buffering_bounded() {
    run(async {
        let options = localhost().inbound_buffer(4).read_chunk_size(4096);
        let (server, accepted) = handing_server(options).await;
        let client = connect(&server).await;
        let on_server = accepted.recv_timeout(BOUND).unwrap();
        assert_eq!(
            channel_description(&on_server, "source").buffer_capacity,
            Some(4)
        );

        // The client writes 4 MiB while the server does not take anything.
        const TOTAL: usize = 4 << 20;
        let writer = {
            let client = client.clone();
            weir::runtime::spawn(async move {
                for _ in 0..TOTAL / 65536 {
                    if client.put(vec![7u8; 65536]).await.is_err() {
                        break;
                    }
                }
            })
        };
        // Nothing is taken: the inbound buffer fills to its capacity and stays there, as the
        // read task stops reading (polled until full; `run` bounds the wait).
        loop {
            let d = channel_description(&on_server, "source");
            assert!(d.buffer_size.unwrap() <= 4, "buffer above capacity: {d:?}");
            if d.buffer_size == Some(4) {
                break;
            }
            futures_lite::future::yield_now().await;
        }

        // Now consume slowly: every take keeps the buffer within its capacity.
        let mut received = 0;
        while received < TOTAL {
            let chunk = on_server.take_next().await.unwrap();
            assert!(chunk.len() <= 4096);
            received += chunk.len();
            let d = channel_description(&on_server, "source");
            assert!(d.buffer_size.unwrap() <= 4, "buffer above capacity: {d:?}");
        }
        writer.await;
        assert_eq!(received, TOTAL);
        client.close();
        Source::close(&on_server);
        server.close().await.unwrap();
    });
}

#[test]
fn half_close_client_still_gets_the_reply_and_server_sees_a_clean_drain() {
    run(async {
        let (server, accepted) = handing_server(localhost()).await;
        let mut client = connect(&server).await;
        let on_server = accepted.recv_timeout(BOUND).unwrap();

        client.send("question").await.unwrap();
        SinkExt::<&str>::close(&mut client).await.unwrap();
        // The server reads to the end: a clean drain.
        let request = weir::bytes::to_bytes(on_server.clone(), 1024)
            .await
            .unwrap();
        assert_eq!(request, "question");
        Source::drained(&on_server).await.unwrap();
        assert_eq!(state(&on_server), "half-closed");

        // Its write side still works.
        on_server.put("answer").await.unwrap();
        Source::close(&on_server);
        let reply = weir::bytes::to_bytes(client.clone(), 1024).await.unwrap();
        assert_eq!(reply, "answer");
        Source::drained(&client).await.unwrap();
        client.socket_closed().await.unwrap();
        server.close().await.unwrap();
    });
}

#[test]
fn a_peer_reset_is_observable_without_panic() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let client = tcp::client(ClientOptions::new().remote_address(address))
            .await
            .unwrap();
        let (raw, _) = listener.accept().unwrap();
        client.put("unread by the peer").await.unwrap();
        // Wait until the bytes reached the raw side's receive buffer, unread... by peeking.
        let mut peek = [0u8; 1];
        raw.set_read_timeout(Some(BOUND)).unwrap();
        assert_eq!(raw.peek(&mut peek).unwrap(), 1);
        // Closing with unread data makes Linux send a reset.
        drop(raw);

        // The inbound side ends: with an I/O error (reset) or at worst a clean end.
        assert_eq!(client.take_next().await, None);
        let drained = Source::drained(&client).await;
        if let Err(error) = &drained {
            assert!(error.is_io(), "{error}");
        }
        // Writes then fail rather than panic.
        let mut failed = false;
        for _ in 0..100 {
            if client.put(vec![0u8; 1024]).await.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed || drained.is_err(), "the reset is observable");
        client.socket_closed().await.unwrap();
    });
}

#[test]
fn reset_drains_inbound_with_an_io_error() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let client = tcp::client(ClientOptions::new().remote_address(address))
            .await
            .unwrap();
        let (raw, _) = listener.accept().unwrap();
        client.put("x").await.unwrap();
        raw.set_read_timeout(Some(BOUND)).unwrap();
        let mut peek = [0u8; 1];
        assert_eq!(raw.peek(&mut peek).unwrap(), 1);
        drop(raw);
        let error = Source::drained(&client).await.unwrap_err();
        assert!(error.is_io(), "{error}");
        // The outbound side is closed with the same error.
        let put = client.put("after").await.unwrap_err();
        assert!(put.is_io() || put.is_closed(), "{put}");
    });
}

#[test]
fn connect_timeout_zero_is_a_timeout_error() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let options = ClientOptions::new()
            .remote_address(listener.local_addr().unwrap())
            .connect_timeout(Duration::ZERO);
        let error = tcp::client(options).await.unwrap_err();
        assert!(error.is_timeout(), "{error}");
        assert!(error.to_string().contains("timed out"), "{error}");
    });
}

#[test]
fn connection_refused_is_a_clear_io_error() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let error = tcp::client(ClientOptions::new().remote_address(address))
            .await
            .unwrap_err();
        assert!(error.is_io(), "{error}");
        assert!(error.to_string().contains(&address.to_string()), "{error}");
        let io = std::error::Error::source(&error)
            .and_then(|e| e.downcast_ref::<std::io::Error>())
            .expect("the io::Error as source");
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
    });
}

/// A listener that never accepts, with a backlog of 0 filled by one connection: the kernel
/// drops the SYN of any further connect, which stays pending until its timeout.
fn full_listener() -> (socket2::Socket, std::net::TcpStream) {
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let loopback: std::net::SocketAddr = ([127, 0, 0, 1], 0).into();
    listener.bind(&loopback.into()).unwrap();
    listener.listen(0).unwrap();
    let address = listener.local_addr().unwrap().as_socket().unwrap();
    let queued = std::net::TcpStream::connect_timeout(&address, BOUND).unwrap();
    (listener, queued)
}

#[test]
fn cancelling_the_client_deferred_aborts_the_connect() {
    run(async {
        // The connect cannot finish first (on an open loopback listener it could, before the
        // cancel below).
        let (listener, _queued) = full_listener();
        let address = listener.local_addr().unwrap().as_socket().unwrap();
        let pending = tcp::client(ClientOptions::new().remote_address(address));
        assert!(
            pending.error(weir::Error::cancelled()),
            "the connect was still pending"
        );
        assert!(pending.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn server_close_drains_gracefully_then_closes_after_the_timeout() {
    run(async {
        let options = localhost().shutdown_timeout(Duration::from_secs(2));
        let echo = |c: TcpConnection| {
            stream::connect(c.clone(), c, ConnectOptions::new());
        };
        let server = tcp::start_server(echo, options).await.unwrap();
        let client = connect(&server).await;
        client.put("before").await.unwrap();
        assert_eq!(read_exactly(&client, 6).await, b"before");
        assert_eq!(server.connection_count(), 1);

        let closing = server.close();
        // New connections are refused at once...
        let refused = tcp::client(ClientOptions::new().remote_address(server.local_addr())).await;
        assert!(refused.unwrap_err().is_io());
        // ...while the open one keeps working until the timeout.
        client.put("during").await.unwrap();
        assert_eq!(read_exactly(&client, 6).await, b"during");
        assert!(!closing.is_realized());

        closing.await.unwrap();
        assert_eq!(server.connection_count(), 0);
        assert_eq!(client.take_next().await, None);
        server.wait_for_close().await.unwrap();
    });
}

#[test]
fn server_close_finishes_early_when_connections_close() {
    run(async {
        let server = echo_server(localhost().shutdown_timeout(BOUND * 2)).await;
        let client = connect(&server).await;
        client.put("x").await.unwrap();
        assert_eq!(read_exactly(&client, 1).await, b"x");
        let closing = server.close();
        client.close();
        // Far sooner than the shutdown timeout (which would fail `run`).
        closing.await.unwrap();
    });
}

#[test]
fn an_already_bound_listener_is_used_and_closed() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = echo_server(ServerOptions::new().listener(listener)).await;
        assert_eq!(server.local_addr(), address);
        let client = connect(&server).await;
        client.put("ok").await.unwrap();
        assert_eq!(read_exactly(&client, 2).await, b"ok");
        client.close();
        server.close().await.unwrap();
        // weir closed the listener: connecting is refused.
        assert!(std::net::TcpStream::connect(address).is_err());
    });
}

#[test]
fn a_raw_peer_sees_written_bytes_and_the_half_close() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let client = tcp::client(ClientOptions::new().remote_address(address))
            .await
            .unwrap();
        let (mut raw, _) = listener.accept().unwrap();
        raw.set_read_timeout(Some(BOUND)).unwrap();
        client.put("all of it").await.unwrap();
        Sink::<&str>::close_now(&client);
        client.outbound_drained().await.unwrap();
        let mut got = String::new();
        // read_to_string returns at the half-close.
        weir::runtime::spawn_blocking(move || {
            raw.read_to_string(&mut got).unwrap();
            raw.write_all(b"bye").unwrap();
            got
        })
        .await
        .eq("all of it")
        .then_some(())
        .expect("the raw peer read everything");
        assert_eq!(read_exactly(&client, 3).await, b"bye");
    });
}

#[test]
fn a_client_binds_its_local_address_first() {
    run(async {
        let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let options = ClientOptions::new()
            .remote_address(server.local_addr())
            .local_address(([127, 0, 0, 3], 0));
        let connection = tcp::client(options).await.unwrap();
        assert_eq!(connection.local_addr().ip().to_string(), "127.0.0.3");
        // A local address this machine does not have cannot be bound: a clear I/O error.
        let unbindable = ClientOptions::new()
            .remote_address(server.local_addr())
            .local_address(([192, 0, 2, 1], 0));
        let error = tcp::client(unbindable).await.unwrap_err();
        assert!(error.is_io(), "{error}");
        assert!(error.to_string().contains("192.0.2.1"), "{error}");
        drop(connection);
        drop(server.close());
    });
}

#[test]
fn close_refuses_new_connections_at_once() {
    run(async {
        for _ in 0..20 {
            let options = ServerOptions::new().address(([127, 0, 0, 1], 0));
            let server = tcp::start_server(|_| {}, options).await.unwrap();
            let closing = server.close();
            let refused =
                tcp::client(ClientOptions::new().remote_address(server.local_addr())).await;
            assert!(refused.unwrap_err().is_io());
            closing.await.unwrap();
        }
    });
}

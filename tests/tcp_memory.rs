//! TCP per-connection memory on loopback: inbound buffering bounded in bytes, small chunks in
//! allocations of their own size, queued writes gathered, and dropping every handle closing
//! the socket.

mod support;

use std::io::{Read, Write};
use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use support::tcp::{connect, handing_server, localhost};
use support::{BOUND, run};
use weir::tcp::{self, ClientOptions};

/// Waits (bounded) until `condition` holds, checking every millisecond.
async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let waited = weir::runtime::timeout(BOUND, async {
        while !condition() {
            weir::runtime::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting until {what}");
}

#[test]
fn smoke() {
    run(async {
        let (server, accepted) = handing_server(localhost()).await;
        let client = connect(&server).await;
        let on_server = accepted.recv_timeout(BOUND).unwrap();
        client.put("hi").await.unwrap();
        assert_eq!(on_server.take_next().await.unwrap(), "hi");
        assert_eq!(on_server.inbound_buffer_bytes(), 256 * 1024);
    });
}

/// A flood that nobody takes stops being read once the chunks waiting hold
/// `inbound_buffer_bytes`, though far more chunks would fit by count; taking slowly, the bytes
/// held never go above the bound, and everything arrives in order.
#[test]
fn inbound_buffering_is_bounded_in_bytes() {
    const LIMIT: usize = 16 * 1024;
    const TOTAL: usize = 1 << 20;
    run(async {
        let options = localhost()
            .inbound_buffer(10_000)
            .inbound_buffer_bytes(LIMIT);
        let (server, accepted) = handing_server(options).await;
        let client = connect(&server).await;
        let on_server = accepted.recv_timeout(BOUND).unwrap();
        let writer = client.clone();
        let writing = weir::runtime::spawn(async move {
            let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
            writer.put(data).await
        });
        eventually("the server's inbound buffer is full", || {
            on_server.inbound_buffered_bytes() >= LIMIT
        })
        .await;
        assert_eq!(on_server.inbound_buffered_bytes(), LIMIT);

        let mut got = Vec::with_capacity(TOTAL);
        while got.len() < TOTAL {
            let held = on_server.inbound_buffered_bytes();
            assert!(held <= LIMIT, "{held} bytes held, above {LIMIT}");
            let chunk = on_server.take_next().await.expect("more bytes");
            assert!(chunk.len() <= LIMIT, "a chunk of {} bytes", chunk.len());
            got.extend_from_slice(&chunk);
        }
        assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        writing.await.unwrap();
        assert_eq!(on_server.inbound_buffered_bytes(), 0);
    });
}

/// A small message arrives as a chunk of its own size: it does not pin a whole read buffer.
#[test]
fn a_small_chunk_owns_an_allocation_of_its_size() {
    run(async {
        let (server, accepted) = handing_server(localhost()).await;
        let client = connect(&server).await;
        let on_server = accepted.recv_timeout(BOUND).unwrap();
        for round in 0..3 {
            let message = format!("small message {round}");
            client.put(message.clone()).await.unwrap();
            let chunk: Bytes = on_server.take_next().await.unwrap();
            assert_eq!(chunk, message.as_bytes());
            let owned = chunk
                .try_into_mut()
                .expect("a small chunk shares no read buffer");
            assert!(owned.capacity() < 1024, "pins {} bytes", owned.capacity());
        }
    });
}

/// Messages fed without waiting are written in order and acknowledged once written: the flush
/// completes after all of them reached the socket.
#[test]
fn fed_messages_are_written_in_order_and_acknowledged_by_the_flush() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let mut client = tcp::client(ClientOptions::new().remote_address(address))
            .await
            .unwrap();
        let (mut raw, _) = listener.accept().unwrap();
        raw.set_read_timeout(Some(BOUND)).unwrap();
        for i in 0..32u8 {
            client.feed(Bytes::from(vec![i; 64])).await.unwrap();
        }
        SinkExt::<Bytes>::flush(&mut client).await.unwrap();
        let mut got = vec![0u8; 32 * 64];
        raw.read_exact(&mut got).unwrap();
        let expected: Vec<u8> = (0..32u8).flat_map(|i| [i; 64]).collect();
        assert_eq!(got, expected);
        client.put("after").await.unwrap();
        let mut after = [0u8; 5];
        raw.read_exact(&mut after).unwrap();
        assert_eq!(&after, b"after");
    });
}

/// Dropping every handle of a client connection closes the socket: the raw peer reads the
/// end of the stream.
#[test]
fn dropping_every_client_handle_closes_the_socket() {
    run(async {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let client = tcp::client(ClientOptions::new().remote_address(address))
            .await
            .unwrap();
        let (mut raw, _) = listener.accept().unwrap();
        raw.set_read_timeout(Some(BOUND)).unwrap();
        let closed = client.socket_closed();
        let clone = client.clone();
        drop(client);
        assert!(!closed.is_realized(), "a handle is still alive");
        drop(clone);
        weir::runtime::timeout(BOUND, closed)
            .await
            .expect("the socket closes")
            .unwrap();
        let mut rest = Vec::new();
        assert_eq!(raw.read_to_end(&mut rest).unwrap(), 0, "the peer sees EOF");
    });
}

/// The same for a connection a server accepted: dropping it (every handle) closes the socket.
#[test]
fn dropping_every_accepted_handle_closes_the_socket() {
    run(async {
        let (server, accepted) = handing_server(localhost()).await;
        let mut raw = std::net::TcpStream::connect(server.local_addr()).unwrap();
        raw.set_read_timeout(Some(BOUND)).unwrap();
        let on_server = accepted.recv_timeout(BOUND).unwrap();
        on_server.put("bye").await.unwrap();
        let closed = on_server.socket_closed();
        drop(on_server);
        weir::runtime::timeout(BOUND, closed)
            .await
            .expect("the socket closes")
            .unwrap();
        let mut rest = Vec::new();
        raw.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"bye", "what was written, then EOF");
        // Writing into the closed socket eventually fails: nobody reads there any more.
        let _ = raw.write_all(b"anyone?");
    });
}

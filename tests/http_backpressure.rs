//! Backpressure both ways: a handler that reads its body slowly stops the socket reads
//! (HTTP/1.1) and withholds WINDOW_UPDATE (HTTP/2); a client that reads a streamed response
//! slowly makes the response source's puts wait.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt as _;
use support::BOUND;
use support::http::{bounded, localhost, run_tokio, start};
use weir::http::{Body, Http2Settings, Request, Response};
use weir::stream::Channel;
use weir::{Deferred, Error};

const TOTAL: u64 = 64 << 20;
const CHUNK: usize = 64 << 10;

/// Waits (bounded) until `value` stops growing: unchanged over `quiet`. Returns it.
fn settled(value: &AtomicU64, quiet: Duration) -> u64 {
    let deadline = Instant::now() + BOUND;
    let mut last = value.load(Ordering::SeqCst);
    loop {
        assert!(Instant::now() < deadline, "never settled (at {last})");
        std::thread::sleep(quiet);
        let now = value.load(Ordering::SeqCst);
        if now == last {
            return now;
        }
        last = now;
    }
}

/// A handler that takes one chunk, reports how much it has taken, waits for `gate`, then
/// takes the rest and answers with the total.
fn slow_reader(
    taken: Arc<AtomicU64>,
    gate: Deferred<(), Error>,
) -> impl Fn(Request<Body>) -> Deferred<Response<Body>, Error> + Send + Sync + 'static {
    move |request: Request<Body>| {
        let taken = taken.clone();
        let gate = gate.clone();
        Deferred::spawn(async move {
            let mut body = request.into_body();
            let _ = body.next().await;
            taken.store(body.bytes_read(), Ordering::SeqCst);
            gate.await?;
            while body.next().await.is_some() {
                taken.store(body.bytes_read(), Ordering::SeqCst);
            }
            Ok(Response::new(Body::from(body.bytes_read().to_string())))
        })
    }
}

#[test]
fn a_slow_handler_stops_the_socket_reads_over_http1() {
    let taken = Arc::new(AtomicU64::new(0));
    let gate = Deferred::new();
    let server = start(slow_reader(taken.clone(), gate.clone()), localhost());
    let stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    let written = Arc::new(AtomicU64::new(0));
    let writer = {
        let mut stream = stream.try_clone().unwrap();
        let written = written.clone();
        std::thread::spawn(move || {
            let head = format!("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {TOTAL}\r\n\r\n");
            stream.write_all(head.as_bytes()).unwrap();
            let chunk = vec![b'x'; CHUNK];
            while written.load(Ordering::SeqCst) < TOTAL {
                stream.write_all(&chunk).unwrap();
                written.fetch_add(CHUNK as u64, Ordering::SeqCst);
            }
        })
    };
    // The client's writes stall once the kernel buffers are full: the server has stopped
    // reading, and holds only what hyper buffered (a few hundred KiB at most).
    let stalled = settled(&written, Duration::from_millis(300));
    assert!(
        stalled < TOTAL / 2,
        "the client sent {stalled} bytes unhindered"
    );
    let taken_so_far = taken.load(Ordering::SeqCst);
    assert!(taken_so_far <= 1 << 20, "the handler took {taken_so_far}");
    // Let the handler read on: everything arrives.
    gate.success(());
    writer.join().unwrap();
    let mut raw = support::http::Raw::from_stream(stream);
    let response = raw.response().expect("a response");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, TOTAL.to_string().as_bytes());
}

#[test]
fn a_slow_handler_withholds_window_updates_over_http2() {
    const WINDOW: u32 = 256 << 10;
    const SENT: usize = 8 << 20;
    let taken = Arc::new(AtomicU64::new(0));
    let gate = Deferred::new();
    let settings = Http2Settings::new()
        .initial_stream_window_size(WINDOW)
        .initial_connection_window_size(WINDOW);
    let server = start(
        slow_reader(taken.clone(), gate.clone()),
        localhost().use_h2c(true).http2(settings),
    );
    let addr = server.local_addr();
    run_tokio(async move {
        let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
        tokio::spawn(connection);
        let mut send = bounded(send.ready()).await.unwrap();
        let request = Request::post("http://localhost/").body(()).unwrap();
        let (response, mut stream) = send.send_request(request, false).unwrap();
        let mut sent = 0usize;
        let mut gate_opened = false;
        while sent < SENT {
            stream.reserve_capacity((SENT - sent).min(1 << 20));
            let wait = if gate_opened {
                BOUND
            } else {
                Duration::from_millis(500)
            };
            let capacity =
                weir::runtime::timeout(wait, std::future::poll_fn(|cx| stream.poll_capacity(cx)))
                    .await;
            match capacity {
                Ok(Some(Ok(n))) if n > 0 => {
                    let n = n.min(SENT - sent);
                    stream.send_data(Bytes::from(vec![b'y'; n]), false).unwrap();
                    sent += n;
                }
                Ok(Some(Ok(_))) => {}
                Ok(other) => panic!("capacity: {other:?}"),
                Err(_) => {
                    // No capacity for a while: the window is what the client could send, the
                    // handler having taken one chunk.
                    assert!(!gate_opened, "stalled after the gate opened");
                    assert!(
                        sent <= 2 * WINDOW as usize,
                        "sent {sent} past a window of {WINDOW}"
                    );
                    assert!(taken.load(Ordering::SeqCst) <= u64::from(WINDOW));
                    gate_opened = true;
                    gate.success(());
                }
            }
        }
        assert!(gate_opened, "the client was never held back");
        stream.send_data(Bytes::new(), true).unwrap();
        let response = bounded(response).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut text = Vec::new();
        while let Some(chunk) = bounded(body.data()).await {
            text.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(text, SENT.to_string().as_bytes());
    });
}

/// A handler that streams `total` bytes from a channel, fed by a task counting its puts.
fn producer(
    puts: Arc<AtomicU64>,
    total: u64,
) -> impl Fn(Request<Body>) -> Response<Body> + Send + Sync + 'static {
    move |_| {
        let channel: Channel<Bytes> = Channel::new(1);
        let puts = puts.clone();
        let feeder = channel.clone();
        weir::runtime::spawn(async move {
            let chunk = Bytes::from(vec![b'z'; CHUNK]);
            for _ in 0..total / CHUNK as u64 {
                if feeder.put(chunk.clone()).await.is_err() {
                    return;
                }
                puts.fetch_add(1, Ordering::SeqCst);
            }
            feeder.close();
        })
        .detach();
        Response::new(Body::from_source(channel))
    }
}

#[test]
fn a_slow_client_makes_the_response_puts_wait_over_http1() {
    let puts = Arc::new(AtomicU64::new(0));
    let server = start(producer(puts.clone(), TOTAL), localhost());
    let mut stream = std::net::TcpStream::connect(server.local_addr()).unwrap();
    stream.set_read_timeout(Some(BOUND)).unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).unwrap();
    // The client reads nothing more: the puts stop once the socket buffers are full.
    let stalled = settled(&puts, Duration::from_millis(300));
    assert!(
        stalled * (CHUNK as u64) < TOTAL / 2,
        "{stalled} puts completed unhindered"
    );
    // Reading on lets every put complete.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).unwrap();
    assert!(rest.len() as u64 > TOTAL);
    assert_eq!(puts.load(Ordering::SeqCst), TOTAL / CHUNK as u64);
}

#[test]
fn a_slow_client_makes_the_response_puts_wait_over_http2() {
    let puts = Arc::new(AtomicU64::new(0));
    // The window holds the server back at once: a smaller total will do.
    const TOTAL: u64 = 8 << 20;
    let server = start(producer(puts.clone(), TOTAL), localhost().use_h2c(true));
    let addr = server.local_addr();
    run_tokio(async move {
        let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
        tokio::spawn(connection);
        let mut send = bounded(send.ready()).await.unwrap();
        let (response, _) = send
            .send_request(Request::get("http://localhost/").body(()).unwrap(), true)
            .unwrap();
        let response = bounded(response).await.unwrap();
        let mut body = response.into_body();
        // Read without giving window back: the server can send only the default 64 KiB
        // windows, and the puts stop.
        let puts_now = puts.clone();
        let stalled =
            tokio::task::spawn_blocking(move || settled(&puts_now, Duration::from_millis(300)))
                .await
                .unwrap();
        assert!(
            stalled * (CHUNK as u64) < TOTAL / 2,
            "{stalled} puts completed unhindered"
        );
        // Reading and releasing capacity lets them all complete.
        let mut received = 0u64;
        while let Some(chunk) = bounded(body.data()).await {
            let chunk = chunk.unwrap();
            received += chunk.len() as u64;
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        assert_eq!(received, TOTAL);
        assert_eq!(puts.load(Ordering::SeqCst), TOTAL / CHUNK as u64);
    });
}

#[test]
fn unread_http2_bodies_do_not_use_up_the_connection_window() {
    // A handler that answers without reading the body, many times over one connection: the
    // connection window must come back, or later streams stall.
    let server = start(
        |_: Request<Body>| Response::new(Body::from("ignored")),
        localhost().use_h2c(true),
    );
    let addr = server.local_addr();
    run_tokio(async move {
        let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
        tokio::spawn(connection);
        let mut send = bounded(send.ready()).await.unwrap();
        for i in 0..6 {
            let request = Request::post("http://localhost/").body(()).unwrap();
            let (response, mut stream) = send.send_request(request, false).unwrap();
            // Half a (default 1 MiB) connection window each time.
            let mut left = 512usize << 10;
            stream.reserve_capacity(left);
            let sending = async {
                while left > 0 {
                    match std::future::poll_fn(|cx| stream.poll_capacity(cx)).await {
                        Some(Ok(n)) if n > 0 => {
                            let n = n.min(left);
                            stream
                                .send_data(Bytes::from(vec![b'q'; n]), n == left)
                                .unwrap();
                            left -= n;
                        }
                        Some(Ok(_)) => {}
                        // The server may reset the unread stream once it has answered.
                        _ => break,
                    }
                }
            };
            let (response, ()) = bounded(futures::future::join(response, sending)).await;
            assert_eq!(response.unwrap().status(), 200, "stream {i}");
            send = bounded(send.ready()).await.unwrap();
        }
    });
}

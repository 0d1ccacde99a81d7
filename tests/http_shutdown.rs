//! Graceful shutdown: `close` refuses new connections at once, lets in-flight requests finish
//! (`Connection: close` over HTTP/1.1, GOAWAY over HTTP/2), closes what is left after the
//! shutdown timeout; it is idempotent, and `wait_for_close` sees it.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::BOUND;
use support::http::{Counter, Raw, bounded, localhost, run_tokio, start};
use weir::http::{Body, Request, Response, Server, ServerOptions};
use weir::{Deferred, Error};

/// A server whose handler for `/slow` waits for the test's go-ahead (one deferred per call).
struct Slow {
    server: Server,
    entered: Counter,
    releases: Arc<Mutex<Vec<Deferred<(), Error>>>>,
}

impl Slow {
    fn start(options: ServerOptions) -> Slow {
        let entered = Counter::default();
        let releases: Arc<Mutex<Vec<Deferred<(), Error>>>> = Arc::default();
        let handler = {
            let entered = entered.clone();
            let releases = releases.clone();
            move |request: Request<Body>| {
                let release = Deferred::new();
                if request.uri().path() == "/slow" {
                    releases.lock().unwrap().push(release.clone());
                    entered.hit();
                } else {
                    release.success(());
                }
                async move {
                    release.await?;
                    Ok::<_, Error>(Response::new(Body::from("finished")))
                }
            }
        };
        Slow {
            server: start(handler, options),
            entered,
            releases,
        }
    }

    /// Waits (bounded) until `n` slow handlers have started.
    fn wait_entered(&self, n: usize) {
        let deadline = std::time::Instant::now() + BOUND;
        while self.entered.get() < n {
            assert!(
                std::time::Instant::now() < deadline,
                "the handler never ran"
            );
            std::thread::yield_now();
        }
    }

    fn release_all(&self) {
        for release in self.releases.lock().unwrap().drain(..) {
            release.success(());
        }
    }
}

/// A new connection after `close` gets no response: refused, reset or closed at once.
fn assert_refused(server: &Server) {
    let Ok(stream) = std::net::TcpStream::connect(server.local_addr()) else {
        return;
    };
    let mut raw = Raw::from_stream(stream);
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(raw.response().is_none(), "served after close");
}

#[test]
fn an_in_flight_http1_request_finishes_with_connection_close() {
    let slow = Slow::start(localhost());
    let mut raw = Raw::connect(slow.server.local_addr());
    raw.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    slow.wait_entered(1);
    let closed = slow.server.close();
    assert_refused(&slow.server);
    assert!(!closed.is_realized(), "closed with a request in flight");
    slow.release_all();
    let response = raw.response().expect("the in-flight response");
    assert_eq!(response.status, 200);
    assert_eq!(response.body, b"finished");
    assert_eq!(response.header("connection").as_deref(), Some("close"));
    assert!(raw.wait_closed());
    support::run(closed).unwrap();
    assert_eq!(slow.server.connection_count(), 0);
}

#[test]
fn an_idle_http1_connection_is_closed_at_once() {
    let slow = Slow::start(localhost());
    let mut raw = Raw::connect(slow.server.local_addr());
    raw.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(raw.response().unwrap().status, 200);
    support::run(slow.server.close()).unwrap();
    assert!(raw.wait_closed());
}

#[test]
fn an_in_flight_http2_stream_finishes_after_goaway() {
    let slow = Slow::start(localhost().use_h2c(true));
    let addr = slow.server.local_addr();
    run_tokio(async {
        let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
        let connection = tokio::spawn(connection);
        let mut send = bounded(send.ready()).await.unwrap();
        let request = Request::get("http://localhost/slow").body(()).unwrap();
        let (response, _) = send.send_request(request, true).unwrap();
        // Wait for the handler without blocking the client's runtime.
        bounded(async {
            while slow.entered.get() < 1 {
                weir::runtime::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        let closed = slow.server.close();
        assert!(!closed.is_realized());
        slow.release_all();
        let response = bounded(response).await.unwrap();
        assert_eq!(response.status(), 200);
        let mut body = response.into_body();
        let mut data = Vec::new();
        while let Some(chunk) = bounded(body.data()).await {
            data.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(data, b"finished");
        drop(send);
        // The server's GOAWAY ends the connection cleanly.
        let ended = bounded(connection).await.unwrap();
        if let Err(e) = ended {
            assert!(
                e.is_go_away() && e.reason() == Some(h2::Reason::NO_ERROR),
                "{e}"
            );
        }
        bounded(closed).await.unwrap();
    });
    assert_refused(&slow.server);
}

#[test]
fn after_goaway_the_client_can_open_no_more_streams() {
    let slow = Slow::start(localhost().use_h2c(true));
    let addr = slow.server.local_addr();
    run_tokio(async {
        let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
        let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
        tokio::spawn(connection);
        let mut send = bounded(send.ready()).await.unwrap();
        let (first, _) = send
            .send_request(
                Request::get("http://localhost/slow").body(()).unwrap(),
                true,
            )
            .unwrap();
        bounded(async {
            while slow.entered.get() < 1 {
                weir::runtime::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        let closed = slow.server.close();
        // Streams the client opens before it sees the GOAWAY are served (or refused); once it
        // has seen it, it can open no more: this loop ends, within the bound.
        let served_late = Counter::default();
        bounded(async {
            loop {
                let Ok(mut ready) = send.clone().ready().await else {
                    break;
                };
                let Ok((response, _)) =
                    ready.send_request(Request::get("http://localhost/").body(()).unwrap(), true)
                else {
                    break;
                };
                match response.await {
                    Ok(_) => {
                        served_late.hit();
                    }
                    Err(_) => break,
                }
                weir::runtime::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(served_late.get() < 1000);
        slow.release_all();
        assert_eq!(bounded(first).await.unwrap().status(), 200);
        bounded(closed).await.unwrap();
    });
}

#[test]
fn what_is_left_is_closed_at_the_shutdown_timeout() {
    for h2c in [false, true] {
        let slow = Slow::start(
            localhost()
                .use_h2c(h2c)
                .shutdown_timeout(Duration::from_millis(300)),
        );
        assert_eq!(slow.server.shutdown_timeout(), Duration::from_millis(300));
        let addr = slow.server.local_addr();
        if h2c {
            run_tokio(async {
                let tcp = bounded(tokio::net::TcpStream::connect(addr)).await.unwrap();
                let (send, connection) = bounded(h2::client::handshake(tcp)).await.unwrap();
                let connection = tokio::spawn(connection);
                let mut send = bounded(send.ready()).await.unwrap();
                let (response, _) = send
                    .send_request(
                        Request::get("http://localhost/slow").body(()).unwrap(),
                        true,
                    )
                    .unwrap();
                bounded(async {
                    while slow.entered.get() < 1 {
                        weir::runtime::sleep(Duration::from_millis(5)).await;
                    }
                })
                .await;
                bounded(slow.server.close()).await.unwrap();
                // The stream never finished: the client sees it fail, and the connection end.
                match bounded(response).await {
                    Err(_) => {}
                    Ok(response) => {
                        let mut body = response.into_body();
                        assert!(bounded(body.data()).await.is_none_or(|d| d.is_err()));
                    }
                }
                let _ = bounded(connection).await;
            });
        } else {
            let mut raw = Raw::connect(addr);
            raw.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
            slow.wait_entered(1);
            support::run(slow.server.close()).unwrap();
            assert!(raw.wait_closed());
            assert!(
                support::http::parse_response(raw.leftover()).is_none(),
                "a response that never finished"
            );
        }
        assert_eq!(slow.server.connection_count(), 0, "h2c={h2c}");
        slow.release_all();
    }
}

#[test]
fn close_is_idempotent_and_wait_for_close_sees_it() {
    let slow = Slow::start(localhost());
    let waiting = slow.server.wait_for_close();
    assert!(!waiting.is_realized());
    let first = slow.server.close();
    let second = slow.server.close();
    support::run(first).unwrap();
    support::run(second).unwrap();
    support::run(waiting).unwrap();
    support::run(slow.server.close()).unwrap();
    support::run(slow.server.wait_for_close()).unwrap();
    assert_refused(&slow.server);
}

#[test]
fn close_from_another_clone_of_the_server() {
    let slow = Slow::start(localhost());
    let clone = slow.server.clone();
    let waiting = slow.server.wait_for_close();
    std::thread::spawn(move || {
        support::run(clone.close()).unwrap();
    })
    .join()
    .unwrap();
    support::run(waiting).unwrap();
}

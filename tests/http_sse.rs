//! Server-sent events: the wire format of every field, each event sent as it arrives,
//! keep-alive comments while the source is quiet, and the source closed when the client goes
//! away, over HTTP/1.1 and h2c with hyper's client.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use weir::http::sse::{self, Event};
use weir::http::{self, Body, HttpVersion, Request, ServerOptions, StatusCode, header};
use weir::stream::Channel;

const WAIT: Duration = Duration::from_secs(10);

/// `/events` streams `events` (with a keep-alive comment every `keep_alive`), `/fixed` a
/// few events of every shape.
async fn start(events: Channel<Event>, keep_alive: Option<Duration>) -> http::Server {
    let handler = move |request: Request<Body>| match request.uri().path() {
        "/fixed" => sse::response(weir::stream::iter(vec![
            Event::new().id("1").event("greeting").data("hello"),
            Event::new().data("two\nlines"),
            Event::new()
                .retry(Duration::from_millis(2500))
                .comment("just a comment"),
            Event::from("plain"),
        ])),
        _ => sse::response_with_keep_alive(events.clone(), keep_alive),
    };
    let options = ServerOptions::new()
        .address(([127, 0, 0, 1], 0))
        .http_versions([HttpVersion::Http1, HttpVersion::Http2])
        .use_h2c(true);
    http::start_server(handler, options).await.unwrap()
}

async fn get(addr: SocketAddr, h2: bool, path: &str) -> hyper::Response<hyper::body::Incoming> {
    get_with_connection(addr, h2, path).await.0
}

/// The response and the client connection's task (abort it to close the connection).
async fn get_with_connection(
    addr: SocketAddr,
    h2: bool,
    path: &str,
) -> (
    hyper::Response<hyper::body::Incoming>,
    tokio::task::JoinHandle<()>,
) {
    let mut request = Request::get(format!("http://127.0.0.1{path}"))
        .body(Empty::<Bytes>::new())
        .unwrap();
    if !h2 {
        // hyper's connection-level client adds no Host; HTTP/1.1 requires one.
        request
            .headers_mut()
            .insert("host", "127.0.0.1".parse().unwrap());
    }
    let exchange = async {
        let io = TokioIo::new(tokio::net::TcpStream::connect(addr).await.unwrap());
        if h2 {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .unwrap();
            let task = tokio::spawn(async move {
                let _ = connection.await;
            });
            (sender.send_request(request).await.unwrap(), task)
        } else {
            let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
            let task = tokio::spawn(async move {
                let _ = connection.await;
            });
            (sender.send_request(request).await.unwrap(), task)
        }
    };
    weir::runtime::timeout(WAIT, exchange).await.unwrap()
}

/// Reads frames until `want` bytes have come.
async fn read(body: &mut hyper::body::Incoming, want: usize) -> String {
    let mut out = Vec::new();
    while out.len() < want {
        let frame = weir::runtime::timeout(WAIT, body.frame())
            .await
            .unwrap()
            .expect("the body ended early")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            out.extend_from_slice(&data);
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_field_on_the_wire() {
    let server = start(Channel::new(1), None).await;
    for h2 in [false, true] {
        let response = get(server.local_addr(), h2, "/fixed").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/event-stream"
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        let body = weir::runtime::timeout(WAIT, response.into_body().collect())
            .await
            .unwrap()
            .unwrap()
            .to_bytes();
        assert_eq!(
            body,
            "event: greeting\nid: 1\ndata: hello\n\n\
             data: two\ndata: lines\n\n\
             : just a comment\nretry: 2500\n\n\
             data: plain\n\n"
        );
    }
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_is_sent_as_it_arrives() {
    for h2 in [false, true] {
        let events = Channel::new(1);
        let server = start(events.clone(), None).await;
        let response = get(server.local_addr(), h2, "/events").await;
        let mut body = response.into_body();
        for i in 0..5 {
            let event = Event::new().id(i.to_string()).data(format!("event {i}"));
            let expected = String::from_utf8(event.to_bytes().to_vec()).unwrap();
            weir::runtime::timeout(WAIT, events.put(event))
                .await
                .unwrap()
                .unwrap();
            // The next event is put only once this one has been received.
            assert_eq!(read(&mut body, expected.len()).await, expected, "h2: {h2}");
        }
        events.close();
        let rest = weir::runtime::timeout(WAIT, body.collect())
            .await
            .unwrap()
            .unwrap()
            .to_bytes();
        assert!(rest.is_empty());
        server.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_comments_while_quiet() {
    for h2 in [false, true] {
        let events = Channel::new(1);
        let server = start(events.clone(), Some(Duration::from_millis(20))).await;
        let response = get(server.local_addr(), h2, "/events").await;
        let mut body = response.into_body();
        // Nothing is put: keep-alive comments come, one after another.
        assert_eq!(read(&mut body, 3).await, ":\n\n");
        assert_eq!(read(&mut body, 3).await, ":\n\n");
        // An event still gets through between them.
        weir::runtime::timeout(WAIT, events.put(Event::from("real")))
            .await
            .unwrap()
            .unwrap();
        let mut seen = String::new();
        while !seen.contains("data: real\n\n") {
            seen.push_str(&read(&mut body, 1).await);
        }
        assert!(
            seen.replace(":\n\n", "").starts_with("data: real\n\n"),
            "{seen:?}"
        );
        events.close();
        server.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_is_closed_when_the_client_goes_away() {
    for h2 in [false, true] {
        let events = Channel::new(1);
        let server = start(events.clone(), None).await;
        let (response, connection) = get_with_connection(server.local_addr(), h2, "/events").await;
        let mut body = response.into_body();
        weir::runtime::timeout(WAIT, events.put(Event::from("one")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read(&mut body, 11).await, "data: one\n\n");
        drop(body);
        connection.abort();
        // Puts fail once the server has seen the client go (bounded).
        let failed = weir::runtime::timeout(WAIT, async {
            loop {
                if events.put(Event::from("more")).await.is_err() {
                    break;
                }
            }
        })
        .await;
        assert!(failed.is_ok(), "h2: {h2}");
        server.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_source_cuts_the_response_off() {
    let events = Channel::new(1);
    let server = start(events.clone(), None).await;
    let response = get(server.local_addr(), false, "/events").await;
    let mut body = response.into_body();
    events.put(Event::from("one")).await.unwrap();
    assert_eq!(read(&mut body, 11).await, "data: one\n\n");
    events.close_with_error(weir::Error::msg("producer failed"));
    // The chunked body ends without its last chunk: the client sees an error, not an end.
    let end = weir::runtime::timeout(WAIT, body.collect()).await.unwrap();
    assert!(end.is_err());
    server.close().await.unwrap();
}

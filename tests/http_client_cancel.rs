//! Cancelling a request by realizing its deferred with an error: over HTTP/1.1 the connection
//! is closed, over HTTP/2 the stream is reset and the connection stays usable; the server sees
//! it. And a response body dropped before its end stops the server's response.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use bytes::Bytes;
use support::http_client::{
    PEERS, PROTOS, Peer, Proto, Routes, Target, Upload, bounded, eventually,
};
use support::run;
use weir::Error;
use weir::http::{Body, ClientOptions, ClientRequest, Method};
use weir::stream::Channel;

/// Starts an upload whose body the test holds open, waits until the server has its first
/// chunk, then cancels it.
fn cancel_an_upload_in_flight(peer: Peer, proto: Proto) {
    let routes = Routes::new();
    let target = Target::routes(peer, proto, routes.clone());
    let client = target.client();
    run(async {
        // Warm up: the connection exists before the cancelled request.
        let response = bounded(client.get(target.url("/hello"))).await.unwrap();
        bounded(response.into_body().to_bytes(64)).await.unwrap();

        let upload: Channel<Bytes> = Channel::new(4);
        let request = ClientRequest::new(Method::POST, target.url("/upload"))
            .body(Body::from_source(upload.clone()));
        let response = client.request(request);
        upload.put(Bytes::from("first chunk")).await.unwrap();
        assert_eq!(routes.next_upload_event().await, Upload::Started);
        assert!(!response.is_realized());

        response.error(Error::cancelled());
        assert!(bounded(response).await.unwrap_err().is_cancelled());
        // The server's read of the request body fails: the connection closed (HTTP/1.1) or
        // the stream reset (HTTP/2).
        match routes.next_upload_event().await {
            Upload::Failed(_) => {}
            other => panic!("{peer:?} {proto:?}: the server saw {other:?}"),
        }
        if let Some(server) = &target.server {
            let expected = if proto.is_h2() { 1 } else { 0 };
            eventually("the server's connection count", || {
                server.connection_count() == expected
            })
            .await;
        }
        // The client goes on: over HTTP/2 on the same connection.
        let response = bounded(client.get(target.url("/hello"))).await.unwrap();
        assert_eq!(
            bounded(response.into_body().to_bytes(64)).await.unwrap(),
            "hello"
        );
        let stats = &client.stats()[0];
        let connects = if proto.is_h2() { 1 } else { 2 };
        assert_eq!(stats.connects, connects, "{peer:?} {proto:?}: {stats:?}");
    });
}

#[test]
fn cancelling_an_upload_closes_the_connection_or_resets_the_stream() {
    for peer in PEERS {
        for proto in PROTOS {
            cancel_an_upload_in_flight(peer, proto);
        }
    }
}

/// A streamed response whose body the client drops midway: the server's puts fail.
fn drop_a_streamed_response(peer: Peer, proto: Proto) {
    let routes = Routes::new();
    let target = Target::routes(peer, proto, routes.clone());
    let client = target.client();
    run(async {
        let response = client.get(target.url("/stream"));
        let mut feeder = routes.next_feeder().await;
        let response = bounded(response).await.unwrap();
        assert!(bounded(feeder.put("first")).await);
        let mut body = response.into_body();
        let first = bounded(futures::StreamExt::next(&mut body)).await.unwrap();
        assert_eq!(first, "first");
        drop(body);
        // Puts go on until the server learns the response is gone; then they fail.
        let mut refused = false;
        for _ in 0..10_000 {
            if !bounded(feeder.put(Bytes::from(vec![b'x'; 1024]))).await {
                refused = true;
                break;
            }
        }
        assert!(refused, "{peer:?} {proto:?}: the server kept streaming");
        let response = bounded(client.get(target.url("/hello"))).await.unwrap();
        assert_eq!(
            bounded(response.into_body().to_bytes(64)).await.unwrap(),
            "hello"
        );
        let stats = &client.stats()[0];
        let connects = if proto.is_h2() { 1 } else { 2 };
        assert_eq!(stats.connects, connects, "{peer:?} {proto:?}: {stats:?}");
    });
}

#[test]
fn dropping_a_response_body_midway_stops_the_server() {
    for peer in PEERS {
        for proto in PROTOS {
            drop_a_streamed_response(peer, proto);
        }
    }
}

#[test]
fn cancelling_a_request_waiting_for_a_connection_takes_it_out_of_the_queue() {
    let routes = Routes::new();
    let target = Target::weir(
        Proto::H1,
        routes.weir_handler(),
        support::http_client::localhost(),
    );
    let client = weir::http::Client::with_options(ClientOptions::new().connections_per_host(1));
    run(async {
        let first = client.get(target.url("/stream"));
        let feeder = routes.next_feeder().await;
        let first = bounded(first).await.unwrap();
        let waiting = client.get(target.url("/hello"));
        eventually("the request to queue", || client.stats()[0].queued == 1).await;
        waiting.error(Error::cancelled());
        eventually("the queue to empty", || client.stats()[0].queued == 0).await;
        let next = client.get(target.url("/hello"));
        feeder.finish();
        bounded(first.into_body().to_bytes(64)).await.unwrap();
        // The freed connection goes to the next request, not to the cancelled one.
        let next = bounded(next).await.unwrap();
        assert_eq!(
            bounded(next.into_body().to_bytes(64)).await.unwrap(),
            "hello"
        );
        let stats = &client.stats()[0];
        assert_eq!((stats.connects, stats.reused), (1, 1), "{stats:?}");
    });
}

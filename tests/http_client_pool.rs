//! The client's connection pool: reuse, the per-host limit and its bounded queue, the pool
//! timeout, connections not returned when their body was not read to its end or the server
//! said `Connection: close`, idle connections the server closed, HTTP/2 multiplexing.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::time::Duration;

use support::http_client::{
    Counter, PEERS, PROTOS, Proto, Routes, Target, bounded, eventually, localhost,
};
use support::run;
use weir::Deferred;
use weir::http::{Body, ClientOptions, Request, Response, header};

#[test]
fn sequential_requests_reuse_one_connection() {
    for (peer, proto) in PEERS
        .into_iter()
        .flat_map(|peer| PROTOS.map(|proto| (peer, proto)))
    {
        let target = Target::routes(peer, proto, Routes::new());
        let client = target.client();
        run(async {
            for _ in 0..5 {
                let response = bounded(client.get(target.url("/hello"))).await.unwrap();
                assert_eq!(
                    bounded(response.into_body().to_bytes(64)).await.unwrap(),
                    "hello"
                );
            }
            let stats = client.stats();
            assert_eq!(stats.len(), 1, "{proto:?}: {stats:?}");
            assert_eq!(stats[0].host, target.stats_host());
            assert_eq!(
                (stats[0].connects, stats[0].reused),
                (1, 4),
                "{proto:?}: {stats:?}"
            );
            assert_eq!(stats[0].requests, 5);
            if let Some(server) = &target.server {
                assert_eq!(server.connection_count(), 1);
            }
        });
    }
}

#[test]
fn one_connection_per_host_makes_the_second_request_wait_for_the_first_body() {
    let routes = Routes::new();
    let target = Target::weir(Proto::H1, routes.weir_handler(), localhost());
    let client = weir::http::Client::with_options(ClientOptions::new().connections_per_host(1));
    run(async {
        let first = client.get(target.url("/stream"));
        let mut feeder = routes.next_feeder().await;
        let first = bounded(first).await.unwrap();
        let second = client.get(target.url("/hello"));
        eventually("the second request to queue", || {
            client.stats().first().is_some_and(|s| s.queued == 1)
        })
        .await;
        assert!(!second.is_realized(), "the second request did not wait");
        assert!(bounded(feeder.put("part")).await);
        feeder.finish();
        // Reading the first body to its end hands its connection to the second request.
        assert_eq!(
            bounded(first.into_body().to_bytes(64)).await.unwrap(),
            "part"
        );
        let second = bounded(second).await.unwrap();
        assert_eq!(
            bounded(second.into_body().to_bytes(64)).await.unwrap(),
            "hello"
        );
        let stats = &client.stats()[0];
        assert_eq!(
            (stats.connects, stats.reused, stats.queued),
            (1, 1, 0),
            "{stats:?}"
        );
    });
}

#[test]
fn a_full_queue_refuses_at_once_with_a_clear_error() {
    let routes = Routes::new();
    let target = Target::weir(Proto::H1, routes.weir_handler(), localhost());
    let options = ClientOptions::new()
        .connections_per_host(1)
        .max_queue_size(0);
    let client = weir::http::Client::with_options(options);
    run(async {
        let first = client.get(target.url("/stream"));
        let feeder = routes.next_feeder().await;
        let first = bounded(first).await.unwrap();
        let refused = bounded(client.get(target.url("/hello"))).await.unwrap_err();
        let message = refused.to_string();
        assert!(!refused.is_timeout(), "{message}");
        assert!(message.contains("wait for a connection"), "{message}");
        assert!(message.contains(&target.addr.to_string()), "{message}");
        feeder.finish();
        bounded(first.into_body().to_bytes(64)).await.unwrap();
        // Once the connection is free, requests go through again.
        let again = bounded(client.get(target.url("/hello"))).await.unwrap();
        assert_eq!(
            bounded(again.into_body().to_bytes(64)).await.unwrap(),
            "hello"
        );
    });
}

#[test]
fn waiting_past_the_pool_timeout_is_a_pool_timeout() {
    let routes = Routes::new();
    let target = Target::weir(Proto::H1, routes.weir_handler(), localhost());
    let options = ClientOptions::new()
        .connections_per_host(1)
        .pool_timeout(Duration::from_millis(100));
    let client = weir::http::Client::with_options(options);
    run(async {
        let first = client.get(target.url("/stream"));
        let feeder = routes.next_feeder().await;
        let first = bounded(first).await.unwrap();
        let waited = bounded(client.get(target.url("/hello"))).await.unwrap_err();
        assert!(waited.is_pool_timeout(), "{waited}");
        assert!(waited.is_timeout(), "{waited}");
        assert!(
            waited.to_string().contains(&target.addr.to_string()),
            "{waited}"
        );
        assert_eq!(
            client.stats()[0].queued,
            0,
            "the timed-out waiter left the queue"
        );
        feeder.finish();
        bounded(first.into_body().to_bytes(64)).await.unwrap();
        let again = bounded(client.get(target.url("/hello"))).await.unwrap();
        assert_eq!(again.status(), 200);
    });
}

/// A handler answering `/big` with a body too large to arrive in one read.
fn big(request: Request<Body>) -> Response<Body> {
    match request.uri().path() {
        "/big" => Response::new(Body::from(vec![b'x'; 4 << 20])),
        _ => Response::new(Body::from("small")),
    }
}

#[test]
fn a_body_not_read_to_its_end_does_not_go_back_to_the_pool() {
    let target = Target::weir(Proto::H1, big, localhost());
    let client = target.client();
    let server = target.server.clone().unwrap();
    run(async {
        // Dropped unread.
        let response = bounded(client.get(target.url("/big"))).await.unwrap();
        drop(response);
        // Read in part, then dropped.
        let response = bounded(client.get(target.url("/big"))).await.unwrap();
        let mut body = response.into_body();
        let chunk = bounded(futures::StreamExt::next(&mut body)).await.unwrap();
        assert!(!chunk.is_empty());
        drop(body);
        let response = bounded(client.get(target.url("/small"))).await.unwrap();
        assert_eq!(
            bounded(response.into_body().to_bytes(64)).await.unwrap(),
            "small"
        );
        let stats = &client.stats()[0];
        assert_eq!((stats.connects, stats.reused), (3, 0), "{stats:?}");
        // The server sees the abandoned connections closed.
        eventually("the abandoned connections to close", || {
            server.connection_count() == 1
        })
        .await;
    });
}

#[test]
fn connection_close_from_the_server_is_not_reused() {
    let handler = |request: Request<Body>| {
        let mut response = Response::new(Body::from("bye"));
        if request.uri().path() == "/close" {
            response
                .headers_mut()
                .insert(header::CONNECTION, "close".parse().unwrap());
        }
        response
    };
    let target = Target::weir(Proto::H1, handler, localhost());
    let client = target.client();
    run(async {
        for _ in 0..2 {
            let response = bounded(client.get(target.url("/close"))).await.unwrap();
            assert_eq!(response.headers()[header::CONNECTION], "close");
            assert_eq!(
                bounded(response.into_body().to_bytes(64)).await.unwrap(),
                "bye"
            );
        }
        let response = bounded(client.get(target.url("/keep"))).await.unwrap();
        bounded(response.into_body().to_bytes(64)).await.unwrap();
        let stats = &client.stats()[0];
        assert_eq!((stats.connects, stats.reused), (3, 0), "{stats:?}");
    });
}

#[test]
fn an_idle_connection_the_server_closed_is_not_handed_out_broken() {
    let options = localhost().idle_timeout(Some(Duration::from_millis(50)));
    let target = Target::weir(Proto::H1, Routes::new().weir_handler(), options);
    let server = target.server.clone().unwrap();
    let client = target.client();
    run(async {
        let response = bounded(client.get(target.url("/hello"))).await.unwrap();
        assert_eq!(
            bounded(response.into_body().to_bytes(64)).await.unwrap(),
            "hello"
        );
        eventually("the server to close the idle connection", || {
            server.connection_count() == 0
        })
        .await;
        for _ in 0..2 {
            let response = bounded(client.get(target.url("/hello"))).await.unwrap();
            assert_eq!(
                bounded(response.into_body().to_bytes(64)).await.unwrap(),
                "hello"
            );
        }
        let stats = &client.stats()[0];
        assert_eq!(
            stats.connects, 2,
            "a fresh connection after the close: {stats:?}"
        );
    });
}

#[test]
fn an_idle_connection_closed_by_a_raw_server_is_retried_on_a_fresh_one() {
    // The server answers one request per connection, then closes without saying so: the
    // client may only notice when it reuses the connection.
    let server = support::http_client::RawServer::start(|mut stream, _| {
        if support::http_client::read_head(&mut stream).is_some() {
            support::http_client::write_ok(&mut stream);
        }
    });
    let client = weir::http::Client::new();
    run(async {
        for _ in 0..4 {
            let response = bounded(client.get(server.url("/"))).await.unwrap();
            assert_eq!(
                bounded(response.into_body().to_bytes(64)).await.unwrap(),
                "ok"
            );
        }
        assert_eq!(server.accepted.get(), 4);
    });
}

#[test]
fn http2_multiplexes_32_concurrent_requests_over_one_connection() {
    for proto in [Proto::H2Tls, Proto::H2c] {
        const N: usize = 32;
        let arrived = Counter::default();
        let all_in: Deferred<(), weir::Error> = Deferred::new();
        let handler = {
            let arrived = arrived.clone();
            let all_in = all_in.clone();
            move |request: Request<Body>| {
                let arrived = arrived.clone();
                let all_in = all_in.clone();
                async move {
                    if arrived.hit() == N {
                        all_in.success(());
                    }
                    // Every request is in flight at once before any is answered.
                    let _ = all_in.await;
                    Response::new(Body::from(request.uri().path().to_string()))
                }
            }
        };
        let target = Target::weir(proto, handler, localhost());
        let client = target.client();
        run(async {
            let responses: Vec<_> = (0..N)
                .map(|i| client.get(target.url(&format!("/{i}"))))
                .collect();
            for (i, response) in responses.into_iter().enumerate() {
                let response = bounded(response).await.unwrap();
                assert_eq!(response.version(), weir::http::Version::HTTP_2);
                let body = bounded(response.into_body().to_bytes(64)).await.unwrap();
                assert_eq!(body, format!("/{i}"));
            }
            let stats = &client.stats()[0];
            assert_eq!(stats.connects, 1, "{proto:?}: {stats:?}");
            assert_eq!(target.server.as_ref().unwrap().connection_count(), 1);
        });
    }
}

#[test]
fn http2_opens_a_second_connection_past_the_servers_max_concurrent_streams() {
    for proto in [Proto::H2Tls, Proto::H2c] {
        const N: usize = 4;
        let arrived = Counter::default();
        let all_in: Deferred<(), weir::Error> = Deferred::new();
        let handler = {
            let arrived = arrived.clone();
            let all_in = all_in.clone();
            move |request: Request<Body>| {
                let arrived = arrived.clone();
                let all_in = all_in.clone();
                async move {
                    if request.uri().path() != "/warm-up" {
                        if arrived.hit() == N {
                            all_in.success(());
                        }
                        // All four are handled at once: only possible over two connections.
                        let _ = all_in.await;
                    }
                    Response::new(Body::from("done"))
                }
            }
        };
        let settings = weir::http::Http2Settings::new().max_concurrent_streams(2);
        let target = Target::weir(proto, handler, localhost().http2(settings));
        let client = target.client();
        run(async {
            // The server's SETTINGS are known once a request went through.
            let response = bounded(client.get(target.url("/warm-up"))).await.unwrap();
            bounded(response.into_body().to_bytes(64)).await.unwrap();
            let responses: Vec<_> = (0..N).map(|_| client.get(target.url("/held"))).collect();
            for response in responses {
                let response = bounded(response).await.unwrap();
                assert_eq!(
                    bounded(response.into_body().to_bytes(64)).await.unwrap(),
                    "done"
                );
            }
            let stats = &client.stats()[0];
            assert_eq!(stats.connects, 2, "{proto:?}: {stats:?}");
        });
    }
}

/// A raw server that answers the first request of each connection, then reads the second
/// and closes without a word: a kept-alive connection that died under the request.
fn one_answer_per_connection() -> support::http_client::RawServer {
    use support::http_client::{read_head, skip_body, write_ok};
    support::http_client::RawServer::start(|mut stream, _| {
        let Some(first) = read_head(&mut stream) else {
            return;
        };
        if !skip_body(&mut stream, first.content_length.unwrap_or(0)) || !write_ok(&mut stream) {
            return;
        }
        if let Some(second) = read_head(&mut stream) {
            skip_body(&mut stream, second.content_length.unwrap_or(0));
        }
    })
}

#[test]
fn an_idempotent_request_on_a_connection_that_died_is_retried_once_on_a_fresh_one() {
    let server = one_answer_per_connection();
    let client = weir::http::Client::new();
    run(async {
        for _ in 0..3 {
            let response = bounded(client.get(server.url("/"))).await.unwrap();
            assert_eq!(
                bounded(response.into_body().to_bytes(64)).await.unwrap(),
                "ok"
            );
        }
        // The second and third GETs each died on the reused connection and went again.
        assert_eq!(server.accepted.get(), 3);
        let stats = &client.stats()[0];
        assert_eq!(stats.connects, 3, "{stats:?}");
    });
}

#[test]
fn a_post_on_a_connection_that_died_is_not_retried() {
    let server = one_answer_per_connection();
    let client = weir::http::Client::new();
    run(async {
        let response = bounded(client.request(
            weir::http::ClientRequest::new(weir::http::Method::POST, server.url("/")).body("one"),
        ))
        .await
        .unwrap();
        assert_eq!(
            bounded(response.into_body().to_bytes(64)).await.unwrap(),
            "ok"
        );
        let error = bounded(client.request(
            weir::http::ClientRequest::new(weir::http::Method::POST, server.url("/")).body("two"),
        ))
        .await
        .unwrap_err();
        assert!(error.is_closed() || error.is_io(), "{error}");
        assert_eq!(server.accepted.get(), 1, "the POST was not sent again");
    });
}

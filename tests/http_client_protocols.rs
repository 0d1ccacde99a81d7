//! weir's HTTP client over HTTP/1.1, HTTP/2 with TLS + ALPN and h2c, against weir's own server
//! and an independent one (hyper on tokio): GET, HEAD, a 1 MiB POST echoed (whole and
//! streamed), a response streamed chunk by chunk as the server sends it.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use support::http_client::{Peer, Proto, Routes, Target, bounded};
use support::run;
use weir::http::{Body, ClientRequest, Method};

/// One test per server and protocol.
macro_rules! conformance {
    ($($name:ident => $test:expr;)*) => {$(
        mod $name {
            use super::*;
            #[test]
            fn weir_h1() { $test(Peer::Weir, Proto::H1) }
            #[test]
            fn weir_h2_tls() { $test(Peer::Weir, Proto::H2Tls) }
            #[test]
            fn weir_h2c() { $test(Peer::Weir, Proto::H2c) }
            #[test]
            fn hyper_h1() { $test(Peer::Hyper, Proto::H1) }
            #[test]
            fn hyper_h2_tls() { $test(Peer::Hyper, Proto::H2Tls) }
            #[test]
            fn hyper_h2c() { $test(Peer::Hyper, Proto::H2c) }
        }
    )*};
}

/// The next data chunk of `body`, its error, or `None` at its end (trailers skipped).
async fn next_chunk(body: &mut Body) -> Option<Result<Bytes, weir::Error>> {
    loop {
        match bounded(body.frame()).await? {
            Err(error) => return Some(Err(error)),
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    if !data.is_empty() {
                        return Some(Ok(data));
                    }
                }
            }
        }
    }
}

fn megabyte() -> Bytes {
    (0..1 << 20).map(|i: u32| (i % 251) as u8).collect()
}

fn get(peer: Peer, proto: Proto) {
    let target = Target::routes(peer, proto, Routes::new());
    let client = target.client();
    run(async {
        let response = bounded(client.get(target.url("/hello"))).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), proto.version());
        let body = bounded(response.into_body().to_bytes(64)).await.unwrap();
        assert_eq!(body, "hello");
        // A 404 fails the request, with the response in the error (clj-http's default).
        let missing = bounded(client.get(target.url("/missing")))
            .await
            .unwrap_err();
        let failed = missing
            .downcast_ref::<weir::http::client::ResponseError>()
            .expect("a response error");
        assert_eq!(failed.status(), 404);
    });
}

fn post_echo_of_a_mebibyte(peer: Peer, proto: Proto) {
    let target = Target::routes(peer, proto, Routes::new());
    let client = target.client();
    let data = megabyte();
    run(async {
        let request = ClientRequest::new(Method::POST, target.url("/echo")).body(data.clone());
        let response = bounded(client.request(request)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), proto.version());
        let echoed = bounded(response.into_body().to_bytes(2 << 20))
            .await
            .unwrap();
        assert!(
            echoed == data,
            "the echo differs: {} bytes back",
            echoed.len()
        );
    });
}

fn post_echo_of_a_streamed_mebibyte(peer: Peer, proto: Proto) {
    let target = Target::routes(peer, proto, Routes::new());
    let client = target.client();
    let data = megabyte();
    run(async {
        let chunks: Vec<Bytes> = (0..16)
            .map(|i| data.slice(i << 16..(i + 1) << 16))
            .collect();
        let body = Body::from_source(weir::stream::iter(chunks));
        let request = ClientRequest::new(Method::POST, target.url("/echo")).body(body);
        let response = bounded(client.request(request)).await.unwrap();
        assert_eq!(response.status(), 200);
        let echoed = bounded(response.into_body().to_bytes(2 << 20))
            .await
            .unwrap();
        assert!(
            echoed == data,
            "the echo differs: {} bytes back",
            echoed.len()
        );
    });
}

fn head(peer: Peer, proto: Proto) {
    let target = Target::routes(peer, proto, Routes::new());
    let client = target.client();
    run(async {
        let request = ClientRequest::new(Method::HEAD, target.url("/hello"));
        let response = bounded(client.request(request)).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), proto.version());
        assert_eq!(response.headers()["content-length"], "5");
        let body = bounded(response.into_body().to_bytes(64)).await.unwrap();
        assert!(body.is_empty());
        // The connection is still good for a GET after the bodiless HEAD.
        let response = bounded(client.get(target.url("/hello"))).await.unwrap();
        let body = bounded(response.into_body().to_bytes(64)).await.unwrap();
        assert_eq!(body, "hello");
        let stats = &client.stats()[0];
        assert_eq!((stats.connects, stats.reused), (1, 1), "{stats:?}");
    });
}

fn streamed_response_read_chunk_by_chunk(peer: Peer, proto: Proto) {
    let routes = Routes::new();
    let target = Target::routes(peer, proto, routes.clone());
    let client = target.client();
    run(async {
        let response = client.get(target.url("/stream"));
        let mut feeder = routes.next_feeder().await;
        let response = bounded(response).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), proto.version());
        let mut body = response.into_body();
        for i in 0..5 {
            let chunk = format!("chunk {i}\n");
            assert!(bounded(feeder.put(chunk.clone())).await, "put {i} refused");
            // Each chunk arrives before the server sends the next one.
            let received = next_chunk(&mut body).await.expect("a chunk").unwrap();
            assert_eq!(received, chunk);
        }
        feeder.finish();
        assert!(next_chunk(&mut body).await.is_none(), "the body ends");
        assert_eq!(body.bytes_read(), 5 * 8);
    });
}

conformance! {
    get_hello => get;
    post_echo => post_echo_of_a_mebibyte;
    post_streamed_echo => post_echo_of_a_streamed_mebibyte;
    head_request => head;
    streamed_response => streamed_response_read_chunk_by_chunk;
}

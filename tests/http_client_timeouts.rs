//! The client's per-phase timeouts: connect (TLS handshake included), request (until the
//! response head), read (until the body ends) and total, each with its own predicate and a
//! message naming the host; the client works on afterwards.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::io::Read as _;
use std::time::Duration;

use http_body_util::BodyExt as _;
use support::http_client::{PROTOS, Proto, RawServer, Routes, Target, bounded, localhost};
use support::run;
use weir::Deferred;
use weir::http::{Body, ClientOptions, ClientRequest, Method, Request, Response};

const SHORT: Duration = Duration::from_millis(150);

/// The host as timeout messages name it.
fn host_of(target: &Target) -> String {
    match target.proto {
        Proto::H2Tls => format!("localhost:{}", target.addr.port()),
        _ => target.addr.to_string(),
    }
}

/// A handler that answers `/slow` only once `gate` is realized, `/stream` from the test's
/// feeder, anything else at once.
fn gated(
    gate: Deferred<(), weir::Error>,
    routes: Routes,
) -> impl Fn(
    Request<Body>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response<Body>> + Send>>
+ Send
+ Sync
+ 'static {
    let inner = routes.weir_handler();
    move |request: Request<Body>| {
        if request.uri().path() == "/slow" {
            let gate = gate.clone();
            Box::pin(async move {
                let _ = gate.await;
                Response::new(Body::from("late"))
            })
        } else {
            inner(request)
        }
    }
}

#[test]
fn a_tls_handshake_that_hangs_is_a_connect_timeout() {
    // Accepts, then never says a word.
    let server = RawServer::start(|mut stream, _| {
        let mut sink = [0u8; 1024];
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    });
    let certificate = weir::tls::self_signed(&["localhost"]).unwrap();
    let options = ClientOptions::new()
        .tls(certificate.client_config_trusting_it())
        .connect_timeout(SHORT);
    let client = weir::http::Client::with_options(options);
    run(async {
        let url = format!("https://localhost:{}/", server.addr.port());
        let error = bounded(client.get(&url)).await.unwrap_err();
        assert!(error.is_connect_timeout(), "{error}");
        assert!(error.is_timeout(), "{error}");
        assert!(
            !error.is_request_timeout() && !error.is_pool_timeout(),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("localhost:{}", server.addr.port())),
            "{message}"
        );
        assert!(message.contains("connect"), "{message}");
        let stats = &client.stats()[0];
        assert_eq!((stats.open, stats.connect_failures), (0, 1), "{stats:?}");
    });
}

#[test]
fn a_late_response_head_is_a_request_timeout() {
    for proto in PROTOS {
        let gate = Deferred::new();
        let target = Target::weir(proto, gated(gate.clone(), Routes::new()), localhost());
        let client = weir::http::Client::with_options(
            target
                .client_options()
                .request_timeout(SHORT)
                .connections_per_host(1),
        );
        run(async {
            let error = bounded(client.get(target.url("/slow"))).await.unwrap_err();
            assert!(error.is_request_timeout(), "{proto:?}: {error}");
            assert!(!error.is_read_timeout() && !error.is_total_timeout());
            let message = error.to_string();
            assert!(message.contains(&host_of(&target)), "{proto:?}: {message}");
            assert!(message.contains("request timeout"), "{message}");
            // The next request goes through (on a connection not left waiting for the
            // first answer: one connection per host).
            let response = bounded(client.get(target.url("/hello"))).await.unwrap();
            assert_eq!(
                bounded(response.into_body().to_bytes(64)).await.unwrap(),
                "hello"
            );
            // The limit can be set per request.
            let request =
                ClientRequest::new(Method::GET, target.url("/slow")).request_timeout(SHORT);
            let lenient = weir::http::Client::with_options(target.client_options());
            let error = bounded(lenient.request(request)).await.unwrap_err();
            assert!(error.is_request_timeout(), "{proto:?}: {error}");
        });
        gate.success(());
    }
}

#[test]
fn a_body_that_stalls_ends_with_a_read_timeout() {
    for proto in PROTOS {
        let routes = Routes::new();
        let target = Target::weir(proto, routes.weir_handler(), localhost());
        let client = weir::http::Client::with_options(
            target
                .client_options()
                .read_timeout(SHORT)
                .connections_per_host(1),
        );
        run(async {
            let response = client.get(target.url("/stream"));
            let mut feeder = routes.next_feeder().await;
            let response = bounded(response).await.unwrap();
            assert!(bounded(feeder.put("first")).await);
            let mut body = response.into_body();
            let first = bounded(body.frame()).await.unwrap().unwrap();
            assert_eq!(first.into_data().unwrap(), "first");
            // The server stalls mid-body.
            let error = bounded(body.frame()).await.unwrap().unwrap_err();
            assert!(error.is_read_timeout(), "{proto:?}: {error}");
            let message = error.to_string();
            assert!(message.contains(&host_of(&target)), "{proto:?}: {message}");
            assert!(bounded(body.frame()).await.is_none(), "the body ended");
            drop(body);
            drop(feeder);
            let response = bounded(client.get(target.url("/hello"))).await.unwrap();
            assert_eq!(
                bounded(response.into_body().to_bytes(64)).await.unwrap(),
                "hello"
            );
        });
    }
}

#[test]
fn the_total_timeout_covers_the_head_and_the_body() {
    for proto in PROTOS {
        let gate = Deferred::new();
        let routes = Routes::new();
        let target = Target::weir(proto, gated(gate.clone(), routes.clone()), localhost());
        let client = weir::http::Client::with_options(target.client_options().total_timeout(SHORT));
        run(async {
            // Waiting for the head.
            let error = bounded(client.get(target.url("/slow"))).await.unwrap_err();
            assert!(error.is_total_timeout(), "{proto:?}: {error}");
            assert!(!error.is_request_timeout(), "{proto:?}: {error}");
            let message = error.to_string();
            assert!(message.contains(&host_of(&target)), "{proto:?}: {message}");
            // Reading the body.
            let response = client.get(target.url("/stream"));
            let feeder = routes.next_feeder().await;
            let response = bounded(response).await.unwrap();
            let error = bounded(response.into_body().to_bytes(64))
                .await
                .unwrap_err();
            assert!(error.is_total_timeout(), "{proto:?}: {error}");
            drop(feeder);
            // Per request, a longer total overrides the client's.
            let request = ClientRequest::new(Method::GET, target.url("/hello"))
                .total_timeout(Duration::from_secs(5));
            let response = bounded(client.request(request)).await.unwrap();
            assert_eq!(
                bounded(response.into_body().to_bytes(64)).await.unwrap(),
                "hello"
            );
        });
        gate.success(());
    }
}

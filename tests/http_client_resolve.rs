//! The client's resolver: a pluggable one for made-up names, and the connect trying each
//! address it gives until one answers.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::run;
use weir::Deferred;
use weir::http::client::{AddressFamily, Resolve, SystemResolver};
use weir::http::{self, Body, Client, ClientOptions, Request, ServerOptions};

/// Maps every name to fixed addresses, counting lookups.
struct Fixed {
    addresses: Vec<SocketAddr>,
    lookups: AtomicUsize,
}

impl Resolve for Fixed {
    fn resolve(&self, host: &str, port: u16) -> Deferred<Vec<SocketAddr>, weir::Error> {
        assert_eq!(host, "weir.made-up.test");
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let addresses = self
            .addresses
            .iter()
            .map(|a| SocketAddr::new(a.ip(), if a.port() == 0 { port } else { a.port() }))
            .collect();
        Deferred::succeeded(addresses)
    }
}

#[test]
fn a_plugged_in_resolver_maps_a_made_up_name_and_dead_addresses_are_skipped() {
    run(async {
        let server = http::start_server(
            |request: Request<Body>| format!("host {:?}", request.headers().get("host")),
            ServerOptions::new().address(([127, 0, 0, 1], 0)),
        )
        .await
        .unwrap();
        // A port nothing listens on first (refused at once), then the server.
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_address = dead.local_addr().unwrap();
        drop(dead);
        let resolver = Arc::new(Fixed {
            addresses: vec![dead_address, SocketAddr::from(([127, 0, 0, 1], 0))],
            lookups: AtomicUsize::new(0),
        });
        let client = Client::with_options(ClientOptions::new().resolver(resolver.clone()));
        let url = format!("http://weir.made-up.test:{}/", server.port());
        let response = client.get(&url).await.unwrap();
        let body = response.into_body().to_string(1024).await.unwrap();
        assert_eq!(
            body,
            format!("host Some(\"weir.made-up.test:{}\")", server.port())
        );
        assert_eq!(resolver.lookups.load(Ordering::Relaxed), 1);
        server.close().await.unwrap();
    });
}

#[test]
fn a_name_nothing_answers_for_fails_with_the_name_in_the_error() {
    run(async {
        let resolver = Arc::new(Fixed {
            addresses: vec![],
            lookups: AtomicUsize::new(0),
        });
        let client = Client::with_options(ClientOptions::new().resolver(resolver));
        let error = client.get("http://weir.made-up.test/").await.unwrap_err();
        assert!(error.to_string().contains("weir.made-up.test"), "{error}");
    });
}

#[test]
fn the_system_resolver_finds_localhost_and_keeps_the_family_asked_for() {
    let v4 = SystemResolver::new()
        .family(AddressFamily::Ipv4Only)
        .resolve("localhost", 80)
        .wait()
        .unwrap();
    assert!(!v4.is_empty() && v4.iter().all(SocketAddr::is_ipv4));
    // Without a DNS server the lookup may time out instead: either way, a clear error.
    let unknown = SystemResolver::new()
        .timeout(std::time::Duration::from_secs(2))
        .resolve("no-such-host.invalid", 80)
        .wait()
        .unwrap_err();
    assert!(
        unknown.is_timeout() || unknown.to_string().contains("no-such-host.invalid"),
        "{unknown}"
    );
}

#[cfg(unix)]
#[test]
fn requests_go_through_a_unix_domain_socket_and_are_pooled_per_socket() {
    run(async {
        let path = std::env::temp_dir().join(format!("weir-client-{}.sock", std::process::id()));
        let server = http::start_server(
            |request: Request<Body>| format!("{} over a socket", request.uri().path()),
            ServerOptions::new().unix_socket(&path),
        )
        .await
        .unwrap();
        let client = Client::new();
        for _ in 0..3 {
            let request = weir::http::ClientRequest::new(
                weir::http::Method::GET,
                "http://localhost/containers/json",
            )
            .unix_socket(&path);
            let response = client.request(request).await.unwrap();
            assert_eq!(
                response.into_body().to_string(1024).await.unwrap(),
                "/containers/json over a socket"
            );
        }
        let stats = client.stats();
        assert_eq!(stats.len(), 1);
        assert!(
            stats[0].host.contains(path.to_str().unwrap()),
            "{}",
            stats[0].host
        );
        assert_eq!(stats[0].connects, 1);
        server.close().await.unwrap();
    });
}

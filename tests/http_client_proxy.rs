//! The client through proxies of the tests' own on loopback: an HTTP proxy (absolute-form
//! requests, CONNECT tunnels for TLS, auth and extra headers) and a SOCKS5 proxy.

mod support;

use support::proxy::{http_proxy, socks5_proxy};
use support::run;
use weir::http::client::Proxy;
use weir::http::{self, Body, Client, ClientOptions, HttpVersion, Request, ServerOptions};

fn hello(request: Request<Body>) -> String {
    format!("hello via {:?}", request.version())
}

/// The body of a GET to `url`, as text.
async fn text_of(client: &Client, url: &str) -> String {
    let response = client.get(url).await.unwrap();
    response.into_body().to_string(1024).await.unwrap()
}

#[test]
fn plain_requests_go_to_an_http_proxy_in_absolute_form_with_its_credentials() {
    run(async {
        let server = http::start_server(hello, ServerOptions::new().address(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let (proxy, seen) = http_proxy();
        let client = Client::with_options(
            ClientOptions::new()
                .proxy(Proxy::http("127.0.0.1", proxy.port()).basic_auth("ada", "secret")),
        );
        let url = format!("http://{}/page", server.local_addr());
        let body = text_of(&client, &url).await;
        assert_eq!(body, "hello via HTTP/1.1");
        let head = seen.lock().unwrap()[0].clone();
        assert!(
            head.starts_with(&format!("GET {url} HTTP/1.1\r\n")),
            "{head}"
        );
        assert!(
            head.contains("proxy-authorization: Basic YWRhOnNlY3JldA=="),
            "{head}"
        );
        assert!(head.contains("host: 127.0.0.1:"), "{head}");
        server.close().await.unwrap();
    });
}

#[test]
fn plain_requests_tunnel_through_connect_when_asked_and_h2c_goes_through_too() {
    run(async {
        let options = ServerOptions::new()
            .address(([127, 0, 0, 1], 0))
            .use_h2c(true);
        let server = http::start_server(hello, options).await.unwrap();
        for h2c in [false, true] {
            let (proxy, seen) = http_proxy();
            let mut options = ClientOptions::new().proxy(
                Proxy::http("127.0.0.1", proxy.port())
                    .basic_auth("ada", "secret")
                    .tunnel(true),
            );
            if h2c {
                options = options.force_h2c(true).http_versions([HttpVersion::Http2]);
            }
            let client = Client::with_options(options);
            let url = format!("http://{}/page", server.local_addr());
            let body = text_of(&client, &url).await;
            let expected = if h2c {
                "hello via HTTP/2.0"
            } else {
                "hello via HTTP/1.1"
            };
            assert_eq!(body, expected);
            // The proxy was asked for a tunnel, with the credentials, not for the request.
            let heads = seen.lock().unwrap().clone();
            assert_eq!(heads.len(), 1, "{heads:?}");
            assert!(
                heads[0].starts_with(&format!("CONNECT {} HTTP/1.1\r\n", server.local_addr())),
                "{}",
                heads[0]
            );
            // Header names in any case; the value as sent.
            let credentials = heads[0].lines().any(|line| {
                line.split_once(':').is_some_and(|(name, value)| {
                    name.eq_ignore_ascii_case("proxy-authorization")
                        && value.trim() == "Basic YWRhOnNlY3JldA=="
                })
            });
            assert!(credentials, "{}", heads[0]);
        }
        server.close().await.unwrap();
    });
}

#[test]
fn https_goes_through_a_connect_tunnel_with_tls_and_alpn_end_to_end() {
    run(async {
        let certificate = weir::tls::self_signed(&["localhost"]).unwrap();
        let options = ServerOptions::new()
            .address(([127, 0, 0, 1], 0))
            .tls(certificate.server_config())
            .http_versions([HttpVersion::Http2, HttpVersion::Http1]);
        let server = http::start_server(hello, options).await.unwrap();
        let (proxy, seen) = http_proxy();
        let client = Client::with_options(
            ClientOptions::new()
                .tls(certificate.client_config_trusting_it())
                .http_versions([HttpVersion::Http2, HttpVersion::Http1])
                .proxy(Proxy::http("127.0.0.1", proxy.port()).header("x-team", "core")),
        );
        let url = format!("https://localhost:{}/", server.port());
        let body = text_of(&client, &url).await;
        assert_eq!(body, "hello via HTTP/2.0");
        let head = seen.lock().unwrap()[0].clone();
        assert!(
            head.starts_with(&format!("CONNECT localhost:{} HTTP/1.1\r\n", server.port())),
            "{head}"
        );
        assert!(head.contains("x-team: core"), "{head}");
        server.close().await.unwrap();
    });
}

#[test]
fn a_socks5_proxy_carries_requests_and_resolves_the_name() {
    run(async {
        let server = http::start_server(hello, ServerOptions::new().address(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
        let (proxy, seen) = socks5_proxy();
        let client = Client::with_options(
            ClientOptions::new().proxy(Proxy::socks5("127.0.0.1", proxy.port())),
        );
        let url = format!("http://localhost:{}/", server.port());
        let body = text_of(&client, &url).await;
        assert_eq!(body, "hello via HTTP/1.1");
        assert_eq!(
            seen.lock().unwrap()[0],
            format!("localhost:{}", server.port())
        );
        server.close().await.unwrap();
    });
}

#[test]
fn a_proxy_that_never_answers_is_a_connect_timeout_naming_the_proxy() {
    run(async {
        // Accepts and says nothing.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = silent.local_addr().unwrap().port();
        let client = Client::with_options(ClientOptions::new().proxy(
            Proxy::http("127.0.0.1", port).connect_timeout(std::time::Duration::from_millis(200)),
        ));
        let error = client.get("https://localhost:1/").await.unwrap_err();
        assert!(error.is_connect_timeout(), "{error}");
        assert!(
            error
                .to_string()
                .contains(&format!("proxy 127.0.0.1:{port}")),
            "{error}"
        );
        drop(silent);
    });
}

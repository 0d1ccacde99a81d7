//! The client through proxies of the tests' own on loopback: an HTTP proxy (absolute-form
//! requests, CONNECT tunnels for TLS, auth and extra headers) and a SOCKS5 proxy.

mod support;

use std::sync::{Arc, Mutex};

use futures::{AsyncReadExt, AsyncWriteExt};
use support::run;
use weir::http::client::Proxy;
use weir::http::{self, Body, Client, ClientOptions, HttpVersion, Request, ServerOptions};

/// Copies both ways until either side ends.
async fn splice(a: async_net::TcpStream, b: async_net::TcpStream) {
    let (mut a_read, mut b_write) = (a.clone(), b.clone());
    let (mut b_read, mut a_write) = (b, a);
    futures_lite::future::or(
        async {
            let _ = futures_lite::io::copy(&mut a_read, &mut b_write).await;
        },
        async {
            let _ = futures_lite::io::copy(&mut b_read, &mut a_write).await;
        },
    )
    .await;
}

async fn read_head(stream: &mut async_net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// An HTTP proxy; records each request head it sees.
fn http_proxy() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    weir::runtime::spawn(async move {
        let listener = async_net::TcpListener::try_from(listener).unwrap();
        loop {
            let (mut client, _) = listener.accept().await.unwrap();
            let log = log.clone();
            weir::runtime::spawn(async move {
                let head = read_head(&mut client).await;
                log.lock().unwrap().push(head.clone());
                let line = head.lines().next().unwrap_or("").to_string();
                let mut words = line.split_whitespace();
                let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                if method == "CONNECT" {
                    let upstream = async_net::TcpStream::connect(target).await.unwrap();
                    client
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await
                        .unwrap();
                    splice(client, upstream).await;
                } else {
                    let authority = target
                        .trim_start_matches("http://")
                        .split('/')
                        .next()
                        .unwrap()
                        .to_string();
                    let mut upstream = async_net::TcpStream::connect(authority).await.unwrap();
                    upstream.write_all(head.as_bytes()).await.unwrap();
                    splice(client, upstream).await;
                }
            })
            .detach();
        }
    })
    .detach();
    (address, seen)
}

/// A SOCKS5 proxy without auth; records each target.
fn socks5_proxy() -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    weir::runtime::spawn(async move {
        let listener = async_net::TcpListener::try_from(listener).unwrap();
        loop {
            let (mut client, _) = listener.accept().await.unwrap();
            let log = log.clone();
            weir::runtime::spawn(async move {
                let mut greeting = [0u8; 2];
                client.read_exact(&mut greeting).await.unwrap();
                let mut methods = vec![0u8; greeting[1] as usize];
                client.read_exact(&mut methods).await.unwrap();
                client.write_all(&[5, 0]).await.unwrap();
                let mut request = [0u8; 4];
                client.read_exact(&mut request).await.unwrap();
                let host = match request[3] {
                    1 => {
                        let mut ip = [0u8; 4];
                        client.read_exact(&mut ip).await.unwrap();
                        std::net::Ipv4Addr::from(ip).to_string()
                    }
                    3 => {
                        let mut len = [0u8; 1];
                        client.read_exact(&mut len).await.unwrap();
                        let mut name = vec![0u8; len[0] as usize];
                        client.read_exact(&mut name).await.unwrap();
                        String::from_utf8(name).unwrap()
                    }
                    other => panic!("address type {other}"),
                };
                let mut port = [0u8; 2];
                client.read_exact(&mut port).await.unwrap();
                let target = format!("{host}:{}", u16::from_be_bytes(port));
                log.lock().unwrap().push(target.clone());
                let upstream = async_net::TcpStream::connect(target).await.unwrap();
                client
                    .write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])
                    .await
                    .unwrap();
                splice(client, upstream).await;
            })
            .detach();
        }
    })
    .detach();
    (address, seen)
}

fn hello(request: Request<Body>) -> String {
    format!("hello via {:?}", request.version())
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
        let body = client
            .get(&url)
            .await
            .unwrap()
            .into_body()
            .to_string(1024)
            .await
            .unwrap();
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
        let body = client
            .get(&url)
            .await
            .unwrap()
            .into_body()
            .to_string(1024)
            .await
            .unwrap();
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
        let body = client
            .get(&url)
            .await
            .unwrap()
            .into_body()
            .to_string(1024)
            .await
            .unwrap();
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

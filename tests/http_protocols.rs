//! The same cases over HTTP/1.1 (hyper's client), HTTP/2 over TLS with ALPN (hyper's HTTP/2
//! client over `weir::tls::connect`) and h2c with prior knowledge (the h2 crate's client), and
//! a few against curl.
#![cfg(all(feature = "http2", feature = "tls"))]

mod support;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use support::http::{ALL, Fixture, Outgoing, Proto, bounded, get, run_tokio};
use support::http_peer::{available, curl};
use weir::Deferred;
use weir::http::{Body, HeaderMap, Method, Request, RequestInfo, Response, ServerOptions};
use weir::stream::{self, Channel};

type Slot = Arc<Mutex<Option<Channel<Bytes>>>>;

/// The routes the cases use. `/stream` hands its channel to the test through `slot`.
fn routes(
    slot: Slot,
) -> impl Fn(Request<Body>) -> Deferred<Response<Body>, weir::Error> + Send + Sync + 'static {
    move |request: Request<Body>| {
        let slot = slot.clone();
        Deferred::spawn(async move {
            let path = request.uri().path().to_string();
            Ok(match path.as_str() {
                "/" => Response::new(Body::from("hello!")),
                "/echo" => {
                    let body = request.into_body().to_bytes(4 << 20).await?;
                    Response::new(Body::from(body))
                }
                "/stream" => {
                    let channel = Channel::new(1);
                    *slot.lock().unwrap() = Some(channel.clone());
                    Response::new(Body::from_source(channel))
                }
                "/trailers-in" => {
                    let (bytes, trailers) =
                        request.into_body().collect_with_trailers(1 << 20).await?;
                    let checksum = trailers
                        .and_then(|t| t.get("x-checksum").cloned())
                        .map(|v| v.to_str().unwrap().to_string())
                        .unwrap_or_default();
                    Response::new(Body::from(format!("{} {checksum}", bytes.len())))
                }
                "/trailers-out" => {
                    let mut trailers = HeaderMap::new();
                    trailers.insert("x-checksum", "abc123".parse().unwrap());
                    let body = Body::from_source(stream::iter(vec!["part 1,", "part 2"]))
                        .with_trailers(Deferred::succeeded(trailers));
                    // HTTP/1.1 sends only the trailer fields the head declares.
                    Response::builder()
                        .header("trailer", "x-checksum")
                        .body(body)
                        .unwrap()
                }
                "/info" => {
                    let info = request.extensions().get::<RequestInfo>().unwrap().clone();
                    let c = info.connection();
                    Response::new(Body::from(format!(
                        "remote={} local={} stream={:?} tls={:?} cipher={} alpn={:?} version={:?}",
                        info.remote_addr(),
                        info.local_addr(),
                        info.stream_id(),
                        c.tls_protocol_version(),
                        c.tls_cipher_suite().is_some(),
                        c.alpn_protocol()
                            .map(|a| String::from_utf8_lossy(a).into_owned()),
                        request.version(),
                    )))
                }
                "/none" => Response::builder().status(204).body(Body::empty()).unwrap(),
                _ => Response::builder().status(404).body(Body::empty()).unwrap(),
            })
        })
    }
}

fn fixture(proto: Proto) -> (Fixture, Slot) {
    let slot = Slot::default();
    (
        Fixture::start(proto, routes(slot.clone()), ServerOptions::new()),
        slot,
    )
}

#[test]
fn get_hello_over_each_protocol() {
    for proto in ALL {
        let (fixture, _) = fixture(proto);
        run_tokio(async {
            let mut client = fixture.client().await;
            let reply = client.send(get("/")).await.unwrap();
            assert_eq!(reply.status, 200, "{proto:?}");
            let expected = if proto == Proto::H1 {
                http::Version::HTTP_11
            } else {
                http::Version::HTTP_2
            };
            assert_eq!(reply.version, expected, "{proto:?}");
            assert_eq!(reply.headers["content-length"], "6", "{proto:?}");
            assert_eq!(reply.headers["server"], "weir", "{proto:?}");
            assert!(reply.headers.contains_key("date"), "{proto:?}");
            assert_eq!(reply.text().await, "hello!", "{proto:?}");
            // A second request on the same connection.
            assert_eq!(client.get_text("/").await.1, "hello!", "{proto:?}");
        });
        bounded_close(&fixture);
    }
}

fn bounded_close(fixture: &Fixture) {
    support::run(fixture.server.close()).unwrap();
}

#[test]
fn post_echo_of_a_1_mib_body_over_each_protocol() {
    let body: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
    let body = Bytes::from(body);
    for proto in ALL {
        let (fixture, _) = fixture(proto);
        run_tokio(async {
            let mut client = fixture.client().await;
            // In several chunks, so that the server sees the body arrive in pieces.
            let chunks = body.chunks(64 * 1024).map(Bytes::copy_from_slice).collect();
            let request = Request::post("/echo")
                .body(Outgoing {
                    chunks,
                    trailers: None,
                })
                .unwrap();
            let reply = client.send(request).await.unwrap();
            assert_eq!(reply.status, 200, "{proto:?}");
            let (echoed, _) = bounded(reply.body.collect()).await.unwrap();
            assert_eq!(echoed.len(), body.len(), "{proto:?}");
            assert!(echoed == body, "{proto:?}: the echo differs");
        });
        bounded_close(&fixture);
    }
}

#[test]
fn a_streamed_response_arrives_chunk_by_chunk_as_sent() {
    for proto in ALL {
        let (fixture, slot) = fixture(proto);
        run_tokio(async {
            let mut client = fixture.client().await;
            let mut reply = client.send(get("/stream")).await.unwrap();
            assert_eq!(reply.status, 200);
            assert!(!reply.headers.contains_key("content-length"), "{proto:?}");
            let channel = slot.lock().unwrap().take().expect("the handler ran");
            for i in 0..5 {
                let message = format!("chunk {i}\n");
                bounded(channel.put(Bytes::from(message.clone())))
                    .await
                    .unwrap();
                // The client sees this chunk before the next one is even put.
                let mut got = Vec::new();
                while got.len() < message.len() {
                    let chunk = bounded(reply.body.next_data()).await.unwrap().unwrap();
                    got.extend_from_slice(&chunk);
                }
                assert_eq!(got, message.as_bytes(), "{proto:?}");
            }
            channel.close();
            // The end (an empty last DATA frame may come first over HTTP/2).
            loop {
                match bounded(reply.body.next_data()).await {
                    None => break,
                    Some(Ok(chunk)) => assert!(chunk.is_empty(), "{proto:?}: {chunk:?}"),
                    Some(Err(e)) => panic!("{proto:?}: {e}"),
                }
            }
        });
        bounded_close(&fixture);
    }
}

#[test]
fn a_response_from_a_channel_ends_when_its_producer_is_done() {
    for proto in ALL {
        let fixture = Fixture::start(
            proto,
            |_: Request<Body>| {
                let channel: Channel<Bytes> = Channel::new(1);
                let producer = channel.clone();
                weir::runtime::spawn(async move {
                    for i in 0..3 {
                        let _ = producer.put(Bytes::from(format!("{i};"))).await;
                    }
                    // Dropped, not closed: the body still ends.
                })
                .detach();
                Response::new(Body::from_source(channel))
            },
            ServerOptions::new(),
        );
        run_tokio(async {
            let mut client = fixture.client().await;
            assert_eq!(client.get_text("/").await.1, "0;1;2;", "{proto:?}");
        });
        bounded_close(&fixture);
    }
}

#[test]
fn head_has_no_body_but_the_content_length() {
    for proto in ALL {
        let (fixture, _) = fixture(proto);
        run_tokio(async {
            let mut client = fixture.client().await;
            let request = Request::head("/").body(Outgoing::empty()).unwrap();
            let reply = client.send(request).await.unwrap();
            assert_eq!(reply.status, 200, "{proto:?}");
            assert_eq!(reply.headers["content-length"], "6", "{proto:?}");
            assert_eq!(reply.text().await, "", "{proto:?}");
            // The connection is still in step: the next request gets its own answer.
            assert_eq!(client.get_text("/").await.1, "hello!", "{proto:?}");
        });
        bounded_close(&fixture);
    }
}

#[test]
fn unit_answers_204() {
    for proto in ALL {
        let fixture = Fixture::start(proto, |_: Request<Body>| (), ServerOptions::new());
        run_tokio(async {
            let mut client = fixture.client().await;
            let (status, body) = client.get_text("/").await;
            assert_eq!(status, 204, "{proto:?}");
            assert_eq!(body, "");
        });
        bounded_close(&fixture);
    }
}

#[test]
fn request_trailers_reach_the_handler() {
    for proto in ALL {
        let (fixture, _) = fixture(proto);
        run_tokio(async {
            let mut client = fixture.client().await;
            let mut trailers = HeaderMap::new();
            trailers.insert("x-checksum", "sum-1".parse().unwrap());
            let request = Request::post("/trailers-in")
                .header("trailer", "x-checksum")
                .body(Outgoing {
                    chunks: vec![Bytes::from("0123456789")],
                    trailers: Some(trailers),
                })
                .unwrap();
            let reply = client.send(request).await.unwrap();
            assert_eq!(reply.status, 200, "{proto:?}");
            assert_eq!(reply.text().await, "10 sum-1", "{proto:?}");
        });
        bounded_close(&fixture);
    }
}

#[test]
fn response_trailers_reach_the_client() {
    for proto in ALL {
        let (fixture, _) = fixture(proto);
        run_tokio(async {
            let mut client = fixture.client().await;
            let request = Request::get("/trailers-out")
                .header("te", "trailers")
                .body(Outgoing::empty())
                .unwrap();
            let reply = client.send(request).await.unwrap();
            assert_eq!(reply.status, 200, "{proto:?}");
            let (body, trailers) = bounded(reply.body.collect()).await.unwrap();
            assert_eq!(body, "part 1,part 2", "{proto:?}");
            let trailers = trailers.unwrap_or_else(|| panic!("{proto:?}: no trailers"));
            assert_eq!(trailers["x-checksum"], "abc123", "{proto:?}");
        });
        bounded_close(&fixture);
    }
}

#[test]
fn response_trailers_are_dropped_over_http1_without_te_trailers() {
    let (fixture, _) = fixture(Proto::H1);
    run_tokio(async {
        let mut client = fixture.client().await;
        let reply = client.send(get("/trailers-out")).await.unwrap();
        let (body, trailers) = bounded(reply.body.collect()).await.unwrap();
        assert_eq!(body, "part 1,part 2");
        assert!(trailers.is_none());
    });
    bounded_close(&fixture);
}

#[test]
fn request_info_in_the_extensions() {
    for proto in ALL {
        let (fixture, _) = fixture(proto);
        let addr = fixture.addr();
        run_tokio(async {
            let mut client = fixture.client().await;
            let (_, first) = client.get_text("/info").await;
            let (_, second) = client.get_text("/info").await;
            assert!(first.starts_with("remote=127.0.0.1:"), "{proto:?}: {first}");
            assert!(
                first.contains(&format!("local={addr}")),
                "{proto:?}: {first}"
            );
            match proto {
                Proto::H1 => {
                    assert!(first.contains("stream=None"), "{first}");
                    assert!(first.contains("tls=None"), "{first}");
                    assert!(first.contains("version=HTTP/1.1"), "{first}");
                }
                Proto::H2c => {
                    assert!(first.contains("stream=Some(1)"), "{first}");
                    assert!(second.contains("stream=Some(3)"), "{second}");
                    assert!(first.contains("tls=None"), "{first}");
                    assert!(first.contains("version=HTTP/2.0"), "{first}");
                }
                Proto::H2Tls => {
                    assert!(first.contains("stream=Some(1)"), "{first}");
                    assert!(second.contains("stream=Some(3)"), "{second}");
                    assert!(first.contains("tls=Some(\"TLSv1.3\")"), "{first}");
                    assert!(first.contains("cipher=true"), "{first}");
                    assert!(first.contains("alpn=Some(\"h2\")"), "{first}");
                    assert!(first.contains("version=HTTP/2.0"), "{first}");
                }
            }
        });
        bounded_close(&fixture);
    }
}

#[test]
fn http1_over_tls_when_alpn_picks_it() {
    let (fixture, _) = fixture(Proto::H2Tls);
    let certificate = fixture.certificate.as_ref().unwrap();
    run_tokio(async {
        use tokio_util::compat::FuturesAsyncReadCompatExt as _;
        let tcp = bounded(async_net::TcpStream::connect(fixture.addr()))
            .await
            .unwrap();
        let config = certificate
            .client_config_trusting_it()
            .with_alpn_protocols(["http/1.1"]);
        let stream = bounded(weir::tls::connect(&config, "localhost", tcp))
            .await
            .unwrap();
        assert_eq!(
            stream.session_info().alpn_protocol(),
            Some(&b"http/1.1"[..])
        );
        let io = hyper_util::rt::TokioIo::new(stream.compat());
        let (mut send, connection) = bounded(hyper::client::conn::http1::handshake(io))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = Request::get("/info")
            .header("host", "localhost")
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap();
        let response = bounded(send.send_request(request)).await.unwrap();
        use http_body_util::BodyExt as _;
        let body = bounded(response.into_body().collect())
            .await
            .unwrap()
            .to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert!(text.contains("alpn=Some(\"http/1.1\")"), "{text}");
        assert!(text.contains("version=HTTP/1.1"), "{text}");
        assert!(text.contains("stream=None"), "{text}");
    });
    bounded_close(&fixture);
}

#[test]
fn methods_other_than_get_reach_the_handler() {
    for proto in ALL {
        let fixture = Fixture::start(
            proto,
            |request: Request<Body>| Response::new(Body::from(request.method().to_string())),
            ServerOptions::new(),
        );
        run_tokio(async {
            let mut client = fixture.client().await;
            for method in [Method::PUT, Method::DELETE, Method::PATCH, Method::OPTIONS] {
                let request = Request::builder()
                    .method(method.clone())
                    .uri("/")
                    .body(Outgoing::empty())
                    .unwrap();
                let reply = client.send(request).await.unwrap();
                assert_eq!(reply.text().await, method.as_str(), "{proto:?}");
            }
        });
        bounded_close(&fixture);
    }
}

// --- curl ------------------------------------------------------------------------------------

#[test]
fn curl_over_http1_h2c_and_tls() {
    if !available("curl") {
        return;
    }
    let (h1, _) = fixture(Proto::H1);
    let url = format!("http://{}/", h1.addr());
    assert_eq!(curl(&["--http1.1", &url]), ("hello!".into(), "1.1".into()));
    let echo = format!("http://{}/echo", h1.addr());
    assert_eq!(
        curl(&["--http1.1", "--data-binary", "posted", &echo]).0,
        "posted"
    );
    bounded_close(&h1);

    let (h2c, _) = fixture(Proto::H2c);
    let url = format!("http://{}/", h2c.addr());
    assert_eq!(
        curl(&["--http2-prior-knowledge", &url]),
        ("hello!".into(), "2".into())
    );
    // The same port still speaks HTTP/1.1.
    assert_eq!(curl(&["--http1.1", &url]), ("hello!".into(), "1.1".into()));
    let echo = format!("http://{}/echo", h2c.addr());
    assert_eq!(
        curl(&["--http2-prior-knowledge", "--data-binary", "posted", &echo]).0,
        "posted"
    );
    bounded_close(&h2c);

    let (tls, _) = fixture(Proto::H2Tls);
    let pem = std::env::temp_dir().join(format!("weir-http-protocols-{}.pem", tls.addr().port()));
    std::fs::write(&pem, tls.certificate.as_ref().unwrap().certificate_pem()).unwrap();
    let pem = pem.to_str().unwrap().to_string();
    let port = tls.addr().port();
    let resolve = format!("localhost:{port}:127.0.0.1");
    let url = format!("https://localhost:{port}/");
    assert_eq!(
        curl(&["--http2", "--cacert", &pem, "--resolve", &resolve, &url]),
        ("hello!".into(), "2".into())
    );
    assert_eq!(
        curl(&["--http1.1", "--cacert", &pem, "--resolve", &resolve, &url]),
        ("hello!".into(), "1.1".into())
    );
    let _ = std::fs::remove_file(&pem);
    bounded_close(&tls);
}

#[test]
fn the_server_header_is_configurable() {
    for (value, expected) in [(None, None), (Some("custom/1"), Some("custom/1"))] {
        let fixture = Fixture::start(
            Proto::H1,
            |_: Request<Body>| Response::new(Body::from("ok")),
            ServerOptions::new().server_header(value.map(|v| v.parse().unwrap())),
        );
        run_tokio(async {
            let mut client = fixture.client().await;
            let reply = client.send(get("/")).await.unwrap();
            assert_eq!(
                reply.headers.get("server").map(|v| v.to_str().unwrap()),
                expected
            );
        });
        bounded_close(&fixture);
    }
    // A handler's own Server header wins.
    let fixture = Fixture::start(
        Proto::H2c,
        |_: Request<Body>| {
            Response::builder()
                .header("server", "mine")
                .body(Body::from("ok"))
                .unwrap()
        },
        ServerOptions::new(),
    );
    run_tokio(async {
        let mut client = fixture.client().await;
        let reply = client.send(get("/")).await.unwrap();
        assert_eq!(reply.headers["server"], "mine");
    });
}

#[test]
fn connection_and_request_counts() {
    for proto in ALL {
        let (fixture, _) = fixture(proto);
        run_tokio(async {
            let mut client = fixture.client().await;
            client.get_text("/").await;
            client.get_text("/").await;
            assert_eq!(fixture.server.connection_count(), 1, "{proto:?}");
            assert_eq!(fixture.server.request_count(), 2, "{proto:?}");
            drop(client);
            // The server notices the client is gone.
            bounded(async {
                while fixture.server.connection_count() != 0 {
                    weir::runtime::sleep(std::time::Duration::from_millis(5)).await;
                }
            })
            .await;
        });
        bounded_close(&fixture);
    }
}

#[test]
fn no_body_goes_out_for_head_204_or_304_even_if_the_handler_gives_one() {
    for proto in ALL {
        let fixture = Fixture::start(
            proto,
            |request: Request<Body>| {
                let status = match request.uri().path() {
                    "/204" => 204,
                    "/304" => 304,
                    _ => 200,
                };
                let body = Body::from_source(stream::iter(vec!["streamed ", "body"]));
                Response::builder().status(status).body(body).unwrap()
            },
            ServerOptions::new(),
        );
        run_tokio(async {
            let mut client = fixture.client().await;
            for (method, path, status) in [
                (Method::HEAD, "/", 200),
                (Method::GET, "/204", 204),
                (Method::GET, "/304", 304),
            ] {
                let request = Request::builder()
                    .method(method.clone())
                    .uri(path)
                    .body(Outgoing::empty())
                    .unwrap();
                let reply = client.send(request).await.unwrap();
                assert_eq!(reply.status, status, "{proto:?} {method} {path}");
                assert_eq!(reply.text().await, "", "{proto:?} {method} {path}");
            }
            // Still in step.
            assert_eq!(client.get_text("/").await.1, "streamed body", "{proto:?}");
        });
        bounded_close(&fixture);
    }
}

#[test]
fn an_already_bound_listener_is_served() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = support::http::start(
        |_: Request<Body>| Response::new(Body::from("from a listener")),
        ServerOptions::new().listener(listener),
    );
    assert_eq!(server.local_addr(), addr);
    assert_eq!(server.port(), addr.port());
    let (response, _) = support::http::exchange(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(response.unwrap().body, b"from a listener");
}

#[test]
fn the_peer_certificates_of_a_client_with_one_are_in_the_request_info() {
    let server_cert = weir::tls::self_signed(&["localhost"]).unwrap();
    let client_cert = weir::tls::self_signed(&["client.example"]).unwrap();
    let config = server_cert
        .server_config_builder()
        .require_client_auth(client_cert.certificate_pem())
        .build()
        .unwrap();
    let server = support::http::start(
        |request: Request<Body>| {
            let info = request.extensions().get::<RequestInfo>().unwrap();
            let certificates = info.connection().peer_certificates().unwrap_or_default();
            Response::new(Body::from(format!(
                "{} {}",
                certificates.len(),
                certificates.first().map(|c| c.len()).unwrap_or(0)
            )))
        },
        ServerOptions::new()
            .address(([127, 0, 0, 1], 0))
            .http_versions([weir::http::HttpVersion::Http2])
            .tls(config),
    );
    let expected = format!("1 {}", client_cert.certificate_der().len());
    run_tokio(async {
        use tokio_util::compat::FuturesAsyncReadCompatExt as _;
        let tcp = bounded(async_net::TcpStream::connect(server.local_addr()))
            .await
            .unwrap();
        let config = server_cert
            .client_config_builder()
            .client_certificate_pem(client_cert.certificate_pem(), client_cert.private_key_pem())
            .alpn_protocols(["h2"])
            .build()
            .unwrap();
        let stream = bounded(weir::tls::connect(&config, "localhost", tcp))
            .await
            .unwrap();
        let io = hyper_util::rt::TokioIo::new(stream.compat());
        let (mut send, connection) = bounded(
            hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                .handshake(io),
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        let request = Request::get("https://localhost/")
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap();
        let response = bounded(send.send_request(request)).await.unwrap();
        use http_body_util::BodyExt as _;
        let body = bounded(response.into_body().collect())
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(body, expected.as_bytes());
    });
}

#[test]
fn the_alpn_order_of_http_versions_is_honoured() {
    let certificate = weir::tls::self_signed(&["localhost"]).unwrap();
    for (versions, expected) in [
        (
            vec![
                weir::http::HttpVersion::Http2,
                weir::http::HttpVersion::Http1,
            ],
            &b"h2"[..],
        ),
        (
            vec![
                weir::http::HttpVersion::Http1,
                weir::http::HttpVersion::Http2,
            ],
            &b"http/1.1"[..],
        ),
    ] {
        let server = support::http::start(
            support::http::hello,
            ServerOptions::new()
                .address(([127, 0, 0, 1], 0))
                .http_versions(versions)
                .tls(certificate.server_config()),
        );
        support::run(async {
            let tcp = async_net::TcpStream::connect(server.local_addr())
                .await
                .unwrap();
            let config = certificate
                .client_config_trusting_it()
                .with_alpn_protocols(["h2", "http/1.1"]);
            let stream = weir::tls::connect(&config, "localhost", tcp).await.unwrap();
            assert_eq!(stream.session_info().alpn_protocol(), Some(expected));
        });
    }
}

//! Response compression: each coding decompressed by the test and compared, the q-value
//! choice, the responses left alone (small, HEAD, already encoded, ranged, event streams, off
//! by default), and per-chunk flushing of a streamed body fed slowly by the test, over
//! HTTP/1.1 and h2c with hyper's client.
#![cfg(feature = "compression")]

use std::net::SocketAddr;
use std::time::Duration;

use async_compression::futures::write::{BrotliDecoder, GzipDecoder, ZlibDecoder, ZstdDecoder};
use bytes::Bytes;
use futures::AsyncWriteExt as _;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use weir::http::{
    self, Body, Compression, HeaderValue, HttpVersion, Request, Response, ServerOptions,
    StatusCode, header, sse,
};
use weir::stream::Channel;

const WAIT: Duration = Duration::from_secs(10);

fn text(len: usize) -> String {
    let line = "a line of compressible text, the same again and again\n";
    line.repeat(len / line.len() + 1)[..len].to_string()
}

/// The routes; `/stream` takes its chunks from `chunks`.
async fn start(compression: Option<Compression>, chunks: Channel<String>) -> http::Server {
    // One file per server: tests run at once, and rewriting a file being served cuts it off.
    static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file =
        std::env::temp_dir().join(format!("weir-test-{}-compress-{n}.txt", std::process::id()));
    std::fs::write(&file, text(10_000)).unwrap();
    let handler = move |request: Request<Body>| {
        let chunks = chunks.clone();
        let file = file.clone();
        async move {
            let mut response = match request.uri().path() {
                "/big" => Response::new(Body::from(text(64 << 10))),
                "/small" => Response::new(Body::from(text(100))),
                "/encoded" => {
                    let mut response = Response::new(Body::from(text(4096)));
                    response
                        .headers_mut()
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("x-mine"));
                    response
                }
                "/stream" => Response::new(Body::from_source(chunks)),
                "/sse" => sse::response(weir::stream::iter(vec!["x".repeat(5000)])),
                "/file" => http::serve_file(&request, &file).await?,
                _ => return Err(weir::Error::msg("no route")),
            };
            if !response.headers().contains_key(header::CONTENT_TYPE) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            }
            Ok::<_, weir::Error>(response)
        }
    };
    let mut options = ServerOptions::new()
        .address(([127, 0, 0, 1], 0))
        .http_versions([HttpVersion::Http1, HttpVersion::Http2])
        .use_h2c(true);
    if let Some(compression) = compression {
        options = options.compression(compression);
    }
    http::start_server(handler, options).await.unwrap()
}

type Client = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;
type Client2 = hyper::client::conn::http2::SendRequest<Empty<Bytes>>;

enum Sender {
    H1(Client),
    H2(Client2),
}

async fn connect(addr: SocketAddr, h2: bool) -> Sender {
    let io = TokioIo::new(tokio::net::TcpStream::connect(addr).await.unwrap());
    if h2 {
        let (sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .unwrap();
        tokio::spawn(connection);
        Sender::H2(sender)
    } else {
        let (sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(connection);
        Sender::H1(sender)
    }
}

async fn request(
    addr: SocketAddr,
    h2: bool,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> hyper::Response<hyper::body::Incoming> {
    let mut builder = Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1{path}"));
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    if !h2 {
        // hyper's connection-level client adds no Host; HTTP/1.1 requires one.
        builder = builder.header("host", "127.0.0.1");
    }
    let request = builder.body(Empty::new()).unwrap();
    let exchange = async {
        match connect(addr, h2).await {
            Sender::H1(mut sender) => sender.send_request(request).await.unwrap(),
            Sender::H2(mut sender) => sender.send_request(request).await.unwrap(),
        }
    };
    weir::runtime::timeout(WAIT, exchange).await.unwrap()
}

async fn body_of(response: hyper::Response<hyper::body::Incoming>) -> Bytes {
    weir::runtime::timeout(WAIT, response.into_body().collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes()
}

/// A streaming decoder: compressed bytes in, what they decode to so far out.
enum Decoder {
    Gzip(GzipDecoder<Vec<u8>>),
    Deflate(ZlibDecoder<Vec<u8>>),
    Br(BrotliDecoder<Vec<u8>>),
    Zstd(ZstdDecoder<Vec<u8>>),
}

impl Decoder {
    fn new(coding: &str) -> Decoder {
        match coding {
            "gzip" => Decoder::Gzip(GzipDecoder::new(Vec::new())),
            "deflate" => Decoder::Deflate(ZlibDecoder::new(Vec::new())),
            "br" => Decoder::Br(BrotliDecoder::new(Vec::new())),
            "zstd" => Decoder::Zstd(ZstdDecoder::new(Vec::new())),
            other => panic!("unexpected coding {other}"),
        }
    }

    /// Feeds `bytes` and returns everything decoded since the last call.
    async fn feed(&mut self, bytes: &[u8]) -> Vec<u8> {
        macro_rules! feed {
            ($d:expr) => {{
                $d.write_all(bytes).await.unwrap();
                $d.flush().await.unwrap();
                std::mem::take($d.get_mut())
            }};
        }
        match self {
            Decoder::Gzip(d) => feed!(d),
            Decoder::Deflate(d) => feed!(d),
            Decoder::Br(d) => feed!(d),
            Decoder::Zstd(d) => feed!(d),
        }
    }

    async fn finish(mut self, bytes: &[u8]) -> Vec<u8> {
        macro_rules! finish {
            ($d:expr) => {{
                $d.write_all(bytes).await.unwrap();
                $d.close().await.unwrap();
                std::mem::take($d.get_mut())
            }};
        }
        match &mut self {
            Decoder::Gzip(d) => finish!(d),
            Decoder::Deflate(d) => finish!(d),
            Decoder::Br(d) => finish!(d),
            Decoder::Zstd(d) => finish!(d),
        }
    }
}

fn header(
    response: &hyper::Response<hyper::body::Incoming>,
    name: header::HeaderName,
) -> Option<&str> {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_coding_decompresses_to_the_original() {
    let server = start(Some(Compression::new()), Channel::new(1)).await;
    let original = text(64 << 10);
    for h2 in [false, true] {
        for coding in ["gzip", "deflate", "br", "zstd"] {
            let response = request(
                server.local_addr(),
                h2,
                "GET",
                "/big",
                &[("accept-encoding", coding)],
            )
            .await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(header(&response, header::CONTENT_ENCODING), Some(coding));
            assert_eq!(header(&response, header::VARY), Some("accept-encoding"));
            assert_eq!(header(&response, header::CONTENT_LENGTH), None);
            let compressed = body_of(response).await;
            assert!(
                compressed.len() < original.len() / 4,
                "{coding}: {}",
                compressed.len()
            );
            let decoded = Decoder::new(coding).finish(&compressed).await;
            assert_eq!(decoded, original.as_bytes(), "{coding} h2: {h2}");
        }
    }
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn q_values_choose_the_coding() {
    let server = start(Some(Compression::new()), Channel::new(1)).await;
    let cases: &[(&str, Option<&str>)] = &[
        ("gzip;q=0.5, br;q=0.9", Some("br")),
        ("gzip, deflate;q=0.1", Some("gzip")),
        ("deflate, gzip;q=0", Some("deflate")),
        ("zstd;q=0, *;q=0.3", Some("br")),
        ("gzip, deflate, br, zstd", Some("zstd")),
        ("identity", None),
        ("*;q=0", None),
        ("gzip;q=0.4, identity;q=0.9", None),
        ("identity;q=0, gzip;q=0.1", Some("gzip")),
        ("compress, snappy", None),
    ];
    for (accept, expected) in cases {
        let response = request(
            server.local_addr(),
            false,
            "GET",
            "/big",
            &[("accept-encoding", accept)],
        )
        .await;
        assert_eq!(
            header(&response, header::CONTENT_ENCODING),
            *expected,
            "{accept}"
        );
        let body = body_of(response).await;
        if expected.is_none() {
            assert_eq!(body, text(64 << 10), "{accept}");
        }
    }
    // Only the enabled codings are chosen.
    let gzip_only = start(
        Some(Compression::new().zstd(false).br(false).deflate(false)),
        Channel::new(1),
    )
    .await;
    let response = request(
        gzip_only.local_addr(),
        false,
        "GET",
        "/big",
        &[("accept-encoding", "zstd, br, gzip;q=0.2")],
    )
    .await;
    assert_eq!(header(&response, header::CONTENT_ENCODING), Some("gzip"));
    server.close().await.unwrap();
    gzip_only.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_left_alone() {
    let server = start(Some(Compression::new()), Channel::new(1)).await;
    let addr = server.local_addr();
    let gzip = [("accept-encoding", "gzip")];
    for h2 in [false, true] {
        // Small bodies.
        let response = request(addr, h2, "GET", "/small", &gzip).await;
        assert_eq!(header(&response, header::CONTENT_ENCODING), None);
        assert_eq!(header(&response, header::CONTENT_LENGTH), Some("100"));
        assert_eq!(body_of(response).await, text(100));
        // HEAD.
        let response = request(addr, h2, "HEAD", "/big", &gzip).await;
        assert_eq!(header(&response, header::CONTENT_ENCODING), None);
        // Already encoded.
        let response = request(addr, h2, "GET", "/encoded", &gzip).await;
        assert_eq!(header(&response, header::CONTENT_ENCODING), Some("x-mine"));
        assert_eq!(body_of(response).await, text(4096));
        // Event streams.
        let response = request(addr, h2, "GET", "/sse", &gzip).await;
        assert_eq!(header(&response, header::CONTENT_ENCODING), None);
        assert!(body_of(response).await.starts_with(b"data: xxx"));
        // Ranges.
        let response = request(
            addr,
            h2,
            "GET",
            "/file",
            &[gzip[0], ("range", "bytes=0-4999")],
        )
        .await;
        assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(header(&response, header::CONTENT_ENCODING), None);
        assert_eq!(body_of(response).await, text(5000));
        // The whole file is compressed.
        let response = request(addr, h2, "GET", "/file", &gzip).await;
        assert_eq!(header(&response, header::CONTENT_ENCODING), Some("gzip"));
        assert_eq!(header(&response, header::ACCEPT_RANGES), None);
        let decoded = Decoder::new("gzip").finish(&body_of(response).await).await;
        assert_eq!(decoded, text(10_000).as_bytes());
    }
    server.close().await.unwrap();
    // Off by default.
    let plain = start(None, Channel::new(1)).await;
    let response = request(plain.local_addr(), false, "GET", "/big", &gzip).await;
    assert_eq!(header(&response, header::CONTENT_ENCODING), None);
    assert_eq!(header(&response, header::VARY), None);
    assert_eq!(body_of(response).await, text(64 << 10));
    plain.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_streams_compressed_when_asked() {
    let server = start(
        Some(Compression::new().event_streams(true)),
        Channel::new(1),
    )
    .await;
    let response = request(
        server.local_addr(),
        false,
        "GET",
        "/sse",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(header(&response, header::CONTENT_ENCODING), Some("gzip"));
    let decoded = Decoder::new("gzip").finish(&body_of(response).await).await;
    assert_eq!(
        decoded,
        format!("data: {}\n\n", "x".repeat(5000)).as_bytes()
    );
    server.close().await.unwrap();
}

/// Each chunk the slow source produces is decodable on its own once it arrives: the test puts
/// a chunk only after the client has decoded the previous one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_bodies_are_flushed_per_chunk() {
    for h2 in [false, true] {
        for coding in ["gzip", "deflate", "br", "zstd"] {
            let chunks = Channel::new(1);
            let server = start(Some(Compression::new()), chunks.clone()).await;
            let response = request(
                server.local_addr(),
                h2,
                "GET",
                "/stream",
                &[("accept-encoding", coding)],
            )
            .await;
            assert_eq!(header(&response, header::CONTENT_ENCODING), Some(coding));
            let mut body = response.into_body();
            let mut decoder = Decoder::new(coding);
            for i in 0..5 {
                let chunk = format!("message {i}\n");
                weir::runtime::timeout(WAIT, chunks.put(chunk.clone()))
                    .await
                    .unwrap()
                    .unwrap();
                let mut decoded = Vec::new();
                while decoded.len() < chunk.len() {
                    let frame = weir::runtime::timeout(WAIT, body.frame())
                        .await
                        .unwrap()
                        .expect("the body ended early")
                        .unwrap();
                    if let Ok(data) = frame.into_data() {
                        decoded.extend(decoder.feed(&data).await);
                    }
                }
                assert_eq!(decoded, chunk.as_bytes(), "{coding} h2: {h2}");
            }
            chunks.close();
            let rest = weir::runtime::timeout(WAIT, body.collect())
                .await
                .unwrap()
                .unwrap()
                .to_bytes();
            assert!(decoder.finish(&rest).await.is_empty());
            server.close().await.unwrap();
        }
    }
}

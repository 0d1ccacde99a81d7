//! File responses: `Body::file` and `http::serve_file` with `Content-Length`, `Content-Type`,
//! single byte ranges (206/416), multi-range requests (200) and HEAD, checked with hyper's
//! client over HTTP/1.1 and h2c, raw bytes, and curl when it is installed.

mod support;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use weir::http::{self, Body, HttpVersion, Request, Response, ServerOptions, StatusCode, header};

const WAIT: Duration = Duration::from_secs(10);

/// A file of `len` bytes whose byte `i` is `i % 251`.
fn write_file(name: &str, len: usize) -> (PathBuf, Vec<u8>) {
    let path = std::env::temp_dir().join(format!("weir-test-{}-{name}", std::process::id()));
    let contents: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &contents).unwrap();
    (path, contents)
}

async fn start(path: PathBuf) -> http::Server {
    let handler = move |request: Request<Body>| {
        let path = path.clone();
        async move {
            match request.uri().path() {
                "/missing" => http::serve_file(&request, "/no/such/weir/file").await,
                "/body" => Ok(Response::new(Body::file(&path).await?)),
                _ => http::serve_file(&request, &path).await,
            }
        }
    };
    let options = ServerOptions::new()
        .address(([127, 0, 0, 1], 0))
        .http_versions([HttpVersion::Http1, HttpVersion::Http2])
        .use_h2c(true);
    http::start_server(handler, options).await.unwrap()
}

/// One request over a fresh connection, HTTP/1.1 or h2c; the head and the whole body.
async fn send(
    addr: SocketAddr,
    h2: bool,
    mut request: Request<Empty<Bytes>>,
) -> (hyper::http::response::Parts, Bytes) {
    if !h2 {
        // hyper's connection-level client adds no Host; HTTP/1.1 requires one.
        request
            .headers_mut()
            .insert(header::HOST, "127.0.0.1".parse().unwrap());
    }
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let io = TokioIo::new(stream);
        let response = if h2 {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                    .await
                    .unwrap();
            tokio::spawn(connection);
            sender.send_request(request).await.unwrap()
        } else {
            let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(connection);
            sender.send_request(request).await.unwrap()
        };
        let (parts, body) = response.into_parts();
        (parts, body.collect().await.unwrap().to_bytes())
    };
    weir::runtime::timeout(WAIT, exchange).await.unwrap()
}

fn get(path: &str, range: Option<&str>) -> Request<Empty<Bytes>> {
    let mut request = Request::get(format!("http://127.0.0.1{path}"));
    if let Some(range) = range {
        request = request.header(header::RANGE, range);
    }
    request.body(Empty::new()).unwrap()
}

fn header_of(parts: &hyper::http::response::Parts, name: header::HeaderName) -> &str {
    parts
        .headers
        .get(name)
        .map(|value| value.to_str().unwrap())
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whole_file_with_length_type_and_accept_ranges() {
    // Several 64 KiB chunks and a partial one.
    let (path, contents) = write_file("whole.json", 300_000);
    let server = start(path).await;
    for h2 in [false, true] {
        let (parts, body) = send(server.local_addr(), h2, get("/", None)).await;
        assert_eq!(parts.status, StatusCode::OK);
        assert_eq!(header_of(&parts, header::CONTENT_LENGTH), "300000");
        assert_eq!(header_of(&parts, header::ACCEPT_RANGES), "bytes");
        assert_eq!(header_of(&parts, header::CONTENT_TYPE), "application/json");
        assert_eq!(body, contents, "h2: {h2}");
    }
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_ranges_get_206_with_content_range() {
    let (path, contents) = write_file("ranges.bin", 100_000);
    let server = start(path).await;
    let cases = [
        ("bytes=0-0", 0, 0),
        ("bytes=10-19", 10, 19),
        ("bytes=99990-", 99_990, 99_999),
        ("bytes=-5", 99_995, 99_999),
        ("bytes=70000-999999", 70_000, 99_999),
        ("bytes=-200000", 0, 99_999),
    ];
    for h2 in [false, true] {
        for (range, start, end) in cases {
            let (parts, body) = send(server.local_addr(), h2, get("/", Some(range))).await;
            assert_eq!(parts.status, StatusCode::PARTIAL_CONTENT, "{range}");
            assert_eq!(
                header_of(&parts, header::CONTENT_RANGE),
                format!("bytes {start}-{end}/100000")
            );
            assert_eq!(
                header_of(&parts, header::CONTENT_LENGTH),
                (end - start + 1).to_string()
            );
            assert_eq!(body, contents[start..=end], "{range} h2: {h2}");
        }
    }
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsatisfiable_ranges_get_416_and_multi_ranges_the_whole_file() {
    let (path, contents) = write_file("416.bin", 1000);
    let server = start(path).await;
    for h2 in [false, true] {
        for range in ["bytes=1000-", "bytes=5000-6000", "bytes=-0"] {
            let (parts, body) = send(server.local_addr(), h2, get("/", Some(range))).await;
            assert_eq!(parts.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
            assert_eq!(header_of(&parts, header::CONTENT_RANGE), "bytes */1000");
            assert!(body.is_empty());
        }
        for range in ["bytes=0-1,5-6", "bytes=5-2", "lines=1-2", "bytes=x"] {
            let (parts, body) = send(server.local_addr(), h2, get("/", Some(range))).await;
            assert_eq!(parts.status, StatusCode::OK, "{range}");
            assert_eq!(body, contents);
        }
    }
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_sends_the_headers_and_no_body() {
    let (path, _) = write_file("head.txt", 5000);
    let server = start(path).await;
    for h2 in [false, true] {
        let request = Request::head("http://127.0.0.1/")
            .body(Empty::<Bytes>::new())
            .unwrap();
        let (parts, body) = send(server.local_addr(), h2, request).await;
        assert_eq!(parts.status, StatusCode::OK);
        assert_eq!(header_of(&parts, header::CONTENT_LENGTH), "5000");
        assert_eq!(
            header_of(&parts, header::CONTENT_TYPE),
            "text/plain; charset=utf-8"
        );
        assert!(body.is_empty());
    }
    // Raw bytes: nothing follows the head on the wire.
    let raw = async {
        let mut stream = tokio::net::TcpStream::connect(server.local_addr())
            .await
            .unwrap();
        stream
            .write_all(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        stream.read_to_end(&mut out).await.unwrap();
        out
    };
    let out = weir::runtime::timeout(WAIT, raw).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("content-length: 5000\r\n"), "{text}");
    assert!(text.ends_with("\r\n\r\n"), "{text}");
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_file_and_missing_files() {
    let (path, contents) = write_file("body.bin", 70_000);
    let server = start(path).await;
    for h2 in [false, true] {
        let (parts, body) = send(server.local_addr(), h2, get("/body", None)).await;
        assert_eq!(parts.status, StatusCode::OK);
        assert_eq!(header_of(&parts, header::CONTENT_LENGTH), "70000");
        assert_eq!(body, contents);
        let (parts, _) = send(server.local_addr(), h2, get("/missing", None)).await;
        assert_eq!(parts.status, StatusCode::NOT_FOUND);
    }
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_ranges() {
    if !support::http_peer::available("curl") {
        return;
    }
    let (path, contents) = write_file("curl.bin", 10_000);
    let server = start(path).await;
    let url = format!("http://{}/", server.local_addr());
    for flag in ["--http1.1", "--http2-prior-knowledge"] {
        let (flag_arg, url) = (flag.to_string(), url.clone());
        let output = weir::runtime::spawn_blocking(move || {
            std::process::Command::new("curl")
                .args(["-s", "--max-time", "10", &flag_arg, "-r", "100-199", &url])
                .output()
        });
        let output = weir::runtime::timeout(WAIT, output).await.unwrap().unwrap();
        assert!(output.status.success(), "{flag}");
        assert_eq!(output.stdout, contents[100..200], "{flag}");
    }
    server.close().await.unwrap();
}

fn with(path: &str, headers: &[(&str, &str)]) -> Request<Empty<Bytes>> {
    let mut request = Request::get(format!("http://127.0.0.1{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(Empty::new()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_requests_get_304_412_and_if_range() {
    let (path, contents) = write_file("conditional.txt", 2000);
    let server = start(path).await;
    let addr = server.local_addr();
    for h2 in [false, true] {
        let (first, body) = send(addr, h2, get("/", None)).await;
        assert_eq!(body, contents);
        let etag = header_of(&first, header::ETAG).to_string();
        let modified = header_of(&first, header::LAST_MODIFIED).to_string();
        assert!(etag.starts_with("\"7d0-") && etag.ends_with('"'), "{etag}");
        assert!(modified.ends_with(" GMT"), "{modified}");
        let earlier = httpdate::fmt_http_date(
            httpdate::parse_http_date(&modified).unwrap() - Duration::from_secs(60),
        );

        // The client's copy is current: 304, validators again, no body.
        let listed = format!("\"other\", W/{etag}");
        for headers in [
            vec![("if-none-match", etag.as_str())],
            vec![("if-none-match", listed.as_str())],
            vec![("if-none-match", "*")],
            vec![("if-modified-since", modified.as_str())],
        ] {
            let (parts, body) = send(addr, h2, with("/", &headers)).await;
            assert_eq!(
                parts.status,
                StatusCode::NOT_MODIFIED,
                "{headers:?} h2 {h2}"
            );
            assert_eq!(header_of(&parts, header::ETAG), etag);
            assert!(body.is_empty());
        }
        // Stale or other copies: the whole file.
        for headers in [
            vec![("if-none-match", "\"other\"")],
            vec![("if-modified-since", earlier.as_str())],
            vec![
                ("if-none-match", "\"other\""),
                ("if-modified-since", modified.as_str()),
            ],
        ] {
            let (parts, body) = send(addr, h2, with("/", &headers)).await;
            assert_eq!(parts.status, StatusCode::OK, "{headers:?}");
            assert_eq!(body, contents);
        }
        // Preconditions that fail: 412, no body.
        for headers in [
            vec![("if-match", "\"other\"")],
            vec![("if-unmodified-since", earlier.as_str())],
        ] {
            let (parts, body) = send(addr, h2, with("/", &headers)).await;
            assert_eq!(parts.status, StatusCode::PRECONDITION_FAILED, "{headers:?}");
            assert!(body.is_empty());
        }
        let (parts, _) = send(addr, h2, with("/", &[("if-match", etag.as_str())])).await;
        assert_eq!(parts.status, StatusCode::OK);

        // If-Range: the range while the validator holds, else the whole file.
        for (if_range, partial) in [
            (etag.as_str(), true),
            (modified.as_str(), true),
            ("\"other\"", false),
            (earlier.as_str(), false),
        ] {
            let headers = [("range", "bytes=10-19"), ("if-range", if_range)];
            let (parts, body) = send(addr, h2, with("/", &headers)).await;
            if partial {
                assert_eq!(parts.status, StatusCode::PARTIAL_CONTENT, "{if_range}");
                assert_eq!(body, contents[10..20]);
            } else {
                assert_eq!(parts.status, StatusCode::OK, "{if_range}");
                assert_eq!(body, contents);
            }
        }
    }
    server.close().await.unwrap();
}

/// curl's own conditional requests: `--etag-save`/`--etag-compare` (If-None-Match) and `-z`
/// (If-Modified-Since from a local file's time).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_revalidates_with_etag_and_time() {
    if !support::http_peer::available("curl") {
        return;
    }
    let (path, contents) = write_file("curl-etag.txt", 3000);
    let server = start(path.clone()).await;
    let url = format!("http://{}/", server.local_addr());
    let etag_file = std::env::temp_dir().join(format!("weir-test-{}-etag", std::process::id()));
    let etag_file = etag_file.to_str().unwrap().to_string();
    let path = path.to_str().unwrap().to_string();
    let curl = move |args: Vec<String>| async move {
        let output = weir::runtime::spawn_blocking(move || {
            std::process::Command::new("curl")
                .args(["-s", "--max-time", "10", "-w", "\n%{http_code}"])
                .args(args)
                .output()
        });
        let output = weir::runtime::timeout(WAIT, output).await.unwrap().unwrap();
        assert!(output.status.success());
        let text = output.stdout;
        let split = text.iter().rposition(|&b| b == b'\n').unwrap();
        (
            text[..split].to_vec(),
            String::from_utf8(text[split + 1..].to_vec()).unwrap(),
        )
    };
    for flag in ["--http1.1", "--http2-prior-knowledge"] {
        let s = |v: &str| v.to_string();
        let (body, code) = curl(vec![
            s(flag),
            s("--etag-save"),
            etag_file.clone(),
            url.clone(),
        ])
        .await;
        assert_eq!((body, code.as_str()), (contents.clone(), "200"), "{flag}");
        let (body, code) = curl(vec![
            s(flag),
            s("--etag-compare"),
            etag_file.clone(),
            url.clone(),
        ])
        .await;
        assert_eq!(
            (body.len(), code.as_str()),
            (0, "304"),
            "{flag} --etag-compare"
        );
        // The file's own time: not modified since.
        let (body, code) = curl(vec![s(flag), s("-z"), path.clone(), url.clone()]).await;
        assert_eq!((body.len(), code.as_str()), (0, "304"), "{flag} -z");
    }
    let _ = std::fs::remove_file(&etag_file);
    server.close().await.unwrap();
}

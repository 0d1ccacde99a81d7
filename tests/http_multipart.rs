//! Multipart request decoding: parts with names, file names, content types and bytes, over
//! HTTP/1.1 and h2c (hyper's client, bodies built by hand) and from curl `-F` when it is
//! installed; the limits (413) and malformed bodies (400).
#![cfg(feature = "multipart")]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use weir::http::multipart::{self, Limits};
use weir::http::{
    self, Body, HeaderValue, HttpVersion, Request, Response, ServerOptions, StatusCode, header,
};

const WAIT: Duration = Duration::from_secs(20);

/// Answers with one line per part: `name|filename|content type|size|fnv1a`.
async fn start(limits: Limits) -> http::Server {
    let handler = move |request: Request<Body>| {
        let limits = limits.clone();
        async move {
            let mut parts = multipart::parts(request, limits)?;
            let mut out = String::new();
            while let Some(part) = parts.take_next().await {
                let line = format!(
                    "{}|{}|{}|",
                    part.name().unwrap_or("-"),
                    part.filename().unwrap_or("-"),
                    part.content_type().unwrap_or("-"),
                );
                let bytes = part.to_bytes(64 << 20).await?;
                out.push_str(&format!("{line}{}|{:016x}\n", bytes.len(), fnv1a(&bytes)));
            }
            weir::stream::Source::drained(&parts).await?;
            let mut response = Response::new(Body::from(out));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            Ok::<_, weir::Error>(response)
        }
    };
    let options = ServerOptions::new()
        .address(([127, 0, 0, 1], 0))
        .http_versions([HttpVersion::Http1, HttpVersion::Http2])
        .use_h2c(true);
    http::start_server(handler, options).await.unwrap()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A part: name, optional file name and content type, contents.
type PartSpec<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [u8]);

fn build(boundary: &str, parts: &[PartSpec<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, content_type, contents) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
        if let Some(filename) = filename {
            disposition.push_str(&format!("; filename=\"{filename}\""));
        }
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(content_type) = content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(contents);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    body
}

fn expected(parts: &[PartSpec<'_>]) -> String {
    parts
        .iter()
        .map(|(name, filename, content_type, contents)| {
            format!(
                "{name}|{}|{}|{}|{:016x}\n",
                filename.unwrap_or("-"),
                content_type.unwrap_or("-"),
                contents.len(),
                fnv1a(contents)
            )
        })
        .collect()
}

async fn post(
    addr: SocketAddr,
    h2: bool,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, String) {
    let mut request = Request::post("http://127.0.0.1/upload")
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    if !h2 {
        // hyper's connection-level client adds no Host; HTTP/1.1 requires one.
        request
            .headers_mut()
            .insert(header::HOST, "127.0.0.1".parse().unwrap());
    }
    let exchange = async {
        let io = TokioIo::new(tokio::net::TcpStream::connect(addr).await.unwrap());
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
        let status = response.status();
        // A refused upload may be cut off: read what comes.
        let body = match response.into_body().collect().await {
            Ok(body) => String::from_utf8_lossy(&body.to_bytes()).into_owned(),
            Err(_) => String::new(),
        };
        (status, body)
    };
    weir::runtime::timeout(WAIT, exchange).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_over_http1_and_h2() {
    let server = start(Limits::new()).await;
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 253) as u8).collect();
    let parts: &[PartSpec<'_>] = &[
        ("title", None, None, b"hello"),
        (
            "file",
            Some("a.txt"),
            Some("text/plain"),
            b"file contents\r\nwith a CRLF",
        ),
        (
            "empty",
            Some("e.bin"),
            Some("application/octet-stream"),
            b"",
        ),
        (
            "big",
            Some("big.bin"),
            Some("application/octet-stream"),
            &big,
        ),
    ];
    let body = build("weir-boundary-1234", parts);
    for h2 in [false, true] {
        let (status, text) = post(
            server.local_addr(),
            h2,
            "multipart/form-data; boundary=weir-boundary-1234",
            body.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert_eq!(text, expected(parts), "h2: {h2}");
    }
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_give_413() {
    let limits = Limits::new()
        .max_parts(2)
        .max_part_size(1000)
        .max_total_size(1500);
    let server = start(limits).await;
    let content_type = "multipart/form-data; boundary=B";
    let too_many = build(
        "B",
        &[
            ("a", None, None, b"1"),
            ("b", None, None, b"2"),
            ("c", None, None, b"3"),
        ],
    );
    let too_big = build("B", &[("a", None, None, &[b'x'; 1001])]);
    let too_much = build(
        "B",
        &[
            ("a", None, None, &[b'x'; 900]),
            ("b", None, None, &[b'x'; 900]),
        ],
    );
    let fine = build(
        "B",
        &[("a", None, None, &[b'x'; 1000]), ("b", None, None, b"2")],
    );
    for h2 in [false, true] {
        for body in [&too_many, &too_big, &too_much] {
            let (status, _) = post(server.local_addr(), h2, content_type, body.clone()).await;
            assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "h2: {h2}");
        }
        let (status, _) = post(server.local_addr(), h2, content_type, fine.clone()).await;
        assert_eq!(status, StatusCode::OK);
    }
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_give_400() {
    let server = start(Limits::new()).await;
    let mut unterminated = build("B", &[("a", None, None, b"contents")]);
    unterminated.truncate(unterminated.len() - 10);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("text/plain", b"not multipart".to_vec()),
        (
            "multipart/form-data",
            build("B", &[("a", None, None, b"1")]),
        ),
        ("multipart/form-data; boundary=B", unterminated),
        (
            "multipart/form-data; boundary=B",
            b"garbage without a boundary".to_vec(),
        ),
        (
            "multipart/form-data; boundary=B",
            b"--B\r\nContent-Disposition form-data\r\n\r\nx\r\n--B--\r\n".to_vec(),
        ),
    ];
    for h2 in [false, true] {
        for (content_type, body) in &cases {
            let (status, text) = post(server.local_addr(), h2, content_type, body.clone()).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{content_type} {text} h2: {h2}"
            );
        }
    }
    server.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_form_uploads() {
    if !support::http_peer::available("curl") {
        return;
    }
    let server = start(Limits::new()).await;
    let file = std::env::temp_dir().join(format!("weir-test-{}-upload.txt", std::process::id()));
    let contents = "uploaded by curl\n".repeat(1000);
    std::fs::write(&file, &contents).unwrap();
    let url = format!("http://{}/upload", server.local_addr());
    for flag in ["--http1.1", "--http2-prior-knowledge"] {
        let args = vec![
            "-s".to_string(),
            "--max-time".to_string(),
            "10".to_string(),
            flag.to_string(),
            "-F".to_string(),
            "title=hello".to_string(),
            "-F".to_string(),
            format!("doc=@{};type=text/plain", file.display()),
            url.clone(),
        ];
        let output = weir::runtime::spawn_blocking(move || {
            std::process::Command::new("curl").args(&args).output()
        });
        let output = weir::runtime::timeout(WAIT, output).await.unwrap().unwrap();
        assert!(output.status.success(), "{flag}");
        let filename = file.file_name().unwrap().to_str().unwrap();
        let expected = format!(
            "title|-|-|5|{:016x}\ndoc|{filename}|text/plain|{}|{:016x}\n",
            fnv1a(b"hello"),
            contents.len(),
            fnv1a(contents.as_bytes())
        );
        assert_eq!(
            String::from_utf8(output.stdout).unwrap(),
            expected,
            "{flag}"
        );
    }
    server.close().await.unwrap();
}

#[test]
fn a_dropped_part_is_skipped_and_a_failing_body_passes_its_error_on() {
    weir::runtime::block_on(async {
        let big = vec![b'x'; 200_000];
        let body = build(
            "B",
            &[("skipped", None, None, &big), ("read", None, None, b"kept")],
        );
        let request = Request::post("/")
            .header(header::HOST, "127.0.0.1")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B")
            .body(Body::from(body))
            .unwrap();
        let mut parts = multipart::parts(request, Limits::new()).unwrap();
        let first = weir::runtime::timeout(WAIT, parts.take_next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.name(), Some("skipped"));
        drop(first);
        let second = weir::runtime::timeout(WAIT, parts.take_next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.name(), Some("read"));
        assert_eq!(second.to_bytes(64).await.unwrap(), "kept");

        // A request body that fails midway: its error is the parts' error.
        let chunks = weir::stream::Channel::new(4);
        chunks
            .put(Bytes::from_static(
                b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nsome",
            ))
            .await
            .unwrap();
        chunks.close_with_error(weir::Error::from(http::HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too big",
        )));
        let request = Request::post("/")
            .header(header::HOST, "127.0.0.1")
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=B")
            .body(Body::from_source(chunks))
            .unwrap();
        let mut parts = multipart::parts(request, Limits::new()).unwrap();
        // multer reads ahead, so the error may come before the part or inside it.
        if let Some(part) = weir::runtime::timeout(WAIT, parts.take_next())
            .await
            .unwrap()
        {
            let error = weir::runtime::timeout(WAIT, part.to_bytes(1024))
                .await
                .unwrap()
                .unwrap_err();
            assert_eq!(
                http::HttpError::status_of(&error),
                Some(StatusCode::PAYLOAD_TOO_LARGE)
            );
        }
        let drained = weir::runtime::timeout(WAIT, weir::stream::Source::drained(&parts))
            .await
            .unwrap();
        assert_eq!(
            http::HttpError::status_of(&drained.unwrap_err()),
            Some(StatusCode::PAYLOAD_TOO_LARGE)
        );
    });
}

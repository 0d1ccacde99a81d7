//! An HTTP server with fixed routes, for tests, tools and benchmarks to drive.
//!
//! ```text
//! cargo run --release --example http_server -- --port P [--tls] [--h2c] [--http1-only]
//! ```
//!
//! Prints `listening on 127.0.0.1:P` once ready and runs until killed. With `--tls` it serves
//! HTTPS with a self-signed certificate for `localhost` and `127.0.0.1`, offering h2 and
//! http/1.1 by ALPN, and first prints `certificate <path>` (the PEM to trust). `--h2c` also
//! accepts HTTP/2 with prior knowledge on a cleartext port. `--http1-only` turns HTTP/2 off
//! (ALPN offers only http/1.1).
//!
//! Routes:
//! - `GET /` -> `hello!` (text/plain)
//! - `POST /echo` -> the request body back, with its content type
//! - `GET /stream?n=N&ms=M` -> N chunks `chunk i\n`, M ms apart
//! - `GET /sse?n=N` -> N server-sent events `data: event i`
//! - `GET /delay?ms=M` -> `hello!` after M ms, through a deferred
//! - `GET /status/CODE` -> an empty response with that status
//! - `GET /headers` -> the request headers as a JSON object
//! - `GET /trailers` -> a body followed by a trailer `x-checksum` (FNV-1a of the body, hex)
//! - `POST /upload` -> a JSON array of `{name, filename, content_type, size}`, one per part of
//!   the `multipart/form-data` body
//! - `GET /file` -> a 1 MiB file written at start into the temp dir (byte `i` is `i % 251`),
//!   `application/octet-stream`, single `Range` requests answered with 206
//! - `GET /gzip` -> 64 KiB of compressible text (`text/plain`), compressed (gzip, deflate, br
//!   or zstd) when `Accept-Encoding` asks for it
//! - `GET /ws` -> a WebSocket echo (permessage-deflate when the client offers it); a 400
//!   `expected websocket request` for a request that is not an upgrade

use std::process::ExitCode;
use std::time::Duration;

use weir::http::{
    self, Body, Compression, HeaderMap, HeaderValue, HttpError, HttpVersion, Request, Response,
    ServerOptions, StatusCode, header,
};
use weir::http::{multipart, sse};
use weir::stream::{self, ConnectOptions, Source, SourceExt};
use weir::ws::{self, DeflateOptions, WebSocketOptions};
use weir::{Deferred, Error};

fn main() -> ExitCode {
    let mut port: Option<u16> = None;
    let (mut tls, mut h2c, mut http1_only) = (false, false, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = Some(p),
                None => return usage("--port needs a port number"),
            },
            "--tls" => tls = true,
            "--h2c" => h2c = true,
            "--http1-only" => http1_only = true,
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    let Some(port) = port else {
        return usage("--port is required");
    };
    if h2c && http1_only {
        return usage("--h2c and --http1-only exclude each other");
    }
    weir::runtime::block_on(async {
        let mut options = ServerOptions::new().address(([127, 0, 0, 1], port));
        options = if http1_only {
            options.http_versions([HttpVersion::Http1])
        } else {
            options.http_versions([HttpVersion::Http2, HttpVersion::Http1])
        };
        if h2c {
            options = options.use_h2c(true);
        }
        if tls {
            let certificate = match weir::tls::self_signed(&["localhost", "127.0.0.1"]) {
                Ok(certificate) => certificate,
                Err(error) => {
                    eprintln!("http_server: {error}");
                    return ExitCode::FAILURE;
                }
            };
            let path = std::env::temp_dir().join(format!("weir-http-server-{port}.pem"));
            if let Err(error) = std::fs::write(&path, certificate.certificate_pem()) {
                eprintln!("http_server: could not write {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
            println!("certificate {}", path.display());
            options = options.tls(certificate.server_config());
        }
        let file =
            std::env::temp_dir().join(format!("weir-http-server-{}.bin", std::process::id()));
        let contents: Vec<u8> = (0..FILE_SIZE).map(|i| (i % 251) as u8).collect();
        if let Err(error) = std::fs::write(&file, contents) {
            eprintln!("http_server: could not write {}: {error}", file.display());
            return ExitCode::FAILURE;
        }
        let _ = FILE.set(file);
        let server = match http::start_server(route, options).await {
            Ok(server) => server,
            Err(error) => {
                eprintln!("http_server: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("listening on {}", server.local_addr());
        let _ = server.wait_for_close().await;
        ExitCode::SUCCESS
    })
}

/// The size of `/file`.
const FILE_SIZE: usize = 1 << 20;

/// Where `/file` lives.
static FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();

/// Every route; the `async` block lets the echo read its body.
fn route(request: Request<Body>) -> Deferred<Response<Body>, Error> {
    let path = request.uri().path().to_string();
    let query = Query::parse(request.uri().query());
    match (request.method().as_str(), path.as_str()) {
        ("GET", "/") => ready(text("hello!")),
        ("GET", "/ws") => Deferred::spawn(async move {
            let mut request = request;
            let options = WebSocketOptions::new().compression(DeflateOptions::new());
            let socket = ws::websocket_connection(&mut request, options)
                .await
                .map_err(|_| {
                    HttpError::new(StatusCode::BAD_REQUEST, "expected websocket request")
                })?;
            stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
            http::IntoResponse::into_response(socket)
        }),
        ("POST", "/echo") => Deferred::spawn(async move {
            let content_type = request.headers().get(header::CONTENT_TYPE).cloned();
            let body = request.into_body().to_bytes(64 << 20).await?;
            let mut response = Response::new(Body::from(body));
            if let Some(content_type) = content_type {
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, content_type);
            }
            Ok(response)
        }),
        ("GET", "/stream") => {
            let n = query.number("n", 10);
            let ms = query.number("ms", 0);
            let chunks = stream::periodically(Duration::from_millis(ms.max(1)), {
                let mut i = 0;
                move || {
                    let chunk = format!("chunk {i}\n");
                    i += 1;
                    Ok::<_, Error>(chunk)
                }
            })
            .transform(stream::xform::take(n as usize));
            let mut response = Response::new(Body::from_source(chunks));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            ready(response)
        }
        ("GET", "/sse") => {
            let n = query.number("n", 10);
            let events = stream::iter(0..n).map_each(|i| sse::Event::from(format!("event {i}")));
            ready(sse::response(events))
        }
        ("POST", "/upload") => Deferred::spawn(async move {
            let mut parts = multipart::parts(request, multipart::Limits::new())?;
            let mut listed = Vec::new();
            while let Some(mut part) = parts.take_next().await {
                let mut size = 0;
                while let Some(chunk) = part.chunk().await {
                    size += chunk.len();
                }
                part.drained().await?;
                listed.push(serde_json::json!({
                    "name": part.name(),
                    "filename": part.filename(),
                    "content_type": part.content_type(),
                    "size": size,
                }));
            }
            parts.drained().await?;
            let mut response =
                Response::new(Body::from(serde_json::Value::Array(listed).to_string()));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }),
        ("GET", "/file") | ("HEAD", "/file") => match FILE.get() {
            Some(file) => http::serve_file(&request, file),
            None => Deferred::failed(HttpError::new(StatusCode::NOT_FOUND, "no file").into()),
        },
        ("GET", "/gzip") => {
            let line = "weir compresses this line when the client asks for it.\n";
            let text = line.repeat((64 << 10) / line.len() + 1)[..64 << 10].to_string();
            let mut response = Response::new(Body::from(text));
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            ready(Compression::new().compress(&request, response))
        }
        ("GET", "/delay") => {
            let ms = query.number("ms", 100);
            let answer = Deferred::new();
            let realizer = answer.realizer();
            weir::runtime::spawn(async move {
                weir::runtime::sleep(Duration::from_millis(ms)).await;
                realizer.success(text("hello!"));
            })
            .detach();
            answer
        }
        ("GET", "/headers") => {
            let mut object = serde_json::Map::new();
            for (name, value) in request.headers() {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                object.insert(name.as_str().to_string(), serde_json::Value::String(value));
            }
            let mut response =
                Response::new(Body::from(serde_json::Value::Object(object).to_string()));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            ready(response)
        }
        ("GET", "/trailers") => {
            let body = "a body with a checksum in its trailers\n";
            let mut trailers = HeaderMap::new();
            let checksum = format!("{:016x}", fnv1a(body.as_bytes()));
            trailers.insert("x-checksum", HeaderValue::from_str(&checksum).expect("hex"));
            let mut response = Response::new(
                Body::from_source(stream::iter(vec![body]))
                    .with_trailers(Deferred::succeeded(trailers)),
            );
            response
                .headers_mut()
                .insert(header::TRAILER, HeaderValue::from_static("x-checksum"));
            ready(response)
        }
        ("GET", status) if status.starts_with("/status/") => {
            match status["/status/".len()..]
                .parse::<u16>()
                .ok()
                .and_then(|code| StatusCode::from_u16(code).ok())
            {
                Some(status) => {
                    let mut response = Response::new(Body::empty());
                    *response.status_mut() = status;
                    ready(response)
                }
                None => Deferred::failed(
                    HttpError::new(StatusCode::BAD_REQUEST, "bad status code").into(),
                ),
            }
        }
        _ => Deferred::failed(HttpError::new(StatusCode::NOT_FOUND, "no such route").into()),
    }
}

fn ready(response: Response<Body>) -> Deferred<Response<Body>, Error> {
    Deferred::succeeded(response)
}

fn text(body: &'static str) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}

/// FNV-1a, 64 bits: a checksum the tests can recompute.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The query string's pairs.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: Option<&str>) -> Query {
        Query(
            query
                .unwrap_or("")
                .split('&')
                .filter_map(|pair| {
                    pair.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                })
                .collect(),
        )
    }

    fn number(&self, name: &str, default: u64) -> u64 {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(default)
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("http_server: {problem}\nusage: http_server --port P [--tls] [--h2c] [--http1-only]");
    ExitCode::from(2)
}

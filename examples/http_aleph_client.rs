//! The client halves of Aleph's `http` and `http2` examples in weir, each against a server this
//! example starts on loopback:
//!
//! - `http::get` and the body as a string (Aleph's `@(http/get url)` and `bs/to-string`);
//! - the same request composed with `Deferred::chain` and `map` (Aleph's `d/chain`);
//! - query parameters (`:query-params`) and a streamed body read as a source of lines
//!   (`bs/to-line-seq`);
//! - a connection pool of one's own (`http/connection-pool`), the body taken chunk by chunk and
//!   reduced (the example's raw-stream pool with `s/map` and `s/reduce`);
//! - the HTTP/2 pool: `http_versions([Http2, Http1])` over TLS against a server speaking h2 and
//!   http/1.1 with compression on; the client trusts the server's self-signed certificate
//!   (where Aleph's example turns verification off) and decompresses what it is sent (where
//!   Aleph's example picks a decompressor by hand);
//! - the mutual-TLS client: a server that requires a client certificate, a client presenting
//!   one (its chain is in the server's `RequestInfo`), and the same client without one refused.
//!
//! ```text
//! cargo run --example http_aleph_client
//! ```
//!
//! Prints one line per check and exits 1 if one failed.

#[path = "aleph/numbers.rs"]
mod numbers;

use std::process::ExitCode;
use std::time::Duration;

use weir::http::client::ResponseExt;
use weir::http::{
    self, Body, Client, ClientOptions, ClientRequest, Compression, HttpVersion, Method, Request,
    RequestInfo, Response, ServerOptions, StatusCode,
};
use weir::stream::SourceExt;
use weir::{Deferred, Error};

/// Bounds every check: a hang fails the example instead of holding it.
const LIMIT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    weir::runtime::block_on(async {
        let mut passed = true;
        let checks: [(&str, Check); 6] = [
            ("GET, the body as a string", Box::pin(get_as_string())),
            (
                "the request composed with chain and map",
                Box::pin(chained()),
            ),
            (
                "query parameters, a streamed body as lines",
                Box::pin(lines()),
            ),
            (
                "a pool of its own, the body reduced by chunk",
                Box::pin(own_pool()),
            ),
            (
                "the HTTP/2 pool over TLS, decompressed",
                Box::pin(http2_pool()),
            ),
            (
                "mutual TLS: with a client certificate, and without",
                Box::pin(mutual_tls()),
            ),
        ];
        for (what, check) in checks {
            let outcome = match weir::runtime::timeout(LIMIT, check).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {LIMIT:?}")),
            };
            match outcome {
                Ok(seen) => println!("ok   {what}: {seen}"),
                Err(why) => {
                    passed = false;
                    println!("FAIL {what}: {why}");
                }
            }
        }
        if passed {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}

type Check = std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>>>>;

/// The routes of Aleph's `http` example the client halves ask.
fn handler(request: Request<Body>) -> Deferred<Response<Body>, Error> {
    match (request.method().clone(), request.uri().path()) {
        (Method::GET, "/hello") => Deferred::succeeded(Response::new(Body::from("hello world"))),
        (Method::GET, "/numbers") => numbers::numbers(&request, Duration::from_millis(10)),
        (Method::GET, "/text") => {
            // Compressible: the HTTP/2 server compresses it when asked.
            let text = "Manifold streams, Aleph servers. ".repeat(2000);
            Deferred::succeeded(
                Response::builder()
                    .header("content-type", "text/plain")
                    .body(Body::from(text))
                    .expect("a valid response"),
            )
        }
        (Method::GET, "/whoami") => {
            let info = request.extensions().get::<RequestInfo>();
            let certificates = info
                .and_then(|info| info.connection().peer_certificates())
                .map_or(0, |chain| chain.len());
            Deferred::succeeded(Response::new(Body::from(format!(
                "{certificates} client certificate(s)"
            ))))
        }
        _ => Deferred::failed(http::HttpError::new(StatusCode::NOT_FOUND, "no such route").into()),
    }
}

fn loopback() -> ServerOptions {
    ServerOptions::new().address(([127, 0, 0, 1], 0))
}

async fn plain_server() -> Result<http::Server, String> {
    http::start_server(handler, loopback())
        .await
        .map_err(|e| e.to_string())
}

fn failed(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// `@(http/get "http://localhost:10000/hello")`, then `bs/to-string` of the body.
async fn get_as_string() -> Result<String, String> {
    let server = plain_server().await?;
    let url = format!("http://{}/hello", server.local_addr());
    let response = http::get(&url).await.map_err(failed)?;
    let status = response.status();
    let text = response.text(1 << 20).await.map_err(failed)?;
    server.close().await.map_err(failed)?;
    if status == StatusCode::OK && text == "hello world" {
        Ok(format!("{status} {text:?}"))
    } else {
        Err(format!("{status} {text:?}"))
    }
}

/// `(d/chain (http/get url) :body bs/to-string)`: the deferred composed, nothing awaited
/// until the end.
async fn chained() -> Result<String, String> {
    let server = plain_server().await?;
    let url = format!("http://{}/hello", server.local_addr());
    let length: Deferred<usize, Error> = http::get(&url)
        .chain(|response| Deferred::spawn(response.text(1 << 20)))
        .map(|text| text.len());
    let length = length.await.map_err(failed)?;
    server.close().await.map_err(failed)?;
    if length == "hello world".len() {
        Ok(format!("{length} characters"))
    } else {
        Err(format!("{length} characters"))
    }
}

/// `(http/get url {:query-params {"count" 5}})`, the body through `bs/to-line-seq`.
async fn lines() -> Result<String, String> {
    let server = plain_server().await?;
    let request = ClientRequest::new(
        Method::GET,
        format!("http://{}/numbers", server.local_addr()),
    )
    .query([("count", "5")]);
    let response = http::request(request).await.map_err(failed)?;
    let lines: Vec<String> = response
        .lines(1024)
        .reduce(Vec::new(), |mut all, line| {
            all.push(line);
            all
        })
        .await
        .map_err(failed)?;
    server.close().await.map_err(failed)?;
    if lines == ["0", "1", "2", "3", "4"] {
        Ok(lines.join(" "))
    } else {
        Err(format!("{lines:?}"))
    }
}

/// `(http/connection-pool {:connections-per-host 4 ...})`: a client of one's own, and the body
/// taken as the chunks it came in, reduced to a byte count (the raw-stream pool's `s/reduce`).
async fn own_pool() -> Result<String, String> {
    let server = plain_server().await?;
    let client = Client::with_options(
        ClientOptions::new()
            .connections_per_host(4)
            .idle_timeout(Some(Duration::from_secs(5))),
    );
    let url = format!("http://{}/text", server.local_addr());
    let mut total = 0;
    for _ in 0..3 {
        let response = client.get(&url).await.map_err(failed)?;
        total += response
            .into_body()
            .reduce(0usize, |sum, chunk| sum + chunk.len())
            .await
            .map_err(failed)?;
    }
    let connects: u64 = client.stats().iter().map(|host| host.connects).sum();
    server.close().await.map_err(failed)?;
    if total == 3 * 66_000 && connects == 1 {
        Ok(format!("{total} bytes over {connects} pooled connection"))
    } else {
        Err(format!("{total} bytes over {connects} connections"))
    }
}

/// Aleph's `http2` example: a server with `:http-versions [:http2 :http1]` and compression
/// on, a client pool preferring HTTP/2 by ALPN, the response decompressed for the caller.
async fn http2_pool() -> Result<String, String> {
    let certificate = weir::tls::self_signed(&["localhost"]).map_err(failed)?;
    let options = loopback()
        .http_versions([HttpVersion::Http2, HttpVersion::Http1])
        .tls(certificate.server_config())
        .compression(Compression::new());
    let server = http::start_server(handler, options).await.map_err(failed)?;
    let tls = certificate
        .client_config_builder()
        .server_name("localhost")
        .build()
        .map_err(failed)?;
    let client = Client::with_options(
        ClientOptions::new()
            .http_versions([HttpVersion::Http2, HttpVersion::Http1])
            .tls(tls),
    );
    let url = format!("https://{}/text", server.local_addr());
    let response = client.get(&url).await.map_err(failed)?;
    let version = response.version();
    // The client took the encoding off; the trace of what was sent stays readable.
    let encoding = response
        .headers()
        .get("content-encoding")
        .map(|value| value.to_str().unwrap_or("?").to_string());
    let text = response.text(1 << 20).await.map_err(failed)?;
    server.close().await.map_err(failed)?;
    let expected = "Manifold streams, Aleph servers. ".repeat(2000);
    if version == http::Version::HTTP_2 && text == expected && encoding.is_none() {
        Ok(format!("{version:?}, {} bytes decompressed", text.len()))
    } else {
        Err(format!(
            "{version:?}, {} bytes, content-encoding {encoding:?}",
            text.len()
        ))
    }
}

/// Aleph's mutual-TLS client: the server requires a certificate its CA list trusts.
async fn mutual_tls() -> Result<String, String> {
    let server_certificate = weir::tls::self_signed(&["localhost"]).map_err(failed)?;
    let client_certificate = weir::tls::self_signed(&["client.example"]).map_err(failed)?;
    let config = server_certificate
        .server_config_builder()
        .require_client_auth(client_certificate.certificate_pem())
        .build()
        .map_err(failed)?;
    let server = http::start_server(handler, loopback().tls(config))
        .await
        .map_err(failed)?;
    let url = format!("https://{}/whoami", server.local_addr());
    let with_certificate = server_certificate
        .client_config_builder()
        .server_name("localhost")
        .client_certificate_pem(
            client_certificate.certificate_pem(),
            client_certificate.private_key_pem(),
        )
        .build()
        .map_err(failed)?;
    let client = Client::with_options(ClientOptions::new().tls(with_certificate));
    let text = client
        .get(&url)
        .await
        .map_err(failed)?
        .text(1024)
        .await
        .map_err(failed)?;
    let without_certificate = server_certificate
        .client_config_builder()
        .server_name("localhost")
        .build()
        .map_err(failed)?;
    let refused = Client::with_options(ClientOptions::new().tls(without_certificate))
        .get(&url)
        .await;
    server.close().await.map_err(failed)?;
    match refused {
        Ok(response) => Err(format!(
            "answered {} without a client certificate",
            response.status()
        )),
        Err(error) if text == "1 client certificate(s)" => Ok(format!("{text}; without: {error}")),
        Err(_) => Err(format!("with a certificate the server saw {text:?}")),
    }
}

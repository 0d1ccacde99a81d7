//! Aleph's `http2` example in weir: the handlers of the `http` example served over TLS, with
//! HTTP/2 chosen by ALPN (h2 first, then http/1.1) and a self-signed certificate.
//!
//! ```text
//! cargo run --example http2 -- [--port P] [--self-test]
//! ```
//!
//! Prints `certificate <path>` (the PEM a client should trust: `curl --cacert <path> --http2
//! https://localhost:P/hello`), then `listening on 127.0.0.1:P` once ready (port 8443 by
//! default, 0 picks a free one) and serves until killed. With `--self-test` it picks a free
//! port, asks each route through the h2 crate's client over TLS (ALPN `h2`, trusting the
//! certificate), prints one line per check, closes the server and exits (status 1 if a check
//! failed).
//!
//! Routes (as `http_aleph`):
//! - `GET /hello` -> `hello world`
//! - `GET /delayed_hello` -> `hello world` one second later, through a deferred
//! - `GET /numbers?count=N` -> the numbers 0 to N-1, one a line, one every 100 ms (each one a
//!   DATA frame sent as it is made)
//! - `POST /echo` -> the request body back

#[path = "aleph/numbers.rs"]
mod numbers;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio_util::compat::FuturesAsyncReadCompatExt;
use weir::http::{
    self, Body, HttpVersion, Method, Request, RequestInfo, Response, ServerOptions, StatusCode,
};
use weir::tls::{self, SelfSigned};
use weir::{Deferred, Error};

fn main() -> ExitCode {
    let mut port = 8443;
    let mut self_test = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => return usage("--port needs a port number"),
            },
            "--self-test" => self_test = true,
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    if self_test {
        port = 0;
    }
    let certificate = match tls::self_signed(&["localhost", "127.0.0.1"]) {
        Ok(certificate) => certificate,
        Err(error) => {
            eprintln!("http2: {error}");
            return ExitCode::FAILURE;
        }
    };
    let path = std::env::temp_dir().join(format!("weir-http2-example-{}.pem", std::process::id()));
    if let Err(error) = std::fs::write(&path, certificate.certificate_pem()) {
        eprintln!("http2: could not write {}: {error}", path.display());
        return ExitCode::FAILURE;
    }
    println!("certificate {}", path.display());
    weir::runtime::block_on(async {
        // The ALPN list comes from the versions, in this order: h2, then http/1.1.
        let options = ServerOptions::new()
            .address(([127, 0, 0, 1], port))
            .tls(certificate.server_config())
            .http_versions([HttpVersion::Http2, HttpVersion::Http1]);
        let server = match http::start_server(handler, options).await {
            Ok(server) => server,
            Err(error) => {
                eprintln!("http2: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("listening on {}", server.local_addr());
        if !self_test {
            let _ = server.wait_for_close().await;
            return ExitCode::SUCCESS;
        }
        let passed = check_all(server.local_addr(), &certificate).await;
        let _ = server.close().await;
        let _ = std::fs::remove_file(&path);
        if passed {
            println!("self-test passed");
            ExitCode::SUCCESS
        } else {
            println!("self-test FAILED");
            ExitCode::FAILURE
        }
    })
}

/// The handlers of Aleph's example; `/hello` also says which protocol and stream it came on.
fn handler(request: Request<Body>) -> Deferred<Response<Body>, Error> {
    match (request.method().clone(), request.uri().path()) {
        (Method::GET, "/hello") => {
            let mut response = Response::new(Body::from("hello world"));
            let info = request.extensions().get::<RequestInfo>();
            if let Some(id) = info.and_then(RequestInfo::stream_id) {
                let id = http::HeaderValue::from(id);
                response.headers_mut().insert("x-stream-id", id);
            }
            Deferred::succeeded(response)
        }
        (Method::GET, "/delayed_hello") => Deferred::new()
            .timeout_with(Duration::from_secs(1), "hello world")
            .map(|text| Response::new(Body::from(text))),
        (Method::GET, "/numbers") => numbers::numbers(&request, Duration::from_millis(100)),
        (Method::POST, "/echo") => Deferred::spawn(async move {
            let body = request.into_body().to_bytes(16 << 20).await?;
            Ok(Response::new(Body::from(body)))
        }),
        _ => Deferred::failed(http::HttpError::new(StatusCode::NOT_FOUND, "no such route").into()),
    }
}

/// Asks every route over one HTTP/2 connection; whether all answered as they should.
async fn check_all(addr: SocketAddr, certificate: &SelfSigned) -> bool {
    let mut passed = true;
    let mut check = |what: &str, outcome: Result<(), String>| match outcome {
        Ok(()) => println!("ok   {what}"),
        Err(why) => {
            passed = false;
            println!("FAIL {what}: {why}");
        }
    };
    let client = match connect(addr, certificate).await {
        Ok(client) => {
            check("TLS with ALPN agreed on h2", Ok(()));
            client
        }
        Err(why) => {
            check("TLS with ALPN agreed on h2", Err(why));
            return false;
        }
    };
    check(
        "GET /hello answers hello world on stream 1",
        match request(&client, Method::GET, "/hello", "").await {
            Ok((StatusCode::OK, headers, body))
                if body == "hello world"
                    && headers.get("x-stream-id").is_some_and(|id| id == "1") =>
            {
                Ok(())
            }
            other => Err(format!("got {other:?}")),
        },
    );
    let started = Instant::now();
    let delayed = request(&client, Method::GET, "/delayed_hello", "").await;
    check(
        "GET /delayed_hello answers after the deferred's timeout",
        expect(delayed, "hello world").and_then(|()| {
            let elapsed = started.elapsed();
            if elapsed >= Duration::from_millis(900) {
                Ok(())
            } else {
                Err(format!("answered after only {elapsed:?}"))
            }
        }),
    );
    check(
        "GET /numbers?count=5 streams 0 to 4",
        expect(
            request(&client, Method::GET, "/numbers?count=5", "").await,
            "0\n1\n2\n3\n4\n",
        ),
    );
    check(
        "POST /echo sends the body back",
        expect(
            request(&client, Method::POST, "/echo", "echo over h2").await,
            "echo over h2",
        ),
    );
    passed
}

type Answer = Result<(StatusCode, http::HeaderMap, Bytes), String>;

fn expect(answer: Answer, body: &str) -> Result<(), String> {
    match answer {
        Ok((StatusCode::OK, _, got)) if got == body => Ok(()),
        other => Err(format!("expected 200 {body:?}, got {other:?}")),
    }
}

/// An HTTP/2 connection over TLS (ALPN `h2` only), trusting the certificate: weir's TLS
/// client over an async-net socket, seen by the h2 crate through tokio-util's compat layer.
async fn connect(
    addr: SocketAddr,
    certificate: &SelfSigned,
) -> Result<h2::client::SendRequest<Bytes>, String> {
    let handshake = async {
        let tcp = async_net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let config = certificate
            .client_config_trusting_it()
            .with_alpn_protocols(["h2"]);
        let tls = tls::connect(&config, "localhost", tcp)
            .await
            .map_err(|e| e.to_string())?;
        let alpn = tls.session_info().alpn_protocol().map(<[u8]>::to_vec);
        if alpn.as_deref() != Some(&b"h2"[..]) {
            return Err(format!("ALPN agreed on {alpn:?}"));
        }
        let (client, connection) = h2::client::handshake(tls.compat())
            .await
            .map_err(|e| e.to_string())?;
        weir::runtime::spawn(async move {
            let _ = connection.await;
        })
        .detach();
        Ok(client)
    };
    weir::runtime::timeout(Duration::from_secs(10), handshake)
        .await
        .map_err(|e| e.to_string())?
}

/// One request on its own stream; the status, headers and whole body.
async fn request(
    client: &h2::client::SendRequest<Bytes>,
    method: Method,
    path: &str,
    body: &'static str,
) -> Answer {
    let exchange = async {
        let mut client = client.clone().ready().await.map_err(|e| e.to_string())?;
        let request = Request::builder()
            .method(method)
            .uri(format!("https://localhost{path}"))
            .body(())
            .map_err(|e| e.to_string())?;
        let (response, mut send) = client
            .send_request(request, body.is_empty())
            .map_err(|e| e.to_string())?;
        if !body.is_empty() {
            send.send_data(Bytes::from_static(body.as_bytes()), true)
                .map_err(|e| e.to_string())?;
        }
        let response = response.await.map_err(|e| e.to_string())?;
        let (parts, mut body) = response.into_parts();
        let mut data = BytesMut::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            // Give the window back as the body is read: flow control.
            let _ = body.flow_control().release_capacity(chunk.len());
            data.extend_from_slice(&chunk);
        }
        Ok((parts.status, parts.headers, data.freeze()))
    };
    weir::runtime::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|e| e.to_string())?
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("http2: {problem}\nusage: http2 [--port P] [--self-test]");
    ExitCode::from(2)
}

//! Aleph's `http` example in weir: a hello world, a hello world that answers a second later
//! through a deferred, a stream of numbers from a periodic source, and an echo of the request
//! body.
//!
//! ```text
//! cargo run --example http_aleph -- [--port P] [--self-test]
//! ```
//!
//! Prints `listening on 127.0.0.1:P` once ready (port 8080 by default, 0 picks a free one) and
//! serves until killed. With `--self-test` it picks a free port, asks each route through
//! hyper's HTTP/1.1 client, prints one line per check, closes the server and exits (status 1 if
//! a check failed).
//!
//! Routes (Aleph's handlers):
//! - `GET /hello` -> `hello world` (`hello-world-handler`)
//! - `GET /delayed_hello` -> `hello world` one second later, through a deferred that a timeout
//!   realizes (`delayed-hello-world-handler`, Manifold's `d/timeout!`)
//! - `GET /numbers?count=N` -> the numbers 0 to N-1, one a line, one every 100 ms, streamed as
//!   they are made (`streaming-numbers-handler`, Manifold's `s/periodically`)
//! - `POST /echo` -> the request body back (a body echo)

#[path = "aleph/numbers.rs"]
mod numbers;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use tokio_util::compat::FuturesAsyncReadCompatExt;
use weir::http::{self, Body, Method, Request, Response, ServerOptions, StatusCode};
use weir::{Deferred, Error};

/// The periodic source's period (Aleph's example uses 100 ms).
const PERIOD: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    let mut port = 8080;
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
    weir::runtime::block_on(async {
        let options = ServerOptions::new().address(([127, 0, 0, 1], port));
        let server = match http::start_server(handler, options).await {
            Ok(server) => server,
            Err(error) => {
                eprintln!("http_aleph: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("listening on {}", server.local_addr());
        if !self_test {
            let _ = server.wait_for_close().await;
            return ExitCode::SUCCESS;
        }
        let passed = check_all(server.local_addr()).await;
        let _ = server.close().await;
        if passed {
            println!("self-test passed");
            ExitCode::SUCCESS
        } else {
            println!("self-test FAILED");
            ExitCode::FAILURE
        }
    })
}

/// Aleph's handlers, routed by method and path.
fn handler(request: Request<Body>) -> Deferred<Response<Body>, Error> {
    match (request.method().clone(), request.uri().path()) {
        (Method::GET, "/hello") => Deferred::succeeded(Response::new(Body::from("hello world"))),
        (Method::GET, "/delayed_hello") => {
            // A deferred nobody realizes, realized by its timeout: Manifold's
            // `(d/timeout! (d/deferred) 1000 "hello world")`.
            Deferred::new()
                .timeout_with(Duration::from_secs(1), "hello world")
                .map(|text| Response::new(Body::from(text)))
        }
        (Method::GET, "/numbers") => numbers::numbers(&request, PERIOD),
        (Method::POST, "/echo") => Deferred::spawn(async move {
            let body = request.into_body().to_bytes(16 << 20).await?;
            Ok(Response::new(Body::from(body)))
        }),
        _ => Deferred::failed(http::HttpError::new(StatusCode::NOT_FOUND, "no such route").into()),
    }
}

/// Asks every route with hyper's client; whether all answered as they should.
async fn check_all(addr: SocketAddr) -> bool {
    let mut passed = true;
    let mut check = |what: &str, outcome: Result<(), String>| match outcome {
        Ok(()) => println!("ok   {what}"),
        Err(why) => {
            passed = false;
            println!("FAIL {what}: {why}");
        }
    };
    check(
        "GET /hello answers hello world",
        expect(
            request(addr, Method::GET, "/hello", "").await,
            "hello world",
        ),
    );
    let started = Instant::now();
    let delayed = request(addr, Method::GET, "/delayed_hello", "").await;
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
            request(addr, Method::GET, "/numbers?count=5", "").await,
            "0\n1\n2\n3\n4\n",
        ),
    );
    check(
        "POST /echo sends the body back",
        expect(
            request(addr, Method::POST, "/echo", "echo, echo").await,
            "echo, echo",
        ),
    );
    check(
        "an unknown route is a 404",
        match request(addr, Method::GET, "/nowhere", "").await {
            Ok((StatusCode::NOT_FOUND, _)) => Ok(()),
            other => Err(format!("got {other:?}")),
        },
    );
    passed
}

fn expect(answer: Result<(StatusCode, Bytes), String>, body: &str) -> Result<(), String> {
    match answer {
        Ok((StatusCode::OK, got)) if got == body => Ok(()),
        other => Err(format!("expected 200 {body:?}, got {other:?}")),
    }
}

/// One request over a fresh HTTP/1.1 connection with hyper's client (on weir's runtime: the
/// socket is async-net's, seen by hyper through tokio-util's compat layer and hyper-util's
/// `TokioIo`). Every wait is bounded.
async fn request(
    addr: SocketAddr,
    method: Method,
    path: &str,
    body: &'static str,
) -> Result<(StatusCode, Bytes), String> {
    let exchange = async {
        let tcp = async_net::TcpStream::connect(addr)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(tcp.compat()))
                .await
                .map_err(|e| e.to_string())?;
        weir::runtime::spawn(connection).detach();
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "localhost")
            .body(Full::new(Bytes::from_static(body.as_bytes())))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, body))
    };
    weir::runtime::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|e| e.to_string())?
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("http_aleph: {problem}\nusage: http_aleph [--port P] [--self-test]");
    ExitCode::from(2)
}

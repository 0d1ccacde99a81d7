//! A WebSocket echo server: every message sent to `/` or `/ws` comes back, with
//! permessage-deflate offered (unless `--no-compression`). What the Autobahn fuzzing client
//! runs against (`scripts/autobahn.sh server`).
//!
//! ```text
//! cargo run --release --example ws_echo -- --port P [--tls] [--no-compression]
//! ```
//!
//! With `--tls` it serves `wss` with a self-signed certificate and prints `certificate <path>`
//! (the PEM a client should trust) first. Then it prints `listening on 127.0.0.1:P` once ready
//! (port 9002 by default, 0 picks a free one) and serves until killed. Any other path, and a
//! request that is not a WebSocket upgrade, gets a 400 `expected websocket request`, as in
//! Aleph's example.

use std::process::ExitCode;

use weir::http::{self, Body, IntoResponse, Request, Response, ServerOptions, StatusCode};
use weir::stream::{self, ConnectOptions};
use weir::ws::{self, DeflateOptions, WebSocketOptions};

fn main() -> ExitCode {
    let mut port = 9002;
    let mut tls = false;
    let mut compression = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => return usage("--port needs a port number"),
            },
            "--tls" => tls = true,
            "--no-compression" => compression = false,
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    let mut socket_options = WebSocketOptions::new();
    if compression {
        socket_options = socket_options.compression(DeflateOptions::new());
    }
    let mut options = ServerOptions::new().address(([127, 0, 0, 1], port));
    if tls {
        let certificate = match weir::tls::self_signed(&["localhost", "127.0.0.1"]) {
            Ok(certificate) => certificate,
            Err(error) => {
                eprintln!("ws_echo: {error}");
                return ExitCode::FAILURE;
            }
        };
        let path = std::env::temp_dir().join(format!("weir-ws-echo-{}.pem", std::process::id()));
        if let Err(error) = std::fs::write(&path, certificate.certificate_pem()) {
            eprintln!("ws_echo: could not write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        println!("certificate {}", path.display());
        options = options.tls(certificate.server_config());
    }
    let handler = move |mut request: Request<Body>| {
        let socket_options = socket_options.clone();
        async move {
            if !matches!(request.uri().path(), "/" | "/ws") {
                return bad_request();
            }
            match ws::websocket_connection(&mut request, socket_options).await {
                Ok(socket) => {
                    // The echo: the socket's inbound messages go to its own outbound side.
                    stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
                    socket.into_response()
                }
                Err(_) => bad_request(),
            }
        }
    };
    weir::runtime::block_on(async {
        let server = match http::start_server(handler, options).await {
            Ok(server) => server,
            Err(error) => {
                eprintln!("ws_echo: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("listening on {}", server.local_addr());
        let _ = server.wait_for_close().await;
        ExitCode::SUCCESS
    })
}

fn bad_request() -> Result<Response<Body>, weir::Error> {
    Ok(Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .body(Body::from("expected websocket request"))
        .expect("a static response"))
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("ws_echo: {problem}");
    eprintln!("usage: ws_echo [--port P] [--tls] [--no-compression]");
    ExitCode::FAILURE
}

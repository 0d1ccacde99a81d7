//! A TCP echo server on 127.0.0.1: each connection is connected to itself, so whatever a
//! client sends comes back, with backpressure.
//!
//! ```text
//! cargo run --release --example tcp_echo -- --port P [--tls]
//! ```
//!
//! Prints `listening on 127.0.0.1:P` once ready and runs until killed. `--tls` is reserved
//! for TLS, which arrives with `weir::tls`: for now it says so and exits with status 2.

use std::process::ExitCode;

use weir::stream::{self, ConnectOptions};
use weir::tcp::{self, ServerOptions, TcpConnection};

fn main() -> ExitCode {
    let mut port: Option<u16> = None;
    let mut tls = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = Some(p),
                None => return usage("--port needs a port number"),
            },
            "--tls" => tls = true,
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    let Some(port) = port else {
        return usage("--port is required");
    };
    if tls {
        eprintln!("tcp_echo: --tls is not available yet: TLS arrives with weir::tls");
        return ExitCode::from(2);
    }

    weir::runtime::block_on(async {
        let echo = |connection: TcpConnection| {
            stream::connect(connection.clone(), connection, ConnectOptions::new());
        };
        let options = ServerOptions::new().address(([127, 0, 0, 1], port));
        let server = match tcp::start_server(echo, options).await {
            Ok(server) => server,
            Err(error) => {
                eprintln!("tcp_echo: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("listening on {}", server.local_addr());
        let _ = server.wait_for_close().await;
        ExitCode::SUCCESS
    })
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("tcp_echo: {problem}\nusage: tcp_echo --port P [--tls]");
    ExitCode::from(2)
}

//! A TCP echo server on 127.0.0.1: each connection is connected to itself, so whatever a
//! client sends comes back, with backpressure.
//!
//! ```text
//! cargo run --release --example tcp_echo -- --port P [--tls]
//! ```
//!
//! Prints `listening on 127.0.0.1:P` once ready and runs until killed. With `--tls` it serves
//! TLS with a self-signed certificate for `localhost` and `127.0.0.1`, whose PEM it writes to a
//! file and names on a line `certificate <path>` printed before the ready line; a client
//! trusts that file to connect (for example `openssl s_client -CAfile <path>`).

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
    weir::runtime::block_on(async {
        let echo = |connection: TcpConnection| {
            stream::connect(connection.clone(), connection, ConnectOptions::new());
        };
        let mut options = ServerOptions::new().address(([127, 0, 0, 1], port));
        if tls {
            let certificate = match weir::tls::self_signed(&["localhost", "127.0.0.1"]) {
                Ok(certificate) => certificate,
                Err(error) => {
                    eprintln!("tcp_echo: {error}");
                    return ExitCode::FAILURE;
                }
            };
            let path = std::env::temp_dir().join(format!("weir-tcp-echo-{port}.pem"));
            if let Err(error) = std::fs::write(&path, certificate.certificate_pem()) {
                eprintln!("tcp_echo: could not write {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
            println!("certificate {}", path.display());
            options = options.tls(certificate.server_config());
        }
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

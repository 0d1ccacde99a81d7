//! A UDP echo server: every datagram received on 127.0.0.1:P is sent back to its sender,
//! unchanged. It shows a `weir::udp` socket used as a duplex stream: take a datagram, put it
//! back (its `peer`, the sender, becomes the destination).
//!
//! Run it with:
//!
//! ```sh
//! cargo run --release --example udp_echo -- --port 9000
//! ```
//!
//! Once the socket is bound it prints exactly `listening on 127.0.0.1:P` (with the port it got
//! when `--port` is 0 or left out), then runs until killed. Try it with
//! `echo hello | nc -u -w1 127.0.0.1 9000`.

use std::io::Write;
use std::process::ExitCode;

use weir::udp::{self, SocketOptions};

fn main() -> ExitCode {
    let port = match parse_port(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("udp_echo: {message}\nusage: udp_echo [--port P]");
            return ExitCode::from(2);
        }
    };
    match weir::runtime::block_on(serve(port)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("udp_echo: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Reads `--port P` (or `--port=P`); the port defaults to 0, an ephemeral one.
fn parse_port(mut args: impl Iterator<Item = String>) -> Result<u16, String> {
    let mut port = 0;
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--port" => args.next().ok_or("--port needs a value")?,
            _ => match arg.strip_prefix("--port=") {
                Some(value) => value.to_string(),
                None => return Err(format!("unknown argument {arg:?}")),
            },
        };
        port = value
            .parse()
            .map_err(|_| format!("invalid port {value:?}"))?;
    }
    Ok(port)
}

async fn serve(port: u16) -> Result<(), weir::Error> {
    let socket = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], port))).await?;
    println!("listening on {}", socket.local_addr());
    std::io::stdout().flush()?;
    // Each datagram goes back where it came from. A put only fails once the socket is closed.
    while let Some(datagram) = socket.take_next().await {
        socket.put(datagram).await?;
    }
    // The inbound side ended: say why if it was an error.
    weir::stream::Source::drained(&socket).await
}

//! A WebSocket client: sends each `--text` message (or, without any, one line per line read
//! from standard input) and prints what comes back, one line each.
//!
//! ```text
//! cargo run --release --example ws_client -- URL [--text MSG]... [--no-compression] [--ca PEM]
//! ```
//!
//! For example, against the echo example: `cargo run --example ws_echo -- --port 9002` in one
//! terminal, `cargo run --example ws_client -- ws://127.0.0.1:9002/ --text hello --text again`
//! in another prints `hello` and `again`. `--ca PEM` trusts that certificate for `wss` (the
//! one `ws_echo --tls` prints). Closes with 1000 when done and prints the close status.

use std::io::BufRead;
use std::process::ExitCode;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use weir::ws::{self, DeflateOptions, Message, WebSocketClientOptions};

fn main() -> ExitCode {
    let mut url = None;
    let mut texts = Vec::new();
    let mut compression = true;
    let mut ca = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--text" => match args.next() {
                Some(text) => texts.push(text),
                None => return usage("--text needs a message"),
            },
            "--no-compression" => compression = false,
            "--ca" => match args.next() {
                Some(path) => ca = Some(path),
                None => return usage("--ca needs a PEM file"),
            },
            other if url.is_none() && !other.starts_with("--") => url = Some(other.to_owned()),
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    let Some(url) = url else {
        return usage("no URL");
    };
    if texts.is_empty() {
        texts = std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .collect();
    }
    let mut options = WebSocketClientOptions::new().connect_timeout(Duration::from_secs(10));
    if compression {
        options = options.compression(DeflateOptions::new());
    }
    if let Some(path) = ca {
        match weir::tls::ClientConfig::builder()
            .add_root_pem_file(&path)
            .build()
        {
            Ok(config) => options = options.tls(config),
            Err(error) => {
                eprintln!("ws_client: {path}: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    weir::runtime::block_on(async move {
        let mut socket = match ws::websocket_client(&url, options).await {
            Ok(socket) => socket,
            Err(error) => {
                eprintln!("ws_client: {error}");
                return ExitCode::FAILURE;
            }
        };
        for text in texts {
            if let Err(error) = socket.send(text).await {
                eprintln!("ws_client: {error}");
                return ExitCode::FAILURE;
            }
            let reply = weir::runtime::timeout(Duration::from_secs(10), socket.next()).await;
            match reply {
                Ok(Some(Message::Text(text))) => println!("{text}"),
                Ok(Some(Message::Binary(bytes))) => println!("<{} binary bytes>", bytes.len()),
                Ok(None) => {
                    eprintln!("ws_client: the server closed the socket");
                    return ExitCode::FAILURE;
                }
                Err(_) => {
                    eprintln!("ws_client: no reply within 10 s");
                    return ExitCode::FAILURE;
                }
            }
        }
        let _ = socket.close(1000, "done").await;
        if let Some(status) = socket.close_status() {
            eprintln!("closed: {} {}", status.code(), status.reason());
        }
        ExitCode::SUCCESS
    })
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("ws_client: {problem}");
    eprintln!("usage: ws_client URL [--text MSG]... [--no-compression] [--ca PEM]");
    ExitCode::FAILURE
}

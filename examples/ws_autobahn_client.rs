//! weir's WebSocket client driven by the Autobahn|Testsuite's fuzzing server
//! (`scripts/autobahn.sh client`): asks how many cases there are, runs each one as an echo
//! client (every message received is sent back), then asks the server to write its reports.
//!
//! ```text
//! cargo run --release --example ws_autobahn_client -- --url ws://127.0.0.1:9001 --agent NAME
//! ```
//!
//! Compression is offered (permessage-deflate) unless `--no-compression`. Each case is bounded
//! in time (60 s) so a stuck case cannot hang the run.

use std::process::ExitCode;
use std::time::Duration;

use futures::StreamExt;
use weir::stream::{self, ConnectOptions, Source};
use weir::ws::{self, DeflateOptions, WebSocketClientOptions};

fn main() -> ExitCode {
    let mut url = "ws://127.0.0.1:9001".to_owned();
    let mut agent = "weir".to_owned();
    let mut compression = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => match args.next() {
                Some(u) => url = u.trim_end_matches('/').to_owned(),
                None => return usage("--url needs a URL"),
            },
            "--agent" => match args.next() {
                Some(a) => agent = a,
                None => return usage("--agent needs a name"),
            },
            "--no-compression" => compression = false,
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    let options = move || {
        let options = WebSocketClientOptions::new().connect_timeout(Duration::from_secs(10));
        if compression {
            options.compression(DeflateOptions::new())
        } else {
            options
        }
    };
    weir::runtime::block_on(async move {
        let count = match case_count(&url, options()).await {
            Ok(count) => count,
            Err(error) => {
                eprintln!("ws_autobahn_client: getCaseCount: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("{count} cases");
        for case in 1..=count {
            let case_url = format!("{url}/runCase?case={case}&agent={agent}");
            let run = async {
                match ws::websocket_client(&case_url, options()).await {
                    Ok(socket) => {
                        // The echo, until the server closes the socket.
                        stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
                        let _ = socket.socket_closed().await;
                    }
                    Err(error) => eprintln!("case {case}: {error}"),
                }
            };
            if weir::runtime::timeout(Duration::from_secs(60), run)
                .await
                .is_err()
            {
                eprintln!("case {case}: timed out");
            }
        }
        let report_url = format!("{url}/updateReports?agent={agent}");
        match ws::websocket_client(&report_url, options()).await {
            Ok(mut socket) => {
                while socket.next().await.is_some() {}
                let _ = socket.drained().await;
            }
            Err(error) => {
                eprintln!("ws_autobahn_client: updateReports: {error}");
                return ExitCode::FAILURE;
            }
        }
        println!("reports updated");
        ExitCode::SUCCESS
    })
}

async fn case_count(url: &str, options: WebSocketClientOptions) -> Result<u32, weir::Error> {
    let mut socket = ws::websocket_client(&format!("{url}/getCaseCount"), options).await?;
    let reply = weir::runtime::timeout(Duration::from_secs(10), socket.next())
        .await
        .map_err(|_| weir::Error::msg("no case count within 10 s"))?;
    let text = reply
        .and_then(|message| message.into_text().ok())
        .ok_or_else(|| weir::Error::msg("no case count"))?;
    text.trim()
        .parse()
        .map_err(|_| weir::Error::msg(format!("not a count: {text}")))
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("ws_autobahn_client: {problem}");
    eprintln!(
        "usage: ws_autobahn_client --url ws://127.0.0.1:9001 --agent NAME [--no-compression]"
    );
    ExitCode::FAILURE
}

//! A mini statsd, Aleph's UDP example in weir: a server socket receives `name:value|c` counter
//! datagrams, a pipeline parses them into an accumulator, and `stream::periodically` flushes the
//! totals once per period into a stream of metrics. A send-only client socket plays the
//! applications that report counters.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --release --example udp_statsd
//! ```
//!
//! By default it runs a bounded demo on loopback: the client sends a known set of counters, the
//! program prints each flush, checks that the totals add up, and exits 0 (1 if they do not,
//! within five seconds). With `--serve [--port P]` it is a statsd server on 127.0.0.1:P instead,
//! printing `listening on 127.0.0.1:P` and then every non-empty flush until killed; try
//! `echo "hits:3|c" | nc -u -w1 127.0.0.1 P`.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use weir::stream::{self, Source, SourceExt};
use weir::udp::{self, Datagram, SocketOptions, UdpSocket};
use weir::{Error, runtime};

/// How often the accumulated counters are flushed.
const PERIOD: Duration = Duration::from_millis(100);
/// How long the demo may take before it gives up.
const LIMIT: Duration = Duration::from_secs(5);

/// Counter totals by name, since the last flush.
type Counters = BTreeMap<String, i64>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match parse(&args) {
        Ok(Mode::Demo) => runtime::block_on(demo()),
        Ok(Mode::Serve(port)) => runtime::block_on(serve(port)).map(|()| true),
        Err(message) => {
            eprintln!("udp_statsd: {message}\nusage: udp_statsd [--serve [--port P]]");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("udp_statsd: {error}");
            ExitCode::FAILURE
        }
    }
}

enum Mode {
    Demo,
    Serve(u16),
}

fn parse(args: &[String]) -> Result<Mode, String> {
    let mut serve = false;
    let mut port = 0;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--serve" => serve = true,
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                port = value
                    .parse()
                    .map_err(|_| format!("invalid port {value:?}"))?;
            }
            _ => return Err(format!("unknown argument {arg:?}")),
        }
    }
    Ok(if serve { Mode::Serve(port) } else { Mode::Demo })
}

/// Parses one `name:value|c` datagram; anything else is ignored, as statsd does.
fn parse_counter(datagram: &Datagram) -> Option<(String, i64)> {
    let text = std::str::from_utf8(&datagram.payload).ok()?.trim();
    let (name, rest) = text.split_once(':')?;
    let value = rest.strip_suffix("|c")?.parse().ok()?;
    (!name.is_empty()).then(|| (name.to_string(), value))
}

/// The statsd server: counters from `socket` accumulate, and the returned source emits the
/// totals once per period (then starts again from zero). Closing the metrics source closes the
/// server socket, as Aleph's `on-drained` does.
fn statsd(socket: UdpSocket) -> impl Source<Item = Counters> {
    let accumulator = Arc::new(Mutex::new(Counters::new()));

    // s/map parse, then s/consume into the accumulator.
    let into = accumulator.clone();
    socket
        .clone()
        .mapcat(|datagram| parse_counter(&datagram))
        .consume(move |(name, value)| {
            let mut counters = into.lock().unwrap_or_else(PoisonError::into_inner);
            *counters.entry(name).or_insert(0) += value;
        })
        .on_realized(|outcome| {
            if let Err(error) = outcome {
                eprintln!("udp_statsd: the server socket failed: {error}");
            }
        });

    // s/periodically: flush what accumulated since the last tick.
    let metrics = stream::periodically(PERIOD, move || {
        let mut counters = accumulator.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(std::mem::take(&mut *counters))
    });
    metrics.drained().on_realized(move |_| socket.close());
    metrics
}

/// Sends counters from a send-only client, reads the flushes and checks the totals.
async fn demo() -> Result<bool, Error> {
    let server = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], 0))).await?;
    let statsd_addr = server.local_addr();
    let server_closed = server.socket_closed();
    let mut metrics = Box::pin(statsd(server));
    println!("statsd listening on {statsd_addr}");

    let client = udp::socket(
        SocketOptions::new()
            .address(([127, 0, 0, 1], 0))
            .send_only(true),
    )
    .await?;
    // As Aleph's `{:host "localhost" :port ...}`: the name is resolved once, then reused.
    let statsd_addr = client.resolve("localhost", statsd_addr.port()).await?;
    let reports = [
        ("page.views", 1),
        ("page.views", 1),
        ("logins", 1),
        ("page.views", 3),
        ("errors", 2),
        ("logins", 1),
        ("errors", -1),
    ];
    let mut expected = Counters::new();
    for round in 0..10 {
        for (name, value) in reports {
            let message = format!("{name}:{value}|c");
            client.put(Datagram::new(statsd_addr, message)).await?;
            *expected.entry(name.to_string()).or_insert(0) += value;
        }
        // Not a counter: ignored.
        if round == 0 {
            client
                .put(Datagram::new(statsd_addr, "latency:12|ms"))
                .await?;
        }
    }
    println!("client {} sent {expected:?}", client.local_addr());

    let mut totals = Counters::new();
    let collected = runtime::timeout(LIMIT, async {
        while totals != expected {
            let Some(flush) = futures_lite::StreamExt::next(&mut metrics).await else {
                break;
            };
            if !flush.is_empty() {
                println!("flush {flush:?}");
            }
            for (name, value) in flush {
                *totals.entry(name).or_insert(0) += value;
            }
        }
    })
    .await;

    metrics.close();
    runtime::timeout(LIMIT, server_closed).await??;
    client.close();
    if collected.is_err() {
        println!("gave up after {LIMIT:?}: totals {totals:?}, expected {expected:?}");
        return Ok(false);
    }
    println!("totals {totals:?} match what was sent; server closed");
    Ok(true)
}

/// Runs the server on 127.0.0.1:port until killed, printing non-empty flushes.
async fn serve(port: u16) -> Result<(), Error> {
    let server = udp::socket(SocketOptions::new().address(([127, 0, 0, 1], port))).await?;
    println!("listening on {}", server.local_addr());
    std::io::stdout().flush()?;
    let mut metrics = Box::pin(statsd(server));
    while let Some(flush) = futures_lite::StreamExt::next(&mut metrics).await {
        if !flush.is_empty() {
            println!("flush {flush:?}");
        }
    }
    metrics.drained().await
}

//! Aleph's TCP example in weir: length-prefixed JSON messages over TCP, served by a fast echo
//! built from stream combinators and a slow echo written as an asynchronous loop.
//!
//! Run it with:
//!
//! ```sh
//! cargo run --release --example tcp_framed
//! ```
//!
//! Every connection is framed with a big-endian u32 length prefix
//! ([`LengthPrefixedCodec`] with [`Prefix::U32`]), and every frame holds one JSON value
//! (serde_json). Two servers listen on ephemeral ports of 127.0.0.1:
//!
//! - the **fast echo** (Aleph's `fast-echo-handler`, `(s/connect (s/map f s) s)`) connects
//!   `decode JSON -> map f -> encode JSON` over the framed connection back into it;
//! - the **slow echo** (Aleph's `slow-echo-handler`, `d/loop` with `d/recur`) is a
//!   [`loop_fn`]: take a message, wait a little, put the reply back, recur; it is done when the
//!   connection drains.
//!
//! Each reply is `{"via": "fast" | "slow", "echo": <the message>}`. A client then talks to
//! both: it sends a few messages, checks the replies (`ok` / `FAIL` lines), half-closes and
//! sees the server end the connection; then it sends a malformed frame to each server and
//! checks that the connection ends cleanly. Finally both servers are closed. The program exits
//! 0 when every check passed, 1 otherwise, and gives up after five seconds.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use futures::SinkExt;
use serde_json::{Value, json};
use weir::codec::{self, Framed, LengthPrefixedCodec, Prefix};
use weir::deferred::{Loop, loop_fn};
use weir::stream::{self, ConnectOptions, Source, SourceExt};
use weir::tcp::{self, ClientOptions, Server, ServerOptions, TcpConnection};
use weir::{Deferred, Error, runtime};

/// How long the whole demo may take.
const LIMIT: Duration = Duration::from_secs(5);
/// How long the slow echo waits before answering each message.
const SLOW_DELAY: Duration = Duration::from_millis(50);
/// The largest frame either side accepts.
const MAX_FRAME: usize = 64 * 1024;

/// A TCP connection as a duplex stream of length-prefixed frames (`Bytes` in, bytes out).
type Frames = Framed<TcpConnection, LengthPrefixedCodec>;

/// Frames `connection` with a u32 length prefix: Aleph's gloss `(finite-frame :uint32 ...)`.
fn frames(connection: TcpConnection) -> Frames {
    let codec = LengthPrefixedCodec::new(Prefix::U32).max_frame_size(MAX_FRAME);
    codec::framed(connection, codec)
}

/// Reads one frame as JSON; anything else is the peer breaking the protocol.
fn parse(frame: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(frame).map_err(|e| Error::protocol(format!("malformed JSON: {e}")))
}

/// Writes a JSON value as one frame's payload.
fn to_frame(value: &Value) -> Bytes {
    // Serializing a `Value` cannot fail: its map keys are strings.
    Bytes::from(serde_json::to_vec(value).expect("a JSON value serializes"))
}

/// What each server does to a message: wraps it in a reply saying who answered.
fn reply(via: &str, message: Value) -> Value {
    json!({ "via": via, "echo": message })
}

/// Aleph's fast echo, `(s/connect (s/map f s) s)`, with the JSON codec spelled out as stages:
/// frames -> JSON values -> replies -> frames, connected back into the same connection.
///
/// Malformed JSON: the decode stage (`realize_each` over the parse results) ends with that
/// protocol error as its drain cause and closes what it reads from, so the connection stops
/// reading; `connect` then closes the connection's write side with the same cause. The peer
/// gets the replies to the messages before the bad one, then the end of the stream; no reply
/// is sent for the bad frame and nothing panics. A frame over `MAX_FRAME` or a stream cut
/// mid-frame ends the frame decoder the same way.
fn fast_echo(connection: TcpConnection) {
    let peer = connection.remote_addr();
    let (outbound, inbound) = frames(connection).into_parts();
    let replies = inbound
        // There is no fallible `map` on sources: a `Result` becomes a realized deferred, and
        // `realize_each` ends the stream at the first error.
        .map_each(|frame| Deferred::from(parse(&frame)))
        .realize_each()
        .map_each(|message| reply("fast", message))
        .map_each(|value| to_frame(&value));
    stream::connect(
        replies,
        outbound,
        ConnectOptions::new().description("fast echo"),
    )
    .on_realized(move |outcome| match outcome {
        Ok(()) => println!("  [fast echo] {peer}: connection done"),
        Err(error) => println!("  [fast echo] {peer}: connection ended: {error}"),
    });
}

/// Aleph's slow echo: `d/loop` over `s/take!`, a delay, `s/put!` and `d/recur`, as a
/// [`loop_fn`] whose state is the framed connection.
///
/// Malformed JSON: like Aleph's `d/catch` (which puts `"ERROR: ..."` and closes), the loop puts
/// one `{"error": ...}` frame, closes the connection and ends with the protocol error. If the
/// frame decoder itself fails (oversized frame, stream cut mid-frame), the take sees the end
/// of the stream and the loop ends with the decoder's error; the decoder already closed the
/// connection.
fn slow_echo(connection: TcpConnection) {
    let peer = connection.remote_addr();
    loop_fn(frames(connection), |mut framed: Frames| async move {
        let Some(frame) = futures_lite::StreamExt::next(&mut framed).await else {
            // The peer finished (or the frame decoder failed): stop, and close our side too.
            let drained = framed.drained().await;
            Source::close(&framed);
            return drained.map(Loop::Done);
        };
        let message = match parse(&frame) {
            Ok(message) => message,
            Err(error) => {
                let complaint = json!({ "error": error.to_string() });
                let _ = framed.send(to_frame(&complaint)).await;
                Source::close(&framed);
                return Err(error);
            }
        };
        runtime::sleep(SLOW_DELAY).await;
        framed.send(to_frame(&reply("slow", message))).await?;
        Ok(Loop::Recur(framed))
    })
    .on_realized(move |outcome: Result<(), Error>| match outcome {
        Ok(()) => println!("  [slow echo] {peer}: connection done"),
        Err(error) => println!("  [slow echo] {peer}: connection ended: {error}"),
    });
}

fn main() -> ExitCode {
    match runtime::block_on(runtime::timeout(LIMIT, demo())) {
        Ok(Ok(true)) => {
            println!("all checks passed");
            ExitCode::SUCCESS
        }
        Ok(Ok(false)) => {
            println!("some checks failed");
            ExitCode::FAILURE
        }
        Ok(Err(error)) => {
            eprintln!("tcp_framed: {error}");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("tcp_framed: gave up: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Counts the checks that failed and prints each outcome.
#[derive(Default)]
struct Checks {
    failed: usize,
}

impl Checks {
    fn check(&mut self, passed: bool, what: impl std::fmt::Display) {
        if passed {
            println!("ok   {what}");
        } else {
            self.failed += 1;
            println!("FAIL {what}");
        }
    }
}

async fn start(handler: fn(TcpConnection), name: &str) -> Result<Server, Error> {
    let options = ServerOptions::new()
        .address(([127, 0, 0, 1], 0))
        .shutdown_timeout(Duration::from_secs(1));
    let server = tcp::start_server(handler, options).await?;
    println!("{name} listening on {}", server.local_addr());
    Ok(server)
}

async fn connect(addr: SocketAddr) -> Result<Frames, Error> {
    let connection = tcp::client(ClientOptions::new().remote_address(addr)).await?;
    Ok(frames(connection))
}

/// The next frame as JSON, or `None` at the end of the stream.
async fn next_json(client: &mut Frames) -> Result<Option<Value>, Error> {
    match futures_lite::StreamExt::next(client).await {
        Some(frame) => parse(&frame).map(Some),
        None => Ok(None),
    }
}

async fn demo() -> Result<bool, Error> {
    let fast = start(fast_echo, "fast echo").await?;
    let slow = start(slow_echo, "slow echo").await?;
    let mut checks = Checks::default();

    let messages: Vec<Value> = ["hello", "length-prefixed frames", "unicode: żółw 🐢"]
        .iter()
        .enumerate()
        .map(|(i, text)| json!({ "id": i + 1, "text": text }))
        .collect();

    for (via, server) in [("fast", &fast), ("slow", &slow)] {
        println!("-- {via} echo: {} messages", messages.len());
        let mut client = connect(server.local_addr()).await?;
        // Send them all first: the replies come back in order, however slowly.
        for message in &messages {
            client.send(to_frame(message)).await?;
        }
        for message in &messages {
            let expected = reply(via, message.clone());
            match next_json(&mut client).await? {
                Some(got) => checks.check(got == expected, format!("{via} echo: {got}")),
                None => checks.check(false, format!("{via} echo: ended before {message}")),
            }
        }
        // Half-close: the server sees the end, finishes and closes its side.
        SinkExt::<Bytes>::close(&mut client).await?;
        let end = next_json(&mut client).await?;
        checks.check(
            end.is_none(),
            format!("{via} echo: the server ended the connection after our half-close"),
        );
        checks.check(
            client.drained().await.is_ok(),
            format!("{via} echo: the stream ended cleanly"),
        );
        Source::close(&client);
    }

    for (via, server) in [("fast", &fast), ("slow", &slow)] {
        println!("-- {via} echo: a malformed frame");
        let mut client = connect(server.local_addr()).await?;
        let good = json!({ "id": 4, "text": "before the bad frame" });
        client.send(to_frame(&good)).await?;
        client.send(Bytes::from_static(b"{\"id\": 5, oops")).await?;
        let first = next_json(&mut client).await?;
        checks.check(
            first == Some(reply(via, good.clone())),
            format!("{via} echo: the message before the bad frame was answered"),
        );
        if via == "slow" {
            // Aleph's slow echo reports the error before closing.
            let complaint = next_json(&mut client).await?;
            let reported = complaint
                .as_ref()
                .and_then(|c| c["error"].as_str())
                .is_some_and(|e| e.contains("malformed JSON"));
            let shown = complaint.map_or("nothing".to_string(), |c| c.to_string());
            checks.check(reported, format!("slow echo: error reply {shown}"));
        }
        let end = next_json(&mut client).await?;
        checks.check(
            end.is_none(),
            format!("{via} echo: the server closed the connection"),
        );
        // The server closed its write side normally, so our frame stream ends cleanly.
        checks.check(
            client.drained().await.is_ok(),
            format!("{via} echo: the stream ended cleanly"),
        );
        Source::close(&client);
    }

    println!("-- closing the servers");
    fast.close().await?;
    slow.close().await?;
    checks.check(
        fast.connection_count() == 0 && slow.connection_count() == 0,
        "servers closed with no connection left",
    );
    Ok(checks.failed == 0)
}

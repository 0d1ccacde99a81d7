//! WebSocket echo round trips: weir's server and client against tokio-tungstenite's (and, with
//! permessage-deflate, against yawc's, since tungstenite has no deflate), the same work,
//! alternating, 5 rounds, medians.
//!
//! Everything runs in this process, on loopback, as in `benches/net.rs`, and each side has the
//! same two threads: weir's pool with `WEIR_WORKER_THREADS=2` (the bench re-executes itself
//! with it set) runs weir's server, the client's connection task and the client loop; a tokio
//! multi-thread runtime with `worker_threads(2)` runs the peer's server and client. The main
//! thread only waits for the round's result.
//!
//! Each round opens one connection, echoes the scenario's messages over it and closes it (the
//! closing handshake is inside the timing, a few hundred microseconds). The client keeps at
//! most `window` messages sent and not yet echoed: it tops the window up, then takes the next
//! echo, flushing first if that echo is not there yet (so writes gather while echoes arrive).
//! Every echo is checked in order: its kind and length, and its bytes (all of them up to 4 KiB,
//! the first and last 64 of larger ones); message `k` is the `k % ring`-th of a ring of
//! distinct payloads, tagged with their index.
//!
//! - `ws_echo_small`: 100 000 binary messages of 32 bytes, 64 in flight.
//! - `ws_echo_64kib`: 4 000 binary messages of 64 KiB, 8 in flight.
//! - `ws_echo_deflate`: 20 000 text messages of 4 KiB (JSON-like records, generated
//!   deterministically), 16 in flight, with permessage-deflate at level 1 and context
//!   takeover both ways on both sides (weir's `DeflateOptions::new().level(1)`; yawc's
//!   `DeflateOptions::low_latency()`, UTF-8 checking on as weir always does). Both use
//!   flate2, built once with the same backend.
//!
//! The servers: weir's `http::start_server` with `websocket_connection` and the socket
//! connected to itself (`stream::connect(socket.clone(), socket)`, the documented echo);
//! tokio-tungstenite's `accept_async` on a `tokio::net::TcpListener` with an echo loop that
//! feeds each message back and flushes before waiting for the next; yawc's
//! `WebSocket::upgrade_with_options` under a hyper 1 HTTP/1.1 server, the same loop. The
//! clients: `weir::ws::websocket_client`, `tokio_tungstenite::connect_async_with_config`,
//! `yawc::WebSocket::connect`. TCP_NODELAY is on everywhere (weir sets it itself).
//!
//! ```text
//! cargo bench --bench ws [SCENARIO_SUBSTRING...]
//! WS_BENCH_QUICK=1 cargo bench --bench ws   # a smoke run: a twentieth of the messages
//! ```
//!
//! One `ratio <scenario> <x>` line per scenario, x = weir's median time / the peer's (below 1.0
//! weir is faster), after a `#` line with both medians in milliseconds and one in messages per
//! second.

mod support;

use std::fmt::Debug;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use bytes::Bytes;
use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt};

const ROUNDS: usize = 5;
/// The longest one round may take before the bench gives up.
const ROUND_LIMIT: Duration = Duration::from_secs(300);
/// The longest a closing handshake may take at the end of a round.
const CLOSE_LIMIT: Duration = Duration::from_secs(10);

/// One echo workload.
#[derive(Clone, Copy, Debug)]
struct Scenario {
    name: &'static str,
    messages: usize,
    window: usize,
    size: usize,
    text: bool,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        name: "ws_echo_small",
        messages: 100_000,
        window: 64,
        size: 32,
        text: false,
    },
    Scenario {
        name: "ws_echo_64kib",
        messages: 4_000,
        window: 8,
        size: 64 * 1024,
        text: false,
    },
    Scenario {
        name: "ws_echo_deflate",
        messages: 20_000,
        window: 16,
        size: 4096,
        text: true,
    },
];

fn main() {
    // Both sides get two worker threads; weir's pool reads its size once, from the
    // environment, so the bench runs itself again with it set.
    if std::env::var("WEIR_WORKER_THREADS").as_deref() != Ok("2") {
        let status = Command::new(std::env::current_exe().expect("the bench's path"))
            .args(std::env::args().skip(1))
            .env("WEIR_WORKER_THREADS", "2")
            .status()
            .expect("re-run the bench with WEIR_WORKER_THREADS=2");
        std::process::exit(status.code().unwrap_or(1));
    }
    let filters = support::filters();
    let quick = std::env::var_os("WS_BENCH_QUICK").is_some_and(|value| value != "0");
    println!(
        "# weir (WEIR_WORKER_THREADS=2) and the peers (tokio multi-thread, 2 workers), server and \
         client in this process, loopback"
    );
    if quick {
        println!("# WS_BENCH_QUICK: a twentieth of the messages, not a measurement");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    for mut scenario in SCENARIOS {
        if !filters.is_empty() && !filters.iter().any(|f| scenario.name.contains(f.as_str())) {
            continue;
        }
        if quick {
            scenario.messages /= 20;
        }
        let payloads = Arc::new(Payloads::new(&scenario));
        let weir_server = weir_server(scenario.text);
        let weir_url = format!("ws://127.0.0.1:{}/", weir_server.port());
        let weir_run = || {
            on_weir(weir_client(
                weir_url.clone(),
                scenario,
                payloads.clone(),
                scenario.text,
            ))
        };
        let medians = if scenario.text {
            let (address, agreed) = runtime.block_on(yawc_server());
            println!(
                "# {}: peer yawc 0.5 (server: hyper 1 HTTP/1.1 upgrade; client: \
                 WebSocket::connect), permessage-deflate level 1, context takeover",
                scenario.name
            );
            support::compare(
                &filters,
                scenario.name,
                ROUNDS,
                scenario.messages as u64,
                "yawc",
                weir_run,
                || {
                    let echoed =
                        on_tokio(&runtime, yawc_client(address, scenario, payloads.clone()));
                    assert!(
                        agreed.load(Ordering::Acquire),
                        "yawc agreed no permessage-deflate"
                    );
                    echoed
                },
            )
            .map(|medians| (medians, "yawc"))
        } else {
            let address = runtime.block_on(tungstenite_server());
            support::compare(
                &filters,
                scenario.name,
                ROUNDS,
                scenario.messages as u64,
                "tokio-tungstenite",
                weir_run,
                || {
                    on_tokio(
                        &runtime,
                        tungstenite_client(address, scenario, payloads.clone()),
                    )
                },
            )
            .map(|medians| (medians, "tokio-tungstenite"))
        };
        if let Some(((weir, peer), peer_name)) = medians {
            let rate = |time: Duration| scenario.messages as f64 / time.as_secs_f64();
            println!(
                "# {}: weir {:.0} msg/s, {peer_name} {:.0} msg/s ({} messages of {} bytes, {} in \
                 flight, medians of {ROUNDS} rounds)",
                scenario.name,
                rate(weir),
                rate(peer),
                scenario.messages,
                scenario.size,
                scenario.window,
            );
        }
        let _ = weir::runtime::block_on(weir_server.close());
    }
}

// ---------------------------------------------------------------------------------------------
// The payloads and the client loop every side runs.

/// A ring of distinct payloads: message `k` carries `ring[k % ring.len()]`, so that an echo
/// out of order, truncated or made up shows.
struct Payloads {
    binary: Vec<Bytes>,
    text: Vec<String>,
}

impl Payloads {
    fn new(scenario: &Scenario) -> Payloads {
        let count = (2 * scenario.window).max(64);
        if scenario.text {
            let text: Vec<String> = (0..count).map(|k| json_text(k, scenario.size)).collect();
            let binary = text.iter().map(|t| Bytes::from(t.clone())).collect();
            Payloads { binary, text }
        } else {
            let binary = (0..count)
                .map(|k| {
                    let mut payload =
                        vec![(k as u8).wrapping_mul(31).wrapping_add(7); scenario.size];
                    let tag = (k as u64).to_le_bytes();
                    let n = tag.len().min(payload.len());
                    payload[..n].copy_from_slice(&tag[..n]);
                    Bytes::from(payload)
                })
                .collect();
            Payloads {
                binary,
                text: Vec::new(),
            }
        }
    }

    fn bytes(&self, k: usize) -> &Bytes {
        &self.binary[k % self.binary.len()]
    }

    fn string(&self, k: usize) -> &String {
        &self.text[k % self.text.len()]
    }

    /// Checks the `k`-th echo.
    fn check(&self, k: usize, text: bool, echoed: &[u8], expected_text: bool) {
        assert_eq!(text, expected_text, "echo {k}: text or binary");
        let expected = self.bytes(k);
        assert_eq!(echoed.len(), expected.len(), "echo {k}: length");
        if expected.len() <= 4096 {
            assert!(echoed == &expected[..], "echo {k}: content");
        } else {
            let tail = expected.len() - 64;
            assert!(
                echoed[..64] == expected[..64] && echoed[tail..] == expected[tail..],
                "echo {k}: content"
            );
        }
    }
}

/// About `size` bytes of JSON-like records (exactly `size`, padded with spaces), deterministic
/// and different for every `seed`: compressible as real traffic is, not trivially so.
fn json_text(seed: usize, size: usize) -> String {
    const EVENTS: [&str; 6] = ["click", "view", "scroll", "purchase", "login", "search"];
    const PAGES: [&str; 5] = ["/home", "/cart", "/search", "/product", "/account"];
    let mut state = (seed as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move || {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut text = String::from("[");
    loop {
        let r = next();
        let record = format!(
            "{{\"id\":{},\"user\":\"user-{:05}\",\"event\":\"{}\",\"page\":\"{}\",\
             \"ts\":{},\"latency_ms\":{:.2},\"ok\":{},\"tags\":[\"t{}\",\"t{}\"]}}",
            r % 1_000_000,
            (r >> 20) % 50_000,
            EVENTS[(r >> 8) as usize % EVENTS.len()],
            PAGES[(r >> 12) as usize % PAGES.len()],
            1_700_000_000_000 + (r >> 24) % 100_000_000,
            ((r >> 32) % 100_000) as f64 / 100.0,
            r & 1 == 0,
            (r >> 40) % 16,
            (r >> 44) % 16,
        );
        if text.len() + record.len() + 2 > size {
            break;
        }
        if text.len() > 1 {
            text.push(',');
        }
        text.push_str(&record);
    }
    while text.len() < size - 1 {
        text.push(' ');
    }
    text.push(']');
    text
}

/// Sends `scenario.messages` messages made by `make`, at most `scenario.window` of them not
/// yet echoed, and hands each echo to `check` (which returns false for what is not a data
/// message); returns the number of echoes.
async fn windowed<S, M, R>(
    socket: &mut S,
    scenario: Scenario,
    mut make: impl FnMut(usize) -> M,
    mut check: impl FnMut(usize, R) -> bool,
) -> u64
where
    S: Sink<M> + Stream<Item = R> + Unpin,
    S::Error: Debug,
{
    let (total, window) = (scenario.messages, scenario.window);
    let (mut sent, mut received, mut unflushed) = (0, 0, false);
    while received < total {
        while sent < total && sent - received < window {
            socket.feed(make(sent)).await.expect("send");
            sent += 1;
            unflushed = true;
        }
        let echo = match socket.next().now_or_never() {
            Some(echo) => echo,
            None => {
                if unflushed {
                    socket.flush().await.expect("flush");
                    unflushed = false;
                }
                socket.next().await
            }
        };
        let echo =
            echo.unwrap_or_else(|| panic!("the socket ended after {received} of {total} echoes"));
        if check(received, echo) {
            received += 1;
        }
    }
    received as u64
}

/// Runs `work` on weir's pool; the main thread only waits for its result.
fn on_weir(work: impl Future<Output = u64> + Send + 'static) -> u64 {
    let (done, result) = mpsc::channel();
    weir::runtime::spawn(async move {
        let _ = done.send(work.await);
    })
    .detach();
    result
        .recv_timeout(ROUND_LIMIT)
        .expect("a weir round that ends in time")
}

/// Runs `work` on the tokio runtime's workers; the main thread only waits for its result.
fn on_tokio(
    runtime: &tokio::runtime::Runtime,
    work: impl Future<Output = u64> + Send + 'static,
) -> u64 {
    let (done, result) = mpsc::channel();
    runtime.spawn(async move {
        let _ = done.send(work.await);
    });
    result
        .recv_timeout(ROUND_LIMIT)
        .expect("a peer round that ends in time")
}

// ---------------------------------------------------------------------------------------------
// weir.

fn weir_server(compression: bool) -> weir::http::Server {
    use weir::http::{self, Body, Request, ServerOptions};
    use weir::stream::{self, ConnectOptions};
    use weir::ws::{self, DeflateOptions, WebSocketOptions};

    let mut options = WebSocketOptions::new();
    if compression {
        options = options.compression(DeflateOptions::new().level(1));
    }
    let echo = move |mut request: Request<Body>| {
        let options = options.clone();
        async move {
            let socket = ws::websocket_connection(&mut request, options).await?;
            stream::connect(socket.clone(), socket.clone(), ConnectOptions::new());
            Ok::<_, weir::Error>(socket)
        }
    };
    weir::runtime::block_on(http::start_server(
        echo,
        ServerOptions::new().address(([127, 0, 0, 1], 0)),
    ))
    .expect("weir server")
}

async fn weir_client(
    url: String,
    scenario: Scenario,
    payloads: Arc<Payloads>,
    compression: bool,
) -> u64 {
    use weir::ws::{self, DeflateOptions, Message, WebSocketClientOptions};

    let mut options = WebSocketClientOptions::new();
    if compression {
        options = options.compression(DeflateOptions::new().level(1));
    }
    let mut socket = ws::websocket_client(&url, options)
        .await
        .expect("weir client");
    assert_eq!(
        socket.is_compressed(),
        compression,
        "weir: permessage-deflate agreed"
    );
    let echoed = windowed(
        &mut socket,
        scenario,
        |k| {
            if scenario.text {
                Message::Text(payloads.string(k).clone())
            } else {
                Message::Binary(payloads.bytes(k).clone())
            }
        },
        |k, echo: Message| {
            payloads.check(k, echo.is_text(), echo.as_bytes(), scenario.text);
            true
        },
    )
    .await;
    let closed = weir::runtime::timeout(CLOSE_LIMIT, socket.close(1000, "done")).await;
    assert!(matches!(closed, Ok(Ok(true))), "weir: closing handshake");
    echoed
}

// ---------------------------------------------------------------------------------------------
// tokio-tungstenite.

async fn tungstenite_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                let Ok(socket) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                tungstenite_echo(socket).await;
            });
        }
    });
    address
}

/// Feeds every data message back, flushing before waiting for the next; ends when the client
/// closes (tungstenite answers the close frame itself).
async fn tungstenite_echo<S>(mut socket: tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let message = match socket.next().now_or_never() {
            Some(message) => message,
            None => {
                if socket.flush().await.is_err() {
                    return;
                }
                socket.next().await
            }
        };
        match message {
            Some(Ok(message)) if message.is_binary() || message.is_text() => {
                if socket.feed(message).await.is_err() {
                    return;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    let _ = socket.close(None).await;
}

async fn tungstenite_client(
    address: SocketAddr,
    scenario: Scenario,
    payloads: Arc<Payloads>,
) -> u64 {
    use tokio_tungstenite::tungstenite::Message;

    let url = format!("ws://{address}/");
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
        .await
        .expect("tokio-tungstenite client");
    let echoed = windowed(
        &mut socket,
        scenario,
        |k| Message::Binary(payloads.bytes(k).clone()),
        |k, echo: Result<Message, _>| match echo.expect("tokio-tungstenite: an echo") {
            Message::Binary(bytes) => {
                payloads.check(k, false, &bytes, scenario.text);
                true
            }
            Message::Text(text) => {
                payloads.check(k, true, text.as_bytes(), scenario.text);
                true
            }
            _ => false,
        },
    )
    .await;
    let closing = async {
        socket.close(None).await.expect("tokio-tungstenite: close");
        while let Some(Ok(_)) = socket.next().await {}
    };
    tokio::time::timeout(CLOSE_LIMIT, closing)
        .await
        .expect("tokio-tungstenite: closing handshake");
    echoed
}

// ---------------------------------------------------------------------------------------------
// yawc (permessage-deflate).

fn yawc_options() -> yawc::Options {
    yawc::Options::default()
        .with_low_latency_compression()
        .with_utf8()
        .with_no_delay()
}

/// A hyper 1 server upgrading every request with yawc; the flag says whether the last
/// handshake agreed on permessage-deflate.
async fn yawc_server() -> (SocketAddr, Arc<AtomicBool>) {
    use hyper::body::Incoming;
    use hyper::{Request, Response};
    use hyper_util::rt::TokioIo;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let agreed = Arc::new(AtomicBool::new(false));
    let flag = agreed.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let _ = tcp.set_nodelay(true);
            let flag = flag.clone();
            let upgrade = move |mut request: Request<Incoming>| {
                let flag = flag.clone();
                async move {
                    let (response, socket) =
                        yawc::WebSocket::upgrade_with_options(&mut request, yawc_options())?;
                    let deflate = response
                        .headers()
                        .get("sec-websocket-extensions")
                        .and_then(|value| value.to_str().ok())
                        .is_some_and(|value| value.contains("permessage-deflate"));
                    flag.store(deflate, Ordering::Release);
                    tokio::spawn(async move {
                        if let Ok(socket) = socket.await {
                            yawc_echo(socket).await;
                        }
                    });
                    Ok::<Response<_>, yawc::WebSocketError>(response)
                }
            };
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), hyper::service::service_fn(upgrade))
                    .with_upgrades()
                    .await;
            });
        }
    });
    (address, agreed)
}

/// The tungstenite echo loop, with yawc's frames.
async fn yawc_echo<S>(mut socket: yawc::WebSocket<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    use yawc::frame::{Frame, OpCode};

    loop {
        let frame = match socket.next().now_or_never() {
            Some(frame) => frame,
            None => {
                if socket.flush().await.is_err() {
                    return;
                }
                socket.next().await
            }
        };
        let Some(frame) = frame else { break };
        let echo = match frame.opcode() {
            OpCode::Text => Frame::text(frame.into_payload()),
            OpCode::Binary => Frame::binary(frame.into_payload()),
            OpCode::Close => break,
            _ => continue,
        };
        if socket.feed(echo).await.is_err() {
            return;
        }
    }
    let _ = socket.flush().await;
}

async fn yawc_client(address: SocketAddr, scenario: Scenario, payloads: Arc<Payloads>) -> u64 {
    use yawc::close::CloseCode;
    use yawc::frame::{Frame, OpCode};

    let url = format!("ws://{address}/").parse().expect("a URL");
    let mut socket = yawc::WebSocket::connect(url)
        .with_options(yawc_options())
        .await
        .expect("yawc client");
    let echoed = windowed(
        &mut socket,
        scenario,
        |k| {
            let payload = payloads.bytes(k).clone();
            if scenario.text {
                Frame::text(payload)
            } else {
                Frame::binary(payload)
            }
        },
        |k, echo: Frame| match echo.opcode() {
            OpCode::Text | OpCode::Binary => {
                let text = echo.opcode() == OpCode::Text;
                payloads.check(k, text, echo.payload(), scenario.text);
                true
            }
            _ => false,
        },
    )
    .await;
    let closing = async {
        socket
            .send(Frame::close(CloseCode::Normal, []))
            .await
            .expect("yawc: close");
        while socket.next().await.is_some() {}
    };
    tokio::time::timeout(CLOSE_LIMIT, closing)
        .await
        .expect("yawc: closing handshake");
    echoed
}

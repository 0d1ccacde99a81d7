//! Benchmarks of weir's HTTP server against hyper 1 on tokio, serving the same routes, driven by
//! the same load generators, alternating, 5 rounds, medians.
//!
//! Both servers run in child processes (the bench re-executes itself with `--serve weir` or
//! `--serve hyper`), each with two worker threads: weir's pool with `WEIR_WORKER_THREADS=2`,
//! tokio's multi-thread runtime with `worker_threads(2)` (one task per connection, hyper-util's
//! `TokioIo`, its `auto` builder so that one server speaks HTTP/1.1 and h2c, as weir's does
//! with `use_h2c`). The routes are those of `examples/http_server.rs` the scenarios need:
//! `GET /` answers `hello!` (text/plain), and `GET /stream-64mib` streams 64 MiB in 64 KiB
//! chunks (a weir source on weir, a `StreamBody` on hyper).
//!
//! - `http1_hello_c8`, `http1_hello_c64`, `http1_hello_c256`: `wrk -t2 -cC -d3s` on `GET /`.
//! - `http2_hello`: `h2load -t2 -c16 -m32 -D 3` on `GET /` over h2c (prior knowledge).
//! - `http1_stream_64mib`: one `GET /stream-64mib` over a fresh connection, read to the end by
//!   a plain blocking socket.
//! - `http1_idle_conn_memory`: the growth of the server's resident memory (`VmRSS` in
//!   `/proc/<pid>/status`) per idle keep-alive connection, with 5 000 connections that each made
//!   one request, measured in a fresh server process each round (fewer connections, with a
//!   note, if the open-file limit is too low; the bench first raises it with `ulimit -n` through
//!   `sh`).
//!
//! wrk and h2load come from Debian's `wrk` and `nghttp2-client` packages; the bench runs
//! `apt-get install -y wrk nghttp2-client` when they are missing (and skips the scenarios that
//! need them if that fails).
//!
//! ```text
//! cargo bench --bench http_server [SCENARIO_SUBSTRING...]
//! ```
//!
//! One `ratio <scenario> <x>` line per scenario, x = weir's time per request (or memory per
//! connection) / hyper's (below 1.0 weir is faster or smaller).

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;

/// The streamed response: 1 024 chunks of 64 KiB.
const CHUNK: usize = 64 * 1024;
const CHUNKS: usize = 1024;
const ROUNDS: usize = 5;
const IDLE_CONNECTIONS: usize = 5_000;
/// Seconds each wrk or h2load run lasts.
const SECONDS: u32 = 3;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == "--serve") {
        match args.get(position + 1).map(String::as_str) {
            Some("weir") => serve_weir(),
            Some("hyper") => serve_hyper(),
            other => panic!("--serve weir|hyper, not {other:?}"),
        }
        return;
    }
    raise_fd_limit();
    let filters = support::filters();
    let selected =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    println!(
        "# servers: weir (WEIR_WORKER_THREADS=2) and hyper 1 on tokio (2 worker threads), each in its own process"
    );
    let tools = load_generators();

    for connections in [8, 64, 256] {
        let name = format!("http1_hello_c{connections}");
        if !selected(&name) {
            continue;
        }
        if !tools {
            println!("# {name}: skipped, wrk is not available");
            continue;
        }
        let args = vec![
            "-t2".to_string(),
            format!("-c{connections}"),
            format!("-d{SECONDS}s"),
        ];
        throughput(&name, |addr| wrk(&args, addr));
    }

    if selected("http2_hello") {
        if tools {
            throughput("http2_hello", h2load);
        } else {
            println!("# http2_hello: skipped, h2load is not available");
        }
    }

    if selected("http1_stream_64mib") {
        let weir = ServerProcess::start("weir");
        let hyper = ServerProcess::start("hyper");
        let (weir_addr, hyper_addr) = (weir.addr, hyper.addr);
        support::compare(
            &filters,
            "http1_stream_64mib",
            ROUNDS,
            64,
            "hyper",
            || stream_mib(weir_addr),
            || stream_mib(hyper_addr),
        );
    }

    if selected("http1_idle_conn_memory") {
        idle_memory();
    }
}

// ---------------------------------------------------------------------------------------------
// The servers.

/// weir's server: HTTP/1.1, and HTTP/2 by prior knowledge.
fn serve_weir() {
    use weir::http::{self, Body, HeaderValue, HttpVersion, Request, Response, ServerOptions};

    fn route(request: Request<Body>) -> Response<Body> {
        match request.uri().path() {
            "/" => {
                let mut response = Response::new(Body::from("hello!"));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain"),
                );
                response
            }
            "/stream-64mib" => {
                let chunk = Bytes::from(vec![b'x'; CHUNK]);
                let chunks = weir::stream::iter(std::iter::repeat_n(chunk, CHUNKS));
                Response::new(Body::from_source(chunks))
            }
            _ => {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = http::StatusCode::NOT_FOUND;
                response
            }
        }
    }

    weir::runtime::block_on(async {
        let options = ServerOptions::new()
            .address(([127, 0, 0, 1], 0))
            .http_versions([HttpVersion::Http1, HttpVersion::Http2])
            .use_h2c(true);
        let server = http::start_server(route, options)
            .await
            .expect("weir server");
        announce(server.local_addr());
        let _ = server.wait_for_close().await;
    });
}

/// hyper 1 on a tokio multi-thread runtime with two workers: one task per connection.
fn serve_hyper() {
    use std::convert::Infallible;

    use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
    use hyper::body::{Frame, Incoming};
    use hyper::{Request, Response};
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto;

    async fn route(
        request: Request<Incoming>,
    ) -> Result<Response<BoxBody<Bytes, Infallible>>, Infallible> {
        Ok(match request.uri().path() {
            "/" => {
                let mut response = Response::new(Full::new(Bytes::from_static(b"hello!")).boxed());
                response.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("text/plain"),
                );
                response
            }
            "/stream-64mib" => {
                let chunk = Bytes::from(vec![b'x'; CHUNK]);
                let frames = futures::stream::iter(
                    std::iter::repeat_n(chunk, CHUNKS).map(|chunk| Ok(Frame::data(chunk))),
                );
                Response::new(StreamBody::new(frames).boxed())
            }
            _ => {
                let mut response = Response::new(Full::new(Bytes::new()).boxed());
                *response.status_mut() = hyper::StatusCode::NOT_FOUND;
                response
            }
        })
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        announce(listener.local_addr().expect("address"));
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), hyper::service::service_fn(route))
                    .await;
            });
        }
    });
}

/// Tells the parent where the server listens, and exits when the parent closes stdin.
fn announce(addr: SocketAddr) {
    println!("listening on {addr}");
    let _ = std::io::stdout().flush();
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
}

/// A server in a child process of this bench.
struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    _stdout: BufReader<ChildStdout>,
}

impl ServerProcess {
    fn start(kind: &str) -> ServerProcess {
        let mut child = Command::new(std::env::current_exe().expect("the bench's path"))
            .args(["--serve", kind])
            .env("WEIR_WORKER_THREADS", "2")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a server process");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the server's first line");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("{kind} server said {line:?}"));
        ServerProcess {
            child,
            addr,
            _stdout: stdout,
        }
    }

    /// The resident memory of the server, in bytes.
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| {
                value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .expect("VmRSS")
            * 1024
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// Throughput scenarios.

/// Runs `load` (which returns requests per second) against both servers, alternating, one
/// untimed warm-up each, then `ROUNDS` rounds; prints the medians and the ratio of the times
/// per request.
fn throughput(name: &str, load: impl Fn(SocketAddr) -> Option<f64>) {
    let weir = ServerProcess::start("weir");
    let hyper = ServerProcess::start("hyper");
    if load(weir.addr).is_none() || load(hyper.addr).is_none() {
        println!("# {name}: the load generator failed, scenario skipped");
        return;
    }
    let (mut weir_rates, mut hyper_rates) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        weir_rates.extend(load(weir.addr));
        hyper_rates.extend(load(hyper.addr));
    }
    if weir_rates.is_empty() || hyper_rates.is_empty() {
        println!("# {name}: the load generator failed, scenario skipped");
        return;
    }
    let (weir_rate, hyper_rate) = (median(weir_rates), median(hyper_rates));
    println!(
        "# {name}: weir {weir_rate:.0} req/s, hyper {hyper_rate:.0} req/s (medians of {ROUNDS} rounds)"
    );
    println!("ratio {name} {:.3}", hyper_rate / weir_rate);
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// wrk's requests per second, or `None` (with the reason printed) if it failed or saw errors.
fn wrk(args: &[String], addr: SocketAddr) -> Option<f64> {
    let output = Command::new("wrk")
        .args(args)
        .arg(format!("http://{addr}/"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() || text.contains("Non-2xx") || text.contains("Socket errors") {
        println!("# wrk failed against {addr}: {}", text.replace('\n', " | "));
        return None;
    }
    text.lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|rate| rate.trim().parse().ok())
}

/// h2load's requests per second over h2c, 16 connections of 32 streams each.
fn h2load(addr: SocketAddr) -> Option<f64> {
    let output = Command::new("h2load")
        .args(["-t2", "-c16", "-m32", "-D", &SECONDS.to_string()])
        .arg(format!("http://{addr}/"))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "requests: 1000 total, 1000 started, 1000 done, 1000 succeeded, 0 failed, 0 errored, 0 timeout"
    let failed = text
        .lines()
        .find(|line| line.starts_with("requests:"))
        .is_none_or(|line| !line.contains(" 0 failed") || !line.contains(" 0 errored"));
    if !output.status.success() || failed {
        println!(
            "# h2load failed against {addr}: {}",
            text.replace('\n', " | ")
        );
        return None;
    }
    // "finished in 3.00s, 123456.78 req/s, 4.00MB/s"
    text.lines()
        .find_map(|line| line.strip_prefix("finished in "))
        .and_then(|rest| rest.split(", ").nth(1))
        .and_then(|rate| rate.trim_end_matches(" req/s").parse().ok())
}

/// Installs wrk and h2load from Debian's packages if missing; whether both are there.
fn load_generators() -> bool {
    let present = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if present("wrk") && present("h2load") {
        return true;
    }
    println!("# installing wrk and h2load: apt-get install -y wrk nghttp2-client");
    let _ = Command::new("apt-get")
        .args(["install", "-y", "wrk", "nghttp2-client"])
        .stdout(Stdio::null())
        .status();
    present("wrk") && present("h2load")
}

// ---------------------------------------------------------------------------------------------
// Streaming.

/// Fetches `/stream-64mib` over a fresh connection; the MiB received (64: headers and chunk
/// framing add well under one).
fn stream_mib(addr: SocketAddr) -> u64 {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.write_all(b"GET /stream-64mib HTTP/1.1\r\nhost: bench\r\nconnection: close\r\n\r\n")
        .expect("request");
    let mut buffer = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    let mut tail = Vec::new();
    loop {
        let n = tcp.read(&mut buffer).expect("read");
        if n == 0 {
            break;
        }
        total += n as u64;
        tail.clear();
        tail.extend_from_slice(&buffer[n.saturating_sub(5)..n]);
    }
    assert_eq!(tail, b"0\r\n\r\n", "a chunked body that ends");
    total >> 20
}

// ---------------------------------------------------------------------------------------------
// Idle connections.

fn idle_memory() {
    let limit = fd_limit();
    let mut connections = IDLE_CONNECTIONS;
    if limit < (IDLE_CONNECTIONS as u64) + 100 {
        connections = limit.saturating_sub(100) as usize;
        println!(
            "# http1_idle_conn_memory: the open-file limit is {limit}: {connections} connections instead of {IDLE_CONNECTIONS}"
        );
    }
    let (mut weir, mut hyper) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        weir.push(per_connection("weir", connections));
        hyper.push(per_connection("hyper", connections));
    }
    let (weir, hyper) = (median(weir), median(hyper));
    println!(
        "# http1_idle_conn_memory: weir {weir:.0} B, hyper {hyper:.0} B of RSS per idle connection ({connections} connections, medians of {ROUNDS} rounds)"
    );
    println!("ratio http1_idle_conn_memory {:.3}", weir / hyper);
}

/// The RSS growth of a fresh `kind` server per idle keep-alive connection, with `n` of them.
fn per_connection(kind: &str, n: usize) -> f64 {
    let server = ServerProcess::start(kind);
    // One request first, so that lazily made state (pools, caches) is in the baseline.
    drop(hello(server.addr));
    std::thread::sleep(Duration::from_millis(200));
    let before = server.rss();
    let connections: Vec<TcpStream> = (0..n).map(|_| hello(server.addr)).collect();
    std::thread::sleep(Duration::from_millis(500));
    let after = server.rss();
    drop(server);
    drop(connections);
    after.saturating_sub(before) as f64 / n as f64
}

/// A connection that made one keep-alive request and read its answer.
fn hello(addr: SocketAddr) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    tcp.write_all(b"GET / HTTP/1.1\r\nhost: bench\r\n\r\n")
        .expect("request");
    let mut response = Vec::new();
    let mut buffer = [0u8; 1024];
    while !response.ends_with(b"hello!") {
        let n = tcp.read(&mut buffer).expect("response");
        assert!(n > 0, "the server closed the connection");
        response.extend_from_slice(&buffer[..n]);
    }
    tcp
}

/// The soft limit on open files (`/proc/self/limits`).
fn fd_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|limits| {
            limits
                .lines()
                .find(|line| line.starts_with("Max open files"))
                .and_then(|line| line.split_whitespace().nth(3))
                .and_then(|soft| soft.parse().ok())
        })
        .unwrap_or(1024)
}

/// Re-executes the bench under `sh -c 'ulimit -n 20000'` when the open-file limit is too low for
/// the idle-connection scenario (once: the retry is marked in the environment).
fn raise_fd_limit() {
    const WANTED: u64 = 2 * IDLE_CONNECTIONS as u64 + 400;
    if fd_limit() >= WANTED || std::env::var_os("WEIR_BENCH_ULIMIT").is_some() {
        return;
    }
    let exe = std::env::current_exe().expect("the bench's path");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -n {WANTED} 2>/dev/null || ulimit -n \"$(ulimit -Hn)\"; exec \"$0\" \"$@\""
        ))
        .arg(exe)
        .args(std::env::args().skip(1))
        .env("WEIR_BENCH_ULIMIT", "1")
        .status()
        .expect("re-run under sh");
    std::process::exit(status.code().unwrap_or(1));
}

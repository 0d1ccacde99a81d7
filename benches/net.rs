//! Benchmarks of weir's network adapters against the raw sockets they are built on, on the same
//! work, alternating, several rounds, in one process, on loopback.
//!
//! - `udp_pps`: a client sends 100 000 datagrams of 64 bytes to an echo server and receives them
//!   back, in windows of 32 (send 32, receive 32) so that the kernel never drops a datagram for
//!   lack of buffer (both sides get the same windows). weir: `weir::udp` sockets on both ends,
//!   the server echoing with `take`/`put`; peer: raw `async_net::UdpSocket`s doing the same with
//!   `recv_from`/`send_to`.
//!
//! - `tcp_echo_1` and `tcp_echo_16`: 1 GiB in 64 KiB writes through an echo server and back,
//!   over 1 connection and split over 16. weir: `tcp::start_server` echoing with
//!   `stream::connect(connection.clone(), connection, ..)`, `tcp::client` connections writing with
//!   `put` and reading with `take`; peer: raw `async_net` sockets with `futures_lite::io::copy`
//!   echoes and `write_all`/`read` clients.
//! - `tls_echo`: the same over TLS, 256 MiB over 1 connection; weir's TLS TCP adapter against
//!   raw `futures_rustls` over `async_net`, with the same rustls configurations.
//!
//! - `tcp_echo_small`: 100 000 messages of 64 bytes through an echo server and back over one
//!   connection, in windows of 32 (send 32, then read the 2 048 bytes back). weir: the same
//!   echo server, the client feeding the 32 messages through its futures sink and flushing
//!   once; peer: the raw echo, the client writing each message with its own `write_all`.
//! - `tcp_idle_memory`: the resident memory (`/proc/self/statm`) one idle connection adds to a
//!   process serving 10 000 of them on loopback (fewer if `RLIMIT_NOFILE` is too low: it says
//!   so; `ulimit -n 20200` is enough), each measured in a fresh child process. weir: the echo
//!   server; peer: the raw async-net echo server (`futures_lite::io::copy` per connection)
//!   holding the same sockets. Linux only.
//!
//! ```text
//! cargo bench --bench net [SCENARIO_SUBSTRING...]
//! ```
//!
//! One `ratio <scenario> <x>` line per scenario, x = weir median / peer median (below 1.0 weir
//! is faster).

mod support;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_lite::{AsyncReadExt, AsyncWriteExt, future};
use weir::stream::{self, ConnectOptions};
use weir::tcp::{self, ClientOptions, ServerOptions, TcpConnection};
use weir::tls;

use weir::runtime::{block_on, spawn};
use weir::udp::{self, Datagram, SocketOptions};

const DATAGRAMS: u64 = 100_000;
const WINDOW: u64 = 32;
const PAYLOAD: [u8; 64] = [7; 64];

fn loopback() -> SocketOptions {
    SocketOptions::new().address(([127, 0, 0, 1], 0))
}

fn weir_udp() -> u64 {
    block_on(async {
        let server = udp::socket(loopback()).await.unwrap();
        let client = udp::socket(loopback()).await.unwrap();
        let server_addr = server.local_addr();
        let echo = server.clone();
        let echo = spawn(async move {
            while let Some(datagram) = echo.take_next().await {
                if echo.put(datagram).await.is_err() {
                    break;
                }
            }
        });
        let mut received = 0u64;
        for _ in 0..DATAGRAMS / WINDOW {
            for _ in 0..WINDOW {
                client
                    .put(Datagram::new(server_addr, &PAYLOAD[..]))
                    .await
                    .unwrap();
            }
            for _ in 0..WINDOW {
                let back = client.take_next().await.unwrap();
                received += back.payload.len() as u64 / 64;
            }
        }
        weir::stream::Source::close(&server);
        weir::stream::Source::close(&client);
        echo.await;
        received
    })
}

fn async_net_udp() -> u64 {
    block_on(async {
        let server = async_net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let client = async_net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr: SocketAddr = server.local_addr().unwrap();
        let echo = spawn(async move {
            let mut buffer = vec![0u8; 65_536];
            while let Ok((n, peer)) = server.recv_from(&mut buffer).await {
                if n == 0 {
                    break;
                }
                if server.send_to(&buffer[..n], peer).await.is_err() {
                    break;
                }
            }
        });
        let mut buffer = vec![0u8; 65_536];
        let mut received = 0u64;
        for _ in 0..DATAGRAMS / WINDOW {
            for _ in 0..WINDOW {
                client.send_to(&PAYLOAD, server_addr).await.unwrap();
            }
            for _ in 0..WINDOW {
                let (n, _) = client.recv_from(&mut buffer).await.unwrap();
                received += n as u64 / 64;
            }
        }
        // An empty datagram stops the echo loop.
        client.send_to(&[], server_addr).await.unwrap();
        echo.await;
        received
    })
}

const CHUNK: usize = 64 * 1024;
const TCP_TOTAL: usize = 1 << 30;
const TLS_TOTAL: usize = 256 << 20;

/// Echoes every connection back to itself.
fn weir_echo_server(tls: Option<tls::ServerConfig>) -> tcp::Server {
    let mut options = ServerOptions::new().address(([127, 0, 0, 1], 0));
    if let Some(config) = tls {
        options = options.tls(config);
    }
    block_on(tcp::start_server(
        |connection: TcpConnection| {
            stream::connect(connection.clone(), connection, ConnectOptions::new());
        },
        options,
    ))
    .unwrap()
}

/// Sends `total` bytes in 64 KiB chunks over `connections` connections and reads them back;
/// returns the number of bytes read.
fn weir_echo(
    server: &tcp::Server,
    client: &ClientOptions,
    connections: usize,
    total: usize,
) -> u64 {
    let chunk = Bytes::from(vec![1u8; CHUNK]);
    let per_connection = total / connections;
    block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let options = client.clone().remote_address(server.local_addr());
            let chunk = chunk.clone();
            tasks.push(spawn(async move {
                let connection = tcp::client(options).await.unwrap();
                let writer = connection.clone();
                let writing = spawn(async move {
                    for _ in 0..per_connection / CHUNK {
                        writer.put(chunk.clone()).await.unwrap();
                    }
                });
                let mut read = 0usize;
                while read < per_connection {
                    read += connection.take_next().await.unwrap().len();
                }
                writing.await;
                weir::stream::Source::close(&connection);
                read as u64
            }));
        }
        let mut read = 0;
        for task in tasks {
            read += task.await;
        }
        read
    })
}

type RawIo = Box<dyn Io>;
trait Io: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin + Send {}
impl<T: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin + Send> Io for T {}

/// A raw echo server: each connection copies its reads to its writes.
fn raw_echo_server(tls: Option<Arc<tls::rustls::ServerConfig>>) -> SocketAddr {
    let listener = block_on(async_net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let address = listener.local_addr().unwrap();
    spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            stream.set_nodelay(true).unwrap();
            let tls = tls.clone();
            spawn(async move {
                let io: RawIo = match tls {
                    None => Box::new(stream),
                    Some(config) => {
                        let acceptor = tls::futures_rustls::TlsAcceptor::from(config);
                        Box::new(acceptor.accept(stream).await.unwrap())
                    }
                };
                let (reader, mut writer) = futures_lite::io::split(io);
                let _ = futures_lite::io::copy(reader, &mut writer).await;
                let _ = writer.close().await;
            })
            .detach();
        }
    })
    .detach();
    address
}

fn raw_echo(
    address: SocketAddr,
    tls: Option<Arc<tls::rustls::ClientConfig>>,
    connections: usize,
    total: usize,
) -> u64 {
    let per_connection = total / connections;
    block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..connections {
            let tls = tls.clone();
            tasks.push(spawn(async move {
                let stream = async_net::TcpStream::connect(address).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let io: RawIo = match tls {
                    None => Box::new(stream),
                    Some(config) => {
                        let connector = tls::futures_rustls::TlsConnector::from(config);
                        let name = tls::pki_types::ServerName::try_from("localhost").unwrap();
                        Box::new(connector.connect(name, stream).await.unwrap())
                    }
                };
                let (mut reader, mut writer) = futures_lite::io::split(io);
                let chunk = vec![1u8; CHUNK];
                let writing = async {
                    for _ in 0..per_connection / CHUNK {
                        writer.write_all(&chunk).await.unwrap();
                    }
                    writer.flush().await.unwrap();
                };
                let reading = async {
                    let mut buffer = vec![0u8; CHUNK];
                    let mut read = 0usize;
                    while read < per_connection {
                        read += reader.read(&mut buffer).await.unwrap();
                    }
                    read as u64
                };
                let (_, read) = future::zip(writing, reading).await;
                let _ = writer.close().await;
                read
            }));
        }
        let mut read = 0;
        for task in tasks {
            read += task.await;
        }
        read
    })
}

const SMALL_MESSAGES: usize = 100_000;
const SMALL_WINDOW: usize = 32;
const SMALL: [u8; 64] = [5; 64];

/// `tcp_echo_small` with weir: feeds a window of messages, flushes, reads the window back.
fn weir_echo_small(server: &tcp::Server) -> u64 {
    use futures_lite::StreamExt;
    block_on(async {
        let mut connection = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
            .await
            .unwrap();
        let message = Bytes::from_static(&SMALL);
        let mut echoed = 0usize;
        for _ in 0..SMALL_MESSAGES / SMALL_WINDOW {
            for _ in 0..SMALL_WINDOW {
                futures::SinkExt::feed(&mut connection, message.clone())
                    .await
                    .unwrap();
            }
            futures::SinkExt::<Bytes>::flush(&mut connection)
                .await
                .unwrap();
            let mut read = 0;
            while read < SMALL_WINDOW * SMALL.len() {
                read += connection.next().await.unwrap().len();
            }
            echoed += read;
        }
        weir::stream::Source::close(&connection);
        (echoed / SMALL.len()) as u64
    })
}

/// `tcp_echo_small` with raw sockets: one `write_all` per message.
fn raw_echo_small(address: SocketAddr) -> u64 {
    block_on(async {
        let mut stream = async_net::TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut buffer = vec![0u8; 64 * 1024];
        let mut echoed = 0usize;
        for _ in 0..SMALL_MESSAGES / SMALL_WINDOW {
            for _ in 0..SMALL_WINDOW {
                stream.write_all(&SMALL).await.unwrap();
            }
            stream.flush().await.unwrap();
            let mut read = 0;
            while read < SMALL_WINDOW * SMALL.len() {
                read += stream.read(&mut buffer).await.unwrap();
            }
            echoed += read;
        }
        let _ = stream.close().await;
        (echoed / SMALL.len()) as u64
    })
}

const IDLE_CONNECTIONS: usize = 10_000;
const IDLE_CHILD: &str = "WEIR_BENCH_IDLE_CHILD";

/// The process's resident memory in bytes.
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// The most open files this process may have.
fn open_file_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(1024)
}

/// How many idle connections the measure opens: 10 000, or what the file limit allows (two
/// descriptors per connection, both ends in this process).
fn idle_connections() -> usize {
    let limit = open_file_limit();
    IDLE_CONNECTIONS.min(limit.saturating_sub(200) / 2)
}

/// In a child process: starts the server (`weir` or `raw`), opens the idle connections and
/// prints the resident memory each added, in bytes.
fn idle_child(kind: &str) {
    let connections = idle_connections();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let address = match kind {
        "weir" => {
            let server = weir_echo_server(None);
            let address = server.local_addr();
            let count = accepted.clone();
            std::thread::spawn(move || {
                loop {
                    count.store(
                        server.connection_count(),
                        std::sync::atomic::Ordering::Release,
                    );
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            });
            address
        }
        _ => {
            let listener = block_on(async_net::TcpListener::bind("127.0.0.1:0")).unwrap();
            let address = listener.local_addr().unwrap();
            let count = accepted.clone();
            spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    stream.set_nodelay(true).unwrap();
                    let count = count.clone();
                    spawn(async move {
                        count.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                        let (reader, mut writer) = futures_lite::io::split(stream);
                        let _ = futures_lite::io::copy(reader, &mut writer).await;
                    })
                    .detach();
                }
            })
            .detach();
            address
        }
    };
    let wait_for = |n: usize| {
        let start = std::time::Instant::now();
        while accepted.load(std::sync::atomic::Ordering::Acquire) < n {
            assert!(start.elapsed().as_secs() < 120, "connections not accepted");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    };
    // Warm up: one connection, so that threads and code are in place before measuring.
    let warm = std::net::TcpStream::connect(address).unwrap();
    wait_for(1);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let before = resident_bytes();
    let mut clients = Vec::with_capacity(connections);
    while clients.len() < connections {
        for _ in 0..100.min(connections - clients.len()) {
            clients.push(std::net::TcpStream::connect(address).unwrap());
        }
        wait_for(clients.len() + 1);
    }
    // Let every connection's tasks run once.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let after = resident_bytes();
    println!("{}", after.saturating_sub(before) / connections);
    drop((clients, warm));
    std::process::exit(0);
}

/// Runs one idle-memory measure in a fresh process: bytes per connection.
fn idle_measure(kind: &str) -> u64 {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .env(IDLE_CHILD, kind)
        .output()
        .expect("run the measuring child");
    assert!(
        output.status.success(),
        "the {kind} child failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("a number of bytes")
}

fn idle_memory(filters: &[String]) {
    let name = "tcp_idle_memory";
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        return;
    }
    if !std::path::Path::new("/proc/self/statm").exists() {
        println!("# {name}: skipped, /proc/self/statm is Linux only");
        return;
    }
    let connections = idle_connections();
    if connections < IDLE_CONNECTIONS {
        println!(
            "# {name}: RLIMIT_NOFILE is {}: measuring {connections} connections instead of \
             {IDLE_CONNECTIONS} (run `ulimit -n {}` first for all of them)",
            open_file_limit(),
            IDLE_CONNECTIONS * 2 + 200
        );
    }
    let (mut weir, mut raw) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        weir.push(idle_measure("weir"));
        raw.push(idle_measure("raw"));
    }
    weir.sort_unstable();
    raw.sort_unstable();
    let (weir, raw) = (weir[1], raw[1]);
    println!(
        "# {name}: weir {:.1} KiB, async-net {:.1} KiB per idle connection ({connections} \
         connections, medians of 3 fresh processes)",
        weir as f64 / 1024.0,
        raw as f64 / 1024.0
    );
    println!("ratio {name} {:.3}", weir as f64 / raw.max(1) as f64);
}

fn main() {
    if let Ok(kind) = std::env::var(IDLE_CHILD) {
        idle_child(&kind);
        return;
    }
    let filters = support::filters();
    support::compare(
        &filters,
        "udp_pps",
        5,
        DATAGRAMS / WINDOW * WINDOW,
        "async-net",
        weir_udp,
        async_net_udp,
    );

    let plain = weir_echo_server(None);
    let raw = raw_echo_server(None);
    let client = ClientOptions::new();
    for connections in [1, 16] {
        support::compare(
            &filters,
            &format!("tcp_echo_{connections}"),
            3,
            TCP_TOTAL as u64,
            "async-net",
            || weir_echo(&plain, &client, connections, TCP_TOTAL),
            || raw_echo(raw, None, connections, TCP_TOTAL),
        );
    }

    support::compare(
        &filters,
        "tcp_echo_small",
        5,
        (SMALL_MESSAGES / SMALL_WINDOW * SMALL_WINDOW) as u64,
        "async-net",
        || weir_echo_small(&plain),
        || raw_echo_small(raw),
    );

    idle_memory(&filters);

    let certificate = tls::self_signed(&["localhost"]).unwrap();
    let secure = weir_echo_server(Some(certificate.server_config()));
    let raw_tls = raw_echo_server(Some(certificate.server_config().rustls().clone()));
    let client = ClientOptions::new()
        .tls(certificate.client_config_trusting_it())
        .tls_server_name("localhost");
    let raw_client = certificate.client_config_trusting_it().rustls().clone();
    support::compare(
        &filters,
        "tls_echo",
        3,
        TLS_TOTAL as u64,
        "futures-rustls",
        || weir_echo(&secure, &client, 1, TLS_TOTAL),
        || raw_echo(raw_tls, Some(raw_client.clone()), 1, TLS_TOTAL),
    );
}

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

fn main() {
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

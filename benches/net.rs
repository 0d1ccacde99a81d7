//! Benchmarks of weir's network adapters against the raw sockets they are built on, on the same
//! work, alternating, several rounds, in one process, on loopback.
//!
//! - `udp_pps`: a client sends 100 000 datagrams of 64 bytes to an echo server and receives them
//!   back, in windows of 32 (send 32, receive 32) so that the kernel never drops a datagram for
//!   lack of buffer (both sides get the same windows). weir: `weir::udp` sockets on both ends,
//!   the server echoing with `take`/`put`; peer: raw `async_net::UdpSocket`s doing the same with
//!   `recv_from`/`send_to`.
//!
//! The TCP and TLS echo scenarios arrive with the TCP adapter.
//!
//! ```text
//! cargo bench --bench net [SCENARIO_SUBSTRING...]
//! ```
//!
//! One `ratio <scenario> <x>` line per scenario, x = weir median / peer median (below 1.0 weir
//! is faster).

mod support;

use std::net::SocketAddr;

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
            while let Some(datagram) = echo.take().await {
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
                let back = client.take().await.unwrap();
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
}

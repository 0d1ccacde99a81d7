//! UDP sockets on loopback: round trips, many datagrams, send-only sockets, refused datagrams,
//! closing, and the socket's address.

mod support;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use futures::SinkExt;
use support::run;
use weir::stream::{self, Channel, ConnectOptions, Description, Source};
use weir::udp::{self, Datagram, DatagramTooLarge, SocketOptions, UdpSocket};

/// The inbound side's state, found through the socket's graph node (the splice's edge
/// labelled `source`).
fn inbound_description(socket: &UdpSocket) -> Description {
    Source::node(socket)
        .downstream()
        .into_iter()
        .find(|edge| edge.description.as_deref() == Some("source"))
        .expect("a splice has a source edge")
        .target
        .description()
}

fn localhost() -> SocketOptions {
    SocketOptions::new().address(([127, 0, 0, 1], 0))
}

async fn open(options: SocketOptions) -> UdpSocket {
    udp::socket(options).await.expect("bind on loopback")
}

/// Takes one datagram, failing after a short bound (loopback delivers at once or never).
async fn take_within(socket: &UdpSocket, bound: Duration) -> Option<Datagram> {
    weir::runtime::timeout(bound, socket.take_next())
        .await
        .ok()
        .flatten()
}

#[test]
fn smoke() {
    run(async {
        let socket = open(localhost()).await;
        socket
            .put(Datagram::new(socket.local_addr(), "hi"))
            .await
            .unwrap();
        let got = socket.take_next().await.unwrap();
        assert_eq!(got.peer, socket.local_addr());
        assert_eq!(got.payload, "hi");
    });
}

#[test]
fn a_round_trip_between_two_sockets() {
    run(async {
        let server = open(localhost()).await;
        let client = open(localhost()).await;

        client
            .put(Datagram::new(server.local_addr(), "ping"))
            .await
            .unwrap();
        let request = server.take_next().await.unwrap();
        assert_eq!(request.peer, client.local_addr());
        assert_eq!(request.payload, "ping");

        server
            .put(Datagram::new(request.peer, "pong"))
            .await
            .unwrap();
        let reply = client.take_next().await.unwrap();
        assert_eq!(reply.peer, server.local_addr());
        assert_eq!(reply.payload, "pong");
    });
}

#[test]
fn the_socket_is_a_futures_sink_and_stream() {
    run(async {
        let mut server = open(localhost()).await;
        let mut client = open(localhost()).await;
        let to = server.local_addr();
        client.send(Datagram::new(to, "one")).await.unwrap();
        client.send(Datagram::new(to, "two")).await.unwrap();
        assert_eq!(
            futures::StreamExt::next(&mut server).await.unwrap().payload,
            "one"
        );
        assert_eq!(
            futures::StreamExt::next(&mut server).await.unwrap().payload,
            "two"
        );
        // `SinkExt::close` closes the outbound side only.
        SinkExt::close(&mut client).await.unwrap();
        assert!(
            client
                .put(Datagram::new(to, "late"))
                .await
                .unwrap_err()
                .is_closed()
        );
        server
            .put(Datagram::new(client.local_addr(), "still listening"))
            .await
            .unwrap();
        assert_eq!(
            futures::StreamExt::next(&mut client).await.unwrap().payload,
            "still listening"
        );
    });
}

#[test]
fn many_datagrams_arrive_intact() {
    const COUNT: usize = 1000;
    // Sent in windows small enough for the kernel's receive buffer: back to back, a sender
    // outruns any receiver and the kernel drops the excess, as UDP may.
    const WINDOW: usize = 50;
    run(async {
        let server = open(localhost()).await;
        let client = open(localhost()).await;
        let to = server.local_addr();
        let mut seen = HashSet::new();
        let mut in_order = true;
        let mut last = None;
        for window in (0..COUNT).step_by(WINDOW) {
            for i in window..window + WINDOW {
                let payload = format!("datagram {i:04}");
                client.put(Datagram::new(to, payload)).await.unwrap();
            }
            let mut received = 0;
            while received < WINDOW {
                let Some(datagram) = take_within(&server, Duration::from_millis(500)).await else {
                    break;
                };
                received += 1;
                assert_eq!(datagram.peer, client.local_addr());
                let text = std::str::from_utf8(&datagram.payload).expect("intact payload");
                let index: usize = text
                    .strip_prefix("datagram ")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("mangled payload {text:?}"));
                assert!(index < COUNT);
                assert!(seen.insert(index), "datagram {index} twice");
                in_order &= last.is_none_or(|last| index > last);
                last = Some(index);
            }
        }
        // Loopback rarely drops; UDP may. Most must arrive.
        assert!(seen.len() >= COUNT * 9 / 10, "only {} arrived", seen.len());
        if seen.len() == COUNT {
            assert!(in_order, "loopback reordered datagrams");
        }
    });
}

#[test]
fn a_send_only_socket_has_no_inbound_datagrams() {
    run(async {
        let sender = open(localhost().send_only(true)).await;
        assert!(sender.is_drained());
        assert!(sender.drained().await.is_ok());
        assert_eq!(sender.take_next().await, None);

        // It still sends.
        let receiver = open(localhost()).await;
        sender
            .put(Datagram::new(receiver.local_addr(), "one way"))
            .await
            .unwrap();
        let got = receiver.take_next().await.unwrap();
        assert_eq!(
            (got.peer, got.payload),
            (sender.local_addr(), "one way".into())
        );

        // Datagrams sent to it are never delivered.
        receiver
            .put(Datagram::new(sender.local_addr(), "unheard"))
            .await
            .unwrap();
        assert_eq!(sender.take_next().await, None);
        assert!(sender.is_drained());
        assert_eq!(inbound_description(&sender).pending_takes, 0);
    });
}

#[test]
fn an_oversize_datagram_is_refused_on_its_put_and_the_socket_still_works() {
    run(async {
        let mut socket = open(localhost()).await;
        let me = socket.local_addr();

        let err = socket
            .put(Datagram::new(me, vec![0; udp::MAX_PAYLOAD_V4 + 1]))
            .await
            .unwrap_err();
        let too_large = err.downcast_ref::<DatagramTooLarge>().unwrap();
        assert_eq!(too_large.size(), 65_508);
        assert_eq!(too_large.limit(), 65_507);
        assert_eq!(too_large.peer(), me);
        assert!(err.to_string().contains("65508 bytes"), "{err}");

        // Through the futures sink too.
        let err = socket
            .send(Datagram::new(me, vec![0; 70_000]))
            .await
            .unwrap_err();
        assert!(err.downcast_ref::<DatagramTooLarge>().is_some());

        // The largest datagram that fits goes through, and so does the next small one.
        socket
            .put(Datagram::new(me, vec![7; udp::MAX_PAYLOAD_V4]))
            .await
            .unwrap();
        socket.put(Datagram::new(me, "after")).await.unwrap();
        let largest = socket.take_next().await.unwrap();
        assert_eq!(largest.len(), udp::MAX_PAYLOAD_V4);
        assert!(largest.payload.iter().all(|&b| b == 7));
        assert_eq!(socket.take_next().await.unwrap().payload, "after");
        assert!(!socket.is_drained());
    });
}

#[test]
fn datagrams_for_the_wrong_family_or_port_zero_are_refused() {
    run(async {
        let socket = open(localhost()).await;
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let err = socket.put(Datagram::new(v6, "x")).await.unwrap_err();
        assert!(err.to_string().contains("IPv6"), "{err}");
        let zero: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let err = socket.put(Datagram::new(zero, "x")).await.unwrap_err();
        assert!(err.to_string().contains("port 0"), "{err}");
        // Still usable.
        socket
            .put(Datagram::new(socket.local_addr(), "fine"))
            .await
            .unwrap();
        assert_eq!(socket.take_next().await.unwrap().payload, "fine");
    });
}

/// Sending to the broadcast address without `broadcast(true)` is refused by the kernel
/// (`EACCES`): the datagram never leaves the host. That fails the put (sent at once: nothing
/// is queued before it) and nothing else: the socket still sends to other peers.
#[cfg(unix)]
#[test]
fn a_send_refused_for_one_destination_fails_that_put_only() {
    run(async {
        let socket = open(localhost()).await;
        let other = open(localhost()).await;
        let broadcast: SocketAddr = "255.255.255.255:9".parse().unwrap();
        let err = socket
            .put(Datagram::new(broadcast, "all"))
            .await
            .unwrap_err();
        assert!(err.is_io(), "{err:?}");
        assert!(err.to_string().contains("255.255.255.255:9"), "{err}");
        assert!(!err.is_closed(), "{err:?}");
        assert!(!weir::stream::Sink::<Datagram>::is_closed(&socket));
        socket
            .put(Datagram::new(other.local_addr(), "still sending"))
            .await
            .unwrap();
        let got = take_within(&other, Duration::from_secs(5)).await.unwrap();
        assert_eq!(got.payload, "still sending");
        assert!(!socket.outbound_drained().is_realized());

        // Through the futures sink too.
        let mut sink = socket.clone();
        assert!(
            sink.send(Datagram::new(broadcast, "x"))
                .await
                .unwrap_err()
                .is_io()
        );
        // And through the send loop: a run queued at once, the refused datagram first, is
        // sent on after it (the refused one is dropped, as the network would drop it).
        let mut run = std::collections::VecDeque::from([
            Datagram::new(broadcast, "refused"),
            Datagram::new(other.local_addr(), "one"),
            Datagram::new(other.local_addr(), "two"),
        ]);
        futures::future::poll_fn(|cx| {
            futures::Sink::<Datagram>::poll_ready(std::pin::Pin::new(&mut sink), cx)
        })
        .await
        .unwrap();
        weir::stream::Sink::start_send_all(std::pin::Pin::new(&mut sink), &mut run).unwrap();
        for expected in ["one", "two"] {
            let got = take_within(&other, Duration::from_secs(5)).await.unwrap();
            assert_eq!(got.payload, expected);
        }
        assert!(!socket.outbound_drained().is_realized());

        // The inbound side keeps working.
        other
            .put(Datagram::new(socket.local_addr(), "still here"))
            .await
            .unwrap();
        assert_eq!(
            take_within(&socket, Duration::from_secs(5))
                .await
                .unwrap()
                .payload,
            "still here"
        );
        assert!(!socket.is_drained());
    });
}

/// A too-large datagram fails its put; a normal put to another peer right after still
/// arrives.
#[test]
fn a_too_large_datagram_fails_its_put_and_the_next_put_to_another_peer_arrives() {
    run(async {
        let socket = open(localhost()).await;
        let first = open(localhost()).await;
        let second = open(localhost()).await;
        let err = socket
            .put(Datagram::new(first.local_addr(), vec![0; 65_508]))
            .await
            .unwrap_err();
        assert!(err.downcast_ref::<DatagramTooLarge>().is_some(), "{err:?}");
        socket
            .put(Datagram::new(second.local_addr(), "fits"))
            .await
            .unwrap();
        let got = take_within(&second, Duration::from_secs(5)).await.unwrap();
        assert_eq!(got.payload, "fits");
        assert!(!socket.outbound_drained().is_realized());
    });
}

/// Sends to a port nobody listens on (the kernel answers with ICMP "port unreachable", which
/// some systems report on a later send or receive) do not close the socket.
#[test]
fn sends_to_a_port_with_no_listener_do_not_close_the_socket() {
    run(async {
        let socket = open(localhost()).await;
        let gone = open(localhost()).await;
        let nobody = gone.local_addr();
        let released = gone.socket_closed();
        drop(gone);
        weir::runtime::timeout(Duration::from_secs(5), released)
            .await
            .unwrap()
            .unwrap();
        let peer = open(localhost()).await;
        for round in 0..3 {
            // Each send to nobody may fail (a refused destination), never closing the socket.
            let _ = socket.put(Datagram::new(nobody, "anyone?")).await;
            socket
                .put(Datagram::new(peer.local_addr(), format!("round {round}")))
                .await
                .unwrap();
            let got = take_within(&peer, Duration::from_secs(5)).await.unwrap();
            assert_eq!(got.payload, format!("round {round}").as_str());
        }
        peer.put(Datagram::new(socket.local_addr(), "back"))
            .await
            .unwrap();
        assert_eq!(
            take_within(&socket, Duration::from_secs(5))
                .await
                .unwrap()
                .payload,
            "back"
        );
        assert!(!socket.outbound_drained().is_realized());
        assert!(!socket.is_drained());
    });
}

#[test]
fn a_broadcast_socket_says_so() {
    run(async {
        let plain = open(localhost()).await;
        let broadcast = open(localhost().broadcast(true)).await;
        assert!(!plain.is_broadcast());
        assert!(broadcast.is_broadcast());
    });
}

#[test]
fn joining_a_group_that_is_not_multicast_fails() {
    run(async {
        let options = localhost().multicast_v4(
            std::net::Ipv4Addr::new(10, 0, 0, 1),
            std::net::Ipv4Addr::UNSPECIFIED,
        );
        assert!(udp::socket(options).await.is_err());
    });
}

#[test]
fn connect_feeds_the_socket_and_drains_it() {
    run(async {
        let server = open(localhost()).await;
        let client = open(localhost()).await;
        let to = server.local_addr();
        let outbound = stream::iter((0..5).map(move |i| Datagram::new(to, format!("{i}"))));
        stream::connect(outbound, client.clone(), ConnectOptions::new());
        let received = Channel::new(8);
        stream::connect(server.clone(), received.clone(), ConnectOptions::new());
        let mut got = Vec::new();
        for _ in 0..5 {
            got.push(received.take_next().await.unwrap().payload);
        }
        assert_eq!(got, ["0", "1", "2", "3", "4"]);
    });
}

#[test]
fn closing_stops_both_loops_and_frees_the_port() {
    run(async {
        let socket = open(localhost()).await;
        let address = socket.local_addr();
        let closed = socket.socket_closed();
        socket.put(Datagram::new(address, "bye")).await.unwrap();
        socket.close();
        assert!(socket.description().closed);
        // What was queued is sent before the send loop stops.
        assert!(socket.outbound_drained().await.is_ok());
        closed.await.unwrap();

        // Once `socket_closed` is realized the OS socket is closed: the port binds again at once.
        let again = udp::socket(SocketOptions::new().address(address))
            .await
            .expect("the port is free again");
        assert_eq!(again.local_addr(), address);
    });
}

#[test]
fn dropping_every_handle_closes_the_socket() {
    run(async {
        let socket = open(localhost()).await;
        let clone = socket.clone();
        let closed = socket.socket_closed();
        drop(socket);
        assert!(!closed.is_realized(), "a handle is still alive");
        drop(clone);
        closed.await.unwrap();
    });
}

#[test]
fn closing_ends_a_pending_take() {
    run(async {
        let socket = open(localhost()).await;
        let taker = socket.clone();
        let waiting = weir::runtime::spawn(async move { taker.take_next().await });
        // Close only once the take waits on the socket (polling the state, bounded by `run`).
        while inbound_description(&socket).pending_takes == 0 {
            futures_lite::future::yield_now().await;
        }
        socket.close();
        assert_eq!(waiting.await, None);
        assert!(socket.drained().await.is_ok());
        assert_eq!(inbound_description(&socket).pending_takes, 0);
    });
}

#[test]
fn several_waiting_takers_are_all_served() {
    const TAKERS: usize = 4;
    run(async {
        let server = open(localhost()).await;
        let client = open(localhost()).await;
        let takers: Vec<_> = (0..TAKERS)
            .map(|_| {
                let server = server.clone();
                weir::runtime::spawn(async move { server.take_next().await })
            })
            .collect();
        while inbound_description(&server).pending_takes < TAKERS {
            futures_lite::future::yield_now().await;
        }
        for i in 0..TAKERS {
            client
                .put(Datagram::new(server.local_addr(), format!("{i}")))
                .await
                .unwrap();
        }
        let mut got = Vec::new();
        for taker in takers {
            got.push(taker.await.expect("a datagram for every taker").payload);
        }
        got.sort();
        assert_eq!(got, ["0", "1", "2", "3"]);
        assert_eq!(inbound_description(&server).pending_takes, 0);
    });
}

#[test]
fn a_dropped_take_loses_nothing() {
    run(async {
        let socket = open(localhost()).await;
        // A take that gives up while waiting...
        let mut take = Box::pin(socket.take_next());
        let noop = &mut std::task::Context::from_waker(std::task::Waker::noop());
        assert!(take.as_mut().poll(noop).is_pending());
        assert_eq!(inbound_description(&socket).pending_takes, 1);
        drop(take);
        assert_eq!(inbound_description(&socket).pending_takes, 0);
        // ...leaves the next datagram to the next take.
        socket
            .put(Datagram::new(socket.local_addr(), "kept"))
            .await
            .unwrap();
        assert_eq!(socket.take_next().await.unwrap().payload, "kept");
    });
}

#[test]
fn local_addr_reports_the_ephemeral_port() {
    run(async {
        let a = open(localhost()).await;
        let b = open(localhost()).await;
        assert_eq!(a.local_addr().ip().to_string(), "127.0.0.1");
        assert_ne!(a.local_addr().port(), 0);
        assert_ne!(a.local_addr(), b.local_addr());
        // The port reported is the one datagrams come from.
        a.put(Datagram::new(b.local_addr(), "who")).await.unwrap();
        assert_eq!(b.take_next().await.unwrap().peer, a.local_addr());
    });
}

#[test]
fn binding_a_taken_port_fails_with_an_io_error() {
    run(async {
        let first = open(localhost()).await;
        let err = udp::socket(SocketOptions::new().address(first.local_addr()))
            .await
            .unwrap_err();
        assert!(err.is_io(), "{err:?}");
    });
}

#[test]
fn a_slow_consumer_leaves_datagrams_in_the_kernel_and_loses_none_that_fit() {
    const COUNT: usize = 64;
    run(async {
        let server = open(localhost().receive_buffer_size(1 << 20)).await;
        let client = open(localhost()).await;
        // Nobody takes while these arrive: on loopback each is in the server's kernel buffer
        // once its send returns.
        for i in 0..COUNT {
            client
                .put(Datagram::new(server.local_addr(), format!("{i}")))
                .await
                .unwrap();
        }
        // weir holds none of them: its inbound side has no buffer, and nothing is waiting.
        let description = inbound_description(&server);
        assert_eq!(
            (description.buffer_size, description.pending_takes),
            (None, 0)
        );
        // Taken later, every one is there, in order.
        for i in 0..COUNT {
            let datagram = take_within(&server, Duration::from_secs(5))
                .await
                .unwrap_or_else(|| panic!("datagram {i} was lost"));
            assert_eq!(datagram.payload, format!("{i}"));
        }
    });
}

#[test]
fn the_kernel_buffer_sizes_are_settable() {
    run(async {
        let options = localhost()
            .receive_buffer_size(256 * 1024)
            .send_buffer_size(256 * 1024);
        let socket = open(options).await;
        // Systems round and cap the size (Linux doubles it, up to `net.core.rmem_max`).
        let size = socket.receive_buffer_size().unwrap();
        assert!(size > 0, "{size}");
        socket.close();
        socket.socket_closed().await.unwrap();
        assert!(socket.receive_buffer_size().unwrap_err().is_closed());
    });
}

#[test]
fn socket_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<UdpSocket>();
    send_sync::<Datagram>();
    send_sync::<SocketOptions>();
    send_sync::<DatagramTooLarge>();
}

#[test]
fn the_socket_works_from_a_tokio_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(support::BOUND, async {
            let a = open(localhost()).await;
            let b = open(localhost()).await;
            a.put(Datagram::new(b.local_addr(), "from tokio"))
                .await
                .unwrap();
            assert_eq!(b.take_next().await.unwrap().payload, "from tokio");
        })
        .await
        .expect("test timed out");
    });
}

#[test]
fn put_to_resolves_a_host_name() {
    run(async {
        let server = open(localhost()).await;
        let client = open(localhost()).await;
        let port = server.local_addr().port();
        assert_eq!(
            client.resolve("localhost", port).await.unwrap(),
            server.local_addr()
        );
        client.put_to("localhost", port, "by name").await.unwrap();
        client.put_to("127.0.0.1", port, "by text").await.unwrap();
        assert_eq!(server.take_next().await.unwrap().payload, "by name");
        assert_eq!(server.take_next().await.unwrap().payload, "by text");
    });
}

#[test]
fn put_to_a_host_of_the_other_family_is_refused_clearly() {
    run(async {
        let client = open(localhost()).await;
        let err = client.put_to("::1", 9, "nowhere").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "::1:9 has no IPv4 address this socket can send to"
        );
        // The socket still works.
        let me = client.local_addr();
        client.put(Datagram::new(me, "still here")).await.unwrap();
        assert_eq!(client.take_next().await.unwrap().payload, "still here");
    });
}

#[test]
fn a_buffer_after_the_socket_reads_ahead_of_a_busy_consumer() {
    use weir::stream::SourceExt;
    const COUNT: usize = 16;
    run(async {
        let server = open(localhost()).await;
        let client = open(localhost()).await;
        let ahead = SourceExt::read_ahead(server.clone(), COUNT);
        let buffer_node = Source::node(&ahead);
        for i in 0..COUNT {
            client
                .put(Datagram::new(server.local_addr(), format!("{i}")))
                .await
                .unwrap();
        }
        // The buffer's task reads the socket while nobody takes from the buffer.
        while buffer_node.description().buffer_size != Some(COUNT) {
            futures_lite::future::yield_now().await;
        }
        let mut ahead = ahead;
        for i in 0..COUNT {
            let datagram = futures::StreamExt::next(&mut ahead).await.unwrap();
            assert_eq!(datagram.payload, format!("{i}"));
        }
    });
}

#[test]
fn concurrent_takers_racing_sends_and_a_close_all_finish_and_lose_nothing() {
    const ROUNDS: usize = 50;
    const TAKERS: usize = 4;
    const SENT: usize = 8;
    run(async {
        let client = open(localhost()).await;
        for round in 0..ROUNDS {
            let server = open(localhost()).await;
            let takers: Vec<_> = (0..TAKERS)
                .map(|_| {
                    let server = server.clone();
                    weir::runtime::spawn(async move {
                        let mut got = Vec::new();
                        while let Some(datagram) = server.take_next().await {
                            got.push(datagram.payload);
                        }
                        got
                    })
                })
                .collect();
            for i in 0..SENT {
                client
                    .put(Datagram::new(server.local_addr(), format!("{i}")))
                    .await
                    .unwrap();
            }
            // Close at a different moment each round: before, while or after the takers read.
            for _ in 0..round % 5 {
                futures_lite::future::yield_now().await;
            }
            server.close();
            let mut all = Vec::new();
            for taker in takers {
                all.extend(taker.await);
            }
            // Whatever was taken was taken once, intact; the rest stayed in the kernel.
            let mut seen = HashSet::new();
            for payload in &all {
                let text = std::str::from_utf8(payload).unwrap();
                let index: usize = text.parse().unwrap();
                assert!(
                    index < SENT && seen.insert(index),
                    "{text} twice or mangled"
                );
            }
            assert_eq!(inbound_description(&server).pending_takes, 0);
            server.socket_closed().await.unwrap();
        }
    });
}

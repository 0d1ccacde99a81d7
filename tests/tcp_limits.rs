//! The TCP server's limits, from the accept core it shares with HTTP: at most
//! `max_connections` open at once, and `idle_timeout` closing quiet connections.

mod support;

use std::time::Duration;

use support::tcp::{connect, handing_server, localhost};
use support::{BOUND, run};
use weir::stream::Source;

#[test]
fn past_max_connections_the_next_client_waits_until_one_closes() {
    run(async {
        let (server, accepted) = handing_server(
            localhost()
                .max_connections(1)
                .shutdown_timeout(Duration::from_millis(100)),
        )
        .await;
        let first = connect(&server).await;
        let first_on_server = accepted.recv_timeout(BOUND).expect("the first is served");
        // The second connects (the kernel's backlog takes it) but is not accepted yet.
        let second = connect(&server).await;
        assert!(server.connection_count() <= 1);
        assert!(accepted.try_recv().is_err());
        // Once the first closes, the second is served.
        let closed = first_on_server.socket_closed();
        drop(first_on_server);
        Source::close(&first);
        drop(first);
        closed.await.unwrap();
        let second_on_server = accepted.recv_timeout(BOUND).expect("the second is served");
        second.put("hello").await.unwrap();
        assert_eq!(second_on_server.take_next().await.unwrap(), "hello");
        assert_eq!(server.connection_count(), 1);
        server.close().await.unwrap();
    });
}

#[test]
fn a_connection_quiet_for_the_idle_timeout_is_closed_with_a_timeout() {
    run(async {
        let options = localhost()
            .idle_timeout(Duration::from_millis(200))
            .shutdown_timeout(Duration::from_millis(100));
        let (server, accepted) = handing_server(options).await;
        let client = connect(&server).await;
        let on_server = accepted.recv_timeout(BOUND).unwrap();
        let cause = on_server.drained();
        // Nothing is sent: the server closes it, and the client sees the end.
        assert_eq!(client.take_next().await, None);
        assert!(cause.await.unwrap_err().is_timeout());
        server.close().await.unwrap();
    });
}

#[test]
fn traffic_keeps_a_connection_open_past_the_idle_timeout() {
    run(async {
        let options = localhost()
            .idle_timeout(Duration::from_secs(2))
            .shutdown_timeout(Duration::from_millis(100));
        let (server, accepted) = handing_server(options).await;
        let client = connect(&server).await;
        let on_server = accepted.recv_timeout(BOUND).unwrap();
        // Five messages 200 ms apart: never 2 s quiet, so the connection stays open, and
        // every message arrives.
        for i in 0..5 {
            client.put(format!("{i}")).await.unwrap();
            assert_eq!(on_server.take_next().await.unwrap(), format!("{i}"));
            weir::runtime::sleep(Duration::from_millis(200)).await;
        }
        assert!(!on_server.socket_closed().is_realized());
        server.close().await.unwrap();
    });
}

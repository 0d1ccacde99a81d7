//! connect: propagation, backpressure, fan-out, close propagation, timeouts, the graph.

mod support;

use std::time::Duration;

use support::run;
use weir::Error;
use weir::stream::{self, Channel, ConnectOptions, TakeError, connect, connect_fan_out};

/// Waits until `condition` holds: the state a test checks next is then quiescent (a connect task
/// is blocked where the test expects it). Fails, saying `what` it waited for, after half of
/// `run`'s bound.
async fn until(what: &str, mut condition: impl FnMut() -> bool) {
    let reached = weir::runtime::timeout(support::BOUND / 2, async {
        while !condition() {
            futures_lite::future::yield_now().await;
        }
    })
    .await;
    assert!(reached.is_ok(), "never reached: {what}");
}

async fn drain<T>(s: &Channel<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(m) = s.take_next().await {
        out.push(m);
    }
    out
}

#[test]
fn smoke() {
    run(async {
        let (a, b) = (Channel::new(4), Channel::new(4));
        let done = connect(a.clone(), b.clone(), ConnectOptions::new());
        a.put(1).await.unwrap();
        a.close();
        assert_eq!(drain(&b).await, vec![1]);
        done.await.unwrap();
    });
}

#[test]
fn downstream_false_leaves_the_sink_open() {
    run(async {
        let (a, b) = (Channel::new(1), Channel::new(4));
        let done = connect(
            a.clone(),
            b.clone(),
            ConnectOptions::new().downstream(false),
        );
        a.put(1).await.unwrap();
        a.close();
        done.await.unwrap();
        assert!(!b.is_closed());
        assert_eq!(b.take_next().await, Some(1));
    });
}

#[test]
fn a_closed_sink_closes_its_only_source_at_once() {
    run(async {
        let (a, b) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
        let done = connect(a.clone(), b.clone(), ConnectOptions::new());
        b.close();
        // No message needed: the source closes as soon as its last sink does.
        a.closed().await.unwrap();
        done.await.unwrap();
    });
}

#[test]
fn upstream_closes_the_source_at_once_even_with_other_sinks() {
    run(async {
        let source = Channel::<u8>::new(1);
        let (a, b) = (Channel::new(4), Channel::new(4));
        connect_fan_out(source.clone(), a.clone(), ConnectOptions::new());
        connect_fan_out(
            source.clone(),
            b.clone(),
            ConnectOptions::new().upstream(true),
        );
        b.close();
        source.closed().await.unwrap();
        assert!(a.is_closed() || drain(&a).await.is_empty());
    });
}

#[test]
fn without_upstream_a_closed_sink_is_detached_and_the_others_go_on() {
    run(async {
        let source = Channel::new(1);
        let (a, b) = (Channel::new(4), Channel::new(4));
        connect_fan_out(source.clone(), a.clone(), ConnectOptions::new());
        let b_done = connect_fan_out(source.clone(), b.clone(), ConnectOptions::new());
        b.close();
        b_done.await.unwrap();
        assert!(!source.is_closed());
        source.put(7).await.unwrap();
        source.close();
        assert_eq!(drain(&a).await, vec![7]);
    });
}

#[test]
fn fan_out_sends_every_message_to_every_sink_at_the_pace_of_the_slowest() {
    run(async {
        let source = Channel::new(8);
        let (a, b, slow) = (Channel::new(8), Channel::new(8), Channel::unbuffered());
        for sink in [&a, &b, &slow] {
            connect_fan_out(source.clone(), sink.clone(), ConnectOptions::new());
        }
        for i in 0..3 {
            source.put(i).await.unwrap();
        }
        source.close();
        assert_eq!(
            (a.take_next().await, b.take_next().await),
            (Some(0), Some(0))
        );
        // Quiescent: the fan-out waits for `slow` to take 0...
        until("the fan-out waits for `slow` to take 0", || {
            slow.description().pending_puts == 1
        })
        .await;
        // ...so 1 is not taken from the source yet.
        assert_eq!(a.try_take(Duration::ZERO).await, Err(TakeError::Timeout));
        assert_eq!(source.description().buffer_size, Some(2));
        assert_eq!(a.description().buffer_size, Some(0));
        assert_eq!(drain(&slow).await, vec![0, 1, 2]);
        assert_eq!(drain(&a).await, vec![1, 2]);
        assert_eq!(drain(&b).await, vec![1, 2]);
    });
}

#[test]
fn a_sink_that_times_out_is_closed_and_detached() {
    run(async {
        let source = Channel::new(8);
        let (fast, stuck) = (Channel::new(8), Channel::unbuffered());
        connect_fan_out(source.clone(), fast.clone(), ConnectOptions::new());
        let stuck_done = connect_fan_out(
            source.clone(),
            stuck.clone(),
            ConnectOptions::new().timeout(Duration::from_millis(10)),
        );
        for i in 0..4 {
            source.put(i).await.unwrap();
        }
        source.close();
        assert!(stuck_done.await.unwrap_err().is_timeout());
        assert!(stuck.is_closed());
        assert_eq!(drain(&fast).await, vec![0, 1, 2, 3]);
    });
}

#[test]
fn the_source_drain_cause_reaches_the_connection() {
    run(async {
        let (a, b) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
        let done = connect(a.clone(), b.clone(), ConnectOptions::new());
        a.close_with_error(Error::protocol("bad input"));
        assert!(done.await.unwrap_err().is_protocol());
        assert!(b.is_closed());
    });
}

#[test]
fn connecting_a_drained_source_closes_the_sink() {
    run(async {
        let (a, b) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
        a.close();
        connect(a.clone(), b.clone(), ConnectOptions::new())
            .await
            .unwrap();
        assert!(b.is_closed());
    });
}

#[test]
fn a_chain_of_eight_keeps_order_and_loses_nothing() {
    run(async {
        let hops: Vec<Channel<u32>> = (0..9).map(|i| Channel::new(i % 3)).collect();
        for pair in hops.windows(2) {
            connect(pair[0].clone(), pair[1].clone(), ConnectOptions::new());
        }
        let first = hops[0].clone();
        let producer = weir::runtime::spawn(async move {
            for i in 0..1000 {
                first.put(i).await.unwrap();
            }
            first.close();
        });
        assert_eq!(drain(&hops[8]).await, (0..1000).collect::<Vec<_>>());
        producer.await;
    });
}

#[test]
fn connect_takes_any_source() {
    run(async {
        let sink = Channel::new(4);
        connect(
            stream::iter(vec![1, 2, 3]),
            sink.clone(),
            ConnectOptions::new(),
        );
        assert_eq!(drain(&sink).await, vec![1, 2, 3]);
    });
}

#[test]
fn the_graph_shows_connections_and_forgets_them_when_they_end() {
    run(async {
        let (a, b) = (Channel::<u8>::new(1), Channel::<u8>::new(2));
        connect(
            a.clone(),
            b.clone(),
            ConnectOptions::new().description("a to b"),
        );
        let edges = a.node().downstream();
        assert_eq!(edges.len(), 1);
        assert_eq!(edges[0].description.as_deref(), Some("a to b"));
        assert_eq!(edges[0].target.description().buffer_capacity, Some(2));
        let text = a.node().render_text();
        assert!(text.contains("-[a to b]->"), "{text}");
        let dot = a.node().render_dot();
        assert!(dot.contains("n0 -> n1 [label=\"a to b\"]"), "{dot}");
        b.close();
        a.closed().await.unwrap();
        // The connection ended: its edge is gone.
        assert!(
            a.node().downstream().is_empty(),
            "{}",
            a.node().render_text()
        );
    });
}

#[test]
fn a_sink_connected_before_a_put_always_receives_it() {
    // Many rounds: the race this guards against showed up in about a third of them.
    run(async {
        for _ in 0..300 {
            let source = Channel::new(1);
            let (a, b) = (Channel::new(1), Channel::new(1));
            connect_fan_out(source.clone(), a.clone(), ConnectOptions::new());
            connect_fan_out(source.clone(), b.clone(), ConnectOptions::new());
            source.put(1).await.unwrap();
            source.close();
            assert_eq!(drain(&a).await, vec![1]);
            assert_eq!(drain(&b).await, vec![1]);
        }
    });
}

#[test]
fn a_sink_closing_while_a_message_waits_for_it_is_detached() {
    run(async {
        let (a, b) = (Channel::<u32>::new(1), Channel::<u32>::unbuffered());
        let done = connect(a.clone(), b.clone(), ConnectOptions::new());
        a.put(1).await.unwrap();
        // Wait (bounded by `run`) until the connection offered 1 to `b`, where it waits.
        while b.description().pending_puts == 0 {
            futures_lite::future::yield_now().await;
        }
        // Closing `b` ends that wait.
        b.close();
        done.await.unwrap();
        a.closed().await.unwrap();
        assert_eq!(
            b.take_next().await,
            Some(1),
            "a pending message stays takeable"
        );
    });
}

#[test]
fn an_error_travels_down_a_chain_of_connections() {
    run(async {
        let hops: Vec<Channel<u8>> = (0..4).map(|_| Channel::new(1)).collect();
        for pair in hops.windows(2) {
            connect(pair[0].clone(), pair[1].clone(), ConnectOptions::new());
        }
        hops[0].close_with_error(Error::protocol("bad frame"));
        let cause = weir::stream::Source::drained(&hops[3]).await.unwrap_err();
        assert!(cause.is_protocol());
    });
}

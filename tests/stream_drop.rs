//! Dropping handles closes streams (async-channel's rule), for every kind of source and sink,
//! and connect-then-drop leaks neither tasks nor queues.

mod support;

use support::{Connection, run};
use weir::stream::{self, Channel, ConnectOptions, SourceExt, connect, connect_fan_out};

/// Waits (bounded by `run`) until `f` holds, yielding to weir's executor in between.
async fn until(mut f: impl FnMut() -> bool) {
    while !f() {
        futures_lite::future::yield_now().await;
        weir::runtime::sleep(std::time::Duration::from_millis(1)).await;
    }
}

#[test]
fn dropping_both_handles_ends_the_connection() {
    run(async {
        let (source, sink) = (Channel::new(1), Channel::new(1));
        let done = connect(source.clone(), sink.clone(), ConnectOptions::new());
        source.put(1).await.unwrap();
        drop(source);
        drop(sink);
        done.await.unwrap();
    });
}

#[test]
fn the_last_putter_gone_closes_and_buffered_messages_stay_takeable() {
    run(async {
        let s = Channel::new(2);
        let reader = s.clone();
        s.put(1).await.unwrap();
        drop(s);
        // `reader` can put too, so the channel is still open...
        assert!(!reader.is_closed());
        let view = stream::source_only(reader);
        // ...but a take-only view cannot: now it closes, and the buffered message stays.
        assert!(view.is_closed());
        assert_eq!(view.take_next().await, Some(1));
        assert_eq!(view.take_next().await, None);
    });
}

#[test]
fn the_last_taker_gone_fails_puts_and_ends_connections_into_it() {
    run(async {
        let (source, sink) = (Channel::new(1), Channel::new(1));
        let done = connect(source.clone(), sink.clone(), ConnectOptions::new());
        let writer = stream::sink_only(sink);
        // Only the put-only view is left on `sink`: it closed.
        assert!(writer.put(5).await.unwrap_err().is_closed());
        done.await.unwrap();
        // No sink left: the connection closed the source.
        source.closed().await.unwrap();
    });
}

#[test]
fn a_pending_put_fails_when_the_last_taker_goes() {
    run(async {
        let s = Channel::unbuffered();
        let writer = stream::sink_only(s.clone());
        let put =
            weir::runtime::spawn(async move { writer.put(1).await.map_err(|e| e.into_inner()) });
        until(|| s.description().pending_puts == 1).await;
        drop(s);
        assert_eq!(put.await, Err(1));
    });
}

#[test]
fn a_combinator_releases_its_upstream() {
    run(async {
        let source = Channel::new(1);
        let out = Channel::new(4);
        let doubled = SourceExt::map_each(source.clone(), |n: u32| n * 2);
        let done = connect(doubled, out.clone(), ConnectOptions::new());
        source.put(2).await.unwrap();
        drop(source);
        assert_eq!(out.take_next().await, Some(4));
        assert_eq!(out.take_next().await, None);
        done.await.unwrap();
    });
}

#[test]
fn a_splice_counts_one_role_per_half() {
    run(async {
        let (outbound, inbound) = (Channel::<u8>::new(1), Channel::<u8>::new(1));
        let duplex = stream::splice(outbound.clone(), inbound.clone());
        drop(inbound);
        // The splice only takes from `inbound`: it closed.
        assert!(weir::stream::Source::is_drained(&duplex));
        drop(outbound);
        // The splice only puts into `outbound`: it closed too.
        assert!(weir::stream::Sink::<u8>::is_closed(&duplex));
    });
}

#[test]
fn connect_moves_messages_that_are_not_clone() {
    run(async {
        let (source, sink) = (Channel::new(2), Channel::new(2));
        let done = connect(source.clone(), sink.clone(), ConnectOptions::new());
        source.put(Connection(1)).await.unwrap();
        source.close();
        assert_eq!(sink.take_next().await, Some(Connection(1)));
        assert_eq!(sink.take_next().await, None);
        done.await.unwrap();
        // A second connect of a non-Clone source cannot fan out: a clear error.
        let source = Channel::<Connection>::new(1);
        let (a, b) = (Channel::new(1), Channel::new(1));
        let _first = connect(source.clone(), a.clone(), ConnectOptions::new());
        let error = connect(source.clone(), b.clone(), ConnectOptions::new())
            .await
            .unwrap_err();
        assert!(error.to_string().contains("connect_fan_out"), "{error}");
        assert!(!b.is_closed());
        // With Clone messages, connect_fan_out lets plain connects join.
        let source = Channel::<u8>::new(1);
        let (a, b) = (Channel::new(1), Channel::new(1));
        connect_fan_out(source.clone(), a.clone(), ConnectOptions::new());
        connect(source.clone(), b.clone(), ConnectOptions::new());
        source.put(3).await.unwrap();
        assert_eq!(
            (a.take_next().await, b.take_next().await),
            (Some(3), Some(3))
        );
        source.close();
    });
}

#[test]
fn ten_thousand_connect_then_drop_rounds_leave_no_task_or_queue() {
    run(async {
        // Other tests of this binary run in parallel: count what this test leaves, in bulk.
        for _ in 0..10_000 {
            let (source, sink) = (Channel::new(1), Channel::new(1));
            drop(connect(source.clone(), sink.clone(), ConnectOptions::new()));
            source.put(1u8).await.unwrap();
            drop(source);
            drop(sink);
        }
        let settled = weir::runtime::timeout(
            support::BOUND / 2,
            until(|| stream::live_connections() < 20 && stream::live_queues() < 60),
        )
        .await;
        assert!(
            settled.is_ok(),
            "still live after 10 000 rounds: {} connect tasks, {} queues",
            stream::live_connections(),
            stream::live_queues()
        );
    });
}

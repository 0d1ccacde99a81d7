//! EventBus: publish/subscribe by topic, with backpressure, removal of closed subscribers, the
//! stream factory and introspection.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use support::run;
use weir::stream::{Channel, EventBus, Source};

#[test]
fn smoke() {
    run(async {
        let bus = EventBus::with_stream_factory(|| Channel::new(1));
        let sub = bus.subscribe("t");
        assert!(bus.publish("t", 1).await.unwrap());
        assert_eq!(sub.take_next().await, Some(1));
    });
}

#[test]
fn publish_without_subscribers_is_false() {
    run(async {
        let bus = EventBus::<&str, u8>::new();
        let published = bus.publish("nobody", 1);
        assert!(published.is_realized(), "nothing to wait for");
        assert!(!published.await.unwrap());

        let _other = bus.subscribe("somebody");
        assert!(!bus.publish("nobody", 2).await.unwrap());
    });
}

#[test]
fn every_subscriber_gets_every_message_in_order() {
    run(async {
        let bus = EventBus::with_stream_factory(|| Channel::new(100));
        let subscribers: Vec<_> = (0..3).map(|_| bus.subscribe("t")).collect();
        let other = bus.subscribe("other");
        for n in 0..50 {
            assert!(bus.publish("t", n).await.unwrap());
        }
        for sub in &subscribers {
            let mut got = Vec::new();
            for _ in 0..50 {
                got.push(sub.take_next().await.unwrap());
            }
            assert_eq!(got, (0..50).collect::<Vec<_>>());
        }
        assert_eq!(
            other.try_take(std::time::Duration::ZERO).await,
            Err(weir::stream::TakeError::Timeout),
            "other topics see nothing"
        );
    });
}

#[test]
fn publish_completes_only_once_every_subscriber_accepted() {
    run(async {
        let bus = EventBus::<&str, u32>::new(); // unbuffered subscribers
        let a = bus.subscribe("t");
        let b = bus.subscribe("t");
        let published = bus.publish("t", 5);
        assert!(!published.is_realized());
        assert_eq!(a.take_next().await, Some(5));
        assert!(!published.is_realized(), "b has not taken it yet");
        assert_eq!(b.take_next().await, Some(5));
        assert!(published.await.unwrap());
    });
}

#[test]
fn concurrent_consumers_see_every_published_message() {
    run(async {
        let bus = EventBus::<u8, u32>::new();
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let sub = bus.subscribe(1);
                weir::runtime::spawn(async move {
                    let mut got = Vec::new();
                    while let Some(n) = sub.take_next().await {
                        got.push(n);
                        if n == 99 {
                            break;
                        }
                    }
                    got
                })
            })
            .collect();
        for n in 0..100 {
            assert!(bus.publish(&1, n).await.unwrap());
        }
        for consumer in consumers {
            assert_eq!(consumer.await, (0..100).collect::<Vec<_>>());
        }
    });
}

#[test]
fn closed_subscribers_are_removed_at_once() {
    run(async {
        let bus = EventBus::<String, u8>::new();
        let a = bus.subscribe("t".to_string());
        let b = bus.subscribe("t".to_string());
        assert_eq!(bus.subscriber_count("t"), 2);
        a.close();
        assert_eq!(bus.subscriber_count("t"), 1);
        b.close();
        assert_eq!(bus.subscriber_count("t"), 0);
        assert!(!bus.is_active("t"));
        assert!(bus.topics().is_empty(), "an empty topic is forgotten");
        assert!(!bus.publish("t", 1).await.unwrap());
    });
}

#[test]
fn a_subscriber_closing_while_a_publish_waits_is_not_waited_for() {
    run(async {
        let bus = EventBus::<&str, u32>::new();
        let a = bus.subscribe("t");
        let b = bus.subscribe("t");
        let published = bus.publish("t", 1);
        assert_eq!(a.take_next().await, Some(1));
        b.close();
        assert!(published.await.unwrap());
        assert_eq!(bus.subscriber_count("t"), 1);
    });
}

#[test]
fn a_subscriber_closed_from_the_start_is_never_counted() {
    run(async {
        let bus = EventBus::<&str, u32>::with_stream_factory(|| {
            let channel = Channel::new(1);
            channel.close();
            channel
        });
        let sub = bus.subscribe("t");
        assert!(sub.is_drained());
        assert_eq!(bus.subscriber_count("t"), 0);
        assert!(!bus.publish("t", 1).await.unwrap());
    });
}

#[test]
fn the_stream_factory_makes_every_subscriber_stream() {
    run(async {
        let made = Arc::new(AtomicUsize::new(0));
        let counter = made.clone();
        let bus = EventBus::<&str, u8>::with_stream_factory(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Channel::builder()
                .capacity(3)
                .description("subscriber")
                .build()
        });
        let a = bus.subscribe("x");
        let _b = bus.subscribe("y");
        assert_eq!(made.load(Ordering::SeqCst), 2);
        let description = a.description();
        assert_eq!(description.buffer_capacity, Some(3));
        assert_eq!(description.label.as_deref(), Some("subscriber"));
        // Three messages fit without anybody taking.
        for n in 0..3 {
            assert!(bus.publish("x", n).await.unwrap());
        }
        assert!(!bus.publish("x", 3).is_realized(), "the fourth waits");
    });
}

#[test]
fn the_default_factory_makes_unbuffered_streams() {
    let bus = EventBus::<&str, u8>::default();
    let sub = bus.subscribe("t");
    assert_eq!(sub.description().buffer_capacity, Some(0));
}

#[test]
fn introspection_reports_topics_and_subscribers() {
    let bus = EventBus::<String, u8>::new();
    assert!(bus.topics().is_empty());
    assert!(!bus.is_active("a"));
    let _a1 = bus.subscribe("a".to_string());
    let _a2 = bus.subscribe("a".to_string());
    let b = bus.subscribe("b".to_string());
    assert!(bus.is_active("a") && bus.is_active("b"));
    assert_eq!(bus.subscriber_count("a"), 2);
    assert_eq!(bus.subscriber_count("missing"), 0);
    let mut topics = bus.topics();
    topics.sort();
    assert_eq!(topics, vec!["a".to_string(), "b".to_string()]);
    b.close();
    assert_eq!(bus.topics(), vec!["a".to_string()]);
    let debug = format!("{bus:?}");
    assert!(debug.contains("topics: 1"), "{debug}");
}

#[test]
fn clones_share_the_bus() {
    run(async {
        let bus = EventBus::with_stream_factory(|| Channel::new(1));
        let other = bus.clone();
        let sub = other.subscribe(7u64);
        assert!(bus.publish(&7, "hi").await.unwrap());
        assert_eq!(sub.take_next().await, Some("hi"));
    });
}

#[test]
fn a_dropped_bus_leaves_subscribers_usable() {
    run(async {
        let bus = EventBus::with_stream_factory(|| Channel::new(1));
        let sub = bus.subscribe(());
        bus.publish(&(), 1).await.unwrap();
        drop(bus);
        assert_eq!(sub.take_next().await, Some(1));
        sub.close(); // the removal callback finds no bus: nothing happens
        assert!(sub.is_drained());
    });
}

#[test]
fn dropping_a_subscription_unsubscribes_it() {
    support::run(async {
        let bus = weir::stream::EventBus::<&str, u32>::new();
        let kept = bus.subscribe("t");
        drop(bus.subscribe("t"));
        assert_eq!(bus.subscriber_count("t"), 1);
        let published = bus.publish("t", 1);
        assert_eq!(kept.take_next().await, Some(1));
        assert!(
            published.await.unwrap(),
            "the dropped subscriber was not waited for"
        );
    });
}

#[test]
fn sliding_subscribers_keep_the_latest_and_never_hold_up_a_publish() {
    run(async {
        let bus = EventBus::with_stream_factory(|| weir::stream::sliding(3));
        let slow = bus.subscribe("t");
        let fast = bus.subscribe("t");
        for n in 0..10 {
            assert!(bus.publish("t", n).is_realized(), "publish {n} waited");
            assert_eq!(fast.take_next().await, Some(n));
        }
        for n in 7..10 {
            assert_eq!(slow.take_next().await, Some(n));
        }
        assert_eq!(slow.description().kind, "sliding-stream");
    });
}

#[test]
fn dropping_subscribers_keep_the_first_and_never_hold_up_a_publish() {
    run(async {
        let bus = EventBus::with_stream_factory(|| weir::stream::dropping(3));
        let slow = bus.subscribe("t");
        for n in 0..10 {
            assert!(bus.publish("t", n).await.unwrap());
        }
        for n in 0..3 {
            assert_eq!(slow.take_next().await, Some(n));
        }
        // Room again: the next message is kept.
        assert!(bus.publish("t", 10).await.unwrap());
        assert_eq!(slow.take_next().await, Some(10));
    });
}

#[test]
fn a_closed_overflowing_subscriber_leaves_the_bus() {
    run(async {
        let bus = EventBus::with_stream_factory(|| weir::stream::sliding(1));
        let subscriber = bus.subscribe("t");
        assert!(bus.publish("t", 1).await.unwrap());
        subscriber.close();
        assert_eq!(bus.subscriber_count("t"), 0);
        assert!(
            !bus.publish("t", 2).await.unwrap(),
            "nobody left to accept it"
        );
    });
}

#[test]
fn publishes_not_awaited_leave_no_pending_puts_and_no_tasks() {
    let spawned = Arc::new(AtomicUsize::new(0));
    let count = spawned.clone();
    // Counts every task weir spawns from this thread while in scope.
    let counting = weir::runtime::Executor::new(move |task| {
        count.fetch_add(1, Ordering::SeqCst);
        weir::runtime::Executor::pool().spawn(task);
    });
    // The first subscriber has room for one message, the second for all of them.
    let made = AtomicUsize::new(0);
    let bus = EventBus::with_stream_factory(move || match made.fetch_add(1, Ordering::SeqCst) {
        0 => Channel::new(1),
        _ => Channel::new(20_000),
    });
    let full = bus.subscribe("t");
    let roomy = bus.subscribe("t");
    counting.enter(|| {
        assert!(bus.publish("t", 0).is_realized(), "both had room");
        for n in 1..=10_000 {
            // Not awaited: `full` has no room, so its pending put is withdrawn at once.
            drop(bus.publish("t", n));
        }
    });
    assert_eq!(full.description().pending_puts, 0);
    assert_eq!(roomy.description().pending_puts, 0);
    assert_eq!(spawned.load(Ordering::SeqCst), 0, "no task per publish");
    run(async {
        // What had room at once was delivered.
        assert_eq!(full.take_next().await, Some(0));
        for n in 0..=10_000 {
            assert_eq!(roomy.take_next().await, Some(n));
        }
        // Awaited publishes keep their backpressure.
        let published = bus.publish("t", 20_000);
        assert!(published.is_realized(), "room again in both");
        published.await.unwrap();
        let waiting = bus.publish("t", 20_001);
        assert!(!waiting.is_realized(), "`full` is full again");
        assert_eq!(full.description().pending_puts, 1);
        assert_eq!(full.take_next().await, Some(20_000));
        assert!(waiting.await.unwrap());
        assert_eq!(full.take_next().await, Some(20_001));
        assert_eq!(roomy.take_next().await, Some(20_000));
        assert_eq!(roomy.take_next().await, Some(20_001));
    });
}

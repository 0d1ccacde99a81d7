//! Property tests of connect: chains of 1..=8 hops with fan-out 1..=4 and random buffer sizes
//! lose nothing, duplicate nothing and keep order under random interleavings (yield
//! injection); close propagation follows the option table. `PROPTEST_CASES` raises the count.

mod support;

use futures_lite::future::yield_now;
use proptest::prelude::*;
use weir::stream::{Channel, ConnectOptions, connect, connect_fan_out};

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
    ProptestConfig::with_cases(cases)
}

/// Yields `n % 3` times: a cheap way to shuffle task interleavings.
async fn maybe_yield(n: u8) {
    for _ in 0..n % 3 {
        yield_now().await;
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn chains_with_fan_out_deliver_everything_in_order(
        input in prop::collection::vec(any::<u16>(), 0..200),
        buffers in prop::collection::vec(0usize..=64, 1..=8),
        fan_out in 1usize..=4,
        leaf_buffers in prop::collection::vec(0usize..=64, 4),
        yields in prop::collection::vec(any::<u8>(), 1..32),
    ) {
        let hops: Vec<Channel<u16>> = buffers.iter().map(|&b| Channel::new(b)).collect();
        for pair in hops.windows(2) {
            connect(pair[0].clone(), pair[1].clone(), ConnectOptions::new());
        }
        let leaves: Vec<Channel<u16>> =
            leaf_buffers[..fan_out].iter().map(|&b| Channel::new(b)).collect();
        for leaf in &leaves {
            connect_fan_out(hops[hops.len() - 1].clone(), leaf.clone(), ConnectOptions::new());
        }
        let first = hops[0].clone();
        let (to_send, producer_yields) = (input.clone(), yields.clone());
        let producer = weir::runtime::spawn(async move {
            for (i, m) in to_send.into_iter().enumerate() {
                first.put(m).await.unwrap();
                maybe_yield(producer_yields[i % producer_yields.len()]).await;
            }
            first.close();
        });
        let consumers: Vec<_> = leaves
            .into_iter()
            .enumerate()
            .map(|(c, leaf)| {
                let yields = yields.clone();
                weir::runtime::spawn(async move {
                    let mut got = Vec::new();
                    while let Some(m) = leaf.take_next().await {
                        got.push(m);
                        maybe_yield(yields[(got.len() + c) % yields.len()]).await;
                    }
                    got
                })
            })
            .collect();
        let outputs = support::run(async move {
            producer.await;
            let mut outputs = Vec::new();
            for consumer in consumers {
                outputs.push(consumer.await);
            }
            outputs
        });
        for output in outputs {
            prop_assert_eq!(&output, &input);
        }
    }

    #[test]
    fn close_propagation_follows_the_option_table(
        downstream in any::<bool>(),
        upstream in any::<bool>(),
        other_sinks in 0usize..=2,
        close_source_first in any::<bool>(),
    ) {
        support::run(async move {
            let source = Channel::<u8>::new(1);
            let sink = Channel::<u8>::new(1);
            let others: Vec<Channel<u8>> = (0..other_sinks).map(|_| Channel::new(1)).collect();
            for other in &others {
                connect_fan_out(source.clone(), other.clone(), ConnectOptions::new());
            }
            let done = connect_fan_out(
                source.clone(),
                sink.clone(),
                ConnectOptions::new().downstream(downstream).upstream(upstream),
            );
            if close_source_first {
                source.close();
                done.await.unwrap();
                // downstream: the sink closes when the source drains.
                assert_eq!(sink.is_closed(), downstream);
            } else {
                sink.close();
                done.await.unwrap();
                // upstream, or no sink left: the source closes at once.
                let expect_closed = upstream || other_sinks == 0;
                if expect_closed {
                    source.closed().await.unwrap();
                } else {
                    assert!(!source.is_closed());
                }
            }
        });
    }
}

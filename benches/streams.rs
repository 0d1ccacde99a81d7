//! Benchmarks of weir's streams against their peers, on the same work, alternating, several
//! rounds, in one process.
//!
//! - `stream_hop`: a producer task, one weir channel (buffer 1024), a consumer task, 10M `u64`;
//!   against an async-channel `bounded(1024)`.
//! - `pipeline`: map, filter, map over 10M items of an iterator source folded into a sum;
//!   against `futures::stream::iter(..).map(..).filter(..).map(..)` folded.
//! - `connect_chain`: 8 connected channels (buffer 1024), 1M items; against 8 async-channel
//!   hops with a forwarding task each.
//! - `bus_fanout`: one publisher, 4 subscribers, 1M messages; against async-broadcast. The peer
//!   overflows (drops the oldest) where weir applies backpressure: its channels are sized so
//!   that it never overflows here, which is the fair comparison of the delivery cost.
//!
//! Every task runs on weir's executor (one worker per core) for both sides.
//!
//! ```text
//! cargo bench --bench streams [SCENARIO_SUBSTRING...]
//! ```
//!
//! One `ratio <scenario> <x>` line per scenario, x = weir median / peer median (below 1.0 weir
//! is faster).

mod support;

use futures::StreamExt as _;
use weir::runtime::{block_on, spawn};
use weir::stream::{self, Channel, ConnectOptions, EventBus, SourceExt, connect};

const HOP_ITEMS: u64 = 10_000_000;
const PIPELINE_ITEMS: u64 = 10_000_000;
const CHAIN_ITEMS: u64 = 1_000_000;
const BUS_MESSAGES: u64 = 1_000_000;
const SUBSCRIBERS: usize = 4;
const BUFFER: usize = 1024;

fn expected_sum(n: u64) -> u64 {
    n * (n - 1) / 2
}

fn weir_hop() -> u64 {
    let s = Channel::new(BUFFER);
    let producer = s.clone();
    let producer = spawn(async move {
        for i in 0..HOP_ITEMS {
            producer.put(i).await.unwrap();
        }
        producer.close();
    });
    let consumer = spawn(async move {
        let mut sum = 0u64;
        while let Some(i) = Channel::take_next(&s).await {
            sum += i;
        }
        sum
    });
    block_on(async {
        producer.await;
        consumer.await
    })
}

fn async_channel_hop() -> u64 {
    let (tx, rx) = async_channel::bounded(BUFFER);
    let producer = spawn(async move {
        for i in 0..HOP_ITEMS {
            tx.send(i).await.unwrap();
        }
    });
    let consumer = spawn(async move {
        let mut sum = 0u64;
        while let Ok(i) = rx.recv().await {
            sum += i;
        }
        sum
    });
    block_on(async {
        producer.await;
        consumer.await
    })
}

fn weir_chain() -> u64 {
    let hops: Vec<Channel<u64>> = (0..9).map(|_| Channel::new(BUFFER)).collect();
    for pair in hops.windows(2) {
        connect(pair[0].clone(), pair[1].clone(), ConnectOptions::new());
    }
    let first = hops[0].clone();
    let last = hops[8].clone();
    let producer = spawn(async move {
        for i in 0..CHAIN_ITEMS {
            first.put(i).await.unwrap();
        }
        first.close();
    });
    block_on(async move {
        let mut sum = 0u64;
        while let Some(i) = Channel::take_next(&last).await {
            sum += i;
        }
        producer.await;
        sum
    })
}

fn async_channel_chain() -> u64 {
    let hops: Vec<_> = (0..9)
        .map(|_| async_channel::bounded::<u64>(BUFFER))
        .collect();
    for pair in hops.windows(2) {
        let (rx, tx) = (pair[0].1.clone(), pair[1].0.clone());
        spawn(async move {
            while let Ok(i) = rx.recv().await {
                if tx.send(i).await.is_err() {
                    break;
                }
            }
        })
        .detach();
    }
    let first = hops[0].0.clone();
    let last = hops[8].1.clone();
    drop(hops);
    let producer = spawn(async move {
        for i in 0..CHAIN_ITEMS {
            first.send(i).await.unwrap();
        }
    });
    block_on(async move {
        let mut sum = 0u64;
        while let Ok(i) = last.recv().await {
            sum += i;
        }
        producer.await;
        sum
    })
}

fn weir_pipeline() -> u64 {
    let source = stream::iter(0..PIPELINE_ITEMS);
    let chain = SourceExt::map_each(source, |x| x * 3);
    let chain = SourceExt::filter_each(chain, |x| x % 2 == 0);
    let chain = SourceExt::map_each(chain, |x| x / 2);
    block_on(chain.fold(0u64, |sum, x| async move { sum.wrapping_add(x) }))
}

fn futures_pipeline() -> u64 {
    let chain = futures::stream::iter(0..PIPELINE_ITEMS)
        .map(|x| x * 3)
        .filter(|x| futures::future::ready(x % 2 == 0))
        .map(|x| x / 2);
    block_on(chain.fold(0u64, |sum, x| async move { sum.wrapping_add(x) }))
}

fn pipeline_expected() -> u64 {
    (0..PIPELINE_ITEMS)
        .map(|x| x * 3)
        .filter(|x| x % 2 == 0)
        .map(|x| x / 2)
        .fold(0u64, u64::wrapping_add)
}

/// The last message of a bus run: subscribers stop when they see it.
const END: u64 = u64::MAX;

fn weir_bus() -> u64 {
    let bus = EventBus::<&str, u64>::with_stream_factory(|| Channel::new(BUFFER));
    let consumers: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| {
            let mut subscriber = bus.subscribe("ticks");
            spawn(async move {
                let mut sum = 0u64;
                while let Some(i) = subscriber.next().await {
                    if i == END {
                        break;
                    }
                    sum += i;
                }
                sum
            })
        })
        .collect();
    block_on(async move {
        for i in (0..BUS_MESSAGES).chain([END]) {
            assert!(bus.publish("ticks", i).await.unwrap());
        }
        let mut total = 0;
        for consumer in consumers {
            total += consumer.await;
        }
        total
    })
}

fn async_broadcast_bus() -> u64 {
    let (tx, rx) = async_broadcast::broadcast::<u64>(BUFFER);
    let consumers: Vec<_> = (0..SUBSCRIBERS)
        .map(|_| {
            let mut receiver = rx.clone();
            spawn(async move {
                let mut sum = 0u64;
                while let Ok(i) = receiver.recv().await {
                    if i == END {
                        break;
                    }
                    sum += i;
                }
                sum
            })
        })
        .collect();
    drop(rx);
    block_on(async move {
        for i in (0..BUS_MESSAGES).chain([END]) {
            tx.broadcast(i).await.unwrap();
        }
        let mut total = 0;
        for consumer in consumers {
            total += consumer.await;
        }
        total
    })
}

fn main() {
    let filters = support::filters();
    support::compare(
        &filters,
        "stream_hop",
        5,
        expected_sum(HOP_ITEMS),
        "async-channel",
        weir_hop,
        async_channel_hop,
    );
    support::compare(
        &filters,
        "pipeline",
        7,
        pipeline_expected(),
        "futures-rs",
        weir_pipeline,
        futures_pipeline,
    );
    support::compare(
        &filters,
        "connect_chain",
        5,
        expected_sum(CHAIN_ITEMS),
        "async-channel+tasks",
        weir_chain,
        async_channel_chain,
    );
    support::compare(
        &filters,
        "bus_fanout",
        5,
        expected_sum(BUS_MESSAGES) * SUBSCRIBERS as u64,
        "async-broadcast",
        weir_bus,
        async_broadcast_bus,
    );
}

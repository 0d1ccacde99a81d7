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
//! - `connect_setup_scaling`: the time per `connect` call (10 000 calls on fresh channel pairs)
//!   with 100 000 other connections live, against the same calls with none live: connect keeps
//!   its fan-out state on the source, so the ratio stays near 1.0. Rounds alternate (none, then
//!   100 000 live, built untimed each round and torn down after); an untimed batch before each
//!   timed one lets both find freed memory rather than grow the heap.
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

use std::hint::black_box;
use std::time::{Duration, Instant};

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

const SCALING_LIVE: usize = 100_000;
const SCALING_CALLS: usize = 10_000;
const SCALING_ROUNDS: usize = 9;

/// `n` connected pairs: the handles kept here keep each connection live. Returns once every
/// connect task waits on its source, so that none of them competes with the timed calls.
fn connected_pairs(n: usize) -> Vec<(Channel<u64>, Channel<u64>)> {
    let pairs: Vec<_> = (0..n)
        .map(|_| {
            let (source, sink) = (Channel::new(1), Channel::new(1));
            drop(connect(source.clone(), sink.clone(), ConnectOptions::new()));
            (source, sink)
        })
        .collect();
    block_on(async {
        let deadline = Instant::now() + Duration::from_secs(60);
        for (source, _) in &pairs {
            while source.description().pending_takes == 0 {
                assert!(Instant::now() < deadline, "connect tasks did not start");
                weir::runtime::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    pairs
}

/// Times `SCALING_CALLS` connect calls on fresh pairs (made untimed), then drops them: the
/// time per call.
fn time_connect_calls() -> Duration {
    let pairs: Vec<_> = (0..SCALING_CALLS)
        .map(|_| {
            let (source, sink) = (Channel::<u64>::new(1), Channel::<u64>::new(1));
            (source.clone(), sink.clone(), source, sink)
        })
        .collect();
    let mut kept = Vec::with_capacity(SCALING_CALLS);
    let start = Instant::now();
    for (source, sink, source_handle, sink_handle) in pairs {
        black_box(connect(source, sink, ConnectOptions::new()));
        kept.push((source_handle, sink_handle));
    }
    let elapsed = start.elapsed();
    drop(kept);
    elapsed / SCALING_CALLS as u32
}

/// One untimed batch like the timed one, ended before it: the timed calls then find the memory
/// it freed, with or without live connections, instead of growing the heap (page faults) only
/// in the rounds after the live connections were built.
fn warm_up() {
    let live = stream::live_connections();
    time_connect_calls();
    block_on(async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while stream::live_connections() > live {
            assert!(Instant::now() < deadline, "connect tasks did not end");
            weir::runtime::sleep(Duration::from_millis(1)).await;
        }
    });
}

/// Waits until every connect task of the previous round has ended.
fn until_no_live_connections() {
    block_on(async {
        let deadline = Instant::now() + Duration::from_secs(60);
        while stream::live_connections() > 0 {
            assert!(Instant::now() < deadline, "connect tasks did not end");
            weir::runtime::sleep(Duration::from_millis(1)).await;
        }
    });
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// `ratio connect_setup_scaling`: time per connect call with `SCALING_LIVE` live connections /
/// with none.
fn connect_setup_scaling(filters: &[String]) {
    let name = "connect_setup_scaling";
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        return;
    }
    // One untimed warm-up of each.
    until_no_live_connections();
    time_connect_calls();
    let live = connected_pairs(SCALING_LIVE);
    time_connect_calls();
    drop(live);
    let (mut loaded, mut none) = (Vec::new(), Vec::new());
    for _ in 0..SCALING_ROUNDS {
        until_no_live_connections();
        warm_up();
        none.push(time_connect_calls());
        let live = connected_pairs(SCALING_LIVE);
        assert!(stream::live_connections() >= SCALING_LIVE);
        warm_up();
        loaded.push(time_connect_calls());
        drop(live);
    }
    until_no_live_connections();
    let (loaded, none) = (median(loaded), median(none));
    println!(
        "# {name}: {SCALING_LIVE} live {:.3} us, none {:.3} us per connect call (medians of \
         {SCALING_ROUNDS} rounds of {SCALING_CALLS} calls)",
        loaded.as_secs_f64() * 1e6,
        none.as_secs_f64() * 1e6,
    );
    println!(
        "ratio {name} {:.3}",
        loaded.as_secs_f64() / none.as_secs_f64()
    );
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
    connect_setup_scaling(&filters);
}

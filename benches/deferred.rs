//! Micro-benchmarks of `weir::Deferred` against the usual one-shot peers.
//!
//! Each scenario times the same per-iteration work for weir and for its peer in the same process,
//! alternating sides (weir round, peer round, weir round, ...) so that both see the same machine
//! conditions. A round times a batch of [`ITERS`] iterations; after one untimed warm-up round per
//! side, [`ROUNDS`] rounds are timed per side and the median of each side is kept.
//!
//! Scenarios:
//!
//! - `deferred_single`: create, realize and await with one listener, against a
//!   `futures::channel::oneshot` receiver wrapped in `futures::future::Shared`.
//! - `deferred_single_vs_tokio_oneshot`: the same weir work against `tokio::sync::oneshot`.
//! - `deferred_fanout4`: create, add four listeners, realize, await all four, against `Shared`
//!   over a oneshot with four clones.
//! - `deferred_pending_wakeup`: create, poll once (registering a no-op waker), realize, poll again
//!   and check `Ready`, against `Shared` over a oneshot, both polled by hand.
//!
//! Futures are driven by `futures::executor::block_on` around a whole batch, the same for both
//! sides, so executor overhead is not what is measured.
//!
//! Run it with:
//!
//! ```text
//! cargo bench --bench deferred [SCENARIO_SUBSTRING...]
//! ```
//!
//! It prints exactly one `ratio <scenario> <x>` line per scenario, where `x` is the weir median
//! divided by the peer median: below 1.0 weir is faster than the peer, above 1.0 it is slower.
//! Informative lines (ns per iteration for each side) start with `#`.

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::channel::oneshot;
use futures::executor::block_on;
use weir::Deferred;

/// Timed rounds per side and scenario.
const ROUNDS: usize = 15;

/// Iterations per timed round.
const ITERS: u64 = 200_000;

/// One side of a scenario: runs `n` iterations and returns a checksum of what it read.
type Batch = fn(u64) -> u64;

// ---------------------------------------------------------------------------------------------
// deferred_single

fn weir_single(n: u64) -> u64 {
    block_on(async move {
        let mut sum = 0u64;
        for i in 0..n {
            let d = Deferred::<u64>::new();
            black_box(d.success(black_box(i)));
            sum = sum.wrapping_add(d.await.unwrap());
        }
        sum
    })
}

fn shared_single(n: u64) -> u64 {
    block_on(async move {
        let mut sum = 0u64;
        for i in 0..n {
            let (tx, rx) = oneshot::channel::<u64>();
            let s = rx.shared();
            black_box(tx.send(black_box(i)).is_ok());
            sum = sum.wrapping_add(s.await.unwrap());
        }
        sum
    })
}

// ---------------------------------------------------------------------------------------------
// deferred_single_vs_tokio_oneshot

fn tokio_single(n: u64) -> u64 {
    block_on(async move {
        let mut sum = 0u64;
        for i in 0..n {
            let (tx, rx) = tokio::sync::oneshot::channel::<u64>();
            black_box(tx.send(black_box(i)).is_ok());
            sum = sum.wrapping_add(rx.await.unwrap());
        }
        sum
    })
}

// ---------------------------------------------------------------------------------------------
// deferred_fanout4

fn weir_fanout4(n: u64) -> u64 {
    block_on(async move {
        let mut sum = 0u64;
        for i in 0..n {
            let d = Deferred::<u64>::new();
            let listeners = [d.clone(), d.clone(), d.clone(), d.clone()];
            black_box(d.success(black_box(i)));
            drop(d);
            for listener in listeners {
                sum = sum.wrapping_add(listener.await.unwrap());
            }
        }
        sum
    })
}

fn shared_fanout4(n: u64) -> u64 {
    block_on(async move {
        let mut sum = 0u64;
        for i in 0..n {
            let (tx, rx) = oneshot::channel::<u64>();
            let s = rx.shared();
            let listeners = [s.clone(), s.clone(), s.clone(), s.clone()];
            black_box(tx.send(black_box(i)).is_ok());
            drop(s);
            for listener in listeners {
                sum = sum.wrapping_add(listener.await.unwrap());
            }
        }
        sum
    })
}

// ---------------------------------------------------------------------------------------------
// deferred_pending_wakeup (polled by hand on both sides: no executor involved)

fn weir_pending_wakeup(n: u64) -> u64 {
    let mut cx = Context::from_waker(Waker::noop());
    let mut sum = 0u64;
    for i in 0..n {
        let mut d = Deferred::<u64>::new();
        assert!(Pin::new(&mut d).poll(&mut cx).is_pending());
        black_box(d.success(black_box(i)));
        match Pin::new(&mut d).poll(&mut cx) {
            Poll::Ready(result) => sum = sum.wrapping_add(result.unwrap()),
            Poll::Pending => panic!("a realized deferred is still pending"),
        }
    }
    sum
}

fn shared_pending_wakeup(n: u64) -> u64 {
    let mut cx = Context::from_waker(Waker::noop());
    let mut sum = 0u64;
    for i in 0..n {
        let (tx, rx) = oneshot::channel::<u64>();
        let mut s = rx.shared();
        assert!(Pin::new(&mut s).poll(&mut cx).is_pending());
        black_box(tx.send(black_box(i)).is_ok());
        match Pin::new(&mut s).poll(&mut cx) {
            Poll::Ready(result) => sum = sum.wrapping_add(result.unwrap()),
            Poll::Pending => panic!("a sent oneshot is still pending"),
        }
    }
    sum
}

// ---------------------------------------------------------------------------------------------
// Harness

fn time_batch(batch: Batch, n: u64) -> Duration {
    let start = Instant::now();
    let checksum = batch(black_box(n));
    let elapsed = start.elapsed();
    black_box(checksum);
    elapsed
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ns_per_iter(d: Duration, n: u64) -> f64 {
    d.as_nanos() as f64 / n as f64
}

fn scenario(
    filters: &[String],
    name: &str,
    listeners: u64,
    weir: Batch,
    peer_name: &str,
    peer: Batch,
) {
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        return;
    }

    // Both sides must read back what they realized: a cheap check that the work is real.
    let expected = (0..1000u64).sum::<u64>().wrapping_mul(listeners);
    assert_eq!(weir(1000), expected, "{name}: weir checksum");
    assert_eq!(peer(1000), expected, "{name}: {peer_name} checksum");

    // Untimed warm-up of both sides.
    time_batch(weir, ITERS);
    time_batch(peer, ITERS);

    let mut weir_samples = Vec::with_capacity(ROUNDS);
    let mut peer_samples = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        weir_samples.push(time_batch(weir, ITERS));
        peer_samples.push(time_batch(peer, ITERS));
    }
    let weir_min = *weir_samples.iter().min().unwrap_or(&Duration::ZERO);
    let peer_min = *peer_samples.iter().min().unwrap_or(&Duration::ZERO);
    let weir_median = median(weir_samples);
    let peer_median = median(peer_samples);

    println!(
        "# {name}: weir {:.1} ns/iter (min {:.1}), {peer_name} {:.1} ns/iter (min {:.1}); \
         {ROUNDS} rounds x {ITERS} iterations",
        ns_per_iter(weir_median, ITERS),
        ns_per_iter(weir_min, ITERS),
        ns_per_iter(peer_median, ITERS),
        ns_per_iter(peer_min, ITERS),
    );
    println!(
        "ratio {name} {:.3}",
        weir_median.as_secs_f64() / peer_median.as_secs_f64()
    );
}

fn main() {
    // `cargo bench` passes `--bench`; any other non-flag argument filters scenarios by name.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();

    scenario(
        &filters,
        "deferred_single",
        1,
        weir_single,
        "futures-oneshot+Shared",
        shared_single,
    );
    scenario(
        &filters,
        "deferred_single_vs_tokio_oneshot",
        1,
        weir_single,
        "tokio-oneshot",
        tokio_single,
    );
    scenario(
        &filters,
        "deferred_fanout4",
        4,
        weir_fanout4,
        "futures-oneshot+Shared",
        shared_fanout4,
    );
    scenario(
        &filters,
        "deferred_pending_wakeup",
        1,
        weir_pending_wakeup,
        "futures-oneshot+Shared",
        shared_pending_wakeup,
    );
}

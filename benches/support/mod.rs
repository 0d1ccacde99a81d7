//! The comparison harness shared by the benchmarks: weir and its peer run the same work in the
//! same process, alternating, several rounds; the medians are compared.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Scenario filters from the command line (`cargo bench --bench X -- FILTER`).
pub fn filters() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect()
}

/// Runs `weir` and `peer` alternately for `rounds` timed rounds (after one untimed warm-up
/// each), checks both return `expected`, and prints `# ...` details and the
/// `ratio <name> <weir median / peer median>` line. Returns the two medians (weir's, the
/// peer's), or `None` when `filters` leave the scenario out.
pub fn compare(
    filters: &[String],
    name: &str,
    rounds: usize,
    expected: u64,
    peer_name: &str,
    mut weir: impl FnMut() -> u64,
    mut peer: impl FnMut() -> u64,
) -> Option<(Duration, Duration)> {
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        return None;
    }
    assert_eq!(weir(), expected, "{name}: weir checksum");
    assert_eq!(peer(), expected, "{name}: {peer_name} checksum");
    let mut weir_times = Vec::with_capacity(rounds);
    let mut peer_times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        weir_times.push(time(&mut weir));
        peer_times.push(time(&mut peer));
    }
    let (weir_median, peer_median) = (median(weir_times), median(peer_times));
    println!(
        "# {name}: weir {:.1} ms, {peer_name} {:.1} ms (medians of {rounds} rounds)",
        weir_median.as_secs_f64() * 1e3,
        peer_median.as_secs_f64() * 1e3,
    );
    println!(
        "ratio {name} {:.3}",
        weir_median.as_secs_f64() / peer_median.as_secs_f64()
    );
    Some((weir_median, peer_median))
}

fn time(work: &mut impl FnMut() -> u64) -> Duration {
    let start = Instant::now();
    black_box(work());
    start.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

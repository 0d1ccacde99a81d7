//! `fan_out`: one source into several channels, each seeing every message.

use super::channel::Channel;
use super::connect::{ConnectOptions, connect, connect_fan_out};
use super::source::Source;

/// Connects `source` to `n` new unbuffered channels through a hub channel; see
/// [`SourceExt::fan_out`](super::SourceExt::fan_out).
pub(crate) fn fan_out<S>(source: S, n: usize) -> Vec<Channel<S::Item>>
where
    S: Source + 'static,
    S::Item: Clone + Send + 'static,
{
    if n == 0 {
        source.close();
        return Vec::new();
    }
    let hub = Channel::builder().description("fan-out").build();
    let outputs: Vec<Channel<S::Item>> = (0..n)
        .map(|_| Channel::builder().capacity(0).build())
        .collect();
    // Every output is connected before the source, so none misses the first message.
    for output in &outputs {
        connect_fan_out(hub.clone(), output.clone(), ConnectOptions::new());
    }
    connect(source, hub, ConnectOptions::new());
    outputs
}

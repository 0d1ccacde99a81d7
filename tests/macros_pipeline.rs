//! `pipeline!`: linear chains, named stages, fan-out, per-edge options and the handle.

mod support;

use std::time::Duration;

use weir::pipeline;
use weir::stream::{self, Channel};
use weir::{Deferred, Error};

use support::run;

/// Takes every message until the channel is drained.
async fn take_all<T: Send + 'static>(channel: &Channel<T>) -> Vec<T> {
    let mut out = Vec::new();
    while let Some(message) = channel.take_next().await {
        out.push(message);
    }
    out
}

#[test]
fn smoke() {
    let out = Channel::new(8);
    let done = pipeline!(stream::iter(1..=3) => out.clone());
    run(async {
        done.await.unwrap();
        assert_eq!(take_all(&out).await, vec![1, 2, 3]);
    });
}

#[test]
fn linear_chain_of_combinators() {
    let out = Channel::new(16);
    let done = pipeline!(
        stream::iter(1..=10)
            => map_each(|x: u32| x * 2)
            => filter_each(|x| *x > 3)
            => mapcat(|x| vec![x; 2])
            => batch(4)
            => out.clone()
    );
    run(async {
        done.await.unwrap();
        assert_eq!(
            take_all(&out).await,
            vec![
                vec![4, 4, 6, 6],
                vec![8, 8, 10, 10],
                vec![12, 12, 14, 14],
                vec![16, 16, 18, 18],
                vec![20, 20],
            ]
        );
    });
}

#[test]
fn stages_with_turbofish_and_no_arguments() {
    let out = Channel::new(8);
    let nested = stream::iter([stream::iter(1..3), stream::iter(3..5)]);
    let done = pipeline!(nested => flatten_each() => map_each::<String, _>(|n: i32| n.to_string()) => out.clone());
    run(async {
        done.await.unwrap();
        assert_eq!(take_all(&out).await, vec!["1", "2", "3", "4"]);
    });
}

#[test]
fn futures_stream_ext_in_scope_does_not_clash() {
    #[allow(unused_imports, reason = "the point is that it is in scope")]
    use futures::StreamExt;

    let out = Channel::new(8);
    let done = pipeline!(stream::iter(1..=3) => map_each(|x: i32| x + 1) => filter_each(|x| x % 2 == 0) => out.clone());
    run(async {
        done.await.unwrap();
        assert_eq!(take_all(&out).await, vec![2, 4]);
    });
}

#[test]
fn named_stages_show_in_the_graph() {
    let source = Channel::<u32>::new(4);
    let out = Channel::new(4);
    let done = pipeline!(
        source.clone()
            => map_each(|x| x * 2) as "double"
            => filter_each(|x| *x > 3)
            => map_each(|x| x + 1) as "plus one"
            => out.clone() { description: "to out" }
    );
    let graph = source.node().render_text();
    assert!(graph.contains("-[map]-> map\n"), "{graph}");
    assert!(graph.contains("named \"double\""), "{graph}");
    assert!(graph.contains("-[filter]-> filter"), "{graph}");
    assert!(graph.contains("named \"plus one\""), "{graph}");
    assert!(graph.contains("-[to out]-> stream"), "{graph}");
    let double = graph.find("\"double\"").unwrap();
    let plus_one = graph.find("\"plus one\"").unwrap();
    assert!(double < plus_one, "stages in order: {graph}");
    source.close();
    run(async { done.await.unwrap() });
}

#[test]
fn fan_out_sends_every_message_to_every_sink() {
    let (a, b, c) = (Channel::new(16), Channel::new(16), Channel::new(16));
    let done = pipeline!(
        stream::iter(1..=10) => map_each(|x: i32| -x) => [a.clone(), b.clone(), c.clone()]
    );
    run(async {
        done.await.unwrap();
        let expected: Vec<i32> = (1..=10).map(|x| -x).collect();
        assert_eq!(take_all(&a).await, expected);
        assert_eq!(take_all(&b).await, expected);
        assert_eq!(take_all(&c).await, expected);
    });
}

#[test]
fn fan_out_channel_shows_in_the_graph() {
    let source = Channel::<u8>::new(1);
    let (a, b) = (Channel::new(1), Channel::new(1));
    let done = pipeline!(source.clone() => [a.clone() { description: "to a" }, b.clone()]);
    let graph = source.node().render_text();
    assert!(graph.contains("stream \"pipeline fan-out\""), "{graph}");
    assert!(graph.contains("-[to a]-> stream"), "{graph}");
    source.close();
    run(async { done.await.unwrap() });
}

#[test]
fn upstream_closes_the_source_when_that_sink_closes() {
    let source = Channel::<u32>::new(1);
    let (a, b) = (Channel::new(1), Channel::new(16));
    let done = pipeline!(source.clone() => map_each(|x| x + 1) => [a.clone() { upstream: true }, b.clone()]);
    run(async {
        source.put(1).await.unwrap();
        assert_eq!(a.take_next().await, Some(2));
        a.close();
        source.closed().await.unwrap();
        assert!(source.put(2).await.is_err(), "the source is closed");
        done.await.unwrap();
        assert_eq!(take_all(&b).await, vec![2]);
    });
}

#[test]
fn without_upstream_the_other_sinks_keep_the_source_open() {
    let source = Channel::<u32>::new(1);
    let (a, b) = (Channel::new(1), Channel::new(16));
    let done = pipeline!(source.clone() => map_each(|x| x + 1) => [a.clone(), b.clone()]);
    run(async {
        source.put(1).await.unwrap();
        assert_eq!(a.take_next().await, Some(2));
        a.close();
        source.put(2).await.unwrap();
        source.put(3).await.unwrap();
        assert!(!source.is_closed());
        source.close();
        done.await.unwrap();
        assert_eq!(take_all(&b).await, vec![2, 3, 4]);
    });
}

#[test]
fn downstream_false_keeps_the_sink_open() {
    let (kept, closed) = (Channel::new(8), Channel::new(8));
    let done = pipeline!(stream::iter(1..=2) => kept.clone() { downstream: false });
    let also =
        pipeline!(stream::iter(1..=2) => [closed.clone(), Channel::new(8) { downstream: false }]);
    run(async {
        done.await.unwrap();
        also.await.unwrap();
        assert!(!kept.is_closed(), "downstream: false");
        assert!(closed.is_closed(), "the default closes the sink");
        kept.put(3).await.unwrap();
        assert_eq!(kept.take_next().await, Some(1));
        assert_eq!(kept.take_next().await, Some(2));
        assert_eq!(kept.take_next().await, Some(3));
    });
}

#[test]
fn a_timeout_cuts_off_a_stuck_sink() {
    let stuck = Channel::<u32>::unbuffered();
    let done =
        pipeline!(stream::iter(1..=3) => stuck.clone() { timeout: Duration::from_millis(50) });
    run(async {
        let error = done.await.unwrap_err();
        assert!(error.is_timeout(), "{error}");
        assert!(stuck.is_closed(), "the stuck sink was closed");
    });
}

#[test]
fn a_timeout_on_one_fan_out_sink_lets_the_others_go_on() {
    let stuck = Channel::<u32>::unbuffered();
    let live = Channel::new(16);
    let done = pipeline!(
        stream::iter(1..=5) => [stuck.clone() { timeout: Duration::from_millis(50) }, live.clone()]
    );
    run(async {
        assert!(done.await.unwrap_err().is_timeout());
        // The live sink still gets every message once the stuck one is cut off.
        assert_eq!(take_all(&live).await, vec![1, 2, 3, 4, 5]);
    });
}

#[test]
fn the_handle_completes_after_drain_and_acceptance() {
    let source = Channel::<u32>::new(8);
    let out = Channel::new(8);
    let done = pipeline!(source.clone() => map_each(|x| x * 3) => out.clone());
    run(async {
        for n in 1..=4 {
            source.put(n).await.unwrap();
        }
        assert!(!done.is_realized(), "the source is still open");
        source.close();
        done.await.unwrap();
        // Everything was accepted by the time the handle completed.
        assert_eq!(out.description().buffer_size, Some(4));
        assert_eq!(take_all(&out).await, vec![3, 6, 9, 12]);
    });
}

#[test]
fn the_handle_fails_with_the_sources_error() {
    let source = Channel::<u32>::new(8);
    let (a, b) = (Channel::new(8), Channel::new(8));
    let single = pipeline!(source.clone() => map_each(|x| x + 1) => a.clone());
    let source2 = Channel::<u32>::new(8);
    let fanned = pipeline!(source2.clone() => [b.clone(), Channel::new(8)]);
    run(async {
        source.put(1).await.unwrap();
        source.close_with_error(Error::msg("upstream failed"));
        assert_eq!(single.await.unwrap_err().to_string(), "upstream failed");
        assert_eq!(a.take_next().await, Some(2));

        source2.put(1).await.unwrap();
        source2.close_with_error(Error::msg("also failed"));
        assert_eq!(fanned.await.unwrap_err().to_string(), "also failed");
    });
}

#[test]
fn a_panicking_stage_fails_the_handle() {
    let out = Channel::new(8);
    let done: Deferred<(), Error> = pipeline!(
        stream::iter(1..=3) => map_each(|x: i32| if x == 2 { panic!("two") } else { x }) => [out.clone(), Channel::new(8)]
    );
    run(async {
        assert!(done.await.unwrap_err().is_panic());
        assert_eq!(out.take_next().await, Some(1));
    });
}

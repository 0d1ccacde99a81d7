//! A combinator that ended stays ended: after its upstream ended, after a panic in its function,
//! after `close`; over an iterator source (where the end is the upstream's, with no flag of the
//! combinator's own on the per-message path) and over a channel (which still holds messages
//! once closed, so the combinator keeps its own flag).

mod support;

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use futures::Stream;
use support::run;
use weir::stream::{self, Channel, Source, SourceExt};

/// Polls `source` once, by hand: every source here is ready at once.
fn next<S: Stream + Unpin>(source: &mut S) -> Option<S::Item> {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(source).poll_next(&mut cx) {
        Poll::Ready(item) => item,
        Poll::Pending => panic!("the source was not ready"),
    }
}

#[test]
fn a_map_over_an_iterator_ends_for_good_after_a_panic() {
    let mut mapped = stream::iter(1..=5)
        .map_each(|x: u32| if x == 2 { panic!("boom") } else { x * 10 })
        .filter_each(|_| true);
    assert_eq!(next(&mut mapped), Some(10));
    assert_eq!(next(&mut mapped), None);
    assert_eq!(next(&mut mapped), None, "and not 30");
    assert_eq!(next(&mut mapped), None);
    assert!(run(mapped.drained()).unwrap_err().is_panic());
}

#[test]
fn a_filter_over_an_iterator_ends_for_good_after_close_and_after_the_end() {
    let mut filtered = stream::iter(0..10u32)
        .filter_each(|x| x % 2 == 0)
        .map_each(|x| x + 1);
    assert_eq!(next(&mut filtered), Some(1));
    filtered.close();
    assert_eq!(next(&mut filtered), None);
    assert_eq!(next(&mut filtered), None);
    assert!(run(filtered.drained()).is_ok());

    let mut short = stream::iter(0..2u32).map_each(|x| x).filter_each(|_| true);
    assert_eq!(next(&mut short), Some(0));
    assert_eq!(next(&mut short), Some(1));
    assert_eq!(next(&mut short), None);
    assert_eq!(next(&mut short), None);
}

#[test]
fn a_map_over_a_channel_takes_nothing_more_after_a_panic() {
    let channel = Channel::new(8);
    let other = channel.clone();
    run(async {
        for i in 1..=4u32 {
            channel.put(i).await.unwrap();
        }
    });
    let mut mapped = channel.map_each(|x: u32| if x == 1 { panic!("boom") } else { x });
    assert_eq!(next(&mut mapped), None);
    // Polled again, it takes nothing more: what was buffered stays for the other handle.
    assert_eq!(next(&mut mapped), None);
    assert_eq!(run(other.take_next()), Some(2));
    assert!(run(mapped.drained()).unwrap_err().is_panic());
    let rest = run(async {
        let mut rest = Vec::new();
        while let Some(x) = other.take_next().await {
            rest.push(x);
        }
        rest
    });
    assert_eq!(rest, vec![3, 4]);
}

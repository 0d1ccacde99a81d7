//! Property tests of the buffering combinators and channels: on random inputs, sizes and
//! operation sequences (early closes included), each yields what a plain `Vec`/`VecDeque`
//! model gives.
//!
//! The case count is 64 unless `PROPTEST_CASES` says otherwise.

mod support;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_lite::StreamExt;
use proptest::prelude::*;
use support::run;
use weir::stream::{self, BufferedChannel, PutError, Source, SourceExt, TakeError};

fn config() -> ProptestConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(64)
    }
}

fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

fn weight(message: &u8) -> usize {
    usize::from(*message % 16)
}

/// `batch_by`'s rule on a `Vec`: a message that would take the batch over `max` starts the next
/// one, and a batch goes out as soon as it reaches `max`.
fn batch_by_model(items: &[u8], max: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut batch = Vec::new();
    let mut size = 0;
    for &item in items {
        let w = weight(&item);
        if !batch.is_empty() && size + w > max {
            out.push(std::mem::take(&mut batch));
            size = 0;
        }
        batch.push(item);
        size += w;
        if size >= max {
            out.push(std::mem::take(&mut batch));
            size = 0;
        }
    }
    if !batch.is_empty() {
        out.push(batch);
    }
    out
}

#[derive(Clone, Debug)]
enum Op {
    Put(u8),
    Take,
    Close,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            6 => any::<u8>().prop_map(Op::Put),
            4 => Just(Op::Take),
            1 => Just(Op::Close),
        ],
        0..=64,
    )
}

fn items() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=64)
}

/// Takes `stop` messages, closes `source`, then takes what is left; returns both parts.
async fn take_then_close<S: Source + Unpin>(
    mut source: S,
    stop: usize,
) -> (Vec<S::Item>, Vec<S::Item>) {
    let mut before = Vec::new();
    while before.len() < stop {
        match source.next().await {
            Some(message) => before.push(message),
            None => return (before, Vec::new()),
        }
    }
    source.close();
    let after = source.collect().await;
    (before, after)
}

/// The non-blocking channels' rule on a `VecDeque`.
#[derive(Clone, Copy, Debug)]
enum Policy {
    Dropping,
    Sliding,
}

fn check_lossy(policy: Policy, n: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let dropping = stream::dropping::<u8>(n);
    let sliding = stream::sliding::<u8>(n);
    let put = |message| match policy {
        Policy::Dropping => dropping.put(message),
        Policy::Sliding => sliding.put(message),
    };
    let take_now = || {
        let taken = match policy {
            Policy::Dropping => poll_once(&mut dropping.try_take(Duration::ZERO)),
            Policy::Sliding => poll_once(&mut sliding.try_take(Duration::ZERO)),
        };
        match taken {
            Poll::Ready(taken) => taken,
            Poll::Pending => panic!("a try_take without a timeout completes at once"),
        }
    };
    let mut model = VecDeque::new();
    let mut closed = false;
    for op in ops {
        match *op {
            Op::Put(message) => {
                let outcome = put(message);
                if closed {
                    prop_assert!(outcome.as_ref().is_err_and(PutError::is_closed));
                    continue;
                }
                let expected = match policy {
                    Policy::Dropping if model.len() < n => {
                        model.push_back(message);
                        None
                    }
                    Policy::Dropping => Some(message),
                    Policy::Sliding if n == 0 => Some(message),
                    Policy::Sliding => {
                        let evicted = if model.len() < n {
                            None
                        } else {
                            model.pop_front()
                        };
                        model.push_back(message);
                        evicted
                    }
                };
                prop_assert_eq!(outcome.ok(), Some(expected));
            }
            Op::Take => {
                let expected = match model.pop_front() {
                    Some(message) => Ok(message),
                    None if closed => Err(TakeError::Drained),
                    None => Err(TakeError::Timeout),
                };
                prop_assert_eq!(take_now(), expected);
            }
            Op::Close => {
                dropping.close();
                sliding.close();
                closed = true;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn batch_is_chunks(items in items(), max in 1..=64usize, stop in 0..=70usize) {
        let expected: Vec<Vec<u8>> = items.chunks(max).map(<[u8]>::to_vec).collect();
        let source = stream::iter(items);
        let upstream = source.drained();
        let batches = source.batch(max);
        let drained = batches.drained();
        let (before, after) = run(take_then_close(batches, stop));
        prop_assert_eq!(&before[..], &expected[..stop.min(expected.len())]);
        // Closing a count batch holds nothing back, so nothing comes after it.
        prop_assert!(after.is_empty());
        prop_assert!(run(upstream).is_ok());
        prop_assert!(run(drained).is_ok());
    }

    #[test]
    fn batch_by_is_the_model(items in items(), max in 1..=64usize) {
        let expected = batch_by_model(&items, max);
        let batches = stream::iter(items.clone()).batch_by(weight, max, None);
        let got: Vec<Vec<u8>> = run(batches.collect());
        prop_assert_eq!(&got, &expected);
        prop_assert_eq!(got.concat(), items);
    }

    #[test]
    fn buffer_keeps_everything_in_order(
        items in items(),
        limit in 0..=64usize,
        stop in 0..=70usize,
        by_metric in any::<bool>(),
    ) {
        let source = stream::iter(items.clone());
        let upstream = source.drained();
        let buffered = if by_metric {
            source.read_ahead_by(weight, limit)
        } else {
            source.read_ahead(limit)
        };
        let (before, after) = run(take_then_close(buffered, stop));
        prop_assert_eq!(&before[..], &items[..stop.min(items.len())]);
        // What was buffered when the consumer closed stays takeable, in order.
        let all = [before, after].concat();
        prop_assert_eq!(&all[..], &items[..all.len()]);
        if stop >= items.len() {
            prop_assert_eq!(all.len(), items.len());
        }
        // The reading task has stopped and closed (or finished) the upstream.
        prop_assert!(run(upstream).is_ok());
    }

    #[test]
    fn buffered_channel_acknowledges_like_the_model(ops in ops(), limit in 0..=64usize) {
        let channel = BufferedChannel::with_metric(weight, limit);
        let mut model = VecDeque::new();
        let mut size = 0;
        let mut closed = false;
        let mut waiting = Vec::new();
        for op in &ops {
            match *op {
                Op::Put(message) => {
                    let mut put = channel.put(message);
                    let outcome = poll_once(&mut put);
                    if closed {
                        prop_assert!(matches!(outcome, Poll::Ready(Err(ref e)) if e.is_closed()));
                        continue;
                    }
                    model.push_back(message);
                    size += weight(&message);
                    if size <= limit {
                        prop_assert!(matches!(outcome, Poll::Ready(Ok(()))));
                    } else {
                        prop_assert!(outcome.is_pending());
                        waiting.push(put);
                    }
                }
                Op::Take => {
                    let expected = match model.pop_front() {
                        Some(message) => {
                            size -= weight(&message);
                            Ok(message)
                        }
                        None if closed => Err(TakeError::Drained),
                        None => Err(TakeError::Timeout),
                    };
                    prop_assert_eq!(channel.take_now(), expected);
                }
                Op::Close => {
                    channel.close();
                    closed = true;
                }
            }
            if size <= limit || closed {
                for mut put in waiting.drain(..) {
                    prop_assert!(matches!(poll_once(&mut put), Poll::Ready(Ok(()))));
                }
            } else {
                for put in &mut waiting {
                    prop_assert!(poll_once(put).is_pending());
                }
            }
            prop_assert_eq!(channel.size(), size);
            let d = channel.description();
            prop_assert_eq!(d.buffer_size, Some(size));
            prop_assert_eq!(d.pending_puts, waiting.len());
        }
    }

    #[test]
    fn dropping_is_the_model(ops in ops(), n in 0..=64usize) {
        check_lossy(Policy::Dropping, n, &ops)?;
    }

    #[test]
    fn sliding_is_the_model(ops in ops(), n in 0..=64usize) {
        check_lossy(Policy::Sliding, n, &ops)?;
    }

    #[test]
    fn dropping_and_sliding_buffers_keep_the_first_or_last(items in items(), n in 0..=64usize) {
        let kept = n.min(items.len());
        for sliding in [false, true] {
            let source = stream::iter(items.clone());
            let read = source.drained();
            let buffered = if sliding { source.sliding(n) } else { source.dropping(n) };
            // Nobody takes until the task has read everything.
            prop_assert!(run(read).is_ok());
            let got: Vec<u8> = run(buffered.collect());
            let expected = if sliding {
                &items[items.len() - kept..]
            } else {
                &items[..kept]
            };
            prop_assert_eq!(&got[..], expected);
        }
    }
}

//! Property tests of the transforming combinators: on random inputs, arriving in random chunks
//! (a `Pending` between some messages), and with the consumer stopping after a random prefix
//! and closing, each combinator yields what the same operation on a `Vec` gives.
//!
//! The case count is 64 unless `PROPTEST_CASES` says otherwise.

mod support;

use std::collections::VecDeque;
use std::fmt::Debug;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures_core::Stream;
use proptest::prelude::*;
use support::run;
use weir::stream::{
    self, Description, Edge, FnTransducer, Node, Source, SourceExt, Transducer, Vertex,
};
use weir::{Deferred, Error};

fn config() -> ProptestConfig {
    if std::env::var_os("PROPTEST_CASES").is_some() {
        ProptestConfig::default()
    } else {
        ProptestConfig::with_cases(64)
    }
}

// ---- a source that delivers its messages in chunks ----------------------------------------

/// Yields its messages, returning `Pending` (and waking at once) where the script has a gap,
/// then ends with the chosen outcome. Closing it ends it at once.
struct Chunked<T> {
    steps: VecDeque<Option<T>>,
    end: Option<Result<(), Error>>,
    vertex: Arc<ChunkedVertex>,
}

struct ChunkedVertex {
    closed: AtomicBool,
    drained: Deferred<(), Error>,
}

impl<T> Chunked<T> {
    /// `items`, with a gap before each item whose `gaps` flag is set (cycling through `gaps`).
    fn new(items: Vec<T>, gaps: &[bool], end: Result<(), Error>) -> Self {
        let mut steps = VecDeque::new();
        for (i, item) in items.into_iter().enumerate() {
            if !gaps.is_empty() && gaps[i % gaps.len()] {
                steps.push_back(None);
            }
            steps.push_back(Some(item));
        }
        Chunked {
            steps,
            end: Some(end),
            vertex: Arc::new(ChunkedVertex {
                closed: AtomicBool::new(false),
                drained: Deferred::new(),
            }),
        }
    }
}

impl<T> Unpin for Chunked<T> {}

impl<T> Stream for Chunked<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.vertex.closed.load(Ordering::SeqCst) {
            return Poll::Ready(None);
        }
        match this.steps.pop_front() {
            Some(Some(item)) => Poll::Ready(Some(item)),
            Some(None) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            None => {
                if let Some(end) = this.end.take() {
                    let _ = this.vertex.drained.try_realize(end);
                }
                Poll::Ready(None)
            }
        }
    }
}

impl<T: Send> Source for Chunked<T> {
    fn node(&self) -> Node {
        Node::new(self.vertex.clone())
    }

    fn close(&self) {
        self.vertex.closed.store(true, Ordering::SeqCst);
        let _ = self.vertex.drained.try_realize(Ok(()));
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.vertex.drained.clone()
    }
}

impl Vertex for ChunkedVertex {
    fn description(&self) -> Description {
        let mut description = Description::new("chunked");
        description.closed = self.closed.load(Ordering::SeqCst);
        description
    }

    fn edges(&self) -> Vec<Edge> {
        Vec::new()
    }
}

// ---- checking against the model -----------------------------------------------------------

async fn next<S: Stream + Unpin>(source: &mut S) -> Option<S::Item> {
    futures_lite::StreamExt::next(source).await
}

/// Reads `source` to its end, or reads `stop` messages, closes it and reads what is left; then
/// checks the output against `model` and the drain outcome against `end`.
fn check<S>(
    source: S,
    model: Vec<S::Item>,
    stop: Option<usize>,
    end: Result<(), String>,
) -> Result<(), TestCaseError>
where
    S: Source + Unpin,
    S::Item: PartialEq + Debug,
{
    let drained = source.drained();
    let (taken, rest, ended) = run(async move {
        let mut source = source;
        let mut taken = Vec::new();
        let mut ended = false;
        while stop.is_none_or(|stop| taken.len() < stop) {
            match next(&mut source).await {
                Some(item) => taken.push(item),
                None => {
                    ended = true;
                    break;
                }
            }
        }
        let mut rest = Vec::new();
        if !ended {
            source.close();
            prop_assert!(source.description().closed);
            while let Some(item) = next(&mut source).await {
                rest.push(item);
            }
        }
        Ok((taken, rest, ended))
    })?;
    let outcome = run(drained).map_err(|error| error.to_string());
    if ended {
        prop_assert_eq!(&taken, &model);
        prop_assert_eq!(outcome, end);
    } else {
        // Up to the stop, exactly the model; after the close, at most the model's next
        // messages (a combinator may hold some already), and a clean end unless the upstream
        // had already ended.
        prop_assert_eq!(&taken[..], &model[..taken.len()]);
        let all: Vec<_> = taken.iter().chain(&rest).collect();
        prop_assert!(all.len() <= model.len());
        prop_assert!(all.iter().zip(&model).all(|(a, b)| *a == b));
        prop_assert!(outcome.is_ok() || outcome == end, "{outcome:?}");
    }
    Ok(())
}

fn items() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(0u32..20, 0..40)
}

fn gaps() -> impl Strategy<Value = Vec<bool>> {
    prop::collection::vec(any::<bool>(), 0..8)
}

fn stop() -> impl Strategy<Value = Option<usize>> {
    prop::option::of(0usize..50)
}

/// A clean end or an upstream failure.
fn end() -> impl Strategy<Value = Result<(), String>> {
    prop_oneof![3 => Just(Ok(())), 1 => Just(Err("upstream failed".to_string()))]
}

fn upstream<T>(items: Vec<T>, gaps: &[bool], end: &Result<(), String>) -> Chunked<T> {
    Chunked::new(items, gaps, end.clone().map_err(Error::msg))
}

// ---- transducers for `transform` ----------------------------------------------------------

struct Chunks {
    size: usize,
    batch: Vec<u32>,
}

impl Transducer<u32> for Chunks {
    type Out = Vec<u32>;

    fn step(&mut self, input: u32, out: &mut Vec<Vec<u32>>) -> ControlFlow<()> {
        self.batch.push(input);
        if self.batch.len() == self.size {
            out.push(std::mem::take(&mut self.batch));
        }
        ControlFlow::Continue(())
    }

    fn finish(&mut self, out: &mut Vec<Vec<u32>>) {
        if !self.batch.is_empty() {
            out.push(std::mem::take(&mut self.batch));
        }
    }
}

/// Each message `n` as `n % 3` messages `100 * n + i`.
struct Expand;

impl Transducer<u32> for Expand {
    type Out = u32;

    fn step(&mut self, input: u32, out: &mut Vec<u32>) -> ControlFlow<()> {
        out.extend((0..input % 3).map(|i| 100 * input + i));
        ControlFlow::Continue(())
    }
}

struct Take(usize);

impl Transducer<u32> for Take {
    type Out = u32;

    fn step(&mut self, input: u32, out: &mut Vec<u32>) -> ControlFlow<()> {
        if self.0 == 0 {
            return ControlFlow::Break(());
        }
        self.0 -= 1;
        out.push(input);
        if self.0 == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn map(items in items(), gaps in gaps(), stop in stop(), end in end()) {
        let model = items.iter().map(|n| n * 3).collect();
        check(upstream(items, &gaps, &end).map_each(|n| n * 3), model, stop, end)?;
    }

    #[test]
    fn try_map(items in items(), gaps in gaps(), stop in stop(), end in end()) {
        // The model: the doubled items up to the first 13, which ends the source with its
        // error; without a 13, the upstream's own end.
        let model = items.iter().take_while(|&&n| n != 13).map(|n| n * 2).collect();
        let expected_end = if items.contains(&13) {
            Err("13 refused".to_string())
        } else {
            end.clone()
        };
        let source = upstream(items, &gaps, &end).try_map(|n| {
            if n == 13 { Err(Error::msg("13 refused")) } else { Ok(n * 2) }
        });
        check(source, model, stop, expected_end)?;
    }

    #[test]
    fn filter(items in items(), gaps in gaps(), stop in stop(), end in end()) {
        let model = items.iter().copied().filter(|n| n % 3 != 0).collect();
        check(upstream(items, &gaps, &end).filter_each(|n| n % 3 != 0), model, stop, end)?;
    }

    #[test]
    fn mapcat(items in items(), gaps in gaps(), stop in stop(), end in end()) {
        let model = items.iter().flat_map(|&n| 0..n % 4).collect();
        check(upstream(items, &gaps, &end).mapcat(|n| 0..n % 4), model, stop, end)?;
    }

    #[test]
    fn reductions(items in items(), gaps in gaps(), stop in stop(), end in end()) {
        let model = std::iter::once(5)
            .chain(items.iter().scan(5u32, |acc, n| {
                *acc = acc.wrapping_mul(31).wrapping_add(*n);
                Some(*acc)
            }))
            .collect();
        let source = upstream(items, &gaps, &end)
            .reductions(5u32, |acc, n| acc.wrapping_mul(31).wrapping_add(n));
        check(source, model, stop, end)?;
    }

    #[test]
    fn reduce(items in items(), gaps in gaps(), end in end()) {
        let model = items.iter().fold(Vec::new(), |mut acc, n| { acc.push(*n); acc });
        let folded = upstream(items, &gaps, &end).reduce(Vec::new(), |mut acc, n| {
            acc.push(n);
            acc
        });
        match (run(folded), end) {
            (Ok(out), Ok(())) => prop_assert_eq!(out, model),
            (Err(error), Err(end)) => prop_assert_eq!(error.to_string(), end),
            (out, end) => prop_assert!(false, "{out:?} for {end:?}"),
        }
    }

    #[test]
    fn zip(
        a in items(),
        b in items(),
        gaps_a in gaps(),
        gaps_b in gaps(),
        stop in stop(),
        end_a in end(),
        end_b in end(),
    ) {
        let model: Vec<_> = a.iter().copied().zip(b.iter().copied()).collect();
        // Whichever ends first decides the outcome; `a` is polled first.
        let end = if a.len() <= b.len() { end_a.clone() } else { end_b.clone() };
        let source = upstream(a, &gaps_a, &end_a).zip_each(upstream(b, &gaps_b, &end_b));
        check(source, model, stop, end)?;
    }

    #[test]
    fn zip_all(
        sources in prop::collection::vec((items(), gaps()), 0..5),
        stop in stop(),
    ) {
        let shortest = sources.iter().map(|(items, _)| items.len()).min().unwrap_or(0);
        let model = (0..shortest)
            .map(|i| sources.iter().map(|(items, _)| items[i]).collect::<Vec<_>>())
            .collect();
        let sources = sources
            .into_iter()
            .map(|(items, gaps)| upstream(items, &gaps, &Ok(())))
            .collect();
        check(stream::zip_all(sources), model, stop, Ok(()))?;
    }

    #[test]
    fn concat(
        inner in prop::collection::vec((items(), gaps()), 0..6),
        gaps in gaps(),
        stop in stop(),
        end in end(),
    ) {
        let model = inner.iter().flat_map(|(items, _)| items.clone()).collect();
        let sources = inner
            .into_iter()
            .map(|(items, gaps)| upstream(items, &gaps, &Ok(())))
            .collect();
        check(upstream(sources, &gaps, &end).flatten_each(), model, stop, end)?;
    }

    #[test]
    fn transform(
        items in items(),
        gaps in gaps(),
        stop in stop(),
        end in end(),
        size in 1usize..5,
        take in prop::option::of(0usize..30),
    ) {
        // keep (n % 5 != 0), then expand, then (maybe) take, then chunks.
        let expanded: Vec<u32> = items
            .iter()
            .copied()
            .filter(|n| n % 5 != 0)
            .flat_map(|n| (0..n % 3).map(move |i| 100 * n + i))
            .collect();
        let kept = match take {
            Some(take) => expanded.iter().copied().take(take).collect(),
            None => expanded.clone(),
        };
        // Compared flattened: after an early close the transducer's completion flushes a
        // partial chunk (as Manifold runs completion on close), a prefix of the model's next.
        // (Chunk boundaries themselves are checked in tests/stream_transforms.rs.)
        let model: Vec<u32> = kept.clone();
        let keep = FnTransducer::new(|n: u32| (n % 5 != 0).then_some(n));
        let chunks = Chunks { size, batch: Vec::new() };
        let source = upstream(items, &gaps, &end);
        // Once `Take` breaks off, the stream ends cleanly whatever the upstream would have done.
        let broke = take.is_some_and(|take| expanded.len() >= take.max(1));
        let end = if broke { Ok(()) } else { end };
        match take {
            Some(take) => {
                let xform = keep.then(Expand).then(Take(take)).then(chunks);
                check(source.transform(xform).mapcat(|chunk| chunk), model, stop, end)?;
            }
            None => {
                let xform = keep.then(Expand).then(chunks);
                check(source.transform(xform).mapcat(|chunk| chunk), model, stop, end)?;
            }
        }
    }

    #[test]
    fn realize_each(
        items in items(),
        gaps in gaps(),
        stop in stop(),
        end in end(),
        fail_at in prop::option::of(0usize..40),
    ) {
        let fail_at = fail_at.filter(|&i| i < items.len());
        let model = items[..fail_at.unwrap_or(items.len())].to_vec();
        let end = match fail_at {
            Some(_) => Err("message failed".to_string()),
            None => end,
        };
        let deferreds = items
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                if Some(i) == fail_at {
                    Deferred::<u32>::failed(Error::msg("message failed"))
                } else if i % 2 == 0 {
                    Deferred::succeeded(n)
                } else {
                    // Realized a bit later, on weir's executor.
                    Deferred::spawn(async move { Ok(n) })
                }
            })
            .collect();
        let source = upstream(deferreds, &gaps, &end).realize_each();
        check(source, model, stop, end)?;
    }

    #[test]
    fn partition_by(
        items in items(),
        gaps in gaps(),
        end in end(),
        reads in prop::collection::vec(prop::option::of(0usize..5), 1..6),
    ) {
        // Runs of equal keys; partition `i` is read for `reads[i % len]` messages (all of them
        // if `None`), then dropped.
        let key = |n: &u32| n % 3;
        let mut runs: Vec<Vec<u32>> = Vec::new();
        for &n in &items {
            match runs.last_mut() {
                Some(run) if key(&run[0]) == key(&n) => run.push(n),
                _ => runs.push(vec![n]),
            }
        }
        let model: Vec<Vec<u32>> = runs
            .iter()
            .enumerate()
            .map(|(i, run)| match reads[i % reads.len()] {
                Some(read) => run[..read.min(run.len())].to_vec(),
                None => run.clone(),
            })
            .collect();
        let source = upstream(items, &gaps, &end).partition_by(key);
        let drained = source.drained();
        let out = run(async move {
            let mut source = source;
            let mut out = Vec::new();
            while let Some(mut part) = next(&mut source).await {
                let read = reads[out.len() % reads.len()];
                let mut got = Vec::new();
                while read.is_none_or(|read| got.len() < read) {
                    match next(&mut part).await {
                        Some(n) => got.push(n),
                        None => break,
                    }
                }
                out.push(got);
            }
            out
        });
        prop_assert_eq!(out, model);
        prop_assert_eq!(run(drained).map_err(|error| error.to_string()), end);
    }
}

// ---- ready-made transducers (`stream::xform`) and the methods built on them ---------------

proptest! {
    #![proptest_config(config())]

    #[test]
    fn xform_take(items in items(), n in 0usize..45, exact in any::<bool>(), gaps in gaps(), stop in stop(), end in end()) {
        // Half the time exactly as many messages as `take` wants: it must end there, without
        // waiting for the upstream's own end.
        let n = if exact { items.len() } else { n };
        let model: Vec<u32> = items.iter().copied().take(n).collect();
        // `take` ends the source itself (cleanly) once it has seen its `n`-th message, or
        // at its first message when `n` is zero.
        let broke = if n == 0 { !items.is_empty() } else { items.len() >= n };
        let expected_end = if broke { Ok(()) } else { end.clone() };
        let source = upstream(items, &gaps, &end).transform(stream::xform::take(n));
        check(source, model, stop, expected_end)?;
    }

    #[test]
    fn xform_drop(items in items(), n in 0usize..45, gaps in gaps(), stop in stop(), end in end()) {
        let model = items.iter().copied().skip(n).collect();
        check(upstream(items, &gaps, &end).transform(stream::xform::drop(n)), model, stop, end)?;
    }

    #[test]
    fn xform_take_while(items in items(), gaps in gaps(), stop in stop(), end in end()) {
        let model = items.iter().copied().take_while(|n| *n < 15).collect();
        let expected_end = if items.iter().any(|n| *n >= 15) { Ok(()) } else { end.clone() };
        let source = upstream(items, &gaps, &end)
            .transform(stream::xform::take_while(|n: &u32| *n < 15));
        check(source, model, stop, expected_end)?;
    }

    #[test]
    fn xform_partition_all(items in items(), n in 1usize..7, gaps in gaps(), stop in stop(), end in end()) {
        let model = items.chunks(n).map(<[u32]>::to_vec).collect();
        let source = upstream(items, &gaps, &end).transform(stream::xform::partition_all(n));
        check(source, model, stop, end)?;
    }

    #[test]
    fn xform_mapcat(items in items(), gaps in gaps(), stop in stop(), end in end()) {
        let model = items.iter().flat_map(|&n| vec![n; (n % 3) as usize]).collect();
        let source = upstream(items, &gaps, &end)
            .transform(stream::xform::mapcat(|n: u32| vec![n; (n % 3) as usize]));
        check(source, model, stop, end)?;
    }

    #[test]
    fn dedupe(items in prop::collection::vec(0u32..3, 0..40), gaps in gaps(), stop in stop(), end in end()) {
        let mut model = items.clone();
        model.dedup();
        check(upstream(items.clone(), &gaps, &end).dedupe(), model.clone(), stop, end.clone())?;
        let source = upstream(items, &gaps, &end).transform(stream::xform::dedupe());
        check(source, model, stop, end)?;
    }

    #[test]
    fn accumulate(items in items(), gaps in gaps(), stop in stop(), end in end()) {
        let model: Vec<u32> = items
            .iter()
            .scan(None, |acc: &mut Option<u32>, &n| {
                let next = acc.map_or(n, |a| a.max(n) + 1);
                *acc = Some(next);
                Some(next)
            })
            .collect();
        let f = |a: u32, n: u32| a.max(n) + 1;
        check(upstream(items.clone(), &gaps, &end).accumulate(f), model.clone(), stop, end.clone())?;
        let source = upstream(items, &gaps, &end).transform(stream::xform::reductions(f));
        check(source, model, stop, end)?;
    }

    #[test]
    fn composed_xforms(items in items(), gaps in gaps(), stop in stop(), end in end()) {
        // drop 2, dedupe, then take 5: the transducers compose as Clojure's `comp`.
        let mut deduped: Vec<u32> = items.iter().copied().skip(2).collect();
        deduped.dedup();
        let model: Vec<u32> = deduped.iter().copied().take(5).collect();
        let expected_end = if deduped.len() >= 5 { Ok(()) } else { end.clone() };
        let xform = stream::xform::drop(2)
            .then(stream::xform::dedupe())
            .then(stream::xform::take(5));
        check(upstream(items, &gaps, &end).transform(xform), model, stop, expected_end)?;
    }

    /// `fan_out(n)`: every output yields exactly the input, whatever the chunking, the number of
    /// outputs or the order in which they are read, and ends with the upstream.
    #[test]
    fn fan_out(items in items(), gaps in gaps(), n in 1usize..5) {
        let outputs = upstream(items.clone(), &gaps, &Ok(())).fan_out(n);
        prop_assert_eq!(outputs.len(), n);
        let all = run(async move {
            let reads = outputs.into_iter().map(|output| {
                Deferred::spawn(async move {
                    Ok::<_, Error>(futures_lite::StreamExt::collect::<Vec<u32>>(output).await)
                })
            });
            weir::deferred::zip_all(reads).await
        })
        .unwrap();
        for output in all {
            prop_assert_eq!(&output, &items);
        }
    }
}

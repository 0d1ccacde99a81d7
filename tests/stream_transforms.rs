//! The transforming combinators of `SourceExt`: map, filter, mapcat, reductions, reduce, zip,
//! zip_all, concat, transform, realize_each and partition_by.
//!
//! Each combinator is checked for its output, an early end, the upstream's drain cause passing
//! through, a panicking user function, `close` reaching the upstream, and its place in the graph.

mod support;

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;

use futures_core::Stream;
use support::run;
use weir::stream::{
    self, Description, Edge, FnTransducer, Node, Source, SourceExt, Transducer, Vertex,
};
use weir::{Deferred, Error};

// ---- a scripted source --------------------------------------------------------------------

/// One step of a [`Script`].
enum Step<T> {
    /// Yields this message.
    Item(T),
    /// Returns `Pending` once and wakes the task at once (a message arriving a bit later).
    Later,
    /// Returns `Pending` until the script is closed.
    Stall,
}

/// A source that plays a list of steps and then ends with a chosen outcome. Closing it ends it
/// at once, cleanly, like `stream::iter`.
struct Script<T> {
    steps: VecDeque<Step<T>>,
    end: Option<Result<(), Error>>,
    vertex: Arc<ScriptVertex>,
    node: Node,
}

struct ScriptVertex {
    closed: AtomicBool,
    drained: Deferred<(), Error>,
    waker: Mutex<Option<Waker>>,
    edges: Mutex<Vec<Edge>>,
}

impl<T> Script<T> {
    fn new(steps: impl IntoIterator<Item = Step<T>>, end: Result<(), Error>) -> Self {
        let vertex = Arc::new(ScriptVertex {
            closed: AtomicBool::new(false),
            drained: Deferred::new(),
            waker: Mutex::new(None),
            edges: Mutex::new(Vec::new()),
        });
        Script {
            steps: steps.into_iter().collect(),
            end: Some(end),
            node: Node::new(vertex.clone()),
            vertex,
        }
    }

    /// The messages `items`, then a clean end.
    fn of(items: impl IntoIterator<Item = T>) -> Self {
        Script::new(items.into_iter().map(Step::Item), Ok(()))
    }

    /// The messages `items`, then an end with `error`.
    fn failing(items: impl IntoIterator<Item = T>, error: &str) -> Self {
        Script::new(
            items.into_iter().map(Step::Item),
            Err(Error::msg(error.to_string())),
        )
    }

    /// The messages `items`, then nothing until closed.
    fn stalling(items: impl IntoIterator<Item = T>) -> Self {
        Script::new(
            items.into_iter().map(Step::Item).chain([Step::Stall]),
            Ok(()),
        )
    }
}

impl<T> Unpin for Script<T> {}

impl<T> Stream for Script<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.vertex.closed.load(Ordering::SeqCst) {
            let _ = this.vertex.drained.try_realize(Ok(()));
            return Poll::Ready(None);
        }
        match this.steps.pop_front() {
            Some(Step::Item(item)) => Poll::Ready(Some(item)),
            Some(Step::Later) => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Some(Step::Stall) => {
                *this.vertex.waker.lock().unwrap() = Some(cx.waker().clone());
                this.steps.push_front(Step::Stall);
                if this.vertex.closed.load(Ordering::SeqCst) {
                    cx.waker().wake_by_ref();
                }
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

    fn size_hint(&self) -> (usize, Option<usize>) {
        let items = self
            .steps
            .iter()
            .filter(|step| matches!(step, Step::Item(_)))
            .count();
        let stalls = self.steps.iter().any(|step| matches!(step, Step::Stall));
        (items, if stalls { None } else { Some(items) })
    }
}

impl<T: Send> Source for Script<T> {
    fn node(&self) -> Node {
        self.node.clone()
    }

    fn close(&self) {
        self.vertex.closed.store(true, Ordering::SeqCst);
        let _ = self.vertex.drained.try_realize(Ok(()));
        if let Some(waker) = self.vertex.waker.lock().unwrap().take() {
            waker.wake();
        }
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.vertex.drained.clone()
    }
}

impl Vertex for ScriptVertex {
    fn description(&self) -> Description {
        let mut description = Description::new("script");
        description.closed = self.closed.load(Ordering::SeqCst);
        description.drained = self.drained.is_realized();
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.edges.lock().unwrap().clone()
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.edges.lock().unwrap().push(Edge {
            description,
            target: target.clone(),
        });
    }
}

// ---- helpers ------------------------------------------------------------------------------

async fn collect<S: Stream>(source: S) -> Vec<S::Item> {
    futures_lite::StreamExt::collect(source).await
}

async fn next<S: Stream + Unpin>(source: &mut S) -> Option<S::Item> {
    futures_lite::StreamExt::next(source).await
}

/// The kinds of the nodes directly downstream of `node`.
fn downstream_kinds(node: &Node) -> Vec<String> {
    node.downstream()
        .iter()
        .map(|edge| edge.target.description().kind.to_string())
        .collect()
}

/// The kinds of every node reachable from `node`, `node` excluded.
fn reachable_kinds(node: &Node) -> Vec<String> {
    let mut kinds = Vec::new();
    let mut queue = node.downstream();
    while let Some(edge) = queue.pop() {
        kinds.push(edge.target.description().kind.to_string());
        queue.extend(edge.target.downstream());
    }
    kinds
}

/// Silences the default panic message of the panics these tests provoke on purpose.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .copied()
                .unwrap_or_default();
            if !message.starts_with("on purpose") {
                default(info);
            }
        }));
    });
}

/// The checks every one-upstream combinator passes, given how to build it over a script of
/// `u32`s and its kind in the graph.
fn common_checks<S, M>(kind: &str, make: M)
where
    S: Source,
    M: Fn(Script<u32>) -> S,
{
    // Drain cause: the upstream's error passes through.
    let source = make(Script::failing([1, 2, 3], "upstream failed"));
    let drained = source.drained();
    run(collect(source));
    let error = run(drained).unwrap_err();
    assert_eq!(error.to_string(), "upstream failed", "{kind}");

    // A clean end is a clean end.
    let source = make(Script::of([1, 2, 3]));
    let drained = source.drained();
    run(collect(source));
    assert!(run(drained).is_ok(), "{kind}");

    // close() reaches the upstream, and the source then ends cleanly.
    let script = Script::stalling([1, 2, 3]);
    let upstream = script.node();
    let source = make(script);
    assert!(!upstream.description().closed, "{kind}");
    source.close();
    assert!(upstream.description().closed, "{kind}");
    assert!(source.description().closed, "{kind}");
    let drained = source.drained();
    run(collect(source));
    assert!(run(drained).is_ok(), "{kind}");

    // Early stop by the consumer: read one message, then close.
    let script = Script::stalling(0..1000);
    let upstream = script.node();
    let mut source = Box::pin(make(script));
    assert!(run(next(&mut source)).is_some(), "{kind}");
    source.close();
    assert!(upstream.description().closed, "{kind}");
    let drained = source.drained();
    run(collect(source));
    assert!(run(drained).is_ok(), "{kind}");

    // The graph: the combinator is downstream of its upstream (maybe through a `map` in
    // front), with its kind.
    let script = Script::of([1]);
    let upstream = script.node();
    let source = make(script);
    assert_eq!(source.node().description().kind, kind);
    assert!(
        reachable_kinds(&upstream).contains(&kind.to_string()),
        "{kind}"
    );
}

/// Checks that `make`, whose user function panics on the message `3`, ends with a panic error
/// after yielding `before`, and closes its upstream.
fn panic_checks<S, M>(make: M, before: Vec<S::Item>)
where
    S: Source,
    S::Item: PartialEq + std::fmt::Debug,
    M: FnOnce(Script<u32>) -> S,
{
    quiet_panics();
    let script = Script::stalling([1, 2, 3, 4]);
    let upstream = script.node();
    let source = make(script);
    let drained = source.drained();
    assert_eq!(run(collect(source)), before);
    assert!(run(drained).unwrap_err().is_panic());
    assert!(upstream.description().closed);
}

fn boom(n: u32) -> u32 {
    if n == 3 {
        panic!("on purpose: three");
    }
    n
}

// ---- smoke --------------------------------------------------------------------------------

#[test]
fn smoke() {
    let source = stream::iter(1..=10)
        .map_each(|n| n * 2)
        .filter_each(|n| n % 3 != 0)
        .mapcat(|n| [n, n + 1]);
    let drained = source.drained();
    assert_eq!(
        run(collect(source)),
        vec![2, 3, 4, 5, 8, 9, 10, 11, 14, 15, 16, 17, 20, 21]
    );
    assert!(run(drained).is_ok());
}

// ---- map ----------------------------------------------------------------------------------

#[test]
fn map_yields_f_of_each_message() {
    let source = Script::new(
        [Step::Item(1), Step::Later, Step::Item(2), Step::Item(3)],
        Ok(()),
    )
    .map_each(|n: u32| n.to_string());
    assert_eq!(source.size_hint(), (3, Some(3)));
    assert_eq!(run(collect(source)), vec!["1", "2", "3"]);
}

#[test]
fn map_common() {
    common_checks("map", |s| s.map_each(|n| n + 1));
}

#[test]
fn map_panic_ends_with_panic_error() {
    panic_checks(|s| s.map_each(boom), vec![1, 2]);
}

#[test]
fn map_is_fused_after_its_end() {
    let mut source = Box::pin(stream::iter([1]).map_each(|n| n));
    assert_eq!(run(next(&mut source)), Some(1));
    assert_eq!(run(next(&mut source)), None);
    assert_eq!(run(next(&mut source)), None);
    assert!(source.is_drained());
}

#[test]
fn map_over_several_sources_is_zip_then_map() {
    let sums = stream::iter(1..=3)
        .zip_each(stream::iter([10, 20, 30, 40]))
        .map_each(|(a, b)| a + b);
    assert_eq!(run(collect(sums)), vec![11, 22, 33]);
}

// ---- filter -------------------------------------------------------------------------------

#[test]
fn filter_keeps_accepted_messages() {
    let source = Script::new(
        (1..=10)
            .map(Step::Item)
            .chain([Step::Later, Step::Item(12)]),
        Ok(()),
    )
    .filter_each(|n| n % 4 == 0);
    assert_eq!(source.size_hint(), (0, Some(11)));
    assert_eq!(run(collect(source)), vec![4, 8, 12]);
}

#[test]
fn filter_common() {
    common_checks("filter", |s| s.filter_each(|n| n % 2 == 1));
}

#[test]
fn filter_panic_ends_with_panic_error() {
    panic_checks(|s| s.filter_each(|n| boom(*n) > 0), vec![1, 2]);
}

// ---- mapcat -------------------------------------------------------------------------------

#[test]
fn mapcat_flattens_collections() {
    let source = Script::of([0, 1, 2, 3]).mapcat(|n| (0..n).map(move |i| (n, i)));
    assert_eq!(
        run(collect(source)),
        vec![(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]
    );
}

#[test]
fn mapcat_common() {
    common_checks("mapcat", |s| s.mapcat(|n| vec![n, n]));
}

#[test]
fn mapcat_panic_in_f_ends_with_panic_error() {
    panic_checks(|s| s.mapcat(|n| [boom(n)]), vec![1, 2]);
}

#[test]
fn mapcat_panic_in_the_iterator_ends_with_panic_error() {
    panic_checks(|s| s.mapcat(|n| [n].into_iter().map(boom)), vec![1, 2]);
}

// ---- reductions ---------------------------------------------------------------------------

#[test]
fn reductions_yield_init_then_each_accumulator() {
    let source = Script::new([Step::Item(1), Step::Later, Step::Item(2)], Ok(()))
        .reductions(String::from(">"), |acc, n: u32| format!("{acc}{n}"));
    assert_eq!(source.size_hint(), (3, Some(3)));
    assert_eq!(run(collect(source)), vec![">", ">1", ">12"]);
    let empty = Script::of(Vec::<u32>::new()).reductions(7, |acc, n| acc + n);
    assert_eq!(run(collect(empty)), vec![7]);
}

#[test]
fn reductions_common() {
    common_checks("reductions", |s| s.reductions(0, |acc, n| acc + n));
}

#[test]
fn reductions_panic_ends_with_panic_error() {
    panic_checks(|s| s.reductions(0, |acc, n| acc + boom(n)), vec![0, 1, 3]);
}

// ---- reduce -------------------------------------------------------------------------------

#[test]
fn reduce_folds_everything() {
    let total = Script::new(
        [Step::Item(1), Step::Later, Step::Item(2), Step::Item(3)],
        Ok(()),
    )
    .reduce(10, |acc, n: u32| acc + n);
    assert_eq!(run(total).unwrap(), 16);
    let empty = stream::iter(Vec::<u32>::new()).reduce(5, |acc, n| acc + n);
    assert_eq!(run(empty).unwrap(), 5);
}

#[test]
fn reduce_fails_with_the_drain_error() {
    let total = Script::failing([1, 2], "upstream failed").reduce(0, |acc, n: u32| acc + n);
    assert_eq!(run(total).unwrap_err().to_string(), "upstream failed");
}

#[test]
fn reduce_panic_fails_and_closes_the_source() {
    quiet_panics();
    let script = Script::stalling([1, 2, 3]);
    let upstream = script.node();
    let total = script.reduce(0, |acc, n| acc + boom(n));
    assert!(run(total).unwrap_err().is_panic());
    assert!(upstream.description().closed);
}

#[test]
fn reduce_cancelled_closes_the_source() {
    let script = Script::stalling([1, 2]);
    let upstream_drained = script.drained();
    let upstream = script.node();
    let total = script.reduce(0, |acc, n: u32| acc + n);
    assert!(total.error(Error::cancelled()));
    assert!(run(upstream_drained).is_ok());
    assert!(upstream.description().closed);
}

#[test]
fn reduce_of_a_combinator_chain() {
    let total = stream::iter(1..=100)
        .filter_each(|n| n % 2 == 0)
        .map_each(|n| n * n)
        .reduce(0u64, |acc, n| acc + n);
    assert_eq!(
        run(total).unwrap(),
        (1..=100u64)
            .filter(|n| n % 2 == 0)
            .map(|n| n * n)
            .sum::<u64>()
    );
}

// ---- zip ----------------------------------------------------------------------------------

#[test]
fn zip_pairs_messages_and_ends_with_the_shorter() {
    let a = Script::new(
        [Step::Item(1), Step::Later, Step::Item(2), Step::Item(3)],
        Ok(()),
    );
    let b = Script::new([Step::Later, Step::Item('a'), Step::Item('b')], Ok(()));
    let a_node = a.node();
    let zipped = a.zip_each(b);
    let drained = zipped.drained();
    assert_eq!(run(collect(zipped)), vec![(1, 'a'), (2, 'b')]);
    assert!(run(drained).is_ok());
    // `b` ended: nobody reads `a` any more.
    assert!(a_node.description().closed);
}

#[test]
fn zip_ends_with_the_error_of_the_source_that_ended() {
    let a = Script::of(0..10u32);
    let a_node = a.node();
    let zipped = a.zip_each(Script::failing([1, 2], "b failed"));
    let drained = zipped.drained();
    assert_eq!(run(collect(zipped)), vec![(0, 1), (1, 2)]);
    assert_eq!(run(drained).unwrap_err().to_string(), "b failed");
    assert!(a_node.description().closed);

    let zipped = Script::failing([1u32], "a failed").zip_each(Script::of(0..10u32));
    let drained = zipped.drained();
    assert_eq!(run(collect(zipped)), vec![(1, 0)]);
    assert_eq!(run(drained).unwrap_err().to_string(), "a failed");
}

#[test]
fn zip_common() {
    common_checks("zip", |s| s.zip_each(stream::iter(0..)));
}

#[test]
fn zip_close_reaches_both_sources() {
    let a = Script::stalling([1u32]);
    let b = Script::stalling([2u32]);
    let (a_node, b_node) = (a.node(), b.node());
    let zipped = a.zip_each(b);
    assert_eq!(downstream_kinds(&a_node), vec!["zip"]);
    assert_eq!(downstream_kinds(&b_node), vec!["zip"]);
    zipped.close();
    assert!(a_node.description().closed && b_node.description().closed);
    assert!(run(collect(zipped)).is_empty());
}

#[test]
fn zip_panic_in_a_following_map_ends_with_panic_error() {
    panic_checks(
        |s| s.zip_each(stream::iter(0..)).map_each(|(n, _)| boom(n)),
        vec![1, 2],
    );
}

#[test]
fn zip_all_yields_rows() {
    let sources = vec![
        Script::new([Step::Item(1), Step::Later, Step::Item(2)], Ok(())),
        Script::of([10, 20, 30]),
        Script::new([Step::Later, Step::Item(100), Step::Item(200)], Ok(())),
    ];
    let nodes: Vec<Node> = sources.iter().map(Source::node).collect();
    let rows = stream::zip_all(sources);
    for node in &nodes {
        assert_eq!(downstream_kinds(node), vec!["zip"]);
    }
    let drained = rows.drained();
    assert_eq!(run(collect(rows)), vec![vec![1, 10, 100], vec![2, 20, 200]]);
    assert!(run(drained).is_ok());
    assert!(
        nodes[1].description().closed,
        "the unfinished sources are closed"
    );
}

#[test]
fn zip_all_edge_cases() {
    let none = stream::zip_all(Vec::<Script<u32>>::new());
    let drained = none.drained();
    assert!(run(collect(none)).is_empty());
    assert!(run(drained).is_ok());

    let failing = stream::zip_all(vec![Script::of(0..5), Script::failing([7], "one failed")]);
    let drained = failing.drained();
    assert_eq!(run(collect(failing)), vec![vec![0, 7]]);
    assert_eq!(run(drained).unwrap_err().to_string(), "one failed");

    let a = Script::stalling([1u32]);
    let a_node = a.node();
    let closing = stream::zip_all(vec![a, Script::stalling([2])]);
    closing.close();
    assert!(a_node.description().closed);
    assert!(closing.description().closed);
}

// ---- concat -------------------------------------------------------------------------------

#[test]
fn concat_flattens_in_order() {
    let outer = Script::new(
        [
            Step::Item(Script::new(
                [Step::Item(1), Step::Later, Step::Item(2)],
                Ok(()),
            )),
            Step::Later,
            Step::Item(Script::of([])),
            Step::Item(Script::of([3, 4])),
        ],
        Ok(()),
    );
    let flat = outer.flatten_each();
    let drained = flat.drained();
    assert_eq!(run(collect(flat)), vec![1, 2, 3, 4]);
    assert!(run(drained).is_ok());
}

#[test]
fn concat_common() {
    common_checks("concat", |s| {
        s.map_each(|n| stream::iter(0..n)).flatten_each()
    });
}

#[test]
fn concat_an_inner_error_ends_it() {
    let outer = Script::of([
        Script::of([1]),
        Script::failing([2], "inner failed"),
        Script::of([3]),
    ]);
    let outer_node = outer.node();
    let flat = outer.flatten_each();
    let drained = flat.drained();
    assert_eq!(run(collect(flat)), vec![1, 2]);
    assert_eq!(run(drained).unwrap_err().to_string(), "inner failed");
    assert!(outer_node.description().closed);
}

#[test]
fn concat_links_the_inner_source_being_read_and_closes_it() {
    let inner = Script::stalling([1u32, 2]);
    let inner_node = inner.node();
    let mut flat = Box::pin(Script::stalling([inner]).flatten_each());
    assert_eq!(run(next(&mut flat)), Some(1));
    assert_eq!(downstream_kinds(&inner_node), vec!["concat"]);
    flat.close();
    assert!(inner_node.description().closed);
}

#[test]
fn concat_panic_in_a_source_stage_ends_with_panic_error() {
    panic_checks(
        |s| {
            s.map_each(|n| stream::iter([n]).map_each(boom))
                .flatten_each()
        },
        vec![1, 2],
    );
}

// ---- transform ----------------------------------------------------------------------------

/// Batches of `size`, flushing the last partial batch at the end.
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

/// The first `n` messages, then an early end.
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

/// Each message twice.
struct Twice;

impl Transducer<u32> for Twice {
    type Out = u32;

    fn step(&mut self, input: u32, out: &mut Vec<u32>) -> ControlFlow<()> {
        out.extend([input, input]);
        ControlFlow::Continue(())
    }
}

#[test]
fn transform_steps_and_finishes() {
    let chunks = Script::new(
        [1, 2, 3, 4, 5].map(Step::Item).into_iter().chain([
            Step::Later,
            Step::Item(6),
            Step::Item(7),
        ]),
        Ok(()),
    )
    .transform(Chunks {
        size: 3,
        batch: Vec::new(),
    });
    assert_eq!(
        run(collect(chunks)),
        vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]
    );
    let doubled = Script::of([1, 2]).transform(Twice);
    assert_eq!(run(collect(doubled)), vec![1, 1, 2, 2]);
}

#[test]
fn transform_break_ends_early_and_closes_the_upstream() {
    let script = Script::stalling(1..=100);
    let upstream = script.node();
    let taken = script.transform(Take(3));
    let drained = taken.drained();
    assert_eq!(run(collect(taken)), vec![1, 2, 3]);
    assert!(run(drained).is_ok());
    assert!(upstream.description().closed);
}

#[test]
fn transform_composes_with_then() {
    let odd_squares = FnTransducer::new(|n: u32| (n % 2 == 1).then_some(n * n));
    let xform = odd_squares.then(Take(3)).then(Chunks {
        size: 2,
        batch: Vec::new(),
    });
    let out = Script::stalling(1..=100).transform(xform);
    // Take breaks after 1, 9, 25; Chunks still flushes its partial batch.
    assert_eq!(run(collect(out)), vec![vec![1, 9], vec![25]]);

    let out = Script::of(1..=4).transform(Twice.then(Take(3)));
    assert_eq!(run(collect(out)), vec![1, 1, 2]);
}

#[test]
fn transform_flushes_on_an_upstream_error_then_ends_with_it() {
    let chunks = Script::failing([1, 2, 3], "upstream failed").transform(Chunks {
        size: 2,
        batch: Vec::new(),
    });
    let drained = chunks.drained();
    assert_eq!(run(collect(chunks)), vec![vec![1, 2], vec![3]]);
    assert_eq!(run(drained).unwrap_err().to_string(), "upstream failed");
}

#[test]
fn transform_common() {
    common_checks("transform", |s| s.transform(Twice));
}

#[test]
fn transform_panic_ends_with_panic_error() {
    panic_checks(
        |s| s.transform(FnTransducer::new(|n| Some(boom(n)))),
        vec![1, 2],
    );
}

// ---- realize_each -------------------------------------------------------------------------

#[test]
fn realize_each_yields_values_in_order() {
    let deferreds: Vec<Deferred<u32>> = (0..5).map(|_| Deferred::new()).collect();
    let realizers: Vec<_> = deferreds.iter().map(Deferred::realizer).collect();
    // Realized from another thread in reverse order: the values still come in order.
    let realizing = thread::spawn(move || {
        for (i, realizer) in realizers.iter().enumerate().rev() {
            realizer.success(i as u32 * 10);
        }
    });
    let values = stream::iter(deferreds).realize_each();
    assert_eq!(run(collect(values)), vec![0, 10, 20, 30, 40]);
    realizing.join().unwrap();

    let futures = Script::of([1u32, 2]).map_each(|n| async move { Ok::<_, Error>(n + 1) });
    assert_eq!(run(collect(futures.realize_each())), vec![2, 3]);
}

#[test]
fn realize_each_error_ends_with_it() {
    let script = Script::stalling([Ok(1), Err(Error::msg("second failed")), Ok(3)]);
    let upstream = script.node();
    let values = script.map_each(Deferred::<u32>::from).realize_each();
    let drained = values.drained();
    assert_eq!(run(collect(values)), vec![1]);
    assert_eq!(run(drained).unwrap_err().to_string(), "second failed");
    assert!(upstream.description().closed);

    // Any error type that converts into weir::Error.
    let io = Script::of([Err::<u32, _>(std::io::Error::other("disk"))])
        .map_each(std::future::ready)
        .realize_each();
    let drained = io.drained();
    assert!(run(collect(io)).is_empty());
    assert!(run(drained).unwrap_err().is_io());
}

#[test]
fn realize_each_common() {
    common_checks("realize_each", |s| {
        s.map_each(Deferred::<u32>::succeeded).realize_each()
    });
}

#[test]
fn realize_each_panic_in_a_future_ends_with_panic_error() {
    panic_checks(
        |s| {
            s.map_each(|n| async move { Ok::<_, Error>(boom(n)) })
                .realize_each()
        },
        vec![1, 2],
    );
}

// ---- partition_by -------------------------------------------------------------------------

/// Reads every partition to its end.
async fn partitions<S, T>(mut parts: S) -> Vec<Vec<T>>
where
    S: Stream<Item = stream::Partition<T>> + Unpin,
{
    let mut out = Vec::new();
    while let Some(part) = next(&mut parts).await {
        out.push(collect(part).await);
    }
    out
}

#[test]
fn partition_by_splits_runs() {
    let script = Script::new(
        [1, 3, 2].map(Step::Item).into_iter().chain([
            Step::Later,
            Step::Item(4),
            Step::Item(5),
            Step::Later,
        ]),
        Ok(()),
    );
    let parts = script.partition_by(|n| n % 2);
    let drained = parts.drained();
    assert_eq!(
        run(partitions(parts)),
        vec![vec![1, 3], vec![2, 4], vec![5]]
    );
    assert!(run(drained).is_ok());
}

#[test]
fn partition_by_waits_for_the_previous_partition() {
    let mut parts = Box::pin(stream::iter([1, 1, 2]).partition_by(|n| *n));
    let mut first = run(next(&mut parts)).unwrap();
    let waker = Waker::noop();
    let mut cx = Context::from_waker(waker);
    // The first partition is unread: no second partition yet.
    assert!(parts.as_mut().poll_next(&mut cx).is_pending());
    assert_eq!(run(next(&mut first)), Some(1));
    assert!(parts.as_mut().poll_next(&mut cx).is_pending());
    assert_eq!(run(next(&mut first)), Some(1));
    assert_eq!(run(next(&mut first)), None);
    assert!(run(first.drained()).is_ok());
    let second = run(next(&mut parts)).unwrap();
    assert_eq!(run(collect(second)), vec![2]);
    assert!(run(next(&mut parts)).is_none());
}

#[test]
fn partition_by_dropped_or_closed_partitions_skip_their_run() {
    let parts = Box::pin(stream::iter([1, 1, 1, 2, 2, 3]).partition_by(|n| *n));
    let out = run(async move {
        let mut parts = parts;
        let mut firsts = Vec::new();
        while let Some(mut part) = next(&mut parts).await {
            firsts.push(next(&mut part).await.unwrap());
            if firsts.len() == 2 {
                part.close();
                assert!(part.drained().await.is_ok());
                assert_eq!(next(&mut part).await, None);
            }
            // dropped here, unread
        }
        firsts
    });
    assert_eq!(out, vec![1, 2, 3]);

    // A partition closed before its first message was read yields nothing.
    let mut parts = Box::pin(stream::iter([1, 2]).partition_by(|n| *n));
    let first = run(next(&mut parts)).unwrap();
    first.close();
    assert!(run(collect(first)).is_empty());
    assert_eq!(run(partitions(parts)), vec![vec![2]]);
}

#[test]
fn partition_by_upstream_error_ends_the_partition_and_the_source() {
    let parts = Script::failing([1, 1, 2, 2], "upstream failed").partition_by(|n| *n);
    let drained = parts.drained();
    let out = run(async move {
        let mut parts = Box::pin(parts);
        let mut out = Vec::new();
        while let Some(part) = next(&mut parts).await {
            let part_drained = part.drained();
            out.push(collect(part).await);
            out.push(vec![u32::from(part_drained.await.is_err())]);
        }
        out
    });
    assert_eq!(out, vec![vec![1, 1], vec![0], vec![2, 2], vec![1]]);
    assert_eq!(run(drained).unwrap_err().to_string(), "upstream failed");
}

#[test]
fn partition_by_common() {
    // Flattened with concat, partition_by is the identity.
    common_checks("concat", |s| s.partition_by(|n| n / 2).flatten_each());
    // The checks on the partitioning source itself.
    let source = Script::failing([1, 2, 3], "upstream failed").partition_by(|n| n / 2);
    let drained = source.drained();
    run(partitions(Box::pin(source)));
    assert_eq!(run(drained).unwrap_err().to_string(), "upstream failed");

    let script = Script::stalling([1, 2, 3]);
    let upstream = script.node();
    let source = script.partition_by(|n| *n);
    assert_eq!(downstream_kinds(&upstream), vec!["partition_by"]);
    source.close();
    assert!(upstream.description().closed);
    assert!(source.description().closed);
    let drained = source.drained();
    assert!(run(partitions(Box::pin(source))).is_empty());
    assert!(run(drained).is_ok());

    let mut parts = Box::pin(stream::iter([1]).partition_by(|n| *n));
    let part = run(next(&mut parts)).unwrap();
    assert_eq!(part.description().kind, "partition");
    assert_eq!(downstream_kinds(&parts.node()), vec!["partition"]);
}

#[test]
fn partition_by_panic_ends_with_panic_error() {
    quiet_panics();
    let script = Script::stalling([1, 1, 2, 3, 4]);
    let upstream = script.node();
    let parts = script.partition_by(|n| boom(*n));
    let drained = parts.drained();
    let out = run(async move {
        let mut parts = Box::pin(parts);
        let mut out = Vec::new();
        while let Some(part) = next(&mut parts).await {
            let part_drained = part.drained();
            out.push(collect(part).await);
            if let Err(error) = part_drained.await {
                assert!(error.is_panic());
                out.push(Vec::new());
            }
        }
        out
    });
    assert_eq!(out, vec![vec![1, 1], vec![2], vec![]]);
    assert!(run(drained).unwrap_err().is_panic());
    assert!(upstream.description().closed);
}

#[test]
fn partition_by_panic_while_the_parent_reads() {
    quiet_panics();
    let parts = stream::iter([1, 1, 3]).partition_by(|n| boom(*n));
    let out = run(async move {
        let mut parts = Box::pin(parts);
        let mut count = 0;
        while let Some(part) = next(&mut parts).await {
            count += 1;
            drop(part); // the parent reads the rest of the run, then the panicking key
        }
        assert!(parts.drained().await.unwrap_err().is_panic());
        count
    });
    assert_eq!(out, 1);
}

// ---- auto traits --------------------------------------------------------------------------

#[test]
fn combinators_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let source = stream::iter(0..3u32);
    let chain = source
        .map_each(|n| n + 1)
        .filter_each(|n| n % 2 == 0)
        .mapcat(|n| [n])
        .reductions(0, |a, n| a + n)
        .zip_each(stream::iter(0..))
        .map_each(|(a, _)| Deferred::<u32>::succeeded(a))
        .realize_each()
        .transform(Twice)
        .partition_by(|n| *n);
    is_send(&chain);
    is_send(&stream::zip_all(vec![stream::iter(0..1)]));
    is_send(&stream::iter([stream::iter(0..1)]).flatten_each());
}

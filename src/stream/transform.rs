//! `transform`: runs a [`Transducer`] over a source, Manifold's `transform` with a transducer.

use std::fmt;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::{Deferred, Error};

use super::graph::Node;
use super::guard::guard;
use super::source::Source;
use super::stage::Stage;

/// A step function over messages, with state: Clojure's transducer, as used by
/// [`SourceExt::transform`](super::SourceExt::transform).
///
/// For each input, [`step`](Transducer::step) pushes any number of outputs and says whether to
/// go on; [`ControlFlow::Break`] ends the stream early (Clojure's `reduced`). When the input
/// ends, or after a `Break`, [`finish`](Transducer::finish) flushes whatever the transducer
/// still holds (a partial batch, say). Transducers compose with [`then`](Transducer::then),
/// Clojure's `comp`.
///
/// A plain function from one input to at most one output is a transducer through
/// [`FnTransducer`].
///
/// # Examples
///
/// A transducer that batches messages in pairs and stops after the third input:
///
/// ```
/// use std::ops::ControlFlow;
///
/// use futures_lite::StreamExt;
/// use weir::stream::{self, SourceExt, Transducer};
///
/// #[derive(Default)]
/// struct PairsOfFirstThree {
///     seen: usize,
///     pending: Option<u32>,
/// }
///
/// impl Transducer<u32> for PairsOfFirstThree {
///     type Out = (u32, Option<u32>);
///
///     fn step(&mut self, input: u32, out: &mut Vec<Self::Out>) -> ControlFlow<()> {
///         match self.pending.take() {
///             Some(first) => out.push((first, Some(input))),
///             None => self.pending = Some(input),
///         }
///         self.seen += 1;
///         if self.seen == 3 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
///     }
///
///     fn finish(&mut self, out: &mut Vec<Self::Out>) {
///         out.extend(self.pending.take().map(|last| (last, None)));
///     }
/// }
///
/// # weir::runtime::block_on(async {
/// let pairs = stream::iter(1..100).transform(PairsOfFirstThree::default());
/// assert_eq!(pairs.collect::<Vec<_>>().await, vec![(1, Some(2)), (3, None)]);
/// # });
/// ```
pub trait Transducer<In> {
    /// What the transducer produces.
    type Out;

    /// Handles one input, pushing its outputs (if any) onto `out`. Returning
    /// [`ControlFlow::Break`] ends the stream after these outputs and those of
    /// [`finish`](Transducer::finish).
    fn step(&mut self, input: In, out: &mut Vec<Self::Out>) -> ControlFlow<()>;

    /// Called once when the input ends (or after a `Break`) to push any outputs still held.
    /// Does nothing by default.
    fn finish(&mut self, out: &mut Vec<Self::Out>) {
        let _ = out;
    }

    /// This transducer followed by `next`, which receives its outputs: Clojure's `comp`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, FnTransducer, SourceExt, Transducer};
    ///
    /// # weir::runtime::block_on(async {
    /// let evens = FnTransducer::new(|n: u32| (n % 2 == 0).then_some(n));
    /// let tenfold = FnTransducer::new(|n: u32| Some(n * 10));
    /// let out = stream::iter(1..=6).transform(evens.then(tenfold));
    /// assert_eq!(out.collect::<Vec<_>>().await, vec![20, 40, 60]);
    /// # });
    /// ```
    fn then<T>(self, next: T) -> Then<Self, T, Self::Out>
    where
        Self: Sized,
        T: Transducer<Self::Out>,
    {
        Then {
            first: self,
            next,
            between: Vec::new(),
            next_broke: false,
        }
    }
}

/// A function from an input to an optional output, as a [`Transducer`]: `Some` is passed on,
/// `None` drops the input (a `filter_map`). It never ends the stream early.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, FnTransducer, SourceExt};
///
/// # weir::runtime::block_on(async {
/// let parsed = stream::iter(["1", "x", "3"]).transform(FnTransducer::new(|s: &str| s.parse::<u8>().ok()));
/// assert_eq!(parsed.collect::<Vec<_>>().await, vec![1, 3]);
/// # });
/// ```
#[derive(Clone)]
pub struct FnTransducer<F> {
    f: F,
}

impl<F> FnTransducer<F> {
    /// Wraps `f`, a function `FnMut(In) -> Option<Out>`.
    pub fn new(f: F) -> Self {
        FnTransducer { f }
    }
}

impl<In, Out, F> Transducer<In> for FnTransducer<F>
where
    F: FnMut(In) -> Option<Out>,
{
    type Out = Out;

    fn step(&mut self, input: In, out: &mut Vec<Out>) -> ControlFlow<()> {
        out.extend((self.f)(input));
        ControlFlow::Continue(())
    }
}

impl<F> fmt::Debug for FnTransducer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnTransducer").finish_non_exhaustive()
    }
}

/// Two transducers in sequence; see [`Transducer::then`]. `M` is what the first one produces.
pub struct Then<A, B, M> {
    first: A,
    next: B,
    between: Vec<M>,
    next_broke: bool,
}

impl<A, B, M> Then<A, B, M> {
    /// Feeds what the first transducer produced to the next one, dropping whatever remains once
    /// it breaks off.
    fn feed<Out>(&mut self, out: &mut Vec<Out>) -> ControlFlow<()>
    where
        B: Transducer<M, Out = Out>,
    {
        let mut flow = ControlFlow::Continue(());
        for middle in self.between.drain(..) {
            if flow.is_continue() {
                flow = self.next.step(middle, out);
            }
        }
        if flow.is_break() {
            self.next_broke = true;
        }
        flow
    }
}

impl<A, B, In> Transducer<In> for Then<A, B, A::Out>
where
    A: Transducer<In>,
    B: Transducer<A::Out>,
{
    type Out = B::Out;

    fn step(&mut self, input: In, out: &mut Vec<B::Out>) -> ControlFlow<()> {
        let first = self.first.step(input, &mut self.between);
        self.feed(out)?;
        first
    }

    fn finish(&mut self, out: &mut Vec<B::Out>) {
        self.first.finish(&mut self.between);
        if self.next_broke {
            self.between.clear();
        } else {
            let _ = self.feed(out);
        }
        self.next.finish(out);
    }
}

impl<A: fmt::Debug, B: fmt::Debug, M> fmt::Debug for Then<A, B, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Then")
            .field("first", &self.first)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// The source returned by [`SourceExt::transform`](super::SourceExt::transform).
    #[must_use = "sources do nothing unless polled"]
    pub struct Transform<S, X, O> {
        #[pin]
        upstream: S,
        xform: X,
        // Outputs not yielded yet, in reverse order (the next one is last).
        pending: Vec<O>,
        state: State,
        stage: Stage,
    }
}

#[derive(Debug)]
enum State {
    Running,
    /// The input has ended (or the transducer broke off): yield what is pending, then end like
    /// this (`None`: like the upstream).
    Flushing(Option<Result<(), Error>>),
    Done,
}

impl<S: Source, X, O> Transform<S, X, O> {
    pub(super) fn new(mut upstream: S, xform: X) -> Self {
        let stage = Stage::reading("transform", &mut upstream);
        Transform {
            upstream,
            xform,
            pending: Vec::new(),
            state: State::Running,
            stage,
        }
    }
}

impl<S, X> futures_core::Stream for Transform<S, X, X::Out>
where
    S: Source,
    X: Transducer<S::Item>,
{
    type Item = X::Out;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<X::Out>> {
        let mut this = self.project();
        loop {
            if let Some(out) = this.pending.pop() {
                return Poll::Ready(Some(out));
            }
            match this.state {
                State::Done => return Poll::Ready(None),
                State::Flushing(outcome) => {
                    match outcome.take() {
                        Some(outcome) => this.stage.finish(outcome),
                        None => this.stage.finish_like(&*this.upstream),
                    }
                    *this.state = State::Done;
                    return Poll::Ready(None);
                }
                State::Running => {}
            }
            let pending = &mut *this.pending;
            let xform = &mut *this.xform;
            let stepped = match ready!(this.upstream.as_mut().poll_next(cx)) {
                Some(item) => guard(|| match xform.step(item, pending) {
                    ControlFlow::Continue(()) => None,
                    ControlFlow::Break(()) => {
                        xform.finish(pending);
                        Some(Some(Ok(())))
                    }
                }),
                None => guard(|| {
                    xform.finish(pending);
                    Some(None)
                }),
            };
            match stepped {
                Ok(None) => {}
                Ok(Some(end)) => {
                    if end.is_some() {
                        // Broke off early: nobody reads the upstream any more.
                        this.upstream.close();
                    }
                    *this.state = State::Flushing(end);
                }
                Err(error) => {
                    pending.clear();
                    *this.state = State::Done;
                    this.stage.fail(error, &*this.upstream);
                    return Poll::Ready(None);
                }
            }
            pending.reverse();
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let pending = self.pending.len();
        match self.state {
            State::Running => (pending, None),
            State::Flushing(_) | State::Done => (pending, Some(pending)),
        }
    }
}

impl<S, X> Source for Transform<S, X, X::Out>
where
    S: Source,
    X: Transducer<S::Item> + Send,
    X::Out: Send,
{
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.mark_closed();
        self.upstream.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<S: fmt::Debug, X: fmt::Debug, O> fmt::Debug for Transform<S, X, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transform")
            .field("upstream", &self.upstream)
            .field("xform", &self.xform)
            .field("pending", &self.pending.len())
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

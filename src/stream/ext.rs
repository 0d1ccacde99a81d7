//! `SourceExt`: weir's combinators on every [`Source`].

use super::source::Source;

/// Combinators for every weir [`Source`], one method per combinator (each is documented on its
/// method and lives in a file of its own).
///
/// Every combinator here is lazy: it wraps its upstream without a channel or a task, so a chain
/// of pure combinators costs about what the same chain of `futures::StreamExt` adapters costs.
/// Each one is itself a [`Source`]: it shows up in the stream graph, passes `close` upstream,
/// and reports how it ended through [`Source::drained`] (a panicking user function ends it with
/// a [panic error](crate::Error::is_panic)).
///
/// # Two combinators over one source compete for its messages
///
/// A combinator *reads* its upstream; it does not subscribe to it. So two combinators built on
/// clones of one channel take turns: each message goes to whichever of them asks first, and
/// neither sees every message. Manifold's `map` connects the stream, so there two maps both see
/// everything; in weir, to give several consumers every message, fan the source out first, with
/// [`fan_out`](SourceExt::fan_out) (one call) or with [`connect`](super::connect) into several
/// channels, and put a combinator on each output.
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, SourceExt};
///
/// # weir::runtime::block_on(async {
/// let mut outputs = stream::iter(1..=3).fan_out(2).into_iter();
/// let doubled = outputs.next().unwrap().map_each(|n| n * 2);
/// let negated = outputs.next().unwrap().map_each(|n: i32| -n);
/// let (doubled, negated) = futures_lite::future::zip(
///     doubled.collect::<Vec<_>>(),
///     negated.collect::<Vec<_>>(),
/// )
/// .await;
/// assert_eq!((doubled, negated), (vec![2, 4, 6], vec![-1, -2, -3]));
/// # });
/// ```
///
/// # Coexisting with `futures::StreamExt`
///
/// weir's sources are also `futures_core::Stream`s, so `futures::StreamExt` (or
/// `futures_lite::StreamExt`) works on them too, and a channel is also a `futures_sink::Sink`,
/// so `futures::SinkExt` works on it. No method of `SourceExt` has the name of a method of those
/// traits, so every call compiles, and means the same, whichever of them are in scope. That is
/// why weir's per-message combinators end in `_each`, where Manifold and the futures crates say
/// `map`, `filter`, `zip` and `concat`:
///
/// | Manifold | weir | the futures method of that name |
/// |---|---|---|
/// | `map` | [`map_each`](SourceExt::map_each) | `StreamExt::map`: the same idea, a plain `Stream` |
/// | `filter` | [`filter_each`](SourceExt::filter_each) | `futures::StreamExt::filter` takes an async predicate |
/// | `zip` | [`zip_each`](SourceExt::zip_each) | `StreamExt::zip`: the same idea, a plain `Stream` |
/// | `concat` | [`flatten_each`](SourceExt::flatten_each) | `futures::StreamExt::concat` *collects* a stream of collections; `StreamExt::flatten` is weir's `flatten_each` |
/// | `buffer` | [`read_ahead`](SourceExt::read_ahead), [`read_ahead_by`](SourceExt::read_ahead_by) | `futures::SinkExt::buffer` buffers a sink |
/// | `take!` | [`Channel::take_next`](super::Channel::take_next) | `StreamExt::take(n)` limits a stream to `n` messages |
///
/// The futures adapters work on weir's sources too, but they make plain `Stream`s: weir's
/// combinators keep the weir extras (the graph node, `close` passed upstream, the drain cause),
/// and [`from_stream`](super::from_stream) makes a futures adapter a source again.
pub trait SourceExt: Source {
    // Transforms: map, filter, mapcat, reductions, reduce, zip, concat, transform,
    // realize_each, partition_by.
    /// Applies `f` to every message: Manifold's `map`.
    ///
    /// A panic in `f` ends the source with a [panic error](crate::Error::is_panic), seen through
    /// [`drained`](Source::drained), and closes the upstream. Manifold's `map` over several
    /// streams, `(s/map f a b)`, is [`zip_each`](SourceExt::zip_each) (or [`zip_all`](super::zip_all))
    /// followed by `map_each`, as below. (Named so that it does not collide with
    /// `StreamExt::map`; see [`SourceExt`].)
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Source, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let doubled = stream::iter(1..=3).map_each(|n| n * 2);
    /// let drained = doubled.drained();
    /// let all: Vec<i32> = futures_lite::StreamExt::collect(doubled).await;
    /// assert_eq!(all, vec![2, 4, 6]);
    /// assert!(drained.await.is_ok());
    ///
    /// // Manifold's `(s/map + a b)`:
    /// let sums = stream::iter(1..=3).zip_each(stream::iter([10, 20, 30])).map_each(|(a, b)| a + b);
    /// let all: Vec<i32> = futures_lite::StreamExt::collect(sums).await;
    /// assert_eq!(all, vec![11, 22, 33]);
    ///
    /// // A panic in `f` ends the source with a panic error.
    /// let failing = stream::iter(1..=3).map_each(|n| if n == 2 { panic!("two") } else { n });
    /// let drained = failing.drained();
    /// let all: Vec<i32> = futures_lite::StreamExt::collect(failing).await;
    /// assert_eq!(all, vec![1]);
    /// assert!(drained.await.unwrap_err().is_panic());
    /// # });
    /// ```
    fn map_each<T, F>(self, f: F) -> super::Map<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> T + Send,
    {
        super::Map::new(self, f)
    }

    /// Applies a fallible function to every message: `Ok` values go on, and the first `Err`
    /// ends the source, with that error (converted into a [`weir::Error`](crate::Error)) as
    /// its drain outcome, and closes the upstream, which nobody reads any more. Parse-or-fail
    /// steps (bytes into records, lines into numbers) need nothing else. A panic in `f` ends
    /// the source with a [panic error](crate::Error::is_panic), as in [`map_each`](SourceExt::map_each).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Source, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let numbers = stream::iter(["1", "2", "x", "4"]).try_map(|text| {
    ///     text.parse::<u32>()
    ///         .map_err(|error| weir::Error::msg(format!("{text:?}: {error}")))
    /// });
    /// let drained = numbers.drained();
    /// let parsed: Vec<u32> = futures_lite::StreamExt::collect(numbers).await;
    /// assert_eq!(parsed, vec![1, 2]);
    /// assert_eq!(drained.await.unwrap_err().to_string(), "\"x\": invalid digit found in string");
    /// # });
    /// ```
    fn try_map<T, E, F>(self, f: F) -> super::TryMap<Self, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> Result<T, E> + Send,
        E: Into<crate::Error>,
    {
        super::TryMap::new(self, f)
    }

    /// Keeps the messages for which `f` returns true: Manifold's `filter`. A panic in `f` ends
    /// the source with a [panic error](crate::Error::is_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let evens = stream::iter(1..=6).filter_each(|n| n % 2 == 0);
    /// let all: Vec<i32> = futures_lite::StreamExt::collect(evens).await;
    /// assert_eq!(all, vec![2, 4, 6]);
    /// # });
    /// ```
    fn filter_each<F>(self, f: F) -> super::Filter<Self, F>
    where
        Self: Sized,
        F: FnMut(&Self::Item) -> bool + Send,
    {
        super::Filter::new(self, f)
    }

    /// Maps every message to a collection (anything [`IntoIterator`]) and yields its items:
    /// Manifold's `mapcat`. A panic in `f`, or in the iterator it returns, ends the source with
    /// a [panic error](crate::Error::is_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let repeated = stream::iter(1..=3).mapcat(|n| vec![n; n]);
    /// assert_eq!(repeated.collect::<Vec<_>>().await, vec![1, 2, 2, 3, 3, 3]);
    /// # });
    /// ```
    fn mapcat<C, F>(self, f: F) -> super::Mapcat<Self, F, C::IntoIter>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> C + Send,
        C: IntoIterator,
        C::IntoIter: Send,
    {
        super::Mapcat::new(self, f)
    }

    /// Yields `init`, then the accumulator after each message, folded with `f`: Manifold's
    /// `reductions` with an initial value. A panic in `f` ends the source with a
    /// [panic error](crate::Error::is_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let running_sums = stream::iter(1..=4).reductions(0, |acc, n| acc + n);
    /// assert_eq!(running_sums.collect::<Vec<_>>().await, vec![0, 1, 3, 6, 10]);
    /// # });
    /// ```
    fn reductions<A, F>(self, init: A, f: F) -> super::Reductions<Self, F, A>
    where
        Self: Sized,
        A: Clone + Send,
        F: FnMut(A, Self::Item) -> A + Send,
    {
        super::Reductions::new(self, init, f)
    }

    /// Yields the first message, then each following message folded into the accumulator with
    /// `f`: Manifold's `reductions` without an initial value (Python's `accumulate`). An empty
    /// source stays empty. It is [`transform`](SourceExt::transform) with
    /// [`xform::reductions`](super::xform::reductions). A panic in `f` ends the source with a
    /// [panic error](crate::Error::is_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let running_sums = stream::iter(1..=4).accumulate(|acc, n| acc + n);
    /// assert_eq!(running_sums.collect::<Vec<_>>().await, vec![1, 3, 6, 10]);
    /// # });
    /// ```
    fn accumulate<F>(
        self,
        f: F,
    ) -> super::Transform<Self, super::xform::Reductions<Self::Item, F>, Self::Item>
    where
        Self: Sized,
        Self::Item: Clone + Send,
        F: FnMut(Self::Item, Self::Item) -> Self::Item + Send,
    {
        self.transform(super::xform::reductions(f))
    }

    /// Drops every message equal to the one just before it: Manifold's (Clojure's) `dedupe`.
    /// It is [`transform`](SourceExt::transform) with [`xform::dedupe`](super::xform::dedupe);
    /// see [`xform`](super::xform) for `take`, `drop`, `take_while` and `partition_all`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let changes = stream::iter(["up", "up", "down", "up", "up"]).dedupe();
    /// assert_eq!(changes.collect::<Vec<_>>().await, vec!["up", "down", "up"]);
    /// # });
    /// ```
    fn dedupe(self) -> super::Transform<Self, super::xform::Dedupe<Self::Item>, Self::Item>
    where
        Self: Sized,
        Self::Item: PartialEq + Clone + Send,
    {
        self.transform(super::xform::dedupe())
    }

    /// Folds the whole source with `f` from `init`, on weir's executor: Manifold's `reduce`
    /// with an initial value. The deferred is realized with the result once the source is
    /// drained, or with the error that ended the source (its [drain](Source::drained) error, or
    /// a [panic error](crate::Error::is_panic) from `f`, which also closes the source).
    /// Realizing the deferred first (say with [`Error::cancelled`](crate::Error::cancelled))
    /// stops the fold and closes the source.
    ///
    /// To stop early, put a [`transform`](SourceExt::transform) that breaks off in front.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let sum = stream::iter(1..=4).reduce(0, |acc, n| acc + n);
    /// assert_eq!(sum.await.unwrap(), 10);
    ///
    /// let failed = stream::iter(1..=4).reduce(0, |_, _| -> i32 { panic!("no") });
    /// assert!(failed.await.unwrap_err().is_panic());
    /// # });
    /// ```
    fn reduce<A, F>(self, init: A, f: F) -> crate::Deferred<A, crate::Error>
    where
        Self: Sized + 'static,
        A: Send + 'static,
        F: FnMut(A, Self::Item) -> A + Send + 'static,
    {
        super::reduce::reduce(self, init, f)
    }

    /// Pairs each message with one from `other`: Manifold's `zip` of two streams. It ends when
    /// either source ends, with that source's drain outcome, and closes the other one. For more
    /// than two sources of one type, see [`zip_all`](super::zip_all).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let pairs = stream::iter(1..=3).zip_each(stream::iter("abcd".chars()));
    /// let all: Vec<(i32, char)> = futures_lite::StreamExt::collect(pairs).await;
    /// assert_eq!(all, vec![(1, 'a'), (2, 'b'), (3, 'c')]);
    /// # });
    /// ```
    fn zip_each<B>(self, other: B) -> super::Zip<Self, B>
    where
        Self: Sized,
        Self::Item: Send,
        B: Source,
        B::Item: Send,
    {
        super::Zip::new(self, other)
    }

    /// Flattens a source of sources, reading each to its end before the next: Manifold's
    /// `concat` (named after `StreamExt::flatten`, since `futures::StreamExt::concat` collects).
    /// An inner source that ends with an error ends this one with that error (and
    /// closes the outer source).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let flat = stream::iter([stream::iter(1..3), stream::iter(3..3), stream::iter(3..5)]).flatten_each();
    /// assert_eq!(flat.collect::<Vec<_>>().await, vec![1, 2, 3, 4]);
    /// # });
    /// ```
    fn flatten_each(self) -> super::Concat<Self>
    where
        Self: Sized,
        Self::Item: Source,
    {
        super::Concat::new(self)
    }

    /// Runs the messages through a [`Transducer`](super::Transducer): Manifold's `transform`.
    /// Each message may produce any number of messages; the transducer can end the source early
    /// ([`ControlFlow::Break`](std::ops::ControlFlow::Break), Clojure's `reduced`, which also
    /// closes the upstream) and flush what it holds when its input ends. A panic in the
    /// transducer ends the source with a [panic error](crate::Error::is_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, FnTransducer, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let squares_of_odds = FnTransducer::new(|n: u32| (n % 2 == 1).then(|| n * n));
    /// let out = stream::iter(1..=5).transform(squares_of_odds);
    /// assert_eq!(out.collect::<Vec<_>>().await, vec![1, 9, 25]);
    /// # });
    /// ```
    fn transform<X>(self, xform: X) -> super::Transform<Self, X, X::Out>
    where
        Self: Sized,
        X: super::Transducer<Self::Item> + Send,
        X::Out: Send,
    {
        super::Transform::new(self, xform)
    }

    /// Awaits each message, a [`Deferred`](crate::Deferred) or any other future of a `Result`,
    /// and yields its value, one message at a time and in order: Manifold's `realize-each`. The
    /// first error ends the source with that error (as its [drain](Source::drained) outcome)
    /// and closes the upstream.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, Source, SourceExt};
    /// use weir::{Deferred, Error};
    ///
    /// # weir::runtime::block_on(async {
    /// let work = (1..=3).map(|n| Deferred::spawn(async move { Ok::<_, Error>(n * 10) }));
    /// let values = stream::iter(work).realize_each();
    /// assert_eq!(values.collect::<Vec<_>>().await, vec![10, 20, 30]);
    ///
    /// let results = [Ok(1), Err(Error::msg("bad")), Ok(3)];
    /// let values = stream::iter(results.map(Deferred::from)).realize_each();
    /// let drained = values.drained();
    /// assert_eq!(values.collect::<Vec<u8>>().await, vec![1]);
    /// assert_eq!(drained.await.unwrap_err().to_string(), "bad");
    /// # });
    /// ```
    fn realize_each<T, E>(self) -> super::RealizeEach<Self>
    where
        Self: Sized,
        Self::Item: std::future::IntoFuture<Output = Result<T, E>>,
        <Self::Item as std::future::IntoFuture>::IntoFuture: Send,
        E: Into<crate::Error>,
    {
        super::RealizeEach::new(self)
    }

    /// Splits the source into [`Partition`](super::Partition)s, sub-sources of consecutive
    /// messages whose keys (by `f`) are equal: Manifold's `lazily-partition-by`. Partitions are
    /// read lazily from this source, so the next partition is not yielded until the previous
    /// one has been read to its end, closed or dropped; a partition closed or dropped early
    /// skips the rest of its run. A panic in `f` ends the current partition and this source
    /// with a [panic error](crate::Error::is_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let mut runs = stream::iter([1, 3, 2, 4, 6, 5]).partition_by(|n| n % 2);
    /// let mut all = Vec::new();
    /// while let Some(run) = runs.next().await {
    ///     all.push(run.collect::<Vec<_>>().await);
    /// }
    /// assert_eq!(all, vec![vec![1, 3], vec![2, 4, 6], vec![5]]);
    /// # });
    /// ```
    fn partition_by<K, F>(self, f: F) -> super::PartitionBy<Self, F, K>
    where
        Self: Sized + 'static,
        Self::Item: Send + 'static,
        F: FnMut(&Self::Item) -> K + Send + 'static,
        K: PartialEq + Send + 'static,
    {
        super::PartitionBy::new(self, f)
    }

    /// Fans the source out into `n` channels, each of which sees every message: what Manifold
    /// does when several streams are connected to one. A task reads the source and puts each
    /// message into every output, and reads the next only once every output has taken it, so
    /// the slowest consumer sets the pace (the outputs are unbuffered; put a
    /// [`read_ahead`](SourceExt::read_ahead) after one to let it lag). When the source is
    /// drained, every output is closed (what it holds stays takeable); closing one output stops
    /// only that one, and the source is closed once every output is. `n == 0` closes the source.
    ///
    /// Two lazy combinators on one source do not do this: they compete for its messages (see
    /// [`SourceExt`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let outputs = stream::iter(["a", "b"]).fan_out(3);
    /// let reads = outputs.into_iter().map(|output| {
    ///     weir::Deferred::spawn(async move { Ok::<_, weir::Error>(output.collect::<Vec<_>>().await) })
    /// });
    /// let all = weir::deferred::zip_all(reads).await.unwrap();
    /// assert_eq!(all, vec![vec!["a", "b"]; 3]);
    /// # });
    /// ```
    fn fan_out(self, n: usize) -> Vec<super::Channel<Self::Item>>
    where
        Self: Sized + 'static,
        Self::Item: Clone + Send + 'static,
    {
        super::fan_out::fan_out(self, n)
    }

    // Buffering and time: batch, throttle, buffer, dropping, sliding.
    /// Gathers messages into vectors of `max_size`: Manifold's `batch`. The last batch, when the
    /// upstream ends, holds what is left (it may be shorter); no batch is ever empty.
    ///
    /// # Panics
    ///
    /// If `max_size` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let batches = stream::iter(1..=5).batch(2);
    /// assert_eq!(batches.collect::<Vec<_>>().await, vec![vec![1, 2], vec![3, 4], vec![5]]);
    /// # });
    /// ```
    fn batch(self, max_size: usize) -> super::Batch<Self>
    where
        Self: Sized,
    {
        super::Batch::new(self, max_size, None)
    }

    /// Gathers messages into vectors of at most `max_size`, emitting a batch as soon as it is
    /// full or `max_latency` after its first message arrived, whichever comes first: Manifold's
    /// `batch` with a latency. A quiet upstream therefore never holds a message back for longer
    /// than `max_latency`.
    ///
    /// # Panics
    ///
    /// If `max_size` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use futures_lite::StreamExt;
    /// use weir::stream::{Channel, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let s = Channel::new(8);
    /// let mut batches = s.clone().batch_within(100, Duration::from_millis(10));
    /// s.put(1).await.unwrap();
    /// s.put(2).await.unwrap();
    /// // Far from full, but 10 ms after its first message the batch goes out.
    /// assert_eq!(batches.next().await, Some(vec![1, 2]));
    /// # s.close();
    /// # });
    /// ```
    fn batch_within(self, max_size: usize, max_latency: std::time::Duration) -> super::Batch<Self>
    where
        Self: Sized,
    {
        super::Batch::new(self, max_size, Some(max_latency))
    }

    /// Gathers messages into vectors whose summed `metric` is at most `max_size` (bytes, say),
    /// and, with a `max_latency`, emits a batch at the latest that long after its first message:
    /// Manifold's `batch` with a metric. A message that would take a batch over `max_size` starts
    /// the next one; a single message over `max_size` makes a batch of its own. A panic in
    /// `metric` ends the source with a [panic error](crate::Error::is_panic), after the messages
    /// already gathered.
    ///
    /// # Panics
    ///
    /// If `max_size` is zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let words = stream::iter(["a", "bb", "ccc", "dddddd", "e"]);
    /// let batches = words.batch_by(|w| w.len(), 4, None);
    /// assert_eq!(
    ///     batches.collect::<Vec<_>>().await,
    ///     vec![vec!["a", "bb"], vec!["ccc"], vec!["dddddd"], vec!["e"]],
    /// );
    /// # });
    /// ```
    fn batch_by<F>(
        self,
        metric: F,
        max_size: usize,
        max_latency: Option<std::time::Duration>,
    ) -> super::BatchBy<Self, F>
    where
        Self: Sized,
        F: FnMut(&Self::Item) -> usize + Send,
    {
        super::BatchBy::new(self, metric, max_size, max_latency, "batch-by")
    }

    /// Passes at most `max_rate` messages per second on average: Manifold's `throttle`. After
    /// an idle period up to one second's worth of messages (the backlog) may pass at once; see
    /// [`throttle_with_backlog`](SourceExt::throttle_with_backlog) to choose it. Waiting is done
    /// with a timer, and the upstream is not read meanwhile, so backpressure reaches it.
    ///
    /// # Panics
    ///
    /// If `max_rate` is not positive.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let start = Instant::now();
    /// let paced = stream::iter(1..=5).throttle(200.0);
    /// assert_eq!(paced.collect::<Vec<_>>().await, vec![1, 2, 3, 4, 5]);
    /// // The first message passes at once, the four others 5 ms apart.
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// # });
    /// ```
    fn throttle(self, max_rate: f64) -> super::Throttle<Self>
    where
        Self: Sized,
    {
        super::Throttle::new(self, max_rate, max_rate)
    }

    /// Like [`throttle`](SourceExt::throttle), with a backlog of `max_backlog` messages: after
    /// an idle period, up to that many messages beyond the regular pace pass at once (zero: the
    /// pace is strict).
    ///
    /// # Panics
    ///
    /// If `max_rate` is not positive or `max_backlog` is negative.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let start = Instant::now();
    /// let strict = stream::iter(1..=3).throttle_with_backlog(100.0, 0.0);
    /// assert_eq!(strict.collect::<Vec<_>>().await, vec![1, 2, 3]);
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// # });
    /// ```
    fn throttle_with_backlog(self, max_rate: f64, max_backlog: f64) -> super::Throttle<Self>
    where
        Self: Sized,
    {
        super::Throttle::new(self, max_rate, max_backlog)
    }

    /// Reads the source ahead of its consumer, buffering up to `limit` messages: Manifold's
    /// `buffer` (not named `buffer`, which `futures::SinkExt` has for sinks). A task on weir's executor does the reading; it puts one message more and waits
    /// for the consumer to take one before it reads on. Closing or dropping the returned
    /// [`Buffer`](super::Buffer) stops it and closes this source. An error that ends this source
    /// is reported by the buffer's [`drained`](Source::drained) once its messages are taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{Channel, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let s = Channel::unbuffered();
    /// let buffered = s.clone().read_ahead(3);
    /// // Three puts into an unbuffered channel complete with nobody consuming yet.
    /// for n in 0..3 {
    ///     s.put(n).await.unwrap();
    /// }
    /// s.close();
    /// assert_eq!(buffered.collect::<Vec<_>>().await, vec![0, 1, 2]);
    /// # });
    /// ```
    fn read_ahead(self, limit: usize) -> super::Buffer<Self::Item>
    where
        Self: Sized + 'static,
        Self::Item: Send + 'static,
    {
        super::Buffer::new(self, limit)
    }

    /// Like [`read_ahead`](SourceExt::read_ahead), measuring the buffer by the sum of `metric` over its
    /// messages (bytes, say) instead of their number: Manifold's `buffer` with a metric. The
    /// reading task waits once the buffered total exceeds `limit`, so it holds at most one
    /// message past it. A panic in `metric` closes the buffer with a
    /// [panic error](crate::Error::is_panic), after the messages already buffered.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let chunks = stream::iter([vec![0u8; 4], vec![1; 8], vec![2; 2]]);
    /// let buffered = chunks.read_ahead_by(|chunk| chunk.len(), 16);
    /// let chunks: Vec<Vec<u8>> = buffered.collect().await;
    /// assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 8, 2]);
    /// # });
    /// ```
    fn read_ahead_by<F>(self, metric: F, limit: usize) -> super::Buffer<Self::Item>
    where
        Self: Sized + 'static,
        Self::Item: Send + 'static,
        F: Fn(&Self::Item) -> usize + Send + Sync + 'static,
    {
        super::Buffer::by(self, metric, limit)
    }

    /// Reads the source ahead of its consumer into a [`dropping`](super::dropping) buffer of
    /// `n` messages: when the consumer falls behind and the buffer is full, **new messages are
    /// dropped**, and this source is never held back. Manifold's `(dropping-stream n source)`.
    /// Closing or dropping the returned [`Buffer`](super::Buffer) closes this source.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, Source, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let source = stream::iter(1..=100);
    /// let read = source.drained();
    /// let latest = source.dropping(3);
    /// // Nobody takes until the task has read the whole source: only the first three fit.
    /// read.await.unwrap();
    /// assert_eq!(latest.collect::<Vec<_>>().await, vec![1, 2, 3]);
    /// # });
    /// ```
    fn dropping(self, n: usize) -> super::Buffer<Self::Item>
    where
        Self: Sized + 'static,
        Self::Item: Send + 'static,
    {
        super::Buffer::dropping(self, n)
    }

    /// Reads the source ahead of its consumer into a [`sliding`](super::sliding) buffer of `n`
    /// messages: when the consumer falls behind and the buffer is full, **the oldest buffered
    /// message is dropped**, so the consumer sees the latest ones, and this source is never held
    /// back. Manifold's `(sliding-stream n source)`. Closing or dropping the returned
    /// [`Buffer`](super::Buffer) closes this source.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, Source, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let source = stream::iter(1..=100);
    /// let read = source.drained();
    /// let latest = source.sliding(3);
    /// // Nobody takes until the task has read the whole source: the last three remain.
    /// read.await.unwrap();
    /// assert_eq!(latest.collect::<Vec<_>>().await, vec![98, 99, 100]);
    /// # });
    /// ```
    fn sliding(self, n: usize) -> super::Buffer<Self::Item>
    where
        Self: Sized + 'static,
        Self::Item: Send + 'static,
    {
        super::Buffer::sliding(self, n)
    }

    // Consuming: drain_into, consume, consume_async, into_blocking_iter.
    /// Puts every message into `sink` with backpressure, without closing it: Manifold's
    /// `drain-into`. The deferred is realized once this source is drained or `sink` closes;
    /// see [`drain_into`](super::drain_into) for the details.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let sink = Channel::new(4);
    /// stream::iter(["a", "b"]).drain_into(sink.clone()).await.unwrap();
    /// assert_eq!((sink.take_next().await, sink.take_next().await), (Some("a"), Some("b")));
    /// assert!(!sink.is_closed());
    /// # });
    /// ```
    fn drain_into<K>(self, sink: K) -> crate::Deferred<(), crate::Error>
    where
        Self: Sized + 'static,
        Self::Item: Send + 'static,
        K: super::Sink<Self::Item> + 'static,
    {
        super::drain_into(self, sink)
    }

    /// Calls `f` with every message, on a task: Manifold's `consume`. The deferred is realized
    /// once this source is drained, or with a panic error if `f` panics; see
    /// [`consume`](super::consume).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use weir::stream::{self, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let total = Arc::new(AtomicU32::new(0));
    /// let sum = total.clone();
    /// stream::iter(1..=4)
    ///     .consume(move |n| {
    ///         sum.fetch_add(n, Ordering::SeqCst);
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(total.load(Ordering::SeqCst), 10);
    /// # });
    /// ```
    fn consume<F>(self, f: F) -> crate::Deferred<(), crate::Error>
    where
        Self: Sized + 'static,
        F: FnMut(Self::Item) + Send + 'static,
    {
        super::consume(self, f)
    }

    /// Calls `f` with every message and waits for its future before taking the next; `false`
    /// stops: Manifold's `consume-async`. See [`consume_async`](super::consume_async).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let out = Channel::new(8);
    /// let sink = out.clone();
    /// stream::iter(1..=3)
    ///     .consume_async(move |n| {
    ///         let sink = sink.clone();
    ///         async move { sink.put(n).await.is_ok() }
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(out.take_next().await, Some(1));
    /// # });
    /// ```
    fn consume_async<F, Fut>(self, f: F) -> crate::Deferred<(), crate::Error>
    where
        Self: Sized + 'static,
        Self::Item: Send,
        F: FnMut(Self::Item) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = bool> + Send,
    {
        super::consume_async(self, f)
    }

    /// This source as a blocking [`Iterator`] for synchronous code: Manifold's `stream->seq`.
    /// Each `next` blocks the calling thread until a message arrives or the source is drained.
    ///
    /// Never call it from async code: it blocks the thread the executor runs on. See
    /// [`BlockingIter`](super::BlockingIter).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{Channel, SourceExt};
    ///
    /// let channel = Channel::new(1);
    /// let producer = channel.clone();
    /// let thread = std::thread::spawn(move || {
    ///     weir::runtime::block_on(async {
    ///         for n in 0..3 {
    ///             producer.put(n).await.unwrap();
    ///         }
    ///         producer.close();
    ///     })
    /// });
    /// let all: Vec<u32> = channel.into_blocking_iter().collect();
    /// assert_eq!(all, vec![0, 1, 2]);
    /// thread.join().unwrap();
    /// ```
    fn into_blocking_iter(self) -> super::BlockingIter<Self>
    where
        Self: Sized,
    {
        super::BlockingIter::new(self, None)
    }

    /// Like [`into_blocking_iter`](SourceExt::into_blocking_iter), but the iterator also ends
    /// once `idle` passed without a message (Manifold's `stream->seq` with a timeout);
    /// [`BlockingIter::timed_out`](super::BlockingIter::timed_out) tells why it ended.
    ///
    /// Never call it from async code: it blocks the thread the executor runs on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::stream::{Channel, SourceExt};
    ///
    /// let channel = Channel::new(4);
    /// # weir::runtime::block_on(async {
    /// channel.put(1).await.unwrap();
    /// channel.put(2).await.unwrap();
    /// # });
    /// // Nobody closes the channel: the iterator ends after 20 ms without a message.
    /// let messages = channel.into_blocking_iter_timeout(Duration::from_millis(20));
    /// assert_eq!(messages.collect::<Vec<_>>(), vec![1, 2]);
    /// ```
    fn into_blocking_iter_timeout(self, idle: std::time::Duration) -> super::BlockingIter<Self>
    where
        Self: Sized,
    {
        super::BlockingIter::new(self, Some(idle))
    }

    // Labels, used by `pipeline!`: named.
    /// Labels this point of the stream graph: a pass-through stage whose graph node (kind
    /// `named`) carries `label` in its [`Description::label`](super::Description::label), so
    /// [`Node::render_text`](super::Node::render_text) shows it. [`pipeline!`](crate::pipeline)
    /// puts one after every stage written with `as "label"`. Messages, closing and the drain
    /// outcome pass through unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::StreamExt;
    /// use weir::stream::{self, Channel, Source, SourceExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let source = Channel::new(4);
    /// let doubled = SourceExt::map_each(source.clone(), |n: u32| n * 2).named("double");
    /// assert_eq!(doubled.description().label.as_deref(), Some("double"));
    /// let graph = source.node().render_text();
    /// assert!(graph.contains("named \"double\""), "{graph}");
    ///
    /// source.put(21).await.unwrap();
    /// source.close();
    /// assert_eq!(doubled.collect::<Vec<_>>().await, vec![42]);
    /// # });
    /// ```
    fn named(self, label: impl Into<String>) -> super::Named<Self>
    where
        Self: Sized,
    {
        super::Named::new(self, label.into())
    }
}

impl<S: Source + ?Sized> SourceExt for S {}

//! Streams: Manifold's backpressured streams, as sources and sinks that compose.
//!
//! A [`Channel`] is Manifold's stream: a buffered channel with a put side and a take side, whose
//! puts complete only once accepted, so a slow consumer slows its producer down. Everything that
//! produces messages is a [`Source`] (and a `futures_core::Stream`); everything that accepts
//! them is a [`Sink`] (and a `futures_sink::Sink`). [`connect`] joins a source to sinks with
//! backpressure and close propagation, and the combinators of [`SourceExt`] transform sources
//! lazily, without a channel per stage.
//!
//! ```
//! use weir::stream::{self, Channel, ConnectOptions, SourceExt};
//!
//! # weir::runtime::block_on(async {
//! let numbers = stream::iter(1..=10);
//! let evens_squared = SourceExt::map_each(numbers.filter_each(|n| n % 2 == 0), |n| n * n);
//! let out = Channel::new(4);
//! stream::connect(evens_squared, out.clone(), ConnectOptions::new());
//! let mut got = Vec::new();
//! while let Some(n) = out.take_next().await {
//!     got.push(n);
//! }
//! assert_eq!(got, vec![4, 16, 36, 64, 100]);
//! # });
//! ```
//!
//! Every stream reports a [`Description`] and its downstream [`Edge`]s through its graph
//! [`Node`], which renders the reachable graph as text or Graphviz DOT.
//!
//! # From Manifold
//!
//! | Manifold (`manifold.stream`, `manifold.bus`) | weir |
//! |---|---|
//! | `stream`, `stream*` | [`Channel::new`], [`Channel::unbuffered`], [`Channel::builder`] (capacity, permanent, description) |
//! | `stream?`, `source?`, `sink?` | the [`Source`] and [`Sink`] traits |
//! | `->source` | [`iter`], [`from_stream`], [`from_receiver`], [`once`] (a deferred) |
//! | `->sink` | [`into_sink`] (any `futures_sink::Sink`) |
//! | `source-only`, `sink-only` | [`source_only`], [`sink_only`] |
//! | `splice` | [`splice`] |
//! | `put!`, `try-put!` | [`Channel::put`], [`Channel::try_put`] (errors hand the message back: [`PutError`]) |
//! | `take!`, `try-take!` | [`Channel::take_next`] (not `take`: see [`Channel`]), [`Channel::try_take`] ([`TakeError`] says which outcome) |
//! | `put-all!` | [`put_all`] |
//! | `close!`, `closed?`, `on-closed` | [`Channel::close`], [`Channel::is_closed`], [`Channel::on_closed`], [`Channel::closed`] |
//! | `drained?`, `on-drained` | [`Source::is_drained`], [`Channel::on_drained`], [`Source::drained`] (with the cause) |
//! | `description`, `downstream` | [`Source::description`], [`Node::downstream`], [`Node::render_text`], [`Node::render_dot`] |
//! | `connect` | [`connect`] with [`ConnectOptions`] |
//! | `connect-via` | [`connect_via`] |
//! | `drain-into` | [`SourceExt::drain_into`] |
//! | `consume`, `consume-async` | [`SourceExt::consume`], [`SourceExt::consume_async`] |
//! | `stream->seq` | [`SourceExt::into_blocking_iter`], [`SourceExt::into_blocking_iter_timeout`] |
//! | `map`, `filter`, `mapcat`, `reductions`, `reduce` | [`SourceExt::map_each`], [`SourceExt::filter_each`], [`SourceExt::mapcat`], [`SourceExt::reductions`] ([`SourceExt::accumulate`] without an initial value), [`SourceExt::reduce`] |
//! | `dedupe` | [`SourceExt::dedupe`] |
//! | `map` over one stream with several consumers (each sees every message) | [`SourceExt::fan_out`], then `map_each` on each output |
//! | `put!` acting at once | [`Channel::put_now`], [`PutExt::put_now`] (a [`Deferred`](crate::Deferred)) |
//! | `put!`, `try-put!` on any sink | [`PutExt`] |
//! | `map` with a function that throws (logged, the stream closes) | [`SourceExt::try_map`]: the error ends the source as its drain cause |
//! | `map` over several streams, `zip` | [`SourceExt::zip_each`], [`zip_all`], then `map_each` |
//! | `concat` | [`SourceExt::flatten_each`] |
//! | `transform` (transducers) | [`SourceExt::transform`] with a [`Transducer`]; ready-made ones in [`xform`]: `take`, `drop`, `take-while`, `partition-all`, `mapcat`, `dedupe`, `reductions` |
//! | `realize-each` | [`SourceExt::realize_each`] |
//! | `lazily-partition-by` | [`SourceExt::partition_by`] |
//! | `batch` | [`SourceExt::batch`], [`SourceExt::batch_within`], [`SourceExt::batch_by`] |
//! | `throttle` | [`SourceExt::throttle`], [`SourceExt::throttle_with_backlog`] |
//! | `buffer` | [`SourceExt::read_ahead`], [`SourceExt::read_ahead_by`] |
//! | `buffered-stream` | [`BufferedChannel`] |
//! | `periodically` | [`periodically`], [`periodically_after`] |
//! | `dropping-stream`, `sliding-stream` | [`dropping`], [`sliding`] |
//! | `event-bus`, `subscribe`, `publish!`, `active?`, `topic->subscribers` | [`EventBus`] |
//! | `event-bus` with a stream generator | [`EventBus::with_stream_factory`] with a [`SubscriberStream`]: a [`Channel`], a [`dropping`] or a [`sliding`] channel |
//! | `onto`, executors | not needed: weir's callbacks and tasks run on weir's executor |
//!
//! Differences worth knowing: closing a sink closes a connected source at once (with
//! `upstream`), not at the next message as in Manifold; a failing or panicking user function
//! ends its stream with the error as the drain cause instead of only logging it; and `nil` is
//! not a message: a `Source` ends with `None`.

mod batch;
mod blocking;
mod buffer;
mod buffered_stream;
mod bus;
mod channel;
mod concat;
mod connect;
mod connect_via;
mod consume;
mod convert;
mod drain_into;
mod dropping;
mod errors;
mod ext;
mod fan_out;
mod filter;
mod graph;
mod guard;
mod iter;
mod map;
mod mapcat;
mod named;
mod only;
mod overflow;
mod partition_by;
mod periodically;
mod put_all;
mod put_ext;
mod put_now;
mod queue;
mod realize_each;
mod reduce;
mod reductions;
mod sink;
mod sliding;
mod source;
mod splice;
pub(crate) mod stage;
mod subscriber_stream;
mod subscription;
mod throttle;
mod transform;
mod try_map;
pub mod xform;
mod zip;

pub use batch::{Batch, BatchBy};
pub use blocking::BlockingIter;
pub use buffer::Buffer;
pub use buffered_stream::{BufferedChannel, BufferedPut, BufferedTake};
pub use bus::{EventBus, Publish};
pub use channel::{Channel, ChannelBuilder, Put, Take, TryPut, TryTake};
pub use concat::Concat;
#[doc(hidden)]
pub use connect::live_connections;
pub use connect::{ConnectOptions, connect, connect_fan_out};
pub use connect_via::connect_via;
pub use consume::{consume, consume_async};
pub use convert::{
    FromReceiver, FromStream, IntoSink, Once, from_receiver, from_stream, into_sink, once,
};
pub use drain_into::drain_into;
pub use dropping::{DropNewest, DroppingChannel, dropping};
pub use errors::{PutError, TakeError};
pub use ext::SourceExt;
pub use filter::Filter;
#[doc(hidden)]
pub use graph::ConnectorSlot;
pub use graph::{Description, Edge, Node, Vertex};
pub use iter::{Iter, iter};
pub use map::Map;
pub use mapcat::Mapcat;
pub use named::Named;
pub use only::{SinkOnly, SourceOnly, sink_only, source_only};
pub use overflow::{Overflow, OverflowChannel};
pub use partition_by::{Partition, PartitionBy};
pub use periodically::{Periodically, periodically, periodically_after};
pub use put_all::put_all;
pub use put_ext::{PutExt, SinkPut};
#[doc(hidden)]
pub use queue::live_queues;
pub use queue::{MAX_PENDING_PUTS, MAX_PENDING_TAKES};
pub use realize_each::RealizeEach;
pub use reductions::Reductions;
pub use sink::Sink;
pub use sliding::{DropOldest, SlidingChannel, sliding};
pub use source::Source;
#[cfg(feature = "tcp")]
pub(crate) use splice::splice_duplex;
pub use splice::{Splice, splice};
pub use subscriber_stream::SubscriberStream;
pub use subscription::Subscription;
pub use throttle::Throttle;
pub use transform::{FnTransducer, Then, Transducer, Transform};
pub use try_map::TryMap;
pub use zip::{Zip, ZipAll, zip_all};

pub(crate) use graph::Edges;
pub(crate) use stage::Stage;

//! Ready-made [`Transducer`](super::Transducer)s, Clojure's: the ones a Manifold user reaches
//! for first with [`SourceExt::transform`](super::SourceExt::transform).
//!
//! | Clojure | weir |
//! |---|---|
//! | `(take n)` | [`take`] |
//! | `(drop n)` | [`drop`] |
//! | `(take-while pred)` | [`take_while`] |
//! | `(partition-all n)` | [`partition_all`] (also [`SourceExt::batch`](super::SourceExt::batch)) |
//! | `(mapcat f)` | [`mapcat`] (also [`SourceExt::mapcat`](super::SourceExt::mapcat)) |
//! | `(dedupe)` | [`dedupe`] (also [`SourceExt::dedupe`](super::SourceExt::dedupe)) |
//! | `(reductions f coll)`, without an initial value | [`reductions`] (also [`SourceExt::accumulate`](super::SourceExt::accumulate)) |
//!
//! They compose with [`Transducer::then`](super::Transducer::then), Clojure's `comp`. `take`
//! and `take_while` end the stream early (Clojure's `reduced`), which closes the upstream.
//!
//! Why not `SourceExt::take(n)`? `futures::StreamExt` has a `take`, `skip` and `take_while`
//! of its own, so a weir method of that name would not compile beside it; these are called
//! through `transform`, and the futures adapters (plain `Stream`s) remain available.
//!
//! ```
//! use futures_lite::StreamExt;
//! use weir::stream::{self, SourceExt, Transducer, xform};
//!
//! # weir::runtime::block_on(async {
//! let firsts = stream::iter([1, 1, 2, 3, 3, 3, 4, 5, 6])
//!     .transform(xform::dedupe().then(xform::drop(1)).then(xform::take(3)));
//! assert_eq!(firsts.collect::<Vec<_>>().await, vec![2, 3, 4]);
//! # });
//! ```

mod dedupe;
mod drop;
mod mapcat;
mod partition_all;
mod reductions;
mod take;
mod take_while;

pub use dedupe::{Dedupe, dedupe};
pub use drop::{DropFirst, drop};
pub use mapcat::{Mapcat, mapcat};
pub use partition_all::{PartitionAll, partition_all};
pub use reductions::{Reductions, reductions};
pub use take::{TakeFirst, take};
pub use take_while::{TakeWhile, take_while};

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
/// # Coexisting with `futures::StreamExt`
///
/// weir's sources are also `futures_core::Stream`s, so `futures::StreamExt` (or
/// `futures_lite::StreamExt`) works on them too. Several method names are the same (`map`,
/// `filter`, `zip`, ...); when both traits are in scope, call one explicitly, for example
/// `SourceExt::map(source, f)`, or import only the one you use. weir's versions keep the weir
/// extras (graph, close, drain cause), the futures versions do not.
pub trait SourceExt: Source {
    // ---- transforms (map, filter, mapcat, reductions, reduce, zip, concat, transform,
    //      realize_each, partition_by): BEGIN A
    // ---- END A

    // ---- buffering and time (batch, throttle, buffer): BEGIN B
    // ---- END B

    // ---- consuming (drain_into, consume, consume_async, reduce?, into_blocking_iter): BEGIN C
    // ---- END C
}

impl<S: Source + ?Sized> SourceExt for S {}

//! Streams: Manifold's backpressured streams, as sources and sinks that compose.
//!
//! A [`Channel`] is Manifold's stream: a buffered channel with a put side and a take side.
//! Everything that produces messages is a [`Source`] (and a `futures_core::Stream`), everything
//! that accepts them is a [`Sink`] (and a `futures_sink::Sink`); [`connect`] joins them with
//! backpressure, and the combinators of [`SourceExt`] transform sources lazily.

mod ext;
mod errors;
mod graph;
mod iter;
mod queue;
mod sink;
mod source;
mod stage;

// ---- helper A modules and re-exports: BEGIN A
// ---- END A
// ---- helper B modules and re-exports: BEGIN B
// ---- END B
// ---- helper C modules and re-exports: BEGIN C
// ---- END C

pub use errors::{PutError, TakeError};
pub use ext::SourceExt;
pub use graph::{Description, Edge, Node, Vertex};
pub use iter::{Iter, iter};
pub use queue::{MAX_PENDING_PUTS, MAX_PENDING_TAKES};
pub use sink::Sink;
pub use source::Source;

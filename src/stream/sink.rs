//! The `Sink` trait: what weir can put messages into.

use std::pin::Pin;
use std::task::{Context, Poll};

use crate::Error;

use super::graph::{Description, Node};

/// A weir sink: a [`futures_sink::Sink`] whose `poll_flush` completes once every message sent
/// has been accepted (Manifold's put semantics), that reports its place in the stream graph and
/// says promptly when it closes, so that [`connect`](super::connect) can propagate the closing
/// upstream at once rather than at the next message.
pub trait Sink<T>: futures_sink::Sink<T, Error = Error> + Send {
    /// This sink's node in the stream graph.
    fn node(&self) -> Node;

    /// Ready once the sink is closed (and from then on).
    fn poll_closed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;

    /// True once the sink is closed.
    fn is_closed(&self) -> bool;

    /// Closes the sink at once, without waiting for messages in flight to be accepted (puts
    /// already pending in a channel stay takeable). [`connect`](super::connect) uses it on a sink
    /// that timed out.
    fn close_now(&self);

    /// The sink's current state; shorthand for `self.node().description()`.
    fn description(&self) -> Description {
        self.node().description()
    }
}

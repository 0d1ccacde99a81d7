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

    /// Closes the sink at once because its source ended with `cause`; a channel keeps the cause
    /// as its own drain cause, so it travels down a chain of connections. The default closes
    /// the sink with [`close_now`](Sink::close_now).
    fn close_with_cause(&self, cause: Error) {
        let _ = cause;
        self.close_now();
    }

    /// Gives up this handle's right to take: from now on it counts only as a putter of the
    /// stream it feeds, so once every handle that can take is gone the stream closes and the
    /// connections into it end. weir calls it on a sink it takes over (`connect`, `sink_only`,
    /// splices); a wrapper passes it to what it wraps. The default does nothing.
    #[doc(hidden)]
    fn release_take_role(&mut self) {}

    /// How many messages the sink would accept at once right now, as a hint (at least 1). The
    /// default says 1; a channel counts its free buffer and waiting takers.
    #[doc(hidden)]
    fn room(&self) -> usize {
        1
    }

    /// Sends every message of `messages`, after `poll_ready` returned ready: at most
    /// [`room`](Sink::room) of them are accepted at once, the rest wait like pending puts
    /// (`poll_flush` completes once all are accepted). The default sends just one message and
    /// must be given no more than one.
    #[doc(hidden)]
    fn start_send_all(
        mut self: Pin<&mut Self>,
        messages: &mut std::collections::VecDeque<T>,
    ) -> Result<(), Error> {
        match messages.pop_front() {
            Some(message) => self.as_mut().start_send(message),
            None => Ok(()),
        }
    }

    /// The sink's current state; shorthand for `self.node().description()`.
    fn description(&self) -> Description {
        self.node().description()
    }
}

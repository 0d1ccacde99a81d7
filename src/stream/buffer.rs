//! `read_ahead` and `read_ahead_by` (and `SourceExt::dropping`/`sliding`): a source read ahead of its
//! consumer by a task, into a buffer.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use futures_lite::{FutureExt, StreamExt, future};

use crate::{Deferred, Error};

use super::buffered_stream::BufferedChannel;
use super::dropping::DroppingChannel;
use super::errors::PutError;
use super::graph::Node;
use super::sliding::SlidingChannel;
use super::source::Source;

/// The source returned by [`read_ahead`](super::SourceExt::read_ahead),
/// [`read_ahead_by`](super::SourceExt::read_ahead_by), [`dropping`](super::SourceExt::dropping) and
/// [`sliding`](super::SourceExt::sliding): the upstream's messages, read ahead of the consumer
/// by a task on weir's executor into a buffer.
///
/// Closing (or dropping) the `Buffer` stops the task, which closes the upstream. What is
/// buffered stays takeable after a close; a message the task had read but not yet buffered
/// when the close came is dropped with it, as no one wants it any more. When the upstream ends
/// with an error, the buffer reports it through [`Source::drained`] once its messages are
/// taken.
pub struct Buffer<T> {
    feed: Feed<T>,
}

/// The buffer a [`Buffer`]'s task fills.
enum Feed<T> {
    Buffered(BufferedChannel<T>),
    Dropping(DroppingChannel<T>),
    Sliding(SlidingChannel<T>),
}

impl<T: Send + 'static> Buffer<T> {
    /// A buffer holding up to `limit` messages; the task holds one more while it waits.
    pub(super) fn new<S>(upstream: S, limit: usize) -> Self
    where
        S: Source<Item = T> + 'static,
    {
        Buffer::spawn(
            upstream,
            Feed::Buffered(BufferedChannel::build(None, limit, "buffer")),
        )
    }

    /// A buffer whose messages weigh at most `limit` by `metric` (one message may take it past).
    pub(super) fn by<S>(
        upstream: S,
        metric: impl Fn(&T) -> usize + Send + Sync + 'static,
        limit: usize,
    ) -> Self
    where
        S: Source<Item = T> + 'static,
    {
        Buffer::spawn(
            upstream,
            Feed::Buffered(BufferedChannel::build(
                Some(Box::new(metric)),
                limit,
                "buffer",
            )),
        )
    }

    pub(super) fn dropping<S>(upstream: S, n: usize) -> Self
    where
        S: Source<Item = T> + 'static,
    {
        Buffer::spawn(upstream, Feed::Dropping(super::dropping::dropping(n)))
    }

    pub(super) fn sliding<S>(upstream: S, n: usize) -> Self
    where
        S: Source<Item = T> + 'static,
    {
        Buffer::spawn(upstream, Feed::Sliding(super::sliding::sliding(n)))
    }

    fn spawn<S>(mut upstream: S, feed: Feed<T>) -> Self
    where
        S: Source<Item = T> + 'static,
    {
        upstream.release_put_role();
        upstream.node().link(None, &feed.node());
        let task_feed = feed.clone();
        let closer = feed.clone();
        crate::runtime::spawn_detached(async move {
            let forwarded = AssertUnwindSafe(forward(upstream, task_feed)).catch_unwind();
            if let Err(payload) = forwarded.await {
                closer.close_with_error(Error::panicked(payload));
            }
        });
        Buffer { feed }
    }
}

/// Moves messages from `upstream` into `feed` until one of them ends.
async fn forward<S>(upstream: S, feed: Feed<S::Item>)
where
    S: Source,
    S::Item: Send + 'static,
{
    enum Step<T> {
        Message(T),
        End,
        Closed,
    }
    let mut upstream = pin!(upstream);
    let mut closed = feed.closed();
    loop {
        let step = future::or(
            async {
                let _ = (&mut closed).await;
                Step::Closed
            },
            async {
                match upstream.next().await {
                    Some(message) => Step::Message(message),
                    None => Step::End,
                }
            },
        )
        .await;
        match step {
            Step::Message(message) => {
                if feed.put(message).await.is_err() {
                    upstream.close();
                    return;
                }
            }
            Step::End => {
                match upstream.drained().peek() {
                    Some(Err(cause)) => feed.close_with_error(cause),
                    _ => feed.close(),
                }
                return;
            }
            Step::Closed => {
                upstream.close();
                return;
            }
        }
    }
}

impl<T: Send + 'static> Feed<T> {
    async fn put(&self, message: T) -> Result<(), PutError<T>> {
        match self {
            Feed::Buffered(channel) => channel.put(message).await,
            Feed::Dropping(channel) => channel.put(message).map(drop),
            Feed::Sliding(channel) => channel.put(message).map(drop),
        }
    }

    fn node(&self) -> Node {
        match self {
            Feed::Buffered(channel) => channel.node(),
            Feed::Dropping(channel) => channel.node(),
            Feed::Sliding(channel) => channel.node(),
        }
    }

    fn closed(&self) -> Deferred<(), Error> {
        match self {
            Feed::Buffered(channel) => channel.closed(),
            Feed::Dropping(channel) => channel.closed(),
            Feed::Sliding(channel) => channel.closed(),
        }
    }

    fn drained(&self) -> Deferred<(), Error> {
        match self {
            Feed::Buffered(channel) => Source::drained(channel),
            Feed::Dropping(channel) => Source::drained(channel),
            Feed::Sliding(channel) => Source::drained(channel),
        }
    }

    fn close(&self) {
        match self {
            Feed::Buffered(channel) => channel.close(),
            Feed::Dropping(channel) => channel.close(),
            Feed::Sliding(channel) => channel.close(),
        }
    }

    fn close_with_error(&self, cause: Error) {
        match self {
            Feed::Buffered(channel) => channel.close_with_error(cause),
            Feed::Dropping(channel) => channel.close_with_error(cause),
            Feed::Sliding(channel) => channel.close_with_error(cause),
        }
    }
}

impl<T> Clone for Feed<T> {
    fn clone(&self) -> Self {
        match self {
            Feed::Buffered(channel) => Feed::Buffered(channel.clone()),
            Feed::Dropping(channel) => Feed::Dropping(channel.clone()),
            Feed::Sliding(channel) => Feed::Sliding(channel.clone()),
        }
    }
}

impl<T> futures_core::Stream for Buffer<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        match &mut self.get_mut().feed {
            Feed::Buffered(channel) => Pin::new(channel).poll_next(cx),
            Feed::Dropping(channel) => Pin::new(channel).poll_next(cx),
            Feed::Sliding(channel) => Pin::new(channel).poll_next(cx),
        }
    }
}

impl<T: Send + 'static> Source for Buffer<T> {
    fn node(&self) -> Node {
        self.feed.node()
    }

    fn close(&self) {
        self.feed.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.feed.drained()
    }
}

/// Dropping the consumer's handle closes the buffer, which stops the task.
impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        match &self.feed {
            Feed::Buffered(channel) => channel.close(),
            Feed::Dropping(channel) => channel.close(),
            Feed::Sliding(channel) => channel.close(),
        }
    }
}

impl<T> fmt::Debug for Buffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let feed: &dyn fmt::Debug = match &self.feed {
            Feed::Buffered(channel) => channel,
            Feed::Dropping(channel) => channel,
            Feed::Sliding(channel) => channel,
        };
        f.debug_struct("Buffer").field("feed", feed).finish()
    }
}

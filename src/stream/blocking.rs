//! `BlockingIter`: a source as a std `Iterator` for synchronous code.

use std::fmt;
use std::pin::Pin;
use std::time::Duration;

use futures_lite::StreamExt;

use crate::runtime;

use super::source::Source;

/// A source read as a blocking [`Iterator`]: Manifold's `stream->seq`. Returned by
/// [`SourceExt::into_blocking_iter`](super::SourceExt::into_blocking_iter) and
/// [`SourceExt::into_blocking_iter_timeout`](super::SourceExt::into_blocking_iter_timeout).
///
/// Each `next` blocks the calling thread until a message arrives or the source is drained
/// (then it returns `None`, and keeps doing so). With an idle timeout it also returns `None`
/// once that long passed without a message; [`timed_out`](BlockingIter::timed_out) tells the
/// two apart, and calling `next` again waits again.
///
/// Never use it from async code (a task, an `async fn`): blocking there stalls the executor
/// thread, and may deadlock it if the messages were to come from that same thread. Await the
/// source as a stream instead.
pub struct BlockingIter<S> {
    source: Pin<Box<S>>,
    idle: Option<Duration>,
    drained: bool,
    timed_out: bool,
}

impl<S: Source> BlockingIter<S> {
    pub(super) fn new(mut source: S, idle: Option<Duration>) -> Self {
        source.release_put_role();
        BlockingIter {
            source: Box::pin(source),
            idle,
            drained: false,
            timed_out: false,
        }
    }

    /// True if the last `next` returned `None` because the idle timeout passed, not because
    /// the source is drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::stream::{Channel, SourceExt};
    ///
    /// let channel = Channel::<u8>::new(1);
    /// let mut messages = channel.clone().into_blocking_iter_timeout(Duration::from_millis(10));
    /// assert_eq!(messages.next(), None);
    /// assert!(messages.timed_out());
    /// channel.close();
    /// assert_eq!(messages.next(), None);
    /// assert!(!messages.timed_out());
    /// ```
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }

    /// The source being read, to close it or look at it.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Source, SourceExt};
    ///
    /// let messages = stream::iter(1..).into_blocking_iter();
    /// messages.source().close();
    /// assert_eq!(messages.count(), 0);
    /// ```
    pub fn source(&self) -> &S {
        &self.source
    }
}

impl<S: Source> Iterator for BlockingIter<S> {
    type Item = S::Item;

    fn next(&mut self) -> Option<S::Item> {
        self.timed_out = false;
        if self.drained {
            return None;
        }
        let next = self.source.next();
        let message = match self.idle {
            None => runtime::block_on(next),
            Some(idle) => match runtime::block_on(runtime::timeout(idle, next)) {
                Ok(message) => message,
                Err(_) => {
                    self.timed_out = true;
                    return None;
                }
            },
        };
        if message.is_none() {
            self.drained = true;
        }
        message
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match (self.drained, self.idle) {
            (true, _) => (0, Some(0)),
            // An idle timeout can end it early.
            (false, Some(_)) => (0, self.source.size_hint().1),
            (false, None) => self.source.size_hint(),
        }
    }
}

impl<S> fmt::Debug for BlockingIter<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingIter")
            .field("idle", &self.idle)
            .field("drained", &self.drained)
            .field("timed_out", &self.timed_out)
            .finish_non_exhaustive()
    }
}

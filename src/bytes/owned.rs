//! A source owned by a task: pinned on the heap, closed if the task stops before its end.

use std::pin::Pin;

use futures_lite::StreamExt;

use crate::stream::Source;

/// Owns a source for a task that reads it to the end (collecting, transferring). If the task is
/// dropped first (cancelled, or stopped by an error), the source is closed, so that its producer
/// learns that nobody reads any more.
pub(super) struct Owned<S: Source> {
    source: Pin<Box<S>>,
    ended: bool,
}

impl<S: Source> Owned<S> {
    pub(super) fn new(source: S) -> Self {
        Owned {
            source: Box::pin(source),
            ended: false,
        }
    }

    /// The next message; `None` once the source has ended.
    pub(super) async fn next(&mut self) -> Option<S::Item> {
        if self.ended {
            return None;
        }
        let item = self.source.next().await;
        if item.is_none() {
            self.ended = true;
        }
        item
    }

    /// How the source ended (realized once `next` returned `None`).
    pub(super) fn outcome(&self) -> crate::Deferred<(), crate::Error> {
        self.source.drained()
    }
}

impl<S: Source> Drop for Owned<S> {
    fn drop(&mut self) {
        if !self.ended {
            self.source.close();
        }
    }
}

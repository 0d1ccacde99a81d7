//! `partition_by`: splits a source into sub-sources of consecutive messages with equal keys,
//! Manifold's `lazily-partition-by`.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::{Deferred, Error};

use super::graph::Node;
use super::guard::guard;
use super::source::Source;
use super::stage::Stage;

/// The source returned by [`SourceExt::partition_by`](super::SourceExt::partition_by): a
/// source of [`Partition`]s.
#[must_use = "sources do nothing unless polled"]
pub struct PartitionBy<S: Source, F, K> {
    core: Arc<Core<S, F, K>>,
    done: bool,
    stage: Stage,
}

/// One run of consecutive messages with equal keys, read lazily from the source that
/// [`partition_by`](super::SourceExt::partition_by) splits. It is itself a [`Source`]: closing
/// or dropping it skips the rest of its run.
#[must_use = "sources do nothing unless polled"]
pub struct Partition<T> {
    core: Arc<dyn PartitionCore<T>>,
    id: u64,
    head: Option<T>,
    done: bool,
    stage: Stage,
}

/// The state shared by a `PartitionBy` and its partitions. Exactly one of them reads the
/// upstream at a time: the active partition while there is one, else the `PartitionBy`.
struct Core<S: Source, F, K> {
    state: Mutex<State<S, F, K>>,
}

struct State<S: Source, F, K> {
    upstream: Pin<Box<S>>,
    key_fn: F,
    /// The key of the latest partition.
    key: Option<K>,
    /// The first message of the next partition, read by the partition before it.
    head: Option<S::Item>,
    /// The partition reading the upstream now.
    active: Option<u64>,
    next_id: u64,
    /// How the upstream ended (or the key function's panic), once it has.
    end: Option<Result<(), Error>>,
    /// The `PartitionBy`, waiting for the active partition to finish.
    parent: Option<Waker>,
}

/// What a read of the upstream produced.
enum Read<T, K> {
    Message(T, K),
    End(Result<(), Error>),
}

/// What a partition's poll produced.
enum Step<T> {
    Item(T),
    Pending,
    End(Result<(), Error>),
}

/// A partition's view of the shared state, with the upstream's and key's types erased.
trait PartitionCore<T>: Send + Sync {
    fn poll_partition(&self, id: u64, cx: &mut Context<'_>) -> Step<T>;

    /// The partition `id` is done (consumed, closed or dropped): hand the upstream back.
    fn release(&self, id: u64);
}

impl<S, F, K> PartitionBy<S, F, K>
where
    S: Source,
{
    pub(super) fn new(mut upstream: S, key_fn: F) -> Self {
        let stage = Stage::reading("partition_by", &mut upstream);
        PartitionBy {
            core: Arc::new(Core {
                state: Mutex::new(State {
                    upstream: Box::pin(upstream),
                    key_fn,
                    key: None,
                    head: None,
                    active: None,
                    next_id: 0,
                    end: None,
                    parent: None,
                }),
            }),
            done: false,
            stage,
        }
    }
}

impl<S: Source, F, K> Core<S, F, K> {
    fn lock(&self) -> MutexGuard<'_, State<S, F, K>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S, F, K> State<S, F, K>
where
    S: Source,
    F: FnMut(&S::Item) -> K,
    K: PartialEq,
{
    /// Reads the next message and its key, or how the upstream ended.
    fn read(&mut self, cx: &mut Context<'_>) -> Poll<Read<S::Item, K>> {
        let end = match self.upstream.as_mut().poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(item)) => match guard(|| (self.key_fn)(&item)) {
                Ok(key) => return Poll::Ready(Read::Message(item, key)),
                Err(panic) => {
                    self.upstream.close();
                    Err(panic)
                }
            },
            Poll::Ready(None) => self.upstream.drained().peek().unwrap_or(Ok(())),
        };
        self.end = Some(end.clone());
        Poll::Ready(Read::End(end))
    }
}

impl<S, F, K> futures_core::Stream for PartitionBy<S, F, K>
where
    S: Source + 'static,
    S::Item: Send + 'static,
    F: FnMut(&S::Item) -> K + Send + 'static,
    K: PartialEq + Send + 'static,
{
    type Item = Partition<S::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let mut state = this.core.lock();
        if state.active.is_some() {
            // The partition emitted last has not been consumed yet.
            state.parent = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let head = loop {
            if let Some(head) = state.head.take() {
                break head;
            }
            if let Some(end) = state.end.clone() {
                drop(state);
                this.done = true;
                this.stage.finish(end);
                return Poll::Ready(None);
            }
            match state.read(cx) {
                Poll::Pending => return Poll::Pending,
                // The rest of a partition that was dropped before its end.
                Poll::Ready(Read::Message(_, key)) if state.key.as_ref() == Some(&key) => {}
                Poll::Ready(Read::Message(item, key)) => {
                    state.key = Some(key);
                    break item;
                }
                Poll::Ready(Read::End(_)) => {}
            }
        };
        let id = state.next_id;
        state.next_id += 1;
        state.active = Some(id);
        drop(state);
        let core: Arc<dyn PartitionCore<S::Item>> = this.core.clone();
        let stage = Stage::after("partition", &this.stage.node());
        Poll::Ready(Some(Partition {
            core,
            id,
            head: Some(head),
            done: false,
            stage,
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done { (0, Some(0)) } else { (0, None) }
    }
}

impl<S, F, K> Source for PartitionBy<S, F, K>
where
    S: Source + 'static,
    S::Item: Send + 'static,
    F: FnMut(&S::Item) -> K + Send + 'static,
    K: PartialEq + Send + 'static,
{
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.mark_closed();
        self.core.lock().upstream.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<S: Source, F, K> fmt::Debug for PartitionBy<S, F, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionBy")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<S, F, K> PartitionCore<S::Item> for Core<S, F, K>
where
    S: Source,
    S::Item: Send,
    F: FnMut(&S::Item) -> K + Send,
    K: PartialEq + Send,
{
    fn poll_partition(&self, id: u64, cx: &mut Context<'_>) -> Step<S::Item> {
        let mut state = self.lock();
        if state.active != Some(id) {
            return Step::End(Ok(()));
        }
        let end = match state.read(cx) {
            Poll::Pending => return Step::Pending,
            Poll::Ready(Read::Message(item, key)) if state.key.as_ref() == Some(&key) => {
                return Step::Item(item);
            }
            Poll::Ready(Read::Message(item, key)) => {
                state.key = Some(key);
                state.head = Some(item);
                Ok(())
            }
            Poll::Ready(Read::End(end)) => end,
        };
        state.active = None;
        let parent = state.parent.take();
        drop(state);
        if let Some(parent) = parent {
            parent.wake();
        }
        Step::End(end)
    }

    fn release(&self, id: u64) {
        let mut state = self.lock();
        if state.active != Some(id) {
            return;
        }
        state.active = None;
        let parent = state.parent.take();
        drop(state);
        if let Some(parent) = parent {
            parent.wake();
        }
    }
}

// Messages are never pinned: a partition only moves them.
impl<T> Unpin for Partition<T> {}

impl<T> futures_core::Stream for Partition<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(head) = this.head.take() {
            if !this.stage.is_finished() {
                return Poll::Ready(Some(head));
            }
            // Closed before its first message was read.
            this.done = true;
            return Poll::Ready(None);
        }
        match this.core.poll_partition(this.id, cx) {
            Step::Item(item) => Poll::Ready(Some(item)),
            Step::Pending => Poll::Pending,
            Step::End(end) => {
                this.done = true;
                this.stage.finish(end);
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match (self.done, self.head.is_some()) {
            (true, _) => (0, Some(0)),
            (false, head) => (usize::from(head), None),
        }
    }
}

impl<T: Send> Source for Partition<T> {
    fn node(&self) -> Node {
        self.stage.node()
    }

    /// Ends this partition at once; the rest of its run is skipped.
    fn close(&self) {
        self.stage.close();
        self.core.release(self.id);
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<T> Drop for Partition<T> {
    fn drop(&mut self) {
        self.core.release(self.id);
    }
}

impl<T> fmt::Debug for Partition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Partition")
            .field("id", &self.id)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

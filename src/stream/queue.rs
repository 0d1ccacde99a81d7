//! The state machine behind a [`Channel`](super::Channel): a buffer, a FIFO of pending puts
//! (each keeps its message, so puts pending at close stay takeable), waiting takers, and the
//! close/drain events.
//!
//! Invariants:
//! - Pending puts exist only while the buffer is full (`buffer.len() >= capacity`); a take that
//!   frees a slot moves the oldest pending put into it.
//! - `puts` is ordered by `seq`; a put with sequence number `s` has been accepted once no entry
//!   with `seq <= s` remains (takes only remove from the front; a retracted put is never polled
//!   again).
//! - No waker or callback is called while the lock is held.
//! - `pending_front` is the sequence number of the oldest pending put (`next_seq` when there is
//!   none), republished under the lock whenever a put leaves the front: a put whose number is
//!   below it was accepted, which `poll_put` checks without the lock.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::mem;
use std::sync::PoisonError;
use std::task::{Context, Poll, Waker};

use crate::sync::{AtomicU64, Mutex, MutexGuard, Ordering};
use crate::{Deferred, Error};

use super::graph::{ConnectorSlot, Description, Edge, Edges, Node, Vertex};

/// How many puts may wait for room at once; one more fails with
/// [`PutError::is_too_many_pending`](super::PutError::is_too_many_pending).
pub const MAX_PENDING_PUTS: usize = 16_384;

/// How many takes may wait for a message at once; one more is refused (the stream stays open
/// for the others): [`Channel::try_take`](super::Channel::try_take) fails with
/// [`TakeError::TooManyPending`](super::TakeError::TooManyPending), [`Channel::take_next`](super::Channel::take_next)
/// yields `None` while the stream is not drained.
pub const MAX_PENDING_TAKES: usize = 16_384;

/// Queues alive now (a test hook for leak tests).
static LIVE_QUEUES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many channel queues are alive now: a test hook for leak tests.
#[doc(hidden)]
pub fn live_queues() -> usize {
    LIVE_QUEUES.load(std::sync::atomic::Ordering::SeqCst)
}

/// A handle's key into a waker slab; `NO_SLOT` until it first waits.
pub(crate) const NO_SLOT: usize = usize::MAX;

pub(crate) struct Queue<T> {
    state: Mutex<State<T>>,
    /// See the invariants above.
    pending_front: AtomicU64,
    capacity: usize,
    permanent: bool,
    kind: Cow<'static, str>,
    label: Option<String>,
    edges: Edges,
    closed: Deferred<(), Error>,
    drained: Deferred<(), Error>,
    /// The fan-out state of `connect`, when this queue is a connected source.
    connector: ConnectorSlot,
}

struct State<T> {
    buffer: VecDeque<T>,
    puts: VecDeque<PendingPut<T>>,
    next_seq: u64,
    takers: Vec<TakerSlot>,
    /// Takers in the `Waiting` state.
    waiting_takers: usize,
    closed: bool,
    cause: Option<Error>,
    drain_announced: bool,
    /// Handles that can put: when the last goes, the stream closes.
    put_handles: usize,
    /// Handles that can take: when the last goes, the stream closes and puts fail.
    take_handles: usize,
    /// Every handle that could take is gone: pending puts are refused.
    no_takers: bool,
}

struct PendingPut<T> {
    seq: u64,
    message: T,
    waker: Option<Waker>,
}

#[derive(Default)]
enum TakerSlot {
    #[default]
    Free,
    Waiting(Waker),
    /// Woken for a message it has not come to take yet.
    Notified,
}

/// How a take went.
pub(crate) enum Taken<T> {
    Message(T),
    /// Closed and empty.
    Drained,
    /// [`MAX_PENDING_TAKES`] other takes already wait: this one is refused, the stream stays
    /// open.
    Refused,
}

impl<T> Taken<T> {
    fn into_option(self) -> Option<T> {
        match self {
            Taken::Message(message) => Some(message),
            Taken::Drained | Taken::Refused => None,
        }
    }
}

/// How a put went.
pub(crate) enum Offer<T> {
    /// In the buffer or handed to a waiting taker.
    Accepted,
    /// Waiting for room, as pending put number `seq`.
    Pending(u64),
    Refused(super::PutError<T>),
}

/// What needs doing once the lock is released.
#[must_use]
#[derive(Default)]
struct Wake {
    /// The first waker to wake, kept inline: most operations wake at most one.
    first: Option<Waker>,
    more: Vec<Waker>,
    closed: bool,
    drained: Option<Result<(), Error>>,
}

impl Wake {
    fn push(&mut self, waker: Waker) {
        match self.first {
            None => self.first = Some(waker),
            Some(_) => self.more.push(waker),
        }
    }
}

impl<T> Queue<T> {
    pub(crate) fn new(
        capacity: usize,
        permanent: bool,
        kind: Cow<'static, str>,
        label: Option<String>,
    ) -> Self {
        LIVE_QUEUES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Queue {
            state: Mutex::new(State {
                buffer: VecDeque::with_capacity(capacity.min(1024)),
                puts: VecDeque::new(),
                next_seq: 0,
                takers: Vec::new(),
                waiting_takers: 0,
                closed: false,
                cause: None,
                drain_announced: false,
                put_handles: 0,
                take_handles: 0,
                no_takers: false,
            }),
            pending_front: AtomicU64::new(0),
            capacity,
            permanent,
            kind,
            label,
            edges: Edges::default(),
            closed: Deferred::new().quiet(),
            drained: Deferred::new().quiet(),
            connector: ConnectorSlot::default(),
        }
    }

    /// A handle with these roles appeared.
    pub(crate) fn add_roles(&self, put: bool, take: bool) {
        let mut state = self.lock();
        state.put_handles += usize::from(put);
        state.take_handles += usize::from(take);
    }

    /// A handle with these roles went away (or gave them up): the last putter closes the
    /// stream (what is buffered stays takeable), the last taker closes it and fails the puts.
    pub(crate) fn drop_roles(&self, put: bool, take: bool) {
        if !put && !take {
            return;
        }
        let mut wake = Wake::default();
        let dropped = {
            let mut state = self.lock();
            let mut dropped = VecDeque::new();
            if put {
                state.put_handles -= 1;
                if state.put_handles == 0 {
                    state.close(None, &mut wake);
                }
            }
            if take {
                state.take_handles -= 1;
                if state.take_handles == 0 {
                    state.no_takers = true;
                    state.close(None, &mut wake);
                    // Nobody can take these any more; pending puts are refused when polled.
                    dropped = mem::take(&mut state.buffer);
                    for put in &mut state.puts {
                        if let Some(waker) = put.waker.take() {
                            wake.push(waker);
                        }
                    }
                }
            }
            state.check_drained(&mut wake);
            dropped
        };
        self.run(wake);
        drop(dropped);
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Republishes `pending_front` after puts left the queue (call it under the lock).
    fn publish_front(&self, state: &State<T>) {
        let front = state.puts.front().map_or(state.next_seq, |put| put.seq);
        self.pending_front.store(front, Ordering::Release);
    }

    fn run(&self, wake: Wake) {
        if wake.closed {
            self.closed.success(());
        }
        if let Some(outcome) = wake.drained {
            if !self.drained.is_realized() {
                let _ = self.drained.try_realize(outcome);
            }
        }
        if let Some(waker) = wake.first {
            waker.wake();
        }
        for waker in wake.more {
            waker.wake();
        }
    }

    /// Offers a message: accepted at once if a taker waits or the buffer has room, pending
    /// otherwise, refused if closed or past the pending limit.
    pub(crate) fn offer(&self, message: T) -> Offer<T> {
        self.offer_waiting(message, None)
    }

    /// [`offer`](Queue::offer), registering `waker` (under the same lock) when the put is left
    /// pending: the caller then need not poll the put before it waits.
    pub(crate) fn offer_waiting(&self, message: T, waker: Option<&Waker>) -> Offer<T> {
        let mut wake = Wake::default();
        let offer = {
            let mut state = self.lock();
            if state.closed {
                Offer::Refused(super::PutError::closed(message))
            } else if state.buffer.len() < self.capacity + state.waiting_takers {
                state.buffer.push_back(message);
                state.notify_taker(&mut wake);
                Offer::Accepted
            } else if state.puts.len() >= MAX_PENDING_PUTS {
                Offer::Refused(super::PutError::too_many_pending(message, MAX_PENDING_PUTS))
            } else {
                let seq = state.next_seq;
                state.next_seq += 1;
                state.puts.push_back(PendingPut {
                    seq,
                    message,
                    waker: waker.cloned(),
                });
                // A taker that was notified but has not come yet will find this one too. (No
                // `publish_front`: a put joining the back leaves the front where it was.)
                Offer::Pending(seq)
            }
        };
        self.run(wake);
        offer
    }

    /// Puts without ever waiting: buffered (or handed to a waiting taker) if there is room;
    /// otherwise the new message is handed back, or, with `drop_oldest`, the oldest buffered
    /// message is evicted (and handed back) to make room. One lock: check and drop are atomic.
    pub(crate) fn put_overflowing(
        &self,
        message: T,
        drop_oldest: bool,
    ) -> Result<Option<T>, super::PutError<T>> {
        let mut wake = Wake::default();
        let outcome = {
            let mut state = self.lock();
            if state.closed {
                Err(super::PutError::closed(message))
            } else if state.buffer.len() < self.capacity + state.waiting_takers {
                state.buffer.push_back(message);
                state.notify_taker(&mut wake);
                Ok(None)
            } else if drop_oldest && !state.buffer.is_empty() {
                let oldest = state.buffer.pop_front();
                state.buffer.push_back(message);
                Ok(oldest)
            } else {
                Ok(Some(message))
            }
        };
        self.run(wake);
        outcome
    }

    /// Ready once pending put `seq` has been accepted (taken, or moved into the buffer), or
    /// refused because every handle that could take is gone.
    pub(crate) fn poll_accepted(&self, seq: u64, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_put(seq, cx).map(|_| ())
    }

    /// Ready with `Ok` once pending put `seq` has been accepted, with its message once refused
    /// (every handle that could take is gone).
    pub(crate) fn poll_put(&self, seq: u64, cx: &mut Context<'_>) -> Poll<Result<(), T>> {
        if seq < self.pending_front.load(Ordering::Acquire) {
            // Accepted: no lock needed to learn it.
            return Poll::Ready(Ok(()));
        }
        let mut wake = Wake::default();
        let poll = self.poll_put_locked(seq, cx, &mut wake);
        self.run(wake);
        poll
    }

    fn poll_put_locked(
        &self,
        seq: u64,
        cx: &mut Context<'_>,
        wake: &mut Wake,
    ) -> Poll<Result<(), T>> {
        let mut state = self.lock();
        match state.find_put(seq) {
            None => Poll::Ready(Ok(())),
            Some(index) if state.no_takers => {
                let put = state.puts.remove(index).map(|put| put.message);
                self.publish_front(&state);
                state.check_drained(wake);
                match put {
                    Some(message) => Poll::Ready(Err(message)),
                    None => Poll::Ready(Ok(())),
                }
            }
            Some(index) => {
                let put = &mut state.puts[index];
                match &put.waker {
                    Some(old) if old.will_wake(cx.waker()) => {}
                    _ => put.waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }

    /// Withdraws pending put `seq`, handing its message back, or `None` if it was accepted.
    pub(crate) fn retract(&self, seq: u64) -> Option<T> {
        let mut wake = Wake::default();
        let message = {
            let mut state = self.lock();
            let index = state.find_put(seq)?;
            let put = state.puts.remove(index)?;
            self.publish_front(&state);
            state.check_drained(&mut wake);
            put.message
        };
        self.run(wake);
        Some(message)
    }

    /// Takes a message for the taker whose slab key is `key`; `None` once drained, or when this
    /// take is refused because [`MAX_PENDING_TAKES`] others wait (see [`Queue::poll_take_outcome`]).
    pub(crate) fn poll_take(&self, cx: &mut Context<'_>, key: &mut usize) -> Poll<Option<T>> {
        self.poll_take_outcome(cx, key).map(Taken::into_option)
    }

    /// Takes a message for the taker whose slab key is `key`, telling a drained stream from a
    /// refused take.
    pub(crate) fn poll_take_outcome(
        &self,
        cx: &mut Context<'_>,
        key: &mut usize,
    ) -> Poll<Taken<T>> {
        let mut wake = Wake::default();
        let poll = {
            let mut state = self.lock();
            match state.take_now(self.capacity, &mut wake) {
                Some(message) => {
                    self.publish_front(&state);
                    state.release_taker(key, &mut wake);
                    Poll::Ready(Taken::Message(message))
                }
                None if state.closed => {
                    state.release_taker(key, &mut wake);
                    state.check_drained(&mut wake);
                    Poll::Ready(Taken::Drained)
                }
                None => {
                    if state.waiting_takers >= MAX_PENDING_TAKES
                        && !matches!(state.takers.get(*key), Some(TakerSlot::Waiting(_)))
                    {
                        // Refuse this take only; the stream stays open for the others.
                        Poll::Ready(Taken::Refused)
                    } else {
                        state.wait_taker(key, cx.waker());
                        Poll::Pending
                    }
                }
            }
        };
        self.run(wake);
        poll
    }

    /// Takes up to `limit` messages at once into `out` (under one lock): `Ready(true)` with at
    /// least one, `Ready(false)` once drained.
    pub(crate) fn poll_take_batch(
        &self,
        cx: &mut Context<'_>,
        key: &mut usize,
        limit: usize,
        out: &mut Vec<T>,
    ) -> Poll<bool> {
        if limit <= 1 {
            return self.poll_take(cx, key).map(|message| match message {
                Some(message) => {
                    out.push(message);
                    true
                }
                None => false,
            });
        }
        let mut wake = Wake::default();
        let poll = {
            let mut state = self.lock();
            let before = out.len();
            while out.len() - before < limit {
                match state.take_now(self.capacity, &mut wake) {
                    Some(message) => out.push(message),
                    None => break,
                }
            }
            if out.len() > before {
                self.publish_front(&state);
                state.release_taker(key, &mut wake);
                Poll::Ready(true)
            } else {
                drop(state);
                return self.poll_take(cx, key).map(|message| match message {
                    Some(message) => {
                        out.push(message);
                        true
                    }
                    None => false,
                });
            }
        };
        self.run(wake);
        poll
    }

    /// How many messages a put would have accepted at once, now (at least 1, so that a caller
    /// always makes progress or learns the channel closed).
    pub(crate) fn room(&self) -> usize {
        let state = self.lock();
        (self.capacity + state.waiting_takers)
            .saturating_sub(state.buffer.len())
            .max(1)
    }

    /// Offers every message of `messages` (under one lock), in order. Returns the sequence
    /// number of the last one left pending, if any; stops with an error at a closed channel or
    /// at the pending limit (the messages not offered stay in `messages`).
    pub(crate) fn offer_all(
        &self,
        messages: &mut std::collections::VecDeque<T>,
    ) -> Result<Option<u64>, Error> {
        let mut wake = Wake::default();
        let outcome = {
            let mut state = self.lock();
            let mut last_pending = None;
            loop {
                if state.closed {
                    break Err(Error::closed("stream"));
                }
                let Some(message) = messages.pop_front() else {
                    break Ok(last_pending);
                };
                if state.buffer.len() < self.capacity + state.waiting_takers {
                    state.buffer.push_back(message);
                    state.notify_taker(&mut wake);
                } else if state.puts.len() >= MAX_PENDING_PUTS {
                    messages.push_front(message);
                    break Err(Error::msg(format!(
                        "put refused: the stream already has {MAX_PENDING_PUTS} pending puts"
                    )));
                } else {
                    let seq = state.next_seq;
                    state.next_seq += 1;
                    state.puts.push_back(PendingPut {
                        seq,
                        message,
                        waker: None,
                    });
                    last_pending = Some(seq);
                }
            }
        };
        self.run(wake);
        outcome
    }

    /// A message if one can be had without waiting: `Ok(Some)`, `Ok(None)` when drained, `Err`
    /// when the stream is open and empty.
    pub(crate) fn take_now(&self) -> Result<Option<T>, ()> {
        let mut wake = Wake::default();
        let taken = {
            let mut state = self.lock();
            match state.take_now(self.capacity, &mut wake) {
                Some(message) => {
                    self.publish_front(&state);
                    Ok(Some(message))
                }
                None if state.closed => {
                    state.check_drained(&mut wake);
                    Ok(None)
                }
                None => Err(()),
            }
        };
        self.run(wake);
        taken
    }

    /// A taker handle going away: frees its slot, passing on a notification it did not use.
    pub(crate) fn drop_taker(&self, key: usize) {
        if key == NO_SLOT {
            return;
        }
        let mut wake = Wake::default();
        self.lock().release_taker(&mut { key }, &mut wake);
        self.run(wake);
    }

    /// Closes the stream (unless permanent), optionally with the error that ended it.
    pub(crate) fn close(&self, cause: Option<Error>) {
        if self.permanent {
            return;
        }
        let mut wake = Wake::default();
        {
            let mut state = self.lock();
            state.close(cause, &mut wake);
            state.check_drained(&mut wake);
        }
        self.run(wake);
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn closed(&self) -> &Deferred<(), Error> {
        &self.closed
    }

    pub(crate) fn drained(&self) -> &Deferred<(), Error> {
        &self.drained
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }
}

impl<T> Drop for Queue<T> {
    fn drop(&mut self) {
        LIVE_QUEUES.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl<T> State<T> {
    fn take_now(&mut self, capacity: usize, wake: &mut Wake) -> Option<T> {
        if let Some(message) = self.buffer.pop_front() {
            if self.buffer.len() < capacity {
                if let Some(put) = self.puts.pop_front() {
                    self.buffer.push_back(put.message);
                    if let Some(waker) = put.waker {
                        wake.push(waker);
                    }
                }
            }
            self.check_drained(wake);
            return Some(message);
        }
        let put = self.puts.pop_front()?;
        if let Some(waker) = put.waker {
            wake.push(waker);
        }
        self.check_drained(wake);
        Some(put.message)
    }

    fn find_put(&self, seq: u64) -> Option<usize> {
        if self.puts.front().is_none_or(|first| first.seq > seq) {
            return None;
        }
        let index = self.puts.partition_point(|put| put.seq < seq);
        (self.puts.get(index).map(|put| put.seq) == Some(seq)).then_some(index)
    }

    fn notify_taker(&mut self, wake: &mut Wake) {
        if self.waiting_takers == 0 {
            return;
        }
        for slot in &mut self.takers {
            if matches!(slot, TakerSlot::Waiting(_)) {
                if let TakerSlot::Waiting(waker) = mem::replace(slot, TakerSlot::Notified) {
                    wake.push(waker);
                }
                self.waiting_takers -= 1;
                return;
            }
        }
    }

    fn wait_taker(&mut self, key: &mut usize, waker: &Waker) {
        if let Some(slot) = self.takers.get_mut(*key) {
            match slot {
                TakerSlot::Waiting(old) => {
                    if !old.will_wake(waker) {
                        *old = waker.clone();
                    }
                }
                _ => {
                    *slot = TakerSlot::Waiting(waker.clone());
                    self.waiting_takers += 1;
                }
            }
            return;
        }
        *key = match self
            .takers
            .iter()
            .position(|s| matches!(s, TakerSlot::Free))
        {
            Some(free) => free,
            None => {
                self.takers.push(TakerSlot::Free);
                self.takers.len() - 1
            }
        };
        self.takers[*key] = TakerSlot::Waiting(waker.clone());
        self.waiting_takers += 1;
    }

    fn release_taker(&mut self, key: &mut usize, wake: &mut Wake) {
        let Some(slot) = self.takers.get_mut(*key) else {
            return;
        };
        match mem::take(slot) {
            TakerSlot::Waiting(_) => self.waiting_takers -= 1,
            TakerSlot::Notified if !self.buffer.is_empty() || !self.puts.is_empty() => {
                self.notify_taker(wake);
            }
            _ => {}
        }
        *key = NO_SLOT;
    }

    fn close(&mut self, cause: Option<Error>, wake: &mut Wake) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.cause = cause;
        wake.closed = true;
        for slot in &mut self.takers {
            if let TakerSlot::Waiting(waker) = mem::replace(slot, TakerSlot::Notified) {
                wake.push(waker);
            }
        }
        self.waiting_takers = 0;
    }

    /// Once closed and empty, every caller (not only the first) realizes the drain deferred
    /// after unlocking: realizing is idempotent, and this way nobody returns `None` before the
    /// drain's outcome can be read, whichever thread got there first.
    fn check_drained(&mut self, wake: &mut Wake) {
        if self.closed && self.buffer.is_empty() && self.puts.is_empty() {
            self.drain_announced = true;
            wake.drained = Some(match &self.cause {
                Some(cause) => Err(cause.clone()),
                None => Ok(()),
            });
        }
    }
}

impl<T: Send> Vertex for Queue<T> {
    fn description(&self) -> Description {
        let state = self.lock();
        let mut description = Description::new(self.kind.clone());
        description.label = self.label.clone();
        description.buffer_size = Some(state.buffer.len());
        description.buffer_capacity = Some(self.capacity);
        description.pending_puts = state.puts.len();
        description.pending_takes = state.waiting_takers;
        description.closed = state.closed;
        description.drained = state.drain_announced;
        description.permanent = self.permanent;
        description
    }

    fn edges(&self) -> Vec<Edge> {
        self.edges.snapshot()
    }

    fn link(&self, description: Option<String>, target: &Node) {
        self.edges.add(description, target);
    }

    fn unlink(&self, target: &Node) {
        self.edges.remove(target);
    }

    fn connector_slot(&self) -> Option<&ConnectorSlot> {
        Some(&self.connector)
    }
}

#[cfg(all(test, not(weir_loom)))]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn queue(capacity: usize) -> Queue<u32> {
        let queue = Queue::new(capacity, false, "test".into(), None);
        queue.add_roles(true, true);
        queue
    }

    fn pending(offer: Offer<u32>) -> u64 {
        match offer {
            Offer::Pending(seq) => seq,
            _ => panic!("expected a pending put"),
        }
    }

    #[test]
    fn a_pending_put_is_woken_and_accepted_by_the_take_that_makes_room() {
        let queue = queue(1);
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(queue.offer(1), Offer::Accepted));
        // Registered by the offer itself, under the lock that queued it.
        let seq = pending(queue.offer_waiting(2, Some(&waker)));
        assert!(queue.poll_put(seq, &mut cx).is_pending());
        assert_eq!(queue.take_now(), Ok(Some(1)));
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(matches!(queue.poll_put(seq, &mut cx), Poll::Ready(Ok(()))));
        assert_eq!(queue.take_now(), Ok(Some(2)));
    }

    #[test]
    fn a_retracted_put_ahead_does_not_make_the_next_one_look_accepted() {
        let queue = queue(1);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(queue.offer(0), Offer::Accepted));
        let first = pending(queue.offer(1));
        let second = pending(queue.offer(2));
        let third = pending(queue.offer(3));
        assert_eq!(queue.retract(first), Some(1));
        assert!(queue.poll_put(second, &mut cx).is_pending());
        assert_eq!(queue.retract(third), Some(3));
        assert!(queue.poll_put(second, &mut cx).is_pending());
        // Taking 0 moves `second` into the buffer: accepted.
        assert_eq!(queue.take_now(), Ok(Some(0)));
        assert!(matches!(
            queue.poll_put(second, &mut cx),
            Poll::Ready(Ok(()))
        ));
        let fourth = pending(queue.offer(4));
        assert!(queue.poll_put(fourth, &mut cx).is_pending());
        assert_eq!(queue.take_now(), Ok(Some(2)));
        assert!(matches!(
            queue.poll_put(fourth, &mut cx),
            Poll::Ready(Ok(()))
        ));
    }

    #[test]
    fn a_pending_put_is_refused_not_accepted_once_nobody_can_take() {
        let queue = queue(1);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(matches!(queue.offer(0), Offer::Accepted));
        let seq = pending(queue.offer(1));
        queue.drop_roles(false, true);
        assert!(matches!(queue.poll_put(seq, &mut cx), Poll::Ready(Err(1))));
    }
}

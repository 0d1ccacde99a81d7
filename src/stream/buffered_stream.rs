//! `BufferedChannel`: Manifold's `buffered-stream`, a channel whose puts are acknowledged at
//! once while the buffered messages weigh no more than a limit.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::{Deferred, Error};

use super::channel::{Channel, Take};
use super::errors::{PutError, TakeError};
use super::graph::{Description, Edge, Edges, Node, Vertex};
use super::sink::Sink;
use super::source::Source;

/// The inner channel's capacity: unbounded in practice (every put is accepted at once), with
/// room left so that the queue's `capacity + waiting takers` cannot overflow.
const UNBOUNDED: usize = usize::MAX / 2;

/// The weight function of a [`BufferedChannel`]: `None` counts messages.
type Metric<T> = Option<Box<dyn Fn(&T) -> usize + Send + Sync>>;

/// Manifold's `buffered-stream`: a channel that accepts every put at once, and acknowledges it at
/// once while the buffered messages weigh at most `limit` (in messages, or in the units of a
/// metric, such as bytes).
///
/// A put that takes the buffered total over the limit is still accepted (its message is in the
/// buffer, and takeable), but its future completes only once takes bring the total back to the
/// limit or below, or the channel closes. A producer that waits for each put therefore never
/// runs more than one message past the limit. This is how Aleph buffers inbound network data:
/// the weight of what is buffered is bounded, not the number of messages.
///
/// A `BufferedChannel` is a handle: clones share the same channel. It is a [`Source`] and a
/// [`Sink`]; its [`description`](BufferedChannel::description) reports `buffer_size` and
/// `buffer_capacity` in metric units.
///
/// A panicking metric closes the channel with a [panic error](Error::is_panic) (visible through
/// [`Source::drained`]) and refuses the put that called it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::runtime::timeout;
/// use weir::stream::BufferedChannel;
///
/// # weir::runtime::block_on(async {
/// // Up to 10 bytes are acknowledged at once.
/// let s = BufferedChannel::with_metric(|chunk: &Vec<u8>| chunk.len(), 10);
/// s.put(vec![0; 6]).await.unwrap();
/// s.put(vec![0; 4]).await.unwrap();
/// assert_eq!(s.description().buffer_size, Some(10));
///
/// // 13 bytes: accepted, but not acknowledged until a take brings the total back to 10.
/// let mut put = Box::pin(s.put(vec![0; 3]));
/// assert!(timeout(Duration::from_millis(10), &mut put).await.is_err());
/// assert_eq!(s.take_next().await.map(|chunk| chunk.len()), Some(6));
/// put.await.unwrap();
/// assert_eq!(s.description().buffer_size, Some(7));
/// # });
/// ```
pub struct BufferedChannel<T> {
    shared: Arc<Shared<T>>,
    /// This handle's view of the channel: its taker slot.
    channel: Channel<(T, usize)>,
    /// This handle's put still waiting for its acknowledgement, for `futures_sink::Sink`.
    in_flight: Option<usize>,
    /// Watches for the channel closing, for `Sink::poll_closed`.
    closed_watch: Option<Deferred<(), Error>>,
}

struct Shared<T> {
    metric: Metric<T>,
    limit: usize,
    kind: Cow<'static, str>,
    /// Messages with their weight, so that the metric runs once per message.
    channel: Channel<(T, usize)>,
    state: Mutex<Accounting>,
    edges: Edges,
}

/// The weight buffered now and the puts waiting for it to come down.
#[derive(Default)]
struct Accounting {
    size: usize,
    puts: Vec<PutSlot>,
    waiting: usize,
}

#[derive(Default)]
enum PutSlot {
    #[default]
    Free,
    /// Waiting for the total to come back to the limit (or for the channel to close).
    Waiting(Option<Waker>),
    /// Acknowledged; the put has not come to see it yet.
    Released,
}

impl<T: Send + 'static> BufferedChannel<T> {
    /// A buffered channel that acknowledges puts at once while it holds at most `limit`
    /// messages.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::BufferedChannel::<u8>::new(4);
    /// assert_eq!(s.description().buffer_capacity, Some(4));
    /// ```
    pub fn new(limit: usize) -> Self {
        BufferedChannel::build(None, limit, "buffered-stream")
    }

    /// A buffered channel that acknowledges puts at once while the sum of `metric` over the
    /// buffered messages is at most `limit`.
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::BufferedChannel::with_metric(|s: &String| s.len(), 100);
    /// s.put("hello".to_string()).await.unwrap();
    /// assert_eq!(s.description().buffer_size, Some(5));
    /// # });
    /// ```
    pub fn with_metric(metric: impl Fn(&T) -> usize + Send + Sync + 'static, limit: usize) -> Self {
        BufferedChannel::build(Some(Box::new(metric)), limit, "buffered-stream")
    }

    pub(super) fn build(metric: Metric<T>, limit: usize, kind: &'static str) -> Self {
        let channel = Channel::builder().capacity(UNBOUNDED).build();
        let shared = Arc::new(Shared {
            metric,
            limit,
            kind: Cow::Borrowed(kind),
            channel: channel.clone(),
            state: Mutex::new(Accounting::default()),
            edges: Edges::default(),
        });
        // Closing acknowledges every waiting put: nobody may take their messages any more.
        let weak: Weak<Shared<T>> = Arc::downgrade(&shared);
        channel.on_closed(move || {
            if let Some(shared) = weak.upgrade() {
                shared.release(true);
            }
        });
        BufferedChannel {
            shared,
            channel,
            in_flight: None,
            closed_watch: None,
        }
    }
}

impl<T> BufferedChannel<T> {
    /// Puts a message: accepted at once (unless the channel is closed), acknowledged when the
    /// buffered total is within the limit; see [`BufferedChannel`].
    ///
    /// # Cancel safety
    ///
    /// The message is in the channel as soon as the future is first polled; dropping the future
    /// afterwards only stops waiting for the acknowledgement.
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::BufferedChannel::new(1);
    /// s.put(1).await.unwrap();
    /// s.close();
    /// let refused = s.put(2).await.unwrap_err();
    /// assert!(refused.is_closed());
    /// assert_eq!(refused.into_inner(), 2);
    /// # });
    /// ```
    pub fn put(&self, message: T) -> BufferedPut<'_, T> {
        BufferedPut {
            shared: &self.shared,
            state: PutState::Start(message),
        }
    }

    /// Takes the next message, or `None` once the channel is drained.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses nothing: a message is removed only when the future returns it.
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::BufferedChannel::new(1);
    /// s.put('x').await.unwrap();
    /// s.close();
    /// assert_eq!(s.take_next().await, Some('x'));
    /// assert_eq!(s.take_next().await, None);
    /// # });
    /// ```
    pub fn take_next(&self) -> BufferedTake<'_, T> {
        BufferedTake {
            shared: &self.shared,
            take: self.channel.take_next(),
        }
    }

    /// Takes a message if one is buffered now: `Err(TakeError::Timeout)` if the channel is open
    /// and empty, `Err(TakeError::Drained)` once it is drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{BufferedChannel, TakeError};
    ///
    /// # weir::runtime::block_on(async {
    /// let s = BufferedChannel::new(1);
    /// assert_eq!(s.take_now(), Err(TakeError::Timeout));
    /// s.put(5).await.unwrap();
    /// assert_eq!(s.take_now(), Ok(5));
    /// # });
    /// ```
    pub fn take_now(&self) -> Result<T, TakeError> {
        match poll_now(self.channel.try_take(Duration::ZERO)) {
            Some(Ok((message, weight))) => {
                self.shared.taken(weight);
                Ok(message)
            }
            Some(Err(error)) => Err(error),
            None => Err(TakeError::Timeout),
        }
    }

    /// Closes the channel: no more puts, waiting puts are acknowledged, and what is buffered
    /// stays takeable.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::BufferedChannel::<u8>::new(1);
    /// s.close();
    /// assert!(s.is_closed());
    /// ```
    pub fn close(&self) {
        self.channel.close();
    }

    /// Closes the channel because of `cause`, which [`Source::drained`] then reports.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{BufferedChannel, Source};
    ///
    /// let s = BufferedChannel::<u8>::new(1);
    /// s.close_with_error(weir::Error::msg("peer reset"));
    /// assert_eq!(s.drained().wait().unwrap_err().to_string(), "peer reset");
    /// ```
    pub fn close_with_error(&self, cause: Error) {
        self.channel.close_with_error(cause);
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }

    /// A deferred realized when the channel closes.
    pub fn closed(&self) -> Deferred<(), Error> {
        self.channel.closed()
    }

    /// The limit, in metric units (messages without a metric).
    pub fn limit(&self) -> usize {
        self.shared.limit
    }

    /// The weight of the buffered messages now, in metric units.
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::BufferedChannel::with_metric(|n: &usize| *n, 100);
    /// s.put(30).await.unwrap();
    /// s.put(12).await.unwrap();
    /// assert_eq!(s.size(), 42);
    /// # });
    /// ```
    pub fn size(&self) -> usize {
        self.shared.lock().size
    }
}

impl<T: Send + 'static> BufferedChannel<T> {
    /// The channel's graph node.
    pub fn node(&self) -> Node {
        Node::new(self.shared.clone())
    }

    /// A snapshot of the channel's state; `buffer_size` and `buffer_capacity` are in metric
    /// units, `pending_puts` counts the puts waiting for their acknowledgement.
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::BufferedChannel::with_metric(|s: &&str| s.len(), 8);
    /// s.put("abc").await.unwrap();
    /// let d = s.description();
    /// assert_eq!(d.kind, "buffered-stream");
    /// assert_eq!((d.buffer_size, d.buffer_capacity), (Some(3), Some(8)));
    /// # });
    /// ```
    pub fn description(&self) -> Description {
        self.shared.description()
    }
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Accounting> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Weighs and enqueues a message; `Ok(Some(slot))` when the put must wait for its
    /// acknowledgement in `slot`.
    fn offer(&self, message: T) -> Result<Option<usize>, PutError<T>> {
        let weight = match &self.metric {
            None => 1,
            Some(metric) => match catch_unwind(AssertUnwindSafe(|| metric(&message))) {
                Ok(weight) => weight,
                Err(payload) => {
                    let error = Error::panicked(payload);
                    log::error!("weir: a buffered stream's metric panicked: {error}");
                    self.channel.close_with_error(error);
                    return Err(PutError::closed(message));
                }
            },
        };
        // Counted before it is enqueued, so that a take never subtracts what was not added.
        let slot = {
            let mut state = self.lock();
            state.size = state.size.saturating_add(weight);
            (state.size > self.limit).then(|| state.wait())
        };
        match poll_now(self.channel.try_put((message, weight), Duration::ZERO)) {
            Some(Ok(())) => Ok(slot),
            Some(Err(refused)) => {
                // Only a closed channel refuses: it is unbounded, so no put ever waits.
                let (message, _) = refused.into_inner();
                let wake = {
                    let mut state = self.lock();
                    state.size = state.size.saturating_sub(weight);
                    if let Some(slot) = slot {
                        state.forget(slot);
                    }
                    state.release_if(self.limit, false)
                };
                wake_all(wake);
                Err(PutError::closed(message))
            }
            None => unreachable!("a put into an unbounded channel cannot wait"),
        }
    }

    /// A message of `weight` was taken.
    fn taken(&self, weight: usize) {
        let wake = {
            let mut state = self.lock();
            state.size = state.size.saturating_sub(weight);
            state.release_if(self.limit, false)
        };
        wake_all(wake);
    }

    /// Acknowledges the waiting puts if the total is within the limit (or `always`).
    fn release(&self, always: bool) {
        let wake = self.lock().release_if(self.limit, always);
        wake_all(wake);
    }

    fn poll_acknowledged(&self, slot: usize, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        if let Some(PutSlot::Waiting(waker)) = state.puts.get_mut(slot) {
            match waker {
                Some(old) if old.will_wake(cx.waker()) => {}
                _ => *waker = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        state.forget(slot);
        Poll::Ready(())
    }

    fn forget(&self, slot: usize) {
        self.lock().forget(slot);
    }
}

impl Accounting {
    fn wait(&mut self) -> usize {
        self.waiting += 1;
        match self.puts.iter().position(|s| matches!(s, PutSlot::Free)) {
            Some(free) => {
                self.puts[free] = PutSlot::Waiting(None);
                free
            }
            None => {
                self.puts.push(PutSlot::Waiting(None));
                self.puts.len() - 1
            }
        }
    }

    fn forget(&mut self, slot: usize) {
        if let Some(entry) = self.puts.get_mut(slot) {
            if matches!(std::mem::take(entry), PutSlot::Waiting(_)) {
                self.waiting -= 1;
            }
        }
        while matches!(self.puts.last(), Some(PutSlot::Free)) {
            self.puts.pop();
        }
    }

    #[must_use]
    fn release_if(&mut self, limit: usize, always: bool) -> Vec<Waker> {
        if self.waiting == 0 || (self.size > limit && !always) {
            return Vec::new();
        }
        self.waiting = 0;
        let mut wakers = Vec::new();
        for slot in &mut self.puts {
            if let PutSlot::Waiting(waker) = slot {
                wakers.extend(waker.take());
                *slot = PutSlot::Released;
            }
        }
        wakers
    }
}

fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

/// Polls `future` once, with a waker that does nothing: for futures known to complete at once.
pub(super) fn poll_now<F: Future>(future: F) -> Option<F::Output> {
    let future = pin!(future);
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

impl<T> Clone for BufferedChannel<T> {
    fn clone(&self) -> Self {
        BufferedChannel {
            shared: self.shared.clone(),
            channel: self.channel.clone(),
            in_flight: None,
            closed_watch: None,
        }
    }
}

impl<T> Drop for BufferedChannel<T> {
    fn drop(&mut self) {
        if let Some(slot) = self.in_flight.take() {
            self.shared.forget(slot);
        }
    }
}

impl<T> fmt::Debug for BufferedChannel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufferedChannel")
            .field("limit", &self.shared.limit)
            .field("size", &self.shared.lock().size)
            .field("closed", &self.channel.is_closed())
            .finish_non_exhaustive()
    }
}

impl<T> futures_core::Stream for BufferedChannel<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        match Pin::new(&mut this.channel).poll_next(cx) {
            Poll::Ready(Some((message, weight))) => {
                this.shared.taken(weight);
                Poll::Ready(Some(message))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> BufferedChannel<T> {
    fn poll_in_flight(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(slot) = self.in_flight {
            futures_core::ready!(self.shared.poll_acknowledged(slot, cx));
            self.in_flight = None;
        }
        Poll::Ready(())
    }
}

/// Sending waits (in `poll_ready` and `poll_flush`) for the previous message's acknowledgement,
/// so `SinkExt::send` has [`put`](BufferedChannel::put)'s semantics.
impl<T> futures_sink::Sink<T> for BufferedChannel<T> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        futures_core::ready!(this.poll_in_flight(cx));
        if this.channel.is_closed() {
            return Poll::Ready(Err(Error::closed("stream")));
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        let this = self.get_mut();
        match this.shared.offer(message) {
            Ok(slot) => {
                this.in_flight = slot;
                Ok(())
            }
            Err(refused) => Err(refused.to_error()),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        futures_core::ready!(this.poll_in_flight(cx));
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        futures_core::ready!(this.poll_in_flight(cx));
        this.channel.close();
        Poll::Ready(Ok(()))
    }
}

impl<T: Send + 'static> Source for BufferedChannel<T> {
    fn node(&self) -> Node {
        BufferedChannel::node(self)
    }

    fn close(&self) {
        BufferedChannel::close(self);
    }

    fn drained(&self) -> Deferred<(), Error> {
        Source::drained(&self.channel)
    }
}

impl<T: Send + 'static> Sink<T> for BufferedChannel<T> {
    fn node(&self) -> Node {
        BufferedChannel::node(self)
    }

    fn poll_closed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let watch = this
            .closed_watch
            .get_or_insert_with(|| this.channel.closed());
        Pin::new(watch).poll(cx).map(|_| ())
    }

    fn is_closed(&self) -> bool {
        BufferedChannel::is_closed(self)
    }

    fn close_now(&self) {
        BufferedChannel::close(self);
    }
}

impl<T: Send + 'static> Vertex for Shared<T> {
    fn description(&self) -> Description {
        let mut description = self.channel.description();
        let state = self.lock();
        description.kind = self.kind.clone();
        description.buffer_size = Some(state.size);
        description.buffer_capacity = Some(self.limit);
        description.pending_puts = state.waiting;
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
}

/// The future returned by [`BufferedChannel::put`].
#[must_use = "a put does nothing unless awaited"]
pub struct BufferedPut<'a, T> {
    shared: &'a Shared<T>,
    state: PutState<T>,
}

enum PutState<T> {
    Start(T),
    Waiting(usize),
    Done,
}

impl<T> Future for BufferedPut<'_, T> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, PutState::Done) {
                PutState::Start(message) => match this.shared.offer(message) {
                    Ok(None) => return Poll::Ready(Ok(())),
                    Ok(Some(slot)) => this.state = PutState::Waiting(slot),
                    Err(refused) => return Poll::Ready(Err(refused)),
                },
                PutState::Waiting(slot) => {
                    return match this.shared.poll_acknowledged(slot, cx) {
                        Poll::Ready(()) => Poll::Ready(Ok(())),
                        Poll::Pending => {
                            this.state = PutState::Waiting(slot);
                            Poll::Pending
                        }
                    };
                }
                PutState::Done => return Poll::Pending,
            }
        }
    }
}

// A put never pins its message (it only moves it into the channel).
impl<T> Unpin for BufferedPut<'_, T> {}

impl<T> Drop for BufferedPut<'_, T> {
    fn drop(&mut self) {
        if let PutState::Waiting(slot) = self.state {
            self.shared.forget(slot);
        }
    }
}

impl<T> fmt::Debug for BufferedPut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BufferedPut(..)")
    }
}

/// The future returned by [`BufferedChannel::take_next`].
#[must_use = "a take does nothing unless awaited"]
pub struct BufferedTake<'a, T> {
    shared: &'a Shared<T>,
    take: Take<'a, (T, usize)>,
}

impl<T> Future for BufferedTake<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        match Pin::new(&mut this.take).poll(cx) {
            Poll::Ready(Some((message, weight))) => {
                this.shared.taken(weight);
                Poll::Ready(Some(message))
            }
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> fmt::Debug for BufferedTake<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BufferedTake(..)")
    }
}

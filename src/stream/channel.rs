//! `Channel`: Manifold's stream, a buffered channel with a put side and a take side.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::Timer;

use crate::{Deferred, Error};

use super::errors::{PutError, TakeError};
use super::graph::{Description, Node};
use super::queue::{NO_SLOT, Offer, Queue, Taken};
use super::sink::Sink;
use super::source::Source;

/// Manifold's stream: a buffered channel that messages are put into and taken from, with
/// backpressure.
///
/// A `Channel` is a cheap handle: clones share the same stream, and any handle can put, take,
/// close and observe it. As a [`Source`] (and `futures_core::Stream`) it yields messages; as a
/// [`Sink`] (and `futures_sink::Sink`) it accepts them.
///
/// # Semantics
///
/// - [`put`](Channel::put) completes once the message is accepted: at once if a taker is waiting
///   or the buffer has room, otherwise when a taker takes it. So on an unbuffered channel
///   (capacity 0) a put completes only when its message is consumed. A put into a closed channel
///   fails, handing the message back.
/// - [`take_next`](Channel::take_next) yields the next message, or `None` once the channel is drained.
/// - [`close`](Channel::close) stops further puts. Buffered messages and puts already pending
///   stay takeable; takers get `None` once all of them are gone (drained). Permanent channels
///   ignore `close`.
/// - At most [`MAX_PENDING_PUTS`](super::MAX_PENDING_PUTS) puts wait at once; one more fails with
///   [`PutError::is_too_many_pending`]. No message is ever dropped silently.
/// - At most [`MAX_PENDING_TAKES`](super::MAX_PENDING_TAKES) takes wait at once; one more is
///   refused, and only that one: [`try_take`](Channel::try_take) fails with
///   [`TakeError::TooManyPending`], [`take_next`](Channel::take_next) yields `None` although the channel
///   is not drained ([`is_drained`](Channel::is_drained) tells the two apart).
///
/// # Dropping handles
///
/// As with async-channel, dropping handles closes the channel. Every `Channel` handle (and
/// every clone) can both put and take; what weir takes over counts only for the role it uses:
/// [`connect`](super::connect) and the combinators of [`SourceExt`](super::SourceExt) only take
/// from their source, a connection into a sink only puts, [`source_only`](super::source_only)
/// and [`sink_only`](super::sink_only) views and the halves of a [`splice`](super::splice) count
/// for their one role.
///
/// - When the last handle that can put is gone, the channel closes (even a permanent one:
///   nothing could ever put into it again); what is buffered or pending stays takeable.
/// - When the last handle that can take is gone, the channel closes, pending and later puts
///   fail ([`PutError::is_closed`]) and the connections into it end as if it had been closed;
///   buffered messages are dropped.
///
/// ```
/// use weir::stream::{self, Channel, ConnectOptions};
///
/// # weir::runtime::block_on(async {
/// let (source, sink) = (Channel::new(1), Channel::new(1));
/// let done = stream::connect(source.clone(), sink.clone(), ConnectOptions::new());
/// source.put(1).await.unwrap();
/// drop(source); // the last handle that can put: the source closes...
/// assert_eq!(sink.take_next().await, Some(1));
/// assert_eq!(sink.take_next().await, None); // ...and drains, which closes the sink.
/// done.await.unwrap();
/// # });
/// ```
///
/// # `take_next`, not `take`
///
/// Manifold's `take!` is [`take_next`](Channel::take_next) here. A method named `take` would
/// not compile beside `futures::StreamExt` or `futures_lite::StreamExt`: Rust looks for a method
/// taking its receiver by value before one taking it by reference, so `channel.take()` on an
/// owned channel finds `StreamExt::take(self, n)` (limit the stream to `n` messages) before an
/// inherent `take(&self)`, and asks for its `n`. `take_next` means the same with or without those
/// traits in scope; so does `StreamExt::next` on a `&mut` handle, which yields the same messages.
///
/// # Examples
///
/// ```
/// use weir::stream::Channel;
///
/// # weir::runtime::block_on(async {
/// let s = Channel::new(2);
/// s.put("a").await.unwrap();
/// s.put("b").await.unwrap();
/// s.close();
/// assert_eq!(s.take_next().await, Some("a"));
/// assert_eq!(s.take_next().await, Some("b"));
/// assert_eq!(s.take_next().await, None);
/// assert!(s.put("c").await.unwrap_err().is_closed());
/// # });
/// ```
pub struct Channel<T> {
    queue: Arc<Queue<T>>,
    /// This handle's taker slot, for its `futures_core::Stream` implementation.
    taker_key: usize,
    /// This handle's put still waiting to be accepted, for its `futures_sink::Sink`
    /// implementation.
    in_flight: Option<u64>,
    /// Watches for the channel closing, for `Sink::poll_closed`.
    closed_watch: Option<Deferred<(), Error>>,
    /// This handle counts as one that can put (see [dropping handles](Channel#dropping-handles)).
    put_role: bool,
    /// This handle counts as one that can take.
    take_role: bool,
}

/// Builds a [`Channel`] with options: capacity, permanence, a description.
///
/// # Examples
///
/// ```
/// let s = weir::stream::Channel::<u8>::builder()
///     .capacity(16)
///     .permanent(true)
///     .description("events")
///     .build();
/// s.close(); // ignored: permanent
/// let d = s.description();
/// assert!(d.permanent && !d.closed);
/// assert_eq!(d.label.as_deref(), Some("events"));
/// ```
pub struct ChannelBuilder<T> {
    capacity: usize,
    permanent: bool,
    description: Option<String>,
    kind: Option<Cow<'static, str>>,
    message: PhantomData<fn() -> T>,
}

impl<T> ChannelBuilder<T> {
    fn new() -> Self {
        ChannelBuilder {
            capacity: 0,
            permanent: false,
            description: None,
            kind: None,
            message: PhantomData,
        }
    }

    /// How many messages the buffer holds before puts wait (default 0: unbuffered).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// A permanent channel ignores `close` (default false).
    pub fn permanent(mut self, permanent: bool) -> Self {
        self.permanent = permanent;
        self
    }

    /// A label shown in the channel's [`Description`].
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The kind shown in the description, for adapters built on a channel (default `stream`).
    pub(crate) fn kind(mut self, kind: impl Into<Cow<'static, str>>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    /// The channel.
    pub fn build(self) -> Channel<T> {
        let kind = self.kind.unwrap_or(Cow::Borrowed("stream"));
        Channel::from_queue(Arc::new(Queue::new(
            self.capacity,
            self.permanent,
            kind,
            self.description,
        )))
    }
}

impl<T> Clone for ChannelBuilder<T> {
    fn clone(&self) -> Self {
        ChannelBuilder {
            capacity: self.capacity,
            permanent: self.permanent,
            description: self.description.clone(),
            kind: self.kind.clone(),
            message: PhantomData,
        }
    }
}

impl<T> fmt::Debug for ChannelBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelBuilder")
            .field("capacity", &self.capacity)
            .field("permanent", &self.permanent)
            .field("description", &self.description)
            .finish()
    }
}

impl<T> Channel<T> {
    /// A channel whose buffer holds `capacity` messages (0: unbuffered).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::Channel::<u8>::new(8);
    /// assert_eq!(s.description().buffer_capacity, Some(8));
    /// ```
    pub fn new(capacity: usize) -> Self {
        ChannelBuilder::new().capacity(capacity).build()
    }

    /// An unbuffered channel: each put waits for its message to be taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::Channel::unbuffered();
    /// // Nobody takes: the put cannot complete.
    /// assert!(s.try_put(1, Duration::ZERO).await.unwrap_err().is_timeout());
    /// # });
    /// ```
    pub fn unbuffered() -> Self {
        Channel::new(0)
    }

    /// A builder for a channel with options.
    pub fn builder() -> ChannelBuilder<T> {
        ChannelBuilder::new()
    }

    /// The shared state, for weir's own fast paths (the event bus).
    pub(crate) fn queue(&self) -> &Arc<Queue<T>> {
        &self.queue
    }

    fn from_queue(queue: Arc<Queue<T>>) -> Self {
        Channel::with_roles(queue, true, true)
    }

    fn with_roles(queue: Arc<Queue<T>>, put_role: bool, take_role: bool) -> Self {
        queue.add_roles(put_role, take_role);
        Channel {
            queue,
            taker_key: NO_SLOT,
            in_flight: None,
            closed_watch: None,
            put_role,
            take_role,
        }
    }

    /// This handle, counting only as one that can take (for weir's adapters: a task that only
    /// reads a channel must not keep it open).
    pub(crate) fn into_take_only(mut self) -> Self {
        self.release_put_role_now();
        self
    }

    /// This handle, counting only as one that can put (for weir's adapters: a task that only
    /// feeds a channel must not keep its readers' side alive).
    #[allow(dead_code)] // for the network adapters
    pub(crate) fn into_put_only(mut self) -> Self {
        self.release_take_role_now();
        self
    }

    fn release_put_role_now(&mut self) {
        if mem::take(&mut self.put_role) {
            self.queue.drop_roles(true, false);
        }
    }

    fn release_take_role_now(&mut self) {
        if mem::take(&mut self.take_role) {
            self.queue.drop_roles(false, true);
        }
    }

    /// Puts a message; see the [semantics](Channel#semantics).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the message was accepted withdraws the message (it is
    /// dropped with the future); once accepted, it stays in the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::Channel::new(1);
    /// assert!(s.put(1).await.is_ok());
    /// # });
    /// ```
    pub fn put(&self, message: T) -> Put<'_, T> {
        Put {
            queue: &self.queue,
            state: PutState::Start(message),
        }
    }

    /// Puts a message at once and returns a deferred of the outcome: Manifold's eager `put!`.
    ///
    /// Unlike [`put`](Channel::put), a lazy future that does nothing until awaited, the message
    /// is offered before `put_now` returns: accepted at once when a taker waits or the buffer
    /// has room (the deferred is then already realized), otherwise left pending, exactly as a
    /// waiting `put`, with a task on weir's executor that realizes the deferred once the message
    /// is accepted. So a fire-and-forget `put_now` delivers its message even if the deferred is
    /// dropped. A refused put realizes the deferred with the [`PutError`], which hands the
    /// message back.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::Channel;
    ///
    /// # weir::runtime::block_on(async {
    /// let s = Channel::new(1);
    /// assert!(s.put_now(1).is_realized(), "room in the buffer: accepted at once");
    /// let pending = s.put_now(2); // the buffer is full: it waits for a taker
    /// assert!(!pending.is_realized());
    /// drop(s.put_now(3)); // fire and forget: still delivered
    /// assert_eq!(s.take_next().await, Some(1));
    /// assert_eq!(s.take_next().await, Some(2));
    /// pending.await.unwrap();
    /// assert_eq!(s.take_next().await, Some(3));
    /// s.close();
    /// assert_eq!(s.put_now(4).wait().unwrap_err().into_inner(), 4);
    /// # });
    /// ```
    pub fn put_now(&self, message: T) -> Deferred<(), PutError<T>>
    where
        T: Send + 'static,
    {
        let channel = self.clone();
        super::put_now::put_now(async move { channel.put(message).await })
    }

    /// Puts a message, giving up after `timeout` (zero: only if it can be accepted at once). On
    /// timeout the message is withdrawn and handed back in the error.
    ///
    /// # Cancel safety
    ///
    /// As for [`put`](Channel::put).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// # weir::runtime::block_on(async {
    /// let s = weir::stream::Channel::new(1);
    /// s.try_put(1, Duration::ZERO).await.unwrap();
    /// let full = s.try_put(2, Duration::from_millis(5)).await.unwrap_err();
    /// assert!(full.is_timeout());
    /// assert_eq!(full.into_inner(), 2);
    /// # });
    /// ```
    pub fn try_put(&self, message: T, timeout: Duration) -> TryPut<'_, T> {
        TryPut {
            put: self.put(message),
            timeout,
            timer: None,
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
    /// let s = weir::stream::Channel::new(1);
    /// s.put('x').await.unwrap();
    /// assert_eq!(s.take_next().await, Some('x'));
    /// # });
    /// ```
    pub fn take_next(&self) -> Take<'_, T> {
        Take {
            queue: &self.queue,
            key: NO_SLOT,
        }
    }

    /// Takes the next message, giving up after `timeout` (zero: only if one is there now); the
    /// error says whether time ran out or the channel is drained.
    ///
    /// # Cancel safety
    ///
    /// As for [`take_next`](Channel::take_next).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::stream::{Channel, TakeError};
    ///
    /// # weir::runtime::block_on(async {
    /// let s = Channel::<u8>::new(1);
    /// assert_eq!(s.try_take(Duration::from_millis(5)).await, Err(TakeError::Timeout));
    /// s.put(3).await.unwrap();
    /// assert_eq!(s.try_take(Duration::ZERO).await, Ok(3));
    /// # });
    /// ```
    pub fn try_take(&self, timeout: Duration) -> TryTake<'_, T> {
        TryTake {
            take: self.take_next(),
            timeout,
            timer: None,
        }
    }

    /// Closes the channel: no more puts; what is buffered or pending stays takeable. Permanent
    /// channels ignore it.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::Channel::<u8>::new(1);
    /// s.close();
    /// assert!(s.is_closed() && s.is_drained());
    /// ```
    pub fn close(&self) {
        self.queue.close(None);
    }

    /// Closes the channel because of `cause`: takers still get what was buffered, then the drain
    /// reports the cause through [`Source::drained`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{Channel, Source};
    ///
    /// let s = Channel::<u8>::new(1);
    /// s.close_with_error(weir::Error::msg("upstream failed"));
    /// let cause = s.drained().wait().unwrap_err();
    /// assert_eq!(cause.to_string(), "upstream failed");
    /// ```
    pub fn close_with_error(&self, cause: Error) {
        self.queue.close(Some(cause));
    }

    /// True once closed.
    pub fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }

    /// True once closed and empty: nothing more will come out.
    pub fn is_drained(&self) -> bool {
        self.queue.drained().is_realized()
    }

    /// A deferred realized when the channel closes.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::Channel::<u8>::new(1);
    /// let closed = s.closed();
    /// s.close();
    /// assert!(closed.wait().is_ok());
    /// ```
    pub fn closed(&self) -> Deferred<(), Error> {
        self.queue.closed().clone()
    }

    /// Runs `callback` once the channel closes, at once if it already is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let s = weir::stream::Channel::<u8>::new(1);
    /// let seen = Arc::new(AtomicBool::new(false));
    /// let flag = seen.clone();
    /// s.on_closed(move || flag.store(true, Ordering::SeqCst));
    /// s.close();
    /// assert!(seen.load(Ordering::SeqCst));
    /// ```
    pub fn on_closed(&self, callback: impl FnOnce() + Send + 'static) {
        self.closed().on_realized(move |_| callback());
    }

    /// Runs `callback` once the channel is drained, with `Ok(())` or the cause it was closed
    /// with; at once if it already is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let s = weir::stream::Channel::<u8>::new(1);
    /// let (tx, rx) = mpsc::channel();
    /// s.on_drained(move |outcome| tx.send(outcome.is_ok()).unwrap());
    /// s.close();
    /// assert!(rx.recv().unwrap());
    /// ```
    pub fn on_drained(&self, callback: impl FnOnce(Result<(), Error>) + Send + 'static) {
        self.queue.drained().clone().on_realized(callback);
    }

    /// The channel's graph node.
    pub fn node(&self) -> Node
    where
        T: Send + 'static,
    {
        Node::new(self.queue.clone())
    }

    /// A snapshot of the channel's state: Manifold's `description`.
    pub fn description(&self) -> Description
    where
        T: Send + 'static,
    {
        self.node().description()
    }

    /// The capacity of the buffer.
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// True when both handles share one channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = weir::stream::Channel::<u8>::new(1);
    /// assert!(s.same_channel(&s.clone()));
    /// assert!(!s.same_channel(&weir::stream::Channel::new(1)));
    /// ```
    pub fn same_channel(&self, other: &Channel<T>) -> bool {
        Arc::ptr_eq(&self.queue, &other.queue)
    }
}

/// A clone counts for the same roles as the handle it was cloned from.
impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        Channel::with_roles(self.queue.clone(), self.put_role, self.take_role)
    }
}

impl<T> Drop for Channel<T> {
    fn drop(&mut self) {
        self.queue.drop_taker(self.taker_key);
        self.queue.drop_roles(self.put_role, self.take_role);
    }
}

impl<T> fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("capacity", &self.queue.capacity())
            .field("closed", &self.queue.is_closed())
            .finish_non_exhaustive()
    }
}

impl<T> futures_core::Stream for Channel<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.queue.poll_take(cx, &mut this.taker_key)
    }
}

impl<T> Channel<T> {
    fn poll_in_flight(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if let Some(seq) = self.in_flight {
            let accepted = futures_core::ready!(self.queue.poll_put(seq, cx));
            self.in_flight = None;
            if accepted.is_err() {
                return Poll::Ready(Err(Error::closed("stream")));
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// Sending waits (in `poll_ready` and `poll_flush`) until the previous message was accepted, so
/// `SinkExt::send` has [`put`](Channel::put)'s semantics. A message refused by `start_send`
/// (the channel closed in between) is reported as an error and dropped.
impl<T> futures_sink::Sink<T> for Channel<T> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        // A closed channel is reported by `start_send`, which checks under the lock anyway.
        this.poll_in_flight(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        let this = self.get_mut();
        match this.queue.offer(message) {
            Offer::Accepted => Ok(()),
            Offer::Pending(seq) => {
                this.in_flight = Some(seq);
                Ok(())
            }
            Offer::Refused(error) => Err(error.to_error()),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        this.poll_in_flight(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        let flushed = futures_core::ready!(this.poll_in_flight(cx));
        this.queue.close(None);
        Poll::Ready(flushed)
    }
}

impl<T: Send + 'static> Source for Channel<T> {
    fn node(&self) -> Node {
        Channel::node(self)
    }

    fn poll_next_batch(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        limit: usize,
        out: &mut Vec<T>,
    ) -> Poll<bool> {
        let this = self.get_mut();
        this.queue
            .poll_take_batch(cx, &mut this.taker_key, limit, out)
    }

    fn close(&self) {
        Channel::close(self);
    }

    fn release_put_role(&mut self) {
        self.release_put_role_now();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.queue.drained().clone()
    }
}

impl<T: Send + 'static> Sink<T> for Channel<T> {
    fn node(&self) -> Node {
        Channel::node(self)
    }

    fn poll_closed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let watch = this
            .closed_watch
            .get_or_insert_with(|| this.queue.closed().clone());
        Pin::new(watch).poll(cx).map(|_| ())
    }

    fn is_closed(&self) -> bool {
        Channel::is_closed(self)
    }

    fn close_now(&self) {
        Channel::close(self);
    }

    fn room(&self) -> usize {
        self.queue.room()
    }

    fn release_take_role(&mut self) {
        self.release_take_role_now();
    }

    fn close_with_cause(&self, cause: Error) {
        self.queue.close(Some(cause));
    }

    fn start_send_all(
        self: Pin<&mut Self>,
        messages: &mut std::collections::VecDeque<T>,
    ) -> Result<(), Error> {
        let this = self.get_mut();
        if let Some(seq) = this.queue.offer_all(messages)? {
            this.in_flight = Some(seq);
        }
        Ok(())
    }
}

/// The future returned by [`Channel::put`].
#[must_use = "a put does nothing unless awaited"]
pub struct Put<'a, T> {
    queue: &'a Queue<T>,
    state: PutState<T>,
}

enum PutState<T> {
    Start(T),
    Pending(u64),
    Done,
}

impl<T> Put<'_, T> {
    /// Withdraws the message if it is still pending, handing it back.
    fn retract(&mut self) -> Option<T> {
        match std::mem::replace(&mut self.state, PutState::Done) {
            PutState::Start(message) => Some(message),
            PutState::Pending(seq) => self.queue.retract(seq),
            PutState::Done => None,
        }
    }
}

impl<T> Future for Put<'_, T> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match std::mem::replace(&mut this.state, PutState::Done) {
            PutState::Start(message) => match this.queue.offer_waiting(message, Some(cx.waker())) {
                Offer::Accepted => Poll::Ready(Ok(())),
                Offer::Refused(error) => Poll::Ready(Err(error)),
                // Pending with our waker registered, under the lock that queued it.
                Offer::Pending(seq) => {
                    this.state = PutState::Pending(seq);
                    Poll::Pending
                }
            },
            PutState::Pending(seq) => match this.queue.poll_put(seq, cx) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
                Poll::Ready(Err(message)) => Poll::Ready(Err(PutError::closed(message))),
                Poll::Pending => {
                    this.state = PutState::Pending(seq);
                    Poll::Pending
                }
            },
            PutState::Done => Poll::Pending,
        }
    }
}

// A put never pins its message (it only moves it into the queue), so it is `Unpin` whatever
// the message type.
impl<T> Unpin for Put<'_, T> {}

impl<T> Drop for Put<'_, T> {
    fn drop(&mut self) {
        if let PutState::Pending(seq) = self.state {
            self.queue.retract(seq);
        }
    }
}

impl<T> fmt::Debug for Put<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Put(..)")
    }
}

/// The future returned by [`Channel::try_put`].
#[must_use = "a put does nothing unless awaited"]
pub struct TryPut<'a, T> {
    put: Put<'a, T>,
    timeout: Duration,
    timer: Option<Timer>,
}

impl<T> Future for TryPut<'_, T> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(outcome) = Pin::new(&mut this.put).poll(cx) {
            return Poll::Ready(outcome);
        }
        let fired = if this.timeout.is_zero() {
            true
        } else {
            let timeout = this.timeout;
            let timer = this.timer.get_or_insert_with(|| Timer::after(timeout));
            Pin::new(timer).poll(cx).is_ready()
        };
        if !fired {
            return Poll::Pending;
        }
        match this.put.retract() {
            Some(message) => Poll::Ready(Err(PutError::timeout(message, this.timeout))),
            // Accepted just before the timer fired.
            None => Poll::Ready(Ok(())),
        }
    }
}

impl<T> fmt::Debug for TryPut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryPut")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The future returned by [`Channel::take_next`].
#[must_use = "a take does nothing unless awaited"]
pub struct Take<'a, T> {
    queue: &'a Queue<T>,
    key: usize,
}

impl<T> Future for Take<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.queue.poll_take(cx, &mut this.key)
    }
}

impl<T> Drop for Take<'_, T> {
    fn drop(&mut self) {
        self.queue.drop_taker(self.key);
    }
}

impl<T> fmt::Debug for Take<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Take(..)")
    }
}

/// The future returned by [`Channel::try_take`].
#[must_use = "a take does nothing unless awaited"]
pub struct TryTake<'a, T> {
    take: Take<'a, T>,
    timeout: Duration,
    timer: Option<Timer>,
}

impl<T> Future for TryTake<'_, T> {
    type Output = Result<T, TakeError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.timeout.is_zero() {
            return Poll::Ready(match this.take.queue.take_now() {
                Ok(Some(message)) => Ok(message),
                Ok(None) => Err(TakeError::Drained),
                Err(()) => Err(TakeError::Timeout),
            });
        }
        let take = &mut this.take;
        if let Poll::Ready(taken) = take.queue.poll_take_outcome(cx, &mut take.key) {
            return Poll::Ready(match taken {
                Taken::Message(message) => Ok(message),
                Taken::Drained => Err(TakeError::Drained),
                Taken::Refused => Err(TakeError::TooManyPending),
            });
        }
        let timeout = this.timeout;
        let timer = this.timer.get_or_insert_with(|| Timer::after(timeout));
        match Pin::new(timer).poll(cx) {
            Poll::Ready(_) => Poll::Ready(Err(TakeError::Timeout)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> fmt::Debug for TryTake<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryTake")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

//! `EventBus`: publish messages to the subscribers of a topic, Manifold's `manifold.bus`.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::{Deferred, Error};

use super::channel::Channel;
use super::queue::{Offer, Queue};
use super::subscriber_stream::SubscriberStream;
use super::subscription::Subscription;

/// A publish/subscribe hub keyed by topic: Manifold's `event-bus`.
///
/// [`subscribe`](EventBus::subscribe) hands out a new stream for a topic, which its holder can
/// only take from; [`publish`](EventBus::publish) puts a message into every stream subscribed
/// to the topic and says when all of them accepted it. A subscriber leaves by closing or
/// dropping its [`Subscription`](super::Subscription); the bus forgets it at once.
///
/// Subscriber streams come from a factory: unbuffered channels by default (Manifold's
/// default), so one slow subscriber holds up each publish until it takes the message. Give the
/// bus buffered channels with [`with_stream_factory`](EventBus::with_stream_factory) to let
/// subscribers fall behind by that much, or [`sliding`](super::sliding) or
/// [`dropping`](super::dropping) channels so that a full subscriber loses messages instead of
/// holding up the publishers (see [`SubscriberStream`]).
///
/// `EventBus` is a cheap handle: clones share the same topics and subscribers.
///
/// # Examples
///
/// ```
/// use weir::stream::EventBus;
///
/// # weir::runtime::block_on(async {
/// let bus = EventBus::with_stream_factory(|| weir::stream::Channel::new(16));
/// let news = bus.subscribe("news");
/// let also_news = bus.subscribe("news");
///
/// assert!(bus.publish("news", "hello").await.unwrap());
/// assert!(!bus.publish("sport", "goal").await.unwrap(), "nobody listens to sport");
///
/// assert_eq!(news.take_next().await, Some("hello"));
/// assert_eq!(also_news.take_next().await, Some("hello"));
/// # });
/// ```
pub struct EventBus<K, T> {
    inner: Arc<Inner<K, T>>,
}

struct Inner<K, T> {
    /// Copy-on-write lists: a publish takes the lock only to clone one `Arc`.
    topics: Mutex<HashMap<K, Arc<[Subscriber<T>]>>>,
    factory: Box<dyn Fn() -> (Channel<T>, Option<bool>) + Send + Sync>,
    next_id: AtomicU64,
}

struct Subscriber<T> {
    id: u64,
    channel: Channel<T>,
    /// `None`: a publish waits for room; `Some(drop_oldest)`: it drops a message instead.
    overflow: Option<bool>,
}

/// The future returned by [`EventBus::publish`]: `Ok(true)` once every subscriber accepted
/// the message, `Ok(false)` if nobody was subscribed (or every subscriber was closed).
///
/// The message was offered to every subscriber when `publish` was called; this future only
/// waits for the subscribers that had no room then. Dropping it withdraws their pending puts, so
/// a publish that is not awaited costs nothing beyond what was accepted at once.
///
/// # Examples
///
/// ```
/// use weir::stream::{Channel, EventBus, Source};
///
/// # weir::runtime::block_on(async {
/// let bus = EventBus::with_stream_factory(|| Channel::new(1));
/// let jobs = bus.subscribe("jobs");
/// let first = bus.publish("jobs", 1);
/// assert!(first.is_realized(), "room in the buffer: accepted at once");
/// let second = bus.publish("jobs", 2);
/// assert!(!second.is_realized());
/// assert_eq!(jobs.description().pending_puts, 1);
/// drop(second); // never awaited: withdrawn
/// assert_eq!(jobs.description().pending_puts, 0);
/// assert!(first.await.unwrap());
/// assert_eq!(jobs.take_next().await, Some(1));
/// # });
/// ```
#[must_use = "dropping a publish withdraws it from the subscribers that had no room at once"]
pub struct Publish<T> {
    /// The subscribers whose pending put is still waiting.
    pending: Vec<Waiting<T>>,
    /// The answer once nothing is pending.
    outcome: Result<bool, Error>,
    /// The waker of the last poll, reused by [`is_realized`](Publish::is_realized).
    waker: Option<Waker>,
}

/// A subscriber's pending put.
struct Waiting<T> {
    queue: Arc<Queue<T>>,
    seq: u64,
    /// Watches the subscriber closing, from the first poll on.
    closed: Option<Deferred<(), Error>>,
}

impl<T> Publish<T> {
    fn done(outcome: Result<bool, Error>) -> Self {
        Publish {
            pending: Vec::new(),
            outcome,
            waker: None,
        }
    }

    /// True once the publish is over: every subscriber accepted the message, left, or none was
    /// there. Awaiting it then returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::EventBus;
    ///
    /// let bus = EventBus::<&str, u8>::new();
    /// assert!(bus.publish("nobody", 1).is_realized());
    /// let _listener = bus.subscribe("somebody");
    /// assert!(!bus.publish("somebody", 1).is_realized(), "unbuffered: waits for a taker");
    /// ```
    pub fn is_realized(&self) -> bool {
        let waker = self.waker.clone().unwrap_or_else(|| Waker::noop().clone());
        let mut cx = Context::from_waker(&waker);
        self.pending
            .iter()
            .all(|waiting| waiting.accepted_or_closed(&mut cx))
    }
}

impl<T> Waiting<T> {
    /// Whether the put no longer needs waiting for, without watching the subscriber close.
    fn accepted_or_closed(&self, cx: &mut Context<'_>) -> bool {
        self.queue.poll_accepted(self.seq, cx).is_ready() || self.queue.is_closed()
    }

    /// As `accepted_or_closed`, and wakes `cx` when the subscriber closes.
    fn poll_settled(&mut self, cx: &mut Context<'_>) -> bool {
        if self.accepted_or_closed(cx) {
            return true;
        }
        let closed = self
            .closed
            .get_or_insert_with(|| self.queue.closed().clone());
        Pin::new(closed).poll(cx).is_ready()
    }
}

impl<T> Future for Publish<T> {
    type Output = Result<bool, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.pending.retain_mut(|waiting| !waiting.poll_settled(cx));
        if this.pending.is_empty() {
            this.waker = None;
            Poll::Ready(this.outcome.clone())
        } else {
            match &this.waker {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => this.waker = Some(cx.waker().clone()),
            }
            Poll::Pending
        }
    }
}

impl<T> Drop for Publish<T> {
    fn drop(&mut self) {
        for waiting in self.pending.drain(..) {
            // Accepted meanwhile: nothing to withdraw.
            let _ = waiting.queue.retract(waiting.seq);
        }
    }
}

impl<T> fmt::Debug for Publish<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish")
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl<K, T> EventBus<K, T>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    T: Send + 'static,
{
    /// A bus whose subscribers get unbuffered channels ([`Channel::unbuffered`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = weir::stream::EventBus::<String, u32>::new();
    /// assert!(bus.topics().is_empty());
    /// ```
    pub fn new() -> Self {
        EventBus::with_stream_factory(Channel::unbuffered)
    }

    /// A bus whose subscribers get the streams `factory` makes, one call per
    /// [`subscribe`](EventBus::subscribe): buffered [`Channel`]s, or
    /// [`dropping`](super::dropping) or [`sliding`](super::sliding) channels, which decide
    /// what a publish does when a subscriber is full (see [`SubscriberStream`]). Manifold's
    /// docs suggest a buffer, so that one slow subscriber does not hold up publishing.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{Channel, EventBus};
    ///
    /// # weir::runtime::block_on(async {
    /// let bus = EventBus::with_stream_factory(|| Channel::new(2));
    /// let ticks = bus.subscribe(());
    /// // The buffer takes two messages before anybody reads them.
    /// assert!(bus.publish(&(), 1).await.unwrap());
    /// assert!(bus.publish(&(), 2).await.unwrap());
    /// assert_eq!(ticks.take_next().await, Some(1));
    /// # });
    /// ```
    pub fn with_stream_factory<F, S>(factory: F) -> Self
    where
        F: Fn() -> S + Send + Sync + 'static,
        S: SubscriberStream<T>,
    {
        EventBus {
            inner: Arc::new(Inner {
                topics: Mutex::new(HashMap::new()),
                factory: Box::new(move || factory().into_channel()),
                next_id: AtomicU64::new(0),
            }),
        }
    }

    /// A new subscriber stream for `topic`, which can only be taken from. Closing it
    /// unsubscribes.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{EventBus, Source};
    ///
    /// let bus = EventBus::<&str, u8>::new();
    /// let subscriber = bus.subscribe("alerts");
    /// assert_eq!(bus.subscriber_count("alerts"), 1);
    /// subscriber.close();
    /// assert_eq!(bus.subscriber_count("alerts"), 0);
    /// ```
    pub fn subscribe(&self, topic: K) -> Subscription<T> {
        let (channel, overflow) = (self.inner.factory)();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        {
            let mut topics = self.inner.lock();
            let subscribers = topics.entry(topic.clone()).or_insert_with(|| Arc::from([]));
            let mut grown: Vec<Subscriber<T>> = subscribers.iter().cloned().collect();
            grown.push(Subscriber {
                id,
                channel: channel.clone(),
                overflow,
            });
            *subscribers = grown.into();
        }
        // Registered once the lock is released: it runs at once if the channel is closed.
        let bus = Arc::downgrade(&self.inner);
        channel.on_closed(move || {
            if let Some(bus) = bus.upgrade() {
                bus.remove(&topic, &[id]);
            }
        });
        Subscription::new(channel)
    }

    /// Puts `message` into every stream subscribed to `topic`, and returns a future of when
    /// all of them accepted it.
    ///
    /// The message is offered to every subscriber at once, in the call: those with room (or a
    /// taker waiting) accept it then and there; each of the others gets it as a pending put,
    /// which the returned [`Publish`] future waits for. The future is `Ok(true)` once every
    /// subscriber accepted the message (with unbuffered subscribers: took it), and `Ok(false)`
    /// at once if the topic has no subscriber. A subscriber found closed is removed and not
    /// waited for, as is one that closes while the message is waiting to be accepted. If a
    /// subscriber refuses the message because it already has
    /// [`MAX_PENDING_PUTS`](super::MAX_PENDING_PUTS) puts waiting, the future ends with that
    /// error once the others accepted the message.
    ///
    /// No task is involved. Dropping the future withdraws the pending puts that are still
    /// waiting: a publish that is not awaited leaves nothing behind, and reaches only the
    /// subscribers that had room at once. To wait in the background instead, hand the future to
    /// an executor (for example [`Deferred::from_future`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{Channel, EventBus, Source};
    ///
    /// # weir::runtime::block_on(async {
    /// let bus = EventBus::<&str, u32>::new(); // unbuffered subscribers
    /// let orders = bus.subscribe("orders");
    /// let published = bus.publish("orders", 7);
    /// assert!(!published.is_realized(), "waits until the subscriber takes it");
    /// assert_eq!(orders.take_next().await, Some(7));
    /// assert!(published.await.unwrap());
    ///
    /// // Not awaited: withdrawn from the subscriber that had no room.
    /// drop(bus.publish("orders", 8));
    /// assert_eq!(orders.description().pending_puts, 0);
    /// # });
    /// ```
    #[must_use = "dropping a publish withdraws it from the subscribers that had no room at once"]
    pub fn publish<Q>(&self, topic: &Q, message: T) -> Publish<T>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        T: Clone,
    {
        let subscribers = match self.inner.lock().get(topic) {
            Some(subscribers) => subscribers.clone(),
            None => return Publish::done(Ok(false)),
        };
        let mut closed = Vec::new();
        let mut pending = Vec::new();
        let mut refused = None;
        let mut message = Some(message);
        for (index, subscriber) in subscribers.iter().enumerate() {
            // The last subscriber gets the message itself, the others a clone.
            let copy = if index + 1 == subscribers.len() {
                message.take()
            } else {
                message.clone()
            };
            let Some(copy) = copy else { break };
            let queue = subscriber.channel.queue();
            let offered = match subscriber.overflow {
                None => queue.offer(copy),
                Some(drop_oldest) => match queue.put_overflowing(copy, drop_oldest) {
                    Ok(_dropped) => Offer::Accepted,
                    Err(refused) => Offer::Refused(refused),
                },
            };
            match offered {
                Offer::Accepted => {}
                Offer::Pending(seq) => pending.push(Waiting {
                    queue: queue.clone(),
                    seq,
                    closed: None,
                }),
                Offer::Refused(error) if error.is_closed() => closed.push(subscriber.id),
                Offer::Refused(error) => refused = Some(error.to_error()),
            }
        }
        if !closed.is_empty() {
            if let Some(topic) = self.topic_key(topic) {
                self.inner.remove(&topic, &closed);
            }
        }
        let outcome = match refused {
            Some(error) => Err(error),
            None => Ok(closed.len() < subscribers.len()),
        };
        Publish {
            pending,
            outcome,
            waker: None,
        }
    }

    /// True if `topic` has at least one open subscriber: Manifold's `active?`.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = weir::stream::EventBus::<&str, u8>::new();
    /// assert!(!bus.is_active("logs"));
    /// let _logs = bus.subscribe("logs");
    /// assert!(bus.is_active("logs"));
    /// ```
    pub fn is_active<Q>(&self, topic: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.subscriber_count(topic) > 0
    }

    /// How many open subscribers `topic` has.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = weir::stream::EventBus::<String, u8>::new();
    /// let _a = bus.subscribe("t".to_string());
    /// let _b = bus.subscribe("t".to_string());
    /// assert_eq!(bus.subscriber_count("t"), 2);
    /// ```
    pub fn subscriber_count<Q>(&self, topic: &Q) -> usize
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner.lock().get(topic).map_or(0, |subscribers| {
            subscribers
                .iter()
                .filter(|s| !s.channel.is_closed())
                .count()
        })
    }

    /// The topics that have at least one open subscriber, now (in no particular order):
    /// Manifold's `topic->subscribers`, without handing out the subscribers' streams.
    ///
    /// # Examples
    ///
    /// ```
    /// let bus = weir::stream::EventBus::<&str, u8>::new();
    /// let _a = bus.subscribe("a");
    /// let _b = bus.subscribe("b");
    /// let mut topics = bus.topics();
    /// topics.sort();
    /// assert_eq!(topics, vec!["a", "b"]);
    /// ```
    pub fn topics(&self) -> Vec<K> {
        self.inner
            .lock()
            .iter()
            .filter(|(_, subscribers)| subscribers.iter().any(|s| !s.channel.is_closed()))
            .map(|(topic, _)| topic.clone())
            .collect()
    }

    /// The bus's own copy of a topic key.
    fn topic_key<Q>(&self, topic: &Q) -> Option<K>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.inner
            .lock()
            .get_key_value(topic)
            .map(|(key, _)| key.clone())
    }
}

impl<T> Clone for Subscriber<T> {
    fn clone(&self) -> Self {
        Subscriber {
            id: self.id,
            channel: self.channel.clone(),
            overflow: self.overflow,
        }
    }
}

impl<K, T> Inner<K, T> {
    fn lock(&self) -> MutexGuard<'_, HashMap<K, Arc<[Subscriber<T>]>>> {
        self.topics.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: Hash + Eq, T> Inner<K, T> {
    /// Forgets the subscribers `ids` of `topic`, and the topic once it has none.
    fn remove(&self, topic: &K, ids: &[u64]) {
        let mut topics = self.lock();
        if let Some(subscribers) = topics.get_mut(topic) {
            let kept: Vec<Subscriber<T>> = subscribers
                .iter()
                .filter(|s| !ids.contains(&s.id))
                .cloned()
                .collect();
            if kept.is_empty() {
                topics.remove(topic);
            } else {
                *subscribers = kept.into();
            }
        }
    }
}

impl<K, T> Default for EventBus<K, T>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    T: Send + 'static,
{
    fn default() -> Self {
        EventBus::new()
    }
}

impl<K, T> Clone for EventBus<K, T> {
    fn clone(&self) -> Self {
        EventBus {
            inner: self.inner.clone(),
        }
    }
}

impl<K, T> fmt::Debug for EventBus<K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let topics = self.inner.lock();
        let subscribers: usize = topics.values().map(|s| s.len()).sum();
        f.debug_struct("EventBus")
            .field("topics", &topics.len())
            .field("subscribers", &subscribers)
            .finish_non_exhaustive()
    }
}

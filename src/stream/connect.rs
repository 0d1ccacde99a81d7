//! `connect`: feed a source into sinks, with backpressure and close propagation.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::poll_fn;
use std::mem;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use async_io::Timer;

use crate::deferred::Realizer;
use crate::{Deferred, Error, runtime};

use super::graph::Node;
use super::sink::Sink;
use super::source::Source;

/// How [`connect`] joins a source to a sink.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::stream::ConnectOptions;
///
/// let options = ConnectOptions::new()
///     .upstream(true)
///     .timeout(Duration::from_secs(1))
///     .description("orders to audit log");
/// assert!(options.is_downstream() && options.is_upstream());
/// ```
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    pub(crate) downstream: bool,
    pub(crate) upstream: bool,
    pub(crate) timeout: Option<Duration>,
    pub(crate) description: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            downstream: true,
            upstream: false,
            timeout: None,
            description: None,
        }
    }
}

impl ConnectOptions {
    /// The defaults: `downstream` on, `upstream` off, no timeout, no description.
    pub fn new() -> Self {
        ConnectOptions::default()
    }

    /// Close the sink when the source is drained (default true).
    pub fn downstream(mut self, downstream: bool) -> Self {
        self.downstream = downstream;
        self
    }

    /// Close the source as soon as the sink closes, even if other sinks remain (default false:
    /// the source is closed only when no sink remains). weir notices the sink closing when it
    /// happens, not at the next message.
    pub fn upstream(mut self, upstream: bool) -> Self {
        self.upstream = upstream;
        self
    }

    /// A sink that does not accept a message within `timeout` is closed and detached, so one
    /// slow sink cannot stall the others (default: wait as long as it takes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// A description of the connection, shown on its edge in the stream graph.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Whether the sink closes when the source is drained.
    pub fn is_downstream(&self) -> bool {
        self.downstream
    }

    /// Whether the source closes when the sink closes.
    pub fn is_upstream(&self) -> bool {
        self.upstream
    }
}

/// Feeds every message of `source` into `sink` until the source is drained, with backpressure:
/// Manifold's `connect`.
///
/// The messages need not be `Clone`: `connect` joins one sink to a source. To send every
/// message of one source to several sinks, connect them with [`connect_fan_out`] (which needs
/// `Clone` messages); a second plain `connect` of a source that was not connected with
/// `connect_fan_out` fails, with an error that names it. The work runs as one task per source,
/// on the current executor (see [`runtime`](crate::runtime)).
///
/// When the source is drained, the sink is closed (unless `downstream(false)`), with the
/// source's drain cause if it ended with an error ([`Sink::close_with_cause`]), so an error
/// travels down a chain of connections. When the sink closes, even while a message waits for it,
/// it is detached; the source is closed when no sink remains, or at once with `upstream(true)`.
///
/// The returned deferred is realized when this sink's connection ends: `Ok(())` when the source
/// drained cleanly or the sink closed, the source's drain cause if it ended with an error, a
/// timeout error if the sink was cut off.
///
/// # Examples
///
/// ```
/// use weir::stream::{self, Channel, ConnectOptions};
///
/// # weir::runtime::block_on(async {
/// struct Job(u32); // not Clone
///
/// let source = Channel::new(4);
/// let sink = Channel::new(4);
/// let done = stream::connect(source.clone(), sink.clone(), ConnectOptions::new());
/// source.put(Job(1)).await.unwrap();
/// source.close();
/// assert_eq!(sink.take_next().await.map(|job| job.0), Some(1));
/// done.await.unwrap();
/// assert!(sink.take_next().await.is_none(), "the sink was closed when the source drained");
/// # });
/// ```
pub fn connect<S, K>(source: S, sink: K, options: ConnectOptions) -> Deferred<(), Error>
where
    S: Source + 'static,
    S::Item: Send + 'static,
    K: Sink<S::Item> + 'static,
{
    start(source, sink, options, None)
}

/// [`connect`] for a source that feeds several sinks: every message is cloned to each of them.
///
/// A source connected once more while it already feeds a sink fans out, which needs `Clone`
/// messages: connect the additional sinks with `connect_fan_out` (once one connection of a
/// source was made this way, plain [`connect`] calls can join it too). A second plain
/// `connect` of a source whose messages are not known to be `Clone` fails: its deferred is
/// realized with an error saying so, and the sink is left as it was.
///
/// # Examples
///
/// ```
/// use weir::stream::{self, Channel, ConnectOptions};
///
/// # weir::runtime::block_on(async {
/// let source = Channel::new(4);
/// let (a, b) = (Channel::new(4), Channel::new(4));
/// stream::connect_fan_out(source.clone(), a.clone(), ConnectOptions::new());
/// stream::connect_fan_out(source.clone(), b.clone(), ConnectOptions::new());
/// source.put("hello").await.unwrap();
/// assert_eq!((a.take_next().await, b.take_next().await), (Some("hello"), Some("hello")));
/// # source.close();
/// # });
/// ```
pub fn connect_fan_out<S, K>(source: S, sink: K, options: ConnectOptions) -> Deferred<(), Error>
where
    S: Source + 'static,
    S::Item: Clone + Send + 'static,
    K: Sink<S::Item> + 'static,
{
    start(source, sink, options, Some(<S::Item as Clone>::clone))
}

/// How a fan-out copies a message to each sink.
type CloneFn<T> = fn(&T) -> T;

/// Connect tasks alive now.
static LIVE_CONNECTIONS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many connect tasks are alive now: a test hook for leak tests.
#[doc(hidden)]
pub fn live_connections() -> usize {
    LIVE_CONNECTIONS.load(Ordering::SeqCst)
}

/// Counts one live connect task for as long as it exists.
struct LiveTask;

impl LiveTask {
    fn new() -> Self {
        LIVE_CONNECTIONS.fetch_add(1, Ordering::SeqCst);
        LiveTask
    }
}

impl Drop for LiveTask {
    fn drop(&mut self) {
        LIVE_CONNECTIONS.fetch_sub(1, Ordering::SeqCst);
    }
}

fn start<S, K>(
    mut source: S,
    mut sink: K,
    options: ConnectOptions,
    clone: Option<CloneFn<S::Item>>,
) -> Deferred<(), Error>
where
    S: Source + 'static,
    S::Item: Send + 'static,
    K: Sink<S::Item> + 'static,
{
    // The connection only takes from the source and only puts into the sink.
    source.release_put_role();
    sink.release_take_role();
    let node = source.node();
    let done = Deferred::new();
    let sink_node = sink.node();
    node.link(options.description.clone(), &sink_node);
    let downstream = Downstream {
        sink: Box::pin(sink),
        node: sink_node,
        options,
        done: done.realizer(),
        timer: None,
    };
    node.with_connector_slot(|slot| match slot {
        Some(slot) => {
            let mut current = slot
                .connector
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            join_or_spawn(&mut current, source, &node, downstream, clone, &done);
        }
        None => {
            // A vertex of the user's own: a shared map, swept when it doubles.
            let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
            if registry.entries.len() >= registry.sweep_at {
                registry
                    .entries
                    .retain(|_, connector| connector.strong_count() > 0);
                registry.sweep_at = (registry.entries.len() * 2).max(64);
            }
            let current = registry.entries.entry(node.id()).or_insert_with(|| {
                let none: Weak<dyn Any + Send + Sync> = Weak::<Connector<S::Item>>::new();
                none
            });
            let mut slot = Some(current.clone());
            join_or_spawn(&mut slot, source, &node, downstream, clone, &done);
            if let Some(weak) = slot {
                *current = weak;
            }
        }
    });
    done
}

/// Hands `downstream` to the running connection of the source in `current`, or starts one (and
/// records it in `current`).
fn join_or_spawn<S>(
    current: &mut Option<Weak<dyn Any + Send + Sync>>,
    source: S,
    node: &Node,
    downstream: Downstream<S::Item>,
    clone: Option<CloneFn<S::Item>>,
    done: &Deferred<(), Error>,
) where
    S: Source + 'static,
    S::Item: Send + 'static,
{
    let existing = current
        .as_ref()
        .and_then(Weak::upgrade)
        .and_then(|any| any.downcast::<Connector<S::Item>>().ok());
    let downstream = match existing {
        Some(connector) => match connector.add(downstream, clone) {
            Added::Joined => return,
            Added::NotClone(downstream) => {
                node.unlink(&downstream.node);
                drop(downstream);
                let _ = done.try_realize(Err(Error::msg(
                    "connect: this source already feeds a sink, and fanning out needs Clone \
                     messages: connect the sinks with `stream::connect_fan_out`",
                )));
                return;
            }
            // That connection just finished; start a new one (it will find the source drained).
            Added::Finished(downstream) => downstream,
        },
        None => downstream,
    };
    let connector = Arc::new(Connector {
        incoming: Mutex::new(Incoming {
            sinks: Vec::new(),
            finished: false,
            waker: None,
            clone,
        }),
        has_incoming: AtomicBool::new(false),
    });
    let shared: Arc<dyn Any + Send + Sync> = connector.clone();
    *current = Some(Arc::downgrade(&shared));
    let live = LiveTask::new();
    runtime::spawn_detached(propagate(
        connector,
        shared,
        live,
        source,
        node.clone(),
        downstream,
    ));
}

/// The live connections of sources whose vertex keeps no [`ConnectorSlot`]
/// (super::graph::ConnectorSlot), by the graph node of their source.
static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| {
    Mutex::new(Registry {
        entries: HashMap::new(),
        sweep_at: 64,
    })
});

struct Registry {
    entries: HashMap<usize, Weak<dyn Any + Send + Sync>>,
    sweep_at: usize,
}

struct Connector<T> {
    incoming: Mutex<Incoming<T>>,
    /// Set while `incoming.sinks` is not empty, so the loop need not lock per message.
    has_incoming: AtomicBool,
}

struct Incoming<T> {
    sinks: Vec<Downstream<T>>,
    finished: bool,
    waker: Option<Waker>,
    /// How to copy a message to several sinks, once a `connect_fan_out` said.
    clone: Option<fn(&T) -> T>,
}

/// What became of a sink handed to a running connection.
enum Added<T> {
    Joined,
    /// The connection has finished: start a new one.
    Finished(Downstream<T>),
    /// Fanning out needs a way to clone the messages, and none was given.
    NotClone(Downstream<T>),
}

impl<T> Connector<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Incoming<T>> {
        self.incoming.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves sinks that joined into `sinks`, and the clone function if one came.
    fn take_incoming(&self, sinks: &mut Vec<Downstream<T>>, clone: &mut Option<fn(&T) -> T>) {
        if self.has_incoming.load(Ordering::Acquire) {
            let mut incoming = self.lock();
            self.has_incoming.store(false, Ordering::Release);
            sinks.append(&mut incoming.sinks);
            *clone = incoming.clone;
        }
    }

    /// Hands a sink to the running task, or back if the task has finished or cannot fan out.
    fn add(&self, downstream: Downstream<T>, clone: Option<fn(&T) -> T>) -> Added<T> {
        let mut incoming = self.lock();
        if incoming.finished {
            return Added::Finished(downstream);
        }
        if incoming.clone.is_none() {
            match clone {
                Some(clone) => incoming.clone = Some(clone),
                None => return Added::NotClone(downstream),
            }
        }
        incoming.sinks.push(downstream);
        self.has_incoming.store(true, Ordering::Release);
        if let Some(waker) = incoming.waker.take() {
            waker.wake();
        }
        Added::Joined
    }
}

struct Downstream<T> {
    sink: Pin<Box<dyn Sink<T>>>,
    node: Node,
    options: ConnectOptions,
    done: Realizer<(), Error>,
    timer: Option<Timer>,
}

/// How one sink fared with one message.
enum Step<T> {
    Send(T),
    Flush,
    Accepted,
    Closed,
    TimedOut,
}

enum Event {
    /// Messages are in the batch.
    Messages,
    Drained,
    SinkClosed(usize),
    NewSinks,
}

/// The most messages moved to a single sink in one go.
const MAX_BATCH: usize = 256;

async fn propagate<S, T>(
    connector: Arc<Connector<T>>,
    // Keeps the fan-out slot's entry alive as long as the task runs.
    _shared: Arc<dyn Any + Send + Sync>,
    _live: LiveTask,
    source: S,
    source_node: Node,
    first: Downstream<T>,
) where
    S: Source<Item = T>,
    T: Send + 'static,
{
    let mut source = Box::pin(source);
    let mut clone = None;
    let mut sinks = vec![first];
    let mut steps: Vec<Step<T>> = Vec::new();
    let mut batch: Vec<T> = Vec::new();
    let mut run: VecDeque<T> = VecDeque::new();
    loop {
        connector.take_incoming(&mut sinks, &mut clone);
        if sinks.is_empty() {
            source.close();
            break;
        }
        // One sink: take as many messages as it can accept at once. Several: one at a time, so
        // that the next message is taken only once every sink accepted the last.
        let limit = match sinks.as_slice() {
            [only] => only.sink.room().min(MAX_BATCH),
            _ => 1,
        };
        let event = poll_fn(|cx| {
            // Sinks that joined since the top of the loop take part from the next message on.
            if connector.has_incoming.load(Ordering::Acquire) {
                return Poll::Ready(Event::NewSinks);
            }
            match source.as_mut().poll_next_batch(cx, limit, &mut batch) {
                Poll::Ready(true) => return Poll::Ready(Event::Messages),
                Poll::Ready(false) => return Poll::Ready(Event::Drained),
                Poll::Pending => {}
            }
            // About to sleep: watch for new sinks and for sinks closing.
            {
                let mut incoming = connector.lock();
                if !incoming.sinks.is_empty() {
                    return Poll::Ready(Event::NewSinks);
                }
                match &incoming.waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => incoming.waker = Some(cx.waker().clone()),
                }
            }
            for (index, downstream) in sinks.iter_mut().enumerate() {
                if downstream.sink.as_mut().poll_closed(cx).is_ready() {
                    return Poll::Ready(Event::SinkClosed(index));
                }
            }
            Poll::Pending
        })
        .await;
        if matches!(event, Event::Messages) {
            // A sink connected before these messages were put must receive them too.
            connector.take_incoming(&mut sinks, &mut clone);
        }
        match event {
            Event::NewSinks => {}
            Event::SinkClosed(index) => {
                let downstream = sinks.swap_remove(index);
                settle(&downstream, Step::Closed, &source, &source_node);
            }
            Event::Messages if sinks.len() == 1 => {
                run.extend(batch.drain(..));
                let mut more = |cx: &mut Context<'_>, room: usize, run: &mut VecDeque<T>| {
                    // Sinks that joined since must see what is taken from now on: no top-up.
                    if connector.has_incoming.load(Ordering::Acquire) {
                        return;
                    }
                    if let Poll::Ready(true) =
                        source
                            .as_mut()
                            .poll_next_batch(cx, room.min(MAX_BATCH), &mut batch)
                    {
                        run.extend(batch.drain(..));
                    }
                };
                let step = deliver_run(&mut sinks[0], &mut run, &mut more).await;
                run.clear();
                if matches!(step, Step::Closed | Step::TimedOut) {
                    let downstream = sinks.swap_remove(0);
                    settle(&downstream, step, &source, &source_node);
                }
            }
            Event::Messages => {
                // Several sinks only join through `connect_fan_out`, which brings `clone`.
                let Some(clone) = clone else {
                    unreachable!("a fan-out without a clone function")
                };
                for message in batch.drain(..) {
                    deliver(&mut sinks, &mut steps, message, clone).await;
                    let mut index = 0;
                    while index < sinks.len() {
                        if matches!(steps[index], Step::Closed | Step::TimedOut) {
                            let step = steps.swap_remove(index);
                            let downstream = sinks.swap_remove(index);
                            settle(&downstream, step, &source, &source_node);
                        } else {
                            index += 1;
                        }
                    }
                }
            }
            Event::Drained => {
                let outcome = match source.drained().peek() {
                    Some(outcome) => outcome,
                    // A channel refused the take: too many others wait on it.
                    None if source.description().pending_takes >= super::MAX_PENDING_TAKES => {
                        Err(Error::msg(format!(
                            "connect: the source refused the take ({} takes already wait)",
                            super::MAX_PENDING_TAKES
                        )))
                    }
                    None => Ok(()),
                };
                finish(&connector, &mut sinks, &source_node, outcome).await;
                return;
            }
        }
    }
    let outcome = Ok(());
    finish(&connector, &mut sinks, &source_node, outcome).await;
}

/// Ends the connection of a sink that closed or timed out.
fn settle<S: Source + ?Sized, T>(
    downstream: &Downstream<T>,
    step: Step<T>,
    source: &Pin<Box<S>>,
    source_node: &Node,
) {
    let outcome = match step {
        Step::TimedOut => {
            if downstream.options.downstream {
                downstream.sink.close_now();
            }
            Err(Error::timed_out(
                downstream.options.timeout.unwrap_or_default(),
            ))
        }
        _ => Ok(()),
    };
    detach(source_node, downstream, outcome);
    if downstream.options.upstream {
        source.close();
    }
}

/// Hands a run of messages to a single sink and waits until it accepted them all, closed, or
/// timed out.
///
/// Before it waits for the sink to flush, it tops the run up with whatever the source has
/// ready at once (`more`, given the sink's room), as long as the sink has room: a sink whose
/// flush means "written to the network" (a socket's) then gets every message that arrived
/// together in one write, rather than one write and one acknowledgement each. Backpressure
/// is unchanged: nothing is sent beyond the sink's room.
async fn deliver_run<T>(
    downstream: &mut Downstream<T>,
    run: &mut VecDeque<T>,
    more: &mut (dyn FnMut(&mut Context<'_>, usize, &mut VecDeque<T>) + Send),
) -> Step<T> {
    downstream.timer = None;
    let mut flushing = false;
    poll_fn(|cx| {
        loop {
            let poll = if flushing {
                downstream.sink.as_mut().poll_flush(cx)
            } else {
                downstream.sink.as_mut().poll_ready(cx)
            };
            match poll {
                Poll::Ready(Err(_)) => return Poll::Ready(Step::Closed),
                Poll::Ready(Ok(())) if flushing => return Poll::Ready(Step::Accepted),
                Poll::Ready(Ok(())) => {
                    if downstream.sink.as_mut().start_send_all(run).is_err() {
                        return Poll::Ready(Step::Closed);
                    }
                    if run.is_empty() && downstream.sink.room() > 1 {
                        more(cx, downstream.sink.room(), run);
                    }
                    // A sink that takes one message at a time comes back for the next.
                    flushing = run.is_empty();
                }
                Poll::Pending => {
                    // A sink that closes while we wait is done with, whatever it still holds.
                    let mut step = Step::Flush;
                    return match wait_or_time_out(downstream, &mut step, cx) {
                        Poll::Ready(()) => Poll::Ready(step),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    })
    .await
}

/// Offers `message` to every sink at once and waits until each has accepted it, closed, or
/// timed out; `steps[i]` says how sink `i` fared.
async fn deliver<T>(
    sinks: &mut [Downstream<T>],
    steps: &mut Vec<Step<T>>,
    message: T,
    clone: fn(&T) -> T,
) {
    steps.clear();
    if let Some((_, rest)) = sinks.split_last() {
        steps.extend(rest.iter().map(|_| Step::Send(clone(&message))));
        steps.push(Step::Send(message));
    }
    for downstream in sinks.iter_mut() {
        downstream.timer = None;
    }
    poll_fn(|cx| {
        let mut waiting = false;
        for (downstream, step) in sinks.iter_mut().zip(steps.iter_mut()) {
            if advance(downstream, step, cx).is_pending() {
                waiting = true;
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
}

/// Moves one sink as far as it goes with its message.
fn advance<T>(
    downstream: &mut Downstream<T>,
    step: &mut Step<T>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    loop {
        match mem::replace(step, Step::Accepted) {
            Step::Send(message) => match downstream.sink.as_mut().poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    *step = match downstream.sink.as_mut().start_send(message) {
                        Ok(()) => Step::Flush,
                        Err(_) => Step::Closed,
                    };
                }
                Poll::Ready(Err(_)) => *step = Step::Closed,
                Poll::Pending => {
                    *step = Step::Send(message);
                    return wait_or_time_out(downstream, step, cx);
                }
            },
            Step::Flush => match downstream.sink.as_mut().poll_flush(cx) {
                Poll::Ready(Ok(())) => return Poll::Ready(()),
                Poll::Ready(Err(_)) => *step = Step::Closed,
                Poll::Pending => {
                    *step = Step::Flush;
                    return wait_or_time_out(downstream, step, cx);
                }
            },
            done @ (Step::Accepted | Step::Closed | Step::TimedOut) => {
                *step = done;
                return Poll::Ready(());
            }
        }
    }
}

/// Waiting for one sink in a fan-out: done if it closed or timed out meanwhile.
fn wait_or_time_out<T>(
    downstream: &mut Downstream<T>,
    step: &mut Step<T>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    if downstream.sink.as_mut().poll_closed(cx).is_ready() {
        *step = Step::Closed;
        return Poll::Ready(());
    }
    let Some(timeout) = downstream.options.timeout else {
        return Poll::Pending;
    };
    let timer = downstream
        .timer
        .get_or_insert_with(|| Timer::after(timeout));
    match Pin::new(timer).poll(cx) {
        Poll::Ready(_) => {
            *step = Step::TimedOut;
            Poll::Ready(())
        }
        Poll::Pending => Poll::Pending,
    }
}

fn detach<T>(source_node: &Node, downstream: &Downstream<T>, outcome: Result<(), Error>) {
    source_node.unlink(&downstream.node);
    let _ = downstream.done.try_realize(outcome);
}

/// The source is drained (or has no sink left): close the sinks that want it and end every
/// connection, including any that joined at the last moment.
async fn finish<T>(
    connector: &Connector<T>,
    sinks: &mut Vec<Downstream<T>>,
    source_node: &Node,
    outcome: Result<(), Error>,
) {
    {
        let mut incoming = connector.lock();
        incoming.finished = true;
        sinks.append(&mut incoming.sinks);
    }
    for mut downstream in sinks.drain(..) {
        if downstream.options.downstream {
            match &outcome {
                // The sink ends the way the source did, so the cause travels down the graph.
                Err(cause) => downstream.sink.close_with_cause(cause.clone()),
                Ok(()) => {
                    let closed = poll_fn(|cx| downstream.sink.as_mut().poll_close(cx)).await;
                    if closed.is_err() {
                        downstream.sink.close_now();
                    }
                }
            }
        }
        detach(source_node, &downstream, outcome.clone());
    }
}

impl<T> fmt::Debug for Connector<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector").finish_non_exhaustive()
    }
}

//! The `Deferred` handle: create, realize, listen, await, wait.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use futures_core::FusedFuture;

use crate::Error;
use crate::sync::Arc;

use super::cell::{Cell, NO_WAKER, Read, View, listener, release};
use super::trampoline;
use super::{AlreadyRealized, Realizer, WaitTimeout};

/// A one-shot asynchronous value, realized once with a value or an error: Manifold's deferred.
///
/// A deferred is a handle: [`success`](Deferred::success) or [`error`](Deferred::error) realize
/// it (the first call wins), and awaiting it, [`wait`](Deferred::wait) or
/// [`on_realized`](Deferred::on_realized) read the outcome.
///
/// # Sharing and ownership
///
/// Whether a deferred can be shared is visible in its type:
///
/// - `Deferred<T, E>` is [`Clone`] only when `T: Clone` and `E: Clone`. Every clone is a listener:
///   awaiting it (it is a [`Future`] of `Result<T, E>`) or registering a callback gives that
///   listener its own copy of the outcome.
/// - A deferred of a value that cannot be cloned (a connection, say) has exactly one listener,
///   its single owner, which receives the value by move: awaiting `Deferred<TcpStream>` needs no
///   `Clone`. Code that realizes it without owning it holds a [`Realizer`], which can realize and
///   watch but never reads.
///
/// The last listener always receives the value by move, so a shared deferred clones once per
/// extra listener, never more.
///
/// # Spent handles
///
/// A handle that yielded its outcome (awaited or polled to `Ready`, through `&mut` so that the
/// handle outlives it) is *spent*: it is no listener any more. The rule does not depend on what
/// other listeners did, or whether the value was moved or cloned to it: polling a spent handle
/// again, cloning it or listening through it (`on_realized`, `wait`, a combinator) panics, like an
/// `async fn` resumed after completion, and [`FusedFuture::is_terminated`] tells it apart
/// beforehand. Realizing through it, [`is_realized`](Deferred::is_realized) and
/// [`realizer`](Deferred::realizer) still work. Clone a deferred *before* awaiting it to keep
/// listening; the consuming methods (`.await` on the handle itself, `wait`, `on_realized`) cannot
/// leave a spent handle behind at all.
///
/// ```
/// use futures::future::FusedFuture;
///
/// # weir::runtime::block_on(async {
/// let mut d: weir::Deferred<u32> = weir::Deferred::succeeded(1);
/// let keep = d.clone();
/// assert_eq!((&mut d).await.unwrap(), 1);
/// assert!(d.is_terminated(), "spent, although `keep` still listens");
/// assert!(d.is_realized(), "state queries still work");
/// assert_eq!(keep.await.unwrap(), 1);
/// # });
/// ```
///
/// # Cancellation
///
/// Realizing a deferred with an error is how a user cancels the work behind it: work started by
/// [`Deferred::spawn`], [`then`](Deferred::then), [`loop_fn`](super::loop_fn) and (later) the
/// network adapters stops when its deferred is realized by someone else. Dropping a deferred does
/// not cancel anything.
///
/// # Errors nobody saw
///
/// A deferred dropped holding an error that no listener observed logs a warning; see
/// [`set_dropped_error_logging`](super::set_dropped_error_logging).
///
/// # Examples
///
/// ```
/// use weir::Deferred;
///
/// # weir::runtime::block_on(async {
/// let d: Deferred<u32> = Deferred::new();
/// let listener = d.clone();
/// assert!(d.success(42));
/// assert!(!d.success(7), "only the first realization counts");
/// assert_eq!(listener.await.unwrap(), 42);
/// assert_eq!(d.await.unwrap(), 42);
/// # });
/// ```
pub struct Deferred<T, E = Error> {
    /// `None` while a consuming method hands the reader over (see `into_cell`), and once a
    /// spent handle was the last to hold the cell: it took the value and the cell went away
    /// (the single-listener fast path, see `poll`).
    cell: Option<Arc<Cell<T, E>>>,
    waker_key: usize,
    /// Set once this handle yielded its outcome (see "Spent handles"); it is no reader any more.
    spent: bool,
    /// Whether the outcome this spent handle yielded was an error: how it answers once its cell
    /// is gone.
    spent_error: bool,
}

impl<T, E> Deferred<T, E> {
    /// A new, unrealized deferred.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<&str> = weir::Deferred::new();
    /// assert!(!d.is_realized());
    /// ```
    pub fn new() -> Self {
        Deferred::from_cell(Cell::pending())
    }

    /// A deferred already realized with `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u8> = weir::Deferred::succeeded(1);
    /// assert!(d.is_success());
    /// assert_eq!(d.wait().unwrap(), 1);
    /// ```
    pub fn succeeded(value: T) -> Self {
        Deferred::from_cell(Cell::realized(Ok(value)))
    }

    /// A deferred already realized with `error`.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u8> = weir::Deferred::failed(weir::Error::cancelled());
    /// assert!(d.is_error());
    /// assert!(d.wait().unwrap_err().is_cancelled());
    /// ```
    pub fn failed(error: E) -> Self {
        Deferred::from_cell(Cell::realized(Err(error)))
    }

    fn from_cell(cell: Cell<T, E>) -> Self {
        Deferred {
            cell: Some(Arc::new(cell)),
            waker_key: NO_WAKER,
            spent: false,
            spent_error: false,
        }
    }

    /// This deferred never logs the dropped-error warning: for weir's own records of how a
    /// stream ended, which report an error to whoever asks but are not a failure nobody saw.
    pub(crate) fn quiet(self) -> Self {
        self.cell().mark_observed();
        self
    }

    /// The cell of a live handle.
    pub(crate) fn cell(&self) -> &Arc<Cell<T, E>> {
        match &self.cell {
            Some(cell) => cell,
            None => unreachable!("a deferred handle is used after it was consumed"),
        }
    }

    /// The cell, or for a spent handle that was the last to hold it, a stand-in in the state it
    /// was left in (realized, value taken): what the queries that still work on spent handles
    /// read.
    fn cell_or_spent(&self) -> Option<&Arc<Cell<T, E>>> {
        self.cell.as_ref()
    }

    /// Consumes the handle, passing its reader on to the caller (no reader count changes).
    fn into_cell(mut self) -> Arc<Cell<T, E>> {
        self.assert_live();
        let cell = match self.cell.take() {
            Some(cell) => cell,
            None => unreachable!("a deferred handle is consumed twice"),
        };
        cell.forget_waker(self.waker_key);
        cell
    }

    /// The one rule for spent handles, whatever the other listeners did.
    #[track_caller]
    fn assert_live(&self) {
        if self.spent {
            panic!("{SPENT}");
        }
    }

    /// Realizes with a value. Returns true if this call realized it, false (changing nothing) if
    /// it was already realized.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u32> = weir::Deferred::new();
    /// assert!(d.success(1));
    /// assert!(!d.error(weir::Error::cancelled()));
    /// assert_eq!(d.wait().unwrap(), 1);
    /// ```
    pub fn success(&self, value: T) -> bool {
        self.realize(Ok(value)).is_ok()
    }

    fn realize(&self, result: Result<T, E>) -> Result<(), Result<T, E>> {
        match self.cell_or_spent() {
            Some(cell) => cell.realize(result),
            // The cell went away realized.
            None => Err(result),
        }
    }

    /// Realizes with an error. Returns true if this call realized it. Realizing with an error is
    /// how a user cancels the work behind a deferred.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u32> = weir::Deferred::new();
    /// assert!(d.error(weir::Error::cancelled()));
    /// assert!(d.wait().unwrap_err().is_cancelled());
    /// ```
    pub fn error(&self, error: E) -> bool {
        self.realize(Err(error)).is_ok()
    }

    /// Realizes with a result; returns it back if the deferred was already realized.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<Vec<u8>> = weir::Deferred::new();
    /// d.try_realize(Ok(vec![1])).unwrap();
    /// let back = d.try_realize(Ok(vec![2])).unwrap_err().into_inner();
    /// assert_eq!(back.unwrap(), vec![2]);
    /// ```
    pub fn try_realize(&self, result: Result<T, E>) -> Result<(), AlreadyRealized<T, E>> {
        self.realize(result).map_err(AlreadyRealized)
    }

    /// A handle that can realize this deferred (and watch it) but never reads it: what a producer
    /// keeps when the value is not `Clone`.
    ///
    /// # Examples
    ///
    /// ```
    /// struct Connection; // not Clone
    ///
    /// let d: weir::Deferred<Connection> = weir::Deferred::new();
    /// let realizer = d.realizer();
    /// std::thread::spawn(move || realizer.success(Connection));
    /// let _connection: Connection = d.wait().unwrap();
    /// ```
    pub fn realizer(&self) -> Realizer<T, E> {
        match self.cell_or_spent() {
            Some(cell) => Realizer::from_cell(cell.clone()),
            None => Realizer::from_cell(Arc::new(Cell::taken(self.spent_error))),
        }
    }

    /// True once realized, with a value or an error. Never blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<()> = weir::Deferred::new();
    /// assert!(!d.is_realized());
    /// d.success(());
    /// assert!(d.is_realized());
    /// ```
    pub fn is_realized(&self) -> bool {
        self.cell_or_spent().is_none_or(|cell| cell.is_realized())
    }

    /// `None` while pending, otherwise whether it holds (or held) an error.
    fn outcome(&self) -> Option<bool> {
        match self.cell_or_spent() {
            Some(cell) => cell.outcome(),
            None => Some(self.spent_error),
        }
    }

    /// True once realized with a value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::Deferred::<u8>::succeeded(1).is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        self.outcome() == Some(false)
    }

    /// True once realized with an error. (This does not count as observing the error.)
    ///
    /// # Examples
    ///
    /// ```
    /// let d = weir::Deferred::<u8>::failed(weir::Error::cancelled());
    /// assert!(d.is_error());
    /// # weir::deferred::set_dropped_error_logging(false);
    /// ```
    pub fn is_error(&self) -> bool {
        self.outcome() == Some(true)
    }

    /// Registers a callback that receives the outcome, consuming this handle (clone it first to
    /// keep listening). The callback runs on the thread that realizes the deferred, or at once on
    /// this thread if it is already realized. A panic in the callback is caught and logged: it
    /// never reaches whoever realized the deferred, and the deferred stays usable.
    ///
    /// Callbacks are stack-safe: one registered or realized *inside* another callback is queued
    /// and runs right after the running one returns (before the outermost realization returns),
    /// so chains of any depth never grow the stack.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let d: weir::Deferred<u32> = weir::Deferred::new();
    /// let (tx, rx) = mpsc::channel();
    /// d.clone().on_realized(move |outcome| tx.send(outcome.unwrap()).unwrap());
    /// d.success(5);
    /// assert_eq!(rx.recv().unwrap(), 5);
    /// ```
    pub fn on_realized<F>(self, callback: F)
    where
        T: 'static,
        E: 'static,
        F: FnOnce(Result<T, E>) + Send + 'static,
    {
        let cell = self.into_cell();
        cell.add_callback(listener(callback));
        release(cell);
    }

    /// Blocks this thread until the deferred is realized, for synchronous code. Never call it
    /// from inside an async task: use `.await` there.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u32> = weir::Deferred::new();
    /// let realizer = d.realizer();
    /// std::thread::spawn(move || realizer.success(3));
    /// assert_eq!(d.wait().unwrap(), 3);
    /// ```
    pub fn wait(self) -> Result<T, E> {
        match self.block(None) {
            Ok(result) => result,
            Err(_) => unreachable!("a wait without a deadline cannot time out"),
        }
    }

    /// Like [`wait`](Deferred::wait), but gives up after `timeout` and hands the deferred back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let d: weir::Deferred<u32> = weir::Deferred::new();
    /// let d = d.wait_timeout(Duration::from_millis(5)).unwrap_err().into_inner();
    /// d.success(1);
    /// assert_eq!(d.wait_timeout(Duration::from_secs(1)).unwrap().unwrap(), 1);
    /// ```
    pub fn wait_timeout(self, timeout: Duration) -> Result<Result<T, E>, WaitTimeout<T, E>> {
        self.block(Some(Instant::now() + timeout))
    }

    fn block(mut self, deadline: Option<Instant>) -> Result<Result<T, E>, WaitTimeout<T, E>> {
        let (parker, unparker) = parking::pair();
        let waker = Waker::from(StdArc::new(Unpark(unparker)));
        let mut cx = Context::from_waker(&waker);
        loop {
            // Inside a callback, what this wait depends on may be queued behind it: run it.
            trampoline::drain();
            if let Poll::Ready(result) = Pin::new(&mut self).poll(&mut cx) {
                return Ok(result);
            }
            match deadline {
                None => parker.park(),
                Some(deadline) => {
                    if !parker.park_deadline(deadline) && Instant::now() >= deadline {
                        return Err(WaitTimeout(self));
                    }
                }
            }
        }
    }
}

impl<T: Clone, E: Clone> Deferred<T, E> {
    /// The outcome if realized, without waiting. Counts as observing an error.
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<u32> = weir::Deferred::new();
    /// assert!(d.peek().is_none());
    /// d.success(9);
    /// assert_eq!(d.peek().unwrap().unwrap(), 9);
    /// ```
    pub fn peek(&self) -> Option<Result<T, E>> {
        let cell = self.cell_or_spent()?;
        cell.inspect(|view| match view {
            View::Realized(outcome) => {
                cell.mark_observed();
                Some(outcome.clone())
            }
            View::Pending | View::Taken => None,
        })
    }
}

impl<T, E> Default for Deferred<T, E> {
    fn default() -> Self {
        Deferred::new()
    }
}

impl<T, E> From<Result<T, E>> for Deferred<T, E> {
    fn from(result: Result<T, E>) -> Self {
        Deferred::from_cell(Cell::realized(result))
    }
}

/// Each clone is another listener.
///
/// # Panics
///
/// Cloning a [spent](Deferred#spent-handles) handle panics, always.
impl<T: Clone, E: Clone> Clone for Deferred<T, E> {
    #[track_caller]
    fn clone(&self) -> Self {
        self.assert_live();
        let cell = self.cell();
        cell.add_reader(Clone::clone);
        Deferred {
            cell: Some(cell.clone()),
            waker_key: NO_WAKER,
            spent: false,
            spent_error: false,
        }
    }
}

impl<T, E> Drop for Deferred<T, E> {
    fn drop(&mut self) {
        if let Some(cell) = self.cell.take() {
            cell.forget_waker(self.waker_key);
            if !self.spent {
                cell.drop_reader();
            }
            release(cell);
        }
    }
}

const SPENT: &str = "a spent Deferred (one that already yielded its outcome) was polled, cloned \
                     or listened to again; clone the deferred before awaiting it to keep a \
                     listener, and check `FusedFuture::is_terminated` before polling in a loop";

/// Awaiting a deferred yields its outcome: by move for the last listener, as a clone otherwise.
/// The handle is then [spent](Deferred#spent-handles): it stops counting as a listener at once
/// (so the last listener still waiting gets the value by move), and
/// [`is_terminated`](FusedFuture::is_terminated) says so.
///
/// # Panics
///
/// Polling a spent handle panics, always, like an `async fn` resumed after completion.
impl<T, E> Future for Deferred<T, E> {
    type Output = Result<T, E>;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.assert_live();
        match Cell::poll_take(&mut this.cell, cx, &mut this.waker_key) {
            Poll::Ready(Read::Value(result)) => {
                // The cell is no longer pending, so it keeps no waker of ours to forget, and
                // `poll_take` consumed our reader (and the cell itself if we held it last).
                this.spent = true;
                this.spent_error = result.is_err();
                this.waker_key = NO_WAKER;
                Poll::Ready(result)
            }
            // Unreachable while the invariants hold: a live handle is a counted reader, so no
            // other reader could have moved the value out.
            Poll::Ready(Read::Spent) => unreachable!("a live deferred handle found no value"),
            Poll::Ready(Read::Pending) | Poll::Pending => Poll::Pending,
        }
    }
}

/// True once the handle yielded its outcome: a `select!` loop skips it instead of polling it
/// again.
impl<T, E> FusedFuture for Deferred<T, E> {
    fn is_terminated(&self) -> bool {
        self.spent
    }
}

impl<T: fmt::Debug, E: fmt::Debug> fmt::Debug for Deferred<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Deferred");
        let Some(cell) = self.cell_or_spent() else {
            return s.field("state", &"taken").finish();
        };
        cell.inspect(|view| match view {
            View::Pending => s.field("state", &"pending"),
            View::Realized(Ok(value)) => s.field("value", value),
            View::Realized(Err(error)) => s.field("error", error),
            View::Taken => s.field("state", &"taken"),
        });
        s.finish()
    }
}

struct Unpark(parking::Unparker);

impl Wake for Unpark {
    fn wake(self: StdArc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.0.unpark();
    }
}

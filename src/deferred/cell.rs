//! The shared state behind every [`Deferred`](super::Deferred) and
//! [`Realizer`](super::Realizer) of one value.
//!
//! Invariants:
//! - The state moves `Pending -> Realized -> (Taken)` and never back.
//! - `readers` counts the live reader handles: `Deferred` values plus callbacks registered but
//!   not yet served. A reader that finds `readers == 1` is the only one left, so it may move the
//!   value out (`Taken`); otherwise it clones it through `cloner`, which `Deferred::clone` sets
//!   before it raises the count (a count above one implies a clone happened, and clones only exist
//!   for `T: Clone, E: Clone`).
//! - User code (callbacks, wakers) never runs while the state lock is held, except `Clone` and
//!   `Debug` of the value; a poisoned lock is recovered, so a panic there cannot wedge the cell.
//!
//! The single-listener fast path: the first waiting handle's waker has its own slot (no slab
//! allocation, no search), and a reader that finds the cell realized while it holds the only
//! reference to it (`Arc::try_unwrap`: the realizer and every other handle are gone, so no other
//! thread can touch the cell) takes the cell apart and moves the value out, without the lock,
//! without touching the reader count and freeing the cell at once. A second listener, a
//! callback or a realizer still alive sends the reader down the shared path under the lock,
//! which keeps every rule above. (`unsafe` being denied, the value always crosses through the
//! mutex: the realizer writes it under the lock, uncontended on this path.)
//!
//! The cell has no `Drop`: the last handle to let go of it ([`release`]) warns about an error
//! nobody observed.

use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::sync::{Arc, AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering, arc_into_inner};

use super::{dropped_error, trampoline};

/// A listener registered with `on_realized`: it receives the value by move. It goes through the
/// trampoline itself (see [`listener`]), so serving it never nests user code in this frame.
pub(crate) type Callback<T, E> = Box<dyn FnOnce(Result<T, E>) + Send>;

type Cloner<T, E> = fn(&Result<T, E>) -> Result<T, E>;

/// A key into the waker slab; `NO_WAKER` until a handle first waits.
pub(crate) const NO_WAKER: usize = usize::MAX;

pub(crate) struct Cell<T, E> {
    state: Mutex<State<T, E>>,
    readers: AtomicUsize,
    cloner: OnceLock<Cloner<T, E>>,
    observed: AtomicBool,
    /// Set once the state left `Pending`, so that `is_realized` needs no lock.
    realized: AtomicBool,
}

enum State<T, E> {
    Pending(Waiters<T, E>),
    Realized(Result<T, E>),
    /// The only reader moved the value out.
    Taken {
        error: bool,
    },
}

struct Waiters<T, E> {
    /// The waker of the handle with key 0, the first to wait: one listener needs no slab.
    first: Option<Waker>,
    /// Everything a second listener or a callback brings, boxed so that a cell with one
    /// listener stays small and cheap to realize.
    shared: Option<Box<Shared<T, E>>>,
}

struct Shared<T, E> {
    /// Keys 1.. (see `NO_WAKER`): a dropped handle empties its slot.
    more: Vec<Option<Waker>>,
    callbacks: Vec<Callback<T, E>>,
}

impl<T, E> Waiters<T, E> {
    const NONE: Self = Waiters {
        first: None,
        shared: None,
    };

    fn slot(&mut self, key: usize) -> Option<&mut Option<Waker>> {
        match key {
            0 => Some(&mut self.first),
            NO_WAKER => None,
            _ => self.shared.as_mut()?.more.get_mut(key - 1),
        }
    }

    fn shared(&mut self) -> &mut Shared<T, E> {
        self.shared.get_or_insert_with(Box::default)
    }
}

impl<T, E> Default for Shared<T, E> {
    fn default() -> Self {
        Shared {
            more: Vec::new(),
            callbacks: Vec::new(),
        }
    }
}

/// A look at the state, for `peek` and `Debug`.
pub(crate) enum View<'a, T, E> {
    Pending,
    Realized(&'a Result<T, E>),
    Taken,
}

/// What a reader got from a realized cell.
pub(crate) enum Read<T, E> {
    Value(Result<T, E>),
    Pending,
    /// This (only) reader already took the value.
    Spent,
}

impl<T, E> Cell<T, E> {
    pub(crate) fn pending() -> Self {
        Cell::with_state(State::Pending(Waiters::NONE))
    }

    pub(crate) fn realized(result: Result<T, E>) -> Self {
        Cell::with_state(State::Realized(result))
    }

    /// A cell whose value was taken, standing in for one that is gone (see `poll_take`).
    pub(crate) fn taken(error: bool) -> Self {
        let cell = Cell::with_state(State::Taken { error });
        cell.mark_observed();
        cell
    }

    fn with_state(state: State<T, E>) -> Self {
        let realized = !matches!(state, State::Pending(_));
        Cell {
            state: Mutex::new(state),
            readers: AtomicUsize::new(1),
            cloner: OnceLock::new(),
            observed: AtomicBool::new(false),
            realized: AtomicBool::new(realized),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T, E>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Realizes the cell, serves the callbacks (on this thread) and wakes the waiting tasks.
    /// Hands `result` back if the cell was already realized.
    pub(crate) fn realize(&self, result: Result<T, E>) -> Result<(), Result<T, E>> {
        let Waiters { first, shared } = {
            let mut state = self.lock();
            if !matches!(*state, State::Pending(_)) {
                return Err(result);
            }
            // Moved out, not dropped in place: no drop glue on this path.
            let State::Pending(waiters) = mem::replace(&mut *state, State::Realized(result)) else {
                unreachable!("the state was pending under the same lock")
            };
            self.realized.store(true, Ordering::Release);
            waiters
        };
        match shared {
            None => {
                if let Some(waker) = first {
                    waker.wake();
                }
            }
            Some(shared) => self.serve_shared(*shared, first),
        }
        Ok(())
    }

    /// The shared part of a realization: callbacks first, then the waiting tasks, in the order
    /// they came.
    #[inline(never)]
    fn serve_shared(&self, shared: Shared<T, E>, first: Option<Waker>) {
        let Shared { more, callbacks } = shared;
        if !callbacks.is_empty() {
            trampoline::batch(|| {
                for callback in callbacks {
                    self.serve(callback);
                }
            });
        }
        if let Some(waker) = first {
            waker.wake();
        }
        for waker in more.into_iter().flatten() {
            waker.wake();
        }
    }

    /// Registers a callback, which takes over one reader handle. Serves it at once, on this
    /// thread, if the cell is already realized (through the trampoline, like every callback).
    pub(crate) fn add_callback(&self, callback: Callback<T, E>) {
        {
            let mut state = self.lock();
            if let State::Pending(waiters) = &mut *state {
                waiters.shared().callbacks.push(callback);
                return;
            }
        }
        self.serve(callback);
    }

    fn serve(&self, callback: Callback<T, E>) {
        let read = self.read(&mut self.lock());
        // The callback's reader handle is consumed once it has its value.
        self.drop_reader();
        match read {
            Read::Value(result) => callback(result),
            // Unreachable while the invariants hold: the callback's own handle was counted, so
            // no other reader could have seen `readers == 1` and taken the value.
            Read::Pending | Read::Spent => {
                log::error!("weir: a deferred callback found no value to receive; it was dropped")
            }
        }
    }

    /// The value for one reader: moved out when it is the only reader, cloned otherwise.
    fn read(&self, state: &mut State<T, E>) -> Read<T, E> {
        read(state, &self.readers, &self.cloner, &self.observed)
    }

    /// Polls for the value on behalf of the reader handle that holds `slot`. Once it yields a
    /// value, that reader is consumed (the reader count drops by one) and the handle holds no
    /// waker in the cell any more. On the fast path (the handle held the last reference to a
    /// realized cell) the cell is gone too: `slot` is left `None`.
    pub(crate) fn poll_take(
        slot: &mut Option<Arc<Self>>,
        cx: &mut Context<'_>,
        key: &mut usize,
    ) -> Poll<Read<T, E>> {
        let alone = slot.as_ref().is_some_and(|cell| {
            cell.realized.load(Ordering::Acquire) && Arc::strong_count(cell) == 1
        });
        if alone {
            if let Some(cell) = slot.take() {
                match Arc::try_unwrap(cell) {
                    Ok(cell) => {
                        // The fast path: nobody else holds the cell, so nobody else can read or
                        // write it, and it goes away with the value (nobody is left to warn
                        // about an unobserved error: this reader observes it).
                        let Cell {
                            state,
                            readers,
                            cloner,
                            observed,
                            ..
                        } = cell;
                        let mut state = state.into_inner().unwrap_or_else(PoisonError::into_inner);
                        if readers.load(Ordering::Relaxed) == 1 {
                            if let State::Realized(result) = state {
                                return Poll::Ready(Read::Value(result));
                            }
                        }
                        return Poll::Ready(read(&mut state, &readers, &cloner, &observed));
                    }
                    Err(cell) => *slot = Some(cell),
                }
            }
        }
        let Some(this) = slot.as_ref() else {
            return Poll::Pending;
        };
        let read = {
            let mut state = this.lock();
            if let State::Pending(waiters) = &mut *state {
                register(waiters, key, cx.waker());
                return Poll::Pending;
            }
            this.read(&mut state)
        };
        if let Read::Value(_) = read {
            this.drop_reader();
        }
        Poll::Ready(read)
    }

    /// Polls until the cell is realized, without reading the value (for realizers that watch
    /// for cancellation).
    pub(crate) fn poll_realized(&self, cx: &mut Context<'_>, key: &mut usize) -> Poll<()> {
        let mut state = self.lock();
        if let State::Pending(waiters) = &mut *state {
            register(waiters, key, cx.waker());
            return Poll::Pending;
        }
        Poll::Ready(())
    }

    /// Forgets the waker a dropped handle left behind.
    pub(crate) fn forget_waker(&self, key: usize) {
        if key == NO_WAKER {
            return;
        }
        if let State::Pending(waiters) = &mut *self.lock() {
            if let Some(slot) = waiters.slot(key) {
                *slot = None;
            }
        }
    }

    /// Runs `f` on a view of the state. `f` must not call back into this cell.
    pub(crate) fn inspect<R>(&self, f: impl FnOnce(View<'_, T, E>) -> R) -> R {
        let state = self.lock();
        match &*state {
            State::Pending(_) => f(View::Pending),
            State::Realized(result) => f(View::Realized(result)),
            State::Taken { .. } => f(View::Taken),
        }
    }

    /// True once realized, without taking the lock.
    pub(crate) fn is_realized(&self) -> bool {
        self.realized.load(Ordering::Acquire)
    }

    /// `None` while pending, otherwise whether it holds (or held) an error.
    pub(crate) fn outcome(&self) -> Option<bool> {
        match &*self.lock() {
            State::Pending(_) => None,
            State::Realized(result) => Some(result.is_err()),
            State::Taken { error } => Some(*error),
        }
    }

    pub(crate) fn mark_observed(&self) {
        self.observed.store(true, Ordering::Relaxed);
    }

    /// Records a new reader handle; `cloner` is how readers get their own copy from now on.
    pub(crate) fn add_reader(&self, cloner: Cloner<T, E>) {
        self.cloner.get_or_init(|| cloner);
        self.readers.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn drop_reader(&self) {
        self.readers.fetch_sub(1, Ordering::AcqRel);
    }
}

impl<T, E> Cell<T, E> {
    /// Warns about an error nobody observed, for the last reference to a cell (see `release`).
    fn report_unobserved(&self) {
        if self.observed.load(Ordering::Relaxed) || !dropped_error::enabled() {
            return;
        }
        if self.outcome() == Some(true) {
            log::warn!(
                "weir: a deferred was dropped holding an error of type `{}` that nobody observed; \
                 observe errors with `catch`, `.await`, `on_realized` or `wait`",
                std::any::type_name::<E>().replace("weir::error::Error", "weir::Error")
            );
        }
    }
}

/// Drops a handle's reference to its cell; the last one reports an error nobody observed. (The
/// cell has no `Drop` of its own, so that the fast path in `poll_take` can take it apart.)
pub(crate) fn release<T, E>(cell: Arc<Cell<T, E>>) {
    if let Some(cell) = arc_into_inner(cell) {
        cell.report_unobserved();
    }
}

/// The value for one reader of a cell in `state`, `readers` its reader count.
#[inline]
fn read<T, E>(
    state: &mut State<T, E>,
    readers: &AtomicUsize,
    cloner: &OnceLock<Cloner<T, E>>,
    observed: &AtomicBool,
) -> Read<T, E> {
    match state {
        State::Pending(_) => Read::Pending,
        State::Taken { .. } => Read::Spent,
        State::Realized(result) => {
            observed.store(true, Ordering::Relaxed);
            if readers.load(Ordering::Acquire) == 1 {
                let error = result.is_err();
                match mem::replace(state, State::Taken { error }) {
                    State::Realized(result) => Read::Value(result),
                    _ => Read::Pending,
                }
            } else {
                match cloner.get() {
                    Some(clone) => Read::Value(clone(result)),
                    // A count above one implies a clone, which set the cloner first.
                    None => Read::Pending,
                }
            }
        }
    }
}

fn register<T, E>(waiters: &mut Waiters<T, E>, key: &mut usize, waker: &Waker) {
    if let Some(slot) = waiters.slot(*key) {
        match slot {
            Some(old) if old.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
        return;
    }
    // Reuse a slot a dropped handle emptied, so handles that come and go (a select loop, say)
    // do not grow the slab; the first slot first.
    if waiters.first.is_none() {
        *key = 0;
        waiters.first = Some(waker.clone());
        return;
    }
    let more = &mut waiters.shared().more;
    match more.iter().position(Option::is_none) {
        Some(free) => {
            *key = free + 1;
            more[free] = Some(waker.clone());
        }
        None => {
            more.push(Some(waker.clone()));
            *key = more.len();
        }
    }
}

/// Wraps a user callback for the cell: it runs through the trampoline (at once when nothing else
/// runs on this thread, queued otherwise), and a panic in it is logged and goes no further.
pub(crate) fn listener<T, E, F>(callback: F) -> Callback<T, E>
where
    T: 'static,
    E: 'static,
    F: FnOnce(Result<T, E>) + Send + 'static,
{
    Box::new(move |result| {
        trampoline::run(move || {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(move || callback(result))) {
                let error = crate::Error::panicked(panic);
                log::error!("weir: a deferred callback panicked: {error}");
            }
        })
    })
}

#[cfg(all(test, not(weir_loom)))]
mod tests {
    use std::task::{Context, Waker};

    use super::*;

    impl<T, E> Cell<T, E> {
        fn waker_slots(&self) -> usize {
            match &*self.lock() {
                State::Pending(waiters) => 1 + waiters.shared.as_ref().map_or(0, |s| s.more.len()),
                _ => 0,
            }
        }
    }

    #[test]
    fn handles_that_come_and_go_reuse_one_waker_slot() {
        let mut slot = Some(Arc::new(Cell::<u32, ()>::pending()));
        let mut cx = Context::from_waker(Waker::noop());
        let slots =
            |slot: &Option<Arc<Cell<u32, ()>>>| slot.as_ref().map_or(0, |c| c.waker_slots());
        for _ in 0..1000 {
            let mut key = NO_WAKER;
            assert!(Cell::poll_take(&mut slot, &mut cx, &mut key).is_pending());
            if let Some(cell) = &slot {
                cell.forget_waker(key);
            }
        }
        assert_eq!(slots(&slot), 1);
        let mut keep = NO_WAKER;
        let _ = Cell::poll_take(&mut slot, &mut cx, &mut keep);
        let mut other = NO_WAKER;
        let _ = Cell::poll_take(&mut slot, &mut cx, &mut other);
        assert_eq!(slots(&slot), 2);
        // Polling again with the same key keeps one slot per handle.
        let _ = Cell::poll_take(&mut slot, &mut cx, &mut keep);
        assert_eq!(slots(&slot), 2);
    }
}

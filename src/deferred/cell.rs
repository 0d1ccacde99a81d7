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

use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::sync::{AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering};

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
    /// One slot per waiting handle (see `NO_WAKER`); a dropped handle empties its slot.
    wakers: Vec<Option<Waker>>,
    callbacks: Vec<Callback<T, E>>,
}

impl<T, E> Default for Waiters<T, E> {
    fn default() -> Self {
        Waiters {
            wakers: Vec::new(),
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
        Cell::with_state(State::Pending(Waiters::default()))
    }

    pub(crate) fn realized(result: Result<T, E>) -> Self {
        Cell::with_state(State::Realized(result))
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
        let waiters = {
            let mut state = self.lock();
            match &mut *state {
                State::Pending(waiters) => {
                    let waiters = mem::take(waiters);
                    *state = State::Realized(result);
                    self.realized.store(true, Ordering::Release);
                    waiters
                }
                _ => return Err(result),
            }
        };
        if !waiters.callbacks.is_empty() {
            trampoline::batch(|| {
                for callback in waiters.callbacks {
                    self.serve(callback);
                }
            });
        }
        for waker in waiters.wakers.into_iter().flatten() {
            waker.wake();
        }
        Ok(())
    }

    /// Registers a callback, which takes over one reader handle. Serves it at once, on this
    /// thread, if the cell is already realized (through the trampoline, like every callback).
    pub(crate) fn add_callback(&self, callback: Callback<T, E>) {
        {
            let mut state = self.lock();
            if let State::Pending(waiters) = &mut *state {
                waiters.callbacks.push(callback);
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
        match state {
            State::Pending(_) => Read::Pending,
            State::Taken { .. } => Read::Spent,
            State::Realized(result) => {
                self.observed.store(true, Ordering::Relaxed);
                if self.readers.load(Ordering::Acquire) == 1 {
                    let error = result.is_err();
                    match mem::replace(state, State::Taken { error }) {
                        State::Realized(result) => Read::Value(result),
                        _ => Read::Pending,
                    }
                } else {
                    match self.cloner.get() {
                        Some(clone) => Read::Value(clone(result)),
                        // A count above one implies a clone, which set the cloner first.
                        None => Read::Pending,
                    }
                }
            }
        }
    }

    /// Polls for the value on behalf of one reader handle.
    pub(crate) fn poll_read(&self, cx: &mut Context<'_>, key: &mut usize) -> Poll<Read<T, E>> {
        let mut state = self.lock();
        if let State::Pending(waiters) = &mut *state {
            register(waiters, key, cx.waker());
            return Poll::Pending;
        }
        Poll::Ready(self.read(&mut state))
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
            if let Some(slot) = waiters.wakers.get_mut(key) {
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

impl<T, E> Drop for Cell<T, E> {
    fn drop(&mut self) {
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

fn register<T, E>(waiters: &mut Waiters<T, E>, key: &mut usize, waker: &Waker) {
    if let Some(slot) = waiters.wakers.get_mut(*key) {
        match slot {
            Some(old) if old.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
        return;
    }
    // Reuse a slot a dropped handle emptied, so handles that come and go (a select loop, say)
    // do not grow the slab.
    match waiters.wakers.iter().position(Option::is_none) {
        Some(free) => {
            *key = free;
            waiters.wakers[free] = Some(waker.clone());
        }
        None => {
            *key = waiters.wakers.len();
            waiters.wakers.push(Some(waker.clone()));
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
                State::Pending(waiters) => waiters.wakers.len(),
                _ => 0,
            }
        }
    }

    #[test]
    fn handles_that_come_and_go_reuse_one_waker_slot() {
        let cell: Cell<u32, ()> = Cell::pending();
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            let mut key = NO_WAKER;
            assert!(cell.poll_read(&mut cx, &mut key).is_pending());
            cell.forget_waker(key);
        }
        assert_eq!(cell.waker_slots(), 1);
        let mut keep = NO_WAKER;
        let _ = cell.poll_read(&mut cx, &mut keep);
        let mut other = NO_WAKER;
        let _ = cell.poll_read(&mut cx, &mut other);
        assert_eq!(cell.waker_slots(), 2);
        // Polling again with the same key keeps one slot per handle.
        let _ = cell.poll_read(&mut cx, &mut keep);
        assert_eq!(cell.waker_slots(), 2);
    }
}

//! Runtime support for the code `let_flow!` generates. Not public API: reached only through the
//! hidden `weir::__private` module, with no stability guarantees.
//!
//! A flow runs as one task. Each binding is an `async` block inside it; a binding hands its
//! realized value to the bindings that read it through a [`Slot`], and [`step`] drives the
//! binding blocks side by side until all are done or one fails.
//!
//! How a right-hand side is awaited is decided where it is written, by autoref specialization:
//! `(&&Wrap(expr)).__weir_kind()` finds [`TryFutureKind`] first (a deferred or a future of a
//! `Result`: bind the value, short-circuit on the error), then [`FutureKind`] (any other future:
//! bind its output), then [`ValueKind`] (a plain value). The tag it returns then consumes the
//! `Wrap` with `lift`, giving a future of `Result<T, Error>` in every case.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::Error;

pub use std::future::poll_fn;

/// The right-hand side of a binding, wrapped so that method resolution can pick its kind.
pub struct Wrap<T>(pub T);

/// The kind of a deferred, or of a future whose output is a `Result`.
pub struct TryFutureTag;

/// The kind of any other future.
pub struct FutureTag;

/// The kind of a plain value.
pub struct ValueTag;

/// Picks [`TryFutureTag`]: found first, on `&Wrap<F>` for `F: Future<Output = Result<T, E>>`.
pub trait TryFutureKind {
    /// The tag for this kind.
    fn __weir_kind(&self) -> TryFutureTag {
        TryFutureTag
    }
}

impl<F, T, E> TryFutureKind for &Wrap<F> where F: Future<Output = Result<T, E>> {}

/// Picks [`FutureTag`]: found second, on `&&Wrap<F>` for any `F: Future`.
pub trait FutureKind {
    /// The tag for this kind.
    fn __weir_kind(&self) -> FutureTag {
        FutureTag
    }
}

impl<F> FutureKind for &&Wrap<F> where F: Future {}

/// Picks [`ValueTag`]: found last, on `Wrap<T>` for anything.
pub trait ValueKind {
    /// The tag for this kind.
    fn __weir_kind(&self) -> ValueTag {
        ValueTag
    }
}

impl<T> ValueKind for Wrap<T> {}

impl TryFutureTag {
    /// Awaits the future, converting its error into a [`weir::Error`](Error).
    pub async fn lift<F, T, E>(self, wrap: Wrap<F>) -> Result<T, Error>
    where
        F: Future<Output = Result<T, E>>,
        E: Into<Error>,
    {
        wrap.0.await.map_err(Into::into)
    }
}

impl FutureTag {
    /// Awaits the future; its output is the bound value.
    pub async fn lift<F: Future>(self, wrap: Wrap<F>) -> Result<F::Output, Error> {
        Ok(wrap.0.await)
    }
}

impl ValueTag {
    /// The value itself, at once.
    pub fn lift<T>(self, wrap: Wrap<T>) -> std::future::Ready<Result<T, Error>> {
        std::future::ready(Ok(wrap.0))
    }
}

/// Where a binding leaves a value for the `readers` bindings (and the body) that read it.
///
/// With one reader the value is moved out; with more, each reader but the last gets a clone, so
/// the value must be `Clone` (see [`share`](Slot::share)).
pub struct Slot<T> {
    state: Mutex<SlotState<T>>,
}

struct SlotState<T> {
    value: Option<T>,
    filled: bool,
    readers: usize,
    wakers: Vec<Waker>,
}

impl<T> Slot<T> {
    /// An empty slot that `readers` readers will read.
    pub fn new(readers: usize) -> Self {
        Slot {
            state: Mutex::new(SlotState {
                value: None,
                filled: false,
                readers,
                wakers: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotState<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fills the slot and wakes the readers waiting in [`ready`](Slot::ready).
    pub fn put(&self, value: T) {
        let wakers = {
            let mut state = self.lock();
            state.value = Some(value);
            state.filled = true;
            std::mem::take(&mut state.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Resolves once the slot is filled.
    pub fn ready(&self) -> Ready<'_, T> {
        Ready { slot: self }
    }

    /// Moves the value out: for a slot with a single reader.
    ///
    /// # Panics
    ///
    /// If the slot is not filled or was already read (generated code never does either).
    pub fn take(&self) -> T {
        let mut state = self.lock();
        state.readers = state.readers.saturating_sub(1);
        state
            .value
            .take()
            .expect("let_flow! read a binding that was not realized")
    }
}

impl<T: Shared> Slot<T> {
    /// A clone of the value for every reader but the last, which gets the value itself.
    ///
    /// # Panics
    ///
    /// If the slot is not filled (generated code never does that).
    pub fn share(&self) -> T {
        let mut state = self.lock();
        state.readers = state.readers.saturating_sub(1);
        if state.readers == 0 {
            state.value.take()
        } else {
            state.value.as_ref().map(Shared::duplicate)
        }
        .expect("let_flow! read a binding that was not realized")
    }
}

/// `Clone`, under a name that lets the compiler explain why a `let_flow!` binding needs it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is read by more than one later binding or the body of this let_flow!, \
               so it must be `Clone`",
    label = "read again here, while another reader may hold the value",
    note = "derive or implement `Clone` for `{Self}`, wrap it in an `Arc`, or read it in one place"
)]
pub trait Shared {
    /// A clone of `self`.
    fn duplicate(&self) -> Self;
}

impl<T: Clone> Shared for T {
    fn duplicate(&self) -> Self {
        self.clone()
    }
}

/// A reader's copy of a shared slot's value: see [`Slot::share`].
pub fn share<T: Shared>(slot: &Slot<T>) -> T {
    slot.share()
}

impl<T> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Slot")
            .field("filled", &state.filled)
            .field("readers", &state.readers)
            .finish()
    }
}

/// The future returned by [`Slot::ready`].
#[derive(Debug)]
pub struct Ready<'a, T> {
    slot: &'a Slot<T>,
}

impl<T> Future for Ready<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.slot.lock();
        if state.filled {
            return Poll::Ready(());
        }
        if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            state.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Polls one binding unless it is `done`: marks it done when it finishes, hands back its error
/// if it failed.
pub fn step<F>(binding: Pin<&mut F>, done: &mut bool, cx: &mut Context<'_>) -> Result<(), Error>
where
    F: Future<Output = Result<(), Error>>,
{
    if *done {
        return Ok(());
    }
    match binding.poll(cx) {
        Poll::Ready(Ok(())) => {
            *done = true;
            Ok(())
        }
        Poll::Ready(Err(error)) => {
            *done = true;
            Err(error)
        }
        Poll::Pending => Ok(()),
    }
}

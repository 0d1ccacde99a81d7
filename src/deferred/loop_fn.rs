//! `loop_fn`: an asynchronous loop, Manifold's `loop`/`recur`.

use std::future::IntoFuture;

use crate::Error;

use super::Deferred;
use super::stage::guarded;

/// Turns a loop runs before it lets the other tasks of its thread run: a loop whose every
/// turn is ready at once must not hold its worker (weir's workers do not steal each other's
/// tasks).
const TURNS_PER_YIELD: u32 = 1024;

/// What one turn of a [`loop_fn`] body decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loop<S, T> {
    /// Run the body again with this state (Manifold's `recur`).
    Recur(S),
    /// Finish the loop with this value.
    Done(T),
}

/// Runs `body` on a state until it returns [`Loop::Done`]: Manifold's `loop` with `recur`. Each
/// turn may wait (the body returns any future or deferred of `Result<Loop<S, T>, weir::Error>`);
/// an error or a panic ends the loop with that error. It runs as a task on weir's executor,
/// without growing the stack however many turns it takes. Realizing the returned deferred (for
/// example with an error, to cancel) stops the loop.
///
/// The error type is [`weir::Error`](Error), so a body's `Ok(..)` needs no annotation; for
/// another error type, use [`Deferred::<T, E>::loop_fn`](Deferred::loop_fn).
///
/// # Examples
///
/// ```
/// use weir::deferred::{loop_fn, Loop};
///
/// // Sum 1..=100, one asynchronous step at a time.
/// let total = loop_fn((1u64, 0u64), |(i, sum)| async move {
///     if i > 100 {
///         Ok(Loop::Done(sum))
///     } else {
///         Ok(Loop::Recur((i + 1, sum + i)))
///     }
/// });
/// assert_eq!(total.wait().unwrap(), 5050);
/// ```
pub fn loop_fn<S, T, F, Fut>(initial: S, body: F) -> Deferred<T>
where
    S: Send + 'static,
    T: Send + 'static,
    F: FnMut(S) -> Fut + Send + 'static,
    Fut: IntoFuture<Output = Result<Loop<S, T>, Error>>,
    Fut::IntoFuture: Send,
{
    Deferred::loop_fn(initial, body)
}

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// [`loop_fn`](super::loop_fn) with an error type of your own (one that a panic or a weir
    /// error converts into), named in the path: `Deferred::<T, MyError>::loop_fn(..)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{Deferred, Error};
    /// use weir::deferred::Loop;
    ///
    /// #[derive(Debug)]
    /// struct MyError(Error);
    ///
    /// impl From<Error> for MyError {
    ///     fn from(error: Error) -> Self {
    ///         MyError(error)
    ///     }
    /// }
    ///
    /// let d = Deferred::<u32, MyError>::loop_fn(0u32, |n| async move {
    ///     Ok(if n < 3 { Loop::Recur(n + 1) } else { Loop::Done(n) })
    /// });
    /// assert_eq!(d.wait().unwrap(), 3);
    /// ```
    pub fn loop_fn<S, F, Fut>(initial: S, mut body: F) -> Self
    where
        S: Send + 'static,
        F: FnMut(S) -> Fut + Send + 'static,
        Fut: IntoFuture<Output = Result<Loop<S, T>, E>>,
        Fut::IntoFuture: Send,
    {
        let out = Deferred::new();
        let realizer = out.realizer();
        let watch = realizer.clone();
        realizer.drive(async move {
            let mut state = initial;
            let mut turns: u32 = 0;
            loop {
                // Checked between turns too: a loop whose turns are all ready at once would
                // never let the cancellation in `drive` be seen.
                if watch.is_realized() {
                    return Err(E::from(Error::cancelled()));
                }
                turns = turns.wrapping_add(1);
                if turns % TURNS_PER_YIELD == 0 {
                    futures_lite::future::yield_now().await;
                }
                let turn = guarded(|| body(state).into_future())?;
                match turn.await? {
                    Loop::Recur(next) => state = next,
                    Loop::Done(value) => return Ok(value),
                }
            }
        });
        out
    }
}

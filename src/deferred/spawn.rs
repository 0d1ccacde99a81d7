//! Deferreds of work: futures spawned on weir's executor, blocking closures on its thread pool.

use std::future::Future;

use crate::{Error, runtime};

use super::Deferred;
use super::stage::guarded;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// Runs `work` as a task on weir's executor and returns a deferred of its outcome. Realizing
    /// that deferred first (for example with [`Error::cancelled`]) cancels the work: the task drops
    /// the future at its next suspension point. A panic becomes a [panic error](Error::is_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{Deferred, Error};
    ///
    /// let d = Deferred::spawn(async { Ok::<_, Error>(6 * 7) });
    /// assert_eq!(d.wait().unwrap(), 42);
    ///
    /// let cancelled = Deferred::<(), Error>::spawn(std::future::pending());
    /// cancelled.error(Error::cancelled()); // the pending future is dropped
    /// assert!(cancelled.wait().unwrap_err().is_cancelled());
    /// ```
    pub fn spawn<F>(work: F) -> Self
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
    {
        let out = Deferred::new();
        out.realizer().drive(work);
        out
    }

    /// Converts any future into a deferred of its output, driving it on weir's executor (see
    /// [`spawn`](Deferred::spawn) for cancellation and panics).
    ///
    /// # Examples
    ///
    /// ```
    /// let d: weir::Deferred<&str> = weir::Deferred::from_future(async { "ready" });
    /// assert_eq!(d.wait().unwrap(), "ready");
    /// ```
    pub fn from_future<F>(work: F) -> Self
    where
        F: Future<Output = T> + Send + 'static,
    {
        Deferred::spawn(async move { Ok(work.await) })
    }

    /// [`spawn_blocking`](Deferred::spawn_blocking) with an error type of your own (one that a
    /// panic converts into), named in the path: `Deferred::<T, MyError>::spawn_blocking_typed`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{Deferred, Error};
    ///
    /// #[derive(Debug)]
    /// enum AppError {
    ///     Weir(Error),
    ///     Empty,
    /// }
    ///
    /// impl From<Error> for AppError {
    ///     fn from(error: Error) -> Self {
    ///         AppError::Weir(error)
    ///     }
    /// }
    ///
    /// let d = Deferred::<u8, AppError>::spawn_blocking_typed(|| Err(AppError::Empty));
    /// assert!(matches!(d.wait(), Err(AppError::Empty)));
    /// ```
    pub fn spawn_blocking_typed<F>(work: F) -> Self
    where
        F: FnOnce() -> Result<T, E> + Send + 'static,
    {
        let out = Deferred::new();
        let realizer = out.realizer();
        runtime::spawn_blocking(move || {
            if realizer.is_realized() {
                return;
            }
            let outcome = guarded(work).and_then(|outcome| outcome);
            let _ = realizer.try_realize(outcome);
        })
        .detach();
        out
    }
}

impl<T: Send + 'static> Deferred<T, Error> {
    /// Runs the blocking closure `work` on weir's blocking thread pool: Manifold's `future`. If
    /// the deferred is realized before the closure starts (cancelled), the closure never runs; a
    /// closure already running is not interrupted, and its result is then dropped.
    ///
    /// The error type is [`weir::Error`](Error), so `Ok(..)` needs no annotation and `?` converts
    /// I/O errors; for another error type, use
    /// [`spawn_blocking_typed`](Deferred::spawn_blocking_typed).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::Deferred;
    ///
    /// let d = Deferred::spawn_blocking(|| {
    ///     let metadata = std::fs::metadata(".")?;
    ///     Ok(metadata.is_dir())
    /// });
    /// assert!(d.wait().unwrap());
    /// ```
    pub fn spawn_blocking<F>(work: F) -> Self
    where
        F: FnOnce() -> Result<T, Error> + Send + 'static,
    {
        Deferred::spawn_blocking_typed(work)
    }
}

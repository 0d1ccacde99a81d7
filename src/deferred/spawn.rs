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

    /// Runs the blocking closure `work` on weir's blocking thread pool: Manifold's `future`. If
    /// the deferred is realized before the closure starts (cancelled), the closure never runs; a
    /// closure already running is not interrupted, and its result is then dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{Deferred, Error};
    ///
    /// let d = Deferred::spawn_blocking(|| {
    ///     std::thread::sleep(std::time::Duration::from_millis(1));
    ///     Ok::<_, Error>("slept")
    /// });
    /// assert_eq!(d.wait().unwrap(), "slept");
    /// ```
    pub fn spawn_blocking<F>(work: F) -> Self
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

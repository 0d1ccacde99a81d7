//! `Deferred::finally`: run code on success or error.

use crate::Error;

use super::Deferred;
use super::stage::guarded;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// Runs `f` once this deferred is realized, with a value or an error, and passes the outcome
    /// on unchanged; if `f` panics, the result is that panic as an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let cleaned = Arc::new(AtomicBool::new(false));
    /// let flag = cleaned.clone();
    /// let d = weir::Deferred::<u8>::failed(weir::Error::cancelled())
    ///     .finally(move || flag.store(true, Ordering::SeqCst));
    /// assert!(d.wait().is_err());
    /// assert!(cleaned.load(Ordering::SeqCst));
    /// ```
    pub fn finally<F>(self, f: F) -> Deferred<T, E>
    where
        F: FnOnce() + Send + 'static,
    {
        self.derive(move |outcome, out| {
            let outcome = match guarded(f) {
                Ok(()) => outcome,
                Err(panic) => Err(panic),
            };
            let _ = out.try_realize(outcome);
        })
    }
}

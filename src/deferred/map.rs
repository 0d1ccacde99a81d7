//! `Deferred::map`: a stage that returns a plain value.

use crate::Error;

use super::Deferred;
use super::stage::guarded;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// A deferred of `f` applied to this one's value; an error skips `f` and passes through.
    ///
    /// `f` runs on the thread that realizes this deferred (at once if it is already realized). A
    /// panic in `f` realizes the result with a [`panic error`](Error::is_panic).
    ///
    /// # Examples
    ///
    /// ```
    /// let d = weir::Deferred::<u32>::succeeded(20).map(|x| x + 1).map(|x| x * 2);
    /// assert_eq!(d.wait().unwrap(), 42);
    ///
    /// let failed = weir::Deferred::<u32>::failed(weir::Error::cancelled()).map(|x| x + 1);
    /// assert!(failed.wait().unwrap_err().is_cancelled());
    /// ```
    pub fn map<U, F>(self, f: F) -> Deferred<U, E>
    where
        U: Send + 'static,
        F: FnOnce(T) -> U + Send + 'static,
    {
        self.derive(move |outcome, out| {
            let _ = out.try_realize(outcome.and_then(|value| guarded(|| f(value))));
        })
    }
}

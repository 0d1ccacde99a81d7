//! `Deferred::try_map`: a stage that may fail without waiting.

use crate::Error;

use super::Deferred;
use super::stage::guarded;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// A deferred of `f` applied to this one's value, where `f` may fail: an `Err` from `f`, like
    /// an error in this deferred, skips every later stage.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{Deferred, Error};
    ///
    /// let parsed = Deferred::<&str>::succeeded("17").try_map(|s| s.parse::<u32>().map_err(Error::other));
    /// assert_eq!(parsed.wait().unwrap(), 17);
    ///
    /// let bad = Deferred::<&str>::succeeded("x").try_map(|s| s.parse::<u32>().map_err(Error::other));
    /// assert!(bad.map(|n| n + 1).wait().is_err());
    /// ```
    pub fn try_map<U, F>(self, f: F) -> Deferred<U, E>
    where
        U: Send + 'static,
        F: FnOnce(T) -> Result<U, E> + Send + 'static,
    {
        self.derive(move |outcome, out| {
            let outcome = outcome.and_then(|value| guarded(|| f(value)).and_then(|r| r));
            let _ = out.try_realize(outcome);
        })
    }
}

//! `Deferred::catch_if`: recover from the errors a predicate picks.

use crate::Error;

use super::Deferred;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// Recovers from the errors `matches` accepts, with the value `f` returns; other errors pass
    /// through unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::{Deferred, Error};
    ///
    /// let timed_out = Deferred::<&str>::failed(Error::timed_out(Duration::from_secs(1)))
    ///     .catch_if(Error::is_timeout, |_| "fallback");
    /// assert_eq!(timed_out.wait().unwrap(), "fallback");
    ///
    /// let closed = Deferred::<&str>::failed(Error::closed("stream"))
    ///     .catch_if(Error::is_timeout, |_| "fallback");
    /// assert!(closed.wait().unwrap_err().is_closed());
    /// ```
    pub fn catch_if<P, F>(self, matches: P, f: F) -> Deferred<T, E>
    where
        P: FnOnce(&E) -> bool + Send + 'static,
        F: FnOnce(E) -> T + Send + 'static,
    {
        self.recover_now(move |error| {
            if matches(&error) {
                Ok(f(error))
            } else {
                Err(error)
            }
        })
    }
}

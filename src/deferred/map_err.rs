//! `Deferred::map_err`: transform the error.

use crate::Error;

use super::Deferred;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// A deferred whose error is `f` applied to this one's; a value passes through.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{Deferred, Error};
    ///
    /// let d = Deferred::<u8, &str>::failed("disk full").map_err(Error::msg);
    /// assert_eq!(d.wait().unwrap_err().to_string(), "disk full");
    /// ```
    pub fn map_err<E2, F>(self, f: F) -> Deferred<T, E2>
    where
        E2: From<Error> + Send + 'static,
        F: FnOnce(E) -> E2 + Send + 'static,
    {
        self.recover_now(move |error| Err(f(error)))
    }
}

//! `Deferred::catch_as`: recover from errors caused by one type.

use std::error::Error as StdError;

use crate::Error;

use super::Deferred;

impl<T> Deferred<T, Error>
where
    T: Send + 'static,
{
    /// Recovers from errors whose cause (see [`Error::downcast_ref`]) is of type `X`, with the
    /// value `f` returns for that cause; other errors pass through. Manifold's `catch` with an
    /// error class.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io;
    /// use weir::{Deferred, Error};
    ///
    /// let refused = Error::from(io::Error::from(io::ErrorKind::ConnectionRefused));
    /// let d = Deferred::<String>::failed(refused)
    ///     .catch_as(|e: &io::Error| format!("offline ({:?})", e.kind()));
    /// assert_eq!(d.wait().unwrap(), "offline (ConnectionRefused)");
    ///
    /// let other = Deferred::<String>::failed(Error::cancelled()).catch_as(|_: &io::Error| String::new());
    /// assert!(other.wait().unwrap_err().is_cancelled());
    /// ```
    pub fn catch_as<X, F>(self, f: F) -> Deferred<T, Error>
    where
        X: StdError + 'static,
        F: FnOnce(&X) -> T + Send + 'static,
    {
        self.recover_now(move |error| match error.downcast_ref::<X>().map(f) {
            Some(value) => Ok(value),
            None => Err(error),
        })
    }
}

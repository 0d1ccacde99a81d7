//! `Deferred::catch`: recover from any error with a value.

use crate::Error;

use super::Deferred;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// Recovers from an error: the value `f` returns for it becomes the success value. A value
    /// passes through untouched. For a handler that waits, use [`or_else`](Deferred::or_else);
    /// to catch only some errors, [`catch_if`](Deferred::catch_if).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{Deferred, Error};
    ///
    /// let d = Deferred::<u32>::failed(Error::cancelled()).catch(|_| 0);
    /// assert_eq!(d.wait().unwrap(), 0);
    /// assert_eq!(Deferred::<u32>::succeeded(5).catch(|_| 0).wait().unwrap(), 5);
    /// ```
    pub fn catch<F>(self, f: F) -> Deferred<T, E>
    where
        F: FnOnce(E) -> T + Send + 'static,
    {
        self.recover_now(move |error| Ok(f(error)))
    }
}

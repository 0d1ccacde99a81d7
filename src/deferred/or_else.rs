//! `Deferred::or_else`: recover from an error with a future.

use std::future::IntoFuture;

use crate::Error;

use super::Deferred;
use super::stage::Recovery;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
{
    /// Recovers from an error with the future `f` returns for it (an `async` block or a
    /// [`Deferred`]); its outcome becomes the result, possibly with a new error type. A value
    /// passes through. The future runs as a task on weir's executor and is dropped if the returned
    /// deferred is realized first (cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{Deferred, Error};
    ///
    /// let d = Deferred::<u32>::failed(Error::cancelled())
    ///     .or_else(|_| Deferred::<u32, Error>::succeeded(9));
    /// assert_eq!(d.wait().unwrap(), 9);
    /// ```
    pub fn or_else<E2, F, Fut>(self, f: F) -> Deferred<T, E2>
    where
        E2: From<Error> + Send + 'static,
        F: FnOnce(E) -> Fut + Send + 'static,
        Fut: IntoFuture<Output = Result<T, E2>>,
        Fut::IntoFuture: Send + 'static,
    {
        self.recover(move |error| Recovery::Later(f(error).into_future()))
    }
}

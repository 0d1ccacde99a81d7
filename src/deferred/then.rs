//! `Deferred::then`: a stage that returns a future (or a deferred).

use std::future::IntoFuture;

use crate::Error;

use super::Deferred;
use super::stage::guarded;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// A deferred of the future `f` returns for this one's value: Manifold's `chain` with an
    /// asynchronous stage. `f` may return any future (an `async` block, a [`Deferred`]) of
    /// `Result<U, E>`; an error, here or from the future, skips every later stage.
    ///
    /// The future runs as a task on weir's executor. Realizing the returned deferred with an error
    /// cancels it: the task drops the future.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::{runtime, Deferred, Error};
    /// use std::time::Duration;
    ///
    /// let d = Deferred::<u32>::succeeded(1).then(|x| async move {
    ///     runtime::sleep(Duration::from_millis(1)).await;
    ///     Ok::<_, Error>(x + 1)
    /// });
    /// assert_eq!(d.wait().unwrap(), 2);
    /// ```
    pub fn then<U, F, Fut>(self, f: F) -> Deferred<U, E>
    where
        U: Send + 'static,
        F: FnOnce(T) -> Fut + Send + 'static,
        Fut: IntoFuture<Output = Result<U, E>>,
        Fut::IntoFuture: Send + 'static,
    {
        self.derive(move |outcome, out| {
            match outcome.and_then(|value| guarded(|| f(value).into_future())) {
                Ok(work) => out.drive(work),
                Err(error) => {
                    out.error(error);
                }
            }
        })
    }
}

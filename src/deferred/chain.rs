//! `Deferred::chain`: a stage that returns another deferred, linked without a task.

use crate::Error;

use super::Deferred;
use super::stage::guarded;

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// A deferred that follows the deferred `f` returns for this one's value. Unlike
    /// [`then`](Deferred::then), no task is involved: the returned deferred is realized directly
    /// by the one `f` returned, on the thread that realizes it.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::Deferred;
    ///
    /// fn lookup(id: u32) -> Deferred<String> {
    ///     Deferred::succeeded(format!("user-{id}"))
    /// }
    ///
    /// let name = Deferred::<u32>::succeeded(7).chain(lookup);
    /// assert_eq!(name.wait().unwrap(), "user-7");
    /// ```
    pub fn chain<U, F>(self, f: F) -> Deferred<U, E>
    where
        U: Send + 'static,
        F: FnOnce(T) -> Deferred<U, E> + Send + 'static,
    {
        self.derive(
            move |outcome, out| match outcome.and_then(|value| guarded(|| f(value))) {
                Ok(next) => out.follow(next),
                Err(error) => {
                    out.error(error);
                }
            },
        )
    }
}

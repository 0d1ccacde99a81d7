//! The small errors of deferred operations; each hands back what it could not deliver.

use std::fmt;

use super::Deferred;

/// [`Deferred::try_realize`] found the deferred already realized; the result it was given comes
/// back with [`into_inner`](AlreadyRealized::into_inner).
///
/// # Examples
///
/// ```
/// use weir::Deferred;
///
/// let d: Deferred<String> = Deferred::new();
/// assert!(d.try_realize(Ok("first".to_string())).is_ok());
/// let refused = d.try_realize(Ok("second".to_string())).unwrap_err();
/// assert_eq!(refused.into_inner().unwrap(), "second");
/// ```
pub struct AlreadyRealized<T, E>(pub(crate) Result<T, E>);

impl<T, E> AlreadyRealized<T, E> {
    /// The result that was not delivered.
    pub fn into_inner(self) -> Result<T, E> {
        self.0
    }
}

impl<T, E> fmt::Debug for AlreadyRealized<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AlreadyRealized(..)")
    }
}

impl<T, E> fmt::Display for AlreadyRealized<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deferred already realized")
    }
}

impl<T, E> std::error::Error for AlreadyRealized<T, E> {}

/// [`Deferred::wait_timeout`] ran out of time; the deferred comes back with
/// [`into_inner`](WaitTimeout::into_inner), so its value is not lost.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::Deferred;
///
/// let d: Deferred<u32> = Deferred::new();
/// let timed_out = d.wait_timeout(Duration::from_millis(1)).unwrap_err();
/// let d = timed_out.into_inner();
/// d.success(7);
/// assert_eq!(d.wait().unwrap(), 7);
/// ```
pub struct WaitTimeout<T, E>(pub(crate) Deferred<T, E>);

impl<T, E> WaitTimeout<T, E> {
    /// The deferred that was still pending.
    pub fn into_inner(self) -> Deferred<T, E> {
        self.0
    }
}

impl<T, E> fmt::Debug for WaitTimeout<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WaitTimeout(..)")
    }
}

impl<T, E> fmt::Display for WaitTimeout<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out waiting for a deferred")
    }
}

impl<T, E> std::error::Error for WaitTimeout<T, E> {}

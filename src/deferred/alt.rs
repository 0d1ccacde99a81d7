//! `alt`: the first deferred realized wins, with a value or an error.

use crate::Error;

use super::Deferred;

/// A deferred realized like the first of `deferreds` to be realized, success or error. When
/// several are realized already, the first in iteration order wins (Manifold picks at random).
/// An empty input is an error at once: nothing could ever win.
///
/// # Examples
///
/// ```
/// use weir::{deferred, Deferred};
///
/// let slow = Deferred::<&str>::new();
/// let fast = Deferred::<&str>::new();
/// let first = deferred::alt([slow.clone(), fast.clone()]);
/// fast.success("fast");
/// slow.success("slow");
/// assert_eq!(first.wait().unwrap(), "fast");
/// assert!(deferred::alt(Vec::<Deferred<u8>>::new()).wait().is_err());
/// ```
pub fn alt<T, E, I>(deferreds: I) -> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
    I: IntoIterator<Item = Deferred<T, E>>,
{
    let out = Deferred::new();
    let mut any = false;
    for d in deferreds {
        any = true;
        let realizer = out.realizer();
        d.on_realized(move |outcome| {
            let _ = realizer.try_realize(outcome);
        });
    }
    if !any {
        out.error(E::from(Error::msg(
            "alt of no deferreds can never be realized",
        )));
    }
    out
}

impl<T, E> Deferred<T, E>
where
    T: Send + 'static,
    E: From<Error> + Send + 'static,
{
    /// Whichever of the two is realized first; shorthand for [`alt`] of two.
    ///
    /// # Examples
    ///
    /// ```
    /// let never = weir::Deferred::<u8>::new();
    /// let d = never.or(weir::Deferred::succeeded(3));
    /// assert_eq!(d.wait().unwrap(), 3);
    /// ```
    pub fn or(self, other: Deferred<T, E>) -> Deferred<T, E> {
        alt([self, other])
    }
}

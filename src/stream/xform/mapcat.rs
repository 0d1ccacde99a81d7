//! `mapcat`: every message mapped to a collection, whose items go on.

use std::fmt;
use std::ops::ControlFlow;

use super::super::Transducer;

/// Maps every message to a collection and passes its items: Clojure's `(mapcat f)`, as
/// [`SourceExt::mapcat`](crate::stream::SourceExt::mapcat), for use inside a composed
/// transducer.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, SourceExt, Transducer, xform};
///
/// # weir::runtime::block_on(async {
/// let repeated = stream::iter([1, 2, 3])
///     .transform(xform::mapcat(|n: usize| vec![n; n]).then(xform::take(4)));
/// assert_eq!(repeated.collect::<Vec<_>>().await, vec![1, 2, 2, 3]);
/// # });
/// ```
pub fn mapcat<F>(f: F) -> Mapcat<F> {
    Mapcat { f }
}

/// The transducer returned by [`mapcat`].
#[derive(Clone)]
pub struct Mapcat<F> {
    f: F,
}

impl<T, C, F> Transducer<T> for Mapcat<F>
where
    F: FnMut(T) -> C,
    C: IntoIterator,
{
    type Out = C::Item;

    fn step(&mut self, input: T, out: &mut Vec<C::Item>) -> ControlFlow<()> {
        out.extend((self.f)(input));
        ControlFlow::Continue(())
    }
}

impl<F> fmt::Debug for Mapcat<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mapcat").finish_non_exhaustive()
    }
}

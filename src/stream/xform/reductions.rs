//! `reductions`: the running fold, starting from the first message.

use std::fmt;
use std::ops::ControlFlow;

use super::super::Transducer;

/// Passes the first message, then each following message folded into the accumulator with
/// `f`: Clojure's `(reductions f coll)` without an initial value, as
/// [`SourceExt::accumulate`](crate::stream::SourceExt::accumulate). An empty stream stays
/// empty. With an initial value, see [`SourceExt::reductions`](crate::stream::SourceExt::reductions).
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, SourceExt, xform};
///
/// # weir::runtime::block_on(async {
/// let highest = stream::iter([3, 1, 4, 1, 5]).transform(xform::reductions(|a: i32, b| a.max(b)));
/// assert_eq!(highest.collect::<Vec<_>>().await, vec![3, 3, 4, 4, 5]);
/// # });
/// ```
pub fn reductions<T, F>(f: F) -> Reductions<T, F> {
    Reductions { f, acc: None }
}

/// The transducer returned by [`reductions`].
#[derive(Clone)]
pub struct Reductions<T, F> {
    f: F,
    acc: Option<T>,
}

impl<T: Clone, F: FnMut(T, T) -> T> Transducer<T> for Reductions<T, F> {
    type Out = T;

    fn step(&mut self, input: T, out: &mut Vec<T>) -> ControlFlow<()> {
        let acc = match self.acc.take() {
            None => input,
            Some(acc) => (self.f)(acc, input),
        };
        out.push(acc.clone());
        self.acc = Some(acc);
        ControlFlow::Continue(())
    }
}

impl<T, F> fmt::Debug for Reductions<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reductions").finish_non_exhaustive()
    }
}

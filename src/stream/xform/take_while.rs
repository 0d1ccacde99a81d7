//! `take_while`: messages while a predicate holds, then the end.

use std::fmt;
use std::ops::ControlFlow;

use super::super::Transducer;

/// Passes messages while `predicate` returns true, and ends the stream at the first for which
/// it returns false (that message is dropped): Clojure's `(take-while pred)`.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, SourceExt, xform};
///
/// # weir::runtime::block_on(async {
/// let small = stream::iter([1, 2, 5, 1]).transform(xform::take_while(|n: &i32| *n < 3));
/// assert_eq!(small.collect::<Vec<_>>().await, vec![1, 2]);
/// # });
/// ```
pub fn take_while<F>(predicate: F) -> TakeWhile<F> {
    TakeWhile { predicate }
}

/// The transducer returned by [`take_while`].
#[derive(Clone)]
pub struct TakeWhile<F> {
    predicate: F,
}

impl<T, F: FnMut(&T) -> bool> Transducer<T> for TakeWhile<F> {
    type Out = T;

    fn step(&mut self, input: T, out: &mut Vec<T>) -> ControlFlow<()> {
        if (self.predicate)(&input) {
            out.push(input);
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    }
}

impl<F> fmt::Debug for TakeWhile<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TakeWhile").finish_non_exhaustive()
    }
}

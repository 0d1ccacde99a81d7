//! `drop`: all but the first `n` messages.

use std::ops::ControlFlow;

use super::super::Transducer;

/// Drops the first `n` messages and passes the rest: Clojure's `(drop n)`.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, SourceExt, xform};
///
/// # weir::runtime::block_on(async {
/// let rest = stream::iter(1..=5).transform(xform::drop(2));
/// assert_eq!(rest.collect::<Vec<_>>().await, vec![3, 4, 5]);
/// # });
/// ```
pub fn drop(n: usize) -> DropFirst {
    DropFirst { remaining: n }
}

/// The transducer returned by [`drop`](fn@drop).
#[derive(Clone, Debug)]
pub struct DropFirst {
    remaining: usize,
}

impl<T> Transducer<T> for DropFirst {
    type Out = T;

    fn step(&mut self, input: T, out: &mut Vec<T>) -> ControlFlow<()> {
        if self.remaining == 0 {
            out.push(input);
        } else {
            self.remaining -= 1;
        }
        ControlFlow::Continue(())
    }
}

//! `take`: the first `n` messages, then the end.

use std::ops::ControlFlow;

use super::super::Transducer;

/// Passes the first `n` messages and ends the stream: Clojure's `(take n)`. With `n == 0` the
/// stream ends at its first message, which is dropped.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, Source, SourceExt, xform};
///
/// # weir::runtime::block_on(async {
/// let source = stream::iter(1..=100);
/// let first = source.transform(xform::take(3));
/// let drained = first.drained();
/// assert_eq!(first.collect::<Vec<_>>().await, vec![1, 2, 3]);
/// assert!(drained.await.is_ok());
/// # });
/// ```
pub fn take(n: usize) -> TakeFirst {
    TakeFirst { remaining: n }
}

/// The transducer returned by [`take`].
#[derive(Clone, Debug)]
pub struct TakeFirst {
    remaining: usize,
}

impl<T> Transducer<T> for TakeFirst {
    type Out = T;

    fn step(&mut self, input: T, out: &mut Vec<T>) -> ControlFlow<()> {
        if self.remaining == 0 {
            return ControlFlow::Break(());
        }
        out.push(input);
        self.remaining -= 1;
        if self.remaining == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

//! `dedupe`: drops a message equal to the one before it.

use std::ops::ControlFlow;

use super::super::Transducer;

/// Drops every message equal to the message just before it, so runs of equal messages become
/// one: Clojure's `(dedupe)`, as [`SourceExt::dedupe`](crate::stream::SourceExt::dedupe).
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, SourceExt, xform};
///
/// # weir::runtime::block_on(async {
/// let changes = stream::iter([1, 1, 2, 1, 1]).transform(xform::dedupe());
/// assert_eq!(changes.collect::<Vec<_>>().await, vec![1, 2, 1]);
/// # });
/// ```
pub fn dedupe<T>() -> Dedupe<T> {
    Dedupe { last: None }
}

/// The transducer returned by [`dedupe`].
#[derive(Clone, Debug)]
pub struct Dedupe<T> {
    last: Option<T>,
}

impl<T: PartialEq + Clone> Transducer<T> for Dedupe<T> {
    type Out = T;

    fn step(&mut self, input: T, out: &mut Vec<T>) -> ControlFlow<()> {
        if self.last.as_ref() != Some(&input) {
            out.push(input.clone());
            self.last = Some(input);
        }
        ControlFlow::Continue(())
    }
}

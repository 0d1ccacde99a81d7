//! `partition_all`: vectors of `n` messages, the last one possibly shorter.

use std::mem;
use std::ops::ControlFlow;

use super::super::Transducer;

/// Gathers messages into vectors of `n`; the last one, when the stream ends, holds what is
/// left, and no vector is empty: Clojure's `(partition-all n)`, as
/// [`SourceExt::batch`](crate::stream::SourceExt::batch).
///
/// # Panics
///
/// If `n` is zero.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::stream::{self, SourceExt, xform};
///
/// # weir::runtime::block_on(async {
/// let rows = stream::iter(1..=5).transform(xform::partition_all(2));
/// assert_eq!(rows.collect::<Vec<_>>().await, vec![vec![1, 2], vec![3, 4], vec![5]]);
/// # });
/// ```
pub fn partition_all<T>(n: usize) -> PartitionAll<T> {
    assert!(n > 0, "partition_all needs a size of at least 1");
    PartitionAll {
        size: n,
        current: Vec::new(),
    }
}

/// The transducer returned by [`partition_all`].
#[derive(Clone, Debug)]
pub struct PartitionAll<T> {
    size: usize,
    current: Vec<T>,
}

impl<T> Transducer<T> for PartitionAll<T> {
    type Out = Vec<T>;

    fn step(&mut self, input: T, out: &mut Vec<Vec<T>>) -> ControlFlow<()> {
        self.current.push(input);
        if self.current.len() == self.size {
            out.push(mem::take(&mut self.current));
        }
        ControlFlow::Continue(())
    }

    fn finish(&mut self, out: &mut Vec<Vec<T>>) {
        if !self.current.is_empty() {
            out.push(mem::take(&mut self.current));
        }
    }
}

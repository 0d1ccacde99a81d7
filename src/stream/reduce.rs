//! `reduce`: folds a whole source into one value, delivered as a deferred.

use std::pin::{Pin, pin};

use futures_lite::StreamExt;

use crate::{Deferred, Error};

use super::guard::guard;
use super::source::Source;

/// Folds `source` with `f` from `init` on weir's executor; see
/// [`SourceExt::reduce`](super::SourceExt::reduce).
pub(super) fn reduce<S, A, F>(source: S, init: A, mut f: F) -> Deferred<A, Error>
where
    S: Source + 'static,
    A: Send + 'static,
    F: FnMut(A, S::Item) -> A + Send + 'static,
{
    Deferred::spawn(async move {
        let mut source = CloseOnDrop(pin!(source));
        let mut acc = init;
        while let Some(item) = source.0.next().await {
            acc = match guard(|| f(acc, item)) {
                Ok(acc) => acc,
                Err(error) => {
                    source.0.close();
                    return Err(error);
                }
            };
        }
        source.0.drained().peek().unwrap_or(Ok(()))?;
        Ok(acc)
    })
}

/// Closes the source when the fold stops before it is drained: after a panic, or when the
/// deferred is realized by someone else (cancelled) and the task drops the fold.
struct CloseOnDrop<'a, S: Source>(Pin<&'a mut S>);

impl<S: Source> Drop for CloseOnDrop<'_, S> {
    fn drop(&mut self) {
        if !self.0.is_drained() {
            self.0.close();
        }
    }
}

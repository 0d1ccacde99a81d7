//! `consume`, `consume_async`: call a function with every message of a source.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;

use futures_lite::{FutureExt, StreamExt};

use crate::{Deferred, Error};

use super::drain_into::drain_outcome;
use super::source::Source;

/// Calls `f` with every message of `source`, as fast as they come: Manifold's `consume`.
///
/// The returned deferred is realized once `source` is drained: `Ok(())`, or the error that
/// ended the source. If `f` panics, `source` is closed and the deferred is the
/// [panic error](Error::is_panic). The loop runs as a task on weir's executor; realizing the
/// deferred with an error cancels it (the source is dropped, not closed).
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use weir::stream;
///
/// # weir::runtime::block_on(async {
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// stream::consume(stream::iter(1..=3), move |n| sink.lock().unwrap().push(n))
///     .await
///     .unwrap();
/// assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
/// # });
/// ```
pub fn consume<S, F>(mut source: S, mut f: F) -> Deferred<(), Error>
where
    S: Source + 'static,
    F: FnMut(S::Item) + Send + 'static,
{
    source.release_put_role();
    Deferred::spawn(async move {
        let mut source = pin!(source);
        while let Some(message) = source.next().await {
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(message))) {
                source.close();
                return Err(Error::panicked(panic));
            }
        }
        drain_outcome(&*source)
    })
}

/// Calls `f` with every message of `source` and waits for the future it returns before taking
/// the next message; the future's `false` stops consuming: Manifold's `consume-async`.
///
/// The returned deferred is `Ok(())` once `source` is drained or `f`'s future said `false`
/// (then `source` is closed: no more messages are wanted), the error that ended the source, or
/// a [panic error](Error::is_panic) if `f` or its future panicked (then `source` is closed).
/// The loop runs as a task on weir's executor; realizing the deferred with an error cancels it
/// (the source is dropped, not closed).
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use weir::stream;
///
/// # weir::runtime::block_on(async {
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// let done = stream::consume_async(stream::iter(1..), move |n| {
///     sink.lock().unwrap().push(n);
///     async move { n < 3 } // stop after the third message
/// });
/// done.await.unwrap();
/// assert_eq!(*seen.lock().unwrap(), vec![1, 2, 3]);
/// # });
/// ```
pub fn consume_async<S, F, Fut>(mut source: S, mut f: F) -> Deferred<(), Error>
where
    S: Source + 'static,
    S::Item: Send,
    F: FnMut(S::Item) -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    source.release_put_role();
    Deferred::spawn(async move {
        let mut source = pin!(source);
        while let Some(message) = source.next().await {
            let more = match catch_unwind(AssertUnwindSafe(|| f(message))) {
                Ok(future) => AssertUnwindSafe(future).catch_unwind().await,
                Err(panic) => Err(panic),
            };
            match more {
                Ok(true) => {}
                Ok(false) => {
                    source.close();
                    return Ok(());
                }
                Err(panic) => {
                    source.close();
                    return Err(Error::panicked(panic));
                }
            }
        }
        drain_outcome(&*source)
    })
}

//! `put_now`: Manifold's eager `put!`, offered at once and watched through a deferred.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::Deferred;

/// Polls `put` once, at once; if it is not done, drives it to the end on weir's executor. The
/// deferred is realized with its outcome either way, so dropping the deferred does not withdraw
/// the message.
pub(crate) fn put_now<E, F>(put: F) -> Deferred<(), E>
where
    E: Send + 'static,
    F: Future<Output = Result<(), E>> + Send + 'static,
{
    let mut put = Box::pin(put);
    if let Poll::Ready(outcome) = poll_once(put.as_mut()) {
        return Deferred::from(outcome);
    }
    let out = Deferred::new();
    let realizer = out.realizer();
    crate::runtime::spawn_detached(async move {
        let _ = realizer.try_realize(put.await);
    });
    out
}

fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

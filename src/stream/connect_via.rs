//! `connect_via`: feed a source through an asynchronous callback, with backpressure and close
//! propagation.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::task::Poll;

use futures_lite::FutureExt;

use crate::{Deferred, Error};

use super::connect::ConnectOptions;
use super::drain_into::{Link, drain_outcome};
use super::sink::Sink;
use super::source::Source;

/// Feeds every message of `source` to `f`, waiting for the future `f` returns before taking the
/// next message: Manifold's `connect-via`, the building block for operators that are more than
/// a map. `f` typically puts into `sink`, which it captured (a clone of a channel, say); `sink`
/// itself is what the connection watches and closes.
///
/// - The future's `true` asks for the next message; `false` severs the connection.
/// - When `source` is drained, `sink` is closed if `options` has
///   [`downstream`](ConnectOptions::downstream) (the default).
/// - When `sink` closes (noticed as it happens, even while a future of `f` is waiting), or the
///   connection is severed, `source` is closed if `options` has
///   [`upstream`](ConnectOptions::upstream); otherwise it is left open.
/// - If `f` or its future panics, `source` is closed, and `sink` too if `downstream`.
/// - With a [`timeout`](ConnectOptions::timeout), a future of `f` that takes longer ends the
///   connection with a timeout error, closing `sink` (if `downstream`) and `source` (if
///   `upstream`).
/// - The options' [`description`](ConnectOptions::description) labels the graph edge.
///
/// The returned deferred is `Ok(())` when the connection ends normally (source drained, severed,
/// sink closed), the error that ended `source`, or a [panic error](Error::is_panic). While the
/// connection lasts, the stream graph has an edge from `source` to `sink`, labelled with the
/// description or `connect-via`. The work runs as a task on weir's executor; realizing the deferred with an error
/// cancels it (closing nothing).
///
/// # Examples
///
/// ```
/// use weir::stream::{self, Channel, ConnectOptions};
///
/// # weir::runtime::block_on(async {
/// let (source, sink) = (Channel::new(4), Channel::new(4));
/// let out = sink.clone();
/// let done = stream::connect_via(
///     source.clone(),
///     move |n: u32| {
///         let out = out.clone();
///         async move { out.put(n * 2).await.is_ok() }
///     },
///     sink.clone(),
///     ConnectOptions::new(),
/// );
/// source.put(1).await.unwrap();
/// source.put(2).await.unwrap();
/// source.close();
/// done.await.unwrap();
/// assert_eq!((sink.take_next().await, sink.take_next().await), (Some(2), Some(4)));
/// assert_eq!(sink.take_next().await, None, "the sink was closed when the source drained");
/// # });
/// ```
pub fn connect_via<S, F, Fut, K, T>(
    mut source: S,
    mut f: F,
    mut sink: K,
    options: ConnectOptions,
) -> Deferred<(), Error>
where
    S: Source + 'static,
    S::Item: Send,
    F: FnMut(S::Item) -> Fut + Send + 'static,
    Fut: Future<Output = bool> + Send,
    K: Sink<T> + 'static,
{
    source.release_put_role();
    sink.release_take_role();
    let label = options.description.as_deref().unwrap_or("connect-via");
    let link = Link::new(source.node(), sink.node(), label);
    let timeout = options.timeout;
    Deferred::spawn(async move {
        let _link = link;
        let mut source = pin!(source);
        let mut sink = pin!(sink);
        loop {
            let next = poll_fn(|cx| {
                if sink.as_mut().poll_closed(cx).is_ready() {
                    return Poll::Ready(None);
                }
                source.as_mut().poll_next(cx).map(Some)
            })
            .await;
            let message = match next {
                Some(Some(message)) => message,
                Some(None) => {
                    let outcome = drain_outcome(&*source);
                    if options.is_downstream() {
                        close(sink.as_mut()).await;
                    }
                    return outcome;
                }
                None => {
                    if options.is_upstream() {
                        source.close();
                    }
                    return Ok(());
                }
            };
            let step = match catch_unwind(AssertUnwindSafe(|| f(message))) {
                Ok(future) => {
                    let mut future = pin!(AssertUnwindSafe(future).catch_unwind());
                    let mut timer = timeout.map(async_io::Timer::after);
                    let mut timed_out = false;
                    let step = poll_fn(|cx| {
                        if let Poll::Ready(outcome) = future.as_mut().poll(cx) {
                            return Poll::Ready(Some(outcome));
                        }
                        if let Some(timer) = &mut timer {
                            if Pin::new(timer).poll(cx).is_ready() {
                                timed_out = true;
                                return Poll::Ready(None);
                            }
                        }
                        sink.as_mut().poll_closed(cx).map(|()| None)
                    })
                    .await;
                    if timed_out {
                        if options.is_downstream() {
                            sink.close_now();
                        }
                        if options.is_upstream() {
                            source.close();
                        }
                        return Err(Error::timed_out(timeout.unwrap_or_default()));
                    }
                    step
                }
                Err(panic) => Some(Err(panic)),
            };
            match step {
                Some(Ok(true)) => {}
                // Severed, or the sink closed while the callback was waiting.
                Some(Ok(false)) | None => {
                    if options.is_upstream() {
                        source.close();
                    }
                    return Ok(());
                }
                Some(Err(panic)) => {
                    source.close();
                    if options.is_downstream() {
                        sink.close_now();
                    }
                    return Err(Error::panicked(panic));
                }
            }
        }
    })
}

/// Closes `sink`, at once if closing it properly fails.
async fn close<T, K: Sink<T> + ?Sized>(mut sink: Pin<&mut K>) {
    if poll_fn(|cx| sink.as_mut().poll_close(cx)).await.is_err() {
        sink.close_now();
    }
}

//! `drain_into`: put every message of a source into a sink, without closing the sink.

use std::future::poll_fn;
use std::pin::{Pin, pin};
use std::task::Poll;

use crate::{Deferred, Error};

use super::graph::Node;
use super::sink::Sink;
use super::source::Source;

/// Puts every message of `source` into `sink`, one at a time with backpressure (the next
/// message is taken only once `sink` accepted the previous one): Manifold's `drain-into`.
///
/// The returned deferred is realized once `source` is drained (`Ok(())`, or the error that
/// ended the source) or once `sink` closes (`Ok(())`; `source` is then closed too, as nothing
/// will read it). A sink that fails with an error other than closing ends it with that error.
/// `sink` is never closed by `drain_into`, so several sources can be drained into one sink.
///
/// The work runs as a task on weir's executor; while it runs, the stream graph shows an edge
/// labelled `drain-into` from `source` to `sink`. Realizing the returned deferred with an error
/// cancels it: the task stops and drops both (closing neither).
///
/// # Examples
///
/// ```
/// use weir::stream::{self, Channel};
///
/// # weir::runtime::block_on(async {
/// let sink = Channel::new(8);
/// stream::drain_into(stream::iter(1..=2), sink.clone()).await.unwrap();
/// stream::drain_into(stream::iter(3..=4), sink.clone()).await.unwrap();
/// assert!(!sink.is_closed(), "drain_into does not close the sink");
/// sink.close();
/// let mut all = Vec::new();
/// while let Some(n) = sink.take_next().await {
///     all.push(n);
/// }
/// assert_eq!(all, vec![1, 2, 3, 4]);
/// # });
/// ```
pub fn drain_into<S, K>(mut source: S, mut sink: K) -> Deferred<(), Error>
where
    S: Source + 'static,
    S::Item: Send + 'static,
    K: Sink<S::Item> + 'static,
{
    source.release_put_role();
    sink.release_take_role();
    let link = Link::new(source.node(), sink.node(), "drain-into");
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
                Some(None) => return drain_outcome(&*source),
                None => {
                    source.close();
                    return Ok(());
                }
            };
            match send(sink.as_mut(), message).await {
                Sent::Accepted => {}
                Sent::Closed => {
                    source.close();
                    return Ok(());
                }
                Sent::Failed(error) => {
                    source.close();
                    return Err(error);
                }
            }
        }
    })
}

/// How the source ended, once its stream returned `None`.
pub(super) fn drain_outcome<S: Source + ?Sized>(source: &S) -> Result<(), Error> {
    source.drained().peek().unwrap_or(Ok(()))
}

/// How sending one message ended.
pub(super) enum Sent {
    /// The sink accepted it.
    Accepted,
    /// The sink was or became closed before accepting it.
    Closed,
    /// The sink failed otherwise.
    Failed(Error),
}

/// Sends `message` into `sink` and waits until the sink accepted it (its `poll_flush`
/// completed), giving up if the sink closes meanwhile.
pub(super) async fn send<T, K: Sink<T> + ?Sized>(mut sink: Pin<&mut K>, message: T) -> Sent {
    let mut message = Some(message);
    poll_fn(|cx| {
        if let Some(next) = message.take() {
            match sink.as_mut().poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    if let Err(error) = sink.as_mut().start_send(next) {
                        return Poll::Ready(failure(error));
                    }
                }
                Poll::Ready(Err(error)) => return Poll::Ready(failure(error)),
                Poll::Pending => {
                    message = Some(next);
                    return match sink.as_mut().poll_closed(cx) {
                        Poll::Ready(()) => Poll::Ready(Sent::Closed),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
        match sink.as_mut().poll_flush(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Sent::Accepted),
            Poll::Ready(Err(error)) => Poll::Ready(failure(error)),
            Poll::Pending => match sink.as_mut().poll_closed(cx) {
                Poll::Ready(()) => Poll::Ready(Sent::Closed),
                Poll::Pending => Poll::Pending,
            },
        }
    })
    .await
}

fn failure(error: Error) -> Sent {
    if error.is_closed() {
        Sent::Closed
    } else {
        Sent::Failed(error)
    }
}

/// An edge of the stream graph that lasts as long as this value.
pub(super) struct Link {
    from: Node,
    to: Node,
}

impl Link {
    pub(super) fn new(from: Node, to: Node, description: &str) -> Self {
        from.link(Some(description.to_string()), &to);
        Link { from, to }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.from.unlink(&self.to);
    }
}

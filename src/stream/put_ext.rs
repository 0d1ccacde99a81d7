//! `PutExt`: `put`, `try_put` and `put_now` on every weir [`Sink`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_io::Timer;

use crate::{Deferred, Error};

use super::sink::Sink;

/// Manifold's `put!` and `try-put!` on every weir [`Sink`]: channels, [`into_sink`](super::into_sink)
/// sinks, [splices](super::splice), [`sink_only`](super::sink_only) views, connections.
///
/// A put completes once the sink has *accepted* the message (a weir sink's flush means exactly
/// that), so it has the same backpressure as [`Channel::put`](super::Channel::put). A
/// [`Channel`](super::Channel)'s own inherent `put` and `try_put` come first in method lookup
/// and hand a refused message back in a [`PutError`](super::PutError); the methods here work on
/// any sink, which takes a message by value, so they report a failure as a
/// [`weir::Error`](crate::Error) ([`is_closed`](crate::Error::is_closed),
/// [`is_timeout`](crate::Error::is_timeout)).
///
/// None of the names is used by `futures::SinkExt` (whose `send` is the same as `put` on a weir
/// sink), so both traits can be in scope.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// use weir::stream::{self, Channel, PutExt};
///
/// # weir::runtime::block_on(async {
/// let channel = Channel::new(1);
/// let mut writer = stream::sink_only(channel.clone());
/// writer.put("a").await.unwrap();
/// let full = writer.try_put("b", Duration::ZERO).await.unwrap_err();
/// assert!(full.is_timeout());
/// assert_eq!(channel.take_next().await, Some("a"));
/// writer.put_now("c").await.unwrap();
/// assert_eq!(channel.take_next().await, Some("c"));
/// # });
/// ```
pub trait PutExt<T>: Sink<T> {
    /// Puts `message` and completes once the sink accepted it, or with the error that refused
    /// it (a closed sink: [`is_closed`](crate::Error::is_closed)).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before the sink took the message drops the message; once handed to
    /// the sink (a channel's pending put), the message stays with the sink.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel, PutExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let channel = Channel::new(1);
    /// let mut writer = stream::sink_only(channel.clone());
    /// writer.put(1).await.unwrap();
    /// channel.close();
    /// assert!(writer.put(2).await.unwrap_err().is_closed());
    /// # });
    /// ```
    fn put(&mut self, message: T) -> SinkPut<'_, Self, T>
    where
        Self: Unpin,
    {
        SinkPut::new(self, message, None)
    }

    /// Like [`put`](PutExt::put), giving up after `timeout` with a
    /// [timeout error](crate::Error::is_timeout) (zero: only if the sink accepts the message
    /// at once, as far as the sink's [room](Sink::room) tells: a zero-timeout put into a full
    /// channel is not made at all).
    ///
    /// A sink takes a message before it has accepted it (a channel keeps it as a pending put),
    /// and a sink cannot hand a message back: when the time runs out after that, the put fails
    /// with the timeout error but the message stays with the sink, which may still deliver it.
    /// A [`Channel`](super::Channel)'s own [`try_put`](super::Channel::try_put) withdraws it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use weir::stream::{self, Channel, PutExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let channel = Channel::unbuffered();
    /// let mut writer = stream::sink_only(channel.clone());
    /// let nobody_took = writer.try_put(1, Duration::from_millis(5)).await.unwrap_err();
    /// assert!(nobody_took.is_timeout());
    /// # });
    /// ```
    fn try_put(&mut self, message: T, timeout: Duration) -> SinkPut<'_, Self, T>
    where
        Self: Unpin,
    {
        SinkPut::new(self, message, Some(timeout))
    }

    /// Puts `message` at once, on a clone of this sink, and returns a deferred of the outcome:
    /// Manifold's eager `put!`, as [`Channel::put_now`](super::Channel::put_now). The message
    /// is offered before `put_now` returns, and delivered even if the deferred is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::stream::{self, Channel, PutExt};
    ///
    /// # weir::runtime::block_on(async {
    /// let channel = Channel::new(4);
    /// let writer = stream::sink_only(channel.clone());
    /// drop(writer.put_now(7)); // fire and forget
    /// assert_eq!(channel.take_next().await, Some(7));
    /// # });
    /// ```
    fn put_now(&self, message: T) -> Deferred<(), Error>
    where
        Self: Clone + Unpin + Sized + 'static,
        T: Send + 'static,
    {
        let mut sink = self.clone();
        super::put_now::put_now(async move { PutExt::put(&mut sink, message).await })
    }
}

impl<T, S: Sink<T> + ?Sized> PutExt<T> for S {}

/// The future returned by [`PutExt::put`] and [`PutExt::try_put`].
#[must_use = "a put does nothing unless awaited"]
pub struct SinkPut<'a, S: ?Sized, T> {
    sink: &'a mut S,
    message: Option<T>,
    timeout: Option<Duration>,
    timer: Option<Timer>,
}

impl<'a, S: ?Sized, T> SinkPut<'a, S, T> {
    fn new(sink: &'a mut S, message: T, timeout: Option<Duration>) -> Self {
        SinkPut {
            sink,
            message: Some(message),
            timeout,
            timer: None,
        }
    }
}

impl<S: ?Sized, T> Unpin for SinkPut<'_, S, T> {}

impl<S: Sink<T> + Unpin + ?Sized, T> Future for SinkPut<'_, S, T> {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        let mut sink = Pin::new(&mut *this.sink);
        if this.message.is_some() {
            if sink.is_closed() {
                this.message = None;
                return Poll::Ready(Err(Error::closed("sink")));
            }
            if this.timeout.is_some_and(|timeout| timeout.is_zero()) && sink.room() == 0 {
                // A zero-timeout put is made only if it can be accepted at once.
                return Poll::Ready(Err(Error::timed_out(Duration::ZERO)));
            }
            match sink.as_mut().poll_ready(cx) {
                Poll::Ready(Ok(())) => {
                    let message = this.message.take().expect("checked above");
                    sink.as_mut().start_send(message)?;
                }
                Poll::Ready(Err(error)) => {
                    this.message = None;
                    return Poll::Ready(Err(error));
                }
                Poll::Pending => return this.poll_timer(cx),
            }
        }
        match sink.poll_flush(cx) {
            Poll::Ready(outcome) => Poll::Ready(outcome),
            Poll::Pending => this.poll_timer(cx),
        }
    }
}

impl<S: ?Sized, T> SinkPut<'_, S, T> {
    /// Pending, or the timeout error once a `try_put`'s time ran out.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let Some(timeout) = self.timeout else {
            return Poll::Pending;
        };
        if timeout.is_zero() {
            return Poll::Ready(Err(Error::timed_out(timeout)));
        }
        let timer = self.timer.get_or_insert_with(|| Timer::after(timeout));
        match Pin::new(timer).poll(cx) {
            Poll::Ready(_) => Poll::Ready(Err(Error::timed_out(timeout))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: ?Sized, T> fmt::Debug for SinkPut<'_, S, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkPut")
            .field("sent", &self.message.is_none())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

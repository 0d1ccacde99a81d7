//! `writer_sink`: an `AsyncWrite` as a weir sink of chunks.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::bytes::{Buf, Bytes, BytesMut};
use futures_io::AsyncWrite;
use pin_project_lite::pin_project;

use crate::stream::{Node, Sink};
use crate::{Deferred, Error};

use super::IntoBytes;
use crate::stream::Stage;

pin_project! {
    /// A weir sink that writes its messages into an `AsyncWrite`; see [`writer_sink`].
    #[must_use = "sinks do nothing unless used"]
    pub struct WriterSink<W> {
        #[pin]
        writer: W,
        // The message being written.
        pending: Bytes,
        // Realized once the sink is closed: `Ok` for a close, the write error otherwise.
        stage: Stage,
        closed_watch: Option<Deferred<(), Error>>,
    }
}

/// A weir [`Sink`] of chunks (anything [`IntoBytes`]) that writes each into `writer`, with a
/// graph node of kind `writer`: byte-streams' `to-output-stream` / `to-byte-sink`.
///
/// A message counts as accepted once it is completely written: `poll_flush` (and so
/// [`connect`](crate::stream::connect)'s backpressure and `SinkExt::send`) waits for the
/// write and then flushes the writer. Closing the sink (`poll_close`) writes what is pending and
/// closes the writer. A write error is returned from the call that met it and closes the sink.
/// [`Sink::close_now`] refuses further messages at once without closing the writer, which is
/// closed by `poll_close` or dropped with the sink.
///
/// # Examples
///
/// ```
/// use futures::SinkExt;
/// use weir::bytes;
///
/// # weir::runtime::block_on(async {
/// let mut out = Vec::new();
/// let mut sink = bytes::writer_sink(futures_lite::io::Cursor::new(&mut out));
/// sink.send("abc").await.unwrap(); // completes once written
/// sink.send(vec![b'!']).await.unwrap();
/// SinkExt::<&str>::close(&mut sink).await.unwrap();
/// assert!(weir::stream::Sink::<&str>::is_closed(&sink));
/// assert!(sink.send("late").await.unwrap_err().is_closed());
/// drop(sink);
/// assert_eq!(out, b"abc!");
/// # });
/// ```
pub fn writer_sink<W: AsyncWrite + Send>(writer: W) -> WriterSink<W> {
    WriterSink {
        writer,
        pending: Bytes::new(),
        stage: Stage::root("writer"),
        closed_watch: None,
    }
}

impl<W: AsyncWrite> WriterSink<W> {
    /// Writes the pending message out; an error closes the sink.
    fn poll_write_pending(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let mut this = self.project();
        while !this.pending.is_empty() {
            let written = match ready!(this.writer.as_mut().poll_write(cx, this.pending)) {
                Ok(0) => Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => Ok(n),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => Err(error),
            };
            match written {
                Ok(n) => this.pending.advance(n),
                Err(error) => {
                    let error = Error::from(error);
                    this.pending.clear();
                    this.stage.finish(Err(error.clone()));
                    return Poll::Ready(Err(error));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    fn fail(self: Pin<&mut Self>, error: io::Error) -> Error {
        let error = Error::from(error);
        self.project().stage.finish(Err(error.clone()));
        error
    }
}

impl<W: AsyncWrite, T: IntoBytes> futures_sink::Sink<T> for WriterSink<W> {
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.poll_write_pending(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: T) -> Result<(), Error> {
        let this = self.project();
        if this.stage.is_finished() {
            return Err(Error::closed("writer sink"));
        }
        let message = message.into_bytes();
        if this.pending.is_empty() {
            *this.pending = message;
        } else {
            // `poll_ready` was skipped: keep both rather than lose one.
            let mut both = BytesMut::with_capacity(this.pending.len() + message.len());
            both.extend_from_slice(this.pending);
            both.extend_from_slice(&message);
            *this.pending = both.freeze();
        }
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.as_mut().poll_write_pending(cx))?;
        match ready!(self.as_mut().project().writer.poll_flush(cx)) {
            Ok(()) => Poll::Ready(Ok(())),
            Err(error) => Poll::Ready(Err(self.fail(error))),
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.as_mut().poll_write_pending(cx))?;
        match ready!(self.as_mut().project().writer.poll_close(cx)) {
            Ok(()) => {
                self.project().stage.close();
                Poll::Ready(Ok(()))
            }
            Err(error) => Poll::Ready(Err(self.fail(error))),
        }
    }
}

impl<W: AsyncWrite + Send, T: IntoBytes> Sink<T> for WriterSink<W> {
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn poll_closed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let watch = this
            .closed_watch
            .get_or_insert_with(|| this.stage.drained());
        Pin::new(watch).poll(cx).map(|_| ())
    }

    fn is_closed(&self) -> bool {
        self.stage.is_finished()
    }

    fn close_now(&self) {
        self.stage.close();
    }
}

impl<W> fmt::Debug for WriterSink<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriterSink")
            .field("pending", &self.pending.len())
            .field("closed", &self.stage.is_finished())
            .finish_non_exhaustive()
    }
}

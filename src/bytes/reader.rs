//! `from_reader`: an `AsyncRead` as a source of chunks.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::bytes::{Bytes, BytesMut};
use futures_io::AsyncRead;
use pin_project_lite::pin_project;

use crate::stream::{Node, Source};
use crate::{Deferred, Error};

use crate::stream::Stage;

pin_project! {
    /// A source of the chunks read from an `AsyncRead`; see [`from_reader`].
    #[must_use = "sources do nothing unless polled"]
    pub struct FromReader<R> {
        #[pin]
        reader: R,
        buf: BytesMut,
        chunk_size: usize,
        stage: Stage,
    }
}

/// A source of the bytes read from `reader`, in chunks of at most `chunk_size` bytes (each
/// chunk is what one read returned), with a graph node of kind `reader`: byte-streams'
/// conversion of an `InputStream` to a sequence of buffers.
///
/// The source drains cleanly at the reader's end of file. A read error (other than
/// `Interrupted`, which is retried) ends it with the error as its drain cause
/// ([`Source::drained`]), an [I/O error](Error::is_io) whose source is the `io::Error`. Closing
/// the source ends it at once; the reader is dropped with the source.
///
/// Backpressure comes free: the reader is read only when a chunk is asked for.
///
/// # Panics
///
/// If `chunk_size` is 0.
///
/// # Examples
///
/// ```
/// use futures_lite::StreamExt;
/// use weir::bytes;
/// use weir::stream::Source;
///
/// # weir::runtime::block_on(async {
/// let reader = futures_lite::io::Cursor::new(b"hello world".to_vec());
/// let source = bytes::from_reader(reader, 4);
/// let drained = source.drained();
/// let chunks: Vec<_> = source.collect().await;
/// assert_eq!(chunks, ["hell", "o wo", "rld"]);
/// assert!(drained.await.is_ok());
/// # });
/// ```
pub fn from_reader<R: AsyncRead + Send>(reader: R, chunk_size: usize) -> FromReader<R> {
    FromReader::with_kind(reader, chunk_size, "reader")
}

impl<R> FromReader<R> {
    pub(super) fn with_kind(reader: R, chunk_size: usize, kind: &'static str) -> Self {
        assert!(
            chunk_size > 0,
            "weir::bytes::from_reader: the chunk size must be at least 1"
        );
        FromReader {
            reader,
            buf: BytesMut::new(),
            chunk_size,
            stage: Stage::root(kind),
        }
    }
}

impl<R: AsyncRead> futures_core::Stream for FromReader<R> {
    type Item = Bytes;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let mut this = self.project();
        loop {
            if this.stage.is_finished() {
                return Poll::Ready(None);
            }
            // Zeroed once per allocation: after a chunk is split off, the rest of the
            // allocation is reused.
            this.buf.resize(*this.chunk_size, 0);
            match ready!(this.reader.as_mut().poll_read(cx, &mut this.buf[..])) {
                Ok(0) => {
                    this.buf.clear();
                    this.stage.finish(Ok(()));
                    return Poll::Ready(None);
                }
                Ok(n) => {
                    let n = n.min(*this.chunk_size);
                    return Poll::Ready(Some(this.buf.split_to(n).freeze()));
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    this.buf.clear();
                    this.stage.finish(Err(Error::from(error)));
                    return Poll::Ready(None);
                }
            }
        }
    }
}

impl<R: AsyncRead + Send> Source for FromReader<R> {
    fn node(&self) -> Node {
        self.stage.node()
    }

    fn close(&self) {
        self.stage.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage.drained()
    }
}

impl<R> fmt::Debug for FromReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FromReader")
            .field("chunk_size", &self.chunk_size)
            .field("finished", &self.stage.is_finished())
            .finish_non_exhaustive()
    }
}

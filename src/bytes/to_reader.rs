//! `to_reader`: a source of chunks as an `AsyncRead`.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::bytes::{Buf, Bytes};
use futures_io::{AsyncBufRead, AsyncRead};
use pin_project_lite::pin_project;

use crate::Error;
use crate::stream::Source;

use super::IntoBytes;

pin_project! {
    /// An `AsyncRead` over a source of chunks; see [`to_reader`].
    pub struct SourceReader<S: Source> {
        #[pin]
        source: S,
        chunk: Bytes,
        ended: bool,
        failed: Option<Error>,
    }

    impl<S: Source> PinnedDrop for SourceReader<S> {
        fn drop(this: Pin<&mut Self>) {
            if !this.ended {
                this.source.close();
            }
        }
    }
}

/// An `AsyncRead` (and `AsyncBufRead`) of the bytes of a source of chunks: byte-streams'
/// `to-input-stream` of a stream.
///
/// Reads return bytes from the current chunk, taking the next one from the source only when it
/// is used up, so the source is read no faster than the reader is. The reader holds one chunk at
/// most. At the source's end it returns end of file; if the source ended with an error (its
/// drain cause), reads return that error instead, converted to an `io::Error` whose inner error
/// is the [`weir::Error`](crate::Error). Dropping the reader before the end closes the source.
///
/// # Examples
///
/// ```
/// use futures_lite::AsyncReadExt;
/// use weir::{bytes, stream};
///
/// # weir::runtime::block_on(async {
/// let mut reader = bytes::to_reader(stream::iter(vec!["one ", "two"]));
/// let mut text = String::new();
/// reader.read_to_string(&mut text).await.unwrap();
/// assert_eq!(text, "one two");
/// # });
/// ```
pub fn to_reader<S>(source: S) -> SourceReader<S>
where
    S: Source,
    S::Item: IntoBytes,
{
    SourceReader {
        source,
        chunk: Bytes::new(),
        ended: false,
        failed: None,
    }
}

impl<S> SourceReader<S>
where
    S: Source,
    S::Item: IntoBytes,
{
    /// Makes sure the current chunk is not empty, unless the source has ended.
    fn poll_chunk(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        while this.chunk.is_empty() {
            if let Some(error) = this.failed {
                return Poll::Ready(Err(io::Error::from(error.clone())));
            }
            if *this.ended {
                return Poll::Ready(Ok(()));
            }
            match ready!(this.source.as_mut().poll_next(cx)) {
                Some(item) => *this.chunk = item.into_bytes(),
                None => {
                    *this.ended = true;
                    if let Some(Err(cause)) = this.source.drained().peek() {
                        *this.failed = Some(cause);
                    }
                }
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S> AsyncRead for SourceReader<S>
where
    S: Source,
    S::Item: IntoBytes,
{
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready!(self.as_mut().poll_chunk(cx))?;
        let this = self.project();
        let n = buf.len().min(this.chunk.len());
        buf[..n].copy_from_slice(&this.chunk[..n]);
        this.chunk.advance(n);
        Poll::Ready(Ok(n))
    }
}

impl<S> AsyncBufRead for SourceReader<S>
where
    S: Source,
    S::Item: IntoBytes,
{
    fn poll_fill_buf(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(self.as_mut().poll_chunk(cx))?;
        Poll::Ready(Ok(&self.project().chunk[..]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let chunk = self.project().chunk;
        let amt = amt.min(chunk.len());
        chunk.advance(amt);
    }
}

impl<S: Source + fmt::Debug> fmt::Debug for SourceReader<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceReader")
            .field("source", &self.source)
            .field("buffered", &self.chunk.len())
            .field("ended", &self.ended)
            .finish()
    }
}

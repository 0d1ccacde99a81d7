//! `transfer`: a source of chunks copied into an `AsyncWrite`, with backpressure.

use futures_io::AsyncWrite;
use futures_lite::AsyncWriteExt;

use crate::stream::Source;
use crate::{Deferred, Error};

use super::IntoBytes;
use super::owned::Owned;

/// Options for [`transfer`].
///
/// # Examples
///
/// ```
/// let keep_open = weir::bytes::TransferOptions::new().close(false);
/// assert!(!keep_open.closes());
/// assert!(weir::bytes::TransferOptions::default().closes());
/// ```
#[derive(Clone, Debug)]
pub struct TransferOptions {
    close: bool,
}

impl TransferOptions {
    /// The defaults: the writer is closed at the end.
    pub fn new() -> Self {
        TransferOptions { close: true }
    }

    /// Whether the writer is closed (`AsyncWrite::poll_close`: for a socket, a shutdown of its
    /// write half; for TLS, a close notification) once the source has ended. Default true, as
    /// byte-streams' `:close?`. With false it is only flushed, then dropped with the transfer.
    pub fn close(mut self, close: bool) -> Self {
        self.close = close;
        self
    }

    /// True if the writer will be closed at the end.
    pub fn closes(&self) -> bool {
        self.close
    }
}

impl Default for TransferOptions {
    fn default() -> Self {
        TransferOptions::new()
    }
}

/// Copies a source of chunks into `writer`: byte-streams' `transfer`. The deferred gives the
/// number of bytes written.
///
/// - Backpressure: each chunk is written completely before the next one is taken from the
///   source, so at most one chunk is in flight and a slow writer slows the source down.
/// - At the source's end the writer is flushed, then closed if
///   [`TransferOptions::close`] says so (the default). If the source ended with an error (its
///   drain cause), the writer is flushed and closed all the same and the deferred fails with
///   that cause.
/// - A write error fails the deferred with an [I/O error](Error::is_io) and closes the source;
///   the writer is dropped without being closed.
/// - The copying runs as a task on weir's executor; realizing the deferred first (for example
///   with [`Error::cancelled`]) cancels it, closes the source and drops the writer.
///
/// To copy into a weir [`Sink`](crate::stream::Sink) instead, [`connect`](crate::stream::connect)
/// the source to it; [`writer_sink`](super::writer_sink) makes a sink of a writer.
///
/// # Examples
///
/// ```
/// use weir::bytes::{self, TransferOptions};
/// use weir::stream;
///
/// # weir::runtime::block_on(async {
/// let source = stream::iter(vec!["hello ", "world"]);
/// let written = bytes::transfer(source, Vec::<u8>::new(), TransferOptions::new()).await;
/// assert_eq!(written.unwrap(), 11);
///
/// // Into a writer that refuses everything: the error, and the source is closed.
/// let source = stream::Channel::<&str>::new(4);
/// source.put("x").await.unwrap();
/// let failed = bytes::transfer(source.clone(), Failing, TransferOptions::new()).await;
/// assert!(failed.unwrap_err().is_io());
/// assert!(source.is_closed());
/// # });
/// # struct Failing;
/// # impl futures_io::AsyncWrite for Failing {
/// #     fn poll_write(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>, _: &[u8])
/// #         -> std::task::Poll<std::io::Result<usize>> {
/// #         std::task::Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()))
/// #     }
/// #     fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>)
/// #         -> std::task::Poll<std::io::Result<()>> { std::task::Poll::Ready(Ok(())) }
/// #     fn poll_close(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>)
/// #         -> std::task::Poll<std::io::Result<()>> { std::task::Poll::Ready(Ok(())) }
/// # }
/// ```
pub fn transfer<S, W>(source: S, writer: W, options: TransferOptions) -> Deferred<u64, Error>
where
    S: Source + 'static,
    S::Item: IntoBytes,
    W: AsyncWrite + Send + 'static,
{
    Deferred::spawn(copy(source, writer, options.close))
}

/// Writes every chunk of `source` into `writer`, then flushes it and closes it if `close`.
pub(super) async fn copy<S, W>(source: S, writer: W, close: bool) -> Result<u64, Error>
where
    S: Source,
    S::Item: IntoBytes,
    W: AsyncWrite,
{
    let mut source = Owned::new(source);
    let mut writer = Box::pin(writer);
    let mut written = 0u64;
    loop {
        let Some(item) = source.next().await else {
            break;
        };
        let chunk = item.into_bytes();
        // On error, dropping `source` before its end closes it.
        writer.write_all(&chunk).await?;
        written += chunk.len() as u64;
    }
    let outcome = source.outcome().await;
    let finished = async {
        writer.flush().await?;
        if close {
            writer.close().await?;
        }
        Ok::<_, Error>(())
    }
    .await;
    outcome?;
    finished?;
    Ok(written)
}

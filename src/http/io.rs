//! The futures-io adapters: hyper's `rt::Read`/`rt::Write` over weir's transports, bytes read
//! ahead replayed first, and upgraded connections handed back as futures-io.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use futures_io::{AsyncRead, AsyncWrite};

/// Size of the per-thread buffer reads land in before hyper gets them.
const SCRATCH: usize = 64 * 1024;

thread_local! {
    /// Reads go here and are copied into hyper's buffer: hyper hands out uninitialized
    /// memory, and filling it safely would mean zeroing its whole free space on every read
    /// (what futures-io adapters usually do). One buffer per thread, not per connection, so
    /// idle connections hold none.
    static SCRATCH_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; SCRATCH].into_boxed_slice());
}

/// The `futures_io::AsyncWrite` methods of a wrapper, each handed to its `$field`: a wrapper that
/// changes only what is read.
macro_rules! write_through {
    ($field:ident) => {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::pin::Pin::new(&mut self.get_mut().$field).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            bufs: &[std::io::IoSlice<'_>],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::pin::Pin::new(&mut self.get_mut().$field).poll_write_vectored(cx, bufs)
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.get_mut().$field).poll_flush(cx)
        }

        fn poll_close(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::pin::Pin::new(&mut self.get_mut().$field).poll_close(cx)
        }
    };
}
pub(crate) use write_through;

/// A transport with bytes already read from it (a peeked preface) replayed first.
#[derive(Debug)]
pub(crate) struct Prefixed<T> {
    pub(crate) prefix: Bytes,
    pub(crate) io: T,
}

impl<T> Prefixed<T> {
    pub(crate) fn new(prefix: Bytes, io: T) -> Prefixed<T> {
        Prefixed { prefix, io }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Prefixed<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.prefix.is_empty() {
            let n = this.prefix.len().min(buf.len());
            buf[..n].copy_from_slice(&this.prefix[..n]);
            this.prefix.advance(n);
            if this.prefix.is_empty() {
                // Let go of the allocation: a connection keeps its transport for its life.
                this.prefix = Bytes::new();
            }
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Prefixed<T> {
    write_through!(io);
}

/// A futures-io transport as hyper's I/O.
#[derive(Debug)]
pub(crate) struct HyperIo<T> {
    pub(crate) io: T,
    vectored: bool,
    /// Turns hyper's `431` for a too-long request line into `414` (HTTP/1.1 servers).
    lines: Option<super::uri_limit::LineTracker>,
}

impl<T> HyperIo<T> {
    pub(crate) fn new(io: T, vectored: bool) -> HyperIo<T> {
        HyperIo {
            io,
            vectored,
            lines: None,
        }
    }

    /// Answers a request line longer than `limit` with `414` rather than hyper's `431`.
    pub(crate) fn uri_limit(mut self, limit: usize) -> HyperIo<T> {
        self.lines = Some(super::uri_limit::LineTracker::new(limit));
        self
    }
}

impl<T: AsyncWrite + Unpin> HyperIo<T> {
    /// Writes the `414` status line in place of hyper's `431` one, if that swap is armed:
    /// `None` when it is not.
    fn poll_swap(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<Poll<io::Result<usize>>> {
        let lines = self.lines.as_mut()?;
        lines.check(buf);
        loop {
            let replacement = lines.replacement()?;
            let n = match Pin::new(&mut self.io).poll_write(cx, replacement) {
                Poll::Ready(Ok(n)) => n,
                other => return Some(other),
            };
            if n == 0 {
                return Some(Poll::Ready(Ok(0)));
            }
            if let Some(stands_for) = lines.wrote(n) {
                return Some(Poll::Ready(Ok(stands_for)));
            }
        }
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let want = buf.remaining().min(SCRATCH);
        if want == 0 {
            return Poll::Ready(Ok(()));
        }
        SCRATCH_BUFFER.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let n = ready!(Pin::new(&mut this.io).poll_read(cx, &mut scratch[..want]))?;
            if let Some(lines) = &mut this.lines {
                lines.read(&scratch[..n]);
            }
            buf.put_slice(&scratch[..n]);
            Poll::Ready(Ok(()))
        })
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(swapped) = this.poll_swap(cx, buf) {
            return swapped;
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            if let Some(swapped) = this.poll_swap(cx, first) {
                return swapped;
            }
        }
        Pin::new(&mut this.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_close(cx)
    }
}

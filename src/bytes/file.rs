//! Files: `read_file`, `file_source`, `write_file`, `file_sink`, through async-fs.

use std::fmt;
use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use ::bytes::Bytes;
use async_fs::File;
use futures_io::AsyncRead;

use crate::stream::{Node, Source};
use crate::{Deferred, Error};

use super::reader::FromReader;
use super::writer_sink::{WriterSink, writer_sink};
use super::{IntoBytes, collect, transfer};

/// The chunk size of [`read_file`].
const READ_CHUNK: usize = 64 * 1024;

/// Reads the whole file at `path`, up to `limit` bytes: byte-streams' conversion of a `File` to
/// bytes. A file longer than `limit` is a [protocol error](Error::is_protocol) and no more than
/// `limit` bytes (plus one read) are held; a missing or unreadable file is an
/// [I/O error](Error::is_io) naming the path.
///
/// # Examples
///
/// ```
/// use weir::bytes;
///
/// # weir::runtime::block_on(async {
/// let path = std::env::temp_dir().join(format!("weir-doc-read-{}", std::process::id()));
/// std::fs::write(&path, "contents").unwrap();
/// assert_eq!(bytes::read_file(&path, 1024).await.unwrap(), "contents");
/// assert!(bytes::read_file(&path, 4).await.unwrap_err().is_protocol());
/// std::fs::remove_file(&path).unwrap();
/// assert!(bytes::read_file(&path, 1024).await.unwrap_err().is_io());
/// # });
/// ```
pub fn read_file(path: impl AsRef<Path>, limit: usize) -> Deferred<Bytes, Error> {
    let chunk = READ_CHUNK.min(limit.saturating_add(1));
    Deferred::spawn(collect::collect(file_source(path, chunk), limit))
}

/// A source of the bytes of the file at `path`, in chunks of at most `chunk_size` bytes, with a
/// graph node of kind `file`: byte-streams' `File → (seq-of ByteBuffer)`.
///
/// The file is opened when the first chunk is asked for. Failing to open or read it ends the
/// source with an [I/O error](Error::is_io) naming the path as its drain cause; otherwise it
/// drains cleanly at the end of the file. Like [`from_reader`](super::from_reader) it reads
/// only as fast as it is consumed.
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
/// let path = std::env::temp_dir().join(format!("weir-doc-source-{}", std::process::id()));
/// std::fs::write(&path, "abcde").unwrap();
/// let chunks: Vec<_> = bytes::file_source(&path, 2).collect().await;
/// assert_eq!(chunks, ["ab", "cd", "e"]);
/// std::fs::remove_file(&path).unwrap();
///
/// let missing = bytes::file_source(&path, 2);
/// let drained = missing.drained();
/// assert_eq!(missing.count().await, 0);
/// assert!(drained.await.unwrap_err().is_io());
/// # });
/// ```
pub fn file_source(path: impl AsRef<Path>, chunk_size: usize) -> FileSource {
    let path = path.as_ref().to_path_buf();
    let open = Box::pin(async move {
        File::open(&path)
            .await
            .map_err(|error| io_with_path(error, &path))
    });
    FileSource {
        inner: FromReader::with_kind(LazyFile::Opening(open), chunk_size, "file"),
    }
}

/// Writes a source of chunks into the file at `path`, created or truncated, and closes it at
/// the end: byte-streams' `transfer` into a `File`. The deferred gives the number of bytes
/// written. As [`transfer`](super::transfer): one chunk at a time with backpressure, the
/// source's drain cause fails it, a write error fails it and closes the source. Failing to
/// create the file is an [I/O error](Error::is_io) naming the path.
///
/// # Examples
///
/// ```
/// use weir::{bytes, stream};
///
/// # weir::runtime::block_on(async {
/// let path = std::env::temp_dir().join(format!("weir-doc-write-{}", std::process::id()));
/// let written = bytes::write_file(&path, stream::iter(vec!["ab", "cd"])).await.unwrap();
/// assert_eq!(written, 4);
/// assert_eq!(std::fs::read(&path).unwrap(), b"abcd");
/// std::fs::remove_file(&path).unwrap();
/// # });
/// ```
pub fn write_file<S>(path: impl AsRef<Path>, source: S) -> Deferred<u64, Error>
where
    S: Source + 'static,
    S::Item: IntoBytes,
{
    let path = path.as_ref().to_path_buf();
    Deferred::spawn(async move {
        let file = File::create(&path)
            .await
            .map_err(|error| with_path(error, &path))?;
        transfer::copy(source, file, true).await
    })
}

/// A deferred [`writer_sink`](super::writer_sink) over the file at `path`, created or
/// truncated: a weir sink of chunks that writes each into the file. Closing the sink closes the
/// file; connecting a source to it ([`connect`](crate::stream::connect)) does so at the
/// source's end.
///
/// # Examples
///
/// ```
/// use weir::{bytes, stream};
///
/// # weir::runtime::block_on(async {
/// let path = std::env::temp_dir().join(format!("weir-doc-sink-{}", std::process::id()));
/// let sink = bytes::file_sink(&path).await.unwrap();
/// let source = stream::iter(vec!["one ", "two"]);
/// stream::connect(source, sink, stream::ConnectOptions::new()).await.unwrap();
/// assert_eq!(std::fs::read_to_string(&path).unwrap(), "one two");
/// std::fs::remove_file(&path).unwrap();
/// # });
/// ```
pub fn file_sink(path: impl AsRef<Path>) -> Deferred<WriterSink<File>, Error> {
    let path = path.as_ref().to_path_buf();
    Deferred::spawn(async move {
        let file = File::create(&path)
            .await
            .map_err(|error| with_path(error, &path))?;
        Ok(writer_sink(file))
    })
}

/// The I/O error, with the path in its message and its kind kept.
fn io_with_path(error: io::Error, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

/// As [`io_with_path`], as a weir error.
fn with_path(error: io::Error, path: &Path) -> Error {
    Error::from(io_with_path(error, path))
}

/// A source of the chunks of a file; see [`file_source`].
#[must_use = "sources do nothing unless polled"]
pub struct FileSource {
    inner: FromReader<LazyFile>,
}

impl futures_core::Stream for FileSource {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

impl Source for FileSource {
    fn node(&self) -> Node {
        self.inner.node()
    }

    fn close(&self) {
        self.inner.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.inner.drained()
    }
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSource")
            .field("inner", &self.inner)
            .finish()
    }
}

type Open = Pin<Box<dyn Future<Output = io::Result<File>> + Send>>;

/// A file opened on its first read.
enum LazyFile {
    Opening(Open),
    Open(File),
}

impl AsyncRead for LazyFile {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            match &mut *self {
                LazyFile::Opening(open) => {
                    let file = ready!(open.as_mut().poll(cx))?;
                    *self = LazyFile::Open(file);
                }
                LazyFile::Open(file) => return Pin::new(file).poll_read(cx, buf),
            }
        }
    }
}

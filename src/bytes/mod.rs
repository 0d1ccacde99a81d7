//! Bytes: conversions among byte buffers, strings, weir sources of chunks, async readers and
//! writers, and files. The Rust counterpart of Clojure's byte-streams.
//!
//! The currency is [`Bytes`]: a cheap, reference-counted, sliceable buffer.
//! Everything that holds bytes converts into it through [`IntoBytes`], without copying when it
//! can; a stream of bytes is a weir [`Source`](crate::stream::Source) of chunks, each anything
//! that is [`IntoBytes`]. Functions that turn a source into a reader, a string, lines or a file
//! are plain functions in this module.
//!
//! ```
//! use weir::bytes::{self, IntoBytes};
//! use weir::stream;
//!
//! # weir::runtime::block_on(async {
//! // A stream of chunks of mixed types, collected with a size limit.
//! let chunks = stream::iter(vec!["hello, ".into_bytes(), b"world".into_bytes()]);
//! let all = bytes::to_string(chunks, 1024).await.unwrap();
//! assert_eq!(all, "hello, world");
//!
//! // Past the limit is an error, never unbounded growth.
//! let big = bytes::chunks(vec![0u8; 100], 10);
//! assert!(bytes::to_bytes(big, 50).await.unwrap_err().is_protocol());
//! # });
//! ```
//!
//! Everything that collects a whole stream takes a size limit. Errors are [`weir::Error`]s: a
//! stream longer than its limit, a line longer than its maximum and invalid UTF-8 are
//! [protocol errors](crate::Error::is_protocol), since the bytes usually come from a peer; a
//! failing reader or writer is an [I/O error](crate::Error::is_io). A source built on a reader
//! reports the I/O error that ended it as its drain cause ([`Source::drained`]).
//!
//! [`weir::Error`]: crate::Error
//! [`Source::drained`]: crate::stream::Source::drained
//!
//! # From byte-streams
//!
//! byte-streams finds a conversion path through a graph of types at run time (`convert`). Rust
//! says the types up front, so weir has one trait for "anything that holds bytes" and a named
//! function per conversion instead.
//!
//! | byte-streams (`clj-commons.byte-streams`) | weir |
//! |---|---|
//! | `convert x bytes`, `to-byte-array`, `to-byte-buffer` | [`IntoBytes::into_bytes`] (`Bytes`, `BytesMut`, `Vec<u8>`, `&[u8]`, `String`, `&str`, arrays) |
//! | bytes → `Vec<u8>`, `BytesMut` | the `bytes` crate's own `Vec::from(bytes)`, `BytesMut::from(bytes)` |
//! | `to-string` of one buffer (`:encoding` UTF-8) | [`decode_utf8`] (invalid UTF-8 is an error), [`decode_utf8_lossy`] |
//! | `to-byte-buffers` with `:chunk-size` (`vector-of ByteBuffer`) | [`chunks`]: a source of zero-copy slices |
//! | `convert (stream-of bytes) bytes`, `to-byte-array` of a stream | [`to_bytes`] (with a limit) |
//! | `to-string` of a stream | [`to_string`], [`to_string_lossy`] (with a limit) |
//! | `to-input-stream` of a stream (`:buffer-size`) | [`to_reader`]: an `AsyncRead` and `AsyncBufRead` |
//! | `to-byte-source`, `convert InputStream (seq-of ByteBuffer)` (`:chunk-size`) | [`from_reader`]: a source of chunks that ends with the I/O error as its drain cause |
//! | `to-line-seq`, `to-reader` | [`lines`] (with a maximum line length) |
//! | `convert File ...` (read), `File → (seq-of ByteBuffer)` | [`read_file`] (with a limit), [`file_source`] |
//! | `convert File WritableByteChannel`, `transfer x File` | [`write_file`], [`file_sink`] |
//! | `to-output-stream`, `to-byte-sink` | [`writer_sink`]: any `AsyncWrite` as a weir [`Sink`](crate::stream::Sink) |
//! | `transfer` with `:close?`, `:chunk-size` | [`transfer`] with [`TransferOptions`]; into a weir sink: [`stream::connect`](crate::stream::connect) to a [`writer_sink`] or any sink |
//! | `dev-null` | `futures_lite::io::sink()` as the writer of [`transfer`] |
//! | `compare-bytes`, `bytes=` | [`compare_bytes`]; `==` on slices |
//! | `print-bytes` | [`hex_dump`] (returns the text rather than printing it) |
//! | `conversion-path`, `possible-conversions`, `def-conversion`, `def-transfer`, `optimized-transfer?` | not needed: conversions are named functions and trait impls, chosen at compile time |
//! | `to-char-sequence`, `:encoding` other than UTF-8 | not provided: Rust strings are UTF-8 |
//!
//! Framing (lines, length prefixes, delimiters on a duplex stream) is a separate concern: this
//! module only converts.

mod chunks;
mod collect;
mod compare;
mod decode;
mod file;
mod hex;
mod lines;
mod owned;
mod reader;
mod to_reader;
mod transfer;
mod writer_sink;

pub use chunks::{Chunks, chunks};
pub use collect::{to_bytes, to_string, to_string_lossy};
pub use compare::compare_bytes;
pub use decode::{decode_utf8, decode_utf8_lossy};
pub use file::{FileSource, file_sink, file_source, read_file, write_file};
pub use hex::hex_dump;
pub use lines::{Lines, lines};
pub use reader::{FromReader, from_reader};
pub use to_reader::{SourceReader, to_reader};
pub use transfer::{TransferOptions, transfer};
pub use writer_sink::{WriterSink, writer_sink};

use ::bytes::{Bytes, BytesMut};

use crate::Error;

/// Anything that holds bytes, converted into [`Bytes`] without copying when it can.
///
/// Owned buffers (`Bytes`, `BytesMut`, `Vec<u8>`, `Box<[u8]>`, `String`) are taken over as
/// they are; borrowed ones (`&[u8]`, `&str`, `&Vec<u8>`, `&String`, byte arrays) are copied;
/// `&Bytes` is a reference count. Every weir function that takes a stream of bytes accepts a
/// source of any of these.
///
/// `String` has an inherent `into_bytes` that returns its `Vec<u8>` and wins over this trait's
/// method in `s.into_bytes()`; that `Vec<u8>` is itself `IntoBytes`, and
/// `IntoBytes::into_bytes(s)` gives the `Bytes` directly (without copying either way).
///
/// # Examples
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use weir::bytes::IntoBytes;
///
/// let from_vec = vec![1u8, 2, 3].into_bytes();
/// let from_str = "abc".into_bytes();
/// let from_mut = BytesMut::from(&b"xyz"[..]).into_bytes();
/// assert_eq!(from_vec, Bytes::from_static(&[1, 2, 3]));
/// assert_eq!(from_str, "abc");
/// assert_eq!(from_mut, &b"xyz"[..]);
/// assert_eq!(IntoBytes::into_bytes(String::from("hé")), "hé");
/// ```
pub trait IntoBytes {
    /// The bytes.
    fn into_bytes(self) -> Bytes;
}

impl IntoBytes for Bytes {
    fn into_bytes(self) -> Bytes {
        self
    }
}

impl IntoBytes for &Bytes {
    fn into_bytes(self) -> Bytes {
        self.clone()
    }
}

impl IntoBytes for BytesMut {
    fn into_bytes(self) -> Bytes {
        self.freeze()
    }
}

impl IntoBytes for Vec<u8> {
    fn into_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl IntoBytes for &Vec<u8> {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl IntoBytes for Box<[u8]> {
    fn into_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl IntoBytes for &[u8] {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl<const N: usize> IntoBytes for [u8; N] {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(&self)
    }
}

impl<const N: usize> IntoBytes for &[u8; N] {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl IntoBytes for String {
    fn into_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl IntoBytes for &String {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }
}

impl IntoBytes for &str {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self.as_bytes())
    }
}

impl IntoBytes for std::borrow::Cow<'_, str> {
    fn into_bytes(self) -> Bytes {
        match self {
            std::borrow::Cow::Owned(s) => Bytes::from(s),
            std::borrow::Cow::Borrowed(s) => Bytes::copy_from_slice(s.as_bytes()),
        }
    }
}

/// The error for a stream longer than the limit it was collected with.
fn over_limit(limit: usize) -> Error {
    Error::protocol(format!("stream longer than the limit of {limit} bytes"))
}

/// The error for invalid UTF-8 found `offset` bytes into what was being decoded.
fn invalid_utf8(error: std::str::Utf8Error, offset: usize) -> Error {
    let at = offset + error.valid_up_to();
    Error::protocol(format!("invalid UTF-8 at byte {at}"))
}

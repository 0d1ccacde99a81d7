//! Framing: codecs that turn streams of bytes into streams of frames and back.
//!
//! Bytes arrive from the network in chunks that have nothing to do with the messages they
//! carry. A codec says where each message, or frame, begins and ends: a [`Decoder`] takes
//! frames off the front of a buffer, an [`Encoder`] appends an item's bytes to one. The
//! adapters put codecs to work on weir's streams:
//!
//! - [`decode`]: a [`Source`](crate::stream::Source) of byte chunks becomes a lazy source of
//!   frames; malformed or oversized input, or input that ends mid-frame, ends it with a
//!   [protocol error](crate::Error::is_protocol) as its drain cause.
//! - [`encode`]: a [`Sink`](crate::stream::Sink) of bytes becomes a sink of items, with the
//!   byte sink's backpressure.
//! - [`framed`]: a duplex stream of bytes (a connection, a [`Splice`](crate::stream::Splice))
//!   becomes a duplex stream of frames.
//!
//! | codec | frames | limit (default) |
//! |---|---|---|
//! | [`LinesCodec`] | `String` lines ended by `\n` or `\r\n`; invalid UTF-8 is an error | line length (64 KiB) |
//! | [`LengthPrefixedCodec`] | `Bytes` after a u8, u16, u32 or u64 length (big or little endian) or a LEB128 varint ([`Prefix`], [`Endian`]) | frame size (8 MiB), checked on the prefix |
//! | [`DelimiterCodec`] | `Bytes` ended by any delimiter | frame size (64 KiB) |
//!
//! Every limit is on by default and checked as bytes arrive, so a decoder never buffers more
//! than one maximal frame and its prefix (plus the chunk being read), and no input makes it
//! panic.
//!
//! ```
//! use bytes::Bytes;
//! use futures::{SinkExt, StreamExt};
//! use weir::codec::{self, LinesCodec};
//! use weir::stream::{self, Channel};
//!
//! # weir::runtime::block_on(async {
//! // Two ends of a pipe of bytes; each end speaks lines.
//! let pipe = Channel::<Bytes>::new(8);
//! let mut writer = codec::encode(pipe.clone(), LinesCodec::new());
//! let reader = codec::decode(pipe.clone(), LinesCodec::new());
//!
//! writer.send("GET /").await.unwrap();
//! writer.send("Host: example").await.unwrap();
//! SinkExt::<&str>::close(&mut writer).await.unwrap();
//! assert_eq!(reader.collect::<Vec<_>>().await, ["GET /", "Host: example"]);
//! # });
//! ```
//!
//! # Why weir has its own `Decoder` and `Encoder`
//!
//! The usual codec traits are tokio-util's `codec::{Decoder, Encoder}`. They are tied to
//! tokio's I/O: the crate's codec module is built around `tokio::io::{AsyncRead, AsyncWrite}`
//! (`FramedRead`, `FramedWrite`), and depending on it would bring tokio's `io` into every weir
//! user's build, while weir keeps to the smol family and the futures traits.
//! `asynchronous-codec` offers the same traits over futures-io, but it is maintained thinly and
//! would still give weir adapters it does not need. The traits themselves are a dozen lines;
//! weir's have the same shape (`decode`, `decode_eof`, `encode` over a `BytesMut`), so a
//! tokio-util codec ports by renaming its error type, and they report weir's own
//! [`Error`](crate::Error), whose [`is_protocol`](crate::Error::is_protocol) tells a peer's
//! malformed input from an I/O failure.

mod delimiter;
mod framed;
mod length_prefixed;
mod lines;
mod traits;

pub use delimiter::{DEFAULT_MAX_DELIMITED_FRAME_SIZE, DelimiterCodec};
pub use framed::{Decode, DuplexHalf, Encode, Framed, decode, encode, framed};
pub use length_prefixed::{DEFAULT_MAX_FRAME_SIZE, Endian, LengthPrefixedCodec, Prefix};
pub use lines::{DEFAULT_MAX_LINE_LENGTH, LinesCodec};
pub use traits::{Decoder, Encoder};

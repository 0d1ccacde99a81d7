//! The `Decoder` and `Encoder` traits: how bytes become frames and frames become bytes.

use bytes::BytesMut;

use crate::Error;

/// Turns a buffer of bytes into frames, one at a time: the read half of a codec.
///
/// [`decode`](super::decode) appends the bytes it receives to a buffer and calls
/// [`decode`](Decoder::decode) until it returns `Ok(None)` (more bytes are needed), then reads
/// more. A decoder removes from the buffer exactly the bytes of the frames it returns (and of
/// the prefixes and delimiters around them); it may remember how far it already looked, to
/// avoid scanning the same bytes twice.
///
/// A decoder must refuse a frame that would exceed its limits as soon as it can tell, with a
/// [protocol error](Error::is_protocol), so that the buffer never holds more than one maximal
/// frame and its prefix (plus the chunk being read); and it must never panic on any input.
///
/// # Examples
///
/// A decoder of fixed-size frames of two bytes:
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use weir::codec::Decoder;
///
/// struct Pairs;
///
/// impl Decoder for Pairs {
///     type Frame = Bytes;
///
///     fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, weir::Error> {
///         Ok((buf.len() >= 2).then(|| buf.split_to(2).freeze()))
///     }
/// }
///
/// let mut buf = BytesMut::from(&b"abc"[..]);
/// assert_eq!(Pairs.decode(&mut buf).unwrap(), Some(Bytes::from_static(b"ab")));
/// assert_eq!(Pairs.decode(&mut buf).unwrap(), None);
/// // At the end of the input, the odd byte left over is a truncated frame.
/// assert!(Pairs.decode_eof(&mut buf).unwrap_err().is_protocol());
/// ```
pub trait Decoder {
    /// What the decoder produces.
    type Frame;

    /// Takes the next frame off the front of `buf`: `Ok(Some(frame))` when a whole frame is
    /// there, `Ok(None)` when more bytes are needed, or a [protocol
    /// error](Error::is_protocol) for malformed or oversized input (the stream then ends).
    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Frame>, Error>;

    /// Like [`decode`](Decoder::decode), called once the input has ended. The default decodes
    /// what it can and reports bytes left over as a truncated frame, a [protocol
    /// error](Error::is_protocol).
    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Self::Frame>, Error> {
        match self.decode(buf)? {
            Some(frame) => Ok(Some(frame)),
            None if buf.is_empty() => Ok(None),
            None => Err(truncated(buf.len())),
        }
    }
}

/// Turns items into bytes: the write half of a codec.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use weir::codec::{Encoder, LinesCodec};
///
/// let mut dst = BytesMut::new();
/// LinesCodec::new().encode("hello", &mut dst).unwrap();
/// assert_eq!(&dst[..], b"hello\n");
/// ```
pub trait Encoder<Item> {
    /// Appends the encoding of `item` to `dst`. An item the codec cannot represent (too long,
    /// containing a delimiter) is a [protocol error](Error::is_protocol) and leaves `dst` as it
    /// was.
    fn encode(&mut self, item: Item, dst: &mut BytesMut) -> Result<(), Error>;
}

/// The error for `left` bytes of an unfinished frame at the end of the input.
pub(crate) fn truncated(left: usize) -> Error {
    Error::protocol(format!(
        "truncated frame: the input ended with {left} bytes of an unfinished frame"
    ))
}

//! `LengthPrefixedCodec`: frames preceded by their length.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::Error;

use super::traits::{Decoder, Encoder};

/// The largest frame [`LengthPrefixedCodec::new`] accepts: 8 MiB.
///
/// # Examples
///
/// ```
/// assert_eq!(weir::codec::DEFAULT_MAX_FRAME_SIZE, 8 * 1024 * 1024);
/// ```
pub const DEFAULT_MAX_FRAME_SIZE: usize = 8 * 1024 * 1024;

/// How a [`LengthPrefixedCodec`] writes a frame's length.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use weir::codec::{Encoder, LengthPrefixedCodec, Prefix};
///
/// let widths = [Prefix::U8, Prefix::U16, Prefix::U32, Prefix::U64, Prefix::Varint].map(|p| {
///     let mut buf = BytesMut::new();
///     LengthPrefixedCodec::new(p).encode(b"", &mut buf).unwrap();
///     buf.len()
/// });
/// assert_eq!(widths, [1, 2, 4, 8, 1]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Prefix {
    /// One byte: frames of at most 255 bytes.
    U8,
    /// Two bytes.
    U16,
    /// Four bytes.
    U32,
    /// Eight bytes.
    U64,
    /// An unsigned LEB128 varint (as in Protocol Buffers): 7 bits a byte, low bits first, at
    /// most 10 bytes. The byte order setting does not apply.
    Varint,
}

/// The byte order of a fixed-width length prefix.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use weir::codec::{Encoder, Endian, LengthPrefixedCodec, Prefix};
///
/// let mut buf = BytesMut::new();
/// LengthPrefixedCodec::new(Prefix::U16).encode(b"x", &mut buf).unwrap();
/// let mut codec = LengthPrefixedCodec::new(Prefix::U16).endian(Endian::Little);
/// codec.encode(b"x", &mut buf).unwrap();
/// assert_eq!(&buf[..], b"\x00\x01x\x01\x00x");
/// assert_eq!(Endian::default(), Endian::Big);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Most significant byte first (network byte order), the default.
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// A codec of length-prefixed frames: each frame is its length, as a [`Prefix`], followed by
/// that many bytes. Frames are [`Bytes`].
///
/// The maximum frame size (8 MiB unless set with
/// [`max_frame_size`](LengthPrefixedCodec::max_frame_size)) is checked on the prefix, before any
/// of the payload is buffered, so a peer that announces four gigabytes gets a [protocol
/// error](Error::is_protocol) at once, and nothing is allocated for it. A varint prefix longer
/// than 10 bytes or beyond `u64` is a protocol error too. Encoding refuses a frame larger than
/// the maximum or than the prefix can express (255 bytes for [`Prefix::U8`]).
///
/// # Examples
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use weir::codec::{Decoder, Encoder, LengthPrefixedCodec, Prefix};
///
/// let mut codec = LengthPrefixedCodec::new(Prefix::U16);
/// let mut buf = BytesMut::new();
/// codec.encode(b"hi", &mut buf).unwrap();
/// assert_eq!(&buf[..], b"\x00\x02hi");
/// assert_eq!(codec.decode(&mut buf).unwrap(), Some(Bytes::from_static(b"hi")));
///
/// // A declared length beyond the maximum fails on the prefix alone.
/// let mut huge = BytesMut::from(&b"\xff\xff"[..]);
/// let mut small = LengthPrefixedCodec::new(Prefix::U16).max_frame_size(1024);
/// assert!(small.decode(&mut huge).unwrap_err().is_protocol());
/// ```
#[derive(Clone, Debug)]
pub struct LengthPrefixedCodec {
    prefix: Prefix,
    endian: Endian,
    max_frame_size: usize,
    /// The length of the frame whose prefix was read, while its payload is awaited.
    body: Option<usize>,
}

impl LengthPrefixedCodec {
    /// A codec with `prefix` in big-endian byte order and the default maximum frame size,
    /// [`DEFAULT_MAX_FRAME_SIZE`].
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use weir::codec::{Encoder, LengthPrefixedCodec, Prefix};
    ///
    /// let mut buf = BytesMut::new();
    /// LengthPrefixedCodec::new(Prefix::Varint).encode(vec![0; 300], &mut buf).unwrap();
    /// assert_eq!(&buf[..2], &[0xac, 0x02]); // 300 as LEB128
    /// assert_eq!(buf.len(), 302);
    /// ```
    pub fn new(prefix: Prefix) -> Self {
        LengthPrefixedCodec {
            prefix,
            endian: Endian::Big,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            body: None,
        }
    }

    /// Sets the byte order of a fixed-width prefix (ignored for [`Prefix::Varint`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use weir::codec::{Encoder, Endian, LengthPrefixedCodec, Prefix};
    ///
    /// let mut buf = BytesMut::new();
    /// let mut codec = LengthPrefixedCodec::new(Prefix::U32).endian(Endian::Little);
    /// codec.encode(b"abc", &mut buf).unwrap();
    /// assert_eq!(&buf[..], b"\x03\x00\x00\x00abc");
    /// ```
    pub fn endian(mut self, endian: Endian) -> Self {
        self.endian = endian;
        self
    }

    /// Sets the largest frame accepted, in bytes, not counting the prefix.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use weir::codec::{Encoder, LengthPrefixedCodec, Prefix};
    ///
    /// let mut codec = LengthPrefixedCodec::new(Prefix::U32).max_frame_size(4);
    /// let mut buf = BytesMut::new();
    /// let err = codec.encode(b"12345", &mut buf).unwrap_err();
    /// assert!(err.is_protocol());
    /// assert!(buf.is_empty());
    /// ```
    pub fn max_frame_size(mut self, max_frame_size: usize) -> Self {
        self.max_frame_size = max_frame_size;
        self
    }

    /// The largest frame this codec handles: the configured maximum, or less if the prefix
    /// cannot express it.
    fn limit(&self) -> u64 {
        let by_prefix = match self.prefix {
            Prefix::U8 => u64::from(u8::MAX),
            Prefix::U16 => u64::from(u16::MAX),
            Prefix::U32 => u64::from(u32::MAX),
            Prefix::U64 | Prefix::Varint => u64::MAX,
        };
        by_prefix.min(u64::try_from(self.max_frame_size).unwrap_or(u64::MAX))
    }

    fn too_large(&self, length: u64) -> Error {
        Error::protocol(format!(
            "frame of {length} bytes exceeds the maximum of {} bytes",
            self.limit()
        ))
    }

    /// Reads a length prefix off `buf`, leaving `buf` untouched if it is incomplete.
    fn decode_prefix(&self, buf: &mut BytesMut) -> Result<Option<u64>, Error> {
        let width = match self.prefix {
            Prefix::U8 => 1,
            Prefix::U16 => 2,
            Prefix::U32 => 4,
            Prefix::U64 => 8,
            Prefix::Varint => return self.decode_varint(buf),
        };
        if buf.len() < width {
            return Ok(None);
        }
        let little = self.endian == Endian::Little;
        let length = match self.prefix {
            Prefix::U8 => u64::from(buf.get_u8()),
            Prefix::U16 if little => u64::from(buf.get_u16_le()),
            Prefix::U16 => u64::from(buf.get_u16()),
            Prefix::U32 if little => u64::from(buf.get_u32_le()),
            Prefix::U32 => u64::from(buf.get_u32()),
            Prefix::U64 if little => buf.get_u64_le(),
            _ => buf.get_u64(),
        };
        Ok(Some(length))
    }

    fn decode_varint(&self, buf: &mut BytesMut) -> Result<Option<u64>, Error> {
        let mut value = 0u64;
        for (i, &byte) in buf.iter().take(10).enumerate() {
            // The tenth byte holds bit 63 alone, and ends the varint.
            if i == 9 && byte > 1 {
                return Err(Error::protocol("varint length prefix overflows u64"));
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            // The value only grows with more bytes: refuse an oversized one early.
            if value > self.limit() {
                return Err(self.too_large(value));
            }
            if byte & 0x80 == 0 {
                buf.advance(i + 1);
                return Ok(Some(value));
            }
        }
        Ok(None)
    }
}

impl Decoder for LengthPrefixedCodec {
    type Frame = Bytes;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        let length = match self.body {
            Some(length) => length,
            None => {
                let Some(length) = self.decode_prefix(buf)? else {
                    return Ok(None);
                };
                if length > self.limit() {
                    return Err(self.too_large(length));
                }
                // Within the limit, which is a `usize`.
                let length = usize::try_from(length).map_err(|_| self.too_large(length))?;
                self.body = Some(length);
                length
            }
        };
        if buf.len() < length {
            return Ok(None);
        }
        self.body = None;
        Ok(Some(buf.split_to(length).freeze()))
    }
}

impl<T: AsRef<[u8]>> Encoder<T> for LengthPrefixedCodec {
    fn encode(&mut self, item: T, dst: &mut BytesMut) -> Result<(), Error> {
        let frame = item.as_ref();
        let length = frame.len() as u64;
        if length > self.limit() {
            return Err(self.too_large(length));
        }
        let little = self.endian == Endian::Little;
        dst.reserve(frame.len() + 10);
        // Each cast is lossless: `length` is within the prefix's range (checked above).
        match self.prefix {
            Prefix::U8 => dst.put_u8(length as u8),
            Prefix::U16 if little => dst.put_u16_le(length as u16),
            Prefix::U16 => dst.put_u16(length as u16),
            Prefix::U32 if little => dst.put_u32_le(length as u32),
            Prefix::U32 => dst.put_u32(length as u32),
            Prefix::U64 if little => dst.put_u64_le(length),
            Prefix::U64 => dst.put_u64(length),
            Prefix::Varint => {
                let mut rest = length;
                while rest >= 0x80 {
                    dst.put_u8((rest as u8 & 0x7f) | 0x80);
                    rest >>= 7;
                }
                dst.put_u8(rest as u8);
            }
        }
        dst.put_slice(frame);
        Ok(())
    }
}

//! `DelimiterCodec`: frames separated by a delimiter.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::Error;

use super::traits::{Decoder, Encoder};

/// The largest frame [`DelimiterCodec::new`] accepts: 64 KiB.
///
/// # Examples
///
/// ```
/// assert_eq!(weir::codec::DEFAULT_MAX_DELIMITED_FRAME_SIZE, 64 * 1024);
/// ```
pub const DEFAULT_MAX_DELIMITED_FRAME_SIZE: usize = 64 * 1024;

/// A codec of frames each ended by a delimiter, a sequence of one or more bytes (`\0`,
/// `\r\n\r\n`, ...). Frames are [`Bytes`] without the delimiter.
///
/// A frame longer than the maximum (64 KiB unless set with
/// [`max_frame_size`](DelimiterCodec::max_frame_size)) is refused as soon as that many bytes
/// have arrived without a delimiter, with a [protocol error](Error::is_protocol). Bytes left
/// after the last delimiter at the end of the input are a truncated frame. Encoding writes the
/// frame and the delimiter, and refuses a frame that is too long or would not decode to itself
/// (one that contains the delimiter, or ends with the start of it in a way that makes the
/// delimiter match early).
///
/// # Examples
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use weir::codec::{DelimiterCodec, Decoder, Encoder};
///
/// let mut codec = DelimiterCodec::new(b"\r\n\r\n");
/// let mut buf = BytesMut::new();
/// codec.encode(b"header block", &mut buf).unwrap();
/// assert_eq!(&buf[..], b"header block\r\n\r\n");
/// assert_eq!(codec.decode(&mut buf).unwrap(), Some(Bytes::from_static(b"header block")));
/// assert!(codec.encode(b"a\r\n\r\nb", &mut buf).unwrap_err().is_protocol());
/// ```
#[derive(Clone, Debug)]
pub struct DelimiterCodec {
    delimiter: Bytes,
    max_frame_size: usize,
    /// Where the next search for the delimiter starts: every earlier start was ruled out.
    next_index: usize,
}

impl DelimiterCodec {
    /// A codec of frames ended by `delimiter`, with the default maximum frame size,
    /// [`DEFAULT_MAX_DELIMITED_FRAME_SIZE`].
    ///
    /// # Panics
    ///
    /// If `delimiter` is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::{Bytes, BytesMut};
    /// use weir::codec::{DelimiterCodec, Decoder};
    ///
    /// let mut codec = DelimiterCodec::new([0u8]);
    /// let mut buf = BytesMut::from(&b"a\0\0b"[..]);
    /// assert_eq!(codec.decode(&mut buf).unwrap(), Some(Bytes::from_static(b"a")));
    /// assert_eq!(codec.decode(&mut buf).unwrap(), Some(Bytes::new()));
    /// assert_eq!(codec.decode(&mut buf).unwrap(), None);
    /// ```
    pub fn new(delimiter: impl AsRef<[u8]>) -> Self {
        let delimiter = Bytes::copy_from_slice(delimiter.as_ref());
        assert!(!delimiter.is_empty(), "a frame delimiter cannot be empty");
        DelimiterCodec {
            delimiter,
            max_frame_size: DEFAULT_MAX_DELIMITED_FRAME_SIZE,
            next_index: 0,
        }
    }

    /// Sets the largest frame accepted, in bytes, not counting the delimiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use weir::codec::{DelimiterCodec, Decoder};
    ///
    /// let mut codec = DelimiterCodec::new(b";").max_frame_size(4);
    /// let mut buf = BytesMut::from(&b"abcdefgh"[..]);
    /// let err = codec.decode(&mut buf).unwrap_err();
    /// assert!(err.is_protocol());
    /// assert_eq!(err.to_string(), "protocol error: frame longer than 4 bytes");
    /// ```
    pub fn max_frame_size(mut self, max_frame_size: usize) -> Self {
        self.max_frame_size = max_frame_size;
        self
    }

    /// The delimiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::codec::DelimiterCodec;
    ///
    /// assert_eq!(&DelimiterCodec::new("--").delimiter()[..], b"--");
    /// ```
    pub fn delimiter(&self) -> &Bytes {
        &self.delimiter
    }

    fn too_long(&self) -> Error {
        Error::protocol(format!("frame longer than {} bytes", self.max_frame_size))
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [byte] => haystack.iter().position(|b| b == byte),
        _ => haystack.windows(needle.len()).position(|w| w == needle),
    }
}

impl Decoder for DelimiterCodec {
    type Frame = Bytes;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Bytes>, Error> {
        let width = self.delimiter.len();
        // The longest stretch worth searching: a maximal frame and its delimiter.
        let window = self.max_frame_size.saturating_add(width);
        let limit = buf.len().min(window);
        let start = self.next_index.min(limit);
        match find(&buf[start..limit], &self.delimiter) {
            Some(offset) => {
                self.next_index = 0;
                let frame = buf.split_to(start + offset).freeze();
                buf.advance(width);
                Ok(Some(frame))
            }
            None if buf.len() >= window => Err(self.too_long()),
            None => {
                // A match could still start in the last `width - 1` bytes.
                self.next_index = (limit + 1).saturating_sub(width);
                Ok(None)
            }
        }
    }
}

impl<T: AsRef<[u8]>> Encoder<T> for DelimiterCodec {
    fn encode(&mut self, item: T, dst: &mut BytesMut) -> Result<(), Error> {
        let frame = item.as_ref();
        if frame.len() > self.max_frame_size {
            return Err(self.too_long());
        }
        let start = dst.len();
        dst.reserve(frame.len() + self.delimiter.len());
        dst.put_slice(frame);
        dst.put_slice(&self.delimiter);
        // The frame decodes to itself only if the first delimiter is the one just written.
        if find(&dst[start..], &self.delimiter) != Some(frame.len()) {
            dst.truncate(start);
            return Err(Error::protocol(
                "a frame to encode contains its delimiter, or would end early",
            ));
        }
        Ok(())
    }
}

//! `LinesCodec`: text lines ended by `\n` or `\r\n`.

use bytes::{BufMut, BytesMut};

use crate::Error;

use super::traits::{Decoder, Encoder, truncated};

/// The longest line [`LinesCodec::new`] accepts: 64 KiB.
///
/// # Examples
///
/// ```
/// assert_eq!(weir::codec::DEFAULT_MAX_LINE_LENGTH, 64 * 1024);
/// ```
pub const DEFAULT_MAX_LINE_LENGTH: usize = 64 * 1024;

/// A codec of text lines: frames are `String`s without their line ending.
///
/// - Decoding splits at `\n`, dropping a `\r` just before it, so both `\n` and `\r\n` endings
///   are understood. A line longer than the maximum length (64 KiB unless set with
///   [`max_length`](LinesCodec::max_length); the ending does not count) is refused as soon as
///   that many bytes have arrived without a line ending, and invalid UTF-8 is refused; both are
///   [protocol errors](Error::is_protocol).
/// - At the end of the input, an unterminated last line is a truncated frame (an error), unless
///   [`accept_unterminated_last_line`](LinesCodec::accept_unterminated_last_line) says
///   otherwise.
/// - Encoding writes anything that is `AsRef<str>` followed by `\n`. A line that is too long,
///   contains `\n` or ends with `\r` (it would not decode to itself) is refused.
///
/// # Examples
///
/// ```
/// use bytes::BytesMut;
/// use weir::codec::{Decoder, LinesCodec};
///
/// let mut codec = LinesCodec::new().max_length(5);
/// let mut buf = BytesMut::from(&b"hello\r\nworld\nhi"[..]);
/// assert_eq!(codec.decode(&mut buf).unwrap().as_deref(), Some("hello"));
/// assert_eq!(codec.decode(&mut buf).unwrap().as_deref(), Some("world"));
/// assert_eq!(codec.decode(&mut buf).unwrap(), None); // "hi" waits for its newline
///
/// let mut long = BytesMut::from(&b"too long\n"[..]);
/// assert!(LinesCodec::new().max_length(5).decode(&mut long).unwrap_err().is_protocol());
/// ```
#[derive(Clone, Debug)]
pub struct LinesCodec {
    max_length: usize,
    accept_unterminated: bool,
    /// How far the buffer was already searched for `\n`.
    next_index: usize,
}

impl LinesCodec {
    /// A lines codec with the default maximum line length, [`DEFAULT_MAX_LINE_LENGTH`].
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use weir::codec::{Decoder, LinesCodec};
    ///
    /// let mut buf = BytesMut::from(&b"one\n"[..]);
    /// assert_eq!(LinesCodec::new().decode(&mut buf).unwrap().as_deref(), Some("one"));
    /// ```
    pub fn new() -> Self {
        LinesCodec {
            max_length: DEFAULT_MAX_LINE_LENGTH,
            accept_unterminated: false,
            next_index: 0,
        }
    }

    /// Sets the longest line accepted, in bytes, not counting the line ending.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use weir::codec::{Decoder, LinesCodec};
    ///
    /// let mut codec = LinesCodec::new().max_length(3);
    /// // No newline within 3 bytes (+ "\r\n"): refused before the rest arrives.
    /// let mut buf = BytesMut::from(&b"abcdefgh"[..]);
    /// let err = codec.decode(&mut buf).unwrap_err();
    /// assert!(err.is_protocol());
    /// assert_eq!(err.to_string(), "protocol error: line longer than 3 bytes");
    /// ```
    pub fn max_length(mut self, max_length: usize) -> Self {
        self.max_length = max_length;
        self
    }

    /// Whether a last line without a line ending, at the end of the input, is a line (`true`,
    /// as `BufRead::lines` does) or a truncated frame (`false`, the default).
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use weir::codec::{Decoder, LinesCodec};
    ///
    /// let mut buf = BytesMut::from(&b"last"[..]);
    /// assert!(LinesCodec::new().decode_eof(&mut buf.clone()).unwrap_err().is_protocol());
    /// let mut lenient = LinesCodec::new().accept_unterminated_last_line(true);
    /// assert_eq!(lenient.decode_eof(&mut buf).unwrap().as_deref(), Some("last"));
    /// assert!(buf.is_empty());
    /// ```
    pub fn accept_unterminated_last_line(mut self, accept: bool) -> Self {
        self.accept_unterminated = accept;
        self
    }

    fn too_long(&self) -> Error {
        Error::protocol(format!("line longer than {} bytes", self.max_length))
    }
}

impl Default for LinesCodec {
    /// [`LinesCodec::new`].
    fn default() -> Self {
        LinesCodec::new()
    }
}

/// Turns the bytes of one line, without its ending, into a `String`.
fn into_line(bytes: &[u8]) -> Result<String, Error> {
    match std::str::from_utf8(bytes) {
        Ok(line) => Ok(line.to_owned()),
        Err(error) => Err(Error::protocol(format!("line is not valid UTF-8: {error}"))),
    }
}

impl Decoder for LinesCodec {
    type Frame = String;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<String>, Error> {
        // A line of `max_length` bytes and "\r\n" is the longest stretch worth searching.
        let limit = buf.len().min(self.max_length.saturating_add(2));
        let start = self.next_index.min(limit);
        let Some(offset) = buf[start..limit].iter().position(|&b| b == b'\n') else {
            if buf.len() >= self.max_length.saturating_add(2) {
                return Err(self.too_long());
            }
            self.next_index = limit;
            return Ok(None);
        };
        let newline = start + offset;
        let end = if newline > 0 && buf[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        if end > self.max_length {
            return Err(self.too_long());
        }
        self.next_index = 0;
        let line = buf.split_to(newline + 1);
        into_line(&line[..end]).map(Some)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<String>, Error> {
        if let Some(line) = self.decode(buf)? {
            return Ok(Some(line));
        }
        if buf.is_empty() {
            return Ok(None);
        }
        if !self.accept_unterminated {
            return Err(truncated(buf.len()));
        }
        let mut end = buf.len();
        if buf[end - 1] == b'\r' {
            end -= 1;
        }
        if end > self.max_length {
            return Err(self.too_long());
        }
        self.next_index = 0;
        let line = buf.split();
        into_line(&line[..end]).map(Some)
    }
}

impl<T: AsRef<str>> Encoder<T> for LinesCodec {
    fn encode(&mut self, item: T, dst: &mut BytesMut) -> Result<(), Error> {
        let line = item.as_ref();
        if line.len() > self.max_length {
            return Err(self.too_long());
        }
        if line.contains('\n') {
            return Err(Error::protocol("a line to encode contains a newline"));
        }
        if line.ends_with('\r') {
            return Err(Error::protocol(
                "a line to encode ends with a carriage return",
            ));
        }
        dst.reserve(line.len() + 1);
        dst.put_slice(line.as_bytes());
        dst.put_u8(b'\n');
        Ok(())
    }
}

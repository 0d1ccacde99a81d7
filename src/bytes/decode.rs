//! `decode_utf8`, `decode_utf8_lossy`: one buffer of bytes as a `String`.

use super::{IntoBytes, invalid_utf8};
use crate::Error;

/// The bytes as a `String`; invalid UTF-8 is a [protocol error](Error::is_protocol) that says at
/// which byte it starts. A `Vec<u8>` or a `Bytes` that is the only handle on its buffer is
/// taken over without copying. byte-streams' `to-string` of one buffer.
///
/// # Examples
///
/// ```
/// use weir::bytes::decode_utf8;
///
/// assert_eq!(decode_utf8(vec![b'h', b'i']).unwrap(), "hi");
/// let err = decode_utf8(&b"a\xc3"[..]).unwrap_err();
/// assert!(err.is_protocol());
/// assert_eq!(err.to_string(), "protocol error: invalid UTF-8 at byte 1");
/// ```
pub fn decode_utf8(bytes: impl IntoBytes) -> Result<String, Error> {
    String::from_utf8(Vec::from(bytes.into_bytes())).map_err(|e| invalid_utf8(e.utf8_error(), 0))
}

/// The bytes as a `String`, with invalid UTF-8 replaced by U+FFFD (�).
///
/// # Examples
///
/// ```
/// use weir::bytes::decode_utf8_lossy;
///
/// assert_eq!(decode_utf8_lossy(&b"a\xffb"[..]), "a\u{fffd}b");
/// ```
pub fn decode_utf8_lossy(bytes: impl IntoBytes) -> String {
    String::from_utf8_lossy(&bytes.into_bytes()).into_owned()
}

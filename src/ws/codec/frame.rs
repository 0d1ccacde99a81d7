//! What encoder and decoder share: the role, the limits, the peer-error type, opcodes, the frame
//! header layout, masking and close-code validity.

use std::fmt;

use bytes::{BufMut, BytesMut};

/// Which end of the connection this codec serves. Clients mask their outbound frames and require
/// unmasked inbound ones; servers the opposite (RFC 6455 section 5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The end that opened the connection.
    Client,
    /// The end that accepted it.
    Server,
}

/// Size limits the decoder enforces on the peer; passing one is a 1009 ("message too big").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The largest payload of one frame, in bytes (as sent on the wire).
    pub max_frame_payload: usize,
    /// The largest whole message, in bytes, after decompression.
    pub max_message_size: usize,
    /// The most frames one message may be split into.
    pub max_fragments: usize,
}

impl Default for Limits {
    /// 16 MiB frames, 64 MiB messages, 131072 fragments (Autobahn 9.3/9.4 send 4 MiB in 64-byte
    /// fragments, that is 65536 of them).
    fn default() -> Limits {
        Limits {
            max_frame_payload: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 17,
        }
    }
}

/// A violation by the peer: the close code to answer with and a reason that fits a close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProtocolError {
    /// 1002 (protocol error), 1007 (invalid data, bad UTF-8) or 1009 (too big).
    pub code: u16,
    /// Human-readable, at most 123 bytes.
    pub reason: String,
}

impl ProtocolError {
    pub(crate) fn protocol(reason: &str) -> ProtocolError {
        ProtocolError::new(CLOSE_PROTOCOL, reason)
    }

    pub(crate) fn invalid_data(reason: &str) -> ProtocolError {
        ProtocolError::new(CLOSE_INVALID_DATA, reason)
    }

    pub(crate) fn too_big(reason: &str) -> ProtocolError {
        ProtocolError::new(CLOSE_TOO_BIG, reason)
    }

    fn new(code: u16, reason: &str) -> ProtocolError {
        ProtocolError {
            code,
            reason: truncate_str(reason, MAX_CLOSE_REASON).to_owned(),
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "websocket protocol error {}: {}", self.code, self.reason)
    }
}

impl std::error::Error for ProtocolError {}

pub(crate) const CLOSE_PROTOCOL: u16 = 1002;
pub(crate) const CLOSE_INVALID_DATA: u16 = 1007;
pub(crate) const CLOSE_TOO_BIG: u16 = 1009;

pub(crate) const OP_CONTINUATION: u8 = 0x0;
pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
pub(crate) const OP_CLOSE: u8 = 0x8;
pub(crate) const OP_PING: u8 = 0x9;
pub(crate) const OP_PONG: u8 = 0xA;

pub(crate) const FIN: u8 = 0x80;
pub(crate) const RSV1: u8 = 0x40;
pub(crate) const RSV2: u8 = 0x20;
pub(crate) const RSV3: u8 = 0x10;
pub(crate) const MASK: u8 = 0x80;

/// Control-frame payloads are at most this long.
pub(crate) const MAX_CONTROL_PAYLOAD: usize = 125;
/// A close reason is at most this long (125 minus the two code bytes).
pub(crate) const MAX_CLOSE_REASON: usize = 123;

/// Whether `code` may be sent or received in a close frame (RFC 6455 section 7.4 and the IANA
/// registry): 1000-1003, 1007-1014 and 3000-4999.
pub(crate) fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
pub(crate) fn truncate_str(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Appends a frame header: FIN set, RSV1 if `rsv1`, `opcode`, the length in its
/// shortest form, and the mask key if any.
pub(crate) fn put_header(
    out: &mut BytesMut,
    opcode: u8,
    rsv1: bool,
    len: usize,
    mask: Option<[u8; 4]>,
) {
    let b0 = FIN | if rsv1 { RSV1 } else { 0 } | opcode;
    let mask_bit = if mask.is_some() { MASK } else { 0 };
    out.reserve(14 + len);
    out.put_u8(b0);
    if len < 126 {
        out.put_u8(mask_bit | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.put_u8(mask_bit | 126);
        out.put_u16(len as u16);
    } else {
        out.put_u8(mask_bit | 127);
        out.put_u64(len as u64);
    }
    if let Some(key) = mask {
        out.put_slice(&key);
    }
}

/// XORs `data` with `key`, as if `data` started `offset` bytes into the masked payload. Works a
/// word at a time.
pub(crate) fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let r = offset % 4;
    let key = [key[r], key[(r + 1) % 4], key[(r + 2) % 4], key[(r + 3) % 4]];
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_ne_bytes(word) ^ wide;
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    // The tail starts at a multiple of 8, so the key is still aligned with it.
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
        ] {
            assert!(is_valid_close_code(code), "{code}");
        }
        for code in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535,
        ] {
            assert!(!is_valid_close_code(code), "{code}");
        }
        assert!(is_valid_close_code(3000));
        assert!(is_valid_close_code(4999));
    }

    #[test]
    fn mask_matches_bytewise_at_every_offset() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        let data: Vec<u8> = (0..100u8).collect();
        for start in 0..20 {
            for end in start..data.len() {
                let mut fast = data[start..end].to_vec();
                apply_mask(&mut fast, key, start);
                let slow: Vec<u8> = (start..end).map(|i| data[i] ^ key[i % 4]).collect();
                assert_eq!(fast, slow, "{start}..{end}");
            }
        }
    }

    #[test]
    fn truncation_keeps_char_boundaries() {
        let s = "é".repeat(100); // 200 bytes
        let t = truncate_str(&s, 123);
        assert_eq!(t.len(), 122);
        assert_eq!(truncate_str("abc", 123), "abc");
        let e = ProtocolError::protocol(&s);
        assert!(e.reason.len() <= 123);
        assert_eq!(e.code, 1002);
    }
}

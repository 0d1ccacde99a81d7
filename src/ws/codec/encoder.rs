//! Turning outbound messages into frames.

use bytes::BytesMut;

use super::deflate::Deflater;
use super::frame::{
    MAX_CLOSE_REASON, MAX_CONTROL_PAYLOAD, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT, Role,
    apply_mask, put_header, truncate_str,
};

/// Writes whole messages and control frames, masked for the client role, compressed when
/// permessage-deflate was agreed.
#[derive(Debug)]
pub(crate) struct Encoder {
    role: Role,
    deflater: Option<Deflater>,
    /// Reused for compressed payloads.
    scratch: Vec<u8>,
}

impl Encoder {
    pub(crate) fn new(role: Role, deflater: Option<Deflater>) -> Encoder {
        Encoder {
            role,
            deflater,
            scratch: Vec::new(),
        }
    }

    /// Appends one whole data message as a single frame (FIN set) to `out`: compressed (RSV1)
    /// when deflate was agreed and the payload reaches the threshold, masked for the client role.
    pub(crate) fn message(&mut self, text: bool, payload: &[u8], out: &mut BytesMut) {
        let opcode = if text { OP_TEXT } else { OP_BINARY };
        if let Some(deflater) = self.deflater.as_mut().filter(|d| d.wants(payload.len())) {
            self.scratch.clear();
            let compressed = deflater.compress(payload, &mut self.scratch).is_ok();
            if compressed && self.scratch.len() >= payload.len() {
                // It did not get smaller: sent as it is (RFC 7692 lets each message choose).
                deflater.restart();
            } else if compressed {
                let scratch = std::mem::take(&mut self.scratch);
                self.frame(opcode, true, &scratch, out);
                self.scratch = scratch;
                // Do not keep a huge buffer around after one huge message.
                if self.scratch.capacity() > 1 << 20 {
                    self.scratch = Vec::new();
                }
                return;
            }
        }
        self.frame(opcode, false, payload, out);
    }

    /// Appends a ping frame; a payload longer than 125 bytes is truncated to 125.
    pub(crate) fn ping(&mut self, payload: &[u8], out: &mut BytesMut) {
        self.frame(
            OP_PING,
            false,
            &payload[..payload.len().min(MAX_CONTROL_PAYLOAD)],
            out,
        );
    }

    /// Appends a pong frame; a payload longer than 125 bytes is truncated to 125.
    pub(crate) fn pong(&mut self, payload: &[u8], out: &mut BytesMut) {
        self.frame(
            OP_PONG,
            false,
            &payload[..payload.len().min(MAX_CONTROL_PAYLOAD)],
            out,
        );
    }

    /// Appends a close frame: no code means an empty payload (and no reason); the reason is
    /// truncated to 123 bytes on a char boundary.
    pub(crate) fn close(&mut self, code: Option<u16>, reason: &str, out: &mut BytesMut) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            None => 0,
            Some(code) => {
                let reason = truncate_str(reason, MAX_CLOSE_REASON);
                payload[..2].copy_from_slice(&code.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
                2 + reason.len()
            }
        };
        self.frame(OP_CLOSE, false, &payload[..len], out);
    }

    fn frame(&self, opcode: u8, rsv1: bool, payload: &[u8], out: &mut BytesMut) {
        let mask = match self.role {
            Role::Client => Some(fastrand::u32(..).to_ne_bytes()),
            Role::Server => None,
        };
        put_header(out, opcode, rsv1, payload.len(), mask);
        let start = out.len();
        out.extend_from_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut out[start..], key, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ws::codec::decoder::{Decoder, Incoming};
    use crate::ws::codec::frame::Limits;

    fn server() -> Encoder {
        Encoder::new(Role::Server, None)
    }

    #[test]
    fn rfc6455_examples() {
        let mut out = BytesMut::new();
        server().message(true, b"Hello", &mut out);
        assert_eq!(&out[..], [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        out.clear();
        server().ping(b"Hello", &mut out);
        assert_eq!(&out[..], [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
        for (len, header) in [
            (256, &[0x82, 0x7e, 0x01, 0x00][..]),
            (
                65536,
                &[0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00][..],
            ),
        ] {
            out.clear();
            server().message(false, &vec![1; len], &mut out);
            assert_eq!(&out[..header.len()], header);
            assert_eq!(out.len(), header.len() + len);
        }
        // The masked example, with the RFC's key.
        out.clear();
        put_header(&mut out, OP_TEXT, false, 5, Some([0x37, 0xfa, 0x21, 0x3d]));
        out.extend_from_slice(b"Hello");
        apply_mask(&mut out[6..], [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(
            &out[..],
            [
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
    }

    #[test]
    fn client_masks_with_a_random_key() {
        fastrand::seed(7);
        let key = fastrand::u32(..).to_ne_bytes();
        fastrand::seed(7);
        let mut out = BytesMut::new();
        Encoder::new(Role::Client, None).pong(b"Hello", &mut out);
        let mut want = vec![0x8a, 0x85];
        want.extend_from_slice(&key);
        want.extend(b"Hello".iter().zip(key.iter().cycle()).map(|(b, k)| b ^ k));
        assert_eq!(&out[..], want);
    }

    #[test]
    fn control_payloads_are_truncated() {
        let mut out = BytesMut::new();
        server().ping(&[1; 300], &mut out);
        assert_eq!(&out[..2], [0x89, 125]);
        assert_eq!(out.len(), 127);
        out.clear();
        server().close(None, "ignored", &mut out);
        assert_eq!(&out[..], [0x88, 0x00]);
        out.clear();
        let reason = "é".repeat(100); // 200 bytes: cut to 122, on a char boundary
        server().close(Some(1001), &reason, &mut out);
        assert_eq!(&out[..4], [0x88, 124, 0x03, 0xe9]);
        let mut d = Decoder::new(Role::Client, Limits::default(), None);
        assert_eq!(
            d.decode(&mut out).unwrap(),
            Some(Incoming::Close(Some((1001, "é".repeat(61)))))
        );
    }

    #[test]
    fn deflate_respects_the_threshold() {
        let deflater = super::super::deflate::Deflater::new(1, 15, false, 10);
        let mut e = Encoder::new(Role::Server, Some(deflater));
        let mut out = BytesMut::new();
        e.message(false, b"short", &mut out);
        assert_eq!(out[0], 0x82);
        out.clear();
        e.message(false, &[b'x'; 1000], &mut out);
        assert_eq!(out[0], 0xc2);
        assert!(out.len() < 100);
        out.clear();
        // Control frames are never compressed.
        e.ping(&[b'x'; 100], &mut out);
        assert_eq!(out[0], 0x89);
    }
}

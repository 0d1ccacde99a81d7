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
            if deflater.compress(payload, &mut self.scratch).is_ok() {
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

//! Turning inbound bytes into messages and control frames.
//!
//! The decoder takes a frame's header off the buffer as soon as it is complete, then leaves the
//! payload in the buffer until all of it has arrived, unmasking (and, for text, UTF-8 checking)
//! each new piece in place as it comes. A whole frame is then split off the buffer without a
//! copy.

use bytes::{Buf, Bytes, BytesMut};

use super::deflate::Inflater;
use super::frame::{
    FIN, Limits, MASK, MAX_CONTROL_PAYLOAD, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG,
    OP_TEXT, ProtocolError, RSV1, RSV2, RSV3, Role, apply_mask, is_valid_close_code,
};
use super::utf8::Utf8Validator;

/// One event from the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A whole text message, UTF-8 validated.
    Text(String),
    /// A whole binary message.
    Binary(Bytes),
    /// A ping, to be answered with a pong carrying the same payload.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// A close frame: None for an empty payload, else the (valid) code and the reason.
    Close(Option<(u16, String)>),
}

/// Decodes the frames a peer sends into [`Incoming`] events, enforcing RFC 6455, RFC 7692 and
/// the [`Limits`].
#[derive(Debug)]
pub(crate) struct Decoder {
    role: Role,
    limits: Limits,
    inflater: Option<Inflater>,
    /// The frame whose header has been taken off the buffer and whose payload is arriving.
    frame: Option<Frame>,
    /// The data message in progress (from its first frame to its last).
    message: Option<Message>,
    /// Set by the first error; every later call returns it.
    failed: Option<ProtocolError>,
}

#[derive(Debug)]
struct Frame {
    fin: bool,
    opcode: u8,
    len: usize,
    mask: Option<[u8; 4]>,
    /// How many payload bytes (at the front of the buffer) are already unmasked and checked.
    done: usize,
    /// Check UTF-8 as the payload arrives (uncompressed text).
    check_utf8: bool,
}

#[derive(Debug)]
struct Message {
    text: bool,
    compressed: bool,
    fragments: usize,
    /// Payload bytes received so far, as sent on the wire.
    size: usize,
    /// The payload so far (inflated, for a compressed message). Unused for a single-frame
    /// uncompressed message, which is split off the buffer.
    data: Vec<u8>,
    utf8: Utf8Validator,
}

impl Decoder {
    /// A decoder for the `role` end; `inflater` when permessage-deflate was agreed.
    pub(crate) fn new(role: Role, limits: Limits, inflater: Option<Inflater>) -> Decoder {
        Decoder {
            role,
            limits,
            inflater,
            frame: None,
            message: None,
            failed: None,
        }
    }

    /// Takes the next complete event off the front of `buf` (the caller appends what it reads
    /// from the socket and leaves the rest alone). Ok(None): more bytes are needed. Control
    /// frames arriving between the fragments of a message are returned at once. After an Err
    /// the decoder is dead: every later call returns the same error.
    pub(crate) fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Incoming>, ProtocolError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let result = self.step(buf);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
            self.frame = None;
            self.message = None;
        }
        result
    }

    /// How many more bytes the current frame needs: a hint for sizing reads (0 when the frame
    /// is complete).
    pub(crate) fn needed(&self, buf: &BytesMut) -> usize {
        if let Some(frame) = &self.frame {
            return frame.len.saturating_sub(buf.len());
        }
        if buf.len() < 2 {
            return 2 - buf.len();
        }
        let mask = if buf[1] & MASK != 0 { 4 } else { 0 };
        let ext = match buf[1] & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header = 2 + ext + mask;
        if buf.len() < header {
            return header - buf.len();
        }
        let len = match ext {
            0 => u64::from(buf[1] & 0x7f),
            2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
            _ => u64::from_be_bytes([
                buf[2], buf[3], buf[4], buf[5], buf[6], buf[7], buf[8], buf[9],
            ]),
        };
        let total = usize::try_from(len)
            .unwrap_or(usize::MAX)
            .saturating_add(header);
        total.saturating_sub(buf.len())
    }

    fn step(&mut self, buf: &mut BytesMut) -> Result<Option<Incoming>, ProtocolError> {
        loop {
            let mut frame = match self.frame.take() {
                Some(frame) => frame,
                None => match self.header(buf)? {
                    Some(frame) => frame,
                    None => return Ok(None),
                },
            };
            let avail = buf.len().min(frame.len);
            if avail > frame.done {
                let piece = &mut buf[frame.done..avail];
                if let Some(key) = frame.mask {
                    apply_mask(piece, key, frame.done);
                }
                // A single frame that is here whole is checked once, when it is turned into a
                // String; anything else is checked piece by piece to fail fast.
                let whole_single = frame.fin
                    && frame.opcode != OP_CONTINUATION
                    && frame.done == 0
                    && avail == frame.len;
                if frame.check_utf8 && !whole_single {
                    if let Some(message) = self.message.as_mut() {
                        message.utf8.feed(piece).map_err(|()| {
                            ProtocolError::invalid_data("invalid UTF-8 in a text message")
                        })?;
                    }
                }
                frame.done = avail;
            }
            if avail < frame.len {
                self.frame = Some(frame);
                return Ok(None);
            }
            let payload = buf.split_to(frame.len);
            if let Some(event) = self.complete(&frame, payload)? {
                return Ok(Some(event));
            }
        }
    }

    /// Takes a complete header off `buf` and checks it, or returns None if it is not all there.
    fn header(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        if buf.len() < 2 {
            return Ok(None);
        }
        let (b0, b1) = (buf[0], buf[1]);
        let fin = b0 & FIN != 0;
        let rsv1 = b0 & RSV1 != 0;
        let opcode = b0 & 0x0f;
        let masked = b1 & MASK != 0;
        let len7 = b1 & 0x7f;
        // Everything the first two bytes can tell is checked before waiting for more.
        if b0 & (RSV2 | RSV3) != 0 {
            return Err(ProtocolError::protocol("reserved bits RSV2/RSV3 set"));
        }
        let control = match opcode {
            OP_CONTINUATION | OP_TEXT | OP_BINARY => false,
            OP_CLOSE | OP_PING | OP_PONG => true,
            _ => return Err(ProtocolError::protocol(&format!("unknown opcode {opcode}"))),
        };
        if control {
            if !fin {
                return Err(ProtocolError::protocol("fragmented control frame"));
            }
            if usize::from(len7) > MAX_CONTROL_PAYLOAD {
                return Err(ProtocolError::protocol(
                    "control frame payload over 125 bytes",
                ));
            }
            if rsv1 {
                return Err(ProtocolError::protocol("RSV1 set on a control frame"));
            }
        } else {
            if rsv1 && self.inflater.is_none() {
                return Err(ProtocolError::protocol(
                    "RSV1 set without permessage-deflate",
                ));
            }
            if rsv1 && opcode == OP_CONTINUATION {
                return Err(ProtocolError::protocol("RSV1 set on a continuation frame"));
            }
            if opcode == OP_CONTINUATION && self.message.is_none() {
                return Err(ProtocolError::protocol(
                    "continuation frame without a message to continue",
                ));
            }
            if opcode != OP_CONTINUATION && self.message.is_some() {
                return Err(ProtocolError::protocol(
                    "new data frame while a fragmented message is unfinished",
                ));
            }
        }
        match (self.role, masked) {
            (Role::Server, false) => {
                return Err(ProtocolError::protocol("unmasked frame from a client"));
            }
            (Role::Client, true) => {
                return Err(ProtocolError::protocol("masked frame from a server"));
            }
            _ => {}
        }
        let ext = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header = 2 + ext + if masked { 4 } else { 0 };
        if buf.len() < header {
            return Ok(None);
        }
        let len = match ext {
            0 => u64::from(len7),
            2 => u64::from(u16::from_be_bytes([buf[2], buf[3]])),
            _ => u64::from_be_bytes([
                buf[2], buf[3], buf[4], buf[5], buf[6], buf[7], buf[8], buf[9],
            ]),
        };
        if len >> 63 != 0 {
            return Err(ProtocolError::protocol(
                "64-bit payload length with the top bit set",
            ));
        }
        let len = match usize::try_from(len) {
            Ok(len) if len <= self.limits.max_frame_payload => len,
            _ => return Err(ProtocolError::too_big("frame payload too big")),
        };
        let mask = masked.then(|| {
            let at = header - 4;
            [buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]
        });
        let mut check_utf8 = false;
        if !control {
            if opcode == OP_CONTINUATION {
                if let Some(message) = self.message.as_mut() {
                    if message.fragments >= self.limits.max_fragments {
                        return Err(ProtocolError::too_big("message in too many fragments"));
                    }
                    message.fragments += 1;
                    message.size = message.size.saturating_add(len);
                    if !message.compressed && message.size > self.limits.max_message_size {
                        return Err(ProtocolError::too_big("message too big"));
                    }
                    check_utf8 = message.text && !message.compressed;
                }
            } else {
                if !rsv1 && len > self.limits.max_message_size {
                    return Err(ProtocolError::too_big("message too big"));
                }
                let text = opcode == OP_TEXT;
                check_utf8 = text && !rsv1;
                self.message = Some(Message {
                    text,
                    compressed: rsv1,
                    fragments: 1,
                    size: len,
                    data: Vec::new(),
                    utf8: Utf8Validator::new(),
                });
            }
        }
        buf.advance(header);
        Ok(Some(Frame {
            fin,
            opcode,
            len,
            mask,
            done: 0,
            check_utf8,
        }))
    }

    /// Handles a frame whose payload (unmasked) is all here.
    fn complete(
        &mut self,
        frame: &Frame,
        payload: BytesMut,
    ) -> Result<Option<Incoming>, ProtocolError> {
        match frame.opcode {
            OP_PING => return Ok(Some(Incoming::Ping(payload.freeze()))),
            OP_PONG => return Ok(Some(Incoming::Pong(payload.freeze()))),
            OP_CLOSE => return close(&payload).map(Some),
            _ => {}
        }
        let Some(message) = self.message.as_mut() else {
            return Err(ProtocolError::protocol(
                "continuation frame without a message to continue",
            ));
        };
        let single = frame.fin && message.fragments == 1;
        if message.compressed {
            let Some(inflater) = self.inflater.as_mut() else {
                return Err(ProtocolError::protocol(
                    "RSV1 set without permessage-deflate",
                ));
            };
            let limit = self.limits.max_message_size;
            let before = message.data.len();
            inflater.inflate(&payload, &mut message.data, limit)?;
            if frame.fin {
                inflater.finish(&mut message.data, limit)?;
            }
            if message.text && !single {
                message
                    .utf8
                    .feed(&message.data[before..])
                    .map_err(|()| ProtocolError::invalid_data("invalid UTF-8 in a text message"))?;
            }
        } else if single {
            self.message = None;
            return if frame.opcode == OP_TEXT {
                match std::str::from_utf8(&payload) {
                    Ok(text) => Ok(Some(Incoming::Text(text.to_owned()))),
                    Err(_) => Err(ProtocolError::invalid_data(
                        "invalid UTF-8 in a text message",
                    )),
                }
            } else {
                Ok(Some(Incoming::Binary(payload.freeze())))
            };
        } else {
            message.data.extend_from_slice(&payload);
        }
        if !frame.fin {
            return Ok(None);
        }
        let Some(mut message) = self.message.take() else {
            return Ok(None);
        };
        if !message.text {
            return Ok(Some(Incoming::Binary(Bytes::from(message.data))));
        }
        if !single && message.utf8.finish().is_err() {
            return Err(ProtocolError::invalid_data(
                "text message ends inside a UTF-8 sequence",
            ));
        }
        match String::from_utf8(message.data) {
            Ok(text) => Ok(Some(Incoming::Text(text))),
            Err(_) => Err(ProtocolError::invalid_data(
                "invalid UTF-8 in a text message",
            )),
        }
    }
}

/// Reads a close frame's payload.
fn close(payload: &[u8]) -> Result<Incoming, ProtocolError> {
    match payload {
        [] => Ok(Incoming::Close(None)),
        [_] => Err(ProtocolError::protocol("close frame with a 1-byte payload")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_close_code(code) {
                return Err(ProtocolError::protocol(&format!(
                    "invalid close code {code}"
                )));
            }
            match std::str::from_utf8(reason) {
                Ok(reason) => Ok(Incoming::Close(Some((code, reason.to_owned())))),
                Err(_) => Err(ProtocolError::invalid_data("close reason is not UTF-8")),
            }
        }
    }
}

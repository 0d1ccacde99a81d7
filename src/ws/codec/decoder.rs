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

#[cfg(test)]
mod tests {
    use bytes::BufMut;
    use proptest::prelude::*;

    use super::*;
    use crate::ws::codec::deflate::{DeflateOptions, Deflater};
    use crate::ws::codec::encoder::Encoder;
    use crate::ws::codec::negotiate::{accept, confirm, offer};

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    /// Appends a frame with any first byte (FIN, RSV bits, opcode), masked with `mask`.
    fn raw(out: &mut BytesMut, b0: u8, payload: &[u8], mask: Option<[u8; 4]>) {
        out.put_u8(b0);
        let m = if mask.is_some() { MASK } else { 0 };
        if payload.len() < 126 {
            out.put_u8(m | payload.len() as u8);
        } else if payload.len() <= 0xffff {
            out.put_u8(m | 126);
            out.put_u16(payload.len() as u16);
        } else {
            out.put_u8(m | 127);
            out.put_u64(payload.len() as u64);
        }
        let start = out.len();
        if let Some(key) = mask {
            out.put_slice(&key);
        }
        out.put_slice(payload);
        if let Some(key) = mask {
            apply_mask(&mut out[start + 4..], key, 0);
        }
    }

    /// Frames as a peer of `role` would send them: masked towards a server.
    fn peer(role: Role, frames: &[(u8, &[u8])]) -> BytesMut {
        let mut out = BytesMut::new();
        for (b0, payload) in frames {
            raw(
                &mut out,
                *b0,
                payload,
                (role == Role::Server).then_some(KEY),
            );
        }
        out
    }

    fn decoder(role: Role, deflate: bool) -> Decoder {
        let inflater = deflate.then(|| Inflater::new(15, false));
        Decoder::new(role, Limits::default(), inflater)
    }

    /// Decodes everything in `buf`, stopping at the first error.
    fn drain(d: &mut Decoder, buf: &mut BytesMut) -> Result<Vec<Incoming>, ProtocolError> {
        let mut events = Vec::new();
        while let Some(event) = d.decode(buf)? {
            events.push(event);
        }
        Ok(events)
    }

    /// Feeds `bytes` `chunk` bytes at a time.
    fn chunked(
        d: &mut Decoder,
        bytes: &[u8],
        chunk: usize,
    ) -> Result<Vec<Incoming>, ProtocolError> {
        let mut buf = BytesMut::new();
        let mut events = Vec::new();
        for piece in bytes.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            events.extend(drain(d, &mut buf)?);
        }
        assert!(buf.is_empty());
        Ok(events)
    }

    fn text(s: &str) -> Incoming {
        Incoming::Text(s.to_owned())
    }

    #[test]
    fn rfc6455_examples() {
        let hello = Incoming::Text("Hello".into());
        let rows: &[(Role, &[u8], Vec<Incoming>)] = &[
            // A single-frame unmasked text message (to a client).
            (
                Role::Client,
                &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
                vec![hello.clone()],
            ),
            // A single-frame masked text message (to a server).
            (
                Role::Server,
                &[
                    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ],
                vec![hello.clone()],
            ),
            // A fragmented unmasked text message.
            (
                Role::Client,
                &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
                vec![hello.clone()],
            ),
            // Unmasked ping, masked pong.
            (
                Role::Client,
                &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
                vec![Incoming::Ping(Bytes::from_static(b"Hello"))],
            ),
            (
                Role::Server,
                &[
                    0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
                ],
                vec![Incoming::Pong(Bytes::from_static(b"Hello"))],
            ),
        ];
        for (role, bytes, want) in rows {
            for chunk in [1, 2, 3, bytes.len()] {
                let got = chunked(&mut decoder(*role, false), bytes, chunk).unwrap();
                assert_eq!(&got, want, "{bytes:x?} in chunks of {chunk}");
            }
        }
        // 256 bytes and 64 KiB binary messages, unmasked.
        for (len, header) in [
            (256, &[0x82, 0x7e, 0x01, 0x00][..]),
            (
                65536,
                &[0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00][..],
            ),
        ] {
            let body: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut bytes = header.to_vec();
            bytes.extend_from_slice(&body);
            let got = chunked(&mut decoder(Role::Client, false), &bytes, 1000).unwrap();
            assert_eq!(got, [Incoming::Binary(body.into())]);
        }
    }

    #[test]
    fn rfc7692_examples() {
        let rows: &[(&[u8], usize)] = &[
            // 7.2.3.1: "Hello" compressed, in one frame and in two fragments.
            (&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], 1),
            (
                &[
                    0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
                ],
                1,
            ),
            // 7.2.3.2: the second "Hello" refers back to the first.
            (
                &[
                    0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xc1, 0x05, 0xf2, 0x00,
                    0x11, 0x00, 0x00,
                ],
                2,
            ),
            // 7.2.3.3: a stored block.
            (
                &[
                    0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
                ],
                1,
            ),
            // 7.2.3.5: BFINAL set.
            (
                &[0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
                1,
            ),
        ];
        for (bytes, n) in rows {
            for chunk in [1, 4, bytes.len()] {
                let got = chunked(&mut decoder(Role::Client, true), bytes, chunk).unwrap();
                assert_eq!(got, vec![text("Hello"); *n], "{bytes:x?}");
            }
        }
        // The encoder's side: the RFC's "Hello" would grow (7 bytes for 5), so it goes out
        // uncompressed, RSV1 off, and the compressor starts afresh; a message that shrinks is
        // compressed. (The RFC bytes themselves are the deflater's own test.)
        let mut e = Encoder::new(Role::Server, Some(Deflater::new(6, 15, false, 0)));
        let mut out = BytesMut::new();
        e.message(true, b"Hello", &mut out);
        assert_eq!(&out[..], [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
        let long = "Hello ".repeat(100);
        let mut out = BytesMut::new();
        e.message(true, long.as_bytes(), &mut out);
        assert_eq!(out[0], 0xc1, "FIN, RSV1, text");
        assert!(out.len() < long.len() / 4, "{} bytes", out.len());
        let got = chunked(&mut decoder(Role::Client, true), &out, 7).unwrap();
        assert_eq!(got, vec![text(&long)]);
    }

    #[test]
    fn rules() {
        let c = Role::Client;
        let s = Role::Server;
        let small = Limits {
            max_frame_payload: 100,
            max_message_size: 150,
            max_fragments: 3,
        };
        let mut bomb = Vec::new();
        Deflater::new(9, 15, false, 0)
            .compress(&[b'a'; 10_000], &mut bomb)
            .unwrap();
        let mut bad_deflated = Vec::new();
        Deflater::new(1, 15, false, 0)
            .compress(b"ok \xff", &mut bad_deflated)
            .unwrap();
        let unmasked = |b0: u8, p: &[u8]| {
            let mut out = BytesMut::new();
            raw(&mut out, b0, p, None);
            out
        };
        let masked = |b0: u8, p: &[u8]| {
            let mut out = BytesMut::new();
            raw(&mut out, b0, p, Some(KEY));
            out
        };
        let mut huge_len = BytesMut::from(&[0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0][..]);
        huge_len.extend_from_slice(&KEY);
        #[rustfmt::skip]
        let rows: Vec<(&str, Role, bool, Limits, BytesMut, u16)> = vec![
            ("rsv2", s, false, Limits::default(), peer(s, &[(0xa1, b"hi")]), 1002),
            ("rsv3", s, false, Limits::default(), peer(s, &[(0x91, b"hi")]), 1002),
            ("rsv2 with deflate", s, true, Limits::default(), peer(s, &[(0xa1, b"hi")]), 1002),
            ("rsv1 without deflate", s, false, Limits::default(), peer(s, &[(0xc1, b"hi")]), 1002),
            ("rsv1 on continuation", s, true, Limits::default(), peer(s, &[(0x41, b""), (0xc0, b"")]), 1002),
            ("rsv1 on ping", s, true, Limits::default(), peer(s, &[(0xc9, b"")]), 1002),
            ("rsv1 on close", c, true, Limits::default(), peer(c, &[(0xc8, b"")]), 1002),
            ("opcode 3", s, false, Limits::default(), peer(s, &[(0x83, b"")]), 1002),
            ("opcode 7", s, false, Limits::default(), peer(s, &[(0x87, b"")]), 1002),
            ("opcode 11", s, false, Limits::default(), peer(s, &[(0x8b, b"")]), 1002),
            ("opcode 15", c, false, Limits::default(), peer(c, &[(0x8f, b"")]), 1002),
            ("fragmented ping", s, false, Limits::default(), peer(s, &[(0x09, b"a"), (0x80, b"b")]), 1002),
            ("fragmented close", s, false, Limits::default(), peer(s, &[(0x08, b"")]), 1002),
            ("ping of 126", s, false, Limits::default(), peer(s, &[(0x89, &[0; 126])]), 1002),
            ("pong of 126", c, false, Limits::default(), peer(c, &[(0x8a, &[0; 126])]), 1002),
            ("unmasked to server", s, false, Limits::default(), unmasked(0x81, b"hi"), 1002),
            ("masked to client", c, false, Limits::default(), masked(0x81, b"hi"), 1002),
            ("lone continuation", s, false, Limits::default(), peer(s, &[(0x80, b"x")]), 1002),
            ("lone non-final continuation", s, false, Limits::default(), peer(s, &[(0x00, b"x")]), 1002),
            ("text inside text", s, false, Limits::default(), peer(s, &[(0x01, b"a"), (0x81, b"b")]), 1002),
            ("binary inside text", s, false, Limits::default(), peer(s, &[(0x01, b"a"), (0x02, b"b")]), 1002),
            ("top bit of 64-bit length", s, false, Limits::default(), huge_len, 1002),
            ("frame too big", s, false, small, peer(s, &[(0x82, &[0; 101])]), 1009),
            ("ping under a small frame limit is fine, the frame is not", s, false, small, peer(s, &[(0x89, &[0; 100]), (0x82, &[0; 101])]), 1009),
            ("message too big", s, false, small, peer(s, &[(0x02, &[0; 100]), (0x80, &[0; 51])]), 1009),
            ("too many fragments", s, false, small, peer(s, &[(0x02, b""), (0x00, b""), (0x00, b""), (0x80, b"")]), 1009),
            ("inflates too big", c, true, small, peer(c, &[(0xc2, &bomb)]), 1009),
            ("inflates too big in fragments", c, true, small, peer(c, &[(0x42, &bomb[..bomb.len() / 2]), (0x80, &bomb[bomb.len() / 2..])]), 1009),
            ("corrupt deflate data", c, true, Limits::default(), peer(c, &[(0xc2, &[0xff; 8])]), 1007),
            ("bad utf-8", s, false, Limits::default(), peer(s, &[(0x81, b"ok \xff")]), 1007),
            ("surrogate", s, false, Limits::default(), peer(s, &[(0x81, b"\xed\xa0\x80")]), 1007),
            ("bad utf-8 in a fragment", s, false, Limits::default(), peer(s, &[(0x01, "κό".as_bytes()), (0x80, b"\xc0\xaf")]), 1007),
            ("text ends mid-character", s, false, Limits::default(), peer(s, &[(0x01, b"ab"), (0x80, b"\xe2\x82")]), 1007),
            ("bad utf-8 compressed", c, true, Limits::default(), peer(c, &[(0xc1, &bad_deflated)]), 1007),
            ("close of 1 byte", s, false, Limits::default(), peer(s, &[(0x88, &[0x03])]), 1002),
            ("close code 999", s, false, Limits::default(), peer(s, &[(0x88, &[0x03, 0xe7])]), 1002),
            ("close code 1004", s, false, Limits::default(), peer(s, &[(0x88, &[0x03, 0xec])]), 1002),
            ("close code 1005", s, false, Limits::default(), peer(s, &[(0x88, &[0x03, 0xed])]), 1002),
            ("close code 1006", c, false, Limits::default(), peer(c, &[(0x88, &[0x03, 0xee])]), 1002),
            ("close code 1015", s, false, Limits::default(), peer(s, &[(0x88, &[0x03, 0xf7])]), 1002),
            ("close code 2999", s, false, Limits::default(), peer(s, &[(0x88, &[0x0b, 0xb7])]), 1002),
            ("close code 5000", s, false, Limits::default(), peer(s, &[(0x88, &[0x13, 0x88])]), 1002),
            ("close reason not utf-8", s, false, Limits::default(), peer(s, &[(0x88, b"\x03\xe8\xff")]), 1007),
        ];
        for (name, role, deflate, limits, bytes, code) in rows {
            for chunk in [1, 7, bytes.len()] {
                let inflater = deflate.then(|| Inflater::new(15, false));
                let mut d = Decoder::new(role, limits, inflater);
                let err = chunked(&mut d, &bytes, chunk).unwrap_err();
                assert_eq!(err.code, code, "{name} (chunks of {chunk}): {err}");
                assert!(err.reason.len() <= 123);
                // Dead from now on.
                assert_eq!(d.decode(&mut BytesMut::from(&b"\x81\x00"[..])), Err(err));
            }
        }
    }

    #[test]
    fn valid_edge_cases() {
        let s = Role::Server;
        #[rustfmt::skip]
        let rows: Vec<(BytesMut, Vec<Incoming>)> = vec![
            (peer(s, &[(0x81, b"")]), vec![text("")]),
            (peer(s, &[(0x82, b"")]), vec![Incoming::Binary(Bytes::new())]),
            (peer(s, &[(0x88, b"")]), vec![Incoming::Close(None)]),
            (peer(s, &[(0x88, b"\x03\xe8")]), vec![Incoming::Close(Some((1000, String::new())))]),
            (peer(s, &[(0x88, &[b"\x0f\x9f".as_slice(), "bye é".as_bytes()].concat())]), vec![Incoming::Close(Some((3999, "bye é".into())))]),
            (peer(s, &[(0x89, &[7; 125])]), vec![Incoming::Ping(Bytes::from(vec![7; 125]))]),
            // Control frames between fragments come out at once; a character split across
            // fragments is fine.
            (
                peer(s, &[(0x01, b"a\xe2"), (0x89, b"p"), (0x00, b"\x82"), (0x8a, b"q"), (0x80, b"\xac!")]),
                vec![Incoming::Ping(Bytes::from_static(b"p")), Incoming::Pong(Bytes::from_static(b"q")), text("a€!")],
            ),
            (peer(s, &[(0x02, b""), (0x00, b"ab"), (0x80, b"")]), vec![Incoming::Binary(Bytes::from_static(b"ab"))]),
            (peer(s, &[(0x81, b"x"), (0x82, b"y")]), vec![text("x"), Incoming::Binary(Bytes::from_static(b"y"))]),
        ];
        for (bytes, want) in rows {
            for chunk in [1, 2, 5, bytes.len()] {
                let got = chunked(&mut decoder(s, false), &bytes, chunk).unwrap();
                assert_eq!(got, want, "{bytes:x?} in chunks of {chunk}");
            }
        }
    }

    #[test]
    fn utf8_fails_fast() {
        // Inside one frame: the bad byte fails the frame before the rest of it arrives.
        let mut d = decoder(Role::Server, false);
        let bytes = peer(
            Role::Server,
            &[(
                0x81,
                &[b"hello \xce\xba\xff".as_slice(), &[b'a'; 100]].concat(),
            )],
        );
        let mut buf = BytesMut::from(&bytes[..20]);
        assert_eq!(d.decode(&mut buf).unwrap_err().code, 1007);
        // Between fragments: the second fails before the third exists.
        let mut d = decoder(Role::Server, false);
        let mut buf = peer(Role::Server, &[(0x01, b"ok"), (0x00, b"\xf4\x90")]);
        assert_eq!(d.decode(&mut buf).unwrap_err().code, 1007);
        // Compressed: the first fragment's inflated text already fails.
        let mut deflated = Vec::new();
        Deflater::new(1, 15, false, 0)
            .compress(b"ok \xff more", &mut deflated)
            .unwrap();
        let mut d = decoder(Role::Client, true);
        let mut buf = peer(Role::Client, &[(0x41, &deflated)]);
        assert_eq!(d.decode(&mut buf).unwrap_err().code, 1007);
        // A header alone already fails on what its first two bytes say.
        let mut d = decoder(Role::Server, false);
        assert_eq!(d.decode(&mut BytesMut::from(&[0x83u8][..])).unwrap(), None);
        assert_eq!(
            d.decode(&mut BytesMut::from(&[0x83u8, 0x80][..]))
                .unwrap_err()
                .code,
            1002
        );
    }

    #[test]
    fn needed_counts_what_is_missing() {
        let d = decoder(Role::Client, false);
        let mut bytes = vec![0x82, 0x7e, 0x01, 0x00];
        bytes.extend_from_slice(&[0; 256]);
        assert_eq!(d.needed(&BytesMut::new()), 2);
        assert_eq!(d.needed(&BytesMut::from(&bytes[..1])), 1);
        assert_eq!(d.needed(&BytesMut::from(&bytes[..2])), 2);
        assert_eq!(d.needed(&BytesMut::from(&bytes[..4])), 256);
        assert_eq!(d.needed(&BytesMut::from(&bytes[..100])), 160);
        let mut d = decoder(Role::Client, false);
        let mut buf = BytesMut::from(&bytes[..100]);
        assert_eq!(d.decode(&mut buf).unwrap(), None);
        assert_eq!(d.needed(&buf), 160);
        buf.extend_from_slice(&bytes[100..]);
        assert_eq!(d.needed(&buf), 0);
        assert!(matches!(d.decode(&mut buf).unwrap(), Some(Incoming::Binary(b)) if b.len() == 256));
    }

    #[test]
    fn binary_is_split_off_without_a_copy() {
        let bytes = peer(Role::Client, &[(0x82, &[9; 1000])]);
        let mut buf = bytes.clone();
        let start = buf.as_ptr() as usize;
        let Some(Incoming::Binary(b)) = decoder(Role::Client, false).decode(&mut buf).unwrap()
        else {
            panic!("not binary");
        };
        assert_eq!(b.as_ptr() as usize, start + 4);
    }

    // ---- round trips ----

    #[derive(Clone, Debug)]
    enum Op {
        Message { text: bool, len: usize, seed: u64 },
        Ping(Vec<u8>),
    }

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        let message = (
            any::<bool>(),
            prop_oneof![3 => 0..300usize, 1 => 0..70_000usize],
            any::<u64>(),
        )
            .prop_map(|(text, len, seed)| Op::Message { text, len, seed });
        let ping = proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Ping);
        proptest::collection::vec(prop_oneof![3 => message, 1 => ping], 0..8)
    }

    /// A message's payload: text mixes one- to four-byte characters; half the messages are
    /// repetitive (compressible), half random.
    fn payload(text: bool, len: usize, seed: u64) -> Vec<u8> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let repetitive = rng.bool();
        if text {
            let alphabet = ['a', 'b', ' ', '\n', 'é', '€', '𝄞', 'κ'];
            let mut s = String::new();
            let mut prev = 'a';
            while s.len() < len {
                if !repetitive || rng.u8(..) < 40 {
                    prev = alphabet[rng.usize(..alphabet.len())];
                }
                s.push(prev);
            }
            s.into_bytes()
        } else if repetitive {
            (0..len)
                .map(|i| (i % 17) as u8 ^ (i / 1000) as u8)
                .collect()
        } else {
            let mut v = vec![0; len];
            rng.fill(&mut v);
            v
        }
    }

    fn event(text: bool, data: Vec<u8>) -> Incoming {
        if text {
            Incoming::Text(String::from_utf8(data).unwrap())
        } else {
            Incoming::Binary(data.into())
        }
    }

    /// Feeds `bytes` in random-sized chunks.
    fn random_chunks(
        d: &mut Decoder,
        bytes: &[u8],
        seed: u64,
    ) -> Result<Vec<Incoming>, ProtocolError> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut buf = BytesMut::new();
        let mut events = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let n = match rng.u8(..4) {
                0 => rng.usize(1..8),
                1 => rng.usize(1..200),
                _ => rng.usize(1..20_000),
            }
            .min(bytes.len() - at);
            buf.extend_from_slice(&bytes[at..at + n]);
            at += n;
            events.extend(drain(d, &mut buf)?);
        }
        assert!(buf.is_empty());
        Ok(events)
    }

    #[derive(Clone, Debug)]
    struct Settings {
        deflate: bool,
        client: DeflateOptions,
        server: DeflateOptions,
    }

    fn settings() -> impl Strategy<Value = Settings> {
        let options = (
            any::<bool>(),
            any::<bool>(),
            9..=15u8,
            9..=15u8,
            0..=9u32,
            0..100usize,
        )
            .prop_map(|(snct, cnct, sbits, cbits, level, threshold)| {
                DeflateOptions::new()
                    .server_no_context_takeover(snct)
                    .client_no_context_takeover(cnct)
                    .server_max_window_bits(sbits)
                    .client_max_window_bits(cbits)
                    .level(level)
                    .threshold(threshold)
            });
        (any::<bool>(), options.clone(), options).prop_map(|(deflate, client, server)| Settings {
            deflate,
            client,
            server,
        })
    }

    /// Negotiates like the handshake does: the client offers, the server accepts, the client
    /// confirms. Returns (client encoder, client decoder, server encoder, server decoder).
    fn pair(s: &Settings) -> (Encoder, Decoder, Encoder, Decoder) {
        let (mut cd, mut ci, mut sd, mut si) = (None, None, None, None);
        if s.deflate {
            let agreement = accept(&s.server, [offer(&s.client).as_str()]).expect("our own offer");
            let confirmed = confirm(&s.client, &agreement.response_header()).unwrap();
            assert_eq!(confirmed.as_ref(), Some(&agreement));
            let (d, i) = agreement.codec(Role::Client, &s.client);
            (cd, ci) = (Some(d), Some(i));
            let (d, i) = agreement.codec(Role::Server, &s.server);
            (sd, si) = (Some(d), Some(i));
        }
        (
            Encoder::new(Role::Client, cd),
            Decoder::new(Role::Client, Limits::default(), ci),
            Encoder::new(Role::Server, sd),
            Decoder::new(Role::Server, Limits::default(), si),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn round_trip(ops in ops(), s in settings(), chunk_seed in any::<u64>()) {
            let (mut client_enc, mut client_dec, mut server_enc, mut server_dec) = pair(&s);
            let mut model = Vec::new();
            let (mut to_server, mut to_client) = (BytesMut::new(), BytesMut::new());
            for op in &ops {
                match op {
                    Op::Message { text, len, seed } => {
                        let data = payload(*text, *len, *seed);
                        client_enc.message(*text, &data, &mut to_server);
                        server_enc.message(*text, &data, &mut to_client);
                        model.push(event(*text, data));
                    }
                    Op::Ping(data) => {
                        client_enc.ping(data, &mut to_server);
                        server_enc.ping(data, &mut to_client);
                        model.push(Incoming::Ping(data.clone().into()));
                    }
                }
            }
            prop_assert_eq!(random_chunks(&mut server_dec, &to_server, chunk_seed).unwrap(), model.clone());
            prop_assert_eq!(random_chunks(&mut client_dec, &to_client, !chunk_seed).unwrap(), model);
        }

        /// Messages cut into fragments by hand, compressed or not, with pings between the
        /// fragments, from a client to a server.
        #[test]
        fn fragmented_round_trip(ops in ops(), s in settings(), seed in any::<u64>()) {
            let (_, _, _, mut server_dec) = pair(&s);
            let mut deflater = s.deflate.then(|| {
                let agreement = accept(&s.server, [offer(&s.client).as_str()]).unwrap();
                agreement.codec(Role::Client, &s.client).0
            });
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut model = Vec::new();
            let mut wire = BytesMut::new();
            for op in &ops {
                match op {
                    Op::Message { text, len, seed } => {
                        let data = payload(*text, *len, *seed);
                        let mut compressed = Vec::new();
                        let rsv1 = match deflater.as_mut() {
                            Some(d) if rng.bool() => {
                                d.compress(&data, &mut compressed).unwrap();
                                true
                            }
                            _ => false,
                        };
                        let body: &[u8] = if rsv1 { &compressed } else { &data };
                        let pieces = rng.usize(1..6);
                        let mut cuts: Vec<usize> = (1..pieces).map(|_| rng.usize(..=body.len())).collect();
                        cuts.sort_unstable();
                        cuts.insert(0, 0);
                        cuts.push(body.len());
                        for (i, w) in cuts.windows(2).enumerate() {
                            let first = i == 0;
                            let last = i + 2 == cuts.len();
                            let opcode = if !first { OP_CONTINUATION } else if *text { OP_TEXT } else { OP_BINARY };
                            let b0 = if last { FIN } else { 0 } | if first && rsv1 { RSV1 } else { 0 } | opcode;
                            raw(&mut wire, b0, &body[w[0]..w[1]], Some(fastrand::u32(..).to_ne_bytes()));
                            if !last && rng.u8(..4) == 0 {
                                let ping: Vec<u8> = (0..rng.usize(..=125)).map(|_| rng.u8(..)).collect();
                                raw(&mut wire, FIN | OP_PING, &ping, Some(KEY));
                                model.push(Incoming::Ping(ping.into()));
                            }
                        }
                        model.push(event(*text, data));
                    }
                    Op::Ping(data) => {
                        raw(&mut wire, FIN | OP_PING, data, Some(KEY));
                        model.push(Incoming::Ping(data.clone().into()));
                    }
                }
            }
            prop_assert_eq!(random_chunks(&mut server_dec, &wire, seed).unwrap(), model);
        }
    }
}

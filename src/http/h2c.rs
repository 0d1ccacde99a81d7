//! HTTP/1.1 `Upgrade: h2c` (RFC 7540 section 3.2): the request that asks becomes HTTP/2's
//! stream 1 on the same connection.
//!
//! The h2 crate serves only streams it has read, so the request is handed to it as if the client
//! had sent it over HTTP/2: after the client's preface and first SETTINGS frame (into which the
//! `HTTP2-Settings` header's values are merged, ahead of the frame's own, as if received first),
//! a HEADERS frame for stream 1 is replayed. Its header block is HPACK literals "without
//! indexing", which leave the dynamic table untouched, so the client's encoder and h2's decoder
//! stay in step.
//!
//! Only a request without a body is upgraded (a request with one is answered over HTTP/1.1, as
//! RFC 9110 section 7.8 allows): after the `101` every byte is HTTP/2, and stream 1 is already
//! half closed by the client.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, Version, header};

use super::body::Body;

/// The client connection preface (RFC 9113 section 3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame header length.
const FRAME_HEADER: usize = 9;

/// The smallest SETTINGS_MAX_FRAME_SIZE a peer may have: frames replayed to h2 stay within it.
const MAX_FRAME: usize = 16_384;

const SETTINGS: u8 = 0x4;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const ACK: u8 = 0x1;

/// What an accepted `Upgrade: h2c` request hands to HTTP/2.
#[derive(Debug)]
pub(crate) struct StreamOne {
    /// The decoded `HTTP2-Settings` header: SETTINGS entries, 6 bytes each.
    settings: Vec<u8>,
    /// The request as HEADERS (and CONTINUATION) frames of stream 1.
    frames: Vec<u8>,
}

/// The stream-1 request if `parts` asks to upgrade to h2c and may: HTTP/1.1, `h2c` among the
/// `Upgrade` tokens, `Connection: Upgrade, HTTP2-Settings`, exactly one valid `HTTP2-Settings`
/// header (RFC 7540 section 3.2.1), and no body (`empty_body`).
pub(crate) fn offer(parts: &http::request::Parts, empty_body: bool) -> Option<StreamOne> {
    let headers = &parts.headers;
    if parts.version != Version::HTTP_11
        || !empty_body
        || !has_token(headers, header::UPGRADE, "h2c")
        || !has_token(headers, header::CONNECTION, "upgrade")
        || !has_token(headers, header::CONNECTION, "http2-settings")
    {
        return None;
    }
    let mut values = headers.get_all("http2-settings").iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return None;
    };
    let settings = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    )
    .decode(value.as_bytes())
    .ok()?;
    if settings.len() % 6 != 0 {
        return None;
    }
    Some(StreamOne {
        settings,
        frames: request_frames(parts)?,
    })
}

/// The `101 Switching Protocols` that accepts an upgrade.
pub(crate) fn switching_protocols() -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
    response
}

/// Whether a comma-separated header lists `token` (ASCII case-insensitive).
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|value| {
        value
            .as_bytes()
            .split(|&b| b == b',')
            .any(|item| item.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    })
}

/// The request as HTTP/2 header frames of stream 1, connection-specific fields left out
/// (RFC 9113 section 8.2.2). `None` when it has no authority.
fn request_frames(parts: &http::request::Parts) -> Option<Vec<u8>> {
    let headers = &parts.headers;
    let authority = match parts.uri.authority() {
        Some(authority) => authority.as_str().as_bytes().to_vec(),
        None => headers.get(header::HOST)?.as_bytes().to_vec(),
    };
    let path = match parts.uri.path_and_query() {
        Some(path) => path.as_str(),
        None => "/",
    };
    let mut block = Vec::with_capacity(256);
    literal(&mut block, b":method", parts.method.as_str().as_bytes());
    literal(&mut block, b":scheme", b"http");
    literal(&mut block, b":authority", &authority);
    literal(&mut block, b":path", path.as_bytes());
    for (name, value) in headers {
        if is_connection_specific(headers, name, value) {
            continue;
        }
        literal(&mut block, name.as_str().as_bytes(), value.as_bytes());
    }
    let mut frames = Vec::with_capacity(block.len() + FRAME_HEADER);
    let mut chunks = block.chunks(MAX_FRAME).peekable();
    let mut kind = HEADERS;
    let mut flags = END_STREAM;
    while let Some(chunk) = chunks.next() {
        if chunks.peek().is_none() {
            flags |= END_HEADERS;
        }
        frame_header(&mut frames, chunk.len(), kind, flags, 1);
        frames.extend_from_slice(chunk);
        kind = CONTINUATION;
        flags = 0;
    }
    Some(frames)
}

/// Fields HTTP/2 forbids, or that belong to HTTP/1.1's connection: `Host` becomes
/// `:authority`, and `TE` stays only as `trailers`.
fn is_connection_specific(headers: &HeaderMap, name: &HeaderName, value: &HeaderValue) -> bool {
    *name == header::HOST
        || *name == header::CONNECTION
        || *name == header::UPGRADE
        || *name == header::TRANSFER_ENCODING
        || name.as_str() == "http2-settings"
        || name.as_str() == "keep-alive"
        || name.as_str() == "proxy-connection"
        || (*name == header::TE && !value.as_bytes().eq_ignore_ascii_case(b"trailers"))
        || has_token(headers, header::CONNECTION, name.as_str())
}

/// An HPACK "literal header field without indexing, new name" (RFC 7541 section 6.2.2), its
/// strings not Huffman-coded.
fn literal(block: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    block.push(0);
    string(block, name);
    string(block, value);
}

fn string(block: &mut Vec<u8>, bytes: &[u8]) {
    integer(block, bytes.len(), 7, 0);
    block.extend_from_slice(bytes);
}

/// An HPACK integer with an `prefix`-bit prefix (RFC 7541 section 5.1).
fn integer(block: &mut Vec<u8>, mut value: usize, prefix: u32, first: u8) {
    let max = (1usize << prefix) - 1;
    if value < max {
        block.push(first | value as u8);
        return;
    }
    block.push(first | max as u8);
    value -= max;
    while value >= 128 {
        block.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    block.push(value as u8);
}

fn frame_header(out: &mut Vec<u8>, length: usize, kind: u8, flags: u8, stream: u32) {
    out.extend_from_slice(&(length as u32).to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
}

/// The upgraded connection as h2 reads it: the client's preface and first SETTINGS frame (the
/// `HTTP2-Settings` values merged in), then stream 1's request, then the client's bytes.
/// Writes go straight through.
pub(crate) struct Replayed<T> {
    io: T,
    state: State,
}

enum State {
    /// Reading the preface and the first frame.
    Reading {
        read: BytesMut,
        stream_one: StreamOne,
    },
    Replaying(Bytes),
    Through,
}

impl<T> Replayed<T> {
    pub(crate) fn new(io: T, stream_one: StreamOne) -> Replayed<T> {
        Replayed {
            io,
            state: State::Reading {
                read: BytesMut::with_capacity(128),
                stream_one,
            },
        }
    }
}

/// What the bytes read so far allow: `None` to read on, else the bytes h2 gets first.
fn rewrite(read: &[u8], stream_one: &StreamOne) -> Option<Bytes> {
    let settled = read.len().min(PREFACE.len());
    if read[..settled] != PREFACE[..settled] {
        // Not HTTP/2: h2 reports it.
        return Some(Bytes::copy_from_slice(read));
    }
    let frame = read.get(PREFACE.len()..)?;
    if frame.len() < FRAME_HEADER {
        return None;
    }
    let length = u32::from_be_bytes([0, frame[0], frame[1], frame[2]]) as usize;
    let (kind, flags) = (frame[3], frame[4]);
    let stream = u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]) & 0x7fff_ffff;
    if kind != SETTINGS || flags & ACK != 0 || stream != 0 || length > MAX_FRAME {
        // Not the SETTINGS the preface must open with: h2 reports it.
        return Some(Bytes::copy_from_slice(read));
    }
    let payload = frame.get(FRAME_HEADER..FRAME_HEADER + length)?;
    let rest = &frame[FRAME_HEADER + length..];
    let merged = if stream_one.settings.len() + length <= MAX_FRAME {
        &stream_one.settings[..]
    } else {
        &[][..]
    };
    let mut out = Vec::with_capacity(
        PREFACE.len() + 2 * FRAME_HEADER + merged.len() + length + stream_one.frames.len(),
    );
    out.extend_from_slice(PREFACE);
    frame_header(&mut out, merged.len() + length, SETTINGS, 0, 0);
    out.extend_from_slice(merged);
    out.extend_from_slice(payload);
    out.extend_from_slice(&stream_one.frames);
    out.extend_from_slice(rest);
    Some(out.into())
}

impl<T: AsyncRead + Unpin> AsyncRead for Replayed<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            match &mut this.state {
                State::Through => return Pin::new(&mut this.io).poll_read(cx, buf),
                State::Replaying(bytes) => {
                    if bytes.is_empty() {
                        this.state = State::Through;
                        continue;
                    }
                    let n = bytes.len().min(buf.len());
                    buf[..n].copy_from_slice(&bytes.split_to(n));
                    return Poll::Ready(Ok(n));
                }
                State::Reading { read, stream_one } => {
                    if let Some(first) = rewrite(read, stream_one) {
                        this.state = State::Replaying(first);
                        continue;
                    }
                    let mut chunk = [0u8; 512];
                    let n = ready!(Pin::new(&mut this.io).poll_read(cx, &mut chunk))?;
                    if n == 0 {
                        // The client went before its preface: h2 sees what came.
                        this.state = State::Replaying(std::mem::take(read).freeze());
                        continue;
                    }
                    read.extend_from_slice(&chunk[..n]);
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Replayed<T> {
    super::io::write_through!(io);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(request: http::request::Builder) -> http::request::Parts {
        request.body(()).unwrap().into_parts().0
    }

    fn upgrade(path: &str) -> http::request::Builder {
        http::Request::get(path)
            .header("host", "example.com")
            .header("connection", "Upgrade, HTTP2-Settings")
            .header("upgrade", "h2c")
            // SETTINGS_MAX_CONCURRENT_STREAMS = 100, SETTINGS_INITIAL_WINDOW_SIZE = 65535
            .header("http2-settings", "AAMAAABkAAQAAP__")
    }

    #[test]
    fn an_upgrade_request_is_offered_and_others_are_not() {
        let offered = offer(&parts(upgrade("/")), true).unwrap();
        assert_eq!(
            offered.settings,
            [0, 3, 0, 0, 0, 100, 0, 4, 0, 0, 0xff, 0xff]
        );
        assert!(offer(&parts(upgrade("/")), false).is_none(), "a body");
        let mut request = parts(upgrade("/"));
        request
            .headers
            .insert("connection", HeaderValue::from_static("upgrade"));
        assert!(
            offer(&request, true).is_none(),
            "http2-settings not a connection option"
        );
        let mut request = parts(upgrade("/"));
        request
            .headers
            .append("http2-settings", HeaderValue::from_static("AAMAAABk"));
        assert!(offer(&request, true).is_none(), "two HTTP2-Settings");
        let mut request = parts(upgrade("/"));
        request
            .headers
            .insert("http2-settings", HeaderValue::from_static("AAMA"));
        assert!(offer(&request, true).is_none(), "not whole settings");
        let mut request = parts(upgrade("/"));
        request
            .headers
            .insert("upgrade", HeaderValue::from_static("websocket"));
        assert!(offer(&request, true).is_none(), "another protocol");
        let mut request = parts(upgrade("/"));
        request
            .headers
            .insert("upgrade", HeaderValue::from_static("foo/2, H2C"));
        assert!(offer(&request, true).is_some(), "h2c among tokens");
        let mut request = parts(upgrade("/"));
        request.version = Version::HTTP_10;
        assert!(offer(&request, true).is_none(), "HTTP/1.0");
    }

    /// Decodes the literal-only header block `request_frames` writes.
    fn decode(mut block: &[u8]) -> Vec<(String, String)> {
        fn integer(block: &mut &[u8], prefix: u32) -> usize {
            let max = (1usize << prefix) - 1;
            let mut value = (block[0] as usize) & max;
            *block = &block[1..];
            if value < max {
                return value;
            }
            let mut shift = 0;
            loop {
                let b = block[0];
                *block = &block[1..];
                value += ((b & 0x7f) as usize) << shift;
                shift += 7;
                if b & 0x80 == 0 {
                    return value;
                }
            }
        }
        fn string(block: &mut &[u8]) -> String {
            assert_eq!(block[0] & 0x80, 0, "no Huffman");
            let n = integer(block, 7);
            let s = String::from_utf8(block[..n].to_vec()).unwrap();
            *block = &block[n..];
            s
        }
        let mut fields = Vec::new();
        while !block.is_empty() {
            assert_eq!(block[0], 0, "literal without indexing, new name");
            block = &block[1..];
            let name = string(&mut block);
            let value = string(&mut block);
            fields.push((name, value));
        }
        fields
    }

    /// Splits frames into (kind, flags, stream, payload).
    fn frames(mut bytes: &[u8]) -> Vec<(u8, u8, u32, Vec<u8>)> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let length = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
            let stream = u32::from_be_bytes([bytes[5], bytes[6], bytes[7], bytes[8]]);
            out.push((bytes[3], bytes[4], stream, bytes[9..9 + length].to_vec()));
            bytes = &bytes[9 + length..];
        }
        out
    }

    #[test]
    fn the_request_becomes_stream_one_without_connection_fields() {
        let request = parts(
            upgrade("/search?q=1")
                .header("accept", "text/plain")
                .header("keep-alive", "timeout=5")
                .header("te", "gzip")
                .header("x-long", "v".repeat(200)),
        );
        let offered = offer(&request, true).unwrap();
        let frames = frames(&offered.frames);
        assert_eq!(frames.len(), 1);
        let (kind, flags, stream, block) = &frames[0];
        assert_eq!(
            (*kind, *flags, *stream),
            (HEADERS, END_STREAM | END_HEADERS, 1)
        );
        let fields = decode(block);
        let expect = |name: &str, value: &str| (name.to_string(), value.to_string());
        assert_eq!(
            fields,
            [
                expect(":method", "GET"),
                expect(":scheme", "http"),
                expect(":authority", "example.com"),
                expect(":path", "/search?q=1"),
                expect("accept", "text/plain"),
                expect("x-long", &"v".repeat(200)),
            ]
        );
    }

    #[test]
    fn a_large_header_block_continues_in_continuation_frames() {
        let request = parts(upgrade("/").header("x-big", "b".repeat(40_000)));
        let offered = offer(&request, true).unwrap();
        let frames = frames(&offered.frames);
        let kinds: Vec<_> = frames.iter().map(|f| (f.0, f.1, f.2)).collect();
        assert_eq!(
            kinds,
            [
                (HEADERS, END_STREAM, 1),
                (CONTINUATION, 0, 1),
                (CONTINUATION, END_HEADERS, 1)
            ]
        );
        let block: Vec<u8> = frames.iter().flat_map(|f| f.3.clone()).collect();
        assert_eq!(decode(&block)[4], ("x-big".into(), "b".repeat(40_000)));
    }

    #[test]
    fn the_replay_merges_settings_and_inserts_stream_one_at_any_read_split() {
        let offered = || offer(&parts(upgrade("/")), true).unwrap();
        let mut client = PREFACE.to_vec();
        // The client's SETTINGS: SETTINGS_ENABLE_PUSH = 0, then a PING.
        frame_header(&mut client, 6, SETTINGS, 0, 0);
        client.extend_from_slice(&[0, 2, 0, 0, 0, 0]);
        frame_header(&mut client, 8, 0x6, 0, 0);
        client.extend_from_slice(&[7; 8]);
        let stream_one = offered().frames;
        for split in 1..client.len() {
            let io = Chunked {
                bytes: client.clone(),
                at: 0,
                chunk: split,
            };
            let mut replayed = Replayed::new(io, offered());
            let mut out = Vec::new();
            futures_lite::future::block_on(futures_lite::AsyncReadExt::read_to_end(
                &mut replayed,
                &mut out,
            ))
            .unwrap();
            assert!(out.starts_with(PREFACE));
            let frames = frames(&out[PREFACE.len()..]);
            assert_eq!(frames[0].0, SETTINGS);
            assert_eq!(
                frames[0].3,
                [0, 3, 0, 0, 0, 100, 0, 4, 0, 0, 0xff, 0xff, 0, 2, 0, 0, 0, 0]
            );
            let headers = &frames[1];
            assert_eq!((headers.0, headers.2), (HEADERS, 1));
            assert_eq!(
                &out[PREFACE.len() + FRAME_HEADER + 18..][..stream_one.len()],
                &stream_one[..]
            );
            assert_eq!((frames[2].0, &frames[2].3[..]), (0x6, &[7u8; 8][..]));
        }
    }

    #[test]
    fn bytes_that_are_not_http2_pass_through() {
        for client in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            &b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x06\0\0\0\0\0"[..],
        ] {
            let io = Chunked {
                bytes: client.to_vec(),
                at: 0,
                chunk: 3,
            };
            let mut replayed = Replayed::new(io, offer(&parts(upgrade("/")), true).unwrap());
            let mut out = Vec::new();
            futures_lite::future::block_on(futures_lite::AsyncReadExt::read_to_end(
                &mut replayed,
                &mut out,
            ))
            .unwrap();
            assert_eq!(out, client);
        }
    }

    /// A reader that yields `chunk` bytes at a time.
    struct Chunked {
        bytes: Vec<u8>,
        at: usize,
        chunk: usize,
    }

    impl AsyncRead for Chunked {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            let this = self.get_mut();
            let n = this.chunk.min(buf.len()).min(this.bytes.len() - this.at);
            buf[..n].copy_from_slice(&this.bytes[this.at..this.at + n]);
            this.at += n;
            Poll::Ready(Ok(n))
        }
    }
}

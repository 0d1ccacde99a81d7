//! permessage-deflate (RFC 7692): the user's settings and the per-direction compressor and
//! decompressor.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::frame::ProtocolError;

/// The tail a sync flush ends with; stripped after compressing, appended before inflating.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Settings for WebSocket compression (permessage-deflate, RFC 7692).
///
/// Both ends compress with DEFLATE and, by default, keep the compression context from one message
/// to the next ("context takeover"), which makes small repetitive messages (JSON, chat) shrink
/// well at the cost of a window of memory per direction on each connection. The builder methods
/// below trade that memory for compression ratio.
///
/// The defaults: messages of at least 64 bytes are compressed, at level 6 (zlib's), with context
/// takeover in both directions and 32 KiB windows (15 bits).
///
/// # Examples
///
/// ```
/// use weir::ws::DeflateOptions;
///
/// let options = DeflateOptions::new()
///     .threshold(256)
///     .level(1)
///     .client_no_context_takeover(true);
/// assert_eq!(options, DeflateOptions::default().threshold(256).level(1).client_no_context_takeover(true));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateOptions {
    pub(crate) threshold: usize,
    pub(crate) level: u32,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
}

impl Default for DeflateOptions {
    fn default() -> DeflateOptions {
        DeflateOptions {
            threshold: 64,
            level: 6,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

impl DeflateOptions {
    /// The defaults: threshold 64 bytes, level 6, context takeover both ways, 15-bit windows.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::ws::DeflateOptions;
    ///
    /// assert_eq!(DeflateOptions::new(), DeflateOptions::default());
    /// ```
    pub fn new() -> DeflateOptions {
        DeflateOptions::default()
    }

    /// Messages shorter than `bytes` are sent uncompressed (default 64): deflating a few bytes
    /// costs more time than it saves on the wire. 0 compresses every message.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::ws::DeflateOptions;
    ///
    /// // Compress everything, however short.
    /// let options = DeflateOptions::new().threshold(0);
    /// # let _ = options;
    /// ```
    pub fn threshold(mut self, bytes: usize) -> DeflateOptions {
        self.threshold = bytes;
        self
    }

    /// The compression level, 0 (store only) to 9 (smallest output, slowest); default 6, zlib's
    /// default. Level 1 is the fastest, but zlib-rs's level 1 uses fixed Huffman codes, which
    /// barely shrink text without repetition. Values above 9 are taken as 9. A message that
    /// would not get smaller is sent uncompressed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::ws::DeflateOptions;
    ///
    /// assert_eq!(DeflateOptions::new().level(42), DeflateOptions::new().level(9));
    /// ```
    pub fn level(mut self, level: u32) -> DeflateOptions {
        self.level = level.min(9);
        self
    }

    /// Whether the server starts every message with an empty compression context (default
    /// false). A client asks the server for it; a server does it and says so. It saves the
    /// server's window memory between messages and costs compression ratio.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::ws::DeflateOptions;
    ///
    /// let options = DeflateOptions::new().server_no_context_takeover(true);
    /// # let _ = options;
    /// ```
    pub fn server_no_context_takeover(mut self, yes: bool) -> DeflateOptions {
        self.server_no_context_takeover = yes;
        self
    }

    /// Whether the client starts every message with an empty compression context (default
    /// false). A client does it and says so; a server requires it of the client.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::ws::DeflateOptions;
    ///
    /// let options = DeflateOptions::new().client_no_context_takeover(true);
    /// # let _ = options;
    /// ```
    pub fn client_no_context_takeover(mut self, yes: bool) -> DeflateOptions {
        self.client_no_context_takeover = yes;
        self
    }

    /// The largest LZ77 window the server compresses with, as a power of two: 9 (512 bytes) to
    /// 15 (32 KiB, the default). Values outside 9..=15 are clamped into it (8, which RFC 7692
    /// allows, is taken as 9: zlib cannot compress with a 256-byte window). A client asks the
    /// server for it; a server uses it (or less, if the client asks for less).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::ws::DeflateOptions;
    ///
    /// assert_eq!(
    ///     DeflateOptions::new().server_max_window_bits(8),
    ///     DeflateOptions::new().server_max_window_bits(9),
    /// );
    /// ```
    pub fn server_max_window_bits(mut self, bits: u8) -> DeflateOptions {
        self.server_max_window_bits = bits.clamp(9, 15);
        self
    }

    /// The largest LZ77 window the client compresses with: 9 to 15 (default), clamped like
    /// [`server_max_window_bits`](Self::server_max_window_bits). A client uses it and says so;
    /// a server asks it of the client when the client's offer allows that.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::ws::DeflateOptions;
    ///
    /// assert_eq!(
    ///     DeflateOptions::new().client_max_window_bits(20),
    ///     DeflateOptions::new().client_max_window_bits(15),
    /// );
    /// ```
    pub fn client_max_window_bits(mut self, bits: u8) -> DeflateOptions {
        self.client_max_window_bits = bits.clamp(9, 15);
        self
    }
}

/// Compresses outbound messages, one at a time.
pub(crate) struct Deflater {
    compress: Compress,
    /// No context takeover in this direction: reset after every message.
    reset: bool,
    threshold: usize,
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("reset", &self.reset)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    /// `window_bits` is clamped to 9..=15.
    pub(crate) fn new(
        level: u32,
        window_bits: u8,
        no_context_takeover: bool,
        threshold: usize,
    ) -> Deflater {
        Deflater {
            compress: Compress::new_with_window_bits(
                Compression::new(level.min(9)),
                false,
                window_bits.clamp(9, 15),
            ),
            reset: no_context_takeover,
            threshold,
        }
    }

    /// Starts afresh: after a message it compressed was sent uncompressed instead, the peer's
    /// decompressor lacks it, and a fresh compressor never refers back to it.
    pub(crate) fn restart(&mut self) {
        self.compress.reset();
    }

    /// Whether a message of `len` bytes should be compressed.
    pub(crate) fn wants(&self, len: usize) -> bool {
        len >= self.threshold
    }

    /// Appends the compressed form of one whole message to `out` (sync flush, tail stripped).
    /// Err (which zlib never returns for valid input): `out` is left as it was and the
    /// compressor reset; send the message uncompressed.
    pub(crate) fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), ()> {
        let start = out.len();
        let in_start = self.compress.total_in();
        loop {
            let consumed = (self.compress.total_in() - in_start) as usize;
            let rest = &payload[consumed..];
            out.reserve(rest.len() / 2 + 64);
            if self
                .compress
                .compress_vec(rest, out, FlushCompress::Sync)
                .is_err()
            {
                out.truncate(start);
                self.compress.reset();
                return Err(());
            }
            let consumed = (self.compress.total_in() - in_start) as usize;
            if consumed == payload.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.len() - start >= 4 && out[out.len() - 4..] == TAIL {
            out.truncate(out.len() - 4);
        }
        if self.reset {
            self.compress.reset();
        }
        Ok(())
    }
}

/// Decompresses inbound messages, bounded by the message-size limit.
pub(crate) struct Inflater {
    decompress: Decompress,
    /// No context takeover in this direction: reset after every message.
    reset: bool,
    /// A block with BFINAL set ended the stream inside the current message: the rest of the
    /// message is ignored and the next one starts a new stream (RFC 7692 section 7.2.3.5).
    ended: bool,
}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("reset", &self.reset)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// `window_bits` is what the peer compresses with; 8 (which zlib cannot inflate with) is
    /// taken as 9, as a larger window decodes any stream a smaller one produced.
    pub(crate) fn new(window_bits: u8, no_context_takeover: bool) -> Inflater {
        Inflater {
            decompress: Decompress::new_with_window_bits(false, window_bits.clamp(9, 15)),
            reset: no_context_takeover,
            ended: false,
        }
    }

    /// Inflates the next piece of a message's compressed payload onto `out`. Err 1009 as soon
    /// as `out` passes `limit` bytes (at most `limit + 1` bytes are ever allocated beyond what
    /// `out` held), 1007 for corrupt data.
    pub(crate) fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        let mut consumed = 0;
        while !self.ended {
            if out.len() == out.capacity() {
                let room = limit.saturating_add(1).saturating_sub(out.len());
                if room == 0 {
                    return Err(ProtocolError::too_big("message too big (after inflating)"));
                }
                let grow = out.len().max(input.len().saturating_mul(2)).max(4096);
                out.reserve_exact(grow.min(room));
            }
            let before_in = self.decompress.total_in();
            let before_out = out.len();
            let status = self
                .decompress
                .decompress_vec(&input[consumed..], out, FlushDecompress::Sync)
                .map_err(|_| ProtocolError::invalid_data("invalid compressed data"))?;
            let used = (self.decompress.total_in() - before_in) as usize;
            consumed += used;
            if out.len() > limit {
                return Err(ProtocolError::too_big("message too big (after inflating)"));
            }
            if status == Status::StreamEnd {
                self.ended = true;
                return Ok(());
            }
            let progressed = used > 0 || out.len() > before_out;
            if consumed == input.len() && out.len() < out.capacity() {
                return Ok(());
            }
            if !progressed && out.len() < out.capacity() {
                return Err(ProtocolError::invalid_data("invalid compressed data"));
            }
        }
        Ok(())
    }

    /// Ends a message: inflates the stripped tail and resets if there is no context takeover.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>, limit: usize) -> Result<(), ProtocolError> {
        self.inflate(&TAIL, out, limit)?;
        if self.reset || self.ended {
            self.decompress.reset(false);
            self.ended = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deflate(d: &mut Deflater, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        d.compress(data, &mut out).unwrap();
        out
    }

    #[test]
    fn rfc7692_hello_and_context_takeover() {
        // 7.2.3.1 and 7.2.3.2: "Hello" twice with context takeover.
        let mut d = Deflater::new(6, 15, false, 0);
        assert_eq!(
            deflate(&mut d, b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        assert_eq!(deflate(&mut d, b"Hello"), [0xf2, 0x00, 0x11, 0x00, 0x00]);
        // Without context takeover the second message is compressed afresh.
        let mut d = Deflater::new(6, 15, true, 0);
        assert_eq!(
            deflate(&mut d, b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        assert_eq!(
            deflate(&mut d, b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
    }

    #[test]
    fn rfc7692_inflate_examples() {
        let mut i = Inflater::new(15, false);
        let mut out = Vec::new();
        i.inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .unwrap();
        i.finish(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
        out.clear();
        i.inflate(&[0xf2, 0x00, 0x11, 0x00, 0x00], &mut out, 100)
            .unwrap();
        i.finish(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
        // 7.2.3.3: a stored (no compression) block.
        let mut i = Inflater::new(15, false);
        out.clear();
        i.inflate(
            &[
                0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ],
            &mut out,
            100,
        )
        .unwrap();
        i.finish(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
        // 7.2.3.5: a block with BFINAL set (and a padding byte after it), then the next
        // message on a new stream.
        let mut i = Inflater::new(15, false);
        out.clear();
        i.inflate(
            &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00],
            &mut out,
            100,
        )
        .unwrap();
        i.finish(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
        out.clear();
        i.inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, 100)
            .unwrap();
        i.finish(&mut out, 100).unwrap();
        assert_eq!(out, b"Hello");
    }

    #[test]
    fn zip_bomb_stops_at_the_limit() {
        let mut d = Deflater::new(9, 15, false, 0);
        let bomb = deflate(&mut d, &vec![0u8; 50 << 20]);
        assert!(bomb.len() < 100 << 10, "{}", bomb.len());
        let mut i = Inflater::new(15, false);
        let mut out = Vec::new();
        let limit = 1 << 20;
        let err = i.inflate(&bomb, &mut out, limit).unwrap_err();
        assert_eq!(err.code, 1009);
        assert!(out.capacity() <= limit + 1, "{}", out.capacity());
    }

    #[test]
    fn exact_limit_is_allowed() {
        let mut d = Deflater::new(1, 15, false, 0);
        let data = vec![7u8; 10_000];
        let c = deflate(&mut d, &data);
        let mut i = Inflater::new(15, false);
        let mut out = Vec::new();
        i.inflate(&c, &mut out, 10_000).unwrap();
        i.finish(&mut out, 10_000).unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn corrupt_data_is_1007() {
        let mut i = Inflater::new(15, false);
        let mut out = Vec::new();
        let err = i
            .inflate(&[0xff, 0xff, 0xff, 0xff], &mut out, 100)
            .unwrap_err();
        assert_eq!(err.code, 1007);
    }

    #[test]
    fn small_windows_round_trip() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for bits in 9..=15 {
            let mut d = Deflater::new(1, bits, false, 0);
            let mut i = Inflater::new(bits, false);
            for _ in 0..3 {
                let c = deflate(&mut d, &data);
                let mut out = Vec::new();
                i.inflate(&c, &mut out, usize::MAX).unwrap();
                i.finish(&mut out, usize::MAX).unwrap();
                assert_eq!(out, data);
            }
        }
    }
}

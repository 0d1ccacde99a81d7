//! `414 URI Too Long` for a request line past the head limit.
//!
//! hyper answers any head that outgrows `max_header_size` with `431`, even when what outgrew
//! it is the request line. [`LineTracker`] watches the bytes hyper reads (the start and length
//! of each line) and, when hyper then writes its `431` after a request line at least as long
//! as the limit, swaps that status line for `414 URI Too Long`.
//! It acts only on hyper's own refusal, so it never refuses a request hyper would serve.

/// The status line hyper writes when a head is too large.
const TOO_LARGE: &[u8] = b"HTTP/1.1 431 Request Header Fields Too Large\r\n";
/// What it becomes when the request line is what is too long.
const URI_TOO_LONG: &[u8] = b"HTTP/1.1 414 URI Too Long\r\n";
/// Bytes kept from the start of the current line: enough for any method and a space.
const PREFIX: usize = 32;

#[derive(Debug)]
pub(crate) struct LineTracker {
    limit: usize,
    prefix: [u8; PREFIX],
    prefix_len: usize,
    line_len: usize,
    /// A request line at least `limit` long has been read since the last response started.
    long_request_line: bool,
    /// The replacement status line still to write, and the length of hyper's line it stands
    /// for (reported as written once the replacement is out).
    pending: Option<(&'static [u8], usize)>,
}

impl LineTracker {
    pub(crate) fn new(limit: usize) -> LineTracker {
        LineTracker {
            limit,
            prefix: [0; PREFIX],
            prefix_len: 0,
            line_len: 0,
            long_request_line: false,
            pending: None,
        }
    }

    /// Notes bytes read from the peer.
    pub(crate) fn read(&mut self, bytes: &[u8]) {
        if self.line_len + bytes.len() < self.limit {
            // No line can reach the limit inside these bytes: only where the last one starts
            // matters (the usual case, one scan from the end).
            match bytes.iter().rposition(|&b| b == b'\n') {
                Some(at) => {
                    self.prefix_len = 0;
                    self.line_len = 0;
                    self.extend(&bytes[at + 1..]);
                }
                None => self.extend(bytes),
            }
            return;
        }
        let mut rest = bytes;
        while let Some(at) = rest.iter().position(|&b| b == b'\n') {
            self.extend(&rest[..at]);
            if self.is_long_request_line() {
                self.long_request_line = true;
            }
            self.prefix_len = 0;
            self.line_len = 0;
            rest = &rest[at + 1..];
        }
        self.extend(rest);
    }

    fn extend(&mut self, bytes: &[u8]) {
        let take = bytes.len().min(PREFIX - self.prefix_len);
        self.prefix[self.prefix_len..self.prefix_len + take].copy_from_slice(&bytes[..take]);
        self.prefix_len += take;
        self.line_len += bytes.len();
    }

    fn is_long_request_line(&self) -> bool {
        self.line_len >= self.limit && self.in_request_line()
    }

    /// True if the current line looks like a request line (a method token, then a space: a
    /// header line has its colon before any space).
    fn in_request_line(&self) -> bool {
        let prefix = &self.prefix[..self.prefix_len];
        match prefix.iter().position(|&b| b == b' ') {
            Some(space) => space > 0 && !prefix[..space].contains(&b':'),
            None => false,
        }
    }

    /// While a swap is under way, what is left of the `414` status line to write (in place
    /// of hyper's bytes).
    pub(crate) fn replacement(&mut self) -> Option<&'static [u8]> {
        self.pending.map(|(bytes, _)| bytes)
    }

    /// Called before hyper's bytes `buf` are written: arms the swap if `buf` is hyper's `431`
    /// for a too-long request line, and starts afresh at each response.
    pub(crate) fn check(&mut self, buf: &[u8]) {
        if self.pending.is_some() {
            return;
        }
        if buf.starts_with(TOO_LARGE) && (self.long_request_line || self.is_long_request_line()) {
            self.pending = Some((URI_TOO_LONG, TOO_LARGE.len()));
        }
        if buf.starts_with(b"HTTP/1.1 ") {
            // A response starts: the request before it has been read, so what is read next
            // starts a new line of the next head (a body not ending in a newline must not glue
            // onto the next request line).
            self.long_request_line = false;
            self.prefix_len = 0;
            self.line_len = 0;
        }
    }

    /// `n` bytes of the replacement were written: the length of hyper's bytes to report once
    /// all of it is out.
    pub(crate) fn wrote(&mut self, n: usize) -> Option<usize> {
        let (bytes, stands_for) = self.pending.take()?;
        if n >= bytes.len() {
            Some(stands_for)
        } else {
            self.pending = Some((&bytes[n..], stands_for));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{LineTracker, TOO_LARGE};

    /// Whether hyper's `431` after reading `chunks` becomes a `414`.
    fn swaps(limit: usize, chunks: &[&[u8]]) -> bool {
        let mut tracker = LineTracker::new(limit);
        for chunk in chunks {
            tracker.read(chunk);
        }
        tracker.check(TOO_LARGE);
        tracker.replacement().is_some()
    }

    #[test]
    fn a_long_request_line_is_seen_in_any_chunking() {
        let line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n", "a".repeat(100));
        let bytes = line.as_bytes();
        for size in [1, 7, 50, 99, 100, 101, bytes.len()] {
            let chunks: Vec<&[u8]> = bytes.chunks(size).collect();
            assert!(swaps(64, &chunks), "chunks of {size}");
        }
        // Unfinished, too.
        assert!(swaps(64, &[&bytes[..80]]));
    }

    #[test]
    fn short_lines_and_long_header_lines_keep_the_431() {
        let header = format!("GET / HTTP/1.1\r\nX-Long: {}\r\n", "b".repeat(100));
        for size in [1, 10, 64, header.len()] {
            let chunks: Vec<&[u8]> = header.as_bytes().chunks(size).collect();
            assert!(!swaps(64, &chunks), "chunks of {size}");
        }
        // A long request line after short ones in one chunk.
        let pipelined = format!("GET / HTTP/1.1\r\n\r\nGET /{} HTTP/1.1\r\n", "c".repeat(80));
        assert!(swaps(64, &[pipelined.as_bytes()]));
    }
}

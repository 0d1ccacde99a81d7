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

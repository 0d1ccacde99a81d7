//! `Range: bytes=…` parsing for file responses (RFC 9110 §14): one range is served with 206,
//! anything else (several ranges, another unit, a malformed header) gets the whole file.

/// What a `Range` header asks of a representation of `len` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeRequest {
    /// No range, a malformed one, another unit or several ranges: the whole file, 200.
    Full,
    /// One satisfiable range: bytes `start..=end`, 206.
    Partial { start: u64, end: u64 },
    /// One range that selects nothing: 416 with `Content-Range: bytes */len`.
    Unsatisfiable,
}

impl RangeRequest {
    /// Reads the `Range` header's value (if any) for a representation of `len` bytes.
    pub(crate) fn parse(header: Option<&[u8]>, len: u64) -> RangeRequest {
        let Some(header) = header else {
            return RangeRequest::Full;
        };
        let Ok(header) = std::str::from_utf8(header) else {
            return RangeRequest::Full;
        };
        let header = header.trim();
        let Some((unit, spec)) = header.split_once('=') else {
            return RangeRequest::Full;
        };
        if !unit.trim().eq_ignore_ascii_case("bytes") {
            return RangeRequest::Full;
        }
        let spec = spec.trim();
        // Several ranges are answered with the whole file (RFC 9110 allows ignoring Range).
        if spec.contains(',') {
            return RangeRequest::Full;
        }
        let Some((first, last)) = spec.split_once('-') else {
            return RangeRequest::Full;
        };
        let (first, last) = (first.trim(), last.trim());
        if first.is_empty() {
            // `-n`: the last n bytes.
            let Some(n) = digits(last) else {
                return RangeRequest::Full;
            };
            if n == 0 || len == 0 {
                return RangeRequest::Unsatisfiable;
            }
            let n = n.min(len);
            return RangeRequest::Partial {
                start: len - n,
                end: len - 1,
            };
        }
        let Some(start) = digits(first) else {
            return RangeRequest::Full;
        };
        let end = if last.is_empty() {
            None
        } else {
            match digits(last) {
                Some(end) if end >= start => Some(end),
                // `b < a` or junk: an invalid range, ignored.
                _ => return RangeRequest::Full,
            }
        };
        if start >= len {
            return RangeRequest::Unsatisfiable;
        }
        let end = end.map_or(len - 1, |end| end.min(len - 1));
        RangeRequest::Partial { start, end }
    }
}

/// A non-empty run of ASCII digits that fits in a `u64`.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::RangeRequest::{self, Full, Partial, Unsatisfiable};

    fn parse(header: &str, len: u64) -> RangeRequest {
        RangeRequest::parse(Some(header.as_bytes()), len)
    }

    #[test]
    fn no_header_is_the_whole_file() {
        assert_eq!(RangeRequest::parse(None, 10), Full);
    }

    #[test]
    fn closed_ranges() {
        assert_eq!(parse("bytes=0-0", 10), Partial { start: 0, end: 0 });
        assert_eq!(parse("bytes=2-5", 10), Partial { start: 2, end: 5 });
        assert_eq!(parse("bytes=0-9", 10), Partial { start: 0, end: 9 });
        // An end past the file is clamped.
        assert_eq!(parse("bytes=5-100", 10), Partial { start: 5, end: 9 });
        assert_eq!(parse(" Bytes = 1 - 2 ", 10), Partial { start: 1, end: 2 });
    }

    #[test]
    fn open_ranges() {
        assert_eq!(parse("bytes=3-", 10), Partial { start: 3, end: 9 });
        assert_eq!(parse("bytes=9-", 10), Partial { start: 9, end: 9 });
        assert_eq!(parse("bytes=10-", 10), Unsatisfiable);
    }

    #[test]
    fn suffix_ranges() {
        assert_eq!(parse("bytes=-3", 10), Partial { start: 7, end: 9 });
        assert_eq!(parse("bytes=-10", 10), Partial { start: 0, end: 9 });
        assert_eq!(parse("bytes=-100", 10), Partial { start: 0, end: 9 });
        assert_eq!(parse("bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse("bytes=-5", 0), Unsatisfiable);
    }

    #[test]
    fn unsatisfiable_ranges() {
        assert_eq!(parse("bytes=10-20", 10), Unsatisfiable);
        assert_eq!(parse("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse("bytes=0-0", 0), Unsatisfiable);
    }

    #[test]
    fn invalid_headers_are_ignored() {
        for header in [
            "bytes=5-2",
            "bytes=a-b",
            "bytes=1-2x",
            "bytes=+1-2",
            "bytes=",
            "bytes=-",
            "bytes=5",
            "items=0-1",
            "0-1",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(parse(header, 10), Full, "{header}");
        }
        assert_eq!(RangeRequest::parse(Some(&[0xff, 0xfe]), 10), Full);
    }

    #[test]
    fn several_ranges_get_the_whole_file() {
        assert_eq!(parse("bytes=0-1,3-4", 10), Full);
        assert_eq!(parse("bytes=0-1, -2", 10), Full);
    }
}

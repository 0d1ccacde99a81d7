//! Incremental UTF-8 validation: a text message is checked piece by piece as its bytes arrive, so
//! invalid data fails the connection at once (Autobahn 6.4 "fail fast"), with a character split
//! across pieces carried over.

/// Validates a byte sequence fed in pieces.
#[derive(Debug, Default)]
pub(crate) struct Utf8Validator {
    /// The bytes of an incomplete trailing character.
    pending: [u8; 4],
    pending_len: usize,
}

impl Utf8Validator {
    pub(crate) fn new() -> Utf8Validator {
        Utf8Validator::default()
    }

    /// Checks the next piece. Err: the sequence so far cannot be the start of valid UTF-8.
    pub(crate) fn feed(&mut self, mut data: &[u8]) -> Result<(), ()> {
        if self.pending_len > 0 {
            let need = char_width(self.pending[0]).ok_or(())?;
            let take = (need - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            match std::str::from_utf8(&self.pending[..self.pending_len]) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_none() && self.pending_len < need => return Ok(()),
                Err(_) => return Err(()),
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let rest = &data[e.valid_up_to()..];
                self.pending[..rest.len()].copy_from_slice(rest);
                self.pending_len = rest.len();
                Ok(())
            }
            Err(_) => Err(()),
        }
    }

    /// Checks that the sequence did not end inside a character, and starts over.
    pub(crate) fn finish(&mut self) -> Result<(), ()> {
        let complete = self.pending_len == 0;
        self.pending_len = 0;
        if complete { Ok(()) } else { Err(()) }
    }
}

/// How many bytes a character starting with `lead` has, if `lead` can start one of several bytes.
fn char_width(lead: u8) -> Option<usize> {
    match lead {
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_everywhere(bytes: &[u8]) -> bool {
        let whole = std::str::from_utf8(bytes).is_ok();
        for a in 0..=bytes.len() {
            for b in a..=bytes.len() {
                let mut v = Utf8Validator::new();
                let ok = v.feed(&bytes[..a]).is_ok()
                    && v.feed(&bytes[a..b]).is_ok()
                    && v.feed(&bytes[b..]).is_ok()
                    && v.finish().is_ok();
                assert_eq!(ok, whole, "{bytes:x?} split at {a}, {b}");
            }
        }
        whole
    }

    #[test]
    fn agrees_with_std_at_every_split() {
        assert!(split_everywhere("κόσμε €𝄞 a".as_bytes()));
        assert!(!split_everywhere(
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"
        ));
        assert!(!split_everywhere(b"ab\xf4\x90\x80\x80"));
        assert!(!split_everywhere(b"ab\xe2\x82"));
        assert!(!split_everywhere(b"\xc0\xaf"));
        assert!(!split_everywhere(b"\xe0\x80\xaf"));
        assert!(!split_everywhere(b"\xff"));
    }

    #[test]
    fn fails_fast_on_an_impossible_prefix() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"abc\xf4").is_ok());
        // 0xF4 0x90 can never start a valid scalar (> U+10FFFF): fail now, not at the end.
        assert!(v.feed(b"\x90").is_err());
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"\xed").is_ok());
        assert!(v.feed(b"\xa0").is_err()); // a surrogate
    }
}

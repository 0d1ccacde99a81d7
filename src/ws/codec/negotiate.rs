//! Negotiating permessage-deflate in the handshake's `Sec-WebSocket-Extensions` headers (RFC 7692
//! section 7.1): the client's offer, the server's choice and answer, the client's check.

use super::deflate::{DeflateOptions, Deflater, Inflater};
use super::frame::Role;

const NAME: &str = "permessage-deflate";

/// What both ends agreed for permessage-deflate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Agreement {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// The server compresses with at most this window (8..=15).
    pub server_max_window_bits: u8,
    /// The client compresses with at most this window (8..=15).
    pub client_max_window_bits: u8,
}

impl Agreement {
    /// The compressor for our outbound direction and the decompressor for the inbound one.
    pub(crate) fn codec(&self, role: Role, options: &DeflateOptions) -> (Deflater, Inflater) {
        match role {
            Role::Client => (
                Deflater::new(
                    options.level,
                    self.client_max_window_bits
                        .min(options.client_max_window_bits),
                    self.client_no_context_takeover || options.client_no_context_takeover,
                    options.threshold,
                ),
                Inflater::new(self.server_max_window_bits, self.server_no_context_takeover),
            ),
            Role::Server => (
                Deflater::new(
                    options.level,
                    self.server_max_window_bits
                        .min(options.server_max_window_bits),
                    self.server_no_context_takeover,
                    options.threshold,
                ),
                Inflater::new(self.client_max_window_bits, self.client_no_context_takeover),
            ),
        }
    }

    /// The `Sec-WebSocket-Extensions` value the server answers with.
    pub(crate) fn response_header(&self) -> String {
        header(
            (
                self.server_no_context_takeover,
                self.client_no_context_takeover,
            ),
            (self.server_max_window_bits, self.client_max_window_bits),
        )
    }
}

/// `permessage-deflate` with these parameters; a window of 15 bits (the default) is not said.
fn header(no_context_takeover: (bool, bool), max_window_bits: (u8, u8)) -> String {
    let mut s = String::from(NAME);
    if no_context_takeover.0 {
        s.push_str("; server_no_context_takeover");
    }
    if no_context_takeover.1 {
        s.push_str("; client_no_context_takeover");
    }
    if max_window_bits.0 < 15 {
        s.push_str(&format!("; server_max_window_bits={}", max_window_bits.0));
    }
    if max_window_bits.1 < 15 {
        s.push_str(&format!("; client_max_window_bits={}", max_window_bits.1));
    }
    s
}

/// The client's `Sec-WebSocket-Extensions` offer. It always says `client_max_window_bits`, so
/// the server may pick a smaller window for us.
pub(crate) fn offer(options: &DeflateOptions) -> String {
    let mut s = header(
        (
            options.server_no_context_takeover,
            options.client_no_context_takeover,
        ),
        (
            options.server_max_window_bits,
            options.client_max_window_bits,
        ),
    );
    if options.client_max_window_bits >= 15 {
        s.push_str("; client_max_window_bits");
    }
    s
}

/// The server's choice: the first acceptable permessage-deflate offer among the request's
/// `Sec-WebSocket-Extensions` values. Offers with unknown or duplicate parameters, bad values, or
/// asking us to compress with an 8-bit window (zlib cannot) are declined; a value that does not
/// parse is skipped whole. None: go on without compression.
pub(crate) fn accept<'a>(
    options: &DeflateOptions,
    offers: impl IntoIterator<Item = &'a str>,
) -> Option<Agreement> {
    for value in offers {
        let Ok(extensions) = parse(value) else {
            continue;
        };
        for ext in extensions {
            if !ext.name.eq_ignore_ascii_case(NAME) {
                continue;
            }
            let Ok(p) = Params::of(&ext) else {
                continue;
            };
            let server_max_window_bits = match p.server_max_window_bits {
                None => options.server_max_window_bits,
                Some(None) | Some(Some(8)) => continue,
                Some(Some(bits)) => bits.min(options.server_max_window_bits),
            };
            let client_max_window_bits = match p.client_max_window_bits {
                // The client did not say it can limit its window: it may use 15.
                None => 15,
                Some(None) => options.client_max_window_bits,
                // 8 stays 8: our inflater uses 9, which decodes 8-bit streams.
                Some(Some(bits)) => bits.min(options.client_max_window_bits),
            };
            return Some(Agreement {
                server_no_context_takeover: p.server_no_context_takeover
                    || options.server_no_context_takeover,
                client_no_context_takeover: p.client_no_context_takeover
                    || options.client_no_context_takeover,
                server_max_window_bits,
                client_max_window_bits,
            });
        }
    }
    None
}

/// The client's check of the server's answer (its `Sec-WebSocket-Extensions` values joined with
/// commas) against [`offer`]. Ok(None): the server agreed to no extension. Err: why the handshake
/// must fail.
pub(crate) fn confirm(options: &DeflateOptions, answer: &str) -> Result<Option<Agreement>, String> {
    let extensions = parse(answer)
        .map_err(|()| format!("malformed Sec-WebSocket-Extensions answer: {answer:?}"))?;
    let mut extensions = extensions.into_iter();
    let Some(ext) = extensions.next() else {
        return Ok(None);
    };
    if !ext.name.eq_ignore_ascii_case(NAME) {
        return Err(format!(
            "the server answered with extension {:?}, which we did not offer",
            ext.name
        ));
    }
    if extensions.next().is_some() {
        return Err("the server answered with more than one extension".to_owned());
    }
    let p = Params::of(&ext)?;
    let server_max_window_bits = match p.server_max_window_bits {
        None => 15,
        Some(None) => return Err("server_max_window_bits without a value".to_owned()),
        Some(Some(bits)) => {
            if options.server_max_window_bits < 15 && bits > options.server_max_window_bits {
                return Err(format!(
                    "server_max_window_bits={bits}, larger than the {} we asked for",
                    options.server_max_window_bits
                ));
            }
            bits
        }
    };
    let client_max_window_bits = match p.client_max_window_bits {
        None => 15,
        Some(None) => return Err("client_max_window_bits without a value".to_owned()),
        Some(Some(8)) => {
            return Err("client_max_window_bits=8, which we cannot compress with".to_owned());
        }
        // RFC 7692 7.1.2.2: never more than we offered (the offer says 15 when it names no
        // value).
        Some(Some(bits)) if bits > options.client_max_window_bits => {
            return Err(format!(
                "client_max_window_bits={bits}, larger than the {} we offered",
                options.client_max_window_bits
            ));
        }
        Some(Some(bits)) => bits,
    };
    Ok(Some(Agreement {
        server_no_context_takeover: p.server_no_context_takeover,
        client_no_context_takeover: p.client_no_context_takeover,
        server_max_window_bits,
        client_max_window_bits,
    }))
}

/// One element of an extension list: a name and its parameters, values unquoted.
#[derive(Debug, PartialEq)]
struct Extension<'a> {
    name: &'a str,
    params: Vec<(&'a str, Option<String>)>,
}

/// The permessage-deflate parameters of one offer or answer. Window bits: None = absent,
/// Some(None) = present without a value.
#[derive(Debug, Default)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<Option<u8>>,
    client_max_window_bits: Option<Option<u8>>,
}

impl Params {
    fn of(ext: &Extension<'_>) -> Result<Params, String> {
        let mut p = Params::default();
        for (name, value) in &ext.params {
            let name = name.to_ascii_lowercase();
            let (flag, bits) = match name.as_str() {
                "server_no_context_takeover" => (Some(&mut p.server_no_context_takeover), None),
                "client_no_context_takeover" => (Some(&mut p.client_no_context_takeover), None),
                "server_max_window_bits" => (None, Some(&mut p.server_max_window_bits)),
                "client_max_window_bits" => (None, Some(&mut p.client_max_window_bits)),
                _ => return Err(format!("unknown permessage-deflate parameter {name:?}")),
            };
            if let Some(flag) = flag {
                if *flag {
                    return Err(format!("duplicate parameter {name}"));
                }
                if value.is_some() {
                    return Err(format!("{name} takes no value"));
                }
                *flag = true;
            } else if let Some(bits) = bits {
                if bits.is_some() {
                    return Err(format!("duplicate parameter {name}"));
                }
                *bits = Some(match value {
                    None => None,
                    Some(v) => {
                        Some(window_bits(v).ok_or_else(|| format!("{name}={v:?}: not in 8..=15"))?)
                    }
                });
            }
        }
        Ok(p)
    }
}

/// A window-bits value: a decimal 8..=15 without leading zeros.
fn window_bits(v: &str) -> Option<u8> {
    if v.starts_with('0') || v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits: u8 = v.parse().ok()?;
    (8..=15).contains(&bits).then_some(bits)
}

/// Parses `1#( token *( OWS ";" OWS token [ "=" ( token / quoted-string ) ] ) )`, tolerating
/// empty list elements.
fn parse(value: &str) -> Result<Vec<Extension<'_>>, ()> {
    let mut p = Parser { s: value, at: 0 };
    let mut list = Vec::new();
    loop {
        p.ows();
        match p.peek() {
            None => return Ok(list),
            Some(b',') => {
                p.at += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = p.token()?;
        let mut params = Vec::new();
        loop {
            p.ows();
            match p.peek() {
                Some(b';') => p.at += 1,
                None | Some(b',') => break,
                Some(_) => return Err(()),
            }
            p.ows();
            let key = p.token()?;
            p.ows();
            let mut val = None;
            if p.peek() == Some(b'=') {
                p.at += 1;
                p.ows();
                val = Some(if p.peek() == Some(b'"') {
                    p.quoted()?
                } else {
                    p.token()?.to_owned()
                });
            }
            params.push((key, val));
        }
        list.push(Extension { name, params });
    }
}

struct Parser<'a> {
    s: &'a str,
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.at).copied()
    }

    fn ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn token(&mut self) -> Result<&'a str, ()> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        if self.at == start {
            return Err(());
        }
        Ok(&self.s[start..self.at])
    }

    fn quoted(&mut self) -> Result<String, ()> {
        self.at += 1; // the opening quote
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(()),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let c = self.peek().ok_or(())?;
                    out.push(char::from(c));
                    self.at += 1;
                }
                Some(c) if c.is_ascii() && c != 0x7f && (c >= 0x20 || c == b'\t') => {
                    out.push(char::from(c));
                    self.at += 1;
                }
                Some(_) => return Err(()),
            }
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agreement(snct: bool, cnct: bool, sbits: u8, cbits: u8) -> Agreement {
        Agreement {
            server_no_context_takeover: snct,
            client_no_context_takeover: cnct,
            server_max_window_bits: sbits,
            client_max_window_bits: cbits,
        }
    }

    #[test]
    fn parses_lists_parameters_and_quotes() {
        let exts = parse(
            "permessage-deflate; client_max_window_bits=\"10\" ; server_no_context_takeover, x-foo,, \
             permessage-deflate;client_max_window_bits",
        )
        .unwrap();
        assert_eq!(exts.len(), 3);
        assert_eq!(exts[0].name, "permessage-deflate");
        assert_eq!(
            exts[0].params,
            [
                ("client_max_window_bits", Some("10".to_owned())),
                ("server_no_context_takeover", None)
            ]
        );
        assert_eq!(exts[1].name, "x-foo");
        assert_eq!(exts[2].params, [("client_max_window_bits", None)]);
        assert_eq!(parse("").unwrap(), []);
        assert!(parse("a; b=\"unterminated").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("a; =1").is_err());
    }

    #[test]
    fn server_accepts() {
        let o = DeflateOptions::new();
        let rows: &[(&[&str], Option<Agreement>)] = &[
            (
                &["permessage-deflate"],
                Some(agreement(false, false, 15, 15)),
            ),
            (&[""], None),
            (&["x-webkit-deflate-frame"], None),
            (
                &["permessage-deflate; client_max_window_bits"],
                Some(agreement(false, false, 15, 15)),
            ),
            (
                &["permessage-deflate; client_max_window_bits=\"10\""],
                Some(agreement(false, false, 15, 10)),
            ),
            (
                &["permessage-deflate; server_max_window_bits=10; client_no_context_takeover"],
                Some(agreement(false, true, 10, 15)),
            ),
            // Duplicates, unknown parameters and bad values decline that offer; the next wins.
            (
                &[
                    "permessage-deflate; server_no_context_takeover; server_no_context_takeover, \
                     permessage-deflate; foo=1, permessage-deflate; server_max_window_bits=16",
                    "permessage-deflate; client_max_window_bits=09, permessage-deflate; \
                     server_no_context_takeover=1",
                    "permessage-deflate; server_max_window_bits, permessage-deflate; \
                     server_no_context_takeover",
                ],
                Some(agreement(true, false, 15, 15)),
            ),
            // We cannot compress with 8 bits: declined. The client compressing with 8 is fine.
            (&["permessage-deflate; server_max_window_bits=8"], None),
            (
                &["permessage-deflate; server_max_window_bits=8, permessage-deflate"],
                Some(agreement(false, false, 15, 15)),
            ),
            (
                &["permessage-deflate; client_max_window_bits=8"],
                Some(agreement(false, false, 15, 8)),
            ),
            // A malformed header value is skipped whole.
            (
                &["permessage-deflate; a=\"", "permessage-deflate"],
                Some(agreement(false, false, 15, 15)),
            ),
        ];
        for (offers, want) in rows {
            assert_eq!(&accept(&o, offers.iter().copied()), want, "{offers:?}");
        }
    }

    #[test]
    fn server_options_shape_the_answer() {
        let o = DeflateOptions::new()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true)
            .server_max_window_bits(12)
            .client_max_window_bits(11);
        let a = accept(&o, ["permessage-deflate; client_max_window_bits"]).unwrap();
        assert_eq!(a, agreement(true, true, 12, 11));
        assert_eq!(
            a.response_header(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=12; client_max_window_bits=11"
        );
        // The client did not offer client_max_window_bits: we cannot limit its window.
        let a = accept(&o, ["permessage-deflate; server_max_window_bits=10"]).unwrap();
        assert_eq!(a, agreement(true, true, 10, 15));
        assert_eq!(
            accept(&DeflateOptions::new(), ["permessage-deflate"])
                .unwrap()
                .response_header(),
            "permessage-deflate"
        );
    }

    #[test]
    fn client_offers() {
        assert_eq!(
            offer(&DeflateOptions::new()),
            "permessage-deflate; client_max_window_bits"
        );
        let o = DeflateOptions::new()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true)
            .server_max_window_bits(10)
            .client_max_window_bits(12);
        let s = offer(&o);
        assert_eq!(
            s,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=12"
        );
        // Our own offer is acceptable to our own server, with its parameters.
        assert_eq!(
            accept(&DeflateOptions::new(), [s.as_str()]),
            Some(agreement(true, true, 10, 12))
        );
    }

    #[test]
    fn client_confirms() {
        let o = DeflateOptions::new();
        assert_eq!(confirm(&o, ""), Ok(None));
        assert_eq!(confirm(&o, "  "), Ok(None));
        assert_eq!(
            confirm(&o, "permessage-deflate"),
            Ok(Some(agreement(false, false, 15, 15)))
        );
        assert_eq!(
            confirm(
                &o,
                "permessage-deflate; server_no_context_takeover; client_max_window_bits=\"9\"; \
                 server_max_window_bits=8"
            ),
            Ok(Some(agreement(true, false, 8, 9)))
        );
        for bad in [
            "x-foo",
            "permessage-deflate, permessage-deflate",
            "permessage-deflate, x-foo",
            "permessage-deflate; foo",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits=7",
            "permessage-deflate; client_max_window_bits=8",
            "permessage-deflate; client_no_context_takeover=yes",
            "permessage-deflate; a=\"",
        ] {
            assert!(confirm(&o, bad).is_err(), "{bad}");
        }
        // A larger server window than we asked for is refused; smaller is fine.
        let o = DeflateOptions::new().server_max_window_bits(10);
        assert!(confirm(&o, "permessage-deflate; server_max_window_bits=11").is_err());
        // Leaving it out means 15, which our inflater handles: accepted.
        assert_eq!(
            confirm(&o, "permessage-deflate"),
            Ok(Some(agreement(false, false, 15, 15)))
        );
        assert_eq!(
            confirm(&o, "permessage-deflate; server_max_window_bits=9"),
            Ok(Some(agreement(false, false, 9, 15)))
        );
    }
}

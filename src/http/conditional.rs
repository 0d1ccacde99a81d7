//! Conditional requests on files (RFC 9110 section 13): the validators a file response sends
//! (`ETag`, `Last-Modified`) and what `If-Match`, `If-Unmodified-Since`, `If-None-Match`,
//! `If-Modified-Since` and `If-Range` make of them, in the order section 13.2.2 gives.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderValue, Method, header};

/// A file's validators: a strong entity tag from its size and modification time, and the
/// modification time to the second.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Validators {
    /// The entity tag, quotes included: `"<size>-<seconds>.<nanoseconds>"` in hex.
    pub(crate) etag: String,
    /// The modification time, whole seconds (what `Last-Modified` can say).
    pub(crate) modified: Option<SystemTime>,
}

impl Validators {
    /// The validators of a file of `len` bytes last modified at `modified` (when the platform
    /// says).
    pub(crate) fn new(len: u64, modified: Option<SystemTime>) -> Validators {
        let since_epoch = modified.and_then(|time| time.duration_since(UNIX_EPOCH).ok());
        let etag = match since_epoch {
            Some(at) => format!("\"{len:x}-{:x}.{:x}\"", at.as_secs(), at.subsec_nanos()),
            None => format!("\"{len:x}\""),
        };
        Validators {
            etag,
            modified: since_epoch.map(|at| UNIX_EPOCH + Duration::from_secs(at.as_secs())),
        }
    }

    /// `ETag` and `Last-Modified` on `headers`.
    pub(crate) fn insert_into(&self, headers: &mut HeaderMap) {
        if let Ok(etag) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, etag);
        }
        if let Some(modified) = self.modified {
            if let Ok(date) = HeaderValue::from_str(&httpdate::fmt_http_date(modified)) {
                headers.insert(header::LAST_MODIFIED, date);
            }
        }
    }
}

/// What the preconditions of a request decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Serve it; `honour_range` is false when `If-Range` no longer matches (the whole file).
    Proceed { honour_range: bool },
    /// `304 Not Modified`.
    NotModified,
    /// `412 Precondition Failed`.
    PreconditionFailed,
}

/// The conditional headers of a request, read at once (the request is not borrowed later).
#[derive(Clone, Debug, Default)]
pub(crate) struct Preconditions {
    method: Method,
    if_match: Option<Vec<u8>>,
    if_unmodified_since: Option<Vec<u8>>,
    if_none_match: Option<Vec<u8>>,
    if_modified_since: Option<Vec<u8>>,
    if_range: Option<Vec<u8>>,
}

impl Preconditions {
    pub(crate) fn of(method: &Method, headers: &HeaderMap) -> Preconditions {
        let joined = |name: header::HeaderName| {
            let mut values = headers.get_all(name).iter();
            let first = values.next()?;
            let mut all = first.as_bytes().to_vec();
            for value in values {
                all.extend_from_slice(b", ");
                all.extend_from_slice(value.as_bytes());
            }
            Some(all)
        };
        let single = |name: header::HeaderName| headers.get(name).map(|v| v.as_bytes().to_vec());
        Preconditions {
            method: method.clone(),
            if_match: joined(header::IF_MATCH),
            if_unmodified_since: single(header::IF_UNMODIFIED_SINCE),
            if_none_match: joined(header::IF_NONE_MATCH),
            if_modified_since: single(header::IF_MODIFIED_SINCE),
            if_range: single(header::IF_RANGE),
        }
    }

    /// RFC 9110 section 13.2.2, steps 1 to 5, for a file with `validators`.
    pub(crate) fn evaluate(&self, validators: &Validators) -> Decision {
        let safe = self.method == Method::GET || self.method == Method::HEAD;
        // 1. If-Match: one of the tags matches strongly (or `*`: the file exists).
        if let Some(if_match) = &self.if_match {
            if !matches_any(if_match, &validators.etag, Comparison::Strong) {
                return Decision::PreconditionFailed;
            }
        } else if let (Some(since), Some(modified)) =
            (parse_date(&self.if_unmodified_since), validators.modified)
        {
            // 2. If-Unmodified-Since, without If-Match.
            if modified > since {
                return Decision::PreconditionFailed;
            }
        }
        // 3. If-None-Match: a match means the client's copy is current.
        if let Some(if_none_match) = &self.if_none_match {
            if matches_any(if_none_match, &validators.etag, Comparison::Weak) {
                return if safe {
                    Decision::NotModified
                } else {
                    Decision::PreconditionFailed
                };
            }
        } else if let (true, Some(since), Some(modified)) = (
            safe,
            parse_date(&self.if_modified_since),
            validators.modified,
        ) {
            // 4. If-Modified-Since, without If-None-Match, on GET and HEAD.
            if modified <= since {
                return Decision::NotModified;
            }
        }
        // 5. If-Range: the range only while the client's validator still holds.
        let honour_range = match &self.if_range {
            None => true,
            Some(value) => {
                let value = trim(value);
                if value.starts_with(b"\"") || value.starts_with(b"W/") {
                    // A weak tag never matches for a range.
                    value == validators.etag.as_bytes()
                } else {
                    match (parse_date(&Some(value.to_vec())), validators.modified) {
                        (Some(date), Some(modified)) => date == modified,
                        _ => false,
                    }
                }
            }
        };
        Decision::Proceed { honour_range }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Strong,
    Weak,
}

/// Whether a list of entity tags (or `*`) holds `etag` (RFC 9110 section 8.8.3.2).
fn matches_any(list: &[u8], etag: &str, comparison: Comparison) -> bool {
    if trim(list) == b"*" {
        return true;
    }
    let ours = etag.as_bytes();
    entity_tags(list)
        .any(|(weak, opaque)| !(comparison == Comparison::Strong && weak) && opaque == ours)
}

/// The entity tags of a list, each as (weak, the quoted opaque tag), quotes kept; stops at
/// the first malformed one. A tag may hold a comma, so the list is read tag by tag.
fn entity_tags(mut list: &[u8]) -> impl Iterator<Item = (bool, &[u8])> {
    std::iter::from_fn(move || {
        while let [b' ' | b'\t' | b',', rest @ ..] = list {
            list = rest;
        }
        let weak = list.starts_with(b"W/");
        if weak {
            list = &list[2..];
        }
        if list.first() != Some(&b'"') {
            return None;
        }
        let close = list[1..].iter().position(|&b| b == b'"')? + 1;
        let (tag, rest) = list.split_at(close + 1);
        list = rest;
        Some((weak, tag))
    })
}

fn trim(bytes: &[u8]) -> &[u8] {
    bytes.trim_ascii()
}

fn parse_date(value: &Option<Vec<u8>>) -> Option<SystemTime> {
    let text = std::str::from_utf8(value.as_deref()?).ok()?;
    httpdate::parse_http_date(text.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validators() -> Validators {
        Validators::new(
            10,
            Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_250)),
        )
    }

    fn evaluate(method: Method, headers: &[(&str, &str)]) -> Decision {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        Preconditions::of(&method, &map).evaluate(&validators())
    }

    const PROCEED: Decision = Decision::Proceed { honour_range: true };

    #[test]
    fn the_validators_are_a_strong_tag_and_a_date_to_the_second() {
        let v = validators();
        assert_eq!(v.etag, "\"a-6553f100.ee6b280\"");
        let mut headers = HeaderMap::new();
        v.insert_into(&mut headers);
        assert_eq!(
            headers[header::LAST_MODIFIED],
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
        assert_eq!(Validators::new(3, None).etag, "\"3\"");
    }

    #[test]
    fn entity_tag_lists_are_read_tag_by_tag() {
        let tags: Vec<_> = entity_tags(br#" "a", W/"b,c" ,"d""#).collect();
        assert_eq!(
            tags,
            [
                (false, &br#""a""#[..]),
                (true, &br#""b,c""#[..]),
                (false, &br#""d""#[..])
            ]
        );
        assert_eq!(entity_tags(br#""open"#).count(), 0);
        assert_eq!(entity_tags(b"bare").count(), 0);
    }

    #[test]
    fn if_none_match_and_if_modified_since_give_304() {
        let etag = validators().etag;
        let modified = "Tue, 14 Nov 2023 22:13:20 GMT";
        assert_eq!(evaluate(Method::GET, &[]), PROCEED);
        assert_eq!(
            evaluate(Method::GET, &[("if-none-match", &etag)]),
            Decision::NotModified
        );
        let weak = format!("W/{etag}");
        assert_eq!(
            evaluate(
                Method::HEAD,
                &[("if-none-match", &format!("\"x\", {weak}"))]
            ),
            Decision::NotModified,
            "weak comparison"
        );
        assert_eq!(
            evaluate(Method::GET, &[("if-none-match", "*")]),
            Decision::NotModified
        );
        assert_eq!(
            evaluate(Method::GET, &[("if-none-match", "\"other\"")]),
            PROCEED
        );
        assert_eq!(
            evaluate(Method::POST, &[("if-none-match", &etag)]),
            Decision::PreconditionFailed
        );
        assert_eq!(
            evaluate(Method::GET, &[("if-modified-since", modified)]),
            Decision::NotModified
        );
        assert_eq!(
            evaluate(
                Method::GET,
                &[("if-modified-since", "Tue, 14 Nov 2023 22:13:19 GMT")]
            ),
            PROCEED
        );
        assert_eq!(
            evaluate(Method::GET, &[("if-modified-since", "not a date")]),
            PROCEED
        );
        // If-None-Match wins over If-Modified-Since.
        assert_eq!(
            evaluate(
                Method::GET,
                &[
                    ("if-none-match", "\"other\""),
                    ("if-modified-since", modified)
                ]
            ),
            PROCEED
        );
        assert_eq!(
            evaluate(Method::POST, &[("if-modified-since", modified)]),
            PROCEED
        );
    }

    #[test]
    fn if_match_and_if_unmodified_since_give_412() {
        let etag = validators().etag;
        assert_eq!(evaluate(Method::PUT, &[("if-match", &etag)]), PROCEED);
        assert_eq!(evaluate(Method::PUT, &[("if-match", "*")]), PROCEED);
        assert_eq!(
            evaluate(Method::PUT, &[("if-match", &format!("W/{etag}"))]),
            Decision::PreconditionFailed,
            "strong comparison"
        );
        assert_eq!(
            evaluate(Method::GET, &[("if-match", "\"other\"")]),
            Decision::PreconditionFailed
        );
        assert_eq!(
            evaluate(
                Method::GET,
                &[("if-unmodified-since", "Tue, 14 Nov 2023 22:13:19 GMT")]
            ),
            Decision::PreconditionFailed
        );
        assert_eq!(
            evaluate(
                Method::GET,
                &[("if-unmodified-since", "Tue, 14 Nov 2023 22:13:20 GMT")]
            ),
            PROCEED
        );
        // If-Match wins over If-Unmodified-Since.
        assert_eq!(
            evaluate(
                Method::GET,
                &[
                    ("if-match", &etag),
                    ("if-unmodified-since", "Tue, 14 Nov 2023 22:13:19 GMT")
                ]
            ),
            PROCEED
        );
    }

    #[test]
    fn if_range_keeps_the_range_only_while_it_matches() {
        let etag = validators().etag;
        let whole = Decision::Proceed {
            honour_range: false,
        };
        assert_eq!(evaluate(Method::GET, &[("if-range", &etag)]), PROCEED);
        assert_eq!(evaluate(Method::GET, &[("if-range", "\"old\"")]), whole);
        assert_eq!(
            evaluate(Method::GET, &[("if-range", &format!("W/{etag}"))]),
            whole
        );
        assert_eq!(
            evaluate(
                Method::GET,
                &[("if-range", "Tue, 14 Nov 2023 22:13:20 GMT")]
            ),
            PROCEED
        );
        assert_eq!(
            evaluate(
                Method::GET,
                &[("if-range", "Tue, 14 Nov 2023 22:13:21 GMT")]
            ),
            whole
        );
        assert_eq!(evaluate(Method::GET, &[("if-range", "garbage")]), whole);
    }
}

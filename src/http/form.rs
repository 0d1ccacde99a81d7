//! `application/x-www-form-urlencoded` bodies.

use crate::Error;

use super::error::HttpError;

/// The pairs of a urlencoded body, in order and decoded.
pub(crate) fn parse(bytes: &[u8]) -> Result<Vec<(String, String)>, Error> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(bytes)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    // `form_urlencoded` replaces invalid UTF-8 with U+FFFD: refuse it instead of guessing,
    // unless the body itself spelled U+FFFD.
    let replaced = pairs
        .iter()
        .any(|(name, value)| name.contains('\u{FFFD}') || value.contains('\u{FFFD}'));
    let spelled = bytes.windows(3).any(|w| w == "\u{FFFD}".as_bytes())
        || bytes
            .windows(9)
            .any(|w| w.eq_ignore_ascii_case(b"%EF%BF%BD"));
    if replaced && !spelled {
        return Err(HttpError::new(
            http::StatusCode::BAD_REQUEST,
            "the form body is not valid UTF-8 once decoded",
        )
        .into());
    }
    Ok(pairs)
}

//! The `Date` header, formatted once a second per thread.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

use http::HeaderValue;

thread_local! {
    static CACHED: RefCell<(u64, HeaderValue)> = const { RefCell::new((u64::MAX, HeaderValue::from_static(""))) };
}

/// The current date as an HTTP-date header value (RFC 9110 IMF-fixdate).
pub(crate) fn now() -> HeaderValue {
    let now = SystemTime::now();
    let second = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    CACHED.with(|cached| {
        let mut cached = cached.borrow_mut();
        if cached.0 != second {
            let text = httpdate::fmt_http_date(now);
            cached.1 = HeaderValue::from_str(&text).expect("an HTTP date is a valid header value");
            cached.0 = second;
        }
        cached.1.clone()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_an_http_date() {
        let date = super::now();
        let text = date.to_str().unwrap();
        assert!(text.ends_with(" GMT"), "{text}");
        assert!(httpdate::parse_http_date(text).is_ok());
    }
}

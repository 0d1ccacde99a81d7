//! Cookies: a store trait, and an in-memory store on `cookie_store` (RFC 6265 domain, path,
//! expiry, `Secure` and `HttpOnly` rules), used across redirects.

use std::fmt;
use std::sync::{PoisonError, RwLock};

use http::HeaderValue;

/// Where a [`Client`](super::Client) keeps cookies (clj-http's `CookieStore` protocol):
/// responses' `Set-Cookie` headers go in, and requests get a `Cookie` header of the cookies
/// that match their URL. Set one with [`ClientOptions::cookie_store`](super::ClientOptions::cookie_store).
pub trait CookieStore: Send + Sync {
    /// Stores the cookies of a response from `url`.
    fn set_cookies(&self, set_cookie: &mut dyn Iterator<Item = &HeaderValue>, url: &url::Url);

    /// The `Cookie` header value for a request to `url`, if any cookie matches.
    fn cookies(&self, url: &url::Url) -> Option<HeaderValue>;
}

/// An in-memory [`CookieStore`] (clj-http's `in-memory-cookie-store`), on the `cookie_store`
/// crate: RFC 6265 matching of domain, path, expiry, `Secure` and `HttpOnly`.
///
/// # Examples
///
/// ```
/// use weir::http::HeaderValue;
/// use weir::http::client::{CookieJar, CookieStore};
///
/// let jar = CookieJar::new();
/// let url = url::Url::parse("http://example.com/app/login").unwrap();
/// let set = HeaderValue::from_static("session=abc; Path=/app; HttpOnly");
/// jar.set_cookies(&mut std::iter::once(&set), &url);
/// let later = url::Url::parse("http://example.com/app/home").unwrap();
/// assert_eq!(jar.cookies(&later).unwrap(), "session=abc");
/// let elsewhere = url::Url::parse("http://example.com/other").unwrap();
/// assert!(jar.cookies(&elsewhere).is_none());
/// ```
#[derive(Default)]
pub struct CookieJar {
    store: RwLock<cookie_store::CookieStore>,
}

impl CookieJar {
    /// An empty jar.
    ///
    /// # Examples
    ///
    /// See [`CookieJar`].
    pub fn new() -> CookieJar {
        CookieJar::default()
    }
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.store.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("CookieJar")
            .field("cookies", &store.iter_unexpired().count())
            .finish()
    }
}

impl CookieStore for CookieJar {
    fn set_cookies(&self, set_cookie: &mut dyn Iterator<Item = &HeaderValue>, url: &url::Url) {
        let parsed: Vec<cookie_store::RawCookie<'static>> = set_cookie
            .filter_map(|value| value.to_str().ok())
            .filter_map(|text| cookie_store::RawCookie::parse(text.to_string()).ok())
            .collect();
        if parsed.is_empty() {
            return;
        }
        let mut store = self.store.write().unwrap_or_else(PoisonError::into_inner);
        store.store_response_cookies(parsed.into_iter(), url);
    }

    fn cookies(&self, url: &url::Url) -> Option<HeaderValue> {
        let store = self.store.read().unwrap_or_else(PoisonError::into_inner);
        let header = store
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        if header.is_empty() {
            return None;
        }
        HeaderValue::from_str(&header).ok()
    }
}

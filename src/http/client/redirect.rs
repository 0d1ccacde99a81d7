//! Following redirects, as clj-http does by default.

use http::{Method, Response, StatusCode, Uri, header};

use crate::Error;
use crate::http::Body;

use super::request::ClientRequest;

/// The URLs a response was redirected through, oldest first, in the response's extensions
/// (clj-http's `:trace-redirects`): `response.extensions().get::<RedirectTrace>()`. Absent
/// when the request was not redirected.
///
/// # Examples
///
/// ```
/// # fn check(response: &weir::http::Response<weir::http::Body>) {
/// if let Some(trace) = response.extensions().get::<weir::http::client::RedirectTrace>() {
///     println!("came through {} redirects", trace.urls().len());
/// }
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedirectTrace {
    urls: Vec<Uri>,
}

impl RedirectTrace {
    /// The URLs requested before the final one, in order.
    ///
    /// # Examples
    ///
    /// See [`RedirectTrace`].
    pub fn urls(&self) -> &[Uri] {
        &self.urls
    }
}

/// What to do with a response to `request`.
#[allow(clippy::large_enum_variant, reason = "one per redirect, moved once")]
pub(crate) enum Next {
    /// Hand this response to the caller.
    Done(Response<Body>),
    /// Send this request next (the redirect's target).
    Follow(ClientRequest),
}

/// The next request for a redirect response, if it is one to follow: 301, 302 and 303 turn
/// into a GET without a body (HEAD stays HEAD); 307 and 308 keep the method and body, when the
/// body can be sent again. A cross-origin hop drops the credentials.
pub(crate) fn next(
    response: Response<Body>,
    method: &Method,
    uri: &Uri,
    headers: &http::HeaderMap,
    replay: Option<Body>,
) -> Result<Next, Error> {
    let status = response.status();
    let keeps_method = matches!(
        status,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
    );
    let to_get = matches!(
        status,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND | StatusCode::SEE_OTHER
    );
    if !keeps_method && !to_get {
        return Ok(Next::Done(response));
    }
    let Some(location) = response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
    else {
        return Ok(Next::Done(response));
    };
    let base = url::Url::parse(&uri.to_string())
        .map_err(|error| Error::msg(format!("invalid URL {uri}: {error}")))?;
    let target = base
        .join(location)
        .map_err(|error| Error::msg(format!("invalid redirect location {location:?}: {error}")))?;
    if !matches!(target.scheme(), "http" | "https") {
        return Ok(Next::Done(response));
    }
    let (next_method, body) = if keeps_method {
        match replay {
            Some(body) => (method.clone(), body),
            // The body was streamed and cannot be sent again: the caller gets the 307/308.
            None => return Ok(Next::Done(response)),
        }
    } else if *method == Method::HEAD {
        (Method::HEAD, Body::empty())
    } else {
        (Method::GET, Body::empty())
    };
    let same_origin = base.origin() == target.origin();
    let mut next_headers = headers.clone();
    if !same_origin {
        for name in [
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
            header::WWW_AUTHENTICATE,
        ] {
            next_headers.remove(name);
        }
    }
    if !keeps_method {
        for name in [
            header::CONTENT_TYPE,
            header::CONTENT_LENGTH,
            header::CONTENT_ENCODING,
            header::TRANSFER_ENCODING,
        ] {
            next_headers.remove(name);
        }
    }
    next_headers.remove(header::HOST);
    // The redirect response's body is not read: its connection is closed rather than drained.
    drop(response);
    let mut request = ClientRequest::new(next_method, target.as_str()).body(body);
    request.headers = next_headers;
    Ok(Next::Follow(request))
}

/// Adds `uri` to the trace kept in `extensions`.
pub(crate) fn record(trace: &mut RedirectTrace, uri: Uri) {
    trace.urls.push(uri);
}

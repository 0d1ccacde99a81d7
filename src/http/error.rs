//! `HttpError`: an error that says which status to answer with.

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;

use crate::Error;

/// An error with the HTTP status it should be answered with: Aleph's `:aleph/response-status`
/// and `:aleph/public-error-message`. A handler that fails with one (returned as
/// `Err(HttpError::new(..).into())`, or from [`Body::to_bytes`](super::Body::to_bytes) over its
/// limit) answers with that status and the message as a `text/plain` body, through the default
/// error handler. Any other error answers 500 with a generic body (the error itself is only
/// logged).
///
/// # Examples
///
/// ```
/// use weir::http::{HttpError, StatusCode};
///
/// let error: weir::Error = HttpError::new(StatusCode::NOT_FOUND, "no such user").into();
/// assert_eq!(HttpError::status_of(&error), Some(StatusCode::NOT_FOUND));
/// assert_eq!(error.to_string(), "404 Not Found: no such user");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError {
    status: StatusCode,
    message: Cow<'static, str>,
}

impl HttpError {
    /// An error answered with `status` and `message` (sent to the client: keep it public).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{HttpError, StatusCode};
    /// let error = HttpError::new(StatusCode::FORBIDDEN, "not yours");
    /// assert_eq!(error.status(), StatusCode::FORBIDDEN);
    /// assert_eq!(error.message(), "not yours");
    /// ```
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> HttpError {
        HttpError {
            status,
            message: message.into(),
        }
    }

    /// The status to answer with.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{HttpError, StatusCode};
    /// assert_eq!(HttpError::new(StatusCode::CONFLICT, "").status(), 409);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message, sent as the response body.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{HttpError, StatusCode};
    /// assert_eq!(HttpError::new(StatusCode::GONE, "moved on").message(), "moved on");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The status a weir error asks for, if it carries an `HttpError`.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{HttpError, StatusCode};
    /// assert_eq!(HttpError::status_of(&weir::Error::msg("plain")), None);
    /// let error = weir::Error::from(HttpError::new(StatusCode::IM_A_TEAPOT, "tea"));
    /// assert_eq!(HttpError::status_of(&error), Some(StatusCode::IM_A_TEAPOT));
    /// ```
    pub fn status_of(error: &Error) -> Option<StatusCode> {
        error.downcast_ref::<HttpError>().map(HttpError::status)
    }

    pub(crate) fn payload_too_large(limit: u64) -> HttpError {
        HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than the limit of {limit} bytes"),
        )
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

impl From<HttpError> for Error {
    fn from(error: HttpError) -> Error {
        Error::other(error)
    }
}

/// A hyper error as a weir error: timeouts and closed connections keep their kind.
pub(crate) fn from_hyper(error: hyper::Error) -> Error {
    if error.is_timeout() {
        return Error::timed_out(std::time::Duration::ZERO);
    }
    if error.is_incomplete_message() || error.is_canceled() || error.is_closed() {
        return Error::closed(format!("http connection: {error}"));
    }
    if error.is_parse() {
        return Error::protocol(format!("http: {error}"));
    }
    // hyper's message names only its kind ("connection error"): the cause goes into it, and
    // an I/O cause (a TLS alert, a reset) makes it an I/O error.
    let (mut deepest, mut io_kind) = (None, None);
    let mut cause = std::error::Error::source(&error);
    while let Some(next) = cause {
        if let (None, Some(io)) = (io_kind, next.downcast_ref::<std::io::Error>()) {
            io_kind = Some(io.kind());
        }
        deepest = Some(next);
        cause = next.source();
    }
    let Some(deepest) = deepest else {
        return Error::other(error);
    };
    let message = format!("{error}: {deepest}");
    let described = Described { message, error };
    match io_kind {
        Some(kind) => Error::from(std::io::Error::new(kind, described)),
        None => Error::other(described),
    }
}

/// A hyper error with its cause in its message; the hyper error stays its `source`.
#[derive(Debug)]
struct Described {
    message: String,
    error: hyper::Error,
}

impl std::fmt::Display for Described {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Described {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A hyper error that ended a request body as a weir error: a malformed body (a bad chunk
/// size, say) is a protocol error that also carries a `400` [`HttpError`], so a handler that
/// returns it answers `400 Bad Request` rather than `500`.
pub(crate) fn from_hyper_body(error: hyper::Error) -> Error {
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput
            ) {
                return Error::protocol_with_source(
                    format!("http: malformed request body: {io}"),
                    HttpError::new(StatusCode::BAD_REQUEST, "malformed request body"),
                );
            }
        }
        source = cause.source();
    }
    from_hyper(error)
}

/// An h2 error as a weir error: a stream reset by the peer is `is_closed`.
#[cfg(feature = "http2")]
pub(crate) fn from_h2(error: h2::Error) -> Error {
    if error.is_io() {
        return match error.into_io() {
            Some(io) => Error::from(io),
            None => Error::closed("http/2 connection lost"),
        };
    }
    if error.is_reset() || error.is_go_away() {
        return Error::closed(format!("http/2 stream: {error}"));
    }
    Error::protocol(format!("http/2: {error}"))
}

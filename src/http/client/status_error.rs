//! `ResponseError`: a 4xx or 5xx response as an error, as clj-http throws on error statuses.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use http::{Response, StatusCode};

use crate::Error;
use crate::http::Body;

/// The error a request fails with when its response has a 4xx or 5xx status (clj-http's
/// `:throw-exceptions`, on by default; turn it off with
/// [`ClientRequest::throw_on_status`](super::ClientRequest::throw_on_status) or
/// [`ClientOptions::throw_on_status`](super::ClientOptions::throw_on_status)). It carries the
/// response, body still readable: [`ResponseError::take_response`].
///
/// # Examples
///
/// ```
/// use weir::http::{self, Body, Request, ServerOptions, StatusCode};
/// use weir::http::client::ResponseError;
///
/// # weir::runtime::block_on(async {
/// let missing = |_: Request<Body>| -> Result<&'static str, weir::Error> {
///     Err(http::HttpError::new(StatusCode::NOT_FOUND, "no such page").into())
/// };
/// let server = http::start_server(missing, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
/// let error = http::get(format!("http://{}/", server.local_addr())).await.unwrap_err();
/// let failed = error.downcast_ref::<ResponseError>().unwrap();
/// assert_eq!(failed.status(), StatusCode::NOT_FOUND);
/// let body = failed.take_response().unwrap().into_body();
/// assert_eq!(body.to_string(1024).await.unwrap(), "no such page");
/// server.close().await.unwrap();
/// # });
/// ```
pub struct ResponseError {
    status: StatusCode,
    url: String,
    response: Mutex<Option<Response<Body>>>,
}

impl ResponseError {
    /// The response's status.
    ///
    /// # Examples
    ///
    /// See [`ResponseError`].
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response, once: its headers and its body, still to be read. `None` once taken (the
    /// error is shared by its clones).
    ///
    /// # Examples
    ///
    /// See [`ResponseError`].
    pub fn take_response(&self) -> Option<Response<Body>> {
        self.response
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl fmt::Debug for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseError")
            .field("status", &self.status)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {} from {}", self.status, self.url)
    }
}

impl std::error::Error for ResponseError {}

/// The response, or the error carrying it when its status is 4xx or 5xx.
pub(crate) fn check(response: Response<Body>, url: &http::Uri) -> Result<Response<Body>, Error> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(response);
    }
    Err(Error::other(ResponseError {
        status,
        url: url.to_string(),
        response: Mutex::new(Some(response)),
    }))
}

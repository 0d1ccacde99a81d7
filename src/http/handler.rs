//! What a handler is, and what it may return.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::FutureExt as _;
use http::{Request, Response, StatusCode};

use crate::Error;

use super::body::Body;

/// Anything a handler may answer with, Aleph's "Ring response or deferred of one": an
/// `http::Response<B>` whose body converts into a [`Body`], a [`StatusCode`] (an empty body
/// with that status), `()` (204 No Content, as Aleph answers `nil`), a bare body (`&'static
/// str` and `String` as `text/plain`, `Bytes` and `Vec<u8>` as `application/octet-stream`, a
/// [`Body`]: 200 OK), or a `Result` of any of
/// these (the error goes to the server's error handler:
/// [`ServerOptions::error_handler`](super::ServerOptions::error_handler)). Handlers that
/// answer later return a future (an `async` block, a [`Deferred`](crate::Deferred)) of one.
///
/// # Examples
///
/// ```
/// use weir::http::{Body, IntoResponse, Response, StatusCode};
///
/// let response = ().into_response().unwrap();
/// assert_eq!(response.status(), StatusCode::NO_CONTENT);
///
/// let response = Response::new("hi").into_response().unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
///
/// let failed: Result<Response<Body>, weir::Error> = Err(weir::Error::msg("no"));
/// assert!(failed.into_response().is_err());
/// ```
pub trait IntoResponse {
    /// The response, or the error the error handler answers.
    fn into_response(self) -> Result<Response<Body>, Error>;
}

impl<B: Into<Body>> IntoResponse for Response<B> {
    fn into_response(self) -> Result<Response<Body>, Error> {
        Ok(self.map(Into::into))
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Result<Response<Body>, Error> {
        StatusCode::NO_CONTENT.into_response()
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Result<Response<Body>, Error> {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self;
        Ok(response)
    }
}

/// A `200 OK` with a `text/plain; charset=utf-8` body.
impl IntoResponse for &'static str {
    fn into_response(self) -> Result<Response<Body>, Error> {
        Ok(text(Body::from(self)))
    }
}

/// A `200 OK` with a `text/plain; charset=utf-8` body.
impl IntoResponse for String {
    fn into_response(self) -> Result<Response<Body>, Error> {
        Ok(text(Body::from(self)))
    }
}

/// A `200 OK` with an `application/octet-stream` body.
impl IntoResponse for bytes::Bytes {
    fn into_response(self) -> Result<Response<Body>, Error> {
        Ok(octets(Body::from(self)))
    }
}

/// A `200 OK` with an `application/octet-stream` body.
impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Result<Response<Body>, Error> {
        Ok(octets(Body::from(self)))
    }
}

/// A `200 OK` streaming the body.
impl IntoResponse for Body {
    fn into_response(self) -> Result<Response<Body>, Error> {
        Ok(Response::new(self))
    }
}

fn text(body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn octets(body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/octet-stream"),
    );
    response
}

impl<R: IntoResponse, E: Into<Error>> IntoResponse for Result<R, E> {
    fn into_response(self) -> Result<Response<Body>, Error> {
        self.map_err(Into::into)?.into_response()
    }
}

/// A request handler: any `Fn(Request<Body>) -> R` where `R` is an [`IntoResponse`] (answers
/// at once) or a future of one (answers later: an `async` block, a
/// [`Deferred`](crate::Deferred)), or a tower service wrapped by [`service`](super::service).
/// The marker `M` tells the two closure forms apart; it is inferred.
///
/// A handler runs once per request, concurrently with itself, on the connection's task: one
/// that blocks should move its work to [`Deferred::spawn_blocking`](crate::Deferred::spawn_blocking).
/// A panic in it is caught and answered as an error (500 by default); it never takes down the
/// connection or the server.
///
/// # Examples
///
/// ```
/// use weir::http::{Body, Request, Response};
///
/// fn serve<M>(handler: impl weir::http::Handler<M>) { let _ = handler; }
///
/// serve(|_req: Request<Body>| Response::new("at once"));
/// serve(|_req: Request<Body>| async { Response::new("later") });
/// serve(|_req: Request<Body>| weir::Deferred::<_, weir::Error>::succeeded(Response::new("deferred")));
/// ```
pub trait Handler<M>: Send + Sync + 'static {
    #[doc(hidden)]
    fn call(&self, request: Request<Body>) -> Responding;
}

/// The marker of handlers that answer at once.
#[doc(hidden)]
#[derive(Debug)]
pub enum Immediate {}

/// The marker of handlers that return a future.
#[doc(hidden)]
#[derive(Debug)]
pub enum Eventual {}

impl<F, R> Handler<(Immediate, R)> for F
where
    F: Fn(Request<Body>) -> R + Send + Sync + 'static,
    R: IntoResponse,
{
    fn call(&self, request: Request<Body>) -> Responding {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self(request).into_response())) {
            Ok(response) => Responding::ready(response),
            Err(payload) => Responding::ready(Err(Error::panicked(payload))),
        }
    }
}

impl<F, Fut> Handler<(Eventual, Fut)> for F
where
    F: Fn(Request<Body>) -> Fut + Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: IntoResponse,
{
    fn call(&self, request: Request<Body>) -> Responding {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self(request))) {
            Ok(future) => Responding::boxed(async move {
                match AssertUnwindSafe(future).catch_unwind().await {
                    Ok(response) => response.into_response(),
                    Err(payload) => Err(Error::panicked(payload)),
                }
            }),
            Err(payload) => Responding::ready(Err(Error::panicked(payload))),
        }
    }
}

/// The future of one handler's response: ready at once for handlers that answer at once (no
/// allocation), boxed otherwise.
#[doc(hidden)]
pub struct Responding {
    state: RespondingState,
}

#[allow(
    clippy::large_enum_variant,
    reason = "one per request, never moved once polled"
)]
enum RespondingState {
    Ready(Option<Result<Response<Body>, Error>>),
    Boxed(Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>),
}

impl Responding {
    pub(crate) fn ready(response: Result<Response<Body>, Error>) -> Responding {
        Responding {
            state: RespondingState::Ready(Some(response)),
        }
    }

    /// The response if the handler answered when called, or `self` to await.
    #[allow(
        clippy::result_large_err,
        reason = "both sides are one per request; boxing would cost what this saves"
    )]
    pub(crate) fn into_ready(self) -> Result<Result<Response<Body>, Error>, Responding> {
        match self.state {
            RespondingState::Ready(Some(response)) => Ok(response),
            state => Err(Responding { state }),
        }
    }

    pub(crate) fn boxed(
        future: impl Future<Output = Result<Response<Body>, Error>> + Send + 'static,
    ) -> Responding {
        Responding {
            state: RespondingState::Boxed(Box::pin(future)),
        }
    }
}

impl Future for Responding {
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().state {
            RespondingState::Ready(response) => Poll::Ready(
                response
                    .take()
                    .expect("a Responding polled after it finished"),
            ),
            RespondingState::Boxed(future) => future.as_mut().poll(cx),
        }
    }
}

impl std::fmt::Debug for Responding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responding").finish_non_exhaustive()
    }
}

/// A handler with its marker erased, as the server keeps it.
pub(crate) trait ErasedHandler: Send + Sync + 'static {
    fn respond(&self, request: Request<Body>) -> Responding;
}

pub(crate) struct Erased<H, M> {
    pub(crate) handler: H,
    pub(crate) marker: std::marker::PhantomData<fn() -> M>,
}

impl<H: Handler<M>, M: 'static> ErasedHandler for Erased<H, M> {
    fn respond(&self, request: Request<Body>) -> Responding {
        self.handler.call(request)
    }
}

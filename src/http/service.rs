//! Serving a tower service (an axum `Router`, say) as a weir handler.

use std::error::Error as StdError;

use http::{Request, Response};
use tower_service::Service;

use crate::Error;

use super::body::Body;
use super::handler::{Handler, Responding};

/// A `tower_service::Service` as a weir [`Handler`]; see [`service`].
#[derive(Clone, Debug)]
pub struct ServiceHandler<S> {
    service: S,
}

/// Serves any `tower_service::Service<Request<Body>>` whose response body is an
/// [`http_body::Body`] of bytes (an axum `Router`, a tower-http stack…): each request gets a
/// clone of the service, is sent once it is ready, and its error goes to the error handler.
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use std::future::Ready;
/// use std::task::{Context, Poll};
/// use weir::http::{self, Body, Request, Response, ServerOptions};
///
/// #[derive(Clone)]
/// struct Hello;
///
/// impl tower_service::Service<Request<Body>> for Hello {
///     type Response = Response<Body>;
///     type Error = Infallible;
///     type Future = Ready<Result<Response<Body>, Infallible>>;
///     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
///         Poll::Ready(Ok(()))
///     }
///     fn call(&mut self, _: Request<Body>) -> Self::Future {
///         std::future::ready(Ok(Response::new(Body::from("from tower"))))
///     }
/// }
///
/// # weir::runtime::block_on(async {
/// let server = http::start_server(http::service(Hello), ServerOptions::new().port(0))
///     .await
///     .unwrap();
/// # server.close().await.unwrap();
/// # });
/// ```
pub fn service<S>(service: S) -> ServiceHandler<S> {
    ServiceHandler { service }
}

/// The marker of tower services served through [`service`].
#[doc(hidden)]
#[derive(Debug)]
pub enum TowerService {}

impl<S, B> Handler<TowerService> for ServiceHandler<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    fn call(&self, request: Request<Body>) -> Responding {
        let mut service = self.service.clone();
        Responding::boxed(async move {
            futures_lite::future::poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(|error| Error::from_boxed(error.into()))?;
            let response = service
                .call(request)
                .await
                .map_err(|error| Error::from_boxed(error.into()))?;
            Ok(response.map(Body::from_http_body))
        })
    }
}

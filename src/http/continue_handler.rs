//! `Continue`: a continue handler's decision on an `Expect: 100-continue` request.

use std::future::Future;
use std::pin::Pin;

use http::Response;

use crate::{Deferred, Error};

use super::body::Body;

/// What a [continue handler](super::ServerOptions::continue_handler) decides.
///
/// # Examples
///
/// ```
/// use weir::http::{Continue, IntoContinue};
/// assert!(matches!(true.into_continue(), Continue::Accept));
/// assert!(matches!(false.into_continue(), Continue::Reject));
/// ```
#[non_exhaustive]
#[allow(
    clippy::large_enum_variant,
    reason = "made once per request that expects 100-continue"
)]
pub enum Continue {
    /// Let the request through: `100 Continue` goes out when the handler reads the body.
    Accept,
    /// Answer `417 Expectation Failed`.
    Reject,
    /// Answer with this response instead of running the handler.
    Respond(Response<Body>),
    /// Decide later.
    Later(Pin<Box<dyn Future<Output = Result<Continue, Error>> + Send>>),
}

impl std::fmt::Debug for Continue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Continue::Accept => f.write_str("Accept"),
            Continue::Reject => f.write_str("Reject"),
            Continue::Respond(response) => {
                f.debug_tuple("Respond").field(&response.status()).finish()
            }
            Continue::Later(_) => f.write_str("Later"),
        }
    }
}

/// Anything a continue handler may return: `bool`, [`Continue`], a response, or a
/// [`Deferred`] of one of these.
pub trait IntoContinue {
    /// The decision.
    fn into_continue(self) -> Continue;
}

impl IntoContinue for Continue {
    fn into_continue(self) -> Continue {
        self
    }
}

impl IntoContinue for bool {
    fn into_continue(self) -> Continue {
        if self {
            Continue::Accept
        } else {
            Continue::Reject
        }
    }
}

impl<B: Into<Body>> IntoContinue for Response<B> {
    fn into_continue(self) -> Continue {
        Continue::Respond(self.map(Into::into))
    }
}

impl<T, E> IntoContinue for Deferred<T, E>
where
    T: IntoContinue + Send + 'static,
    E: Into<Error> + Send + 'static,
{
    fn into_continue(self) -> Continue {
        Continue::Later(Box::pin(async move {
            self.await
                .map(IntoContinue::into_continue)
                .map_err(Into::into)
        }))
    }
}

/// The final decision: waits out `Later`.
pub(crate) async fn decide(mut decision: Continue) -> Result<Continue, Error> {
    loop {
        match decision {
            Continue::Later(future) => decision = future.await?,
            other => return Ok(other),
        }
    }
}

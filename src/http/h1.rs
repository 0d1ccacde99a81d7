//! HTTP/1.1 connections, served by hyper's `server::conn::http1` over weir's I/O adapter and
//! timer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use futures_io::{AsyncRead, AsyncWrite};
use http::{Request, Response, StatusCode, header};

use crate::tcp::ConnectionInfo;
use crate::tcp::accept::ConnectionGuard;

use super::activity::Activity;
use super::body::Body;
use super::error::HttpError;
use super::introspection::Registration;
use super::io::HyperIo;
use super::server::{Answer, Shared};
use super::timer::{Deadline, WeirTimer};

/// hyper's own limit on the headers of a request when none is set.
const HYPER_MAX_HEADERS: usize = 100;

/// hyper's HTTP/1.1 settings for a server, made once and cloned for each connection.
pub(crate) fn builder(
    header_read_timeout: Option<std::time::Duration>,
    half_close: bool,
    max_header_size: usize,
    max_headers: usize,
) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(WeirTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(true)
        .half_close(half_close)
        .max_header_size(max_header_size)
        .auto_date_header(true);
    if max_headers != HYPER_MAX_HEADERS {
        // Set only when it differs: with a limit set, hyper allocates and fills a header
        // index array for every request (measured: 1 700 instructions of 19 700).
        builder.max_headers(max_headers);
    }
    builder
}

/// Serves HTTP/1.1 on `io` until the client goes, the connection idles out, or the server
/// shuts down.
///
/// Not an `async fn`: hyper's connection is built here, before the future exists, so the future
/// holds it once (an `async fn` would also keep `io`, its argument, for as long as it runs).
/// With this and the server's `Stages`, an idle HTTP/1.1 connection's task went from 2 416
/// bytes to 1 312 (hyper on tokio's: 1 920).
pub(crate) fn serve<T>(
    io: T,
    vectored: bool,
    shared: Arc<Shared>,
    info: Arc<ConnectionInfo>,
    guard: ConnectionGuard,
    registration: Registration,
) -> impl Future<Output = ()> + Send + 'static
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = shared.http1_builder.clone();
    builder.writev(vectored);
    let activity = Arc::new(Activity::new());
    registration.set_activity(&activity);
    #[cfg(feature = "http2")]
    let h2c: Option<H2cSlot> =
        (shared.h2c && shared.http2 && !info.is_tls()).then(Default::default);
    let service = H1Service {
        shared: shared.clone(),
        info: info.clone(),
        activity: activity.clone(),
        draining: Arc::new(guard.draining()),
        #[cfg(feature = "http2")]
        h2c: h2c.clone(),
    };
    let mut connection = builder
        .serve_connection(
            HyperIo::new(io, vectored).uri_limit(shared.max_header_size),
            service,
        )
        .with_upgrades();
    drop(builder);
    async move {
        // `connection` is polled where the future keeps it (it is `Unpin`): pinning it would
        // move it into a second slot.
        let mut draining = Some(guard.draining());
        let mut aborted = guard.aborted();
        let idle_timeout = shared.idle_timeout;
        let mut idle = idle_timeout.map(|timeout| Deadline::new(Instant::now() + timeout));
        // Set once the idle timeout has started a graceful shutdown.
        let mut idle_closing = false;
        let outcome = futures_lite::future::poll_fn(|cx| {
            loop {
                // The drain first: a response finishing in this same poll then goes out with
                // `Connection: close`.
                if let Some(drain) = &mut draining {
                    if Pin::new(drain).poll(cx).is_ready() {
                        draining = None;
                        Pin::new(&mut connection).graceful_shutdown();
                    }
                }
                if let Poll::Ready(outcome) = Pin::new(&mut connection).poll(cx) {
                    return Poll::Ready(Some(outcome));
                }
                if Pin::new(&mut aborted).poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                if let (Some(deadline), Some(timeout)) = (&mut idle, idle_timeout) {
                    if Pin::new(&mut *deadline).poll(cx).is_ready() {
                        match activity.idle_deadline(timeout) {
                            // Still open and idle a timeout later: hyper waits out a head that
                            // never completes (with no header read timeout): drop it.
                            None if idle_closing => return Poll::Ready(None),
                            None => {
                                idle_closing = true;
                                deadline.reset(Instant::now() + timeout);
                                Pin::new(&mut connection).graceful_shutdown();
                            }
                            Some(next) => deadline.reset(next),
                        }
                        continue;
                    }
                }
                return Poll::Pending;
            }
        })
        .await;
        match outcome {
            Some(Err(error)) => {
                log::debug!(
                    "weir: http/1 connection from {}: {error}",
                    info.remote_addr()
                )
            }
            Some(Ok(())) => {}
            None => log::debug!(
                "weir: http/1 connection from {} closed at the shutdown or idle timeout",
                info.remote_addr()
            ),
        }
        #[cfg(feature = "http2")]
        if let Some(pending) = h2c.and_then(|slot| slot.lock().ok()?.take()) {
            // Boxed: only an upgraded connection pays for HTTP/2's state.
            Box::pin(serve_upgraded_h2c::<T>(
                pending,
                shared,
                info,
                guard,
                registration,
            ))
            .await;
            return;
        }
        // Off the graph before the guard lets a closing server finish.
        drop(registration);
        drop(guard);
    }
}

/// An accepted `Upgrade: h2c`, waiting for hyper to send the `101` and let go of the
/// connection.
#[cfg(feature = "http2")]
struct PendingH2c {
    upgrade: hyper::upgrade::OnUpgrade,
    stream_one: super::h2c::StreamOne,
}

#[cfg(feature = "http2")]
type H2cSlot = Arc<std::sync::Mutex<Option<PendingH2c>>>;

/// Serves HTTP/2 on the connection a `101` to `Upgrade: h2c` handed over, the request that
/// asked as stream 1.
#[cfg(feature = "http2")]
async fn serve_upgraded_h2c<T>(
    pending: PendingH2c,
    shared: Arc<Shared>,
    info: Arc<ConnectionInfo>,
    guard: ConnectionGuard,
    registration: Registration,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = match pending.upgrade.await {
        Ok(upgraded) => match upgraded.downcast::<HyperIo<T>>() {
            Ok(parts) => super::io::Prefixed::new(parts.read_buf, parts.io.io),
            Err(_) => {
                log::debug!("weir: h2c upgrade: not the connection's own I/O");
                return;
            }
        },
        Err(error) => {
            log::debug!(
                "weir: h2c upgrade from {} failed: {error}",
                info.remote_addr()
            );
            return;
        }
    };
    registration.set_protocol("h2c");
    let io = super::h2c::Replayed::new(io, pending.stream_one);
    super::h2::serve(io, shared, info, guard, registration).await;
}

/// hyper's view of weir's dispatch.
struct H1Service {
    shared: Arc<Shared>,
    info: Arc<ConnectionInfo>,
    activity: Arc<Activity>,
    /// Realized once the server drains: responses from then on say `Connection: close`.
    draining: Arc<crate::Deferred<(), crate::Error>>,
    /// Where an accepted `Upgrade: h2c` waits: `None` when the server does not offer h2c here.
    #[cfg(feature = "http2")]
    h2c: Option<H2cSlot>,
}

impl hyper::service::Service<Request<hyper::body::Incoming>> for H1Service {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = H1Answer;

    /// Runs the handler here, in hyper's poll: a handler that answers when called costs no
    /// future and no allocation (measured: the boxed async block this replaced cost about 2 000
    /// instructions a request, moving 400-byte requests and responses between its layers).
    fn call(&self, request: Request<hyper::body::Incoming>) -> H1Answer {
        let shared = &self.shared;
        let draining = &*self.draining;
        let info = shared.request_info(&self.info, None, Some(draining.clone()));
        let in_flight = self.activity.start();
        let (mut parts, body) = request.into_parts();
        if let Err(error) = check_head(&parts) {
            // The body is not read: `Connection: close` ends the connection after this.
            let mut response = shared.refuse(error);
            response.body_mut().attach(in_flight);
            return H1Answer::Now(Some(response));
        }
        #[cfg(feature = "http2")]
        if let Some(slot) = &self.h2c {
            use http_body::Body as _;
            if let Some(stream_one) = super::h2c::offer(&parts, body.is_end_stream()) {
                if let Some(upgrade) = parts.extensions.remove::<hyper::upgrade::OnUpgrade>() {
                    if let Ok(mut slot) = slot.lock() {
                        *slot = Some(PendingH2c {
                            upgrade,
                            stream_one,
                        });
                        let response = super::h2c::switching_protocols();
                        return H1Answer::Now(Some(send_off(response, draining, in_flight)));
                    }
                }
            }
        }
        parts.extensions.insert(info);
        let body = Body::incoming(body, shared.max_request_body_size);
        match shared.answer(Request::from_parts(parts, body)) {
            Answer::Now(response) => H1Answer::Now(Some(send_off(response, draining, in_flight))),
            Answer::Later(response) => H1Answer::Later {
                response,
                draining: self.draining.clone(),
                in_flight: Some(in_flight),
            },
        }
    }
}

/// The last touches on an HTTP/1.1 response: `Connection: close` once the server drains, and
/// the request counted as in flight until hyper has sent the body and drops it.
fn send_off(
    mut response: Response<Body>,
    draining: &crate::Deferred<(), crate::Error>,
    in_flight: super::activity::InFlight,
) -> Response<Body> {
    if draining.is_realized() && response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        // Said here, not left to the connection's task noticing the drain in time.
        response.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    response.body_mut().attach(in_flight);
    response
}

/// The response to one HTTP/1.1 request, as hyper's service future.
#[allow(
    clippy::large_enum_variant,
    reason = "the response is moved, not boxed: one per request"
)]
pub(crate) enum H1Answer {
    Now(Option<Response<Body>>),
    Later {
        response: Pin<Box<dyn Future<Output = Response<Body>> + Send>>,
        draining: Arc<crate::Deferred<(), crate::Error>>,
        in_flight: Option<super::activity::InFlight>,
    },
}

impl Future for H1Answer {
    type Output = Result<Response<Body>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            H1Answer::Now(response) => Poll::Ready(Ok(response
                .take()
                .expect("an HTTP/1.1 answer polled after it finished"))),
            H1Answer::Later {
                response,
                draining,
                in_flight,
            } => {
                let response = std::task::ready!(response.as_mut().poll(cx));
                let in_flight = in_flight
                    .take()
                    .expect("an HTTP/1.1 answer polled after it finished");
                Poll::Ready(Ok(send_off(response, draining, in_flight)))
            }
        }
    }
}

/// `uri-host [":" port]` (RFC 9112 3.2): an authority without user info, its port digits.
fn valid_host(host: &str) -> bool {
    is_plain_host(host.as_bytes()) || is_parsed_host(host)
}

/// [`valid_host`] by the full authority parse.
fn is_parsed_host(host: &str) -> bool {
    if host.contains('@') {
        return false;
    }
    let Ok(authority) = host.parse::<http::uri::Authority>() else {
        return false;
    };
    let rest = &host[authority.host().len()..];
    match rest.strip_prefix(':') {
        None => rest.is_empty(),
        Some(port) => port.is_empty() || port.parse::<u16>().is_ok(),
    }
}

/// The common case without a parse (which allocates): a registered name or IPv4 address of
/// letters, digits, dots and dashes, with a port of 1 to 5 digits or none. Anything else goes
/// through the full authority parse.
fn is_plain_host(host: &[u8]) -> bool {
    let (name, port) = match host.iter().position(|&b| b == b':') {
        Some(colon) => (&host[..colon], Some(&host[colon + 1..])),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    let port_ok = port.is_none_or(|port| {
        (1..=5).contains(&port.len())
            && port.iter().all(u8::is_ascii_digit)
            && std::str::from_utf8(port)
                .ok()
                .and_then(|port| port.parse::<u16>().ok())
                .is_some()
    });
    name_ok && port_ok
}

/// What hyper lets through but an HTTP/1.1 server must refuse (RFC 9112 3.2 and 6.1): a
/// missing, repeated or invalid `Host`, and transfer codings other than a single `chunked`
/// (hyper has already refused those that do not end with `chunked`).
fn check_head(parts: &http::request::Parts) -> Result<(), HttpError> {
    let bad = |message| Err(HttpError::new(StatusCode::BAD_REQUEST, message));
    if parts.version == http::Version::HTTP_11 {
        let mut hosts = parts.headers.get_all(header::HOST).iter();
        match (hosts.next(), hosts.next()) {
            (None, _) => return bad("no Host header"),
            (Some(_), Some(_)) => return bad("more than one Host header"),
            (Some(host), None) => {
                let valid = host.is_empty() || host.to_str().ok().is_some_and(valid_host);
                if !valid {
                    return bad("invalid Host header");
                }
            }
        }
    }
    let mut codings = 0;
    let mut chunked = 0;
    for value in parts.headers.get_all(header::TRANSFER_ENCODING) {
        let Ok(value) = value.to_str() else {
            return bad("invalid Transfer-Encoding");
        };
        for coding in value.split(',').map(str::trim).filter(|c| !c.is_empty()) {
            codings += 1;
            if coding.eq_ignore_ascii_case("chunked") {
                chunked += 1;
            }
        }
    }
    if chunked > 1 {
        return bad("chunked applied more than once");
    }
    if codings > chunked {
        return Err(HttpError::new(
            StatusCode::NOT_IMPLEMENTED,
            "transfer codings other than chunked are not supported",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{is_parsed_host, is_plain_host, valid_host};

    #[test]
    fn the_fast_path_accepts_only_what_the_parse_accepts() {
        let hosts = [
            "localhost",
            "example.com",
            "example.com:8080",
            "127.0.0.1",
            "127.0.0.1:80",
            "a-b.c",
            "x:0",
            "x:65535",
            "x:65536",
            "x:99999",
            "x:123456",
            "x:",
            ":80",
            "",
            "a b",
            "a@b",
            "user@host:80",
            "[::1]",
            "[::1]:8080",
            "ex_ample.com",
            "é.com",
            "host:80:90",
            "host:8a",
            "-",
            "a..b",
        ];
        for host in hosts {
            if is_plain_host(host.as_bytes()) {
                assert!(is_parsed_host(host), "fast path accepted {host:?}");
            }
            assert_eq!(valid_host(host), is_parsed_host(host), "{host:?}");
        }
    }
}

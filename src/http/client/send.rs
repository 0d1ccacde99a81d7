//! Sending one request on a leased connection and handing back its response.

use std::time::{Duration, Instant};

use http::{HeaderValue, Request, Response, Uri, header};
use http_body::Body as _;

use crate::Error;
use crate::http::Body;

use super::pool::{Key, Lease, Pool, Sender};
use super::request::ClientRequest;
use super::timeout::{self, Phase};

/// Sends `request`, retrying once on a fresh connection when a reused one turns out closed
/// before any byte of the response came (idempotent methods only).
///
/// Not an `async fn`, for the reason `execute`'s docs give.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would store its argument twice"
)]
pub(crate) fn send(
    pool: &Pool,
    request: ClientRequest,
) -> impl std::future::Future<Output = Result<Response<Body>, Error>> + Send + '_ {
    async move {
        if let Some(error) = request.error {
            return Err(error);
        }
        let uri = request.uri?;
        let mut key = key_of(&uri)?;
        key.unix_socket = request.unix_socket.clone();
        let options = pool.options();
        let total = request.total_timeout.or(options.total_timeout);
        let started = Instant::now();
        let head_limit = request.request_timeout.or(options.request_timeout);
        let read_limit = request.read_timeout.or(options.read_timeout);
        let mut headers = request.headers;
        if let Some(agent) = &options.user_agent {
            headers
                .entry(header::USER_AGENT)
                .or_insert_with(|| agent.clone());
        }
        let continue_wait = request.expect_continue;
        let method = request.method;
        let idempotent = matches!(
            method.as_str(),
            "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE"
        );
        let mut body = Some(request.body);
        let attempt = async {
            let mut tries = 0;
            loop {
                tries += 1;
                let lease = pool.acquire(&key).await?;
                let reused = lease.reused;
                // A body that is not replayable cannot be retried; an empty one can.
                let this_body = body.take().unwrap_or_default();
                let replayable = this_body.is_end_stream();
                let mut built = Request::new(this_body);
                *built.method_mut() = method.clone();
                *built.headers_mut() = headers.clone();
                match send_on(
                    lease,
                    built,
                    &uri,
                    &key,
                    head_limit,
                    continue_wait,
                    options.proxy.as_ref(),
                )
                .await
                {
                    Ok(response) => return Ok(response),
                    Err(Failure::BeforeResponse(error))
                        if reused && idempotent && replayable && tries == 1 =>
                    {
                        log::debug!(
                            "weir: http client: retrying on a fresh connection to {key}: {error}"
                        );
                        body = Some(Body::empty());
                        continue;
                    }
                    Err(Failure::BeforeResponse(error) | Failure::Other(error)) => {
                        return Err(error);
                    }
                }
            }
        };
        let response = match crate::runtime::timeout_if(total, attempt).await {
            Ok(outcome) => outcome?,
            Err(_) => {
                let limit = total.unwrap_or_default();
                return Err(timeout::error(Phase::Total, &authority(&key), limit));
            }
        };
        let (parts, mut body) = response.into_parts();
        if let Some(limit) = options.max_response_body_size {
            body.set_limit(limit);
        }
        let read_deadline = match (read_limit, total) {
            (Some(read), Some(total)) => {
                let by_total = started + total;
                let by_read = Instant::now() + read;
                if by_read <= by_total {
                    Some((by_read, timeout::error(Phase::Read, &authority(&key), read)))
                } else {
                    Some((
                        by_total,
                        timeout::error(Phase::Total, &authority(&key), total),
                    ))
                }
            }
            (Some(read), None) => Some((
                Instant::now() + read,
                timeout::error(Phase::Read, &authority(&key), read),
            )),
            (None, Some(total)) => Some((
                started + total,
                timeout::error(Phase::Total, &authority(&key), total),
            )),
            (None, None) => None,
        };
        if let Some((at, error)) = read_deadline {
            body.set_deadline(at, error);
        }
        Ok(Response::from_parts(parts, body))
    }
}

enum Failure {
    /// The connection failed before any byte of the response: safe to retry.
    BeforeResponse(Error),
    Other(Error),
}

async fn send_on(
    mut lease: Lease,
    mut request: Request<Body>,
    uri: &Uri,
    key: &Key,
    head_limit: Option<Duration>,
    continue_wait: Option<Duration>,
    proxy: Option<&super::Proxy>,
) -> Result<Response<Body>, Failure> {
    let sender = lease.sender.take().expect("a fresh lease has its sender");
    match sender {
        Sender::Http1(mut sender) => {
            // Origin form and a Host header over HTTP/1.1; absolute form to an HTTP proxy.
            match proxy.filter(|proxy| proxy.forwards_plain(key)) {
                Some(proxy) => {
                    *request.uri_mut() = uri.clone();
                    if let Some(authorization) = proxy.authorization() {
                        request
                            .headers_mut()
                            .insert(header::PROXY_AUTHORIZATION, authorization);
                    }
                }
                None => {
                    let path = uri.path_and_query().map_or("/", |p| p.as_str());
                    *request.uri_mut() = path.parse().map_err(|error| {
                        Failure::Other(Error::msg(format!("invalid request target: {error}")))
                    })?;
                }
            }
            if !request.headers().contains_key(header::HOST) {
                let host = host_header(uri, key);
                request.headers_mut().insert(header::HOST, host);
            }
            if let Some(wait) = continue_wait {
                gate_on_continue(&mut request, wait);
            }
            if let Err(error) = sender.ready().await {
                return Err(Failure::BeforeResponse(crate::http::error::from_hyper(
                    error,
                )));
            }
            let sending = sender.try_send_request(request);
            let outcome = with_head_limit(head_limit, key, async {
                sending.await.map_err(|mut error| {
                    let unsent = error.take_message().is_some();
                    let error = error.into_error();
                    // Sent, but the connection was found closed before any response: a
                    // kept-alive connection the server closed meanwhile.
                    let no_response = closed_before_response(&error);
                    let error = crate::http::error::from_hyper(error);
                    if unsent || no_response {
                        Failure::BeforeResponse(error)
                    } else {
                        Failure::Other(error)
                    }
                })
            })
            .await?;
            let close = wants_close(outcome.headers());
            lease.sender = Some(Sender::Http1(sender));
            let (parts, incoming) = outcome.into_parts();
            let mut body = Body::from_http_body(ResponseBody {
                inner: incoming,
                host: authority(key),
            });
            if body.is_end_stream() {
                lease.release(!close);
            } else {
                body.on_end(move |ended| lease.release(ended && !close));
            }
            Ok(Response::from_parts(parts, body))
        }
        #[cfg(feature = "http2")]
        Sender::Http2(sender) => {
            *request.uri_mut() = uri.clone();
            request.headers_mut().remove(header::HOST);
            let mut sender = sender.ready().await.map_err(|error| {
                lease.retire();
                Failure::BeforeResponse(crate::http::error::from_h2(error))
            })?;
            let (mut parts, mut body) = request.into_parts();
            let end = body.is_end_stream();
            // `Expect: 100-continue`: the body waits for the server's 100 (or `wait`); a final
            // response first means it is not sent, unless that response is a success (the
            // server then wants the body without having said 100).
            let expect = continue_wait.filter(|_| !end);
            if expect.is_some() {
                parts
                    .headers
                    .insert(header::EXPECT, HeaderValue::from_static("100-continue"));
            }
            let (mut responding, mut send_stream) = sender
                .send_request(Request::from_parts(parts, ()), end)
                .map_err(|error| {
                    lease.retire();
                    Failure::BeforeResponse(crate::http::error::from_h2(error))
                })?;
            // Realized true by a 100 or a successful final response, false by another one.
            let go_ahead: crate::Deferred<bool, Error> = crate::Deferred::new().quiet();
            let decided = go_ahead.realizer();
            let upload = async move {
                if end {
                    return;
                }
                if let Some(wait) = expect {
                    match crate::runtime::timeout(wait, go_ahead).await {
                        Ok(Ok(false)) | Ok(Err(_)) => return,
                        Ok(Ok(true)) | Err(_) => {}
                    }
                }
                if let Err(error) = crate::http::h2::send_body(&mut send_stream, &mut body).await {
                    log::debug!("weir: http/2 client: the request body ended early: {error}");
                    send_stream.send_reset(h2::Reason::CANCEL);
                }
            };
            let head = with_head_limit(head_limit, key, async {
                let outcome = futures_lite::future::poll_fn(|cx| {
                    if expect.is_some() {
                        while let std::task::Poll::Ready(Some(Ok(informational))) =
                            responding.poll_informational(cx)
                        {
                            if informational.status() == http::StatusCode::CONTINUE {
                                decided.success(true);
                            }
                        }
                    }
                    std::pin::Pin::new(&mut responding).poll(cx)
                })
                .await;
                let success = outcome
                    .as_ref()
                    .is_ok_and(|response| response.status().is_success());
                decided.success(success);
                outcome.map_err(|error| {
                    // Refused, cut off by a GOAWAY or a connection lost, all before the
                    // response head: as for HTTP/1.1, an idempotent request on a reused
                    // connection may go again.
                    let connection_lost = error.is_go_away() || error.is_io();
                    if connection_lost {
                        // Going away (or gone): no more requests on it; those in flight
                        // finish.
                        lease.retire();
                    }
                    let unprocessed =
                        connection_lost || error.reason() == Some(h2::Reason::REFUSED_STREAM);
                    let error = match lease.kill.why() {
                        Some(why) => Error::closed(format!(
                            "http/2 connection to {} ({why})",
                            authority(key)
                        )),
                        None => crate::http::error::from_h2(error),
                    };
                    if unprocessed {
                        Failure::BeforeResponse(error)
                    } else {
                        Failure::Other(error)
                    }
                })
            });
            // The body uploads while the head is awaited (a server may answer first).
            let (head, ()) = futures_lite::future::zip(head, upload).await;
            let response = head?;
            let (parts, recv) = response.into_parts();
            let mut body = Body::h2(recv, None);
            // The stream counts against the connection's limit until its body ends.
            if let Some(slot) = lease.stream.take() {
                body.on_end(move |_| drop(slot));
            }
            drop(lease);
            Ok(Response::from_parts(parts, body))
        }
    }
}

/// Holds the body of an `Expect: 100-continue` request back until the server's `100
/// Continue` arrives, or `wait` passes (servers that ignore the expectation).
fn gate_on_continue(request: &mut Request<Body>, wait: Duration) {
    use http_body::Body as _;
    if request.body().is_end_stream() {
        request.headers_mut().remove(header::EXPECT);
        return;
    }
    request
        .headers_mut()
        .insert(header::EXPECT, HeaderValue::from_static("100-continue"));
    let continued: crate::Deferred<(), Error> = crate::Deferred::new().quiet();
    let on_100 = continued.realizer();
    hyper::ext::on_informational(request, move |informational| {
        if informational.status() == http::StatusCode::CONTINUE {
            on_100.success(());
        }
    });
    let body = std::mem::take(request.body_mut());
    let gated = crate::Deferred::spawn(async move {
        let _ = crate::runtime::timeout(wait, continued).await;
        Ok::<_, Error>(body)
    });
    *request.body_mut() = Body::from_deferred(gated);
}

async fn with_head_limit<T>(
    limit: Option<Duration>,
    key: &Key,
    work: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    match crate::runtime::timeout_if(limit, work).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::Other(timeout::error(
            Phase::Request,
            &authority(key),
            limit.unwrap_or_default(),
        ))),
    }
}

/// True when hyper failed because the connection closed (or was reset) before any byte of
/// the response: a parse error or a timeout means the server did answer something.
fn closed_before_response(error: &hyper::Error) -> bool {
    if error.is_incomplete_message() || error.is_canceled() || error.is_closed() {
        return true;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            );
        }
        source = cause.source();
    }
    false
}

/// An HTTP/1.1 response body with its errors given their kind: cut short (the connection
/// closed before its length) is `is_closed`, malformed (a bad chunk size) is `is_protocol`,
/// both naming the host and the cause.
struct ResponseBody {
    inner: hyper::body::Incoming,
    host: String,
}

impl http_body::Body for ResponseBody {
    type Data = bytes::Bytes;
    type Error = Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, Error>>> {
        let this = self.get_mut();
        std::pin::Pin::new(&mut this.inner)
            .poll_frame(cx)
            .map_err(|error| body_error(error, &this.host))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn body_error(error: hyper::Error, host: &str) -> Error {
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    return Error::closed(format!(
                        "http connection to {host} (the response body was cut short: {io})"
                    ));
                }
                std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput => {
                    return Error::protocol(format!(
                        "http: malformed response body from {host}: {io}"
                    ));
                }
                _ => {}
            }
        }
        source = cause.source();
    }
    crate::http::error::from_hyper(error)
}

fn wants_close(headers: &http::HeaderMap) -> bool {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case("close"))
}

fn authority(key: &Key) -> String {
    format!("{}:{}", key.host, key.port)
}

fn host_header(uri: &Uri, key: &Key) -> HeaderValue {
    let default_port = if key.https { 443 } else { 80 };
    let host = uri.host().unwrap_or(&key.host);
    let text = if key.port == default_port {
        host.to_string()
    } else {
        format!("{host}:{}", key.port)
    };
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("localhost"))
}

/// The pool key of an absolute URI.
pub(crate) fn key_of(uri: &Uri) -> Result<Key, Error> {
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(Error::msg(format!("unsupported URL scheme in {uri}"))),
    };
    let host = uri
        .host()
        .ok_or_else(|| Error::msg(format!("no host in {uri}")))?
        .to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    Ok(Key {
        https,
        host,
        port,
        unix_socket: None,
    })
}

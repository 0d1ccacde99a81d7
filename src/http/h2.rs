//! HTTP/2 connections, served by driving the h2 crate directly (tokio only as its I/O traits,
//! through tokio-util's compat layer): one task per stream, so responses of many streams go
//! out together.

use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body as _;
use tokio_util::compat::FuturesAsyncReadCompatExt as _;

use crate::Error;
use crate::runtime;
use crate::tcp::ConnectionInfo;
use crate::tcp::accept::ConnectionGuard;

use super::activity::{Activity, InFlight};
use super::body::Body;
use super::introspection::Registration;
use super::keep_alive::KeepAlive;
use super::server::{Answer, Shared};
use super::timer::Deadline;

/// Serves HTTP/2 on `io` until the client goes, the connection idles out, or the server
/// shuts down (GOAWAY, then in-flight streams finish).
pub(crate) async fn serve<T>(
    io: T,
    shared: Arc<Shared>,
    info: Arc<ConnectionInfo>,
    guard: ConnectionGuard,
    registration: Registration,
) where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let settings = &shared.http2_settings;
    let mut builder = h2::server::Builder::new();
    builder
        .initial_window_size(settings.initial_stream_window_size)
        .initial_connection_window_size(settings.initial_connection_window_size)
        .max_frame_size(settings.max_frame_size)
        .max_header_list_size(settings.max_header_list_size)
        .max_concurrent_streams(settings.max_concurrent_streams)
        .max_send_buffer_size(settings.max_send_buffer_size);
    let handshake = builder.handshake::<_, Bytes>(io.compat());
    let handshake = match shared.header_read_timeout {
        Some(timeout) => runtime::timeout(timeout, async {
            handshake.await.map_err(super::error::from_h2)
        })
        .await
        .and_then(|outcome| outcome),
        None => handshake.await.map_err(super::error::from_h2),
    };
    let mut connection = match handshake {
        Ok(connection) => connection,
        Err(error) => {
            log::debug!(
                "weir: http/2 handshake with {} failed: {error}",
                info.remote_addr()
            );
            return;
        }
    };
    let activity = Arc::new(Activity::new());
    registration.set_activity(&activity);
    let mut draining = Some(guard.draining());
    let mut aborted = guard.aborted();
    let idle_timeout = shared.idle_timeout;
    let mut idle = idle_timeout.map(|timeout| Deadline::new(Instant::now() + timeout));
    let mut ping = settings.keep_alive_interval.and_then(|interval| {
        connection
            .ping_pong()
            .map(|pong| KeepAlive::new(pong, interval, settings.keep_alive_timeout))
    });
    let mut closing = false;
    // Set once the idle timeout has started a graceful shutdown.
    let mut idle_closing = false;
    // Requests taken from the connection and not yet started. Each `poll_accept` also writes
    // what the streams have queued: answering a request at once, before taking the next, would
    // write (and try a read) once per request. Taking every request that has arrived first
    // answers them all in one write.
    let mut batch: Vec<Accepted> = Vec::new();
    loop {
        let event = futures_lite::future::poll_fn(|cx| {
            loop {
                match connection.poll_accept(cx) {
                    Poll::Ready(Some(Ok(accepted))) => {
                        batch.push(accepted);
                        if batch.len() >= MAX_ACCEPT_BATCH {
                            return Poll::Ready(Event::Batch);
                        }
                    }
                    Poll::Ready(Some(Err(error))) => return Poll::Ready(Event::Ended(Some(error))),
                    Poll::Ready(None) => return Poll::Ready(Event::Ended(None)),
                    Poll::Pending => break,
                }
            }
            if !batch.is_empty() {
                return Poll::Ready(Event::Batch);
            }
            if let Some(drain) = &mut draining {
                if Pin::new(drain).poll(cx).is_ready() {
                    draining = None;
                    return Poll::Ready(Event::Drain);
                }
            }
            if Pin::new(&mut aborted).poll(cx).is_ready() {
                return Poll::Ready(Event::Abort);
            }
            if let (Some(deadline), Some(timeout)) = (&mut idle, idle_timeout) {
                if Pin::new(&mut *deadline).poll(cx).is_ready() {
                    match activity.idle_deadline(timeout) {
                        // Still idle a timeout after the GOAWAY: a peer that does not answer
                        // the shutdown's PING would keep the connection open for ever.
                        None if idle_closing => {
                            idle = None;
                            return Poll::Ready(Event::Abort);
                        }
                        None => {
                            idle_closing = true;
                            deadline.reset(Instant::now() + timeout);
                            return Poll::Ready(Event::Drain);
                        }
                        Some(next) => deadline.reset(next),
                    }
                    // Poll the reset deadline so that it wakes us.
                    let _ = Pin::new(&mut *deadline).poll(cx);
                }
            }
            if let Some(keep_alive) = &mut ping {
                if let Poll::Ready(alive) = keep_alive.poll(cx) {
                    if !alive {
                        return Poll::Ready(Event::Abort);
                    }
                }
            }
            Poll::Pending
        })
        .await;
        for (request, respond) in batch.drain(..) {
            let in_flight = activity.start();
            if let Some(rest) = start_stream(&shared, &info, request, respond, in_flight) {
                runtime::spawn_detached_on(shared.executor.clone().as_ref(), rest);
            }
        }
        match event {
            Event::Batch => {}
            Event::Ended(Some(error)) => {
                log::debug!(
                    "weir: http/2 connection from {}: {error}",
                    info.remote_addr()
                );
                break;
            }
            Event::Ended(None) => break,
            Event::Drain => {
                if !closing {
                    closing = true;
                    connection.graceful_shutdown();
                }
            }
            Event::Abort => {
                connection.abrupt_shutdown(h2::Reason::NO_ERROR);
                // Let the GOAWAY out, briefly.
                let _ = runtime::timeout(std::time::Duration::from_millis(100), async {
                    futures_lite::future::poll_fn(|cx| connection.poll_closed(cx)).await
                })
                .await;
                break;
            }
        }
    }
    // Off the graph before the guard lets a closing server finish.
    drop(registration);
    drop(guard);
}

type Accepted = (Request<h2::RecvStream>, h2::server::SendResponse<Bytes>);

/// The most requests taken from a connection before they are started.
const MAX_ACCEPT_BATCH: usize = 256;

enum Event {
    /// Requests were taken into the batch.
    Batch,
    /// The connection ended, with its error if it failed.
    Ended(Option<h2::Error>),
    Drain,
    Abort,
}

/// Starts one stream, in the connection's task: a handler that answers at once, with a body
/// in memory, is answered here (no task, no future); anything else goes on in the returned
/// future, which the caller spawns (one task per stream, so responses of many streams go out
/// together).
fn start_stream(
    shared: &Arc<Shared>,
    info: &Arc<ConnectionInfo>,
    request: Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    in_flight: InFlight,
) -> Option<impl Future<Output = ()> + Send + 'static> {
    let stream_id = respond.stream_id().as_u32();
    let request_info = shared.request_info(info, Some(stream_id), None);
    let is_head = request.method() == Method::HEAD;
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(request_info);
    // `Expect: 100-continue`: the 100 goes out when the handler first reads the body (as
    // hyper does over HTTP/1.1), so a request refused first never has its body sent.
    let mut wanted = (!body.is_end_stream()
        && parts
            .headers
            .get(header::EXPECT)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"100-continue")))
    .then(|| crate::Deferred::<(), Error>::new().quiet());
    let body = Body::h2_wanted(body, shared.max_request_body_size, wanted.clone());
    let request = Request::from_parts(parts, body);
    let answered = match shared.answer(request) {
        Answer::Now(response) => Ok(send_head(&mut respond, response, is_head, stream_id)?),
        Answer::Later(handler) => Err(handler),
    };
    Some(async move {
        let (mut send, mut body) = match answered {
            Ok(sent) => sent,
            Err(mut handler) => {
                let answer = futures_lite::future::poll_fn(|cx| {
                    if let Poll::Ready(response) = handler.as_mut().poll(cx) {
                        return Poll::Ready(Some(response));
                    }
                    if let Some(first_read) = &mut wanted {
                        if Pin::new(first_read).poll(cx).is_ready() {
                            wanted = None;
                            let mut continue_100 = Response::new(());
                            *continue_100.status_mut() = StatusCode::CONTINUE;
                            let _ = respond.send_informational(continue_100);
                        }
                    }
                    // A client that resets the stream cancels the handler.
                    match respond.poll_reset(cx) {
                        Poll::Ready(_) => Poll::Ready(None),
                        Poll::Pending => Poll::Pending,
                    }
                })
                .await;
                let Some(response) = answer else {
                    return;
                };
                match send_head(&mut respond, response, is_head, stream_id) {
                    Some(sent) => sent,
                    None => return,
                }
            }
        };
        if let Err(error) = send_body(&mut send, &mut body).await {
            log::debug!("weir: http/2 stream {stream_id}: the response body ended early: {error}");
            send.send_reset(h2::Reason::INTERNAL_ERROR);
        }
        drop(in_flight);
    })
}

/// Sends the response's head, and its body too when it has none or it is small and in memory
/// (`None` then, or when the stream is gone); else the stream and the body still to send.
fn send_head(
    respond: &mut h2::server::SendResponse<Bytes>,
    response: Response<Body>,
    is_head: bool,
    stream_id: u32,
) -> Option<(h2::SendStream<Bytes>, Body)> {
    let (mut parts, mut body) = response.into_parts();
    strip_connection_headers(&mut parts.headers);
    let no_body = is_head
        || parts.status == StatusCode::NO_CONTENT
        || parts.status == StatusCode::NOT_MODIFIED
        || parts.status.is_informational();
    if !parts.headers.contains_key(header::CONTENT_LENGTH)
        && parts.status != StatusCode::NO_CONTENT
        && parts.status != StatusCode::NOT_MODIFIED
    {
        if let Some(length) = body.size_hint().exact() {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        }
    }
    let end_of_stream = no_body || body.is_end_stream();
    // Small and in memory: h2 queues it until the window allows, with no task to wait.
    let in_memory = match end_of_stream {
        true => None,
        false => body.take_in_memory(SMALL_LAST_CHUNK),
    };
    let head_ends = end_of_stream || in_memory.as_ref().is_some_and(Bytes::is_empty);
    let mut send = match respond.send_response(Response::from_parts(parts, ()), head_ends) {
        Ok(send) => send,
        Err(error) => {
            log::debug!("weir: http/2 stream {stream_id}: sending the response failed: {error}");
            return None;
        }
    };
    if head_ends {
        return None;
    }
    if let Some(data) = in_memory {
        if let Err(error) = send.send_data(data, true) {
            log::debug!("weir: http/2 stream {stream_id}: sending the body failed: {error}");
        }
        return None;
    }
    Some((send, body))
}

/// A last chunk this small is sent without waiting for window first.
const SMALL_LAST_CHUNK: usize = 16 * 1024;

/// Streams `body` into `send`, asking for window before each chunk.
pub(crate) async fn send_body(
    send: &mut h2::SendStream<Bytes>,
    body: &mut Body,
) -> Result<(), Error> {
    loop {
        let frame = futures_lite::future::poll_fn(|cx| {
            // A reset from the client ends the body at once (its source's puts then fail).
            if let Poll::Ready(reason) = send.poll_reset(cx) {
                return Poll::Ready(Err(match reason {
                    Ok(reason) => {
                        Error::closed(format!("http/2 stream reset by the client: {reason}"))
                    }
                    Err(error) => super::error::from_h2(error),
                }));
            }
            Pin::new(&mut *body).poll_frame(cx).map(Ok)
        })
        .await?;
        match frame {
            None => {
                send.send_data(Bytes::new(), true)
                    .map_err(super::error::from_h2)?;
                return Ok(());
            }
            Some(Err(error)) => return Err(error),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(mut data) => {
                    // The last chunk carries END_STREAM itself (no empty DATA frame after it).
                    let last = body.is_end_stream();
                    if last && data.len() <= SMALL_LAST_CHUNK {
                        // Already in memory and small: h2 queues it until the window allows,
                        // without a capacity round trip.
                        send.send_data(data, true).map_err(super::error::from_h2)?;
                        return Ok(());
                    }
                    while !data.is_empty() {
                        send.reserve_capacity(data.len());
                        let granted = futures_lite::future::poll_fn(|cx| send.poll_capacity(cx))
                            .await
                            .ok_or_else(|| Error::closed("http/2 stream closed"))?
                            .map_err(super::error::from_h2)?;
                        if granted == 0 {
                            continue;
                        }
                        let chunk = data.split_to(granted.min(data.len()));
                        let end = last && data.is_empty();
                        send.send_data(chunk, end).map_err(super::error::from_h2)?;
                    }
                    if last {
                        return Ok(());
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        send.send_trailers(trailers)
                            .map_err(super::error::from_h2)?;
                        return Ok(());
                    }
                }
            },
        }
    }
}

/// HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2): drop them rather than have
/// h2 refuse the response.
fn strip_connection_headers(headers: &mut http::HeaderMap) {
    for name in [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        http::HeaderName::from_static("keep-alive"),
        http::HeaderName::from_static("proxy-connection"),
    ] {
        headers.remove(name);
    }
}

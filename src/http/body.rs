//! `Body`: request and response bodies as weir sources of `Bytes`.

use std::fmt;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use http::HeaderMap;
use http_body::{Frame, SizeHint};

use crate::stream::stage::Stage;
use crate::stream::{Node, Source};
use crate::{Deferred, Error};

use super::error::HttpError;

type BoxStream = Pin<Box<dyn futures_core::Stream<Item = Result<Bytes, Error>> + Send>>;
type BoxBody = Pin<Box<dyn http_body::Body<Data = Bytes, Error = Error> + Send>>;

/// A request or response body: a weir [`Source`] of [`Bytes`] chunks that is also an
/// [`http_body::Body`] (trailers included) and a `futures_core::Stream`.
///
/// On the server, a request's body arrives as it is read from the connection: taking the
/// next chunk is what reads more, so a handler that reads slowly slows the client down (over
/// HTTP/2, flow-control window is given back only as chunks are taken). A body ends cleanly
/// at its end; if the connection fails, the stream is reset or the size limit is crossed, it
/// ends early and the cause is its drain outcome ([`Source::drained`]) and the error of
/// [`to_bytes`](Body::to_bytes).
///
/// As a response body it is built from anything that makes bytes: nothing ([`Body::empty`]),
/// `Bytes`, `String`, `Vec<u8>`, `&'static str` (all through `From`), any weir source of byte
/// chunks ([`Body::from_source`]), any `futures` stream of them ([`Body::from_stream`]), a
/// deferred of any of these ([`Body::from_deferred`]) or another [`http_body::Body`]
/// ([`Body::from_http_body`]). Streamed bodies are sent chunk by chunk as they arrive
/// (chunked transfer-encoding over HTTP/1.1, DATA frames over HTTP/2), with backpressure.
///
/// # Examples
///
/// ```
/// use weir::http::Body;
///
/// # weir::runtime::block_on(async {
/// let body = Body::from("hello");
/// assert_eq!(body.to_bytes(1024).await.unwrap(), "hello");
///
/// let chunks = weir::stream::iter(vec!["a", "b", "c"]);
/// let body = Body::from_source(chunks);
/// assert_eq!(body.to_string(1024).await.unwrap(), "abc");
/// # });
/// ```
pub struct Body {
    kind: Kind,
    /// Received trailers, once the body has ended with some (boxed: a header map is 96 bytes,
    /// and a body is moved several times per request).
    trailers: Option<Box<HeaderMap>>,
    /// Trailers to send after the last chunk (response bodies).
    send_trailers: Option<Deferred<HeaderMap, Error>>,
    /// Bytes yielded so far, and the most allowed (request bodies on the server).
    read: u64,
    limit: Option<u64>,
    /// Set once the body has ended (cleanly or not).
    done: bool,
    /// Whether it ended cleanly.
    end_clean: bool,
    /// Its node in the stream graph, made on first use.
    stage: OnceLock<Stage>,
    /// Keeps the request it answers counted as in flight until the body is dropped.
    in_flight: Option<super::activity::InFlight>,
    /// Told once whether the body was read to its end (a client's pooled connection).
    end_hook: Option<EndHook>,
    /// The body must end by then, or it ends with the error (a client's read timeout).
    deadline: Option<Box<(super::timer::Deadline, Error)>>,
}

/// Called once: with true when the body ends cleanly, with false when it is dropped first or
/// ends with an error.
pub(crate) struct EndHook(Option<Box<dyn FnOnce(bool) + Send>>);

impl EndHook {
    fn fire(&mut self, ended: bool) {
        if let Some(hook) = self.0.take() {
            hook(ended);
        }
    }
}

impl Drop for EndHook {
    fn drop(&mut self) {
        self.fire(false);
    }
}

enum Kind {
    Empty,
    Full(Bytes),
    Incoming(hyper::body::Incoming),
    /// An HTTP/2 request body, and what its first read realizes (the server's cue to send
    /// `100 Continue`).
    #[cfg(feature = "http2")]
    H2(h2::RecvStream, Option<Deferred<(), Error>>),
    Stream(BoxStream),
    Http(BoxBody),
    Deferred(Deferred<Body, Error>),
}

impl Body {
    fn with_kind(kind: Kind) -> Body {
        Body {
            kind,
            trailers: None,
            send_trailers: None,
            read: 0,
            limit: None,
            done: false,
            end_clean: false,
            stage: OnceLock::new(),
            in_flight: None,
            end_hook: None,
            deadline: None,
        }
    }

    /// An empty body.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body::Body as _;
    /// let body = weir::http::Body::empty();
    /// assert!(body.is_end_stream());
    /// ```
    pub fn empty() -> Body {
        Body::with_kind(Kind::Empty)
    }

    /// A body of the chunks of a weir source: each chunk is sent as it arrives (Server-Sent
    /// Events are not held back). If the source drains with an error, the body ends with it
    /// (an HTTP/1.1 response is cut off without its last chunk, an HTTP/2 stream is reset), so a
    /// client never takes a truncated body for a whole one.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::Body;
    /// use weir::stream::Channel;
    ///
    /// # weir::runtime::block_on(async {
    /// let chunks = Channel::new(4);
    /// let body = Body::from_source(chunks.clone());
    /// chunks.put("event 1\n").await.unwrap();
    /// chunks.put("event 2\n").await.unwrap();
    /// drop(chunks);
    /// assert_eq!(body.to_string(1024).await.unwrap(), "event 1\nevent 2\n");
    /// # });
    /// ```
    pub fn from_source<S>(source: S) -> Body
    where
        S: Source + 'static,
        S::Item: Into<Bytes>,
    {
        let mut source = source;
        // The body only takes: the source ends when its producers are done with it.
        source.release_put_role();
        let drained = source.drained();
        Body::with_kind(Kind::Stream(Box::pin(SourceChunks {
            source: Box::pin(source),
            drained: Some(drained),
        })))
    }

    /// A body of the chunks of a `futures` stream; an `Err` item ends the body with that error.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::Body;
    ///
    /// # weir::runtime::block_on(async {
    /// let chunks = futures::stream::iter(vec![Ok::<_, std::io::Error>("a"), Ok("b")]);
    /// assert_eq!(Body::from_stream(chunks).to_string(64).await.unwrap(), "ab");
    /// # });
    /// ```
    pub fn from_stream<St, B, E>(stream: St) -> Body
    where
        St: futures_core::Stream<Item = Result<B, E>> + Send + 'static,
        B: Into<Bytes>,
        E: Into<Error>,
    {
        Body::with_kind(Kind::Stream(Box::pin(StreamChunks { stream })))
    }

    /// A body that is not known yet: the deferred's body once it is realized, or its error.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::Deferred;
    /// use weir::http::Body;
    ///
    /// # weir::runtime::block_on(async {
    /// let later = Deferred::new();
    /// let realizer = later.realizer();
    /// let body = Body::from_deferred(later);
    /// realizer.success(Body::from("ready"));
    /// assert_eq!(body.to_string(64).await.unwrap(), "ready");
    /// # });
    /// ```
    pub fn from_deferred(body: Deferred<Body, Error>) -> Body {
        Body::with_kind(Kind::Deferred(body))
    }

    /// Any other [`http_body::Body`] (an axum or tower-http body, say) as a weir body.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::Body;
    ///
    /// # weir::runtime::block_on(async {
    /// let inner = Body::from("wrapped");
    /// assert_eq!(Body::from_http_body(inner).to_string(64).await.unwrap(), "wrapped");
    /// # });
    /// ```
    pub fn from_http_body<B>(body: B) -> Body
    where
        B: http_body::Body + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        Body::with_kind(Kind::Http(Box::pin(ForeignBody { body })))
    }

    pub(crate) fn incoming(body: hyper::body::Incoming, limit: Option<u64>) -> Body {
        let mut body = Body::with_kind(Kind::Incoming(body));
        body.limit = limit;
        body
    }

    #[cfg(feature = "http2")]
    pub(crate) fn h2(body: h2::RecvStream, limit: Option<u64>) -> Body {
        Body::h2_wanted(body, limit, None)
    }

    /// [`h2`](Self::h2), with `wanted` realized when the body is first read.
    #[cfg(feature = "http2")]
    pub(crate) fn h2_wanted(
        body: h2::RecvStream,
        limit: Option<u64>,
        wanted: Option<Deferred<(), Error>>,
    ) -> Body {
        let mut body = Body::with_kind(Kind::H2(body, wanted));
        body.limit = limit;
        body
    }

    /// Sends `trailers` after the last chunk: over HTTP/2 always, over HTTP/1.1 when the body
    /// is chunked and the request said `TE: trailers` (otherwise they are dropped, as RFC 9110
    /// allows); over HTTP/1.1 only the fields the response's `Trailer` header names are sent.
    /// The deferred may be realized while the body streams (a checksum of what was
    /// sent, say); the response ends once it is. If it fails, the body ends with its error.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body_util::BodyExt;
    /// use weir::Deferred;
    /// use weir::http::{Body, HeaderMap};
    ///
    /// # weir::runtime::block_on(async {
    /// let mut trailers = HeaderMap::new();
    /// trailers.insert("x-checksum", "42".parse().unwrap());
    /// let body = Body::from("data").with_trailers(Deferred::succeeded(trailers));
    /// let collected = body.collect().await.unwrap();
    /// assert_eq!(collected.trailers().unwrap()["x-checksum"], "42");
    /// # });
    /// ```
    pub fn with_trailers(mut self, trailers: Deferred<HeaderMap, Error>) -> Body {
        self.send_trailers = Some(trailers);
        self
    }

    /// The trailers that ended the body, once it has ended with some (HTTP/2, or chunked
    /// HTTP/1.1).
    ///
    /// # Examples
    ///
    /// ```
    /// let body = weir::http::Body::from("no trailers");
    /// assert!(body.trailers().is_none());
    /// ```
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_deref()
    }

    /// The number of bytes taken from the body so far.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// # weir::runtime::block_on(async {
    /// let mut body = weir::http::Body::from("abc");
    /// body.next().await;
    /// assert_eq!(body.bytes_read(), 3);
    /// # });
    /// ```
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The whole body, at most `limit` bytes: a longer body is an error (an [`HttpError`] with
    /// status 413, so a handler that returns it answers `413 Payload Too Large`), and so is a
    /// body that ended early. Trailers are kept ([`Body::trailers`] is not reachable once the
    /// body is consumed; use [`Body::collect_with_trailers`] for them).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the body: what was read is lost and the rest is not read.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::Body;
    ///
    /// # weir::runtime::block_on(async {
    /// assert_eq!(Body::from("hello").to_bytes(5).await.unwrap(), "hello");
    /// let too_long = Body::from("hello").to_bytes(4).await.unwrap_err();
    /// assert_eq!(weir::http::HttpError::status_of(&too_long), Some(weir::http::StatusCode::PAYLOAD_TOO_LARGE));
    /// # });
    /// ```
    pub async fn to_bytes(self, limit: usize) -> Result<Bytes, Error> {
        self.collect_with_trailers(limit)
            .await
            .map(|(bytes, _)| bytes)
    }

    /// The whole body (at most `limit` bytes, as [`Body::to_bytes`]) and its trailers.
    ///
    /// # Cancel safety
    ///
    /// As [`Body::to_bytes`].
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::Deferred;
    /// use weir::http::{Body, HeaderMap};
    ///
    /// # weir::runtime::block_on(async {
    /// let mut sent = HeaderMap::new();
    /// sent.insert("x-n", "1".parse().unwrap());
    /// let body = Body::from("data").with_trailers(Deferred::succeeded(sent));
    /// let (bytes, trailers) = body.collect_with_trailers(64).await.unwrap();
    /// assert_eq!(bytes, "data");
    /// assert_eq!(trailers.unwrap()["x-n"], "1");
    /// # });
    /// ```
    pub async fn collect_with_trailers(
        mut self,
        limit: usize,
    ) -> Result<(Bytes, Option<HeaderMap>), Error> {
        if let Kind::Full(bytes) = &self.kind {
            if self.send_trailers.is_none() && self.limit.is_none() {
                if bytes.len() > limit {
                    return Err(HttpError::payload_too_large(limit as u64).into());
                }
                let bytes = bytes.clone();
                self.finish(Ok(()));
                return Ok((bytes, None));
            }
        }
        let mut first: Option<Bytes> = None;
        let mut rest = BytesMut::new();
        let mut trailers = None;
        loop {
            let frame = futures_lite::future::poll_fn(|cx| {
                http_body::Body::poll_frame(Pin::new(&mut self), cx)
            })
            .await;
            match frame {
                None => break,
                Some(Err(error)) => return Err(error),
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        let total = first.as_ref().map_or(0, Bytes::len) + rest.len() + data.len();
                        if total > limit {
                            let error: Error = HttpError::payload_too_large(limit as u64).into();
                            self.finish(Err(error.clone()));
                            return Err(error);
                        }
                        match &first {
                            None => first = Some(data),
                            Some(head) => {
                                if rest.is_empty() {
                                    rest.extend_from_slice(head);
                                }
                                rest.extend_from_slice(&data);
                            }
                        }
                    }
                    Err(frame) => {
                        if let Ok(received) = frame.into_trailers() {
                            trailers = Some(received);
                        }
                    }
                },
            }
        }
        let bytes = if rest.is_empty() {
            first.unwrap_or_default()
        } else {
            rest.freeze()
        };
        Ok((bytes, trailers))
    }

    /// The whole body as UTF-8 text, at most `limit` bytes (as [`Body::to_bytes`]); invalid
    /// UTF-8 is an error (an [`HttpError`] with status 400).
    ///
    /// # Cancel safety
    ///
    /// As [`Body::to_bytes`].
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let text = weir::http::Body::from("héllo").to_string(64).await.unwrap();
    /// assert_eq!(text, "héllo");
    /// let invalid = weir::http::Body::from(vec![0xff, 0xfe]).to_string(64).await;
    /// assert!(invalid.is_err());
    /// # });
    /// ```
    #[allow(
        clippy::inherent_to_string_shadow_display,
        reason = "an async collect, not Display"
    )]
    pub async fn to_string(self, limit: usize) -> Result<String, Error> {
        let bytes = self.to_bytes(limit).await?;
        String::from_utf8(bytes.into()).map_err(|error| {
            HttpError::new(
                http::StatusCode::BAD_REQUEST,
                format!("the body is not valid UTF-8: {error}"),
            )
            .into()
        })
    }

    /// The whole body, at most `limit` bytes, parsed as JSON (feature `json`). A body that does
    /// not parse is an [`HttpError`] with status 400.
    ///
    /// # Cancel safety
    ///
    /// As [`Body::to_bytes`].
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let body = weir::http::Body::from(r#"{"n": 42}"#);
    /// let value: serde_json::Value = body.json(1024).await.unwrap();
    /// assert_eq!(value["n"], 42);
    /// # });
    /// ```
    #[cfg(feature = "json")]
    pub async fn json<T: serde::de::DeserializeOwned>(self, limit: usize) -> Result<T, Error> {
        let bytes = self.to_bytes(limit).await?;
        serde_json::from_slice(&bytes).map_err(|error| {
            HttpError::new(
                http::StatusCode::BAD_REQUEST,
                format!("the body is not valid JSON: {error}"),
            )
            .into()
        })
    }

    /// The whole body, at most `limit` bytes, as `application/x-www-form-urlencoded` pairs, in
    /// order, percent-decoded (`+` is a space). Invalid UTF-8 after decoding is an [`HttpError`]
    /// with status 400.
    ///
    /// # Cancel safety
    ///
    /// As [`Body::to_bytes`].
    ///
    /// # Examples
    ///
    /// ```
    /// # weir::runtime::block_on(async {
    /// let body = weir::http::Body::from("name=J%C3%BCrgen&city=New+York&empty=");
    /// let form = body.form(1024).await.unwrap();
    /// assert_eq!(form, vec![
    ///     ("name".to_string(), "Jürgen".to_string()),
    ///     ("city".to_string(), "New York".to_string()),
    ///     ("empty".to_string(), String::new()),
    /// ]);
    /// # });
    /// ```
    pub async fn form(self, limit: usize) -> Result<Vec<(String, String)>, Error> {
        let bytes = self.to_bytes(limit).await?;
        super::form::parse(&bytes)
    }

    pub(crate) fn attach(&mut self, in_flight: super::activity::InFlight) {
        self.in_flight = Some(in_flight);
    }

    /// A copy of a body that is already in memory (empty or bytes), for sending it again.
    pub(crate) fn try_clone(&self) -> Option<Body> {
        if self.send_trailers.is_some() || self.done {
            return None;
        }
        match &self.kind {
            Kind::Empty => Some(Body::empty()),
            Kind::Full(bytes) => Some(Body::from(bytes.clone())),
            _ => None,
        }
    }

    /// The bytes of a body already in memory, at most `max` of them and no trailers to send,
    /// taken out (the body then ends, cleanly): what an HTTP/2 response sends without a task.
    #[cfg(feature = "http2")]
    pub(crate) fn take_in_memory(&mut self, max: usize) -> Option<Bytes> {
        if self.send_trailers.is_some() || self.done {
            return None;
        }
        let bytes = match &mut self.kind {
            Kind::Full(bytes) if bytes.len() <= max => std::mem::take(bytes),
            Kind::Empty => Bytes::new(),
            _ => return None,
        };
        self.kind = Kind::Empty;
        self.finish(Ok(()));
        Some(bytes)
    }

    pub(crate) fn set_limit(&mut self, limit: u64) {
        self.limit = Some(limit);
    }

    pub(crate) fn set_deadline(&mut self, at: std::time::Instant, error: Error) {
        self.deadline = Some(Box::new((super::timer::Deadline::new(at), error)));
    }

    /// Calls `hook` once: true when the body ends cleanly, false when it is dropped first or
    /// fails.
    pub(crate) fn on_end(&mut self, hook: impl FnOnce(bool) + Send + 'static) {
        if self.done {
            hook(self.end_clean);
            return;
        }
        self.end_hook = Some(EndHook(Some(Box::new(hook))));
    }

    /// Records the body's end in its graph node, once.
    fn finish(&mut self, outcome: Result<(), Error>) {
        if !self.done {
            self.done = true;
            self.end_clean = outcome.is_ok();
            if let Some(hook) = &mut self.end_hook {
                hook.fire(outcome.is_ok());
            }
            if let Some(stage) = self.stage.get() {
                stage.finish(outcome);
            }
        }
    }

    fn stage(&self) -> &Stage {
        self.stage.get_or_init(|| {
            let stage = Stage::root("http-body");
            if self.done {
                stage.finish(Ok(()));
            }
            stage
        })
    }

    fn count(&mut self, len: usize) -> Result<(), Error> {
        self.read += len as u64;
        match self.limit {
            Some(limit) if self.read > limit => Err(HttpError::payload_too_large(limit).into()),
            _ => Ok(()),
        }
    }

    /// The next frame of the body itself, trailers to send not included.
    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        loop {
            let frame = match &mut self.kind {
                Kind::Empty => return Poll::Ready(None),
                Kind::Full(bytes) => {
                    let bytes = std::mem::take(bytes);
                    self.kind = Kind::Empty;
                    if bytes.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(bytes))));
                }
                Kind::Incoming(incoming) => {
                    match ready!(http_body::Body::poll_frame(Pin::new(incoming), cx)) {
                        None => None,
                        Some(Ok(frame)) => Some(Ok(frame)),
                        Some(Err(error)) => Some(Err(super::error::from_hyper_body(error))),
                    }
                }
                #[cfg(feature = "http2")]
                Kind::H2(stream, wanted) => match ready!({
                    if let Some(wanted) = wanted.take() {
                        wanted.success(());
                    }
                    stream.poll_data(cx)
                }) {
                    Some(Ok(data)) => {
                        // Taken by the consumer: the peer may send this much more.
                        let _ = stream.flow_control().release_capacity(data.len());
                        Some(Ok(Frame::data(data)))
                    }
                    Some(Err(error)) => Some(Err(super::error::from_h2(error))),
                    None => match ready!(stream.poll_trailers(cx)) {
                        Ok(Some(trailers)) => Some(Ok(Frame::trailers(trailers))),
                        Ok(None) => None,
                        Err(error) => Some(Err(super::error::from_h2(error))),
                    },
                },
                Kind::Stream(stream) => {
                    ready!(stream.as_mut().poll_next(cx)).map(|chunk| chunk.map(Frame::data))
                }
                Kind::Http(body) => ready!(body.as_mut().poll_frame(cx)),
                Kind::Deferred(deferred) => match ready!(Pin::new(deferred).poll(cx)) {
                    Ok(body) => {
                        let trailers = self.send_trailers.take();
                        *self = Body {
                            send_trailers: trailers.or(body.send_trailers),
                            kind: body.kind,
                            ..std::mem::take(self)
                        };
                        continue;
                    }
                    Err(error) => {
                        self.kind = Kind::Empty;
                        Some(Err(error))
                    }
                },
            };
            return Poll::Ready(frame);
        }
    }
}

use std::future::Future as _;

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if this.stage.get().is_some_and(Stage::is_finished) {
            // Closed through `Source::close`.
            this.done = true;
            if let Some(hook) = &mut this.end_hook {
                hook.fire(false);
            }
            return Poll::Ready(None);
        }
        if let Some(deadline) = &mut this.deadline {
            if Pin::new(&mut deadline.0).poll(cx).is_ready() {
                let error = deadline.1.clone();
                this.kind = Kind::Empty;
                this.finish(Err(error.clone()));
                return Poll::Ready(Some(Err(error)));
            }
        }
        match ready!(this.poll_inner(cx)) {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    if let Err(error) = this.count(data.len()) {
                        this.kind = Kind::Empty;
                        this.finish(Err(error.clone()));
                        return Poll::Ready(Some(Err(error)));
                    }
                } else if let Some(trailers) = frame.trailers_ref() {
                    this.trailers = Some(Box::new(trailers.clone()));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Some(Err(error)) => {
                this.kind = Kind::Empty;
                this.send_trailers = None;
                this.finish(Err(error.clone()));
                Poll::Ready(Some(Err(error)))
            }
            None => {
                if let Some(trailers) = &mut this.send_trailers {
                    let outcome = ready!(Pin::new(trailers).poll(cx));
                    this.send_trailers = None;
                    return match outcome {
                        Ok(trailers) => Poll::Ready(Some(Ok(Frame::trailers(trailers)))),
                        Err(error) => {
                            this.finish(Err(error.clone()));
                            Poll::Ready(Some(Err(error)))
                        }
                    };
                }
                this.finish(Ok(()));
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        if self.done {
            return true;
        }
        if self.send_trailers.is_some() {
            return false;
        }
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(bytes) => bytes.is_empty(),
            Kind::Incoming(incoming) => incoming.is_end_stream(),
            #[cfg(feature = "http2")]
            Kind::H2(stream, _) => stream.is_end_stream(),
            Kind::Http(body) => body.is_end_stream(),
            Kind::Stream(_) | Kind::Deferred(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        if self.done {
            return SizeHint::with_exact(0);
        }
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Kind::Incoming(incoming) => incoming.size_hint(),
            #[cfg(feature = "http2")]
            Kind::H2(..) => SizeHint::default(),
            Kind::Http(body) => body.size_hint(),
            Kind::Stream(_) | Kind::Deferred(_) => SizeHint::default(),
        }
    }
}

impl futures_core::Stream for Body {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        loop {
            match ready!(http_body::Body::poll_frame(self.as_mut(), cx)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if !data.is_empty() {
                            return Poll::Ready(Some(data));
                        }
                    }
                    // Trailers are kept on the body; empty chunks are skipped.
                }
                Some(Err(_)) | None => return Poll::Ready(None),
            }
        }
    }
}

impl Source for Body {
    fn node(&self) -> Node {
        self.stage().node()
    }

    fn close(&self) {
        self.stage().close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.stage().drained()
    }
}

impl Default for Body {
    fn default() -> Body {
        Body::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Empty => "empty",
            Kind::Full(_) => "full",
            Kind::Incoming(_) => "http1",
            #[cfg(feature = "http2")]
            Kind::H2(..) => "http2",
            Kind::Stream(_) => "stream",
            Kind::Http(_) => "http-body",
            Kind::Deferred(_) => "deferred",
        };
        f.debug_struct("Body")
            .field("kind", &kind)
            .field("bytes_read", &self.read)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body::with_kind(Kind::Full(bytes))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Body {
        Body::from(Bytes::from(text))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Body {
        Body::from(Bytes::from(bytes))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Body {
        Body::from(Bytes::from_static(text.as_bytes()))
    }
}

impl From<&'static [u8]> for Body {
    fn from(bytes: &'static [u8]) -> Body {
        Body::from(Bytes::from_static(bytes))
    }
}

impl From<()> for Body {
    fn from((): ()) -> Body {
        Body::empty()
    }
}

impl From<Deferred<Body, Error>> for Body {
    fn from(body: Deferred<Body, Error>) -> Body {
        Body::from_deferred(body)
    }
}

/// A weir source's chunks as a stream of results: the drain error, if any, comes last.
struct SourceChunks<S: Source> {
    source: Pin<Box<S>>,
    drained: Option<Deferred<(), Error>>,
}

impl<S> futures_core::Stream for SourceChunks<S>
where
    S: Source,
    S::Item: Into<Bytes>,
{
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.drained.is_none() {
            return Poll::Ready(None);
        }
        match ready!(self.source.as_mut().poll_next(cx)) {
            Some(chunk) => Poll::Ready(Some(Ok(chunk.into()))),
            None => {
                let drained = self.drained.take().expect("checked above");
                match drained.peek() {
                    Some(Err(error)) => Poll::Ready(Some(Err(error))),
                    _ => Poll::Ready(None),
                }
            }
        }
    }
}

impl<S: Source> Drop for SourceChunks<S> {
    /// A body dropped before its source ended (the client went away, reset the stream, or the
    /// response needs no body) closes the source, so that its producer's puts fail instead of
    /// waiting for a reader that is gone.
    fn drop(&mut self) {
        if self.drained.is_some() {
            self.source.close();
            // What is buffered or pending would wait for a taker forever: take it now (a
            // bounded number of chunks, in case the source makes them up as it goes), so a
            // pending put completes and the next one fails.
            let mut cx = Context::from_waker(std::task::Waker::noop());
            for _ in 0..1024 {
                if !matches!(
                    self.source.as_mut().poll_next(&mut cx),
                    Poll::Ready(Some(_))
                ) {
                    break;
                }
            }
        }
    }
}

pin_project_lite::pin_project! {
    /// A futures stream of chunk results with the error converted.
    struct StreamChunks<St> {
        #[pin]
        stream: St,
    }
}

impl<St, B, E> futures_core::Stream for StreamChunks<St>
where
    St: futures_core::Stream<Item = Result<B, E>>,
    B: Into<Bytes>,
    E: Into<Error>,
{
    type Item = Result<Bytes, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project()
            .stream
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map(Into::into).map_err(Into::into)))
    }
}

pin_project_lite::pin_project! {
    /// A foreign `http_body::Body` with its data as `Bytes` and its error as weir's.
    struct ForeignBody<B> {
        #[pin]
        body: B,
    }
}

impl<B> http_body::Body for ForeignBody<B>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        match ready!(self.project().body.poll_frame(cx)) {
            None => Poll::Ready(None),
            Some(Err(error)) => Poll::Ready(Some(Err(Error::from_boxed(error.into())))),
            Some(Ok(frame)) => Poll::Ready(Some(Ok(
                frame.map_data(|mut data| data.copy_to_bytes(data.remaining()))
            ))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

//! Multipart request decoding (feature `multipart`, through multer): [`parts`] turns a
//! `multipart/form-data` request into a weir source of [`Part`]s, each a source of its bytes,
//! under [`Limits`]. It only reads the request's [`Body`], so it works the same over HTTP/1.1
//! and HTTP/2 (Aleph refuses multipart over HTTP/2).
//!
//! ```
//! use weir::http::multipart::{self, Limits};
//! use weir::http::{Body, Request, header};
//! use weir::stream::SourceExt;
//!
//! # weir::runtime::block_on(async {
//! let body = "--XYZ\r\n\
//!     Content-Disposition: form-data; name=\"title\"\r\n\r\n\
//!     hello\r\n\
//!     --XYZ\r\n\
//!     Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
//!     Content-Type: text/plain\r\n\r\n\
//!     file contents\r\n\
//!     --XYZ--\r\n";
//! let request = Request::post("/upload")
//!     .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XYZ")
//!     .body(Body::from(body))
//!     .unwrap();
//! let mut parts = multipart::parts(request, Limits::new()).unwrap();
//! let title = parts.take_next().await.unwrap();
//! assert_eq!(title.name(), Some("title"));
//! assert_eq!(title.to_bytes(1024).await.unwrap(), "hello");
//! let file = parts.take_next().await.unwrap();
//! assert_eq!(file.filename(), Some("a.txt"));
//! assert_eq!(file.content_type(), Some("text/plain"));
//! assert_eq!(file.to_bytes(1024).await.unwrap(), "file contents");
//! assert!(parts.take_next().await.is_none());
//! # });
//! ```

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Request, StatusCode, header};

use crate::stream::{Channel, Node, Source};
use crate::{Deferred, Error};

use super::body::Body;
use super::error::HttpError;

/// Limits on a multipart body; crossing one ends the parts (and the part being read) with a
/// 413 [`HttpError`].
///
/// | limit | default |
/// |---|---|
/// | [`max_parts`](Limits::max_parts) | 128 |
/// | [`max_part_size`](Limits::max_part_size) | 16 MiB |
/// | [`max_total_size`](Limits::max_total_size) | 64 MiB |
///
/// # Examples
///
/// ```
/// use weir::http::multipart::Limits;
/// let limits = Limits::new().max_parts(4).max_part_size(1 << 20).max_total_size(2 << 20);
/// assert_eq!(limits.get_max_parts(), 4);
/// ```
#[derive(Clone, Debug)]
pub struct Limits {
    max_parts: usize,
    max_part_size: u64,
    max_total_size: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new()
    }
}

impl Limits {
    /// The defaults in the [table](Limits).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weir::http::multipart::Limits::new().get_max_parts(), 128);
    /// ```
    pub fn new() -> Limits {
        Limits {
            max_parts: 128,
            max_part_size: 16 << 20,
            max_total_size: 64 << 20,
        }
    }

    /// The most parts a body may hold.
    ///
    /// # Examples
    ///
    /// See [`Limits`].
    pub fn max_parts(mut self, parts: usize) -> Self {
        self.max_parts = parts;
        self
    }

    /// The most parts a body may hold.
    ///
    /// # Examples
    ///
    /// See [`Limits`].
    pub fn get_max_parts(&self) -> usize {
        self.max_parts
    }

    /// The most bytes one part's contents may hold.
    ///
    /// # Examples
    ///
    /// See [`Limits`].
    pub fn max_part_size(mut self, bytes: u64) -> Self {
        self.max_part_size = bytes;
        self
    }

    /// The most bytes the whole body may hold, boundaries and part headers included.
    ///
    /// # Examples
    ///
    /// See [`Limits`].
    pub fn max_total_size(mut self, bytes: u64) -> Self {
        self.max_total_size = bytes;
        self
    }
}

/// Decodes a `multipart/form-data` request into a source of its parts, in order. A part's
/// bytes are read as it is taken from (a slow reader slows the client); the next part comes
/// once the previous one has been read to its end or dropped (its rest is then skipped).
///
/// Fails at once with a 400 [`HttpError`] if the request's `Content-Type` is not multipart
/// with a boundary. Malformed bodies end the parts with a 400, limits crossed with a 413 (as
/// the cause of [`Source::drained`] and, for the part being read, of its
/// [`to_bytes`](Part::to_bytes)); a failing request body passes on its own error (its 413 for
/// the server's body limit, say).
///
/// # Examples
///
/// ```
/// use weir::http::multipart::{self, Limits};
/// use weir::http::{Body, HttpError, Request, StatusCode};
///
/// let request = Request::post("/").body(Body::from("not multipart")).unwrap();
/// let error = multipart::parts(request, Limits::new()).unwrap_err();
/// assert_eq!(HttpError::status_of(&error), Some(StatusCode::BAD_REQUEST));
/// ```
pub fn parts(request: Request<Body>, limits: Limits) -> Result<Parts, Error> {
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| multer::parse_boundary(value).ok())
        .ok_or_else(|| {
            Error::from(HttpError::new(
                StatusCode::BAD_REQUEST,
                "expected a multipart/form-data body with a boundary",
            ))
        })?;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            .whole_stream(limits.max_total_size)
            .per_field(limits.max_part_size),
    );
    let multipart = multer::Multipart::with_constraints(
        BodyChunks::new(request.into_body()),
        boundary,
        constraints,
    );
    let channel = Channel::builder()
        .capacity(1)
        .description("multipart parts")
        .build();
    let mut handle = channel.clone();
    handle.release_put_role();
    crate::runtime::spawn(drive(multipart, channel, limits.max_parts)).detach();
    Ok(Parts { channel: handle })
}

/// Reads the parts and pumps each one's bytes into its channel.
async fn drive(mut multipart: multer::Multipart<'static>, parts: Channel<Part>, max_parts: usize) {
    let mut count = 0;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return parts.close(),
            Err(error) => return parts.close_with_error(convert(error)),
        };
        count += 1;
        if count > max_parts {
            return parts.close_with_error(
                HttpError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("more than {max_parts} multipart parts"),
                )
                .into(),
            );
        }
        let data: Channel<Bytes> = Channel::builder()
            .capacity(4)
            .description("multipart part")
            .build();
        let mut handle = data.clone();
        handle.release_put_role();
        let part = Part {
            name: field.name().map(str::to_string),
            filename: field.file_name().map(str::to_string),
            content_type: field.content_type().map(|mime| mime.to_string()),
            headers: field.headers().clone(),
            data: handle,
        };
        if parts.put(part).await.is_err() {
            // No one takes the parts any more: stop reading.
            return;
        }
        let mut wanted = true;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if wanted && data.put(chunk).await.is_err() {
                        // The part was dropped: skip the rest of it.
                        wanted = false;
                    }
                }
                Ok(None) => {
                    data.close();
                    break;
                }
                Err(error) => {
                    let error = convert(error);
                    data.close_with_error(error.clone());
                    return parts.close_with_error(error);
                }
            }
        }
    }
}

/// multer's errors as weir's: 413 for the limits, the body's own error, else 400.
fn convert(error: multer::Error) -> Error {
    match error {
        multer::Error::FieldSizeExceeded { limit, field_name } => HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "multipart part {} larger than {limit} bytes",
                field_name.as_deref().unwrap_or("(unnamed)")
            ),
        )
        .into(),
        multer::Error::StreamSizeExceeded { limit } => HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("multipart body larger than {limit} bytes"),
        )
        .into(),
        multer::Error::StreamReadFailed(cause) => match cause.downcast::<Error>() {
            Ok(error) => *error,
            Err(cause) => Error::from_boxed(cause),
        },
        other => HttpError::new(
            StatusCode::BAD_REQUEST,
            format!("malformed multipart body: {other}"),
        )
        .into(),
    }
}

/// A body's chunks as results: its drain error, if any, as the last item.
struct BodyChunks {
    body: Body,
    drained: Option<Deferred<(), Error>>,
}

impl BodyChunks {
    fn new(body: Body) -> BodyChunks {
        let drained = body.drained();
        BodyChunks {
            body,
            drained: Some(drained),
        }
    }
}

impl futures_core::Stream for BodyChunks {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.drained.is_none() {
            return Poll::Ready(None);
        }
        match std::task::ready!(Pin::new(&mut self.body).poll_next(cx)) {
            Some(chunk) => Poll::Ready(Some(Ok(chunk))),
            None => match self.drained.take().and_then(|drained| drained.peek()) {
                Some(Err(error)) => Poll::Ready(Some(Err(error))),
                _ => Poll::Ready(None),
            },
        }
    }
}

/// The parts of a multipart body, returned by [`parts`]: a weir [`Source`] of [`Part`]s.
/// Dropping it stops reading the body.
///
/// # Examples
///
/// See [`parts`] and the [module](self).
pub struct Parts {
    channel: Channel<Part>,
}

impl Parts {
    /// The next part, or `None` at the end (or after an error: see [`Source::drained`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a part not yet taken stays for the next call.
    ///
    /// # Examples
    ///
    /// See the [module](self).
    pub async fn take_next(&mut self) -> Option<Part> {
        self.channel.take_next().await
    }
}

impl futures_core::Stream for Parts {
    type Item = Part;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Part>> {
        Pin::new(&mut self.channel).poll_next(cx)
    }
}

impl Source for Parts {
    fn node(&self) -> Node {
        self.channel.node()
    }

    fn close(&self) {
        self.channel.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.channel.drained()
    }
}

impl Drop for Parts {
    fn drop(&mut self) {
        close_and_discard(&mut self.channel);
    }
}

/// Closes `channel` and takes what is buffered or pending, so the driver's waiting put
/// completes (a put pending at the close stays takeable) and its next one fails.
fn close_and_discard<T>(channel: &mut Channel<T>)
where
    T: Send + 'static,
{
    channel.close();
    let mut cx = Context::from_waker(std::task::Waker::noop());
    while let Poll::Ready(Some(_)) =
        futures_core::Stream::poll_next(Pin::new(&mut *channel), &mut cx)
    {}
}

impl fmt::Debug for Parts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Parts").finish_non_exhaustive()
    }
}

/// One part of a multipart body: its name, file name, content type and headers, and a weir
/// [`Source`] of its bytes ([`Body::from_source`] makes a body of it). Dropping it skips the
/// rest of its bytes.
///
/// # Examples
///
/// See the [module](self).
pub struct Part {
    name: Option<String>,
    filename: Option<String>,
    content_type: Option<String>,
    headers: HeaderMap,
    data: Channel<Bytes>,
}

impl Part {
    /// The form field's name (`Content-Disposition: form-data; name=…`).
    ///
    /// # Examples
    ///
    /// See the [module](self).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The file name, for file uploads (`filename=…`).
    ///
    /// # Examples
    ///
    /// See the [module](self).
    pub fn filename(&self) -> Option<&str> {
        self.filename.as_deref()
    }

    /// The part's `Content-Type`, if it has one.
    ///
    /// # Examples
    ///
    /// See the [module](self).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// All the part's headers.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn check(part: &weir::http::multipart::Part) {
    /// assert!(part.headers().contains_key("content-disposition"));
    /// # }
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The part's next chunk of bytes, `None` at its end.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a chunk not yet taken stays for the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// # async fn check(mut part: weir::http::multipart::Part) {
    /// let mut size = 0;
    /// while let Some(chunk) = part.chunk().await {
    ///     size += chunk.len();
    /// }
    /// # let _ = size;
    /// # }
    /// ```
    pub async fn chunk(&mut self) -> Option<Bytes> {
        self.data.take_next().await
    }

    /// All the part's bytes, refusing more than `limit` (a 413 [`HttpError`]); a decoding
    /// error or a crossed [`Limits`] is the error.
    ///
    /// # Examples
    ///
    /// See the [module](self).
    pub async fn to_bytes(mut self, limit: usize) -> Result<Bytes, Error> {
        let mut out = BytesMut::new();
        while let Some(chunk) = self.chunk().await {
            if out.len() + chunk.len() > limit {
                return Err(HttpError::payload_too_large(limit as u64).into());
            }
            out.extend_from_slice(&chunk);
        }
        match self.data.drained().peek() {
            Some(Err(error)) => Err(error),
            _ => Ok(out.freeze()),
        }
    }
}

impl futures_core::Stream for Part {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        Pin::new(&mut self.data).poll_next(cx)
    }
}

impl Source for Part {
    fn node(&self) -> Node {
        self.data.node()
    }

    fn close(&self) {
        self.data.close();
    }

    fn drained(&self) -> Deferred<(), Error> {
        self.data.drained()
    }
}

impl Drop for Part {
    fn drop(&mut self) {
        close_and_discard(&mut self.data);
    }
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name)
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

//! Response compression (feature `compression`): [`Compression`], negotiated by the request's
//! `Accept-Encoding`, applied where the dispatch finishes the response.

use std::pin::Pin;
use std::task::{Context, Poll, Waker, ready};

use async_compression::Level;
use async_compression::futures::write::{BrotliEncoder, GzipEncoder, ZlibEncoder, ZstdEncoder};
use bytes::Bytes;
use futures_io::AsyncWrite;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::{Body as _, Frame, SizeHint};

use crate::Error;

use super::body::Body;

/// Response compression, off unless [`ServerOptions::compression`](super::ServerOptions::compression)
/// sets it: Aleph's `:compression?` and `:compression-options`.
///
/// The coding is chosen by the request's `Accept-Encoding` q-values among the enabled ones
/// (all four by default: `zstd`, `br`, `gzip` and `deflate` (zlib), preferred in that order
/// when the client ranks them equally). `*` stands for any coding not named; `identity;q=0`
/// (or `*;q=0`) is honoured by compressing when possible, and a client that ranks
/// `identity` above every coding gets the body as it is.
///
/// A response is left alone when it is to a `HEAD` request, has no body or a 1xx, 204, 206
/// or 304 status, already has a `Content-Encoding`, carries `Cache-Control: no-transform`, is
/// smaller than [`min_size`](Compression::min_size) (when its size is known), is an already
/// compressed type (`image/*` but SVG, `audio/*`, `video/*`, zip, gzip, zstd, WOFF fonts), or
/// is `text/event-stream` (unless [`event_streams`](Compression::event_streams) asks for it).
/// A compressed response loses its `Content-Length` (it goes chunked over HTTP/1.1), gets
/// `Content-Encoding`, and a strong `ETag` becomes weak. Every response it could have
/// compressed gets `Vary: Accept-Encoding`, so caches keep the variants apart.
///
/// Streamed bodies are flushed per chunk: each chunk the handler's source produces goes out
/// compressed as soon as it arrives (so Server-Sent Events and slow streams are not held back),
/// at some cost in ratio for small chunks. Trailers pass through.
///
/// # Examples
///
/// ```
/// use weir::http::{Compression, CompressionLevel, ServerOptions};
///
/// let options = ServerOptions::new()
///     .compression(Compression::new().br(false).level(CompressionLevel::Fastest).min_size(256));
/// # let _ = options;
/// assert_eq!(Compression::new().get_min_size(), 1024);
/// ```
#[derive(Clone, Debug)]
pub struct Compression {
    zstd: bool,
    br: bool,
    gzip: bool,
    deflate: bool,
    level: CompressionLevel,
    min_size: u64,
    event_streams: bool,
}

/// How hard [`Compression`] works: a speed against size trade-off, mapped onto each
/// algorithm's scale.
///
/// # Examples
///
/// ```
/// use weir::http::{Compression, CompressionLevel};
/// let fast = Compression::new().level(CompressionLevel::Fastest);
/// # let _ = fast;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompressionLevel {
    /// Each algorithm's fastest setting.
    Fastest,
    /// A setting suited to dynamic responses: gzip and deflate 6, brotli 4, zstd 3.
    #[default]
    Default,
    /// Each algorithm's smallest output, slowly (brotli 11): for static files.
    Best,
}

impl Default for Compression {
    fn default() -> Compression {
        Compression::new()
    }
}

impl Compression {
    /// All four codings, [`CompressionLevel::Default`], bodies from 1 KiB, event streams left
    /// alone.
    ///
    /// # Examples
    ///
    /// See [`Compression`].
    pub fn new() -> Compression {
        Compression {
            zstd: true,
            br: true,
            gzip: true,
            deflate: true,
            level: CompressionLevel::Default,
            min_size: 1024,
            event_streams: false,
        }
    }

    /// Offers (or not) `gzip`.
    ///
    /// # Examples
    ///
    /// ```
    /// let only_gzip = weir::http::Compression::new().zstd(false).br(false).deflate(false);
    /// # let _ = only_gzip.gzip(true);
    /// ```
    pub fn gzip(mut self, enabled: bool) -> Self {
        self.gzip = enabled;
        self
    }

    /// Offers (or not) `deflate` (the zlib format, as HTTP means it).
    ///
    /// # Examples
    ///
    /// ```
    /// let compression = weir::http::Compression::new().deflate(false);
    /// # let _ = compression;
    /// ```
    pub fn deflate(mut self, enabled: bool) -> Self {
        self.deflate = enabled;
        self
    }

    /// Offers (or not) `br` (brotli).
    ///
    /// # Examples
    ///
    /// ```
    /// let compression = weir::http::Compression::new().br(false);
    /// # let _ = compression;
    /// ```
    pub fn br(mut self, enabled: bool) -> Self {
        self.br = enabled;
        self
    }

    /// Offers (or not) `zstd`.
    ///
    /// # Examples
    ///
    /// ```
    /// let compression = weir::http::Compression::new().zstd(false);
    /// # let _ = compression;
    /// ```
    pub fn zstd(mut self, enabled: bool) -> Self {
        self.zstd = enabled;
        self
    }

    /// Sets the level (default [`CompressionLevel::Default`]).
    ///
    /// # Examples
    ///
    /// See [`CompressionLevel`].
    pub fn level(mut self, level: CompressionLevel) -> Self {
        self.level = level;
        self
    }

    /// Bodies of known size under `bytes` are sent as they are (default 1024). Bodies of
    /// unknown size (streams) are always compressed.
    ///
    /// # Examples
    ///
    /// ```
    /// let compression = weir::http::Compression::new().min_size(0);
    /// assert_eq!(compression.get_min_size(), 0);
    /// ```
    pub fn min_size(mut self, bytes: u64) -> Self {
        self.min_size = bytes;
        self
    }

    /// The size under which bodies are not compressed.
    ///
    /// # Examples
    ///
    /// See [`Compression::min_size`].
    pub fn get_min_size(&self) -> u64 {
        self.min_size
    }

    /// Compresses `text/event-stream` responses too (default false: many proxies and clients
    /// handle compressed event streams badly). Each event is still flushed as it comes.
    ///
    /// # Examples
    ///
    /// ```
    /// let compression = weir::http::Compression::new().event_streams(true);
    /// # let _ = compression;
    /// ```
    pub fn event_streams(mut self, enabled: bool) -> Self {
        self.event_streams = enabled;
        self
    }

    /// Compresses one response for `request` as the server would (for a route that should be
    /// compressed when the server's [`ServerOptions::compression`](super::ServerOptions::compression)
    /// is off, say): the same negotiation and the same responses left alone.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{Body, Compression, Request, Response, header};
    ///
    /// # weir::runtime::block_on(async {
    /// let request = Request::get("/").header(header::ACCEPT_ENCODING, "gzip").body(()).unwrap();
    /// let response = Response::new(Body::from("x".repeat(4096)));
    /// let response = Compression::new().compress(&request, response);
    /// assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
    /// let compressed = response.into_body().to_bytes(1 << 20).await.unwrap();
    /// assert!(compressed.len() < 4096);
    /// # });
    /// ```
    pub fn compress<B>(
        &self,
        request: &Request<B>,
        mut response: Response<Body>,
    ) -> Response<Body> {
        let negotiated = negotiate(self, request);
        apply(self, negotiated, &mut response);
        response
    }

    /// The enabled codings, in the order ties are broken.
    fn offered(&self) -> impl Iterator<Item = Coding> + '_ {
        [
            (Coding::Zstd, self.zstd),
            (Coding::Br, self.br),
            (Coding::Gzip, self.gzip),
            (Coding::Deflate, self.deflate),
        ]
        .into_iter()
        .filter(|(_, enabled)| *enabled)
        .map(|(coding, _)| coding)
    }
}

/// A content coding weir can produce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Coding {
    Zstd,
    Br,
    Gzip,
    Deflate,
}

impl Coding {
    fn token(self) -> &'static str {
        match self {
            Coding::Zstd => "zstd",
            Coding::Br => "br",
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
        }
    }
}

/// What the request allows, read before the handler takes it.
#[derive(Debug)]
pub(crate) struct Negotiated {
    coding: Option<Coding>,
}

/// Reads the request's `Accept-Encoding` (nothing for `HEAD`).
pub(crate) fn negotiate<B>(compression: &Compression, request: &Request<B>) -> Negotiated {
    if request.method() == Method::HEAD {
        return Negotiated { coding: None };
    }
    let mut accepted = Vec::new();
    for value in request.headers().get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        accepted.extend(parse_accept_encoding(value));
    }
    Negotiated {
        coding: choose(compression, &accepted),
    }
}

/// `coding;q=x` pairs, lower-cased, with q in thousandths (a bad q counts as 0).
fn parse_accept_encoding(value: &str) -> impl Iterator<Item = (String, u16)> + '_ {
    value.split(',').filter_map(|item| {
        let mut parts = item.split(';');
        let coding = parts.next()?.trim().to_ascii_lowercase();
        if coding.is_empty() {
            return None;
        }
        let mut q = 1000;
        for parameter in parts {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                q = parse_q(value.trim()).unwrap_or(0);
            }
        }
        Some((coding, q))
    })
}

/// A qvalue (RFC 9110 §12.4.2): `0`, `0.xyz`, `1`, `1.000`, in thousandths.
fn parse_q(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: u16 = 0;
    for (i, digit) in fraction.bytes().enumerate() {
        thousandths += u16::from(digit - b'0') * [100, 10, 1][i];
    }
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn choose(compression: &Compression, accepted: &[(String, u16)]) -> Option<Coding> {
    let q_of = |name: &str| {
        accepted
            .iter()
            .find(|(coding, _)| coding == name)
            .map(|(_, q)| *q)
    };
    let star = q_of("*");
    let mut best: Option<(Coding, u16)> = None;
    for coding in compression.offered() {
        let q = q_of(coding.token())
            .or_else(|| (coding == Coding::Gzip).then(|| q_of("x-gzip")).flatten())
            .or(star)
            .unwrap_or(0);
        if q > 0 && best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((coding, q));
        }
    }
    let (coding, q) = best?;
    // A client that ranks identity explicitly above the best coding gets no coding.
    if q_of("identity").is_some_and(|identity| identity > q) {
        return None;
    }
    Some(coding)
}

/// Compresses `response` if `negotiated` and the response allow it.
pub(crate) fn apply(
    compression: &Compression,
    negotiated: Negotiated,
    response: &mut Response<Body>,
) {
    if !eligible(compression, response) {
        return;
    }
    let headers = response.headers_mut();
    add_vary(headers);
    let Some(coding) = negotiated.coding else {
        return;
    };
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::ACCEPT_RANGES);
    headers.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(coding.token()),
    );
    if let Some(etag) = headers.get(header::ETAG) {
        if !etag.as_bytes().starts_with(b"W/") {
            let mut weak = b"W/".to_vec();
            weak.extend_from_slice(etag.as_bytes());
            if let Ok(weak) = HeaderValue::from_bytes(&weak) {
                headers.insert(header::ETAG, weak);
            }
        }
    }
    let body = std::mem::take(response.body_mut());
    *response.body_mut() = Body::from_http_body(Compressed {
        body,
        encoder: Some(encoder(coding, compression.level)),
        trailers: None,
        finished: false,
    });
}

fn eligible(compression: &Compression, response: &Response<Body>) -> bool {
    let status = response.status();
    if status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
        || status == StatusCode::PARTIAL_CONTENT
    {
        return false;
    }
    let headers = response.headers();
    if headers.contains_key(header::CONTENT_ENCODING) || headers.contains_key(header::CONTENT_RANGE)
    {
        return false;
    }
    if headers
        .get_all(header::CACHE_CONTROL)
        .iter()
        .any(|value| contains_token(value, "no-transform"))
    {
        return false;
    }
    if let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    {
        let content_type = content_type.trim().to_ascii_lowercase();
        let essence = content_type.split(';').next().unwrap_or("").trim();
        if essence == "text/event-stream" && !compression.event_streams {
            return false;
        }
        let compressed = (essence.starts_with("image/") && essence != "image/svg+xml")
            || essence.starts_with("audio/")
            || essence.starts_with("video/")
            || matches!(
                essence,
                "application/zip"
                    | "application/gzip"
                    | "application/x-gzip"
                    | "application/zstd"
                    | "application/x-bzip2"
                    | "application/x-7z-compressed"
                    | "font/woff"
                    | "font/woff2"
            );
        if compressed {
            return false;
        }
    }
    let body = response.body();
    if body.is_end_stream() {
        return false;
    }
    let size = body.size_hint().exact().or_else(|| {
        headers
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
    });
    size.is_none_or(|size| size >= compression.min_size)
}

fn contains_token(value: &HeaderValue, token: &str) -> bool {
    value.to_str().is_ok_and(|value| {
        value
            .split(',')
            .any(|item| item.trim().eq_ignore_ascii_case(token))
    })
}

fn add_vary(headers: &mut HeaderMap) {
    let already = headers
        .get_all(header::VARY)
        .iter()
        .any(|value| contains_token(value, "accept-encoding") || contains_token(value, "*"));
    if !already {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// An encoder writing into a `Vec` (always ready), flushed after each chunk.
trait Encoder: AsyncWrite + Send + Unpin {
    fn take_output(&mut self) -> Vec<u8>;
}

macro_rules! encoder {
    ($($name:ident),*) => {$(
        impl Encoder for $name<Vec<u8>> {
            fn take_output(&mut self) -> Vec<u8> {
                std::mem::take(self.get_mut())
            }
        }
    )*};
}

encoder!(GzipEncoder, ZlibEncoder, BrotliEncoder, ZstdEncoder);

fn encoder(coding: Coding, level: CompressionLevel) -> Box<dyn Encoder> {
    let level = |default: i32| match level {
        CompressionLevel::Fastest => Level::Fastest,
        CompressionLevel::Default => Level::Precise(default),
        CompressionLevel::Best => Level::Best,
    };
    match coding {
        Coding::Gzip => Box::new(GzipEncoder::with_quality(Vec::new(), level(6))),
        Coding::Deflate => Box::new(ZlibEncoder::with_quality(Vec::new(), level(6))),
        Coding::Br => Box::new(BrotliEncoder::with_quality(Vec::new(), level(4))),
        Coding::Zstd => Box::new(ZstdEncoder::with_quality(Vec::new(), level(3))),
    }
}

/// Drives an operation on an encoder writing into a `Vec`: it never waits.
fn now<T>(mut op: impl FnMut(&mut Context<'_>) -> Poll<std::io::Result<T>>) -> Result<T, Error> {
    let mut cx = Context::from_waker(Waker::noop());
    match op(&mut cx) {
        Poll::Ready(result) => result.map_err(Error::from),
        Poll::Pending => Err(Error::msg("http: compression encoder did not finish")),
    }
}

/// Compresses one chunk and flushes it.
fn compress(encoder: &mut Box<dyn Encoder>, mut chunk: &[u8]) -> Result<Bytes, Error> {
    while !chunk.is_empty() {
        let written = now(|cx| Pin::new(&mut **encoder).poll_write(cx, chunk))?;
        if written == 0 {
            return Err(Error::msg("http: compression encoder took no input"));
        }
        chunk = &chunk[written..];
    }
    now(|cx| Pin::new(&mut **encoder).poll_flush(cx))?;
    Ok(Bytes::from(encoder.take_output()))
}

/// Finishes the stream.
fn finish(encoder: &mut Box<dyn Encoder>) -> Result<Bytes, Error> {
    now(|cx| Pin::new(&mut **encoder).poll_close(cx))?;
    Ok(Bytes::from(encoder.take_output()))
}

/// A body compressed chunk by chunk.
struct Compressed {
    body: Body,
    encoder: Option<Box<dyn Encoder>>,
    /// Trailers held back until the end of the compressed data is sent.
    trailers: Option<HeaderMap>,
    finished: bool,
}

impl http_body::Body for Compressed {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        loop {
            let Some(encoder) = this.encoder.as_mut() else {
                if this.finished {
                    return Poll::Ready(this.trailers.take().map(|t| Ok(Frame::trailers(t))));
                }
                return Poll::Ready(None);
            };
            match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        if data.is_empty() {
                            continue;
                        }
                        let out = compress(encoder, &data);
                        if out.is_err() {
                            this.encoder = None;
                        }
                        match out {
                            Ok(out) if out.is_empty() => continue,
                            Ok(out) => return Poll::Ready(Some(Ok(Frame::data(out)))),
                            Err(error) => return Poll::Ready(Some(Err(error))),
                        }
                    }
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            this.trailers = Some(trailers);
                        }
                    }
                },
                Some(Err(error)) => {
                    this.encoder = None;
                    return Poll::Ready(Some(Err(error)));
                }
                None => {
                    let out = finish(encoder);
                    this.encoder = None;
                    this.finished = true;
                    match out {
                        Ok(out) => return Poll::Ready(Some(Ok(Frame::data(out)))),
                        Err(error) => return Poll::Ready(Some(Err(error))),
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.encoder.is_none() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::{Coding, Compression, choose, parse_accept_encoding, parse_q};

    fn pick(compression: &Compression, header: &str) -> Option<Coding> {
        let accepted: Vec<_> = parse_accept_encoding(header).collect();
        choose(compression, &accepted)
    }

    #[test]
    fn q_values() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.25"), Some(250));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
        assert_eq!(parse_q("x"), None);
    }

    #[test]
    fn the_highest_q_wins_and_ties_go_to_the_server_order() {
        let all = Compression::new();
        assert_eq!(pick(&all, "gzip"), Some(Coding::Gzip));
        assert_eq!(pick(&all, "gzip, deflate, br, zstd"), Some(Coding::Zstd));
        assert_eq!(pick(&all, "gzip;q=1, br;q=0.8"), Some(Coding::Gzip));
        assert_eq!(
            pick(&all, "deflate;q=0.9, gzip;q=0.1"),
            Some(Coding::Deflate)
        );
        assert_eq!(pick(&all, "GZIP ; Q=0.5"), Some(Coding::Gzip));
        assert_eq!(pick(&all, "x-gzip"), Some(Coding::Gzip));
    }

    #[test]
    fn refusals_and_wildcards() {
        let all = Compression::new();
        assert_eq!(pick(&all, ""), None);
        assert_eq!(pick(&all, "identity"), None);
        assert_eq!(pick(&all, "gzip;q=0"), None);
        assert_eq!(pick(&all, "*"), Some(Coding::Zstd));
        assert_eq!(pick(&all, "*;q=0.5, zstd;q=0, br;q=0"), Some(Coding::Gzip));
        assert_eq!(pick(&all, "*;q=0"), None);
        assert_eq!(pick(&all, "identity;q=0, gzip;q=0.2"), Some(Coding::Gzip));
        assert_eq!(pick(&all, "gzip;q=0.5, identity;q=1"), None);
        assert_eq!(pick(&all, "gzip;q=bad"), None);
    }

    #[test]
    fn disabled_codings_are_not_chosen() {
        let gzip_only = Compression::new().zstd(false).br(false).deflate(false);
        assert_eq!(pick(&gzip_only, "zstd, br, gzip;q=0.1"), Some(Coding::Gzip));
        assert_eq!(pick(&gzip_only, "zstd, br"), None);
    }
}

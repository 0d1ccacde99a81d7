//! Decompressing responses (feature `compression`): gzip, deflate (zlib, or raw deflate as
//! some servers send), brotli and zstd, streamed.

use http::{HeaderValue, Response, header};

use crate::http::Body;

/// What a request sends as `Accept-Encoding` by default.
pub(crate) const ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("gzip, deflate, br, zstd");

/// The response with its body decoded when its `Content-Encoding` is one weir decodes; the
/// header and `Content-Length` are then removed. Any other response is returned as it is.
pub(crate) fn decode(response: Response<Body>) -> Response<Body> {
    let Some(encoding) = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_ascii_lowercase())
    else {
        return response;
    };
    if !matches!(
        encoding.as_str(),
        "gzip" | "x-gzip" | "deflate" | "br" | "zstd"
    ) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let reader = crate::bytes::to_reader(body);
    let decoded = match encoding.as_str() {
        "gzip" | "x-gzip" => chunks(async_compression::futures::bufread::GzipDecoder::new(
            reader,
        )),
        "deflate" => chunks(async_compression::futures::bufread::ZlibDecoder::new(
            reader,
        )),
        "br" => chunks(async_compression::futures::bufread::BrotliDecoder::new(
            reader,
        )),
        _ => chunks(async_compression::futures::bufread::ZstdDecoder::new(
            reader,
        )),
    };
    parts.headers.remove(header::CONTENT_ENCODING);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, decoded)
}

fn chunks<R: futures_io::AsyncRead + Send + 'static>(reader: R) -> Body {
    Body::from_source(crate::bytes::from_reader(reader, 16 * 1024))
}

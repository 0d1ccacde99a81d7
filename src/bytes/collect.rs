//! `to_bytes`, `to_string`, `to_string_lossy`: a whole stream of chunks, collected with a limit.

use ::bytes::{Bytes, BytesMut};

use crate::stream::Source;
use crate::{Deferred, Error};

use super::owned::Owned;
use super::{IntoBytes, invalid_utf8, over_limit};

/// Collects a source of chunks into one [`Bytes`], up to `limit` bytes: byte-streams'
/// `to-byte-array` of a stream.
///
/// The deferred fails with a [protocol error](Error::is_protocol) as soon as the chunks add up
/// to more than `limit` bytes (the source is then closed, and nothing more is buffered), and
/// with the source's drain cause if the source ended with an error. A single chunk is returned
/// as it is, without copying.
///
/// The collecting runs as a task on weir's executor. Realizing the returned deferred first (for
/// example with [`Error::cancelled`]) cancels it and closes the source.
///
/// # Examples
///
/// ```
/// use weir::{bytes, stream};
///
/// # weir::runtime::block_on(async {
/// let all = bytes::to_bytes(stream::iter(vec!["ab", "cd"]), 16).await.unwrap();
/// assert_eq!(all, "abcd");
///
/// let too_long = bytes::to_bytes(stream::iter(vec!["ab", "cd"]), 3).await.unwrap_err();
/// assert!(too_long.is_protocol());
/// assert_eq!(too_long.to_string(), "protocol error: stream longer than the limit of 3 bytes");
/// # });
/// ```
pub fn to_bytes<S>(source: S, limit: usize) -> Deferred<Bytes, Error>
where
    S: Source + 'static,
    S::Item: IntoBytes,
{
    Deferred::spawn(collect(source, limit))
}

/// Collects a source of chunks into a `String`, up to `limit` bytes; invalid UTF-8 is a
/// [protocol error](Error::is_protocol) that says at which byte it starts. Otherwise as
/// [`to_bytes`]. byte-streams' `to-string`.
///
/// # Examples
///
/// ```
/// use weir::{bytes, stream};
///
/// # weir::runtime::block_on(async {
/// // A character split across chunks is put back together.
/// let text = bytes::to_string(stream::iter(vec![&b"caf\xc3"[..], &b"\xa9"[..]]), 16).await;
/// assert_eq!(text.unwrap(), "café");
///
/// let invalid = bytes::to_string(stream::iter(vec![&b"ok\xff"[..]]), 16).await.unwrap_err();
/// assert!(invalid.is_protocol());
/// assert_eq!(invalid.to_string(), "protocol error: invalid UTF-8 at byte 2");
/// # });
/// ```
pub fn to_string<S>(source: S, limit: usize) -> Deferred<String, Error>
where
    S: Source + 'static,
    S::Item: IntoBytes,
{
    Deferred::spawn(async move {
        let bytes = collect(source, limit).await?;
        String::from_utf8(Vec::from(bytes)).map_err(|e| invalid_utf8(e.utf8_error(), 0))
    })
}

/// Collects a source of chunks into a `String`, up to `limit` bytes, replacing invalid UTF-8
/// with U+FFFD (�). Otherwise as [`to_bytes`].
///
/// # Examples
///
/// ```
/// use weir::{bytes, stream};
///
/// # weir::runtime::block_on(async {
/// let text = bytes::to_string_lossy(stream::iter(vec![&b"ok\xff"[..]]), 16).await;
/// assert_eq!(text.unwrap(), "ok\u{fffd}");
/// # });
/// ```
pub fn to_string_lossy<S>(source: S, limit: usize) -> Deferred<String, Error>
where
    S: Source + 'static,
    S::Item: IntoBytes,
{
    Deferred::spawn(async move {
        let bytes = collect(source, limit).await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    })
}

/// Reads `source` to its end into one buffer of at most `limit` bytes.
pub(super) async fn collect<S>(source: S, limit: usize) -> Result<Bytes, Error>
where
    S: Source,
    S::Item: IntoBytes,
{
    let mut source = Owned::new(source);
    // The first chunk is kept as it is; a buffer is started only for a second one.
    let mut first: Option<Bytes> = None;
    let mut rest = BytesMut::new();
    let mut len = 0usize;
    while let Some(item) = source.next().await {
        let chunk = item.into_bytes();
        len = len.saturating_add(chunk.len());
        if len > limit {
            // Dropping `source` before its end closes it.
            return Err(over_limit(limit));
        }
        if chunk.is_empty() {
            continue;
        }
        match first.take() {
            None if rest.is_empty() => first = Some(chunk),
            None => rest.extend_from_slice(&chunk),
            Some(previous) => {
                rest.reserve(previous.len() + chunk.len());
                rest.extend_from_slice(&previous);
                rest.extend_from_slice(&chunk);
            }
        }
    }
    source.outcome().await?;
    Ok(first.unwrap_or_else(|| rest.freeze()))
}

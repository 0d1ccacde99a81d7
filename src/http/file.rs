//! File bodies and responses: [`Body::file`] and [`serve_file`], streamed from disk in chunks
//! on weir's blocking pool, with `Content-Length`, a guessed `Content-Type` and single byte
//! ranges.

use std::fs::File;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::{Frame, SizeHint};

use crate::{Deferred, Error};

use super::body::Body;
use super::conditional::{Decision, Preconditions, Validators};
use super::error::HttpError;
use super::range::RangeRequest;

/// How much of the file one chunk (one blocking read) holds.
const CHUNK: u64 = 64 * 1024;

type Read64 = Pin<Box<dyn Future<Output = (File, io::Result<Vec<u8>>)> + Send>>;

impl Body {
    /// A body of the file at `path`, streamed from disk in 64 KiB chunks read on weir's
    /// blocking pool, with its exact size known (so `Content-Length` is sent). A missing file
    /// is a 404 [`HttpError`], an unreadable one a 403, a directory a 404. A file that shrinks
    /// while it is sent ends the body with an error (the client sees a cut-off response, never
    /// a short one that looks whole).
    ///
    /// To answer `Range` requests and set `Content-Type`, use [`serve_file`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes leaves nothing open but the file the blocking
    /// pool may still be opening, closed once it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body::Body as _;
    /// use weir::http::Body;
    ///
    /// # weir::runtime::block_on(async {
    /// let path = std::env::temp_dir().join("weir-doc-body-file.txt");
    /// std::fs::write(&path, "from disk").unwrap();
    /// let body = Body::file(&path).await.unwrap();
    /// assert_eq!(body.size_hint().exact(), Some(9));
    /// assert_eq!(body.to_string(64).await.unwrap(), "from disk");
    ///
    /// let missing = Body::file("/no/such/file").await.unwrap_err();
    /// assert_eq!(weir::http::HttpError::status_of(&missing), Some(weir::http::StatusCode::NOT_FOUND));
    /// # });
    /// ```
    pub async fn file(path: impl AsRef<Path>) -> Result<Body, Error> {
        let (file, len, _) = open(path.as_ref().to_path_buf()).await?;
        Ok(Body::from_http_body(FileBody::new(file, len)))
    }
}

/// Answers `request` with the file at `path`: 200 with the whole file, or 206 with
/// `Content-Range` for a single satisfiable `Range: bytes=a-b`, `a-` or `-n` (416 with
/// `Content-Range: bytes */len` when it selects nothing; several ranges, other units and
/// malformed headers get the whole file, as RFC 9110 allows). Always `Accept-Ranges: bytes`,
/// `Content-Length`, and a `Content-Type` guessed from the extension (`html`, `css`, `js`,
/// `json`, `txt`, `xml`, `svg`, `png`, `jpg`, `gif`, `webp`, `ico`, `pdf`, `wasm`, `mp4`,
/// `mp3`, `woff2`, …; `application/octet-stream` otherwise). A `HEAD` request gets the same
/// headers and no body. Errors as [`Body::file`]: a missing file is a 404.
///
/// Conditional requests (RFC 9110 section 13): every answer carries a strong `ETag` (from the
/// file's size and modification time) and `Last-Modified`. `If-None-Match` matching, or
/// `If-Modified-Since` not older than the file, gives `304 Not Modified` (no body) on `GET`
/// and `HEAD`; `If-Match` not matching, or `If-Unmodified-Since` older than the file, gives
/// `412 Precondition Failed`; a `Range` with an `If-Range` that no longer matches gets the
/// whole file. They are weighed in the order RFC 9110 section 13.2.2 gives.
///
/// The request's method and headers are read at once, so the deferred does not borrow the
/// request.
///
/// # Examples
///
/// ```
/// use weir::http::{self, Body, Request, StatusCode, header};
///
/// # weir::runtime::block_on(async {
/// let path = std::env::temp_dir().join("weir-doc-serve-file.txt");
/// std::fs::write(&path, "0123456789").unwrap();
///
/// let request = Request::get("/file").header(header::RANGE, "bytes=2-4").body(Body::empty()).unwrap();
/// let response = http::serve_file(&request, &path).await.unwrap();
/// assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
/// assert_eq!(response.headers()[header::CONTENT_RANGE], "bytes 2-4/10");
/// assert_eq!(response.headers()[header::CONTENT_TYPE], "text/plain; charset=utf-8");
/// assert_eq!(response.into_body().to_string(64).await.unwrap(), "234");
/// # });
/// ```
pub fn serve_file<B>(
    request: &Request<B>,
    path: impl AsRef<Path>,
) -> Deferred<Response<Body>, Error> {
    let head = request.method() == Method::HEAD;
    let ranged = head || request.method() == Method::GET;
    let range = if ranged {
        request
            .headers()
            .get(header::RANGE)
            .map(|value| value.as_bytes().to_vec())
    } else {
        None
    };
    let preconditions = Preconditions::of(request.method(), request.headers());
    let path = path.as_ref().to_path_buf();
    Deferred::spawn(async move {
        let content_type = HeaderValue::from_static(content_type(&path));
        let (file, len, modified) = open(path).await?;
        let validators = Validators::new(len, modified);
        let mut response = Response::new(Body::empty());
        let headers = response.headers_mut();
        validators.insert_into(headers);
        let range = match preconditions.evaluate(&validators) {
            Decision::Proceed { honour_range } => range.filter(|_| honour_range),
            Decision::NotModified => {
                *response.status_mut() = StatusCode::NOT_MODIFIED;
                return Ok(response);
            }
            Decision::PreconditionFailed => {
                *response.status_mut() = StatusCode::PRECONDITION_FAILED;
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
                return Ok(response);
            }
        };
        let headers = response.headers_mut();
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        headers.insert(header::CONTENT_TYPE, content_type);
        let (start, count) = match RangeRequest::parse(range.as_deref(), len) {
            RangeRequest::Full => (0, len),
            RangeRequest::Partial { start, end } => {
                *response.status_mut() = StatusCode::PARTIAL_CONTENT;
                response.headers_mut().insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes {start}-{end}/{len}"))
                        .expect("digits are a valid header value"),
                );
                (start, end - start + 1)
            }
            RangeRequest::Unsatisfiable => {
                *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                let headers = response.headers_mut();
                headers.insert(
                    header::CONTENT_RANGE,
                    HeaderValue::from_str(&format!("bytes */{len}"))
                        .expect("digits are a valid header value"),
                );
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(0u64));
                headers.remove(header::CONTENT_TYPE);
                return Ok(response);
            }
        };
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(count));
        if !head {
            let file = if start > 0 {
                seek(file, start).await?
            } else {
                file
            };
            *response.body_mut() = Body::from_http_body(FileBody::new(file, count));
        }
        Ok(response)
    })
}

/// Opens `path` on the blocking pool: the file, its length and when it was last modified (if
/// the platform says).
async fn open(path: PathBuf) -> Result<(File, u64, Option<SystemTime>), Error> {
    crate::runtime::spawn_blocking(move || {
        let file = File::open(&path).map_err(|error| open_error(&path, error))?;
        let metadata = file.metadata().map_err(|error| open_error(&path, error))?;
        if !metadata.is_file() {
            return Err(HttpError::new(StatusCode::NOT_FOUND, "not a file").into());
        }
        Ok((file, metadata.len(), metadata.modified().ok()))
    })
    .await
}

async fn seek(mut file: File, to: u64) -> Result<File, Error> {
    crate::runtime::spawn_blocking(move || {
        file.seek(SeekFrom::Start(to))?;
        Ok(file)
    })
    .await
}

fn open_error(path: &Path, error: io::Error) -> Error {
    match error.kind() {
        io::ErrorKind::NotFound => HttpError::new(StatusCode::NOT_FOUND, "no such file").into(),
        io::ErrorKind::PermissionDenied => {
            HttpError::new(StatusCode::FORBIDDEN, "file not readable").into()
        }
        _ => {
            log::debug!("weir: http: opening {} failed: {error}", path.display());
            error.into()
        }
    }
}

/// The `Content-Type` for a file name's extension.
pub(crate) fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" | "text" | "log" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        _ => "application/octet-stream",
    }
}

/// `count` bytes of an open file, read in chunks on the blocking pool.
struct FileBody {
    file: Option<File>,
    reading: Option<Read64>,
    remaining: u64,
}

impl FileBody {
    fn new(file: File, count: u64) -> FileBody {
        FileBody {
            file: Some(file),
            reading: None,
            remaining: count,
        }
    }
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        if self.reading.is_none() {
            let Some(file) = self.file.take() else {
                return Poll::Ready(None);
            };
            let want = self.remaining.min(CHUNK);
            self.reading = Some(Box::pin(crate::runtime::spawn_blocking(move || {
                let mut chunk = Vec::with_capacity(want as usize);
                let read = (&file).take(want).read_to_end(&mut chunk).map(|_| chunk);
                (file, read)
            })));
        }
        let (file, read) = ready!(self.reading.as_mut().expect("set above").as_mut().poll(cx));
        self.reading = None;
        match read {
            Ok(chunk) if chunk.is_empty() => {
                self.remaining = 0;
                Poll::Ready(Some(Err(Error::msg(
                    "http: the file shrank while it was sent",
                ))))
            }
            Ok(chunk) => {
                self.remaining -= chunk.len() as u64;
                self.file = Some(file);
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
            }
            Err(error) => {
                self.remaining = 0;
                Poll::Ready(Some(Err(error.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            super::content_type(Path::new("a/index.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(super::content_type(Path::new("x.png")), "image/png");
        assert_eq!(
            super::content_type(Path::new("x.tar.gz")),
            "application/gzip"
        );
        assert_eq!(
            super::content_type(Path::new("noext")),
            "application/octet-stream"
        );
    }
}

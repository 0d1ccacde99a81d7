//! `Multipart`: a `multipart/form-data` request body, parts streamed (files are read as they
//! are sent, never whole into memory), over HTTP/1.1 and HTTP/2.

use std::fmt;
use std::path::Path;

use bytes::Bytes;
use http::HeaderValue;

use crate::Error;
use crate::http::Body;
use crate::stream::Source;

type PartBody = Body;

struct Part {
    head: String,
    body: PartBody,
}

/// A `multipart/form-data` body (clj-http's and Aleph's `:multipart`), for
/// [`ClientRequest::multipart`](super::ClientRequest::multipart). Each part's content streams
/// when its turn comes: a file is read from disk as it is sent.
///
/// # Examples
///
/// ```
/// use weir::http::client::Multipart;
///
/// # weir::runtime::block_on(async {
/// let form = Multipart::new()
///     .text("title", "holiday")
///     .bytes("photo", "beach.jpg", "image/jpeg", vec![0xff, 0xd8, 0xff]);
/// let boundary = form.boundary().to_string();
/// let body = form.into_body().to_bytes(1 << 20).await.unwrap();
/// let text = String::from_utf8_lossy(&body);
/// assert!(text.starts_with(&format!("--{boundary}\r\n")));
/// assert!(text.contains("content-disposition: form-data; name=\"title\"\r\n\r\nholiday\r\n"));
/// assert!(text.contains("filename=\"beach.jpg\""));
/// assert!(text.ends_with(&format!("--{boundary}--\r\n")));
/// # });
/// ```
pub struct Multipart {
    boundary: String,
    parts: Vec<Part>,
}

impl Multipart {
    /// An empty form with a random boundary.
    ///
    /// # Examples
    ///
    /// See [`Multipart`].
    pub fn new() -> Multipart {
        Multipart {
            boundary: format!("weir-{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            parts: Vec::new(),
        }
    }

    /// The boundary between parts.
    ///
    /// # Examples
    ///
    /// See [`Multipart`].
    pub fn boundary(&self) -> &str {
        &self.boundary
    }

    /// The `Content-Type` of the body: `multipart/form-data; boundary=…`.
    ///
    /// # Examples
    ///
    /// ```
    /// let form = weir::http::client::Multipart::new();
    /// assert!(form.content_type().to_str().unwrap().starts_with("multipart/form-data; boundary=weir-"));
    /// ```
    pub fn content_type(&self) -> HeaderValue {
        HeaderValue::from_str(&format!("multipart/form-data; boundary={}", self.boundary))
            .expect("the boundary is a valid header value")
    }

    /// A text field.
    ///
    /// # Examples
    ///
    /// See [`Multipart`].
    pub fn text(mut self, name: &str, value: impl Into<String>) -> Multipart {
        let head = format!(
            "content-disposition: form-data; name=\"{}\"\r\n",
            quote(name)
        );
        self.parts.push(Part {
            head,
            body: Body::from(value.into()),
        });
        self
    }

    /// A file field from bytes in memory.
    ///
    /// # Examples
    ///
    /// See [`Multipart`].
    pub fn bytes(
        self,
        name: &str,
        filename: &str,
        content_type: &str,
        bytes: impl Into<Bytes>,
    ) -> Multipart {
        self.part(name, Some(filename), content_type, Body::from(bytes.into()))
    }

    /// A file field whose content is any weir source of byte chunks, streamed.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::client::Multipart;
    /// let form = Multipart::new().source("log", "app.log", "text/plain", weir::stream::iter(vec!["a\n", "b\n"]));
    /// # let _ = form;
    /// ```
    pub fn source<S>(self, name: &str, filename: &str, content_type: &str, source: S) -> Multipart
    where
        S: Source + 'static,
        S::Item: Into<Bytes>,
    {
        self.part(
            name,
            Some(filename),
            content_type,
            Body::from_source(source),
        )
    }

    /// A file field read from `path` as it is sent (opened when the part's turn comes; an
    /// error opening or reading it ends the body with that error). The file name sent is the
    /// path's last component; the content type is `application/octet-stream` unless given.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::client::Multipart;
    /// let form = Multipart::new().file("upload", "/etc/hostname", None);
    /// # let _ = form;
    /// ```
    pub fn file(self, name: &str, path: impl AsRef<Path>, content_type: Option<&str>) -> Multipart {
        let path = path.as_ref().to_path_buf();
        let filename = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_string());
        let opened = crate::Deferred::spawn(async move {
            let file = async_fs::File::open(&path).await.map_err(|error| {
                Error::from(std::io::Error::new(
                    error.kind(),
                    format!("could not open {}: {error}", path.display()),
                ))
            })?;
            Ok::<_, Error>(Body::from_source(crate::bytes::from_reader(
                file,
                64 * 1024,
            )))
        });
        self.part(
            name,
            Some(&filename),
            content_type.unwrap_or("application/octet-stream"),
            Body::from_deferred(opened),
        )
    }

    fn part(
        mut self,
        name: &str,
        filename: Option<&str>,
        content_type: &str,
        body: Body,
    ) -> Multipart {
        let mut head = format!("content-disposition: form-data; name=\"{}\"", quote(name));
        if let Some(filename) = filename {
            head.push_str(&format!("; filename=\"{}\"", quote(filename)));
        }
        head.push_str(&format!("\r\ncontent-type: {content_type}\r\n"));
        self.parts.push(Part { head, body });
        self
    }

    /// The whole body, streamed part after part.
    ///
    /// # Examples
    ///
    /// See [`Multipart`].
    pub fn into_body(self) -> Body {
        let boundary = self.boundary;
        let mut pieces: Vec<Body> = Vec::with_capacity(self.parts.len() * 2 + 1);
        for part in self.parts {
            pieces.push(Body::from(format!("--{boundary}\r\n{}\r\n", part.head)));
            pieces.push(part.body);
            pieces.push(Body::from(&b"\r\n"[..]));
        }
        pieces.push(Body::from(format!("--{boundary}--\r\n")));
        let chunks =
            futures_lite::StreamExt::flat_map(futures_lite::stream::iter(pieces), |body| {
                futures_lite::stream::unfold(Some(body), |state| async move {
                    let mut body = state?;
                    match futures_lite::future::poll_fn(|cx| {
                        http_body::Body::poll_frame(std::pin::Pin::new(&mut body), cx)
                    })
                    .await
                    {
                        None => None,
                        Some(Err(error)) => Some((Err(error), None)),
                        Some(Ok(frame)) => match frame.into_data() {
                            Ok(data) => Some((Ok(data), Some(body))),
                            Err(_) => Some((Ok(Bytes::new()), Some(body))),
                        },
                    }
                })
            });
        let chunks = futures_lite::StreamExt::filter(
            chunks,
            |chunk| !matches!(chunk, Ok(bytes) if bytes.is_empty()),
        );
        Body::from_stream(chunks)
    }
}

impl Default for Multipart {
    fn default() -> Multipart {
        Multipart::new()
    }
}

impl fmt::Debug for Multipart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Multipart")
            .field("boundary", &self.boundary)
            .field("parts", &self.parts.len())
            .finish()
    }
}

/// A name or file name inside a quoted header parameter: quotes and line breaks escaped.
fn quote(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

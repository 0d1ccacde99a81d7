//! `ResponseExt`: clj-http's `:as` coercions of a response body.

use std::future::Future;

use bytes::Bytes;
use http::{Response, header};

use crate::Error;
use crate::bytes::Lines;
use crate::http::Body;

/// clj-http's `:as` on a response: the body as bytes, as text in the charset its
/// `Content-Type` names, as JSON (feature `json`), or as a source of lines. The raw body is
/// `into_body()`.
///
/// # Examples
///
/// ```
/// use weir::http::{self, Body, Request, Response, ServerOptions};
/// use weir::http::client::ResponseExt;
///
/// # weir::runtime::block_on(async {
/// let latin = |_: Request<Body>| {
///     let mut response = Response::new(Body::from(vec![0x63, 0x61, 0x66, 0xe9])); // "café"
///     response
///         .headers_mut()
///         .insert("content-type", "text/plain; charset=ISO-8859-1".parse().unwrap());
///     response
/// };
/// let server = http::start_server(latin, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
/// let response = http::get(format!("http://{}/", server.local_addr())).await.unwrap();
/// assert_eq!(response.text(1024).await.unwrap(), "café");
/// server.close().await.unwrap();
/// # });
/// ```
pub trait ResponseExt: Sized {
    /// The whole body, at most `limit` bytes (clj-http's `:as :byte-array`).
    fn bytes(self, limit: usize) -> impl Future<Output = Result<Bytes, Error>> + Send;

    /// The whole body as text (clj-http's `:as :string`), decoded from the charset of the
    /// `Content-Type` (UTF-8 when none is named; UTF-8, US-ASCII and ISO-8859-1/Latin-1 are
    /// known, another is an error).
    fn text(self, limit: usize) -> impl Future<Output = Result<String, Error>> + Send;

    /// The whole body parsed as JSON (clj-http's `:as :json`; feature `json`).
    #[cfg(feature = "json")]
    fn json<T: serde::de::DeserializeOwned>(
        self,
        limit: usize,
    ) -> impl Future<Output = Result<T, Error>> + Send;

    /// The body as a source of UTF-8 lines, each at most `max_line` bytes (a source of
    /// lines, as clj-http's `:as :stream` read line by line).
    fn lines(self, max_line: usize) -> Lines<Body>;
}

impl ResponseExt for Response<Body> {
    fn bytes(self, limit: usize) -> impl Future<Output = Result<Bytes, Error>> + Send {
        self.into_body().to_bytes(limit)
    }

    fn text(self, limit: usize) -> impl Future<Output = Result<String, Error>> + Send {
        let charset = charset(&self);
        async move {
            let bytes = self.into_body().to_bytes(limit).await?;
            decode(&bytes, &charset)
        }
    }

    #[cfg(feature = "json")]
    fn json<T: serde::de::DeserializeOwned>(
        self,
        limit: usize,
    ) -> impl Future<Output = Result<T, Error>> + Send {
        self.into_body().json(limit)
    }

    fn lines(self, max_line: usize) -> Lines<Body> {
        crate::bytes::lines(self.into_body(), max_line)
    }
}

/// The charset a response's `Content-Type` names, lower-cased; `utf-8` when none.
fn charset(response: &Response<Body>) -> String {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value.split(';').skip(1).find_map(|parameter| {
                let (name, value) = parameter.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("charset")
                    .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
            })
        })
        .unwrap_or_else(|| "utf-8".to_string())
}

fn decode(bytes: &[u8], charset: &str) -> Result<String, Error> {
    match charset {
        "utf-8" | "utf8" => String::from_utf8(bytes.to_vec())
            .map_err(|error| Error::protocol(format!("the body is not valid UTF-8: {error}"))),
        "us-ascii" | "ascii" if bytes.is_ascii() => Ok(String::from_utf8_lossy(bytes).into_owned()),
        "iso-8859-1" | "latin1" | "latin-1" | "us-ascii" | "ascii" => {
            Ok(bytes.iter().map(|&byte| char::from(byte)).collect())
        }
        other => Err(Error::msg(format!(
            "the body's charset {other:?} is not one weir decodes"
        ))),
    }
}

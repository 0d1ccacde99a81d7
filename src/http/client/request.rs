//! `ClientRequest`: a request and its per-request options, built clj-http style.

use std::fmt;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, Request, Uri, header};

use crate::Error;
use crate::http::Body;

/// A request to send with a [`Client`](super::Client) or [`request`](super::request): the
/// method, URL, headers and body, plus the per-request options of Aleph's `request` (query
/// parameters, auth, timeouts).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::http::{ClientRequest, Method};
///
/// let request = ClientRequest::new(Method::POST, "http://127.0.0.1:8080/echo")
///     .query([("page", "2")])
///     .header("x-trace", "42")
///     .body("hello")
///     .request_timeout(Duration::from_secs(5));
/// assert_eq!(request.uri().unwrap().to_string(), "http://127.0.0.1:8080/echo?page=2");
/// ```
pub struct ClientRequest {
    pub(crate) method: Method,
    pub(crate) uri: Result<Uri, Error>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Body,
    pub(crate) error: Option<Error>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) follow_redirects: Option<bool>,
    pub(crate) max_redirects: Option<usize>,
    pub(crate) unix_socket: Option<std::path::PathBuf>,
    pub(crate) expect_continue: Option<Duration>,
    pub(crate) throw_on_status: Option<bool>,
    pub(crate) upload_progress: Option<super::progress::Callback>,
    pub(crate) download_progress: Option<super::progress::Callback>,
}

impl ClientRequest {
    /// A request with `method` to `url` (absolute, `http` or `https`). A URL that does not
    /// parse makes the request fail when sent, with the parse error.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "https://example.com/a b");
    /// assert!(request.uri().is_err());
    /// ```
    pub fn new(method: Method, url: impl AsRef<str>) -> ClientRequest {
        let url = url.as_ref();
        let uri = url
            .parse::<Uri>()
            .map_err(|error| Error::msg(format!("invalid URL {url:?}: {error}")))
            .and_then(|uri| {
                match uri.scheme_str() {
                    Some("http") | Some("https") => {}
                    _ => {
                        return Err(Error::msg(format!(
                            "invalid URL {url:?}: the scheme must be http or https"
                        )));
                    }
                }
                if uri.host().is_none() {
                    return Err(Error::msg(format!("invalid URL {url:?}: no host")));
                }
                Ok(uri)
            });
        ClientRequest {
            method,
            uri,
            headers: http::HeaderMap::new(),
            body: Body::empty(),
            error: None,
            request_timeout: None,
            read_timeout: None,
            total_timeout: None,
            follow_redirects: None,
            max_redirects: None,
            unix_socket: None,
            expect_continue: None,
            throw_on_status: None,
            upload_progress: None,
            download_progress: None,
        }
    }

    /// A request from an `http::Request`; its URI must be absolute.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{Body, ClientRequest, Request};
    /// let request = Request::post("http://localhost/x").body(Body::from("b")).unwrap();
    /// let request = ClientRequest::from_request(request);
    /// assert_eq!(request.uri().unwrap().path(), "/x");
    /// ```
    pub fn from_request(request: Request<Body>) -> ClientRequest {
        let (parts, body) = request.into_parts();
        let mut built = ClientRequest::new(parts.method, parts.uri.to_string());
        built.headers = parts.headers;
        built.body = body;
        built
    }

    /// The URL, with the query parameters added so far.
    ///
    /// # Examples
    ///
    /// See [`ClientRequest`].
    pub fn uri(&self) -> Result<&Uri, &Error> {
        self.uri.as_ref()
    }

    /// Adds a header (repeated names are kept, as `http::HeaderMap::append` does). A name or
    /// value that is not valid makes the request fail when sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let request = weir::http::ClientRequest::new(weir::http::Method::GET, "http://h/")
    ///     .header("accept", "text/plain");
    /// # let _ = request;
    /// ```
    pub fn header<K, V>(mut self, name: K, value: V) -> ClientRequest
    where
        K: TryInto<HeaderName>,
        K::Error: fmt::Display,
        V: TryInto<HeaderValue>,
        V::Error: fmt::Display,
    {
        match (name.try_into(), value.try_into()) {
            (Ok(name), Ok(value)) => {
                self.headers.append(name, value);
            }
            (Err(error), _) => self.fail(format!("invalid header name: {error}")),
            (_, Err(error)) => self.fail(format!("invalid header value: {error}")),
        }
        self
    }

    /// The request body: anything a [`Body`] is made from, streamed with backpressure.
    ///
    /// # Examples
    ///
    /// ```
    /// let request = weir::http::ClientRequest::new(weir::http::Method::PUT, "http://h/")
    ///     .body(vec![1u8, 2, 3]);
    /// # let _ = request;
    /// ```
    pub fn body(mut self, body: impl Into<Body>) -> ClientRequest {
        self.body = body.into();
        self
    }

    /// Appends query parameters to the URL, percent-encoded (clj-http's `:query-params`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/search?lang=en")
    ///     .query([("q", "a b&c")]);
    /// assert_eq!(request.uri().unwrap().query(), Some("lang=en&q=a+b%26c"));
    /// ```
    pub fn query<I, K, V>(mut self, pairs: I) -> ClientRequest
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            serializer.append_pair(key.as_ref(), value.as_ref());
        }
        let added = serializer.finish();
        self.append_query(added);
        self
    }

    /// A form body (`application/x-www-form-urlencoded`, clj-http's `:form-params`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::POST, "http://h/login")
    ///     .form([("user", "ada"), ("pass", "x y")]);
    /// # let _ = request;
    /// ```
    pub fn form<I, K, V>(mut self, pairs: I) -> ClientRequest
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut serializer = form_urlencoded::Serializer::new(String::new());
        for (key, value) in pairs {
            serializer.append_pair(key.as_ref(), value.as_ref());
        }
        self.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        self.body = Body::from(serializer.finish());
        self
    }

    /// A JSON body (feature `json`; clj-http's `:form-params` with `:content-type :json`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::POST, "http://h/api")
    ///     .json(&serde_json::json!({"n": 1}));
    /// # let _ = request;
    /// ```
    #[cfg(feature = "json")]
    pub fn json<T: serde::Serialize + ?Sized>(mut self, value: &T) -> ClientRequest {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self.headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                self.body = Body::from(bytes);
            }
            Err(error) => self.fail(format!("the JSON body does not serialize: {error}")),
        }
        self
    }

    /// The `Accept` header, with clj-http's shorthands (`:accept :json`): `"json"`, `"xml"`,
    /// `"html"`, `"text"`, `"form"`, `"edn"`, `"transit+json"` become
    /// `application/json`…; anything with a `/` is used as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/").accept("json");
    /// assert!(format!("{request:?}").contains("application/json"));
    /// ```
    pub fn accept(self, media_type: &str) -> ClientRequest {
        let full = media_type_of(media_type);
        self.header(header::ACCEPT, full.as_str())
    }

    /// The `Content-Type` header, with the shorthands of [`accept`](Self::accept)
    /// (clj-http's `:content-type :json`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::POST, "http://h/").content_type("text").body("hi");
    /// assert!(format!("{request:?}").contains("text/plain"));
    /// ```
    pub fn content_type(mut self, media_type: &str) -> ClientRequest {
        let full = media_type_of(media_type);
        self.headers.remove(header::CONTENT_TYPE);
        self.header(header::CONTENT_TYPE, full.as_str())
    }

    /// A `multipart/form-data` body (clj-http's `:multipart`), its parts streamed; works over
    /// HTTP/1.1 and HTTP/2 (Aleph refuses HTTP/2).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::client::Multipart;
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::POST, "http://h/upload")
    ///     .multipart(Multipart::new().text("name", "value"));
    /// assert!(format!("{request:?}").contains("multipart/form-data"));
    /// ```
    pub fn multipart(mut self, form: super::Multipart) -> ClientRequest {
        self.headers
            .insert(header::CONTENT_TYPE, form.content_type());
        self.body = form.into_body();
        self
    }

    /// Calls `progress` as the request body goes out, with the bytes sent so far and the
    /// total when known (reqwest#222 asks for it).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::PUT, "http://h/big")
    ///     .body(vec![0u8; 1 << 20])
    ///     .on_upload_progress(|sent, total| println!("{sent} of {total:?}"));
    /// # let _ = request;
    /// ```
    pub fn on_upload_progress<F>(mut self, progress: F) -> ClientRequest
    where
        F: Fn(u64, Option<u64>) + Send + Sync + 'static,
    {
        self.upload_progress = Some(std::sync::Arc::new(progress));
        self
    }

    /// Calls `progress` as the response body arrives (as it is read), with the bytes so far
    /// and the total its `Content-Length` gives.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/big")
    ///     .on_download_progress(|got, total| println!("{got} of {total:?}"));
    /// # let _ = request;
    /// ```
    pub fn on_download_progress<F>(mut self, progress: F) -> ClientRequest
    where
        F: Fn(u64, Option<u64>) + Send + Sync + 'static,
    {
        self.download_progress = Some(std::sync::Arc::new(progress));
        self
    }

    /// HTTP basic auth (clj-http's `:basic-auth`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/").basic_auth("ada", "secret");
    /// # let _ = request;
    /// ```
    pub fn basic_auth(mut self, user: &str, password: &str) -> ClientRequest {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        match HeaderValue::from_str(&format!("Basic {token}")) {
            Ok(mut value) => {
                value.set_sensitive(true);
                self.headers.insert(header::AUTHORIZATION, value);
            }
            Err(error) => self.fail(format!("invalid basic auth: {error}")),
        }
        self
    }

    /// A bearer token (clj-http's `:oauth-token`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/").bearer_auth("t0k3n");
    /// # let _ = request;
    /// ```
    pub fn bearer_auth(mut self, token: &str) -> ClientRequest {
        match HeaderValue::from_str(&format!("Bearer {token}")) {
            Ok(mut value) => {
                value.set_sensitive(true);
                self.headers.insert(header::AUTHORIZATION, value);
            }
            Err(error) => self.fail(format!("invalid bearer token: {error}")),
        }
        self
    }

    /// The limit from sending until the response head, for this request.
    ///
    /// # Examples
    ///
    /// See [`ClientRequest`].
    pub fn request_timeout(mut self, timeout: Duration) -> ClientRequest {
        self.request_timeout = Some(timeout);
        self
    }

    /// The limit on reading the response body to its end, for this request.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/").read_timeout(Duration::from_secs(1));
    /// # let _ = request;
    /// ```
    pub fn read_timeout(mut self, timeout: Duration) -> ClientRequest {
        self.read_timeout = Some(timeout);
        self
    }

    /// The limit on the whole request, body included, for this request.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/").total_timeout(Duration::from_secs(1));
    /// # let _ = request;
    /// ```
    pub fn total_timeout(mut self, timeout: Duration) -> ClientRequest {
        self.total_timeout = Some(timeout);
        self
    }

    /// Follows redirects for this request, or not (default: the client's,
    /// [`ClientOptions::follow_redirects`](super::ClientOptions::follow_redirects)).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/old").follow_redirects(false);
    /// # let _ = request;
    /// ```
    pub fn follow_redirects(mut self, follow: bool) -> ClientRequest {
        self.follow_redirects = Some(follow);
        self
    }

    /// Follows at most `max` redirects for this request (default: the client's).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/old").max_redirects(3);
    /// # let _ = request;
    /// ```
    pub fn max_redirects(mut self, max: usize) -> ClientRequest {
        self.max_redirects = Some(max);
        self
    }

    /// Connects to the Unix domain socket at `path` instead of the URL's host, as
    /// `curl --unix-socket` does (container and daemon APIs); the URL still gives the path and
    /// the `Host` header. Connections are pooled per socket like any host.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://localhost/v1.45/containers/json")
    ///     .unix_socket("/var/run/docker.sock");
    /// # let _ = request;
    /// ```
    #[cfg(unix)]
    pub fn unix_socket(mut self, path: impl Into<std::path::PathBuf>) -> ClientRequest {
        self.unix_socket = Some(path.into());
        self
    }

    /// Sends `Expect: 100-continue` and holds the body back until the server answers `100
    /// Continue`, or `wait` passes (for servers that ignore the expectation), over HTTP/1.1
    /// and HTTP/2: a large upload refused by the server (401, 413, 417…) is then never sent.
    /// (Over HTTP/2 a successful final response before any 100 also releases the body: the
    /// server wants it.) Neither hyper nor reqwest waits (reqwest#2845). An empty body is sent
    /// without the expectation.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir::http::{ClientRequest, Method};
    /// let upload = ClientRequest::new(Method::PUT, "http://h/big")
    ///     .body(vec![0u8; 1 << 20])
    ///     .expect_continue(Duration::from_secs(1));
    /// # let _ = upload;
    /// ```
    pub fn expect_continue(mut self, wait: Duration) -> ClientRequest {
        self.expect_continue = Some(wait);
        self
    }

    /// Fails the request with a [`ResponseError`](super::ResponseError) when the response is a
    /// 4xx or 5xx (default: the client's, on), or hands such responses back as any other.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientRequest, Method};
    /// let request = ClientRequest::new(Method::GET, "http://h/maybe-missing").throw_on_status(false);
    /// # let _ = request;
    /// ```
    pub fn throw_on_status(mut self, throw: bool) -> ClientRequest {
        self.throw_on_status = Some(throw);
        self
    }

    /// The per-request options of `self`, to carry over to a request that follows it.
    pub(crate) fn carried(&self) -> Carried {
        Carried {
            request_timeout: self.request_timeout,
            read_timeout: self.read_timeout,
            total_timeout: self.total_timeout,
            follow_redirects: self.follow_redirects,
            max_redirects: self.max_redirects,
            unix_socket: self.unix_socket.clone(),
            expect_continue: self.expect_continue,
            throw_on_status: self.throw_on_status,
        }
    }

    /// Query parameters from any serde value, nested maps as `a[b]=1` and sequences in the
    /// [`ParamStyle`] asked for (clj-http's `:query-params` with `:multi-param-style`; feature
    /// `json`, through serde_qs).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::client::ParamStyle;
    /// use weir::http::{ClientRequest, Method};
    ///
    /// let params = serde_json::json!({"tag": ["a", "b"], "filter": {"year": 2024}});
    /// let url = "http://h/search";
    /// let query = |style| {
    ///     ClientRequest::new(Method::GET, url).query_params(&params, style).uri().unwrap().query().unwrap().to_string()
    /// };
    /// assert_eq!(query(ParamStyle::Repeated), "filter[year]=2024&tag=a&tag=b");
    /// assert_eq!(query(ParamStyle::Indexed), "filter[year]=2024&tag[0]=a&tag[1]=b");
    /// assert_eq!(query(ParamStyle::Array), "filter[year]=2024&tag[]=a&tag[]=b");
    /// assert_eq!(query(ParamStyle::Comma), "filter[year]=2024&tag=a,b");
    /// ```
    #[cfg(feature = "json")]
    pub fn query_params<T: serde::Serialize>(
        mut self,
        params: &T,
        style: ParamStyle,
    ) -> ClientRequest {
        let format = match style {
            ParamStyle::Repeated | ParamStyle::Comma => serde_qs::ArrayFormat::Unindexed,
            ParamStyle::Indexed => serde_qs::ArrayFormat::Indexed,
            ParamStyle::Array => serde_qs::ArrayFormat::EmptyIndexed,
        };
        let encoded = serde_qs::Config::new()
            .array_format(format)
            .serialize_string(params);
        match encoded {
            Ok(encoded) => {
                let encoded = if style == ParamStyle::Comma {
                    comma_joined(&encoded)
                } else {
                    encoded
                };
                self.append_query(encoded);
            }
            Err(error) => self.fail(format!("the query parameters do not serialize: {error}")),
        }
        self
    }

    /// Appends an encoded query to the URL's.
    fn append_query(&mut self, added: String) {
        let Ok(uri) = &self.uri else { return };
        if added.is_empty() {
            return;
        }
        let path = uri.path();
        let query = match uri.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{added}"),
            _ => added,
        };
        let mut parts = uri.clone().into_parts();
        parts.path_and_query = format!("{path}?{query}").parse().ok();
        match Uri::from_parts(parts) {
            Ok(uri) => self.uri = Ok(uri),
            Err(error) => self.fail(format!("invalid query: {error}")),
        }
    }

    fn fail(&mut self, message: String) {
        if self.error.is_none() {
            self.error = Some(Error::msg(message));
        }
    }
}

/// How [`ClientRequest::query_params`] writes a sequence (clj-http's `:multi-param-style`).
#[cfg(feature = "json")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamStyle {
    /// `a=1&a=2` (clj-http's default).
    #[default]
    Repeated,
    /// `a[0]=1&a[1]=2` (`:indexed`).
    Indexed,
    /// `a[]=1&a[]=2` (`:array`).
    Array,
    /// `a=1,2` (`:comma`, which serde_qs lacks).
    Comma,
}

/// Joins the values of repeated keys with commas, keys in first-seen order.
#[cfg(feature = "json")]
fn comma_joined(encoded: &str) -> String {
    let mut keys: Vec<&str> = Vec::new();
    let mut values: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for pair in encoded.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let entry = values.entry(key).or_default();
        if entry.is_empty() {
            keys.push(key);
        }
        entry.push(value);
    }
    keys.iter()
        .map(|key| format!("{key}={}", values[key].join(",")))
        .collect::<Vec<_>>()
        .join("&")
}

/// The per-request options a redirect's request keeps.
pub(crate) struct Carried {
    request_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    total_timeout: Option<Duration>,
    follow_redirects: Option<bool>,
    max_redirects: Option<usize>,
    unix_socket: Option<std::path::PathBuf>,
    expect_continue: Option<Duration>,
    throw_on_status: Option<bool>,
}

impl Carried {
    pub(crate) fn apply(self, next: &mut ClientRequest) {
        next.request_timeout = self.request_timeout;
        next.read_timeout = self.read_timeout;
        next.total_timeout = self.total_timeout;
        next.follow_redirects = self.follow_redirects;
        next.max_redirects = self.max_redirects;
        next.unix_socket = self.unix_socket;
        next.expect_continue = self.expect_continue;
        next.throw_on_status = self.throw_on_status;
    }
}

/// clj-http's media type shorthands.
fn media_type_of(short: &str) -> String {
    match short.trim_start_matches(':') {
        "json" => "application/json".to_string(),
        "xml" => "application/xml".to_string(),
        "html" => "text/html".to_string(),
        "text" => "text/plain".to_string(),
        "form" | "x-www-form-urlencoded" => "application/x-www-form-urlencoded".to_string(),
        "edn" => "application/edn".to_string(),
        "transit+json" => "application/transit+json".to_string(),
        "transit+msgpack" => "application/transit+msgpack".to_string(),
        "octet-stream" | "bytes" => "application/octet-stream".to_string(),
        other if other.contains('/') => other.to_string(),
        other => format!("application/{other}"),
    }
}

impl fmt::Debug for ClientRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRequest")
            .field("method", &self.method)
            .field("uri", &self.uri.as_ref().ok())
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

impl From<Request<Body>> for ClientRequest {
    fn from(request: Request<Body>) -> ClientRequest {
        ClientRequest::from_request(request)
    }
}

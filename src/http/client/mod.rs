//! The HTTP client: clj-http's API over a pooled HTTP/1.1 and HTTP/2 client, every request
//! returning at once a [`Deferred`] of its response.
//!
//! [`Client`] is Aleph's connection pool plus its defaults; create one and share it (clones
//! share the pool). The free functions ([`get`], [`post`], [`request`]…) use a default client
//! made on first use. A response is an `http::Response<`[`Body`]`>`, its body a weir source of
//! `Bytes` as on the server.
//!
//! ```
//! use weir::http::{self, Body, Request, ServerOptions};
//!
//! # weir::runtime::block_on(async {
//! let server = http::start_server(|_: Request<Body>| "hello!", ServerOptions::new().address(([127, 0, 0, 1], 0)))
//!     .await
//!     .unwrap();
//! let response = http::get(format!("http://{}/", server.local_addr())).await.unwrap();
//! assert_eq!(response.status(), 200);
//! assert_eq!(response.into_body().to_string(1024).await.unwrap(), "hello!");
//! server.close().await.unwrap();
//! # });
//! ```
//!
//! Cancelling: realize the returned deferred yourself (with [`Error::cancelled`], say) and the
//! request stops: an HTTP/1.1 connection is closed, an HTTP/2 stream reset.
//!
//! # From Aleph
//!
//! | Aleph (`aleph.http`) | weir |
//! |---|---|
//! | `request`, `get`, `post`, `put`, `patch`, `delete`, `head`, `options`, `trace` | [`request`], [`get`], [`post`], [`put`], [`patch`], [`delete`], [`head`], [`options`], [`trace`]; [`Client::request`] |
//! | `connection-pool` with `:connections-per-host`, `:total-connections`, `:max-queue-size` | [`Client::with_options`] with [`ClientOptions::connections_per_host`], [`ClientOptions::total_connections`], [`ClientOptions::max_queue_size`] |
//! | `:pool-timeout`, `:connection-timeout`, `:request-timeout`, `:read-timeout` | [`ClientOptions::pool_timeout`], [`ClientOptions::connect_timeout`], [`ClientOptions::request_timeout`], [`ClientOptions::read_timeout`] (and per request on [`ClientRequest`]); each with its predicate ([`Error::is_pool_timeout`]…) |
//! | `cancel-request!`, an error put into the response deferred | realize the returned [`Deferred`] with an error |
//! | `:http-versions`, `:force-h2c?`, `:ssl-context` | [`ClientOptions::http_versions`], [`ClientOptions::force_h2c`], [`ClientOptions::tls`] |
//! | `:query-params` with nested maps and `:multi-param-style` (`:default`, `:indexed`, `:array`) | `ClientRequest::query_params` with `ParamStyle` (`Repeated`, `Indexed`, `Array`, and `Comma`), feature `json` |
//! | `:accept`, `:content-type` shorthands | [`ClientRequest::accept`], [`ClientRequest::content_type`] (`"json"` → `application/json`…) |
//! | `:query-params` (flat), `:form-params`, `:basic-auth`, `:oauth-token`, JSON bodies | [`ClientRequest::query`], [`ClientRequest::form`], [`ClientRequest::basic_auth`], [`ClientRequest::bearer_auth`], `ClientRequest::json` |
//! | stats callback | [`Client::stats`] |
//! | `:follow-redirects?`, `:max-redirects` (20), `:trace-redirects` | [`ClientOptions::follow_redirects`] (on), [`ClientOptions::max_redirects`] (20), [`ClientRequest::follow_redirects`]; the trace is the response's [`RedirectTrace`]. 301/302/303 become GET (clj-http follows 301/302 only for GET/HEAD unless `:force-redirects`; weir follows them as browsers and reqwest do), 307/308 keep method and body, other origins lose the credentials |
//! | (no decompression: aleph#683) | [`ClientOptions::decompress`] (on with the `compression` feature): `Accept-Encoding` sent, gzip/deflate/br/zstd decoded as they stream |
//! | `:cookie-store`, `in-memory-cookie-store` | [`ClientOptions::cookie_store`] with a [`CookieJar`] or any [`CookieStore`]; used across redirects |
//! | `:name-resolver`, `:dns-options` (`:address-types`, `:query-timeout`) | [`ClientOptions::resolver`]: any [`Resolve`], default [`SystemResolver`] with [`AddressFamily`] and a timeout; addresses raced happy-eyeballs style |
//! | (none; `curl --unix-socket`) | [`ClientRequest::unix_socket`]: pooled per socket |
//! | `Expect: 100-continue` (not in Aleph, hyper or reqwest) | [`ClientRequest::expect_continue`]: the body waits for the 100, or a timeout |
//! | `:throw-exceptions` (on) | [`ClientOptions::throw_on_status`] (on), [`ClientRequest::throw_on_status`]: a 4xx or 5xx fails the deferred with a [`ResponseError`] carrying the response |
//! | `:proxy-options` (`:protocol` `:http`/`:socks4`/`:socks5`, `:user`, `:password`, `:http-headers`, `:tunnel?`, `:connection-timeout`) | [`ClientOptions::proxy`] with a [`Proxy`]: plain requests in absolute form, or tunnelled with [`Proxy::tunnel`] (`:tunnel?`); `CONNECT` tunnels for https always; SOCKS through tokio-socks |
//! | `:as` (`:byte-array`, `:string`, `:json`, `:stream`) | [`ResponseExt`]: `bytes`, `text` (charset from `Content-Type`), `json`, `lines`; the raw body is `into_body()` |

mod coerce;
pub(crate) mod connect;
mod cookies;
#[cfg(feature = "compression")]
mod decompress;
mod multipart;
mod options;
pub(crate) mod pool;
mod progress;
pub(crate) mod proxy;
mod redirect;
mod request;
pub(crate) mod resolve;
mod send;
mod status_error;
pub(crate) mod timeout;

use std::sync::OnceLock;

use http::{Method, Response};

use crate::deferred::drive::Drive;
use crate::http::Body;
use crate::{Deferred, Error};

pub use coerce::ResponseExt;
pub use cookies::{CookieJar, CookieStore};
pub use multipart::Multipart;
pub use options::ClientOptions;
pub use pool::HostStats;
pub use proxy::Proxy;
pub use redirect::RedirectTrace;
pub use request::ClientRequest;
#[cfg(feature = "json")]
pub use request::ParamStyle;
pub use resolve::{AddressFamily, Resolve, SystemResolver};
pub use status_error::ResponseError;
pub use timeout::{Phase, PhaseTimeout};

pub(crate) use timeout::phase_of;

/// A pooled HTTP client (Aleph's connection pool); clones share the pool.
///
/// # Examples
///
/// ```
/// use weir::http::{self, Body, Client, ClientRequest, Method, Request, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// let echo = |request: Request<Body>| async move {
///     request.into_body().to_bytes(1 << 20).await
/// };
/// let server = http::start_server(echo, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
/// let client = Client::new();
/// let url = format!("http://{}/echo", server.local_addr());
/// for _ in 0..3 {
///     let response = client
///         .request(ClientRequest::new(Method::POST, &url).body("ping"))
///         .await
///         .unwrap();
///     assert_eq!(response.into_body().to_bytes(64).await.unwrap(), "ping");
/// }
/// // One connection, reused.
/// let stats = &client.stats()[0];
/// assert_eq!((stats.connects, stats.reused), (1, 2));
/// server.close().await.unwrap();
/// # });
/// ```
#[derive(Clone)]
pub struct Client {
    pool: pool::Pool,
}

impl Client {
    /// A client with the default options.
    ///
    /// # Examples
    ///
    /// See [`Client`].
    pub fn new() -> Client {
        Client::with_options(ClientOptions::new())
    }

    /// A client with `options`.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = weir::http::Client::with_options(weir::http::ClientOptions::new().connections_per_host(2));
    /// assert!(client.stats().is_empty());
    /// ```
    pub fn with_options(options: ClientOptions) -> Client {
        let callback = options.stats_callback.clone();
        let pool = pool::Pool::new(options);
        if let Some((interval, callback)) = callback {
            let weak = pool.downgrade();
            crate::runtime::spawn_detached_on(pool.options().executor.as_ref(), async move {
                loop {
                    crate::runtime::sleep(interval).await;
                    let Some(pool) = pool::Pool::upgrade(&weak) else {
                        return;
                    };
                    let stats = pool.stats();
                    drop(pool);
                    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(&stats)))
                        .is_err()
                    {
                        log::error!("weir: http client: the stats callback panicked");
                    }
                }
            });
        }
        Client { pool }
    }

    /// Sends `request`; the deferred is realized with the response once its head arrived (the
    /// body then streams), or with the error. Realizing the deferred yourself with an error
    /// cancels the request: an HTTP/1.1 connection is closed, an HTTP/2 stream reset.
    ///
    /// # Cancel safety
    ///
    /// The request runs on its own: dropping the deferred does not stop it (realize it with an
    /// error to cancel).
    ///
    /// # Examples
    ///
    /// See [`Client`].
    pub fn request(&self, request: impl Into<ClientRequest>) -> Deferred<Response<Body>, Error> {
        let request = request.into();
        let response = Deferred::new();
        // One future for the task (the work is stored once): it realizes the response, or
        // stops when the deferred is realized from outside (the caller cancelled).
        crate::runtime::spawn_detached_on(
            self.pool.options().executor.as_ref(),
            Drive::new(response.realizer(), execute(self.pool.clone(), request)),
        );
        response
    }

    /// A GET of `url`.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = weir::http::Client::new();
    /// let refused = client.get("http://127.0.0.1:1/").wait();
    /// assert!(refused.unwrap_err().is_io());
    /// ```
    pub fn get(&self, url: impl AsRef<str>) -> Deferred<Response<Body>, Error> {
        self.request(ClientRequest::new(Method::GET, url))
    }

    /// A snapshot of the pool, one entry per host it has connections or waiting requests
    /// for, sorted by host.
    ///
    /// # Examples
    ///
    /// See [`Client`].
    pub fn stats(&self) -> Vec<HostStats> {
        self.pool.stats()
    }
}

/// One request through the middleware: default headers, redirects, decompression.
///
/// Not an `async fn`: one would keep a second copy of `request` (its argument) for as long as
/// the request runs; the block below uses the one it captured.
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would store its argument twice"
)]
fn execute(
    pool: pool::Pool,
    mut request: ClientRequest,
) -> impl std::future::Future<Output = Result<Response<Body>, Error>> + Send + 'static {
    async move {
        let pool = &pool;
        let options = pool.options();
        let follow = request.follow_redirects.unwrap_or(options.follow_redirects);
        let throw = request.throw_on_status.unwrap_or(options.throw_on_status);
        let max_redirects = request.max_redirects.unwrap_or(options.max_redirects);
        #[cfg(feature = "compression")]
        let decompress =
            options.decompress && !request.headers.contains_key(http::header::ACCEPT_ENCODING);
        #[cfg(feature = "compression")]
        if decompress {
            request
                .headers
                .insert(http::header::ACCEPT_ENCODING, decompress::ACCEPT_ENCODING);
        }
        let mut trace = RedirectTrace::default();
        if let Some(progress) = request.upload_progress.take() {
            let body = std::mem::take(&mut request.body);
            request.body = progress::track(body, progress);
        }
        let download_progress = request.download_progress.take();
        loop {
            if let Some(error) = request.error.take() {
                return Err(error);
            }
            let method = request.method.clone();
            let uri = request.uri.clone()?;
            let headers = request.headers.clone();
            let replay = request.body.try_clone();
            let url = options
                .cookie_store
                .as_ref()
                .and_then(|_| url::Url::parse(&uri.to_string()).ok());
            if let (Some(store), Some(url)) = (&options.cookie_store, &url) {
                if !request.headers.contains_key(http::header::COOKIE) {
                    if let Some(cookies) = store.cookies(url) {
                        request.headers.insert(http::header::COOKIE, cookies);
                    }
                }
            }
            let carried = request.carried();
            let response = send::send(pool, request).await?;
            if let (Some(store), Some(url)) = (&options.cookie_store, &url) {
                store.set_cookies(
                    &mut response.headers().get_all(http::header::SET_COOKIE).iter(),
                    url,
                );
            }
            let redirected =
                follow && response.status().is_redirection() && trace.urls().len() < max_redirects;
            let mut response = if redirected {
                match redirect::next(response, &method, &uri, &headers, replay)? {
                    redirect::Next::Follow(mut next) => {
                        carried.apply(&mut next);
                        redirect::record(&mut trace, uri);
                        request = next;
                        continue;
                    }
                    redirect::Next::Done(response) => response,
                }
            } else {
                response
            };
            if !trace.urls().is_empty() {
                response.extensions_mut().insert(trace);
            }
            #[cfg(feature = "compression")]
            if decompress {
                response = decompress::decode(response);
            }
            if let Some(progress) = &download_progress {
                let (parts, body) = response.into_parts();
                response = Response::from_parts(parts, progress::track(body, progress.clone()));
            }
            if throw {
                return status_error::check(response, &uri);
            }
            return Ok(response);
        }
    }
}

impl Default for Client {
    fn default() -> Client {
        Client::new()
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("options", self.pool.options())
            .finish_non_exhaustive()
    }
}

/// The client the free functions use, made with the default options on first use.
///
/// # Examples
///
/// ```
/// let client = weir::http::client::default_client();
/// assert!(format!("{client:?}").contains("connections_per_host"));
/// ```
pub fn default_client() -> &'static Client {
    static DEFAULT: OnceLock<Client> = OnceLock::new();
    DEFAULT.get_or_init(Client::new)
}

/// Sends `request` with the [default client](default_client); see [`Client::request`].
///
/// # Cancel safety
///
/// As [`Client::request`].
///
/// # Examples
///
/// ```
/// use weir::http::{ClientRequest, Method};
/// let refused = weir::http::request(ClientRequest::new(Method::GET, "http://127.0.0.1:1/")).wait();
/// assert!(refused.is_err());
/// ```
pub fn request(request: impl Into<ClientRequest>) -> Deferred<Response<Body>, Error> {
    default_client().request(request)
}

macro_rules! without_body {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// # Cancel safety
        ///
        /// As [`Client::request`].
        pub fn $name(url: impl AsRef<str>) -> Deferred<Response<Body>, Error> {
            request(ClientRequest::new(Method::$method, url))
        }
    )*};
}

macro_rules! with_body {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {$(
        $(#[$doc])*
        ///
        /// # Cancel safety
        ///
        /// As [`Client::request`].
        pub fn $name(url: impl AsRef<str>, body: impl Into<Body>) -> Deferred<Response<Body>, Error> {
            request(ClientRequest::new(Method::$method, url).body(body))
        }
    )*};
}

without_body! {
    /// A GET of `url` with the default client.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::http::get("http://127.0.0.1:1/").wait().is_err());
    /// ```
    get => GET;
    /// A HEAD of `url` with the default client.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::http::head("http://127.0.0.1:1/").wait().is_err());
    /// ```
    head => HEAD;
    /// A DELETE of `url` with the default client.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::http::delete("http://127.0.0.1:1/").wait().is_err());
    /// ```
    delete => DELETE;
    /// An OPTIONS of `url` with the default client.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::http::options("http://127.0.0.1:1/").wait().is_err());
    /// ```
    options => OPTIONS;
    /// A TRACE of `url` with the default client.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::http::trace("http://127.0.0.1:1/").wait().is_err());
    /// ```
    trace => TRACE;
}

with_body! {
    /// A POST of `body` to `url` with the default client.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::http::post("http://127.0.0.1:1/", "data").wait().is_err());
    /// ```
    post => POST;
    /// A PUT of `body` to `url` with the default client.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::http::put("http://127.0.0.1:1/", "data").wait().is_err());
    /// ```
    put => PUT;
    /// A PATCH of `body` to `url` with the default client.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::http::patch("http://127.0.0.1:1/", "data").wait().is_err());
    /// ```
    patch => PATCH;
}

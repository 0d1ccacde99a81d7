//! `ClientOptions`: the pool's limits, the connection options and the default timeouts.

use std::fmt;
use std::time::Duration;

use http::HeaderValue;

use crate::http::HttpVersion;
use crate::runtime::Executor;

/// Options of a [`Client`](super::Client): Aleph's `connection-pool` options and its
/// `:connection-options`.
///
/// | option | default | Aleph |
/// |---|---|---|
/// | [`connections_per_host`](Self::connections_per_host) | 8 | `:connections-per-host` |
/// | [`total_connections`](Self::total_connections) | 1024 | `:total-connections` |
/// | [`max_queue_size`](Self::max_queue_size) | 65 536 | `:max-queue-size` |
/// | [`idle_timeout`](Self::idle_timeout) | 90 s | `:idle-timeout` |
/// | [`keep_alive`](Self::keep_alive) | on | `:keep-alive?` |
/// | [`http_versions`](Self::http_versions) | HTTP/1.1 | `:http-versions` |
/// | [`force_h2c`](Self::force_h2c) | off | `:force-h2c?` |
/// | [`http2_keep_alive_interval`](Self::http2_keep_alive_interval), [`http2_keep_alive_timeout`](Self::http2_keep_alive_timeout) | no PINGs; 20 s | (none) |
/// | [`tls`](Self::tls) | the platform's and webpki's roots | `:ssl-context`, `:insecure?` |
/// | [`connect_timeout`](Self::connect_timeout) | 30 s | `:connect-timeout` |
/// | [`pool_timeout`](Self::pool_timeout), [`request_timeout`](Self::request_timeout), [`read_timeout`](Self::read_timeout), [`total_timeout`](Self::total_timeout) | none | `:pool-timeout`, `:request-timeout`, `:read-timeout` |
/// | [`user_agent`](Self::user_agent) | `weir/<version>` | (clj-http's default) |
/// | [`max_response_body_size`](Self::max_response_body_size) | unlimited | (none) |
/// | [`executor`](Self::executor) | the current one | `:response-executor` |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::http::ClientOptions;
///
/// let options = ClientOptions::new()
///     .connections_per_host(4)
///     .connect_timeout(Duration::from_secs(5));
/// let client = weir::http::Client::with_options(options);
/// # let _ = client;
/// ```
#[derive(Clone)]
pub struct ClientOptions {
    pub(crate) connections_per_host: usize,
    pub(crate) total_connections: usize,
    pub(crate) max_queue_size: usize,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) keep_alive: bool,
    pub(crate) versions: Vec<HttpVersion>,
    pub(crate) force_h2c: bool,
    pub(crate) http2_keep_alive_interval: Option<Duration>,
    pub(crate) http2_keep_alive_timeout: Duration,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::ClientConfig>,
    pub(crate) connect_timeout: Duration,
    pub(crate) pool_timeout: Option<Duration>,
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) total_timeout: Option<Duration>,
    pub(crate) user_agent: Option<HeaderValue>,
    pub(crate) max_response_body_size: Option<u64>,
    pub(crate) executor: Option<Executor>,
    pub(crate) follow_redirects: bool,
    pub(crate) max_redirects: usize,
    pub(crate) decompress: bool,
    pub(crate) cookie_store: Option<std::sync::Arc<dyn super::CookieStore>>,
    pub(crate) resolver: std::sync::Arc<dyn super::Resolve>,
    pub(crate) stats_callback: Option<(Duration, std::sync::Arc<StatsCallback>)>,
    pub(crate) throw_on_status: bool,
    pub(crate) proxy: Option<super::Proxy>,
}

pub(crate) type StatsCallback = dyn Fn(&[super::HostStats]) + Send + Sync;

impl ClientOptions {
    /// The defaults; see the [table](ClientOptions).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new();
    /// assert!(format!("{options:?}").contains("connections_per_host: 8"));
    /// ```
    pub fn new() -> ClientOptions {
        ClientOptions {
            connections_per_host: 8,
            total_connections: 1024,
            max_queue_size: 65_536,
            idle_timeout: Some(Duration::from_secs(90)),
            keep_alive: true,
            versions: vec![HttpVersion::Http1],
            force_h2c: false,
            http2_keep_alive_interval: None,
            http2_keep_alive_timeout: Duration::from_secs(20),
            #[cfg(feature = "tls")]
            tls: None,
            connect_timeout: Duration::from_secs(30),
            pool_timeout: None,
            request_timeout: None,
            read_timeout: None,
            total_timeout: None,
            user_agent: Some(HeaderValue::from_static(concat!(
                "weir/",
                env!("CARGO_PKG_VERSION")
            ))),
            max_response_body_size: None,
            executor: None,
            follow_redirects: true,
            max_redirects: 20,
            decompress: true,
            cookie_store: None,
            resolver: std::sync::Arc::new(super::SystemResolver::new()),
            stats_callback: None,
            throw_on_status: true,
            proxy: None,
        }
    }

    /// Sends every request through `proxy` (Aleph's `:proxy-options`, per pool): see
    /// [`Proxy`](super::Proxy) for what each kind does.
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::ClientOptions;
    /// use weir::http::client::Proxy;
    /// let options = ClientOptions::new().proxy(Proxy::socks5("127.0.0.1", 1080));
    /// assert!(format!("{options:?}").contains("Socks5"));
    /// ```
    pub fn proxy(mut self, proxy: super::Proxy) -> Self {
        self.proxy = Some(proxy);
        self
    }

    /// Fails requests whose response is a 4xx or 5xx with a
    /// [`ResponseError`](super::ResponseError) carrying the response (default on, as clj-http's
    /// `:throw-exceptions`); off, such responses come back as any other.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().throw_on_status(false);
    /// assert!(format!("{options:?}").contains("throw_on_status: false"));
    /// ```
    pub fn throw_on_status(mut self, throw: bool) -> Self {
        self.throw_on_status = throw;
        self
    }

    /// Calls `callback` every `interval` with the pool's [stats](super::Client::stats), one
    /// entry per host (Aleph's `:stats-callback` and `:control-period`), for as long as the
    /// client lives.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ClientOptions::new().stats_callback(Duration::from_secs(60), |hosts| {
    ///     for host in hosts {
    ///         println!("{}: {} in use, {} idle, {} queued", host.host, host.in_use, host.idle, host.queued);
    ///     }
    /// });
    /// # let _ = options;
    /// ```
    pub fn stats_callback<F>(mut self, interval: Duration, callback: F) -> Self
    where
        F: Fn(&[super::HostStats]) + Send + Sync + 'static,
    {
        self.stats_callback = Some((
            interval.max(Duration::from_millis(1)),
            std::sync::Arc::new(callback),
        ));
        self
    }

    /// Resolves host names with `resolver` (Aleph's `:name-resolver`; default the
    /// [`SystemResolver`](super::SystemResolver): `getaddrinfo` on the blocking pool, 5 s
    /// timeout). The addresses it gives are tried happy-eyeballs style: the next one starts
    /// when the previous has not connected within 250 ms.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weir::http::ClientOptions;
    /// use weir::http::client::{AddressFamily, SystemResolver};
    /// let resolver = SystemResolver::new().family(AddressFamily::Ipv4First);
    /// let options = ClientOptions::new().resolver(Arc::new(resolver));
    /// # let _ = options;
    /// ```
    pub fn resolver(mut self, resolver: std::sync::Arc<dyn super::Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    /// Keeps cookies in `store` (clj-http's `:cookie-store`; default none): `Set-Cookie` of
    /// every response (redirects included) goes in, and each request carries the cookies
    /// that match its URL, unless it sets its own `Cookie` header.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weir::http::ClientOptions;
    /// use weir::http::client::CookieJar;
    /// let options = ClientOptions::new().cookie_store(Arc::new(CookieJar::new()));
    /// assert!(format!("{options:?}").contains("cookie_store: true"));
    /// ```
    pub fn cookie_store(mut self, store: std::sync::Arc<dyn super::CookieStore>) -> Self {
        self.cookie_store = Some(store);
        self
    }

    /// Follows redirects (default on, as clj-http): 301, 302 and 303 become a GET without a
    /// body, 307 and 308 keep the method and body (when the body can be sent again; a streamed
    /// one cannot, and the 307/308 is returned); a hop to another origin drops the
    /// `Authorization`, `Cookie` and `Proxy-Authorization` headers. The URLs passed through are
    /// in the response's [`RedirectTrace`](super::RedirectTrace).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().follow_redirects(false);
    /// assert!(format!("{options:?}").contains("follow_redirects: false"));
    /// ```
    pub fn follow_redirects(mut self, follow: bool) -> Self {
        self.follow_redirects = follow;
        self
    }

    /// At most this many redirects per request (default 20, as Aleph); the response of the
    /// last one followed is returned as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().max_redirects(5);
    /// assert!(format!("{options:?}").contains("max_redirects: 5"));
    /// ```
    pub fn max_redirects(mut self, max: usize) -> Self {
        self.max_redirects = max;
        self
    }

    /// Sends `Accept-Encoding: gzip, deflate, br, zstd` when a request has none, and
    /// decompresses responses that use one of them (default on with the `compression` feature;
    /// Aleph has no such middleware). A request that sets its own `Accept-Encoding` gets the
    /// body as sent.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().decompress(false);
    /// assert!(format!("{options:?}").contains("decompress: false"));
    /// ```
    pub fn decompress(mut self, decompress: bool) -> Self {
        self.decompress = decompress;
        self
    }

    /// At most this many connections per host (scheme, host and port), HTTP/1.1 and
    /// HTTP/2 together (default 8).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().connections_per_host(2);
    /// assert!(format!("{options:?}").contains("connections_per_host: 2"));
    /// ```
    pub fn connections_per_host(mut self, connections: usize) -> Self {
        self.connections_per_host = connections.max(1);
        self
    }

    /// At most this many connections over all hosts (default 1024).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().total_connections(64);
    /// assert!(format!("{options:?}").contains("total_connections: 64"));
    /// ```
    pub fn total_connections(mut self, connections: usize) -> Self {
        self.total_connections = connections.max(1);
        self
    }

    /// At most this many requests waiting for a connection per host (default 65 536); past it
    /// a request fails at once with a clear error instead of queueing without bound.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().max_queue_size(100);
    /// assert!(format!("{options:?}").contains("max_queue_size: 100"));
    /// ```
    pub fn max_queue_size(mut self, requests: usize) -> Self {
        self.max_queue_size = requests;
        self
    }

    /// Closes a pooled connection idle this long (default 90 s, under common servers'
    /// keep-alive timeouts; `None`: never).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ClientOptions::new().idle_timeout(Some(Duration::from_secs(10)));
    /// assert!(format!("{options:?}").contains("10s"));
    /// ```
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// Reuses connections (default on); off, each request gets a connection of its own, closed
    /// after the response.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().keep_alive(false);
    /// assert!(format!("{options:?}").contains("keep_alive: false"));
    /// ```
    pub fn keep_alive(mut self, keep_alive: bool) -> Self {
        self.keep_alive = keep_alive;
        self
    }

    /// The HTTP versions to offer by ALPN over TLS, in order of preference (default HTTP/1.1
    /// only, as Aleph).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientOptions, HttpVersion};
    /// let options = ClientOptions::new().http_versions([HttpVersion::Http2, HttpVersion::Http1]);
    /// assert!(format!("{options:?}").contains("[Http2, Http1]"));
    /// ```
    pub fn http_versions(mut self, versions: impl IntoIterator<Item = HttpVersion>) -> Self {
        let mut list = Vec::new();
        for version in versions {
            if !list.contains(&version) {
                list.push(version);
            }
        }
        if list.is_empty() {
            list.push(HttpVersion::Http1);
        }
        self.versions = list;
        self
    }

    /// Speaks HTTP/2 with prior knowledge to `http://` URLs (Aleph's `:force-h2c?`).
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().force_h2c(true);
    /// assert!(format!("{options:?}").contains("force_h2c: true"));
    /// ```
    pub fn force_h2c(mut self, h2c: bool) -> Self {
        self.force_h2c = h2c;
        self
    }

    /// Sends a PING on each HTTP/2 connection an `interval` after the last PONG (default: no
    /// PINGs), idle or busy: a connection whose PING goes unanswered for
    /// [`http2_keep_alive_timeout`](Self::http2_keep_alive_timeout) is closed, its requests
    /// fail with an error that says so, and the pool opens a new one for the next. What keeps
    /// a connection through a NAT or a proxy that drops quiet flows, and what finds a peer
    /// that vanished without a FIN. (HTTP/1.1 has no PING; its idle connections are checked
    /// when taken from the pool.)
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ClientOptions::new()
    ///     .http2_keep_alive_interval(Duration::from_secs(30))
    ///     .http2_keep_alive_timeout(Duration::from_secs(5));
    /// assert!(format!("{options:?}").contains("http2_keep_alive_interval: Some(30s)"));
    /// ```
    pub fn http2_keep_alive_interval(mut self, interval: Duration) -> Self {
        self.http2_keep_alive_interval = Some(interval);
        self
    }

    /// How long a keep-alive PING waits for its PONG before the connection is closed
    /// (default 20 s). Only with [`http2_keep_alive_interval`](Self::http2_keep_alive_interval).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ClientOptions::new().http2_keep_alive_timeout(Duration::from_secs(5));
    /// assert!(format!("{options:?}").contains("http2_keep_alive_timeout: 5s"));
    /// ```
    pub fn http2_keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.http2_keep_alive_timeout = timeout;
        self
    }

    /// The TLS configuration for `https://` URLs (default: the platform's and webpki's
    /// roots). Its ALPN list is replaced by [`http_versions`](Self::http_versions).
    ///
    /// # Examples
    ///
    /// ```
    /// let certificate = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let options = weir::http::ClientOptions::new().tls(certificate.client_config_trusting_it());
    /// assert!(format!("{options:?}").contains("tls: true"));
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::tls::ClientConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// The limit on connecting, TLS handshake included (default 30 s); past it the request
    /// fails with an error for which [`Error::is_connect_timeout`](crate::Error::is_connect_timeout)
    /// is true.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ClientOptions::new().connect_timeout(Duration::from_secs(3));
    /// assert!(format!("{options:?}").contains("3s"));
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The limit on waiting for a pooled connection (default none):
    /// [`is_pool_timeout`](crate::Error::is_pool_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ClientOptions::new().pool_timeout(Duration::from_secs(1));
    /// assert!(format!("{options:?}").contains("1s"));
    /// ```
    pub fn pool_timeout(mut self, timeout: Duration) -> Self {
        self.pool_timeout = Some(timeout);
        self
    }

    /// The default limit from sending a request to its response head (default none):
    /// [`is_request_timeout`](crate::Error::is_request_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ClientOptions::new().request_timeout(Duration::from_secs(2));
    /// assert!(format!("{options:?}").contains("2s"));
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = Some(timeout);
        self
    }

    /// The default limit on reading a response body to its end (default none): the body ends
    /// with an error for which [`is_read_timeout`](crate::Error::is_read_timeout) is true.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ClientOptions::new().read_timeout(Duration::from_secs(4));
    /// assert!(format!("{options:?}").contains("4s"));
    /// ```
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = Some(timeout);
        self
    }

    /// The default limit on a whole request, body included (default none):
    /// [`is_total_timeout`](crate::Error::is_total_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let options = weir::http::ClientOptions::new().total_timeout(Duration::from_secs(9));
    /// assert!(format!("{options:?}").contains("9s"));
    /// ```
    pub fn total_timeout(mut self, timeout: Duration) -> Self {
        self.total_timeout = Some(timeout);
        self
    }

    /// The `User-Agent` sent when a request has none (default `weir/<version>`; `None`:
    /// none).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::http::{ClientOptions, HeaderValue};
    /// let options = ClientOptions::new().user_agent(Some(HeaderValue::from_static("mine")));
    /// assert!(format!("{options:?}").contains("mine"));
    /// ```
    pub fn user_agent(mut self, agent: Option<HeaderValue>) -> Self {
        self.user_agent = agent;
        self
    }

    /// The largest response body read (default unlimited): a longer one ends with an error
    /// (an [`HttpError`](crate::http::HttpError) 413), nothing read past the limit.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = weir::http::ClientOptions::new().max_response_body_size(1 << 20);
    /// assert!(format!("{options:?}").contains("1048576"));
    /// ```
    pub fn max_response_body_size(mut self, bytes: u64) -> Self {
        self.max_response_body_size = Some(bytes);
        self
    }

    /// Runs the connections' tasks on `executor` (default: the one in effect where each
    /// connection is made; see [`runtime`](crate::runtime)).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::runtime::Executor;
    /// let options = weir::http::ClientOptions::new().executor(Executor::pool());
    /// assert!(format!("{options:?}").contains("executor: true"));
    /// ```
    pub fn executor(mut self, executor: Executor) -> Self {
        self.executor = Some(executor);
        self
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions::new()
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ClientOptions");
        s.field("connections_per_host", &self.connections_per_host)
            .field("total_connections", &self.total_connections)
            .field("max_queue_size", &self.max_queue_size)
            .field("idle_timeout", &self.idle_timeout)
            .field("keep_alive", &self.keep_alive)
            .field("http_versions", &self.versions)
            .field("force_h2c", &self.force_h2c)
            .field("http2_keep_alive_interval", &self.http2_keep_alive_interval)
            .field("http2_keep_alive_timeout", &self.http2_keep_alive_timeout);
        #[cfg(feature = "tls")]
        s.field("tls", &self.tls.is_some());
        s.field("connect_timeout", &self.connect_timeout)
            .field("pool_timeout", &self.pool_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("user_agent", &self.user_agent)
            .field("max_response_body_size", &self.max_response_body_size)
            .field("executor", &self.executor.is_some())
            .field("follow_redirects", &self.follow_redirects)
            .field("max_redirects", &self.max_redirects)
            .field("decompress", &self.decompress)
            .field("cookie_store", &self.cookie_store.is_some())
            .field("throw_on_status", &self.throw_on_status)
            .field("proxy", &self.proxy)
            .finish()
    }
}

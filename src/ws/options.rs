//! The options of both ends: `WebSocketOptions` (server), `WebSocketClientOptions` (client) and
//! `Heartbeats`.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use super::DeflateOptions;

/// Pings sent after a quiet interval, and what happens when no pong comes back: Aleph's
/// `:heartbeats`. tungstenite has none.
///
/// After `send_after_idle` without any frame read or written, the socket sends a ping with
/// [`payload`](Heartbeats::payload). If no pong (or any other frame) arrives within
/// [`timeout`](Heartbeats::timeout), the socket closes with code 1011
/// ([`CloseFrame::INTERNAL_ERROR`](super::CloseFrame::INTERNAL_ERROR)) and reason
/// `heartbeat timeout`, and the inbound side drains with that status as its cause.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::ws::{Heartbeats, WebSocketOptions};
///
/// let heartbeats = Heartbeats::new(Duration::from_secs(20))
///     .timeout(Duration::from_secs(10))
///     .payload("are you there?");
/// let options = WebSocketOptions::new().heartbeats(heartbeats);
/// # let _ = options;
/// ```
#[derive(Clone, Debug)]
pub struct Heartbeats {
    pub(crate) send_after_idle: Duration,
    pub(crate) timeout: Duration,
    pub(crate) payload: Bytes,
}

impl Heartbeats {
    /// A ping after `send_after_idle` without traffic; the pong must arrive within the same
    /// span unless [`timeout`](Heartbeats::timeout) says otherwise.
    ///
    /// ```
    /// let heartbeats = weir::ws::Heartbeats::new(std::time::Duration::from_secs(30));
    /// # let _ = heartbeats;
    /// ```
    pub fn new(send_after_idle: Duration) -> Heartbeats {
        Heartbeats {
            send_after_idle,
            timeout: send_after_idle,
            payload: Bytes::new(),
        }
    }

    /// How long to wait for the pong (default: the idle interval).
    ///
    /// ```
    /// use std::time::Duration;
    /// let heartbeats = weir::ws::Heartbeats::new(Duration::from_secs(30))
    ///     .timeout(Duration::from_secs(5));
    /// # let _ = heartbeats;
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Heartbeats {
        self.timeout = timeout;
        self
    }

    /// The ping's payload (default empty; at most 125 bytes are sent).
    ///
    /// ```
    /// let heartbeats = weir::ws::Heartbeats::new(std::time::Duration::from_secs(30))
    ///     .payload(&b"tick"[..]);
    /// # let _ = heartbeats;
    /// ```
    pub fn payload(mut self, payload: impl Into<Bytes>) -> Heartbeats {
        self.payload = payload.into();
        self
    }
}

/// What both ends share: limits, buffering, compression, heartbeats, the closing handshake.
#[derive(Clone, Debug)]
pub(crate) struct Common {
    pub(crate) max_frame_payload: usize,
    pub(crate) max_message_size: usize,
    pub(crate) max_fragments: usize,
    pub(crate) inbound_buffer: usize,
    pub(crate) compression: Option<DeflateOptions>,
    pub(crate) heartbeats: Option<Heartbeats>,
    pub(crate) close_timeout: Duration,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) headers: HeaderMap,
}

impl Default for Common {
    fn default() -> Common {
        Common {
            max_frame_payload: 16 * 1024 * 1024,
            max_message_size: 16 * 1024 * 1024,
            max_fragments: 128 * 1024,
            inbound_buffer: 16,
            compression: None,
            heartbeats: None,
            close_timeout: Duration::from_secs(5),
            subprotocols: Vec::new(),
            headers: HeaderMap::new(),
        }
    }
}

fn header(name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
    let value = HeaderValue::from_str(value).ok()?;
    Some((name, value))
}

macro_rules! common_options {
    ($options:ident) => {
        impl $options {
            /// The largest frame payload accepted (default 16 MiB); a larger frame closes the
            /// socket with 1009. Aleph's `:max-frame-payload`.
            ///
            /// ```
            #[doc = concat!("let options = weir::ws::", stringify!($options), "::new().max_frame_payload(1 << 20);")]
            /// # let _ = options;
            /// ```
            pub fn max_frame_payload(mut self, bytes: usize) -> Self {
                self.common.max_frame_payload = bytes.max(125);
                self
            }

            /// The largest message accepted, after joining fragments and after decompression
            /// (default 16 MiB); a larger one closes the socket with 1009, and decompression
            /// stops there (no zip bombs). Aleph's `:max-frame-size`.
            ///
            /// ```
            #[doc = concat!("let options = weir::ws::", stringify!($options), "::new().max_message_size(4 << 20);")]
            /// # let _ = options;
            /// ```
            pub fn max_message_size(mut self, bytes: usize) -> Self {
                self.common.max_message_size = bytes.max(1);
                self
            }

            /// The most frames one message may be fragmented into (default 131 072); more
            /// closes the socket with 1009.
            ///
            /// ```
            #[doc = concat!("let options = weir::ws::", stringify!($options), "::new().max_fragments(1024);")]
            /// # let _ = options;
            /// ```
            pub fn max_fragments(mut self, fragments: usize) -> Self {
                self.common.max_fragments = fragments.max(1);
                self
            }

            /// How many inbound messages wait for a taker (default 16, as Aleph's buffered
            /// source). While they all wait, the socket is not read: the peer's writes stop.
            ///
            /// ```
            #[doc = concat!("let options = weir::ws::", stringify!($options), "::new().inbound_buffer(64);")]
            /// # let _ = options;
            /// ```
            pub fn inbound_buffer(mut self, messages: usize) -> Self {
                self.common.inbound_buffer = messages.max(1);
                self
            }

            /// permessage-deflate (RFC 7692) with these settings, when the other side agrees
            /// (default off, as Aleph's `:compression?`).
            ///
            /// ```
            #[doc = concat!("let options = weir::ws::", stringify!($options), "::new()")]
            ///     .compression(weir::ws::DeflateOptions::new());
            /// # let _ = options;
            /// ```
            pub fn compression(mut self, compression: DeflateOptions) -> Self {
                self.common.compression = Some(compression);
                self
            }

            /// No compression (the default).
            ///
            /// ```
            #[doc = concat!("let options = weir::ws::", stringify!($options), "::new().no_compression();")]
            /// # let _ = options;
            /// ```
            pub fn no_compression(mut self) -> Self {
                self.common.compression = None;
                self
            }

            /// Pings after a quiet interval, closing the socket when no pong comes back.
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let options = weir::ws::", stringify!($options), "::new()")]
            ///     .heartbeats(weir::ws::Heartbeats::new(Duration::from_secs(30)));
            /// # let _ = options;
            /// ```
            pub fn heartbeats(mut self, heartbeats: Heartbeats) -> Self {
                self.common.heartbeats = Some(heartbeats);
                self
            }

            /// How long a closing handshake may take (default 5 s): past it, the connection
            /// is closed without waiting any longer for the other side's close frame.
            ///
            /// ```
            #[doc = concat!("let options = weir::ws::", stringify!($options), "::new()")]
            ///     .close_timeout(std::time::Duration::from_secs(1));
            /// # let _ = options;
            /// ```
            pub fn close_timeout(mut self, timeout: Duration) -> Self {
                self.common.close_timeout = timeout;
                self
            }

            /// Adds a header to the handshake (the request's on the client, the 101
            /// response's on the server). A name or value that is not valid HTTP is ignored.
            ///
            /// ```
            #[doc = concat!("let options = weir::ws::", stringify!($options), "::new().header(\"x-trace\", \"abc\");")]
            /// # let _ = options;
            /// ```
            pub fn header(mut self, name: &str, value: &str) -> Self {
                if let Some((name, value)) = header(name, value) {
                    self.common.headers.append(name, value);
                }
                self
            }
        }
    };
}

/// Options of [`websocket_connection`](super::websocket_connection), the server's end: Aleph's
/// `websocket-connection` options.
///
/// | option | default | Aleph |
/// |---|---|---|
/// | [`max_frame_payload`](Self::max_frame_payload) | 16 MiB | `:max-frame-payload` (65 536) |
/// | [`max_message_size`](Self::max_message_size) | 16 MiB | `:max-frame-size` (1 MiB) |
/// | [`max_fragments`](Self::max_fragments) | 131 072 | (none) |
/// | [`inbound_buffer`](Self::inbound_buffer) | 16 messages | (16, fixed) |
/// | [`compression`](Self::compression) | off | `:compression?` |
/// | [`heartbeats`](Self::heartbeats) | none | `:heartbeats` |
/// | [`close_timeout`](Self::close_timeout) | 5 s | (none) |
/// | [`subprotocols`](Self::subprotocols) | none | (Netty's handshaker `subprotocols`) |
/// | [`header`](Self::header) | none | `:headers` |
///
/// Aleph's `:raw-stream?` has no counterpart (messages are `Bytes`, which need no release),
/// nor `:pipeline-transform` and `:allow-extensions?` (there is no Netty pipeline; the one
/// extension is permessage-deflate, under `compression`).
///
/// # Examples
///
/// ```
/// use weir::ws::{DeflateOptions, WebSocketOptions};
///
/// let options = WebSocketOptions::new()
///     .compression(DeflateOptions::new())
///     .subprotocols(["chat.v2", "chat.v1"])
///     .max_message_size(1 << 20);
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct WebSocketOptions {
    pub(crate) common: Common,
}

impl WebSocketOptions {
    /// The defaults in the table above.
    ///
    /// ```
    /// let options = weir::ws::WebSocketOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> WebSocketOptions {
        WebSocketOptions::default()
    }

    /// The subprotocols this server speaks, in its order of preference: the first of these
    /// the client offers in `Sec-WebSocket-Protocol` is chosen. None offered in common: the
    /// handshake goes on without one (RFC 6455 lets the client decide).
    ///
    /// ```
    /// let options = weir::ws::WebSocketOptions::new().subprotocols(["graphql-ws"]);
    /// # let _ = options;
    /// ```
    pub fn subprotocols<I, S>(mut self, protocols: I) -> WebSocketOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.common.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }
}

common_options!(WebSocketOptions);

impl fmt::Debug for WebSocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketOptions")
            .field("common", &self.common)
            .finish()
    }
}

/// Options of [`websocket_client`](super::websocket_client): Aleph's `websocket-client`
/// options, plus what Aleph lacks (proxies, a resolver).
///
/// | option | default | Aleph |
/// |---|---|---|
/// | [`max_frame_payload`](Self::max_frame_payload) | 16 MiB | `:max-frame-payload` |
/// | [`max_message_size`](Self::max_message_size) | 16 MiB | `:max-frame-size` |
/// | [`compression`](Self::compression) | off | `:compression?` |
/// | [`heartbeats`](Self::heartbeats) | none | `:heartbeats` |
/// | [`subprotocols`](Self::subprotocols) | none | `:sub-protocols` |
/// | [`header`](Self::header) | none | `:headers` |
/// | [`tls`](Self::tls) | the platform's and webpki's roots | `:ssl-context`, `:insecure?` |
/// | [`connect_timeout`](Self::connect_timeout) | 30 s | `:connect-timeout` |
/// | [`handshake_timeout`](Self::handshake_timeout) | 30 s | (none) |
/// | [`proxy`](Self::proxy) | none | (none) |
/// | [`resolver`](Self::resolver) | the system's | (none) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::ws::WebSocketClientOptions;
///
/// let options = WebSocketClientOptions::new()
///     .subprotocols(["chat"])
///     .connect_timeout(Duration::from_secs(5))
///     .header("authorization", "Bearer t0ken");
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct WebSocketClientOptions {
    pub(crate) common: Common,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::tls::ClientConfig>,
    pub(crate) connect_timeout: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) proxy: Option<crate::http::client::Proxy>,
    pub(crate) resolver: std::sync::Arc<dyn crate::http::client::Resolve>,
}

impl Default for WebSocketClientOptions {
    fn default() -> WebSocketClientOptions {
        WebSocketClientOptions {
            common: Common::default(),
            #[cfg(feature = "tls")]
            tls: None,
            connect_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(30),
            proxy: None,
            resolver: std::sync::Arc::new(crate::http::client::SystemResolver::new()),
        }
    }
}

impl WebSocketClientOptions {
    /// The defaults in the table above.
    ///
    /// ```
    /// let options = weir::ws::WebSocketClientOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> WebSocketClientOptions {
        WebSocketClientOptions::default()
    }

    /// The subprotocols to offer, in order of preference (`Sec-WebSocket-Protocol`). The
    /// server's choice must be one of them, or the handshake fails.
    ///
    /// ```
    /// let options = weir::ws::WebSocketClientOptions::new().subprotocols(["v2", "v1"]);
    /// # let _ = options;
    /// ```
    pub fn subprotocols<I, S>(mut self, protocols: I) -> WebSocketClientOptions
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.common.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// The TLS configuration for `wss` (its ALPN list is replaced by `http/1.1`).
    ///
    /// ```
    /// let tls = weir::tls::ClientConfig::default();
    /// let options = weir::ws::WebSocketClientOptions::new().tls(tls);
    /// # let _ = options;
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(mut self, config: crate::tls::ClientConfig) -> WebSocketClientOptions {
        self.tls = Some(config);
        self
    }

    /// How long the connection may take: resolving, TCP, the proxy and TLS (default 30 s).
    ///
    /// ```
    /// let options = weir::ws::WebSocketClientOptions::new()
    ///     .connect_timeout(std::time::Duration::from_secs(3));
    /// # let _ = options;
    /// ```
    pub fn connect_timeout(mut self, timeout: Duration) -> WebSocketClientOptions {
        self.connect_timeout = timeout;
        self
    }

    /// How long the server may take to answer the upgrade request (default 30 s).
    ///
    /// ```
    /// let options = weir::ws::WebSocketClientOptions::new()
    ///     .handshake_timeout(std::time::Duration::from_secs(3));
    /// # let _ = options;
    /// ```
    pub fn handshake_timeout(mut self, timeout: Duration) -> WebSocketClientOptions {
        self.handshake_timeout = timeout;
        self
    }

    /// Connects through this proxy: an HTTP proxy (always by `CONNECT`, for `ws` too) or a
    /// SOCKS4/SOCKS5 one.
    ///
    /// ```
    /// use weir::http::client::Proxy;
    /// let options = weir::ws::WebSocketClientOptions::new().proxy(Proxy::socks5("127.0.0.1", 1080));
    /// # let _ = options;
    /// ```
    pub fn proxy(mut self, proxy: crate::http::client::Proxy) -> WebSocketClientOptions {
        self.proxy = Some(proxy);
        self
    }

    /// The resolver for host names (default: the system's, as the HTTP client).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let options = weir::ws::WebSocketClientOptions::new()
    ///     .resolver(Arc::new(weir::http::client::SystemResolver::new()));
    /// # let _ = options;
    /// ```
    pub fn resolver(
        mut self,
        resolver: std::sync::Arc<dyn crate::http::client::Resolve>,
    ) -> WebSocketClientOptions {
        self.resolver = resolver;
        self
    }
}

common_options!(WebSocketClientOptions);

impl fmt::Debug for WebSocketClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketClientOptions")
            .field("common", &self.common)
            .field("connect_timeout", &self.connect_timeout)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("proxy", &self.proxy.is_some())
            .finish_non_exhaustive()
    }
}

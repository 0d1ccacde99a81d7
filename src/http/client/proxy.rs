//! Proxies: HTTP (absolute-form requests, CONNECT tunnels for TLS), SOCKS4 and SOCKS5.

use std::fmt;
use std::time::Duration;

use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::Error;

use super::pool::Key;
use super::timeout::{self, Phase};

/// A proxy every connection of a [`Client`](super::Client) goes through (Aleph's
/// `:proxy-options`, set on the pool), for [`ClientOptions::proxy`](super::ClientOptions::proxy).
///
/// - [`Proxy::http`]: plain `http://` requests are sent to the proxy in absolute form (or
///   through a `CONNECT` tunnel with [`tunnel`](Proxy::tunnel)); `https://` ones go through a
///   `CONNECT` tunnel (with [`header`](Proxy::header)s and [`basic_auth`](Proxy::basic_auth)),
///   TLS end to end with the target.
/// - [`Proxy::socks5`] (user and password auth) and [`Proxy::socks4`] (a user id): the target's
///   name is resolved by the proxy (`socks5h`/`socks4a` behaviour).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weir::http::client::Proxy;
///
/// let proxy = Proxy::http("proxy.internal", 3128)
///     .basic_auth("ada", "secret")
///     .header("x-team", "core")
///     .connect_timeout(Duration::from_secs(5));
/// assert!(format!("{proxy:?}").contains("proxy.internal:3128"));
/// ```
#[derive(Clone)]
pub struct Proxy {
    pub(crate) kind: Kind,
    pub(crate) host: String,
    pub(crate) port: u16,
    auth: Option<(String, String)>,
    headers: HeaderMap,
    pub(crate) connect_timeout: Duration,
    /// `CONNECT` for plain `http://` targets too (Aleph's `:tunnel?`).
    tunnel: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Http,
    Socks4,
    Socks5,
}

impl Proxy {
    fn new(kind: Kind, host: &str, port: u16) -> Proxy {
        Proxy {
            kind,
            host: host.to_string(),
            port,
            auth: None,
            headers: HeaderMap::new(),
            connect_timeout: Duration::from_secs(60),
            tunnel: false,
        }
    }

    /// An HTTP proxy at `host:port`.
    ///
    /// # Examples
    ///
    /// See [`Proxy`].
    pub fn http(host: &str, port: u16) -> Proxy {
        Proxy::new(Kind::Http, host, port)
    }

    /// A SOCKS5 proxy at `host:port`.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = weir::http::client::Proxy::socks5("127.0.0.1", 1080).basic_auth("u", "p");
    /// # let _ = proxy;
    /// ```
    pub fn socks5(host: &str, port: u16) -> Proxy {
        Proxy::new(Kind::Socks5, host, port)
    }

    /// A SOCKS4a proxy at `host:port` (a user id through [`basic_auth`](Proxy::basic_auth)'s
    /// user).
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = weir::http::client::Proxy::socks4("127.0.0.1", 1080);
    /// # let _ = proxy;
    /// ```
    pub fn socks4(host: &str, port: u16) -> Proxy {
        Proxy::new(Kind::Socks4, host, port)
    }

    /// Credentials: `Proxy-Authorization: Basic` for an HTTP proxy, user and password for
    /// SOCKS5, the user id for SOCKS4.
    ///
    /// # Examples
    ///
    /// See [`Proxy`].
    pub fn basic_auth(mut self, user: &str, password: &str) -> Proxy {
        self.auth = Some((user.to_string(), password.to_string()));
        self
    }

    /// A header sent to an HTTP proxy with each `CONNECT` (Aleph's `:http-headers`); an
    /// invalid one is ignored.
    ///
    /// # Examples
    ///
    /// See [`Proxy`].
    pub fn header(mut self, name: &str, value: &str) -> Proxy {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.append(name, value);
        }
        self
    }

    /// The limit on reaching the proxy and setting the tunnel up (default 60 s, as Aleph);
    /// past it [`is_connect_timeout`](crate::Error::is_connect_timeout) is true and the error
    /// names the proxy.
    ///
    /// # Examples
    ///
    /// See [`Proxy`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Proxy {
        self.connect_timeout = timeout;
        self
    }

    /// Tunnels plain `http://` requests too (Aleph's `:tunnel?`; default off): an HTTP proxy is
    /// asked to `CONNECT` to the target, and the requests go through the tunnel in origin form,
    /// as to the target itself (what h2c with prior knowledge needs, since a forwarding proxy
    /// speaks HTTP/1.1). Off, plain requests go to the proxy in absolute form. `https://`
    /// always tunnels; SOCKS proxies always carry the connection.
    ///
    /// # Examples
    ///
    /// ```
    /// let proxy = weir::http::client::Proxy::http("proxy.internal", 3128).tunnel(true);
    /// assert!(format!("{proxy:?}").contains("tunnel: true"));
    /// ```
    pub fn tunnel(mut self, tunnel: bool) -> Proxy {
        self.tunnel = tunnel;
        self
    }

    /// Whether plain targets are tunnelled too.
    pub(crate) fn tunnels_plain(&self) -> bool {
        self.tunnel
    }

    /// The `Proxy-Authorization` value, if credentials are set (HTTP proxies).
    pub(crate) fn authorization(&self) -> Option<HeaderValue> {
        use base64::Engine as _;
        let (user, password) = self.auth.as_ref()?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        let mut value = HeaderValue::from_str(&format!("Basic {token}")).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    /// Whether plain requests go to this proxy in absolute form.
    pub(crate) fn forwards_plain(&self, key: &Key) -> bool {
        self.kind == Kind::Http && !key.https && !self.tunnel
    }

    fn name(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Connects to the proxy and, unless it forwards plain requests itself, through it to the
    /// target: a socket that then speaks to the target. With `tunnel_plain` an HTTP proxy is
    /// asked to `CONNECT` for plain targets too (a WebSocket, which a forwarding proxy would not
    /// upgrade).
    pub(crate) async fn connect_through(
        &self,
        resolver: &std::sync::Arc<dyn super::Resolve>,
        key: &Key,
        tunnel_plain: bool,
    ) -> Result<async_net::TcpStream, Error> {
        let limit = self.connect_timeout;
        let work = async {
            let mut tcp = super::resolve::connect(resolver, &self.host, self.port).await?;
            let _ = tcp.set_nodelay(true);
            match self.kind {
                Kind::Http if !key.https && !tunnel_plain => Ok(tcp),
                Kind::Http => {
                    self.open_tunnel(&mut tcp, key).await?;
                    Ok(tcp)
                }
                Kind::Socks5 => self.through_socks5(tcp, key).await,
                Kind::Socks4 => self.through_socks4(tcp, key).await,
            }
        };
        match crate::runtime::timeout(limit, work).await {
            Ok(outcome) => outcome,
            Err(_) => Err(timeout::error(
                Phase::Connect,
                &format!("proxy {}", self.name()),
                limit,
            )),
        }
    }

    /// `CONNECT host:port`, and its `200`.
    async fn open_tunnel(&self, tcp: &mut async_net::TcpStream, key: &Key) -> Result<(), Error> {
        let target = format!("{}:{}", key.host, key.port);
        let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(authorization) = self.authorization() {
            head.push_str(&format!(
                "Proxy-Authorization: {}\r\n",
                authorization.to_str().unwrap_or_default()
            ));
        }
        for (name, value) in &self.headers {
            head.push_str(&format!(
                "{name}: {}\r\n",
                value.to_str().unwrap_or_default()
            ));
        }
        head.push_str("\r\n");
        tcp.write_all(head.as_bytes()).await?;
        tcp.flush().await?;
        // The response head, read a byte at a time so that nothing past it is taken.
        let mut reply = Vec::with_capacity(256);
        let mut byte = [0u8; 1];
        while !reply.ends_with(b"\r\n\r\n") {
            if reply.len() > 16 * 1024 {
                return Err(Error::protocol(format!(
                    "proxy {}: CONNECT response head too long",
                    self.name()
                )));
            }
            if tcp.read(&mut byte).await? == 0 {
                return Err(Error::closed(format!(
                    "proxy {} closed during CONNECT",
                    self.name()
                )));
            }
            reply.push(byte[0]);
        }
        let line = String::from_utf8_lossy(&reply);
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse::<u16>().ok());
        match status {
            Some(code) if (200..300).contains(&code) => Ok(()),
            Some(code) => Err(Error::msg(format!(
                "proxy {} refused CONNECT {target}: status {code}",
                self.name()
            ))),
            None => Err(Error::protocol(format!(
                "proxy {}: invalid CONNECT response",
                self.name()
            ))),
        }
    }

    async fn through_socks5(
        &self,
        tcp: async_net::TcpStream,
        key: &Key,
    ) -> Result<async_net::TcpStream, Error> {
        let socket = tokio_socks::io::Compat::new(tcp);
        let target = (key.host.as_str(), key.port);
        let stream = match &self.auth {
            Some((user, password)) => {
                tokio_socks::tcp::Socks5Stream::connect_with_password_and_socket(
                    socket, target, user, password,
                )
                .await
            }
            None => tokio_socks::tcp::Socks5Stream::connect_with_socket(socket, target).await,
        }
        .map_err(|error| Error::msg(format!("socks5 proxy {}: {error}", self.name())))?;
        Ok(stream.into_inner().into_inner())
    }

    async fn through_socks4(
        &self,
        tcp: async_net::TcpStream,
        key: &Key,
    ) -> Result<async_net::TcpStream, Error> {
        let socket = tokio_socks::io::Compat::new(tcp);
        let target = (key.host.as_str(), key.port);
        let stream = match &self.auth {
            Some((user, _)) => {
                tokio_socks::tcp::Socks4Stream::connect_with_userid_and_socket(socket, target, user)
                    .await
            }
            None => tokio_socks::tcp::Socks4Stream::connect_with_socket(socket, target).await,
        }
        .map_err(|error| Error::msg(format!("socks4 proxy {}: {error}", self.name())))?;
        Ok(stream.into_inner().into_inner())
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("address", &self.name())
            .field("auth", &self.auth.is_some())
            .field("connect_timeout", &self.connect_timeout)
            .field("tunnel", &self.tunnel)
            .finish_non_exhaustive()
    }
}

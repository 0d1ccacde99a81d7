//! `TlsInfo`: what a finished handshake agreed on.

use std::fmt;

use bytes::Bytes;
use rustls::{CommonState, ProtocolVersion};

/// What a TLS handshake agreed on: protocol version, cipher suite, ALPN protocol, the peer's
/// certificate chain and the server name. From [`TlsStream::session_info`](super::TlsStream::session_info);
/// weir's TCP adapter puts it in its connection info.
///
/// # Examples
///
/// ```
/// use async_net::{TcpListener, TcpStream};
/// use weir::tls;
///
/// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
/// let cert = tls::self_signed(&["localhost"]).unwrap();
/// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let addr = listener.local_addr().unwrap();
/// let server = cert.server_config().with_alpn_protocols(["http/1.1"]);
/// let accepted = weir::runtime::spawn(async move {
///     let (tcp, _) = listener.accept().await.unwrap();
///     tls::accept(&server, tcp).await
/// });
///
/// let client = cert.client_config_trusting_it().with_alpn_protocols(["h2", "http/1.1"]);
/// let tcp = TcpStream::connect(addr).await.unwrap();
/// let stream = tls::connect(&client, "localhost", tcp).await.unwrap();
/// let info = stream.session_info();
/// assert_eq!(info.protocol(), "TLSv1.3");
/// assert!(info.cipher_suite().starts_with("TLS13_"));
/// assert_eq!(info.alpn_protocol(), Some(&b"http/1.1"[..]));
/// assert_eq!(info.peer_certificates()[0], cert.certificate_der());
/// assert_eq!(info.server_name(), Some("localhost"));
///
/// let on_server = accepted.await.unwrap();
/// assert_eq!(on_server.session_info().server_name(), Some("localhost"));
/// assert!(on_server.session_info().peer_certificates().is_empty());
/// # })).unwrap();
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TlsInfo {
    protocol: &'static str,
    cipher_suite: &'static str,
    alpn_protocol: Option<Bytes>,
    peer_certificates: Vec<Bytes>,
    server_name: Option<String>,
}

impl TlsInfo {
    pub(crate) fn new(state: &CommonState, server_name: Option<&str>) -> TlsInfo {
        let protocol = match state.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => "TLSv1.3",
            Some(ProtocolVersion::TLSv1_2) => "TLSv1.2",
            Some(other) => other.as_str().unwrap_or("unknown"),
            None => "unknown",
        };
        let cipher_suite = state
            .negotiated_cipher_suite()
            .and_then(|suite| suite.suite().as_str())
            .unwrap_or("unknown");
        TlsInfo {
            protocol,
            cipher_suite,
            alpn_protocol: state.alpn_protocol().map(Bytes::copy_from_slice),
            peer_certificates: state
                .peer_certificates()
                .unwrap_or_default()
                .iter()
                .map(|cert| Bytes::copy_from_slice(cert))
                .collect(),
            server_name: server_name.map(str::to_owned),
        }
    }

    /// The protocol version: `"TLSv1.3"` or `"TLSv1.2"`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use async_net::{TcpListener, TcpStream};
    /// # use weir::tls;
    /// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
    /// # let cert = tls::self_signed(&["localhost"]).unwrap();
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let addr = listener.local_addr().unwrap();
    /// # let server = cert.server_config().with_alpn_protocols(["http/1.1"]);
    /// # let accepted = weir::runtime::spawn(async move {
    /// #     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// # });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// # let client = cert.client_config_trusting_it().with_alpn_protocols(["http/1.1"]);
    /// let stream = tls::connect(&client, "localhost", tcp).await.unwrap();
    /// let info = stream.session_info();
    /// assert_eq!(info.protocol(), "TLSv1.3");
    /// # accepted.await;
    /// # })).unwrap();
    /// ```
    pub fn protocol(&self) -> &'static str {
        self.protocol
    }

    /// The cipher suite's IANA-style name, such as `"TLS13_AES_256_GCM_SHA384"` or
    /// `"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use async_net::{TcpListener, TcpStream};
    /// # use weir::tls;
    /// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
    /// # let cert = tls::self_signed(&["localhost"]).unwrap();
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let addr = listener.local_addr().unwrap();
    /// # let server = cert.server_config().with_alpn_protocols(["http/1.1"]);
    /// # let accepted = weir::runtime::spawn(async move {
    /// #     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// # });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// # let client = cert.client_config_trusting_it().with_alpn_protocols(["http/1.1"]);
    /// let stream = tls::connect(&client, "localhost", tcp).await.unwrap();
    /// let info = stream.session_info();
    /// assert!(info.cipher_suite().starts_with("TLS13_"));
    /// # accepted.await;
    /// # })).unwrap();
    /// ```
    pub fn cipher_suite(&self) -> &'static str {
        self.cipher_suite
    }

    /// The ALPN protocol both sides agreed on, if they used ALPN (`b"h2"`, `b"http/1.1"`…).
    ///
    /// # Examples
    ///
    /// ```
    /// # use async_net::{TcpListener, TcpStream};
    /// # use weir::tls;
    /// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
    /// # let cert = tls::self_signed(&["localhost"]).unwrap();
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let addr = listener.local_addr().unwrap();
    /// # let server = cert.server_config().with_alpn_protocols(["http/1.1"]);
    /// # let accepted = weir::runtime::spawn(async move {
    /// #     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// # });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// # let client = cert.client_config_trusting_it().with_alpn_protocols(["http/1.1"]);
    /// let stream = tls::connect(&client, "localhost", tcp).await.unwrap();
    /// let info = stream.session_info();
    /// assert_eq!(info.alpn_protocol(), Some(&b"http/1.1"[..]));
    /// # accepted.await;
    /// # })).unwrap();
    /// ```
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.alpn_protocol.as_deref()
    }

    /// The peer's certificate chain, DER-encoded, its own certificate first. On a client, the
    /// server's chain; on a server, the client's chain when it presented one (see
    /// [`ServerConfigBuilder::require_client_auth`](super::ServerConfigBuilder::require_client_auth)),
    /// otherwise empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # use async_net::{TcpListener, TcpStream};
    /// # use weir::tls;
    /// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
    /// # let cert = tls::self_signed(&["localhost"]).unwrap();
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let addr = listener.local_addr().unwrap();
    /// # let server = cert.server_config().with_alpn_protocols(["http/1.1"]);
    /// # let accepted = weir::runtime::spawn(async move {
    /// #     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// # });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// # let client = cert.client_config_trusting_it().with_alpn_protocols(["http/1.1"]);
    /// let stream = tls::connect(&client, "localhost", tcp).await.unwrap();
    /// let info = stream.session_info();
    /// assert_eq!(info.peer_certificates(), [cert.certificate_der()]);
    /// # accepted.await;
    /// # })).unwrap();
    /// ```
    pub fn peer_certificates(&self) -> &[Bytes] {
        &self.peer_certificates
    }

    /// The server name: on a client, the name the certificate was verified against; on a
    /// server, the name the client asked for (SNI), if it sent one (clients send none for IP
    /// addresses).
    ///
    /// # Examples
    ///
    /// ```
    /// # use async_net::{TcpListener, TcpStream};
    /// # use weir::tls;
    /// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
    /// # let cert = tls::self_signed(&["localhost"]).unwrap();
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let addr = listener.local_addr().unwrap();
    /// # let server = cert.server_config().with_alpn_protocols(["http/1.1"]);
    /// # let accepted = weir::runtime::spawn(async move {
    /// #     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// # });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// # let client = cert.client_config_trusting_it().with_alpn_protocols(["http/1.1"]);
    /// let stream = tls::connect(&client, "localhost", tcp).await.unwrap();
    /// let info = stream.session_info();
    /// assert_eq!(info.server_name(), Some("localhost"));
    /// # accepted.await;
    /// # })).unwrap();
    /// ```
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }
}

impl fmt::Debug for TlsInfo {
    /// Certificates are summarised by count and size rather than printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsInfo")
            .field("protocol", &self.protocol)
            .field("cipher_suite", &self.cipher_suite)
            .field(
                "alpn_protocol",
                &self.alpn_protocol.as_deref().map(String::from_utf8_lossy),
            )
            .field(
                "peer_certificates",
                &format_args!("{} (DER)", self.peer_certificates.len()),
            )
            .field("server_name", &self.server_name)
            .finish()
    }
}

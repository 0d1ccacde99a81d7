//! `ConnectionInfo`: the addresses of a connection and, once TLS is on, what its handshake
//! negotiated.

use std::net::SocketAddr;

use bytes::Bytes;

/// What is known about one connection: Aleph's connection `info` map. Returned by
/// [`TcpConnection::info`](super::TcpConnection::info).
///
/// The addresses are always there. The TLS fields (protocol version, cipher suite, ALPN
/// protocol, peer certificates) are filled in by a TLS connection and are `None` for plain
/// TCP, so one handler can serve both.
///
/// # Examples
///
/// ```
/// use weir::tcp::{self, ClientOptions, ServerOptions};
///
/// # weir::runtime::block_on(async {
/// let server = tcp::start_server(|_connection| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
///     .await
///     .unwrap();
/// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
///     .await
///     .unwrap();
/// let info = client.info();
/// assert_eq!(info.remote_addr(), server.local_addr());
/// assert!(info.local_addr().ip().is_loopback());
/// assert!(!info.is_tls());
/// assert_eq!(info.alpn_protocol(), None);
/// # server.close();
/// # });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionInfo {
    pub(crate) local_addr: SocketAddr,
    pub(crate) remote_addr: SocketAddr,
    /// The negotiated TLS version (`"TLSv1_3"`…), `None` without TLS.
    pub(crate) tls_protocol_version: Option<String>,
    /// The negotiated cipher suite, `None` without TLS.
    pub(crate) tls_cipher_suite: Option<String>,
    /// The protocol ALPN agreed on, `None` without TLS or when none was agreed.
    pub(crate) alpn_protocol: Option<Bytes>,
    /// The peer's certificate chain as DER, leaf first; `None` without TLS or when the peer
    /// sent none.
    pub(crate) peer_certificates: Option<Vec<Bytes>>,
}

impl ConnectionInfo {
    /// The info of a TLS connection: the two addresses and what the handshake negotiated.
    #[cfg(feature = "tls")]
    pub(crate) fn tls(
        local_addr: SocketAddr,
        remote_addr: SocketAddr,
        session: &crate::tls::TlsInfo,
    ) -> Self {
        ConnectionInfo {
            tls_protocol_version: Some(session.protocol().to_string()),
            tls_cipher_suite: Some(session.cipher_suite().to_string()),
            alpn_protocol: session.alpn_protocol().map(Bytes::copy_from_slice),
            peer_certificates: Some(session.peer_certificates().to_vec()),
            ..ConnectionInfo::tcp(local_addr, remote_addr)
        }
    }

    /// The info of a plain TCP connection: the two addresses, no TLS.
    pub(crate) fn tcp(local_addr: SocketAddr, remote_addr: SocketAddr) -> Self {
        ConnectionInfo {
            local_addr,
            remote_addr,
            tls_protocol_version: None,
            tls_cipher_suite: None,
            alpn_protocol: None,
            peer_certificates: None,
        }
    }

    /// This end's address (Aleph's `:server-name` and `:server-port` on a server).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert_ne!(client.info().local_addr().port(), server.local_addr().port());
    /// # server.close();
    /// # });
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The peer's address (Aleph's `:remote-addr`).
    ///
    /// # Examples
    ///
    /// ```
    /// use weir::tcp::{self, ClientOptions, ServerOptions};
    ///
    /// # weir::runtime::block_on(async {
    /// let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0)))
    ///     .await
    ///     .unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(client.info().remote_addr(), server.local_addr());
    /// # server.close();
    /// # });
    /// ```
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// True for a TLS connection (a protocol version was negotiated).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::tcp::{self, ClientOptions, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert!(!client.info().is_tls()); // plain TCP
    /// # server.close();
    /// # });
    /// ```
    pub fn is_tls(&self) -> bool {
        self.tls_protocol_version.is_some()
    }

    /// The negotiated TLS protocol version, such as `"TLSv1_3"`; `None` for plain TCP.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::tcp::{self, ClientOptions, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(client.info().tls_protocol_version(), None);
    /// # server.close();
    /// # });
    /// ```
    pub fn tls_protocol_version(&self) -> Option<&str> {
        self.tls_protocol_version.as_deref()
    }

    /// The negotiated TLS cipher suite, such as `"TLS13_AES_128_GCM_SHA256"`; `None` for plain
    /// TCP.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::tcp::{self, ClientOptions, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(client.info().tls_cipher_suite(), None);
    /// # server.close();
    /// # });
    /// ```
    pub fn tls_cipher_suite(&self) -> Option<&str> {
        self.tls_cipher_suite.as_deref()
    }

    /// The application protocol agreed on with ALPN (`b"h2"`, say); `None` for plain TCP or
    /// when none was agreed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::tcp::{self, ClientOptions, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert_eq!(client.info().alpn_protocol(), None);
    /// # server.close();
    /// # });
    /// ```
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.alpn_protocol.as_deref()
    }

    /// The peer's certificate chain, DER-encoded, leaf first; `None` for plain TCP or when the
    /// peer presented none (a client without a client certificate).
    ///
    /// # Examples
    ///
    /// ```
    /// # use weir::tcp::{self, ClientOptions, ServerOptions};
    /// # weir::runtime::block_on(async {
    /// # let server = tcp::start_server(|_| {}, ServerOptions::new().address(([127, 0, 0, 1], 0))).await.unwrap();
    /// let client = tcp::client(ClientOptions::new().remote_address(server.local_addr()))
    ///     .await
    ///     .unwrap();
    /// assert!(client.info().peer_certificates().is_none());
    /// # server.close();
    /// # });
    /// ```
    pub fn peer_certificates(&self) -> Option<&[Bytes]> {
        self.peer_certificates.as_deref()
    }
}

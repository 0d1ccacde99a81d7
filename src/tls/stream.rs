//! `accept` and `connect`: TLS handshakes over any byte stream, and the `TlsStream` they give.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::{Deferred, Error, runtime};

use super::client::parse_server_name;
use super::{ClientConfig, ServerConfig, TlsInfo};

/// Runs the server side of a TLS handshake over `io` (a TCP stream, say) and returns a deferred
/// of the encrypted stream: Aleph's `ssl-handler` for servers.
///
/// The handshake runs as a task on weir's executor, bounded by the config's
/// [handshake timeout](ServerConfig::handshake_timeout).
///
/// # Cancellation
///
/// Realizing the returned deferred first (for example with [`Error::cancelled`]) stops the
/// handshake and drops `io`, which closes a socket. Dropping the deferred does not cancel it.
///
/// # Errors
///
/// A peer that breaks the protocol or rejects this server (an alert, no ALPN protocol in
/// common, a client certificate that does not verify) is a [protocol error](Error::is_protocol)
/// whose message names the cause; an I/O failure or a peer that hangs up mid-handshake is an
/// [I/O error](Error::is_io); a handshake that takes too long is a
/// [timeout](Error::is_timeout).
///
/// # Examples
///
/// ```
/// use async_net::{TcpListener, TcpStream};
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use weir::tls;
///
/// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
/// let cert = tls::self_signed(&["localhost"]).unwrap();
/// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let addr = listener.local_addr().unwrap();
/// let server = cert.server_config();
/// let echo = weir::runtime::spawn(async move {
///     let (tcp, _) = listener.accept().await.unwrap();
///     let mut stream = tls::accept(&server, tcp).await.unwrap();
///     let mut buf = [0; 5];
///     stream.read_exact(&mut buf).await.unwrap();
///     stream.write_all(&buf).await.unwrap();
///     stream.close().await.unwrap();
/// });
///
/// let tcp = TcpStream::connect(addr).await.unwrap();
/// let mut stream = tls::connect(&cert.client_config_trusting_it(), "localhost", tcp).await.unwrap();
/// stream.write_all(b"hello").await.unwrap();
/// let mut reply = Vec::new();
/// stream.read_to_end(&mut reply).await.unwrap();
/// assert_eq!(reply, b"hello");
/// echo.await;
///
/// // A peer that is not speaking TLS is a clear error.
/// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let addr = listener.local_addr().unwrap();
/// let mut plain = TcpStream::connect(addr).await.unwrap();
/// let (tcp, _) = listener.accept().await.unwrap();
/// plain.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
/// let err = tls::accept(&cert.server_config(), tcp).await.unwrap_err();
/// assert!(err.is_protocol(), "{err}");
/// # })).unwrap();
/// ```
pub fn accept<IO>(config: &ServerConfig, io: IO) -> Deferred<TlsStream<IO>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let acceptor = futures_rustls::TlsAcceptor::from(config.rustls().clone());
    let timeout = config.handshake_timeout();
    Deferred::spawn(async move {
        let stream = runtime::timeout(timeout, acceptor.accept(io))
            .await?
            .map_err(handshake_error)?;
        let info = {
            let (_, connection) = stream.get_ref();
            TlsInfo::new(connection, connection.server_name())
        };
        Ok(TlsStream {
            inner: stream.into(),
            info,
        })
    })
}

/// Runs the client side of a TLS handshake over `io` (a TCP stream, say), verifying the
/// server's certificate against `server_name` (a DNS name or an IP address; also sent as SNI),
/// and returns a deferred of the encrypted stream: Aleph's `ssl-handler` for clients. A
/// [server name set on the config](super::ClientConfigBuilder::server_name) takes precedence
/// over `server_name`.
///
/// The handshake runs as a task on weir's executor, bounded by the config's
/// [handshake timeout](ClientConfig::handshake_timeout).
///
/// # Cancellation
///
/// Realizing the returned deferred first (for example with [`Error::cancelled`]) stops the
/// handshake and drops `io`, which closes a socket. Dropping the deferred does not cancel it.
///
/// # Errors
///
/// A certificate that does not verify (unknown CA, issued for another name, expired), an alert
/// from the server or no ALPN protocol in common is a [protocol error](Error::is_protocol) whose
/// message names the cause; an I/O failure or a server that hangs up mid-handshake is an
/// [I/O error](Error::is_io); a handshake that takes too long is a
/// [timeout](Error::is_timeout); an invalid `server_name` fails at once.
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
/// let server = cert.server_config();
/// weir::runtime::spawn(async move {
///     while let Ok((tcp, _)) = listener.accept().await {
///         let _ = tls::accept(&server, tcp).await;
///     }
/// })
/// .detach();
///
/// // Trusting the certificate: the handshake succeeds.
/// let tcp = TcpStream::connect(addr).await.unwrap();
/// let stream = tls::connect(&cert.client_config_trusting_it(), "localhost", tcp).await.unwrap();
/// assert_eq!(stream.session_info().protocol(), "TLSv1.3");
///
/// // The default config trusts only the webpki roots: a self-signed server is refused.
/// let tcp = TcpStream::connect(addr).await.unwrap();
/// let err = tls::connect(&tls::ClientConfig::default(), "localhost", tcp).await.unwrap_err();
/// assert!(err.is_protocol());
/// assert!(err.to_string().contains("UnknownIssuer"), "{err}");
/// # })).unwrap();
/// ```
pub fn connect<IO>(
    config: &ClientConfig,
    server_name: &str,
    io: IO,
) -> Deferred<TlsStream<IO>, Error>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let name = match config.server_name() {
        Some(name) => name.clone(),
        None => match parse_server_name(server_name) {
            Ok(name) => name,
            Err(e) => return Deferred::failed(e),
        },
    };
    let shown_name = name.to_str().into_owned();
    let connector = futures_rustls::TlsConnector::from(config.rustls().clone());
    let timeout = config.handshake_timeout();
    Deferred::spawn(async move {
        let stream = runtime::timeout(timeout, connector.connect(name, io))
            .await?
            .map_err(handshake_error)?;
        let info = TlsInfo::new(stream.get_ref().1, Some(&shown_name));
        Ok(TlsStream {
            inner: stream.into(),
            info,
        })
    })
}

/// A handshake failure as a weir error: rustls' verdict is a protocol error naming the cause,
/// anything else stays an I/O error.
fn handshake_error(error: io::Error) -> Error {
    let Some(tls) = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    else {
        return Error::from(error);
    };
    use rustls::CertificateError as Cert;
    let hint = match tls {
        rustls::Error::InvalidCertificate(Cert::UnknownIssuer) => {
            " (the certificate is not signed by a trusted root; to trust a self-signed \
             certificate, add it with ClientConfigBuilder::add_root_pem)"
        }
        rustls::Error::InvalidCertificate(
            Cert::NotValidForName | Cert::NotValidForNameContext { .. },
        ) => {
            " (connect with a name the certificate was issued for, or set \
             ClientConfigBuilder::server_name)"
        }
        rustls::Error::AlertReceived(
            rustls::AlertDescription::UnknownCA
            | rustls::AlertDescription::BadCertificate
            | rustls::AlertDescription::CertificateUnknown,
        ) => " (the peer rejected our certificate)",
        rustls::Error::NoApplicationProtocol
        | rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol) => {
            " (the two sides have no ALPN protocol in common)"
        }
        _ => "",
    };
    // The rustls error is the source, which `Display` appends after the hint.
    Error::protocol_with_source(format!("TLS handshake failed{hint}"), tls.clone())
}

/// An encrypted stream from [`accept`] or [`connect`]: itself [`AsyncRead`] + [`AsyncWrite`]
/// (futures-io), reading and writing plaintext, with the handshake's [`TlsInfo`].
///
/// Closing it ([`poll_close`](AsyncWrite::poll_close)) sends TLS `close_notify`, then closes
/// the underlying stream's write side. To read and write from two tasks, split it with
/// `futures::io::AsyncReadExt::split` (or `futures_lite::io::split`).
///
/// # Examples
///
/// ```
/// use async_net::{TcpListener, TcpStream};
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use weir::tls;
///
/// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
/// let cert = tls::self_signed(&["localhost"]).unwrap();
/// let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let addr = listener.local_addr().unwrap();
/// let server = cert.server_config();
/// let accepted = weir::runtime::spawn(async move {
///     let (tcp, _) = listener.accept().await.unwrap();
///     let mut stream = tls::accept(&server, tcp).await.unwrap();
///     assert!(stream.is_server());
///     stream.write_all(b"bye").await.unwrap();
///     stream.close().await.unwrap();
/// });
///
/// let tcp = TcpStream::connect(addr).await.unwrap();
/// let mut stream = tls::connect(&cert.client_config_trusting_it(), "localhost", tcp).await.unwrap();
/// assert!(!stream.is_server());
/// assert_eq!(stream.io().peer_addr().unwrap(), addr);
/// let mut text = String::new();
/// stream.read_to_string(&mut text).await.unwrap();
/// assert_eq!(text, "bye");
/// accepted.await;
/// # })).unwrap();
/// ```
pub struct TlsStream<IO> {
    inner: futures_rustls::TlsStream<IO>,
    info: TlsInfo,
}

impl<IO> TlsStream<IO> {
    /// What the handshake agreed on: protocol, cipher suite, ALPN, the peer's certificates.
    ///
    /// # Examples
    ///
    /// See [`TlsInfo`] for a full handshake.
    ///
    /// ```
    /// # use async_net::{TcpListener, TcpStream};
    /// # use weir::tls;
    /// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
    /// # let cert = tls::self_signed(&["localhost"]).unwrap();
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let addr = listener.local_addr().unwrap();
    /// # let server = cert.server_config();
    /// # let accepted = weir::runtime::spawn(async move {
    /// #     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// # });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// let stream = tls::connect(&cert.client_config_trusting_it(), "localhost", tcp).await.unwrap();
    /// assert_eq!(stream.session_info().peer_certificates().len(), 1);
    /// # accepted.await;
    /// # })).unwrap();
    /// ```
    pub fn session_info(&self) -> &TlsInfo {
        &self.info
    }

    /// True for the server side of the connection (from [`accept`]).
    ///
    /// # Examples
    ///
    /// See [`TlsStream`].
    ///
    /// ```
    /// # use async_net::{TcpListener, TcpStream};
    /// # use weir::tls;
    /// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
    /// # let cert = tls::self_signed(&["localhost"]).unwrap();
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let addr = listener.local_addr().unwrap();
    /// # let server = cert.server_config();
    /// let accepted = weir::runtime::spawn(async move {
    ///     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// # let _client = tls::connect(&cert.client_config_trusting_it(), "localhost", tcp).await.unwrap();
    /// assert!(accepted.await.is_server());
    /// # })).unwrap();
    /// ```
    pub fn is_server(&self) -> bool {
        matches!(self.inner, futures_rustls::TlsStream::Server(_))
    }

    /// The underlying stream (reading or writing it directly would corrupt the TLS session).
    ///
    /// # Examples
    ///
    /// See [`TlsStream`]: `stream.io().peer_addr()`.
    ///
    /// ```
    /// # use async_net::{TcpListener, TcpStream};
    /// # use weir::tls;
    /// # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
    /// # let cert = tls::self_signed(&["localhost"]).unwrap();
    /// # let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    /// # let addr = listener.local_addr().unwrap();
    /// # let server = cert.server_config();
    /// # let accepted = weir::runtime::spawn(async move {
    /// #     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// # });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// let stream = tls::connect(&cert.client_config_trusting_it(), "localhost", tcp).await.unwrap();
    /// assert_eq!(stream.io().peer_addr().unwrap(), addr);
    /// # accepted.await;
    /// # })).unwrap();
    /// ```
    pub fn io(&self) -> &IO {
        self.inner.get_ref().0
    }

    /// The underlying stream, mutably, to set socket options (reading or writing it directly
    /// would corrupt the TLS session).
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
    /// # let server = cert.server_config();
    /// # let accepted = weir::runtime::spawn(async move {
    /// #     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// # });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// let mut stream = tls::connect(&cert.client_config_trusting_it(), "localhost", tcp).await.unwrap();
    /// stream.io_mut().set_nodelay(true).unwrap();
    /// assert!(stream.io().nodelay().unwrap());
    /// # accepted.await;
    /// # })).unwrap();
    /// ```
    pub fn io_mut(&mut self) -> &mut IO {
        self.inner.get_mut().0
    }

    /// The futures-rustls stream inside, for what weir does not offer (the rustls connection,
    /// key export…).
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
    /// # let server = cert.server_config();
    /// # let accepted = weir::runtime::spawn(async move {
    /// #     tls::accept(&server, listener.accept().await.unwrap().0).await.unwrap()
    /// # });
    /// # let tcp = TcpStream::connect(addr).await.unwrap();
    /// let stream = tls::connect(&cert.client_config_trusting_it(), "localhost", tcp).await.unwrap();
    /// let inner = stream.into_futures_rustls();
    /// assert!(!inner.get_ref().1.is_handshaking());
    /// # accepted.await;
    /// # })).unwrap();
    /// ```
    pub fn into_futures_rustls(self) -> futures_rustls::TlsStream<IO> {
        self.inner
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsStream<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsStream<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

impl<IO> fmt::Debug for TlsStream<IO> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("server", &self.is_server())
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

//! TLS: encrypted streams over TCP (or any byte stream) through rustls, Aleph's SSL helpers in
//! `aleph.netty`.
//!
//! A [`ServerConfig`] holds what a server presents (a certificate chain and private key, ALPN
//! protocols, optional client authentication); a [`ClientConfig`] holds what a client trusts
//! (webpki or platform roots, extra roots) and offers. [`accept`] and [`connect`] run a
//! handshake over any futures-io stream and give a [`TlsStream`], itself `AsyncRead` +
//! `AsyncWrite`, whose [`TlsInfo`] says what was agreed. [`self_signed`] makes a throwaway
//! certificate for tests and examples.
//!
//! ```
//! use async_net::{TcpListener, TcpStream};
//! use futures::{AsyncReadExt, AsyncWriteExt};
//! use weir::tls;
//!
//! # weir::runtime::block_on(weir::runtime::timeout(std::time::Duration::from_secs(10), async {
//! let cert = tls::self_signed(&["localhost"]).unwrap();
//! let server = cert.server_config_builder().alpn_protocols(["http/1.1"]).build().unwrap();
//! let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let addr = listener.local_addr().unwrap();
//! weir::runtime::spawn(async move {
//!     let (tcp, _) = listener.accept().await.unwrap();
//!     let mut stream = tls::accept(&server, tcp).await.unwrap();
//!     let mut line = [0; 4];
//!     stream.read_exact(&mut line).await.unwrap();
//!     stream.write_all(&line).await.unwrap();
//!     stream.close().await.unwrap();
//! })
//! .detach();
//!
//! let client = cert.client_config_builder().alpn_protocols(["h2", "http/1.1"]).build().unwrap();
//! let tcp = TcpStream::connect(addr).await.unwrap();
//! let mut stream = tls::connect(&client, "localhost", tcp).await.unwrap();
//! assert_eq!(stream.session_info().alpn_protocol(), Some(&b"http/1.1"[..]));
//! stream.write_all(b"ping").await.unwrap();
//! let mut echo = Vec::new();
//! stream.read_to_end(&mut echo).await.unwrap();
//! assert_eq!(echo, b"ping");
//! # })).unwrap();
//! ```
//!
//! # Safe defaults
//!
//! Certificate verification is on: a client trusts the webpki roots unless told otherwise, and
//! checks that the certificate was issued for the name it connects to. The one way to turn
//! verification off is [`ClientConfigBuilder::danger_accept_invalid_certs`]. Handshakes time
//! out after [`DEFAULT_HANDSHAKE_TIMEOUT`]. Every config uses ring's cryptography, set
//! explicitly: weir never depends on a process-wide rustls provider. Configs are built and
//! checked up front, and a malformed PEM file or a key that does not match its certificate is
//! a clear error, never a panic.
//!
//! # From Aleph
//!
//! | Aleph (`aleph.netty`) | weir |
//! |---|---|
//! | `ssl-server-context` with `:certificate-chain`, `:private-key` (files or values) | [`ServerConfig::from_pem`], [`ServerConfig::from_pem_files`], [`ServerConfigBuilder::der`] |
//! | `:client-auth :require` / `:optional`, `:trust-store` | [`ServerConfigBuilder::require_client_auth`], [`ServerConfigBuilder::request_client_auth`] |
//! | `ssl-client-context` (JDK trust store) | [`ClientConfig::default`] (webpki roots), [`ClientConfigBuilder::platform_roots`] |
//! | `ssl-client-context` with `:trust-store` | [`ClientConfigBuilder::add_root_pem`], [`ClientConfigBuilder::add_root_pem_file`] |
//! | `ssl-client-context` with `:private-key`, `:certificate-chain` (mTLS) | [`ClientConfigBuilder::client_certificate_pem`] |
//! | `insecure-ssl-client-context` | [`ClientConfigBuilder::danger_accept_invalid_certs`] |
//! | `self-signed-ssl-context` | [`self_signed`], [`SelfSigned::server_config`], [`SelfSigned::client_config_trusting_it`] |
//! | `application-protocol-config`, `->application-protocol-name` | `alpn_protocols(["h2", "http/1.1"])` on either builder |
//! | `ssl-handler` (server; client with SNI host and hostname verification) | [`accept`], [`connect`] with a server name, [`ClientConfigBuilder::server_name`] |
//! | an `SslContext` built by hand | [`ServerConfig::from_rustls`], [`ClientConfig::from_rustls`] |
//! | `:ssl-provider`, `:ciphers`, `:protocols`, session cache options | set them on a hand-made rustls config |
//! | the session on the channel (`SslHandler`) | [`TlsStream::session_info`], a [`TlsInfo`] |
//!
//! The crates weir builds on are re-exported so that hand-made configs use the same versions:
//! [`rustls`], [`pki_types`] (rustls-pki-types) and [`futures_rustls`].

mod client;
mod info;
mod pem;
mod self_signed;
mod server;
mod stream;

pub use client::{ClientConfig, ClientConfigBuilder};
pub use info::TlsInfo;
pub use self_signed::{SelfSigned, self_signed};
pub use server::{DEFAULT_HANDSHAKE_TIMEOUT, ServerConfig, ServerConfigBuilder};
pub use stream::{TlsStream, accept, connect};

pub use futures_rustls;
pub use rustls;
pub use rustls_pki_types as pki_types;

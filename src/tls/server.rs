//! `ServerConfig`: the certificate and settings a TLS server presents, and its builder.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

use super::pem::{self, Identity};

/// How long a handshake may take before [`accept`](super::accept) or
/// [`connect`](super::connect) gives up: Netty's default, 10 seconds.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a TLS server presents: its certificate chain and private key, ALPN protocols and
/// client authentication, as an `Arc<rustls::ServerConfig>`, plus weir's handshake timeout.
///
/// Build one with [`ServerConfig::builder`] (or [`ServerConfig::from_pem`] for the common case),
/// or wrap a hand-made rustls config with [`ServerConfig::from_rustls`]. Cloning is cheap (one
/// reference count), so one config serves every connection.
///
/// # Examples
///
/// ```
/// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
/// let config = weir::tls::ServerConfig::builder()
///     .pem(cert.certificate_pem(), cert.private_key_pem())
///     .alpn_protocols(["h2", "http/1.1"])
///     .build()
///     .unwrap();
/// assert_eq!(config.alpn_protocols(), [b"h2".to_vec(), b"http/1.1".to_vec()]);
/// ```
#[derive(Clone)]
pub struct ServerConfig {
    rustls: Arc<rustls::ServerConfig>,
    handshake_timeout: Duration,
}

impl ServerConfig {
    /// A builder with no certificate yet, no ALPN, no client authentication and a handshake
    /// timeout of [`DEFAULT_HANDSHAKE_TIMEOUT`].
    ///
    /// # Examples
    ///
    /// ```
    /// let missing = weir::tls::ServerConfig::builder().build().unwrap_err();
    /// assert!(missing.to_string().contains("certificate chain and a private key"));
    /// ```
    pub fn builder() -> ServerConfigBuilder {
        ServerConfigBuilder {
            identity: None,
            alpn: Vec::new(),
            client_auth: ClientAuth::None,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// A config from a PEM certificate chain (the server's certificate first) and a PEM private
    /// key (PKCS#8, PKCS#1 or SEC1), with the builder's defaults: Aleph's `ssl-server-context`
    /// with `:certificate-chain` and `:private-key`.
    ///
    /// # Errors
    ///
    /// Malformed PEM, a chain without certificates, no private key, or a key that does not match
    /// the certificate: each a clear error, never a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// assert!(weir::tls::ServerConfig::from_pem(cert.certificate_pem(), cert.private_key_pem()).is_ok());
    ///
    /// let err = weir::tls::ServerConfig::from_pem(cert.certificate_pem(), "not a key").unwrap_err();
    /// assert!(err.to_string().contains("no private key found"));
    /// ```
    pub fn from_pem(
        certificate_chain: impl AsRef<[u8]>,
        private_key: impl AsRef<[u8]>,
    ) -> Result<ServerConfig, Error> {
        ServerConfig::builder()
            .pem(certificate_chain, private_key)
            .build()
    }

    /// A config from a PEM certificate chain file and a PEM private key file, with the builder's
    /// defaults. The files are read now, blocking the caller.
    ///
    /// # Errors
    ///
    /// A file that cannot be read is an [I/O error](Error::is_io) naming its path; its contents
    /// are checked as [`from_pem`](ServerConfig::from_pem) checks them.
    ///
    /// # Examples
    ///
    /// ```
    /// let dir = std::env::temp_dir().join(format!("weir-doc-tls-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// std::fs::write(dir.join("cert.pem"), cert.certificate_pem()).unwrap();
    /// std::fs::write(dir.join("key.pem"), cert.private_key_pem()).unwrap();
    ///
    /// let config = weir::tls::ServerConfig::from_pem_files(dir.join("cert.pem"), dir.join("key.pem"));
    /// assert!(config.is_ok());
    /// let missing = weir::tls::ServerConfig::from_pem_files(dir.join("nope.pem"), dir.join("key.pem"));
    /// assert!(missing.unwrap_err().is_io());
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn from_pem_files(
        certificate_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Result<ServerConfig, Error> {
        ServerConfig::builder()
            .pem_files(certificate_chain, private_key)
            .build()
    }

    /// Wraps a rustls config made by hand, for settings the builder does not offer (session
    /// caches, certificate resolvers, key logging…). The handshake timeout is
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`]; change it with
    /// [`with_handshake_timeout`](ServerConfig::with_handshake_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let mut rustls = (**cert.server_config().rustls()).clone();
    /// rustls.max_early_data_size = 0;
    /// let config = weir::tls::ServerConfig::from_rustls(Arc::new(rustls));
    /// assert_eq!(config.handshake_timeout(), weir::tls::DEFAULT_HANDSHAKE_TIMEOUT);
    /// ```
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> ServerConfig {
        ServerConfig {
            rustls: config,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// The rustls config inside.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::self_signed(&["localhost"]).unwrap().server_config();
    /// assert!(config.rustls().alpn_protocols.is_empty());
    /// ```
    pub fn rustls(&self) -> &Arc<rustls::ServerConfig> {
        &self.rustls
    }

    /// The ALPN protocols offered, most preferred first.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::self_signed(&["localhost"]).unwrap().server_config();
    /// assert!(config.alpn_protocols().is_empty());
    /// ```
    pub fn alpn_protocols(&self) -> &[Vec<u8>] {
        &self.rustls.alpn_protocols
    }

    /// The same config with these ALPN protocols, most preferred first (the rustls config is
    /// copied). A server with ALPN protocols refuses a client that offers ALPN but none of
    /// them; a client that offers no ALPN at all is accepted.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::self_signed(&["localhost"]).unwrap().server_config();
    /// let h2 = config.with_alpn_protocols(["h2"]);
    /// assert_eq!(h2.alpn_protocols(), [b"h2".to_vec()]);
    /// ```
    pub fn with_alpn_protocols<I, P>(self, protocols: I) -> ServerConfig
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let mut rustls = (*self.rustls).clone();
        rustls.alpn_protocols = super::pem::alpn_list(protocols);
        ServerConfig {
            rustls: Arc::new(rustls),
            handshake_timeout: self.handshake_timeout,
        }
    }

    /// How long [`accept`](super::accept) waits for a handshake to finish.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::self_signed(&["localhost"]).unwrap().server_config();
    /// assert_eq!(config.handshake_timeout(), std::time::Duration::from_secs(10));
    /// ```
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// The same config with another handshake timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let config = weir::tls::self_signed(&["localhost"]).unwrap().server_config();
    /// let quick = config.with_handshake_timeout(Duration::from_secs(2));
    /// assert_eq!(quick.handshake_timeout(), Duration::from_secs(2));
    /// ```
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> ServerConfig {
        self.handshake_timeout = timeout;
        self
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("alpn_protocols", &AlpnList(self.alpn_protocols()))
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`ServerConfig`]; from [`ServerConfig::builder`]. Nothing is parsed or checked
/// until [`build`](ServerConfigBuilder::build).
///
/// # Examples
///
/// ```
/// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
/// let config = weir::tls::ServerConfig::builder()
///     .pem(cert.certificate_pem(), cert.private_key_pem())
///     .alpn_protocols(["http/1.1"])
///     .handshake_timeout(std::time::Duration::from_secs(5))
///     .build()
///     .unwrap();
/// assert_eq!(config.handshake_timeout().as_secs(), 5);
/// ```
pub struct ServerConfigBuilder {
    identity: Option<Identity>,
    alpn: Vec<Vec<u8>>,
    client_auth: ClientAuth,
    handshake_timeout: Duration,
}

enum ClientAuth {
    None,
    Optional(Vec<u8>),
    Required(Vec<u8>),
}

impl ServerConfigBuilder {
    /// The certificate chain (PEM, the server's certificate first) and private key (PEM:
    /// PKCS#8, PKCS#1 or SEC1). Replaces any earlier certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::tls::ServerConfig::builder()
    ///     .pem("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n", "")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("malformed PEM"), "{err}");
    /// ```
    pub fn pem(
        mut self,
        certificate_chain: impl AsRef<[u8]>,
        private_key: impl AsRef<[u8]>,
    ) -> Self {
        self.identity = Some(Identity::Pem {
            chain: certificate_chain.as_ref().to_vec(),
            key: private_key.as_ref().to_vec(),
        });
        self
    }

    /// The certificate chain and private key as PEM files, read by
    /// [`build`](ServerConfigBuilder::build). Replaces any earlier certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::tls::ServerConfig::builder()
    ///     .pem_files("/nonexistent/cert.pem", "/nonexistent/key.pem")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.is_io());
    /// assert!(err.to_string().contains("/nonexistent/cert.pem"));
    /// ```
    pub fn pem_files(
        mut self,
        certificate_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Self {
        self.identity = Some(Identity::Files {
            chain: certificate_chain.as_ref().into(),
            key: private_key.as_ref().into(),
        });
        self
    }

    /// The certificate chain and private key as rustls pieces (DER). Replaces any earlier
    /// certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    ///
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let chain = vec![CertificateDer::from(cert.certificate_der().to_vec())];
    /// let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.private_key_der().to_vec()));
    /// assert!(weir::tls::ServerConfig::builder().der(chain, key).build().is_ok());
    /// ```
    pub fn der(
        mut self,
        certificate_chain: Vec<CertificateDer<'static>>,
        private_key: PrivateKeyDer<'static>,
    ) -> Self {
        self.identity = Some(Identity::Der {
            chain: certificate_chain,
            key: private_key,
        });
        self
    }

    /// The ALPN protocols to offer, most preferred first (`"h2"`, `"http/1.1"`…): Aleph's
    /// `application-protocol-config`. Default: none. A server with ALPN protocols refuses a
    /// client that offers ALPN but none of them.
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let config = cert.server_config_builder().alpn_protocols([b"h2"]).build().unwrap();
    /// assert_eq!(config.alpn_protocols(), [b"h2".to_vec()]);
    /// ```
    pub fn alpn_protocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = super::pem::alpn_list(protocols);
        self
    }

    /// Requires every client to present a certificate signed by one of the CA certificates in
    /// `ca_pem` (mutual TLS): Aleph's `:client-auth :require` with a `:trust-store`. The
    /// client's chain is then in [`TlsInfo::peer_certificates`](super::TlsInfo::peer_certificates).
    ///
    /// # Examples
    ///
    /// ```
    /// let server = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let client = weir::tls::self_signed(&["client"]).unwrap();
    /// let config = server
    ///     .server_config_builder()
    ///     .require_client_auth(client.certificate_pem())
    ///     .build();
    /// assert!(config.is_ok());
    /// ```
    pub fn require_client_auth(mut self, ca_pem: impl AsRef<[u8]>) -> Self {
        self.client_auth = ClientAuth::Required(ca_pem.as_ref().to_vec());
        self
    }

    /// Asks clients for a certificate signed by one of the CA certificates in `ca_pem`, but
    /// also accepts clients that present none: Aleph's `:client-auth :optional`.
    ///
    /// # Examples
    ///
    /// ```
    /// let server = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let err = server.server_config_builder().request_client_auth("no PEM here").build();
    /// assert!(err.unwrap_err().to_string().contains("no certificate found"));
    /// ```
    pub fn request_client_auth(mut self, ca_pem: impl AsRef<[u8]>) -> Self {
        self.client_auth = ClientAuth::Optional(ca_pem.as_ref().to_vec());
        self
    }

    /// How long [`accept`](super::accept) waits for a handshake to finish. Default:
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`] (10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let config = cert
    ///     .server_config_builder()
    ///     .handshake_timeout(std::time::Duration::from_millis(500))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.handshake_timeout().as_millis(), 500);
    /// ```
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Parses and checks everything and builds the config with rustls' safe defaults (TLS 1.3
    /// and 1.2, ring's cipher suites).
    ///
    /// # Errors
    ///
    /// No certificate given, malformed PEM, a chain without certificates, no private key, a key
    /// that does not match the certificate, or unusable client-auth roots: each a clear error
    /// that says which, never a panic. Unreadable files are [I/O errors](Error::is_io).
    ///
    /// # Examples
    ///
    /// ```
    /// let one = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let other = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let err = weir::tls::ServerConfig::builder()
    ///     .pem(one.certificate_pem(), other.private_key_pem())
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("does not match"), "{err}");
    /// ```
    pub fn build(self) -> Result<ServerConfig, Error> {
        let identity = self.identity.ok_or_else(|| {
            Error::msg(
                "a TLS server needs a certificate chain and a private key: \
                 give them with ServerConfigBuilder::pem, pem_files or der",
            )
        })?;
        let (chain, key) = identity.load("server")?;
        let provider = pem::provider();
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::msg(format!("cannot set up TLS versions: {e}")))?;
        let builder = match self.client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Optional(ref ca) | ClientAuth::Required(ref ca) => {
                let mut roots = rustls::RootCertStore::empty();
                pem::add_roots(
                    &mut roots,
                    pem::certificates(ca, "the client-auth CA certificates")?,
                )?;
                let mut verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                if matches!(self.client_auth, ClientAuth::Optional(_)) {
                    verifier = verifier.allow_unauthenticated();
                }
                let verifier = verifier
                    .build()
                    .map_err(|e| Error::msg(format!("cannot set up client authentication: {e}")))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| pem::identity_error("server", e))?;
        config.alpn_protocols = self.alpn;
        Ok(ServerConfig {
            rustls: Arc::new(config),
            handshake_timeout: self.handshake_timeout,
        })
    }
}

impl fmt::Debug for ServerConfigBuilder {
    /// Never prints key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let client_auth = match self.client_auth {
            ClientAuth::None => "none",
            ClientAuth::Optional(_) => "optional",
            ClientAuth::Required(_) => "required",
        };
        f.debug_struct("ServerConfigBuilder")
            .field("identity", &self.identity.as_ref().map(Identity::describe))
            .field("alpn_protocols", &AlpnList(&self.alpn))
            .field("client_auth", &client_auth)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

/// Prints ALPN protocol names as text where they are UTF-8.
pub(crate) struct AlpnList<'a>(pub(crate) &'a [Vec<u8>]);

impl fmt::Debug for AlpnList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|p| String::from_utf8_lossy(p)))
            .finish()
    }
}

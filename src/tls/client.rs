//! `ClientConfig`: the roots a TLS client trusts and its other settings, and its builder.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::Error;

use super::pem::{self, Identity};
use super::server::{AlpnList, DEFAULT_HANDSHAKE_TIMEOUT};

/// What a TLS client trusts and offers: root certificates, ALPN protocols, an optional client
/// certificate, as an `Arc<rustls::ClientConfig>`, plus the server name to verify (SNI) if it
/// overrides the one given to [`connect`](super::connect) and weir's handshake timeout.
///
/// The default ([`ClientConfig::default`], or [`ClientConfig::builder`] built as is) trusts the
/// Mozilla roots of webpki-roots and verifies every certificate. Cloning is cheap.
///
/// # Examples
///
/// ```
/// let config = weir::tls::ClientConfig::builder()
///     .alpn_protocols(["h2", "http/1.1"])
///     .build()
///     .unwrap();
/// assert_eq!(config.alpn_protocols().len(), 2);
/// assert!(!config.is_dangerous());
/// ```
#[derive(Clone)]
pub struct ClientConfig {
    rustls: Arc<rustls::ClientConfig>,
    server_name: Option<ServerName<'static>>,
    dangerous: bool,
    handshake_timeout: Duration,
}

impl ClientConfig {
    /// A builder with the safe defaults: webpki-roots, certificate verification on, no ALPN, no
    /// client certificate, the server name given to [`connect`](super::connect), and a
    /// handshake timeout of [`DEFAULT_HANDSHAKE_TIMEOUT`].
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::ClientConfig::builder().build().unwrap();
    /// assert!(config.server_name().is_none());
    /// ```
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder {
            roots: Roots::Webpki,
            extra_roots: Vec::new(),
            alpn: Vec::new(),
            server_name: None,
            identity: None,
            insecure: false,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Wraps a rustls client config made by hand, for settings the builder does not offer. The
    /// handshake timeout is [`DEFAULT_HANDSHAKE_TIMEOUT`]; change it with
    /// [`with_handshake_timeout`](ClientConfig::with_handshake_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let mut rustls = (**weir::tls::ClientConfig::default().rustls()).clone();
    /// rustls.enable_sni = false;
    /// let config = weir::tls::ClientConfig::from_rustls(Arc::new(rustls));
    /// assert!(!config.rustls().enable_sni);
    /// ```
    pub fn from_rustls(config: Arc<rustls::ClientConfig>) -> ClientConfig {
        ClientConfig {
            rustls: config,
            server_name: None,
            dangerous: false,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// The rustls config inside.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::ClientConfig::default();
    /// assert!(config.rustls().enable_sni);
    /// ```
    pub fn rustls(&self) -> &Arc<rustls::ClientConfig> {
        &self.rustls
    }

    /// The ALPN protocols offered, most preferred first.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weir::tls::ClientConfig::default().alpn_protocols().is_empty());
    /// ```
    pub fn alpn_protocols(&self) -> &[Vec<u8>] {
        &self.rustls.alpn_protocols
    }

    /// The same config offering these ALPN protocols, most preferred first (the rustls config
    /// is copied).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::ClientConfig::default().with_alpn_protocols(["http/1.1"]);
    /// assert_eq!(config.alpn_protocols(), [b"http/1.1".to_vec()]);
    /// ```
    pub fn with_alpn_protocols<I, P>(self, protocols: I) -> ClientConfig
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        let mut rustls = (*self.rustls).clone();
        rustls.alpn_protocols = super::pem::alpn_list(protocols);
        ClientConfig {
            rustls: Arc::new(rustls),
            ..self
        }
    }

    /// The server name sent (SNI) and verified, when it overrides the one given to
    /// [`connect`](super::connect).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::ClientConfig::builder().server_name("example.com").build().unwrap();
    /// assert_eq!(config.server_name().unwrap().to_str(), "example.com");
    /// ```
    pub fn server_name(&self) -> Option<&ServerName<'static>> {
        self.server_name.as_ref()
    }

    /// How long [`connect`](super::connect) waits for a handshake to finish.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::ClientConfig::default();
    /// assert_eq!(config.handshake_timeout(), weir::tls::DEFAULT_HANDSHAKE_TIMEOUT);
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
    /// let config = weir::tls::ClientConfig::default().with_handshake_timeout(Duration::from_secs(1));
    /// assert_eq!(config.handshake_timeout(), Duration::from_secs(1));
    /// ```
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> ClientConfig {
        self.handshake_timeout = timeout;
        self
    }

    /// True when certificate verification is off
    /// ([`danger_accept_invalid_certs`](ClientConfigBuilder::danger_accept_invalid_certs)).
    /// Only configs built by weir are recognised; a hand-made rustls config reports false.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!weir::tls::ClientConfig::default().is_dangerous());
    /// let insecure = weir::tls::ClientConfig::builder().danger_accept_invalid_certs().build().unwrap();
    /// assert!(insecure.is_dangerous());
    /// ```
    pub fn is_dangerous(&self) -> bool {
        self.dangerous
    }
}

impl Default for ClientConfig {
    /// Trusts webpki-roots and verifies every certificate; otherwise the builder's defaults.
    fn default() -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let config = rustls::ClientConfig::builder_with_provider(pem::provider())
            .with_safe_default_protocol_versions()
            // Cannot fail: ring has cipher suites for both of rustls' default versions.
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        ClientConfig::from_rustls(Arc::new(config))
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("alpn_protocols", &AlpnList(self.alpn_protocols()))
            .field("server_name", &self.server_name)
            .field("dangerous", &self.is_dangerous())
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

/// Builds a [`ClientConfig`]; from [`ClientConfig::builder`]. Nothing is parsed or loaded
/// until [`build`](ClientConfigBuilder::build).
///
/// # Examples
///
/// ```
/// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
/// let config = weir::tls::ClientConfig::builder()
///     .no_default_roots()
///     .add_root_pem(cert.certificate_pem())
///     .alpn_protocols(["http/1.1"])
///     .build()
///     .unwrap();
/// assert_eq!(config.alpn_protocols(), [b"http/1.1".to_vec()]);
/// ```
pub struct ClientConfigBuilder {
    roots: Roots,
    extra_roots: Vec<ExtraRoot>,
    alpn: Vec<Vec<u8>>,
    server_name: Option<String>,
    identity: Option<Identity>,
    insecure: bool,
    handshake_timeout: Duration,
}

#[derive(Debug, Clone, Copy)]
enum Roots {
    Webpki,
    Platform,
    None,
}

enum ExtraRoot {
    Pem(Vec<u8>),
    File(PathBuf),
    Der(CertificateDer<'static>),
}

impl ClientConfigBuilder {
    /// Trusts the Mozilla root certificates compiled in by webpki-roots: the default, the same
    /// on every machine.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::ClientConfig::builder().webpki_roots().build();
    /// assert!(config.is_ok());
    /// ```
    pub fn webpki_roots(mut self) -> Self {
        self.roots = Roots::Webpki;
        self
    }

    /// Trusts the platform's root certificates (rustls-native-certs: the OS store on macOS and
    /// Windows, the usual bundle files or `SSL_CERT_FILE` on Unix), loaded by
    /// [`build`](ClientConfigBuilder::build), which fails clearly if none can be loaded.
    ///
    /// # Examples
    ///
    /// ```
    /// // Either the platform's roots load, or the error says why.
    /// match weir::tls::ClientConfig::builder().platform_roots().build() {
    ///     Ok(config) => assert!(!config.is_dangerous()),
    ///     Err(e) => assert!(e.to_string().contains("platform root certificates")),
    /// }
    /// ```
    pub fn platform_roots(mut self) -> Self {
        self.roots = Roots::Platform;
        self
    }

    /// Trusts no built-in roots: only those added with
    /// [`add_root_pem`](ClientConfigBuilder::add_root_pem) and friends.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::tls::ClientConfig::builder().no_default_roots().build().unwrap_err();
    /// assert!(err.to_string().contains("no root certificates"));
    /// ```
    pub fn no_default_roots(mut self) -> Self {
        self.roots = Roots::None;
        self
    }

    /// Also trusts the root (CA or self-signed) certificates of `pem`, which holds one or more
    /// `CERTIFICATE` blocks.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::tls::ClientConfig::builder().add_root_pem("nothing").build().unwrap_err();
    /// assert!(err.to_string().contains("no certificate found"));
    /// ```
    pub fn add_root_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_roots.push(ExtraRoot::Pem(pem.as_ref().to_vec()));
        self
    }

    /// Also trusts the root certificates of a PEM file, read by
    /// [`build`](ClientConfigBuilder::build).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::tls::ClientConfig::builder()
    ///     .add_root_pem_file("/nonexistent/ca.pem")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.is_io());
    /// ```
    pub fn add_root_pem_file(mut self, path: impl AsRef<Path>) -> Self {
        self.extra_roots
            .push(ExtraRoot::File(path.as_ref().to_path_buf()));
        self
    }

    /// Also trusts a root certificate given as DER.
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let config = weir::tls::ClientConfig::builder()
    ///     .no_default_roots()
    ///     .add_root_der(cert.certificate_der())
    ///     .build();
    /// assert!(config.is_ok());
    /// ```
    pub fn add_root_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots
            .push(ExtraRoot::Der(CertificateDer::from(der.into())));
        self
    }

    /// The ALPN protocols to offer, most preferred first. Default: none.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::ClientConfig::builder().alpn_protocols(["h2"]).build().unwrap();
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

    /// The server name to send (SNI) and to verify the certificate against, whatever name
    /// [`connect`](super::connect) is given: for connecting by address to a named host. A DNS
    /// name or an IP address.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = weir::tls::ClientConfig::builder().server_name("not a name!").build().unwrap_err();
    /// assert!(err.to_string().contains("invalid TLS server name"));
    /// ```
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// A client certificate chain and private key (PEM) to present to servers that ask for
    /// one (mutual TLS).
    ///
    /// # Examples
    ///
    /// ```
    /// let client = weir::tls::self_signed(&["client"]).unwrap();
    /// let config = weir::tls::ClientConfig::builder()
    ///     .client_certificate_pem(client.certificate_pem(), client.private_key_pem())
    ///     .build();
    /// assert!(config.is_ok());
    /// ```
    pub fn client_certificate_pem(
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

    /// **Turns certificate verification off.** The client then accepts any certificate for
    /// any name (expired, self-signed, issued for another host), so anyone between the client
    /// and the server can read and change the traffic. Aleph's `insecure-ssl-client-context`.
    ///
    /// For tests and local tools only; never in production. To talk to a server with a
    /// self-signed certificate, trust that certificate instead with
    /// [`add_root_pem`](ClientConfigBuilder::add_root_pem). The handshake signatures are still
    /// checked, and building such a config logs a warning.
    ///
    /// # Examples
    ///
    /// ```
    /// let insecure = weir::tls::ClientConfig::builder().danger_accept_invalid_certs().build().unwrap();
    /// assert!(insecure.is_dangerous());
    /// ```
    pub fn danger_accept_invalid_certs(mut self) -> Self {
        self.insecure = true;
        self
    }

    /// How long [`connect`](super::connect) waits for a handshake to finish. Default:
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`] (10 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let config = weir::tls::ClientConfig::builder()
    ///     .handshake_timeout(std::time::Duration::from_secs(3))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(config.handshake_timeout().as_secs(), 3);
    /// ```
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Loads the roots, parses everything and builds the config with rustls' safe defaults
    /// (TLS 1.3 and 1.2, ring's cipher suites). Platform roots and PEM files are read now,
    /// blocking the caller.
    ///
    /// # Errors
    ///
    /// Malformed PEM, an invalid server name, a client key that does not match its
    /// certificate, platform roots that cannot be loaded, or no roots at all: each a clear
    /// error, never a panic.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = weir::tls::self_signed(&["client"]).unwrap();
    /// let b = weir::tls::self_signed(&["client"]).unwrap();
    /// let err = weir::tls::ClientConfig::builder()
    ///     .client_certificate_pem(a.certificate_pem(), b.private_key_pem())
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("does not match"));
    /// ```
    pub fn build(self) -> Result<ClientConfig, Error> {
        let provider = pem::provider();
        let server_name = self.server_name.map(parse_server_name).transpose()?;
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::msg(format!("cannot set up TLS versions: {e}")))?;
        let builder = if self.insecure {
            log::warn!(
                "weir::tls: a client config with certificate verification turned off \
                 (danger_accept_invalid_certs) was built; its connections can be intercepted"
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(DangerAcceptInvalidCerts { provider }))
        } else {
            builder.with_root_certificates(root_store(self.roots, self.extra_roots)?)
        };
        let mut config = match self.identity {
            None => builder.with_no_client_auth(),
            Some(identity) => {
                let (chain, key) = identity.load("client")?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| pem::identity_error("client", e))?
            }
        };
        config.alpn_protocols = self.alpn;
        Ok(ClientConfig {
            rustls: Arc::new(config),
            server_name,
            dangerous: self.insecure,
            handshake_timeout: self.handshake_timeout,
        })
    }
}

impl fmt::Debug for ClientConfigBuilder {
    /// Never prints key material.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfigBuilder")
            .field("roots", &self.roots)
            .field("extra_roots", &self.extra_roots.len())
            .field("alpn_protocols", &AlpnList(&self.alpn))
            .field("server_name", &self.server_name)
            .field(
                "client_certificate",
                &self.identity.as_ref().map(Identity::describe),
            )
            .field("danger_accept_invalid_certs", &self.insecure)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish()
    }
}

/// A server name for SNI and verification: a DNS name or an IP address.
pub(crate) fn parse_server_name(name: impl Into<String>) -> Result<ServerName<'static>, Error> {
    let name = name.into();
    ServerName::try_from(name.clone()).map_err(|_| {
        Error::msg(format!(
            "invalid TLS server name {name:?}: expected a DNS name or an IP address"
        ))
    })
}

fn root_store(roots: Roots, extra: Vec<ExtraRoot>) -> Result<rustls::RootCertStore, Error> {
    let mut store = rustls::RootCertStore::empty();
    match roots {
        Roots::Webpki => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Roots::Platform => {
            let loaded = rustls_native_certs::load_native_certs();
            let (added, _ignored) = store.add_parsable_certificates(loaded.certs);
            if added == 0 {
                let why = match loaded.errors.first() {
                    Some(e) => format!(": {e}"),
                    None => String::from(": none found"),
                };
                return Err(Error::msg(format!(
                    "cannot load the platform root certificates{why} \
                     (try ClientConfigBuilder::webpki_roots, or set SSL_CERT_FILE)"
                )));
            }
        }
        Roots::None => {}
    }
    for root in extra {
        let certs = match root {
            ExtraRoot::Pem(pem) => pem::certificates(&pem, "the root certificates")?,
            ExtraRoot::File(path) => pem::certificates(
                &pem::read_file(&path)?,
                &format!("the root certificates {}", path.display()),
            )?,
            ExtraRoot::Der(der) => vec![der],
        };
        pem::add_roots(&mut store, certs)?;
    }
    if store.is_empty() {
        return Err(Error::msg(
            "no root certificates to trust: add some with ClientConfigBuilder::add_root_pem, \
             or keep the default webpki roots",
        ));
    }
    Ok(store)
}

/// The verifier behind `danger_accept_invalid_certs`: accepts any certificate, but still checks
/// that the handshake is signed by the key of the certificate presented.
#[derive(Debug)]
struct DangerAcceptInvalidCerts {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for DangerAcceptInvalidCerts {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

//! `self_signed`: a throwaway certificate for tests and examples, made by rcgen.

use std::fmt;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::Error;

use super::{ClientConfig, ClientConfigBuilder, ServerConfig, ServerConfigBuilder};

/// Generates a self-signed certificate (ECDSA P-256) valid for `names`, DNS names or IP
/// addresses: Aleph's `self-signed-ssl-context`. **For tests and examples only**: nothing
/// vouches for it, so a client trusts it only when told to, as
/// [`client_config_trusting_it`](SelfSigned::client_config_trusting_it) does.
///
/// # Errors
///
/// No names, or a name that is neither a DNS name nor an IP address.
///
/// # Examples
///
/// ```
/// let cert = weir::tls::self_signed(&["localhost", "127.0.0.1"]).unwrap();
/// assert!(cert.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
/// assert!(cert.private_key_pem().contains("PRIVATE KEY"));
/// assert!(weir::tls::self_signed(&[]).is_err());
/// ```
pub fn self_signed(names: &[&str]) -> Result<SelfSigned, Error> {
    if names.is_empty() {
        return Err(Error::msg(
            "a self-signed certificate needs at least one name (\"localhost\", \"127.0.0.1\"…)",
        ));
    }
    let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
    let generated = rcgen::generate_simple_self_signed(names)
        .map_err(|e| Error::msg(format!("cannot generate a self-signed certificate: {e}")))?;
    let certificate_der = generated.cert.der().to_vec();
    let private_key_der = generated.key_pair.serialize_der();
    let server = ServerConfig::builder()
        .der(
            vec![CertificateDer::from(certificate_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(private_key_der.clone())),
        )
        .build()?;
    let client = trusting(&certificate_der).build()?;
    Ok(SelfSigned {
        certificate_pem: generated.cert.pem(),
        private_key_pem: generated.key_pair.serialize_pem(),
        certificate_der,
        private_key_der,
        server,
        client,
    })
}

fn trusting(certificate_der: &[u8]) -> ClientConfigBuilder {
    ClientConfig::builder()
        .no_default_roots()
        .add_root_der(certificate_der)
}

/// A self-signed certificate and its private key, from [`self_signed`], with ready-made
/// configs: a server presenting it and a client trusting it (and nothing else).
///
/// # Examples
///
/// ```
/// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
/// let server = cert.server_config();
/// let client = cert.client_config_trusting_it();
/// assert!(server.alpn_protocols().is_empty());
/// assert!(!client.is_dangerous());
/// ```
#[derive(Clone)]
pub struct SelfSigned {
    certificate_pem: String,
    private_key_pem: String,
    certificate_der: Vec<u8>,
    private_key_der: Vec<u8>,
    server: ServerConfig,
    client: ClientConfig,
}

impl SelfSigned {
    /// The certificate as PEM, for a client to trust (write it to a file for other programs).
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// assert!(cert.certificate_pem().trim_end().ends_with("-----END CERTIFICATE-----"));
    /// ```
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The private key as PKCS#8 PEM.
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// assert!(cert.private_key_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
    /// ```
    pub fn private_key_pem(&self) -> &str {
        &self.private_key_pem
    }

    /// The certificate as DER: what a peer sees in
    /// [`TlsInfo::peer_certificates`](super::TlsInfo::peer_certificates).
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// assert_eq!(cert.certificate_der()[0], 0x30); // an ASN.1 SEQUENCE
    /// ```
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// The private key as PKCS#8 DER.
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// assert_eq!(cert.private_key_der()[0], 0x30);
    /// ```
    pub fn private_key_der(&self) -> &[u8] {
        &self.private_key_der
    }

    /// A server config presenting this certificate, with the builder's defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// assert_eq!(cert.server_config().handshake_timeout(), weir::tls::DEFAULT_HANDSHAKE_TIMEOUT);
    /// ```
    pub fn server_config(&self) -> ServerConfig {
        self.server.clone()
    }

    /// A server config builder already holding this certificate and key, to add ALPN or client
    /// authentication.
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let config = cert.server_config_builder().alpn_protocols(["h2"]).build().unwrap();
    /// assert_eq!(config.alpn_protocols(), [b"h2".to_vec()]);
    /// ```
    pub fn server_config_builder(&self) -> ServerConfigBuilder {
        ServerConfig::builder().der(
            vec![CertificateDer::from(self.certificate_der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.private_key_der.clone())),
        )
    }

    /// A client config that trusts this certificate and no other, with certificate
    /// verification on: a connection succeeds only to a name the certificate was made for.
    ///
    /// # Examples
    ///
    /// See [`connect`](super::connect) for a handshake with it.
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let client = cert.client_config_trusting_it();
    /// assert!(!client.is_dangerous());
    /// assert!(client.server_name().is_none());
    /// ```
    pub fn client_config_trusting_it(&self) -> ClientConfig {
        self.client.clone()
    }

    /// A client config builder that trusts this certificate and no other, to add ALPN, a server
    /// name or a client certificate.
    ///
    /// # Examples
    ///
    /// ```
    /// let cert = weir::tls::self_signed(&["localhost"]).unwrap();
    /// let client = cert.client_config_builder().alpn_protocols(["http/1.1"]).build().unwrap();
    /// assert_eq!(client.alpn_protocols(), [b"http/1.1".to_vec()]);
    /// ```
    pub fn client_config_builder(&self) -> ClientConfigBuilder {
        trusting(&self.certificate_der)
    }
}

impl fmt::Debug for SelfSigned {
    /// Prints the certificate, never the private key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelfSigned")
            .field("certificate_pem", &self.certificate_pem)
            .finish_non_exhaustive()
    }
}

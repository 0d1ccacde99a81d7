//! PEM and DER helpers shared by the server and client configs: parsing, file reading, the ring
//! provider, and errors that say what was wrong.

use std::io;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// A certificate chain and private key, as given to a builder; parsed by `build()`.
pub(crate) enum Identity {
    Pem {
        chain: Vec<u8>,
        key: Vec<u8>,
    },
    Files {
        chain: Box<Path>,
        key: Box<Path>,
    },
    Der {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    },
}

impl Identity {
    /// The parsed chain and key. `role` ("server", "client") names the certificate in errors.
    pub(crate) fn load(
        self,
        role: &str,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
        let (chain, key) = match self {
            Identity::Pem { chain, key } => (
                certificates(&chain, &format!("the {role} certificate chain"))?,
                private_key(&key)?,
            ),
            Identity::Files { chain, key } => (
                certificates(
                    &read_file(&chain)?,
                    &format!("the {role} certificate chain {}", chain.display()),
                )?,
                private_key(&read_file(&key)?)?,
            ),
            Identity::Der { chain, key } => (chain, key),
        };
        if chain.is_empty() {
            return Err(Error::msg(format!("the {role} certificate chain is empty")));
        }
        Ok((chain, key))
    }

    /// Names the parts without printing key material.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Identity::Pem { .. } => "pem",
            Identity::Files { .. } => "pem files",
            Identity::Der { .. } => "der",
        }
    }
}

/// weir always builds configs with ring, never with a process-wide default provider.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// Every `CERTIFICATE` block of `pem`; at least one. `what` names the input in errors.
pub(crate) fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::msg(format!("malformed PEM in {what}: {e}")))?;
    if certs.is_empty() {
        return Err(Error::msg(format!(
            "no certificate found in {what}: expected PEM with `-----BEGIN CERTIFICATE-----` blocks"
        )));
    }
    Ok(certs)
}

/// The first private key of `pem` (PKCS#8, PKCS#1 or SEC1).
pub(crate) fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, Error> {
    if pem.windows(27).any(|w| w == b"BEGIN ENCRYPTED PRIVATE KEY") {
        return Err(Error::msg(
            "the private key PEM is encrypted (`ENCRYPTED PRIVATE KEY`), which weir cannot \
             read: decrypt it first, e.g. `openssl pkcs8 -in key.pem -out plain.pem`",
        ));
    }
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        pem::Error::NoItemsFound => Error::msg(
            "no private key found in the key PEM: expected a `PRIVATE KEY`, \
             `RSA PRIVATE KEY` or `EC PRIVATE KEY` block",
        ),
        e => Error::msg(format!("malformed PEM in the private key: {e}")),
    })
}

/// Reads a whole file; the error is an I/O error that names the path.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| {
        Error::from(io::Error::new(
            e.kind(),
            format!("cannot read {}: {e}", path.display()),
        ))
    })
}

/// An error from rustls while building a config.
pub(crate) fn identity_error(role: &str, error: rustls::Error) -> Error {
    match error {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            Error::msg(format!(
                "the private key does not match the {role} certificate (the first of the chain)"
            ))
        }
        e => Error::msg(format!(
            "cannot use the {role} certificate chain and private key: {e}"
        )),
    }
}

/// Adds `certs` to `store`; a certificate rustls cannot use as a root is an error.
pub(crate) fn add_roots(
    store: &mut rustls::RootCertStore,
    certs: Vec<CertificateDer<'static>>,
) -> Result<(), Error> {
    for cert in certs {
        store
            .add(cert)
            .map_err(|e| Error::msg(format!("cannot use a root certificate: {e}")))?;
    }
    Ok(())
}

/// An ALPN protocol list as rustls stores it.
pub(super) fn alpn_list<I, P>(protocols: I) -> Vec<Vec<u8>>
where
    I: IntoIterator<Item = P>,
    P: AsRef<[u8]>,
{
    protocols.into_iter().map(|p| p.as_ref().to_vec()).collect()
}

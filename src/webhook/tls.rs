//! TLS for the webhook: the certificate pair is read from PEM files and swapped in place when the
//! files change (cert-manager and Kubernetes Secret mounts rotate them under a running pod). New
//! handshakes get the new pair; open connections keep theirs. A broken or mismatched new pair is
//! refused and the old one stays.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Pem { path: String, message: String },
    #[error("certificate {cert} and key {key} do not go together: {message}")]
    Pair {
        cert: String,
        key: String,
        message: String,
    },
    #[error("client CA {path}: {message}")]
    ClientCa { path: String, message: String },
    #[error("TLS setup: {0}")]
    Config(String),
    #[error("certificate {path}: {message}")]
    Validity { path: String, message: String },
}

/// When the serving certificate (the first of the chain) is valid, in seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

/// Reads the validity of the first certificate of a PEM chain. x509-parser reads it; rustls and
/// webpki check validity only when verifying a peer, never for the certificate a server presents.
pub fn validity(cert_pem: &[u8], path: &Path) -> Result<Validity, TlsError> {
    let error = |message: String| TlsError::Validity {
        path: path.display().to_string(),
        message,
    };
    let first = CertificateDer::pem_slice_iter(cert_pem)
        .next()
        .ok_or_else(|| error("no CERTIFICATE block found".into()))?
        .map_err(|e| error(format!("not a PEM certificate: {e}")))?;
    let (_, cert) = x509_parser::parse_x509_certificate(first.as_ref())
        .map_err(|e| error(format!("not an X.509 certificate: {e}")))?;
    let validity = cert.validity();
    Ok(Validity {
        not_before: validity.not_before.timestamp(),
        not_after: validity.not_after.timestamp(),
    })
}

impl Validity {
    /// Refuses a certificate that is not valid at this moment: the API server would refuse it.
    pub fn check_now(&self, path: &Path) -> Result<(), TlsError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let at = |t: i64| {
            u64::try_from(t)
                .ok()
                .map(|secs| {
                    humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
                    )
                    .to_string()
                })
                .unwrap_or_else(|| format!("{t} s since the epoch"))
        };
        let message = if now < self.not_before {
            format!("not valid yet: valid from {}", at(self.not_before))
        } else if now > self.not_after {
            format!("expired at {}", at(self.not_after))
        } else {
            return Ok(());
        };
        Err(TlsError::Validity {
            path: path.display().to_string(),
            message,
        })
    }
}

pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// The PEM bytes of a pair as last read, to tell a real change from a touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairBytes {
    pub cert: Vec<u8>,
    pub key: Vec<u8>,
}

impl PairBytes {
    pub fn read(cert: &Path, key: &Path) -> Result<PairBytes, TlsError> {
        Ok(PairBytes {
            cert: read(cert)?,
            key: read(key)?,
        })
    }
}

/// Parses and checks a pair: a non-empty chain, a key rustls can sign with, and a key that
/// belongs to the first certificate.
pub fn certified_key(
    bytes: &PairBytes,
    cert_path: &Path,
    key_path: &Path,
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let pem_error = |path: &Path, message: String| TlsError::Pem {
        path: path.display().to_string(),
        message,
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes.cert)
        .collect::<Result<_, _>>()
        .map_err(|e| pem_error(cert_path, format!("not a PEM certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(pem_error(cert_path, "no CERTIFICATE block found".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&bytes.key)
        .map_err(|e| pem_error(key_path, format!("not a PEM private key: {e}")))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| TlsError::Pair {
        cert: cert_path.display().to_string(),
        key: key_path.display().to_string(),
        message: e.to_string(),
    })
}

/// Hands the current pair to every new handshake.
#[derive(Debug)]
pub struct CertStore {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertStore {
    pub fn new(key: CertifiedKey) -> CertStore {
        CertStore {
            current: RwLock::new(Arc::new(key)),
        }
    }

    pub fn replace(&self, key: CertifiedKey) {
        if let Ok(mut current) = self.current.write() {
            *current = Arc::new(key);
        }
    }

    pub fn current(&self) -> Option<Arc<CertifiedKey>> {
        self.current.read().ok().map(|k| k.clone())
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.current()
    }
}

/// The server side: the rotating pair, HTTP/2 and HTTP/1.1 by ALPN, and with a client CA a
/// required client certificate signed by it (the API server's, for mTLS).
pub fn server_config(
    store: Arc<CertStore>,
    client_ca: Option<&Path>,
    provider: Arc<CryptoProvider>,
) -> Result<ServerConfig, TlsError> {
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let ca_error = |message: String| TlsError::ClientCa {
                path: path.display().to_string(),
                message,
            };
            let bytes = read(path)?;
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&bytes) {
                let cert = cert.map_err(|e| ca_error(format!("not a PEM certificate: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| ca_error(format!("not a usable CA certificate: {e}")))?;
            }
            if roots.is_empty() {
                return Err(ca_error("no CERTIFICATE block found".into()));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| ca_error(e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(store);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Where the pair lives and what was last loaded from it.
pub struct PairFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub loaded: PairBytes,
    /// The last pair refused, so a refusal is reported once, not at every look.
    pub refused: Option<PairBytes>,
}

/// What a look at the files found.
#[derive(Debug)]
pub enum Reload {
    Unchanged,
    /// The new pair is in service; its validity is given for the expiry metric.
    Replaced(Validity),
    /// The files changed but the new pair is unusable (broken, mismatched, expired or not yet
    /// valid); the old one stays in service.
    Refused(TlsError),
}

impl PairFiles {
    /// Reloads the pair when the files' contents changed. A half-written rotation (new cert, old
    /// key) is refused now and picked up at the next look, once both files are in place; a pair
    /// that is not valid yet is checked again at every look and taken once it is.
    pub fn reload(&mut self, store: &CertStore, provider: &CryptoProvider) -> Reload {
        let bytes = match PairBytes::read(&self.cert, &self.key) {
            Ok(bytes) => bytes,
            Err(e) => return self.refuse(None, e),
        };
        if bytes == self.loaded {
            self.refused = None;
            return Reload::Unchanged;
        }
        let checked = certified_key(&bytes, &self.cert, &self.key, provider).and_then(|key| {
            let validity = validity(&bytes.cert, &self.cert)?;
            validity.check_now(&self.cert)?;
            Ok((key, validity))
        });
        match checked {
            Ok((key, validity)) => {
                store.replace(key);
                self.loaded = bytes;
                self.refused = None;
                Reload::Replaced(validity)
            }
            Err(e) => self.refuse(Some(bytes), e),
        }
    }

    fn refuse(&mut self, bytes: Option<PairBytes>, error: TlsError) -> Reload {
        if bytes.is_some() && bytes == self.refused {
            return Reload::Unchanged;
        }
        self.refused = bytes;
        Reload::Refused(error)
    }
}

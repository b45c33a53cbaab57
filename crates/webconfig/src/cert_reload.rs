//! The server certificate, re-read when its files change (exporter-toolkit reads them on every
//! handshake), so a rotated certificate is served without a restart. A failed reload keeps
//! serving the previous certificate and is logged.

use std::sync::Arc;
use std::time::SystemTime;

use parking_lot::Mutex;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::rustls;

use crate::config::TlsServerConfig;
use crate::tls::{certificates, read_pem};

/// Modification time and length of the certificate and key files (`None` for inline PEM).
type Stamp = Option<[(SystemTime, u64); 2]>;

#[derive(Debug)]
pub(crate) struct ReloadingCert {
    cfg: TlsServerConfig,
    provider: Arc<CryptoProvider>,
    current: Mutex<(Stamp, Arc<CertifiedKey>)>,
}

impl ReloadingCert {
    /// Loads the certificate and key now; errors are load-time errors.
    pub(crate) fn new(
        cfg: &TlsServerConfig,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, String> {
        let stamp = stamp(cfg);
        let key = certified_key(cfg, &provider)?;
        Ok(ReloadingCert {
            cfg: cfg.clone(),
            provider,
            current: Mutex::new((stamp, Arc::new(key))),
        })
    }
}

fn stamp(c: &TlsServerConfig) -> Stamp {
    let one = |path: &str| -> Option<(SystemTime, u64)> {
        if path.is_empty() {
            return Some((SystemTime::UNIX_EPOCH, 0));
        }
        let m = std::fs::metadata(path).ok()?;
        Some((m.modified().ok()?, m.len()))
    };
    if c.cert_file.is_empty() && c.key_file.is_empty() {
        return None;
    }
    Some([one(&c.cert_file)?, one(&c.key_file)?])
}

fn certified_key(c: &TlsServerConfig, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let certs = certificates(&read_pem(&c.cert_file, &c.cert, "cert_file")?)?;
    let key = PrivateKeyDer::from_pem_slice(&read_pem(&c.key_file, &c.key, "key_file")?)
        .map_err(|e| format!("failed to load X509KeyPair: {e}"))?;
    CertifiedKey::from_der(certs, key, provider)
        .map_err(|e| format!("failed to load X509KeyPair: {e}"))
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let mut current = self.current.lock();
        let now = stamp(&self.cfg);
        if now.is_some() && now != current.0 {
            // Remember the stamp either way: a half-rotated pair is retried on its next change.
            current.0 = now;
            match certified_key(&self.cfg, &self.provider) {
                Ok(key) => current.1 = Arc::new(key),
                Err(e) => {
                    tracing::warn!(err = %e, "reloading the TLS certificate failed; keeping the previous one")
                }
            }
        }
        Some(current.1.clone())
    }
}

//! `tls_server_config` to a rustls `ServerConfig`: certificate and key (files or inline PEM,
//! reloaded on change by [`crate::cert_reload`]),
//! client certificates (exporter-toolkit's five `client_auth_type`s), TLS versions, TLS 1.2
//! cipher suites and curve preferences, all checked when the file is loaded.

use std::sync::Arc;

use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, NamedGroup, SignatureScheme};
use tokio_rustls::rustls;

use crate::config::TlsServerConfig;

/// Builds the server configuration; errors are messages for [`crate::WebConfigError::Invalid`].
pub(crate) fn server_config(c: &TlsServerConfig) -> Result<Arc<ServerConfig>, String> {
    if c.cert_file.is_empty() && c.cert.is_empty() {
        return Err("missing one of cert or cert_file".into());
    }
    if c.key_file.is_empty() && c.key.is_empty() {
        return Err("missing one of key or key_file".into());
    }
    let provider = Arc::new(provider(c)?);
    let cert = crate::cert_reload::ReloadingCert::new(c, provider.clone())?;
    let versions = versions(c)?;
    let verifier = client_verifier(c, &provider)?;
    let mut cfg = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| format!("invalid TLS settings: {e}"))?
        .with_client_cert_verifier(verifier)
        .with_cert_resolver(Arc::new(cert));
    cfg.ignore_client_order = c.prefer_server_cipher_suites.unwrap_or(true);
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

pub(crate) fn read_pem(file: &str, inline: &str, field: &str) -> Result<Vec<u8>, String> {
    if file.is_empty() {
        return Ok(inline.as_bytes().to_vec());
    }
    std::fs::read(file).map_err(|e| format!("failed to read {field} ({file}): {e}"))
}

pub(crate) fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("failed to load X509KeyPair: {e}"))?;
    if certs.is_empty() {
        return Err("failed to load X509KeyPair: no certificate in PEM data".into());
    }
    Ok(certs)
}

/// ring's defaults narrowed by `cipher_suites` (TLS 1.2 only, as in Go) and `curve_preferences`.
fn provider(c: &TlsServerConfig) -> Result<CryptoProvider, String> {
    let mut p = ring::default_provider();
    if !c.cipher_suites.is_empty() {
        let name = |s: &rustls::SupportedCipherSuite| format!("{:?}", s.suite());
        for wanted in &c.cipher_suites {
            if !p.cipher_suites.iter().any(|s| cipher_matches(&name(s), wanted)) {
                return Err(format!("cipher suite {wanted} is not supported"));
            }
        }
        p.cipher_suites.retain(|s| {
            s.tls13().is_some() || c.cipher_suites.iter().any(|w| cipher_matches(&name(s), w))
        });
    }
    if !c.curve_preferences.is_empty() {
        let mut groups = Vec::new();
        for curve in &c.curve_preferences {
            let g = match curve.as_str() {
                "CurveP256" => NamedGroup::secp256r1,
                "CurveP384" => NamedGroup::secp384r1,
                "X25519" => NamedGroup::X25519,
                other => return Err(format!("curve {other} is not supported")),
            };
            let kx = p.kx_groups.iter().find(|k| k.name() == g).copied();
            groups.push(kx.ok_or_else(|| format!("curve {curve} is not supported"))?);
        }
        p.kx_groups = groups;
    }
    Ok(p)
}

/// Go spells ChaCha20 suites with or without the trailing `_SHA256`.
fn cipher_matches(rustls_name: &str, wanted: &str) -> bool {
    rustls_name == wanted || rustls_name.strip_suffix("_SHA256") == Some(wanted)
}

fn version_number(v: &str) -> Result<u8, String> {
    match v {
        "TLS10" => Ok(10),
        "TLS11" => Ok(11),
        "TLS12" => Ok(12),
        "TLS13" => Ok(13),
        other => Err(format!("unknown TLS version: {other}")),
    }
}

/// `min_version` (default TLS12) to `max_version` (default TLS13). rustls speaks only 1.2 and
/// 1.3, so a minimum of TLS10/TLS11 means TLS12.
fn versions(c: &TlsServerConfig) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, String> {
    let min = version_number(c.min_version.as_deref().unwrap_or("TLS12"))?;
    let max = version_number(c.max_version.as_deref().unwrap_or("TLS13"))?;
    let mut out = Vec::new();
    if min <= 13 && max >= 13 {
        out.push(&rustls::version::TLS13);
    }
    if min <= 12 && max >= 12 {
        out.push(&rustls::version::TLS12);
    }
    if out.is_empty() {
        return Err("no TLS version between min_version and max_version is supported".into());
    }
    Ok(out)
}

fn client_verifier(
    c: &TlsServerConfig,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let roots = client_roots(c)?;
    let any = |mandatory| -> Arc<dyn ClientCertVerifier> {
        Arc::new(AnyClientCert { mandatory, algs: provider.signature_verification_algorithms })
    };
    let verifying = |optional: bool| -> Result<Arc<dyn ClientCertVerifier>, String> {
        let Some(roots) = roots.clone() else {
            return Err(format!("client_auth_type {} needs client_ca_file", c.client_auth_type));
        };
        let b = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
        let b = if optional { b.allow_unauthenticated() } else { b };
        b.build().map_err(|e| format!("invalid client CA: {e}"))
    };
    let v = match c.client_auth_type.as_str() {
        "" | "NoClientCert" => {
            if roots.is_some() {
                return Err("client CA's have been configured without a Client Auth Policy".into());
            }
            WebPkiClientVerifier::no_client_auth()
        }
        "RequestClientCert" => any(false),
        "RequireAnyClientCert" | "RequireClientCert" => any(true),
        "VerifyClientCertIfGiven" => verifying(true)?,
        "RequireAndVerifyClientCert" => verifying(false)?,
        other => return Err(format!("invalid ClientAuth: {other}")),
    };
    Ok(v)
}

fn client_roots(c: &TlsServerConfig) -> Result<Option<rustls::RootCertStore>, String> {
    if c.client_ca_file.is_empty() && c.client_ca.is_empty() {
        return Ok(None);
    }
    let pem = read_pem(&c.client_ca_file, &c.client_ca, "client_ca_file")?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(&pem)? {
        roots.add(cert).map_err(|e| format!("invalid client CA: {e}"))?;
    }
    Ok(Some(roots))
}

/// `RequestClientCert`/`RequireAnyClientCert`: any certificate is accepted (Go does not
/// verify it either), but the client must still prove it holds the key.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algs: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

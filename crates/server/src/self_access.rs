//! How the server's own HTTP clients reach its listener: the embedded default configuration's
//! self-scrape job and the built-in Alertmanager's default "log" webhook. Under
//! `--web.config.file` they must speak TLS when the listener does, and pass the guard when it
//! asks for basic auth; no user's password is known to the server, so they present a random
//! bearer token instead (accepted by the guard, kept in a 0600 file under the storage
//! directory that the generated configuration names with `credentials_file`, never echoed).
//! The token is new on every start.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use webconfig::WebConfig;

use crate::ServerError;

/// What the server's own clients need to reach it.
#[derive(Debug, Clone, Default)]
pub struct SelfAccess {
    /// The listener serves TLS.
    pub tls: bool,
    /// The file holding the bearer token, when a web config file guards the listener.
    pub token_file: Option<PathBuf>,
}

impl SelfAccess {
    /// Plain HTTP without credentials when there is no web config. Otherwise a fresh token is
    /// written to `<storage>/default-config/self-token` and allowed by the guard (users may be
    /// added to the file later, so the token is set up even while none is configured).
    pub fn prepare(web: Option<&WebConfig>, storage: &Path) -> Result<SelfAccess, ServerError> {
        let Some(web) = web else { return Ok(SelfAccess::default()) };
        let token = random_token()?;
        let path = storage.join("default-config").join("self-token");
        write_private(&path, token.as_bytes())?;
        web.guard().allow_internal_token(&token);
        Ok(SelfAccess { tls: web.tls_acceptor().is_some(), token_file: Some(path) })
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// Extra fields of the self-scrape job (indented for a `scrape_configs` entry).
    pub fn scrape_yaml(&self) -> String {
        let scheme = if self.tls { "    scheme: https\n" } else { "" };
        format!("{scheme}{}", self.http_yaml("    "))
    }

    /// The `http_config` of the "log" webhook (indented for a `webhook_configs` entry).
    pub fn webhook_yaml(&self) -> String {
        let inner = self.http_yaml("          ");
        if inner.is_empty() { inner } else { format!("        http_config:\n{inner}") }
    }

    fn http_yaml(&self, indent: &str) -> String {
        let mut out = String::new();
        if self.tls {
            // The listener's own certificate, on loopback: its name need not match.
            out.push_str(&format!("{indent}tls_config:\n{indent}  insecure_skip_verify: true\n"));
        }
        if let Some(file) = &self.token_file {
            out.push_str(&format!(
                "{indent}authorization:\n{indent}  credentials_file: {:?}\n",
                file.display().to_string()
            ));
        }
        out
    }
}

/// 32 random bytes from the kernel, hex-encoded.
fn random_token() -> Result<String, ServerError> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| ServerError::Config(format!("cannot read /dev/urandom for a token: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes `bytes` to a file only its owner can read.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ServerError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| ServerError::Storage {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    // An existing file keeps its mode on open: tighten it.
    f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    f.write_all(bytes).map_err(io)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn yaml_for_tls_and_token() {
        let a = SelfAccess { tls: true, token_file: Some(PathBuf::from("/d/self-token")) };
        assert_eq!(a.scheme(), "https");
        assert_eq!(
            a.scrape_yaml(),
            "    scheme: https\n    tls_config:\n      insecure_skip_verify: true\n    authorization:\n      credentials_file: \"/d/self-token\"\n"
        );
        assert!(a.webhook_yaml().starts_with("        http_config:\n          tls_config:\n"));
        let plain = SelfAccess::default();
        assert_eq!(
            (plain.scheme(), plain.scrape_yaml(), plain.webhook_yaml()),
            ("http", String::new(), String::new())
        );
    }

    #[test]
    fn tokens_are_long_and_fresh() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}

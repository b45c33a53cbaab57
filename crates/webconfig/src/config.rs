//! The web config file's schema (exporter-toolkit's `web-config.yml`) and its validation:
//! strict YAML, header allow-list, bcrypt hashes, relative paths resolved against the file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::WebConfigError;

/// The whole file. Every section is optional; an empty file changes nothing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub tls_server_config: TlsServerConfig,
    #[serde(default)]
    pub http_server_config: HttpServerConfig,
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// User name to bcrypt hash.
    #[serde(default)]
    pub basic_auth_users: BTreeMap<String, String>,
}

/// `tls_server_config`, with exporter-toolkit's field names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerConfig {
    #[serde(default)]
    pub cert: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub client_ca: String,
    #[serde(default)]
    pub cert_file: String,
    #[serde(default)]
    pub key_file: String,
    #[serde(default)]
    pub client_auth_type: String,
    #[serde(default)]
    pub client_ca_file: String,
    #[serde(default)]
    pub cipher_suites: Vec<String>,
    #[serde(default)]
    pub curve_preferences: Vec<String>,
    #[serde(default)]
    pub min_version: Option<String>,
    #[serde(default)]
    pub max_version: Option<String>,
    #[serde(default)]
    pub prefer_server_cipher_suites: Option<bool>,
    #[serde(default)]
    pub client_allowed_sans: Option<Vec<String>>,
}

impl TlsServerConfig {
    /// Whether any TLS field is set (exporter-toolkit's `IsEnabled`).
    pub fn is_enabled(&self) -> bool {
        [&self.cert, &self.key, &self.client_ca, &self.cert_file, &self.key_file]
            .iter()
            .any(|s| !s.is_empty())
            || !self.client_ca_file.is_empty()
            || !self.client_auth_type.is_empty()
    }

    fn set_directory(&mut self, dir: &Path) {
        for p in [&mut self.cert_file, &mut self.key_file, &mut self.client_ca_file] {
            if !p.is_empty() && Path::new(p.as_str()).is_relative() {
                *p = dir.join(p.as_str()).display().to_string();
            }
        }
    }
}

/// `http_server_config`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpServerConfig {
    /// Accepted for compatibility; Pharos serves HTTP/1.1.
    #[serde(default)]
    pub http2: Option<bool>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// `rate_limit` (newer exporter-toolkit). Parsed so files written for it are recognised;
/// a non-zero limit is refused rather than silently ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    #[serde(default)]
    pub burst: u64,
    #[serde(default)]
    pub interval: Option<String>,
}

/// The headers a web config may set, with their allowed values (any when empty), exactly
/// exporter-toolkit's list.
const EXTRA_HTTP_HEADERS: &[(&str, &[&str])] = &[
    ("Strict-Transport-Security", &[]),
    ("X-Content-Type-Options", &["nosniff"]),
    ("X-Frame-Options", &["deny", "sameorigin"]),
    ("X-XSS-Protection", &[]),
    ("Content-Security-Policy", &[]),
];

/// Parses a web config file's text; `path` names it in errors and its directory anchors
/// relative file names.
pub fn parse(text: &str, path: &Path) -> Result<FileConfig, WebConfigError> {
    let name = path.display().to_string();
    let mut cfg: FileConfig = if text.trim().is_empty() {
        FileConfig::default()
    } else {
        serde_saphyr::from_str(text).map_err(|e| yaml_error(&name, &e))?
    };
    let invalid = |msg: String| WebConfigError::Invalid { path: name.clone(), msg };
    validate_headers(&cfg.http_server_config.headers).map_err(invalid)?;
    validate_users(&cfg.basic_auth_users).map_err(invalid)?;
    if cfg.rate_limit.burst > 0 || cfg.rate_limit.interval.is_some() {
        return Err(invalid("rate_limit is not supported".into()));
    }
    if cfg.tls_server_config.client_allowed_sans.is_some() {
        return Err(invalid("tls_server_config.client_allowed_sans is not supported".into()));
    }
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    cfg.tls_server_config.set_directory(&dir);
    Ok(cfg)
}

fn yaml_error(path: &str, e: &serde_saphyr::Error) -> WebConfigError {
    let full = e.to_string();
    let first = full.lines().next().unwrap_or("invalid yaml").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let msg = match first.split_once(": ") {
        Some((pre, rest)) if pre.starts_with("line ") => rest,
        _ => first,
    };
    let msg = match msg.find(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    let line = e.location().map(|l| l.line() as usize).unwrap_or(0);
    WebConfigError::Yaml { path: path.to_string(), line, msg: msg.to_string() }
}

fn validate_headers(headers: &BTreeMap<String, String>) -> Result<(), String> {
    for (k, v) in headers {
        let Some((_, allowed)) = EXTRA_HTTP_HEADERS.iter().find(|(name, _)| name == k) else {
            return Err(format!("HTTP header {k:?} can not be configured"));
        };
        if !allowed.is_empty() && !allowed.contains(&v.as_str()) {
            let list: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
            return Err(format!(
                "invalid value for {k}. Expected one of: [{}], but got: {v:?}",
                list.join(" ")
            ));
        }
        if axum::http::HeaderValue::from_str(v).is_err() {
            return Err(format!("invalid value for {k}: not a valid header value"));
        }
    }
    Ok(())
}

fn validate_users(users: &BTreeMap<String, String>) -> Result<(), String> {
    for (user, hash) in users {
        if hash.parse::<bcrypt::HashParts>().is_err() {
            return Err(format!(
                "basic_auth_users: the password of user {user:?} is not a bcrypt hash"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn p(text: &str) -> Result<FileConfig, WebConfigError> {
        parse(text, Path::new("/etc/pharos/web.yml"))
    }

    #[test]
    fn empty_file_is_valid() {
        let c = p("").unwrap();
        assert!(c.basic_auth_users.is_empty());
        assert!(!c.tls_server_config.is_enabled());
    }

    #[test]
    fn unknown_field_names_file_and_line() {
        let e = p("basic_auth_users: {}\nhttp_server_config:\n  headerz: {}\n").unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("/etc/pharos/web.yml:3:"), "{s}");
        assert!(s.contains("headerz"), "{s}");
    }

    #[test]
    fn headers_outside_the_allow_list_are_refused() {
        let e = p("http_server_config:\n  headers:\n    Server: x\n").unwrap_err();
        assert!(e.to_string().contains(r#"HTTP header "Server" can not be configured"#), "{e}");
        let e = p("http_server_config:\n  headers:\n    X-Frame-Options: allow\n").unwrap_err();
        assert!(
            e.to_string().contains(r#"Expected one of: ["deny" "sameorigin"], but got: "allow""#),
            "{e}"
        );
        let c = p("http_server_config:\n  headers:\n    X-Frame-Options: deny\n    Strict-Transport-Security: max-age=31536000\n").unwrap();
        assert_eq!(c.http_server_config.headers.len(), 2);
    }

    #[test]
    fn users_need_bcrypt_hashes() {
        let e = p("basic_auth_users:\n  alice: plaintext\n").unwrap_err();
        assert!(e.to_string().contains(r#"user "alice" is not a bcrypt hash"#), "{e}");
        let hash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
        let c = p(&format!("basic_auth_users:\n  alice: '{hash}'\n")).unwrap();
        assert_eq!(c.basic_auth_users["alice"], hash);
    }

    #[test]
    fn relative_tls_paths_resolve_against_the_file() {
        let c = p("tls_server_config:\n  cert_file: a.crt\n  key_file: /abs/a.key\n").unwrap();
        assert_eq!(c.tls_server_config.cert_file, "/etc/pharos/a.crt");
        assert_eq!(c.tls_server_config.key_file, "/abs/a.key");
        assert!(c.tls_server_config.is_enabled());
    }

    #[test]
    fn unsupported_features_are_refused_not_ignored() {
        assert!(p("rate_limit:\n  burst: 10\n  interval: 1s\n").is_err());
        assert!(p("tls_server_config:\n  client_allowed_sans: [a]\n").is_err());
    }
}

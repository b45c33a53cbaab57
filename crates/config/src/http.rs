//! HTTP client settings shared by scrape configs, Alertmanager, remote write/read and HTTP-based
//! discovery (Prometheus' `common/config.HTTPClientConfig`), and the macro that inlines them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Secret;

pub(crate) fn yes() -> bool {
    true
}

pub(crate) fn is_true(b: &bool) -> bool {
    *b
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// `basic_auth`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    #[serde(default)]
    pub username: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username_file: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub password: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password_file: String,
}

/// `authorization` (type defaults to `Bearer`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub credentials: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credentials_file: String,
}

/// `tls_config`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cert: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub key: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cert_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key_file: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server_name: String,
    #[serde(default)]
    pub insecure_skip_verify: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub min_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub max_version: String,
}

/// `oauth2` (client credentials flow).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2 {
    #[serde(default)]
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub client_secret: Secret,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub client_secret_file: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub token_url: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_params: BTreeMap<String, String>,
    #[serde(default)]
    pub tls_config: TlsConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
}

/// The HTTP client settings, extracted from whichever config inlines them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpClientConfig {
    pub basic_auth: Option<BasicAuth>,
    pub authorization: Option<Authorization>,
    pub oauth2: Option<OAuth2>,
    pub bearer_token: Secret,
    pub bearer_token_file: String,
    pub proxy_url: Option<String>,
    pub tls_config: TlsConfig,
    pub follow_redirects: bool,
    pub enable_http2: bool,
}

impl HttpClientConfig {
    /// Checks the combinations Prometheus rejects and folds legacy bearer fields into
    /// `authorization`.
    pub fn validate(&mut self) -> Result<(), String> {
        let bearer_set = !self.bearer_token.is_empty() || !self.bearer_token_file.is_empty();
        if !self.bearer_token.is_empty() && !self.bearer_token_file.is_empty() {
            return Err("at most one of bearer_token & bearer_token_file must be configured".into());
        }
        if let Some(b) = &self.basic_auth {
            if bearer_set {
                return Err("at most one of basic_auth, bearer_token & bearer_token_file must be configured".into());
            }
            if !b.username.is_empty() && !b.username_file.is_empty() {
                return Err(
                    "at most one of basic_auth username & username_file must be configured".into(),
                );
            }
            if !b.password.is_empty() && !b.password_file.is_empty() {
                return Err(
                    "at most one of basic_auth password & password_file must be configured".into(),
                );
            }
        }
        if let Some(a) = &mut self.authorization {
            if bearer_set {
                return Err(
                    "authorization is not compatible with bearer_token & bearer_token_file".into(),
                );
            }
            if !a.credentials.is_empty() && !a.credentials_file.is_empty() {
                return Err("at most one of authorization credentials & credentials_file must be configured".into());
            }
            if a.kind.is_empty() {
                a.kind = "Bearer".into();
            }
            if a.kind.eq_ignore_ascii_case("basic") {
                return Err(
                    r#"authorization type cannot be set to "basic", use "basic_auth" instead"#
                        .into(),
                );
            }
        }
        if self.basic_auth.is_some() && self.authorization.is_some() {
            return Err(
                "at most one of basic_auth, oauth2 & authorization must be configured".into()
            );
        }
        if self.oauth2.is_some()
            && (self.basic_auth.is_some() || self.authorization.is_some() || bearer_set)
        {
            return Err(
                "at most one of basic_auth, oauth2 & authorization must be configured".into()
            );
        }
        if bearer_set {
            self.authorization = Some(Authorization {
                kind: "Bearer".into(),
                credentials: std::mem::take(&mut self.bearer_token),
                credentials_file: std::mem::take(&mut self.bearer_token_file),
            });
        }
        Ok(())
    }

    /// Resolves relative file names against `dir` (the config file's directory).
    pub fn set_directory(&mut self, dir: &std::path::Path) {
        let join = |p: &mut String| crate::join_dir(dir, p);
        if let Some(b) = &mut self.basic_auth {
            join(&mut b.password_file);
            join(&mut b.username_file);
        }
        if let Some(a) = &mut self.authorization {
            join(&mut a.credentials_file);
        }
        if let Some(o) = &mut self.oauth2 {
            join(&mut o.client_secret_file);
            self::tls_set_directory(&mut o.tls_config, dir);
        }
        tls_set_directory(&mut self.tls_config, dir);
    }
}

fn tls_set_directory(t: &mut TlsConfig, dir: &std::path::Path) {
    crate::join_dir(dir, &mut t.ca_file);
    crate::join_dir(dir, &mut t.cert_file);
    crate::join_dir(dir, &mut t.key_file);
}

/// Defines a config struct with the HTTP client fields inlined between `head` and `tail`
/// fields (where Prometheus prints them), plus `http_client()` / `set_http_client()`.
macro_rules! with_http_client {
    (
        $(#[$m:meta])*
        pub struct $name:ident {
            $($(#[$hm:meta])* pub $hf:ident : $ht:ty,)*
        }
        tail {
            $($(#[$tm:meta])* pub $tf:ident : $tt:ty,)*
        }
    ) => {
        $(#[$m])*
        pub struct $name {
            $($(#[$hm])* pub $hf: $ht,)*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub basic_auth: Option<$crate::http::BasicAuth>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub authorization: Option<$crate::http::Authorization>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub oauth2: Option<$crate::http::OAuth2>,
            #[serde(default, skip_serializing_if = "crate::Secret::is_empty")]
            pub bearer_token: $crate::Secret,
            #[serde(default, skip_serializing_if = "String::is_empty")]
            pub bearer_token_file: String,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub proxy_url: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub no_proxy: Option<String>,
            #[serde(default, skip_serializing_if = "crate::http::is_false")]
            pub proxy_from_environment: bool,
            #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
            pub proxy_connect_header: std::collections::BTreeMap<String, Vec<$crate::Secret>>,
            #[serde(default, skip_serializing_if = "crate::http::tls_is_default")]
            pub tls_config: $crate::http::TlsConfig,
            #[serde(default = "crate::http::yes")]
            pub follow_redirects: bool,
            #[serde(default = "crate::http::yes")]
            pub enable_http2: bool,
            $($(#[$tm])* pub $tf: $tt,)*
        }

        impl $name {
            /// The inlined HTTP client settings.
            pub fn http_client(&self) -> $crate::http::HttpClientConfig {
                $crate::http::HttpClientConfig {
                    basic_auth: self.basic_auth.clone(),
                    authorization: self.authorization.clone(),
                    oauth2: self.oauth2.clone(),
                    bearer_token: self.bearer_token.clone(),
                    bearer_token_file: self.bearer_token_file.clone(),
                    proxy_url: self.proxy_url.clone(),
                    tls_config: self.tls_config.clone(),
                    follow_redirects: self.follow_redirects,
                    enable_http2: self.enable_http2,
                }
            }

            /// Validates the inlined HTTP client settings and resolves their file names.
            pub(crate) fn check_http_client(&mut self, dir: &std::path::Path) -> Result<(), String> {
                let mut c = self.http_client();
                c.validate()?;
                c.set_directory(dir);
                self.basic_auth = c.basic_auth;
                self.authorization = c.authorization;
                self.oauth2 = c.oauth2;
                self.bearer_token = c.bearer_token;
                self.bearer_token_file = c.bearer_token_file;
                self.tls_config = c.tls_config;
                Ok(())
            }
        }
    };
}

pub(crate) use with_http_client;

pub(crate) fn tls_is_default(t: &TlsConfig) -> bool {
    // Prometheus always prints `tls_config: insecure_skip_verify: false`; keep it only if set.
    *t == TlsConfig::default()
}

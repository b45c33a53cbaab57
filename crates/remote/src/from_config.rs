//! Maps `remote_write` / `remote_read` entries of prometheus.yml (the `config` crate) to this
//! crate's options. Secrets given as files are read here; relabel rules are compiled.

use std::collections::BTreeMap;
use std::path::PathBuf;

use config::http::HttpClientConfig;
use config::{RemoteReadConfig, RemoteWriteConfig};
use model::Labels;

use crate::RemoteError;
use crate::client::HttpOptions;
use crate::queue::{QueueOptions, WriteOptions};
use crate::read_client::ReadOptions;

fn read_secret(inline: &str, file: &str, what: &str) -> Result<String, RemoteError> {
    if !file.is_empty() {
        let s = std::fs::read_to_string(file)
            .map_err(|e| RemoteError::Config(format!("unable to read {what} file {file}: {e}")))?;
        return Ok(s.trim().to_string());
    }
    Ok(inline.to_string())
}

/// HTTP client settings of one remote endpoint.
pub fn http_options(
    c: &HttpClientConfig,
    headers: &BTreeMap<String, String>,
) -> Result<HttpOptions, RemoteError> {
    let mut o = HttpOptions { headers: headers.clone(), ..HttpOptions::default() };
    if let Some(b) = &c.basic_auth {
        let user = read_secret(&b.username, &b.username_file, "username")?;
        let pass = read_secret(b.password.expose(), &b.password_file, "password")?;
        o.basic_auth = Some((user, pass));
    }
    if let Some(a) = &c.authorization {
        let cred = read_secret(a.credentials.expose(), &a.credentials_file, "credentials")?;
        let kind = if a.kind.is_empty() { "Bearer" } else { a.kind.as_str() };
        o.authorization = Some(format!("{kind} {cred}"));
    } else if !c.bearer_token.is_empty() || !c.bearer_token_file.is_empty() {
        let t = read_secret(c.bearer_token.expose(), &c.bearer_token_file, "bearer token")?;
        o.bearer_token = Some(t);
    }
    if c.oauth2.is_some() {
        return Err(RemoteError::Config("oauth2 is not supported for remote endpoints yet".into()));
    }
    let tls = &c.tls_config;
    if !tls.ca.is_empty() || !tls.cert.is_empty() || !tls.key.is_empty() {
        return Err(RemoteError::Config(
            "inline tls_config ca/cert/key are not supported; use ca_file/cert_file/key_file"
                .into(),
        ));
    }
    if !tls.ca_file.is_empty() {
        o.ca_file = Some(PathBuf::from(&tls.ca_file));
    }
    if !tls.cert_file.is_empty() && !tls.key_file.is_empty() {
        o.client_cert = Some((PathBuf::from(&tls.cert_file), PathBuf::from(&tls.key_file)));
    }
    o.insecure_skip_verify = tls.insecure_skip_verify;
    Ok(o)
}

/// A stable queue name: the configured one, or one derived from the URL.
fn queue_name(name: &str, url: &str) -> String {
    if !name.is_empty() {
        return name.to_string();
    }
    let digest = stable_hash_hex(url);
    digest[..6].to_string()
}

fn stable_hash_hex(s: &str) -> String {
    // FNV-1a is enough for a stable, short identifier.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn positive(v: i64, what: &str) -> Result<usize, RemoteError> {
    usize::try_from(v)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| RemoteError::Config(format!("{what} must be positive, got {v}")))
}

/// Options of one `remote_write` entry. 429 responses are always retried (Prometheus 3).
pub fn write_options(
    cfg: &RemoteWriteConfig,
    external_labels: &Labels,
) -> Result<WriteOptions, RemoteError> {
    let q = &cfg.queue_config;
    let max_per_send = positive(q.max_samples_per_send, "max_samples_per_send")?;
    let max_shards = positive(q.max_shards, "max_shards")?;
    let min_shards = positive(q.min_shards, "min_shards")?.min(max_shards);
    let capacity = positive(q.capacity, "capacity")?;
    Ok(WriteOptions {
        name: queue_name(&cfg.name, &cfg.url),
        url: cfg.url.clone(),
        remote_timeout: cfg.remote_timeout.as_std(),
        http: http_options(&cfg.http_client(), &cfg.headers)?,
        write_relabel_configs: config::compile_relabel_configs(&cfg.write_relabel_configs)
            .map_err(RemoteError::Config)?,
        external_labels: external_labels.clone(),
        queue: QueueOptions {
            // One read pass feeds every shard a full batch at most.
            capacity: capacity.max(max_per_send).saturating_mul(4),
            min_shards,
            max_shards,
            max_samples_per_send: max_per_send,
            batch_send_deadline: q.batch_send_deadline.as_std(),
            min_backoff: q.min_backoff.as_std(),
            max_backoff: q.max_backoff.as_std(),
            retry_on_http_429: true,
            ..QueueOptions::default()
        },
    })
}

/// Options of one `remote_read` entry. `local_start_time` (the local storage's oldest
/// timestamp) is used when `read_recent` is false.
pub fn read_options(
    cfg: &RemoteReadConfig,
    external_labels: &Labels,
    local_start_time: Option<std::sync::Arc<dyn Fn() -> Option<i64> + Send + Sync>>,
) -> Result<ReadOptions, RemoteError> {
    Ok(ReadOptions {
        name: queue_name(&cfg.name, &cfg.url),
        url: cfg.url.clone(),
        remote_timeout: cfg.remote_timeout.as_std(),
        http: http_options(&cfg.http_client(), &cfg.headers)?,
        required_matchers: cfg
            .required_matchers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        external_labels: if cfg.filter_external_labels {
            external_labels.clone()
        } else {
            Labels::empty()
        },
        local_start_time: if cfg.read_recent { None } else { local_start_time },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_a_parsed_remote_write_entry() {
        let yaml = "url: http://127.0.0.1:9/api/v1/write\nheaders:\n  X-Scope-OrgID: t1\n\
                    basic_auth:\n  username: u\n  password: p\n\
                    write_relabel_configs:\n  - source_labels: [__name__]\n    regex: drop_.*\n    action: drop\n\
                    queue_config:\n  max_samples_per_send: 100\n  max_shards: 4\n";
        let cfg: RemoteWriteConfig = serde_saphyr::from_str(yaml).unwrap();
        let o = write_options(&cfg, &Labels::new([("cluster", "c")])).unwrap();
        assert_eq!(o.queue.max_samples_per_send, 100);
        assert_eq!(o.queue.max_shards, 4);
        assert_eq!(o.http.basic_auth, Some(("u".into(), "p".into())));
        assert_eq!(o.http.headers.get("X-Scope-OrgID").map(String::as_str), Some("t1"));
        assert_eq!(o.write_relabel_configs.len(), 1);
        assert_eq!(o.name.len(), 6);
        let dropped = Labels::new([("__name__", "drop_me")]);
        assert!(model::relabel::process(&dropped, &o.write_relabel_configs).is_none());
    }
}

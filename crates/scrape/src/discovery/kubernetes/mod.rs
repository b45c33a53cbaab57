//! `kubernetes_sd_configs`: list and watch pods, services, endpoints or nodes through the API
//! server and turn them into target groups (see [`roles`]).
//!
//! Each watched resource keeps a store of objects filled by a LIST and kept current by a WATCH
//! (`?watch=1&resourceVersion=...`, newline-delimited events); when a watch ends the resource
//! is listed again. Any change recomputes the provider's groups.

pub mod roles;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use config::sd::{KubernetesRole, KubernetesSdConfig};
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{ProviderMetrics, TargetGroup, UpdateSender};
use crate::metrics::SdMetrics;
use crate::metrics::sd::KubeEvent;

/// Objects of one resource by `namespace/name`.
type Store = Arc<Mutex<BTreeMap<String, Value>>>;

fn key(obj: &Value) -> String {
    format!(
        "{}/{}",
        obj["metadata"]["namespace"].as_str().unwrap_or(""),
        obj["metadata"]["name"].as_str().unwrap_or("")
    )
}

/// One watched resource: its API paths (one per namespace) and selectors.
struct Resource {
    paths: Vec<String>,
    query: Vec<(String, String)>,
    store: Store,
    /// The `role` its events count under (`prometheus_sd_kubernetes_events_total`); `None`
    /// for the pods the endpoints role reads without handling their events, as Prometheus.
    events: Option<&'static str>,
}

/// The namespaces to watch: the configured names plus, with `own_namespace`, the pod's own
/// (from the service account mount). Empty means all namespaces.
fn namespaces(cfg: &KubernetesSdConfig) -> Vec<String> {
    let mut names = cfg.namespaces.names.clone();
    if cfg.namespaces.own_namespace {
        match std::fs::read_to_string("/var/run/secrets/kubernetes.io/serviceaccount/namespace") {
            Ok(ns) => names.push(ns.trim().to_string()),
            Err(e) => tracing::error!(err = %e, "cannot read own namespace"),
        }
    }
    names
}

fn resource(cfg: &KubernetesSdConfig, role: KubernetesRole, plural: &str) -> Resource {
    let names = namespaces(cfg);
    let paths = if role == KubernetesRole::Node || names.is_empty() {
        vec![format!("/api/v1/{plural}")]
    } else {
        names.iter().map(|ns| format!("/api/v1/namespaces/{ns}/{plural}")).collect()
    };
    let mut query = Vec::new();
    for sel in cfg.selectors.iter().filter(|s| s.role == role) {
        if !sel.label.is_empty() {
            query.push(("labelSelector".to_string(), sel.label.clone()));
        }
        if !sel.field.is_empty() {
            query.push(("fieldSelector".to_string(), sel.field.clone()));
        }
    }
    Resource { paths, query, store: Arc::default(), events: Some(role.as_str()) }
}

fn api_server(cfg: &KubernetesSdConfig) -> Result<String, String> {
    if !cfg.api_server.is_empty() {
        return Ok(cfg.api_server.trim_end_matches('/').to_string());
    }
    if !cfg.kubeconfig_file.is_empty() {
        return Err("kubeconfig_file is not supported; set api_server".into());
    }
    let host = std::env::var("KUBERNETES_SERVICE_HOST")
        .map_err(|_| "not running in a cluster and no api_server set")?;
    let port = std::env::var("KUBERNETES_SERVICE_PORT").unwrap_or_else(|_| "443".into());
    Ok(format!("https://{host}:{port}"))
}

fn in_cluster_http(cfg: &KubernetesSdConfig) -> config::http::HttpClientConfig {
    let mut http = cfg.http_client();
    if cfg.api_server.is_empty() && http.authorization.is_none() && http.basic_auth.is_none() {
        http.authorization = Some(config::http::Authorization {
            kind: "Bearer".into(),
            credentials: config::Secret::default(),
            credentials_file: "/var/run/secrets/kubernetes.io/serviceaccount/token".into(),
        });
        if http.tls_config.ca_file.is_empty() {
            http.tls_config.ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt".into();
        }
    }
    http
}

struct Api {
    base: String,
    client: reqwest::Client,
    http: config::http::HttpClientConfig,
    sd: Arc<SdMetrics>,
}

impl Api {
    async fn get(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<reqwest::Response, String> {
        let req = self
            .client
            .get(format!("{}{path}", self.base))
            .query(query)
            .header("Accept", "application/json");
        let req = crate::http_client::authorize(req, &self.http)?;
        let start = Instant::now();
        let sent = req.send().await;
        let code = sent.as_ref().map_or("<error>".to_string(), |r| r.status().as_str().to_string());
        self.sd.kubernetes_request(path, &code, start.elapsed().as_secs_f64());
        let resp = sent.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("{path}: server returned HTTP status {}", resp.status()));
        }
        Ok(resp)
    }

    /// Lists into the store (replacing this path's objects); returns the list's resourceVersion.
    async fn list(
        &self,
        path: &str,
        query: &[(String, String)],
        store: &Store,
        prefix: &str,
        events: Option<&'static str>,
    ) -> Result<String, String> {
        let body: Value = self.get(path, query).await?.json().await.map_err(|e| e.to_string())?;
        let items = body["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let mut st = store.lock();
        // As an informer replacing its store: new objects are adds, known ones updates and
        // vanished ones deletes.
        if let Some(role) = events {
            let listed: std::collections::HashSet<String> = items.iter().map(key).collect();
            let gone = st.keys().filter(|k| k.starts_with(prefix) && !listed.contains(*k)).count();
            for _ in 0..gone {
                self.sd.kubernetes_event(role, KubeEvent::Delete);
            }
            for k in &listed {
                let ev = if st.contains_key(k) { KubeEvent::Update } else { KubeEvent::Add };
                self.sd.kubernetes_event(role, ev);
            }
        }
        st.retain(|k, _| !k.starts_with(prefix));
        for item in items {
            st.insert(key(item), item.clone());
        }
        Ok(body["metadata"]["resourceVersion"].as_str().unwrap_or("").to_string())
    }

    /// Follows a watch until it ends, applying events to the store.
    async fn watch(
        &self,
        path: &str,
        query: &[(String, String)],
        rv: &str,
        store: &Store,
        changed: &Notify,
        events: Option<&'static str>,
    ) -> Result<(), String> {
        let mut q = query.to_vec();
        q.push(("watch".into(), "1".into()));
        q.push(("resourceVersion".into(), rv.to_string()));
        q.push(("allowWatchBookmarks".into(), "true".into()));
        let mut resp = self.get(path, &q).await?;
        let mut buf: Vec<u8> = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
            buf.extend_from_slice(&chunk);
            while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=nl).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let ev: Value = serde_json::from_slice(&line).map_err(|e| e.to_string())?;
                let obj = &ev["object"];
                let event = match ev["type"].as_str().unwrap_or("") {
                    "ADDED" | "MODIFIED" => {
                        let known = store.lock().insert(key(obj), obj.clone()).is_some();
                        if known { KubeEvent::Update } else { KubeEvent::Add }
                    }
                    "DELETED" => {
                        store.lock().remove(&key(obj));
                        KubeEvent::Delete
                    }
                    "ERROR" => return Err(format!("watch error: {obj}")),
                    _ => continue,
                };
                if let Some(role) = events {
                    self.sd.kubernetes_event(role, event);
                }
                changed.notify_one();
            }
        }
        Ok(())
    }
}

async fn list_watch(
    api: Arc<Api>,
    path: String,
    query: Vec<(String, String)>,
    store: Store,
    changed: Arc<Notify>,
    cancel: CancellationToken,
    events: Option<&'static str>,
) {
    let prefix = match path.split('/').collect::<Vec<_>>().as_slice() {
        ["", "api", "v1", "namespaces", ns, _] => format!("{ns}/"),
        _ => String::new(),
    };
    loop {
        let result = async {
            let rv = api.list(&path, &query, &store, &prefix, events).await?;
            changed.notify_one();
            api.watch(&path, &query, &rv, &store, &changed, events).await
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            r = result => if let Err(e) = r {
                tracing::warn!(path = %path, err = %e, "kubernetes list/watch failed");
            },
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}

fn values(store: &Store) -> Vec<Value> {
    store.lock().values().cloned().collect()
}

fn build_groups(role: KubernetesRole, res: &[Resource]) -> Vec<TargetGroup> {
    match role {
        KubernetesRole::Pod => values(&res[0].store).iter().map(roles::pod_group).collect(),
        KubernetesRole::Service => values(&res[0].store).iter().map(roles::service_group).collect(),
        KubernetesRole::Node => {
            values(&res[0].store).iter().filter_map(roles::node_group).collect()
        }
        KubernetesRole::Endpoints => {
            let (services, pods) = (values(&res[1].store), values(&res[2].store));
            values(&res[0].store)
                .iter()
                .map(|e| roles::endpoints_group(e, &services, &pods))
                .collect()
        }
        KubernetesRole::EndpointSlice | KubernetesRole::Ingress => Vec::new(),
    }
}

pub(crate) async fn run(
    cfg: KubernetesSdConfig,
    idx: usize,
    tx: UpdateSender,
    cancel: CancellationToken,
    metrics: ProviderMetrics,
) {
    let resources = match cfg.role {
        KubernetesRole::Pod => vec![resource(&cfg, KubernetesRole::Pod, "pods")],
        KubernetesRole::Service => vec![resource(&cfg, KubernetesRole::Service, "services")],
        KubernetesRole::Node => vec![resource(&cfg, KubernetesRole::Node, "nodes")],
        KubernetesRole::Endpoints => vec![
            resource(&cfg, KubernetesRole::Endpoints, "endpoints"),
            resource(&cfg, KubernetesRole::Service, "services"),
            Resource { events: None, ..resource(&cfg, KubernetesRole::Pod, "pods") },
        ],
        other => {
            metrics.config_failed();
            tracing::error!(role = other.as_str(), "kubernetes_sd role is not supported");
            return;
        }
    };
    let api = match api_server(&cfg).and_then(|base| {
        let http = in_cluster_http(&cfg);
        let sd = metrics.sd.clone();
        crate::http_client::build(&http, true).map(|client| Api { base, client, http, sd })
    }) {
        Ok(api) => Arc::new(api),
        Err(e) => {
            metrics.config_failed();
            tracing::error!(err = %e, "cannot configure kubernetes_sd");
            return;
        }
    };
    let changed = Arc::new(Notify::new());
    for r in &resources {
        for path in &r.paths {
            tokio::spawn(list_watch(
                api.clone(),
                path.clone(),
                r.query.clone(),
                r.store.clone(),
                changed.clone(),
                cancel.clone(),
                r.events,
            ));
        }
    }
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = changed.notified() => {}
        }
        if tx.send((idx, build_groups(cfg.role, &resources))).is_err() {
            return;
        }
    }
}

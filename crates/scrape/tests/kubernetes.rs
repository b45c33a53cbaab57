//! kubernetes_sd against a fake API server on 127.0.0.1 serving objects shaped as in the
//! Kubernetes API reference: list, then watch events (ADDED, MODIFIED, DELETED).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use scrape::discovery::{
    DiscoveryConfigs, DiscoveryOptions, ProviderMetrics, TargetGroup, start_providers,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Per path: the list body and the watch events (sent 100 ms apart, then the stream stays open).
#[derive(Default, Clone)]
struct Api {
    lists: HashMap<String, Value>,
    watches: HashMap<String, Vec<Value>>,
}

async fn fake_api(api: Api, requests: Arc<Mutex<Vec<String>>>) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let watched = Arc::new(Mutex::new(std::collections::HashSet::new()));
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let (api, requests, watched) = (api.clone(), requests.clone(), watched.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut n = 0;
                while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => n += k,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                requests.lock().push(target.clone());
                let (path, query) = target.split_once('?').unwrap_or((&target, ""));
                if query.contains("watch=1") {
                    let _ = sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n").await;
                    // Events are sent on the first watch only; later watches stay quiet.
                    let first = watched.lock().insert(path.to_string());
                    if first {
                        for ev in api.watches.get(path).cloned().unwrap_or_default() {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            let _ = sock.write_all(format!("{ev}\n").as_bytes()).await;
                        }
                    }
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    return;
                }
                let body = api.lists.get(path).cloned().unwrap_or(
                    json!({"kind": "List", "metadata": {"resourceVersion": "1"}, "items": []}),
                );
                let body = body.to_string();
                let resp = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            });
        }
    });
    addr
}

fn list(kind: &str, items: Vec<Value>) -> Value {
    json!({"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": "10"}, "items": items})
}

fn pod(name: &str, ip: &str) -> Value {
    json!({
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {
            "name": name, "namespace": "default", "uid": format!("uid-{name}"),
            "labels": {"app": "web", "app.kubernetes.io/name": "web"},
            "annotations": {"prometheus.io/scrape": "true"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f", "uid": "rs", "controller": true}]
        },
        "spec": {
            "nodeName": "node-a",
            "containers": [{"name": "web", "image": "nginx:1.25", "ports": [
                {"name": "http", "containerPort": 8080, "protocol": "TCP"},
                {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}
            ]}],
            "initContainers": [{"name": "init", "image": "busybox:1.36"}]
        },
        "status": {
            "phase": "Running", "podIP": ip, "hostIP": "192.168.1.10",
            "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "web", "containerID": "containerd://abc", "ready": true}]
        }
    })
}

fn sd_config(yaml: &str) -> DiscoveryConfigs {
    let cfg = config::parse(
        &format!("scrape_configs:\n- job_name: k\n  kubernetes_sd_configs:\n{yaml}"),
        "t",
    )
    .unwrap();
    DiscoveryConfigs::from_scrape_config(&cfg.scrape_configs[0])
}

/// Waits for an update whose groups satisfy `cond`.
async fn until(
    rx: &mut mpsc::UnboundedReceiver<(usize, Vec<TargetGroup>)>,
    what: &str,
    cond: impl Fn(&[TargetGroup]) -> bool,
) -> Vec<TargetGroup> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Ok(Some((_, groups))) = tokio::time::timeout(left, rx.recv()).await else {
            panic!("timed out waiting for {what}")
        };
        if cond(&groups) {
            return groups;
        }
    }
}

type Updates = mpsc::UnboundedReceiver<(usize, Vec<TargetGroup>)>;

fn start(cfgs: &DiscoveryConfigs) -> (Updates, CancellationToken) {
    let (rx, cancel, _) = start_counted(cfgs);
    (rx, cancel)
}

/// Starts the providers with counters of their own.
fn start_counted(cfgs: &DiscoveryConfigs) -> (Updates, CancellationToken, ProviderMetrics) {
    let (tx, rx) = mpsc::unbounded_channel();
    let cancel = CancellationToken::new();
    let metrics = ProviderMetrics::default();
    start_providers(cfgs, &DiscoveryOptions::default(), tx, cancel.clone(), &metrics);
    (rx, cancel, metrics)
}

#[tokio::test]
async fn pod_role_lists_then_follows_watch_events() {
    let mut api = Api::default();
    api.lists.insert(
        "/api/v1/namespaces/default/pods".into(),
        list("PodList", vec![pod("web-1", "10.0.0.5")]),
    );
    api.watches.insert(
        "/api/v1/namespaces/default/pods".into(),
        vec![
            json!({"type": "ADDED", "object": pod("web-2", "")}),
            json!({"type": "MODIFIED", "object": pod("web-2", "10.0.0.6")}),
            json!({"type": "DELETED", "object": pod("web-1", "10.0.0.5")}),
        ],
    );
    let requests = Arc::new(Mutex::new(Vec::new()));
    let addr = fake_api(api, requests.clone()).await;
    let cfgs = sd_config(&format!(
        "  - {{role: pod, api_server: 'http://{addr}', namespaces: {{names: [default]}}, selectors: [{{role: pod, label: 'app=web'}}]}}\n"
    ));
    let (mut rx, cancel, counted) = start_counted(&cfgs);

    let groups =
        until(&mut rx, "web-1 listed", |g| g.iter().any(|g| g.source == "pod/default/web-1")).await;
    let g = groups.iter().find(|g| g.source == "pod/default/web-1").unwrap();
    let l = &g.labels;
    for (name, value) in [
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_pod_name", "web-1"),
        ("__meta_kubernetes_pod_ip", "10.0.0.5"),
        ("__meta_kubernetes_pod_ready", "true"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_node_name", "node-a"),
        ("__meta_kubernetes_pod_host_ip", "192.168.1.10"),
        ("__meta_kubernetes_pod_uid", "uid-web-1"),
        ("__meta_kubernetes_pod_label_app", "web"),
        ("__meta_kubernetes_pod_label_app_kubernetes_io_name", "web"),
        ("__meta_kubernetes_pod_labelpresent_app", "true"),
        ("__meta_kubernetes_pod_annotation_prometheus_io_scrape", "true"),
        ("__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape", "true"),
        ("__meta_kubernetes_pod_controller_kind", "ReplicaSet"),
        ("__meta_kubernetes_pod_controller_name", "web-5d8f"),
    ] {
        assert_eq!(l.get(name), Some(value), "{name}");
    }
    assert_eq!(g.targets.len(), 3, "two container ports and one port-less init container");
    let metrics = g
        .targets
        .iter()
        .find(|t| t.get("__meta_kubernetes_pod_container_port_name") == Some("metrics"))
        .unwrap();
    assert_eq!(metrics.get("__address__"), Some("10.0.0.5:9090"));
    assert_eq!(metrics.get("__meta_kubernetes_pod_container_port_number"), Some("9090"));
    assert_eq!(metrics.get("__meta_kubernetes_pod_container_port_protocol"), Some("TCP"));
    assert_eq!(metrics.get("__meta_kubernetes_pod_container_name"), Some("web"));
    assert_eq!(metrics.get("__meta_kubernetes_pod_container_image"), Some("nginx:1.25"));
    assert_eq!(metrics.get("__meta_kubernetes_pod_container_id"), Some("containerd://abc"));
    assert_eq!(metrics.get("__meta_kubernetes_pod_container_init"), Some("false"));
    let init = g
        .targets
        .iter()
        .find(|t| t.get("__meta_kubernetes_pod_container_init") == Some("true"))
        .unwrap();
    assert_eq!(init.get("__address__"), Some("10.0.0.5"));

    let groups = until(&mut rx, "web-2 with an IP", |g| {
        g.iter().any(|g| g.source == "pod/default/web-2" && !g.targets.is_empty())
    })
    .await;
    assert!(groups.iter().any(|g| g.source == "pod/default/web-1"));
    until(&mut rx, "web-1 deleted", |g| g.iter().all(|g| g.source != "pod/default/web-1")).await;
    let reqs = requests.lock().clone();
    assert!(
        reqs.iter().any(|r| r.contains("labelSelector=app%3Dweb") && !r.contains("watch")),
        "{reqs:?}"
    );
    assert!(
        reqs.iter().any(|r| r.contains("watch=1") && r.contains("resourceVersion=10")),
        "{reqs:?}"
    );
    // Events as an informer hands them to Prometheus' handlers: the listed web-1 and the
    // watched web-2 are adds, web-2's change an update, web-1's removal a delete.
    let sd = counted.sd_snapshot();
    let count = |event: &str| {
        sd.kubernetes_events_total.iter().find(|e| e.0 == "pod" && e.1 == event).unwrap().2
    };
    assert_eq!((count("add"), count("delete")), (2, 1), "{:?}", sd.kubernetes_events_total);
    assert!(count("update") >= 1);
    assert_eq!(sd.kubernetes_events_total.len(), 18, "every role and event, as Prometheus");
    let ok = sd.kubernetes_http_requests_total.iter().find(|(c, _)| c == "200").unwrap().1;
    assert!(ok >= 2, "a list and a watch: {:?}", sd.kubernetes_http_requests_total);
    let (endpoint, d) = &sd.kubernetes_http_request_duration[0];
    assert_eq!(endpoint, "/api/v1/namespaces/default/pods");
    assert!(d.count >= 2 && d.quantiles.is_empty());
    assert_eq!(counted.failed_configs(), 0);
    cancel.cancel();
}

#[tokio::test]
async fn service_node_and_endpoints_roles() {
    let svc = json!({
        "kind": "Service", "apiVersion": "v1",
        "metadata": {"name": "web", "namespace": "default", "labels": {"tier": "front"}},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}
    });
    let node = json!({
        "kind": "Node", "apiVersion": "v1",
        "metadata": {"name": "node-a", "labels": {"kubernetes.io/os": "linux"}},
        "spec": {"providerID": "aws:///eu-west-1a/i-1"},
        "status": {
            "addresses": [{"type": "Hostname", "address": "node-a"}, {"type": "InternalIP", "address": "192.168.1.10"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}
        }
    });
    let eps = json!({
        "kind": "Endpoints", "apiVersion": "v1",
        "metadata": {"name": "web", "namespace": "default", "labels": {"tier": "front"}},
        "subsets": [{
            "addresses": [{"ip": "10.0.0.5", "nodeName": "node-a", "targetRef": {"kind": "Pod", "name": "web-1", "namespace": "default"}}],
            "notReadyAddresses": [{"ip": "10.0.0.7", "hostname": "h7"}],
            "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]
        }]
    });
    let mut api = Api::default();
    api.lists.insert("/api/v1/services".into(), list("ServiceList", vec![svc]));
    api.lists.insert("/api/v1/nodes".into(), list("NodeList", vec![node]));
    api.lists.insert("/api/v1/endpoints".into(), list("EndpointsList", vec![eps]));
    api.lists.insert("/api/v1/pods".into(), list("PodList", vec![pod("web-1", "10.0.0.5")]));
    let addr = fake_api(api, Arc::default()).await;

    let (mut rx, cancel) =
        start(&sd_config(&format!("  - {{role: service, api_server: 'http://{addr}'}}\n")));
    let g = until(&mut rx, "service", |g| !g.is_empty()).await;
    assert_eq!(g[0].source, "svc/default/web");
    assert_eq!(g[0].labels.get("__meta_kubernetes_service_name"), Some("web"));
    assert_eq!(g[0].labels.get("__meta_kubernetes_service_label_tier"), Some("front"));
    let t = &g[0].targets[0];
    assert_eq!(t.get("__address__"), Some("web.default.svc:80"));
    assert_eq!(t.get("__meta_kubernetes_service_port_name"), Some("http"));
    assert_eq!(t.get("__meta_kubernetes_service_port_number"), Some("80"));
    assert_eq!(t.get("__meta_kubernetes_service_cluster_ip"), Some("10.96.0.10"));
    assert_eq!(t.get("__meta_kubernetes_service_type"), Some("ClusterIP"));
    cancel.cancel();

    let (mut rx, cancel) =
        start(&sd_config(&format!("  - {{role: node, api_server: 'http://{addr}'}}\n")));
    let g = until(&mut rx, "node", |g| !g.is_empty()).await;
    let t = &g[0].targets[0];
    assert_eq!(
        t.get("__address__"),
        Some("192.168.1.10:10250"),
        "InternalIP preferred over Hostname"
    );
    assert_eq!(t.get("instance"), Some("node-a"));
    assert_eq!(t.get("__meta_kubernetes_node_address_Hostname"), Some("node-a"));
    assert_eq!(g[0].labels.get("__meta_kubernetes_node_label_kubernetes_io_os"), Some("linux"));
    assert_eq!(
        g[0].labels.get("__meta_kubernetes_node_provider_id"),
        Some("aws:///eu-west-1a/i-1")
    );
    cancel.cancel();

    let (mut rx, cancel) =
        start(&sd_config(&format!("  - {{role: endpoints, api_server: 'http://{addr}'}}\n")));
    let g = until(&mut rx, "endpoints with pod data", |g| {
        g.first().is_some_and(|g| {
            g.targets.iter().any(|t| t.has("__meta_kubernetes_pod_name"))
                && g.labels.has("__meta_kubernetes_service_name")
        })
    })
    .await;
    let g = &g[0];
    assert_eq!(g.source, "endpoints/default/web");
    assert_eq!(g.labels.get("__meta_kubernetes_endpoints_name"), Some("web"));
    assert_eq!(g.labels.get("__meta_kubernetes_endpoints_label_tier"), Some("front"));
    let ready = g.targets.iter().find(|t| t.get("__address__") == Some("10.0.0.5:8080")).unwrap();
    assert_eq!(ready.get("__meta_kubernetes_endpoint_ready"), Some("true"));
    assert_eq!(ready.get("__meta_kubernetes_endpoint_node_name"), Some("node-a"));
    assert_eq!(ready.get("__meta_kubernetes_endpoint_address_target_kind"), Some("Pod"));
    assert_eq!(ready.get("__meta_kubernetes_pod_container_port_name"), Some("http"));
    let not_ready =
        g.targets.iter().find(|t| t.get("__address__") == Some("10.0.0.7:8080")).unwrap();
    assert_eq!(not_ready.get("__meta_kubernetes_endpoint_ready"), Some("false"));
    assert_eq!(not_ready.get("__meta_kubernetes_endpoint_hostname"), Some("h7"));
    let extra = g.targets.iter().find(|t| t.get("__address__") == Some("10.0.0.5:9090")).unwrap();
    assert_eq!(
        extra.get("__meta_kubernetes_pod_container_port_name"),
        Some("metrics"),
        "uncovered container port"
    );
    assert_eq!(g.targets.len(), 3);
    cancel.cancel();
}

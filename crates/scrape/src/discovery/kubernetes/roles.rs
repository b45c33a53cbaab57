//! Kubernetes objects (as JSON, field names from the Kubernetes API reference) to target groups
//! with Prometheus' `__meta_kubernetes_*` labels, one function per role.

use std::collections::BTreeMap;

use model::Labels;
use serde_json::Value;

use crate::discovery::TargetGroup;

type LabelMap = BTreeMap<String, String>;

const META: &str = "__meta_kubernetes_";

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str().unwrap_or("")
}

fn arr<'a>(v: &'a Value, path: &[&str]) -> &'a [Value] {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn num(v: &Value) -> String {
    v.as_i64().map(|n| n.to_string()).unwrap_or_default()
}

/// Prometheus' `strutil.SanitizeLabelName`: invalid characters become `_`.
pub fn sanitize_label_name(name: &str) -> String {
    let mut out: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn set(m: &mut LabelMap, name: impl Into<String>, value: &str) {
    m.insert(name.into(), value.to_string());
}

/// `<role>_name`, labels, annotations and their `present` companions.
fn add_object_meta(m: &mut LabelMap, obj: &Value, role: &str) {
    set(m, format!("{META}{role}_name"), s(obj, &["metadata", "name"]));
    for (kind, field) in [("label", "labels"), ("annotation", "annotations")] {
        if let Some(map) = obj["metadata"][field].as_object() {
            for (k, v) in map {
                let ln = sanitize_label_name(k);
                set(m, format!("{META}{role}_{kind}_{ln}"), v.as_str().unwrap_or(""));
                set(m, format!("{META}{role}_{kind}present_{ln}"), "true");
            }
        }
    }
}

fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

fn group(source: String, labels: LabelMap, targets: Vec<LabelMap>) -> TargetGroup {
    TargetGroup {
        source,
        targets: targets.into_iter().map(Labels::new).collect(),
        labels: Labels::new(labels),
    }
}

fn ns_name(obj: &Value) -> (String, String) {
    (s(obj, &["metadata", "namespace"]).to_string(), s(obj, &["metadata", "name"]).to_string())
}

/// Labels describing a pod (shared by the pod and endpoints roles).
fn pod_labels(pod: &Value) -> LabelMap {
    let mut m = LabelMap::new();
    set(&mut m, format!("{META}pod_ip"), s(pod, &["status", "podIP"]));
    let ready = arr(pod, &["status", "conditions"])
        .iter()
        .find(|c| s(c, &["type"]) == "Ready")
        .map(|c| s(c, &["status"]).to_lowercase())
        .unwrap_or_else(|| "unknown".into());
    set(&mut m, format!("{META}pod_ready"), &ready);
    set(&mut m, format!("{META}pod_phase"), s(pod, &["status", "phase"]));
    set(&mut m, format!("{META}pod_node_name"), s(pod, &["spec", "nodeName"]));
    set(&mut m, format!("{META}pod_host_ip"), s(pod, &["status", "hostIP"]));
    set(&mut m, format!("{META}pod_uid"), s(pod, &["metadata", "uid"]));
    add_object_meta(&mut m, pod, "pod");
    if let Some(owner) = arr(pod, &["metadata", "ownerReferences"])
        .iter()
        .find(|o| o["controller"].as_bool() == Some(true))
    {
        set(&mut m, format!("{META}pod_controller_kind"), s(owner, &["kind"]));
        set(&mut m, format!("{META}pod_controller_name"), s(owner, &["name"]));
    }
    m
}

/// Containers then init containers, each with whether it is an init container.
fn containers(pod: &Value) -> Vec<(&Value, bool)> {
    let main = arr(pod, &["spec", "containers"]).iter().map(|c| (c, false));
    let init = arr(pod, &["spec", "initContainers"]).iter().map(|c| (c, true));
    main.chain(init).collect()
}

fn container_id(pod: &Value, name: &str, init: bool) -> String {
    let field = if init { "initContainerStatuses" } else { "containerStatuses" };
    arr(pod, &["status", field])
        .iter()
        .find(|st| s(st, &["name"]) == name)
        .map(|st| s(st, &["containerID"]).to_string())
        .unwrap_or_default()
}

fn container_port_labels(m: &mut LabelMap, c: &Value, port: &Value, init: bool) {
    set(m, format!("{META}pod_container_name"), s(c, &["name"]));
    set(m, format!("{META}pod_container_image"), s(c, &["image"]));
    set(m, format!("{META}pod_container_port_name"), s(port, &["name"]));
    set(m, format!("{META}pod_container_port_number"), &num(&port["containerPort"]));
    set(m, format!("{META}pod_container_port_protocol"), s(port, &["protocol"]));
    set(m, format!("{META}pod_container_init"), if init { "true" } else { "false" });
}

/// Role `pod`: one target per container port (or per container without ports).
pub fn pod_group(pod: &Value) -> TargetGroup {
    let (ns, name) = ns_name(pod);
    let source = format!("pod/{ns}/{name}");
    let ip = s(pod, &["status", "podIP"]);
    if ip.is_empty() {
        return group(source, LabelMap::new(), Vec::new());
    }
    let mut labels = pod_labels(pod);
    set(&mut labels, format!("{META}namespace"), &ns);
    let mut targets = Vec::new();
    for (c, init) in containers(pod) {
        let cid = container_id(pod, s(c, &["name"]), init);
        let ports = arr(c, &["ports"]);
        if ports.is_empty() {
            let mut t = LabelMap::new();
            set(&mut t, "__address__", ip);
            set(&mut t, format!("{META}pod_container_name"), s(c, &["name"]));
            set(&mut t, format!("{META}pod_container_id"), &cid);
            set(&mut t, format!("{META}pod_container_image"), s(c, &["image"]));
            set(&mut t, format!("{META}pod_container_init"), if init { "true" } else { "false" });
            targets.push(t);
            continue;
        }
        for port in ports {
            let mut t = LabelMap::new();
            set(&mut t, "__address__", &join_host_port(ip, &num(&port["containerPort"])));
            set(&mut t, format!("{META}pod_container_id"), &cid);
            container_port_labels(&mut t, c, port, init);
            targets.push(t);
        }
    }
    group(source, labels, targets)
}

/// Role `service`: one target per service port, at `<name>.<namespace>.svc:<port>`.
pub fn service_group(svc: &Value) -> TargetGroup {
    let (ns, name) = ns_name(svc);
    let mut labels = LabelMap::new();
    set(&mut labels, format!("{META}namespace"), &ns);
    add_object_meta(&mut labels, svc, "service");
    let kind = s(svc, &["spec", "type"]);
    let targets = arr(svc, &["spec", "ports"])
        .iter()
        .map(|port| {
            let number = num(&port["port"]);
            let mut t = LabelMap::new();
            set(&mut t, "__address__", &join_host_port(&format!("{name}.{ns}.svc"), &number));
            set(&mut t, format!("{META}service_port_name"), s(port, &["name"]));
            set(&mut t, format!("{META}service_port_number"), &number);
            set(&mut t, format!("{META}service_port_protocol"), s(port, &["protocol"]));
            set(&mut t, format!("{META}service_type"), kind);
            if kind == "ExternalName" {
                set(
                    &mut t,
                    format!("{META}service_external_name"),
                    s(svc, &["spec", "externalName"]),
                );
            } else {
                set(&mut t, format!("{META}service_cluster_ip"), s(svc, &["spec", "clusterIP"]));
            }
            t
        })
        .collect();
    group(format!("svc/{ns}/{name}"), labels, targets)
}

/// Role `node`: the kubelet of each node, addressed by its preferred address.
pub fn node_group(node: &Value) -> Option<TargetGroup> {
    let name = s(node, &["metadata", "name"]);
    let mut labels = LabelMap::new();
    add_object_meta(&mut labels, node, "node");
    set(&mut labels, format!("{META}node_provider_id"), s(node, &["spec", "providerID"]));
    let mut by_type: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for a in arr(node, &["status", "addresses"]) {
        by_type.entry(s(a, &["type"])).or_default().push(s(a, &["address"]));
    }
    let preferred =
        ["InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"];
    let addr = preferred.iter().find_map(|t| by_type.get(t).and_then(|v| v.first()))?;
    let port = num(&node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"]);
    let mut t = LabelMap::new();
    set(&mut t, "__address__", &join_host_port(addr, &port));
    set(&mut t, "instance", name);
    for (ty, addrs) in &by_type {
        set(&mut t, sanitize_label_name(&format!("{META}node_address_{ty}")), addrs[0]);
    }
    Some(group(format!("node/{name}"), labels, vec![t]))
}

/// Role `endpoints`: one target per address and port, enriched with the service of the same
/// name and the pods the addresses point at (plus targets for their uncovered container ports).
pub fn endpoints_group(eps: &Value, services: &[Value], pods: &[Value]) -> TargetGroup {
    let (ns, name) = ns_name(eps);
    let mut labels = LabelMap::new();
    set(&mut labels, format!("{META}namespace"), &ns);
    if let Some(svc) = services.iter().find(|s| ns_name(s) == (ns.clone(), name.clone())) {
        add_object_meta(&mut labels, svc, "service");
    }
    add_object_meta(&mut labels, eps, "endpoints");
    let mut targets = Vec::new();
    let mut seen_pods: Vec<(&Value, Vec<i64>)> = Vec::new();
    for subset in arr(eps, &["subsets"]) {
        for port in arr(subset, &["ports"]) {
            let ready = arr(subset, &["addresses"]).iter().map(|a| (a, "true"));
            let not_ready = arr(subset, &["notReadyAddresses"]).iter().map(|a| (a, "false"));
            for (addr, is_ready) in ready.chain(not_ready) {
                let mut t = LabelMap::new();
                set(&mut t, "__address__", &join_host_port(s(addr, &["ip"]), &num(&port["port"])));
                set(&mut t, format!("{META}endpoint_port_name"), s(port, &["name"]));
                set(&mut t, format!("{META}endpoint_port_protocol"), s(port, &["protocol"]));
                set(&mut t, format!("{META}endpoint_ready"), is_ready);
                set(
                    &mut t,
                    format!("{META}endpoint_address_target_kind"),
                    s(addr, &["targetRef", "kind"]),
                );
                set(
                    &mut t,
                    format!("{META}endpoint_address_target_name"),
                    s(addr, &["targetRef", "name"]),
                );
                set(&mut t, format!("{META}endpoint_node_name"), s(addr, &["nodeName"]));
                set(&mut t, format!("{META}endpoint_hostname"), s(addr, &["hostname"]));
                let pod = (s(addr, &["targetRef", "kind"]) == "Pod")
                    .then(|| {
                        let want = (
                            s(addr, &["targetRef", "namespace"]).to_string(),
                            s(addr, &["targetRef", "name"]).to_string(),
                        );
                        pods.iter().find(|p| ns_name(p) == want)
                    })
                    .flatten();
                if let Some(pod) = pod {
                    t.extend(pod_labels(pod));
                    let pnum = port["port"].as_i64().unwrap_or(-1);
                    'outer: for (c, init) in containers(pod) {
                        for cport in arr(c, &["ports"]) {
                            if cport["containerPort"].as_i64() == Some(pnum) {
                                container_port_labels(&mut t, c, cport, init);
                                set(
                                    &mut t,
                                    format!("{META}pod_container_port_protocol"),
                                    s(port, &["protocol"]),
                                );
                                break 'outer;
                            }
                        }
                    }
                    match seen_pods.iter_mut().find(|(p, _)| ns_name(p) == ns_name(pod)) {
                        Some((_, ports)) => ports.push(pnum),
                        None => seen_pods.push((pod, vec![pnum])),
                    }
                }
                targets.push(t);
            }
        }
    }
    for (pod, covered) in seen_pods {
        let ip = s(pod, &["status", "podIP"]);
        if ip.is_empty() {
            continue;
        }
        for (c, init) in containers(pod) {
            for cport in arr(c, &["ports"]) {
                let n = cport["containerPort"].as_i64().unwrap_or(-1);
                if covered.contains(&n) {
                    continue;
                }
                let mut t = LabelMap::new();
                set(&mut t, "__address__", &join_host_port(ip, &n.to_string()));
                container_port_labels(&mut t, c, cport, init);
                t.extend(pod_labels(pod));
                targets.push(t);
            }
        }
    }
    group(format!("endpoints/{ns}/{name}"), labels, targets)
}

//! Service discovery configs: static, file, HTTP, DNS and Kubernetes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Duration;
use crate::http::with_http_client;

/// `static_configs` entry (also the target-group format of file_sd and http_sd).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    #[serde(default)]
    pub targets: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

fn five_minutes() -> Duration {
    Duration::from_secs(300)
}
fn one_minute() -> Duration {
    Duration::from_secs(60)
}
fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}

/// `file_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSdConfig {
    #[serde(default)]
    pub files: Vec<String>,
    #[serde(default = "five_minutes")]
    pub refresh_interval: Duration,
}

with_http_client! {
    /// `http_sd_configs` entry.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct HttpSdConfig {}
    tail {
        #[serde(default)]
        pub url: String,
        #[serde(default = "one_minute")]
        pub refresh_interval: Duration,
    }
}

/// DNS record types `dns_sd_configs` can query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum DnsRecordType {
    #[default]
    #[serde(rename = "SRV")]
    Srv,
    A,
    #[serde(rename = "AAAA")]
    Aaaa,
    #[serde(rename = "MX")]
    Mx,
    #[serde(rename = "NS")]
    Ns,
}

/// `dns_sd_configs` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSdConfig {
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default = "thirty_seconds")]
    pub refresh_interval: Duration,
    #[serde(default, rename = "type")]
    pub record_type: DnsRecordType,
    #[serde(default, skip_serializing_if = "is_zero_port")]
    pub port: u16,
}

fn is_zero_port(p: &u16) -> bool {
    *p == 0
}

/// Kubernetes roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KubernetesRole {
    Pod,
    Endpoints,
    #[serde(rename = "endpointslice")]
    EndpointSlice,
    Service,
    Node,
    Ingress,
}

impl KubernetesRole {
    pub fn as_str(self) -> &'static str {
        match self {
            KubernetesRole::Pod => "pod",
            KubernetesRole::Endpoints => "endpoints",
            KubernetesRole::EndpointSlice => "endpointslice",
            KubernetesRole::Service => "service",
            KubernetesRole::Node => "node",
            KubernetesRole::Ingress => "ingress",
        }
    }
}

/// `namespaces` of a Kubernetes SD config.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesNamespaces {
    #[serde(default, skip_serializing_if = "crate::http::is_false")]
    pub own_namespace: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// One `selectors` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSelector {
    pub role: KubernetesRole,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
}

/// `attach_metadata`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachMetadata {
    #[serde(default)]
    pub node: bool,
}

with_http_client! {
    /// `kubernetes_sd_configs` entry.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct KubernetesSdConfig {
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub api_server: String,
        pub role: KubernetesRole,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        pub kubeconfig_file: String,
    }
    tail {
        #[serde(default)]
        pub namespaces: KubernetesNamespaces,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub selectors: Vec<KubernetesSelector>,
        #[serde(default)]
        pub attach_metadata: AttachMetadata,
    }
}

//! `dns_sd_configs`: targets from SRV, A or AAAA records, re-resolved every refresh interval.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::TokioAsyncResolver;
use hickory_resolver::config::{NameServerConfig, Protocol, ResolverConfig, ResolverOpts};
use hickory_resolver::error::{ResolveError, ResolveErrorKind};
use hickory_resolver::proto::op::ResponseCode;
use model::Labels;
use tokio_util::sync::CancellationToken;

use super::{ProviderMetrics, TargetGroup, UpdateSender};
use config::sd::DnsRecordType;

/// A resolved record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsRecord {
    Srv { target: String, port: u16 },
    Ip(IpAddr),
}

/// Maps the records of one name to its target group, with Prometheus' `__meta_dns_*` labels.
/// `port` is the configured port for A/AAAA records.
pub fn dns_records_to_groups(name: &str, records: &[DnsRecord], port: u16) -> TargetGroup {
    let targets = records
        .iter()
        .map(|r| match r {
            DnsRecord::Srv { target, port } => {
                let host = target.trim_end_matches('.');
                let addr = join_host_port(host, *port);
                let port_s = port.to_string();
                Labels::new([
                    ("__address__", addr.as_str()),
                    ("__meta_dns_name", name),
                    ("__meta_dns_srv_record_target", target.as_str()),
                    ("__meta_dns_srv_record_port", port_s.as_str()),
                ])
            }
            DnsRecord::Ip(ip) => {
                let addr = SocketAddr::new(*ip, port).to_string();
                Labels::new([("__address__", addr.as_str()), ("__meta_dns_name", name)])
            }
        })
        .collect();
    TargetGroup { source: name.to_string(), targets, labels: Labels::empty() }
}

fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") }
}

fn resolver(servers: Option<Vec<SocketAddr>>) -> Result<TokioAsyncResolver, String> {
    match servers {
        Some(addrs) => {
            let mut cfg = ResolverConfig::new();
            for a in addrs {
                cfg.add_name_server(NameServerConfig::new(a, Protocol::Udp));
            }
            let mut opts = ResolverOpts::default();
            opts.cache_size = 0;
            Ok(TokioAsyncResolver::tokio(cfg, opts))
        }
        None => TokioAsyncResolver::tokio_from_system_conf().map_err(|e| e.to_string()),
    }
}

/// A name without records (NXDOMAIN, or no records of the type) is an answer, as in
/// Prometheus: the name has no targets. Anything else (SERVFAIL, a timeout) is a failed lookup.
fn no_records(e: ResolveError) -> Result<Vec<DnsRecord>, String> {
    match e.kind() {
        ResolveErrorKind::NoRecordsFound { response_code, .. }
            if matches!(*response_code, ResponseCode::NXDomain | ResponseCode::NoError) =>
        {
            Ok(Vec::new())
        }
        _ => Err(e.to_string()),
    }
}

async fn lookup(
    r: &TokioAsyncResolver,
    name: &str,
    kind: DnsRecordType,
) -> Result<Vec<DnsRecord>, String> {
    let fqdn = if name.ends_with('.') { name.to_string() } else { format!("{name}.") };
    match kind {
        DnsRecordType::Srv => match r.srv_lookup(fqdn).await {
            Ok(l) => Ok(l
                .iter()
                .map(|s| DnsRecord::Srv { target: s.target().to_utf8(), port: s.port() })
                .collect()),
            Err(e) => no_records(e),
        },
        DnsRecordType::A => match r.ipv4_lookup(fqdn).await {
            Ok(l) => Ok(l.iter().map(|a| DnsRecord::Ip(IpAddr::V4(a.0))).collect()),
            Err(e) => no_records(e),
        },
        DnsRecordType::Aaaa => match r.ipv6_lookup(fqdn).await {
            Ok(l) => Ok(l.iter().map(|a| DnsRecord::Ip(IpAddr::V6(a.0))).collect()),
            Err(e) => no_records(e),
        },
        other => Err(format!("dns record type {other:?} is not supported")),
    }
}

pub(crate) async fn run(
    cfg: config::sd::DnsSdConfig,
    servers: Option<Vec<SocketAddr>>,
    idx: usize,
    tx: UpdateSender,
    cancel: CancellationToken,
    metrics: ProviderMetrics,
) {
    let r = match resolver(servers) {
        Ok(r) => r,
        Err(e) => {
            metrics.config_failed();
            tracing::error!(err = %e, "cannot create DNS resolver");
            return;
        }
    };
    let sd = &metrics.sd;
    let refresh = cfg.refresh_interval.as_std().max(Duration::from_millis(10));
    let mut last: Vec<Option<TargetGroup>> = vec![None; cfg.names.len()];
    loop {
        // A failed name keeps its last targets; the refresh itself fails only if it cannot
        // run (as in Prometheus, where it never does).
        let start = Instant::now();
        for (i, name) in cfg.names.iter().enumerate() {
            sd.dns_lookups.inc();
            match lookup(&r, name, cfg.record_type).await {
                Ok(records) => last[i] = Some(dns_records_to_groups(name, &records, cfg.port)),
                Err(e) => {
                    sd.dns_lookup_failures.inc();
                    tracing::error!(name = %name, err = %e, "dns_sd lookup failed")
                }
            }
        }
        sd.refresh_done("dns", start.elapsed().as_secs_f64(), false);
        if tx.send((idx, last.iter().flatten().cloned().collect())).is_err() {
            return;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(refresh) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srv_and_address_records_map_to_targets() {
        let g = dns_records_to_groups(
            "_x._tcp.example.",
            &[DnsRecord::Srv { target: "node1.example.".into(), port: 9100 }],
            0,
        );
        let t = &g.targets[0];
        assert_eq!(t.get("__address__"), Some("node1.example:9100"));
        assert_eq!(t.get("__meta_dns_srv_record_target"), Some("node1.example."));
        assert_eq!(t.get("__meta_dns_srv_record_port"), Some("9100"));
        assert_eq!(t.get("__meta_dns_name"), Some("_x._tcp.example."));
        let g = dns_records_to_groups(
            "h.example",
            &[
                DnsRecord::Ip("10.0.0.1".parse().unwrap_or(IpAddr::V4(0.into()))),
                DnsRecord::Ip("::1".parse().unwrap_or(IpAddr::V4(0.into()))),
            ],
            80,
        );
        assert_eq!(g.targets[0].get("__address__"), Some("10.0.0.1:80"));
        assert_eq!(g.targets[1].get("__address__"), Some("[::1]:80"));
        assert_eq!(g.source, "h.example");
    }
}

//! `/metrics` of a running server carries Prometheus' scrape and service-discovery families,
//! driven by real events: a local target scraped by jobs over its sample, body size and label
//! limits, a file_sd file that changes, an http_sd endpoint that refuses connections, a reload
//! that changes one job and removes another, and `/metrics` requests themselves.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::SocketAddr;
use std::path::Path;

use server::{Server, ServerOptions};
use support::{eventually, free_port};

/// Five samples in two families with metadata (17 + 13 bytes of help, type and unit).
pub const BODY: &str = "# HELP a_total A counter.\n# TYPE a_total counter\na_total{x=\"1\"} 1\n\
                        a_total{x=\"2\"} 2\n# HELP b A gauge.\n# TYPE b gauge\nb 3\nc 4\nd 5\n";

/// A target serving [`BODY`] on `/metrics`.
pub async fn target() -> SocketAddr {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async { ([("content-type", "text/plain; version=0.0.4")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The configuration both servers run: limits hit on every scrape, a file_sd job and an
/// http_sd job whose endpoint refuses connections. `sample_limit` of job `limited` varies.
pub fn config(dir: &Path, target: SocketAddr, sample_limit: u64, with_labels_job: bool) -> String {
    let files = dir.join("targets.json");
    let closed = free_port();
    let labels_job = if with_labels_job {
        format!(
            "- job_name: labels\n  label_limit: 2\n  static_configs: [{{targets: ['{target}']}}]\n"
        )
    } else {
        String::new()
    };
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n\
         - job_name: limited\n  sample_limit: {sample_limit}\n  static_configs: [{{targets: ['{target}']}}]\n\
         - job_name: small\n  body_size_limit: 10B\n  static_configs: [{{targets: ['{target}']}}]\n\
         {labels_job}\
         - job_name: file\n  file_sd_configs: [{{files: ['{}'], refresh_interval: 1s}}]\n\
         - job_name: httpsd\n  http_sd_configs: [{{url: 'http://127.0.0.1:{closed}/sd', refresh_interval: 1s}}]\n",
        files.display()
    )
}

pub fn write_targets(dir: &Path, targets: &[String]) {
    let list: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
    std::fs::write(dir.join("targets.json"), format!("[{{\"targets\": [{}]}}]", list.join(",")))
        .unwrap();
}

fn value(text: &str, series: &str) -> Option<f64> {
    let prefix = format!("{series} ");
    text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map(|v| v.parse().unwrap())
}

async fn metrics(base: &str) -> String {
    reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_and_discovery_families_follow_real_events() {
    let target = target().await;
    let dir = tempfile::tempdir().unwrap();
    write_targets(dir.path(), &[target.to_string()]);
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(&cfg, config(dir.path(), target, 2, true)).unwrap();
    let port = free_port();
    let opts = ServerOptions {
        listen_address: format!("127.0.0.1:{port}"),
        storage_path: dir.path().join("data"),
        config_file: Some(cfg.clone()),
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let base = format!("http://127.0.0.1:{port}");

    let text = eventually(30, "limits hit, intervals observed and http_sd failing", || async {
        let t = metrics(&base).await;
        let done = value(&t, "prometheus_target_scrapes_exceeded_sample_limit_total")? >= 1.0
            && value(&t, "prometheus_target_scrapes_exceeded_body_size_limit_total")? >= 1.0
            && value(&t, "prometheus_target_scrape_pool_exceeded_label_limits_total")? >= 1.0
            && value(&t, "prometheus_target_interval_length_seconds_count{interval=\"1s\"}")?
                >= 1.0
            && value(&t, "prometheus_sd_http_failures_total")? >= 1.0
            && value(&t, "prometheus_target_metadata_cache_entries{scrape_job=\"file\"}")? >= 2.0;
        done.then_some(t)
    })
    .await;
    let v = |series: &str| value(&text, series).unwrap_or_else(|| panic!("{series}\n{text}"));
    assert_eq!(v("prometheus_target_scrape_pools_total"), 4.0, "httpsd never had targets");
    assert_eq!(v("prometheus_target_scrape_pools_failed_total"), 0.0);
    assert_eq!(v("prometheus_target_scrape_pool_targets{scrape_job=\"file\"}"), 1.0);
    assert_eq!(v("prometheus_target_scrape_pool_targets{scrape_job=\"limited\"}"), 1.0);
    assert!(v("prometheus_target_scrape_pool_sync_total{scrape_job=\"file\"}") >= 1.0);
    assert_eq!(v("prometheus_target_sync_failed_total{scrape_job=\"file\"}"), 0.0);
    assert!(v("prometheus_target_sync_length_seconds_count{scrape_job=\"file\"}") >= 1.0);
    assert_eq!(v("prometheus_target_metadata_cache_entries{scrape_job=\"file\"}"), 2.0);
    assert_eq!(v("prometheus_target_metadata_cache_bytes{scrape_job=\"file\"}"), 30.0);
    assert!(!text.contains("scrape_job=\"httpsd\""), "no pool before the first targets");
    assert_eq!(v("prometheus_sd_discovered_targets{config=\"file\",name=\"scrape\"}"), 1.0);
    assert_eq!(v("prometheus_sd_discovered_targets{config=\"httpsd\",name=\"scrape\"}"), 0.0);
    assert_eq!(v("prometheus_sd_failed_configs{name=\"scrape\"}"), 0.0);
    assert!(v("prometheus_sd_received_updates_total{name=\"scrape\"}") >= 4.0);
    assert!(v("prometheus_sd_refresh_failures_total{mechanism=\"http\"}") >= 1.0);
    assert!(v("prometheus_sd_refresh_duration_seconds_count{mechanism=\"http\"}") >= 1.0);
    let file = dir.path().join("targets.json");
    let mtime = v(&format!("prometheus_sd_file_mtime_seconds{{filename=\"{}\"}}", file.display()));
    assert!(mtime > 1.6e9, "{mtime}");
    assert_eq!(v("prometheus_target_scrapes_sample_out_of_order_total"), 0.0);
    assert_eq!(v("prometheus_target_scrape_pool_reloads_total"), 0.0);
    // Requests to /metrics count as Prometheus counts them (not the one being served).
    assert!(v("prometheus_http_requests_total{code=\"200\",handler=\"/metrics\"}") >= 1.0);
    assert!(v("prometheus_http_response_size_bytes_count{handler=\"/metrics\"}") >= 1.0);
    assert!(v("prometheus_http_response_size_bytes_sum{handler=\"/metrics\"}") > 1000.0);
    assert!(v("promhttp_metric_handler_requests_total{code=\"200\"}") >= 1.0);
    assert_eq!(v("promhttp_metric_handler_requests_in_flight"), 1.0, "this one");
    // Gzipped when accepted, as promhttp; the size counted is the bytes sent.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let sum = |t: &str| value(t, "prometheus_http_response_size_bytes_sum{handler=\"/metrics\"}");
    let plain = raw.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let resp = raw.get(format!("{base}/metrics")).header("accept-encoding", "gzip");
    let resp = resp.send().await.unwrap();
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    let gz = resp.bytes().await.unwrap().len() as f64;
    let after = raw.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let counted = sum(&after).unwrap() - sum(&plain).unwrap();
    assert_eq!(counted, plain.len() as f64 + gz, "the plain and the gzipped body");

    // The file changes: a second target; the file is read again.
    let scans = v("prometheus_sd_file_scan_duration_seconds_count");
    write_targets(dir.path(), &[target.to_string(), format!("127.0.0.1:{}", free_port())]);
    let text = eventually(30, "the file's second target", || async {
        let t = metrics(&base).await;
        (value(&t, "prometheus_target_scrape_pool_targets{scrape_job=\"file\"}")? == 2.0)
            .then_some(t)
    })
    .await;
    let v = |series: &str| value(&text, series).unwrap_or_else(|| panic!("{series}\n{text}"));
    assert!(v("prometheus_sd_file_scan_duration_seconds_count") > scans);
    assert_eq!(v("prometheus_sd_discovered_targets{config=\"file\",name=\"scrape\"}"), 2.0);
    assert_eq!(v("prometheus_sd_file_read_errors_total"), 0.0);

    // A broken file is a read error; its targets stay.
    std::fs::write(&file, "[{").unwrap();
    eventually(30, "a file-SD read error", || async {
        let t = metrics(&base).await;
        (value(&t, "prometheus_sd_file_read_errors_total")? >= 1.0).then_some(())
    })
    .await;

    // A reload changes `limited` and removes `labels`.
    std::fs::write(&cfg, config(dir.path(), target, 3, false)).unwrap();
    tokio::task::block_in_place(|| server.reload()).unwrap();
    let text = metrics(&base).await;
    let v = |series: &str| value(&text, series).unwrap_or_else(|| panic!("{series}\n{text}"));
    assert_eq!(v("prometheus_target_scrape_pool_reloads_total"), 1.0, "only the changed job");
    assert_eq!(v("prometheus_target_scrape_pool_reloads_failed_total"), 0.0);
    assert_eq!(v("prometheus_target_scrape_pool_target_limit{scrape_job=\"limited\"}"), 0.0);
    assert_eq!(v("prometheus_target_reload_length_seconds_count{interval=\"1s\"}"), 1.0);
    assert!(!text.contains("scrape_job=\"labels\""), "a removed job's series go");
    assert!(!text.contains("config=\"labels\""));
    assert_eq!(v("prometheus_target_scrape_pools_total"), 4.0, "a reload creates no pool");
    server.stop().await.unwrap();
}

/// Family name -> (help, type) and sample name -> the label-name sets of its samples.
type Families = std::collections::BTreeMap<String, (String, String)>;
type LabelSets = std::collections::BTreeMap<String, std::collections::BTreeSet<Vec<String>>>;

/// Parses a text-format (0.0.4) exposition.
fn parse(text: &str) -> (Families, LabelSets) {
    let (mut families, mut labels) = (Families::new(), LabelSets::new());
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            families.entry(name.into()).or_default().0 = help.into();
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            families.entry(name.into()).or_default().1 = kind.into();
        } else if !line.starts_with('#') && !line.is_empty() {
            let end = line.find(['{', ' ']).unwrap();
            let mut names: Vec<String> = Vec::new();
            if line[end..].starts_with('{') {
                let body = &line[end + 1..line.rfind('}').unwrap()];
                // Label values here hold no `,` or `=` before their closing quote.
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    names.push(pair.split('=').next().unwrap().trim().to_string());
                }
            }
            names.sort();
            labels.entry(line[..end].into()).or_default().insert(names);
        }
    }
    (families, labels)
}

const COMPARED: [&str; 4] =
    ["prometheus_target_", "prometheus_sd_", "prometheus_http_", "promhttp_"];
/// Families of mechanisms Pharos does not implement (Azure), and the Kubernetes ones the
/// Debian build of Prometheus lacks.
const ONLY_PROMETHEUS: [&str; 1] = ["prometheus_sd_azure_failures_total"];
const ONLY_PHAROS: [&str; 1] = ["prometheus_sd_kubernetes_"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn families_match_prometheus_2_42() {
    let Some(prometheus) = support::external("prometheus") else { return };
    let target = target().await;
    let (pdir, xdir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for d in [pdir.path(), xdir.path()] {
        write_targets(d, &[target.to_string()]);
        std::fs::write(d.join("prometheus.yml"), config(d, target, 2, true)).unwrap();
    }
    let pport = free_port();
    let _prom = support::spawn(
        &prometheus,
        &[
            format!("--config.file={}", pdir.path().join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", pdir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{pport}"),
            "--web.enable-lifecycle".into(),
        ],
    );
    let xport = free_port();
    let server = Server::start(ServerOptions {
        listen_address: format!("127.0.0.1:{xport}"),
        storage_path: xdir.path().join("data"),
        config_file: Some(xdir.path().join("prometheus.yml")),
        ..ServerOptions::default()
    })
    .await
    .unwrap();
    let (pbase, xbase) = (format!("http://127.0.0.1:{pport}"), format!("http://127.0.0.1:{xport}"));
    let ready = |base: String| async move {
        let t = reqwest::get(format!("{base}/metrics")).await.ok()?.text().await.ok()?;
        let done = value(&t, "prometheus_target_interval_length_seconds_count{interval=\"1s\"}")?
            >= 2.0
            && value(&t, "prometheus_target_metadata_cache_entries{scrape_job=\"file\"}")? >= 2.0
            && value(&t, "prometheus_sd_http_failures_total")? >= 1.0;
        done.then_some(())
    };
    eventually(60, "Prometheus scraping", || ready(pbase.clone())).await;
    eventually(60, "Pharos scraping", || ready(xbase.clone())).await;
    // Both reload a changed `limited` and lose `labels`.
    for d in [pdir.path(), xdir.path()] {
        std::fs::write(d.join("prometheus.yml"), config(d, target, 3, false)).unwrap();
    }
    let client = reqwest::Client::new();
    let r = client.post(format!("{pbase}/-/reload")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    tokio::task::block_in_place(|| server.reload()).unwrap();
    let (ptext, xtext) = (metrics(&pbase).await, metrics(&xbase).await);

    let ((pfam, plabels), (xfam, xlabels)) = (parse(&ptext), parse(&xtext));
    let compared = |n: &str| COMPARED.iter().any(|p| n.starts_with(p));
    let mut diff = Vec::new();
    for (name, (help, kind)) in pfam.iter().filter(|(n, _)| compared(n)) {
        if ONLY_PROMETHEUS.contains(&name.as_str()) {
            continue;
        }
        match xfam.get(name) {
            None => diff.push(format!("missing in Pharos: {name} ({kind})")),
            Some((h, k)) if (h, k) != (help, kind) => {
                diff.push(format!("{name}: Prometheus {kind} {help:?}, Pharos {k} {h:?}"))
            }
            Some(_) => {}
        }
    }
    for name in xfam.keys().filter(|n| compared(n) && !pfam.contains_key(*n)) {
        if !ONLY_PHAROS.iter().any(|p| name.starts_with(p)) {
            diff.push(format!("only in Pharos: {name}"));
        }
    }
    for (sample, sets) in plabels.iter().filter(|(n, _)| compared(n)) {
        if let Some(x) = xlabels.get(sample)
            && x != sets
        {
            diff.push(format!("{sample}: labels {sets:?} in Prometheus, {x:?} in Pharos"));
        }
    }
    assert!(diff.is_empty(), "differences from Prometheus 2.42:\n{}", diff.join("\n"));
    // The same events give the same values (once both settled: Prometheus' discovery resets
    // discovered_targets to 0 on a reload until its next update, within 5 s).
    const SAME: [&str; 13] = [
        "prometheus_target_scrape_pools_total",
        "prometheus_target_scrape_pools_failed_total",
        "prometheus_target_scrape_pool_reloads_total",
        "prometheus_target_scrape_pool_targets{scrape_job=\"file\"}",
        "prometheus_target_scrape_pool_targets{scrape_job=\"limited\"}",
        "prometheus_target_scrape_pool_target_limit{scrape_job=\"limited\"}",
        "prometheus_target_metadata_cache_entries{scrape_job=\"file\"}",
        "prometheus_target_metadata_cache_bytes{scrape_job=\"file\"}",
        "prometheus_target_sync_failed_total{scrape_job=\"file\"}",
        "prometheus_sd_discovered_targets{config=\"file\",name=\"scrape\"}",
        "prometheus_sd_discovered_targets{config=\"httpsd\",name=\"scrape\"}",
        "prometheus_sd_failed_configs{name=\"scrape\"}",
        "prometheus_target_scrape_pool_exceeded_target_limit_total",
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (p, x) = (metrics(&pbase).await, metrics(&xbase).await);
        let differ: Vec<String> = SAME
            .iter()
            .filter(|s| value(&p, s) != value(&x, s))
            .map(|s| format!("{s}: Prometheus {:?}, Pharos {:?}", value(&p, s), value(&x, s)))
            .collect();
        if differ.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", differ.join("\n"));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    server.stop().await.unwrap();
}

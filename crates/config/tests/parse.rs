//! Parsing, defaults, errors and re-serialisation of whole configuration files.
#![allow(clippy::unwrap_used)]

use config::{ConfigError, Duration};

const FULL: &str = r#"
global:
  scrape_interval: 15s
  evaluation_interval: 30s
  external_labels:
    region: eu
rule_files:
  - rules/*.yml
alerting:
  alert_relabel_configs:
    - action: labeldrop
      regex: replica
  alertmanagers:
    - scheme: https
      path_prefix: /am
      api_version: v2
      basic_auth: {username: u, password: hunter2}
      tls_config: {insecure_skip_verify: true}
      static_configs: [{targets: ["am:9093"]}]
      file_sd_configs: [{files: [am.json]}]
scrape_configs:
  - job_name: node
    scrape_interval: 1h30m
    scrape_timeout: 1m
    metrics_path: /m
    scheme: https
    params: {module: [a, b]}
    honor_labels: true
    honor_timestamps: false
    authorization: {credentials: tok}
    body_size_limit: 10MB
    sample_limit: 1000
    label_limit: 10
    label_name_length_limit: 20
    label_value_length_limit: 30
    target_limit: 5
    static_configs:
      - targets: ["a:9100", "b:9100"]
        labels: {env: prod}
    file_sd_configs: [{files: ["sd/*.json"], refresh_interval: 1m}]
    http_sd_configs: [{url: "http://127.0.0.1:1/sd"}]
    dns_sd_configs: [{names: [_x._tcp.example], type: SRV}]
    kubernetes_sd_configs: [{role: pod, namespaces: {names: [default]}}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: instance
      - action: hashmod
        source_labels: [__address__]
        modulus: 4
        target_label: shard
    metric_relabel_configs:
      - action: drop
        source_labels: [__name__]
        regex: go_.*
  - job_name: defaults
    static_configs: [{targets: ["c:1"]}]
remote_write:
  - url: http://127.0.0.1:9/write
    name: rw
    headers: {X-Scope: a}
    basic_auth: {username: u, password_file: pw}
    write_relabel_configs: [{action: keep, source_labels: [__name__], regex: up}]
    queue_config: {max_shards: 10}
    metadata_config: {send: false}
remote_read:
  - url: http://127.0.0.1:9/read
    read_recent: true
storage:
  tsdb:
    out_of_order_time_window: 1w
"#;

#[test]
fn full_config_parses_with_every_field() {
    let c = config::parse(FULL, "p.yml").unwrap();
    assert_eq!(c.global.scrape_interval, Duration::from_secs(15));
    assert_eq!(c.global.scrape_timeout, Duration::from_secs(10));
    assert_eq!(c.global.external_labels["region"], "eu");
    let node = c.scrape_config("node").unwrap();
    assert_eq!(node.interval(), Duration(5_400_000));
    assert_eq!(node.timeout(), Duration::from_secs(60));
    assert_eq!(node.body_size_limit.0, 10 << 20);
    assert!(!node.honor_timestamps && node.honor_labels);
    assert_eq!(node.authorization.as_ref().unwrap().kind, "Bearer");
    assert_eq!(node.authorization.as_ref().unwrap().credentials.expose(), "tok");
    let compiled = config::compile_relabel_configs(&node.relabel_configs).unwrap();
    assert_eq!(compiled[1].modulus, 4);
    let d = c.scrape_config("defaults").unwrap();
    assert_eq!(d.interval(), Duration::from_secs(15), "inherited from global");
    assert_eq!(d.timeout(), Duration::from_secs(10));
    assert_eq!(d.metrics_path, "/metrics");
    assert_eq!(d.scheme, "http");
    assert!(d.honor_timestamps && d.follow_redirects && d.enable_http2);
    let am = &c.alerting.alertmanagers[0];
    assert_eq!((am.scheme.as_str(), am.path_prefix.as_str()), ("https", "/am"));
    assert_eq!(am.timeout, Duration::from_secs(10));
    assert_eq!(c.remote_write[0].queue_config.max_shards, 10);
    assert_eq!(c.remote_write[0].queue_config.capacity, 2500);
    assert!(!c.remote_write[0].metadata_config.send);
    assert_eq!(c.remote_read[0].remote_timeout, Duration::from_secs(60));
    assert_eq!(c.storage.tsdb.as_ref().unwrap().out_of_order_time_window, Duration(7 * 86_400_000));
}

#[test]
fn global_defaults() {
    let c = config::parse("", "empty.yml").unwrap();
    assert_eq!(c.global.scrape_interval, Duration::from_secs(60));
    assert_eq!(c.global.scrape_timeout, Duration::from_secs(10));
    assert_eq!(c.global.evaluation_interval, Duration::from_secs(60));
    let c = config::parse("global:\n  scrape_interval: 5s\nscrape_configs:\n- job_name: a\n", "x")
        .unwrap();
    assert_eq!(c.scrape_configs[0].timeout(), Duration::from_secs(5), "timeout capped at interval");
}

#[test]
fn unknown_field_reports_file_line_and_field() {
    let text = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n";
    let err = config::parse(text, "prom.yml").unwrap_err();
    match &err {
        ConfigError::Parse { file, line, msg } => {
            assert_eq!(file, "prom.yml");
            assert_eq!(*line, Some(5));
            assert!(msg.contains("scrape_intervall"), "{msg}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let shown = err.to_string();
    assert!(
        shown.contains("prom.yml")
            && shown.contains("line 5")
            && shown.contains("scrape_intervall"),
        "{shown}"
    );
}

#[test]
fn invalid_configs_are_rejected() {
    for (text, needle) in [
        ("scrape_configs:\n- job_name: a\n- job_name: a\n", "multiple scrape configs"),
        (
            "scrape_configs:\n- job_name: a\n  scrape_interval: 5s\n  scrape_timeout: 10s\n",
            "greater than scrape interval",
        ),
        ("scrape_configs:\n- job_name: a\n  scheme: ftp\n", "invalid scheme"),
        (
            "scrape_configs:\n- job_name: a\n  relabel_configs: [{action: hashmod, target_label: x}]\n",
            "non-zero modulus",
        ),
        (
            "scrape_configs:\n- job_name: a\n  relabel_configs: [{regex: '(', target_label: x}]\n",
            "regular expression",
        ),
        ("global: {scrape_interval: 1x}\n", "duration"),
        (
            "scrape_configs:\n- job_name: a\n  basic_auth: {username: u}\n  authorization: {credentials: c}\n",
            "at most one",
        ),
        ("remote_write: [{url: 'http://x/', headers: {Authorization: a}}]\n", "reserved header"),
        ("global: {external_labels: {'0a': b}}\n", "label name"),
    ] {
        let err = config::parse(text, "f.yml").unwrap_err().to_string();
        assert!(err.contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn reserialisation_hides_secrets_and_shows_defaults() {
    let c = config::parse(FULL, "p.yml").unwrap();
    let yaml = c.to_string();
    assert!(!yaml.contains("hunter2") && !yaml.contains("tok\n"), "{yaml}");
    assert!(yaml.contains("<secret>"));
    assert!(yaml.contains("scrape_interval: 1h30m"));
    assert!(yaml.contains("metrics_path: /metrics"));
    assert!(yaml.contains("out_of_order_time_window: 1w"));
    assert!(yaml.contains("body_size_limit: 10MiB"));
    // The output is itself a valid configuration with the same structure (secrets aside).
    let again = config::parse(&yaml, "again.yml").unwrap();
    assert_eq!(again.scrape_configs.len(), 2);
    assert_eq!(again.scrape_configs[0].relabel_configs, c.scrape_configs[0].relabel_configs);
}

#[test]
fn load_resolves_relative_paths_and_check_validates_rule_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("rules/a.yml"), "groups: []\n").unwrap();
    let cfg_path = dir.path().join("prometheus.yml");
    std::fs::write(&cfg_path, "rule_files: ['rules/*.yml']\nscrape_configs:\n- job_name: f\n  file_sd_configs: [{files: [t.json]}]\n").unwrap();
    let c = config::load(&cfg_path).unwrap();
    assert!(c.rule_files[0].starts_with(dir.path().to_str().unwrap()));
    let files = config::check(&cfg_path).unwrap();
    assert_eq!(files.len(), 1);
    std::fs::write(dir.path().join("rules/b.yml"), "groups: [\n").unwrap();
    assert!(config::check(&cfg_path).unwrap_err().to_string().contains("b.yml"));
    assert!(matches!(config::load(dir.path().join("missing.yml")), Err(ConfigError::Io { .. })));
}

/// The effective configuration prints exactly as Prometheus 2.42's `/api/v1/status/config`
/// printed it for the same file (captured from the real binary; Prometheus' stray
/// `outofordertimewindow` line, a Go marshalling bug, left out).
#[test]
fn status_config_matches_prometheus_output() {
    let input = include_str!("golden/status_config_input.yml");
    let want = include_str!("golden/status_config_prometheus_2.42.yml");
    let got = config::parse(input, "prometheus.yml").unwrap().to_string();
    assert_eq!(got, want);
}

#[test]
fn scrape_config_files_are_loaded() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yml"),
        "scrape_configs:\n- job_name: from_file\n  static_configs: [{targets: ['x:1']}]\n",
    )
    .unwrap();
    let p = dir.path().join("prometheus.yml");
    std::fs::write(&p, "scrape_config_files: ['*.yml']\nscrape_configs:\n- job_name: inline\n")
        .unwrap();
    // prometheus.yml itself matches the glob but has no valid scrape_configs-only shape.
    assert!(config::load(&p).is_err());
    std::fs::rename(dir.path().join("a.yml"), dir.path().join("a.scrape")).unwrap();
    std::fs::write(&p, "scrape_config_files: ['*.scrape']\nscrape_configs:\n- job_name: inline\n")
        .unwrap();
    let c = config::load(&p).unwrap();
    let jobs: Vec<&str> = c.scrape_configs.iter().map(|s| s.job_name.as_str()).collect();
    assert_eq!(jobs, ["inline", "from_file"]);
    assert_eq!(c.scrape_config("from_file").unwrap().interval(), Duration::from_secs(60));
    std::fs::write(
        &p,
        "scrape_config_files: ['*.scrape']\nscrape_configs:\n- job_name: from_file\n",
    )
    .unwrap();
    assert!(config::load(&p).unwrap_err().to_string().contains("multiple scrape configs"));
}

#[test]
fn check_validates_file_sd_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prometheus.yml");
    std::fs::write(
        &p,
        "scrape_configs:\n- job_name: f\n  file_sd_configs: [{files: ['*.json']}]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("ok.json"), r#"[{"targets": ["a:1"], "labels": {"x": "y"}}]"#)
        .unwrap();
    config::check(&p).unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"[{"targetz": ["a:1"]}]"#).unwrap();
    let err = config::check(&p).unwrap_err().to_string();
    assert!(err.contains("bad.json"), "{err}");
}

//! `/metrics` carries Prometheus' rule-manager metrics: per-group series labelled
//! `rule_group="<file>;<group>"` with sane values after a few evaluations, the duration
//! summaries, and a group's series gone once a reload removes the group.

#![allow(clippy::unwrap_used)]

mod support;

use server::{Server, ServerOptions};
use support::{eventually, free_port};

/// `kept` has a working rule and one over the group's limit of 1 series (fails every time).
const KEPT: &str = "  - name: kept\n    limit: 1\n    rules:\n      - record: one\n        expr: vector(1)\n      - record: two\n        expr: label_replace(vector(1), \"a\", \"x\", \"\", \"\") or vector(2)\n";
const REMOVED: &str = "  - name: removed\n    interval: 2s\n    rules:\n      - record: three\n        expr: vector(3)\n";

/// `/metrics` as a Prometheus scrape asks for it (OpenMetrics first; the answer is text 0.0.4).
async fn metrics(base: &str) -> String {
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let client = reqwest::Client::new();
    let resp = client.get(format!("{base}/metrics")).header("accept", accept).send().await;
    resp.unwrap().text().await.unwrap()
}

/// The value of `name{rule_group="<group>"}`, if exposed.
fn value(text: &str, name: &str, group: &str) -> Option<f64> {
    let prefix = format!("{name}{{rule_group=\"{group}\"}} ");
    text.lines().find_map(|l| l.strip_prefix(prefix.as_str())).map(|v| v.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_group_metrics_follow_evaluations_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        "global:\n  evaluation_interval: 1s\nrule_files: [rules.yml]\n",
    )
    .unwrap();
    let rules = dir.path().join("rules.yml");
    std::fs::write(&rules, format!("groups:\n{KEPT}{REMOVED}")).unwrap();
    let opts = ServerOptions {
        listen_address: format!("127.0.0.1:{port}"),
        storage_path: dir.path().join("data"),
        config_file: Some(dir.path().join("prometheus.yml")),
        ..ServerOptions::default()
    };
    let started_s = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    let server = Server::start(opts).await.unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let kept = format!("{};kept", rules.display());
    let removed = format!("{};removed", rules.display());

    let text = eventually(30, "two iterations of each group", || async {
        let t = metrics(&base).await;
        let done = value(&t, "prometheus_rule_group_iterations_total", &kept)? >= 2.0
            && value(&t, "prometheus_rule_group_iterations_total", &removed)? >= 2.0;
        done.then_some(t)
    })
    .await;
    let now_s = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    let v = |name: &str| value(&text, name, &kept).unwrap_or_else(|| panic!("{name}\n{text}"));
    let iterations = v("prometheus_rule_group_iterations_total");
    let missed = v("prometheus_rule_group_iterations_missed_total");
    let evaluations = v("prometheus_rule_evaluations_total");
    let failures = v("prometheus_rule_evaluation_failures_total");
    assert!(missed >= 0.0 && missed < iterations, "{text}");
    // The scrape may land mid-iteration: counters are within one iteration of each other.
    let executed = iterations - missed;
    assert!(evaluations >= 2.0 * (executed - 1.0) && evaluations <= 2.0 * executed, "{text}");
    assert!(failures >= executed - 1.0 && failures <= executed && failures >= 1.0, "{text}");
    assert_eq!(v("prometheus_rule_group_rules"), 2.0);
    assert_eq!(v("prometheus_rule_group_interval_seconds"), 1.0);
    assert_eq!(v("prometheus_rule_group_last_evaluation_samples"), 1.0, "{text}");
    let last = v("prometheus_rule_group_last_evaluation_timestamp_seconds");
    assert!(last >= started_s - 1.0 && last <= now_s, "{last} not in [{started_s}, {now_s}]");
    let dur = v("prometheus_rule_group_last_duration_seconds");
    assert!((0.0..1.0).contains(&dur), "{text}");
    assert_eq!(value(&text, "prometheus_rule_group_interval_seconds", &removed), Some(2.0));
    assert_eq!(value(&text, "prometheus_rule_group_rules", &removed), Some(1.0));
    assert_eq!(value(&text, "prometheus_rule_evaluation_failures_total", &removed), Some(0.0));
    for want in [
        "# TYPE prometheus_rule_evaluation_duration_seconds summary\n",
        "# HELP prometheus_rule_evaluation_duration_seconds The duration for a rule to execute.\n",
        "prometheus_rule_evaluation_duration_seconds{quantile=\"0.99\"} ",
        "# TYPE prometheus_rule_group_duration_seconds summary\n",
        "prometheus_rule_group_duration_seconds{quantile=\"0.01\"} ",
        "# TYPE prometheus_rule_evaluation_failures_total counter\n",
        "# HELP prometheus_rule_group_iterations_missed_total The total number of rule group evaluations missed due to slow rule group evaluation.\n",
    ] {
        assert!(text.contains(want), "missing {want:?}\n{text}");
    }
    let count = text
        .lines()
        .find_map(|l| l.strip_prefix("prometheus_rule_group_duration_seconds_count "))
        .unwrap();
    // Two iterations of each group have begun; the scrape may land in the second one of
    // either group, before its duration is observed (as in Prometheus, an iteration is
    // counted when it starts and timed when it ends).
    assert!(count.parse::<f64>().unwrap() >= 2.0, "{text}");
    assert!(!text.contains("# EOF"), "text 0.0.4 has no # EOF");

    // A reload that drops the group removes its series; the other group's stay.
    std::fs::write(&rules, format!("groups:\n{KEPT}")).unwrap();
    tokio::task::block_in_place(|| server.reload()).unwrap();
    let text = metrics(&base).await;
    assert!(!text.contains(&format!("rule_group=\"{removed}\"")), "{text}");
    assert!(value(&text, "prometheus_rule_group_iterations_total", &kept).unwrap() >= iterations);

    server.stop().await.unwrap();
}

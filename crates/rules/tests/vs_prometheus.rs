//! A real Prometheus and Pharos evaluate the same rule file over the same backfilled data
//! and must report the same alerts. Prometheus runs the group on its own schedule; a
//! recording rule (`eval_tick`) in the group reveals every evaluation timestamp, at which
//! Pharos then evaluates the group; `/api/v1/alerts` and the rule states must then agree.
//! The evaluation timestamps also confirm Pharos' slot alignment (hash of name and file).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use model::Labels;
use rules::{EngineQuery, GroupOptions, Manager, ManualClock, NullSink};
use serde_json::Value;
use storage::{Appendable, MemStorage};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

type Data = Vec<(Labels, Vec<(i64, f64)>)>;
type SeriesGen<'a> = (Vec<(&'a str, &'a str)>, Box<dyn Fn(i64) -> f64>);

/// One hour of 15 s samples ending shortly before now.
fn generate(end_s: i64) -> Data {
    let start = end_s - 3600;
    let series: Vec<SeriesGen> = vec![
        (vec![("__name__", "up"), ("job", "node"), ("instance", "n1:9100")], Box::new(|_| 0.0)),
        (vec![("__name__", "up"), ("job", "node"), ("instance", "n2:9100")], Box::new(|_| 1.0)),
        (
            vec![("__name__", "http_requests_total"), ("job", "api"), ("status", "200")],
            Box::new(|dt| 10.0 * dt as f64),
        ),
        (
            vec![("__name__", "http_requests_total"), ("job", "api"), ("status", "500")],
            Box::new(|dt| 0.5 * dt as f64),
        ),
        (
            vec![("__name__", "http_requests_total"), ("job", "web"), ("status", "200")],
            Box::new(|dt| 5.0 * dt as f64),
        ),
    ];
    series
        .into_iter()
        .map(|(l, f)| {
            let pts = (start..=end_s).step_by(15).map(|t| (t * 1000, f(t - start))).collect();
            (Labels::new(l), pts)
        })
        .collect()
}

fn openmetrics(data: &Data) -> String {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (labels, pts) in data {
        let name = labels.metric_name().unwrap().to_string();
        let ls: Vec<String> = labels
            .iter()
            .filter(|l| &*l.name != "__name__")
            .map(|l| format!("{}=\"{}\"", l.name, l.value))
            .collect();
        let lines = by_name.entry(name.clone()).or_default();
        for (t, v) in pts {
            lines.push(format!("{name}{{{}}} {v} {}", ls.join(","), t / 1000));
        }
    }
    let mut out = String::new();
    for (name, lines) in by_name {
        out.push_str(&format!("# TYPE {name} gauge\n"));
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out.push_str("# EOF\n");
    out
}

async fn get(client: &reqwest::Client, url: &str) -> Value {
    let v: Value = client.get(url).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["status"], "success", "{url}: {v}");
    v["data"].clone()
}

async fn ticks(client: &reqwest::Client, base: &str) -> Vec<i64> {
    let url = format!("{base}/api/v1/query?query=eval_tick%5B10m%5D");
    let data = get(client, &url).await;
    let Some(series) = data["result"].as_array().and_then(|r| r.first()) else { return Vec::new() };
    series["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap() * 1000.0).round() as i64)
        .collect()
}

/// Alerts keyed by labels: (state, activeAt truncated to ms, value, annotations).
fn normalise(alerts: &Value) -> BTreeMap<String, (String, i64, String, String)> {
    alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let active = chrono::DateTime::parse_from_rfc3339(a["activeAt"].as_str().unwrap())
                .unwrap()
                .timestamp_millis();
            (
                a["labels"].to_string(),
                (
                    a["state"].as_str().unwrap().to_string(),
                    active,
                    a["value"].as_str().unwrap().to_string(),
                    a["annotations"].to_string(),
                ),
            )
        })
        .collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_alerts_as_prometheus() {
    for bin in [PROMETHEUS, PROMTOOL] {
        if !Path::new(bin).exists() {
            assert!(
                std::env::var("PHAROS_REQUIRE_EXTERNAL").as_deref() != Ok("1"),
                "{bin} missing"
            );
            println!("skipped: {bin} not installed");
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let end_s = chrono::Utc::now().timestamp() - 5;
    let data = generate(end_s);
    let om = dir.path().join("data.om");
    std::fs::write(&om, openmetrics(&data)).unwrap();
    let tsdb = dir.path().join("tsdb");
    let st = Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&tsdb)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let rules_src = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/e2e/e2e.rules.yml");
    let rule_file = dir.path().join("e2e.rules.yml");
    std::fs::copy(&rules_src, &rule_file).unwrap();
    let cfg = dir.path().join("prometheus.yml");
    std::fs::write(
        &cfg,
        format!("global:\n  evaluation_interval: 1s\nrule_files: ['{}']\n", rule_file.display()),
    )
    .unwrap();
    let port = free_port();
    let external_url = "http://pharos.test/";
    let _prom = Proc(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", tsdb.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg(format!("--web.external-url={external_url}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    // Pharos' copy of the data and the group.
    let storage = MemStorage::new();
    let mut app = storage.appender();
    for (l, pts) in &data {
        for (t, v) in pts {
            app.append(0, l, *t, *v).unwrap();
        }
    }
    app.commit().unwrap();
    let engine = Arc::new(promql::Engine::new(promql::EngineOptions::default()));
    let opts = GroupOptions {
        query: Arc::new(EngineQuery::new(engine, Arc::new(storage.clone()))),
        appendable: Arc::new(storage.clone()),
        queryable: Arc::new(storage.clone()),
        sink: Arc::new(NullSink),
        clock: Arc::new(ManualClock::new(0)),
        external_labels: Labels::empty(),
        external_url: external_url.trim_end_matches('/').to_string(),
        resend_delay_ms: 60_000,
        outage_tolerance_ms: 3_600_000,
        for_grace_period_ms: 600_000,
        default_query_offset_ms: 0,
    };
    let file = rule_file.to_string_lossy().into_owned();
    let groups = Manager::load_groups(std::slice::from_ref(&file), 1_000, &opts, true).unwrap();

    // Snapshots of Prometheus' alerts and rules, each taken between two identical reads of the
    // evaluation timestamps; Pharos catches up on the new timestamps and must agree each time.
    // Early snapshots see InstanceDown pending (for: 3s), later ones firing.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut evaluated = 0;
    let mut states_seen = std::collections::BTreeSet::new();
    let prom_rules = loop {
        assert!(Instant::now() < deadline, "prometheus did not evaluate the rules in time");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let Ok(resp) = client.get(format!("{base}/-/ready")).send().await else { continue };
        if !resp.status().is_success() {
            continue;
        }
        let before = ticks(&client, &base).await;
        if before.len() <= evaluated {
            continue;
        }
        let prom_alerts = get(&client, &format!("{base}/api/v1/alerts")).await;
        let prom_rules = get(&client, &format!("{base}/api/v1/rules")).await;
        if ticks(&client, &base).await != before {
            continue;
        }
        for t in &before[evaluated..] {
            // Every tick is on the group's slot: the hash of its name and file decides the offset.
            let slot =
                rules::schedule::eval_timestamp_ns("e2e", &file, 1_000, t * 1_000_000 + 999_999);
            assert_eq!(slot.div_euclid(1_000_000), *t, "tick {t} is not on the group's slot");
            groups[0].eval(*t);
        }
        evaluated = before.len();
        let ours = serde_json::to_value(rules::api::alert_discovery(&groups)).unwrap();
        let (theirs, mine) = (normalise(&prom_alerts["alerts"]), normalise(&ours["alerts"]));
        assert_eq!(theirs.len(), 4, "expected 4 alerts from Prometheus: {prom_alerts}");
        assert_eq!(
            mine, theirs,
            "alerts differ after {evaluated} evaluations\nprometheus: {prom_alerts}\npharos: {ours}"
        );
        for (labels, (state, ..)) in &theirs {
            if labels.contains("InstanceDown") {
                states_seen.insert(state.clone());
            }
        }
        if evaluated >= 8 {
            break prom_rules;
        }
    };
    println!("InstanceDown states seen: {states_seen:?}");
    assert!(states_seen.contains("firing"), "{states_seen:?}");

    let rules_view =
        serde_json::to_value(rules::api::rule_discovery(&groups, &Default::default())).unwrap();
    // Everything but timings must agree (alerts were compared above).
    let states = |v: &Value| -> Vec<Value> {
        v["groups"][0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                let o = r.as_object_mut().unwrap();
                for k in ["evaluationTime", "lastEvaluation", "alerts"] {
                    o.remove(k);
                }
                // Prometheus 2.42 omits empty labels of recording rules; 3.x always writes them.
                if o["type"] == "recording"
                    && o.get("labels").is_some_and(|l| l == &serde_json::json!({}))
                {
                    o.remove("labels");
                }
                r
            })
            .collect()
    };
    assert_eq!(states(&rules_view), states(&prom_rules), "rule states differ");
}

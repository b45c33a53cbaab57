//! Golden responses of the router over the MemStorage fixture and fake views, in-process
//! (tower `oneshot`). Snapshots live in `tests/snapshots/`; each records status and body.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;

use api::*;
use axum::body::Body;
use axum::http::{Method, Request};
use common::*;
use model::{Labels, Matcher};
use storage::MemStorage;
use tower::ServiceExt;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn send(
    st: &ApiState,
    method: Method,
    uri: &str,
    ct: Option<&str>,
    body: Vec<u8>,
) -> (u16, String) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = ct {
        req = req.header("Content-Type", ct);
    }
    let req = req.body(Body::from(body)).unwrap();
    rt().block_on(async {
        let resp = router(st.clone()).oneshot(req).await.unwrap();
        let status = resp.status().as_u16();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8_lossy(&bytes).to_string())
    })
}

fn get(st: &ApiState, uri: &str) -> String {
    let (s, b) = send(st, Method::GET, uri, None, vec![]);
    format!("{s}\n{b}")
}

fn post_form(st: &ApiState, uri: &str, form: &str) -> String {
    let (s, b) = send(
        st,
        Method::POST,
        uri,
        Some("application/x-www-form-urlencoded"),
        form.as_bytes().to_vec(),
    );
    format!("{s}\n{b}")
}

fn t(off: f64) -> String {
    format!("{}", T0 as f64 + off)
}

#[test]
fn query_endpoints() {
    let st = state(mem_storage());
    let cases = [
        ("grafana_health", "/api/v1/query?query=1%2B1&time=4".to_string()),
        (
            "vector_limit",
            format!("/api/v1/query?query=http_requests_total&time={}&limit=2", t(30.5)),
        ),
        ("scalar_big", format!("/api/v1/query?query=1e22&time={}", t(0.5))),
        ("string", "/api/v1/query?query=%22a%3Cb%22&time=1.5".into()),
        ("special_values", format!("/api/v1/query?query=temperature%20%2F%200&time={}", t(30.5))),
        (
            "range",
            format!("/api/v1/query_range?query=up&start={}&end={}&step=60", t(0.5), t(180.5)),
        ),
        (
            "range_limit",
            format!(
                "/api/v1/query_range?query=up&start={}&end={}&step=1m&limit=1",
                t(0.5),
                t(60.5)
            ),
        ),
        ("bad_start", "/api/v1/query_range?query=up&start=x&end=1&step=1".into()),
        ("end_before_start", "/api/v1/query_range?query=up&start=2&end=1&step=1".into()),
        ("too_many_points", "/api/v1/query_range?query=up&start=0&end=11001&step=1".into()),
        ("zero_step", "/api/v1/query_range?query=up&start=0&end=1&step=0".into()),
        ("bad_step", "/api/v1/query_range?query=up&start=0&end=1&step=1x".into()),
        ("bad_time", "/api/v1/query?query=up&time=yesterday".into()),
        ("bad_timeout", "/api/v1/query?query=up&timeout=soon".into()),
        ("bad_lookback", "/api/v1/query?query=up&lookback_delta=x".into()),
        ("bad_limit", "/api/v1/query?query=up&limit=-1".into()),
        ("lookback", format!("/api/v1/query?query=up&time={}&lookback_delta=1s", t(7.5))),
        ("format_query", "/api/v1/format_query?query=sum(rate(x%5B5m%5D))by(job)".into()),
        ("exemplars", "/api/v1/query_exemplars?query=up&start=0&end=10".into()),
        ("exemplars_bad_range", "/api/v1/query_exemplars?query=up&start=10&end=0".into()),
    ];
    for (name, uri) in cases {
        insta::assert_snapshot!(format!("query_{name}"), get(&st, &uri));
    }
    insta::assert_snapshot!(
        "query_post_form",
        post_form(&st, "/api/v1/query", &format!("query=sum(up)&time={}", t(30.5)))
    );
    insta::assert_snapshot!(
        "query_range_post_form",
        post_form(
            &st,
            "/api/v1/query_range",
            &format!("query=sum(up)&start={}&end={}&step=30", t(0.5), t(60.5))
        )
    );
    // Engine errors: the wording is the engine's; the envelope, type and status are ours.
    let errors = [
        (
            "/api/v1/query?query=sum(up".to_string(),
            400,
            "bad_data",
            "invalid parameter \"query\": ",
        ),
        (
            "/api/v1/format_query?query=sum(".to_string(),
            400,
            "bad_data",
            "invalid parameter \"query\": ",
        ),
        (
            format!(
                "/api/v1/query?query=label_replace(up,%22job%22,%22x%22,%22%22,%22%22)%20%2B%20on()%20up&time={}",
                t(30.5)
            ),
            422,
            "execution",
            "found duplicate series",
        ),
    ];
    for (uri, code, typ, prefix) in errors {
        let (status, body) = send(&st, Method::GET, &uri, None, vec![]);
        assert_eq!(status, code, "{uri}: {body}");
        let want = format!(
            r#"{{"status":"error","errorType":"{typ}","error":"{}"#,
            prefix.replace('"', "\\\"")
        );
        assert!(body.starts_with(&want), "{uri}: {body} does not start with {want}");
    }
    let uri = format!(
        "/api/v1/query_range?query=sum(rate(http_requests_total%5B1h%5D))&start={}&end={}&step=1&timeout=0.000000001",
        t(0.5),
        t(3000.5)
    );
    let (status, body) = send(&st, Method::GET, &uri, None, vec![]);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""errorType":"timeout""#), "{body}");
    let (status, body) = send(&st, Method::GET, "/api/v1/query?query=up&stats=true", None, vec![]);
    assert_eq!(status, 200);
    assert!(
        body.contains(r#""stats":{"timings":{"#) && body.contains(r#""totalQueryableSamples":"#),
        "{body}"
    );
}

#[test]
fn metadata_endpoints() {
    let st = state(mem_storage());
    let cases = [
        ("series", "/api/v1/series?match[]=up".to_string()),
        ("series_multi", "/api/v1/series?match[]=up&match[]=%7Bjob%3D%22api%22%7D".into()),
        ("series_limit", "/api/v1/series?match[]=up&limit=1".into()),
        ("series_none", "/api/v1/series".into()),
        ("series_out_of_range", "/api/v1/series?match[]=up&start=0&end=1".into()),
        ("labels", "/api/v1/labels".into()),
        ("labels_limit", "/api/v1/labels?limit=2".into()),
        ("labels_match", "/api/v1/labels?match[]=temperature".into()),
        ("label_values", "/api/v1/label/room/values".into()),
        (
            "label_values_match",
            "/api/v1/label/job/values?match[]=up%7Binstance%3D%22a%22%7D".into(),
        ),
        ("label_values_limit", "/api/v1/label/__name__/values?limit=1".into()),
        ("label_values_bad_start", "/api/v1/label/job/values?start=x".into()),
        ("unknown_endpoint", "/api/v1/nope".into()),
    ];
    for (name, uri) in cases {
        insta::assert_snapshot!(format!("meta_{name}"), get(&st, &uri));
    }
    insta::assert_snapshot!("meta_labels_post", post_form(&st, "/api/v1/labels", "match[]=up"));
    // Selector errors: the wording is the PromQL parser's; the envelope and type are ours.
    for uri in
        ["/api/v1/series?match[]=rate(up%5B5m%5D)", "/api/v1/series?match[]=%7Bjob%3D~%22.*%22%7D"]
    {
        let (status, body) = send(&st, Method::GET, uri, None, vec![]);
        assert_eq!(status, 400, "{uri}");
        assert!(body.starts_with(r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": "#), "{body}");
    }
}

struct FakeViews;

fn alert(state: &str) -> Alert {
    Alert {
        labels: Labels::new([("alertname", "High"), ("severity", "page")]),
        annotations: Labels::new([("summary", "x > 1 <b>")]),
        state: state.into(),
        active_at: Some(GoTime(Some(1_700_000_000_123))),
        keep_firing_since: None,
        value: format_alert_value(2.5),
    }
}

impl RulesView for FakeViews {
    fn rule_groups(&self) -> Vec<RuleGroup> {
        vec![
            RuleGroup {
                name: "g1".into(),
                file: "/etc/rules/a.yml".into(),
                rules: vec![
                    Rule::Recording(RecordingRule {
                        name: "job:up:sum".into(),
                        query: "sum by (job) (up)".into(),
                        labels: Labels::new([("team", "a")]),
                        health: "ok".into(),
                        last_error: String::new(),
                        evaluation_time: 0.000_25,
                        last_evaluation: GoTime(Some(1_700_000_001_000)),
                    }),
                    Rule::Alerting(AlertingRule {
                        state: "firing".into(),
                        name: "High".into(),
                        query: "x > 1".into(),
                        duration: 300.0,
                        keep_firing_for: 0.0,
                        labels: Labels::new([("severity", "page")]),
                        annotations: Labels::new([("summary", "x > 1 <b>")]),
                        alerts: Some(vec![alert("firing")]),
                        health: "err".into(),
                        last_error: "boom".into(),
                        evaluation_time: 0.5,
                        last_evaluation: GoTime(None),
                    }),
                ],
                interval: 15.0,
                limit: 0,
                evaluation_time: 0.75,
                last_evaluation: GoTime(Some(1_700_000_001_000)),
            },
            RuleGroup {
                name: "g2".into(),
                file: "/etc/rules/b.yml".into(),
                rules: vec![Rule::Recording(RecordingRule {
                    name: "other".into(),
                    query: "vector(1)".into(),
                    labels: Labels::empty(),
                    health: "unknown".into(),
                    last_error: String::new(),
                    evaluation_time: 0.0,
                    last_evaluation: GoTime(None),
                })],
                interval: 60.0,
                limit: 10,
                evaluation_time: 0.0,
                last_evaluation: GoTime(None),
            },
        ]
    }
}

impl TargetsView for FakeViews {
    fn scrape_pools(&self) -> Vec<String> {
        vec!["b".into(), "a".into()]
    }
    fn active_targets(&self) -> Vec<ActiveTarget> {
        ["b", "a"]
            .iter()
            .map(|pool| ActiveTarget {
                discovered_labels: Labels::new([("__address__", "127.0.0.1:9100")]),
                labels: Labels::new([("instance", "127.0.0.1:9100"), ("job", pool)]),
                scrape_pool: pool.to_string(),
                scrape_url: "http://127.0.0.1:9100/metrics".into(),
                global_url: "http://host:9100/metrics".into(),
                last_error: String::new(),
                last_scrape: GoTime(Some(1_700_000_000_500)),
                last_scrape_duration: 0.012,
                health: "up".into(),
                scrape_interval: "15s".into(),
                scrape_timeout: "10s".into(),
            })
            .collect()
    }
    fn dropped_targets(&self) -> Vec<DroppedTarget> {
        vec![DroppedTarget {
            discovered_labels: Labels::new([("__address__", "10.0.0.1:80")]),
            scrape_pool: "a".into(),
        }]
    }
    fn target_metadata(&self) -> Vec<(Labels, Vec<MetricMetadata>)> {
        let md = |name: &str, typ: &str| MetricMetadata {
            metric_family: name.into(),
            typ: typ.into(),
            help: format!("{name} help"),
            unit: String::new(),
        };
        vec![
            (
                Labels::new([("instance", "x"), ("job", "a")]),
                vec![md("up", "gauge"), md("reqs", "counter")],
            ),
            (Labels::new([("instance", "y"), ("job", "b")]), vec![md("up", "gauge")]),
        ]
    }
}

impl AlertmanagersView for FakeViews {
    fn active(&self) -> Vec<String> {
        vec!["http://127.0.0.1:9093/api/v2/alerts".into()]
    }
    fn dropped(&self) -> Vec<String> {
        vec![]
    }
}

#[derive(Default)]
struct FakeTsdb {
    deleted: Mutex<Vec<(Vec<Matcher>, i64, i64)>>,
}

impl TsdbView for FakeTsdb {
    fn status(&self, limit: usize) -> Result<TsdbStatus, String> {
        Ok(TsdbStatus {
            head_stats: HeadStats {
                num_series: 9,
                num_label_pairs: 12,
                chunk_count: 9,
                min_time: 1,
                max_time: 2,
            },
            series_count_by_metric_name: vec![TsdbStat {
                name: "http_requests_total".into(),
                value: 4,
            }]
            .into_iter()
            .take(limit)
            .collect(),
            ..TsdbStatus::default()
        })
    }
    fn wal_replay(&self) -> Result<WalReplayStatus, String> {
        Ok(WalReplayStatus { min: 0, max: 3, current: 3 })
    }
    fn snapshot(&self, skip_head: bool) -> Result<String, String> {
        Ok(format!("20231114T221320Z-{}", u8::from(skip_head)))
    }
    fn delete_series(&self, m: &[Matcher], mint: i64, maxt: i64) -> Result<(), String> {
        self.deleted.lock().unwrap().push((m.to_vec(), mint, maxt));
        Ok(())
    }
    fn clean_tombstones(&self) -> Result<(), String> {
        Err("disk full".into())
    }
}

impl ConfigView for FakeViews {
    fn config_yaml(&self) -> String {
        "global:\n  scrape_interval: 15s\n".into()
    }
    fn flags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("web.enable-admin-api".into(), "true".into()),
            ("storage.tsdb.path".into(), "data/".into()),
        ])
    }
    fn runtime_info(&self) -> RuntimeInfo {
        let mut r = NoViews.runtime_info();
        r.start_time = GoTime(Some(1_700_000_000_000));
        r.hostname = "host".into();
        r.storage_retention = "15d".into();
        r
    }
}

fn view_state() -> (ApiState, Arc<FakeTsdb>) {
    let mut st = state(MemStorage::new());
    let tsdb = Arc::new(FakeTsdb::default());
    st.rules = Arc::new(FakeViews);
    st.targets = Arc::new(FakeViews);
    st.alertmanagers = Arc::new(FakeViews);
    st.config = Arc::new(FakeViews);
    st.tsdb = tsdb.clone();
    (st, tsdb)
}

#[test]
fn view_endpoints() {
    let (st, _) = view_state();
    let cases = [
        ("rules", "/api/v1/rules"),
        ("rules_record", "/api/v1/rules?type=record"),
        ("rules_alert_excluded", "/api/v1/rules?type=alert&exclude_alerts=true"),
        ("rules_by_name", "/api/v1/rules?rule_name[]=other"),
        ("rules_by_group_and_file", "/api/v1/rules?rule_group[]=g1&file[]=/etc/rules/b.yml"),
        ("rules_bad_type", "/api/v1/rules?type=x"),
        ("alerts", "/api/v1/alerts"),
        ("scrape_pools", "/api/v1/scrape_pools"),
        ("targets", "/api/v1/targets"),
        ("targets_active_pool", "/api/v1/targets?state=active&scrapePool=a"),
        ("targets_dropped", "/api/v1/targets?state=dropped"),
        ("targets_metadata", "/api/v1/targets/metadata?match_target=%7Bjob%3D%22a%22%7D"),
        ("targets_metadata_metric", "/api/v1/targets/metadata?metric=up"),
        ("metadata", "/api/v1/metadata"),
        ("metadata_limit", "/api/v1/metadata?limit=1"),
        ("metadata_bad_limit", "/api/v1/metadata?limit=x"),
        ("alertmanagers", "/api/v1/alertmanagers"),
        ("status_config", "/api/v1/status/config"),
        ("status_flags", "/api/v1/status/flags"),
        ("status_runtimeinfo", "/api/v1/status/runtimeinfo"),
        ("status_buildinfo", "/api/v1/status/buildinfo"),
        ("status_tsdb", "/api/v1/status/tsdb"),
        ("status_tsdb_bad_limit", "/api/v1/status/tsdb?limit=0"),
        ("status_walreplay", "/api/v1/status/walreplay"),
    ];
    for (name, uri) in cases {
        insta::assert_snapshot!(format!("view_{name}"), get(&st, uri));
    }
}

#[test]
fn admin_endpoints() {
    let (mut st, tsdb) = view_state();
    let disabled = send(&st, Method::POST, "/api/v1/admin/tsdb/snapshot", None, vec![]);
    insta::assert_snapshot!("admin_disabled", format!("{}\n{}", disabled.0, disabled.1));
    st.flags.enable_admin = true;
    insta::assert_snapshot!(
        "admin_snapshot",
        post_form(&st, "/api/v1/admin/tsdb/snapshot", "skip_head=true")
    );
    insta::assert_snapshot!(
        "admin_snapshot_bad",
        post_form(&st, "/api/v1/admin/tsdb/snapshot", "skip_head=maybe")
    );
    let del = post_form(&st, "/api/v1/admin/tsdb/delete_series", "match[]=up&start=1&end=2");
    assert_eq!(del, "204\n");
    assert_eq!(tsdb.deleted.lock().unwrap().len(), 1);
    assert_eq!(tsdb.deleted.lock().unwrap()[0].1, 1000);
    insta::assert_snapshot!(
        "admin_delete_no_match",
        post_form(&st, "/api/v1/admin/tsdb/delete_series", "")
    );
    insta::assert_snapshot!(
        "admin_clean_error",
        post_form(&st, "/api/v1/admin/tsdb/clean_tombstones", "")
    );
    let (s, _) = send(&st, Method::GET, "/api/v1/admin/tsdb/snapshot", None, vec![]);
    assert_eq!(s, 405);
}

#[test]
fn federation() {
    let mut st = state(mem_storage());
    st.external_labels =
        Arc::new(|| Labels::new([("cluster", "c1"), ("job", "ignored-if-present")]));
    insta::assert_snapshot!(
        "federate",
        get(&st, "/federate?match[]=up&match[]=%7B__name__%3D%22temperature%22%7D")
    );
    let (status, body) = send(&st, Method::GET, "/federate?match[]=sum(up)", None, vec![]);
    assert_eq!(status, 400);
    assert!(body.contains("parse error"), "{body}");
    // Nothing within the lookback window before "now": empty.
    st.clock = Arc::new(|| (T0 + POINTS * STEP + 3600) * 1000);
    assert_eq!(get(&st, "/federate?match[]=up"), "200\n");
}

struct CountingLifecycle(Mutex<Vec<&'static str>>, bool);

impl Lifecycle for CountingLifecycle {
    fn reload(&self) -> Result<(), String> {
        self.0.lock().unwrap().push("reload");
        if self.1 { Err("bad config".into()) } else { Ok(()) }
    }
    fn quit(&self) {
        self.0.lock().unwrap().push("quit");
    }
}

#[test]
fn lifecycle_and_readiness() {
    let mut st = state(mem_storage());
    assert_eq!(get(&st, "/-/healthy"), "200\nPrometheus Server is Healthy.\n");
    assert_eq!(get(&st, "/-/ready"), "200\nPrometheus Server is Ready.\n");
    assert_eq!(
        send(&st, Method::POST, "/-/reload", None, vec![]),
        (403, "Lifecycle API is not enabled.".into())
    );
    assert_eq!(get(&st, "/-/quit"), "405\nOnly POST or PUT requests allowed");
    let lc = Arc::new(CountingLifecycle(Mutex::new(vec![]), false));
    st.lifecycle = lc.clone();
    st.flags.enable_lifecycle = true;
    assert_eq!(send(&st, Method::POST, "/-/reload", None, vec![]).0, 200);
    assert_eq!(
        send(&st, Method::PUT, "/-/quit", None, vec![]),
        (200, "Requesting termination... Goodbye!".into())
    );
    assert_eq!(
        send(&st, Method::POST, "/-/quit", None, vec![]),
        (200, "Termination already in progress.".into())
    );
    assert_eq!(*lc.0.lock().unwrap(), vec!["reload", "quit"]);
    st.lifecycle = Arc::new(CountingLifecycle(Mutex::new(vec![]), true));
    assert_eq!(
        send(&st, Method::POST, "/-/reload", None, vec![]),
        (500, "failed to reload config: bad config\n".into())
    );

    st.ready.store(false, std::sync::atomic::Ordering::Release);
    assert_eq!(get(&st, "/-/ready"), "503\nService Unavailable");
    assert_eq!(get(&st, "/api/v1/query?query=up"), "503\nService Unavailable");
    assert_eq!(get(&st, "/federate?match[]=up"), "503\nService Unavailable");
    assert_eq!(get(&st, "/-/healthy"), "200\nPrometheus Server is Healthy.\n");
    assert_eq!(get(&st, "/nope"), "404\n404 page not found\n");
}

#[test]
fn agent_mode_refuses_queries() {
    let mut st = state(mem_storage());
    st.flags.agent = true;
    insta::assert_snapshot!("agent_query", get(&st, "/api/v1/query?query=up"));
    assert!(get(&st, "/api/v1/status/buildinfo").starts_with("200\n"));
    assert!(get(&st, "/api/v1/targets").starts_with("200\n"));
}

#[test]
fn remote_write_receiver() {
    use remote::codec::{encode_write_request, labels_to_proto};
    use remote::proto::{Sample, TimeSeries, WriteRequest};
    let storage = MemStorage::new();
    let mut st = state(storage.clone());
    st.appendable = Some(Arc::new(storage.clone()));
    let body = |samples: &[(&str, i64)]| {
        encode_write_request(&WriteRequest {
            timeseries: samples
                .iter()
                .map(|(name, t)| TimeSeries {
                    labels: labels_to_proto(&Labels::new([("__name__", *name)])),
                    samples: vec![Sample { value: 1.0, timestamp: *t }],
                    exemplars: vec![],
                })
                .collect(),
            metadata: vec![],
        })
    };
    let ct = Some("application/x-protobuf");
    let off = send(&st, Method::POST, "/api/v1/write", ct, body(&[("a", 1000)]));
    assert_eq!(off.0, 404, "{off:?}");
    st.flags.enable_remote_write_receiver = true;
    assert_eq!(send(&st, Method::POST, "/api/v1/write", ct, body(&[("a", 1000)])).0, 204);
    let ooo = send(&st, Method::POST, "/api/v1/write", ct, body(&[("b", 1000), ("a", 500)]));
    assert_eq!(ooo, (400, "out of order sample\n".into()));
    assert_eq!(storage.num_series(), 1, "nothing from the rejected request is stored");
    let bad = send(&st, Method::POST, "/api/v1/write", ct, b"garbage".to_vec());
    assert_eq!(bad.0, 400);
    let bad_proto = send(
        &st,
        Method::POST,
        "/api/v1/write",
        ct,
        remote::codec::snappy_encode(b"\x0a\xff\xff\xff\xff\x0f"),
    );
    assert_eq!(bad_proto.0, 400);
    let wrong_type =
        send(&st, Method::POST, "/api/v1/write", Some("application/json"), body(&[("c", 1)]));
    assert_eq!(wrong_type.0, 415);
    // The server is unaffected: a good request still works.
    assert_eq!(send(&st, Method::POST, "/api/v1/write", ct, body(&[("c", 1000)])).0, 204);
    assert_eq!(storage.num_series(), 2);
    // Remote write 2.0: symbol references, written-samples header.
    {
        use prost::Message;
        use remote::proto_v2::{Request as R2, Sample as S2, TimeSeries as T2};
        let req = R2 {
            symbols: vec!["".into(), "__name__".into(), "v2_metric".into()],
            timeseries: vec![T2 {
                labels_refs: vec![1, 2],
                samples: vec![S2 { value: 7.0, timestamp: 2000 }],
                ..T2::default()
            }],
        };
        let body = remote::codec::snappy_encode(&req.encode_to_vec());
        let v2 = "application/x-protobuf;proto=io.prometheus.write.v2.Request";
        let mut r = Request::builder().method(Method::POST).uri("/api/v1/write");
        r = r.header("Content-Type", v2).header("Content-Encoding", "snappy");
        let resp =
            rt().block_on(router(st.clone()).oneshot(r.body(Body::from(body)).unwrap())).unwrap();
        assert_eq!(resp.status().as_u16(), 204);
        assert_eq!(resp.headers()["X-Prometheus-Remote-Write-Samples-Written"], "1");
        assert_eq!(storage.num_series(), 3);
        let wrong = send(
            &st,
            Method::POST,
            "/api/v1/write",
            Some("application/x-protobuf;proto=x.Y"),
            vec![],
        );
        assert_eq!(wrong.0, 415);
    }
    // Bodies over the limit are refused.
    st.flags.max_body_bytes = 16;
    assert_eq!(send(&st, Method::POST, "/api/v1/write", ct, vec![0; 1024]).0, 413);
}

#[test]
fn cors_and_compression() {
    let st = state(mem_storage());
    let call = |method: Method, headers: &[(&str, &str)]| {
        let mut r = Request::builder().method(method).uri("/api/v1/labels");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        rt().block_on(router(st.clone()).oneshot(r.body(Body::empty()).unwrap())).unwrap()
    };
    let pre = call(Method::OPTIONS, &[("Origin", "http://grafana")]);
    assert_eq!(pre.status().as_u16(), 204);
    assert_eq!(pre.headers()["Access-Control-Allow-Origin"], "*");
    assert_eq!(pre.headers()["Access-Control-Allow-Methods"], "GET, POST, OPTIONS");
    let plain = call(Method::GET, &[]);
    assert!(plain.headers().get("Access-Control-Allow-Origin").is_none());
    let gz = call(Method::GET, &[("Accept-Encoding", "gzip")]);
    assert_eq!(gz.headers()["Content-Encoding"], "gzip");
    let mut restricted = st.clone();
    restricted.flags.cors_origin = "https://ok\\.example".into();
    let r = Request::builder()
        .uri("/api/v1/labels")
        .header("Origin", "https://evil.example")
        .body(Body::empty())
        .unwrap();
    let resp = rt().block_on(router(restricted).oneshot(r)).unwrap();
    assert!(resp.headers().get("Access-Control-Allow-Origin").is_none());
}

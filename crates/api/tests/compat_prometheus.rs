//! The same requests sent to Pharos' router and to the real Prometheus on the same data (the
//! fixture backfilled with promtool into Prometheus, loaded into a MemStorage for Pharos):
//! HTTP bodies must be byte-identical, and `promtool query instant|range|series|labels` must
//! print the same. Evaluation times avoid sample timestamps (Prometheus 3's left-open ranges
//! differ from the 2.x oracle exactly there).

#![allow(clippy::unwrap_used)]

mod common;

use common::*;

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn start() -> Option<Pair> {
    Pair::start(state(mem_storage()))
}

fn at(offset_s: f64) -> String {
    format!("{}", T0 as f64 + offset_s)
}

#[test]
fn http_responses_are_identical() {
    let Some(p) = start() else { return };
    let t1 = at(1000.5);
    let t2 = at(3590.25);
    let mut paths: Vec<String> = Vec::new();
    for q in [
        "up",
        "http_requests_total",
        "temperature",
        "rate(http_requests_total[5m])",
        "sum by (job) (rate(http_requests_total[5m]))",
        "count_over_time(up[10m])",
        "topk(2, temperature)",
        "scalar(sum(up))",
        "max(temperature) / 3",
        "http_requests_total{code=~\"5..\"} offset 10m",
        "absent(nonexistent)",
        "vector(1)",
        "\"a string\"",
        "timestamp(up)",
        "up @ 1700000600",
        "nonexistent_metric",
        "1e-7 * temperature",
        "-temperature",
        "temperature > 1e21",
        "label_replace(up, \"x\", \"<$1>&\", \"job\", \"(.*)\")",
    ] {
        for t in [&t1, &t2] {
            paths.push(format!("/api/v1/query?query={}&time={t}", enc(q)));
        }
    }
    paths.push("/api/v1/query?query=1%2B1&time=4".into());
    paths.push(format!("/api/v1/query?query=up&time={}", enc("2023-11-14T22:30:00.5Z")));
    paths.push(format!(
        "/api/v1/query_range?query=up&start={}&end={}&step=300",
        enc("2023-11-14T22:13:20.5Z"),
        enc("2023-11-14T22:53:20.5+00:00")
    ));
    for (q, step) in [
        ("rate(http_requests_total[1m])", "60"),
        ("up", "30s"),
        ("sum(temperature)", "1m30s"),
        ("deriv(temperature[5m])", "120"),
    ] {
        paths.push(format!(
            "/api/v1/query_range?query={}&start={}&end={}&step={step}",
            enc(q),
            at(100.5),
            at(1900.5)
        ));
    }
    let (s, e) = (at(0.0), at(600.0));
    for m in ["up", "{job=\"api\"}", "{__name__=~\"temp.*\"}"] {
        paths.push(format!("/api/v1/series?match[]={}&start={s}&end={e}", enc(m)));
    }
    paths.push(format!("/api/v1/series?match[]=up&match[]={}", enc("{job=\"web\"}")));
    paths.push("/api/v1/labels".into());
    paths.push(format!("/api/v1/labels?match[]=up&start={s}&end={e}"));
    paths.push("/api/v1/label/job/values".into());
    paths.push("/api/v1/label/__name__/values".into());
    paths.push(format!("/api/v1/label/room/values?match[]={}", enc("temperature{room!=\"sun\"}")));
    paths.push("/api/v1/label/nonexistent/values".into());
    paths.push("/api/v1/alerts".into());
    paths.push("/api/v1/rules".into());
    paths.push("/api/v1/alertmanagers".into());
    for path in &paths {
        let a = http_get(&format!("{}{path}", p.pharos.url())).unwrap();
        let b = http_get(&format!("{}{path}", p.prom.url())).unwrap();
        assert_eq!(a, b, "GET {path}");
    }
    // The same through form POST (Grafana's default).
    let posts = [
        (
            "/api/v1/query",
            format!("query={}&time={t1}", enc("sum by (job) (rate(http_requests_total[5m]))")),
        ),
        ("/api/v1/query_range", format!("query=up&start={s}&end={e}&step=60")),
        ("/api/v1/series", format!("match[]=up&match[]={}&start={s}", enc("temperature"))),
        ("/api/v1/labels", "match[]=up".to_string()),
    ];
    for (path, form) in posts {
        let a = http("POST", &format!("{}{path}", p.pharos.url()), Some(&form)).unwrap();
        let b = http("POST", &format!("{}{path}", p.prom.url()), Some(&form)).unwrap();
        assert_eq!(a, b, "POST {path} {form}");
    }
}

#[test]
fn errors_have_the_same_status_type_and_message() {
    let Some(p) = start() else { return };
    let cases = [
        "/api/v1/query_range?query=up&start=x&end=10&step=1".to_string(),
        "/api/v1/query_range?query=up&start=10&end=5&step=1".into(),
        "/api/v1/query_range?query=up&start=0&end=100000&step=1".into(),
        "/api/v1/query_range?query=up&start=0&end=10&step=0".into(),
        "/api/v1/query_range?query=up&start=0&end=10&step=-5".into(),
        "/api/v1/query_range?query=up&start=0&end=10&step=x".into(),
        "/api/v1/query?query=sum(up".into(),
        "/api/v1/query_range?query=sum(up&start=0&end=10&step=1".into(),
        "/api/v1/series".into(),
        "/api/v1/series?match[]=%7B%7D".into(),
        "/api/v1/admin/tsdb/snapshot".into(),
        "/api/v1/nonexistent".into(),
    ];
    for path in &cases {
        let a = http_get(&format!("{}{path}", p.pharos.url())).unwrap();
        let b = http_get(&format!("{}{path}", p.prom.url())).unwrap();
        assert_eq!(a.0, b.0, "status of {path}: pharos {a:?} prometheus {b:?}");
        if b.0 != 404 && b.0 != 405 {
            let ja: serde_json::Value = serde_json::from_str(&a.1).unwrap();
            let jb: serde_json::Value = serde_json::from_str(&b.1).unwrap();
            assert_eq!(ja["errorType"], jb["errorType"], "{path}");
            assert_eq!(ja["status"], jb["status"], "{path}");
        }
    }
    // A parse error names the `query` parameter for an instant query only (2.42's range
    // handler returns the engine's error as it is); the parser's own wording may differ.
    for path in &cases[6..8] {
        let a = http_get(&format!("{}{path}", p.pharos.url())).unwrap();
        let b = http_get(&format!("{}{path}", p.prom.url())).unwrap();
        let named = |body: &str| {
            let j: serde_json::Value = serde_json::from_str(body).unwrap();
            j["error"].as_str().unwrap_or("").starts_with("invalid parameter \"query\": ")
        };
        assert_eq!(named(&a.1), named(&b.1), "{path}: pharos {} prometheus {}", a.1, b.1);
    }
    // Messages Prometheus words identically in 2.42 and 3.x.
    for path in &cases[1..4] {
        let a = http_get(&format!("{}{path}", p.pharos.url())).unwrap();
        let b = http_get(&format!("{}{path}", p.prom.url())).unwrap();
        assert_eq!(a.1, b.1, "{path}");
    }
}

#[test]
fn promtool_prints_the_same() {
    let Some(p) = start() else { return };
    let (pharos, prom) = (p.pharos.url(), p.prom.url());
    let t = at(2000.5);
    let (s, e) = (at(60.5), at(1860.5));
    let cases: Vec<Vec<String>> = vec![
        vec!["instant".into(), "--time".into(), t.clone(), "{server}".into(), "up".into()],
        vec![
            "instant".into(),
            "--time".into(),
            t.clone(),
            "{server}".into(),
            "sum by (job) (rate(http_requests_total[5m]))".into(),
        ],
        vec!["instant".into(), "--time".into(), t.clone(), "{server}".into(), "temperature".into()],
        vec![
            "instant".into(),
            "-o".into(),
            "json".into(),
            "--time".into(),
            t.clone(),
            "{server}".into(),
            "http_requests_total".into(),
        ],
        vec![
            "range".into(),
            "--start".into(),
            s.clone(),
            "--end".into(),
            e.clone(),
            "--step".into(),
            "1m".into(),
            "{server}".into(),
            "rate(http_requests_total[2m])".into(),
        ],
        vec![
            "range".into(),
            "--start".into(),
            s.clone(),
            "--end".into(),
            e.clone(),
            "--step".into(),
            "45s".into(),
            "{server}".into(),
            "up == 0".into(),
        ],
        vec![
            "series".into(),
            "--match".into(),
            "up".into(),
            "--start".into(),
            s.clone(),
            "--end".into(),
            e.clone(),
            "{server}".into(),
        ],
        vec![
            "series".into(),
            "--match".into(),
            "{job=\"api\"}".into(),
            "--match".into(),
            "temperature".into(),
            "--start".into(),
            s.clone(),
            "{server}".into(),
        ],
        vec!["labels".into(), "--start".into(), s.clone(), "{server}".into(), "job".into()],
        vec![
            "labels".into(),
            "--start".into(),
            s.clone(),
            "--end".into(),
            e.clone(),
            "{server}".into(),
            "__name__".into(),
        ],
        vec![
            "labels".into(),
            "--match".into(),
            "temperature".into(),
            "--start".into(),
            s.clone(),
            "{server}".into(),
            "room".into(),
        ],
    ];
    for case in cases {
        let run = |server: &str| {
            let mut args = vec!["query".to_string()];
            args.extend(case.iter().map(|a| a.replace("{server}", server)));
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            promtool(&refs)
        };
        let (ok_a, out_a) = run(&pharos);
        let (ok_b, out_b) = run(&prom);
        assert!(ok_b, "promtool against Prometheus failed: {case:?}: {out_b}");
        assert!(!out_b.trim().is_empty(), "{case:?}");
        assert_eq!((ok_a, out_a), (ok_b, out_b), "promtool query {case:?}");
    }
}

/// Requests on which the random comparison (`compat_random.rs`) found Pharos answering
/// differently, each fixed: same status, content type and body, byte for byte.
#[test]
fn differences_found_by_the_random_comparison_stay_fixed() {
    let Some(p) = start() else { return };
    let get = |path: &str| ("GET", path.to_string(), None::<&str>);
    let cases = [
        // Times: Go 1.19 reads at most nine fraction digits, one-digit hours, ',' fractions;
        // 1e400 is no float; 1e19 wraps to 0 ms; Prometheus' maxTime text; capital "Invalid".
        get("/api/v1/query?query=time()&time=2023-11-14T22:13:20.1234567891Z"),
        get("/api/v1/query?query=time()&time=2023-11-14T2:13:20,25Z"),
        get("/api/v1/query?query=time()&time=2023-11-14T22:13:20.5%2B99:99"),
        get("/api/v1/query?query=time()&time=1e400"),
        get("/api/v1/query?query=time()&time=1e19"),
        get("/api/v1/query?query=time()&time=0x1p30"),
        get("/api/v1/query?query=time()&time=1_700_000_000.5"),
        get("/api/v1/query?query=time()&time=NaN"),
        get("/api/v1/labels?end=292277025-08-18T07:12:54.999999999Z"),
        get("/api/v1/labels?start=2023-11-14t22:13:20z"),
        get("/api/v1/query_range?query=time()&start=0&end=1e11&step=1000000"),
        get("/api/v1/query_range?query=time()&start=1700000000&end=1700000060&step=1e400"),
        // An end whose UnixNano wraps (after 2262) evaluates no step.
        get("/api/v1/query_range?query=vector(time())&start=-1.5&end=00253402300799&step=1y"),
        // Forms: a bad escape drops the pair; /series reports it.
        get("/api/v1/series?match[]=up&x=%zz"),
        get("/api/v1/series?match[]=up;x=1"),
        get("/api/v1/query?query=up%zz&time=1700000100.5"),
        // Selectors as ParseMetricSelector reads them.
        get("/api/v1/series?match[]=%7Bjob%3D~%22%22%7D"),
        get("/api/v1/series?match[]=up%7B__name__!~%22x%22%7D&start=1700000000&end=1700003600"),
        get("/api/v1/labels?match[]="),
        get("/api/v1/query?query="),
        get("/api/v1/query?time=1"),
        // A step under a millisecond.
        get("/api/v1/query_range?query=1&start=0&end=1&step=0.0005"),
        get("/api/v1/query_range?query=%22s%22&start=0&end=1&step=0.0005"),
        // Routes: 405 text, DELETE /series, scrape pools.
        ("PATCH", "/api/v1/labels".to_string(), None),
        ("POST", "/api/v1/label/job/values".to_string(), None),
        ("DELETE", "/api/v1/series".to_string(), None),
        get("/api/v1/scrape_pools"),
        get("/api/v1/targets"),
        // Stats without a deprecation warning; numbers in format_query as Go prints them.
        get("/api/v1/query?query=1&time=1700000100.5&stats=1"),
        get("/api/v1/format_query?query=1e-7%20*%20up%20%3E%201e21"),
        get("/api/v1/format_query?query=123456789.125"),
    ];
    for (method, path, form) in cases {
        let a = http(method, &format!("{}{path}", p.pharos.url()), form).unwrap();
        let b = http(method, &format!("{}{path}", p.prom.url()), form).unwrap();
        assert_eq!(a.0, b.0, "status of {method} {path}: pharos {a:?} prometheus {b:?}");
        if !path.contains("stats=") {
            assert_eq!(a.1, b.1, "{method} {path}");
            continue;
        }
        // The stats hold timings: compared without them (and everything else exactly).
        let without_stats = |s: &str| {
            let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
            v["data"].as_object_mut().unwrap().remove("stats");
            v
        };
        assert_eq!(without_stats(&a.1), without_stats(&b.1), "{method} {path}");
    }
}

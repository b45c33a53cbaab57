//! Interoperability with the real Prometheus: blocks written by Pharos pass `promtool tsdb
//! list/analyze/dump` and serve the same data from a real Prometheus; data written by
//! Prometheus (backfilled blocks and a live server's WAL) opens in Pharos with every sample.
//! Skipped when the binaries are missing, unless `PHAROS_REQUIRE_EXTERNAL=1`.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use model::{Labels, MatchType, Matcher};
use storage::{Queryable, collect_samples};
use tsdb::{BlockWriter, Db, Options};

type Dump = Vec<(String, i64, u64)>;

fn tool(name: &str) -> Option<PathBuf> {
    let p = PathBuf::from("/usr/bin").join(name);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("PHAROS_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
        panic!("{name} not installed");
    }
    println!("skipped: {name} not installed");
    None
}

/// Canonical float bits: every NaN but the stale marker compares as one NaN.
fn vbits(v: f64) -> u64 {
    if v.is_nan() && !model::value::is_stale_nan(v) { f64::NAN.to_bits() } else { v.to_bits() }
}

fn parse_go_float(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        _ => s.parse().unwrap(),
    }
}

/// `promtool tsdb dump DIR`, parsed. (Go prints the stale marker as NaN too.)
fn promtool_dump(promtool: &Path, dir: &Path) -> Dump {
    let out = Command::new(promtool).args(["tsdb", "dump"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "promtool dump: {}", String::from_utf8_lossy(&out.stderr));
    let mut d: Dump = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (rest, ts) = l.rsplit_once(' ').unwrap();
            let (labels, v) = rest.rsplit_once(' ').unwrap();
            let v = parse_go_float(v);
            (
                labels.to_string(),
                ts.parse().unwrap(),
                if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() },
            )
        })
        .collect();
    d.sort();
    d
}

fn pharos_dump(db: &Db) -> Dump {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchType::Regex, "__name__", ".+").unwrap();
    let mut d = Dump::new();
    for s in q.select(true, None, &[m]).unwrap() {
        let mut s = s.unwrap();
        for x in collect_samples(s.samples.as_mut()).unwrap() {
            let v = if x.v.is_nan() { f64::NAN.to_bits() } else { vbits(x.v) };
            d.push((s.labels.to_string(), x.t, v));
        }
    }
    d.sort();
    d
}

const BASE: i64 = 1_700_000_000_000 / 7_200_000 * 7_200_000;

/// Writes a varied data set with Pharos' BlockWriter: several metrics, irregular timestamps,
/// special values, over three 2-hour blocks.
fn write_pharos_blocks(dir: &Path) -> Vec<(Labels, i64, f64)> {
    let mut w = BlockWriter::new(dir, 7_200_000).unwrap();
    let mut all = Vec::new();
    for s in 0..40 {
        let labels = Labels::new([
            ("__name__", format!("metric_{}", s % 4).as_str()),
            ("instance", &format!("host-{s}:9100")),
            ("job", if s % 2 == 0 { "node" } else { "api" }),
            ("path", &"/x".repeat(s % 3 + 1)),
        ]);
        let mut t = BASE + (s as i64) * 7;
        let mut v = s as f64 * 1.25;
        for i in 0..700 {
            let val = match i % 97 {
                13 => f64::INFINITY,
                14 => f64::NEG_INFINITY,
                15 => model::value::stale_nan(),
                _ => v,
            };
            w.append(&labels, t, val).unwrap();
            all.push((labels.clone(), t, val));
            v += (i % 7) as f64 * 0.1 + 1.0 / (s as f64 + 3.0);
            t += 15_000 + (i % 5) as i64 * 1000 - 2000;
        }
    }
    let metas = w.flush().unwrap();
    assert!(metas.len() >= 2);
    all
}

#[test]
fn pharos_blocks_pass_promtool() {
    let Some(promtool) = tool("promtool") else { return };
    let dir = tempfile::tempdir().unwrap();
    write_pharos_blocks(dir.path());

    let out = Command::new(&promtool).args(["tsdb", "list"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs = String::from_utf8(out.stdout).unwrap();
    assert_eq!(tsdb::cli::list(dir.path()).unwrap(), theirs);

    let out = Command::new(&promtool).args(["tsdb", "analyze"]).arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs = String::from_utf8(out.stdout).unwrap();
    let ours = tsdb::cli::analyze(dir.path(), 20).unwrap();
    let head = |s: &str| s.lines().take(6).map(str::to_string).collect::<Vec<_>>();
    assert_eq!(head(&ours), head(&theirs));

    let db = Db::open(dir.path(), Options { retention_ms: 0, ..Options::default() }).unwrap();
    let ours = pharos_dump(&db);
    assert_eq!(ours.len(), 40 * 700);
    assert_eq!(promtool_dump(&promtool, dir.path()), ours);
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(port: u16, path_and_query: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200")
        .then(|| body.to_string())
        .or_else(|| head.starts_with("HTTP/1.1 200").then(|| body.to_string()))
}

fn start_prometheus(prom: &Path, data: &Path, config: &str, extra: &[&str]) -> (Server, u16) {
    let port = free_port();
    let cfg = data.parent().unwrap().join(format!("prom-{port}.yml"));
    std::fs::write(&cfg, config.replace("PORT", &port.to_string())).unwrap();
    let child = Command::new(prom)
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--storage.tsdb.retention.time=100y")
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(60);
    while http_get(port, "/-/ready").is_none() {
        assert!(Instant::now() < deadline, "prometheus did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    (server, port)
}

#[test]
fn prometheus_serves_pharos_blocks() {
    let Some(prom) = tool("prometheus") else { return };
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let all = write_pharos_blocks(&data);
    let (server, port) = start_prometheus(&prom, &data, "global: {}\n", &[]);
    // A range selector over all the data returns every raw sample.
    let maxt = all.iter().map(|x| x.1).max().unwrap();
    let secs = maxt as f64 / 1000.0;
    let q = format!("/api/v1/query?query=metric_1%7Bjob%3D%22api%22%7D%5B1d%5D&time={secs}");
    let body = http_get(port, &q).expect("query failed");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let result = v["data"]["result"].as_array().unwrap();
    let mut theirs: Vec<(String, i64, u64)> = Vec::new();
    for r in result {
        let labels = Labels::new(
            r["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())),
        );
        for p in r["values"].as_array().unwrap() {
            let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
            let v = parse_go_float(p[1].as_str().unwrap());
            theirs.push((
                labels.to_string(),
                t,
                if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() },
            ));
        }
    }
    theirs.sort();
    let mut ours: Vec<(String, i64, u64)> = all
        .iter()
        .filter(|(l, _, _)| l.get("__name__") == Some("metric_1") && l.get("job") == Some("api"))
        .filter(|(_, t, _)| *t > maxt - 86_400_000)
        // Prometheus drops stale markers from range selectors.
        .filter(|(_, _, v)| !model::value::is_stale_nan(*v))
        .map(|(l, t, v)| {
            (l.to_string(), *t, if v.is_nan() { f64::NAN.to_bits() } else { v.to_bits() })
        })
        .collect();
    ours.sort();
    assert!(!theirs.is_empty());
    assert_eq!(theirs, ours);
    drop(server);
}

/// A Pharos data directory whose blocks compaction re-encoded densely exports to blocks that
/// promtool reads with every sample bit for bit.
#[test]
fn export_of_dense_compacted_blocks_passes_promtool() {
    let Some(promtool) = tool("promtool") else { return };
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let mut w = BlockWriter::new(&data, 7_200_000).unwrap();
    for s in 0..12 {
        let labels = Labels::new([("__name__", "m"), ("s", &s.to_string())]);
        for i in 0..2000i64 {
            let v = match (s, i % 89) {
                (_, 7) => model::value::stale_nan(),
                (0, _) => (i as f64).ln_1p(),
                _ => (i * s) as f64 / 100.0,
            };
            w.append(&labels, BASE + i * 15_000 + i % 3, v).unwrap();
        }
    }
    w.flush().unwrap();
    let db = Db::open(&data, Options { retention_ms: 0, ..Options::default() }).unwrap();
    db.maintain(0).unwrap();
    assert!(db.blocks().iter().any(|b| b.compaction.level > 1), "{:?}", db.blocks());
    let want = pharos_dump(&db);
    assert_eq!(want.len(), 12 * 2000);
    let out = root.path().join("export");
    db.export(&out).unwrap();
    let list = Command::new(&promtool).args(["tsdb", "list"]).arg(&out).output().unwrap();
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    // promtool's dump opens the directory as a database, WAL included.
    std::fs::create_dir_all(out.join("wal")).unwrap();
    assert_eq!(promtool_dump(&promtool, &out), want);

    // A real Prometheus serves the exported blocks: every raw sample of one series.
    let Some(prom) = tool("prometheus") else { return };
    let (server, port) = start_prometheus(&prom, &out, "global: {}\n", &[]);
    let at = (BASE + 2000 * 15_000) as f64 / 1000.0;
    let body = http_get(port, &format!("/api/v1/query?query=m%7Bs%3D%220%22%7D%5B1d%5D&time={at}"))
        .expect("query failed");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let theirs: Vec<(i64, u64)> = v["data"]["result"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
            (t, vbits(parse_go_float(p[1].as_str().unwrap())))
        })
        .collect();
    let ours: Vec<(i64, u64)> = want
        .iter()
        .filter(|(l, _, _)| l.contains("s=\"0\""))
        // Prometheus drops stale markers from range selectors.
        .filter(|(_, _, v)| *v != model::value::stale_nan().to_bits() && *v != vbits(f64::NAN))
        .map(|(_, t, v)| (*t, *v))
        .collect();
    assert_eq!(theirs.len(), 2000 - 2000usize.div_ceil(89));
    assert_eq!(theirs, ours);
    drop(server);
}

#[test]
fn promtool_backfilled_blocks_open_in_pharos() {
    let Some(promtool) = tool("promtool") else { return };
    let root = tempfile::tempdir().unwrap();
    let input = root.path().join("in.om");
    let mut text = String::new();
    text.push_str("# TYPE http_requests counter\n");
    for i in 0..5 {
        for k in 0..600 {
            let t = BASE / 1000 + k * 30;
            let v = (k * (i + 1)) as f64 + 0.5;
            text.push_str(&format!(
                "http_requests_total{{code=\"{}\",handler=\"/h{i}\"}} {v} {t}\n",
                200 + i
            ));
        }
    }
    text.push_str("# TYPE temp gauge\n");
    for k in 0..300 {
        text.push_str(&format!(
            "temp{{room=\"a\"}} {} {}.5\n",
            -1.0 / (k as f64 + 1.0),
            BASE / 1000 + k * 61
        ));
    }
    text.push_str("# EOF\n");
    std::fs::write(&input, text).unwrap();
    let data = root.path().join("data");
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // promtool's read-only open wants a WAL directory.
    std::fs::create_dir_all(data.join("wal")).unwrap();
    let theirs = promtool_dump(&promtool, &data);
    assert_eq!(theirs.len(), 5 * 600 + 300);
    let out = Command::new(&promtool).args(["tsdb", "list"]).arg(&data).output().unwrap();
    assert!(out.status.success());
    assert_eq!(tsdb::cli::list(&data).unwrap(), String::from_utf8(out.stdout).unwrap());
    let db = Db::open(&data, Options { retention_ms: 0, ..Options::default() }).unwrap();
    assert!(!db.blocks().is_empty());
    assert_eq!(pharos_dump(&db), theirs);
}

#[test]
fn prometheus_wal_opens_in_pharos() {
    let Some(prom) = tool("prometheus") else { return };
    let Some(promtool) = tool("promtool") else { return };
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let cfg = "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n    static_configs:\n      - targets: ['127.0.0.1:PORT']\n";
    // Tiny block ranges make Prometheus cut blocks and checkpoint its WAL within seconds, so
    // the directory holds blocks, a checkpoint, WAL segments and m-mapped head chunks.
    let (server, port) = start_prometheus(
        &prom,
        &data,
        cfg,
        &["--storage.tsdb.min-block-duration=3s", "--storage.tsdb.max-block-duration=3s"],
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let blocks = std::fs::read_dir(&data)
            .unwrap()
            .flatten()
            .filter(|e| e.path().join("meta.json").exists())
            .count();
        let checkpoint = std::fs::read_dir(data.join("wal"))
            .map(|rd| {
                rd.flatten().any(|e| e.file_name().to_string_lossy().starts_with("checkpoint."))
            })
            .unwrap_or(false);
        if blocks >= 2 && checkpoint {
            break;
        }
        assert!(Instant::now() < deadline, "prometheus did not cut blocks");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(http_get(port, "/-/ready").is_some());
    // Stop it gracefully so it finishes writing, then compare.
    let pid = server.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let mut server = server;
    server.0.wait().unwrap();
    let theirs = promtool_dump(&promtool, &data);
    assert!(theirs.len() > 100);
    let db = Db::open(&data, Options { retention_ms: 0, ..Options::default() }).unwrap();
    let ours = pharos_dump(&db);
    assert_eq!(ours.len(), theirs.len());
    assert_eq!(ours, theirs);
}

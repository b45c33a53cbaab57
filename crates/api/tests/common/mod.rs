//! Test fixtures: a deterministic data set written both as OpenMetrics (for `promtool tsdb
//! create-blocks-from openmetrics`) and into a `MemStorage`; Pharos' router served on
//! 127.0.0.1; a real Prometheus started on a backfilled data directory.

#![allow(dead_code, clippy::unwrap_used)]

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use api::{ApiState, router};
use model::Labels;
use storage::{Appendable, MemStorage};

pub const PROMETHEUS: &str = "/usr/bin/prometheus";
pub const PROMTOOL: &str = "/usr/bin/promtool";

/// First sample time of the fixture (seconds).
pub const T0: i64 = 1_700_000_000;
/// Sample interval (seconds) and count per series.
pub const STEP: i64 = 15;
pub const POINTS: i64 = 240;

pub fn have(binary: &str) -> bool {
    if Path::new(binary).exists() {
        return true;
    }
    if std::env::var("PHAROS_REQUIRE_EXTERNAL").as_deref() == Ok("1") {
        panic!("{binary} not installed and PHAROS_REQUIRE_EXTERNAL=1");
    }
    println!("skipped: {binary} not installed");
    false
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One family: name, type, and series as (labels without name, value at point i).
type Family =
    (&'static str, &'static str, Vec<(Vec<(&'static str, String)>, fn(i64, usize) -> f64)>);

fn counter(i: i64, k: usize) -> f64 {
    // Increasing with a reset in the middle for series 1.
    let base = (i * (k as i64 + 1) * 3) as f64;
    if k == 1 && i >= 120 { base - 360.0 } else { base }
}

fn gauge(i: i64, k: usize) -> f64 {
    match k {
        0 => 20.0 + (i % 17) as f64 * 0.1,
        1 => 1.5e-7 * (i + 1) as f64,
        _ => 1e22 + i as f64,
    }
}

fn up(i: i64, k: usize) -> f64 {
    if k == 1 && (100..110).contains(&i) { 0.0 } else { 1.0 }
}

fn families() -> Vec<Family> {
    let s = |v: &str| v.to_string();
    vec![
        (
            "http_requests_total",
            "counter",
            vec![
                (vec![("code", s("200")), ("instance", s("a")), ("job", s("api"))], counter),
                (vec![("code", s("500")), ("instance", s("a")), ("job", s("api"))], counter),
                (vec![("code", s("200")), ("instance", s("b")), ("job", s("web"))], counter),
                (vec![("code", s("500")), ("instance", s("b")), ("job", s("web"))], counter),
            ],
        ),
        (
            "temperature",
            "gauge",
            vec![
                (vec![("room", s("kitchen"))], gauge),
                (vec![("room", s("living<room>&\"q\""))], gauge),
                (vec![("room", s("sun"))], gauge),
            ],
        ),
        (
            "up",
            "gauge",
            vec![
                (vec![("instance", s("a")), ("job", s("api"))], up),
                (vec![("instance", s("b")), ("job", s("web"))], up),
            ],
        ),
    ]
}

fn om_escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The fixture as OpenMetrics text.
pub fn openmetrics() -> String {
    let mut out = String::new();
    for (name, typ, series) in families() {
        let family = name.strip_suffix("_total").unwrap_or(name);
        writeln!(out, "# TYPE {family} {typ}").unwrap();
        for (k, (labels, f)) in series.iter().enumerate() {
            let ls: Vec<String> =
                labels.iter().map(|(n, v)| format!("{n}=\"{}\"", om_escape(v))).collect();
            for i in 0..POINTS {
                let v = f(i, k);
                writeln!(out, "{name}{{{}}} {v:?} {}", ls.join(","), T0 + i * STEP).unwrap();
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// The fixture in a MemStorage.
pub fn mem_storage() -> MemStorage {
    let s = MemStorage::new();
    let mut app = s.appender();
    for (name, _, series) in families() {
        for (k, (labels, f)) in series.iter().enumerate() {
            let mut pairs: Vec<(&str, &str)> = vec![("__name__", name)];
            pairs.extend(labels.iter().map(|(n, v)| (*n, v.as_str())));
            let l = Labels::new(pairs);
            for i in 0..POINTS {
                app.append(0, &l, (T0 + i * STEP) * 1000, f(i, k)).unwrap();
            }
        }
    }
    app.commit().unwrap();
    s
}

/// An ApiState over the fixture with a fixed clock.
pub fn state(storage: MemStorage) -> ApiState {
    let engine = Arc::new(promql::Engine::new(promql::EngineOptions::default()));
    let mut st = ApiState::new(Arc::new(storage), engine);
    st.clock = Arc::new(|| (T0 + POINTS * STEP) * 1000);
    st
}

/// Pharos' router served on 127.0.0.1 in a background runtime.
pub struct Pharos {
    pub port: u16,
    _rt: tokio::runtime::Runtime,
}

impl Pharos {
    pub fn serve(state: ApiState) -> Pharos {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        rt.spawn(async move { axum::serve(listener, router(state)).await });
        Pharos { port, _rt: rt }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Prometheus 2.42 and Pharos side by side on the same data set (Prometheus on the backfilled
/// directory, which lives as long as the pair).
pub struct Pair {
    pub pharos: Pharos,
    pub prom: Prometheus,
    _dir: tempfile::TempDir,
}

impl Pair {
    /// Starts both, Pharos serving `st` (its storage [`mem_storage`]); `None` when Prometheus
    /// or promtool is not installed.
    pub fn start(st: ApiState) -> Option<Pair> {
        if !have(PROMETHEUS) || !have(PROMTOOL) {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let data = backfill(dir.path());
        let prom = Prometheus::start(dir.path(), &data, "global:\n  scrape_interval: 1h\n", &[]);
        let pharos = Pharos::serve(st);
        Some(Pair { pharos, prom, _dir: dir })
    }
}

pub struct Prometheus {
    pub port: u16,
    child: Option<Child>,
}

impl Prometheus {
    /// Starts Prometheus on `data` with `config`; waits until ready.
    pub fn start(dir: &Path, data: &Path, config: &str, extra: &[&str]) -> Prometheus {
        Prometheus::start_on(dir, data, config, free_port(), extra)
    }

    /// As [`Prometheus::start`] on a given port.
    pub fn start_on(
        dir: &Path,
        data: &Path,
        config: &str,
        port: u16,
        extra: &[&str],
    ) -> Prometheus {
        let cfg = dir.join("prometheus.yml");
        std::fs::write(&cfg, config).unwrap();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=100y")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let p = Prometheus { port, child: Some(child) };
        wait_until(Duration::from_secs(60), || {
            matches!(http_get(&format!("{}/-/ready", p.url())), Some((200, _)))
        });
        p
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Backfills the fixture into `dir/data` with promtool.
pub fn backfill(dir: &Path) -> PathBuf {
    let om = dir.join("fixture.om");
    std::fs::write(&om, openmetrics()).unwrap();
    let data = dir.join("data");
    let out = Command::new(PROMTOOL)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&om)
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool backfill failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    data
}

pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "condition not met within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET` or form `POST` over HTTP/1.0 with std only; returns (status, body).
pub fn http(method: &str, url: &str, form: Option<&str>) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}")))?;
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(60))).ok()?;
    let body = form.unwrap_or("");
    let ct =
        if form.is_some() { "Content-Type: application/x-www-form-urlencoded\r\n" } else { "" };
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: {host}\r\n{ct}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let buf = String::from_utf8_lossy(&buf).to_string();
    let status = buf.split(' ').nth(1)?.parse().ok()?;
    let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

pub fn http_get(url: &str) -> Option<(u16, String)> {
    http("GET", url, None)
}

/// Runs promtool with args and returns (success, stdout + stderr).
pub fn promtool(args: &[&str]) -> (bool, String) {
    let out = Command::new(PROMTOOL).args(args).output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).to_string();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

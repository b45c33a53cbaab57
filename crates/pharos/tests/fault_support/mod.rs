//! Helpers for the fault tests (`faults_*.rs`): start the real `pharos server` binary on a free
//! port with its log in a file, kill it with SIGKILL or stop it, send remote writes, and read
//! samples back over the HTTP API.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use remote::proto::{Label, Sample, TimeSeries, WriteRequest};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Polls `f` every 100 ms until it returns `Some`, or panics after `secs` with `what`.
pub fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out after {secs} s waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A `pharos server` process, killed on drop. Its stderr (the log) goes to `log`, appended
/// across restarts so a test can look for what an earlier run reported.
pub struct Pharos {
    child: Option<Child>,
    pub port: u16,
    pub base: String,
    pub log: PathBuf,
    args: Vec<String>,
}

impl Pharos {
    /// Starts `pharos server` with `--web.listen-address` on a free port, `--storage.tsdb.path`
    /// set to `data` and the extra `args`, and waits until `/-/ready` answers 200.
    pub fn start(data: &Path, log: &Path, args: &[String]) -> Pharos {
        let port = free_port();
        let mut all = vec![
            "server".to_string(),
            format!("--web.listen-address=127.0.0.1:{port}"),
            format!("--storage.tsdb.path={}", data.display()),
        ];
        all.extend(args.iter().cloned());
        let mut p = Pharos {
            child: None,
            port,
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_path_buf(),
            args: all,
        };
        p.spawn();
        p.wait_ready();
        p
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_pharos"))
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// Waits (30 s at most) until `/-/ready` answers 200; panics if the process exits first.
    pub fn wait_ready(&mut self) {
        let url = format!("{}/-/ready", self.base);
        let client = client();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if client.get(&url).send().is_ok_and(|r| r.status() == 200) {
                return;
            }
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "pharos server exited with {status} before it was ready; log:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "pharos server not ready after 30 s; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, as a crash or the OOM killer would, and reap the process.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the same command again on the same port and data directory and waits until ready.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
        self.wait_ready();
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `/api/v1/query` at `t_ms`; the `data` object of a success, or the error body.
    pub fn query(&self, q: &str, t_ms: i64) -> serde_json::Value {
        let t = format!("{:.3}", t_ms as f64 / 1000.0);
        let r = client()
            .get(format!("{}/api/v1/query", self.base))
            .query(&[("query", q), ("time", &t)])
            .send()
            .unwrap();
        let v: serde_json::Value = r.json().unwrap();
        assert_eq!(v["status"], "success", "query {q} failed: {v}");
        v["data"].clone()
    }

    /// The samples of one series over `[from_ms, to_ms]` (a range-vector selector at `to_ms`),
    /// as (timestamp ms, value).
    pub fn raw_samples(&self, selector: &str, from_ms: i64, to_ms: i64) -> Vec<(i64, f64)> {
        let range = (to_ms - from_ms).max(1);
        let data = self.query(&format!("{selector}[{range}ms]"), to_ms);
        let Some(series) = data["result"].as_array() else { panic!("not a matrix: {data}") };
        assert!(series.len() <= 1, "{selector} matched {} series", series.len());
        let Some(s) = series.first() else { return Vec::new() };
        s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                (t, p[1].as_str().unwrap().parse().unwrap())
            })
            .collect()
    }

    /// The value of a single-sample instant query, `None` when its result is empty.
    pub fn scalar(&self, q: &str, t_ms: i64) -> Option<f64> {
        let data = self.query(q, t_ms);
        let v = data["result"].as_array()?.first()?["value"][1].as_str()?.parse().ok()?;
        Some(v)
    }

    /// POSTs a remote-write 1.0 request; the HTTP status, or `None` if the server did not
    /// answer (down, killed mid-request).
    pub fn remote_write(&self, req: &WriteRequest) -> Option<u16> {
        post_write(&client(), &self.base, req)
    }
}

impl Drop for Pharos {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A blocking client with a short timeout, so a dead server fails a request quickly.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

/// POSTs a remote-write 1.0 request to `base`.
pub fn post_write(
    client: &reqwest::blocking::Client,
    base: &str,
    req: &WriteRequest,
) -> Option<u16> {
    let body = remote::codec::encode_write_request(req);
    client
        .post(format!("{base}/api/v1/write"))
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()
        .ok()
        .map(|r| r.status().as_u16())
}

/// One series with `samples`, named `name` and labelled `series="{id}"`.
pub fn series(name: &str, id: usize, samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: vec![
            Label { name: "__name__".into(), value: name.into() },
            Label { name: "series".into(), value: id.to_string() },
        ],
        samples: samples.iter().map(|&(timestamp, value)| Sample { value, timestamp }).collect(),
        exemplars: Vec::new(),
    }
}

/// A request writing sample `(t, v)` to each of `n` series of `name`.
pub fn request(name: &str, n: usize, t: i64, v: f64) -> WriteRequest {
    WriteRequest {
        timeseries: (0..n).map(|id| series(name, id, &[(t, v)])).collect(),
        metadata: Vec::new(),
    }
}

/// An empty prometheus.yml (no scrape jobs, no rules) in `dir`, for tests that write only
/// through remote write.
pub fn empty_config(dir: &Path) -> PathBuf {
    let p = dir.join("prometheus.yml");
    std::fs::write(&p, "global:\n  scrape_interval: 15s\n").unwrap();
    p
}

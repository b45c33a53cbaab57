//! A real Prometheus started on 127.0.0.1 for integration tests, killed on drop.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const PROMETHEUS: &str = "/usr/bin/prometheus";

/// True if the binary exists; otherwise prints the skip notice (or panics when required).
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

pub struct Prometheus {
    pub port: u16,
    pub data: PathBuf,
    child: Option<Child>,
}

impl Prometheus {
    /// Starts Prometheus with `config` (YAML) and extra flags; waits until ready.
    pub fn start(dir: &Path, port: u16, config: &str, extra: &[&str]) -> Prometheus {
        let cfg = dir.join("prometheus.yml");
        std::fs::write(&cfg, config).unwrap();
        let data = dir.join("data");
        let mut p = Prometheus { port, data, child: None };
        p.spawn(&cfg, extra);
        p
    }

    fn spawn(&mut self, cfg: &Path, extra: &[&str]) {
        let log = std::fs::File::create(cfg.with_extension("log")).unwrap();
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", self.data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{}", self.port))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_until(Duration::from_secs(60), || {
            reqwest::blocking_get_ok(&format!("http://127.0.0.1:{}/-/ready", self.port))
        });
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `cond` every 50 ms until true; panics after `timeout`.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < timeout, "condition not met within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Minimal blocking HTTP GET over std (keeps the tests free of a blocking client).
pub mod reqwest {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Duration;

    /// Returns (status, body) of `GET url` (http://127.0.0.1:port/path only).
    pub fn get(url: &str) -> Option<(u16, String)> {
        let rest = url.strip_prefix("http://")?;
        let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}")))?;
        let mut s = TcpStream::connect(host).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
        let mut buf = String::new();
        s.read_to_string(&mut buf).ok()?;
        let status = buf.split(' ').nth(1)?.parse().ok()?;
        let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Some((status, body))
    }

    pub fn blocking_get_ok(url: &str) -> bool {
        matches!(get(url), Some((200, _)))
    }
}

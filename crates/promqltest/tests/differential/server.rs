//! A real Prometheus over backfilled blocks: writes the OpenMetrics file, runs
//! `promtool tsdb create-blocks-from openmetrics`, starts `prometheus` on a free local port and
//! kills it on drop (or starts it empty with its remote-write receiver); plus a minimal HTTP/1.0
//! client for its API.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Prometheus {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Looks for the reference binaries; `None` (after printing the skip line) when missing and
/// `PHAROS_REQUIRE_EXTERNAL` is not `1`.
pub fn binaries() -> Option<(String, String)> {
    let prom = std::env::var("PROMETHEUS_BIN").unwrap_or_else(|_| "/usr/bin/prometheus".into());
    let tool = std::env::var("PROMTOOL_BIN").unwrap_or_else(|_| "/usr/bin/promtool".into());
    for b in [&prom, &tool] {
        if !Path::new(b).exists() {
            assert!(
                std::env::var("PHAROS_REQUIRE_EXTERNAL").as_deref() != Ok("1"),
                "{b} not installed and PHAROS_REQUIRE_EXTERNAL=1"
            );
            println!("skipped: {b} not installed");
            return None;
        }
    }
    Some((prom, tool))
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    l.local_addr().expect("local addr").port()
}

impl Prometheus {
    /// Backfills `openmetrics` (the file's text) and starts Prometheus over it.
    pub fn start(prom: &str, tool: &str, openmetrics: &[u8]) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let om = dir.path().join("data.om");
        std::fs::write(&om, openmetrics).expect("write openmetrics");
        let tsdb = dir.path().join("tsdb");
        let out = Command::new(tool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&om)
            .arg(&tsdb)
            .output()
            .expect("run promtool");
        assert!(out.status.success(), "promtool failed: {}", String::from_utf8_lossy(&out.stderr));
        Prometheus::spawn(prom, dir, &[])
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok((200, _)) = get(self.port, "/-/ready") {
                return;
            }
            assert!(Instant::now() < deadline, "prometheus did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts Prometheus over an empty data directory with the remote-write receiver on, for
    /// data (stale markers included) sent with [`Prometheus::post_remote_write`] to `/api/v1/write`.
    #[allow(dead_code)] // Only the randomized test uses a receiver.
    pub fn start_receiver(prom: &str) -> Prometheus {
        Prometheus::spawn(
            prom,
            tempfile::tempdir().expect("tempdir"),
            &["--web.enable-remote-write-receiver"],
        )
    }

    /// Starts Prometheus over `dir/tsdb` (kept for its lifetime) on a free port with `extra`
    /// flags, and waits until it is ready.
    fn spawn(prom: &str, dir: tempfile::TempDir, extra: &[&str]) -> Prometheus {
        let cfg = dir.path().join("prometheus.yml");
        std::fs::write(&cfg, "global:\n  evaluation_interval: 1m\n").expect("write config");
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let port = free_port();
        let child = Command::new(prom)
            .arg(format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()))
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--storage.tsdb.retention.time=100y")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let p = Prometheus { child, port, _dir: dir };
        p.wait_ready();
        p
    }

    /// POSTs a snappy-compressed protobuf body (a remote-write request); returns the status
    /// code and body.
    #[allow(dead_code)] // Only the randomized test uses a receiver.
    pub fn post_remote_write(&self, body: &[u8]) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        write!(
            s,
            "POST /api/v1/write HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\n\
             Content-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        )
        .expect("write head");
        s.write_all(body).expect("write body");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).expect("read response");
        let text = String::from_utf8_lossy(&buf).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, body.to_string())
    }

    /// GETs an API path; returns the status code and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        get(self.port, path).expect("prometheus request")
    }
}

fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((status, body.to_string()))
}

/// Percent-encodes a query parameter value.
pub fn encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len() * 3);
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

//! The `pharos` binary as a user runs it: bad flags fail clearly, and `pharos server` with no
//! flags serves its probes and metrics on :9090 and stops on SIGTERM.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn pharos() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pharos"))
}

/// Kills the child on drop so a failing test never leaves a server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn unknown_flag_is_an_error() {
    let out = pharos().args(["server", "--bogus"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unexpected argument '--bogus'"), "{stderr}");
}

#[test]
fn bad_flag_value_names_the_flag() {
    let out = pharos().args(["server", "--storage.tsdb.retention.time=soon"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--storage.tsdb.retention.time"), "{stderr}");
}

fn get(url: &str) -> Option<(u16, String)> {
    let resp = reqwest::blocking::get(url).ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.text().ok()?))
}

#[test]
fn server_with_no_flags_serves_on_9090_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let child = pharos()
        .arg("server")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);

    let deadline = Instant::now() + Duration::from_secs(30);
    // The server answers 503 on /-/ready while it starts, then 200.
    let ready = loop {
        if let Some(r) = get("http://127.0.0.1:9090/-/ready").filter(|r| r.0 == 200) {
            break r;
        }
        if let Ok(Some(status)) = running.0.try_wait() {
            panic!("pharos server exited early with {status}");
        }
        assert!(Instant::now() < deadline, "pharos server did not answer on :9090");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(ready.0, 200);
    let (status, metrics) = get("http://127.0.0.1:9090/metrics").unwrap();
    assert_eq!(status, 200);
    assert!(metrics.contains("prometheus_build_info{"), "{metrics}");
    assert!(dir.path().join("data").is_dir(), "stores under ./data by default");

    let pid = running.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "pharos server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean shutdown exits 0, got {status}");
}

//! `pharos check config` rejects what `promtool check config` rejects, including a static target
//! that its job's relabeling leaves without an address or with an unusable scheme.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn check(yaml: &str) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prometheus.yml");
    std::fs::write(&path, yaml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pharos"))
        .args(["check", "config"])
        .arg(&path)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn targets_are_checked_through_relabeling() {
    let job = "scrape_configs:\n- job_name: j\n  static_configs: [{targets: ['127.0.0.1:9']}]\n";
    assert!(check(job).0);
    let (ok, err) = check(&format!(
        "{job}  relabel_configs: [{{target_label: __address__, replacement: ''}}]\n"
    ));
    assert!(!ok && err.contains("instance 0 in group 0: no address"), "{err}");
    let (ok, err) = check(&format!("{job}  relabel_configs: [{{action: drop, regex: 'a**'}}]\n"));
    assert!(!ok && err.contains("nested repetition"), "{err}");
    let dropped = format!("{job}  relabel_configs: [{{action: drop, regex: '.*'}}]\n");
    assert!(check(&dropped).0);
}

//! `pharos replay` over backfilled history: an error burst between minutes 30 and 60 makes the
//! seed's HighErrorRate fire (after its `for`) and resolve, and the routing tree's receiver gets
//! exactly one firing and one resolved notification.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;
use std::process::Command;

const T0: i64 = 1_700_000_000; // seconds

fn history() -> String {
    let mut om = String::from("# TYPE http_requests counter\n");
    let (mut ok, mut errors) = (0u64, 0u64);
    for step in 0..(120 * 4) {
        let t = T0 + step * 15;
        ok += 10;
        if (30 * 4..60 * 4).contains(&step) {
            errors += 1;
        }
        writeln!(om, "http_requests_total{{job=\"api-server\",status=\"200\"}} {ok} {t}").unwrap();
        writeln!(om, "http_requests_total{{job=\"api-server\",status=\"500\"}} {errors} {t}")
            .unwrap();
    }
    om.push_str("# EOF\n");
    om
}

const RULES: &str = r#"groups:
  - name: api-slo
    rules:
      - alert: HighErrorRate
        expr: |
          sum by (job) (rate(http_requests_total{status=~"5.."}[5m]))
            / sum by (job) (rate(http_requests_total[5m])) > 0.01
        for: 5m
        labels:
          severity: critical
"#;

const ROUTES: &str = "route:\n  receiver: pager\n  group_by: [alertname, job]\n  group_wait: 30s\n  group_interval: 5m\n  repeat_interval: 4h\nreceivers:\n  - name: pager\n    webhook_configs:\n      - url: http://127.0.0.1:1/unused\n        send_resolved: true\n";

#[test]
fn replay_prints_what_would_have_paged() {
    let dir = tempfile::tempdir().unwrap();
    let om = dir.path().join("history.om");
    std::fs::write(&om, history()).unwrap();
    let data = dir.path().join("data");
    let pharos = env!("CARGO_BIN_EXE_pharos");
    let import = Command::new(pharos)
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg(&om)
        .arg(&data)
        .output()
        .unwrap();
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    std::fs::write(dir.path().join("rules.yml"), RULES).unwrap();
    std::fs::write(dir.path().join("am.yml"), ROUTES).unwrap();

    let out = Command::new(pharos)
        .arg("replay")
        .arg("--rules")
        .arg(dir.path().join("rules.yml"))
        .arg("--alertmanager")
        .arg(dir.path().join("am.yml"))
        .args(["--from", &T0.to_string(), "--to", &(T0 + 7200).to_string()])
        .arg("--storage.tsdb.path")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let firing: Vec<&str> = stdout.lines().filter(|l| l.contains("status=firing")).collect();
    let resolved: Vec<&str> = stdout.lines().filter(|l| l.contains("status=resolved")).collect();
    assert_eq!(firing.len(), 1, "{stdout}");
    assert_eq!(resolved.len(), 1, "{stdout}");
    assert!(firing[0].contains("receiver=pager"), "{stdout}");
    assert!(stdout.contains(r#"alertname="HighErrorRate""#), "{stdout}");
    // Errors start at minute 30; `for: 5m` and group_wait put the page between 35 and 37 min.
    let page_at = chrono::DateTime::parse_from_rfc3339(firing[0].split(' ').next().unwrap())
        .unwrap()
        .timestamp();
    assert!((T0 + 35 * 60..=T0 + 37 * 60).contains(&page_at), "{stdout}");
    assert!(stderr.contains("2 notification(s) would have been sent"), "{stderr}");
}

//! Unit-test features newer than the installed promtool: `start_timestamp`, and `--run`.

#![allow(clippy::unwrap_used)]

use rules::unittest::{UnitTestOptions, run, run_with};

const RULES: &str = "groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 1m\n";

fn write(dir: &std::path::Path, tests: &str) -> String {
    std::fs::write(dir.join("r.yml"), RULES).unwrap();
    let p = dir.join("t.yml");
    std::fs::write(&p, tests).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn start_timestamp_shifts_input_and_eval_times() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "rule_files: [r.yml]\ntests:\n  - interval: 1m\n    start_timestamp: 1700000000\n    input_series:\n      - series: 'up{i=\"a\"}'\n        values: '0x5'\n    alert_rule_test:\n      - eval_time: 2m\n        alertname: Down\n        exp_alerts: [{exp_labels: {i: a}}]\n    promql_expr_test:\n      - expr: timestamp(up)\n        eval_time: 3m\n        exp_samples: [{labels: '{i=\"a\"}', value: 1700000180}]\n",
    );
    let r = run(std::slice::from_ref(&f));
    assert_eq!(r.exit_code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("  SUCCESS"));
}

#[test]
fn run_filter_selects_test_groups_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "rule_files: [r.yml]\ntests:\n  - name: good\n    input_series: [{series: 'up', values: '1x3'}]\n    alert_rule_test: [{eval_time: 2m, alertname: Down, exp_alerts: []}]\n  - name: bad\n    input_series: [{series: 'up', values: '1x3'}]\n    alert_rule_test: [{eval_time: 2m, alertname: Down, exp_alerts: [{exp_labels: {}}]}]\n",
    );
    assert_eq!(run(std::slice::from_ref(&f)).exit_code, 1);
    let only_good = UnitTestOptions { run: vec!["^go".into()] };
    assert_eq!(run_with(std::slice::from_ref(&f), &only_good).exit_code, 0);
    let r = run_with(&[f], &UnitTestOptions { run: vec!["bad".into()] });
    assert_eq!(r.exit_code, 1);
    assert!(r.stderr.contains("name: bad"), "{}", r.stderr);
}

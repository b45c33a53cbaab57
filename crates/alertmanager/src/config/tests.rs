//! Config parsing tests.

use super::*;

const GOOD: &str = r#"
global:
  resolve_timeout: 1m
  smtp_smarthost: 'localhost:25'
  smtp_from: 'am@example.org'
route:
  receiver: web
  group_by: [alertname]
  routes:
  - matchers: ['severity="page"']
    receiver: mail
    mute_time_intervals: [nights]
receivers:
- name: web
  webhook_configs:
  - url: http://127.0.0.1:9/hook
    max_alerts: 5
- name: mail
  email_configs:
  - to: ops@example.org
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_matchers: ['severity="warning"']
  equal: [cluster]
time_intervals:
- name: nights
  time_intervals:
  - times: [{start_time: '00:00', end_time: '06:00'}]
"#;

#[test]
fn parses_and_inherits_globals() {
    let c = Config::parse(GOOD, "am.yml").unwrap();
    assert_eq!(c.resolve_timeout_ms(), 60_000);
    let mail = c.receiver("mail").unwrap();
    assert_eq!(mail.email_configs[0].smarthost.as_deref(), Some("localhost:25"));
    assert_eq!(mail.email_configs[0].require_tls, Some(true));
    assert!(c.receiver("web").unwrap().webhook_configs[0].send_resolved);
    assert!(!mail.email_configs[0].send_resolved);
}

#[test]
fn unknown_field_names_file_and_line() {
    let bad = GOOD.replace("    max_alerts: 5", "    max_alert: 5");
    let e = Config::parse(&bad, "am.yml").unwrap_err().to_string();
    assert!(e.starts_with("am.yml:"), "{e}");
    assert!(e.contains("max_alert"), "{e}");
    assert!(e.starts_with("am.yml:17:5: unknown field"), "{e}");
}

#[test]
fn semantic_errors() {
    let undefined = GOOD.replace("receiver: mail", "receiver: nope");
    assert!(Config::parse(&undefined, "").unwrap_err().to_string().contains("undefined receiver"));
    let interval = GOOD.replace("[nights]", "[days]");
    assert!(
        Config::parse(&interval, "").unwrap_err().to_string().contains("undefined time interval")
    );
    let dup = GOOD.replace("- name: mail", "- name: web");
    assert!(Config::parse(&dup, "").is_err());
    assert!(Config::parse("receivers: []", "").is_err());
    let bad_matcher = GOOD.replace(r#"'severity="page"'"#, r#"'severity=~"("'"#);
    assert!(Config::parse(&bad_matcher, "").is_err());
}

#[test]
fn status_shows_the_loaded_config_with_secrets_hidden() {
    let text = GOOD.replace(
        "  smtp_from: 'am@example.org'",
        "  smtp_from: 'am@example.org'\n  smtp_auth_password: hunter2",
    );
    let c = Config::parse(&text, "am.yml").unwrap();
    let shown = c.go_yaml();
    assert!(shown.contains("\n  smtp_auth_password: <secret>\n"), "{shown}");
    assert!(!shown.contains("hunter2"));
    assert!(shown.contains("    url: http://127.0.0.1:9/hook\n    max_alerts: 5\n"), "{shown}");
    assert!(shown.starts_with("global:\n  resolve_timeout: 1m\n"), "{shown}");
    assert!(shown.contains("\ntemplates: []\n"), "{shown}");
}

//! `pharos check alertmanager` and `pharos route test`, plus reload and garbage collection
//! of the core.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alertmanager::check::{check_config_file, parse_label_args, render_route_test, route_test};
use alertmanager::{AlertQuery, Alertmanager, Config, ManualClock, Options, PostableAlert};
use model::Labels;

const CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
  - matchers: ['severity="page"']
    receiver: pager
    continue: true
  - matchers: ['team=~"db|storage"']
    receiver: db
receivers:
- name: default
- name: pager
  pushover_configs:
  - user_key: x
    token: y
- name: db
templates: ['*.tmpl']
"#;

#[test]
fn check_reports_like_amtool() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("am.yml");
    std::fs::write(&path, CONFIG).unwrap();
    std::fs::write(
        dir.path().join("extra.tmpl"),
        r#"{{ define "my.title" }}{{ .Status }}{{ end }}"#,
    )
    .unwrap();
    let summary = check_config_file(&path.to_string_lossy()).unwrap();
    assert_eq!((summary.receivers, summary.templates, summary.inhibit_rules), (3, 1, 0));
    assert_eq!(summary.warnings.len(), 1, "pushover is parsed but not delivered");
    let text = summary.render("am.yml");
    assert!(text.starts_with("Checking 'am.yml'  SUCCESS\nFound:\n - global config\n - route\n - 0 inhibit rules\n - 3 receivers\n - 1 templates\n"), "{text}");

    std::fs::write(dir.path().join("broken.tmpl"), "{{ define \"x\" }}{{ .Status ").unwrap();
    assert!(
        check_config_file(&path.to_string_lossy()).is_err(),
        "broken template must fail the check"
    );
    std::fs::write(&path, CONFIG.replace("continue: true", "continue: true\n    bogus: 1"))
        .unwrap();
    let err = check_config_file(&path.to_string_lossy()).unwrap_err().to_string();
    assert!(err.contains("am.yml:9:5:") && err.contains("bogus"), "{err}");
}

#[test]
fn route_test_prints_receivers() {
    let cfg = Config::parse(CONFIG, "am.yml").unwrap();
    let labels = parse_label_args(&["severity=page".into(), "team=db".into()]).unwrap();
    assert_eq!(render_route_test(&route_test(&cfg, &labels).unwrap()), "pager,db");
    let labels = parse_label_args(&[r#"team="storage""#.into()]).unwrap();
    assert_eq!(render_route_test(&route_test(&cfg, &labels).unwrap()), "db");
    // As amtool: one matcher an argument, the last one for a name wins.
    assert!(parse_label_args(&[r#"{team="storage"}"#.into()]).is_err());
    let labels = parse_label_args(&["team=db,x".into()]).unwrap();
    assert_eq!(labels.get("team"), Some("db,x"));
    let labels = parse_label_args(&["team=x".into(), "team=db".into()]).unwrap();
    assert_eq!(render_route_test(&route_test(&cfg, &labels).unwrap()), "db");
    assert_eq!(
        render_route_test(&route_test(&cfg, &Labels::new([("x", "y")])).unwrap()),
        "default"
    );
    assert!(parse_label_args(&["a=~b".into()]).is_err());
}

fn alert(name: &str, ends_at: Option<i64>) -> PostableAlert {
    PostableAlert {
        labels: Labels::new([("alertname", name), ("team", "db")]),
        ends_at,
        ..Default::default()
    }
}

#[test]
fn reload_reroutes_and_gc_collects_resolved() {
    let clock = ManualClock::new(1_800_000_000_000);
    let cfg = Config::parse(CONFIG, "am.yml").unwrap();
    let opts = Options { gc_interval_ms: 60_000, ..Options::default() };
    let mut am = Alertmanager::new(cfg, opts, Arc::new(clock.clone())).unwrap();
    am.push(vec![alert("A", None), alert("B", Some(clock_now(&clock) + 1_000))]);
    assert_eq!(am.alerts(&AlertQuery::default())[0].receivers, vec!["db".to_string()]);

    let new_cfg =
        Config::parse(&CONFIG.replace(r#"team=~"db|storage""#, r#"team="none""#), "am.yml")
            .unwrap();
    am.reload(new_cfg).unwrap();
    assert_eq!(am.alerts(&AlertQuery::default())[0].receivers, vec!["default".to_string()]);
    assert!(am.reload(Config::default()).is_err(), "an invalid config is refused");

    // B resolves; it stays while its group still holds it, then GC drops it.
    clock.advance(10 * 60_000);
    for _ in 0..3 {
        for n in am.tick() {
            am.notified(n.id, true);
        }
        clock.advance(5 * 60_000);
    }
    am.gc(clock_now(&clock));
    assert_eq!(am.counts().0, 0, "resolved (B) and timed-out (A) alerts are collected");
}

fn clock_now(c: &ManualClock) -> i64 {
    use alertmanager::Clock;
    c.now_ms()
}

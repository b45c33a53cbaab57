//! Request bodies of the Slack, PagerDuty, Opsgenie and Teams integrations with
//! Alertmanager's default templates.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use alertmanager::config::Integration;
use alertmanager::template::Templates;
use alertmanager::{Alertmanager, Config, ManualClock, Notification, Options, PostableAlert};
use model::Labels;
use receivers::NotifyContext;

const YAML: &str = r#"
global:
  slack_api_url: http://127.0.0.1:9/slack
  opsgenie_api_key: k
route: {receiver: all, group_by: [alertname]}
receivers:
- name: all
  slack_configs: [{channel: '#ops'}]
  pagerduty_configs: [{routing_key: rk}]
  opsgenie_configs: [{tags: 'a, b'}]
  msteams_configs: [{webhook_url: http://127.0.0.1:9/teams}]
"#;

fn notifications() -> Vec<Notification> {
    let cfg = Config::parse(YAML, "am.yml").unwrap();
    let clock = ManualClock::new(1_800_000_000_000);
    let mut am = Alertmanager::new(cfg, Options::default(), Arc::new(clock.clone())).unwrap();
    am.push(vec![
        PostableAlert {
            labels: Labels::new([("alertname", "Down"), ("job", "api"), ("instance", "a")]),
            ..Default::default()
        },
        PostableAlert {
            labels: Labels::new([("alertname", "Down"), ("job", "api"), ("instance", "b")]),
            ..Default::default()
        },
    ]);
    clock.advance(30_000);
    am.tick()
}

fn ctx(n: &Notification) -> NotifyContext {
    NotifyContext::new(n, "http://am", Arc::new(Templates::defaults()), reqwest::Client::new())
}

#[test]
fn bodies_use_default_templates() {
    let ns = notifications();
    assert_eq!(ns.len(), 4);
    for n in &ns {
        let c = ctx(n);
        match &*n.integration {
            Integration::Slack(cfg) => {
                let b = receivers::slack::body(cfg, &c).unwrap();
                assert_eq!(b["channel"], "#ops");
                assert_eq!(b["username"], "Alertmanager");
                assert_eq!(b["attachments"][0]["title"], "[FIRING:2] Down (api)");
                assert_eq!(b["attachments"][0]["color"], "danger");
                assert_eq!(b["attachments"][0]["title_link"], "http://am/#/alerts?receiver=all");
            }
            Integration::Pagerduty(cfg) => {
                let b = receivers::pagerduty::body(cfg, &c, "rk").unwrap();
                assert_eq!(b["event_action"], "trigger");
                assert_eq!(b["dedup_key"].as_str().unwrap().len(), 64);
                assert_eq!(b["payload"]["summary"], "[FIRING:2] Down (api)");
                assert_eq!(b["payload"]["severity"], "error");
                assert_eq!(b["payload"]["custom_details"]["num_firing"], "2");
                assert!(
                    b["payload"]["custom_details"]["firing"]
                        .as_str()
                        .unwrap()
                        .contains(" - instance = b\n")
                );
            }
            Integration::Opsgenie(cfg) => {
                let b = receivers::opsgenie::create_body(cfg, &c).unwrap();
                assert_eq!(b["message"], "[FIRING:2] Down (api)");
                assert_eq!(b["tags"], serde_json::json!(["a", "b"]));
                assert!(b["description"].as_str().unwrap().contains("Alerts Firing:"));
            }
            Integration::MsTeams(cfg) => {
                let b = receivers::msteams::body(cfg, &c).unwrap();
                assert_eq!(b["title"], "[FIRING:2] Down (api)");
                assert_eq!(b["themeColor"], "8C1A1A");
            }
            other => panic!("unexpected integration {}", other.kind()),
        }
    }
}

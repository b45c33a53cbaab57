//! API v2 behaviour that amtool does not exercise: a bad alert in a batch, filters,
//! groups, silence errors, lifecycle endpoints.

#![allow(clippy::unwrap_used)]

mod common;

use alertmanager::Config;
use serde_json::{Value, json};

const CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  group_wait: 1h
  routes:
  - matchers: ['team="db"']
    receiver: db
receivers:
- name: default
- name: db
"#;

async fn start() -> String {
    let cfg = Config::parse(CONFIG, "am.yml").unwrap();
    common::serve(cfg).await.0
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_alert_is_refused_and_valid_ones_kept() {
    let base = start().await;
    let client = reqwest::Client::new();
    let batch = json!([
        {"labels": {"alertname": "Good", "team": "db"}},
        {"labels": {"alertname": "Bad"}, "startsAt": "2030-01-01T00:00:00Z", "endsAt": "2020-01-01T00:00:00Z"},
        {"labels": {"alertname": "AlsoGood"}},
    ]);
    let r = client.post(format!("{base}/api/v2/alerts")).json(&batch).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let msg: Value = r.json().await.unwrap();
    // Alertmanager's words, without the alert's labels.
    assert_eq!(msg, json!("start time must be before end time"));

    let alerts = get(&format!("{base}/api/v2/alerts")).await;
    let names: Vec<&str> = alerts
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"Good") && names.contains(&"AlsoGood"));

    let db = get(&format!("{base}/api/v2/alerts?receiver=db")).await;
    assert_eq!(db.as_array().unwrap().len(), 1);
    assert_eq!(db[0]["receivers"], json!([{"name": "db"}]));
    let filtered = get(&format!("{base}/api/v2/alerts?filter=alertname%3D~%22Also.%2A%22")).await;
    assert_eq!(filtered[0]["labels"]["alertname"], "AlsoGood");
    assert_eq!(get(&format!("{base}/api/v2/alerts?active=false")).await, json!([]));

    let groups = get(&format!("{base}/api/v2/alerts/groups")).await;
    assert_eq!(groups.as_array().unwrap().len(), 2);
    assert_eq!(groups[0]["labels"], json!({"alertname": "AlsoGood"}));
    assert_eq!(groups[0]["receiver"], json!({"name": "default"}));

    let receivers = get(&format!("{base}/api/v2/receivers")).await;
    assert_eq!(receivers, json!([{"name": "default"}, {"name": "db"}]));
    let status = get(&format!("{base}/api/v2/status")).await;
    assert_eq!(status["cluster"]["status"], "disabled");
    assert!(status["config"]["original"].as_str().unwrap().contains("team=\"db\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_errors_and_lifecycle() {
    let base = start().await;
    let client = reqwest::Client::new();
    let past = json!({"matchers": [{"name": "a", "value": "b", "isRegex": false}], "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2020-01-02T00:00:00Z", "createdBy": "t", "comment": "c"});
    let r = client.post(format!("{base}/api/v2/silences")).json(&past).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let unknown = json!({"id": "nope", "matchers": [{"name": "a", "value": "b", "isRegex": false}], "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2099-01-02T00:00:00Z", "createdBy": "t", "comment": "c"});
    let r = client.post(format!("{base}/api/v2/silences")).json(&unknown).send().await.unwrap();
    assert_eq!(r.status(), 404);
    // An id that is not a UUID is refused by the OpenAPI checks, as in Alertmanager.
    let r = client.get(format!("{base}/api/v2/silence/nope")).send().await.unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"code": 601, "message": "silenceID in path must be of type uuid: \"nope\""})
    );
    assert_eq!(
        client
            .get(format!("{base}/api/v2/silence/00000000-0000-4000-8000-000000000000"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Alertmanager answers an unknown id with 500 "silence not found" (no 404 in its API).
    let r = client
        .delete(format!("{base}/api/v2/silence/00000000-0000-4000-8000-000000000000"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.json::<Value>().await.unwrap(), json!("silence not found"));
    for path in ["/-/healthy", "/-/ready"] {
        assert_eq!(client.get(format!("{base}{path}")).send().await.unwrap().status(), 200);
    }
    assert_eq!(client.post(format!("{base}/-/reload")).send().await.unwrap().status(), 200);
}

//! The web router end to end over HTTP semantics: SPA fallback, dashboard list/get/import/delete
//! with provisioning and persistence, and deployment annotations.

use std::sync::Arc;

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

const NODE_EXPORTER: &str = include_str!("../ui/tests/fixtures/node-exporter-dashboard.json");

fn options(dir: &std::path::Path) -> web::Options {
    let mut o = web::Options::new(dir.join("data"));
    o.dashboards_dir = Some(dir.join("provisioning"));
    o.clock = Arc::new(|| 1_700_000_000_000);
    o
}

async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, String, String) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty))
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("response");
    let status = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20).await.expect("body");
    (status, ct, String::from_utf8_lossy(&bytes).into_owned())
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).expect("json body")
}

#[tokio::test]
async fn serves_the_app_for_client_routes_and_404s_for_unknown_api_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = web::router(options(dir.path()));
    for path in ["/", "/d/service-overview", "/alerts?x=1"] {
        let (status, ct, body) = call(&app, "GET", path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        assert!(body.contains("<html"), "{path}");
    }
    let (status, _, body) = call(&app, "GET", "/api/v1/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["status"], "error");
    let (status, _, _) = call(&app, "GET", "/assets/missing-123.js", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call(&app, "POST", "/somewhere", Some("{}")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn dashboards_are_listed_imported_persisted_and_protected() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("provisioning")).expect("mkdir");
    std::fs::write(
        dir.path().join("provisioning/team.json"),
        r#"{"uid": "team", "title": "Team board", "panels": [{"type": "text", "gridPos": {"x":0,"y":0,"w":24,"h":3}}]}"#,
    )
    .expect("write");
    let app = web::router(options(dir.path()));

    let (status, _, body) = call(&app, "GET", "/api/pharos/v1/dashboards", None).await;
    assert_eq!(status, StatusCode::OK);
    let list = json(&body);
    let uids: Vec<&str> = list["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["uid"].as_str().expect("uid"))
        .collect();
    assert_eq!(uids, ["service-overview", "team"]);
    assert_eq!(list["data"][1]["source"], "provisioned");

    let (status, _, body) =
        call(&app, "GET", "/api/pharos/v1/dashboards/service-overview", None).await;
    assert_eq!(status, StatusCode::OK);
    let model = &json(&body)["data"]["dashboard"];
    assert_eq!(model["panels"].as_array().expect("panels").len(), 4);
    assert_eq!(model["templating"]["list"][0]["name"], "job");

    // A Grafana export (with __inputs and datasource placeholders) imports as is.
    let (status, _, body) =
        call(&app, "POST", "/api/pharos/v1/dashboards", Some(NODE_EXPORTER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json(&body)["data"]["uid"], "rYdddlPWk");
    let (status, _, body) =
        call(&app, "POST", "/api/pharos/v1/dashboards", Some(NODE_EXPORTER)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let envelope = format!(r#"{{"dashboard": {NODE_EXPORTER}, "overwrite": true}}"#);
    let (status, _, _) = call(&app, "POST", "/api/pharos/v1/dashboards", Some(&envelope)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _, body) =
        call(&app, "POST", "/api/pharos/v1/dashboards", Some("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&body)["errorType"], "bad_data");
    let (status, _, _) = call(
        &app,
        "POST",
        "/api/pharos/v1/dashboards",
        Some(r#"{"uid":"team","title":"x","panels":[]}"#),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) =
        call(&app, "DELETE", "/api/pharos/v1/dashboards/service-overview", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = call(&app, "GET", "/api/pharos/v1/dashboards/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A new router on the same data dir still has the import.
    let again = web::router(options(dir.path()));
    let (status, _, body) = call(&again, "GET", "/api/pharos/v1/dashboards/rYdddlPWk", None).await;
    assert_eq!(status, StatusCode::OK);
    let data = json(&body)["data"].clone();
    assert_eq!(data["source"], "imported");
    assert_eq!(data["dashboard"]["title"], "Node Exporter Full (fixture)");
    let (status, _, _) = call(&again, "DELETE", "/api/pharos/v1/dashboards/rYdddlPWk", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&again, "GET", "/api/pharos/v1/dashboards/rYdddlPWk", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn deployment_annotations_round_trip_by_time_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = web::router(options(dir.path()));
    let post = |body: Value| {
        let app = app.clone();
        async move { call(&app, "POST", "/api/pharos/v1/annotations", Some(&body.to_string())).await }
    };
    let (status, _, body) =
        post(json!({"service": "api", "version": "v1.4.2", "time": "2023-11-14T22:00:00Z",
                                         "text": "rollout"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(json(&body)["data"]["time"], 1_699_999_200.0);
    let (status, _, _) =
        post(json!({"service": "web", "version": "v2", "time": 1_699_999_800})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, body) = post(json!({"service": "api", "version": "v1.4.3"})).await;
    assert_eq!(json(&body)["data"]["time"], 1_700_000_000.0, "no time means the clock's now");
    let (status, _, body) = post(json!({"service": "", "version": "x"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, _) = post(json!({"service": "api", "time": "tomorrow"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = post(json!({"service": "api", "colour": "red"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, _, body) =
        call(&app, "GET", "/api/pharos/v1/annotations?start=1699999000&end=1699999900", None).await;
    let versions: Vec<Value> = json(&body)["data"]
        .as_array()
        .expect("list")
        .iter()
        .map(|a| a["version"].clone())
        .collect();
    assert_eq!(versions, [json!("v1.4.2"), json!("v2")]);
    let (_, _, body) = call(&app, "GET", "/api/pharos/v1/annotations?service=api", None).await;
    assert_eq!(json(&body)["data"].as_array().expect("list").len(), 2);
    let (status, _, _) = call(&app, "GET", "/api/pharos/v1/annotations?start=later", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = call(&app, "GET", "/api/pharos/v1/annotations?start=10&end=5", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let again = web::router(options(dir.path()));
    let (_, _, body) = call(&again, "GET", "/api/pharos/v1/annotations", None).await;
    assert_eq!(json(&body)["data"].as_array().expect("list").len(), 3, "annotations persist");
}

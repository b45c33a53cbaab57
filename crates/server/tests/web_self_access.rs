//! The server's own HTTP clients under `--web.config.file`: with basic auth required (and
//! with TLS on top), the embedded default configuration's self-scrape job still scrapes the
//! server (up=1, no error on /api/v1/targets) and the built-in Alertmanager's default "log"
//! webhook still delivers to the server; with TLS the derived external URL is https. The
//! token they use is not echoed by /api/v1/status/config.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use server::{Server, ServerOptions};

const USER: &str = "admin";
const PASSWORD: &str = "correct horse";

fn web_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let path = dir.join("web.yml");
    std::fs::write(&path, format!("basic_auth_users:\n  {USER}: '{hash}'\n{extra}")).unwrap();
    path
}

async fn start(dir: &Path, web: std::path::PathBuf) -> Server {
    let opts = ServerOptions {
        listen_address: "127.0.0.1:0".into(),
        storage_path: dir.join("data"),
        web_config_file: Some(web),
        ..ServerOptions::default()
    };
    Server::start(opts).await.unwrap()
}

async fn get(client: &reqwest::Client, url: &str) -> Option<serde_json::Value> {
    let r = client.get(url).basic_auth(USER, Some(PASSWORD)).send().await.ok()?;
    r.json().await.ok()
}

async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The self-scrape target is up, its last scrape without error, and `up` says 1.
async fn self_scrape_succeeds(client: &reqwest::Client, base: &str) {
    let target = eventually(40, "the first self-scrape", || async {
        let v = get(client, &format!("{base}/api/v1/targets")).await?;
        let t = v["data"]["activeTargets"]
            .as_array()?
            .iter()
            .find(|t| t["labels"]["job"] == "pharos")?
            .clone();
        (t["health"] != "unknown").then_some(t)
    })
    .await;
    assert_eq!(target["health"], "up", "{target}");
    assert_eq!(target["lastError"], "", "{target}");
    let q = format!("{base}/api/v1/query?query=up%7Bjob%3D%22pharos%22%7D");
    let v = get(client, &q).await.unwrap();
    assert_eq!(v["data"]["result"][0]["value"][1], "1", "{v}");
}

/// An alert that started ten minutes ago skips group_wait; the "log" receiver (a webhook to
/// the server itself) must get it. Returns the delivered payload.
async fn log_receiver_delivers(client: &reqwest::Client, base: &str) -> serde_json::Value {
    let started = chrono::Utc::now() - chrono::Duration::minutes(10);
    let alert = serde_json::json!([{
        "labels": {"alertname": "SelfAccessProbe", "job": "test"},
        "startsAt": started.to_rfc3339(),
    }]);
    let r = client
        .post(format!("{base}/api/v2/alerts"))
        .basic_auth(USER, Some(PASSWORD))
        .json(&alert)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually(30, "the log receiver's notification", || async {
        let v = get(client, &format!("{base}/api/pharos/v1/notifications")).await?;
        let list = v.as_array().or_else(|| v["data"].as_array())?.clone();
        list.into_iter().find(|n| {
            n["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["labels"]["alertname"] == "SelfAccessProbe"))
        })
    })
    .await
}

async fn token_not_echoed(client: &reqwest::Client, base: &str, dir: &Path) {
    let token = std::fs::read_to_string(dir.join("data/default-config/self-token")).unwrap();
    assert_eq!(token.len(), 64);
    let v = get(client, &format!("{base}/api/v1/status/config")).await.unwrap();
    let yaml = v["data"]["yaml"].as_str().unwrap();
    assert!(!yaml.contains(&token), "the self token is shown: {yaml}");
    assert!(yaml.contains("credentials_file"), "{yaml}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("data/default-config/self-token")).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn self_scrape_and_log_receiver_pass_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), web_config(dir.path(), "")).await;
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();
    // Anonymous requests are still refused.
    let r = client.get(format!("{base}/api/v1/targets")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    self_scrape_succeeds(&client, &base).await;
    let n = log_receiver_delivers(&client, &base).await;
    let ext = n["externalURL"].as_str().unwrap();
    assert!(ext.starts_with("http://"), "{ext}");
    token_not_echoed(&client, &base, dir.path()).await;
    server.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tls_self_clients_use_https_and_the_external_url_is_https() {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let dir = tempfile::tempdir().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    std::fs::write(dir.path().join("server.crt"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("server.key"), key.serialize_pem()).unwrap();
    let web = web_config(
        dir.path(),
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
    );
    let server = start(dir.path(), web).await;
    let port = server.local_addr().port();
    let base = format!("https://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    self_scrape_succeeds(&client, &base).await;
    let v = get(&client, &format!("{base}/api/v1/targets")).await.unwrap();
    let t = v["data"]["activeTargets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["labels"]["job"] == "pharos")
        .unwrap()
        .clone();
    assert!(t["scrapeUrl"].as_str().unwrap().starts_with("https://"), "{t}");
    let n = log_receiver_delivers(&client, &base).await;
    let ext = n["externalURL"].as_str().unwrap();
    assert!(ext.starts_with("https://") && ext.ends_with(&format!(":{port}")), "{ext}");
    token_not_echoed(&client, &base, dir.path()).await;
    server.stop().await.unwrap();
}

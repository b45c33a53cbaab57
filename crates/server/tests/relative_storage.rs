//! The README's quick start runs `pharos server` with the default `--storage.tsdb.path=data`, a
//! relative path: the embedded default configuration written there must still load its rules.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use server::{Server, ServerOptions};

/// `target` (absolute) as a path relative to the current directory.
fn relative_to_cwd(target: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let up = cwd.components().count() - 1;
    let mut p: PathBuf = std::iter::repeat_n("..", up).collect();
    p.push(target.strip_prefix("/").unwrap());
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_config_under_a_relative_storage_path_loads_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    let storage = relative_to_cwd(&dir.path().join("data"));
    assert!(storage.is_relative());
    let opts = ServerOptions {
        listen_address: "127.0.0.1:0".into(),
        storage_path: storage,
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let url = format!("http://{}/api/v1/rules", server.local_addr());
    let v: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    let groups = v["data"]["groups"].as_array().unwrap();
    assert!(
        groups.iter().any(|g| g["name"] == "api-slo"),
        "the embedded SLO rules are not loaded: {v}"
    );
    server.stop().await.unwrap();
}

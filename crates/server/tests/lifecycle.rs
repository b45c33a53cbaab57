//! The server starts on an ephemeral port, answers its probes and `/metrics`, and stops cleanly.

use server::{Server, ServerOptions};

#[tokio::test]
async fn serves_probes_and_metrics_then_stops() {
    let dir = std::env::temp_dir().join(format!("pharos-lifecycle-{}", std::process::id()));
    let opts = ServerOptions {
        listen_address: "127.0.0.1:0".into(),
        storage_path: dir.clone(),
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();

    let ready = client.get(format!("{base}/-/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let healthy = client.get(format!("{base}/-/healthy")).send().await.unwrap();
    assert_eq!(healthy.status(), 200);
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    let body = metrics.text().await.unwrap();
    assert!(body.contains("prometheus_build_info{"), "{body}");
    assert!(body.contains("process_resident_memory_bytes "), "{body}");
    assert!(body.contains("prometheus_ready 1"), "{body}");

    server.stop().await.unwrap();
    assert!(client.get(format!("{base}/-/ready")).send().await.is_err());
    let _ = std::fs::remove_dir_all(dir);
}

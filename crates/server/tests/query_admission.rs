//! Many concurrent heavy queries against a server with `--query.max-concurrency`: some succeed,
//! the rest fail cleanly with the queue timeout, and the server keeps answering probes, status
//! endpoints and a cheap query meanwhile.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use server::{Server, ServerOptions};

/// A query that evaluates ~5M subquery steps without touching storage.
const HEAVY: &str = "sum_over_time(vector(1)[60d:1s])";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heavy_query_storm_keeps_the_server_responsive() {
    let dir = tempfile::tempdir().unwrap();
    let opts = ServerOptions {
        listen_address: "127.0.0.1:0".into(),
        storage_path: dir.path().join("data"),
        query_max_concurrency: 2,
        ..ServerOptions::default()
    };
    let server = Server::start(opts).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();

    let storm: Vec<_> = (0..100)
        .map(|_| {
            let (client, base) = (client.clone(), base.clone());
            tokio::spawn(async move {
                let r = client
                    .get(format!("{base}/api/v1/query"))
                    .query(&[("query", HEAVY), ("timeout", "2s")])
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap();
                (status, body)
            })
        })
        .collect();

    // While the storm runs, everything else answers.
    let healthy = client.get(format!("{base}/-/healthy")).send().await.unwrap();
    assert_eq!(healthy.status(), 200);
    let build = client.get(format!("{base}/api/v1/status/buildinfo")).send().await.unwrap();
    assert_eq!(build.status(), 200);
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    // Those answers came while the storm was still being worked through.
    let running = storm.iter().filter(|t| !t.is_finished()).count();
    assert!(running > 0, "the storm was over before the probes");
    let cheap = client
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", "1+1"), ("timeout", "60s")])
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(cheap.status(), 200);

    let (mut ok, mut queue_timeouts) = (0, 0);
    for t in storm {
        let (status, body) = t.await.unwrap();
        match (status, body["status"].as_str()) {
            (200, Some("success")) => {
                assert_eq!(body["data"]["result"][0]["value"][1], "5184000", "{body}");
                ok += 1;
            }
            (503, Some("error")) => {
                assert_eq!(body["errorType"], "timeout", "{body}");
                let e = body["error"].as_str().unwrap();
                assert!(e.contains("query timed out"), "{body}");
                queue_timeouts += 1;
            }
            _ => panic!("unexpected answer {status}: {body}"),
        }
    }
    assert!(ok > 0, "no heavy query succeeded");
    assert!(queue_timeouts > 0, "all 100 heavy queries fit in their timeout: not a storm");
    eprintln!("{ok} succeeded, {queue_timeouts} timed out, {running} running during the probes");
    // After the storm the server is fine.
    let r = client.get(format!("{base}/api/v1/query?query=1%2B1")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    server.stop().await.unwrap();
}

//! `http_sd_configs`: target groups from a JSON endpoint, polled every refresh interval.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::{ProviderMetrics, TargetGroup, UpdateSender, groups_from_static};

async fn fetch(
    client: &reqwest::Client,
    cfg: &config::sd::HttpSdConfig,
) -> Result<Vec<TargetGroup>, String> {
    let mut req = client.get(&cfg.url).header("Accept", "application/json");
    req = crate::http_client::authorize(req, &cfg.http_client()).map_err(|e| e.to_string())?;
    let resp = req.send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("server returned HTTP status {}", resp.status()));
    }
    let ct =
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    if !ct.starts_with("application/json") {
        return Err(format!("unsupported content type {ct:?}"));
    }
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    let raw: Vec<config::sd::StaticConfig> =
        serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    groups_from_static(raw, &cfg.url, &[("__meta_url", &cfg.url)])
}

pub(crate) async fn run(
    cfg: config::sd::HttpSdConfig,
    idx: usize,
    tx: UpdateSender,
    cancel: CancellationToken,
    metrics: ProviderMetrics,
) {
    let client = match crate::http_client::build(&cfg.http_client(), true) {
        Ok(c) => c,
        Err(e) => {
            metrics.config_failed();
            tracing::error!(url = %cfg.url, err = %e, "cannot build http_sd client");
            return;
        }
    };
    let refresh = cfg.refresh_interval.as_std().max(Duration::from_millis(10));
    loop {
        let start = Instant::now();
        let fetched = fetch(&client, &cfg).await;
        let sd = &metrics.sd;
        sd.refresh_done("http", start.elapsed().as_secs_f64(), fetched.is_err());
        match fetched {
            Ok(groups) => {
                if tx.send((idx, groups)).is_err() {
                    return;
                }
            }
            Err(e) => {
                sd.http_failures.inc();
                tracing::error!(url = %cfg.url, err = %e, "http_sd refresh failed")
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(refresh) => {}
        }
    }
}

//! The built-in load generator: calls the service's own API paths at a steady rate.

use std::time::Duration;

const PATHS: [(&str, &str); 4] = [
    ("GET", "/api/users"),
    ("GET", "/api/orders"),
    ("POST", "/api/orders"),
    ("GET", "/api/search"),
];

/// Sends `rps` requests per second to `base`, cycling through the API paths, forever.
pub async fn generate(base: String, rps: f64) {
    let client = reqwest::Client::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rps.max(0.001)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for i in 0usize.. {
        tick.tick().await;
        let (method, path) = PATHS[i % PATHS.len()];
        let req = match method {
            "POST" => client.post(format!("{base}{path}")),
            _ => client.get(format!("{base}{path}")),
        };
        // Each request runs on its own so slow responses do not lower the rate.
        tokio::spawn(async move {
            let _ = req.send().await;
        });
    }
}

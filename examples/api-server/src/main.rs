//! `api-server`: a small HTTP service instrumented as the seed shows, for trying Pharos end to end.
//!
//! It serves a few API paths, records `http_requests_total` and `http_request_duration_seconds`
//! (labelled `method`, `path`, `status`, Prometheus' default buckets) and exposes them on
//! `/metrics`. A built-in load generator calls its own API; `POST /admin/chaos` changes the error
//! ratio and latency live so a user can cause an incident on purpose.

mod chaos;
mod handlers;
mod load;
mod metrics;

use std::sync::Arc;

use clap::Parser;

/// Command-line flags.
#[derive(Debug, Parser)]
#[command(name = "api-server", about = "An instrumented example service with a load generator")]
struct Args {
    /// Address to serve the API and /metrics on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Requests per second the built-in load generator sends (0 disables it).
    #[arg(long, default_value_t = 20.0)]
    load_rps: f64,
    /// Fraction of requests that fail with a 5xx status (0.0 to 1.0).
    #[arg(long, default_value_t = 0.0)]
    error_ratio: f64,
    /// Median added latency per request, in milliseconds.
    #[arg(long, default_value_t = 20)]
    latency_ms: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let chaos = Arc::new(chaos::Chaos::new(args.error_ratio, args.latency_ms)?);
    let metrics = Arc::new(metrics::Metrics::new());
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    println!("api-server listening on http://{addr} (metrics on /metrics)");
    if args.load_rps > 0.0 {
        tokio::spawn(load::generate(format!("http://{addr}"), args.load_rps));
    }
    let app = handlers::router(handlers::AppState { chaos, metrics });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

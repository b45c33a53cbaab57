//! `loadgen`: many synthetic scrape targets from one process, for the side-by-side ingestion
//! benchmark (`bench/scenarios/ingestion.sh`). Each target listens on its own port of 127.0.0.1
//! (so `instance` labels differ as with real exporters), alternates node_exporter-like and
//! api-server-like bodies and renders new values on every scrape. A control port answers
//! `GET /stats` with the requests and samples served so far, the load side of the count.
//!
//! Usage: `loadgen --targets N --series S --targets-file PATH --control-file PATH [--kind mixed|node|api]`

mod body;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use body::{Kind, Template};

#[derive(Debug)]
struct Args {
    targets: usize,
    series: usize,
    kind: Option<Kind>,
    targets_file: String,
    control_file: String,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        targets: 100,
        series: 1000,
        kind: None,
        targets_file: String::new(),
        control_file: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--targets" => {
                args.targets = value()?.parse().map_err(|e| format!("--targets: {e}"))?
            }
            "--series" => args.series = value()?.parse().map_err(|e| format!("--series: {e}"))?,
            "--targets-file" => args.targets_file = value()?,
            "--control-file" => args.control_file = value()?,
            "--kind" => {
                args.kind = match value()?.as_str() {
                    "mixed" => None,
                    "node" => Some(Kind::Node),
                    "api" => Some(Kind::Api),
                    other => return Err(format!("--kind: unknown kind {other:?}")),
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if args.targets_file.is_empty() || args.control_file.is_empty() {
        return Err("--targets-file and --control-file are required".into());
    }
    if args.targets == 0 || args.series == 0 {
        return Err("--targets and --series must be positive".into());
    }
    Ok(args)
}

/// Totals over every target, read by `/stats`.
#[derive(Default)]
struct Stats {
    requests: AtomicU64,
    samples: AtomicU64,
}

struct Target {
    template: Template,
    scrapes: AtomicU64,
    stats: Arc<Stats>,
}

async fn metrics(State(t): State<Arc<Target>>) -> impl IntoResponse {
    let k = t.scrapes.fetch_add(1, Ordering::Relaxed);
    let mut body = Vec::new();
    t.template.render(k, &mut body);
    t.stats.requests.fetch_add(1, Ordering::Relaxed);
    t.stats.samples.fetch_add(t.template.series() as u64, Ordering::Relaxed);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body)
}

async fn stats_handler(State(s): State<Arc<Stats>>) -> String {
    format!(
        "requests {}\nsamples {}\n",
        s.requests.load(Ordering::Relaxed),
        s.samples.load(Ordering::Relaxed)
    )
}

async fn bind() -> std::io::Result<(tokio::net::TcpListener, String)> {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = l.local_addr()?.to_string();
    Ok((l, addr))
}

async fn run(args: Args) -> Result<(), String> {
    let stats = Arc::new(Stats::default());
    let mut addrs = String::new();
    for i in 0..args.targets {
        let kind = args.kind.unwrap_or(if i.is_multiple_of(2) { Kind::Node } else { Kind::Api });
        let target = Arc::new(Target {
            template: Template::new(kind, args.series, i as u64),
            scrapes: AtomicU64::new(0),
            stats: stats.clone(),
        });
        let (listener, addr) = bind().await.map_err(|e| format!("bind: {e}"))?;
        addrs.push_str(&addr);
        addrs.push('\n');
        let app = Router::new().fallback(get(metrics)).with_state(target);
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("loadgen: target {addr}: {e}");
            }
        });
    }
    let (listener, control) = bind().await.map_err(|e| format!("bind: {e}"))?;
    let app = Router::new().route("/stats", get(stats_handler)).with_state(stats);
    // Written last: readers wait for the control file, then every target is listening.
    std::fs::write(&args.targets_file, addrs).map_err(|e| format!("{}: {e}", args.targets_file))?;
    std::fs::write(&args.control_file, format!("{control}\n"))
        .map_err(|e| format!("{}: {e}", args.control_file))?;
    axum::serve(listener, app).await.map_err(|e| format!("control: {e}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let result = match parse_args() {
        Ok(args) => run(args).await,
        Err(e) => Err(format!(
            "{e}\nusage: loadgen --targets N --series S --targets-file PATH --control-file PATH [--kind mixed|node|api]"
        )),
    };
    if let Err(e) = result {
        eprintln!("loadgen: {e}");
        std::process::exit(2);
    }
}

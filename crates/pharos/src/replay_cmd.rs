//! `pharos replay`: "what would have paged?" Evaluates rule files over stored history and runs
//! the Alertmanager routing tree on a simulated clock, printing the notifications that would
//! have been sent. Use it to test a rule or route change before deploying it.
//!
//! History comes from a data directory (a stopped server's, or a snapshot from the admin API)
//! or, with `--url`, from a running Pharos or Prometheus over remote read.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use storage::Queryable;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Rule files to evaluate.
    #[arg(long = "rules", required = true, num_args = 1..)]
    pub rules: Vec<String>,
    /// The alertmanager.yml whose routing tree is run.
    #[arg(long = "alertmanager")]
    pub alertmanager: String,
    /// Start of the replay (RFC 3339 or Unix seconds).
    #[arg(long = "from")]
    pub from: String,
    /// End of the replay (RFC 3339 or Unix seconds).
    #[arg(long = "to")]
    pub to: String,
    /// Data directory to read (not in use by a running server: stop it or use a snapshot).
    #[arg(long = "storage.tsdb.path", conflicts_with = "url")]
    pub storage_path: Option<PathBuf>,
    /// Remote-read endpoint of a running server, e.g. http://localhost:9090/api/v1/read.
    #[arg(long = "url")]
    pub url: Option<String>,
    /// Default group evaluation interval.
    #[arg(long = "evaluation-interval", default_value = "1m", value_parser = crate::cli::parse_duration_ms)]
    pub evaluation_interval_ms: i64,
}

/// Parses RFC 3339 or (fractional) Unix seconds into milliseconds.
fn parse_time(s: &str) -> anyhow::Result<i64> {
    if let Ok(secs) = s.parse::<f64>() {
        return Ok((secs * 1000.0).round() as i64);
    }
    let t = chrono::DateTime::parse_from_rfc3339(s)
        .with_context(|| format!("cannot parse {s:?} as RFC 3339 or Unix seconds"))?;
    Ok(t.timestamp_millis())
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| ms.to_string())
}

pub fn run(args: ReplayArgs) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => {
            let handle = rt.handle().clone();
            match rt.block_on(async move {
                tokio::task::spawn_blocking(move || replay(&args, handle)).await
            }) {
                Ok(Ok(())) => ExitCode::SUCCESS,
                Ok(Err(e)) => {
                    eprintln!("pharos replay: {e:#}");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("pharos replay: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("pharos replay: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

fn source(args: &ReplayArgs, rt: tokio::runtime::Handle) -> anyhow::Result<Arc<dyn Queryable>> {
    if let Some(url) = &args.url {
        let client = remote::ReadClient::new(remote::ReadOptions::new("replay", url), rt)?;
        return Ok(Arc::new(client));
    }
    let Some(dir) = &args.storage_path else { bail!("give --storage.tsdb.path or --url") };
    let db = tsdb::Db::open(dir, tsdb::Options::default()).with_context(|| {
        format!("cannot open {} (stopped server or snapshot needed)", dir.display())
    })?;
    Ok(Arc::new(db))
}

fn to_postable(a: notifier::Alert) -> alertmanager::PostableAlert {
    alertmanager::PostableAlert {
        labels: a.labels,
        annotations: a.annotations,
        starts_at: (a.starts_at_ms != 0).then_some(a.starts_at_ms),
        ends_at: (a.ends_at_ms != 0).then_some(a.ends_at_ms),
        generator_url: a.generator_url,
    }
}

fn print_notification(n: &alertmanager::Notification) {
    let firing = n
        .alerts
        .iter()
        .filter(|a| alertmanager::timefmt::is_zero(a.ends_at) || a.ends_at > n.now)
        .count();
    let status = if firing > 0 { "firing" } else { "resolved" };
    println!("{} receiver={} status={status} group={}", rfc3339(n.now), n.receiver, n.group_labels);
    for a in &n.alerts {
        let state = if alertmanager::timefmt::is_zero(a.ends_at) || a.ends_at > n.now {
            "firing"
        } else {
            "resolved"
        };
        println!("    {state} {} since {}", a.labels, rfc3339(a.starts_at));
    }
}

fn replay(args: &ReplayArgs, rt: tokio::runtime::Handle) -> anyhow::Result<()> {
    let (from, to) = (parse_time(&args.from)?, parse_time(&args.to)?);
    if to < from {
        bail!("--to is before --from");
    }
    let history = source(args, rt)?;
    let outputs = Arc::new(storage::MemStorage::new());
    let queryable: Arc<dyn Queryable> =
        Arc::new(remote::FanoutQueryable { primary: history, secondaries: vec![outputs.clone()] });
    let engine = Arc::new(promql::Engine::new(promql::EngineOptions::default()));
    let clock = Arc::new(rules::ManualClock::new(from));
    let sink = Arc::new(rules::RecordingSink(Default::default()));
    let opts = rules::GroupOptions {
        query: Arc::new(rules::EngineQuery::new(engine, queryable.clone())),
        appendable: outputs,
        queryable,
        sink: sink.clone(),
        clock: clock.clone(),
        external_labels: model::Labels::empty(),
        external_url: String::new(),
        resend_delay_ms: 60_000,
        outage_tolerance_ms: 3_600_000,
        for_grace_period_ms: 600_000,
        default_query_offset_ms: 0,
    };
    let groups =
        rules::Manager::load_groups(&args.rules, args.evaluation_interval_ms, &opts, true)?;
    let am_cfg = alertmanager::Config::load_file(&args.alertmanager)?;
    let am_clock = Arc::new(alertmanager::ManualClock::new(from));
    let mut am = alertmanager::Alertmanager::new(
        am_cfg,
        alertmanager::Options::default(),
        am_clock.clone(),
    )?;

    let step =
        groups.iter().map(|g| g.interval_ms()).min().unwrap_or(args.evaluation_interval_ms).max(1);
    let bar = ProgressBar::new(((to - from) / step + 1) as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} replaying [{bar:40}] {pos}/{len} steps")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    let mut sent = 0usize;
    let mut t = from;
    while t <= to {
        clock.set(t);
        for g in &groups {
            if (t - from) % g.interval_ms().max(1) == 0 {
                g.eval(t);
            }
        }
        am_clock.set(t);
        let report = am.push(sink.take().into_iter().map(to_postable).collect());
        for (i, e) in report.rejected {
            bar.suspend(|| eprintln!("alert {i} rejected: {e}"));
        }
        // Flush every aggregation group whose timer falls before the next evaluation.
        let mut last = None;
        while let Some(deadline) = am.next_deadline().filter(|d| *d < t + step) {
            if last == Some(deadline) {
                break;
            }
            last = Some(deadline);
            am_clock.set(deadline.max(t));
            for n in am.tick() {
                bar.suspend(|| print_notification(&n));
                am.notified(n.id, true);
                sent += 1;
            }
        }
        bar.inc(1);
        t += step;
    }
    bar.finish_and_clear();
    eprintln!(
        "{sent} notification(s) would have been sent between {} and {}",
        rfc3339(from),
        rfc3339(to)
    );
    Ok(())
}

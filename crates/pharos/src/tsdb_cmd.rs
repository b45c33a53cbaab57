//! `pharos tsdb ...`: list and analyze blocks, and backfill blocks from OpenMetrics.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use model::Labels;

#[derive(Debug, Subcommand)]
pub enum TsdbCommand {
    /// List the blocks of a data directory, as `promtool tsdb list`.
    List {
        /// Data directory.
        #[arg(default_value = "data/")]
        dir: std::path::PathBuf,
    },
    /// Show cardinality of a block (top metrics, labels, label pairs), as `promtool tsdb analyze`.
    Analyze {
        #[arg(default_value = "data/")]
        dir: std::path::PathBuf,
        /// Block id to analyze (default the newest).
        block: Option<String>,
        /// How many items to show in each list.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Write pure Prometheus blocks (index v2, XOR chunks) of everything in a Pharos data
    /// directory, head included, into OUT.
    Export {
        /// Pharos data directory (not in use by a running server).
        dir: std::path::PathBuf,
        /// Output directory for the blocks.
        out: std::path::PathBuf,
    },
    /// Create blocks from other data.
    #[command(name = "create-blocks-from", subcommand)]
    CreateBlocksFrom(CreateFrom),
}

#[derive(Debug, Subcommand)]
pub enum CreateFrom {
    /// Import samples from an OpenMetrics file (every sample needs a timestamp; the file ends
    /// with `# EOF`), as `promtool tsdb create-blocks-from openmetrics`.
    Openmetrics(OpenMetricsArgs),
}

#[derive(Debug, Args)]
pub struct OpenMetricsArgs {
    /// OpenMetrics input file.
    pub input: std::path::PathBuf,
    /// Output directory for the blocks.
    #[arg(default_value = "data/")]
    pub output: std::path::PathBuf,
    /// Maximum duration of created blocks.
    #[arg(long = "max-block-duration", default_value = "2h", value_parser = crate::cli::parse_duration_ms)]
    pub max_block_duration_ms: i64,
    /// Do not print created blocks.
    #[arg(short, long)]
    pub quiet: bool,
}

pub fn run(cmd: TsdbCommand) -> ExitCode {
    let result = match cmd {
        TsdbCommand::List { dir } => {
            tsdb::cli::list(&dir).map(|s| print!("{s}")).map_err(anyhow::Error::from)
        }
        TsdbCommand::Analyze { dir, block, limit } => {
            tsdb::cli::analyze_block(&dir, block.as_deref(), limit)
                .map(|s| print!("{s}"))
                .map_err(anyhow::Error::from)
        }
        TsdbCommand::CreateBlocksFrom(CreateFrom::Openmetrics(args)) => import_openmetrics(&args),
        TsdbCommand::Export { dir, out } => export(&dir, &out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pharos tsdb: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn export(dir: &Path, out: &Path) -> anyhow::Result<()> {
    let db = tsdb::Db::open(dir, tsdb::Options::default())
        .with_context(|| format!("cannot open {}", dir.display()))?;
    db.export(out)?;
    db.close()?;
    print!("{}", tsdb::cli::list(out)?);
    Ok(())
}

/// Buffered samples after which blocks are written, bounding memory on large imports.
const FLUSH_EVERY_SAMPLES: u64 = 20_000_000;

fn import_openmetrics(args: &OpenMetricsArgs) -> anyhow::Result<()> {
    let body = std::fs::read(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let progress = progress_bar(body.len() as u64, args.quiet);
    let mut writer = tsdb::BlockWriter::new(&args.output, args.max_block_duration_ms)?;
    let mut parser = textparse::Parser::new(&body, textparse::Format::OpenMetrics);
    let mut samples: u64 = 0;
    let mut blocks = Vec::new();
    // Backfill files list a series' samples line after line: its text repeats, so its labels
    // are parsed (and interned) once per run of lines.
    let mut prev: Option<(Vec<u8>, Labels)> = None;
    loop {
        let entry = parser
            .next()
            .map_err(|e| anyhow::anyhow!("{}: line {}: {}", args.input.display(), e.line, e.msg))?;
        let Some(kind) = entry else { break };
        if kind != textparse::EntryKind::Series {
            continue;
        }
        let Some(t) = parser.timestamp() else {
            bail!(
                "{}: line {}: expected timestamp for series {}",
                args.input.display(),
                parser.line(),
                String::from_utf8_lossy(parser.series())
            );
        };
        let labels = match &prev {
            Some((text, labels)) if text.as_slice() == parser.series() => labels.clone(),
            _ => {
                let mut pairs: Vec<(String, String)> =
                    vec![("__name__".into(), parser.metric_name().into_owned())];
                pairs.extend(parser.labels().map(|(n, v)| (n.to_string(), v.into_owned())));
                let labels = Labels::new(pairs);
                prev = Some((parser.series().to_vec(), labels.clone()));
                labels
            }
        };
        writer.append(&labels, t, parser.value())?;
        samples += 1;
        if samples.is_multiple_of(100_000) {
            progress.set_position(parser_offset(&body, parser.series()));
        }
        if writer.buffered_samples() >= FLUSH_EVERY_SAMPLES {
            blocks.extend(writer.flush()?);
        }
    }
    blocks.extend(writer.flush()?);
    progress.finish_and_clear();
    if !args.quiet {
        println!(
            "imported {samples} samples into {} block(s) in {}",
            blocks.len(),
            args.output.display()
        );
        print!("{}", tsdb::cli::list(Path::new(&args.output))?);
    }
    Ok(())
}

/// The byte offset of `part` (a slice of `body`) within `body`, for the progress bar.
fn parser_offset(body: &[u8], part: &[u8]) -> u64 {
    (part.as_ptr() as usize).saturating_sub(body.as_ptr() as usize) as u64
}

fn progress_bar(len: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

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

/// Largest piece of the input parsed at once: the parser addresses at most 4 GiB, and reading
/// piece by piece bounds memory on large files.
const PIECE_BYTES: usize = 1 << 30;

/// What an import carries from one piece of the input to the next.
struct Import<'a> {
    args: &'a OpenMetricsArgs,
    writer: tsdb::BlockWriter,
    blocks: Vec<tsdb::meta::BlockMeta>,
    samples: u64,
    /// Lines and bytes of the input before the current piece.
    lines_before: usize,
    bytes_before: u64,
    progress: ProgressBar,
    /// Backfill files list a series' samples line after line: its text repeats, so its labels
    /// are parsed (and interned) once per run of lines.
    prev: Option<(Vec<u8>, Labels)>,
}

fn import_openmetrics(args: &OpenMetricsArgs) -> anyhow::Result<()> {
    import_in_pieces(args, PIECE_BYTES)
}

/// Imports `args.input` parsed in pieces of at most `piece_bytes`, each cut after a complete
/// line and ended with `# EOF` as if the input ended there.
fn import_in_pieces(args: &OpenMetricsArgs, piece_bytes: usize) -> anyhow::Result<()> {
    use std::io::Read;
    let open_err = || format!("cannot read {}", args.input.display());
    let mut file = std::fs::File::open(&args.input).with_context(open_err)?;
    let total = file.metadata().with_context(open_err)?.len();
    let mut imp = Import {
        args,
        writer: tsdb::BlockWriter::new(&args.output, args.max_block_duration_ms)?,
        blocks: Vec::new(),
        samples: 0,
        lines_before: 0,
        bytes_before: 0,
        progress: progress_bar(total, args.quiet),
        prev: None,
    };
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let have = buf.len();
        (&mut file)
            .take((piece_bytes - have.min(piece_bytes)) as u64 + 1)
            .read_to_end(&mut buf)
            .with_context(open_err)?;
        let at_end = buf.len() <= piece_bytes;
        if at_end {
            imp.piece(&buf)?;
            break;
        }
        // Parse up to the last complete line, as if the input ended there.
        let Some(cut) = buf[..piece_bytes].iter().rposition(|&b| b == b'\n') else {
            bail!(
                "{}: line {}: line longer than {piece_bytes} bytes",
                args.input.display(),
                imp.lines_before + 1
            );
        };
        let rest = buf.split_off(cut + 1);
        let lines = buf.iter().filter(|&&b| b == b'\n').count();
        let len = buf.len() as u64;
        buf.extend_from_slice(b"# EOF\n");
        imp.piece(&buf)?;
        imp.lines_before += lines;
        imp.bytes_before += len;
        buf = rest;
    }
    let Import { mut writer, mut blocks, samples, progress, .. } = imp;
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

impl Import<'_> {
    /// Parses one piece (ending with `# EOF`) and buffers its samples.
    fn piece(&mut self, body: &[u8]) -> anyhow::Result<()> {
        let input = self.args.input.display();
        let mut parser = textparse::Parser::new(body, textparse::Format::OpenMetrics);
        loop {
            let entry = parser.next().map_err(|e| {
                anyhow::anyhow!("{input}: line {}: {}", e.line + self.lines_before, e.msg)
            })?;
            let Some(kind) = entry else { break };
            if kind != textparse::EntryKind::Series {
                continue;
            }
            let Some(t) = parser.timestamp() else {
                bail!(
                    "{input}: line {}: expected timestamp for series {}",
                    parser.line() + self.lines_before,
                    String::from_utf8_lossy(parser.series())
                );
            };
            let labels = match &self.prev {
                Some((text, labels)) if text.as_slice() == parser.series() => labels.clone(),
                _ => {
                    let mut pairs: Vec<(String, String)> =
                        vec![("__name__".into(), parser.metric_name().into_owned())];
                    pairs.extend(parser.labels().map(|(n, v)| (n.to_string(), v.into_owned())));
                    let labels = Labels::new(pairs);
                    self.prev = Some((parser.series().to_vec(), labels.clone()));
                    labels
                }
            };
            self.writer.append(&labels, t, parser.value())?;
            self.samples += 1;
            if self.samples.is_multiple_of(100_000) {
                let at = self.bytes_before + parser_offset(body, parser.series());
                self.progress.set_position(at);
            }
            if self.writer.buffered_samples() >= FLUSH_EVERY_SAMPLES {
                self.blocks.extend(self.writer.flush()?);
            }
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use storage::{Queryable, collect_samples};

    fn args(input: &Path, output: &Path) -> OpenMetricsArgs {
        OpenMetricsArgs {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
            max_block_duration_ms: 2 * 3600 * 1000,
            quiet: true,
        }
    }

    fn dump(dir: &Path) -> Vec<(Labels, Vec<(i64, u64)>)> {
        let db = tsdb::Db::open(dir, tsdb::Options::default()).unwrap();
        let q = db.querier(i64::MIN, i64::MAX).unwrap();
        let m = [model::Matcher::new(model::MatchType::Regex, "__name__", ".+").unwrap()];
        q.select(true, None, &m)
            .unwrap()
            .map(|s| {
                let mut s = s.unwrap();
                let v = collect_samples(s.samples.as_mut()).unwrap();
                (s.labels.clone(), v.iter().map(|x| (x.t, x.v.to_bits())).collect())
            })
            .collect()
    }

    #[test]
    fn small_pieces_import_the_same_data_and_report_absolute_lines() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.om");
        let mut text = String::new();
        for name in ["a_total", "b"] {
            text.push_str(&format!("# TYPE {} unknown\n", name));
            for s in 0..3 {
                for k in 0..40 {
                    text.push_str(&format!("{name}{{s=\"{s}\"}} {}.5 {}\n", k * s, 1000 + k * 15));
                }
            }
        }
        text.push_str("# EOF\n");
        std::fs::write(&input, &text).unwrap();
        let whole = dir.path().join("whole");
        import_in_pieces(&args(&input, &whole), PIECE_BYTES).unwrap();
        for piece in [64, 200, 1000] {
            let out = dir.path().join(format!("p{piece}"));
            import_in_pieces(&args(&input, &out), piece).unwrap();
            assert_eq!(dump(&out), dump(&whole), "piece size {piece}");
        }
        assert_eq!(dump(&whole).iter().map(|s| s.1.len()).sum::<usize>(), 240);

        // A bad line far into the file is reported with its line number in the whole file.
        let bad_line = text.lines().count() - 3;
        let mut lines: Vec<&str> = text.lines().collect();
        lines[bad_line - 1] = "b{s=\"2\"} x 1";
        std::fs::write(&input, lines.join("\n") + "\n").unwrap();
        for piece in [200, PIECE_BYTES] {
            let err = import_in_pieces(&args(&input, &dir.path().join("bad")), piece)
                .unwrap_err()
                .to_string();
            assert!(err.contains(&format!("line {bad_line}:")), "piece {piece}: {err}");
        }
    }
}

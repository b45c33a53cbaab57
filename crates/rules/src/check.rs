//! `promtool check rules`: validation of rule files with the same output and exit codes,
//! the duplicate-rule lint, and Pharos' own lints (see [`crate::lint`]).
//!
//! Output per file: `Checking <file>` then `  SUCCESS: N rules found` (stdout) or
//! `  FAILED:` and one line per error (stderr), then an empty line. Exit code 1 on errors;
//! lint findings exit 0 unless `lint_fatal` (then 3), as promtool.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::lint;
use crate::rulefmt::{self, RuleFile};

/// Options of `check rules`.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// `--lint=duplicate-rules` (the default) versus `--lint=none`.
    pub lint_duplicates: bool,
    /// `--lint-fatal`.
    pub lint_fatal: bool,
    /// Pharos' extra lints (printed as warnings after the summary).
    pub pharos_lints: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions { lint_duplicates: true, lint_fatal: false, pharos_lints: true }
    }
}

/// What the command prints and its exit code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// Checks rule files with default options.
pub fn check_files(paths: &[String]) -> CheckReport {
    check_files_with(paths, &CheckOptions::default())
}

/// Checks rule files.
pub fn check_files_with(paths: &[String], opts: &CheckOptions) -> CheckReport {
    let mut r = CheckReport::default();
    let (mut failed, mut has_errors) = (false, false);
    for f in paths {
        let _ = writeln!(r.stdout, "Checking {f}");
        let parsed = std::fs::read_to_string(f)
            .map_err(|e| vec![format!("{f}: {}", io_message(&e))])
            .and_then(|text| {
                rulefmt::parse(&text, &crate::expr::validate)
                    .map_err(|es| es.into_iter().map(|e| format!("{f}: {e}")).collect())
            });
        let rf = match parsed {
            Ok(rf) => rf,
            Err(errs) => {
                failed = true;
                has_errors = true;
                r.stderr.push_str("  FAILED:\n");
                for e in errs {
                    let _ = writeln!(r.stderr, "{e}");
                }
                r.stdout.push('\n');
                continue;
            }
        };
        let n: usize = rf.groups.iter().map(|g| g.rules.len()).sum();
        if let Some(msg) = opts.lint_duplicates.then(|| duplicates(&rf)).flatten() {
            failed = true;
            let _ = writeln!(r.stderr, "  FAILED:\nlint error {msg}");
        } else {
            let _ = writeln!(r.stdout, "  SUCCESS: {n} rules found");
        }
        if opts.pharos_lints {
            for w in lint::lint_file(&rf) {
                let _ = writeln!(r.stderr, "  WARNING: {w}");
            }
        }
        r.stdout.push('\n');
    }
    r.exit_code = match (failed, has_errors) {
        (true, true) => 1,
        (true, false) if opts.lint_fatal => 3,
        _ => 0,
    };
    r
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "open: no such file or directory".into(),
        _ => e.to_string(),
    }
}

/// promtool's duplicate lint: rules with the same metric (record or alert name) and labels.
fn duplicates(rf: &RuleFile) -> Option<String> {
    let mut all: Vec<(String, BTreeMap<String, String>)> = Vec::new();
    for g in &rf.groups {
        for rule in &g.rules {
            let mut labels = g.labels.clone();
            labels.extend(rule.labels.clone());
            all.push((rule.name().to_string(), labels));
        }
    }
    all.sort();
    let mut dups: Vec<&(String, BTreeMap<String, String>)> = Vec::new();
    for w in all.windows(2) {
        if w[0] == w[1] && dups.last().is_none_or(|d| **d != w[0]) {
            dups.push(&w[1]);
        }
    }
    if dups.is_empty() {
        return None;
    }
    let mut msg = format!("{} duplicate rule(s) found.\n", dups.len());
    for (metric, labels) in dups {
        let _ = writeln!(msg, "Metric: {metric}\nLabel(s):");
        for (k, v) in labels {
            let _ = writeln!(msg, "\t{k}: {v}");
        }
    }
    msg.push_str("Might cause inconsistency while recording expressions");
    Some(msg)
}

//! `promtool test rules`: Prometheus' rule unit-test files, with the same pass/fail outcome
//! and the same messages.
//!
//! ```yaml
//! rule_files: [rules.yml]          # relative to the test file; globs allowed
//! evaluation_interval: 1m          # default 1m
//! group_eval_order: [g1, g2]
//! tests:
//!   - interval: 1m                 # input sample spacing and default group interval
//!     name: optional
//!     external_labels: {..}
//!     external_url: http://..
//!     input_series: [{series: 'up{job="a"}', values: '1 1 0x10'}]
//!     alert_rule_test: [{eval_time: 5m, alertname: X, exp_alerts: [{exp_labels: {..}, exp_annotations: {..}}]}]
//!     promql_expr_test: [{expr: .., eval_time: 5m, exp_samples: [{labels: 'x{a="b"}', value: 1}]}]
//! ```

mod format;
mod runner;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

pub use format::{format_alerts, format_samples, indent_lines};

/// A whole unit-test file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitTestFile {
    #[serde(default)]
    pub rule_files: Vec<String>,
    pub evaluation_interval: Option<String>,
    #[serde(default)]
    pub group_eval_order: Vec<String>,
    #[serde(default)]
    pub tests: Vec<TestGroup>,
    #[serde(default)]
    pub fuzzy_compare: bool,
}

/// One entry of `tests`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestGroup {
    pub interval: Option<String>,
    #[serde(default)]
    pub input_series: Vec<InputSeries>,
    #[serde(default)]
    pub alert_rule_test: Vec<AlertTestCase>,
    #[serde(default)]
    pub promql_expr_test: Vec<PromqlTestCase>,
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub external_url: String,
    #[serde(default)]
    pub name: String,
    pub start_timestamp: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSeries {
    #[serde(default)]
    pub series: String,
    #[serde(default)]
    pub values: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertTestCase {
    pub eval_time: Option<String>,
    #[serde(default)]
    pub alertname: String,
    #[serde(default)]
    pub exp_alerts: Vec<ExpAlert>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpAlert {
    #[serde(default)]
    pub exp_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub exp_annotations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromqlTestCase {
    #[serde(default)]
    pub expr: String,
    pub eval_time: Option<String>,
    #[serde(default)]
    pub exp_samples: Vec<ExpSample>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpSample {
    #[serde(default)]
    pub labels: String,
    #[serde(default)]
    pub value: f64,
    #[serde(default)]
    pub histogram: String,
}

/// The outcome of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileOutcome {
    pub file: String,
    pub passed: bool,
    /// Failure messages as promtool prints them.
    pub errors: Vec<String>,
}

/// What `test rules` prints, its exit code and per-file outcomes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitTestReport {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
    pub files: Vec<FileOutcome>,
}

/// Options of `test rules`.
#[derive(Debug, Clone, Default)]
pub struct UnitTestOptions {
    /// `--run`: only test groups whose name matches one of these regexes.
    pub run: Vec<String>,
}

/// Runs unit-test files.
pub fn run(files: &[String]) -> UnitTestReport {
    run_with(files, &UnitTestOptions::default())
}

/// Runs unit-test files with options.
pub fn run_with(files: &[String], opts: &UnitTestOptions) -> UnitTestReport {
    let mut r = UnitTestReport::default();
    let filter = if opts.run.is_empty() {
        None
    } else {
        model::regex_compat::compile_unanchored(&opts.run.join("|")).ok()
    };
    for f in files {
        let _ = writeln!(r.stdout, "Unit Testing:  {f}");
        let errors = run_file(f, filter.as_ref(), &mut r.stderr);
        if errors.is_empty() {
            r.stdout.push_str("  SUCCESS\n");
        } else {
            r.stderr.push_str("  FAILED:\n");
            for e in &errors {
                let _ = writeln!(r.stderr, "{e}");
                r.stdout.push('\n');
            }
            r.exit_code = 1;
        }
        r.stdout.push('\n');
        r.files.push(FileOutcome { file: f.clone(), passed: errors.is_empty(), errors });
    }
    r
}

fn parse_duration(s: &Option<String>) -> Result<i64, String> {
    match s {
        None => Ok(0),
        Some(s) => model::duration::parse_duration(s).map_err(|e| e.to_string()),
    }
}

fn run_file(path: &str, filter: Option<&regex::Regex>, stderr: &mut String) -> Vec<String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return vec![format!("open {path}: {e}")],
    };
    let file: UnitTestFile = match serde_saphyr::from_str(&text) {
        Ok(f) => f,
        Err(e) => return vec![e.to_string()],
    };
    let dir = Path::new(path).parent().unwrap_or(Path::new("."));
    let rule_files = resolve_rule_files(&file.rule_files, dir, stderr);
    let eval_interval = match parse_duration(&file.evaluation_interval) {
        Ok(0) => 60_000,
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    let mut order = BTreeMap::new();
    for (i, g) in file.group_eval_order.iter().enumerate() {
        if order.insert(g.clone(), i).is_some() {
            return vec![format!("group name repeated in evaluation order: {g}")];
        }
    }
    let mut errors = Vec::new();
    for tg in &file.tests {
        if filter.is_some_and(|re| !re.is_match(&tg.name)) {
            continue;
        }
        let ctx = runner::TestContext {
            eval_interval_ms: eval_interval,
            default_interval: file.evaluation_interval.clone(),
            group_order: &order,
            rule_files: &rule_files,
            fuzzy: file.fuzzy_compare,
        };
        errors.extend(runner::run_group(tg, &ctx));
    }
    errors
}

fn resolve_rule_files(patterns: &[String], dir: &Path, stderr: &mut String) -> Vec<String> {
    let mut out = Vec::new();
    for p in patterns {
        let full = if p.is_empty() || Path::new(p).is_absolute() {
            p.clone()
        } else {
            dir.join(p).to_string_lossy().into_owned()
        };
        let matched: Vec<String> = glob::glob(&full)
            .map(|paths| paths.flatten().map(|p| p.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        if matched.is_empty() {
            let _ = writeln!(stderr, "  WARNING: no file match pattern {full}");
        }
        out.extend(matched);
    }
    out
}

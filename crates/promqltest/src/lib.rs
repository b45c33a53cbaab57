//! The PromQL test scripting language (`load`, `clear`, `eval`), shared by the conformance runner
//! and by other crates' tests as a fixture builder.
//!
//! - [`load`]: appends the series of a `load <interval>` block to any [`storage::Appendable`].
//! - [`notation`]: the expanding series notation (`1+2x10 _ stale`), also used by rule unit tests.
//! - [`script`] and [`runner`]: parse and run whole `.test` files against [`promql::Engine`],
//!   reporting passed, failed and skipped cases.
//! - [`synth`]: deterministic synthetic data, as OpenMetrics text and as samples, for
//!   differential tests and benchmarks against Prometheus.

pub mod notation;
pub mod runner;
pub mod script;
pub mod synth;

pub use runner::{CaseOutcome, FileReport, run_script};

/// Errors in a test script or fixture.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The script text is malformed.
    #[error("line {line}: {msg}")]
    Syntax { line: usize, msg: String },
    /// The notation uses a feature this implementation does not load (native histograms).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Appending to the storage failed.
    #[error("storage: {0}")]
    Storage(String),
}

/// Loads the body of a `load <interval>` command (the `load` line included) into `storage`.
pub fn load(storage: &dyn storage::Appendable, script: &str) -> Result<(), Error> {
    let mut lines = script.lines().enumerate().filter(|(_, l)| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#')
    });
    let (first_no, first) =
        lines.next().ok_or(Error::Syntax { line: 1, msg: "empty load".into() })?;
    let interval = script::parse_load_header(first.trim())
        .map_err(|msg| Error::Syntax { line: first_no + 1, msg })?;
    let mut series = Vec::new();
    for (no, line) in lines {
        let (labels, values) =
            notation::parse_series_line(line.trim(), interval).map_err(|e| e.at_line(no + 1))?;
        series.push((labels, values));
    }
    append_series(storage, &series)
}

/// Appends loaded series (labels and `(t, v)` points) in one batch.
pub fn append_series(
    storage: &dyn storage::Appendable,
    series: &[(model::Labels, Vec<(i64, f64)>)],
) -> Result<(), Error> {
    let mut app = storage.appender();
    for (labels, values) in series {
        for (t, v) in values {
            app.append(0, labels, *t, *v).map_err(|e| Error::Storage(e.to_string()))?;
        }
    }
    app.commit().map_err(|e| Error::Storage(e.to_string()))
}

impl Error {
    /// Sets the line number of a syntax error.
    pub fn at_line(self, line: usize) -> Error {
        match self {
            Error::Syntax { msg, .. } => Error::Syntax { line, msg },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use storage::{MemStorage, Queryable};

    #[test]
    fn load_appends_expanded_series() {
        let s = MemStorage::new();
        load(&s, "load 1m\n  up{job=\"a\"} 1+1x2 _ 7\n  other 5").unwrap();
        assert_eq!(s.num_series(), 2);
        let q = s.querier(0, i64::MAX).unwrap();
        let m = [model::Matcher::equal("job", "a")];
        let mut set = q.select(true, None, &m).unwrap();
        let mut series = set.next().unwrap().unwrap();
        let got = storage::collect_samples(series.samples.as_mut()).unwrap();
        let ts: Vec<i64> = got.iter().map(|x| x.t).collect();
        assert_eq!(ts, vec![0, 60_000, 120_000, 240_000]);
        assert_eq!(got[3].v, 7.0);
    }

    #[test]
    fn bad_scripts_are_errors() {
        let s = MemStorage::new();
        assert!(load(&s, "load x\n a 1").is_err());
        assert!(load(&s, "load 1m\n a{ 1").is_err());
    }
}

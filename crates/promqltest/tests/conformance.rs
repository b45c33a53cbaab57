//! Runs every Prometheus `.test` script (../shared/promqltest or $PROMQLTEST_DIR) and the
//! project's own scripts in testdata/, printing a per-file table. Fails if any stable case fails.

use std::path::{Path, PathBuf};

/// Files that need experimental features or native histograms as a whole.
const SKIP_FILES: &[(&str, &str)] = &[
    ("native_histograms.test", "native histograms"),
    ("duration_expression.test", "duration expressions are experimental"),
    ("fill-modifier.test", "fill modifiers are experimental"),
    ("extended_vectors.test", "anchored/smoothed range selectors are experimental"),
    ("info.test", "info() is experimental"),
    ("start_timestamps.test", "start timestamps are experimental"),
    ("type_and_unit.test", "type-and-unit labels are experimental"),
];

/// Stable cases that do not pass yet (listed with FAIL above). Every stable case passes.
const KNOWN_FAILURES: usize = 0;

fn dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v = vec![root.join("testdata")];
    let shared = std::env::var("PROMQLTEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| root.join("../../../shared/promqltest"));
    if shared.is_dir() {
        v.push(shared);
    } else {
        println!("skipped: {} not found", shared.display());
    }
    v
}

#[test]
fn all_promql_test_scripts() {
    let mut total_failed = 0;
    println!("{:<28} {:>7} {:>7} {:>8}", "file", "passed", "failed", "skipped");
    for dir in dirs() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "test"))
            .collect();
        files.sort();
        for f in files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
            let text = std::fs::read_to_string(&f).expect("readable test file");
            let skip = SKIP_FILES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r);
            let r = promqltest::run_script(&text, skip);
            println!("{:<28} {:>7} {:>7} {:>8}", name, r.passed, r.failed.len(), r.skipped.len());
            for (line, msg) in &r.failed {
                println!("    FAIL {name}:{line}: {msg}");
            }
            let mut reasons: Vec<&String> = r.skipped.iter().map(|(_, m)| m).collect();
            reasons.sort();
            reasons.dedup();
            for reason in reasons {
                let n = r.skipped.iter().filter(|(_, m)| m == reason).count();
                println!("    skip x{n}: {reason}");
            }
            total_failed += r.failed.len();
        }
    }
    println!("total stable failures: {total_failed} (allowed: {KNOWN_FAILURES})");
    assert_eq!(total_failed, KNOWN_FAILURES, "stable PromQL cases regressed");
}

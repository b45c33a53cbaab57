//! Runs every Prometheus `.test` script (../shared/promqltest or $PROMQLTEST_DIR) and the
//! project's own scripts in testdata/, printing a per-file table. Fails if any stable case fails.

use std::path::{Path, PathBuf};

/// Files that need experimental features or native histograms as a whole.
const SKIP_FILES: &[(&str, &str)] = &[
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
    let (mut total_passed, mut total_failed, mut total_skipped) = (0, 0, 0);
    let mut skipped_lines = Vec::new();
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
            for (line, reason) in &r.skipped {
                skipped_lines.push(format!("    SKIP {name}:{line}: {reason}"));
            }
            total_passed += r.passed;
            total_failed += r.failed.len();
            total_skipped += r.skipped.len();
        }
    }
    println!("{:<28} {:>7} {:>7} {:>8}", "total", total_passed, total_failed, total_skipped);
    println!("skipped cases (file:line: reason):");
    for l in &skipped_lines {
        println!("{l}");
    }
    println!("total stable failures: {total_failed} (allowed: {KNOWN_FAILURES})");
    assert_eq!(total_failed, KNOWN_FAILURES, "stable PromQL cases regressed");
}

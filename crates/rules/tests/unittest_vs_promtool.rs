//! `rules::unittest` and the real `promtool test rules` agree on the corpus under
//! `testdata/unittest/` (pass_*: pass, fail_*: fail), with the same failure messages.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

const PROMTOOL: &str = "/usr/bin/promtool";

fn corpus() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/unittest");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with("_test.yml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "corpus missing");
    files
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Runs both tools from the corpus directory on one file: (exit code, stderr) each.
fn run_both(p: &Path) -> ((i32, String), Option<(i32, String)>) {
    let dir = p.parent().unwrap();
    let name = file_name(p);
    let cwd = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir).unwrap();
    let ours = rules::unittest::run(std::slice::from_ref(&name));
    std::env::set_current_dir(cwd).unwrap();
    let theirs = Path::new(PROMTOOL).exists().then(|| {
        let out = Command::new(PROMTOOL)
            .args(["test", "rules", &name])
            .current_dir(dir)
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
    });
    ((ours.exit_code, ours.stderr), theirs)
}

#[test]
fn outcomes_and_messages_match_promtool() {
    let have_promtool = Path::new(PROMTOOL).exists();
    if !have_promtool {
        assert!(
            std::env::var("PHAROS_REQUIRE_EXTERNAL").as_deref() != Ok("1"),
            "{PROMTOOL} missing"
        );
        println!("skipped comparison: {PROMTOOL} not installed (checking expected outcomes only)");
    }
    let mut mismatches = Vec::new();
    for p in corpus() {
        let name = file_name(&p);
        let want_pass = name.starts_with("pass_");
        let ((code, stderr), theirs) = run_both(&p);
        if (code == 0) != want_pass {
            mismatches
                .push(format!("{name}: pharos exit {code}, expected pass={want_pass}\n{stderr}"));
        }
        if let Some((tcode, tstderr)) = theirs {
            if tcode != code {
                mismatches.push(format!("{name}: promtool exit {tcode}, pharos exit {code}\n--- promtool\n{tstderr}\n--- pharos\n{stderr}"));
            } else if tstderr != stderr {
                mismatches.push(format!(
                    "{name}: messages differ\n--- promtool\n{tstderr}\n--- pharos\n{stderr}"
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n\n"));
}

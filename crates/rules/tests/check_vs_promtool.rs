//! `rules::check` and the real `promtool check rules` print the same and exit the same on
//! the files under `testdata/check/` (Pharos' own lint warnings aside, checked separately).

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

const PROMTOOL: &str = "/usr/bin/promtool";

fn files() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/check");
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml"))
        .collect();
    v.sort();
    v
}

/// Lines sorted: promtool prints template errors in Go map order, which is random.
fn normalised(s: &str) -> Vec<String> {
    let mut v: Vec<String> =
        s.lines().filter(|l| !l.starts_with("  WARNING: ")).map(str::to_string).collect();
    v.sort();
    v
}

/// Files whose PromQL syntax errors come from the parser crate and are worded differently:
/// only the outcome and the rule position are compared.
const PARSER_MESSAGES: &[&str] = &["bad_expr.rules.yml"];

fn up_to_parser_message(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|l| l.split("could not parse expression: ").next().unwrap_or("").to_string())
        .collect()
}

#[test]
fn output_and_exit_codes_match_promtool() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/check");
    let cwd = std::env::current_dir().unwrap();
    std::env::set_current_dir(&dir).unwrap();
    let mut diffs = Vec::new();
    for f in files() {
        let ours = rules::check::check_files(std::slice::from_ref(&f));
        if !Path::new(PROMTOOL).exists() {
            continue;
        }
        let out = Command::new(PROMTOOL).args(["check", "rules", &f]).output().unwrap();
        let (tout, terr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        let code = out.status.code().unwrap_or(-1);
        let (mut theirs, mut mine) = (normalised(&terr), normalised(&ours.stderr));
        if PARSER_MESSAGES.contains(&f.as_str()) {
            (theirs, mine) = (up_to_parser_message(theirs), up_to_parser_message(mine));
        }
        if (tout.as_str(), theirs, code) != (ours.stdout.as_str(), mine, ours.exit_code) {
            diffs.push(format!(
                "{f}:\n--- promtool (exit {code})\n{tout}{terr}\n--- pharos (exit {})\n{}{}",
                ours.exit_code, ours.stdout, ours.stderr
            ));
        }
    }
    std::env::set_current_dir(cwd).unwrap();
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

#[test]
fn seed_ratio_is_flagged_with_a_suggestion() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/check");
    let r = rules::check::check_files(&[dir.join("good.rules.yml").to_string_lossy().into_owned()]);
    assert_eq!(r.exit_code, 0);
    let warnings: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("  WARNING: ")).collect();
    assert_eq!(warnings.len(), 1, "{}", r.stderr);
    assert!(warnings[0].contains(r#"group "api-slo", rule 1, "HighErrorRate""#), "{}", warnings[0]);
    assert!(warnings[0].contains("always 1"), "{}", warnings[0]);
    assert!(warnings[0].contains("sum by (job) ("), "{}", warnings[0]);
}

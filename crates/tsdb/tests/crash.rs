//! Crash safety: a writer process is killed with SIGKILL at random moments, repeatedly; after
//! every kill the database must reopen and hold every sample whose commit had returned.

#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use model::Matcher;
use storage::Queryable;
use tsdb::{Db, Options};

const SERIES: usize = 50;

fn writer_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tsdb-crashwriter"))
}

fn verify(dir: &std::path::Path, first: i64, watermark: i64) {
    let db = Db::open(dir, Options { block_range_ms: 60_000, ..Options::default() }).unwrap();
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let set = q.select(true, None, &[Matcher::equal("__name__", "crash_series")]).unwrap();
    let mut n = 0;
    for s in set {
        let mut s = s.unwrap();
        let i: f64 = s.labels.get("i").unwrap().parse().unwrap();
        let samples = storage::collect_samples(s.samples.as_mut()).unwrap();
        let mut want = first;
        for x in &samples {
            if x.t > watermark {
                break;
            }
            assert_eq!(x.t, want, "series {i}: gap before {}", x.t);
            assert_eq!(x.v, x.t as f64 * (i + 1.0));
            want += 1000;
        }
        assert!(want > watermark, "series {i}: committed samples up to {watermark} missing");
        n += 1;
    }
    assert_eq!(n, SERIES);
    db.close().unwrap();
}

#[test]
fn sigkill_loses_no_committed_sample() {
    let bin = writer_path();
    let dir = tempfile::tempdir().unwrap();
    let mut watermark = 0;
    // Kill after a varying number of commits so kills land in appends, head cuts, checkpoints
    // and compactions alike.
    for round in 0..20u64 {
        let stop_after = 20 + (round * 37 % 90);
        let mut child = Command::new(&bin)
            .arg(dir.path())
            .arg(SERIES.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut seen = 0;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(t) = line.strip_prefix("committed ") {
                watermark = t.parse().unwrap();
                seen += 1;
                if seen >= stop_after {
                    child.kill().unwrap();
                    break;
                }
            }
        }
        child.wait().unwrap();
        assert!(seen > 0, "round {round}: writer made no progress");
        verify(dir.path(), 1000, watermark);
    }
    let db =
        Db::open(dir.path(), Options { block_range_ms: 60_000, ..Options::default() }).unwrap();
    assert!(!db.blocks().is_empty(), "the run should have cut blocks and checkpointed the WAL");
}

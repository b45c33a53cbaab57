//! Crash-test writer: appends batches to a database as fast as it can and prints
//! `committed <t>` after every commit that returned, so a test can SIGKILL it at any moment and
//! check that nothing it reported is lost. Usage: `tsdb-crashwriter DIR SERIES`.
//! It resumes after the newest timestamp already stored and runs maintenance (head cuts, WAL
//! checkpoints, compaction) every 50 commits with a short block range.

use std::io::Write;
use std::path::PathBuf;

use model::{Labels, Matcher};
use storage::{Appendable, Queryable};
use tsdb::{Db, Options};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: tsdb-crashwriter DIR SERIES")?);
    let n: usize = args.next().ok_or("usage: tsdb-crashwriter DIR SERIES")?.parse()?;
    let opts = Options { block_range_ms: 60_000, ..Options::default() };
    let db = Db::open(&dir, opts)?;
    let labels: Vec<Labels> = (0..n)
        .map(|i| Labels::new([("__name__", "crash_series"), ("i", &i.to_string())]))
        .collect();
    let mut t = {
        let q = db.querier(i64::MIN, i64::MAX)?;
        let mut max = 0;
        for s in q.select(true, None, &[Matcher::equal("__name__", "crash_series")])? {
            let mut s = s?;
            while let Some(x) = s.samples.next() {
                max = max.max(x.t);
            }
        }
        max + 1000
    };
    let mut refs = vec![0u64; n];
    let mut out = std::io::stdout().lock();
    for k in 0u64.. {
        let mut app = db.appender();
        for (i, l) in labels.iter().enumerate() {
            refs[i] = app.append(refs[i], l, t, t as f64 * (i + 1) as f64)?;
        }
        app.commit()?;
        writeln!(out, "committed {t}")?;
        out.flush()?;
        if k % 50 == 49 {
            db.maintain(t)?;
        }
        t += 1000;
    }
    Ok(())
}

//! Fault test: `kill -9` in a loop during heavy remote-write ingest. After every kill the
//! server is restarted on the same data directory and must come back ready; at the end every
//! sample of every request that was answered 2xx (committed) is queryable.

#![allow(clippy::unwrap_used)]

mod fault_support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fault_support::{Pharos, TimeSeries, client, empty_config, eventually, now_ms, post_write};
use remote::proto::WriteRequest;

const NAME: &str = "fault_ingest";
/// Concurrent writers, series per writer, and samples per series per request.
const WRITERS: usize = 2;
const SERIES: usize = 100;
const PER_REQUEST: i64 = 10;
const KILLS: usize = 6;

/// Request `i` of writer `w` writes, to each of the writer's series, samples at
/// `base + i*PER_REQUEST + k` with value `i`.
fn request(base: i64, w: usize, i: i64) -> WriteRequest {
    let samples: Vec<(i64, f64)> =
        (0..PER_REQUEST).map(|k| (base + i * PER_REQUEST + k, i as f64)).collect();
    WriteRequest {
        timeseries: (w * SERIES..(w + 1) * SERIES)
            .map(|id| fault_support::series(NAME, id, &samples))
            .collect::<Vec<TimeSeries>>(),
        metadata: Vec::new(),
    }
}

#[test]
fn kill9_loop_during_ingest_loses_no_committed_sample() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = empty_config(dir.path());
    let mut pharos = Pharos::start(
        &dir.path().join("data"),
        &dir.path().join("pharos.log"),
        &[format!("--config.file={}", cfg.display()), "--web.enable-remote-write-receiver".into()],
    );
    let base_ms = now_ms() - 120_000;

    // Writers send requests to their own series as fast as the server takes them; each keeps
    // the indexes of its requests answered 2xx. A writer whose request failed moves on to later
    // timestamps, never back (no out-of-order samples).
    let stop = Arc::new(AtomicBool::new(false));
    let committed: Arc<Mutex<Vec<Vec<i64>>>> = Arc::new(Mutex::new(vec![Vec::new(); WRITERS]));
    let sent = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (stop, committed, sent) = (stop.clone(), committed.clone(), sent.clone());
            let url = pharos.base.clone();
            std::thread::spawn(move || {
                let client = client();
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    match post_write(&client, &url, &request(base_ms, w, i)) {
                        Some(s) if (200..300).contains(&s) => committed.lock().unwrap()[w].push(i),
                        Some(s) if s >= 500 => {}
                        Some(s) => panic!("writer {w}: request {i} rejected with {s}"),
                        None => std::thread::sleep(Duration::from_millis(20)),
                    }
                    sent.fetch_max(i, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    let total = |c: &Vec<Vec<i64>>| c.iter().map(Vec::len).sum::<usize>();

    for kill in 0..KILLS {
        // Let ingest run until a few more requests commit (a varying number per round).
        let before = total(&committed.lock().unwrap());
        let want = before + 20 + 15 * kill;
        eventually(60, "remote writes to commit", || {
            (total(&committed.lock().unwrap()) >= want).then_some(())
        });
        pharos.kill9();
        // Requests in flight now fail; the writers keep trying while the server is down.
        std::thread::sleep(Duration::from_millis(100));
        pharos.restart();
        assert!(pharos.running(), "server did not come back after kill {kill}");
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    // One more crash with nothing in flight: the last commits must survive too.
    pharos.restart();

    let committed = committed.lock().unwrap().clone();
    let last = sent.load(Ordering::Relaxed);
    assert!(total(&committed) >= 20 * KILLS, "too little ingest to prove anything");
    let (from, to) = (base_ms, base_ms + (last + 1) * PER_REQUEST);
    let range = to - from + 1;

    for (w, reqs) in committed.iter().enumerate() {
        // Every series of the writer holds at least its committed samples.
        let min_count = reqs.len() as i64 * PER_REQUEST;
        let (lo, hi) = (w * SERIES, (w + 1) * SERIES);
        let sel = format!(
            "{NAME}{{series=~\"{}\"}}",
            (lo..hi).map(|i| i.to_string()).collect::<Vec<_>>().join("|")
        );
        let full =
            pharos.scalar(&format!("count(count_over_time({sel}[{range}ms]) >= {min_count})"), to);
        assert_eq!(full, Some(SERIES as f64), "writer {w}: some series lost committed samples");

        // Sample by sample for a few series: each committed request's samples with its value.
        for id in [lo, lo + SERIES / 2, hi - 1] {
            let got: HashMap<i64, f64> = pharos
                .raw_samples(&format!("{NAME}{{series=\"{id}\"}}"), from - 1, to)
                .into_iter()
                .collect();
            for &i in reqs {
                for k in 0..PER_REQUEST {
                    let t = base_ms + i * PER_REQUEST + k;
                    assert_eq!(
                        got.get(&t),
                        Some(&(i as f64)),
                        "series {id}: committed sample of request {i} at {t} lost"
                    );
                }
            }
        }
    }
}

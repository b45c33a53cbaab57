//! A sample budget shared by queries: a query that would push the samples held by all running
//! queries over the maximum fails, and a finished query gives back what it held.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use model::{Labels, Matcher, Timestamp};
use promql::{Engine, QueryOptions, SampleBudget};
use storage::{Appendable, MemStorage, Querier, Queryable, SelectHints, SeriesSet, StorageError};

/// A storage that, once armed, stops in `select` of metric `b` until the test releases it.
struct Gate {
    mem: MemStorage,
    waits: Waits,
}

type Waits = Arc<Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>>>;

impl Queryable for Gate {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        let inner = self.mem.querier(mint, maxt)?;
        Ok(Box::new(WaitingQuerier { inner, waits: self.waits.clone() }))
    }
}

struct WaitingQuerier {
    inner: Box<dyn Querier>,
    waits: Waits,
}

impl Querier for WaitingQuerier {
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let is_b = matchers.iter().any(|m| m.name == "__name__" && m.value == "b");
        let waits = if is_b { self.waits.lock().unwrap().take() } else { None };
        if let Some((reached, release)) = waits {
            reached.send(()).unwrap();
            release.recv().unwrap();
        }
        self.inner.select(sorted, hints, matchers)
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.inner.label_values(name, matchers)
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.inner.label_names(matchers)
    }
}

fn storage() -> MemStorage {
    let mem = MemStorage::new();
    let mut app = mem.appender();
    for i in 0..50 {
        for name in ["a", "b"] {
            let l = Labels::new([("__name__", name), ("i", &i.to_string())]);
            app.append(0, &l, 0, i as f64).unwrap();
        }
    }
    app.commit().unwrap();
    mem
}

#[test]
fn second_query_fails_while_first_holds_the_budget_and_third_succeeds_after() {
    let (reached_tx, reached_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let gate = Arc::new(Gate {
        mem: storage(),
        waits: Arc::new(Mutex::new(Some((reached_tx, release_rx)))),
    });
    let budget = Arc::new(SampleBudget::new(120));
    let opts = QueryOptions { sample_budget: Some(budget.clone()), ..QueryOptions::default() };
    let engine = Arc::new(Engine::default());

    // Query 1 holds the 50 samples of `a` while it waits in the selection of `b`.
    let first = {
        let (gate, engine, opts) = (gate.clone(), engine.clone(), opts.clone());
        std::thread::spawn(move || {
            engine.instant_query(&*gate, "count(a) + on() count(b)", 1000, &opts)
        })
    };
    reached_rx.recv().unwrap();
    assert_eq!(budget.in_use(), 50);

    // Query 2 needs 100 more: over the budget of 120.
    let q = "count(a) + on() count(b)";
    let err = engine.instant_query(&*gate, q, 1000, &opts).unwrap_err();
    assert_eq!(err.error_type(), "execution");
    assert!(
        err.to_string().starts_with(
            "query processing would load too many samples into memory in query execution"
        ),
        "{err}"
    );
    assert_eq!(budget.in_use(), 50, "a failed query gives back what it took");

    release_tx.send(()).unwrap();
    let r1 = first.join().unwrap().unwrap();
    assert!(matches!(r1.value, promql::Value::Vector(ref v) if v.len() == 1 && v[0].v == 100.0));
    assert_eq!(budget.in_use(), 0, "a finished query gives back everything");

    // Query 3, the same as query 2, fits once query 1 has finished.
    let r3 = engine.instant_query(&*gate, q, 1000, &opts).unwrap();
    assert!(matches!(r3.value, promql::Value::Vector(ref v) if v.len() == 1 && v[0].v == 100.0));
    assert_eq!(budget.in_use(), 0);
}

#[test]
fn budget_does_not_change_results_when_it_fits() {
    let mem = storage();
    let engine = Engine::default();
    let budget = Arc::new(SampleBudget::new(1_000));
    let opts = QueryOptions { sample_budget: Some(budget.clone()), ..QueryOptions::default() };
    let with = engine.range_query(&mem, "sum(rate(a[5m]))", 0, 600_000, 15_000, &opts).unwrap();
    let without =
        engine.range_query(&mem, "sum(rate(a[5m]))", 0, 600_000, 15_000, &QueryOptions::default());
    assert_eq!(format!("{:?}", with.value), format!("{:?}", without.unwrap().value));
    assert_eq!(budget.in_use(), 0);
}

/// Counts the samples the engine pulls from storage.
struct Counting {
    mem: MemStorage,
    pulled: Arc<std::sync::atomic::AtomicUsize>,
}

struct CountingQuerier {
    inner: Box<dyn Querier>,
    pulled: Arc<std::sync::atomic::AtomicUsize>,
}

struct CountingIter {
    inner: Box<dyn storage::SampleIterator>,
    pulled: Arc<std::sync::atomic::AtomicUsize>,
}

impl storage::SampleIterator for CountingIter {
    fn next(&mut self) -> Option<model::Sample> {
        let s = self.inner.next();
        if s.is_some() {
            self.pulled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        s
    }

    fn seek(&mut self, ts: Timestamp) -> Option<model::Sample> {
        let s = self.inner.seek(ts);
        if s.is_some() {
            self.pulled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        s
    }
}

impl Queryable for Counting {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(CountingQuerier {
            inner: self.mem.querier(mint, maxt)?,
            pulled: self.pulled.clone(),
        }))
    }
}

impl Querier for CountingQuerier {
    fn select(
        &self,
        sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let pulled = self.pulled.clone();
        let set = self.inner.select(sorted, hints, matchers)?;
        Ok(Box::new(set.map(move |s| {
            s.map(|s| storage::Series {
                labels: s.labels,
                samples: Box::new(CountingIter { inner: s.samples, pulled: pulled.clone() }),
            })
        })))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.inner.label_values(name, matchers)
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.inner.label_names(matchers)
    }
}

#[test]
fn a_selection_stops_loading_once_over_the_limit() {
    let mem = MemStorage::new();
    let mut app = mem.appender();
    for i in 0..40 {
        let l = Labels::new([("__name__", "m"), ("i", &format!("{i:02}"))]);
        for k in 0..20 {
            app.append(0, &l, k * 15_000, k as f64).unwrap();
        }
    }
    app.commit().unwrap();
    let pulled = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let st = Counting { mem, pulled: pulled.clone() };
    let all = std::sync::atomic::Ordering::Relaxed;

    // Per-query max_samples: the range vector of 40 series x 20 samples would hold 800; the
    // limit is 50.
    let engine = Engine::new(promql::EngineOptions { max_samples: 50, ..Default::default() });
    let e = engine.instant_query(&st, "m[10m]", 300_000, &QueryOptions::default());
    assert!(matches!(e, Err(promql::QueryError::TooManySamples)), "{e:?}");
    assert!(pulled.load(all) <= 80, "read {} samples", pulled.load(all));

    // The shared budget stops the selection the same way, and is given back.
    pulled.store(0, all);
    let budget = Arc::new(SampleBudget::new(50));
    let opts = QueryOptions { sample_budget: Some(budget.clone()), ..QueryOptions::default() };
    let e = Engine::default().instant_query(&st, "m[10m]", 300_000, &opts);
    assert_eq!(e.unwrap_err().error_type(), "execution");
    assert!(pulled.load(all) <= 80, "read {} samples", pulled.load(all));
    assert_eq!(budget.in_use(), 0);

    // Within the limits the same query reads everything and succeeds.
    let opts = QueryOptions {
        sample_budget: Some(Arc::new(SampleBudget::new(10_000))),
        ..QueryOptions::default()
    };
    let r = Engine::default().instant_query(&st, "m[10m]", 300_000, &opts);
    assert!(matches!(r.unwrap().value, promql::Value::Matrix(ref m) if m.len() == 40));

    // A range function streams its input: it holds one series' samples at a time plus its
    // output, so 40 series x 20 samples fit a limit of 70 (at most 39 outputs + 20 samples),
    // though not one of 50.
    let engine = Engine::new(promql::EngineOptions { max_samples: 70, ..Default::default() });
    let q = "count_over_time(m[10m])";
    let r = engine.instant_query(&st, q, 300_000, &QueryOptions::default()).unwrap();
    assert!(matches!(r.value, promql::Value::Vector(ref v) if v.len() == 40 && v[0].v == 20.0));
    let engine = Engine::new(promql::EngineOptions { max_samples: 50, ..Default::default() });
    let e = engine.instant_query(&st, q, 300_000, &QueryOptions::default());
    assert!(matches!(e, Err(promql::QueryError::TooManySamples)), "{e:?}");
}

#[test]
fn points_made_inside_a_subquery_count_against_the_limits() {
    let mem = MemStorage::new();
    // 3,601 inner steps of `vector(1)`: no sample comes from storage.
    let q = "count_over_time(vector(1)[1h:1s])";
    let small = Engine::new(promql::EngineOptions { max_samples: 1_000, ..Default::default() });
    let err = small.instant_query(&mem, q, 3_600_000, &QueryOptions::default()).unwrap_err();
    assert!(matches!(err, promql::QueryError::TooManySamples), "{err:?}");

    let budget = Arc::new(SampleBudget::new(1_000));
    let opts = QueryOptions { sample_budget: Some(budget.clone()), ..QueryOptions::default() };
    let err = Engine::default().instant_query(&mem, q, 3_600_000, &opts).unwrap_err();
    assert_eq!(err.error_type(), "execution", "{err}");
    assert_eq!(budget.in_use(), 0);

    let r = Engine::default().instant_query(&mem, q, 3_600_000, &QueryOptions::default()).unwrap();
    assert!(matches!(r.value, promql::Value::Vector(ref v) if v.len() == 1 && v[0].v == 3600.0));
}

//! The engine's size-dependent paths (two threads for large inputs, series-major aggregation)
//! must give the same results as the small-input paths.

use model::Labels;
use promql::{Engine, QueryOptions, Value};
use storage::{Appendable, MemStorage};

#[test]
fn parallel_range_functions_equal_per_series_results() {
    let mem = MemStorage::new();
    for i in 0..300 {
        let l = Labels::new([("__name__", "c_total"), ("i", &format!("{i:03}"))]);
        let mut app = mem.appender();
        let mut v = 0.0;
        for k in 0..1000i64 {
            v = if (k + i) % 97 == 0 { 1.0 } else { v + ((k * 7 + i) % 13) as f64 };
            app.append(0, &l, k * 15_000 + i, v).unwrap();
        }
        app.commit().unwrap();
    }
    let engine = Engine::default();
    let o = QueryOptions::default();
    for f in ["rate", "increase", "max_over_time", "resets"] {
        let all = engine.range_query(&mem, &format!("{f}(c_total[2m])"), 0, 15_000_000, 30_000, &o);
        let Value::Matrix(all) = all.unwrap().value else { panic!("matrix") };
        assert_eq!(all.len(), 300);
        for s in all.iter().step_by(37) {
            let i = s.labels.get("i").unwrap();
            let q = format!("{f}(c_total{{i=\"{i}\"}}[2m])");
            let Value::Matrix(one) =
                engine.range_query(&mem, &q, 0, 15_000_000, 30_000, &o).unwrap().value
            else {
                panic!("matrix")
            };
            assert_eq!(one[0].samples.len(), s.samples.len(), "{q}");
            for (a, b) in one[0].samples.iter().zip(&s.samples) {
                assert_eq!((a.t, a.v.to_bits()), (b.t, b.v.to_bits()), "{q}");
            }
        }
    }
}

/// Aggregations run series by series up to 2^20 (group, step) cells and step by step above;
/// both must give what a plain selector gives for one-series groups.
#[test]
fn aggregation_paths_agree() {
    let mem = MemStorage::new();
    for i in 0..300 {
        let l = Labels::new([("__name__", "g"), ("i", &format!("{i:03}"))]);
        let mut app = mem.appender();
        for k in 0..1000i64 {
            app.append(0, &l, k * 15_000 + i, ((k * 31 + i) % 101) as f64 / 7.0).unwrap();
        }
        app.commit().unwrap();
    }
    let engine = Engine::default();
    let o = QueryOptions::default();
    for step in [30_000, 4_000] {
        let q = |e: &str| match engine.range_query(&mem, e, 0, 15_000_000, step, &o).unwrap().value
        {
            Value::Matrix(m) => m,
            _ => panic!("matrix"),
        };
        let plain = q("g");
        for agg in ["sum by (i) (g)", "max by (i) (g)", "avg by (i) (g)"] {
            let got = q(agg);
            assert_eq!(got.len(), plain.len(), "{agg}");
            for (a, b) in got.iter().zip(&plain) {
                assert_eq!(a.labels.get("i"), b.labels.get("i"));
                assert_eq!(a.samples, b.samples, "{agg} step {step}");
            }
        }
    }
}

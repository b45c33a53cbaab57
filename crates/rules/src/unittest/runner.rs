//! Runs one test group as promtool does: input samples are loaded lazily up to each
//! evaluation time, all groups evaluate every `evaluation_interval` from the start to the
//! last `eval_time`, firing alerts are compared after the evaluation covering each alert
//! test's time, and PromQL expression tests run at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use model::Labels;
use promql::{Engine, EngineOptions, QueryOptions, Value};
use storage::{Appendable, MemStorage};

use super::format::{format_alerts, format_samples, indent_lines};
use super::{TestGroup, parse_duration};
use crate::group::{Group, GroupOptions, Rule};
use crate::manager::Manager;
use crate::seams::{ManualClock, NullSink, QueryFunc};
use crate::template::gofmt::format_go_duration;
use crate::{AlertState, EngineQuery};

pub(super) struct TestContext<'a> {
    pub eval_interval_ms: i64,
    pub default_interval: Option<String>,
    pub group_order: &'a BTreeMap<String, usize>,
    pub rule_files: &'a [String],
    pub fuzzy: bool,
}

type Series = (Labels, Vec<(i64, f64)>);

fn parse_input(tg: &TestGroup, interval: i64, mint: i64) -> Result<Vec<Series>, String> {
    tg.input_series
        .iter()
        .map(|s| {
            let labels =
                promqltest::notation::parse_labels(&s.series).map_err(|e| e.to_string())?;
            let values = promqltest::notation::parse_series_values(&s.values, interval)
                .map_err(|e| e.to_string())?;
            Ok((labels, values.into_iter().map(|(t, v)| (t + mint, v)).collect()))
        })
        .collect()
}

/// Appends every input sample with `t <= till` not appended yet.
fn load_till(
    storage: &MemStorage,
    input: &[Series],
    loaded: &mut [usize],
    till: i64,
) -> Result<(), String> {
    let mut app = storage.appender();
    for (i, (labels, values)) in input.iter().enumerate() {
        while loaded[i] < values.len() && values[loaded[i]].0 <= till {
            let (t, v) = values[loaded[i]];
            app.append(0, labels, t, v).map_err(|e| e.to_string())?;
            loaded[i] += 1;
        }
    }
    app.commit().map_err(|e| e.to_string())
}

fn parse_start(s: &Option<String>) -> Result<i64, String> {
    let Some(s) = s else { return Ok(0) };
    if let Ok(f) = s.parse::<f64>() {
        return Ok((f * 1000.0).round() as i64);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("cannot parse {s:?} to a valid timestamp: {e}"))
}

fn floats_equal(a: f64, b: f64, fuzzy: bool) -> bool {
    a == b
        || (fuzzy && (next_toward(a, f64::NEG_INFINITY) == b || next_toward(a, f64::INFINITY) == b))
}

fn next_toward(x: f64, to: f64) -> f64 {
    if x.is_nan() || x == to {
        return x;
    }
    if x == 0.0 {
        return if to > 0.0 { f64::from_bits(1) } else { -f64::from_bits(1) };
    }
    let bits = x.to_bits();
    let up = (to > x) == (x > 0.0);
    f64::from_bits(if up { bits + 1 } else { bits - 1 })
}

struct Env {
    storage: MemStorage,
    engine: Arc<Engine>,
    groups: Vec<Arc<Group>>,
}

fn build_env(tg: &TestGroup, ctx: &TestContext<'_>, interval: i64) -> Result<Env, Vec<String>> {
    let storage = MemStorage::new();
    let engine = Arc::new(Engine::new(EngineOptions::default()));
    let query: Arc<dyn QueryFunc> =
        Arc::new(EngineQuery::new(engine.clone(), Arc::new(storage.clone())));
    let ext = Labels::new(tg.external_labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let opts = GroupOptions {
        query,
        appendable: Arc::new(storage.clone()),
        queryable: Arc::new(storage.clone()),
        sink: Arc::new(NullSink),
        clock: Arc::new(ManualClock::new(0)),
        external_labels: ext,
        external_url: tg.external_url.clone(),
        resend_delay_ms: 60_000,
        outage_tolerance_ms: 3_600_000,
        for_grace_period_ms: 600_000,
        default_query_offset_ms: 0,
    };
    let mut groups =
        Manager::load_groups(ctx.rule_files, interval, &opts, true).map_err(|e| match e {
            crate::RuleError::Load(errs) => errs,
            other => vec![other.to_string()],
        })?;
    groups.sort_by_key(|g| ctx.group_order.get(g.name()).copied().unwrap_or(0));
    Ok(Env { storage, engine, groups })
}

pub(super) fn run_group(tg: &TestGroup, ctx: &TestContext<'_>) -> Vec<String> {
    match run_group_inner(tg, ctx) {
        Ok(errs) | Err(errs) => errs,
    }
}

fn run_group_inner(tg: &TestGroup, ctx: &TestContext<'_>) -> Result<Vec<String>, Vec<String>> {
    let one = |e: String| vec![e];
    let interval = match parse_duration(&tg.interval).map_err(one)? {
        0 => parse_duration(&ctx.default_interval).map_err(one)?.max(0),
        d => d,
    };
    let interval = if interval == 0 { 60_000 } else { interval };
    let mint = parse_start(&tg.start_timestamp).map_err(one)?;
    let input = parse_input(tg, interval, mint).map_err(one)?;
    let env = build_env(tg, ctx, interval)?;
    let test_name =
        if tg.name.is_empty() { String::new() } else { format!("    name: {},\n", tg.name) };

    let mut alert_times: BTreeMap<i64, Vec<&super::AlertTestCase>> = BTreeMap::new();
    for a in &tg.alert_rule_test {
        let t = parse_duration(&a.eval_time).map_err(one)?;
        if a.alertname.is_empty() {
            let in_group = if tg.name.is_empty() {
                String::new()
            } else {
                format!(" (in TestGroup {})", tg.name)
            };
            return Err(one(format!(
                "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                model::duration::format_duration(t)
            )));
        }
        alert_times.entry(t).or_default().push(a);
    }
    let mut max_eval = alert_times.keys().last().copied().unwrap_or(0);
    for p in &tg.promql_expr_test {
        max_eval = max_eval.max(parse_duration(&p.eval_time).map_err(one)?);
    }
    let maxt = mint + max_eval;
    let times: Vec<i64> = alert_times.keys().copied().collect();
    let mut curr = 0;
    let mut errs = Vec::new();
    let mut loaded = vec![0usize; input.len()];
    let mut ts = mint;
    while ts <= maxt {
        if let Err(e) = load_till(&env.storage, &input, &mut loaded, ts) {
            errs.push(e);
        } else {
            let mut eval_errs = Vec::new();
            for g in &env.groups {
                g.eval(ts);
                for r in g.rules() {
                    if let (_, Some(err), _, _) = r.status() {
                        eval_errs.push(format!(
                            "    rule: {}, time: {}, err: {err}",
                            r.name(),
                            format_go_duration(ts.saturating_mul(1_000_000))
                        ));
                    }
                }
            }
            if !eval_errs.is_empty() {
                errs.extend(eval_errs);
                return Ok(errs);
            }
        }
        while curr < times.len()
            && ts - mint <= times[curr]
            && times[curr] < ts + ctx.eval_interval_ms - mint
        {
            let t = times[curr];
            errs.extend(check_alerts(&env.groups, &alert_times[&t], t, &test_name));
            curr += 1;
        }
        ts += ctx.eval_interval_ms;
    }
    for p in &tg.promql_expr_test {
        if let Some(e) = check_expr(&env, p, mint, ctx.fuzzy) {
            errs.push(e);
        }
    }
    Ok(errs)
}

type AlertList = Vec<(Labels, Labels)>;

fn firing_alerts(groups: &[Arc<Group>], names: &BTreeSet<&str>) -> BTreeMap<String, AlertList> {
    let mut got: BTreeMap<String, AlertList> = BTreeMap::new();
    for g in groups {
        for r in g.rules() {
            let Rule::Alerting(ar) = r else { continue };
            if !names.contains(ar.name()) {
                continue;
            }
            let entry = got.entry(ar.name().to_string()).or_default();
            for a in ar.active_alerts() {
                if a.state == AlertState::Firing {
                    entry.push((a.labels.clone(), a.annotations.clone()));
                }
            }
        }
    }
    got
}

fn check_alerts(
    groups: &[Arc<Group>],
    cases: &[&super::AlertTestCase],
    t: i64,
    test_name: &str,
) -> Vec<String> {
    let names: BTreeSet<&str> = cases.iter().map(|c| c.alertname.as_str()).collect();
    let got_all = firing_alerts(groups, &names);
    let mut errs = Vec::new();
    for case in cases {
        let mut got = got_all.get(&case.alertname).cloned().unwrap_or_default();
        let mut exp: AlertList = case
            .exp_alerts
            .iter()
            .map(|a| {
                let mut l = a.exp_labels.clone();
                l.insert("alertname".into(), case.alertname.clone());
                (Labels::new(l), Labels::new(a.exp_annotations.clone()))
            })
            .collect();
        got.sort();
        exp.sort();
        if got != exp {
            errs.push(format!(
                "{test_name}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                case.alertname,
                model::duration::format_duration(t),
                indent_lines(&format_alerts(&exp), "            "),
                indent_lines(&format_alerts(&got), "            ")
            ));
        }
    }
    errs
}

fn check_expr(env: &Env, p: &super::PromqlTestCase, mint: i64, fuzzy: bool) -> Option<String> {
    let t = parse_duration(&p.eval_time).unwrap_or(0);
    let when = model::duration::format_duration(t);
    let head = format!("    expr: {:?}, time: {when}", p.expr);
    let res = env.engine.instant_query(&env.storage, &p.expr, mint + t, &QueryOptions::default());
    let mut got: Vec<(Labels, f64)> = match res {
        Err(e) => return Some(format!("{head}, err: {e}")),
        Ok(r) => match r.value {
            Value::Vector(v) => v.into_iter().map(|s| (s.labels, s.v)).collect(),
            Value::Scalar { v, .. } => vec![(Labels::empty(), v)],
            _ => return Some(format!("{head}, err: rule result is not a vector or scalar")),
        },
    };
    let mut exp = Vec::new();
    for s in &p.exp_samples {
        if !s.histogram.is_empty() {
            return Some(format!(
                "{head}, err: labels {:?}: native histograms are not supported",
                s.labels
            ));
        }
        match promqltest::notation::parse_labels(&s.labels) {
            Ok(l) => exp.push((l, s.value)),
            Err(e) => return Some(format!("{head}, err: labels {:?}: {e}", s.labels)),
        }
    }
    exp.sort_by(|a, b| a.0.cmp(&b.0));
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let same = exp.len() == got.len()
        && exp.iter().zip(&got).all(|(e, g)| e.0 == g.0 && floats_equal(e.1, g.1, fuzzy));
    (!same).then(|| {
        format!(
            "{head},\n        exp: {}\n        got: {}",
            format_samples(&exp),
            format_samples(&got)
        )
    })
}

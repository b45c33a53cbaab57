//! `/api/v1/query`, `/api/v1/query_range`, `format_query`, `parse_query` and
//! `query_exemplars`. Queries run on blocking threads; dropping the request cancels them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use promql::{QueryError, QueryOptions, QueryResult, Value};

use crate::envelope::{ApiError, ApiResult, ApiSuccess, ErrorType};
use crate::json::{write_labels, write_point, write_str};
use crate::params::{Params, UnixTime, parse_duration, parse_limit, parse_time, time_param};
use crate::state::ApiState;

/// Sets the cancel flag when the request future is dropped (client went away).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Options shared by both query endpoints: `timeout`, `lookback_delta`.
fn query_options(p: &Params) -> Result<QueryOptions, ApiError> {
    let mut opts = QueryOptions::default();
    let to = p.get("timeout");
    if !to.is_empty() {
        let ns = parse_duration(to).map_err(|e| ApiError::invalid_param("timeout", e))?;
        opts.timeout = Some(Duration::from_nanos(ns.max(0) as u64));
    }
    let lb = p.get("lookback_delta");
    if !lb.is_empty() {
        let ns = parse_duration(lb).map_err(|e| {
            ApiError::bad_data(format!("error parsing lookback delta duration: {e}"))
        })?;
        opts.lookback_delta_ms = Some(ns / 1_000_000);
    }
    Ok(opts)
}

/// Maps an engine error: parse errors are `bad_data`, as invalid `query` parameters for an
/// instant query (`invalid parameter "query": ...`) and bare for a range query, whose
/// handler in Prometheus 2.42 returns the engine's error as it is; others keep their type.
fn query_error(e: QueryError, instant: bool) -> ApiError {
    match e {
        QueryError::Parse(msg) if instant => ApiError::invalid_param("query", msg),
        QueryError::Parse(msg) => ApiError::bad_data(msg),
        other => ApiError::new(ErrorType::from_name(other.error_type()), other.to_string()),
    }
}

async fn run_query(
    st: &ApiState,
    p: &Params,
    instant: bool,
    run: impl FnOnce(
        &promql::Engine,
        &dyn storage::Queryable,
        &QueryOptions,
    ) -> Result<QueryResult, QueryError>
    + Send
    + 'static,
) -> ApiResult {
    let limit = parse_limit(p.get("limit"))?;
    let mut opts = query_options(p)?;
    let cancel = Arc::new(AtomicBool::new(false));
    opts.cancel = Some(cancel.clone());
    opts.sample_budget = st.sample_budget.clone();
    let _guard = CancelOnDrop(cancel);
    let (engine, queryable) = (st.engine.clone(), st.queryable.clone());
    let _in_flight = st.http_metrics.query_started();
    let started = Instant::now();
    // Queueing counts against the query's timeout, as in Prometheus.
    let budget = opts.timeout.map_or(st.query_timeout, |t| t.min(st.query_timeout));
    let permit = tokio::time::timeout(budget, st.query_slots.clone().acquire_owned())
        .await
        .map_err(|_| ApiError::new(ErrorType::Timeout, "query timed out in query queue"))?
        .map_err(|_| ApiError::new(ErrorType::Canceled, "query was canceled in query queue"))?;
    let queued = started.elapsed();
    st.http_metrics.observe_queue_time(queued);
    opts.timeout = Some(budget.saturating_sub(queued));
    let metrics = st.http_metrics.clone();
    let res = tokio::task::spawn_blocking(move || {
        // Held until the evaluation ends, even if the client has gone away meanwhile.
        let _permit = permit;
        let eval = Instant::now();
        let res = run(&engine, queryable.as_ref(), &opts);
        metrics.observe_eval(eval.elapsed());
        res
    })
    .await
    .map_err(|e| ApiError::internal(format!("query panicked: {e}")))?
    .map_err(|e| query_error(e, instant))?;
    Ok(render_result(res, limit, p.get("stats"), queued, started.elapsed() - queued))
}

/// `GET|POST /api/v1/query`.
pub async fn instant(State(st): State<ApiState>, p: Params) -> ApiResult {
    let _ = parse_limit(p.get("limit"))?;
    let t = time_param(&p, "time", UnixTime::from_unix_ms(st.now()))?.engine_ms();
    let query = p.get("query").to_string();
    run_query(&st, &p, true, move |e, q, o| e.instant_query(q, &query, t, o)).await
}

/// `GET|POST /api/v1/query_range`.
pub async fn range(State(st): State<ApiState>, p: Params) -> ApiResult {
    let _ = parse_limit(p.get("limit"))?;
    let start = parse_time(p.get("start")).map_err(|e| ApiError::invalid_param("start", e))?;
    let end = parse_time(p.get("end")).map_err(|e| ApiError::invalid_param("end", e))?;
    if end.before(start) {
        return Err(ApiError::invalid_param("end", "end timestamp must not be before start time"));
    }
    let step = parse_duration(p.get("step")).map_err(|e| ApiError::invalid_param("step", e))?;
    if step <= 0 {
        return Err(ApiError::invalid_param(
            "step",
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    // Go's Time.Sub saturates at the Duration range (about 292 years).
    if end.sub_ns(start) / step > 11_000 {
        return Err(ApiError::bad_data(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    // Go's durationMilliseconds: a step under a millisecond is 0 ms (the engine refuses it
    // as Prometheus' evaluator fails on it).
    let (start, end, step_ms) = (start.engine_ms(), end.engine_ms(), step / 1_000_000);
    let query = p.get("query").to_string();
    run_query(&st, &p, false, move |e, q, o| e.range_query(q, &query, start, end, step_ms, o)).await
}

/// Renders `{"resultType","result"[,"stats"]}` with truncation to `limit` series.
fn render_result(
    res: QueryResult,
    limit: usize,
    stats: &str,
    queued: Duration,
    took: Duration,
) -> ApiSuccess {
    let mut warnings = res.warnings;
    let mut out = String::with_capacity(256);
    out.push_str(r#"{"resultType":"#);
    let truncate = |n: usize| if limit > 0 && n > limit { limit } else { n };
    match &res.value {
        // Scalars and strings are marshalled by Go's encoding/json in Prometheus: the timestamp
        // is a float64 of seconds and a scalar's value uses 'f' formatting without exponent.
        Value::Scalar { t, v } => {
            out.push_str(r#""scalar","result":["#);
            out.push_str(&crate::json::go_json_float(*t as f64 / 1000.0));
            out.push(',');
            write_str(&mut out, &crate::json::format_value_f(*v));
            out.push(']');
        }
        Value::String { t, v } => {
            out.push_str(r#""string","result":["#);
            out.push_str(&crate::json::go_json_float(*t as f64 / 1000.0));
            out.push(',');
            write_str(&mut out, v);
            out.push(']');
        }
        Value::Vector(vec) => {
            out.push_str(r#""vector","result":["#);
            let n = truncate(vec.len());
            for (i, s) in vec[..n].iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"metric":"#);
                write_labels(&mut out, &s.labels);
                out.push_str(r#","value":"#);
                write_point(&mut out, s.t, s.v);
                out.push('}');
            }
            out.push(']');
            if n < vec.len() {
                warnings.push("results truncated due to limit".into());
            }
        }
        Value::Matrix(m) => {
            out.push_str(r#""matrix","result":["#);
            let n = truncate(m.len());
            for (i, s) in m[..n].iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"metric":"#);
                write_labels(&mut out, &s.labels);
                out.push_str(r#","values":["#);
                for (j, p) in s.samples.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    write_point(&mut out, p.t, p.v);
                }
                out.push_str("]}");
            }
            out.push(']');
            if n < m.len() {
                warnings.push("results truncated due to limit".into());
            }
        }
    }
    // Any non-empty value asks for them, as in Prometheus 2.42.
    if !stats.is_empty() {
        let secs = crate::json::go_json_float(took.as_secs_f64());
        let queue = crate::json::go_json_float(queued.as_secs_f64());
        let total = crate::json::go_json_float((queued + took).as_secs_f64());
        out.push_str(&format!(
            r#","stats":{{"timings":{{"evalTotalTime":{secs},"resultSortTime":0,"queryPreparationTime":0,"innerEvalTime":{secs},"execQueueTime":{queue},"execTotalTime":{total}}},"samples":{{"totalQueryableSamples":{},"peakSamples":{}}}}}"#,
            res.stats.total_samples, res.stats.peak_samples
        ));
    }
    out.push('}');
    ApiSuccess { data: Some(out), warnings, infos: res.infos }
}

/// `GET|POST /api/v1/format_query`.
pub async fn format_query(p: Params) -> ApiResult {
    let s = promql::parser::format_query(p.get("query"))
        .map_err(|e| ApiError::invalid_param("query", e))?;
    let mut out = String::new();
    write_str(&mut out, &s);
    Ok(ApiSuccess::data(out))
}

/// `GET|POST /api/v1/parse_query`.
pub async fn parse_query(p: Params) -> ApiResult {
    let v = promql::parser::parse_to_json(p.get("query"))
        .map_err(|e| ApiError::invalid_param("query", e))?;
    ApiSuccess::serialize(&v)
}

/// `GET|POST /api/v1/query_exemplars`: validated; no exemplar storage yet, so always empty.
pub async fn exemplars(p: Params) -> ApiResult {
    let start = time_param(&p, "start", UnixTime::MIN)?;
    let end = time_param(&p, "end", UnixTime::MAX)?;
    if end.before(start) {
        return Err(ApiError::bad_data("end timestamp must not be before start timestamp"));
    }
    promql::parser::parse(p.get("query")).map_err(|e| ApiError::bad_data(e.to_string()))?;
    Ok(ApiSuccess::data("[]".into()))
}

//! `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/<name>/values`: metadata queries over
//! the `Queryable`, run on blocking threads.

use std::collections::BTreeSet;

use axum::extract::{Path, State};
use model::{Labels, Matcher};

use crate::envelope::{ApiError, ApiResult, ApiSuccess, ErrorType};
use crate::json::{write_labels, write_str};
use crate::params::{Params, UnixTime, parse_limit, parse_match_sets, time_param};
use crate::state::ApiState;

const TRUNCATED: &str = "results truncated due to limit";

struct Range {
    limit: usize,
    start: i64,
    end: i64,
    sets: Vec<Vec<Matcher>>,
}

fn range_params(p: &Params, match_err_is_param: bool) -> Result<Range, ApiError> {
    let limit = parse_limit(p.get("limit"))?;
    let start = time_param(p, "start", UnixTime::MIN)?.from_time_ms();
    let end = time_param(p, "end", UnixTime::MAX)?.from_time_ms();
    let sets = parse_match_sets(&p.all("match[]")).map_err(|e| {
        if match_err_is_param {
            ApiError::invalid_param("match[]", e)
        } else {
            ApiError::bad_data(e)
        }
    })?;
    Ok(Range { limit, start, end, sets })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("request panicked: {e}")))?
}

fn string_list(values: &[String], warnings: Vec<String>) -> ApiSuccess {
    let mut out = String::from("[");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(&mut out, v);
    }
    out.push(']');
    ApiSuccess { data: Some(out), warnings, infos: Vec::new() }
}

fn truncate(mut v: Vec<String>, limit: usize) -> (Vec<String>, Vec<String>) {
    if limit > 0 && v.len() > limit {
        v.truncate(limit);
        return (v, vec![TRUNCATED.into()]);
    }
    (v, Vec::new())
}

/// `GET|POST /api/v1/series`.
pub async fn series(State(st): State<ApiState>, p: Params) -> ApiResult {
    // Only this handler calls Go's ParseForm itself and reports its error.
    if let Some(e) = &p.form_error {
        return Err(ApiError::bad_data(format!("error parsing form values: {e}")));
    }
    if p.all("match[]").is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let r = range_params(&p, true)?;
    let q = st.queryable.clone();
    let (found, truncated) = blocking(move || {
        let querier = q.querier(r.start, r.end).map_err(exec_err)?;
        let mut all = BTreeSet::<Labels>::new();
        for set in &r.sets {
            for s in querier.select(true, None, set).map_err(exec_err)? {
                all.insert(s.map_err(exec_err)?.labels);
            }
        }
        let truncated = r.limit > 0 && all.len() > r.limit;
        Ok((
            all.into_iter()
                .take(if r.limit > 0 { r.limit } else { usize::MAX })
                .collect::<Vec<_>>(),
            truncated,
        ))
    })
    .await?;
    let mut out = String::from("[");
    for (i, l) in found.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_labels(&mut out, l);
    }
    out.push(']');
    let warnings = if truncated { vec![TRUNCATED.to_string()] } else { Vec::new() };
    Ok(ApiSuccess { data: Some(out), warnings, infos: Vec::new() })
}

/// `DELETE /api/v1/series`: Prometheus 2.42 routes it and answers that it is not implemented.
pub async fn drop_series() -> ApiResult {
    Err(ApiError::internal("not implemented"))
}

fn exec_err(e: storage::StorageError) -> ApiError {
    match e {
        storage::StorageError::Unavailable(m) => ApiError::new(ErrorType::Unavailable, m),
        other => ApiError::new(ErrorType::Execution, other.to_string()),
    }
}

/// `GET|POST /api/v1/labels`.
pub async fn labels(State(st): State<ApiState>, p: Params) -> ApiResult {
    let r = range_params(&p, false)?;
    let q = st.queryable.clone();
    let names = blocking(move || {
        let querier = q.querier(r.start, r.end).map_err(exec_err)?;
        if r.sets.is_empty() {
            return querier.label_names(&[]).map_err(exec_err);
        }
        let mut all = BTreeSet::new();
        for set in &r.sets {
            all.extend(querier.label_names(set).map_err(exec_err)?);
        }
        Ok(all.into_iter().collect())
    })
    .await?;
    let (names, warnings) = truncate(names, r.limit);
    Ok(string_list(&names, warnings))
}

/// `GET /api/v1/label/<name>/values`.
pub async fn label_values(
    State(st): State<ApiState>,
    Path(name): Path<String>,
    p: Params,
) -> ApiResult {
    let name = unescape_name(&name);
    if name.is_empty() {
        return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
    }
    let r = range_params(&p, false)?;
    let q = st.queryable.clone();
    let values = blocking(move || {
        let querier = q.querier(r.start, r.end).map_err(exec_err)?;
        if r.sets.is_empty() {
            return querier.label_values(&name, &[]).map_err(exec_err);
        }
        let mut all = BTreeSet::new();
        for set in &r.sets {
            all.extend(querier.label_values(&name, set).map_err(exec_err)?);
        }
        Ok(all.into_iter().collect())
    })
    .await?;
    let (values, warnings) = truncate(values, r.limit);
    Ok(string_list(&values, warnings))
}

/// Prometheus 3's `U__` value-encoding escape for label names in the URL path
/// (`U__my_2e_label` is `my.label`; `__` is `_`).
fn unescape_name(name: &str) -> String {
    let Some(rest) = name.strip_prefix("U__") else { return name.to_string() };
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'_') {
            chars.next();
            out.push('_');
            continue;
        }
        let hex: String = chars.by_ref().take_while(|&c| c != '_').collect();
        match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
            Some(ch) => out.push(ch),
            None => return name.to_string(),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_names() {
        assert_eq!(unescape_name("job"), "job");
        assert_eq!(unescape_name("U__my_2e_label"), "my.label");
        assert_eq!(unescape_name("U__a__b"), "a_b");
    }
}

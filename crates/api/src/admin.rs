//! TSDB admin endpoints behind `--web.enable-admin-api`: `snapshot`, `delete_series`,
//! `clean_tombstones` (POST and PUT).

use axum::extract::State;
use serde::Serialize;

use crate::envelope::{ApiError, ApiResult, ApiSuccess, ErrorType};
use crate::params::{Params, UnixTime, time_param};
use crate::state::ApiState;

fn check_enabled(st: &ApiState) -> Result<(), ApiError> {
    if st.flags.enable_admin {
        Ok(())
    } else {
        Err(ApiError::new(ErrorType::Unavailable, "admin APIs disabled"))
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::internal)
}

/// `POST|PUT /api/v1/admin/tsdb/snapshot?skip_head=<bool>`.
pub async fn snapshot(State(st): State<ApiState>, p: Params) -> ApiResult {
    check_enabled(&st)?;
    let skip_head = match p.get("skip_head") {
        "" => false,
        s => parse_go_bool(s).ok_or_else(|| {
            ApiError::invalid_param(
                "skip_head",
                format!(
                    "unable to parse boolean: strconv.ParseBool: parsing {s:?}: invalid syntax"
                ),
            )
        })?,
    };
    let tsdb = st.tsdb.clone();
    let name =
        blocking(move || tsdb.snapshot(skip_head).map_err(|e| format!("create snapshot: {e}")))
            .await?;
    #[derive(Serialize)]
    struct Snap {
        name: String,
    }
    ApiSuccess::serialize(&Snap { name })
}

/// `POST|PUT /api/v1/admin/tsdb/delete_series?match[]=...&start=&end=`.
pub async fn delete_series(State(st): State<ApiState>, p: Params) -> ApiResult {
    check_enabled(&st)?;
    let selectors = p.all("match[]");
    if selectors.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let start = time_param(&p, "start", UnixTime::MIN)?.from_time_ms();
    let end = time_param(&p, "end", UnixTime::MAX)?.from_time_ms();
    let mut sets = Vec::new();
    for s in selectors {
        let mut parsed =
            promql::parser::selectors(s).map_err(|e| ApiError::invalid_param("match[]", e))?;
        sets.append(&mut parsed);
    }
    let tsdb = st.tsdb.clone();
    blocking(move || sets.iter().try_for_each(|m| tsdb.delete_series(m, start, end))).await?;
    Ok(ApiSuccess::default())
}

/// `POST|PUT /api/v1/admin/tsdb/clean_tombstones`.
pub async fn clean_tombstones(State(st): State<ApiState>) -> ApiResult {
    check_enabled(&st)?;
    let tsdb = st.tsdb.clone();
    blocking(move || tsdb.clean_tombstones()).await?;
    Ok(ApiSuccess::default())
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

//! `/api/v1/status/*`, `/api/v1/scrape_pools`, `/api/v1/targets`, `/api/v1/targets/metadata`,
//! `/api/v1/metadata` and `/api/v1/alertmanagers`, rendered from the read views.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use serde::Serialize;

use crate::envelope::{ApiError, ApiResult, ApiSuccess};
use crate::params::Params;
use crate::state::ApiState;
use crate::views::{ActiveTarget, DroppedTarget, MetricMetadata, ser_labels};

/// `/api/v1/status/config`.
pub async fn config(State(st): State<ApiState>) -> ApiResult {
    #[derive(Serialize)]
    struct Cfg {
        yaml: String,
    }
    ApiSuccess::serialize(&Cfg { yaml: st.config.config_yaml() })
}

/// `/api/v1/status/flags`.
pub async fn flags(State(st): State<ApiState>) -> ApiResult {
    ApiSuccess::serialize(&st.config.flags())
}

/// `/api/v1/status/runtimeinfo`.
pub async fn runtime_info(State(st): State<ApiState>) -> ApiResult {
    ApiSuccess::serialize(&st.config.runtime_info())
}

/// `/api/v1/status/buildinfo`.
pub async fn build_info(State(st): State<ApiState>) -> ApiResult {
    ApiSuccess::serialize(&st.build_info)
}

/// `/api/v1/status/tsdb` (`limit`, default 10, at most 10000).
pub async fn tsdb(State(st): State<ApiState>, p: Params) -> ApiResult {
    let mut limit = 10;
    let s = p.get("limit");
    if !s.is_empty() {
        limit = match s.parse::<i64>() {
            Ok(n) if n >= 1 => n as usize,
            _ => return Err(ApiError::bad_data("limit must be a positive number")),
        };
        if limit > 10_000 {
            return Err(ApiError::bad_data("limit must not exceed 10000"));
        }
    }
    let view = st.tsdb.clone();
    let status = tokio::task::spawn_blocking(move || view.status(limit))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::internal)?;
    ApiSuccess::serialize(&status)
}

/// `/api/v1/status/walreplay`.
pub async fn wal_replay(State(st): State<ApiState>) -> ApiResult {
    ApiSuccess::serialize(&st.tsdb.wal_replay().map_err(ApiError::internal)?)
}

/// `/api/v1/alertmanagers`.
pub async fn alertmanagers(State(st): State<ApiState>) -> ApiResult {
    #[derive(Serialize)]
    struct Am {
        url: String,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Discovery {
        active_alertmanagers: Vec<Am>,
        dropped_alertmanagers: Vec<Am>,
    }
    let wrap = |v: Vec<String>| v.into_iter().map(|url| Am { url }).collect();
    ApiSuccess::serialize(&Discovery {
        active_alertmanagers: wrap(st.alertmanagers.active()),
        dropped_alertmanagers: wrap(st.alertmanagers.dropped()),
    })
}

/// `/api/v1/scrape_pools`: the pool names, sorted.
pub async fn scrape_pools(State(st): State<ApiState>) -> ApiResult {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Discovery {
        scrape_pools: Vec<String>,
    }
    let mut scrape_pools = st.targets.scrape_pools();
    scrape_pools.sort();
    ApiSuccess::serialize(&Discovery { scrape_pools })
}

/// `/api/v1/targets` with `state` (active|dropped|any) and `scrapePool` filters.
pub async fn targets(State(st): State<ApiState>, p: Params) -> ApiResult {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Discovery {
        active_targets: Vec<ActiveTarget>,
        dropped_targets: Vec<DroppedTarget>,
    }
    let state = p.get("state").to_ascii_lowercase();
    let pool = p.get("scrapePool");
    let show_active = matches!(state.as_str(), "" | "any" | "active");
    let show_dropped = matches!(state.as_str(), "" | "any" | "dropped");
    let keep = |p2: &str| pool.is_empty() || p2 == pool;
    let mut active = Vec::new();
    if show_active {
        active = st.targets.active_targets();
        active.retain(|t| keep(&t.scrape_pool));
        // Pools sorted by name, targets in the manager's order within a pool.
        active.sort_by(|a, b| a.scrape_pool.cmp(&b.scrape_pool));
    }
    let mut dropped = Vec::new();
    if show_dropped {
        dropped = st.targets.dropped_targets();
        dropped.retain(|t| keep(&t.scrape_pool));
        dropped.sort_by(|a, b| a.scrape_pool.cmp(&b.scrape_pool));
    }
    ApiSuccess::serialize(&Discovery { active_targets: active, dropped_targets: dropped })
}

/// `/api/v1/targets/metadata` with `match_target`, `metric` and `limit`.
pub async fn targets_metadata(State(st): State<ApiState>, p: Params) -> ApiResult {
    #[derive(Serialize)]
    struct Row {
        #[serde(serialize_with = "ser_labels")]
        target: model::Labels,
        #[serde(skip_serializing_if = "Option::is_none")]
        metric: Option<String>,
        #[serde(rename = "type")]
        typ: String,
        help: String,
        unit: String,
    }
    let limit = parse_md_limit(p.get("limit"), "limit")?;
    let matchers = match p.get("match_target") {
        "" => Vec::new(),
        s => crate::params::parse_match_sets(&[s])
            .map_err(|e| ApiError::invalid_param("match_target", e))?
            .into_iter()
            .flatten()
            .collect(),
    };
    let metric = p.get("metric");
    let mut rows = Vec::new();
    for (target, mds) in st.targets.target_metadata() {
        if limit >= 0 && rows.len() as i64 >= limit {
            break;
        }
        if !matchers.iter().all(|m| m.matches(target.get(&m.name).unwrap_or(""))) {
            continue;
        }
        for md in mds {
            if !metric.is_empty() && md.metric_family != metric {
                continue;
            }
            rows.push(Row {
                target: target.clone(),
                metric: metric.is_empty().then(|| md.metric_family.clone()),
                typ: md.typ,
                help: md.help,
                unit: md.unit,
            });
        }
    }
    ApiSuccess::serialize(&rows)
}

fn parse_md_limit(s: &str, name: &str) -> Result<i64, ApiError> {
    if s.is_empty() {
        return Ok(-1);
    }
    s.parse::<i64>().map_err(|_| ApiError::bad_data(format!("{name} must be a number")))
}

/// `/api/v1/metadata` with `metric`, `limit` and `limit_per_metric`.
pub async fn metadata(State(st): State<ApiState>, p: Params) -> ApiResult {
    let limit = parse_md_limit(p.get("limit"), "limit")?;
    let per_metric = parse_md_limit(p.get("limit_per_metric"), "limit_per_metric")?;
    let metric = p.get("metric");
    let mut by_name: BTreeMap<String, BTreeSet<MetricMetadata>> = BTreeMap::new();
    for (_, mds) in st.targets.target_metadata() {
        for md in mds {
            if !metric.is_empty() && md.metric_family != metric {
                continue;
            }
            let set = by_name.entry(md.metric_family.clone()).or_default();
            if per_metric > 0 && set.len() as i64 >= per_metric {
                continue;
            }
            set.insert(md);
        }
    }
    let mut out: BTreeMap<String, Vec<MetricMetadata>> = BTreeMap::new();
    for (name, set) in by_name {
        if limit >= 0 && out.len() as i64 >= limit {
            break;
        }
        out.insert(name, set.into_iter().collect());
    }
    ApiSuccess::serialize(&out)
}

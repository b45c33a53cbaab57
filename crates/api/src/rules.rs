//! `/api/v1/rules` (filters `type`, `rule_name[]`, `rule_group[]`, `file[]`, `match[]`,
//! `exclude_alerts`) and `/api/v1/alerts`, from the rules view.

use std::collections::HashSet;

use axum::extract::State;
use serde::Serialize;

use crate::envelope::{ApiError, ApiResult, ApiSuccess};
use crate::params::{Params, parse_match_sets};
use crate::state::ApiState;
use crate::views::{Alert, Rule, RuleGroup};

/// `GET /api/v1/rules`.
pub async fn rules(State(st): State<ApiState>, p: Params) -> ApiResult {
    #[derive(Serialize)]
    struct Discovery {
        groups: Vec<RuleGroup>,
    }
    let set =
        |name: &str| -> HashSet<String> { p.all(name).into_iter().map(String::from).collect() };
    let (names, groups, files) = (set("rule_name[]"), set("rule_group[]"), set("file[]"));
    let matcher_sets = parse_match_sets(&p.all("match[]")).map_err(ApiError::bad_data)?;
    let typ = p.get("type").to_ascii_lowercase();
    if !matches!(typ.as_str(), "" | "alert" | "record") {
        return Err(ApiError::invalid_param("type", format!("not supported value {typ:?}")));
    }
    let exclude_alerts = match p.get("exclude_alerts").to_ascii_lowercase().as_str() {
        "" | "false" => false,
        "true" => true,
        other => {
            return Err(ApiError::invalid_param(
                "exclude_alerts",
                format!("strconv.ParseBool: parsing {other:?}: invalid syntax"),
            ));
        }
    };
    let mut out = Vec::new();
    for mut g in st.rules.rule_groups() {
        if (!groups.is_empty() && !groups.contains(&g.name))
            || (!files.is_empty() && !files.contains(&g.file))
        {
            continue;
        }
        g.rules.retain_mut(|r| {
            if !names.is_empty() && !names.contains(r.name()) {
                return false;
            }
            if !matcher_sets.is_empty()
                && !matcher_sets
                    .iter()
                    .any(|ms| ms.iter().all(|m| m.matches(r.labels().get(&m.name).unwrap_or(""))))
            {
                return false;
            }
            match r {
                Rule::Alerting(a) => {
                    if exclude_alerts {
                        a.alerts = None;
                    }
                    typ != "record"
                }
                Rule::Recording(_) => typ != "alert",
            }
        });
        if !g.rules.is_empty() {
            out.push(g);
        }
    }
    ApiSuccess::serialize(&Discovery { groups: out })
}

/// `GET /api/v1/alerts`: the active alerts of every alerting rule.
pub async fn alerts(State(st): State<ApiState>) -> ApiResult {
    #[derive(Serialize)]
    struct Discovery {
        alerts: Vec<Alert>,
    }
    let alerts = st
        .rules
        .rule_groups()
        .into_iter()
        .flat_map(|g| g.rules)
        .filter_map(|r| match r {
            Rule::Alerting(a) => a.alerts,
            Rule::Recording(_) => None,
        })
        .flatten()
        .collect();
    ApiSuccess::serialize(&Discovery { alerts })
}

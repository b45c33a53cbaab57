//! The error-budget dashboard, in Grafana's dashboard JSON model.

use serde_json::{Value, json};

use crate::Slo;

fn panel(
    id: usize,
    title: &str,
    kind: &str,
    grid: (u32, u32, u32, u32),
    expr: &str,
    unit: &str,
) -> Value {
    let (x, y, w, h) = grid;
    json!({
        "id": id,
        "type": kind,
        "title": title,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": "{{slo}}"}],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
    })
}

/// One dashboard with a row per SLO: SLI over the window, budget remaining, burn rates.
pub fn dashboard(slos: &[Slo]) -> Value {
    let mut panels = Vec::new();
    let mut id = 1;
    for (i, slo) in slos.iter().enumerate() {
        let y = (i as u32) * 9;
        let sel = format!("{{slo=\"{}\"}}", slo.name);
        panels.push(json!({"id": id, "type": "row", "title": format!("SLO {} ({}% over {})", slo.name, slo.objective, slo.window), "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "collapsed": false, "panels": []}));
        id += 1;
        let window = &slo.window;
        panels.push(panel(
            id,
            "SLI (good events)",
            "stat",
            (0, y + 1, 6, 8),
            &format!("1 - slo:sli_error:ratio_rate{window}{sel}"),
            "percentunit",
        ));
        id += 1;
        panels.push(panel(
            id,
            "Error budget remaining",
            "gauge",
            (6, y + 1, 6, 8),
            &format!("slo:error_budget_remaining:ratio{sel}"),
            "percentunit",
        ));
        id += 1;
        let burn = format!("slo:sli_error:ratio_rate1h{sel} / on(slo) slo:error_budget:ratio{sel}");
        panels.push(panel(id, "Burn rate (1h)", "timeseries", (12, y + 1, 12, 8), &burn, "short"));
        id += 1;
    }
    json!({
        "uid": "slo-error-budgets",
        "title": "SLO error budgets",
        "schemaVersion": 39,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "1m",
        "templating": {"list": []},
        "annotations": {"list": []},
        "panels": panels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_and_three_panels_per_slo() {
        let slos = crate::parse(
            "slos:\n  - {name: a, objective: 99.5, sli: {errors: e, total: t}}\n",
            "t",
        )
        .unwrap();
        let d = dashboard(&slos);
        let panels = d["panels"].as_array().unwrap();
        assert_eq!(panels.len(), 4);
        assert_eq!(panels[2]["targets"][0]["expr"], "slo:error_budget_remaining:ratio{slo=\"a\"}");
    }
}

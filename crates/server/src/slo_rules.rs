//! SLO files (`--slo.file`): the rules generated from them join the configuration's
//! `rule_files`, and their error-budget dashboard joins the UI's dashboards.
//!
//! Both are written under `<storage>/` so what runs can be read: the rules as
//! `default-config/slo-generated-rules.yml`, the dashboard as `web/dashboards/<uid>.json`.

use std::path::Path;

use crate::config_load::write_file;

/// Parses `slo_file`, writes the generated rule file and dashboard, and adds the rule file to
/// `cfg.rule_files`. Called on start and on every reload.
pub fn apply(cfg: &mut config::Config, slo_file: &Path, storage: &Path) -> Result<(), String> {
    let name = slo_file.display().to_string();
    let text = std::fs::read_to_string(slo_file).map_err(|e| format!("{name}: {e}"))?;
    let slos = slo::parse(&text, &name).map_err(|e| e.to_string())?;
    let rules_path = storage.join("default-config").join("slo-generated-rules.yml");
    write_file(&rules_path, slo::to_yaml(&slo::generate(&slos)).as_bytes())
        .map_err(|e| e.to_string())?;
    let dashboard = slo::dashboard(&slos);
    let uid = dashboard["uid"].as_str().unwrap_or("slo-error-budgets").to_string();
    let json = serde_json::to_vec_pretty(&dashboard).map_err(|e| e.to_string())?;
    let dashboard_path = storage.join("web").join("dashboards").join(format!("{uid}.json"));
    write_file(&dashboard_path, &json).map_err(|e| e.to_string())?;
    let rules = rules_path.display().to_string();
    if !cfg.rule_files.contains(&rules) {
        cfg.rule_files.push(rules);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_rules_join_rule_files_and_the_dashboard_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let slo_file = dir.path().join("slos.yml");
        std::fs::write(
            &slo_file,
            "slos:\n  - name: api\n    objective: 99.9\n    sli:\n      errors: http_requests_total{status=~\"5..\"}\n      total: http_requests_total\n",
        )
        .unwrap();
        let mut cfg = config::Config::default();
        apply(&mut cfg, &slo_file, dir.path()).unwrap();
        apply(&mut cfg, &slo_file, dir.path()).unwrap();
        assert_eq!(cfg.rule_files.len(), 1, "added once: {:?}", cfg.rule_files);
        let rules = std::fs::read_to_string(&cfg.rule_files[0]).unwrap();
        assert!(rules.contains("alert: ErrorBudgetBurn"), "{rules}");
        assert!(dir.path().join("web/dashboards/slo-error-budgets.json").is_file());
    }

    #[test]
    fn a_bad_slo_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let slo_file = dir.path().join("slos.yml");
        std::fs::write(&slo_file, "slos:\n  - name: api\n    objective: 120\n").unwrap();
        let err = apply(&mut config::Config::default(), &slo_file, dir.path()).unwrap_err();
        assert!(err.contains("slos.yml"), "{err}");
    }
}

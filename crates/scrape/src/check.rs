//! `promtool check config`'s target check: every target of a job's `static_configs` and of the
//! files its `file_sd_configs` name must make a target (or be dropped) under the job's
//! relabeling, as Prometheus' `TargetsFromGroup` does; the first failure rejects the
//! configuration ("no address", "invalid scheme", a bad `__scrape_interval__`, ...).

use crate::discovery::{TargetGroup, parse_target_groups};
use crate::pool::merge;
use crate::target::populate_labels;

/// Checks the targets of every scrape config; the error names the job, target and group.
pub fn check_config_targets(cfg: &config::Config) -> Result<(), String> {
    for sc in &cfg.scrape_configs {
        let relabel = config::compile_relabel_configs(&sc.relabel_configs)
            .map_err(|e| format!("job {:?}: {e}", sc.job_name))?;
        let mut groups = crate::discovery::static_groups(&sc.static_configs);
        for pattern in sc.file_sd_configs.iter().flat_map(|f| &f.files) {
            for path in config::expand_glob(pattern)? {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("checking SD file {pattern:?}: {e}"))?;
                let found = parse_target_groups(&name, &text)
                    .map_err(|e| format!("checking SD file {pattern:?}: {e}"))?;
                groups.extend(found);
            }
        }
        for group in &groups {
            check_group(group, sc, &relabel)?;
        }
    }
    Ok(())
}

fn check_group(
    group: &TargetGroup,
    sc: &config::ScrapeConfig,
    relabel: &[model::relabel::RelabelConfig],
) -> Result<(), String> {
    for (i, t) in group.targets.iter().enumerate() {
        populate_labels(&merge(&group.labels, t), sc, relabel)
            .map_err(|e| format!("instance {i} in group {}: {e}", group.source))?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(yaml: &str) -> Result<(), String> {
        check_config_targets(&config::parse(yaml, "t.yml").unwrap())
    }

    #[test]
    fn failing_targets_reject_the_config() {
        let job = "scrape_configs:\n- job_name: j\n  static_configs: [{targets: [a, 'b:1']}]\n";
        check(job).unwrap();
        let no_addr =
            format!("{job}  relabel_configs: [{{target_label: __address__, replacement: ''}}]\n");
        assert_eq!(check(&no_addr).unwrap_err(), "instance 0 in group 0: no address");
        let scheme =
            format!("{job}  relabel_configs: [{{target_label: __scheme__, replacement: ftp}}]\n");
        assert!(check(&scheme).unwrap_err().contains("invalid scheme"));
        // Dropped targets are fine.
        let dropped = format!("{job}  relabel_configs: [{{action: drop, regex: '.*'}}]\n");
        check(&dropped).unwrap();
    }
}

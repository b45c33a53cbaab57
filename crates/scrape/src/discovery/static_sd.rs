//! `static_configs`: fixed target groups.

use model::Labels;

use super::TargetGroup;

/// One group per static config, sourced by its index (as Prometheus does).
pub(crate) fn groups(cfgs: &[config::sd::StaticConfig]) -> Vec<TargetGroup> {
    cfgs.iter()
        .enumerate()
        .map(|(i, c)| TargetGroup {
            source: i.to_string(),
            targets: c.targets.iter().map(|t| Labels::new([("__address__", t.as_str())])).collect(),
            labels: Labels::new(c.labels.iter()),
        })
        .collect()
}

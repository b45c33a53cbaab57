//! `api::TargetsView` over the scrape manager.

use std::collections::BTreeMap;
use std::sync::Arc;

use api::{ActiveTarget, DroppedTarget, GoTime, MetricMetadata};
use model::Labels;

/// The scrape manager as the API sees it.
pub struct ScrapeView {
    pub manager: Arc<scrape::Manager>,
}

fn metadata_row(m: scrape::MetricMetadata) -> MetricMetadata {
    MetricMetadata {
        metric_family: m.metric,
        typ: m.metric_type.as_str().to_string(),
        help: m.help,
        unit: m.unit,
    }
}

impl api::TargetsView for ScrapeView {
    fn scrape_pools(&self) -> Vec<String> {
        self.manager.scrape_pools()
    }

    fn active_targets(&self) -> Vec<ActiveTarget> {
        self.manager
            .targets()
            .active
            .into_iter()
            .map(|t| ActiveTarget {
                discovered_labels: t.discovered_labels,
                labels: t.labels,
                scrape_pool: t.scrape_pool,
                scrape_url: t.scrape_url,
                global_url: t.global_url,
                last_error: t.last_error,
                last_scrape: GoTime(t.last_scrape_ms),
                last_scrape_duration: t.last_scrape_duration_seconds,
                health: t.health.as_str().to_string(),
                scrape_interval: t.scrape_interval,
                scrape_timeout: t.scrape_timeout,
            })
            .collect()
    }

    fn dropped_targets(&self) -> Vec<DroppedTarget> {
        self.manager
            .targets()
            .dropped
            .into_iter()
            .map(|t| DroppedTarget {
                discovered_labels: t.discovered_labels,
                scrape_pool: t.scrape_pool,
            })
            .collect()
    }

    fn target_metadata(&self) -> Vec<(Labels, Vec<MetricMetadata>)> {
        let mut by_target: BTreeMap<Labels, Vec<MetricMetadata>> = BTreeMap::new();
        for m in self.manager.targets_metadata() {
            by_target.entry(m.target).or_default().push(metadata_row(m.metadata));
        }
        by_target.into_iter().collect()
    }
}

/// Applies `scrape_configs` on every (re)load.
pub struct ScrapeReload(pub Arc<scrape::Manager>);

impl crate::Reloadable for ScrapeReload {
    fn apply(&self, cfg: &config::Config) -> Result<(), String> {
        self.0.apply_config(cfg).map_err(|e| e.to_string())
    }
}

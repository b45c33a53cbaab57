//! `api::RulesView` and `api::AlertmanagersView` over the rule manager and the notifier, and
//! the rule manager's part of a reload.

use std::path::Path;
use std::sync::Arc;

use api::{Alert, AlertingRule, GoTime, RecordingRule, Rule, RuleGroup};
use rules::api::{ApiAlert, ApiRule, ApiRuleGroup, RulesFilter};

/// The rule manager as the API sees it.
pub struct RulesManagerView {
    pub manager: Arc<rules::Manager>,
}

fn alert(a: ApiAlert) -> Alert {
    Alert {
        labels: a.labels.0,
        annotations: a.annotations.0,
        state: a.state,
        active_at: Some(GoTime(a.active_at.0)),
        keep_firing_since: a.keep_firing_since.map(|t| GoTime(t.0)),
        value: a.value,
    }
}

fn rule(r: ApiRule) -> Rule {
    match r {
        ApiRule::Alerting(r) => Rule::Alerting(AlertingRule {
            state: r.state,
            name: r.name,
            query: r.query,
            duration: r.duration.0,
            keep_firing_for: r.keep_firing_for.0,
            labels: r.labels.0,
            annotations: r.annotations.0,
            alerts: Some(r.alerts.unwrap_or_default().into_iter().map(alert).collect()),
            health: r.health,
            last_error: r.last_error,
            evaluation_time: r.evaluation_time.0,
            last_evaluation: GoTime(r.last_evaluation.0),
        }),
        ApiRule::Recording(r) => Rule::Recording(RecordingRule {
            name: r.name,
            query: r.query,
            labels: r.labels.0,
            health: r.health,
            last_error: r.last_error,
            evaluation_time: r.evaluation_time.0,
            last_evaluation: GoTime(r.last_evaluation.0),
        }),
    }
}

fn group(g: ApiRuleGroup) -> RuleGroup {
    RuleGroup {
        name: g.name,
        file: g.file,
        rules: g.rules.into_iter().map(rule).collect(),
        interval: g.interval.0,
        limit: g.limit as i64,
        evaluation_time: g.evaluation_time.0,
        last_evaluation: GoTime(g.last_evaluation.0),
    }
}

impl api::RulesView for RulesManagerView {
    fn rule_groups(&self) -> Vec<RuleGroup> {
        let all = self.manager.rules_view(&RulesFilter::default());
        all.groups.into_iter().map(group).collect()
    }
}

/// The notifier's Alertmanager endpoints as the API sees them.
pub struct NotifierView {
    pub notifier: Arc<notifier::Notifier>,
}

impl api::AlertmanagersView for NotifierView {
    fn active(&self) -> Vec<String> {
        self.notifier.alertmanagers().active
    }

    fn dropped(&self) -> Vec<String> {
        self.notifier.alertmanagers().dropped
    }
}

/// Applies `rule_files`, `global.evaluation_interval`, external labels and `alerting` on
/// every (re)load. `config::load` has already resolved the rule file globs against the config
/// file's directory, so they are expanded as they stand.
pub struct RulesReload {
    pub manager: Arc<rules::Manager>,
    pub notifier: Arc<notifier::Notifier>,
    pub external_url: String,
}

impl crate::Reloadable for RulesReload {
    fn apply(&self, cfg: &config::Config) -> Result<(), String> {
        self.notifier.apply_config(&cfg.alerting).map_err(|e| e.to_string())?;
        let files =
            rules::expand_globs(&cfg.rule_files, Path::new("")).map_err(|e| e.to_string())?;
        let interval = cfg.global.evaluation_interval.as_millis();
        let labels = cfg.global.external_labels();
        self.manager.update(interval, &files, labels, &self.external_url).map_err(|e| e.to_string())
    }
}

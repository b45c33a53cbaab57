//! The rule manager: loads rule files into groups, applies reloads (keeping unchanged groups
//! running and carrying alert state into changed ones), runs one evaluation loop per group
//! and serves the views behind `/api/v1/rules` and `/api/v1/alerts`.
//!
//! The loops are a thin async layer over the synchronous [`Group::eval`]: each waits for
//! the group's slot (see [`crate::schedule`]), evaluates on a blocking thread, and after the
//! first start evaluates twice before restoring `for` state, as Prometheus does.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use model::Labels;
use parking_lot::{Mutex, RwLock};
use tokio::sync::watch;

use crate::alerting::AlertingRule;
use crate::group::{Group, GroupOptions, Rule};
use crate::metrics::{RuleMetrics, RuleMetricsSnapshot};
use crate::recording::RecordingRule;
use crate::rulefmt::{self, RuleDef, RuleGroup};
use crate::{RuleError, api, expr, schedule};

/// Options of the manager: the seams and Prometheus' `--rules.*` flags.
#[derive(Clone)]
pub struct ManagerOptions {
    /// Query, storage, sink, clock, external labels/URL and flag values shared by all groups.
    pub group: GroupOptions,
}

type GroupKey = (String, String);

struct Running {
    group: Arc<Group>,
    stop: Option<watch::Sender<bool>>,
    /// A canonical description used to tell whether a reload changed the group.
    fingerprint: String,
}

/// Owns all rule groups.
pub struct Manager {
    opts: RwLock<GroupOptions>,
    groups: RwLock<BTreeMap<GroupKey, Running>>,
    /// True once the first configuration has been applied (later groups are not restored).
    restored: AtomicBool,
    runtime: Mutex<Option<tokio::runtime::Handle>>,
    /// The `prometheus_rule_*` metrics of all groups.
    metrics: Arc<RuleMetrics>,
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").field("groups", &self.groups.read().len()).finish()
    }
}

/// Expands `rule_files` globs relative to `base_dir` into sorted, unique file paths.
pub fn expand_globs(patterns: &[String], base_dir: &Path) -> Result<Vec<String>, RuleError> {
    let mut out = Vec::new();
    for p in patterns {
        let full = if Path::new(p).is_absolute() {
            p.clone()
        } else {
            base_dir.join(p).to_string_lossy().into_owned()
        };
        let paths = glob::glob(&full).map_err(|e| {
            RuleError::Load(vec![format!("error retrieving rule files for {p}: {e}")])
        })?;
        for path in paths.flatten() {
            out.push(path.to_string_lossy().into_owned());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn fingerprint(g: &RuleGroup, interval_ms: i64, ext: &Labels, url: &str) -> String {
    format!("{g:?}|{interval_ms}|{ext}|{url}")
}

impl Manager {
    pub fn new(opts: ManagerOptions) -> Manager {
        Manager {
            opts: RwLock::new(opts.group),
            groups: RwLock::new(BTreeMap::new()),
            restored: AtomicBool::new(false),
            runtime: Mutex::new(None),
            metrics: Arc::new(RuleMetrics::default()),
        }
    }

    /// The `prometheus_rule_*` metrics of the current groups, now.
    pub fn metrics_snapshot(&self) -> RuleMetricsSnapshot {
        let now = self.opts.read().clock.now_ms();
        self.metrics.snapshot(now)
    }

    /// Reads and validates rule files; returns every error, prefixed by its file name.
    pub fn parse_files(files: &[String]) -> Result<Vec<(String, rulefmt::RuleFile)>, RuleError> {
        let mut out = Vec::new();
        let mut errs = Vec::new();
        for f in files {
            match std::fs::read_to_string(f) {
                Err(e) => errs.push(format!("{f}: {e}")),
                Ok(text) => match rulefmt::parse(&text, &expr::validate) {
                    Ok(rf) => out.push((f.clone(), rf)),
                    Err(es) => errs.extend(es.into_iter().map(|e| format!("{f}: {e}"))),
                },
            }
        }
        if errs.is_empty() { Ok(out) } else { Err(RuleError::Load(errs)) }
    }

    fn build_rule(
        def: &RuleDef,
        group_labels: &BTreeMap<String, String>,
        opts: &GroupOptions,
        restored: bool,
    ) -> Rule {
        let mut pairs: BTreeMap<String, String> = group_labels.clone();
        pairs.extend(def.labels.clone());
        let labels = Labels::new(pairs);
        let query = expr::format(&def.expr);
        if def.alert.is_empty() {
            return Rule::Recording(RecordingRule::new(&def.record, &query, labels));
        }
        Rule::Alerting(AlertingRule::new(
            &def.alert,
            &query,
            def.for_ms,
            def.keep_firing_for_ms,
            labels,
            Labels::new(def.annotations.clone()),
            opts.external_labels.clone(),
            &opts.external_url,
            restored,
        ))
    }

    pub(crate) fn build_group(
        file: &str,
        g: &RuleGroup,
        interval_ms: i64,
        opts: &GroupOptions,
        restored: bool,
    ) -> Group {
        let rules =
            g.rules.iter().map(|d| Self::build_rule(d, &g.labels, opts, restored)).collect();
        Group::new(
            &g.name,
            file,
            g.interval_ms.filter(|i| *i > 0).unwrap_or(interval_ms),
            g.limit,
            g.query_offset_ms,
            Labels::new(g.labels.clone()),
            rules,
            opts.clone(),
        )
    }

    /// Builds groups from rule files without running them (Prometheus' `LoadGroups`):
    /// `interval_ms` is the default group interval, `restored` whether alerting rules write
    /// `ALERTS` from the first evaluation (true for unit tests and one-shot evaluation).
    pub fn load_groups(
        files: &[String],
        interval_ms: i64,
        opts: &GroupOptions,
        restored: bool,
    ) -> Result<Vec<Arc<Group>>, RuleError> {
        let parsed = Self::parse_files(files)?;
        let mut out = Vec::new();
        for (file, rf) in &parsed {
            for g in &rf.groups {
                out.push(Arc::new(Self::build_group(file, g, interval_ms, opts, restored)));
            }
        }
        Ok(out)
    }

    /// Applies a configuration: `files` are rule file paths (globs already expanded),
    /// `interval_ms` the global evaluation interval. On error nothing changes. Unchanged groups
    /// keep running; changed ones take over the old group's state; removed ones stop and
    /// their series are marked stale. Loops are spawned on `runtime` if one was given with
    /// [`Manager::run`]; otherwise groups are only evaluated by explicit [`Group::eval`] calls.
    pub fn update(
        &self,
        interval_ms: i64,
        files: &[String],
        external_labels: Labels,
        external_url: &str,
    ) -> Result<(), RuleError> {
        let parsed = Self::parse_files(files)?;
        let opts = {
            let mut o = self.opts.write();
            o.external_labels = external_labels.clone();
            o.external_url = external_url.to_string();
            o.clone()
        };
        let should_restore = !self.restored.swap(true, Ordering::SeqCst);
        let mut old = std::mem::take(&mut *self.groups.write());
        let mut new_map = BTreeMap::new();
        for (file, rf) in &parsed {
            for g in &rf.groups {
                let key = (file.clone(), g.name.clone());
                let fp = fingerprint(g, interval_ms, &external_labels, external_url);
                if let Some(running) = old.remove(&key) {
                    if running.fingerprint == fp {
                        new_map.insert(key, running);
                        continue;
                    }
                    let group = Self::build_group(file, g, interval_ms, &opts, !should_restore);
                    let group = Arc::new(group.with_metrics(self.metrics.clone()));
                    Self::stop_running(running, Some(&group));
                    new_map.insert(key, Running { group, stop: None, fingerprint: fp });
                    continue;
                }
                let group = Self::build_group(file, g, interval_ms, &opts, !should_restore);
                let group = Arc::new(group.with_metrics(self.metrics.clone()));
                new_map.insert(key, Running { group, stop: None, fingerprint: fp });
            }
        }
        for (_, running) in old {
            let group = running.group.clone();
            Self::stop_running(running, None);
            self.metrics.delete(group.metrics_key());
            group.mark_all_stale(opts.clock.now_ms());
        }
        let handle = self.runtime.lock().clone();
        if let Some(h) = handle {
            for running in new_map.values_mut() {
                if running.stop.is_none() {
                    running.stop = Some(spawn_loop(&h, running.group.clone(), should_restore));
                }
            }
        }
        *self.groups.write() = new_map;
        Ok(())
    }

    fn stop_running(running: Running, successor: Option<&Arc<Group>>) {
        if let Some(stop) = running.stop {
            let _ = stop.send(true);
        }
        if let Some(next) = successor {
            next.copy_state(&running.group);
        }
    }

    /// Starts evaluation loops for all current and future groups on `handle`.
    pub fn run(&self, handle: tokio::runtime::Handle) {
        *self.runtime.lock() = Some(handle.clone());
        let should_restore = true;
        for running in self.groups.write().values_mut() {
            if running.stop.is_none() {
                running.stop = Some(spawn_loop(&handle, running.group.clone(), should_restore));
            }
        }
    }

    /// Stops every loop (groups keep their state for the views).
    pub fn stop(&self) {
        *self.runtime.lock() = None;
        for running in self.groups.write().values_mut() {
            if let Some(stop) = running.stop.take() {
                let _ = stop.send(true);
            }
        }
    }

    /// All groups, sorted by file then name.
    pub fn rule_groups(&self) -> Vec<Arc<Group>> {
        self.groups.read().values().map(|r| r.group.clone()).collect()
    }

    /// `/api/v1/rules`.
    pub fn rules_view(&self, filter: &api::RulesFilter) -> api::RuleDiscovery {
        api::rule_discovery(&self.rule_groups(), filter)
    }

    /// `/api/v1/alerts`.
    pub fn alerts_view(&self) -> api::AlertDiscovery {
        api::alert_discovery(&self.rule_groups())
    }
}

impl Drop for Manager {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn_loop(
    h: &tokio::runtime::Handle,
    group: Arc<Group>,
    should_restore: bool,
) -> watch::Sender<bool> {
    let (tx, rx) = watch::channel(false);
    h.spawn(run_group(group, should_restore, rx));
    tx
}

/// Sleeps until the injected clock reads `target_ms` (re-checking, since the clock may be
/// manual); returns false if stopped.
async fn sleep_until(group: &Group, target_ms: i64, stop: &mut watch::Receiver<bool>) -> bool {
    loop {
        if *stop.borrow() {
            return false;
        }
        let now = group.opts.clock.now_ms();
        if now >= target_ms {
            return true;
        }
        let wait = Duration::from_millis((target_ms - now).min(1_000) as u64);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}

async fn eval_blocking(group: &Arc<Group>, ts: i64) {
    let g = group.clone();
    let _ = tokio::task::spawn_blocking(move || g.eval(ts)).await;
}

/// The loop of one group, as Prometheus' `Group.run`.
async fn run_group(group: Arc<Group>, should_restore: bool, mut stop: watch::Receiver<bool>) {
    let interval = group.interval_ms().max(1);
    let now_ns = group.opts.clock.now_ms().saturating_mul(1_000_000);
    let mut eval_ts =
        schedule::first_eval_ns(group.name(), group.file(), interval, now_ns).div_euclid(1_000_000);
    if !sleep_until(&group, eval_ts, &mut stop).await {
        return;
    }
    group.count_iteration(0);
    eval_blocking(&group, eval_ts).await;
    let mut restore_pending = should_restore && group.has_alerting_rules();
    if should_restore && !restore_pending {
        mark_restored(&group);
    }
    loop {
        if !sleep_until(&group, eval_ts + interval, &mut stop).await {
            return;
        }
        let now = group.opts.clock.now_ms();
        let missed = ((now - eval_ts) / interval - 1).max(0);
        eval_ts += (missed + 1) * interval;
        group.count_iteration(missed as u64);
        eval_blocking(&group, eval_ts).await;
        if restore_pending {
            let g = group.clone();
            let now = g.opts.clock.now_ms();
            let _ = tokio::task::spawn_blocking(move || g.restore_for_state(now)).await;
            restore_pending = false;
        }
    }
}

fn mark_restored(group: &Group) {
    for r in group.rules() {
        if let Rule::Alerting(a) = r {
            a.set_restored(true);
        }
    }
}

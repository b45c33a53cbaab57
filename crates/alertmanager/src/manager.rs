//! [`Alertmanager`]: the in-process entry point tying store, routing, dispatcher,
//! inhibition, silences, the notification log and durable state together.
//!
//! It is synchronous and single-threaded; callers share it behind a mutex. Time comes from
//! the injected [`Clock`]; [`Alertmanager::tick`] flushes due groups and returns the
//! notifications to deliver, [`Alertmanager::notified`] records the outcome.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::alert::{Alert, PostableAlert, notification_order};
use crate::clock::Clock;
use crate::config::{Config, Integration, TimeInterval};
use crate::dispatch::{Dispatcher, GroupId, RouteInfo};
use crate::error::Error;
use crate::inhibit::Inhibitor;
use crate::nflog::{NflogEntry, NflogKey, NotificationLog};
use crate::pipeline::{Decision, Notification, dedup_stage, mute_stage, time_allows};
use crate::route::Route;
use crate::silence::Silences;
use crate::state::{AlertOut, Record, RecordOut, StateLog};
use crate::timefmt::GO_ZERO_MS;

/// Options that do not come from `alertmanager.yml`.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where silences, the notification log and alerts persist; `None` keeps state in memory.
    pub storage_dir: Option<PathBuf>,
    /// `--data.retention`: how long silences and log entries are kept after they end.
    pub retention_ms: i64,
    /// `--web.external-url`.
    pub external_url: String,
    /// How often resolved alerts, expired silences and log entries are collected.
    pub gc_interval_ms: i64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            storage_dir: None,
            retention_ms: 120 * 3_600_000,
            external_url: String::new(),
            gc_interval_ms: 30 * 60_000,
        }
    }
}

/// The outcome of [`Alertmanager::push`].
#[derive(Debug, Default)]
pub struct PushReport {
    pub accepted: usize,
    /// Index in the pushed batch and why that alert was rejected.
    pub rejected: Vec<(usize, Error)>,
}

struct FlushState {
    group: GroupId,
    pending: usize,
    failed: bool,
    /// Resolved alerts of the flush with their `updated_at`, deleted on success if unchanged.
    resolved: Vec<(u64, i64)>,
}

struct Pending {
    flush: u64,
    key: NflogKey,
    firing: Vec<u64>,
    resolved: Vec<u64>,
}

/// The compiled, config-dependent part.
pub(crate) struct Compiled {
    pub config: Arc<Config>,
    pub route: Route,
    pub routes: Vec<RouteInfo>,
    pub receivers: HashMap<String, Vec<(usize, Arc<Integration>)>>,
    pub intervals: BTreeMap<String, Vec<TimeInterval>>,
}

impl Compiled {
    fn new(config: Config) -> Result<Compiled, Error> {
        let route_cfg = config.route.as_ref().ok_or_else(|| Error::config("no routes provided"))?;
        let route = Route::build(route_cfg)?;
        let mut routes = Vec::new();
        route.walk(&mut |r| routes.push(RouteInfo { key: r.key.clone(), opts: r.opts.clone() }));
        let receivers = config
            .receivers
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.integrations().into_iter().map(|(i, c)| (i, Arc::new(c))).collect(),
                )
            })
            .collect();
        let intervals = config.compiled_time_intervals()?;
        Ok(Compiled { config: Arc::new(config), route, routes, receivers, intervals })
    }
}

/// The Alertmanager core.
pub struct Alertmanager {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) opts: Options,
    pub(crate) compiled: Compiled,
    pub(crate) store: crate::store::AlertStore,
    pub(crate) inhibitor: Inhibitor,
    pub(crate) silences: Silences,
    pub(crate) nflog: NotificationLog,
    /// The flush that wrote each log entry: a slow send of an older flush finishing after a
    /// newer flush logged must not overwrite the newer entry (not persisted: no send
    /// outlives the process).
    nflog_flush: HashMap<NflogKey, u64>,
    pub(crate) dispatcher: Dispatcher,
    flushes: HashMap<u64, FlushState>,
    pending: HashMap<u64, Pending>,
    next_id: u64,
    state: Option<StateLog>,
    state_error: Option<String>,
    last_gc: i64,
    /// Alerts pushed, by status, and those rejected (`/metrics`).
    pub(crate) received: crate::metrics::ReceivedCounters,
}

impl std::fmt::Debug for Alertmanager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alertmanager")
            .field("alerts", &self.store.len())
            .field("groups", &self.dispatcher.len())
            .finish()
    }
}

impl Alertmanager {
    /// Builds the core, restoring durable state from `opts.storage_dir` if set.
    pub fn new(
        config: Config,
        opts: Options,
        clock: Arc<dyn Clock>,
    ) -> Result<Alertmanager, Error> {
        let compiled = Compiled::new(config)?;
        let inhibitor = Inhibitor::from_config(&compiled.config.inhibit_rules)?;
        let now = clock.now_ms();
        let mut am = Alertmanager {
            clock,
            opts,
            compiled,
            store: Default::default(),
            inhibitor,
            silences: Silences::default(),
            nflog: NotificationLog::default(),
            nflog_flush: HashMap::new(),
            dispatcher: Dispatcher::default(),
            flushes: HashMap::new(),
            pending: HashMap::new(),
            next_id: 1,
            state: None,
            state_error: None,
            last_gc: now,
            received: Default::default(),
        };
        if let Some(dir) = am.opts.storage_dir.clone() {
            let (log, records) = StateLog::open(&dir)?;
            am.replay(records);
            am.state = Some(log);
            am.snapshot()?;
        }
        am.regroup(now);
        Ok(am)
    }

    fn replay(&mut self, records: Vec<Record>) {
        for r in records {
            match r {
                Record::Alert { fp, alert } => self.store.restore(fp, alert.into_alert()),
                Record::AlertRefresh { fp, starts_at, ends_at, updated_at, timeout } => {
                    self.store.refresh(fp, starts_at, ends_at, updated_at, timeout);
                }
                Record::AlertDeleted { fp } => {
                    self.store.remove(fp);
                }
                Record::Silence { silence } => self.silences.restore(silence),
                Record::SilenceDeleted { id } => {
                    self.silences.gc_one(&id);
                }
                Record::Nflog { key, entry } => self.nflog.log(key, entry),
            }
        }
    }

    /// Routes every stored alert into fresh aggregation groups (startup and reload).
    fn regroup(&mut self, now: i64) {
        self.dispatcher = Dispatcher::default();
        self.flushes.clear();
        let alerts: Vec<Alert> = self.store.iter().map(|(_, a)| a.clone()).collect();
        for a in &alerts {
            self.inhibitor.observe(a);
            self.route_alert(a, now);
        }
    }

    fn route_alert(&mut self, alert: &Alert, now: i64) {
        for r in self.compiled.route.matching(&alert.labels) {
            let gl = r.group_labels(&alert.labels);
            self.dispatcher.insert(&self.compiled.routes[r.index], r.index, gl, alert, now);
        }
    }

    /// The last error writing durable state, if the most recent write failed.
    pub fn state_error(&self) -> Option<&str> {
        self.state_error.as_deref()
    }

    /// The current time from the injected clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.compiled.config
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Accepts alerts: defaults and validation as the API v2 applies them; valid alerts are
    /// stored even when others in the batch are rejected.
    pub fn push(&mut self, alerts: Vec<PostableAlert>) -> PushReport {
        let now = self.now();
        let resolve_timeout = self.compiled.config.resolve_timeout_ms();
        let mut report = PushReport::default();
        for (i, p) in alerts.into_iter().enumerate() {
            self.received.count(&p, now);
            match Alert::from_postable(p, now, resolve_timeout) {
                Ok(a) => {
                    self.insert(a, now);
                    report.accepted += 1;
                }
                Err(e) => {
                    self.received.invalid += 1;
                    report.rejected.push((i, e));
                }
            }
        }
        self.flush_state();
        self.maybe_compact();
        report
    }

    fn insert(&mut self, alert: Alert, now: i64) {
        let fp = alert.fingerprint();
        let same_content = self.store.get(fp).is_some_and(|old| {
            old.annotations == alert.annotations && old.generator_url == alert.generator_url
        });
        let stored = self.store.put(fp, alert, now).clone();
        if let Some(log) = &mut self.state {
            let record = if same_content {
                RecordOut::AlertRefresh {
                    fp,
                    starts_at: stored.starts_at,
                    ends_at: stored.ends_at,
                    updated_at: stored.updated_at,
                    timeout: stored.timeout,
                }
            } else {
                RecordOut::Alert { fp, alert: AlertOut::new(&stored) }
            };
            log.append(&record);
        }
        self.inhibitor.observe(&stored);
        self.route_alert(&stored, now);
    }

    /// Applies a new configuration. Alerts, silences and the notification log are kept;
    /// aggregation groups start afresh as after an Alertmanager reload.
    pub fn reload(&mut self, config: Config) -> Result<(), Error> {
        let compiled = Compiled::new(config)?;
        self.inhibitor = Inhibitor::from_config(&compiled.config.inhibit_rules)?;
        self.compiled = compiled;
        self.regroup(self.now());
        Ok(())
    }

    /// The earliest time [`Alertmanager::tick`] has work.
    pub fn next_deadline(&self) -> Option<i64> {
        self.dispatcher.next_deadline()
    }

    /// Flushes the groups due now and returns the notifications to deliver.
    pub fn tick(&mut self) -> Vec<Notification> {
        let now = self.now();
        let due = self.dispatcher.due(now, &self.compiled.routes);
        let mut out = Vec::new();
        for id in due {
            self.flush_group(id, now, &mut out);
        }
        if now - self.last_gc >= self.opts.gc_interval_ms {
            self.gc(now);
        }
        self.flush_state();
        out
    }

    fn flush_group(&mut self, id: GroupId, now: i64, out: &mut Vec<Notification>) {
        let Some(group) = self.dispatcher.get(id) else { return };
        if group.alerts.is_empty() {
            self.dispatcher.remove(id);
            return;
        }
        let route = &self.compiled.routes[group.route_index];
        let mut alerts: Vec<Alert> = group.alerts.values().cloned().collect();
        let resolved: Vec<(u64, i64)> = alerts
            .iter()
            .filter(|a| a.resolved_at(now))
            .map(|a| (a.fingerprint(), a.updated_at))
            .collect();
        for a in &mut alerts {
            if !a.resolved_at(now) {
                a.ends_at = GO_ZERO_MS;
            }
        }
        alerts.sort_by(notification_order);
        let flush_id = self.next_id;
        self.next_id += 1;
        let mut state = FlushState { group: id, pending: 0, failed: false, resolved };
        let (group_key, group_labels) = (group.key.clone(), group.labels.clone());
        let opts = route.opts.clone();
        let alerts = mute_stage(&self.inhibitor, alerts, now);
        let allowed = time_allows(
            &opts.active_time_intervals,
            &opts.mute_time_intervals,
            &self.compiled.intervals,
            now,
        );
        let alerts = if allowed { mute_stage(&self.silences, alerts, now) } else { Vec::new() };
        let integrations = self.compiled.receivers.get(&opts.receiver).cloned().unwrap_or_default();
        for (index, integration) in integrations {
            if alerts.is_empty() {
                break;
            }
            let key = NflogKey {
                group_key: group_key.clone(),
                receiver: opts.receiver.clone(),
                integration: integration.kind().to_string(),
                index,
            };
            match dedup_stage(&self.nflog, key, &integration, &alerts, opts.repeat_interval_ms, now)
            {
                Decision::Skip => {}
                Decision::LogOnly(key, firing, resolved) => {
                    self.log_notified(key, firing, resolved, now, flush_id)
                }
                Decision::Send(nflog_key, firing, resolved, sent) => {
                    let nid = self.next_id;
                    self.next_id += 1;
                    self.pending.insert(
                        nid,
                        Pending {
                            flush: flush_id,
                            key: nflog_key,
                            firing: firing.clone(),
                            resolved,
                        },
                    );
                    state.pending += 1;
                    out.push(Notification {
                        id: nid,
                        receiver: opts.receiver.clone(),
                        integration,
                        integration_index: index,
                        group_key: group_key.clone(),
                        group_labels: group_labels.clone(),
                        alerts: sent,
                        now,
                        deadline: now + opts.group_interval_ms,
                        firing,
                    });
                }
            }
        }
        if state.pending == 0 {
            self.finish_flush(state);
        } else {
            self.flushes.insert(flush_id, state);
        }
    }

    fn log_notified(
        &mut self,
        key: NflogKey,
        firing: Vec<u64>,
        resolved: Vec<u64>,
        now: i64,
        flush: u64,
    ) {
        if self.nflog_flush.get(&key).is_some_and(|&f| f > flush) {
            return;
        }
        self.nflog_flush.insert(key.clone(), flush);
        let entry = NflogEntry {
            firing,
            resolved,
            timestamp: now,
            expires_at: now + self.opts.retention_ms,
        };
        if let Some(log) = &mut self.state {
            log.append(&RecordOut::Nflog { key: &key, entry: &entry });
        }
        self.nflog.log(key, entry);
    }

    /// Records the outcome of delivering notification `id` (after the driver's retries).
    pub fn notified(&mut self, id: u64, success: bool) {
        self.record_outcome(id, success);
        self.flush_state();
    }

    /// [`Alertmanager::notified`] for several outcomes, with one write of durable state.
    pub fn notified_all(&mut self, outcomes: impl IntoIterator<Item = (u64, bool)>) {
        for (id, success) in outcomes {
            self.record_outcome(id, success);
        }
        self.flush_state();
    }

    fn record_outcome(&mut self, id: u64, success: bool) {
        let Some(p) = self.pending.remove(&id) else { return };
        let now = self.now();
        if success {
            self.log_notified(p.key, p.firing, p.resolved, now, p.flush);
        }
        if let Some(f) = self.flushes.get_mut(&p.flush) {
            f.pending -= 1;
            f.failed |= !success;
            if f.pending == 0
                && let Some(state) = self.flushes.remove(&p.flush)
            {
                self.finish_flush(state);
            }
        }
    }

    /// After a successful flush, drops resolved alerts not updated since from the group.
    fn finish_flush(&mut self, state: FlushState) {
        if state.failed {
            return;
        }
        let Some(g) = self.dispatcher.get_mut(state.group) else { return };
        for (fp, updated_at) in state.resolved {
            if g.alerts.get(&fp).is_some_and(|a| a.updated_at == updated_at) {
                g.alerts.remove(&fp);
            }
        }
    }

    /// Collects resolved alerts no group still holds, silences and log entries past retention.
    pub fn gc(&mut self, now: i64) {
        self.last_gc = now;
        let held = self.dispatcher.held_fingerprints();
        for fp in self.store.resolved(now) {
            if held.contains(&fp) {
                continue;
            }
            self.store.remove(fp);
            self.inhibitor.forget(fp);
            if let Some(log) = &mut self.state {
                log.append(&RecordOut::AlertDeleted { fp });
            }
        }
        for id in self.silences.gc(now, self.opts.retention_ms) {
            if let Some(log) = &mut self.state {
                log.append(&RecordOut::SilenceDeleted { id: &id });
            }
        }
        self.nflog.gc(now);
        let nflog = &self.nflog;
        self.nflog_flush.retain(|k, _| nflog.get(k).is_some());
        self.maybe_compact();
    }

    /// Rewrites the snapshot once the append log holds more than four times the live records
    /// (at least 10k), so the log stays bounded while alerts are re-sent.
    fn maybe_compact(&mut self) {
        let live = self.store.len() + self.silences.len() + self.nflog.len();
        if self.state.as_ref().is_some_and(|s| s.records_in_log() > 10_000.max(4 * live))
            && let Err(e) = self.snapshot()
        {
            self.state_error = Some(e.to_string());
        }
    }

    /// Writes a full snapshot of the durable state and empties the log.
    pub fn snapshot(&mut self) -> Result<(), Error> {
        let Some(log) = &mut self.state else { return Ok(()) };
        let alerts =
            self.store.iter().map(|(fp, a)| RecordOut::Alert { fp: *fp, alert: AlertOut::new(a) });
        let silences = self.silences.iter().map(|s| RecordOut::Silence { silence: s });
        let nflog = self.nflog.iter().map(|(k, e)| RecordOut::Nflog { key: k, entry: e });
        log.snapshot(alerts.chain(silences).chain(nflog))
    }

    pub(crate) fn persist_silences(&mut self, written: &[crate::silence::Silence]) {
        if let Some(log) = &mut self.state {
            for s in written {
                log.append(&RecordOut::Silence { silence: s });
            }
        }
        self.flush_state();
    }

    fn flush_state(&mut self) {
        if let Some(log) = &mut self.state {
            // Keep serving on a write error; it is reported by `state_error`.
            self.state_error = log.flush().err().map(|e| e.to_string());
        }
    }
}

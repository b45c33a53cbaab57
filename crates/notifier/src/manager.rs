//! The notifier: a bounded queue of alerts and the loop that sends them in batches to every
//! Alertmanager of every configured set.
//!
//! As in Prometheus: external labels are added to each alert (alert labels win), the global
//! `alert_relabel_configs` run at enqueue time, a full queue drops its oldest alerts, batches
//! hold at most 64 alerts, each set applies its own `alert_relabel_configs` and every
//! Alertmanager of the set receives the batch concurrently.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use model::Labels;
use parking_lot::{Mutex, RwLock};
use tokio::sync::Notify;

use config::{AlertingConfig, AlertmanagerConfig};
use model::relabel::{self, RelabelConfig};

use crate::discovery::{self, Resolved, compile_relabel};
use crate::metrics::{self, NotifierMetrics, PerAlertmanager};
use crate::send::{SetClient, bytes_body::Body};
use crate::{Alert, NotifierError, alerts_to_json};

/// Options fixed for the notifier's lifetime (command-line flags in Prometheus).
#[derive(Debug, Clone)]
pub struct NotifierOptions {
    /// `--alertmanager.notification-queue-capacity` (10000).
    pub queue_capacity: usize,
    /// Alerts per request (64).
    pub max_batch_size: usize,
    /// `global.external_labels`.
    pub external_labels: Labels,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        NotifierOptions {
            queue_capacity: 10_000,
            max_batch_size: 64,
            external_labels: Labels::empty(),
        }
    }
}

/// An in-process Alertmanager (Pharos' built-in one): it receives every batch right after
/// external labels and the global `alert_relabel_configs` were applied, exactly what an
/// external Alertmanager would be sent, without HTTP.
pub trait LocalReceiver: Send + Sync {
    fn receive(&self, alerts: Vec<Alert>);
}

/// The Alertmanagers known to the notifier (`/api/v1/alertmanagers`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertmanagerStatus {
    pub active: Vec<String>,
    pub dropped: Vec<String>,
}

struct AmSet {
    cfg: AlertmanagerConfig,
    client: SetClient,
    alert_relabel: Vec<RelabelConfig>,
    resolved: RwLock<Resolved>,
}

struct Inner {
    opts: NotifierOptions,
    queue: Mutex<VecDeque<Alert>>,
    global_relabel: RwLock<Vec<RelabelConfig>>,
    sets: RwLock<Vec<Arc<AmSet>>>,
    local: RwLock<Vec<Arc<dyn LocalReceiver>>>,
    more: Notify,
    stopping: AtomicBool,
    dropped: AtomicU64,
    per_am: PerAlertmanager,
}

/// Sends alerts to Alertmanagers. Cheap to clone; clones share the queue.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("queue_length", &self.queue_length()).finish()
    }
}

impl Notifier {
    pub fn new(opts: NotifierOptions) -> Notifier {
        Notifier {
            inner: Arc::new(Inner {
                opts,
                queue: Mutex::new(VecDeque::new()),
                global_relabel: RwLock::new(Vec::new()),
                sets: RwLock::new(Vec::new()),
                local: RwLock::new(Vec::new()),
                more: Notify::new(),
                stopping: AtomicBool::new(false),
                dropped: AtomicU64::new(0),
                per_am: PerAlertmanager::default(),
            }),
        }
    }

    /// Applies a new `alerting` section (as loaded by the `config` crate, file SD paths
    /// already resolved); on error the old configuration stays in force.
    pub fn apply_config(&self, cfg: &AlertingConfig) -> Result<(), NotifierError> {
        let global = compile_relabel(&cfg.alert_relabel_configs)?;
        let mut sets = Vec::with_capacity(cfg.alertmanagers.len());
        for am in &cfg.alertmanagers {
            if !am.http_sd_configs.is_empty()
                || !am.dns_sd_configs.is_empty()
                || !am.kubernetes_sd_configs.is_empty()
            {
                tracing::warn!("only static and file discovery of alertmanagers is supported");
            }
            let groups = discovery::target_groups(am)?;
            sets.push(Arc::new(AmSet {
                cfg: am.clone(),
                client: SetClient::new(am)?,
                alert_relabel: compile_relabel(&am.alert_relabel_configs)?,
                resolved: RwLock::new(discovery::resolve(am, &groups)?),
            }));
        }
        for set in &sets {
            self.init_series(&set.resolved.read());
        }
        *self.inner.global_relabel.write() = global;
        *self.inner.sets.write() = sets;
        Ok(())
    }

    /// The shortest file SD refresh interval of the current sets (5 m if none).
    pub fn refresh_interval(&self) -> Duration {
        let ms = self
            .inner
            .sets
            .read()
            .iter()
            .flat_map(|s| s.cfg.file_sd_configs.iter().map(|f| f.refresh_interval.as_millis()))
            .min()
            .unwrap_or(300_000);
        Duration::from_millis(ms.max(1) as u64)
    }

    /// Re-reads file SD targets of every set; a set whose files fail keeps its old targets.
    pub fn refresh_discovery(&self) -> Result<(), NotifierError> {
        let sets = self.inner.sets.read().clone();
        let mut first_err = None;
        for set in sets {
            let r =
                discovery::target_groups(&set.cfg).and_then(|g| discovery::resolve(&set.cfg, &g));
            match r {
                Ok(r) => {
                    self.init_series(&r);
                    *set.resolved.write() = r;
                }
                Err(e) => first_err = first_err.or(Some(e)),
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Creates the per-Alertmanager series of newly discovered URLs at zero, as Prometheus
    /// does on every sync.
    fn init_series(&self, resolved: &Resolved) {
        for url in &resolved.active {
            self.inner.per_am.get(url);
        }
    }

    /// Sets the in-process receivers (replacing earlier ones).
    pub fn set_local_receivers(&self, receivers: Vec<Arc<dyn LocalReceiver>>) {
        *self.inner.local.write() = receivers;
    }

    /// Queues alerts for sending; never blocks on the network. In-process receivers get
    /// them at once.
    pub fn send(&self, alerts: Vec<Alert>) {
        let prepared = self.prepare(alerts);
        if prepared.is_empty() {
            return;
        }
        for r in self.inner.local.read().iter() {
            r.receive(prepared.clone());
        }
        let cap = self.inner.opts.queue_capacity.max(1);
        let mut q = self.inner.queue.lock();
        for a in prepared {
            if q.len() >= cap {
                q.pop_front();
                self.inner.dropped.fetch_add(1, Ordering::Relaxed);
            }
            q.push_back(a);
        }
        drop(q);
        self.inner.more.notify_one();
    }

    fn prepare(&self, alerts: Vec<Alert>) -> Vec<Alert> {
        let relabel = self.inner.global_relabel.read();
        let ext = &self.inner.opts.external_labels;
        let mut out = Vec::with_capacity(alerts.len());
        for mut a in alerts {
            if !ext.is_empty() {
                let mut b = a.labels.builder();
                for l in ext.iter() {
                    if !a.labels.has(&l.name) {
                        b.set(&l.name, &l.value);
                    }
                }
                a.labels = b.build();
            }
            match relabel::process(&a.labels, &relabel) {
                Some(l) if !l.is_empty() => {
                    a.labels = l;
                    out.push(a);
                }
                _ => {}
            }
        }
        out
    }

    /// Alerts waiting to be sent.
    pub fn queue_length(&self) -> usize {
        self.inner.queue.lock().len()
    }

    /// Totals over all Alertmanagers: (alerts sent, failed requests, alerts dropped).
    pub fn counters(&self) -> (u64, u64, u64) {
        let m = self.metrics();
        let sent = m.alertmanagers.values().map(|a| a.sent_total).sum();
        let errors = m.alertmanagers.values().map(|a| a.errors_total).sum();
        (sent, errors, m.dropped_total)
    }

    /// The values of `prometheus_notifications_*`.
    pub fn metrics(&self) -> NotifierMetrics {
        metrics::snapshot(
            &self.inner.per_am,
            self.queue_length(),
            self.inner.opts.queue_capacity.max(1),
            self.alertmanagers().active.len(),
            self.inner.dropped.load(Ordering::Relaxed),
        )
    }

    /// Current Alertmanagers of all sets.
    pub fn alertmanagers(&self) -> AlertmanagerStatus {
        let mut st = AlertmanagerStatus::default();
        for set in self.inner.sets.read().iter() {
            let r = set.resolved.read();
            st.active.extend(r.active.iter().cloned());
            st.dropped.extend(r.dropped.iter().cloned());
        }
        st
    }

    /// Asks [`Notifier::run`] to send what is queued and return.
    pub fn stop(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.more.notify_one();
    }

    /// The send loop; returns after [`Notifier::stop`] once the queue is drained.
    /// `refresh` is how often file SD is re-read.
    pub async fn run(&self, refresh: Duration) {
        let mut tick = tokio::time::interval(refresh.max(Duration::from_millis(100)));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = self.inner.more.notified() => {}
                _ = tick.tick() => {
                    if let Err(e) = self.refresh_discovery() {
                        tracing::warn!(err = %e, "refreshing alertmanager discovery failed");
                    }
                }
            }
            while let Some(batch) = self.next_batch() {
                if !self.send_batch(&batch).await {
                    self.inner.dropped.fetch_add(batch.len() as u64, Ordering::Relaxed);
                }
            }
            if self.inner.stopping.load(Ordering::SeqCst) {
                return;
            }
        }
    }

    fn next_batch(&self) -> Option<Vec<Alert>> {
        let mut q = self.inner.queue.lock();
        if q.is_empty() {
            return None;
        }
        let n = q.len().min(self.inner.opts.max_batch_size.max(1));
        Some(q.drain(..n).collect())
    }

    /// Sends one batch to every Alertmanager; true when at least one accepted it (or an
    /// in-process receiver, which got it at enqueue time, exists). Otherwise Prometheus
    /// counts the batch as dropped.
    async fn send_batch(&self, batch: &[Alert]) -> bool {
        let begin = Instant::now();
        let sets = self.inner.sets.read().clone();
        let mut tasks = tokio::task::JoinSet::new();
        for set in sets {
            let alerts: Vec<Alert> = batch
                .iter()
                .filter_map(|a| {
                    let l = relabel::process(&a.labels, &set.alert_relabel)?;
                    (!l.is_empty()).then(|| Alert { labels: l, ..a.clone() })
                })
                .collect();
            if alerts.is_empty() {
                continue;
            }
            let body = match serde_json::to_vec(&alerts_to_json(&alerts)) {
                Ok(b) => Body(b),
                Err(_) => continue,
            };
            let urls = set.resolved.read().active.clone();
            for url in urls {
                let (set, body, n) = (set.clone(), body.clone(), alerts.len() as u64);
                let counters = self.inner.per_am.get(&url);
                tasks.spawn(async move {
                    let res = set.client.post(&url, body).await;
                    if let Err(e) = &res {
                        tracing::error!(alertmanager = %url, count = n, err = %e, "error sending alerts");
                    }
                    counters.observe(n, res.is_ok(), begin.elapsed().as_secs_f64());
                    res.is_ok()
                });
            }
        }
        let mut success = !self.inner.local.read().is_empty();
        while let Some(res) = tasks.join_next().await {
            success |= res.unwrap_or(false);
        }
        success
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(name: &str) -> Alert {
        Alert {
            labels: Labels::new([("alertname", name)]),
            annotations: Labels::empty(),
            starts_at_ms: 1,
            ends_at_ms: 0,
            generator_url: String::new(),
        }
    }

    #[test]
    fn external_labels_relabel_and_capacity() {
        let n = Notifier::new(NotifierOptions {
            queue_capacity: 2,
            max_batch_size: 64,
            external_labels: Labels::new([("dc", "x"), ("alertname", "ignored")]),
        });
        let cfg = config::parse(
            "alerting:\n  alert_relabel_configs:\n  - source_labels: [alertname]\n    regex: drop.*\n    action: drop\n",
            "p.yml",
        )
        .unwrap();
        n.apply_config(&cfg.alerting).unwrap();
        n.send(vec![alert("a"), alert("dropme"), alert("b"), alert("c")]);
        assert_eq!(n.queue_length(), 2);
        let batch = n.next_batch().unwrap();
        let names: Vec<&str> = batch.iter().map(|a| a.name()).collect();
        assert_eq!(names, vec!["b", "c"], "oldest dropped first");
        assert_eq!(batch[0].labels.get("dc"), Some("x"));
        assert_eq!(n.counters().2, 1);
    }

    #[test]
    fn file_discovery_is_re_read_on_refresh() {
        let dir = tempfile::tempdir().unwrap();
        let sd = dir.path().join("am.yml");
        std::fs::write(&sd, "- targets: ['127.0.0.1:1']\n").unwrap();
        let yaml = format!(
            "alerting:\n  alertmanagers:\n  - file_sd_configs: [{{files: ['{}'], refresh_interval: 30s}}]\n",
            sd.display()
        );
        let cfg = config::parse(&yaml, "p.yml").unwrap();
        let n = Notifier::new(NotifierOptions::default());
        n.apply_config(&cfg.alerting).unwrap();
        assert_eq!(n.alertmanagers().active, vec!["http://127.0.0.1:1/api/v2/alerts"]);
        assert_eq!(n.refresh_interval(), Duration::from_secs(30));
        std::fs::write(&sd, "- targets: ['127.0.0.1:2', '127.0.0.1:3']\n").unwrap();
        n.refresh_discovery().unwrap();
        assert_eq!(n.alertmanagers().active.len(), 2);
        std::fs::write(&sd, "not: [valid").unwrap();
        assert!(n.refresh_discovery().is_err());
        assert_eq!(n.alertmanagers().active.len(), 2, "a broken file keeps the last targets");
    }

    #[derive(Default)]
    struct Local(Mutex<Vec<Alert>>);

    impl LocalReceiver for Local {
        fn receive(&self, alerts: Vec<Alert>) {
            self.0.lock().extend(alerts);
        }
    }

    #[test]
    fn local_receivers_get_prepared_alerts() {
        let n = Notifier::new(NotifierOptions {
            external_labels: Labels::new([("dc", "x")]),
            ..Default::default()
        });
        let local = Arc::new(Local::default());
        n.set_local_receivers(vec![local.clone()]);
        n.send(vec![alert("a")]);
        let got = local.0.lock();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].labels.get("dc"), Some("x"));
    }
}

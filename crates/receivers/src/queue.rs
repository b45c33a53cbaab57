//! Per-integration delivery lanes that never drop a notification because of load.
//!
//! Each receiver integration (receiver name, integration index) has its own lane with a
//! bounded number of requests in flight, so a slow or dead receiver never blocks ingest or
//! other receivers. Slow or failing groups do not hold up the other groups of the lane either
//! (Alertmanager sends each group from its own goroutine, unbounded): a lane runs up to
//! [`QueueOptions::concurrency`] requests at once (few connections, cheap per request while
//! the receiver answers quickly), a request unanswered after [`QueueOptions::slow_after`]
//! stops counting against that and only against [`QueueOptions::max_concurrency`], and a
//! send waiting between retries gives its slots back. A lane holds at most one waiting notification per aggregation
//! group: a newer flush of the same group replaces the waiting one (it carries the group's
//! current alerts), and the replaced one is reported as not sent, so the core logs nothing
//! for it. Memory is therefore bounded by the number of groups, never by the load; a burst is
//! slowed down, not lost. Waiting groups are served first in, first out; a replaced
//! notification keeps its group's place.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use alertmanager::Notification;
use alertmanager::template::Templates;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::Instant;

use crate::context::NotifyContext;
use crate::metrics::NotifyMetrics;
use crate::retry::{Backoff, retry_with_pause};

/// The outcome of one notification, for `Alertmanager::notified`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub id: u64,
    pub receiver: String,
    pub integration: &'static str,
    pub success: bool,
    pub error: Option<String>,
    pub attempts: u32,
}

/// The error of a notification replaced by a newer flush of its group before it was sent.
pub const SUPERSEDED: &str = "superseded by a newer flush of the group";

/// Lane sizing and retry policy.
#[derive(Clone, Debug)]
pub struct QueueOptions {
    /// HTTP requests (or SMTP sessions) in flight per receiver integration, not counting
    /// those unanswered after `slow_after`; a send waiting between retries does not count.
    pub concurrency: usize,
    /// The bound on all requests in flight per integration, slow ones included.
    pub max_concurrency: usize,
    /// When a request in flight starts to count as slow.
    pub slow_after: Duration,
    pub backoff: Backoff,
    /// Timeout of one HTTP attempt.
    pub attempt_timeout: Duration,
}

impl Default for QueueOptions {
    fn default() -> QueueOptions {
        QueueOptions {
            concurrency: 16,
            max_concurrency: 256,
            slow_after: Duration::from_millis(500),
            backoff: Backoff::default(),
            attempt_timeout: Duration::from_secs(30),
        }
    }
}

struct Shared {
    client: reqwest::Client,
    templates: RwLock<Arc<Templates>>,
    external_url: RwLock<String>,
    opts: QueueOptions,
    results: mpsc::UnboundedSender<Outcome>,
    runtime: tokio::runtime::Handle,
    metrics: Arc<NotifyMetrics>,
}

impl Shared {
    fn report(&self, n: &Notification, success: bool, error: Option<String>, attempts: u32) {
        let _ = self.results.send(Outcome {
            id: n.id,
            receiver: n.receiver.clone(),
            integration: n.integration.kind(),
            success,
            error,
            attempts,
        });
    }
}

/// A notification waiting for a send slot, with when it started waiting.
struct Waiting {
    n: Notification,
    since: Instant,
}

/// One group's place in a lane.
#[derive(Default)]
struct Slot {
    waiting: Option<Waiting>,
    in_flight: bool,
}

#[derive(Default)]
struct LaneState {
    slots: HashMap<String, Slot>,
    /// Groups with a waiting notification and none in flight, each at most once.
    ready: VecDeque<String>,
}

/// One receiver integration's lane.
struct Lane {
    state: Mutex<LaneState>,
    /// Slots of requests in flight that are not slow (yet).
    fast: Arc<Semaphore>,
    /// Slots of all requests in flight.
    all: Arc<Semaphore>,
}

impl Lane {
    fn new(opts: &QueueOptions) -> Lane {
        let fast = opts.concurrency.max(1);
        Lane {
            state: Mutex::new(LaneState::default()),
            fast: Arc::new(Semaphore::new(fast)),
            all: Arc::new(Semaphore::new(opts.max_concurrency.max(fast))),
        }
    }

    /// Both slots, if free now.
    fn try_slots(&self) -> Option<Slots> {
        let all = self.all.clone().try_acquire_owned().ok()?;
        let fast = self.fast.clone().try_acquire_owned().ok()?;
        Some(Slots { fast: Some(fast), all: Some(all) })
    }

    /// Both slots, waiting for them.
    async fn slots(&self) -> Slots {
        let all = self.all.clone().acquire_owned().await.ok();
        let fast = self.fast.clone().acquire_owned().await.ok();
        Slots { fast, all }
    }
}

/// The slots a send holds.
#[derive(Default)]
struct Slots {
    fast: Option<OwnedSemaphorePermit>,
    all: Option<OwnedSemaphorePermit>,
}

/// Routes notifications to per-integration lanes.
pub struct ReceiverQueues {
    shared: Arc<Shared>,
    lanes: Mutex<HashMap<(String, usize), Arc<Lane>>>,
}

impl std::fmt::Debug for ReceiverQueues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverQueues").finish_non_exhaustive()
    }
}

impl ReceiverQueues {
    /// Creates the lanes; outcomes are sent to `results`. Must be called inside a tokio runtime.
    pub fn new(
        opts: QueueOptions,
        templates: Arc<Templates>,
        external_url: String,
        results: mpsc::UnboundedSender<Outcome>,
    ) -> ReceiverQueues {
        let client =
            reqwest::Client::builder().timeout(opts.attempt_timeout).build().unwrap_or_default();
        let shared = Shared {
            client,
            templates: RwLock::new(templates),
            external_url: RwLock::new(external_url),
            opts,
            results,
            runtime: tokio::runtime::Handle::current(),
            metrics: Arc::default(),
        };
        ReceiverQueues { shared: Arc::new(shared), lanes: Mutex::new(HashMap::new()) }
    }

    /// The notification counters of every integration kind.
    pub fn metrics(&self) -> &Arc<NotifyMetrics> {
        &self.shared.metrics
    }

    /// Swaps the templates (after a config reload).
    pub fn set_templates(&self, templates: Arc<Templates>) {
        if let Ok(mut t) = self.shared.templates.write() {
            *t = templates;
        }
    }

    /// Swaps the external URL.
    pub fn set_external_url(&self, url: String) {
        if let Ok(mut u) = self.shared.external_url.write() {
            *u = url;
        }
    }

    /// Queues a notification without waiting. A notification of the same group still waiting
    /// in the lane is replaced and reported as not sent ([`SUPERSEDED`]).
    pub fn submit(&self, n: Notification) {
        let lane = {
            let Ok(mut lanes) = self.lanes.lock() else { return };
            lanes
                .entry((n.receiver.clone(), n.integration_index))
                .or_insert_with(|| Arc::new(Lane::new(&self.shared.opts)))
                .clone()
        };
        let Ok(mut st) = lane.state.lock() else { return };
        let key = n.group_key.clone();
        let slot = st.slots.entry(key.clone()).or_default();
        let superseded = match slot.waiting.take() {
            // Notifications come in flush order; guard anyway so the newest always wins.
            Some(old) if old.n.id > n.id => {
                slot.waiting = Some(old);
                Some(n)
            }
            old => {
                let became_ready = old.is_none() && !slot.in_flight;
                slot.waiting = Some(Waiting { n, since: Instant::now() });
                if became_ready {
                    st.ready.push_back(key);
                }
                old.map(|w| w.n)
            }
        };
        if let Some(old) = superseded {
            self.shared.report(&old, false, Some(SUPERSEDED.into()), 0);
        }
        start_ready(&self.shared, &lane, &mut st);
    }
}

/// Starts sends for ready groups while the lane has free request slots. Call it after every
/// release of a slot, so no ready group is left behind.
fn start_ready(shared: &Arc<Shared>, lane: &Arc<Lane>, st: &mut LaneState) {
    while !st.ready.is_empty() {
        let Some(slots) = lane.try_slots() else { return };
        let Some(key) = st.ready.pop_front() else { return };
        let Some(slot) = st.slots.get_mut(&key) else { continue };
        let Some(w) = slot.waiting.take() else { continue };
        slot.in_flight = true;
        let (shared, lane) = (shared.clone(), lane.clone());
        shared.runtime.clone().spawn(async move {
            let outcome = deliver(&shared, &lane, &w, slots).await;
            let sent = outcome.success;
            let _ = shared.results.send(outcome);
            finish(&shared, &lane, &w.n, sent);
        });
    }
}

/// Frees the group's send slot; a notification that arrived meanwhile becomes ready, unless
/// `done` was just sent and carried the same alerts in the same states: then the newer one is
/// what the core's dedup would have skipped had it seen the send (a flush of the group waits
/// for the previous one in Alertmanager), and it is reported delivered without a send.
fn finish(shared: &Arc<Shared>, lane: &Arc<Lane>, done: &Notification, sent: bool) {
    let key = done.group_key.as_str();
    let Ok(mut st) = lane.state.lock() else { return };
    let mut requeue = false;
    let mut covered = None;
    if let Some(slot) = st.slots.get_mut(key) {
        slot.in_flight = false;
        if sent && slot.waiting.as_ref().is_some_and(|w| same_alerts(done, &w.n)) {
            covered = slot.waiting.take().map(|w| w.n);
        }
        requeue = slot.waiting.is_some();
        if !requeue {
            st.slots.remove(key);
        }
    }
    if let Some(n) = covered {
        shared.report(&n, true, None, 0);
    }
    if requeue {
        st.ready.push_back(key.to_string());
    }
    start_ready(shared, lane, &mut st);
}

/// Whether two notifications of a group carry the same alerts, each firing or resolved alike
/// (what Alertmanager's dedup compares; annotations do not count).
fn same_alerts(a: &Notification, b: &Notification) -> bool {
    let states = |n: &Notification| {
        let mut v: Vec<(u64, bool)> =
            n.alerts.iter().map(|x| (x.fingerprint(), x.resolved_at(n.now))).collect();
        v.sort_unstable();
        v
    };
    a.status() == b.status() && states(a) == states(b)
}

/// Gives back a send's slots (all of them, or only the fast one) and starts ready groups.
fn release(shared: &Arc<Shared>, lane: &Arc<Lane>, held: &Mutex<Slots>, only_fast: bool) {
    if let Ok(mut h) = held.lock() {
        h.fast = None;
        if !only_fast {
            h.all = None;
        }
    }
    if let Ok(mut st) = lane.state.lock() {
        start_ready(shared, lane, &mut st);
    }
}

/// Sends with retries until success, a permanent failure, or the group's next flush (less
/// the time spent waiting in the lane); at least one attempt is always made. A request
/// unanswered after `slow_after` gives its fast slot back; between attempts all slots are
/// given back (another group may use them) and taken again.
async fn deliver(shared: &Arc<Shared>, lane: &Arc<Lane>, w: &Waiting, slots: Slots) -> Outcome {
    let n = &w.n;
    let templates = shared
        .templates
        .read()
        .map(|t| t.clone())
        .unwrap_or_else(|_| Arc::new(Templates::defaults()));
    let external_url = shared.external_url.read().map(|u| u.clone()).unwrap_or_default();
    let ctx = NotifyContext::new(n, &external_url, templates, shared.client.clone());
    let budget = Duration::from_millis(u64::try_from(n.deadline - n.now).unwrap_or(0))
        .saturating_sub(w.since.elapsed());
    let held = Arc::new(Mutex::new(slots));
    let kind = n.integration.kind();
    let attempt = || {
        let (held, shared, lane, ctx) = (held.clone(), shared.clone(), lane.clone(), &ctx);
        async move {
            let start = Instant::now();
            let send = crate::notify(&n.integration, ctx);
            tokio::pin!(send);
            let res = tokio::select! {
                res = &mut send => Some(res),
                _ = tokio::time::sleep(shared.opts.slow_after) => None,
            };
            let res = match res {
                Some(res) => res,
                None => {
                    release(&shared, &lane, &held, true);
                    send.await
                }
            };
            shared.metrics.request(kind, res.is_ok(), start.elapsed().as_secs_f64());
            res
        }
    };
    let pause = |delay: Duration| {
        let (held, shared, lane) = (held.clone(), shared.clone(), lane.clone());
        async move {
            release(&shared, &lane, &held, false);
            tokio::time::sleep(delay).await;
            let slots = lane.slots().await;
            if let Ok(mut h) = held.lock() {
                *h = slots;
            }
        }
    };
    let (res, attempts) = retry_with_pause(shared.opts.backoff, budget, attempt, pause).await;
    shared.metrics.notification(kind, res.is_ok());
    if let Err(e) = &res {
        tracing::warn!(receiver = %n.receiver, integration = n.integration.kind(), error = %e, attempts, "notify failed");
    }
    Outcome {
        id: n.id,
        receiver: n.receiver.clone(),
        integration: n.integration.kind(),
        success: res.is_ok(),
        error: res.err().map(|e| e.to_string()),
        attempts,
    }
}

//! Per-receiver bounded queues: each receiver has its own queue and workers, so a slow or
//! dead receiver never blocks ingest, other receivers or other groups. Submitting never
//! waits: a full queue fails the notification at once (the next flush retries it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use alertmanager::Notification;
use alertmanager::template::Templates;
use tokio::sync::{Semaphore, mpsc};

use crate::context::NotifyContext;
use crate::retry::{Backoff, retry};

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

/// Queue sizing and retry policy.
#[derive(Clone, Debug)]
pub struct QueueOptions {
    /// Notifications waiting per receiver before new ones are failed.
    pub capacity: usize,
    /// Notifications in flight per receiver.
    pub concurrency: usize,
    pub backoff: Backoff,
    /// Timeout of one HTTP attempt.
    pub attempt_timeout: Duration,
}

impl Default for QueueOptions {
    fn default() -> QueueOptions {
        QueueOptions {
            capacity: 1024,
            concurrency: 4,
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
}

/// Routes notifications to per-receiver workers.
pub struct ReceiverQueues {
    shared: Arc<Shared>,
    queues: Mutex<HashMap<String, mpsc::Sender<Notification>>>,
}

impl std::fmt::Debug for ReceiverQueues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverQueues").finish_non_exhaustive()
    }
}

impl ReceiverQueues {
    /// Creates the queues; outcomes are sent to `results`. Must be called inside a tokio runtime.
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
        };
        ReceiverQueues { shared: Arc::new(shared), queues: Mutex::new(HashMap::new()) }
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

    /// Queues a notification without waiting.
    pub fn submit(&self, n: Notification) {
        let Ok(mut queues) = self.queues.lock() else { return };
        let tx =
            queues.entry(n.receiver.clone()).or_insert_with(|| spawn_worker(self.shared.clone()));
        if let Err(e) = tx.try_send(n) {
            let n = match e {
                mpsc::error::TrySendError::Full(n) | mpsc::error::TrySendError::Closed(n) => n,
            };
            let _ = self.shared.results.send(Outcome {
                id: n.id,
                receiver: n.receiver.clone(),
                integration: n.integration.kind(),
                success: false,
                error: Some("receiver queue full".into()),
                attempts: 0,
            });
        }
    }
}

fn spawn_worker(shared: Arc<Shared>) -> mpsc::Sender<Notification> {
    let (tx, mut rx) = mpsc::channel::<Notification>(shared.opts.capacity);
    let permits = Arc::new(Semaphore::new(shared.opts.concurrency.max(1)));
    tokio::spawn(async move {
        while let Some(n) = rx.recv().await {
            let Ok(permit) = permits.clone().acquire_owned().await else { break };
            let shared = shared.clone();
            tokio::spawn(async move {
                let outcome = deliver(&shared, &n).await;
                let _ = shared.results.send(outcome);
                drop(permit);
            });
        }
    });
    tx
}

async fn deliver(shared: &Shared, n: &Notification) -> Outcome {
    let templates = shared
        .templates
        .read()
        .map(|t| t.clone())
        .unwrap_or_else(|_| Arc::new(Templates::defaults()));
    let external_url = shared.external_url.read().map(|u| u.clone()).unwrap_or_default();
    let ctx = NotifyContext::new(n, &external_url, templates, shared.client.clone());
    let budget = Duration::from_millis(u64::try_from(n.deadline - n.now).unwrap_or(0));
    let (res, attempts) =
        retry(shared.opts.backoff, budget, || crate::notify(&n.integration, &ctx)).await;
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

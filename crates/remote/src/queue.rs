//! `WriteQueue`: ships a [`SampleSource`] to one remote-write endpoint.
//!
//! One reader loop tails the source: it accumulates samples (external labels, then
//! `write_relabel_configs` applied) until a full batch per shard or `batch_send_deadline`,
//! splits them over `shards` by series hash (per-series order is kept), and the shards send
//! concurrently in chunks of `max_samples_per_send`. Recoverable failures (5xx, 429,
//! transport) are retried with exponential backoff for as long as it takes; other 4xx drop
//! the chunk. Only when every chunk is done is the source acknowledged, so an outage of the
//! remote end loses nothing the source holds. Shards double while the source has a backlog
//! and shrink by one when it is caught up.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use model::relabel::RelabelConfig;
use model::{Labels, Sample};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::RemoteError;
use crate::client::{HttpOptions, post_write};
use crate::codec::{encode_write_request, labels_to_proto};
use crate::metrics::{DurationHistogram, QueueMetrics};
use crate::proto::{self, TimeSeries, WriteRequest};
use crate::source::{Position, SampleSource};

/// Prometheus' `queue_config`.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// Samples read from the source per pass (bounds memory).
    pub capacity: usize,
    pub min_shards: usize,
    pub max_shards: usize,
    pub max_samples_per_send: usize,
    pub batch_send_deadline: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub retry_on_http_429: bool,
    /// How often to look for new data when the source is idle.
    pub poll_interval: Duration,
}

impl Default for QueueOptions {
    fn default() -> Self {
        QueueOptions {
            capacity: 10_000,
            min_shards: 1,
            max_shards: 50,
            max_samples_per_send: 2_000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            retry_on_http_429: true,
            poll_interval: Duration::from_millis(100),
        }
    }
}

/// One `remote_write` entry.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// Queue name (used for the buffer reader and logs); unique per endpoint.
    pub name: String,
    pub url: String,
    pub remote_timeout: Duration,
    pub http: HttpOptions,
    pub write_relabel_configs: Vec<RelabelConfig>,
    /// `global.external_labels`, added to every series that lacks them.
    pub external_labels: Labels,
    pub queue: QueueOptions,
}

impl WriteOptions {
    pub fn new(name: &str, url: &str) -> WriteOptions {
        WriteOptions {
            name: name.into(),
            url: url.into(),
            remote_timeout: Duration::from_secs(30),
            http: HttpOptions::default(),
            write_relabel_configs: Vec::new(),
            external_labels: Labels::empty(),
            queue: QueueOptions::default(),
        }
    }
}

/// Live counters of a queue (for self-metrics and tests).
#[derive(Debug, Default)]
pub struct QueueStats {
    pub samples_sent: AtomicU64,
    /// Dropped by a non-retryable error (4xx other than 429).
    pub samples_failed: AtomicU64,
    /// Dropped by `write_relabel_configs`.
    pub samples_dropped: AtomicU64,
    pub samples_retried: AtomicU64,
    pub shards: AtomicUsize,
    pub acked_position: AtomicU64,
    /// Highest timestamp successfully sent (ms), `i64::MIN` before the first send.
    pub highest_sent_timestamp: AtomicI64,
    /// Samples in send attempts, retries included (`prometheus_remote_storage_samples_total`).
    pub samples_attempted: AtomicU64,
    /// Samples read and relabeled but not yet sent or given up.
    pub samples_pending: AtomicU64,
    /// Highest timestamp of a request that finished, sent or failed for good (ms), as
    /// `queue_highest_sent_timestamp_seconds` tracks it; `i64::MIN` before the first.
    pub highest_finished_timestamp: AtomicI64,
    /// Compressed bytes of requests that finished.
    pub bytes_sent: AtomicU64,
    /// Duration of every send attempt.
    pub sent_batch_duration: DurationHistogram,
}

impl QueueStats {
    /// The queue's series under `remote_name` and `url`.
    pub fn metrics(&self, remote_name: &str, url: &str, q: &QueueOptions) -> QueueMetrics {
        let highest = self.highest_finished_timestamp.load(Ordering::Relaxed);
        QueueMetrics {
            remote_name: remote_name.to_string(),
            url: url.to_string(),
            samples_total: self.samples_attempted.load(Ordering::Relaxed),
            samples_failed_total: self.samples_failed.load(Ordering::Relaxed),
            samples_retried_total: self.samples_retried.load(Ordering::Relaxed),
            samples_dropped_total: self.samples_dropped.load(Ordering::Relaxed),
            samples_pending: self.samples_pending.load(Ordering::Relaxed),
            queue_highest_sent_timestamp_seconds: if highest == i64::MIN {
                0
            } else {
                highest / 1000
            },
            shards: self.shards.load(Ordering::Relaxed) as u64,
            shards_min: q.min_shards as u64,
            shards_max: q.max_shards as u64,
            shard_capacity: q.capacity as u64,
            bytes_total: self.bytes_sent.load(Ordering::Relaxed),
            sent_batch_duration_seconds: self.sent_batch_duration.snapshot(),
        }
    }
}

/// A running queue; stop it with [`WriteQueue::stop`] (unsent data stays in the source).
#[derive(Debug)]
pub struct WriteQueue {
    stats: Arc<QueueStats>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WriteQueue {
    /// Starts the queue on the current tokio runtime.
    pub fn start(
        opts: WriteOptions,
        source: Arc<dyn SampleSource>,
    ) -> Result<WriteQueue, RemoteError> {
        if opts.queue.max_samples_per_send == 0 || opts.queue.max_shards == 0 {
            return Err(RemoteError::Config(
                "max_samples_per_send and max_shards must be > 0".into(),
            ));
        }
        reqwest::Url::parse(&opts.url).map_err(|e| RemoteError::Config(format!("url: {e}")))?;
        let client = opts.http.client(opts.remote_timeout)?;
        let stats = Arc::new(QueueStats::default());
        stats.highest_sent_timestamp.store(i64::MIN, Ordering::Relaxed);
        stats.highest_finished_timestamp.store(i64::MIN, Ordering::Relaxed);
        let (stop, stop_rx) = watch::channel(false);
        let runner = Runner { opts, source, client, stats: stats.clone(), stop: stop_rx };
        let task = tokio::spawn(runner.run());
        Ok(WriteQueue { stats, stop, task })
    }

    pub fn stats(&self) -> Arc<QueueStats> {
        self.stats.clone()
    }

    /// Stops sending and waits for the loop to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

struct Runner {
    opts: WriteOptions,
    source: Arc<dyn SampleSource>,
    client: reqwest::Client,
    stats: Arc<QueueStats>,
    stop: watch::Receiver<bool>,
}

/// Sending was interrupted by stop.
struct Stopped;

impl Runner {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Waits `d` or until stopped; `Err` if stopped.
    async fn pause(&self, d: Duration) -> Result<(), Stopped> {
        let mut rx = self.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(d) => if self.stopped() { Err(Stopped) } else { Ok(()) },
            _ = rx.wait_for(|s| *s) => Err(Stopped),
        }
    }

    async fn read(&self, pos: Position, max: usize) -> Result<crate::SourceBatch, RemoteError> {
        let src = self.source.clone();
        tokio::task::spawn_blocking(move || src.read(pos, max))
            .await
            .map_err(|e| RemoteError::Io(e.to_string()))?
    }

    async fn run(self) {
        let q = self.opts.queue.clone();
        let mut shards = q.min_shards.clamp(1, q.max_shards);
        self.stats.shards.store(shards, Ordering::Relaxed);
        let mut relabel_cache: HashMap<Labels, Option<Labels>> = HashMap::new();
        let mut pos = loop {
            match self.source.start() {
                Ok(p) => break p,
                Err(e) => {
                    tracing::error!(queue = %self.opts.name, err = %e, "cannot open remote-write source");
                    if self.pause(q.max_backoff).await.is_err() {
                        return;
                    }
                }
            }
        };
        let mut idle_since = Instant::now();
        'outer: loop {
            let mut pending: Vec<(Labels, Sample)> = Vec::new();
            let mut deadline: Option<Instant> = None;
            let mut backlog;
            let target = (q.max_samples_per_send * shards).min(q.capacity).max(1);
            loop {
                if self.stopped() {
                    break 'outer;
                }
                let want = q.capacity.saturating_sub(pending.len()).max(1);
                let batch = match self.read(pos, want).await {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::error!(queue = %self.opts.name, err = %e, "reading remote-write source");
                        if self.pause(q.max_backoff).await.is_err() {
                            break 'outer;
                        }
                        continue;
                    }
                };
                let got = batch.samples.len();
                pos = batch.next;
                backlog = got >= want;
                let before = pending.len();
                for (l, s) in batch.samples {
                    match self.relabel(&mut relabel_cache, &l) {
                        Some(l2) => pending.push((l2, s)),
                        None => {
                            self.stats.samples_dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                let added = (pending.len() - before) as u64;
                self.stats.samples_pending.fetch_add(added, Ordering::Relaxed);
                if got > 0 {
                    deadline.get_or_insert_with(|| Instant::now() + q.batch_send_deadline);
                }
                if pending.len() >= target || backlog {
                    break;
                }
                if deadline.is_some_and(|d| Instant::now() >= d) || (got > 0 && pending.is_empty())
                {
                    break;
                }
                if got == 0 && pending.is_empty() && idle_since.elapsed() >= q.batch_send_deadline {
                    // Idle for a whole batch deadline: one shard fewer.
                    shards = shards.saturating_sub(1).max(q.min_shards.max(1));
                    self.stats.shards.store(shards, Ordering::Relaxed);
                    idle_since = Instant::now();
                }
                if got > 0 {
                    idle_since = Instant::now();
                }
                if got == 0 {
                    let wait = match deadline {
                        Some(d) => d.saturating_duration_since(Instant::now()).min(q.poll_interval),
                        None => q.poll_interval,
                    };
                    if self.pause(wait).await.is_err() {
                        break 'outer;
                    }
                }
            }
            if !pending.is_empty() && self.send_all(pending, shards).await.is_err() {
                self.stats.samples_pending.store(0, Ordering::Relaxed);
                break;
            }
            if let Err(e) = self.source.ack(pos) {
                tracing::warn!(queue = %self.opts.name, err = %e, "acknowledging remote-write source");
            }
            self.stats.acked_position.store(pos, Ordering::Relaxed);
            shards = if backlog {
                (shards * 2).min(q.max_shards)
            } else {
                shards.saturating_sub(1).max(q.min_shards.max(1))
            };
            self.stats.shards.store(shards, Ordering::Relaxed);
            if relabel_cache.len() > 100_000 {
                relabel_cache.clear();
            }
        }
    }

    fn relabel(&self, cache: &mut HashMap<Labels, Option<Labels>>, l: &Labels) -> Option<Labels> {
        if self.opts.external_labels.is_empty() && self.opts.write_relabel_configs.is_empty() {
            return Some(l.clone());
        }
        if let Some(r) = cache.get(l) {
            return r.clone();
        }
        let mut with_ext = l.clone();
        if !self.opts.external_labels.is_empty() {
            let mut b = l.builder();
            for e in self.opts.external_labels.iter() {
                if !l.has(&e.name) {
                    b.set(&e.name, &e.value);
                }
            }
            with_ext = b.build();
        }
        let out = model::relabel::process(&with_ext, &self.opts.write_relabel_configs);
        cache.insert(l.clone(), out.clone());
        out
    }

    /// Splits by series over `shards` and sends them concurrently; `Err` only when stopped.
    async fn send_all(&self, samples: Vec<(Labels, Sample)>, shards: usize) -> Result<(), Stopped> {
        let mut per_shard: Vec<Vec<(Labels, Sample)>> = vec![Vec::new(); shards];
        for (l, s) in samples {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            l.hash(&mut h);
            per_shard[(h.finish() % shards as u64) as usize].push((l, s));
        }
        let sends = per_shard.into_iter().filter(|s| !s.is_empty()).map(|s| self.send_shard(s));
        let results = futures_join_all(sends).await;
        results.into_iter().collect()
    }

    async fn send_shard(&self, samples: Vec<(Labels, Sample)>) -> Result<(), Stopped> {
        for chunk in samples.chunks(self.opts.queue.max_samples_per_send) {
            self.send_chunk(chunk).await?;
        }
        Ok(())
    }

    /// Sends one request until it succeeds or fails for good, then counts it as finished.
    async fn send_chunk(&self, chunk: &[(Labels, Sample)]) -> Result<(), Stopped> {
        let body = encode_write_request(&to_request(chunk));
        let bytes = body.len() as u64;
        self.send_with_backoff(chunk, body).await?;
        let n = chunk.len() as u64;
        let st = &self.stats;
        st.bytes_sent.fetch_add(bytes, Ordering::Relaxed);
        let max_t = chunk.iter().map(|(_, s)| s.t).max().unwrap_or(i64::MIN);
        st.highest_finished_timestamp.fetch_max(max_t, Ordering::Relaxed);
        let _ = st
            .samples_pending
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| Some(p.saturating_sub(n)));
        Ok(())
    }

    async fn send_with_backoff(
        &self,
        chunk: &[(Labels, Sample)],
        body: Vec<u8>,
    ) -> Result<(), Stopped> {
        let q = &self.opts.queue;
        let mut backoff = q.min_backoff;
        loop {
            self.stats.samples_attempted.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            let begin = Instant::now();
            let res = post_write(
                &self.client,
                &self.opts.http,
                &self.opts.url,
                body.clone(),
                q.retry_on_http_429,
            )
            .await;
            self.stats.sent_batch_duration.observe(begin.elapsed().as_secs_f64());
            match res {
                Ok(()) => {
                    self.stats.samples_sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    let max_t = chunk.iter().map(|(_, s)| s.t).max().unwrap_or(i64::MIN);
                    self.stats.highest_sent_timestamp.fetch_max(max_t, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) if e.retryable => {
                    tracing::warn!(queue = %self.opts.name, err = %e.error, "remote write failed, retrying");
                    self.stats.samples_retried.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    let wait = e.retry_after.map_or(backoff, |r| r.min(q.max_backoff).max(backoff));
                    self.pause(wait).await?;
                    backoff = (backoff * 2).min(q.max_backoff);
                }
                Err(e) => {
                    tracing::error!(queue = %self.opts.name, err = %e.error, samples = chunk.len(),
                        "non-recoverable remote write error, dropping samples");
                    self.stats.samples_failed.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    return Ok(());
                }
            }
        }
    }
}

/// Runs futures concurrently and collects their outputs in order.
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let futs: Vec<_> = futs.map(Box::pin).collect();
    let mut outs: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    let mut futs: Vec<_> = futs.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, slot) in futs.iter_mut().enumerate() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        outs[i] = Some(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await;
    outs.into_iter().flatten().collect()
}

/// Groups a chunk into one `TimeSeries` per series, samples in time order.
fn to_request(chunk: &[(Labels, Sample)]) -> WriteRequest {
    let mut idx: HashMap<&Labels, usize> = HashMap::new();
    let mut timeseries: Vec<TimeSeries> = Vec::new();
    for (l, s) in chunk {
        let i = *idx.entry(l).or_insert_with(|| {
            timeseries.push(TimeSeries {
                labels: labels_to_proto(l),
                samples: vec![],
                exemplars: vec![],
            });
            timeseries.len() - 1
        });
        timeseries[i].samples.push(proto::Sample { value: s.v, timestamp: s.t });
    }
    WriteRequest { timeseries, metadata: vec![] }
}

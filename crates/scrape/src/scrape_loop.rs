//! The scrape loop of one target: fetch, parse, label, limit, append (all or nothing), report
//! series and staleness markers.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use model::relabel::RelabelConfig;
use model::{Labels, value::stale_nan};
use parking_lot::Mutex;
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, HeaderMap, HeaderValue, USER_AGENT};
use storage::{Appendable, Appender, SeriesRef, StorageError};
use textparse::{EntryKind, Format, Parser};
use tokio_util::sync::CancellationToken;

use crate::Clock;
use crate::labels::{mutate_report_labels, mutate_sample_labels, verify_label_limits};
use crate::metadata::MetadataLines;
use crate::series_cache::{Entry, SeriesCache};
use crate::target::{Health, Target};

/// Limits of one scrape config; 0 means unlimited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    pub sample_limit: u64,
    pub label_limit: u64,
    pub label_name_length_limit: u64,
    pub label_value_length_limit: u64,
    pub body_size_limit: u64,
}

/// Everything a loop needs from its scrape config.
#[derive(Debug, Clone)]
pub struct LoopOptions {
    pub interval: Duration,
    pub timeout: Duration,
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub metric_relabel: Vec<RelabelConfig>,
    pub limits: Limits,
    pub http: config::http::HttpClientConfig,
    pub compression: bool,
}

/// Counts of one scrape, as the report series show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScrapeStats {
    pub scraped: u64,
    pub post_relabel: u64,
    pub series_added: u64,
}

/// Passes `Labels`' precomputed 64-bit hash through instead of hashing it again.
#[derive(Default)]
pub struct LabelsHasher(u64);

impl Hasher for LabelsHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 ^= n;
    }
}

type LabelSet = HashSet<Labels, BuildHasherDefault<LabelsHasher>>;

const REPORT_NAMES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];

/// One target's loop state.
pub struct ScrapeLoop {
    target: Arc<Target>,
    opts: Arc<LoopOptions>,
    client: reqwest::Client,
    appendable: Arc<dyn Appendable>,
    clock: Arc<dyn Clock>,
    /// Raw series bytes -> ref and final labels. The entries also track which series the
    /// last successful scrape wrote (`in_prev`) and this scrape writes (`cur_iter`), so
    /// staleness and duplicates need no per-sample set of labels.
    cache: SeriesCache,
    /// How many cache entries carry each final label set. Different raw series (label order,
    /// escapes, relabeling) can end up with the same labels; only those `shared` labels need a
    /// per-scrape set to catch duplicates.
    label_refs: HashMap<Labels, u32, BuildHasherDefault<LabelsHasher>>,
    shared: LabelSet,
    iter: u64,
    /// Cache entries after the last successful scrape (the yardstick of a forced flush).
    successful_len: usize,
    report_labels: Vec<(Labels, SeriesRef)>,
    /// The target's labels without the `__` ones (those a scraped series gets), built once.
    public_labels: Labels,
    /// An error that fails every scrape without fetching (target_limit exceeded).
    pub(crate) forced_error: Arc<Mutex<Option<String>>>,
    metadata: MetadataLines,
    /// The target's URL, parsed once (`None` if it does not parse: the request then fails
    /// with reqwest's error, as before), and the headers every scrape sends.
    url: Option<reqwest::Url>,
    headers: HeaderMap,
    /// The kept-alive connection of a plain-HTTP target without a proxy; others scrape
    /// through `client`.
    direct: Option<crate::http1::Conn>,
    /// Self-metrics (`prometheus_target_*`); the pool gives its manager's.
    pub(crate) metrics: crate::metrics::LoopMetrics,
    /// How late a scrape may start and still be stamped with its due time (see
    /// [`crate::align`]); the pool gives its manager's, Prometheus' 2 ms by default.
    pub(crate) timestamp_tolerance: Option<Duration>,
    /// Where in the interval the target is scraped; the pool gives its own.
    pub(crate) spread: crate::spread::Spread,
}

impl ScrapeLoop {
    pub fn new(
        target: Arc<Target>,
        opts: Arc<LoopOptions>,
        client: reqwest::Client,
        appendable: Arc<dyn Appendable>,
        clock: Arc<dyn Clock>,
    ) -> ScrapeLoop {
        let public = target.public_labels();
        let report_labels = REPORT_NAMES
            .iter()
            .map(|name| (mutate_report_labels(&Labels::new([("__name__", *name)]), &public), 0))
            .collect();
        let url = reqwest::Url::parse(&target.url).ok();
        let headers = scrape_headers(&opts);
        let direct = match &url {
            Some(u) if opts.http.proxy_url.is_none() => crate::http1::Conn::new(
                u,
                &target.url,
                &direct_headers(&opts),
                opts.http.follow_redirects,
            ),
            _ => None,
        };
        ScrapeLoop {
            direct,
            url,
            headers,
            target,
            opts,
            client,
            appendable,
            clock,
            cache: SeriesCache::new(),
            label_refs: HashMap::default(),
            shared: LabelSet::default(),
            iter: 0,
            successful_len: 0,
            report_labels,
            public_labels: public,
            forced_error: Arc::new(Mutex::new(None)),
            metadata: MetadataLines::default(),
            metrics: crate::metrics::LoopMetrics::default(),
            timestamp_tolerance: Some(crate::align::SCRAPE_TIMESTAMP_TOLERANCE),
            spread: crate::spread::Spread::EXACT,
        }
    }

    /// Runs until cancelled; on cancellation writes staleness markers if `stale_on_stop` is set.
    pub async fn run(mut self, cancel: CancellationToken, stale_on_stop: Arc<AtomicBool>) {
        let interval_ms = self.opts.interval.as_millis() as i64;
        let offset = self.target.offset(interval_ms, self.clock.now_ms(), self.spread);
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(offset.max(0) as u64)) => {}
        }
        let mut ticker = tokio::time::interval(self.opts.interval.max(Duration::from_millis(1)));
        // A scrape that starts late keeps the target's phase, as Prometheus' ticker does:
        // `Delay` moved the whole schedule by however late a busy worker polled the tick, so
        // the targets of a slot (see `crate::spread`) drifted apart and stamps left the
        // alignment tolerance for good.
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut align = crate::align::Alignment::new(
            self.clock.now_ms(),
            self.opts.interval,
            self.timestamp_tolerance,
        );
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = ticker.tick() => {}
            }
            let now = self.clock.now_ms();
            let ts = align.as_mut().map_or(now, |a| a.stamp(now));
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = self.scrape_and_report_at(ts) => {}
            }
        }
        if stale_on_stop.load(Ordering::SeqCst) {
            self.mark_all_stale(self.clock.now_ms());
        }
    }

    /// One scrape at the current time: fetch, append, report, update the target's state. As
    /// in Prometheus, the samples, staleness markers and report series of one scrape go
    /// through one appender and one commit; a failed scrape's samples are rolled back and its
    /// staleness markers and report series committed instead.
    pub async fn scrape_and_report(&mut self) {
        self.scrape_and_report_at(self.clock.now_ms()).await;
    }

    /// [`ScrapeLoop::scrape_and_report`] with the samples stamped `ts` (the scrape's due time
    /// when aligned; the target's last scrape time shown by the API is when it started).
    pub async fn scrape_and_report_at(&mut self, ts: i64) {
        let started_ms = self.clock.now_ms();
        let start = Instant::now();
        self.metrics.scrape_started(start);
        let forced = self.forced_error.lock().clone();
        // A buffer of the process' pool: warm in the CPU cache, not one per target.
        let mut body = crate::buffers::take();
        let fetched = match forced {
            Some(e) => Err(e),
            None => self.fetch(&mut body).await,
        };
        if let Err(e) = &fetched {
            self.metrics.fetch_failed(e);
        }
        let mut app = self.appendable.appender();
        let staged = match fetched {
            Ok((ct, from)) => {
                let staged = self.stage_scrape(app.as_mut(), &body[from..], &ct, ts);
                if staged.is_err() {
                    app.rollback();
                    app = self.appendable.appender();
                }
                staged
            }
            Err(e) => Err(e),
        };
        let (mut result, stats, done) = match staged {
            Ok((stats, format)) => (Ok(stats), stats, Some(format)),
            Err(e) => {
                // Series of the previous scrape go stale, as after an empty scrape.
                self.stage_stale_for_missing(app.as_mut(), ts);
                (Err(e), ScrapeStats::default(), None)
            }
        };
        let duration = start.elapsed();
        self.report(app.as_mut(), ts, duration, stats, result.is_ok());
        match (app.commit(), done) {
            (Ok(()), Some(format)) => self.finish_scrape(format),
            (Ok(()), None) => {
                self.finish_stale_for_missing();
                self.flush_if_grown();
            }
            (Err(e), _) => {
                tracing::warn!(target = %self.target.url, err = %e, "cannot commit scrape");
                self.flush_if_grown();
                if result.is_ok() {
                    result = Err(e.to_string());
                }
            }
        }
        crate::buffers::give_back(body);
        let mut st = self.target.state.lock();
        st.last_scrape_ms = Some(started_ms);
        st.last_scrape_duration = duration;
        match result {
            Ok(_) => {
                st.health = Health::Up;
                st.last_error.clear();
            }
            Err(e) => {
                tracing::debug!(target = %self.target.url, err = %e, "scrape failed");
                st.health = Health::Down;
                st.last_error = e;
            }
        }
    }

    /// Fetches the target into `body`; returns the response's content type and the offset in
    /// `body` where the response body starts (the direct client leaves the head before it).
    async fn fetch(&mut self, body: &mut Vec<u8>) -> Result<(String, usize), String> {
        let url = &self.target.url;
        let timeout = self.opts.timeout;
        if let Some(conn) = self.direct.as_mut() {
            let auth = crate::http_client::authorization(&self.opts.http)?;
            let limit = self.opts.limits.body_size_limit;
            match tokio::time::timeout(timeout, conn.fetch(auth.as_deref(), body, limit)).await {
                Ok(Ok(crate::http1::Fetched::Ok(ct, from))) => return Ok((ct, from)),
                // Followed by reqwest, below.
                Ok(Ok(crate::http1::Fetched::Redirect)) => body.clear(),
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(format!("Get {url:?}: context deadline exceeded")),
            }
        }
        let req = match &self.url {
            Some(parsed) => self.client.get(parsed.clone()),
            None => self.client.get(url),
        };
        let req = req.headers(self.headers.clone());
        let req = crate::http_client::authorize(req, &self.opts.http)?;
        let limit = self.opts.limits.body_size_limit;
        let fut = async move {
            let mut resp =
                req.send().await.map_err(|e| format!("Get {url:?}: {}", error_chain(&e)))?;
            let status = resp.status();
            if status != reqwest::StatusCode::OK {
                // As Go's `Response.Status`: the server's reason phrase, which hyper keeps
                // only when it is not the standard one.
                let reason = match resp.extensions().get::<hyper::ext::ReasonPhrase>() {
                    Some(r) => String::from_utf8_lossy(r.as_bytes()).into_owned(),
                    None => status.canonical_reason().unwrap_or("").to_string(),
                };
                return Err(if reason.is_empty() {
                    format!("server returned HTTP status {}", status.as_u16())
                } else {
                    format!("server returned HTTP status {} {reason}", status.as_u16())
                });
            }
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            // Trust Content-Length for pre-sizing only up to the limit (or 16 MiB).
            if let Some(len) = resp.content_length() {
                let cap = if limit > 0 { limit } else { 16 << 20 };
                crate::buffers::reserve_empty(body, len.min(cap) as usize);
            }
            while let Some(chunk) =
                resp.chunk().await.map_err(|e| format!("reading body: {}", error_chain(&e)))?
            {
                // As Prometheus: a body of exactly the limit fails too.
                if limit > 0 && (body.len() + chunk.len()) as u64 >= limit {
                    return Err("body size limit exceeded".to_string());
                }
                body.extend_from_slice(&chunk);
            }
            Ok((ct, 0))
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(format!("Get {url:?}: context deadline exceeded")),
        }
    }

    /// Parses and appends one scraped body at `ts` as one batch: on any error nothing of it is
    /// kept. Series of the previous scrape missing from this one get staleness markers.
    pub fn append_scrape(
        &mut self,
        body: &[u8],
        content_type: &str,
        ts: i64,
    ) -> Result<ScrapeStats, String> {
        let mut app = self.appendable.appender();
        match self.stage_scrape(app.as_mut(), body, content_type, ts) {
            Ok((stats, format)) => {
                app.commit().map_err(|e| e.to_string())?;
                self.finish_scrape(format);
                Ok(stats)
            }
            Err(e) => {
                app.rollback();
                self.flush_if_grown();
                Err(e)
            }
        }
    }

    /// How many raw series the loop's cache holds.
    pub fn cached_series(&self) -> usize {
        self.cache.len()
    }

    /// Appends one scraped body at `ts` and the staleness markers of the previous scrape's
    /// series missing from it to `app`, without committing. After a commit,
    /// [`ScrapeLoop::finish_scrape`] must follow; after an error, `app` must be rolled back.
    fn stage_scrape(
        &mut self,
        app: &mut dyn Appender,
        body: &[u8],
        content_type: &str,
        ts: i64,
    ) -> Result<(ScrapeStats, Format), String> {
        self.iter += 1;
        // Labels written this scrape, for the few label sets several raw series share.
        let mut cur = LabelSet::default();
        let format = textparse::format_for_content_type(content_type);
        let stats = self.append_body(app, body, format, ts, &mut cur)?;
        self.append_stale_markers(app, &cur, ts);
        Ok((stats, format))
    }

    /// After the commit of a staged scrape: the series cache moves on and the target's
    /// metadata is updated.
    fn finish_scrape(&mut self, format: Format) {
        self.end_scrape(format);
        if let Some(metadata) = self.metadata.changed(format) {
            *self.target.metadata.lock() = metadata;
        }
    }

    fn append_body(
        &mut self,
        app: &mut dyn Appender,
        body: &[u8],
        format: Format,
        ts: i64,
        cur: &mut LabelSet,
    ) -> Result<ScrapeStats, String> {
        let mut p = Parser::new(body, format);
        let mut stats = ScrapeStats::default();
        let limits = self.opts.limits.clone();
        let public = self.public_labels.clone();
        let iter = self.iter;
        // The entry the next sample line probably belongs to (the previous body's order).
        let mut expected = self.cache.begin(format);
        self.metadata.begin(format);
        loop {
            let hint = self.cache.hint(expected);
            let Some(kind) = p.next_hinted(hint).map_err(|e| e.to_string())? else { break };
            match kind {
                EntryKind::Series => {}
                EntryKind::Type | EntryKind::Help | EntryKind::Unit => {
                    self.metadata.push(p.entry_bytes());
                    continue;
                }
                EntryKind::Comment => continue,
            }
            stats.scraped += 1;
            let explicit_ts = if self.opts.honor_timestamps { p.timestamp() } else { None };
            let t = explicit_ts.unwrap_or(ts);
            let mut cache_miss = false;
            let id = if p.hint_matched() {
                expected
            } else if let Some(id) = self.cache.find(p.series()) {
                id
            } else {
                cache_miss = true;
                let labels = self.sample_labels(&p, &public, &limits)?;
                if let Some(l) = &labels {
                    self.add_label_ref(l, cur);
                }
                self.cache.insert(p.series(), labels, iter)
            };
            expected = self.cache.visit(id);
            let entry = self.cache.get_mut(id);
            entry.last_iter = iter;
            let Some(labels) = &entry.labels else { continue };
            stats.post_relabel += 1;
            if limits.sample_limit > 0 && stats.post_relabel > limits.sample_limit {
                self.metrics.sample_limit_exceeded();
                return Err("sample limit exceeded".into());
            }
            if explicit_ts.is_none() {
                let dup = entry.cur_iter == iter
                    || (!self.shared.is_empty()
                        && self.shared.contains(labels)
                        && !cur.insert(labels.clone()));
                if dup {
                    // As Prometheus 2.42: its head appender takes both, and the commit keeps
                    // the first and drops the later ones (counted as out of order by the
                    // TSDB); the scrape succeeds.
                    continue;
                }
                entry.cur_iter = iter;
            }
            match app.append(entry.series_ref, labels, t, p.value()) {
                Ok(r) => {
                    if cache_miss {
                        stats.series_added += 1;
                    }
                    entry.series_ref = r;
                }
                Err(
                    e @ (StorageError::OutOfOrderSample
                    | StorageError::OutOfBounds
                    | StorageError::TooOldSample
                    | StorageError::DuplicateSampleForTimestamp),
                ) => self.metrics.append_refused(&e),
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(stats)
    }

    /// Builds, relabels and validates the labels of the current sample.
    fn sample_labels(
        &self,
        p: &Parser<'_>,
        target: &Labels,
        limits: &Limits,
    ) -> Result<Option<Labels>, String> {
        let name = p.metric_name();
        let mut pairs: Vec<model::Label> = Vec::with_capacity(p.label_count() + 1);
        pairs.push(model::Label::new("__name__", &name));
        for (n, v) in p.labels() {
            if n == "__name__" || pairs.iter().any(|l| &*l.name == n) {
                return Err(format!(
                    "invalid metric name or label names: label {n:?} repeated in {name}"
                ));
            }
            pairs.push(model::Label::new(n, &v));
        }
        let lset = Labels::from_vec(pairs);
        let Some(out) =
            mutate_sample_labels(&lset, target, self.opts.honor_labels, &self.opts.metric_relabel)
        else {
            return Ok(None);
        };
        if out.is_empty() {
            return Ok(None);
        }
        let Some(metric) = out.metric_name() else {
            return Err("missing metric name (__name__ label)".into());
        };
        if !model::names::is_legacy_metric_name(metric)
            || !out.iter().all(|l| model::names::is_legacy_label_name(&l.name))
        {
            return Err(format!("invalid metric name or label names: {out}"));
        }
        verify_label_limits(&out, limits).inspect_err(|_| self.metrics.label_limits_exceeded())?;
        Ok(Some(out))
    }

    /// Counts one more cache entry with labels `l`. When another entry already has them, the
    /// labels become shared; if that entry was already written this scrape, `l` goes into
    /// `cur` so the second write is caught as a duplicate.
    fn add_label_ref(&mut self, l: &Labels, cur: &mut LabelSet) {
        let n = self.label_refs.entry(l.clone()).or_insert(0);
        *n += 1;
        if *n == 2 {
            self.shared.insert(l.clone());
            let iter = self.iter;
            let written =
                self.cache.values().any(|e| e.cur_iter == iter && e.labels.as_ref() == Some(l));
            if written {
                cur.insert(l.clone());
            }
        }
    }

    /// After a committed scrape (of a body in `format`): this scrape's series become the
    /// previous ones, its line order the cache's hints, and series missing from the last two
    /// scrapes leave the cache.
    fn end_scrape(&mut self, format: Format) {
        self.cache.commit_order(format);
        let iter = self.iter;
        self.retain_cached(|e| {
            e.in_prev = e.cur_iter == iter;
            iter - e.last_iter <= 2
        });
        self.successful_len = self.cache.len();
    }

    /// After a failed scrape. Series only leave the cache when a successful scrape lacks
    /// them, so a target that keeps failing while exposing new series would grow it without
    /// bound. As Prometheus, once it holds more than twice the entries of the last successful
    /// scrape plus 1,000, the entries this scrape did not see leave.
    fn flush_if_grown(&mut self) {
        if self.cache.len() <= self.successful_len.saturating_mul(2).saturating_add(1000) {
            return;
        }
        self.metrics.cache_flush_forced();
        let iter = self.iter;
        // Series the last successful scrape wrote stay for their staleness markers.
        self.retain_cached(|e| e.last_iter == iter || e.in_prev);
    }

    /// Keeps the cache entries `keep` returns true for; the label sets of the others are
    /// released from the shared-label counts.
    fn retain_cached(&mut self, mut keep: impl FnMut(&mut Entry) -> bool) {
        let (label_refs, shared) = (&mut self.label_refs, &mut self.shared);
        self.cache.retain(|e| {
            let kept = keep(e);
            if !kept && let Some(l) = &e.labels {
                release_label_ref(label_refs, shared, l);
            }
            kept
        });
    }

    /// Staleness markers for the series of the previous scrape that this one (`iter`) did not
    /// write; `cur` holds the written labels that several raw series share.
    fn append_stale_markers(&mut self, app: &mut dyn Appender, cur: &LabelSet, ts: i64) {
        let iter = self.iter;
        for e in self.cache.values().filter(|e| e.in_prev && e.cur_iter != iter) {
            let Some(l) = &e.labels else { continue };
            if !cur.is_empty() && cur.contains(l) {
                continue;
            }
            // Out-of-order and duplicate errors only mean a newer sample exists: nothing to mark.
            let _ = app.append(0, l, ts, stale_nan());
        }
    }

    /// A failed scrape: every series of the previous scrape goes stale (staged in `app`;
    /// [`ScrapeLoop::finish_stale_for_missing`] after the commit).
    fn stage_stale_for_missing(&mut self, app: &mut dyn Appender, ts: i64) {
        // No series counts as written in this iteration.
        let iter = self.iter;
        for e in self.cache.values_mut().filter(|e| e.cur_iter == iter) {
            e.cur_iter = 0;
        }
        self.append_stale_markers(app, &LabelSet::default(), ts);
    }

    fn finish_stale_for_missing(&mut self) {
        for e in self.cache.values_mut() {
            e.in_prev = false;
        }
    }

    /// Appends the report series of one scrape to `app`.
    fn report(
        &mut self,
        app: &mut dyn Appender,
        ts: i64,
        duration: Duration,
        stats: ScrapeStats,
        up: bool,
    ) {
        let values = [
            if up { 1.0 } else { 0.0 },
            duration.as_secs_f64(),
            stats.scraped as f64,
            stats.post_relabel as f64,
            stats.series_added as f64,
        ];
        for ((labels, r), v) in self.report_labels.iter_mut().zip(values) {
            match app.append(*r, labels, ts, v) {
                Ok(new_ref) => *r = new_ref,
                Err(e) => tracing::debug!(err = %e, "cannot append report sample"),
            }
        }
    }

    /// Writes staleness markers for every series and report series (the target went away).
    pub fn mark_all_stale(&mut self, ts: i64) {
        let mut app = self.appendable.appender();
        let prev = self.cache.values().filter(|e| e.in_prev).filter_map(|e| e.labels.as_ref());
        for l in prev.chain(self.report_labels.iter().map(|(l, _)| l)) {
            let _ = app.append(0, l, ts, stale_nan());
        }
        if let Err(e) = app.commit() {
            tracing::warn!(err = %e, "cannot commit staleness markers");
        }
        for e in self.cache.values_mut() {
            e.in_prev = false;
        }
    }
}

/// The headers of every scrape request of a loop with `opts`, built once.
fn scrape_headers(opts: &LoopOptions) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(4);
    h.insert(ACCEPT, HeaderValue::from_static(textparse::SCRAPE_ACCEPT_HEADER));
    h.insert(USER_AGENT, HeaderValue::from_static(concat!("Pharos/", env!("CARGO_PKG_VERSION"))));
    if let Ok(v) = HeaderValue::from_str(&format!("{}", opts.timeout.as_secs_f64())) {
        h.insert("X-Prometheus-Scrape-Timeout-Seconds", v);
    }
    if !opts.compression {
        h.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
    }
    h
}

/// The same headers as `scrape_headers` for the direct client, which also names the
/// encodings it accepts (reqwest adds `Accept-Encoding: gzip` itself).
fn direct_headers(opts: &LoopOptions) -> Vec<(&'static str, String)> {
    let encoding = if opts.compression { "gzip" } else { "identity" };
    vec![
        ("Accept", textparse::SCRAPE_ACCEPT_HEADER.to_string()),
        ("User-Agent", concat!("Pharos/", env!("CARGO_PKG_VERSION")).to_string()),
        ("X-Prometheus-Scrape-Timeout-Seconds", format!("{}", opts.timeout.as_secs_f64())),
        ("Accept-Encoding", encoding.to_string()),
    ]
}

/// Counts one cache entry with labels `l` less (it left the cache).
fn release_label_ref(
    label_refs: &mut HashMap<Labels, u32, BuildHasherDefault<LabelsHasher>>,
    shared: &mut LabelSet,
    l: &Labels,
) {
    if let Some(n) = label_refs.get_mut(l) {
        *n -= 1;
        match *n {
            0 => {
                label_refs.remove(l);
            }
            1 => {
                shared.remove(l);
            }
            _ => {}
        }
    }
}

/// The error and its sources, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

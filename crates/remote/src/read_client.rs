//! `ReadClient`: a `storage::Queryable` over a remote-read endpoint (SAMPLES response type),
//! as Prometheus' `remote_read`. Queriers are synchronous: each `select` posts one request on
//! the tokio runtime captured at construction and blocks the calling thread for the answer,
//! so call them from blocking threads (as the API and rules do), never from async tasks.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use model::{Labels, Matcher, Sample, Timestamp};
use prost::Message;
use storage::{Querier, Queryable, SelectHints, Series, SeriesSet, SliceIterator, StorageError};

use crate::RemoteError;
use crate::client::HttpOptions;
use crate::codec::{decode_read_response, labels_from_proto, matchers_to_proto, snappy_encode};
use crate::proto::{Query, ReadHints, ReadRequest};

/// One `remote_read` entry.
#[derive(Clone)]
pub struct ReadOptions {
    pub name: String,
    pub url: String,
    pub remote_timeout: Duration,
    pub http: HttpOptions,
    /// Only selectors containing all of these equality matchers are sent to this endpoint.
    pub required_matchers: Vec<(String, String)>,
    /// `filter_external_labels`: these labels are sent as equality matchers and removed from
    /// the returned series (empty when the option is off).
    pub external_labels: Labels,
    /// `read_recent: false` skips the part of a query the local storage covers: with this set,
    /// queries only read remotely before the local storage's oldest timestamp.
    pub local_start_time: Option<Arc<dyn Fn() -> Option<i64> + Send + Sync>>,
}

impl std::fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("required_matchers", &self.required_matchers)
            .field("external_labels", &self.external_labels)
            .field("read_recent", &self.local_start_time.is_none())
            .finish_non_exhaustive()
    }
}

impl ReadOptions {
    pub fn new(name: &str, url: &str) -> ReadOptions {
        ReadOptions {
            name: name.into(),
            url: url.into(),
            remote_timeout: Duration::from_secs(60),
            http: HttpOptions::default(),
            required_matchers: Vec::new(),
            external_labels: Labels::empty(),
            local_start_time: None,
        }
    }
}

struct Inner {
    opts: ReadOptions,
    client: reqwest::Client,
    rt: tokio::runtime::Handle,
}

/// A remote-read endpoint as a `Queryable`.
#[derive(Clone)]
pub struct ReadClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ReadClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadClient").field("url", &self.inner.opts.url).finish()
    }
}

impl ReadClient {
    /// Builds a client; `rt` runs its HTTP requests.
    pub fn new(opts: ReadOptions, rt: tokio::runtime::Handle) -> Result<ReadClient, RemoteError> {
        reqwest::Url::parse(&opts.url).map_err(|e| RemoteError::Config(format!("url: {e}")))?;
        let client = opts.http.client(opts.remote_timeout)?;
        Ok(ReadClient { inner: Arc::new(Inner { opts, client, rt }) })
    }

    /// Runs one remote-read query and returns the series sorted by labels.
    pub fn read(
        &self,
        mint: i64,
        maxt: i64,
        matchers: &[Matcher],
        hints: Option<&SelectHints>,
    ) -> Result<Vec<(Labels, Vec<Sample>)>, RemoteError> {
        let query = Query {
            start_timestamp_ms: mint,
            end_timestamp_ms: maxt,
            matchers: matchers_to_proto(matchers),
            hints: hints.map(|h| ReadHints {
                step_ms: h.step,
                start_ms: h.start,
                end_ms: h.end,
                range_ms: h.range,
                ..ReadHints::default()
            }),
        };
        let body = snappy_encode(
            &ReadRequest { queries: vec![query], accepted_response_types: vec![0] }.encode_to_vec(),
        );
        let inner = self.inner.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        self.inner.rt.spawn(async move {
            let req = inner
                .client
                .post(&inner.opts.url)
                .header("Content-Encoding", "snappy")
                .header("Content-Type", "application/x-protobuf")
                .header("X-Prometheus-Remote-Read-Version", "0.1.0")
                .body(body);
            let res = async {
                let resp = inner
                    .opts
                    .http
                    .auth(req)
                    .send()
                    .await
                    .map_err(|e| RemoteError::Transport(e.to_string()))?;
                let status = resp.status();
                let bytes =
                    resp.bytes().await.map_err(|e| RemoteError::Transport(e.to_string()))?;
                if !status.is_success() {
                    let msg = String::from_utf8_lossy(&bytes[..bytes.len().min(512)])
                        .trim_end()
                        .to_string();
                    return Err(RemoteError::Http { status: status.as_u16(), message: msg });
                }
                decode_read_response(&bytes)
            }
            .await;
            let _ = tx.send(res);
        });
        let resp =
            rx.recv().map_err(|_| RemoteError::Transport("remote read task ended".into()))??;
        let mut out = Vec::new();
        for result in resp.results {
            for ts in result.timeseries {
                let labels = labels_from_proto(&ts.labels)?;
                let mut samples: Vec<Sample> =
                    ts.samples.iter().map(|s| Sample::new(s.timestamp, s.value)).collect();
                samples.sort_by_key(|s| s.t);
                samples.dedup_by_key(|s| s.t);
                out.push((labels, samples));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn wanted(&self, matchers: &[Matcher]) -> bool {
        self.inner.opts.required_matchers.iter().all(|(n, v)| {
            matchers
                .iter()
                .any(|m| m.op == model::MatchType::Equal && &m.name == n && &m.value == v)
        })
    }
}

impl Queryable for ReadClient {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> Result<Box<dyn Querier>, StorageError> {
        Ok(Box::new(RemoteQuerier { client: self.clone(), mint, maxt }))
    }
}

struct RemoteQuerier {
    client: ReadClient,
    mint: i64,
    maxt: i64,
}

fn storage_err(e: RemoteError) -> StorageError {
    StorageError::Unavailable(format!("remote read: {e}"))
}

impl RemoteQuerier {
    fn series(
        &self,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<Vec<(Labels, Vec<Sample>)>, StorageError> {
        if !self.client.wanted(matchers) {
            return Ok(Vec::new());
        }
        let opts = &self.client.inner.opts;
        let mut maxt = self.maxt;
        if let Some(start) = &opts.local_start_time
            && let Some(local) = start()
        {
            maxt = maxt.min(local - 1);
        }
        if self.mint > maxt {
            return Ok(Vec::new());
        }
        let ext = &opts.external_labels;
        if ext.is_empty() {
            return self.client.read(self.mint, maxt, matchers, hints).map_err(storage_err);
        }
        let mut all = matchers.to_vec();
        all.extend(ext.iter().map(|l| Matcher::equal(&l.name, &l.value)));
        let series = self.client.read(self.mint, maxt, &all, hints).map_err(storage_err)?;
        let names: Vec<&str> = ext.iter().map(|l| &*l.name).collect();
        let mut out: Vec<(Labels, Vec<Sample>)> =
            series.into_iter().map(|(l, s)| (l.drop_names(&names), s)).collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

impl Querier for RemoteQuerier {
    fn select(
        &self,
        _sorted: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        let series = self.series(hints, matchers)?;
        Ok(Box::new(series.into_iter().filter(|(_, s)| !s.is_empty()).map(|(labels, samples)| {
            let n = samples.len();
            Ok(Series { labels, samples: Box::new(SliceIterator::new(samples.into(), 0, n)) })
        })))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if matchers.is_empty() {
            return Ok(Vec::new());
        }
        let set: BTreeSet<String> = self
            .series(None, matchers)?
            .into_iter()
            .filter_map(|(l, _)| l.get(name).map(String::from))
            .collect();
        Ok(set.into_iter().collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        if matchers.is_empty() {
            return Ok(Vec::new());
        }
        let set: BTreeSet<String> = self
            .series(None, matchers)?
            .into_iter()
            .flat_map(|(l, _)| l.iter().map(|x| x.name.to_string()).collect::<Vec<_>>())
            .collect();
        Ok(set.into_iter().collect())
    }
}

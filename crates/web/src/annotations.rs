//! Deployment annotations: events `{service, version, time, text}` posted by deploy pipelines and
//! drawn on dashboard time series. Kept in memory and appended to a JSON-lines log.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Clock, Error};

/// A stored annotation. `time_ms` is milliseconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub id: u64,
    pub service: String,
    pub version: String,
    pub time_ms: i64,
    pub text: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

impl Annotation {
    /// The API form: `time` in Unix seconds (fractional), like the Prometheus API.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "service": self.service,
            "version": self.version,
            "time": self.time_ms as f64 / 1000.0,
            "text": self.text,
            "tags": self.tags,
        })
    }
}

/// The body of `POST /api/pharos/v1/annotations`. `time` is RFC 3339 or Unix seconds (number or
/// string); absent means now.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewAnnotation {
    pub service: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub time: Option<Value>,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Parses a Prometheus-style timestamp (RFC 3339 or Unix seconds) into milliseconds.
pub(crate) fn parse_time(v: &str) -> Option<i64> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        let ms = secs * 1000.0;
        return (ms.is_finite() && ms.abs() < 9.0e15).then(|| ms.round() as i64);
    }
    chrono::DateTime::parse_from_rfc3339(v).ok().map(|t| t.timestamp_millis())
}

struct Inner {
    items: Vec<Annotation>,
    next_id: u64,
}

/// The annotation log.
pub struct AnnotationStore {
    path: PathBuf,
    clock: Clock,
    max: usize,
    inner: Mutex<Inner>,
}

impl AnnotationStore {
    /// An empty store writing to `path`.
    pub fn empty(path: PathBuf, clock: Clock, max: usize) -> AnnotationStore {
        AnnotationStore {
            path,
            clock,
            max: max.max(1),
            inner: Mutex::new(Inner { items: Vec::new(), next_id: 1 }),
        }
    }

    /// Loads the log at `path` (missing is empty; unparsable lines are skipped with a warning).
    pub fn open(path: PathBuf, clock: Clock, max: usize) -> Result<AnnotationStore, Error> {
        let store = AnnotationStore::empty(path, clock, max);
        let text = match fs::read_to_string(&store.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(store),
            Err(e) => return Err(Error::io(&store.path, e)),
        };
        {
            let mut inner = store.inner.lock();
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                match serde_json::from_str::<Annotation>(line) {
                    Ok(a) => {
                        inner.next_id = inner.next_id.max(a.id + 1);
                        inner.items.push(a);
                    }
                    Err(e) => tracing::warn!(line = n + 1, error = %e, "skipping annotation"),
                }
            }
            inner.items.sort_by_key(|a| (a.time_ms, a.id));
            let excess = inner.items.len().saturating_sub(store.max);
            inner.items.drain(..excess);
        }
        Ok(store)
    }

    /// Validates, stores and logs a new annotation.
    pub fn add(&self, new: NewAnnotation) -> Result<Annotation, Error> {
        let service = new.service.trim().to_string();
        if service.is_empty() {
            return Err(Error::InvalidAnnotation("service must not be empty".into()));
        }
        let time_ms = match &new.time {
            None | Some(Value::Null) => (self.clock)(),
            Some(Value::Number(n)) => n
                .as_f64()
                .and_then(|s| parse_time(&s.to_string()))
                .ok_or_else(|| Error::InvalidAnnotation(format!("invalid time {n}")))?,
            Some(Value::String(s)) => parse_time(s).ok_or_else(|| {
                Error::InvalidAnnotation(format!(
                    "invalid time {s:?}: want RFC 3339 or Unix seconds"
                ))
            })?,
            Some(other) => return Err(Error::InvalidAnnotation(format!("invalid time {other}"))),
        };
        let mut inner = self.inner.lock();
        let a = Annotation {
            id: inner.next_id,
            service,
            version: new.version,
            time_ms,
            text: new.text,
            tags: new.tags,
        };
        self.append(&a)?;
        inner.next_id += 1;
        let pos = inner.items.partition_point(|x| (x.time_ms, x.id) <= (a.time_ms, a.id));
        inner.items.insert(pos, a.clone());
        if inner.items.len() > self.max {
            inner.items.remove(0);
        }
        Ok(a)
    }

    /// Annotations with `start_ms <= time <= end_ms`, optionally of one service, oldest first.
    pub fn query(&self, start_ms: i64, end_ms: i64, service: Option<&str>) -> Vec<Annotation> {
        let inner = self.inner.lock();
        inner
            .items
            .iter()
            .filter(|a| a.time_ms >= start_ms && a.time_ms <= end_ms)
            .filter(|a| service.is_none_or(|s| a.service == s))
            .cloned()
            .collect()
    }

    fn append(&self, a: &Annotation) -> Result<(), Error> {
        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let mut line =
            serde_json::to_string(a).map_err(|e| Error::InvalidAnnotation(e.to_string()))?;
        line.push('\n');
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Error::io(&self.path, e))?;
        f.write_all(line.as_bytes()).map_err(|e| Error::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn new(service: &str, time: Option<Value>) -> NewAnnotation {
        NewAnnotation { service: service.into(), version: "v1".into(), time, ..Default::default() }
    }

    #[test]
    fn times_parse_as_prometheus_timestamps() {
        assert_eq!(parse_time("1700000000"), Some(1_700_000_000_000));
        assert_eq!(parse_time("1700000000.5"), Some(1_700_000_000_500));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000_000));
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(parse_time("NaN"), None);
    }

    #[test]
    fn add_query_and_reload() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.jsonl");
        let clock: Clock = Arc::new(|| 5_000);
        let s = AnnotationStore::open(path.clone(), clock.clone(), 10).expect("open");
        s.add(new("api", Some(Value::from(10)))).expect("add");
        s.add(new("web", Some(Value::from("1970-01-01T00:00:02Z")))).expect("add");
        let now = s.add(new("api", None)).expect("add");
        assert_eq!(now.time_ms, 5_000);
        assert!(matches!(s.add(new(" ", None)), Err(Error::InvalidAnnotation(_))));
        assert!(matches!(
            s.add(new("x", Some(Value::from("soon")))),
            Err(Error::InvalidAnnotation(_))
        ));
        let all: Vec<i64> = s.query(i64::MIN, i64::MAX, None).iter().map(|a| a.time_ms).collect();
        assert_eq!(all, [2_000, 5_000, 10_000]);
        assert_eq!(s.query(0, 6_000, Some("api")).len(), 1);

        let reloaded = AnnotationStore::open(path, clock, 2).expect("reopen");
        let kept: Vec<i64> =
            reloaded.query(i64::MIN, i64::MAX, None).iter().map(|a| a.time_ms).collect();
        assert_eq!(kept, [5_000, 10_000]);
        assert_eq!(reloaded.add(new("api", None)).expect("add").id, 4);
    }
}

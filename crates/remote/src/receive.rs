//! The remote-write receiver: decode one request and append it through one `Appender`, all or
//! nothing, with Prometheus' status codes (204 stored, 400 bad request or rejected samples, 500
//! storage failure).

use storage::{Appendable, StorageError};

use crate::RemoteError;
use crate::codec::{decode_write_request, labels_from_proto};

/// Samples further than this ahead of the receiver's clock are out of bounds (as Prometheus).
pub const MAX_AHEAD_MS: i64 = 10 * 60 * 1000;

/// What a successful write stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub samples: usize,
    /// Series skipped because their labels were invalid (no metric name, duplicate names).
    pub invalid_series: usize,
}

impl RemoteError {
    /// The HTTP status a receiver answers with for this error.
    pub fn status_code(&self) -> u16 {
        match self {
            RemoteError::Snappy(_) | RemoteError::Decode(_) | RemoteError::BadRequest(_) => 400,
            RemoteError::Storage(
                StorageError::OutOfOrderSample
                | StorageError::OutOfBounds
                | StorageError::DuplicateSampleForTimestamp
                | StorageError::TooOldSample
                | StorageError::InvalidLabels(_),
            ) => 400,
            RemoteError::Http { status, .. } if *status != 0 => *status,
            _ => 500,
        }
    }
}

/// Handles the body of a remote-write 1.0 request (snappy-compressed `WriteRequest`).
/// `now_ms` is the receiver's clock, for the out-of-bounds check on future samples.
pub fn receive_write(
    appendable: &dyn Appendable,
    body: &[u8],
    now_ms: i64,
) -> Result<WriteStats, RemoteError> {
    let req = decode_write_request(body)?;
    let mut app = appendable.appender();
    let mut stats = WriteStats::default();
    let max_t = now_ms.saturating_add(MAX_AHEAD_MS);
    for ts in &req.timeseries {
        let labels = match labels_from_proto(&ts.labels) {
            Ok(l) if l.metric_name().is_some() => l,
            _ => {
                tracing::warn!(labels = ?ts.labels, "invalid metric names or labels in remote write");
                stats.invalid_series += 1;
                continue;
            }
        };
        let mut hint = 0;
        for s in &ts.samples {
            let res = if s.timestamp > max_t {
                Err(StorageError::OutOfBounds)
            } else {
                app.append(hint, &labels, s.timestamp, s.value)
            };
            match res {
                Ok(r) => hint = r,
                Err(e) => {
                    tracing::error!(err = %e, series = %labels, timestamp = s.timestamp,
                        "sample from remote write rejected");
                    app.rollback();
                    return Err(RemoteError::Storage(e));
                }
            }
            stats.samples += 1;
        }
    }
    app.commit()?;
    Ok(stats)
}

/// Resolves the label references of a 2.0 series against the symbol table.
fn labels_from_refs(symbols: &[String], refs: &[u32]) -> Result<model::Labels, RemoteError> {
    if !refs.len().is_multiple_of(2) {
        return Err(RemoteError::BadRequest(
            "invalid labels_refs: odd number of references".into(),
        ));
    }
    let sym = |r: u32| {
        symbols.get(r as usize).ok_or_else(|| {
            RemoteError::BadRequest(format!(
                "invalid symbol reference {r}, symbols table has {} entries",
                symbols.len()
            ))
        })
    };
    let mut pairs = Vec::with_capacity(refs.len() / 2);
    for p in refs.chunks_exact(2) {
        pairs.push(crate::proto::Label { name: sym(p[0])?.clone(), value: sym(p[1])?.clone() });
    }
    labels_from_proto(&pairs)
}

/// Handles the body of a remote-write 2.0 request (`io.prometheus.write.v2.Request`), all or
/// nothing like 1.0. Invalid label references or series without a metric name are a 400.
pub fn receive_write_v2(
    appendable: &dyn Appendable,
    body: &[u8],
    now_ms: i64,
) -> Result<WriteStats, RemoteError> {
    use prost::Message;
    let raw = crate::codec::snappy_decode(body)?;
    let req = crate::proto_v2::Request::decode(raw.as_slice())
        .map_err(|e| RemoteError::Decode(e.to_string()))?;
    if req.symbols.first().is_some_and(|s| !s.is_empty()) {
        return Err(RemoteError::BadRequest(
            "symbols table must start with an empty string".into(),
        ));
    }
    let mut app = appendable.appender();
    let mut stats = WriteStats::default();
    let max_t = now_ms.saturating_add(MAX_AHEAD_MS);
    for ts in &req.timeseries {
        let labels = match labels_from_refs(&req.symbols, &ts.labels_refs) {
            Ok(l) if l.metric_name().is_some() => l,
            Ok(l) => {
                app.rollback();
                return Err(RemoteError::BadRequest(format!(
                    "invalid metric name or labels, got {l}"
                )));
            }
            Err(e) => {
                app.rollback();
                return Err(e);
            }
        };
        let mut hint = 0;
        for s in &ts.samples {
            let res = if s.timestamp > max_t {
                Err(StorageError::OutOfBounds)
            } else {
                app.append(hint, &labels, s.timestamp, s.value)
            };
            match res {
                Ok(r) => hint = r,
                Err(e) => {
                    app.rollback();
                    return Err(RemoteError::Storage(e));
                }
            }
            stats.samples += 1;
        }
    }
    app.commit()?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode_write_request, labels_to_proto};
    use crate::proto::{Sample, TimeSeries, WriteRequest};
    use model::Labels;
    use storage::MemStorage;

    fn req(series: &[(&str, &[(i64, f64)])]) -> Vec<u8> {
        encode_write_request(&WriteRequest {
            timeseries: series
                .iter()
                .map(|(name, samples)| TimeSeries {
                    labels: labels_to_proto(&Labels::new([("__name__", *name)])),
                    samples: samples
                        .iter()
                        .map(|&(timestamp, value)| Sample { value, timestamp })
                        .collect(),
                    exemplars: vec![],
                })
                .collect(),
            metadata: vec![],
        })
    }

    #[test]
    fn stores_every_sample() {
        let s = MemStorage::new();
        let stats = receive_write(&s, &req(&[("a", &[(1, 1.0), (2, 2.0)]), ("b", &[(1, 3.0)])]), 0)
            .unwrap();
        assert_eq!(stats.samples, 3);
        assert_eq!(s.num_samples(), 3);
    }

    #[test]
    fn out_of_order_rejects_the_whole_request() {
        let s = MemStorage::new();
        receive_write(&s, &req(&[("a", &[(10, 1.0)])]), 0).unwrap();
        let err = receive_write(&s, &req(&[("b", &[(1, 1.0)]), ("a", &[(5, 1.0)])]), 0);
        let err = err.unwrap_err();
        assert_eq!(err.status_code(), 400);
        assert_eq!(err.to_string(), "out of order sample");
        assert_eq!(s.num_series(), 1, "nothing from the rejected request is stored");
    }

    #[test]
    fn far_future_samples_are_out_of_bounds() {
        let s = MemStorage::new();
        let err = receive_write(&s, &req(&[("a", &[(MAX_AHEAD_MS + 1, 1.0)])]), 0).unwrap_err();
        assert_eq!(err.status_code(), 400);
        assert_eq!(s.num_samples(), 0);
    }

    #[test]
    fn v2_requests_resolve_symbols() {
        use crate::proto_v2::{Request, Sample as S2, TimeSeries as T2};
        use prost::Message;
        let req = Request {
            symbols: vec!["".into(), "__name__".into(), "up".into(), "job".into(), "a".into()],
            timeseries: vec![T2 {
                labels_refs: vec![1, 2, 3, 4],
                samples: vec![S2 { value: 1.0, timestamp: 5 }, S2 { value: 2.0, timestamp: 6 }],
                ..T2::default()
            }],
        };
        let s = MemStorage::new();
        let body = crate::codec::snappy_encode(&req.encode_to_vec());
        assert_eq!(receive_write_v2(&s, &body, 0).unwrap().samples, 2);
        let q = storage::Queryable::querier(&s, 0, 10).unwrap();
        let names = q.label_values("job", &[]).unwrap();
        assert_eq!(names, vec!["a"]);
        let mut bad = req.clone();
        bad.timeseries[0].labels_refs = vec![1, 9];
        let body = crate::codec::snappy_encode(&bad.encode_to_vec());
        assert_eq!(receive_write_v2(&s, &body, 0).unwrap_err().status_code(), 400);
    }

    #[test]
    fn garbage_is_400() {
        let s = MemStorage::new();
        assert_eq!(receive_write(&s, b"not snappy", 0).unwrap_err().status_code(), 400);
    }
}

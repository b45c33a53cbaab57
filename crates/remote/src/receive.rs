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
    fn garbage_is_400() {
        let s = MemStorage::new();
        assert_eq!(receive_write(&s, b"not snappy", 0).unwrap_err().status_code(), 400);
    }
}

//! The remote-read server: answers a snappy-compressed `ReadRequest` with a `ReadResponse` of
//! the SAMPLES type, read through `storage::Queryable`. External labels are attached to every
//! returned series and matchers on them are answered as Prometheus does.

use model::{Labels, Matcher};
use prost::Message;
use storage::Queryable;

use crate::RemoteError;
use crate::codec::{decode_read_request, labels_to_proto, matchers_from_proto, snappy_encode};
use crate::proto::{QueryResult, ReadResponse, Sample, TimeSeries};

/// Content type of remote-read SAMPLES responses.
pub const READ_CONTENT_TYPE: &str = "application/x-protobuf";

/// Serves one remote-read request body; returns the snappy-compressed response body.
pub fn serve_read(
    queryable: &dyn Queryable,
    body: &[u8],
    external_labels: &Labels,
) -> Result<Vec<u8>, RemoteError> {
    let req = decode_read_request(body)?;
    if !req.accepted_response_types.is_empty() && !req.accepted_response_types.contains(&0) {
        return Err(RemoteError::BadRequest(format!(
            "none of requested response types are implemented: {:?}",
            req.accepted_response_types
        )));
    }
    let mut results = Vec::with_capacity(req.queries.len());
    for q in &req.queries {
        let matchers = matchers_from_proto(&q.matchers)?;
        let Some(matchers) = filter_external(matchers, external_labels) else {
            results.push(QueryResult::default());
            continue;
        };
        let querier = queryable.querier(q.start_timestamp_ms, q.end_timestamp_ms)?;
        let mut timeseries = Vec::new();
        for series in querier.select(true, None, &matchers)? {
            let mut series = series?;
            let mut samples = Vec::new();
            while let Some(s) = series.samples.next() {
                samples.push(Sample { value: s.v, timestamp: s.t });
            }
            if let Some(e) = series.samples.err() {
                return Err(e.into());
            }
            let labels = with_external(&series.labels, external_labels);
            timeseries.push(TimeSeries {
                labels: labels_to_proto(&labels),
                samples,
                exemplars: vec![],
            });
        }
        results.push(QueryResult { timeseries });
    }
    Ok(snappy_encode(&ReadResponse { results }.encode_to_vec()))
}

/// Drops matchers on external labels that the external value satisfies; `None` if one cannot
/// match (no local series can then match).
fn filter_external(matchers: Vec<Matcher>, external: &Labels) -> Option<Vec<Matcher>> {
    let mut out = Vec::with_capacity(matchers.len());
    for m in matchers {
        match external.get(&m.name) {
            Some(v) if m.matches(v) => {}
            Some(_) => return None,
            None => out.push(m),
        }
    }
    Some(out)
}

/// Adds external labels the series does not already have.
fn with_external(labels: &Labels, external: &Labels) -> Labels {
    if external.is_empty() {
        return labels.clone();
    }
    let mut b = labels.builder();
    for l in external.iter() {
        if !labels.has(&l.name) {
            b.set(&l.name, &l.value);
        }
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{decode_read_response, matchers_to_proto};
    use crate::proto::{Query, ReadRequest};
    use storage::{Appendable, MemStorage};

    #[test]
    fn answers_samples_with_external_labels() {
        let s = MemStorage::new();
        let mut app = s.appender();
        app.append(0, &Labels::new([("__name__", "up"), ("job", "a")]), 10, 1.0).unwrap();
        app.append(0, &Labels::new([("__name__", "up"), ("job", "a")]), 20, 2.0).unwrap();
        app.append(0, &Labels::new([("__name__", "down")]), 10, 1.0).unwrap();
        app.commit().unwrap();
        let req = ReadRequest {
            queries: vec![Query {
                start_timestamp_ms: 0,
                end_timestamp_ms: 15,
                matchers: matchers_to_proto(&[
                    Matcher::equal("__name__", "up"),
                    Matcher::equal("region", "eu"),
                ]),
                hints: None,
            }],
            accepted_response_types: vec![0],
        };
        let body = snappy_encode(&req.encode_to_vec());
        let ext = Labels::new([("region", "eu")]);
        let resp = decode_read_response(&serve_read(&s, &body, &ext).unwrap()).unwrap();
        let ts = &resp.results[0].timeseries;
        assert_eq!(ts.len(), 1);
        assert_eq!(ts[0].samples, vec![Sample { value: 1.0, timestamp: 10 }]);
        assert_eq!(
            ts[0].labels,
            labels_to_proto(&Labels::new([("__name__", "up"), ("job", "a"), ("region", "eu")]))
        );
        let other = Labels::new([("region", "us")]);
        let resp = decode_read_response(&serve_read(&s, &body, &other).unwrap()).unwrap();
        assert!(resp.results[0].timeseries.is_empty());
    }
}

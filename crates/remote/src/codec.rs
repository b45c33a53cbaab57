//! Snappy block framing and conversions between protobuf messages and the model types.

use model::{Labels, MatchType, Matcher};
use prost::Message;

use crate::RemoteError;
use crate::proto::{Label, LabelMatcher, ReadRequest, ReadResponse, WriteRequest};

/// The largest decompressed body accepted (Prometheus' read limit is in the same range).
pub const MAX_DECOMPRESSED_BYTES: usize = 256 << 20;

/// Decompresses a snappy block-format body, refusing oversized payloads.
pub fn snappy_decode(body: &[u8]) -> Result<Vec<u8>, RemoteError> {
    let len = snap::raw::decompress_len(body).map_err(|e| RemoteError::Snappy(e.to_string()))?;
    if len > MAX_DECOMPRESSED_BYTES {
        return Err(RemoteError::Snappy(format!("decompressed size {len} exceeds limit")));
    }
    snap::raw::Decoder::new().decompress_vec(body).map_err(|e| RemoteError::Snappy(e.to_string()))
}

/// Compresses with snappy's block format (what remote write and read use on the wire).
pub fn snappy_encode(data: &[u8]) -> Vec<u8> {
    // Compressing into a correctly sized buffer cannot fail for inputs under 4 GiB.
    snap::raw::Encoder::new().compress_vec(data).unwrap_or_default()
}

/// Decodes a snappy-compressed `WriteRequest`.
pub fn decode_write_request(body: &[u8]) -> Result<WriteRequest, RemoteError> {
    let raw = snappy_decode(body)?;
    WriteRequest::decode(raw.as_slice()).map_err(|e| RemoteError::Decode(e.to_string()))
}

/// Encodes and compresses a `WriteRequest`.
pub fn encode_write_request(req: &WriteRequest) -> Vec<u8> {
    snappy_encode(&req.encode_to_vec())
}

/// Decodes a snappy-compressed `ReadRequest`.
pub fn decode_read_request(body: &[u8]) -> Result<ReadRequest, RemoteError> {
    let raw = snappy_decode(body)?;
    ReadRequest::decode(raw.as_slice()).map_err(|e| RemoteError::Decode(e.to_string()))
}

/// Decodes a snappy-compressed `ReadResponse`.
pub fn decode_read_response(body: &[u8]) -> Result<ReadResponse, RemoteError> {
    let raw = snappy_decode(body)?;
    ReadResponse::decode(raw.as_slice()).map_err(|e| RemoteError::Decode(e.to_string()))
}

/// Protobuf labels to a label set, rejecting empty or duplicate names.
pub fn labels_from_proto(ls: &[Label]) -> Result<Labels, RemoteError> {
    let mut pairs: Vec<model::Label> = Vec::with_capacity(ls.len());
    for l in ls {
        if l.name.is_empty() {
            return Err(RemoteError::BadRequest("invalid labels: empty label name".into()));
        }
        if l.value.is_empty() {
            continue;
        }
        pairs.push(model::Label::new(&l.name, &l.value));
    }
    pairs.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = pairs.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(RemoteError::BadRequest(format!(
            "invalid labels: duplicate label name {:?}",
            &*w[0].name
        )));
    }
    Ok(Labels::from_sorted_unchecked(pairs))
}

/// A label set to protobuf labels (already sorted by name).
pub fn labels_to_proto(ls: &Labels) -> Vec<Label> {
    ls.iter().map(|l| Label { name: l.name.to_string(), value: l.value.to_string() }).collect()
}

/// Protobuf matchers to model matchers.
pub fn matchers_from_proto(ms: &[LabelMatcher]) -> Result<Vec<Matcher>, RemoteError> {
    ms.iter()
        .map(|m| {
            let op = match m.r#type {
                0 => MatchType::Equal,
                1 => MatchType::NotEqual,
                2 => MatchType::Regex,
                3 => MatchType::NotRegex,
                t => return Err(RemoteError::BadRequest(format!("invalid matcher type {t}"))),
            };
            Matcher::new(op, &m.name, &m.value).map_err(|e| RemoteError::BadRequest(e.to_string()))
        })
        .collect()
}

/// Model matchers to protobuf matchers.
pub fn matchers_to_proto(ms: &[Matcher]) -> Vec<LabelMatcher> {
    ms.iter()
        .map(|m| LabelMatcher {
            r#type: match m.op {
                MatchType::Equal => 0,
                MatchType::NotEqual => 1,
                MatchType::Regex => 2,
                MatchType::NotRegex => 3,
            },
            name: m.name.clone(),
            value: m.value.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Sample, TimeSeries};

    #[test]
    fn write_request_round_trips_through_snappy() {
        let req = WriteRequest {
            timeseries: vec![TimeSeries {
                labels: labels_to_proto(&Labels::new([("__name__", "up"), ("job", "a")])),
                samples: vec![Sample { value: 1.5, timestamp: 1000 }],
                exemplars: vec![],
            }],
            metadata: vec![],
        };
        let body = encode_write_request(&req);
        assert_eq!(decode_write_request(&body).unwrap(), req);
    }

    #[test]
    fn bad_snappy_and_bad_proto_are_errors() {
        assert!(matches!(decode_write_request(b"\xff\xff\xff"), Err(RemoteError::Snappy(_))));
        let garbage = snappy_encode(b"\x0a\xff\xff\xff\xff\x0f");
        assert!(matches!(decode_write_request(&garbage), Err(RemoteError::Decode(_))));
    }

    #[test]
    fn labels_are_sorted_and_validated() {
        let ls = [
            Label { name: "b".into(), value: "1".into() },
            Label { name: "a".into(), value: "2".into() },
        ];
        assert_eq!(labels_from_proto(&ls).unwrap(), Labels::new([("a", "2"), ("b", "1")]));
        let dup = [
            Label { name: "a".into(), value: "1".into() },
            Label { name: "a".into(), value: "2".into() },
        ];
        assert!(labels_from_proto(&dup).is_err());
    }
}

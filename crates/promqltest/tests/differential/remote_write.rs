//! The synthetic data with staleness markers, and its delivery to Prometheus through the
//! remote-write receiver (promtool's OpenMetrics backfill cannot carry a staleness marker: it
//! parses `NaN` as an ordinary NaN).
//!
//! Markers go where Prometheus' scrape loop writes them: one scrape interval after the last
//! sample before each gap longer than two intervals, and after the last sample of a series that
//! ends before the data does.

use model::Labels;
use promqltest::synth::SynthSeries;

/// `data` with staleness markers added.
pub fn with_stale_markers(data: &[SynthSeries], interval_ms: i64) -> Vec<SynthSeries> {
    let end = data.iter().filter_map(|(_, p)| p.last().map(|x| x.0)).max().unwrap_or(0);
    data.iter()
        .map(|(l, pts)| {
            let mut out = Vec::with_capacity(pts.len() + 8);
            for (i, &(t, v)) in pts.iter().enumerate() {
                out.push((t, v));
                let next = pts.get(i + 1).map(|x| x.0);
                let gap = next.map_or(end - t, |n| n - t);
                if gap > 2 * interval_ms {
                    out.push((t + interval_ms, model::value::stale_nan()));
                }
            }
            (l.clone(), out)
        })
        .collect()
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn bytes_field(field: u64, b: &[u8], out: &mut Vec<u8>) {
    varint(field << 3 | 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

/// One `prometheus.TimeSeries` message.
fn time_series(labels: &Labels, samples: &[(i64, f64)], out: &mut Vec<u8>) {
    let mut ts = Vec::new();
    for l in labels.iter() {
        let mut lb = Vec::new();
        bytes_field(1, l.name.as_bytes(), &mut lb);
        bytes_field(2, l.value.as_bytes(), &mut lb);
        bytes_field(1, &lb, &mut ts);
    }
    for &(t, v) in samples {
        let mut sb = Vec::new();
        varint(1 << 3 | 1, &mut sb);
        sb.extend_from_slice(&v.to_bits().to_le_bytes());
        varint(2 << 3, &mut sb);
        varint(t as u64, &mut sb);
        bytes_field(2, &sb, &mut ts);
    }
    bytes_field(1, &ts, out);
}

/// Snappy-compressed `prometheus.WriteRequest` bodies holding all of `data`, each request a
/// time slice of `slice_ms`, in time order (the head rejects samples far behind its newest).
pub fn requests(data: &[SynthSeries], slice_ms: i64) -> Vec<Vec<u8>> {
    let start = data.iter().filter_map(|(_, p)| p.first().map(|x| x.0)).min().unwrap_or(0);
    let end = data.iter().filter_map(|(_, p)| p.last().map(|x| x.0)).max().unwrap_or(0);
    let mut out = Vec::new();
    let mut from = start;
    while from <= end {
        let to = from + slice_ms;
        let mut msg = Vec::new();
        for (l, pts) in data {
            let slice: Vec<(i64, f64)> =
                pts.iter().copied().filter(|&(t, _)| t >= from && t < to).collect();
            if !slice.is_empty() {
                time_series(l, &slice, &mut msg);
            }
        }
        let body = snap::raw::Encoder::new().compress_vec(&msg).expect("snappy");
        out.push(body);
        from = to;
    }
    out
}

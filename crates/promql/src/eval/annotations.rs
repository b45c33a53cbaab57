//! Warnings and infos collected during evaluation, worded as Prometheus words them.

use std::collections::HashSet;

/// Collected annotations, deduplicated, in order of appearance.
#[derive(Debug, Default)]
pub(crate) struct Annotations {
    warnings: Vec<(String, Option<usize>)>,
    infos: Vec<(String, Option<usize>)>,
    seen: HashSet<(bool, String, Option<usize>)>,
    mono: Vec<Mono>,
}

/// Merged state of the histogram_quantile monotonicity info.
#[derive(Debug)]
struct Mono {
    name: String,
    slot: usize,
    min_ts: i64,
    max_ts: i64,
    min_b: f64,
    max_b: f64,
    diff: f64,
    count: usize,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp(ms.div_euclid(1000), 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

impl Annotations {
    /// Adds "PromQL warning: `msg`", optionally at byte offset `pos` of the query.
    pub fn warn(&mut self, msg: String, pos: Option<usize>) {
        if self.seen.insert((true, msg.clone(), pos)) {
            self.warnings.push((format!("PromQL warning: {msg}"), pos));
        }
    }

    /// Adds "PromQL info: `msg`".
    pub fn info(&mut self, msg: String, pos: Option<usize>) {
        if self.seen.insert((false, msg.clone(), pos)) {
            self.infos.push((format!("PromQL info: {msg}"), pos));
        }
    }

    /// Adds or merges the histogram_quantile monotonicity info (one per metric name).
    pub fn monotonicity_info(
        &mut self,
        name: &str,
        ts: i64,
        min_b: f64,
        max_b: f64,
        diff: f64,
        pos: Option<usize>,
    ) {
        match self.mono.iter_mut().find(|m| m.name == name) {
            Some(m) => {
                m.min_ts = m.min_ts.min(ts);
                m.max_ts = m.max_ts.max(ts);
                m.min_b = m.min_b.min(min_b);
                m.max_b = m.max_b.max(max_b);
                m.diff = m.diff.max(diff);
                m.count += 1;
            }
            None => {
                let slot = self.infos.len();
                self.infos.push((String::new(), pos));
                self.mono.push(Mono {
                    name: name.to_string(),
                    slot,
                    min_ts: ts,
                    max_ts: ts,
                    min_b,
                    max_b,
                    diff,
                    count: 0,
                });
            }
        }
    }

    /// Renders with positions as `(line:column)` in `query`.
    pub fn into_strings(mut self, query: &str) -> (Vec<String>, Vec<String>) {
        for m in &self.mono {
            let mut msg = "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)".to_string();
            if !m.name.is_empty() {
                msg.push_str(&format!(" for metric name {:?}", m.name));
            }
            msg.push_str(&format!(
                ", from buckets {} to {}, with a max diff of {}, over {} samples from {} to {}",
                model::go_float::g(m.min_b),
                model::go_float::g(m.max_b),
                super::fmt::go_g2(m.diff),
                m.count + 1,
                rfc3339(m.min_ts),
                rfc3339(m.max_ts)
            ));
            self.infos[m.slot].0 = msg;
        }
        let render = |v: Vec<(String, Option<usize>)>| {
            v.into_iter()
                .map(|(m, pos)| match pos {
                    Some(p) => format!("{m} ({})", line_col(query, p)),
                    None => m,
                })
                .collect()
        };
        (render(self.warnings), render(self.infos))
    }
}

/// `line:column` of byte offset `pos`, both 1-based, as Prometheus prints positions.
fn line_col(query: &str, pos: usize) -> String {
    let before = &query[..pos.min(query.len())];
    let line = before.matches('\n').count() + 1;
    let col = match before.rfind('\n') {
        Some(nl) => pos - nl,
        None => pos + 1,
    };
    format!("{line}:{col}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedup_and_positions() {
        let mut a = Annotations::default();
        a.info("x".into(), Some(5));
        a.info("x".into(), Some(5));
        a.warn("y".into(), None);
        let (w, i) = a.into_strings("rate(foo[5m])");
        assert_eq!(i, vec!["PromQL info: x (1:6)"]);
        assert_eq!(w, vec!["PromQL warning: y"]);
    }
}

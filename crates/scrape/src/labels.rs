//! Sample labels: merging target labels into scraped ones (honor_labels and `exported_`
//! conflicts exactly as Prometheus), metric relabeling and label limits.

use model::Labels;
use model::relabel::{self, RelabelConfig};

use crate::scrape_loop::Limits;

/// Prometheus' `mutateSampleLabels`.
pub fn mutate_sample_labels(
    lset: &Labels,
    target: &Labels,
    honor: bool,
    rc: &[RelabelConfig],
) -> Option<Labels> {
    let mut lb = lset.builder();
    if honor {
        for l in target.iter() {
            if !lset.has(&l.name) {
                lb.set(&l.name, &l.value);
            }
        }
    } else {
        let mut conflicts: Vec<(&str, &str)> = Vec::new();
        for l in target.iter() {
            if let Some(existing) = lset.get(&l.name) {
                conflicts.push((&l.name, existing));
            }
            lb.set(&l.name, &l.value);
        }
        resolve_conflicts(&mut lb, conflicts);
    }
    let res = lb.build();
    if rc.is_empty() {
        return Some(res);
    }
    relabel::process(&res, rc)
}

/// Prometheus' `mutateReportSampleLabels`: target labels win, scraped ones become `exported_*`.
pub fn mutate_report_labels(lset: &Labels, target: &Labels) -> Labels {
    let mut lb = lset.builder();
    for l in target.iter() {
        if let Some(existing) = lset.get(&l.name) {
            lb.set(&format!("exported_{}", l.name), existing);
        }
        lb.set(&l.name, &l.value);
    }
    lb.build()
}

fn resolve_conflicts(lb: &mut model::LabelsBuilder, mut conflicts: Vec<(&str, &str)>) {
    conflicts.sort_by_key(|(name, _)| name.len());
    for (name, value) in conflicts {
        let mut new_name = name.to_string();
        loop {
            new_name = format!("exported_{new_name}");
            if lb.get(&new_name).is_none() {
                lb.set(&new_name, value);
                break;
            }
        }
    }
}

fn trunc(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Prometheus' `verifyLabelLimits`, with its messages.
pub fn verify_label_limits(lset: &Labels, limits: &Limits) -> Result<(), String> {
    let met = trunc(lset.metric_name().unwrap_or(""), 50);
    if limits.label_limit > 0 && lset.len() as u64 > limits.label_limit {
        return Err(format!(
            "label_limit exceeded (metric: {met}, number of labels: {}, limit: {})",
            lset.len(),
            limits.label_limit
        ));
    }
    for l in lset.iter() {
        if limits.label_name_length_limit > 0
            && l.name.len() as u64 > limits.label_name_length_limit
        {
            return Err(format!(
                "label_name_length_limit exceeded (metric: {met}, label name: {}, length: {}, limit: {})",
                trunc(&l.name, 50),
                l.name.len(),
                limits.label_name_length_limit
            ));
        }
        if limits.label_value_length_limit > 0
            && l.value.len() as u64 > limits.label_value_length_limit
        {
            return Err(format!(
                "label_value_length_limit exceeded (metric: {met}, label name: {}, value: {:?}, length: {}, limit: {})",
                trunc(&l.name, 50),
                trunc(&l.value, 50),
                l.value.len(),
                limits.label_value_length_limit
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honor_labels_and_exported_conflicts() {
        let scraped = Labels::new([("__name__", "m"), ("job", "mine"), ("exported_job", "x")]);
        let target = Labels::new([("job", "j"), ("instance", "i")]);
        let honored = mutate_sample_labels(&scraped, &target, true, &[]);
        assert_eq!(
            honored.map(|l| l.to_string()).as_deref(),
            Some(r#"{__name__="m", exported_job="x", instance="i", job="mine"}"#)
        );
        let merged = mutate_sample_labels(&scraped, &target, false, &[]);
        assert_eq!(
            merged.map(|l| l.to_string()).as_deref(),
            Some(
                r#"{__name__="m", exported_exported_job="mine", exported_job="x", instance="i", job="j"}"#
            )
        );
    }

    #[test]
    fn label_limits() {
        let l = Labels::new([("__name__", "m"), ("a", "12345")]);
        let lim = |label_limit, name, value| Limits {
            label_limit,
            label_name_length_limit: name,
            label_value_length_limit: value,
            ..Limits::default()
        };
        assert!(verify_label_limits(&l, &lim(2, 8, 5)).is_ok());
        assert!(
            verify_label_limits(&l, &lim(1, 0, 0)).unwrap_err().starts_with("label_limit exceeded")
        );
        assert!(
            verify_label_limits(&l, &lim(0, 3, 0))
                .unwrap_err()
                .starts_with("label_name_length_limit")
        );
        assert!(
            verify_label_limits(&l, &lim(0, 0, 4))
                .unwrap_err()
                .starts_with("label_value_length_limit")
        );
    }
}

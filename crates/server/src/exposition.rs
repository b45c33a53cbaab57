//! The exposition format `/metrics` answers in: the text format 0.0.4 for every client, as
//! Prometheus 2.42's own handler (`promhttp.Handler()`, OpenMetrics not enabled) answers even a
//! scrape that asks for OpenMetrics first.
//!
//! The self-metrics are written once, as OpenMetrics; [`to_text`] rewrites them as 0.0.4:
//! counter families take their `_total` name in `# HELP` and `# TYPE`, `_created` samples,
//! `# UNIT` lines and `# EOF` go, and `unknown` becomes `untyped`.

/// The content type Prometheus sends with its `/metrics`.
pub const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Rewrites an OpenMetrics exposition as text format 0.0.4.
pub fn to_text(om: &str) -> String {
    let mut out = String::with_capacity(om.len());
    // The `# HELP` line waiting for its family's `# TYPE`: (name, text).
    let mut help: Option<(&str, &str)> = None;
    // The current family's name and whether its `_created` samples are dropped.
    let mut family = "";
    for line in om.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            flush_help(&mut out, help.take(), "");
            help = Some(rest.split_once(' ').unwrap_or((rest, "")));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, "unknown"));
            let suffix = if kind == "counter" { "_total" } else { "" };
            match help.take() {
                Some((h, text)) if h == name => flush_help(&mut out, Some((h, text)), suffix),
                other => flush_help(&mut out, other, ""),
            }
            let kind = if kind == "unknown" { "untyped" } else { kind };
            out.push_str(&format!("# TYPE {name}{suffix} {kind}\n"));
            family = name;
            continue;
        }
        flush_help(&mut out, help.take(), "");
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        let is_created = !family.is_empty()
            && line.strip_prefix(family).is_some_and(|r| {
                r.strip_prefix("_created").is_some_and(|r| r.starts_with([' ', '{']))
            });
        if is_created {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    flush_help(&mut out, help, "");
    out
}

fn flush_help(out: &mut String, help: Option<(&str, &str)>, suffix: &str) {
    if let Some((name, text)) = help {
        out.push_str(&format!("# HELP {name}{suffix} {text}\n"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_counters_units_created_and_eof() {
        let om = "# HELP a_seconds Some time.\n# TYPE a_seconds counter\n# UNIT a_seconds seconds\n\
                  a_seconds_total{x=\"1\"} 3\na_seconds_created{x=\"1\"} 1.7e9\n\
                  # HELP g A gauge.\n# TYPE g gauge\ng 1\n\
                  # TYPE u unknown\nu 2\n\
                  # HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 2\nh_count 1\nh_created 5\n\
                  # EOF\n";
        let want = "# HELP a_seconds_total Some time.\n# TYPE a_seconds_total counter\n\
                    a_seconds_total{x=\"1\"} 3\n\
                    # HELP g A gauge.\n# TYPE g gauge\ng 1\n\
                    # TYPE u untyped\nu 2\n\
                    # HELP h H.\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 2\nh_count 1\n";
        assert_eq!(to_text(om), want);
    }
}

//! promtool's text for expected/got alerts and samples.

use model::Labels;

use crate::template::gofmt::format_e_shortest;

/// Indents every line after the first (promtool's `indentLines`).
pub fn indent_lines(lines: &str, indent: &str) -> String {
    let parts: Vec<&str> = lines.split('\n').collect();
    let mut out = String::new();
    for (i, l) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(indent);
        }
        out.push_str(l);
        if i != parts.len() - 1 {
            out.push('\n');
        }
    }
    out
}

/// `labelsAndAnnotations.String()`.
pub fn format_alerts(alerts: &[(Labels, Labels)]) -> String {
    if alerts.is_empty() {
        return "[]".into();
    }
    let one = |(l, a): &(Labels, Labels)| format!("Labels:{l}\nAnnotations:{a}");
    let mut s = format!("[\n0:{}", indent_lines(&format!("\n{}", one(&alerts[0])), "  "));
    for (i, a) in alerts[1..].iter().enumerate() {
        s.push_str(&format!(",\n{}:{}", i + 1, indent_lines(&format!("\n{}", one(a)), "  ")));
    }
    s.push_str("\n]");
    s
}

/// `parsedSamplesString`: `{labels} 1E+00, ...` or `nil`.
pub fn format_samples(samples: &[(Labels, f64)]) -> String {
    if samples.is_empty() {
        return "nil".into();
    }
    let v: Vec<String> = samples
        .iter()
        .map(|(l, v)| format!("{l} {}", format_e_shortest(*v).replace('e', "E")))
        .collect();
    v.join(", ")
}

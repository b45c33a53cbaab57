//! The PromQL boundary of rule loading: validating and formatting expressions.

/// Checks that `expr` parses; the error is the parser's message.
pub fn validate(expr: &str) -> Result<(), String> {
    promql::parser::parse(expr).map(|_| ()).map_err(|e| e.to_string())
}

/// The expression as Prometheus prints it (`expr.String()`) in `/api/v1/rules` and generator
/// URLs. The engine's printer is Prometheus' pretty printer, which keeps expressions that fit
/// in 100 columns on one line, exactly as `String()`; longer ones fall back to the source text
/// with whitespace collapsed.
pub fn format(expr: &str) -> String {
    match promql::parser::format_query(expr) {
        Ok(p) if !p.contains('\n') => p,
        _ => expr.split_whitespace().collect::<Vec<_>>().join(" "),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_as_prometheus_prints() {
        assert_eq!(super::format("sum  by(job)(rate(x[5m]))"), "sum by (job) (rate(x[5m]))");
        assert_eq!(
            super::format(
                "rate(http_requests_total{status=~\"5..\"}[5m]) / rate(http_requests_total[5m]) > 0.01"
            ),
            "rate(http_requests_total{status=~\"5..\"}[5m]) / rate(http_requests_total[5m]) > 0.01"
        );
        assert_eq!(super::format("up ==\n  0"), "up == 0");
    }
}

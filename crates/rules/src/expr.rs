//! The PromQL boundary of rule loading: validating and formatting expressions.

/// Checks that `expr` parses; the error is the parser's message.
pub fn validate(expr: &str) -> Result<(), String> {
    promql::parser::parse(expr).map(|_| ()).map_err(|e| e.to_string())
}

/// The expression as shown in `/api/v1/rules` and generator URLs. Prometheus prints the
/// parsed tree; the engine exposes only a multi-line pretty printer, so the trimmed source
/// text is used.
pub fn format(expr: &str) -> String {
    expr.trim().to_string()
}

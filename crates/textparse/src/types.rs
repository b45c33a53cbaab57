//! Entry kinds and metric types.

/// What [`crate::Parser::next`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A sample line.
    Series,
    /// `# HELP name text`.
    Help,
    /// `# TYPE name type`.
    Type,
    /// `# UNIT name unit` (OpenMetrics).
    Unit,
    /// Any other comment (text format only).
    Comment,
}

/// A metric family type, as `/api/v1/metadata` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    Stateset,
    #[default]
    Unknown,
}

impl MetricType {
    pub fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::Stateset => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// Parses a TYPE value of the text format (`untyped` is unknown).
    pub fn parse_text(s: &[u8]) -> Option<MetricType> {
        Some(match s {
            b"counter" => MetricType::Counter,
            b"gauge" => MetricType::Gauge,
            b"histogram" => MetricType::Histogram,
            b"summary" => MetricType::Summary,
            b"untyped" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// Parses a TYPE value of OpenMetrics.
    pub fn parse_openmetrics(s: &[u8]) -> Option<MetricType> {
        Some(match s {
            b"counter" => MetricType::Counter,
            b"gauge" => MetricType::Gauge,
            b"histogram" => MetricType::Histogram,
            b"gaugehistogram" => MetricType::GaugeHistogram,
            b"summary" => MetricType::Summary,
            b"info" => MetricType::Info,
            b"stateset" => MetricType::Stateset,
            b"unknown" => MetricType::Unknown,
            _ => return None,
        })
    }
}

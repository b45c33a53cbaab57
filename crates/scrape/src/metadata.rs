//! A target's metric metadata (`# HELP`, `# TYPE`, `# UNIT`) across scrapes.
//!
//! Bodies repeat the same metadata lines scrape after scrape, so a scrape only copies the raw
//! lines (the parser has validated them) into a buffer; when the buffer equals the last one
//! that changed the target's metadata, nothing more is done. Otherwise the lines are parsed
//! again, on their own, into the target's metadata.

use std::borrow::Cow;

use textparse::{EntryKind, Format, MetricType, Parser};

use crate::MetricMetadata;

/// The raw metadata lines of the last scrape that set the target's metadata and of the
/// current one.
#[derive(Default)]
pub(crate) struct MetadataLines {
    last: Vec<u8>,
    cur: Vec<u8>,
}

impl MetadataLines {
    /// Starts a scrape of a body in `format`.
    pub(crate) fn begin(&mut self, format: Format) {
        self.cur.clear();
        // The same bytes may parse differently in the other format.
        self.cur.push(match format {
            Format::Text => b't',
            Format::OpenMetrics => b'o',
        });
    }

    /// Adds the raw bytes of one metadata entry (its line, with the line end).
    pub(crate) fn push(&mut self, raw: &[u8]) {
        self.cur.extend_from_slice(raw);
    }

    /// After a successful scrape in `format`: the metadata to store, if the scrape had
    /// metadata lines and they differ from those of the last change. A scrape without any
    /// leaves the stored metadata alone.
    pub(crate) fn changed(&mut self, format: Format) -> Option<Vec<MetricMetadata>> {
        if self.cur.len() <= 1 || self.cur == self.last {
            return None;
        }
        std::mem::swap(&mut self.cur, &mut self.last);
        Some(parse(&self.last[1..], format))
    }
}

/// Metadata borrowed from the metadata lines while they are parsed.
struct MetaRef<'a> {
    metric: Cow<'a, str>,
    metric_type: MetricType,
    help: Cow<'a, str>,
    unit: &'a str,
}

/// The families of metadata lines that a scrape parsed without error, in order.
fn parse(lines: &[u8], format: Format) -> Vec<MetricMetadata> {
    let mut out: Vec<MetaRef<'_>> = Vec::new();
    let mut p = Parser::new(lines, format);
    // An OpenMetrics body ends with `# EOF`, which is not among the lines: the error at
    // their end is expected.
    while let Ok(Some(kind)) = p.next() {
        record(&mut out, &p, kind);
    }
    out.into_iter()
        .map(|m| MetricMetadata {
            metric: m.metric.into_owned(),
            metric_type: m.metric_type,
            help: m.help.into_owned(),
            unit: m.unit.to_string(),
        })
        .collect()
}

fn record<'b>(out: &mut Vec<MetaRef<'b>>, p: &Parser<'b>, kind: EntryKind) {
    if !matches!(kind, EntryKind::Type | EntryKind::Help | EntryKind::Unit) {
        return;
    }
    let name = p.metric_name();
    // HELP, TYPE and UNIT of a family are adjacent in well-formed expositions; only the last
    // entry is checked so collecting metadata stays linear.
    if out.last().is_none_or(|m| m.metric != name) {
        out.push(MetaRef {
            metric: name,
            metric_type: MetricType::Unknown,
            help: Cow::Borrowed(""),
            unit: "",
        });
    }
    let Some(m) = out.last_mut() else { return };
    match kind {
        EntryKind::Type => m.metric_type = p.metric_type(),
        EntryKind::Help => m.help = p.help(),
        EntryKind::Unit => m.unit = p.unit(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(m: &mut MetadataLines, format: Format, body: &str) -> Option<Vec<MetricMetadata>> {
        m.begin(format);
        let mut p = Parser::new(body.as_bytes(), format);
        while let Ok(Some(kind)) = p.next() {
            if kind != EntryKind::Series && kind != EntryKind::Comment {
                m.push(p.entry_bytes());
            }
        }
        m.changed(format)
    }

    #[test]
    fn metadata_is_parsed_when_its_lines_change_and_kept_when_a_body_has_none() {
        let mut m = MetadataLines::default();
        let body = "# HELP a The \\\\ a.\n# TYPE a counter\na 1\n# TYPE b gauge\nb 2\n# free\n";
        let md = scrape(&mut m, Format::Text, body).unwrap();
        assert_eq!(md.len(), 2);
        assert_eq!(
            (md[0].metric.as_str(), md[0].metric_type, md[0].help.as_str()),
            ("a", MetricType::Counter, "The \\ a.")
        );
        assert_eq!((md[1].metric.as_str(), md[1].metric_type), ("b", MetricType::Gauge));
        // Same lines, other values: nothing to do.
        assert!(scrape(&mut m, Format::Text, &body.replace(" 1\n", " 7\n")).is_none());
        // No metadata at all: the stored metadata stays.
        assert!(scrape(&mut m, Format::Text, "a 1\n").is_none());
        assert!(scrape(&mut m, Format::Text, body).is_none());
        let md = scrape(&mut m, Format::Text, &body.replace("gauge", "counter")).unwrap();
        assert_eq!(md[1].metric_type, MetricType::Counter);
        // OpenMetrics: units, and the same family lines under the other format.
        let om = "# TYPE a_seconds counter\n# UNIT a_seconds seconds\na_seconds_total 1\n# EOF\n";
        let md = scrape(&mut m, Format::OpenMetrics, om).unwrap();
        assert_eq!((md[0].unit.as_str(), md[0].metric_type), ("seconds", MetricType::Counter));
        assert!(scrape(&mut m, Format::OpenMetrics, om).is_none());
    }
}

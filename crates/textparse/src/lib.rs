//! Exposition-format parsers: Prometheus text 0.0.4 and OpenMetrics 1.0.
//!
//! [`Parser`] is a zero-copy pull parser over a scraped body: [`Parser::next`] advances to the
//! next entry and returns its [`EntryKind`]; accessors then borrow from the body (series bytes,
//! metric name, label pairs, value, timestamp, exemplar, or the HELP/TYPE/UNIT text). Nothing is
//! allocated per line once the parser's span buffers have grown, and label values are only
//! copied when they contain escapes. [`content_type`] picks the format exactly as Prometheus'
//! scraper does and holds the scrape `Accept` header.

pub mod content_type;
mod error;
mod float;
mod parser;
mod types;

pub use content_type::{Format, SCRAPE_ACCEPT_HEADER, format_for_content_type};
pub use error::ParseError;
pub use parser::{Exemplar, LabelIter, Parser};
pub use types::{EntryKind, MetricType};

//! Log output in Prometheus' styles: logfmt (`ts=… level=info msg="…" key=value`) or JSON.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::cli::{LogFormat, LogLevel};

/// Installs the global subscriber. `RUST_LOG` refines the level when set.
pub fn init(level: LogLevel, format: LogFormat) {
    let level = match level {
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Logfmt => builder.event_format(Logfmt).try_init(),
    };
}

struct Logfmt;

impl<S, N> FormatEvent<S, N> for Logfmt
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let ts = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ");
        let meta = event.metadata();
        let level = meta.level().as_str().to_ascii_lowercase();
        write!(w, "ts={ts} level={level} component={}", meta.target())?;
        let mut visitor = LogfmtVisitor { w: &mut w, result: Ok(()) };
        event.record(&mut visitor);
        visitor.result?;
        writeln!(w)
    }
}

struct LogfmtVisitor<'a, 'w> {
    w: &'a mut Writer<'w>,
    result: fmt::Result,
}

impl tracing::field::Visit for LogfmtVisitor<'_, '_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        let text = format!("{value:?}");
        self.write(field.name(), &text);
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.write(field.name(), value);
    }
}

impl LogfmtVisitor<'_, '_> {
    fn write(&mut self, name: &str, value: &str) {
        if self.result.is_err() {
            return;
        }
        let key = if name == "message" { "msg" } else { name };
        let needs_quotes = value.is_empty() || value.contains([' ', '"', '=']);
        self.result = if needs_quotes {
            write!(self.w, " {key}={value:?}")
        } else {
            write!(self.w, " {key}={value}")
        };
    }
}

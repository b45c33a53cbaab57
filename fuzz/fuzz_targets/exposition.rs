//! Fuzzes the exposition parsers (Prometheus text 0.0.4 and OpenMetrics 1.0): the first byte
//! picks the format, the rest is a scraped body. Every accessor is exercised after each entry,
//! and a parser must stop (error or end) within a number of steps bounded by the body length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use textparse::{EntryKind, Format, Parser};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else { return };
    let format = if sel & 1 == 0 { Format::Text } else { Format::OpenMetrics };
    let mut p = Parser::new(body, format);
    // Each entry consumes at least one byte (a line), so more steps than bytes means a loop.
    let mut steps = 0usize;
    loop {
        steps += 1;
        assert!(steps <= body.len() + 2, "parser made no progress");
        match p.next() {
            Ok(Some(kind)) => {
                let _ = p.line();
                match kind {
                    EntryKind::Series => {
                        let _ = p.series();
                        let _ = p.metric_name();
                        let n = p.labels().map(|(k, v)| k.len() + v.len()).count();
                        assert_eq!(n, p.label_count());
                        let _ = p.value();
                        let _ = p.timestamp();
                        let _ = p.exemplar();
                    }
                    EntryKind::Help => {
                        let _ = p.metric_name();
                        let _ = p.help();
                    }
                    EntryKind::Type => {
                        let _ = p.metric_name();
                        let _ = p.metric_type().as_str();
                    }
                    EntryKind::Unit => {
                        let _ = p.metric_name();
                        let _ = p.unit();
                    }
                    EntryKind::Comment => {
                        let _ = p.comment();
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        }
    }
});

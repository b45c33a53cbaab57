//! Inputs found by the fuzz targets in `fuzz/` (cargo-fuzz), kept as regression tests: each
//! must give a parse error, not a panic.

/// fuzz target `promql_parse`: a query ending in a multi-byte character after a non-word
/// character. Finding the last word sliced the text inside that character and panicked.
#[test]
fn query_ending_in_a_multibyte_character_is_a_parse_error() {
    for q in ["%#\u{645}", "a + \u{645}", "x \u{e9}", "up and \u{1F600}"] {
        let err = promql::parser::parse(q).err();
        assert!(matches!(err, Some(promql::QueryError::Parse(_))), "{q:?}: {err:?}");
    }
}

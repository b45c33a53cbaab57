//! `promtool check rules`: validation of rule files, plus lints.

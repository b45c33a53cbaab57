//! The pull parser for both text formats.
//!
//! The two grammars share their structure (metadata comments, `name{labels} value [ts]`) and
//! differ in details the parser switches on: the text format allows runs of spaces and tabs,
//! blank lines and free comments, and millisecond integer timestamps; OpenMetrics allows exactly
//! one space between tokens, `# UNIT`, float-second timestamps, exemplars after ` # `, and must
//! end with `# EOF`.

use std::borrow::Cow;

use memchr::{memchr, memchr2};

use crate::float::{decimal_prefix, parse_float, parse_int};
use crate::{EntryKind, Format, MetricType, ParseError};

/// Go's `math.NaN()` bit pattern, which Prometheus stores for every parsed NaN.
pub(crate) const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

type Span = (u32, u32);

#[derive(Debug, Clone, Copy)]
struct LabelSpan {
    name: Span,
    value: Span,
    escaped: bool,
}

/// An exemplar attached to an OpenMetrics sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// Label pairs, unescaped.
    pub labels: Vec<(&'a str, Cow<'a, str>)>,
    pub value: f64,
    /// Milliseconds, if the exemplar had a timestamp.
    pub timestamp: Option<i64>,
}

/// A zero-copy pull parser over one scraped body. See the crate docs.
#[derive(Debug)]
pub struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    format: Format,
    done: bool,
    // The current entry.
    start: usize,
    series_end: usize,
    name: Span,
    labels: Vec<LabelSpan>,
    value: f64,
    ts: Option<i64>,
    text: Span,
    mtype: MetricType,
    has_exemplar: bool,
    ex_labels: Vec<LabelSpan>,
    ex_value: f64,
    ex_ts: Option<i64>,
    /// The current sample line began with the hint given to [`Parser::next_hinted`].
    hinted: bool,
}

const NO_NAME: Span = (u32::MAX, u32::MAX);

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}
fn is_label_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}
fn is_label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn span(a: usize, b: usize) -> Span {
    (a as u32, b as u32)
}

impl<'a> Parser<'a> {
    /// A parser for `body` in `format`. Bodies larger than 4 GiB are rejected on the first call.
    pub fn new(body: &'a [u8], format: Format) -> Parser<'a> {
        Parser {
            b: body,
            pos: 0,
            format,
            done: false,
            start: 0,
            series_end: 0,
            name: NO_NAME,
            labels: Vec::with_capacity(16),
            value: 0.0,
            ts: None,
            text: (0, 0),
            mtype: MetricType::Unknown,
            has_exemplar: false,
            ex_labels: Vec::new(),
            ex_value: 0.0,
            ex_ts: None,
            hinted: false,
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    fn om(&self) -> bool {
        self.format == Format::OpenMetrics
    }

    /// The 1-based line number of byte offset `at`.
    fn line_of(&self, at: usize) -> usize {
        1 + memchr::memchr_iter(b'\n', &self.b[..at.min(self.b.len())]).count()
    }

    fn err(&self, msg: impl Into<String>) -> ParseError {
        ParseError { line: self.line_of(self.start), msg: msg.into() }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn got(&self) -> String {
        match self.peek() {
            None => "EOF".into(),
            Some(b'\n') => "linebreak".into(),
            Some(c) => format!("{:?}", c as char),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    /// Advances to the next entry. `Ok(None)` at the end of a valid body. After an error the
    /// parser is finished.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<EntryKind>, ParseError> {
        self.next_hinted(b"")
    }

    /// [`Parser::next`] with a guess at the next sample line: `hint` is the [`Parser::series`]
    /// of a sample line an earlier body in the same format held (a scraper's previous body
    /// usually lists the same series in the same order). When the next entry is a sample line
    /// that starts with exactly these bytes, followed by the separator before its value, only
    /// the value, timestamp and exemplar are parsed: the series is the hint's, and
    /// [`Parser::hint_matched`] is true. Then [`Parser::metric_name`] is empty and
    /// [`Parser::labels`] yields nothing for this entry; everything else is as after `next`.
    /// An empty hint never matches. A line that starts with the hint but does not parse that
    /// way is parsed in full, so errors are the same as `next`'s.
    pub fn next_hinted(&mut self, hint: &[u8]) -> Result<Option<EntryKind>, ParseError> {
        if self.done {
            return Ok(None);
        }
        let r = self.next_inner(hint);
        if r.is_err() {
            self.done = true;
        }
        r
    }

    /// Whether the current sample line matched the hint given to [`Parser::next_hinted`].
    pub fn hint_matched(&self) -> bool {
        self.hinted
    }

    fn next_inner(&mut self, hint: &[u8]) -> Result<Option<EntryKind>, ParseError> {
        if self.b.len() >= u32::MAX as usize {
            return Err(self.err("body too large"));
        }
        loop {
            if !self.om() {
                self.skip_ws();
            }
            self.start = self.pos;
            self.has_exemplar = false;
            self.hinted = false;
            match self.peek() {
                None if self.om() => return Err(self.err("data does not end with # EOF")),
                None => {
                    self.done = true;
                    return Ok(None);
                }
                Some(b'\n') if !self.om() => {
                    self.pos += 1;
                    continue;
                }
                Some(b'#') => match self.parse_comment()? {
                    Some(kind) => return Ok(Some(kind)),
                    None if self.done => return Ok(None),
                    None => continue,
                },
                Some(c) if is_name_start(c) || c == b'{' => {
                    if !hint.is_empty() && self.series_from_hint(hint) {
                        return Ok(Some(EntryKind::Series));
                    }
                    self.parse_series()?;
                    return Ok(Some(EntryKind::Series));
                }
                Some(_) => {
                    let got = self.got();
                    return Err(self.err(format!("expected a valid start token, got {got}")));
                }
            }
        }
    }

    /// The rest of the current line (without the newline) and the position after it.
    fn rest_of_line(&self) -> (usize, usize) {
        match memchr(b'\n', &self.b[self.pos..]) {
            Some(i) => (self.pos + i, self.pos + i + 1),
            None => (self.b.len(), self.b.len()),
        }
    }

    /// Parses a line starting with `#`. Returns `None` for a skipped comment or `# EOF`.
    fn parse_comment(&mut self) -> Result<Option<EntryKind>, ParseError> {
        let after_hash = &self.b[self.pos + 1..];
        let om = self.om();
        if om && after_hash.starts_with(b" EOF") {
            let rest = &after_hash[4..];
            if rest.is_empty() || rest == b"\n" {
                self.done = true;
                return Ok(None);
            }
            return Err(self.err("unexpected data after # EOF"));
        }
        let kind = if after_hash.starts_with(b" HELP ") || (!om && starts_kw(after_hash, b"HELP")) {
            EntryKind::Help
        } else if after_hash.starts_with(b" TYPE ") || (!om && starts_kw(after_hash, b"TYPE")) {
            EntryKind::Type
        } else if om && after_hash.starts_with(b" UNIT ") {
            EntryKind::Unit
        } else if om {
            return Err(self.err("expected a valid start token, got comment"));
        } else {
            let (_, next) = self.rest_of_line();
            if next == self.b.len() && self.b.last() != Some(&b'\n') {
                self.pos = next;
                return Ok(None);
            }
            self.text = span(self.start, next - 1);
            self.pos = next;
            return Ok(Some(EntryKind::Comment));
        };
        // Skip "#", whitespace, keyword, whitespace.
        self.pos += 1;
        self.skip_ws();
        self.pos += 4;
        self.skip_ws();
        self.meta(kind).map(Some)
    }

    fn meta(&mut self, kind: EntryKind) -> Result<EntryKind, ParseError> {
        let name_start = self.pos;
        match self.peek() {
            Some(b'"') => {
                let (end, _) = self.quoted()?;
                self.name = span(name_start + 1, end - 1);
            }
            Some(c) if is_name_start(c) => {
                while self.peek().is_some_and(is_name_char) {
                    self.pos += 1;
                }
                self.name = span(name_start, self.pos);
            }
            _ => {
                let got = self.got();
                return Err(self.err(format!("expected metric name after {}, got {got}", kw(kind))));
            }
        }
        let (line_end, next) = self.rest_of_line();
        if self.om() && (next == line_end || self.peek() != Some(b' ')) {
            return Err(self.err(format!("expected text in {}", kw(kind))));
        }
        if !self.om() && next == line_end {
            return Err(self.err("linebreak expected after metadata, got EOF"));
        }
        // The first character after the name (a separator) is not part of the text.
        let text_start = (self.pos + 1).min(line_end);
        self.text = span(text_start, line_end);
        self.pos = next;
        let text = &self.b[text_start..line_end];
        match kind {
            EntryKind::Type => {
                let t = if self.om() {
                    MetricType::parse_openmetrics(text)
                } else {
                    MetricType::parse_text(text)
                };
                self.mtype = t.ok_or_else(|| {
                    self.err(format!("invalid metric type {:?}", String::from_utf8_lossy(text)))
                })?;
            }
            EntryKind::Help if std::str::from_utf8(text).is_err() => {
                return Err(self.err(format!(
                    "help text {:?} is not a valid utf8 string",
                    String::from_utf8_lossy(text)
                )));
            }
            EntryKind::Unit => {
                let name = &self.b[self.name.0 as usize..self.name.1 as usize];
                let is_suffix = name.len() > text.len()
                    && name.ends_with(text)
                    && name[name.len() - text.len() - 1] == b'_';
                if !text.is_empty() && !is_suffix {
                    return Err(self.err(format!(
                        "unit {:?} not a suffix of metric {:?}",
                        String::from_utf8_lossy(text),
                        String::from_utf8_lossy(name)
                    )));
                }
            }
            _ => {}
        }
        Ok(kind)
    }

    /// Scans a quoted string starting at `pos` (on the opening quote). Returns the position
    /// after the closing quote and whether it contained escapes.
    fn quoted(&mut self) -> Result<(usize, bool), ParseError> {
        let om = self.om();
        let mut i = self.pos + 1;
        let mut escaped = false;
        loop {
            let Some(off) = memchr2(b'"', b'\\', &self.b[i..]) else {
                return Err(self.err("unterminated quoted string"));
            };
            if om && memchr(b'\n', &self.b[i..i + off]).is_some() {
                return Err(self.err("unterminated quoted string"));
            }
            i += off;
            if self.b[i] == b'"' {
                self.pos = i + 1;
                return Ok((i + 1, escaped));
            }
            escaped = true;
            if i + 1 >= self.b.len() {
                return Err(self.err("unterminated quoted string"));
            }
            i += 2;
        }
    }

    fn parse_series(&mut self) -> Result<(), ParseError> {
        self.name = NO_NAME;
        self.labels.clear();
        self.ts = None;
        if self.peek() != Some(b'{') {
            let s = self.pos;
            while self.peek().is_some_and(is_name_char) {
                self.pos += 1;
            }
            self.name = span(s, self.pos);
            if !self.om() {
                self.skip_ws();
            }
        }
        self.series_end = self.pos;
        if self.peek() == Some(b'{') {
            self.pos += 1;
            let mut labels = std::mem::take(&mut self.labels);
            let r = self.label_block(&mut labels, false);
            self.labels = labels;
            r?;
            self.series_end = self.pos;
        }
        if self.name == NO_NAME {
            let s = String::from_utf8_lossy(&self.b[self.start..self.pos]).into_owned();
            return Err(self.err(format!("metric name not set while parsing: {s:?}")));
        }
        // Trim whitespace the text format allows between the name and the value.
        while self.series_end > self.start && matches!(self.b[self.series_end - 1], b' ' | b'\t') {
            self.series_end -= 1;
        }
        self.value = self.value_token("metric")?;
        if self.om() { self.om_line_tail() } else { self.text_line_tail() }
    }

    /// Parses the current line as a sample of the series `hint` if the line starts with it and
    /// then parses as such; otherwise leaves the position at the line's start and returns
    /// false. The series bytes came from a full parse in this format, so they are valid; what
    /// remains to check is that the full parse would end the series where the hint ends: after
    /// a label block it does; after a bare name the next byte must end the name and, in the
    /// text format, the whitespace after it must not lead to a label block.
    fn series_from_hint(&mut self, hint: &[u8]) -> bool {
        if !self.b[self.pos..].starts_with(hint) {
            return false;
        }
        let om = self.om();
        let end = self.pos + hint.len();
        match self.b.get(end) {
            Some(b' ') => {}
            Some(b'\t') if !om => {}
            _ => return false,
        }
        if !om && hint.last() != Some(&b'}') {
            let rest = &self.b[end..];
            let ws = rest.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
            if rest.get(ws) == Some(&b'{') {
                return false;
            }
        }
        self.pos = end;
        self.ts = None;
        let tail = match self.value_token("metric") {
            Ok(v) => {
                self.value = v;
                if om { self.om_line_tail() } else { self.text_line_tail() }
            }
            Err(e) => Err(e),
        };
        if tail.is_err() {
            self.pos = self.start;
            return false;
        }
        self.series_end = end;
        self.name = span(self.start, self.start);
        self.labels.clear();
        self.hinted = true;
        true
    }

    /// Reads the value after a series or exemplar: whitespace then a non-space token.
    #[inline]
    fn value_token(&mut self, after: &str) -> Result<f64, ParseError> {
        if self.om() {
            if self.peek() != Some(b' ') {
                let got = self.got();
                return Err(self.err(format!("expected value after {after}, got {got}")));
            }
            self.pos += 1;
        } else {
            self.skip_ws();
        }
        let s = self.pos;
        // Most values are plain decimals: read them in one pass when the byte after one ends
        // the token (the token is then exactly the number).
        if let Some((v, n)) = decimal_prefix(&self.b[s..]) {
            let ends = match self.b.get(s + n) {
                None | Some(b' ' | b'\n') => true,
                Some(b'\t' | b'{') => !self.om(),
                Some(_) => false,
            };
            if ends {
                self.pos = s + n;
                return Ok(v);
            }
        }
        while let Some(c) = self.peek() {
            if c == b' ' || c == b'\n' || (!self.om() && (c == b'\t' || c == b'{')) {
                break;
            }
            self.pos += 1;
        }
        if s == self.pos {
            let got = self.got();
            return Err(self.err(format!("expected value after {after}, got {got}")));
        }
        parse_float(&self.b[s..self.pos]).map_err(|e| self.err(e))
    }

    #[inline]
    fn text_line_tail(&mut self) -> Result<(), ParseError> {
        self.skip_ws();
        match self.peek() {
            Some(b'\n') => {
                self.pos += 1;
                return Ok(());
            }
            Some(c) if c.is_ascii_digit() => {
                let s = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                self.ts = Some(parse_int(&self.b[s..self.pos]).map_err(|e| self.err(e))?);
            }
            _ => {
                let got = self.got();
                return Err(self.err(format!("expected timestamp or new record, got {got}")));
            }
        }
        self.skip_ws();
        if self.peek() == Some(b'\n') {
            self.pos += 1;
            return Ok(());
        }
        let got = self.got();
        Err(self.err(format!("expected next entry after timestamp, got {got}")))
    }

    fn om_line_tail(&mut self) -> Result<(), ParseError> {
        match self.peek() {
            Some(b'\n') => {
                self.pos += 1;
                return Ok(());
            }
            None => return Err(self.err("data does not end with # EOF")),
            Some(b' ') if self.b[self.pos..].starts_with(b" # {") => return self.parse_exemplar(),
            Some(b' ') => {}
            _ => {
                let got = self.got();
                return Err(self.err(format!("expected timestamp or new record, got {got}")));
            }
        }
        self.ts = Some(self.om_timestamp("timestamp")?);
        match self.peek() {
            Some(b'\n') => {
                self.pos += 1;
                Ok(())
            }
            Some(b' ') if self.b[self.pos..].starts_with(b" # {") => self.parse_exemplar(),
            None => Err(self.err("data does not end with # EOF")),
            _ => {
                let got = self.got();
                Err(self.err(format!("expected next entry after timestamp, got {got}")))
            }
        }
    }

    /// A float-seconds timestamp after one space, as milliseconds.
    fn om_timestamp(&mut self, what: &str) -> Result<i64, ParseError> {
        self.pos += 1;
        let s = self.pos;
        while self.peek().is_some_and(|c| c != b' ' && c != b'\n') {
            self.pos += 1;
        }
        let ts = parse_float(&self.b[s..self.pos]).map_err(|e| self.err(e))?;
        if !ts.is_finite() {
            return Err(self.err(format!("invalid {what} {ts}")));
        }
        Ok((ts * 1000.0) as i64)
    }

    fn parse_exemplar(&mut self) -> Result<(), ParseError> {
        self.pos += 4;
        let mut labels = std::mem::take(&mut self.ex_labels);
        labels.clear();
        let r = self.label_block(&mut labels, true);
        self.ex_labels = labels;
        r?;
        self.ex_value = self.value_token("exemplar labels")?;
        self.ex_ts = None;
        if self.peek() == Some(b' ') {
            self.ex_ts = Some(self.om_timestamp("exemplar timestamp")?);
        }
        match self.peek() {
            Some(b'\n') => {
                self.pos += 1;
                self.has_exemplar = true;
                Ok(())
            }
            None => Err(self.err("data does not end with # EOF")),
            _ => {
                let got = self.got();
                Err(self.err(format!("expected next entry after exemplar timestamp, got {got}")))
            }
        }
    }

    /// Parses labels after `{` up to and including `}`.
    fn label_block(&mut self, out: &mut Vec<LabelSpan>, exemplar: bool) -> Result<(), ParseError> {
        let om = self.om();
        loop {
            if !om {
                self.skip_ws();
            }
            let name_start = self.pos;
            let (name, quoted) = match self.peek() {
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'"') => {
                    let (end, _) = self.quoted()?;
                    (span(name_start + 1, end - 1), true)
                }
                Some(c) if is_label_start(c) => {
                    while self.peek().is_some_and(is_label_char) {
                        self.pos += 1;
                    }
                    (span(name_start, self.pos), false)
                }
                _ => {
                    let got = self.got();
                    return Err(self.err(format!("expected label name, got {got}")));
                }
            };
            if !om {
                self.skip_ws();
            }
            if quoted && matches!(self.peek(), Some(b',' | b'}')) {
                // A quoted string alone is the metric name.
                if exemplar || self.name != NO_NAME {
                    return Err(self.err("metric name already set"));
                }
                self.name = name;
                if self.peek() == Some(b',') {
                    self.pos += 1;
                }
                continue;
            }
            if self.peek() != Some(b'=') {
                let got = self.got();
                return Err(self.err(format!("expected equal, got {got}")));
            }
            self.pos += 1;
            if !om {
                self.skip_ws();
            }
            if self.peek() != Some(b'"') {
                let got = self.got();
                return Err(self.err(format!("expected label value, got {got}")));
            }
            let vstart = self.pos + 1;
            let (end, escaped) = self.quoted()?;
            let value = &self.b[vstart..end - 1];
            if !value.is_ascii() && std::str::from_utf8(value).is_err() {
                let s = String::from_utf8_lossy(value).into_owned();
                return Err(self.err(format!("invalid UTF-8 label value: {s:?}")));
            }
            out.push(LabelSpan { name, value: span(vstart, end - 1), escaped });
            if !om {
                self.skip_ws();
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => {
                    let got = self.got();
                    return Err(self.err(format!("expected comma or brace close, got {got}")));
                }
            }
        }
    }

    fn str_at(&self, s: Span) -> &'a str {
        let bytes: &'a [u8] = &self.b[s.0 as usize..s.1 as usize];
        // Names are ASCII by construction or validated quoted strings; values are validated.
        std::str::from_utf8(bytes).unwrap_or("")
    }

    /// The bytes of the current entry as the body wrote them, from its first byte to its
    /// line end (included, when there is one).
    pub fn entry_bytes(&self) -> &'a [u8] {
        &self.b[self.start..self.pos]
    }

    /// The series bytes (metric name and label block as written): a stable cache key.
    pub fn series(&self) -> &'a [u8] {
        &self.b[self.start..self.series_end]
    }

    /// The current sample's value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// The current sample's timestamp in milliseconds, if it had one.
    pub fn timestamp(&self) -> Option<i64> {
        self.ts
    }

    /// The metric name of the current sample or metadata entry (unescaped if it was quoted).
    pub fn metric_name(&self) -> Cow<'a, str> {
        unescape(self.str_at(self.name), &self.b[self.name.0 as usize..self.name.1 as usize])
    }

    /// The label pairs of the current sample (without the metric name), values unescaped.
    pub fn labels(&self) -> LabelIter<'_, 'a> {
        LabelIter { parser: self, spans: self.labels.iter() }
    }

    /// Number of labels of the current sample (without the metric name).
    pub fn label_count(&self) -> usize {
        self.labels.len()
    }

    /// The exemplar of the current sample, if any (OpenMetrics only).
    pub fn exemplar(&self) -> Option<Exemplar<'a>> {
        if !self.has_exemplar {
            return None;
        }
        let labels = self.ex_labels.iter().map(|l| self.pair(l)).collect();
        Some(Exemplar { labels, value: self.ex_value, timestamp: self.ex_ts })
    }

    fn pair(&self, l: &LabelSpan) -> (&'a str, Cow<'a, str>) {
        let v = self.str_at(l.value);
        let v = if l.escaped { unescape(v, v.as_bytes()) } else { Cow::Borrowed(v) };
        (self.str_at(l.name), v)
    }

    /// The type of a TYPE entry.
    pub fn metric_type(&self) -> MetricType {
        self.mtype
    }

    /// The text of a HELP entry, unescaped (`\\`, `\n`, and in OpenMetrics `\"`).
    pub fn help(&self) -> Cow<'a, str> {
        let raw = self.str_at(self.text);
        if !raw.contains('\\') {
            return Cow::Borrowed(raw);
        }
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('\\') => out.push('\\'),
                Some('n') => out.push('\n'),
                Some('"') if self.om() => out.push('"'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        }
        Cow::Owned(out)
    }

    /// The unit of a UNIT entry.
    pub fn unit(&self) -> &'a str {
        self.str_at(self.text)
    }

    /// The text of a comment entry (including `#`).
    pub fn comment(&self) -> &'a str {
        self.str_at(self.text)
    }

    /// The 1-based line of the current entry.
    pub fn line(&self) -> usize {
        self.line_of(self.start)
    }
}

fn starts_kw(after_hash: &[u8], kw: &[u8]) -> bool {
    let ws = after_hash.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    ws > 0
        && after_hash[ws..].starts_with(kw)
        && matches!(after_hash.get(ws + kw.len()), Some(b' ' | b'\t'))
}

fn kw(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Help => "HELP",
        EntryKind::Type => "TYPE",
        EntryKind::Unit => "UNIT",
        _ => "comment",
    }
}

/// Unescapes `\\`, `\"` and `\n` in a label value or quoted name; other escapes stay as written.
fn unescape<'a>(s: &'a str, raw: &[u8]) -> Cow<'a, str> {
    if memchr(b'\\', raw).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Iterates the label pairs of the current sample.
#[derive(Debug)]
pub struct LabelIter<'p, 'a> {
    parser: &'p Parser<'a>,
    spans: std::slice::Iter<'p, LabelSpan>,
}

impl<'a> Iterator for LabelIter<'_, 'a> {
    type Item = (&'a str, Cow<'a, str>);
    fn next(&mut self) -> Option<Self::Item> {
        self.spans.next().map(|l| self.parser.pair(l))
    }
}

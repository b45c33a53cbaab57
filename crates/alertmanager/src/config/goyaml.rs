//! A YAML writer that formats a document as Go's gopkg.in/yaml.v2 (2.4) marshals it: block
//! style with two-space indents, sequences in mappings not indented, map keys in yaml.v2's
//! order, strings plain where they read back as strings, otherwise single or double quoted or
//! literal (`|-`), long lines folded after column 80. Alertmanager's `config.original` (and
//! `amtool config show`) is its config marshalled this way.

use std::cmp::Ordering;
use std::sync::LazyLock;

/// One YAML node.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A Go string: quoted or not as yaml.v2 decides.
    Str(String),
    /// A Go number, bool or nil: written as it is.
    Plain(String),
    /// A block sequence.
    Seq(Vec<Node>),
    /// A flow sequence (`yaml:",flow"`).
    FlowSeq(Vec<Node>),
    /// A mapping in the order given.
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    pub fn bool(b: bool) -> Node {
        Node::Plain(b.to_string())
    }

    /// A Go map of strings: keys sorted as yaml.v2 sorts them.
    pub fn string_map<'a>(m: impl IntoIterator<Item = (&'a String, &'a String)>) -> Node {
        let mut entries: Vec<(String, Node)> =
            m.into_iter().map(|(k, v)| (k.clone(), Node::str(v.as_str()))).collect();
        entries.sort_by(|a, b| key_order(&a.0, &b.0));
        Node::Map(entries)
    }
}

/// The whole document, ending in a newline.
pub fn to_string(doc: &Node) -> String {
    let mut e = Emitter { out: String::new(), column: 0, whitespace: true, indention: true };
    e.node(doc, 0, Context::Value);
    if !e.out.ends_with('\n') {
        e.out.push('\n');
    }
    e.out
}

/// yaml.v2's `keyList.Less` for string keys: letters after other characters, runs of digits
/// compared as numbers.
pub fn key_order(a: &str, b: &str) -> Ordering {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl { Ordering::Less } else { Ordering::Greater };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let digits = |r: &[char], n: &mut i64| {
            let mut k = i;
            while k < r.len() && r[k].is_ascii_digit() {
                *n = n.wrapping_mul(10).wrapping_add(i64::from(r[k] as u8 - b'0'));
                k += 1;
            }
            k
        };
        let (ai, bi) = (digits(&ar, &mut an), digits(&br, &mut bn));
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

#[derive(Clone, Copy, PartialEq)]
enum Context {
    Key,
    Value,
    Flow,
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

const BEST_WIDTH: usize = 80;

struct Emitter {
    out: String,
    column: usize,
    whitespace: bool,
    indention: bool,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn indicator(&mut self, s: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in s.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    /// A node whose container starts at column `indent`.
    fn node(&mut self, n: &Node, indent: usize, ctx: Context) {
        match n {
            Node::Str(s) => self.string(s, indent + 2, ctx),
            Node::Plain(s) => self.scalar(s, Style::Plain, indent + 2, ctx),
            Node::Map(m) if m.is_empty() => {
                self.indicator("{", true, true, false);
                self.indicator("}", false, false, false);
            }
            Node::Seq(s) | Node::FlowSeq(s) if s.is_empty() => {
                self.indicator("[", true, true, false);
                self.indicator("]", false, false, false);
            }
            Node::Map(m) => self.block_map(m, indent),
            Node::Seq(s) => self.block_seq(s, indent),
            Node::FlowSeq(s) => self.flow_seq(s, indent),
        }
    }

    fn block_map(&mut self, m: &[(String, Node)], indent: usize) {
        for (k, v) in m {
            self.write_indent(indent);
            // libyaml writes a key longer than 128 bytes or with a line break as `? key`.
            if k.len() <= 128 && !k.chars().any(is_break) {
                self.string(k, indent + 2, Context::Key);
                self.indicator(":", false, false, false);
            } else {
                self.indicator("?", true, false, true);
                self.string(k, indent + 2, Context::Value);
                self.write_indent(indent);
                self.indicator(":", true, false, true);
            }
            match v {
                Node::Map(inner) if !inner.is_empty() => self.block_map(inner, indent + 2),
                Node::Seq(inner) if !inner.is_empty() => self.block_seq(inner, indent),
                _ => self.node(v, indent, Context::Value),
            }
        }
    }

    fn block_seq(&mut self, s: &[Node], indent: usize) {
        for item in s {
            self.write_indent(indent);
            self.indicator("-", true, false, true);
            match item {
                Node::Map(inner) if !inner.is_empty() => self.block_map(inner, indent + 2),
                Node::Seq(inner) if !inner.is_empty() => self.block_seq(inner, indent + 2),
                _ => self.node(item, indent, Context::Value),
            }
        }
    }

    fn flow_seq(&mut self, s: &[Node], indent: usize) {
        self.indicator("[", true, true, false);
        for (i, item) in s.iter().enumerate() {
            if i > 0 {
                self.indicator(",", false, false, false);
            }
            if self.column > BEST_WIDTH {
                self.write_indent(indent + 2);
            }
            self.node(item, indent + 2, Context::Flow);
        }
        self.indicator("]", false, false, false);
    }

    /// A Go string: the style yaml.v2 asks for, then what the emitter allows.
    fn string(&mut self, s: &str, indent: usize, ctx: Context) {
        let wanted = if s.contains('\n') {
            Style::Literal
        } else if resolves_to_string(s) && !BASE60.is_match(s) {
            Style::Plain
        } else {
            Style::Double
        };
        self.scalar(s, wanted, indent, ctx)
    }

    fn scalar(&mut self, s: &str, wanted: Style, indent: usize, ctx: Context) {
        let a = analyze(s);
        let mut style = wanted;
        if style == Style::Plain {
            let plain_ok = if ctx == Context::Flow { a.flow_plain } else { a.block_plain };
            if !plain_ok || (s.is_empty() && ctx != Context::Value) {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single_quoted {
            style = Style::Double;
        }
        if style == Style::Literal && (!a.block || ctx != Context::Value) {
            style = Style::Double;
        }
        let breaks = ctx != Context::Key;
        match style {
            Style::Plain => self.plain(s, indent, breaks),
            Style::Single => self.single(s, indent, breaks),
            Style::Double => self.double(s, indent, breaks),
            Style::Literal => self.literal(s, indent),
        }
    }

    fn plain(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > BEST_WIDTH && !next_space {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn single(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.indicator("'", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let fold = allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i != chars.len() - 1
                    && chars.get(i + 1) != Some(&' ');
                if fold {
                    self.write_indent(indent);
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                }
                if c == '\'' {
                    self.put('\'');
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.indicator("'", false, false, false);
    }

    fn double(&mut self, s: &str, indent: usize, allow_breaks: bool) {
        self.indicator("\"", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        let mut spaces = false;
        // yaml.v2 escapes every character of a string that starts with a byte order mark.
        let escape_all = s.starts_with('\u{feff}');
        for (i, &c) in chars.iter().enumerate() {
            let special = !is_printable(c) || c == '\u{feff}' || is_break(c);
            if escape_all || special || c == '"' || c == '\\' {
                self.put('\\');
                for e in escape(c).chars() {
                    self.put(e);
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i > 0
                    && i < chars.len() - 1
                {
                    self.write_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false, false, false);
    }

    fn literal(&mut self, s: &str, indent: usize) {
        self.indicator("|", true, false, false);
        let chars: Vec<char> = s.chars().collect();
        if chars.first().is_some_and(|&c| c == ' ' || is_break(c)) {
            self.indicator("2", false, false, false);
        }
        let chomp = match chars.as_slice() {
            [] => "-",
            [.., last] if !is_break(*last) => "-",
            [_] => "+",
            [.., prev, _] if is_break(*prev) => "+",
            _ => "",
        };
        if !chomp.is_empty() {
            self.indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for &c in &chars {
            if is_break(c) {
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                    self.indention = false;
                }
                self.put(c);
                breaks = false;
            }
        }
        self.whitespace = false;
    }

    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's `is_printable` (UTF-8 only; characters outside the BMP are not printable).
fn is_printable(c: char) -> bool {
    let v = c as u32;
    v == 0x0A
        || (0x20..=0x7E).contains(&v)
        || (0xA0..=0xD7FF).contains(&v)
        || ((0xE000..=0xFFFD).contains(&v) && v != 0xFEFF)
}

fn escape(c: char) -> String {
    let v = c as u32;
    match c {
        ' '..='~' if c != '"' && c != '\\' => format!("x{v:02X}"),
        '\0' => "0".into(),
        '\u{7}' => "a".into(),
        '\u{8}' => "b".into(),
        '\t' => "t".into(),
        '\n' => "n".into(),
        '\u{b}' => "v".into(),
        '\u{c}' => "f".into(),
        '\r' => "r".into(),
        '\u{1b}' => "e".into(),
        '"' => "\"".into(),
        '\\' => "\\".into(),
        '\u{85}' => "N".into(),
        '\u{a0}' => "_".into(),
        '\u{2028}' => "L".into(),
        '\u{2029}' => "P".into(),
        _ if v <= 0xFF => format!("x{v:02X}"),
        _ if v <= 0xFFFF => format!("u{v:04X}"),
        _ => format!("U{v:08X}"),
    }
}

/// What libyaml's `yaml_emitter_analyze_scalar` allows for a value.
struct Analysis {
    flow_plain: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

fn analyze(s: &str) -> Analysis {
    if s.is_empty() {
        return Analysis {
            flow_plain: false,
            block_plain: true,
            single_quoted: true,
            block: false,
        };
    }
    let chars: Vec<char> = s.chars().collect();
    let (mut flow_ind, mut block_ind) = (false, false);
    if s.starts_with("---") || s.starts_with("...") {
        flow_ind = true;
        block_ind = true;
    }
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break, mut prev_space, mut prev_break) =
        (false, false, false, false);
    let mut preceded_ws = true;
    let blank = |c: Option<&char>| c.is_none_or(|&c| c == ' ' || c == '\t');
    for (i, &c) in chars.iter().enumerate() {
        let followed_ws = blank(chars.get(i + 1));
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => {
                    flow_ind = true;
                    block_ind = true;
                }
                '?' | ':' => {
                    flow_ind = true;
                    block_ind |= followed_ws;
                }
                '-' if followed_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        } else {
            match c {
                ',' | '?' | '[' | ']' | '{' | '}' => flow_ind = true,
                ':' => {
                    flow_ind = true;
                    block_ind |= followed_ws;
                }
                '#' if preceded_ws => {
                    flow_ind = true;
                    block_ind = true;
                }
                _ => {}
            }
        }
        if !is_printable(c) || c == '\u{feff}' {
            special = true;
        }
        let last = i + 1 == chars.len();
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= last;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(c) {
            line_breaks = true;
            leading_break |= i == 0;
            trailing_break |= last;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = c == ' ' || c == '\t' || is_break(c);
    }
    let mut a = Analysis { flow_plain: true, block_plain: true, single_quoted: true, block: true };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.flow_plain = false;
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a = Analysis { flow_plain: false, block_plain: false, single_quoted: false, block: false };
    }
    if line_breaks {
        a.flow_plain = false;
        a.block_plain = false;
    }
    if flow_ind {
        a.flow_plain = false;
    }
    if block_ind {
        a.block_plain = false;
    }
    a
}

#[allow(clippy::expect_used)]
static BASE60: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$").expect("static regex")
});
#[allow(clippy::expect_used)]
static FLOAT: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
        .expect("static regex")
});
#[allow(clippy::expect_used)]
static TIMESTAMP: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\.[0-9]+)?(Z|[-+][0-9]{2}:[0-9]{2})?)?$",
    )
    .expect("static regex")
});

const RESERVED: &[&str] = &[
    "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE", "n", "N", "no", "No",
    "NO", "off", "Off", "OFF", "false", "False", "FALSE", "", "~", "null", "Null", "NULL", ".nan",
    ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
];

/// yaml.v2's `resolve("", s)` gives the string tag: the plain text would read back as a string.
fn resolves_to_string(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let hint = match first {
        '+' | '-' | '0'..='9' => 'D',
        'y' | 'Y' | 'n' | 'N' | 't' | 'T' | 'f' | 'F' | 'o' | 'O' | '~' => 'M',
        '.' => '.',
        _ => return true,
    };
    if RESERVED.contains(&s) {
        return false;
    }
    match hint {
        '.' => !FLOAT.is_match(s),
        'D' => {
            let plain = s.replace('_', "");
            !(TIMESTAMP.is_match(s) || is_go_int(&plain) || FLOAT.is_match(&plain))
        }
        _ => true,
    }
}

/// `strconv.ParseInt(s, 0, 64)` or `ParseUint` would accept it (syntax only).
fn is_go_int(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(r) = lower.strip_prefix("0x") {
        (r, 16)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (r, 8)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (r, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    !digits.is_empty() && u64::from_str_radix(digits, radix).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> String {
        to_string(&Node::Map(vec![("k".into(), Node::str(s))]))
    }

    #[test]
    fn quotes_as_yaml_v2() {
        assert_eq!(one("plain text"), "k: plain text\n");
        assert_eq!(one(""), "k: \"\"\n");
        assert_eq!(one("00:00"), "k: \"00:00\"\n");
        assert_eq!(one("5"), "k: \"5\"\n");
        assert_eq!(one("yes"), "k: \"yes\"\n");
        assert_eq!(one("{{ x }}"), "k: '{{ x }}'\n");
        assert_eq!(one("#x"), "k: '#x'\n");
        assert_eq!(one("it's: x"), "k: 'it''s: x'\n");
        assert_eq!(one("a\tb"), "k: \"a\\tb\"\n");
        assert_eq!(one("a\nb"), "k: |-\n  a\n  b\n");
        assert_eq!(one("a\n"), "k: |\n  a\n");
        assert_eq!(one("😀"), "k: \"\\U0001F600\"\n");
        assert_eq!(one("x:y"), "k: x:y\n");
        assert_eq!(one("2020-01-01"), "k: \"2020-01-01\"\n");
    }

    #[test]
    fn nests_and_sorts_keys() {
        let doc = Node::Map(vec![
            (
                "a".into(),
                Node::Seq(vec![Node::str("x"), Node::Map(vec![("b".into(), Node::bool(true))])]),
            ),
            ("c".into(), Node::Map(vec![])),
            ("d".into(), Node::FlowSeq(vec![Node::str("1:2"), Node::str("a:b"), Node::str("m")])),
        ]);
        assert_eq!(to_string(&doc), "a:\n- x\n- b: true\nc: {}\nd: [\"1:2\", 'a:b', m]\n");
        let mut keys = vec!["b10", "b9", "B", "_a", "a"];
        keys.sort_by(|a, b| key_order(a, b));
        assert_eq!(keys, ["_a", "B", "a", "b9", "b10"]);
    }

    #[test]
    fn folds_long_lines() {
        let long = "word ".repeat(20) + "end";
        let out = one(&long);
        assert!(out.lines().count() > 1, "{out}");
        assert!(out.lines().nth(1).is_some_and(|l| l.starts_with("  word")), "{out}");
    }
}

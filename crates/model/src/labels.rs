//! `Labels`: the identity of a series.
//!
//! A label set is sorted by name, holds no empty values and no duplicate names, shares its
//! strings through the interner and carries a precomputed 64-bit hash, so cloning is one atomic
//! increment and hashing is one `u64` write.

use std::fmt;
use std::hash::{Hash, Hasher};

use triomphe::ThinArc;

use crate::IStr;
use crate::intern::intern;

/// The label that holds a series' metric name.
pub const METRIC_NAME: &str = "__name__";

/// One label: an interned name and value.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    pub name: IStr,
    pub value: IStr,
}

impl Label {
    pub fn new(name: &str, value: &str) -> Label {
        Label { name: intern(name), value: intern(value) }
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={:?}", self.name, &*self.value)
    }
}

/// A sorted, immutable label set. See the module docs for its invariants.
///
/// One allocation holds the reference count, the hash, the length and the labels, behind a
/// thin (one-word) pointer: a head keeps one set per series, so a separate allocation for the
/// label slice would cost a million series about 32 MB.
#[derive(Clone)]
pub struct Labels(ThinArc<u64, Label>);

impl Labels {
    /// The empty label set.
    pub fn empty() -> Labels {
        Labels::from_sorted_unchecked(Vec::new())
    }

    /// Builds a label set from pairs in any order. Empty values are dropped; when a name repeats,
    /// the last value wins (as Prometheus' builder does).
    pub fn new<N: AsRef<str>, V: AsRef<str>>(pairs: impl IntoIterator<Item = (N, V)>) -> Labels {
        let mut v: Vec<Label> = Vec::new();
        for (n, val) in pairs {
            v.push(Label::new(n.as_ref(), val.as_ref()));
        }
        Labels::from_vec(v)
    }

    /// Builds a label set from labels in any order, with the same rules as [`Labels::new`].
    pub fn from_vec(mut v: Vec<Label>) -> Labels {
        // Stable sort keeps insertion order among equal names so "last wins" below holds.
        v.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out: Vec<Label> = Vec::with_capacity(v.len());
        for l in v {
            match out.last_mut() {
                Some(prev) if prev.name == l.name => *prev = l,
                _ => out.push(l),
            }
        }
        out.retain(|l| !l.value.is_empty());
        Labels::from_sorted_unchecked(out)
    }

    /// Builds a label set from labels already sorted by name, unique and with non-empty values.
    /// Debug builds check the invariant.
    pub fn from_sorted_unchecked(v: Vec<Label>) -> Labels {
        debug_assert!(v.windows(2).all(|w| w[0].name < w[1].name), "labels not sorted/unique");
        let hash = hash_labels(&v);
        Labels(ThinArc::from_header_and_iter(hash, v.into_iter()))
    }

    /// Starts a builder from this set.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder { base: self.clone(), changes: Vec::new() }
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.slice.binary_search_by(|l| (*l.name).cmp(name)).ok().map(|i| &*self.0.slice[i].value)
    }

    /// True if the set has label `name`.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.slice.iter()
    }

    pub fn as_slice(&self) -> &[Label] {
        &self.0.slice
    }

    pub fn len(&self) -> usize {
        self.0.slice.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.slice.is_empty()
    }

    /// The precomputed hash of the whole set (stable within a process run).
    pub fn hash64(&self) -> u64 {
        self.0.header.header
    }

    /// A copy without `__name__`.
    pub fn without_metric_name(&self) -> Labels {
        if !self.has(METRIC_NAME) {
            return self.clone();
        }
        self.filter(|l| &*l.name != METRIC_NAME)
    }

    /// A copy keeping only the labels for which `keep` returns true.
    pub fn filter(&self, keep: impl Fn(&Label) -> bool) -> Labels {
        Labels::from_sorted_unchecked(self.iter().filter(|l| keep(l)).cloned().collect())
    }

    /// A copy keeping only the named labels (`on(...)`, `by(...)`).
    pub fn keep_names(&self, names: &[impl AsRef<str>]) -> Labels {
        self.filter(|l| names.iter().any(|n| n.as_ref() == &*l.name))
    }

    /// A copy dropping the named labels (`ignoring(...)`, `without(...)`).
    pub fn drop_names(&self, names: &[impl AsRef<str>]) -> Labels {
        self.filter(|l| !names.iter().any(|n| n.as_ref() == &*l.name))
    }

    /// Total bytes of names and values, as Prometheus counts label set size.
    pub fn bytes_len(&self) -> usize {
        self.iter().map(|l| l.name.len() + l.value.len()).sum()
    }
}

/// FNV-1a over names and values with separators; cheap and stable within and across runs.
fn hash_labels(labels: &[Label]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for l in labels {
        eat(l.name.as_bytes());
        eat(&[0xff]);
        eat(l.value.as_bytes());
        eat(&[0xfe]);
    }
    h
}

impl PartialEq for Labels {
    fn eq(&self, other: &Labels) -> bool {
        self.0.ptr() == other.0.ptr()
            || (self.hash64() == other.hash64() && self.0.slice == other.0.slice)
    }
}

impl Eq for Labels {}

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash64());
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Labels) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders as Prometheus' `labels.Compare`: label by label, name first, then value, then length.
impl Ord for Labels {
    fn cmp(&self, other: &Labels) -> std::cmp::Ordering {
        let (a, b) = (&self.0.slice, &other.0.slice);
        for (x, y) in a.iter().zip(b.iter()) {
            let c = x.name.cmp(&y.name).then_with(|| x.value.cmp(&y.value));
            if c != std::cmp::Ordering::Equal {
                return c;
            }
        }
        a.len().cmp(&b.len())
    }
}

impl Default for Labels {
    fn default() -> Labels {
        Labels::empty()
    }
}

/// Formats as Prometheus' `Labels.String()`: `{__name__="up", job="x"}`.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}=", l.name)?;
            write_go_quoted(f, &l.value)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `s` quoted and escaped as Go's `strconv.Quote` (`%q`) does for printable text.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let _ = write_go_quoted(&mut out, s);
    out
}

/// Writes `s` quoted and escaped as Go's `strconv.Quote` does for printable text.
pub(crate) fn write_go_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Edits a label set: set, delete, keep; then builds a new sorted set.
#[derive(Clone, Debug)]
pub struct LabelsBuilder {
    base: Labels,
    /// Pending edits in order; `None` deletes.
    changes: Vec<(String, Option<String>)>,
}

impl LabelsBuilder {
    pub fn new() -> LabelsBuilder {
        Labels::empty().builder()
    }

    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        let v = if value.is_empty() { None } else { Some(value.to_string()) };
        self.changes.push((name.to_string(), v));
        self
    }

    pub fn del(&mut self, name: &str) -> &mut Self {
        self.changes.push((name.to_string(), None));
        self
    }

    /// The current value of `name`, with pending edits applied.
    pub fn get(&self, name: &str) -> Option<&str> {
        if let Some((_, v)) = self.changes.iter().rev().find(|(n, _)| n == name) {
            return v.as_deref();
        }
        self.base.get(name)
    }

    /// Calls `f` for every label currently in the set (with edits applied), sorted by name.
    pub fn for_each(&self, mut f: impl FnMut(&str, &str)) {
        let built = self.build();
        for l in built.iter() {
            f(&l.name, &l.value);
        }
    }

    pub fn build(&self) -> Labels {
        if self.changes.is_empty() {
            return self.base.clone();
        }
        let mut v: Vec<Label> = self.base.iter().cloned().collect();
        for (name, value) in &self.changes {
            v.retain(|l| &*l.name != name.as_str());
            if let Some(value) = value {
                v.push(Label::new(name, value));
            }
        }
        Labels::from_vec(v)
    }

    /// Drops all labels not named in `names`.
    pub fn keep(&mut self, names: &[impl AsRef<str>]) -> &mut Self {
        let current = self.build();
        for l in current.iter() {
            if !names.iter().any(|n| n.as_ref() == &*l.name) {
                self.changes.push((l.name.to_string(), None));
            }
        }
        self
    }
}

impl Default for LabelsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_deduplicated_and_without_empty_values() {
        let l = Labels::new([("job", "a"), ("__name__", "up"), ("x", ""), ("job", "b")]);
        assert_eq!(l.to_string(), r#"{__name__="up", job="b"}"#);
        assert_eq!(l.metric_name(), Some("up"));
        assert_eq!(l.get("x"), None);
    }

    #[test]
    fn equality_and_hash_ignore_construction_order() {
        let a = Labels::new([("a", "1"), ("b", "2")]);
        let b = Labels::new([("b", "2"), ("a", "1")]);
        assert_eq!(a, b);
        assert_eq!(a.hash64(), b.hash64());
        assert_ne!(a, Labels::new([("a", "1"), ("b", "3")]));
        // Separator bytes keep ("ab","c") and ("a","bc") apart.
        assert_ne!(Labels::new([("ab", "c")]).hash64(), Labels::new([("a", "bc")]).hash64());
    }

    #[test]
    fn ordering_matches_prometheus_compare() {
        let a = Labels::new([("a", "1")]);
        let b = Labels::new([("a", "1"), ("b", "1")]);
        let c = Labels::new([("a", "2")]);
        assert!(a < b && b < c);
    }

    #[test]
    fn builder_edits() {
        let l = Labels::new([("__name__", "up"), ("job", "a"), ("instance", "i")]);
        let mut b = l.builder();
        b.set("job", "b").del("instance").set("zone", "z").set("job", "");
        assert_eq!(b.get("zone"), Some("z"));
        assert_eq!(b.build().to_string(), r#"{__name__="up", zone="z"}"#);
        let mut k = l.builder();
        k.keep(&["job"]);
        assert_eq!(k.build().to_string(), r#"{job="a"}"#);
    }

    #[test]
    fn display_escapes_like_go() {
        let l = Labels::new([("a", "x\"y\\z\n")]);
        assert_eq!(l.to_string(), r#"{a="x\"y\\z\n"}"#);
    }

    #[test]
    fn keep_and_drop_names() {
        let l = Labels::new([("__name__", "m"), ("a", "1"), ("b", "2")]);
        assert_eq!(l.keep_names(&["a"]).to_string(), r#"{a="1"}"#);
        assert_eq!(l.drop_names(&["a"]).to_string(), r#"{__name__="m", b="2"}"#);
        assert_eq!(l.without_metric_name().to_string(), r#"{a="1", b="2"}"#);
    }
}

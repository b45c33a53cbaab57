//! `IStr`: the immutable, shared string of label names and values, behind a one-word pointer.
//!
//! A label is two strings and a head holds a label set per series, so the pointer's size is
//! per-series memory: `Arc<str>` is a two-word (pointer and length) reference, 32 bytes a label;
//! an `IStr` keeps the length in its allocation, next to the count and the bytes, and is 8, so
//! a label is 16. It reads as a `&str` (`Deref`, `AsRef`, `Borrow`) and compares, orders and
//! hashes as its text does.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use triomphe::ThinArc;

/// An immutable shared string; see the module docs.
#[derive(Clone)]
pub struct IStr(ThinArc<(), u8>);

impl IStr {
    /// A new string (not interned: see [`crate::intern`]).
    pub fn new(s: &str) -> IStr {
        IStr(ThinArc::from_header_and_slice((), s.as_bytes()))
    }

    pub fn as_str(&self) -> &str {
        // SAFETY: the bytes were copied from a `&str` in `new` and never change.
        unsafe { std::str::from_utf8_unchecked(&self.0.slice) }
    }

    /// How many `IStr`s share this string.
    pub fn strong_count(this: &IStr) -> usize {
        ThinArc::strong_count(&this.0)
    }

    /// The allocation's address: equal for clones (and interned strings) of one string.
    pub fn addr(this: &IStr) -> usize {
        this.0.as_ptr() as usize
    }

    /// Whether both are the same allocation (then equal; equal strings need not be).
    pub fn ptr_eq(a: &IStr, b: &IStr) -> bool {
        a.0.as_ptr() == b.0.as_ptr()
    }
}

impl Deref for IStr {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for IStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for IStr {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for IStr {
    fn from(s: &str) -> IStr {
        IStr::new(s)
    }
}

impl From<String> for IStr {
    fn from(s: String) -> IStr {
        IStr::new(&s)
    }
}

impl From<&String> for IStr {
    fn from(s: &String) -> IStr {
        IStr::new(s)
    }
}

impl From<IStr> for String {
    fn from(s: IStr) -> String {
        s.as_str().to_owned()
    }
}

impl Default for IStr {
    fn default() -> IStr {
        IStr::new("")
    }
}

impl PartialEq for IStr {
    fn eq(&self, other: &IStr) -> bool {
        IStr::ptr_eq(self, other) || self.as_str() == other.as_str()
    }
}

impl Eq for IStr {}

impl PartialEq<str> for IStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for IStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for IStr {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<IStr> for str {
    fn eq(&self, other: &IStr) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<IStr> for &str {
    fn eq(&self, other: &IStr) -> bool {
        *self == other.as_str()
    }
}

impl PartialOrd for IStr {
    fn partial_cmp(&self, other: &IStr) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IStr {
    fn cmp(&self, other: &IStr) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for IStr {
    /// As the `str` it holds, so maps keyed by `IStr` can be looked up by `&str`.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for IStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for IStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn an_istr_is_one_word_and_behaves_as_its_text() {
        assert_eq!(std::mem::size_of::<IStr>(), 8);
        assert_eq!(std::mem::size_of::<Option<IStr>>(), 8);
        let a = IStr::new("héllo");
        let b = IStr::from("héllo".to_string());
        assert_eq!(&*a, "héllo");
        assert_eq!(a.len(), 6);
        assert!(a == b && !IStr::ptr_eq(&a, &b));
        assert!(a == "héllo");
        assert!("héllo" == a);
        assert!(IStr::new("a") < IStr::new("b") && IStr::new("b") > IStr::new("a"));
        assert_eq!(format!("{a} {a:?}"), "héllo \"héllo\"");
        let set: HashSet<IStr> = [a.clone()].into_iter().collect();
        assert!(set.contains("héllo"));
        drop(set);
        let c = a.clone();
        assert!(IStr::ptr_eq(&a, &c));
        assert_eq!(IStr::strong_count(&a), 2);
        assert_eq!(IStr::default().as_str(), "");
    }
}

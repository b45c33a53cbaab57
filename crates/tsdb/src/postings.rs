//! Resolving matchers to a sorted list of series refs over any inverted index (head or block):
//! `=` and literal alternations look postings up directly, literal-prefix regexes scan only the
//! values with that prefix, and matchers that accept the empty string are applied by subtracting
//! the series whose value they reject.

use model::Matcher;

use crate::error::Result;

/// What matcher resolution needs from an inverted index.
pub trait IndexView {
    /// Sorted values of label `name`.
    fn values(&self, name: &str) -> Vec<String>;
    /// Sorted refs of series with `name="value"`.
    fn postings(&self, name: &str, value: &str) -> Result<Vec<u64>>;
    /// Sorted refs of every series.
    fn all(&self) -> Result<Vec<u64>>;
}

/// Sorted refs of series whose label `m.name` has a value accepted by `accept`.
fn union_where(ix: &dyn IndexView, m: &Matcher, accept: impl Fn(&str) -> bool) -> Result<Vec<u64>> {
    let values = ix.values(&m.name);
    let candidates: Vec<&String> = match m.literal_prefix() {
        Some(p) => {
            let start = values.partition_point(|v| v.as_str() < p);
            values[start..].iter().take_while(|v| v.starts_with(p)).collect()
        }
        None => values.iter().collect(),
    };
    let mut lists = Vec::new();
    for v in candidates {
        if accept(v) {
            lists.push(ix.postings(&m.name, v)?);
        }
    }
    Ok(merge_union(lists))
}

/// Union of sorted lists.
pub fn merge_union(mut lists: Vec<Vec<u64>>) -> Vec<u64> {
    match lists.len() {
        0 => Vec::new(),
        1 => lists.pop().unwrap_or_default(),
        _ => {
            let mut all: Vec<u64> = lists.into_iter().flatten().collect();
            all.sort_unstable();
            all.dedup();
            all
        }
    }
}

/// Intersection of two sorted lists.
pub fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// `a` without the elements of `b` (both sorted).
pub fn subtract(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut j = 0;
    let mut out = Vec::with_capacity(a.len());
    for &x in a {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        if j < b.len() && b[j] == x {
            continue;
        }
        out.push(x);
    }
    out
}

/// Positive postings for one matcher that does not accept `""`.
fn positive(ix: &dyn IndexView, m: &Matcher) -> Result<Vec<u64>> {
    if let Some(set) = m.set_matches() {
        let mut lists = Vec::with_capacity(set.len());
        for v in set {
            lists.push(ix.postings(&m.name, v)?);
        }
        return Ok(merge_union(lists));
    }
    union_where(ix, m, |v| m.matches(v))
}

/// Sorted refs of series matching every matcher (an absent label matches as `""`).
pub fn select(ix: &dyn IndexView, matchers: &[Matcher]) -> Result<Vec<u64>> {
    let mut result: Option<Vec<u64>> = None;
    let mut negatives: Vec<&Matcher> = Vec::new();
    for m in matchers {
        if m.matches_empty() {
            negatives.push(m);
            continue;
        }
        let p = positive(ix, m)?;
        result = Some(match result {
            None => p,
            Some(r) => intersect(&r, &p),
        });
        if result.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
    }
    let mut result = match result {
        Some(r) => r,
        None => ix.all()?,
    };
    for m in negatives {
        // Series to drop: those with a value the matcher rejects.
        let drop = match m.op {
            model::MatchType::NotEqual => ix.postings(&m.name, &m.value)?,
            // Matchers accepting "" never carry a literal-prefix hint, so this scans all values.
            _ => union_where(ix, m, |v| !m.matches(v))?,
        };
        result = subtract(&result, &drop);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MatchType;
    use std::collections::BTreeMap;

    struct Ix(BTreeMap<(String, String), Vec<u64>>, Vec<u64>);

    impl IndexView for Ix {
        fn values(&self, name: &str) -> Vec<String> {
            self.0.keys().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
        }
        fn postings(&self, n: &str, v: &str) -> Result<Vec<u64>> {
            Ok(self.0.get(&(n.to_string(), v.to_string())).cloned().unwrap_or_default())
        }
        fn all(&self) -> Result<Vec<u64>> {
            Ok(self.1.clone())
        }
    }

    #[test]
    fn matcher_kinds() {
        let mut m = BTreeMap::new();
        m.insert(("job".into(), "api".into()), vec![1, 2]);
        m.insert(("job".into(), "db".into()), vec![3]);
        m.insert(("job".into(), "dbx".into()), vec![4]);
        m.insert(("x".into(), "1".into()), vec![2, 3]);
        let ix = Ix(m, vec![1, 2, 3, 4, 5]);
        let mm = |op, n: &str, v: &str| Matcher::new(op, n, v).unwrap();
        assert_eq!(select(&ix, &[mm(MatchType::Equal, "job", "api")]).unwrap(), vec![1, 2]);
        assert_eq!(select(&ix, &[mm(MatchType::Regex, "job", "db.*")]).unwrap(), vec![3, 4]);
        assert_eq!(select(&ix, &[mm(MatchType::Regex, "job", "api|db")]).unwrap(), vec![1, 2, 3]);
        assert_eq!(select(&ix, &[mm(MatchType::NotEqual, "x", "1")]).unwrap(), vec![1, 4, 5]);
        assert_eq!(select(&ix, &[mm(MatchType::NotRegex, "job", "d.*")]).unwrap(), vec![1, 2, 5]);
        assert_eq!(select(&ix, &[mm(MatchType::Equal, "x", "")]).unwrap(), vec![1, 4, 5]);
        assert_eq!(select(&ix, &[mm(MatchType::Regex, "job", "db|")]).unwrap(), vec![3, 5]);
        assert_eq!(
            select(&ix, &[mm(MatchType::Regex, "job", ".+"), mm(MatchType::NotEqual, "x", "1")])
                .unwrap(),
            vec![1, 4]
        );
    }
}

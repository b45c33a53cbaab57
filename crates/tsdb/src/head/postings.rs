//! The head's inverted index: for every label pair the sorted refs of series that have it.
//! Refs are handed out in increasing order, so adding a series is an append to each list.
//! Lists hold 32-bit refs (half the memory; a series is in one list per label) until a ref
//! beyond that range arrives, e.g. from a foreign WAL.

use std::collections::BTreeMap;

use model::Labels;

/// Sorted, unique series refs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostingList {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

impl Default for PostingList {
    fn default() -> Self {
        PostingList::Narrow(Vec::new())
    }
}

/// Inserts `r` into the sorted `list` (appending in the usual case), unless it is there.
fn insert_sorted<T: Ord + Copy>(list: &mut Vec<T>, r: T) {
    match list.last() {
        Some(&last) if last >= r => {
            let i = list.partition_point(|&x| x < r);
            if list.get(i) != Some(&r) {
                list.insert(i, r);
            }
        }
        _ => list.push(r),
    }
}

impl PostingList {
    pub fn len(&self) -> usize {
        match self {
            PostingList::Narrow(v) => v.len(),
            PostingList::Wide(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn insert(&mut self, r: u64) {
        match self {
            PostingList::Narrow(v) => match u32::try_from(r) {
                Ok(r) => insert_sorted(v, r),
                Err(_) => {
                    let mut wide: Vec<u64> = v.iter().map(|&x| u64::from(x)).collect();
                    insert_sorted(&mut wide, r);
                    *self = PostingList::Wide(wide);
                }
            },
            PostingList::Wide(v) => insert_sorted(v, r),
        }
    }

    pub fn remove(&mut self, r: u64) {
        match self {
            PostingList::Narrow(v) => {
                if let Ok(Ok(i)) = u32::try_from(r).map(|r| v.binary_search(&r)) {
                    v.remove(i);
                }
            }
            PostingList::Wide(v) => {
                if let Ok(i) = v.binary_search(&r) {
                    v.remove(i);
                }
            }
        }
    }

    pub fn to_vec(&self) -> Vec<u64> {
        match self {
            PostingList::Narrow(v) => v.iter().map(|&x| u64::from(x)).collect(),
            PostingList::Wide(v) => v.clone(),
        }
    }
}

/// Postings per label name and value.
#[derive(Debug, Default)]
pub struct MemPostings {
    pub m: BTreeMap<model::IStr, BTreeMap<model::IStr, PostingList>>,
}

impl MemPostings {
    pub fn add(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            self.m.entry(l.name.clone()).or_default().entry(l.value.clone()).or_default().insert(r);
        }
    }

    pub fn remove(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let Some(values) = self.m.get_mut(&*l.name) else { continue };
            if let Some(list) = values.get_mut(&*l.value) {
                list.remove(r);
                if list.is_empty() {
                    values.remove(&*l.value);
                }
            }
            if values.is_empty() {
                self.m.remove(&*l.name);
            }
        }
    }

    pub fn values(&self, name: &str) -> Vec<String> {
        self.m.get(name).map(|v| v.keys().map(|k| k.to_string()).collect()).unwrap_or_default()
    }

    pub fn get(&self, name: &str, value: &str) -> Vec<u64> {
        self.m.get(name).and_then(|v| v.get(value)).map(PostingList::to_vec).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_stay_sorted_and_widen_for_large_refs() {
        let mut l = PostingList::default();
        for r in [5, 1, 9, 5, 3] {
            l.insert(r);
        }
        assert_eq!(l, PostingList::Narrow(vec![1, 3, 5, 9]));
        l.insert(1 << 40);
        l.insert(7);
        assert_eq!(l.to_vec(), vec![1, 3, 5, 7, 9, 1 << 40]);
        l.remove(5);
        l.remove(1 << 40);
        l.remove(1 << 41);
        assert_eq!(l.to_vec(), vec![1, 3, 7, 9]);
        let mut n = PostingList::default();
        n.insert(2);
        n.remove(1 << 40);
        assert_eq!(n.len(), 1);
    }

    #[test]
    fn postings_by_label_pair() {
        let mut p = MemPostings::default();
        let a = Labels::new([("job", "a"), ("i", "1")]);
        let b = Labels::new([("job", "a"), ("i", "2")]);
        p.add(2, &b);
        p.add(1, &a);
        assert_eq!(p.get("job", "a"), vec![1, 2]);
        assert_eq!(p.values("i"), vec!["1", "2"]);
        p.remove(1, &a);
        assert_eq!(p.get("job", "a"), vec![2]);
        assert_eq!(p.values("i"), vec!["2"]);
        p.remove(2, &b);
        assert!(p.m.is_empty());
    }
}

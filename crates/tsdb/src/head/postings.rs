//! The head's inverted index: for every label pair the sorted refs of series that have it.
//! Refs are handed out in increasing order, so adding a series is an append to each list.

use std::collections::BTreeMap;
use std::sync::Arc;

use model::Labels;

/// Postings per label name and value.
#[derive(Debug, Default)]
pub struct MemPostings {
    pub m: BTreeMap<Arc<str>, BTreeMap<Arc<str>, Vec<u64>>>,
}

impl MemPostings {
    pub fn add(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let list =
                self.m.entry(l.name.clone()).or_default().entry(l.value.clone()).or_default();
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
    }

    pub fn remove(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let Some(values) = self.m.get_mut(&*l.name) else { continue };
            if let Some(list) = values.get_mut(&*l.value) {
                if let Ok(i) = list.binary_search(&r) {
                    list.remove(i);
                }
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
        self.m.get(name).and_then(|v| v.get(value)).cloned().unwrap_or_default()
    }
}

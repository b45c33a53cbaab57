//! Series creation for WAL replay. Replay creates series under their WAL refs without touching
//! the postings, then builds the postings of all of them in one pass at the end: grouping the
//! refs of each label pair once costs a hash per label, where adding series one by one costs
//! two searches of ordered string maps per label. Nothing reads the head during replay.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use model::Labels;
use parking_lot::Mutex;

use super::postings::PostingList;
use super::{Head, MemSeries, SeriesHandle};

/// Series created by replay whose postings are not built yet.
#[derive(Default)]
pub(crate) struct Unindexed(Vec<(u64, Labels)>);

impl Head {
    /// Returns the series with `labels`, creating it under ref `r` if the head has none;
    /// a created series is left out of the postings and recorded in `unindexed` (see
    /// [`Head::index_replayed`]).
    pub(crate) fn create_replayed(
        &self,
        labels: &Labels,
        r: u64,
        unindexed: &mut Unindexed,
    ) -> (u64, SeriesHandle) {
        let h = labels.hash64();
        let mut map = self.series.write();
        if let Some((found, s)) = map.find_hashed(h, labels) {
            return (found, s.clone());
        }
        self.next_ref.fetch_max(r.saturating_add(1), Ordering::AcqRel);
        let s = Arc::new(Mutex::new(MemSeries::new(labels.clone())));
        map.insert(r, h, s.clone());
        unindexed.0.push((r, labels.clone()));
        (r, s)
    }

    /// Adds the series replay created to the postings.
    pub(crate) fn index_replayed(&self, unindexed: Unindexed) {
        // Label pairs by the addresses of their interned strings; equal strings under two
        // allocations only make two groups that land in the same list below.
        type Group = (Arc<str>, Arc<str>, Vec<u64>);
        let mut groups: HashMap<(usize, usize), Group, ahash::RandomState> = HashMap::default();
        for (r, labels) in &unindexed.0 {
            for l in labels.iter() {
                let key = (
                    Arc::as_ptr(&l.name) as *const u8 as usize,
                    Arc::as_ptr(&l.value) as *const u8 as usize,
                );
                groups
                    .entry(key)
                    .or_insert_with(|| (l.name.clone(), l.value.clone(), Vec::new()))
                    .2
                    .push(*r);
            }
        }
        drop(unindexed);
        let mut postings = self.postings.write();
        for (_, (name, value, mut refs)) in groups {
            if !refs.is_sorted() {
                refs.sort_unstable();
            }
            refs.dedup();
            let list = postings.m.entry(name).or_default().entry(value).or_default();
            if !list.is_empty() {
                for r in refs {
                    list.insert(r);
                }
            } else if refs.last().is_none_or(|&r| u32::try_from(r).is_ok()) {
                *list = PostingList::Narrow(refs.iter().map(|&r| r as u32).collect());
            } else {
                refs.shrink_to_fit();
                *list = PostingList::Wide(refs);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replayed_series_get_the_postings_of_series_added_one_by_one() {
        let one = Head::new(7_200_000, 0, None);
        let bulk = Head::new(7_200_000, 0, None);
        let mut unindexed = Unindexed::default();
        let sets: Vec<(u64, Labels)> = [9u64, 3, 5, 1 << 40, 7, 3]
            .iter()
            .enumerate()
            .map(|(i, &r)| {
                (r, Labels::new([("job", "a"), ("i", &(i % 4).to_string()), ("x", "y")]))
            })
            .collect();
        for (r, l) in &sets {
            one.get_or_create(l, Some(*r));
            bulk.create_replayed(l, *r, &mut unindexed);
        }
        // Series replay did not create still get postings added one by one.
        let late = Labels::new([("job", "a"), ("i", "9")]);
        bulk.get_or_create(&late, Some(2));
        one.get_or_create(&late, Some(2));
        bulk.index_replayed(unindexed);
        assert_eq!(bulk.num_series(), one.num_series());
        assert_eq!(bulk.next_ref(), one.next_ref());
        let p1 = one.postings.read();
        let p2 = bulk.postings.read();
        assert_eq!(p1.m, p2.m);
        assert!(!p2.m.is_empty());
    }
}

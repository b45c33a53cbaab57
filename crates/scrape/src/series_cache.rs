//! The per-target series cache: the raw series bytes of the lines a target wrote in its recent
//! scrapes, each with the storage ref and final labels of its series and the bookkeeping for
//! staleness and duplicates.
//!
//! Entries live in a slab indexed by `u32` ids, found by their bytes through a hash table of
//! ids. The bytes of all keys live in one arena, appended as series appear and compacted in
//! line order when half of it is dead, so a body in the usual order reads the slab and the
//! arena front to back (memory the CPU prefetches) rather than one allocation per key.
//! Each entry also links to the entry of the line that followed it in the last successful
//! scrape: a body usually lists the same series in the same order as the previous one, so the
//! scrape loop hands the linked entry's bytes to the parser as a hint
//! ([`textparse::Parser::next_hinted`]) and, when the line starts with them, has its entry
//! without tokenising labels or hashing. A link is only a guess, checked against the line; a
//! line that does not match is looked up by hash, and the links after it follow that entry, so
//! inserted or removed lines cost one lookup each.

use hashbrown::HashTable;
use model::Labels;
use storage::SeriesRef;
use textparse::Format;

/// No entry (end of the links, or no hint).
pub(crate) const NONE: u32 = u32::MAX;

/// One raw series line's cache entry.
pub(crate) struct Entry {
    /// Where the series bytes (as the body wrote them) are in the arena; `len` 0 for a free
    /// slot.
    off: u32,
    len: u32,
    hash: u64,
    /// The entry of the line after this one in the last successful scrape.
    next: u32,
    pub(crate) series_ref: SeriesRef,
    /// Final labels, or `None` if metric relabeling dropped the series.
    pub(crate) labels: Option<Labels>,
    /// The last scrape (iteration) whose body held this series.
    pub(crate) last_iter: u64,
    /// The last scrape in which this series was appended without an explicit timestamp.
    pub(crate) cur_iter: u64,
    /// Appended without an explicit timestamp by the last successful scrape: it gets a
    /// staleness marker when the next scrape lacks it.
    pub(crate) in_prev: bool,
}

/// Raw series bytes -> entry, with the line order of the last successful scrape.
#[derive(Default)]
pub(crate) struct SeriesCache {
    entries: Vec<Entry>,
    free: Vec<u32>,
    /// The key bytes of the entries, and how many of them belong to freed entries.
    arena: Vec<u8>,
    dead: usize,
    index: HashTable<u32>,
    hasher: ahash::RandomState,
    /// The entry of the first line of the last successful scrape.
    first: u32,
    /// The format of that scrape's body: a hint is only valid for a body of the same format.
    format: Option<Format>,
    /// The entries of the current scrape's lines, in order.
    order: Vec<u32>,
}

impl SeriesCache {
    pub(crate) fn new() -> SeriesCache {
        SeriesCache { first: NONE, ..SeriesCache::default() }
    }

    /// Starts a scrape of a body in `format`; returns the entry expected for its first line.
    pub(crate) fn begin(&mut self, format: Format) -> u32 {
        self.order.clear();
        if self.format == Some(format) { self.first } else { NONE }
    }

    /// The series bytes of entry `id` (empty for `NONE`), as a hint for the parser.
    pub(crate) fn hint(&self, id: u32) -> &[u8] {
        match self.entries.get(id as usize) {
            Some(e) => key_of(&self.arena, e),
            None => b"",
        }
    }

    /// Records that the current scrape's next line is entry `id`; returns the entry expected
    /// for the line after it.
    pub(crate) fn visit(&mut self, id: u32) -> u32 {
        self.order.push(id);
        self.entries[id as usize].next
    }

    /// The entry of the series bytes `key`.
    pub(crate) fn find(&self, key: &[u8]) -> Option<u32> {
        let hash = self.hasher.hash_one(key);
        let (entries, arena) = (&self.entries, &self.arena);
        self.index.find(hash, |&id| key_of(arena, &entries[id as usize]) == key).copied()
    }

    /// Adds an entry for `key` (not in the cache) seen in scrape `iter`.
    pub(crate) fn insert(&mut self, key: &[u8], labels: Option<Labels>, iter: u64) -> u32 {
        let hash = self.hasher.hash_one(key);
        if self.arena.capacity() - self.arena.len() < key.len() {
            // Grow by an eighth: the arena is long-lived, doubling would waste up to half.
            self.arena.reserve_exact(key.len().max(self.arena.len() / 8));
        }
        let off = self.arena.len() as u32;
        self.arena.extend_from_slice(key);
        let entry = Entry {
            off,
            len: key.len() as u32,
            hash,
            next: NONE,
            series_ref: 0,
            labels,
            last_iter: iter,
            cur_iter: 0,
            in_prev: false,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = entry;
                id
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        };
        let entries = &self.entries;
        self.index.insert_unique(hash, id, |&i| entries[i as usize].hash);
        id
    }

    pub(crate) fn get_mut(&mut self, id: u32) -> &mut Entry {
        &mut self.entries[id as usize]
    }

    /// The current scrape (in `format`) succeeded: its line order becomes the links.
    pub(crate) fn commit_order(&mut self, format: Format) {
        self.format = Some(format);
        self.first = self.order.first().copied().unwrap_or(NONE);
        for w in self.order.windows(2) {
            self.entries[w[0] as usize].next = w[1];
        }
        if let Some(&last) = self.order.last() {
            self.entries[last as usize].next = NONE;
        }
    }

    /// Live entries.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.len != 0)
    }

    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut Entry> {
        self.entries.iter_mut().filter(|e| e.len != 0)
    }

    /// How many entries the cache holds.
    pub(crate) fn len(&self) -> usize {
        self.entries.len() - self.free.len()
    }

    /// Keeps the entries `keep` returns true for; the others' slots become free. Call after
    /// [`SeriesCache::commit_order`]: a compaction lays the keys out in that scrape's order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&mut Entry) -> bool) {
        for (id, e) in self.entries.iter_mut().enumerate() {
            if e.len == 0 || keep(e) {
                continue;
            }
            let id = id as u32;
            if let Ok(slot) = self.index.find_entry(e.hash, |&i| i == id) {
                slot.remove();
            }
            self.dead += e.len as usize;
            e.len = 0;
            e.labels = None;
            e.next = NONE;
            self.free.push(id);
        }
        if self.dead > 4096 && self.dead * 2 >= self.arena.len() {
            self.compact();
        }
    }

    /// Rewrites the arena with the live keys only: first those of the last committed order,
    /// then the others.
    fn compact(&mut self) {
        let live = self.arena.len() - self.dead;
        let mut arena = Vec::with_capacity(live);
        let mut moved = vec![false; self.entries.len()];
        let rest = (0..self.entries.len() as u32).filter(|&id| self.entries[id as usize].len != 0);
        let ids: Vec<u32> = self.order.iter().copied().chain(rest).collect();
        for id in ids {
            let e = &mut self.entries[id as usize];
            if e.len == 0 || std::mem::replace(&mut moved[id as usize], true) {
                continue;
            }
            let (from, len) = (e.off as usize, e.len as usize);
            e.off = arena.len() as u32;
            arena.extend_from_slice(&self.arena[from..from + len]);
        }
        self.arena = arena;
        self.dead = 0;
    }
}

/// The key bytes of entry `e` (empty for a free slot).
fn key_of<'a>(arena: &'a [u8], e: &Entry) -> &'a [u8] {
    &arena[e.off as usize..(e.off + e.len) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_follow_the_last_committed_order_and_freed_slots_never_hint() {
        let mut c = SeriesCache::new();
        assert_eq!(c.begin(Format::Text), NONE);
        let a = c.insert(b"a", None, 1);
        let b = c.insert(b"b", None, 1);
        assert_eq!(c.visit(a), NONE);
        c.visit(b);
        c.commit_order(Format::Text);
        assert_eq!(c.begin(Format::Text), a);
        assert_eq!(c.begin(Format::OpenMetrics), NONE);
        assert_eq!(c.visit(a), b);
        assert_eq!(c.find(b"b"), Some(b));
        // A scrape that is not committed leaves the links alone.
        c.begin(Format::Text);
        c.visit(b);
        c.visit(a);
        assert_eq!(c.begin(Format::Text), a);
        c.retain(|e| e.last_iter > 1 || e.off != 0);
        assert_eq!(c.find(b"a"), None);
        assert_eq!(c.hint(a), b"");
        assert_eq!(c.values().count(), 1);
        // The free slot is reused.
        assert_eq!(c.insert(b"c", None, 2), a);
        assert_eq!(c.find(b"c"), Some(a));
        assert_eq!(c.find(b"b"), Some(b));
    }

    #[test]
    fn compaction_keeps_every_live_key_findable_and_lays_them_out_in_line_order() {
        let mut c = SeriesCache::new();
        let keys: Vec<Vec<u8>> =
            (0..2000).map(|i| format!("series_{i}{{a=\"b\"}}").into_bytes()).collect();
        c.begin(Format::Text);
        // A quarter of the keys stay (seen in scrape 2), the others leave the cache.
        let stays = |i: usize| i % 4 == 1;
        let ids: Vec<u32> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| c.insert(k, None, if stays(i) { 2 } else { 1 }))
            .collect();
        c.begin(Format::Text);
        for &id in ids.iter().rev().filter(|&&id| stays(id as usize)) {
            c.visit(id);
        }
        c.commit_order(Format::Text);
        c.retain(|e| e.last_iter == 2);
        assert_eq!(c.dead, 0, "compacted");
        let live: usize = keys.iter().skip(1).step_by(4).map(Vec::len).sum();
        assert_eq!(c.arena.len(), live);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(c.find(k), stays(i).then_some(ids[i]), "{i}");
        }
        // The keys are in the committed line order: the last key first.
        assert_eq!(c.hint(c.first), &keys[1997][..]);
        assert_eq!(c.entries[c.first as usize].off, 0);
        assert_eq!(c.hint(c.entries[c.first as usize].next), &keys[1993][..]);
        // New keys go after them; freed slots are reused.
        let id = c.insert(b"new", None, 3);
        assert_eq!(c.hint(id), b"new");
        assert_eq!(c.find(b"new"), Some(id));
    }
}

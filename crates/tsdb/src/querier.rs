//! The querier: selects matching series from every overlapping block and the head, and merges
//! them into one stream sorted by labels. Series are read one at a time, so memory grows with
//! the number of series touched (their labels and chunk references), not with samples.

use std::collections::BTreeSet;
use std::sync::Arc;

use model::{Labels, Matcher, Timestamp};
use storage::{Querier, SampleIterator, SelectHints, Series, SeriesSet, StorageError};

use crate::block::Block;
use crate::db::Db;
use crate::head::SeriesHandle;
use crate::iter::{ChunkSeriesIterator, MergeIterator};

type Source = Box<dyn Iterator<Item = Result<Series, StorageError>> + Send>;

pub struct DbQuerier {
    db: Db,
    blocks: Vec<Arc<Block>>,
    mint: Timestamp,
    maxt: Timestamp,
}

impl DbQuerier {
    pub fn new(db: &Db, mint: Timestamp, maxt: Timestamp) -> DbQuerier {
        let blocks =
            db.inner.blocks.read().iter().filter(|b| b.overlaps(mint, maxt)).cloned().collect();
        DbQuerier { db: db.clone(), blocks, mint, maxt }
    }

    fn block_source(&self, b: &Arc<Block>, matchers: &[Matcher]) -> Result<Source, StorageError> {
        let ids = b.select_ids(matchers).map_err(StorageError::from)?;
        let (mint, maxt) = (self.mint, self.maxt);
        let b = b.clone();
        Ok(Box::new(ids.into_iter().filter_map(move |id| match b.series(id) {
            Err(e) => Some(Err(StorageError::from(e))),
            Ok((labels, chunks)) => {
                let it = b.iterator(id, &chunks, mint, maxt)?;
                Some(Ok(Series { labels, samples: Box::new(it) }))
            }
        })))
    }

    fn head_source(&self, matchers: &[Matcher]) -> Result<Source, StorageError> {
        let head = &self.db.inner.head;
        let list = head.select_sorted(matchers).map_err(StorageError::from)?;
        let mint = self.mint.max(head.query_min());
        let maxt = self.maxt;
        Ok(Box::new(
            list.into_iter()
                .filter_map(move |(labels, _, s)| head_series(labels, &s, mint, maxt).map(Ok)),
        ))
    }
}

fn head_series(labels: Labels, s: &SeriesHandle, mint: i64, maxt: i64) -> Option<Series> {
    if mint > maxt {
        return None;
    }
    let g = s.lock();
    let chunks = g.chunks_in(mint, maxt);
    let ooo = g.ooo_in(mint, maxt);
    drop(g);
    if chunks.is_empty() && ooo.is_empty() {
        return None;
    }
    let it = ChunkSeriesIterator::new(chunks, mint, maxt, Vec::new());
    let samples: Box<dyn SampleIterator> = if ooo.is_empty() {
        Box::new(it)
    } else {
        let n = ooo.len();
        let ooo_it = storage::SliceIterator::new(Arc::from(ooo), 0, n);
        Box::new(MergeIterator::new(vec![Box::new(it), Box::new(ooo_it)]))
    };
    Some(Series { labels, samples })
}

/// Merges sources that are each sorted by labels; series with equal labels are merged.
struct MergeSeriesSet {
    sources: Vec<Source>,
    heads: Vec<Option<Series>>,
    started: bool,
}

impl Iterator for MergeSeriesSet {
    type Item = Result<Series, StorageError>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.started {
            self.started = true;
            for i in 0..self.sources.len() {
                match self.sources[i].next() {
                    Some(Ok(s)) => self.heads[i] = Some(s),
                    Some(Err(e)) => return Some(Err(e)),
                    None => {}
                }
            }
        }
        let min = self.heads.iter().flatten().map(|s| &s.labels).min()?.clone();
        let mut its: Vec<Box<dyn SampleIterator>> = Vec::new();
        for i in 0..self.heads.len() {
            if self.heads[i].as_ref().is_some_and(|s| s.labels == min) {
                if let Some(s) = self.heads[i].take() {
                    its.push(s.samples);
                }
                match self.sources[i].next() {
                    Some(Ok(s)) => self.heads[i] = Some(s),
                    Some(Err(e)) => return Some(Err(e)),
                    None => {}
                }
            }
        }
        let samples = if its.len() == 1 {
            its.pop()?
        } else {
            Box::new(MergeIterator::new(its)) as Box<dyn SampleIterator>
        };
        Some(Ok(Series { labels: min, samples }))
    }
}

impl DbQuerier {
    fn sources(&self, matchers: &[Matcher]) -> Result<Vec<Source>, StorageError> {
        let mut sources = Vec::with_capacity(self.blocks.len() + 1);
        for b in &self.blocks {
            sources.push(self.block_source(b, matchers)?);
        }
        sources.push(self.head_source(matchers)?);
        Ok(sources)
    }

    /// Labels of matching series that have data in range.
    fn matching_labels(&self, matchers: &[Matcher]) -> Result<Vec<Labels>, StorageError> {
        let mut out = Vec::new();
        for s in self.select(true, None, matchers)? {
            out.push(s?.labels);
        }
        Ok(out)
    }
}

impl Querier for DbQuerier {
    fn select(
        &self,
        _sorted: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Result<SeriesSet, StorageError> {
        self.db.check_open()?;
        let sources = self.sources(matchers)?;
        let n = sources.len();
        Ok(Box::new(MergeSeriesSet {
            sources,
            heads: (0..n).map(|_| None).collect(),
            started: false,
        }))
    }

    fn label_values(&self, name: &str, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.db.check_open()?;
        let mut set: BTreeSet<String> = BTreeSet::new();
        if matchers.is_empty() {
            for b in &self.blocks {
                set.extend(b.index.label_values(name));
            }
            set.extend(crate::postings::IndexView::values(&self.db.inner.head, name));
        } else {
            for l in self.matching_labels(matchers)? {
                if let Some(v) = l.get(name) {
                    set.insert(v.to_string());
                }
            }
        }
        Ok(set.into_iter().collect())
    }

    fn label_names(&self, matchers: &[Matcher]) -> Result<Vec<String>, StorageError> {
        self.db.check_open()?;
        let mut set: BTreeSet<String> = BTreeSet::new();
        if matchers.is_empty() {
            for b in &self.blocks {
                set.extend(b.index.label_names());
            }
            set.extend(self.db.inner.head.label_names());
        } else {
            for l in self.matching_labels(matchers)? {
                set.extend(l.iter().map(|l| l.name.to_string()));
            }
        }
        Ok(set.into_iter().collect())
    }
}

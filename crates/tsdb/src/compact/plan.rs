//! The compaction planner: which blocks to merge next, exactly as Prometheus' leveled
//! compactor plans (`tsdb/compact.go`, `plan`, `selectDirs`, `selectOverlappingDirs`,
//! `splitByRange`): overlapping blocks first; otherwise, leaving the newest block out (the one
//! just cut from the head, so a full block range can be backed up without overlaps), the
//! first group of blocks inside one aligned range of each larger size that fills that range or
//! lies wholly before the newest block; otherwise a large block with many tombstones alone.

/// What the planner sees of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanBlock {
    pub min_time: i64,
    pub max_time: i64,
    pub num_series: u64,
    /// Tombstone intervals in the block.
    pub num_tombstones: u64,
    /// A compaction of this block failed before (`meta.json` `compaction.failed`).
    pub failed: bool,
}

/// The indices (into `blocks`, any order) of the blocks to compact into one next, in time
/// order; empty when nothing is due. `ranges` are the block ranges, smallest first (2 h, 6 h,
/// 18 h, ...).
pub fn plan(blocks: &[PlanBlock], ranges: &[i64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..blocks.len()).collect();
    // Prometheus sorts by min time only.
    order.sort_by_key(|&i| blocks[i].min_time);
    let overlapping = select_overlapping(blocks, &order);
    if !overlapping.is_empty() {
        return overlapping;
    }
    // The newest block (largest min time) stays out: it was just cut from the head.
    let Some((_, older)) = order.split_last() else { return Vec::new() };
    let picked = select_dirs(blocks, older, ranges);
    if !picked.is_empty() {
        return picked;
    }
    // A block at least half the largest range long with over 5 % tombstones (per series) is
    // rewritten alone; a smaller one only when every series has a tombstone. Newest first,
    // stopping at the first small block.
    let mid = ranges.get(ranges.len() / 2).copied().unwrap_or(0);
    for &i in older.iter().rev() {
        let b = &blocks[i];
        if b.max_time.saturating_sub(b.min_time) < mid {
            if b.num_tombstones > 0 && b.num_tombstones >= b.num_series {
                return vec![i];
            }
            break;
        }
        if b.num_tombstones as f64 / (b.num_series + 1) as f64 > 0.05 {
            return vec![i];
        }
    }
    Vec::new()
}

/// The first run of blocks (sorted by min time) whose ranges overlap one another.
fn select_overlapping(blocks: &[PlanBlock], order: &[usize]) -> Vec<usize> {
    let mut out = Vec::new();
    let Some(&first) = order.first() else { return out };
    let mut global_max = blocks[first].max_time;
    for w in order.windows(2) {
        let d = &blocks[w[1]];
        if d.min_time < global_max {
            if out.is_empty() {
                out.push(w[0]);
            }
            out.push(w[1]);
        } else if !out.is_empty() {
            break;
        }
        global_max = global_max.max(d.max_time);
    }
    out
}

/// For each range above the smallest, the first group of blocks within one aligned range that
/// either spans that range exactly (gaps allowed) or ends before the newest of `order` starts;
/// at least two blocks, none with a failed compaction.
fn select_dirs(blocks: &[PlanBlock], order: &[usize], ranges: &[i64]) -> Vec<usize> {
    let Some(&last) = order.last() else { return Vec::new() };
    if ranges.len() < 2 {
        return Vec::new();
    }
    let high_time = blocks[last].min_time;
    for &iv in &ranges[1..] {
        for part in split_by_range(blocks, order, iv) {
            if part.iter().any(|&i| blocks[i].failed) {
                continue;
            }
            let mint = blocks[part[0]].min_time;
            let maxt = blocks[part[part.len() - 1]].max_time;
            if (maxt.wrapping_sub(mint) == iv || maxt <= high_time) && part.len() > 1 {
                return part;
            }
        }
    }
    Vec::new()
}

/// Groups consecutive blocks (sorted by min time) by the aligned range of size `tr` holding
/// the group's first block; a block that does not fit in the range its start falls in is
/// skipped. Blocks [0-10, 10-20, 50-60, 90-100] at tr = 30 give [0-10, 10-20], [50-60],
/// [90-100].
fn split_by_range(blocks: &[PlanBlock], order: &[usize], tr: i64) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    if tr <= 0 {
        return out;
    }
    let mut i = 0;
    while i < order.len() {
        let m = &blocks[order[i]];
        // The start of the aligned range of size tr holding m's start (floor division).
        let t0 = m.min_time.div_euclid(tr).saturating_mul(tr);
        let end = t0.saturating_add(tr);
        if m.max_time > end {
            i += 1;
            continue;
        }
        let mut group = Vec::new();
        while i < order.len() && blocks[order[i]].max_time <= end {
            group.push(order[i]);
            i += 1;
        }
        if !group.is_empty() {
            out.push(group);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(min_time: i64, max_time: i64) -> PlanBlock {
        PlanBlock { min_time, max_time, ..PlanBlock::default() }
    }

    fn with_stones(mut p: PlanBlock, num_series: u64, num_tombstones: u64) -> PlanBlock {
        p.num_series = num_series;
        p.num_tombstones = num_tombstones;
        p
    }

    /// Prometheus' `TestLeveledCompactor/plan` scenarios, ranges 20 × 3^n: the picked blocks'
    /// names (1-based positions in the input).
    #[test]
    fn plans_as_prometheus_does() {
        let ranges = [20, 60, 180, 540, 1620];
        let cases: Vec<(&str, Vec<PlanBlock>, Vec<usize>)> = vec![
            ("outside range", vec![b(0, 20)], vec![]),
            ("wait for four blocks of 20", vec![b(0, 20), b(20, 40)], vec![]),
            ("three, but the fresh one is ignored", vec![b(0, 20), b(20, 40), b(40, 60)], vec![]),
            (
                "a block to fill the parent range appeared",
                vec![b(0, 20), b(20, 40), b(40, 60), b(60, 80)],
                vec![1, 2, 3],
            ),
            (
                "next parent range with a gap, fresh ignored",
                vec![b(0, 20), b(20, 40), b(60, 80)],
                vec![],
            ),
            (
                "gap of 20 between the second and third: compact the two",
                vec![b(0, 20), b(20, 40), b(60, 80), b(80, 100)],
                vec![1, 2],
            ),
            (
                "20, 20, 20, 60, 60 with the last one fresh",
                vec![b(0, 20), b(20, 40), b(40, 60), b(60, 120), b(120, 180)],
                vec![1, 2, 3],
            ),
            (
                "20, 60, 20 (fresh), 60, 240: compact 20 + 60 + 60",
                vec![b(20, 40), b(60, 120), b(960, 980), b(120, 180), b(720, 960)],
                vec![1, 2, 4],
            ),
            (
                "no large block with tombstones when there is no fresh block",
                vec![with_stones(b(0, 540), 10, 3)],
                vec![],
            ),
            (
                "a large block with tombstones when a fresh one appears",
                vec![with_stones(b(0, 540), 10, 3), b(540, 560)],
                vec![1],
            ),
            (
                "small blocks keep their tombstones",
                vec![with_stones(b(0, 60), 10, 3), b(60, 80)],
                vec![],
            ),
            (
                "no loop on a large block without series or tombstones",
                vec![with_stones(b(0, 540), 0, 0), b(540, 560)],
                vec![],
            ),
            (
                "the fresh block is the one with the largest min time, not the last listed",
                vec![b(0, 360), b(540, 560), b(360, 420), b(420, 540)],
                vec![3, 4],
            ),
            ("overlapping 1", vec![b(0, 20), b(19, 40), b(40, 60)], vec![1, 2]),
            ("overlapping 2", vec![b(0, 20), b(20, 40), b(30, 50)], vec![2, 3]),
            ("overlapping 3", vec![b(0, 20), b(10, 40), b(30, 50)], vec![1, 2, 3]),
            (
                "overlapping 4",
                vec![b(0, 360), b(340, 560), b(360, 420), b(420, 540)],
                vec![1, 2, 3, 4],
            ),
            (
                "overlapping 5: only the first run",
                vec![b(0, 10), b(9, 20), b(30, 40), b(39, 50)],
                vec![1, 2],
            ),
        ];
        for (name, blocks, want) in cases {
            let got: Vec<usize> = plan(&blocks, &ranges).iter().map(|i| i + 1).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    /// Prometheus' `TestRangeWithFailedCompactionWontGetSelected`: a range holding a block
    /// whose compaction failed is not picked.
    #[test]
    fn a_range_with_a_failed_block_is_not_picked() {
        let ranges = [20, 60, 240, 720, 2160];
        for mut blocks in [
            vec![b(0, 20), b(20, 40), b(40, 60), b(60, 80)],
            vec![b(0, 20), b(20, 40), b(60, 80), b(80, 100)],
            vec![b(0, 20), b(20, 40), b(40, 60), b(60, 120), b(120, 180), b(180, 200)],
        ] {
            assert!(!plan(&blocks, &ranges).is_empty(), "{blocks:?}");
            blocks[1].failed = true;
            assert_eq!(plan(&blocks, &ranges), Vec::<usize>::new(), "{blocks:?}");
        }
    }

    /// Prometheus' `TestSplitByRange`.
    #[test]
    fn splits_by_aligned_range() {
        type Case = (i64, Vec<(i64, i64)>, Vec<Vec<(i64, i64)>>);
        let cases: Vec<Case> = vec![
            (60, vec![(0, 10)], vec![vec![(0, 10)]]),
            (60, vec![(0, 60)], vec![vec![(0, 60)]]),
            (60, vec![(0, 10), (9, 15), (30, 60)], vec![vec![(0, 10), (9, 15), (30, 60)]]),
            (
                60,
                vec![(70, 90), (125, 130), (130, 180), (1000, 1001)],
                vec![vec![(70, 90)], vec![(125, 130), (130, 180)], vec![(1000, 1001)]],
            ),
            // Misaligned or too large blocks are left out.
            (60, vec![(50, 70), (70, 80)], vec![vec![(70, 80)]]),
            (72, vec![(0, 144), (144, 216), (216, 288)], vec![vec![(144, 216)], vec![(216, 288)]]),
            // Negative times.
            (60, vec![(-10, -5)], vec![vec![(-10, -5)]]),
            (60, vec![(-60, -50), (-10, -5)], vec![vec![(-60, -50), (-10, -5)]]),
            (
                60,
                vec![(-60, -50), (-10, -5), (0, 15)],
                vec![vec![(-60, -50), (-10, -5)], vec![(0, 15)]],
            ),
        ];
        for (tr, input, want) in cases {
            let blocks: Vec<PlanBlock> = input.iter().map(|&(a, z)| b(a, z)).collect();
            let order: Vec<usize> = (0..blocks.len()).collect();
            let got: Vec<Vec<(i64, i64)>> = split_by_range(&blocks, &order, tr)
                .into_iter()
                .map(|g| g.into_iter().map(|i| (blocks[i].min_time, blocks[i].max_time)).collect())
                .collect();
            assert_eq!(got, want, "tr {tr}, {input:?}");
        }
    }
}

//! Database options, with Prometheus' defaults.

/// When the WAL is fsynced. Records are always written to the segment file (and so survive a
/// process crash) before a commit returns; this only decides when they reach stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalSync {
    /// fsync on every commit (survives power loss, slowest).
    Always,
    /// fsync at most every `ms` milliseconds, at commits and in [`crate::Db::maintain`].
    Batched { ms: u64 },
}

/// How WAL records are compressed (`--storage.tsdb.wal-compression` and
/// `--storage.tsdb.wal-compression-type`). Replay reads all three, whatever is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WalCompression {
    /// Records are written as they are.
    None,
    /// Snappy, Prometheus' default. With its tables out of the CPU caches, as each scrape's
    /// commit finds them, it compresses a scrape's record in a quarter to a third of the CPU
    /// zstd takes at level -1 (3.4 against 13 ns a sample on node_exporter-like values, 10.6
    /// against 27 ns on loadgen's) for 7-12 % more bytes (`benches/wal.rs`).
    #[default]
    Snappy,
    /// zstd at level -1.
    Zstd,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Length of head blocks (`--storage.tsdb.min-block-duration`), default 2 h.
    pub block_range_ms: i64,
    /// Largest compacted block; `None` means min(31 d, 10 % of the time retention).
    pub max_block_range_ms: Option<i64>,
    /// Time retention (`--storage.tsdb.retention.time`); 0 disables. Default 15 d.
    pub retention_ms: i64,
    /// Size retention (`--storage.tsdb.retention.size`) in bytes; 0 disables.
    pub retention_bytes: u64,
    /// `storage.tsdb.out_of_order_time_window`; 0 rejects out-of-order samples.
    pub out_of_order_time_window_ms: i64,
    /// WAL segment size, default 128 MiB.
    pub wal_segment_size: u64,
    pub wal_sync: WalSync,
    pub wal_compression: WalCompression,
    /// Most series the head holds (`--storage.tsdb.max-series`); an append that would create
    /// another fails with a limit error, existing series still take samples. `None` or
    /// `Some(0)`: unlimited.
    pub max_series: Option<usize>,
    /// Blocks written by compaction use Pharos' dense chunk encoding (default); `false` keeps
    /// every block in Prometheus' XOR chunks. `pharos tsdb export` always writes XOR.
    pub dense_compaction: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            block_range_ms: 2 * 3600 * 1000,
            max_block_range_ms: None,
            retention_ms: 15 * 24 * 3600 * 1000,
            retention_bytes: 0,
            out_of_order_time_window_ms: 0,
            wal_segment_size: crate::wal::DEFAULT_SEGMENT_SIZE,
            wal_sync: WalSync::Batched { ms: 1000 },
            wal_compression: WalCompression::default(),
            max_series: None,
            dense_compaction: true,
        }
    }
}

impl Options {
    /// The block ranges compaction produces: the head range times 3, 9, ... up to the maximum.
    pub fn compaction_ranges(&self) -> Vec<i64> {
        let max = self.max_block_range_ms.unwrap_or_else(|| {
            let month = 31 * 24 * 3600 * 1000;
            if self.retention_ms > 0 { (self.retention_ms / 10).min(month) } else { month }
        });
        let mut out = vec![self.block_range_ms];
        let mut r = self.block_range_ms;
        for _ in 0..9 {
            r = r.saturating_mul(3);
            if r > max {
                break;
            }
            out.push(r);
        }
        out
    }
}

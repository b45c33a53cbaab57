//! A block's `meta.json`: identity, time range (`maxTime` exclusive), stats and compaction
//! lineage, with the field names Prometheus uses.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, TsdbError};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BlockStats {
    #[serde(rename = "numSamples", default)]
    pub num_samples: u64,
    #[serde(rename = "numSeries", default)]
    pub num_series: u64,
    #[serde(rename = "numChunks", default)]
    pub num_chunks: u64,
    #[serde(rename = "numTombstones", default, skip_serializing_if = "is_zero")]
    pub num_tombstones: u64,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BlockDesc {
    pub ulid: String,
    #[serde(rename = "minTime")]
    pub min_time: i64,
    #[serde(rename = "maxTime")]
    pub max_time: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Compaction {
    pub level: u32,
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<BlockDesc>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deletable: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
}

/// The contents of `meta.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BlockMeta {
    pub ulid: String,
    #[serde(rename = "minTime")]
    pub min_time: i64,
    #[serde(rename = "maxTime")]
    pub max_time: i64,
    #[serde(default)]
    pub stats: BlockStats,
    #[serde(default)]
    pub compaction: Compaction,
    pub version: u32,
}

impl BlockMeta {
    pub fn read(dir: &Path) -> Result<BlockMeta> {
        let path = dir.join("meta.json");
        let b = std::fs::read(&path).map_err(|e| TsdbError::io(format!("read {path:?}"), e))?;
        let m: BlockMeta = serde_json::from_slice(&b)
            .map_err(|e| TsdbError::corrupted(format!("{path:?}"), e.to_string()))?;
        if m.version != 1 {
            return Err(TsdbError::corrupted(format!("{path:?}"), "unsupported meta version"));
        }
        Ok(m)
    }

    /// Writes `meta.json` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        // Tab-indented, as Prometheus writes it.
        let mut json = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut ser = serde_json::Serializer::with_formatter(&mut json, fmt);
        self.serialize(&mut ser)
            .map_err(|e| TsdbError::InvalidArgument(format!("encode meta: {e}")))?;
        let tmp = dir.join("meta.json.tmp");
        let mut f =
            std::fs::File::create(&tmp).map_err(|e| TsdbError::io(format!("create {tmp:?}"), e))?;
        f.write_all(&json)
            .and_then(|_| f.sync_all())
            .map_err(|e| TsdbError::io("write meta", e))?;
        std::fs::rename(&tmp, dir.join("meta.json")).map_err(|e| TsdbError::io("rename meta", e))
    }
}

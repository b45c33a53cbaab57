//! Durable state: silences, the notification log and the active alerts, persisted as a
//! snapshot plus an append-only log of JSON lines in the storage directory.
//!
//! Files: `state.snapshot` (all live records, rewritten atomically via rename) and
//! `state.log` (records appended since). Opening replays both (a torn last line from a crash
//! is ignored), then writes a fresh snapshot and empties the log. Each record is one line;
//! a batch is written with one `write` call, so a killed process loses at most the batch
//! being written.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use model::Labels;
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::error::Error;
use crate::nflog::{NflogEntry, NflogKey};
use crate::silence::Silence;

/// An alert as persisted.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AlertRecord {
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub generator_url: String,
    pub updated_at: i64,
    pub timeout: bool,
}

fn pairs(l: &Labels) -> Vec<(String, String)> {
    l.iter().map(|l| (l.name.to_string(), l.value.to_string())).collect()
}

impl AlertRecord {
    pub fn from_alert(a: &Alert) -> AlertRecord {
        AlertRecord {
            labels: pairs(&a.labels),
            annotations: pairs(&a.annotations),
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            generator_url: a.generator_url.clone(),
            updated_at: a.updated_at,
            timeout: a.timeout,
        }
    }

    pub fn into_alert(self) -> Alert {
        Alert {
            labels: Labels::new(self.labels),
            annotations: Labels::new(self.annotations),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            generator_url: self.generator_url,
            updated_at: self.updated_at,
            timeout: self.timeout,
        }
    }
}

/// One line of the state files.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Record {
    Alert {
        fp: u64,
        alert: AlertRecord,
    },
    /// A resend of a stored alert that changed only its times.
    AlertRefresh {
        fp: u64,
        starts_at: i64,
        ends_at: i64,
        updated_at: i64,
        timeout: bool,
    },
    AlertDeleted {
        fp: u64,
    },
    Silence {
        silence: Silence,
    },
    SilenceDeleted {
        id: String,
    },
    Nflog {
        key: NflogKey,
        entry: NflogEntry,
    },
}

/// A label set written as `[["name","value"],...]` without copying (the shape of
/// [`AlertRecord::labels`]).
#[derive(Clone, Copy, Debug)]
pub struct LabelsOut<'a>(pub &'a Labels);

impl Serialize for LabelsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for l in self.0.iter() {
            seq.serialize_element(&(&*l.name, &*l.value))?;
        }
        seq.end()
    }
}

/// An alert written without copying; reads back as [`AlertRecord`].
#[derive(Clone, Copy, Debug, Serialize)]
pub struct AlertOut<'a> {
    pub labels: LabelsOut<'a>,
    pub annotations: LabelsOut<'a>,
    pub starts_at: i64,
    pub ends_at: i64,
    pub generator_url: &'a str,
    pub updated_at: i64,
    pub timeout: bool,
}

impl<'a> AlertOut<'a> {
    pub fn new(a: &'a Alert) -> AlertOut<'a> {
        AlertOut {
            labels: LabelsOut(&a.labels),
            annotations: LabelsOut(&a.annotations),
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            generator_url: &a.generator_url,
            updated_at: a.updated_at,
            timeout: a.timeout,
        }
    }
}

/// A record as written: borrows instead of copying; reads back as [`Record`].
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum RecordOut<'a> {
    Alert { fp: u64, alert: AlertOut<'a> },
    AlertRefresh { fp: u64, starts_at: i64, ends_at: i64, updated_at: i64, timeout: bool },
    AlertDeleted { fp: u64 },
    Silence { silence: &'a Silence },
    SilenceDeleted { id: &'a str },
    Nflog { key: &'a NflogKey, entry: &'a NflogEntry },
}

/// The open state directory.
#[derive(Debug)]
pub struct StateLog {
    dir: PathBuf,
    log: File,
    pending: Vec<u8>,
    records_in_log: usize,
}

fn state_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::State { path: path.display().to_string(), message: e.to_string() }
}

fn read_records(path: &Path, out: &mut Vec<Record>) -> Result<(), Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(state_err(path, e)),
    };
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| state_err(path, e))?;
        // A torn final line (crash mid-write) does not parse; everything before it does.
        match serde_json::from_str::<Record>(&line) {
            Ok(r) => out.push(r),
            Err(_) => break,
        }
    }
    Ok(())
}

impl StateLog {
    /// Opens (creating) the directory and returns the records to replay, in order.
    pub fn open(dir: &Path) -> Result<(StateLog, Vec<Record>), Error> {
        std::fs::create_dir_all(dir).map_err(|e| state_err(dir, e))?;
        let mut records = Vec::new();
        read_records(&dir.join("state.snapshot"), &mut records)?;
        read_records(&dir.join("state.log"), &mut records)?;
        let log_path = dir.join("state.log");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| state_err(&log_path, e))?;
        Ok((
            StateLog {
                dir: dir.to_path_buf(),
                log,
                pending: Vec::new(),
                records_in_log: records.len(),
            },
            records,
        ))
    }

    /// Queues a record; it is written by the next [`StateLog::flush`].
    pub fn append(&mut self, r: &RecordOut<'_>) {
        if serde_json::to_writer(&mut self.pending, r).is_ok() {
            self.pending.push(b'\n');
            self.records_in_log += 1;
        }
    }

    /// Writes queued records with one write call.
    pub fn flush(&mut self) -> Result<(), Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let res = self.log.write_all(&self.pending);
        self.pending.clear();
        res.map_err(|e| state_err(&self.dir.join("state.log"), e))
    }

    /// Records appended since the last snapshot.
    pub fn records_in_log(&self) -> usize {
        self.records_in_log
    }

    /// Writes `live` as the new snapshot (atomically) and empties the log.
    pub fn snapshot<'a>(&mut self, live: impl Iterator<Item = RecordOut<'a>>) -> Result<(), Error> {
        self.flush()?;
        let tmp = self.dir.join("state.snapshot.tmp");
        let mut buf = Vec::new();
        for r in live {
            serde_json::to_writer(&mut buf, &r).map_err(|e| state_err(&tmp, e))?;
            buf.push(b'\n');
        }
        let mut f = File::create(&tmp).map_err(|e| state_err(&tmp, e))?;
        f.write_all(&buf).and_then(|_| f.sync_all()).map_err(|e| state_err(&tmp, e))?;
        let snap = self.dir.join("state.snapshot");
        std::fs::rename(&tmp, &snap).map_err(|e| state_err(&snap, e))?;
        let log_path = self.dir.join("state.log");
        self.log = File::create(&log_path).map_err(|e| state_err(&log_path, e))?;
        self.records_in_log = 0;
        Ok(())
    }
}

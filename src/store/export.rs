//! `loudhailer export` / `import-state`: the whole store as JSON Lines, and back.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{codec, watch_key, AccountState, Store, StoreError, FORMAT_VERSION};
use crate::follow::WatchState;
use crate::job::{JobId, JobRecord};
use crate::plan::Adjustments;

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ExportLine {
    /// The first line.
    Header {
        format: u32,
        event: Option<String>,
    },
    Job {
        value: Box<JobRecord>,
    },
    Account {
        id: String,
        value: AccountState,
    },
    Adjustments {
        value: Adjustments,
    },
    Metric {
        job: JobId,
        at: DateTime<Utc>,
        value: serde_json::Value,
    },
    /// Where a `[[follow]]` watch has read up to.
    Watch {
        key: String,
        value: WatchState,
    },
}

impl Store {
    /// Writes every record as one JSON object per line; returns how many lines. Network
    /// sessions (Bluesky's tokens, X's OAuth 2.0 tokens) are left out: an export is a file a person handles, and a
    /// restored state signs in again once.
    pub fn export(&self, out: &mut impl Write) -> Result<usize, StoreError> {
        let io = |source| StoreError::Io { dir: self.dir.clone().unwrap_or_default(), source };
        let mut lines = vec![ExportLine::Header {
            format: FORMAT_VERSION,
            event: self.meta.get("event")?.map(|v| String::from_utf8_lossy(&v).into_owned()),
        }];
        lines.extend(self.jobs()?.into_iter().map(|value| ExportLine::Job { value: Box::new(value) }));
        for item in self.accounts.iter() {
            let (k, v) = item?;
            let mut value: AccountState = codec::decode("accounts", &k, &v)?;
            value.session = None;
            lines.push(ExportLine::Account { id: String::from_utf8_lossy(&k).into_owned(), value });
        }
        lines.push(ExportLine::Adjustments { value: self.adjustments()? });
        for (job, at, value) in self.metrics::<serde_json::Value>()? {
            lines.push(ExportLine::Metric { job, at, value });
        }
        for (key, value) in self.watch_states()? {
            lines.push(ExportLine::Watch { key, value });
        }
        for line in &lines {
            serde_json::to_writer(&mut *out, line).map_err(|e| io(e.into()))?;
            out.write_all(b"\n").map_err(io)?;
        }
        out.flush().map_err(io)?;
        Ok(lines.len())
    }

    /// Restores an export into this store, which must be empty. Nothing is written unless
    /// every line reads.
    pub fn import(&self, input: impl BufRead) -> Result<usize, StoreError> {
        if !self.is_empty()? {
            return Err(StoreError::NotEmpty { dir: self.dir.clone().unwrap_or_default() });
        }
        let mut parsed = Vec::new();
        for (i, line) in input.lines().enumerate() {
            let line = line.map_err(|e| StoreError::Import { line: i + 1, why: e.to_string() })?;
            if line.trim().is_empty() {
                continue;
            }
            let value: ExportLine =
                serde_json::from_str(&line).map_err(|e| StoreError::Import { line: i + 1, why: e.to_string() })?;
            if i == 0 && !matches!(value, ExportLine::Header { .. }) {
                return Err(StoreError::Import { line: 1, why: "not a loudhailer export (no header line)".into() });
            }
            if let ExportLine::Header { format, .. } = &value {
                if *format > FORMAT_VERSION {
                    return Err(StoreError::Import {
                        line: i + 1,
                        why: format!("format {format} is newer than this loudhailer reads ({FORMAT_VERSION})"),
                    });
                }
            }
            parsed.push(value);
        }
        if parsed.is_empty() {
            return Err(StoreError::Import { line: 1, why: "the export is empty".into() });
        }
        let count = parsed.len();
        for line in parsed {
            match line {
                ExportLine::Header { event, .. } => {
                    if let Some(e) = event {
                        self.meta.insert("event", e.as_bytes())?;
                    }
                }
                ExportLine::Job { value } => self.put_job(&value)?,
                ExportLine::Account { id, value } => {
                    self.accounts.insert(id.as_bytes(), codec::encode(&value))?;
                }
                ExportLine::Adjustments { value } => {
                    self.meta.insert("adjustments", codec::encode(&value))?;
                }
                ExportLine::Metric { job, at, value } => self.append_metric(&job, at, &value)?,
                ExportLine::Watch { key, value } => {
                    self.meta.insert(watch_key(&key), codec::encode(&value))?;
                }
            }
        }
        self.flush()?;
        Ok(count)
    }
}

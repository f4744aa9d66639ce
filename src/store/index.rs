//! Beside the jobs, the `due` tree lists the unsettled ones by the minute they may go in (key:
//! the minute's first instant; value: the ids, each ended by a 0xff byte, which UTF-8 never
//! holds), so the engine reads only what is due soon instead of every job. One key per minute
//! instead of one per job: sled keeps at most 16 keys in a leaf, so each key costs it a share
//! of a page (about 300 bytes resident once the store is open, and 6 µs to insert in order),
//! and a job-per-key index doubled both for the whole plan (BENCHMARKS.md). Ids are appended
//! with sled's merge (atomic against other writers). The entry is written before the job it
//! points at (sled recovers writes in order, so a job that survives a crash has its entry),
//! and never needs deleting with care: an id whose job has settled, or moved to another
//! minute, is dropped when a read meets it ([`Store::due_until`]).
//!
//! The `done` tree lists, the same way, the jobs that went out (key: the id; no value), so the
//! engagement collector reads those without decoding every pending job: a scan of the whole
//! `jobs` tree pulls every node of it into sled's cache, which keeps it long after.
//!
//! The `went` log notes each job as it enters `done` (key: a sequence number from sled; value:
//! the id), and its one reader, the collector, forgets what it has read: a wake reads the few
//! jobs that went out since the last one without walking `done` or keeping the ids it has seen.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Store, StoreError};
use crate::job::{JobId, JobRecord, JobState};

impl Store {
    /// A store written before the `due` tree existed, or with one key per job (format 2),
    /// gets it, once, from its jobs.
    pub(super) fn build_due(&self) -> Result<(), StoreError> {
        if self.meta.get(DUE_BUILT)?.is_some() {
            return Ok(());
        }
        self.due.clear()?;
        let mut records = Vec::new();
        for r in self.each_job() {
            let r = r?;
            if due_key(&r).is_some() {
                records.push(r);
            }
            if records.len() == PLANNED_BATCH {
                self.put_due(&records)?;
                records.clear();
            }
        }
        self.put_due(&records)?;
        self.meta.insert(DUE_BUILT, &[1u8])?;
        self.flush()
    }

    /// A store written before the `done` tree existed gets it, once, from its jobs.
    pub(super) fn build_done(&self) -> Result<(), StoreError> {
        if self.meta.get(DONE_BUILT)?.is_some() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for r in self.each_job() {
            let r = r?;
            if r.state == JobState::Done {
                batch.insert(r.spec.id.as_str(), &[] as &[u8]);
            }
        }
        self.done.apply_batch(batch)?;
        self.meta.insert(DONE_BUILT, &[1u8])?;
        self.flush()
    }

    /// The `due` entries of `records` (written before the records; their `done` entries are
    /// [`Store::put_done`]'s): one append per minute they fall in.
    pub(super) fn put_due(&self, records: &[JobRecord]) -> Result<(), StoreError> {
        // By minute (stable: a minute's ids in the order given), each minute's ids in one
        // buffer of its size.
        let mut keyed: Vec<([u8; 8], &JobId)> =
            records.iter().filter_map(|r| due_key(r).map(|key| (key, &r.spec.id))).collect();
        keyed.sort_by_key(|(key, _)| *key);
        for minute in keyed.chunk_by(|a, b| a.0 == b.0) {
            let mut ids = Vec::with_capacity(minute.iter().map(|(_, id)| id.as_str().len() + 1).sum());
            for (_, id) in minute {
                due_entry(&mut ids, id);
            }
            self.due.merge(minute[0].0, ids)?;
        }
        Ok(())
    }

    /// A job's `done` entry as its record says (written before the record): a job that has
    /// just gone out enters `done` and is noted in the `went` log; one no longer done (changed
    /// by hand) leaves `done`, so going again notes it again.
    pub(super) fn put_done(&self, record: &JobRecord) -> Result<(), StoreError> {
        let id = record.spec.id.as_str();
        if record.state == JobState::Done {
            if self.done.insert(id, &[] as &[u8])?.is_none() {
                self.went.insert(self.db.generate_id()?.to_be_bytes(), id.as_bytes())?;
            }
        } else {
            // A no-op in sled when there is no entry (nearly always).
            self.done.remove(id)?;
        }
        Ok(())
    }

    /// The jobs that went out since the entries were last forgotten, in the order they went:
    /// each with its entry's key for [`Store::forget_went`]. The log is read whole and holds
    /// only what its reader has not yet taken; a job is in it once per time it went out.
    pub fn went(&self) -> Result<Vec<(u64, JobId)>, StoreError> {
        let mut out = Vec::new();
        for item in self.went.iter() {
            let (k, v) = item?;
            let (Ok(seq), Ok(id)) = (<[u8; 8]>::try_from(&k[..]), std::str::from_utf8(&v)) else {
                // Not written by loudhailer: dropped, as a damaged index entry is.
                self.went.remove(k)?;
                continue;
            };
            out.push((u64::from_be_bytes(seq), JobId(id.to_string())));
        }
        Ok(out)
    }

    /// Drops the `went` entries that were read (entries written since stay).
    pub fn forget_went(&self, keys: impl IntoIterator<Item = u64>) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for k in keys {
            batch.remove(&k.to_be_bytes());
        }
        self.went.apply_batch(batch)?;
        Ok(())
    }

    /// The jobs that went out, in id order, read from their records (entries whose job is not
    /// done, or gone, are skipped).
    pub fn done_jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.done.iter() {
            let (key, _) = item?;
            let Ok(id) = std::str::from_utf8(&key) else { continue };
            if let Some(r) = self.job(&JobId(id.to_string()))?.filter(|r| r.state == JobState::Done) {
                out.push(r);
            }
        }
        Ok(out)
    }

    /// The unsettled jobs that may go before `until` (in time order, then by id), read from
    /// their records; `after`: only those after this instant (exclusive); to the millisecond.
    /// Ids whose job has settled, moved to another minute or gone are dropped on the way.
    pub fn due_until(&self, after: Option<DateTime<Utc>>, until: DateTime<Utc>) -> Result<Vec<JobRecord>, StoreError> {
        let after_ms = after.map(|t| t.timestamp_millis());
        let until_ms = until.timestamp_millis();
        let start = match after {
            Some(t) => std::ops::Bound::Included(minute_key(t)),
            None => std::ops::Bound::Unbounded,
        };
        let end = std::ops::Bound::Included(minute_key(until));
        let mut out = Vec::new();
        for item in self.due.range::<[u8; 8], _>((start, end)) {
            let (key, ids) = item?;
            for r in self.live_in_minute(&key, &ids)? {
                let ms = r.ready_at().timestamp_millis();
                if after_ms.is_none_or(|a| ms > a) && ms <= until_ms {
                    out.push(r);
                }
            }
        }
        out.sort_by(|a, b| {
            (a.ready_at().timestamp_millis(), &a.spec.id).cmp(&(b.ready_at().timestamp_millis(), &b.spec.id))
        });
        Ok(out)
    }

    /// When the first unsettled job after `after` may go, if any (to the millisecond).
    pub fn next_due_after(&self, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let after_ms = after.timestamp_millis();
        let start = std::ops::Bound::Included(minute_key(after));
        for item in self.due.range::<[u8; 8], _>((start, std::ops::Bound::Unbounded)) {
            let (key, ids) = item?;
            let first = self
                .live_in_minute(&key, &ids)?
                .iter()
                .map(|r| r.ready_at())
                .filter(|t| t.timestamp_millis() > after_ms)
                .min();
            if first.is_some() {
                return Ok(first);
            }
        }
        Ok(None)
    }

    /// The jobs of one minute's `due` entry that are still due in that minute (each once),
    /// dropping the ids that are not: an id is removed as many times as it was read, so one
    /// appended meanwhile (a job moved back into this minute) stays.
    fn live_in_minute(&self, key: &[u8], ids: &[u8]) -> Result<Vec<JobRecord>, StoreError> {
        if key.len() != 8 {
            // Not a minute's key: not written by loudhailer, dropped as a damaged entry is.
            self.due.remove(key)?;
            return Ok(Vec::new());
        }
        let mut seen: HashMap<&[u8], usize> = HashMap::new();
        for id in ids.split(|b| *b == SEP).filter(|id| !id.is_empty()) {
            *seen.entry(id).or_default() += 1;
        }
        let mut live = Vec::new();
        // How many times each id is to be removed.
        let mut stale: HashMap<&[u8], usize> = HashMap::new();
        for (id, n) in seen {
            let record = match std::str::from_utf8(id) {
                Ok(text) => self.job(&JobId(text.to_string()))?,
                // Not written by loudhailer: dropped, as a stale id is.
                Err(_) => None,
            };
            match record {
                Some(r) if due_key(&r).as_ref().map(|k| &k[..]) == Some(key) => {
                    if n > 1 {
                        stale.insert(id, n - 1);
                    }
                    live.push(r);
                }
                _ => {
                    stale.insert(id, n);
                }
            }
        }
        if !stale.is_empty() {
            self.due.update_and_fetch(key, |old| {
                let mut left = stale.clone();
                let mut kept = Vec::new();
                for id in old?.split(|b| *b == SEP).filter(|id| !id.is_empty()) {
                    match left.get_mut(id) {
                        Some(n) if *n > 0 => *n -= 1,
                        _ => {
                            kept.extend_from_slice(id);
                            kept.push(SEP);
                        }
                    }
                }
                (!kept.is_empty()).then_some(kept)
            })?;
        }
        Ok(live)
    }

    /// Stores what a merge of the plan wrote, and flushes: in batches of [`PLANNED_BATCH`], not
    /// atomically as a whole. A plan cut short by a crash is safe: the merge never rewrites a
    /// job that went out, and the next start plans again and its merge writes what is missing
    /// (plan::tests, `merge_completes_a_partly_stored_plan`). One sled batch of 100,000 jobs costs twice the
    /// time and twice the disk of the same jobs in batches of a thousand (BENCHMARKS.md).
    pub fn put_planned(&self, records: &[JobRecord]) -> Result<(), StoreError> {
        self.put_due(records)?;
        // Only done records can change `done` here: the merge never writes a job that went out
        // as anything else, so the pending ones (nearly all) need no lookup.
        for r in records.iter().filter(|r| r.state == JobState::Done) {
            self.put_done(r)?;
        }
        // One compare-and-swap per group, in key order: sled splits and writes each leaf once
        // instead of again and again, and a job a running engine writes meanwhile is kept.
        for (key, jobs) in super::jobs::encode_by_group(records.iter()) {
            self.write_group(key, &super::jobs::borrowed(&jobs))?;
        }
        self.flush()
    }
}

/// Set once the `due` tree holds every unsettled job, by minute (format 3).
pub(super) const DUE_BUILT: &str = "due-built-by-minute";

/// Set once the `done` tree holds every job that went out.
pub(super) const DONE_BUILT: &str = "done-built";

/// The `due` key of the minute an instant falls in: its first millisecond, as 8 bytes that
/// sort as the instants do (sign bit flipped).
pub(super) fn minute_key(t: DateTime<Utc>) -> [u8; 8] {
    let ms = t.timestamp_millis();
    let minute = ms - ms.rem_euclid(MINUTE_MS);
    ((minute as u64) ^ (1 << 63)).to_be_bytes()
}

const MINUTE_MS: i64 = 60_000;

/// Ends each id in a `due` value; never in UTF-8.
const SEP: u8 = 0xff;

fn due_entry(ids: &mut Vec<u8>, id: &JobId) {
    ids.extend_from_slice(id.as_str().as_bytes());
    ids.push(SEP);
}

/// The key of a job's `due` entry: the minute it may go in; none once it has settled.
pub(super) fn due_key(r: &JobRecord) -> Option<[u8; 8]> {
    (!r.state.is_settled()).then(|| minute_key(r.ready_at()))
}

/// The `due` tree's merge: ids appended to those already there.
pub(super) fn append_ids(_key: &[u8], old: Option<&[u8]>, new: &[u8]) -> Option<Vec<u8>> {
    let mut out = old.map(<[u8]>::to_vec).unwrap_or_default();
    out.extend_from_slice(new);
    Some(out)
}

/// How many planned jobs [`Store::put_planned`] writes in one sled batch.
pub const PLANNED_BATCH: usize = 1000;

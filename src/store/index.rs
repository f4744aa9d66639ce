//! Beside the jobs, the `due` tree lists the unsettled ones by when they may go (key: the
//! instant, then the id; no value), so the engine reads only what is due soon instead of every
//! job. It is written before the job it points at (sled recovers writes in order, so a job that
//! survives a crash has its entry), and never needs deleting with care: an entry whose job has
//! settled, or moved, is dropped when a range read meets it ([`Store::due_until`]).
//!
//! The `done` tree lists, the same way, the jobs that went out (key: the id; no value), so the
//! engagement collector reads those without decoding every pending job: a scan of the whole
//! `jobs` tree pulls every node of it into sled's cache, which keeps it long after.
//!
//! The `went` log notes each job as it enters `done` (key: a sequence number from sled; value:
//! the id), and its one reader, the collector, forgets what it has read: a wake reads the few
//! jobs that went out since the last one without walking `done` or keeping the ids it has seen.

use chrono::{DateTime, Utc};

use super::{record, Store, StoreError};
use crate::job::{JobId, JobRecord, JobState};

impl Store {
    /// A store written before the `due` tree existed gets it, once, from its jobs.
    pub(super) fn build_due(&self) -> Result<(), StoreError> {
        if self.meta.get(DUE_BUILT)?.is_some() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for item in self.jobs.iter() {
            let (k, v) = item?;
            let r = record::decode(&k, &v)?;
            if let Some(key) = due_key(&r) {
                batch.insert(key, &[] as &[u8]);
            }
        }
        self.due.apply_batch(batch)?;
        self.meta.insert(DUE_BUILT, &[1u8])?;
        self.flush()
    }

    /// A store written before the `done` tree existed gets it, once, from its jobs.
    pub(super) fn build_done(&self) -> Result<(), StoreError> {
        if self.meta.get(DONE_BUILT)?.is_some() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for item in self.jobs.iter() {
            let (k, v) = item?;
            if record::decode(&k, &v)?.state == JobState::Done {
                batch.insert(k, &[] as &[u8]);
            }
        }
        self.done.apply_batch(batch)?;
        self.meta.insert(DONE_BUILT, &[1u8])?;
        self.flush()
    }

    /// The `due` entries of `records`, in key order, in batches of [`PLANNED_BATCH`] (written
    /// before the records; their `done` entries are [`Store::put_done`]'s).
    pub(super) fn put_due(&self, records: &[JobRecord]) -> Result<(), StoreError> {
        let mut keys: Vec<Vec<u8>> = records.iter().filter_map(due_key).collect();
        keys.sort_unstable();
        for part in keys.chunks(PLANNED_BATCH) {
            let mut batch = sled::Batch::default();
            for k in part {
                batch.insert(&k[..], &[] as &[u8]);
            }
            self.due.apply_batch(batch)?;
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

    /// The unsettled jobs that may go before `until` (in time order), read from their records;
    /// `after`: only those after this instant (exclusive). Entries whose job has settled, moved
    /// or gone are dropped on the way.
    pub fn due_until(&self, after: Option<DateTime<Utc>>, until: DateTime<Utc>) -> Result<Vec<JobRecord>, StoreError> {
        // Keys are the instant then the id; 0xff, never in UTF-8, sorts after every id.
        let start = match after {
            Some(t) => std::ops::Bound::Excluded({
                let mut k = instant_key(t).to_vec();
                k.push(0xff);
                k
            }),
            None => std::ops::Bound::Unbounded,
        };
        let end = std::ops::Bound::Included({
            let mut k = instant_key(until).to_vec();
            k.push(0xff);
            k
        });
        let mut out = Vec::new();
        let mut stale = Vec::new();
        for item in self.due.range::<Vec<u8>, _>((start, end)) {
            let (key, _) = item?;
            let Some(id) = key.get(8..).and_then(|b| std::str::from_utf8(b).ok()) else {
                stale.push(key);
                continue;
            };
            match self.job(&JobId(id.to_string()))? {
                Some(r) if due_key(&r).as_deref() == Some(&key[..]) => out.push(r),
                _ => stale.push(key),
            }
        }
        for key in stale {
            self.due.remove(key)?;
        }
        Ok(out)
    }

    /// When the first unsettled job after `after` may go, if any (a stale entry may make this
    /// early; reading the range then finds nothing and moves on).
    pub fn next_due_after(&self, after: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
        let start = std::ops::Bound::Excluded({
            let mut k = instant_key(after).to_vec();
            k.push(0xff);
            k
        });
        match self.due.range::<Vec<u8>, _>((start, std::ops::Bound::Unbounded)).next() {
            Some(item) => Ok(instant_of(&item?.0)),
            None => Ok(None),
        }
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
        // In key order: sled splits and writes each leaf once instead of again and again.
        let mut sorted: Vec<&JobRecord> = records.iter().collect();
        sorted.sort_unstable_by(|a, b| a.spec.id.cmp(&b.spec.id));
        for part in sorted.chunks(PLANNED_BATCH) {
            let mut batch = sled::Batch::default();
            for r in part {
                batch.insert(r.spec.id.as_str(), record::encode(r));
            }
            self.jobs.apply_batch(batch)?;
        }
        self.flush()
    }
}

/// Set once the `due` tree holds every unsettled job.
pub(super) const DUE_BUILT: &str = "due-built";

/// Set once the `done` tree holds every job that went out.
pub(super) const DONE_BUILT: &str = "done-built";

/// An instant as 8 bytes that sort as the instants do (milliseconds, sign bit flipped).
fn instant_key(t: DateTime<Utc>) -> [u8; 8] {
    ((t.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

fn instant_of(key: &[u8]) -> Option<DateTime<Utc>> {
    let b: [u8; 8] = key.get(..8)?.try_into().ok()?;
    DateTime::from_timestamp_millis((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
}

/// A job's `due` entry: when it may go, then its id; none once it has settled.
pub(super) fn due_key(r: &JobRecord) -> Option<Vec<u8>> {
    if r.state.is_settled() {
        return None;
    }
    let mut k = instant_key(r.ready_at()).to_vec();
    k.extend_from_slice(r.spec.id.as_str().as_bytes());
    Some(k)
}

/// How many planned jobs [`Store::put_planned`] writes in one sled batch.
pub const PLANNED_BATCH: usize = 1000;

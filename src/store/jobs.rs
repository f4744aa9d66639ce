//! The jobs tree: a scope's jobs under one key (`group`), each job read, checked and decoded
//! alone, written with a compare-and-swap of its group; and the move of an older store's
//! jobs, one key each, into groups.

use std::collections::HashMap;

use super::{group, record, Store, StoreError, FORMAT_VERSION, PLANNED_BATCH};
use crate::job::{JobId, JobRecord};

impl Store {
    /// A store of format 3 or older keeps one key per job in the `jobs` tree: its jobs move
    /// into groups (`group`), written and flushed before the format mark says so, and the old
    /// tree is dropped after. A crash in between leaves the old tree whole, and the next
    /// opening starts the move again.
    pub(super) fn group_jobs(&self) -> Result<(), StoreError> {
        if !self.db.tree_names().iter().any(|n| n.as_ref() == OLD_JOBS.as_bytes()) {
            return Ok(());
        }
        match self.format()? {
            // A newer loudhailer's: refused by `check_format`, untouched.
            Some(f) if f > FORMAT_VERSION => return Ok(()),
            Some(f) if f >= 4 => {
                // Moved; only the dropping was cut short.
                self.db.drop_tree(OLD_JOBS)?;
                return Ok(());
            }
            _ => {}
        }
        let old = self.db.open_tree(OLD_JOBS)?;
        self.jobs.clear()?;
        let pack = |key: &str, jobs: &OwnedJobs| {
            let jobs: Vec<(&str, &[u8])> = jobs.iter().map(|(id, b)| (id.as_str(), b.as_slice())).collect();
            group::upsert(key.as_bytes(), None, &jobs)
        };
        let mut batch = sled::Batch::default();
        let mut group: Option<(String, OwnedJobs)> = None;
        let mut pending = 0;
        for item in old.iter() {
            let (k, v) = item?;
            let id = std::str::from_utf8(&k).map_err(|_| StoreError::Corrupt {
                tree: OLD_JOBS.into(),
                key: String::from_utf8_lossy(&k).into_owned(),
                why: "the key is not UTF-8".into(),
            })?;
            let key = group::key(id);
            match &mut group {
                Some((k, jobs)) if k == key => jobs.push((id.to_string(), v.to_vec())),
                _ => {
                    if let Some((k, jobs)) = group.take() {
                        batch.insert(k.as_bytes(), pack(&k, &jobs)?);
                        pending += 1;
                    }
                    group = Some((key.to_string(), vec![(id.to_string(), v.to_vec())]));
                }
            }
            if pending == PLANNED_BATCH {
                self.jobs.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        if let Some((k, jobs)) = group {
            batch.insert(k.as_bytes(), pack(&k, &jobs)?);
        }
        self.jobs.apply_batch(batch)?;
        self.flush()?;
        self.meta.insert("format", &FORMAT_VERSION.to_be_bytes())?;
        self.flush()?;
        self.db.drop_tree(OLD_JOBS)?;
        Ok(())
    }

    pub fn job(&self, id: &JobId) -> Result<Option<JobRecord>, StoreError> {
        let key = group::key(id.as_str());
        let Some(value) = self.jobs.get(key)? else { return Ok(None) };
        group::find(key.as_bytes(), &value, id.as_str())?.map(|r| record::decode(id.as_str().as_bytes(), r)).transpose()
    }

    /// Every job, in id order.
    pub fn jobs(&self) -> Result<Vec<JobRecord>, StoreError> {
        self.each_job().collect()
    }

    /// Every job, decoded one group at a time in id order: a caller that keeps a part of each
    /// never holds them all.
    pub fn each_job(&self) -> impl Iterator<Item = Result<JobRecord, StoreError>> + '_ {
        self.jobs.iter().flat_map(|item| match item {
            Ok((k, v)) => decode_group(&k, &v),
            Err(e) => vec![Err(e.into())],
        })
    }

    /// The jobs `keep` chooses, read one at a time.
    pub fn jobs_where(&self, mut keep: impl FnMut(&JobRecord) -> bool) -> Result<Vec<JobRecord>, StoreError> {
        let mut out = Vec::new();
        for r in self.each_job() {
            let r = r?;
            if keep(&r) {
                out.push(r);
            }
        }
        Ok(out)
    }

    pub fn jobs_by_id(&self) -> Result<HashMap<JobId, JobRecord>, StoreError> {
        self.each_job().map(|r| r.map(|r| (r.spec.id.clone(), r))).collect()
    }

    /// Stores a job without waiting for the disk (its `due` and `done` entries first).
    pub fn put_job(&self, record: &JobRecord) -> Result<(), StoreError> {
        self.put_due(std::slice::from_ref(record))?;
        self.put_done(record)?;
        let id = record.spec.id.as_str();
        self.write_group(group::key(id), &[(id, &record::encode(record))])
    }

    /// Stores a job and waits until it is on disk: for intents (before the request) and
    /// results (before anything else happens).
    pub fn put_job_durable(&self, record: &JobRecord) -> Result<(), StoreError> {
        self.put_job(record)?;
        self.flush()
    }

    /// Stores many jobs at once, atomically, and flushes.
    pub fn put_jobs(&self, records: &[JobRecord]) -> Result<(), StoreError> {
        self.put_due(records)?;
        for r in records {
            self.put_done(r)?;
        }
        let encoded = encode_by_group(records.iter());
        match encoded.as_slice() {
            [] => {}
            [(key, jobs)] => self.write_group(key, &borrowed(jobs))?,
            groups => {
                // Across groups, one sled transaction: every group is written or none.
                use sled::transaction::{ConflictableTransactionError as Abort, TransactionError};
                self.jobs
                    .transaction(|tx| {
                        for (key, jobs) in groups {
                            let old = tx.get(key.as_bytes())?;
                            let new =
                                group::upsert(key.as_bytes(), old.as_deref(), &borrowed(jobs)).map_err(Abort::Abort)?;
                            tx.insert(key.as_bytes(), new)?;
                        }
                        Ok(())
                    })
                    .map_err(|e| match e {
                        TransactionError::Abort(e) => e,
                        TransactionError::Storage(e) => StoreError::Sled(e),
                    })?;
            }
        }
        self.flush()
    }

    /// Writes `jobs` (in id order) into the group `key` with a compare-and-swap: a job of the
    /// same group written meanwhile by another task is kept, never overwritten with what was
    /// read before it. A damaged group is left as it is and named in the error.
    pub(super) fn write_group(&self, key: &str, jobs: &[(&str, &[u8])]) -> Result<(), StoreError> {
        let mut failed = None;
        self.jobs.update_and_fetch(key, |old| match group::upsert(key.as_bytes(), old, jobs) {
            Ok(new) => {
                failed = None;
                Some(new)
            }
            Err(e) => {
                failed = Some(e);
                old.map(<[u8]>::to_vec)
            }
        })?;
        failed.map_or(Ok(()), Err)
    }
}

/// A group's jobs, encoded: each id with its record's bytes.
type EncodedJobs<'a> = Vec<(&'a str, Vec<u8>)>;

/// The same, owning the ids (as read from the old tree).
type OwnedJobs = Vec<(String, Vec<u8>)>;

/// The jobs of one group's value, each decoded (or the error that names it).
fn decode_group(key: &[u8], value: &[u8]) -> Vec<Result<JobRecord, StoreError>> {
    match group::entries(key, value) {
        Ok(jobs) => jobs.into_iter().map(|(id, bytes)| record::decode(id.as_bytes(), bytes)).collect(),
        Err(e) => vec![Err(e)],
    }
}

/// `records` encoded and gathered by group, each group's jobs in id order (the last record
/// of an id given twice wins).
pub(super) fn encode_by_group<'a>(records: impl Iterator<Item = &'a JobRecord>) -> Vec<(&'a str, EncodedJobs<'a>)> {
    let mut sorted: Vec<&JobRecord> = records.collect();
    // Stable: of an id given twice, the later stays later.
    sorted.sort_by(|a, b| a.spec.id.cmp(&b.spec.id));
    let encoded = encode_all(&sorted);
    let mut out: Vec<(&str, EncodedJobs)> = Vec::new();
    for (r, bytes) in sorted.into_iter().zip(encoded) {
        let id = r.spec.id.as_str();
        let key = group::key(id);
        match out.last_mut() {
            Some((k, jobs)) if *k == key => match jobs.last_mut() {
                Some((last, b)) if *last == id => *b = bytes,
                _ => jobs.push((id, bytes)),
            },
            _ => out.push((key, vec![(id, bytes)])),
        }
    }
    out
}

/// Each record's bytes, in order. A first plan's hundred thousand are encoded on up to four
/// threads, in parts kept in order.
fn encode_all(records: &[&JobRecord]) -> Vec<Vec<u8>> {
    crate::parts::in_parts(records, 5_000, |part| part.iter().map(|r| record::encode(r)).collect::<Vec<_>>())
        .into_iter()
        .flatten()
        .collect()
}

/// A group's encoded jobs as [`group::upsert`] takes them.
pub(super) fn borrowed<'a>(jobs: &'a [(&'a str, Vec<u8>)]) -> Vec<(&'a str, &'a [u8])> {
    jobs.iter().map(|(id, b)| (*id, b.as_slice())).collect()
}

/// The tree of the jobs, by group (format 4).
pub(super) const JOB_GROUPS: &str = "job-groups";

/// The tree of the jobs, one key each (formats 1 to 3).
const OLD_JOBS: &str = "jobs";

//! What the collector keeps between wakes, so a wake costs what is still to come rather than
//! everything that went out: the ids of the posts that still have an instant ahead (or are due
//! now) and of the jobs that hang off them, the ids it is done with, and each post's latest
//! snapshot. Records are read from the store by id when a wake needs them and let go before it
//! sleeps; the metrics are read in full once, at start, and then one post at a time as it is
//! read.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::super::collect::{self, Due, Taken};
use super::super::Snapshot;
use crate::job::{JobId, JobKind, JobRecord, JobState};
use crate::store::{Store, StoreError};

/// The collector's memory between wakes.
#[derive(Debug, Default)]
pub struct Live {
    /// Jobs that went out and still matter: posts with an instant ahead or a reading due, and
    /// the boosts, unboosts and found posts that hang off them.
    active: BTreeSet<JobId>,
    /// Jobs that went out and no longer matter: every instant of their post has passed and been
    /// read (or the post is gone). A new boost of such a post brings the post back.
    retired: HashSet<JobId>,
    /// Each post's latest snapshot.
    pub taken: HashMap<JobId, Taken>,
}

impl Live {
    /// The state at start: every stored snapshot is read once, for each post's latest.
    pub fn start(store: &Store) -> Result<Live, StoreError> {
        Ok(Live { taken: collect::taken(&store.metrics::<Snapshot>()?), ..Live::default() })
    }

    /// The jobs this wake looks at: the active ones and those that went out since the last wake
    /// (with the post a new boost hangs off). With `all` (a cron sweep), or when something other
    /// than a post or a boost of one went out (a found post, an unboost, whose links to other
    /// posts are only known from every record), every job that went out.
    pub fn jobs(&mut self, store: &Store, all: bool) -> Result<Vec<JobRecord>, StoreError> {
        let new = store.done_ids_except(|id| {
            let id = JobId(id.to_string());
            self.active.contains(&id) || self.retired.contains(&id)
        })?;
        let mut jobs = read(store, self.active.iter())?;
        // An active job no longer done (changed by hand) is set aside, as a full read would skip it.
        let still: BTreeSet<JobId> = jobs.iter().map(|j| j.spec.id.clone()).collect();
        self.retired.extend(self.active.difference(&still).cloned());
        self.active = still;
        let mut full = all;
        for rec in read(store, new.iter())? {
            match rec.spec.kind {
                k if k.is_post() => {}
                JobKind::Boost => match rec.spec.parent.clone() {
                    Some(parent) if !self.active.contains(&parent) => {
                        match store.job(&parent)?.filter(|p| p.state == JobState::Done && p.spec.kind.is_post()) {
                            Some(p) => {
                                self.retired.remove(&parent);
                                self.active.insert(parent);
                                jobs.push(p);
                            }
                            None => full = true,
                        }
                    }
                    _ => {}
                },
                _ => full = true,
            }
            self.active.insert(rec.spec.id.clone());
            jobs.push(rec);
        }
        if full {
            self.retired.clear();
            jobs = store.done_jobs()?;
            self.active = jobs.iter().map(|j| j.spec.id.clone()).collect();
        }
        jobs.sort_by(|a, b| a.spec.id.cmp(&b.spec.id));
        jobs.dedup_by(|a, b| a.spec.id == b.spec.id);
        Ok(jobs)
    }

    /// After a sweep: the latest snapshot of each post read.
    pub fn read(&mut self, store: &Store, posts: &[&JobRecord]) -> Result<(), StoreError> {
        for p in posts {
            if let Some((at, snap)) = store.last_metric::<Snapshot>(&p.spec.id)? {
                self.taken.insert(p.spec.id.clone(), Taken { last: at, gone: matches!(snap, Snapshot::Gone) });
            }
        }
        Ok(())
    }

    /// Sets aside what `jobs` (this wake's) no longer need: posts not due at `now` (`due`) with
    /// no instant ahead, or gone, and whatever hangs off them.
    pub fn retire(&mut self, jobs: &[JobRecord], due: &Due, checkpoints: &[std::time::Duration], now: DateTime<Utc>) {
        let keep = active_posts(jobs, &self.taken, due, checkpoints, now);
        let same = collect::same_posts(jobs);
        let by_id: HashMap<&JobId, &JobRecord> = jobs.iter().map(|j| (&j.spec.id, j)).collect();
        for j in jobs {
            let id = &j.spec.id;
            let group = match j.spec.kind {
                JobKind::Boost | JobKind::Unboost => collect::post_of(j, &by_id, &same),
                _ => Some(same.get(id).unwrap_or(id)),
            };
            if !group.is_some_and(|g| keep.contains(g)) {
                self.active.remove(id);
                self.retired.insert(id.clone());
            }
        }
    }

    /// How many jobs are active and set aside (for the tests).
    #[cfg(test)]
    pub fn sizes(&self) -> (usize, usize) {
        (self.active.len(), self.retired.len())
    }
}

/// The posts among `jobs` that still matter: due now, or with an instant after `now`, and not
/// last seen gone.
fn active_posts<'a>(
    jobs: &'a [JobRecord],
    taken: &HashMap<JobId, Taken>,
    due: &Due,
    checkpoints: &[std::time::Duration],
    now: DateTime<Utc>,
) -> HashSet<&'a JobId> {
    let same = collect::same_posts(jobs);
    let by_id: HashMap<&JobId, &JobRecord> = jobs.iter().map(|j| (&j.spec.id, j)).collect();
    let mut boosts: HashMap<&JobId, Vec<&JobRecord>> = HashMap::new();
    for j in jobs.iter().filter(|j| j.spec.kind == JobKind::Boost) {
        if let Some(parent) = collect::post_of(j, &by_id, &same) {
            boosts.entry(parent).or_default().push(j);
        }
    }
    jobs.iter()
        .filter(|j| collect::readable(j) && !same.contains_key(&j.spec.id))
        .filter(|j| !taken.get(&j.spec.id).is_some_and(|t| t.gone))
        .filter(|j| {
            let id = &j.spec.id;
            due.jobs.binary_search(id).is_ok()
                || collect::instants(j, boosts.get(id).map_or(&[][..], Vec::as_slice), checkpoints)
                    .iter()
                    .any(|t| *t > now)
        })
        .map(|j| &j.spec.id)
        .collect()
}

/// The done records of `ids` (an id whose record is not done, or gone, is skipped).
fn read<'a>(store: &Store, ids: impl Iterator<Item = &'a JobId>) -> Result<Vec<JobRecord>, StoreError> {
    let mut out = Vec::new();
    for id in ids {
        if let Some(r) = store.job(id)?.filter(|r| r.state == JobState::Done) {
            out.push(r);
        }
    }
    Ok(out)
}

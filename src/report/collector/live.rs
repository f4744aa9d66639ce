//! What the collector keeps between wakes, so a wake costs what is due rather than everything
//! that went out: per post that still has an instant ahead (or a reading due) only its instants,
//! the ids it has already looked at, and each post's latest snapshot. A wake reads from the store
//! the records of what went out since the last one and of the posts due now, and lets them go
//! before it sleeps; the metrics are read in full once, at start, and then one post at a time as
//! it is read.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::super::collect::{self, readable, Taken};
use super::super::Snapshot;
use crate::job::{JobId, JobKind, JobRecord, JobState};
use crate::store::{Store, StoreError};

/// The collector's memory between wakes.
#[derive(Debug, Default)]
pub struct Live {
    /// The posts that still matter, in id order, each with its instants (its checkpoints after
    /// posting and each boost going out, sorted): a few timestamps per post, not its record.
    ahead: BTreeMap<JobId, Vec<DateTime<Utc>>>,
    /// Every job that went out and has been looked at (the posts in `ahead` among them): only
    /// jobs not in here are read as new.
    seen: HashSet<JobId>,
    /// Each post's latest snapshot.
    pub taken: HashMap<JobId, Taken>,
}

/// What one wake reads: the records of the posts due now (every post that went out, on a cron
/// sweep), in id order, and the earliest instant after now at which a post falls due.
#[derive(Debug, Default)]
pub struct Wake {
    pub posts: Vec<JobRecord>,
    pub next: Option<DateTime<Utc>>,
}

impl Live {
    /// The state at start: every stored snapshot is read once, for each post's latest.
    pub fn start(store: &Store) -> Result<Live, StoreError> {
        Ok(Live { taken: collect::taken(&store.metrics::<Snapshot>()?), ..Live::default() })
    }

    /// What to read at `now`. The jobs that went out since the last wake are read once: a post
    /// joins the index with its checkpoints, a boost adds its instant to its post (bringing back
    /// a post set aside). With `all` (a cron sweep), or when something else went out (a found
    /// post, an unboost, whose links to other posts are only known from every record), every job
    /// that went out is read and the index built afresh.
    pub fn wake(
        &mut self,
        store: &Store,
        all: bool,
        checkpoints: &[Duration],
        now: DateTime<Utc>,
    ) -> Result<Wake, StoreError> {
        let new = store.done_ids_except(|id| self.seen.contains(id))?;
        let mut full = all;
        for id in new {
            if full {
                break;
            }
            let Some(rec) = store.job(&id)?.filter(|r| r.state == JobState::Done) else {
                self.seen.insert(id);
                continue;
            };
            match rec.spec.kind {
                k if k.is_post() => {
                    if readable(&rec) {
                        self.ahead.insert(id.clone(), collect::instants(&rec, &[], checkpoints));
                    }
                }
                JobKind::Boost => full = !self.boosted(store, &rec, checkpoints)?,
                _ => full = true,
            }
            self.seen.insert(id);
        }
        if full {
            return self.rebuild(store, all, checkpoints, now);
        }
        let (due, next) = self.due(now);
        let mut posts = Vec::with_capacity(due.len());
        for id in due {
            match store.job(&id)?.filter(readable) {
                Some(rec) => posts.push(rec),
                // Changed by hand since it went out: forgotten, so it is new when it goes again.
                None => {
                    self.ahead.remove(&id);
                    self.seen.remove(&id);
                }
            }
        }
        Ok(Wake { posts, next })
    }

    /// A boost that went out: its instant joins its post's. Its post, set aside, comes back
    /// (read from the store). False when the post is not one of loudhailer's posts that went
    /// out (an unboost's repeat, someone else's post): only a full read knows.
    fn boosted(&mut self, store: &Store, boost: &JobRecord, checkpoints: &[Duration]) -> Result<bool, StoreError> {
        let Some(parent) = boost.spec.parent.as_ref() else { return Ok(false) };
        if let Some(at) = self.ahead.get_mut(parent) {
            at.extend(boost.done_at);
            at.sort();
            at.dedup();
            return Ok(true);
        }
        match store.job(parent)?.filter(|p| p.spec.kind.is_post() && readable(p)) {
            Some(post) => {
                self.ahead.insert(parent.clone(), collect::instants(&post, &[boost], checkpoints));
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Every job that went out read, and the index built from them: the posts due now (all
    /// that can be read, with `all`) and the posts with an instant ahead.
    fn rebuild(
        &mut self,
        store: &Store,
        all: bool,
        checkpoints: &[Duration],
        now: DateTime<Utc>,
    ) -> Result<Wake, StoreError> {
        let jobs = store.done_jobs()?;
        let same = collect::same_posts(&jobs);
        let by_id: HashMap<&JobId, &JobRecord> = jobs.iter().map(|j| (&j.spec.id, j)).collect();
        let mut boosts: HashMap<&JobId, Vec<&JobRecord>> = HashMap::new();
        for j in jobs.iter().filter(|j| j.spec.kind == JobKind::Boost) {
            if let Some(post) = collect::post_of(j, &by_id, &same) {
                boosts.entry(post).or_default().push(j);
            }
        }
        self.ahead.clear();
        for post in jobs.iter().filter(|j| readable(j) && !same.contains_key(&j.spec.id)) {
            let id = &post.spec.id;
            let at = collect::instants(post, boosts.get(id).map_or(&[][..], Vec::as_slice), checkpoints);
            self.ahead.insert(id.clone(), at);
        }
        drop(by_id);
        drop(boosts);
        self.seen = jobs.iter().map(|j| j.spec.id.clone()).collect();
        let (due, next) = self.due(now);
        let posts = if all {
            jobs.into_iter().filter(readable).collect()
        } else {
            jobs.into_iter().filter(|j| due.binary_search(&j.spec.id).is_ok()).collect()
        };
        Ok(Wake { posts, next })
    }

    /// The posts due at `now` (in id order: one of their instants has passed and no snapshot was
    /// taken at or after the latest that has; several instants missed need one snapshot), and
    /// the earliest instant after `now`. A post last seen gone is never due.
    fn due(&self, now: DateTime<Utc>) -> (Vec<JobId>, Option<DateTime<Utc>>) {
        let mut due = Vec::new();
        let mut next: Option<DateTime<Utc>> = None;
        for (id, at) in &self.ahead {
            let seen = self.taken.get(id);
            if seen.is_some_and(|t| t.gone) {
                continue;
            }
            if let Some(passed) = at.iter().copied().filter(|t| *t <= now).max() {
                if seen.is_none_or(|t| t.last < passed) {
                    due.push(id.clone());
                }
            }
            if let Some(n) = at.iter().copied().find(|t| *t > now) {
                next = Some(next.map_or(n, |x| x.min(n)));
            }
        }
        (due, next)
    }

    /// After a sweep at `now`: the latest snapshot of each post read, and the posts with nothing
    /// ahead set aside (no instant after `now` and read since the last that passed, or gone).
    pub fn read(&mut self, store: &Store, posts: &[JobRecord], now: DateTime<Utc>) -> Result<(), StoreError> {
        for p in posts {
            if let Some((at, snap)) = store.last_metric::<Snapshot>(&p.spec.id)? {
                self.taken.insert(p.spec.id.clone(), Taken { last: at, gone: matches!(snap, Snapshot::Gone) });
            }
        }
        let taken = &self.taken;
        self.ahead.retain(|id, at| {
            let seen = taken.get(id);
            if seen.is_some_and(|t| t.gone) {
                return false;
            }
            let ahead = at.last().is_some_and(|t| *t > now);
            let due = at.iter().copied().filter(|t| *t <= now).max().is_some_and(|p| seen.is_none_or(|t| t.last < p));
            ahead || due
        });
        Ok(())
    }

    /// How many posts are kept with their instants, and how many jobs have been looked at (for
    /// the tests).
    #[cfg(test)]
    pub fn sizes(&self) -> (usize, usize) {
        (self.ahead.len(), self.seen.len())
    }
}

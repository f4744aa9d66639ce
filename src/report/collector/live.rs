//! What the collector keeps between wakes, so a wake costs what is due rather than everything
//! that went out: per post that still has an instant ahead (or a reading due) only its instants
//! and latest snapshot, and the ids it has already looked at. A wake reads from the store
//! the records of what went out since the last one and of the posts due now, and lets them go
//! before it sleeps; a post's latest snapshot is read as it joins and after each reading.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::super::collect::{self, readable, Taken};
use super::super::Snapshot;
use crate::job::{JobId, JobKind, JobRecord, JobState};
use crate::store::{Store, StoreError};

/// The collector's memory between wakes.
#[derive(Debug, Default)]
pub struct Live {
    /// The posts that still matter, in id order, each with its instants and latest snapshot: a
    /// few timestamps per post, not its record.
    ahead: BTreeMap<JobId, Post>,
    /// Every job that went out and has been looked at (the posts in `ahead` among them): only
    /// jobs not in here are read as new.
    seen: HashSet<JobId>,
}

/// What the collector keeps of a post that still matters.
#[derive(Debug)]
struct Post {
    /// Its checkpoints after posting and each boost going out, sorted.
    instants: Vec<DateTime<Utc>>,
    /// Its latest snapshot, if any.
    taken: Option<Taken>,
}

impl Post {
    /// A post's entry, its latest snapshot read from the store (one taken before a restart, or
    /// before the post was set aside, counts).
    fn read(store: &Store, id: &JobId, instants: Vec<DateTime<Utc>>) -> Result<Post, StoreError> {
        Ok(Post { instants, taken: last_taken(store, id)? })
    }

    /// Due at `now`: one of its instants has passed and no snapshot was taken at or after the
    /// latest that has (several instants missed need one snapshot), and not last seen gone.
    fn due(&self, now: DateTime<Utc>) -> bool {
        let passed = self.instants.iter().copied().filter(|t| *t <= now).max();
        !self.gone() && passed.is_some_and(|p| self.taken.is_none_or(|t| t.last < p))
    }

    fn gone(&self) -> bool {
        self.taken.is_some_and(|t| t.gone)
    }
}

/// A post's latest snapshot in the store.
fn last_taken(store: &Store, id: &JobId) -> Result<Option<Taken>, StoreError> {
    Ok(store.last_metric::<Snapshot>(id)?.map(|(at, snap)| Taken { last: at, gone: matches!(snap, Snapshot::Gone) }))
}

/// What one wake reads: the records of the posts due now (every post that went out, on a cron
/// sweep), in id order, and the earliest instant after now at which a post falls due.
#[derive(Debug, Default)]
pub struct Wake {
    pub posts: Vec<JobRecord>,
    pub next: Option<DateTime<Utc>>,
}

impl Live {
    /// The state at start: nothing yet; the first wake reads every job that went out as new.
    pub fn start() -> Live {
        Live::default()
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
                        let post = Post::read(store, &id, collect::instants(&rec, &[], checkpoints))?;
                        self.ahead.insert(id.clone(), post);
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
        if let Some(post) = self.ahead.get_mut(parent) {
            post.instants.extend(boost.done_at);
            post.instants.sort();
            post.instants.dedup();
            return Ok(true);
        }
        match store.job(parent)?.filter(|p| p.spec.kind.is_post() && readable(p)) {
            Some(post) => {
                let post = Post::read(store, parent, collect::instants(&post, &[boost], checkpoints))?;
                self.ahead.insert(parent.clone(), post);
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
        let boosts = collect::boosts_by_post(&jobs, &same);
        self.ahead.clear();
        for post in jobs.iter().filter(|j| readable(j) && !same.contains_key(&j.spec.id)) {
            let id = &post.spec.id;
            let at = collect::instants(post, boosts.get(id).map_or(&[][..], Vec::as_slice), checkpoints);
            self.ahead.insert(id.clone(), Post::read(store, id, at)?);
        }
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

    /// The posts due at `now`, in id order, and the earliest instant after `now`.
    fn due(&self, now: DateTime<Utc>) -> (Vec<JobId>, Option<DateTime<Utc>>) {
        let due = self.ahead.iter().filter(|(_, p)| p.due(now)).map(|(id, _)| id.clone()).collect();
        let next = self
            .ahead
            .values()
            .filter(|p| !p.gone())
            .filter_map(|p| p.instants.iter().copied().find(|t| *t > now))
            .min();
        (due, next)
    }

    /// After a sweep at `now`: the latest snapshot of each post read, and the posts with nothing
    /// ahead set aside (no instant after `now` and read since the last that passed, or gone).
    pub fn read(&mut self, store: &Store, posts: &[JobRecord], now: DateTime<Utc>) -> Result<(), StoreError> {
        for p in posts {
            let taken = last_taken(store, &p.spec.id)?;
            if let Some(post) = self.ahead.get_mut(&p.spec.id) {
                post.taken = taken.or(post.taken);
            }
        }
        self.ahead.retain(|_, p| !p.gone() && (p.instants.last().is_some_and(|t| *t > now) || p.due(now)));
        Ok(())
    }

    /// How many posts are kept with their instants, and how many jobs have been looked at (for
    /// the tests).
    #[cfg(test)]
    pub fn sizes(&self) -> (usize, usize) {
        (self.ahead.len(), self.seen.len())
    }
}

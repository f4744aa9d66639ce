//! What the collector keeps between wakes, so a wake costs what is due rather than everything
//! that went out: per post that still has an instant ahead (or a reading due) only when it was
//! posted, when its boosts went out and its latest snapshot. A wake reads from the store the
//! store's `went` log (the jobs that went out since the last wake, which it then forgets) and
//! the records of the posts due now, and lets them go before it sleeps; a post's latest
//! snapshot is read as it joins and after each reading.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::super::collect::{self, posted_at, readable, Taken};
use super::super::Snapshot;
use crate::job::{JobId, JobKind, JobRecord, JobState};
use crate::store::{Store, StoreError};

/// The collector's memory between wakes.
#[derive(Debug, Default)]
pub struct Live {
    /// Whether every job that went out has been read once (the first wake does).
    built: bool,
    /// The posts that still matter, in id order: a few timestamps per post, not its record.
    ahead: BTreeMap<JobId, Post>,
}

/// What the collector keeps of a post that still matters: its instants are each checkpoint
/// after `posted` and each of `boosts` (see [`collect::instants`]).
#[derive(Debug)]
struct Post {
    posted: DateTime<Utc>,
    /// When its boosts went out.
    boosts: Vec<DateTime<Utc>>,
    /// Its latest snapshot, if any.
    taken: Option<Taken>,
}

impl Post {
    /// A post's entry, its latest snapshot read from the store (one taken before a restart, or
    /// before the post was set aside, counts).
    fn read(store: &Store, post: &JobRecord, boosts: Vec<DateTime<Utc>>) -> Result<Post, StoreError> {
        Ok(Post { posted: posted_at(post), boosts, taken: last_taken(store, &post.spec.id)? })
    }

    /// Its instants, unsorted (a few).
    fn instants<'a>(&'a self, checkpoints: &'a [Duration]) -> impl Iterator<Item = DateTime<Utc>> + 'a {
        checkpoints.iter().filter_map(|c| crate::checked::after(self.posted, *c)).chain(self.boosts.iter().copied())
    }

    /// Due at `now`: one of its instants has passed and no snapshot was taken at or after the
    /// latest that has (several instants missed need one snapshot), and not last seen gone.
    fn due(&self, checkpoints: &[Duration], now: DateTime<Utc>) -> bool {
        let passed = self.instants(checkpoints).filter(|t| *t <= now).max();
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
    /// The state at start: nothing yet; the first wake reads every job that went out.
    pub fn start() -> Live {
        Live::default()
    }

    /// What to read at `now`. The jobs that went out since the last wake (the store's `went`
    /// log) are read once: a post joins the index, a boost adds its instant to its post
    /// (bringing back a post set aside). On the first wake, with `all` (a cron sweep), or when
    /// something else went out (a found post, an unboost, whose links to other posts are only
    /// known from every record, or a post sent again), every job that went out is read and the
    /// index built afresh.
    pub fn wake(
        &mut self,
        store: &Store,
        all: bool,
        checkpoints: &[Duration],
        now: DateTime<Utc>,
    ) -> Result<Wake, StoreError> {
        if all || !self.built {
            return self.rebuild(store, all, checkpoints, now);
        }
        let went = store.went()?;
        let mut full = false;
        for (_, id) in &went {
            let Some(rec) = store.job(id)?.filter(|r| r.state == JobState::Done) else { continue };
            full = match rec.spec.kind {
                k if k.is_post() => readable(&rec) && self.posted(store, &rec)?,
                JobKind::Boost => !self.boosted(store, &rec)?,
                _ => true,
            };
            if full {
                break;
            }
        }
        if full {
            return self.rebuild(store, all, checkpoints, now);
        }
        store.forget_went(went.into_iter().map(|(k, _)| k))?;
        let (due, next) = self.due(checkpoints, now);
        let mut posts = Vec::with_capacity(due.len());
        for id in due {
            match store.job(&id)?.filter(readable) {
                Some(rec) => posts.push(rec),
                // Changed by hand since it went out: forgotten (if it goes again, the log says).
                None => {
                    self.ahead.remove(&id);
                }
            }
        }
        Ok(Wake { posts, next })
    }

    /// A post that went out joins the index. True when the index already has it from another
    /// time it went out (sent again after a change by hand): only a full read knows its
    /// boosts then. The same post noted twice (it went out as the index was built) is no news.
    fn posted(&mut self, store: &Store, post: &JobRecord) -> Result<bool, StoreError> {
        if let Some(known) = self.ahead.get(&post.spec.id) {
            return Ok(known.posted != posted_at(post));
        }
        self.ahead.insert(post.spec.id.clone(), Post::read(store, post, Vec::new())?);
        Ok(false)
    }

    /// A boost that went out: its instant joins its post's. Its post, set aside, comes back
    /// (read from the store). False when the post is not one of loudhailer's posts that went
    /// out (an unboost's repeat, someone else's post): only a full read knows.
    fn boosted(&mut self, store: &Store, boost: &JobRecord) -> Result<bool, StoreError> {
        let Some(parent) = boost.spec.parent.as_ref() else { return Ok(false) };
        let Some(at) = boost.done_at else { return Ok(true) };
        if let Some(post) = self.ahead.get_mut(parent) {
            if !post.boosts.contains(&at) {
                post.boosts.push(at);
            }
            return Ok(true);
        }
        match store.job(parent)?.filter(|p| p.spec.kind.is_post() && readable(p)) {
            Some(post) => {
                let entry = Post::read(store, &post, vec![at])?;
                self.ahead.insert(parent.clone(), entry);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Every job that went out read, and the index built from them: the posts due now (all
    /// that can be read, with `all`) and the posts with an instant ahead. The `went` log read
    /// before is forgotten; what goes out meanwhile stays in it, for the next wake.
    fn rebuild(
        &mut self,
        store: &Store,
        all: bool,
        checkpoints: &[Duration],
        now: DateTime<Utc>,
    ) -> Result<Wake, StoreError> {
        let went = store.went()?;
        let jobs = store.done_jobs()?;
        let same = collect::same_posts(&jobs);
        let boosts = collect::boosts_by_post(&jobs, &same);
        self.ahead.clear();
        for post in jobs.iter().filter(|j| readable(j) && !same.contains_key(&j.spec.id)) {
            let id = &post.spec.id;
            let at = boosts
                .get(id)
                .map(|b| b.iter().filter(|b| b.state == JobState::Done).filter_map(|b| b.done_at).collect())
                .unwrap_or_default();
            self.ahead.insert(id.clone(), Post::read(store, post, at)?);
        }
        drop(boosts);
        store.forget_went(went.into_iter().map(|(k, _)| k))?;
        self.built = true;
        let (due, next) = self.due(checkpoints, now);
        let posts = if all {
            jobs.into_iter().filter(readable).collect()
        } else {
            jobs.into_iter().filter(|j| due.binary_search(&j.spec.id).is_ok()).collect()
        };
        Ok(Wake { posts, next })
    }

    /// The posts due at `now`, in id order, and the earliest instant after `now`.
    fn due(&self, checkpoints: &[Duration], now: DateTime<Utc>) -> (Vec<JobId>, Option<DateTime<Utc>>) {
        let due = self.ahead.iter().filter(|(_, p)| p.due(checkpoints, now)).map(|(id, _)| id.clone()).collect();
        let next = self
            .ahead
            .values()
            .filter(|p| !p.gone())
            .filter_map(|p| p.instants(checkpoints).filter(|t| *t > now).min())
            .min();
        (due, next)
    }

    /// After a sweep at `now`: the latest snapshot of each post read, and the posts with nothing
    /// ahead set aside (no instant after `now` and read since the last that passed, or gone).
    pub fn read(
        &mut self,
        store: &Store,
        posts: &[JobRecord],
        checkpoints: &[Duration],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for p in posts {
            let taken = last_taken(store, &p.spec.id)?;
            if let Some(post) = self.ahead.get_mut(&p.spec.id) {
                post.taken = taken.or(post.taken);
            }
        }
        self.ahead.retain(|_, p| !p.gone() && (p.instants(checkpoints).any(|t| t > now) || p.due(checkpoints, now)));
        Ok(())
    }

    /// How many posts are kept (for the tests).
    #[cfg(test)]
    pub fn kept(&self) -> usize {
        self.ahead.len()
    }
}

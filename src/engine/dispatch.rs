//! Sending a due job: readiness, the worker, the claim (the intent stored durably before the
//! request), a post's uploaded images stored with its intent before the post, and the answer
//! recorded.

use std::collections::HashSet;

use tracing::{debug, error, info, warn};

use super::rules::{self, Readiness, Verdict};
use super::workers::Claimed;
use super::{Engine, EngineError};
use crate::job::{Intent, JobId, JobKind, JobRecord, JobState, RemoteRef, Uploaded};
use crate::platform::{Platform, PlatformError};

impl Engine {
    pub(super) fn dispatch_due(&mut self) -> Result<(), EngineError> {
        debug!(now = %self.now(), next = ?self.agenda.next(), "deadline");
        for id in self.agenda.take_due(self.now()) {
            self.try_dispatch(&id)?;
        }
        Ok(())
    }

    /// Sends a due job to its worker, or notes what it waits for.
    pub(super) fn try_dispatch(&mut self, id: &JobId) -> Result<(), EngineError> {
        if self.stopping || self.queued.contains(id) || self.claimed.contains_key(id) {
            return Ok(());
        }
        match self.store.job(id)? {
            Some(rec) => self.dispatch(rec),
            None => {
                self.index.remove(id);
                Ok(())
            }
        }
    }

    pub(super) fn dispatch(&mut self, rec: JobRecord) -> Result<(), EngineError> {
        let id = rec.spec.id.clone();
        if self.stopping || self.only.as_ref().is_some_and(|only| !only.contains(&id)) {
            return Ok(());
        }
        if !matches!(rec.state, JobState::Pending | JobState::InFlight) {
            self.index.remove(&id);
            return Ok(());
        }
        if let Some(reason) = self.paused.get(&rec.spec.account) {
            let why = format!("account {} paused: {reason}", rec.spec.account);
            return self.set_waiting(&id, why);
        }
        let now = self.now();
        let parent = self.parent_of(&rec)?;
        let ready = match rules::readiness(&rec, parent.as_ref(), self.only.is_some(), now) {
            Readiness::At(t) => t,
            Readiness::Wait(why) => return self.set_waiting(&id, why),
            Readiness::Cancel(why) => {
                let mut r = rec;
                r.state = JobState::Cancelled;
                r.error = Some(why);
                self.store.put_job_durable(&r)?;
                self.index.remove(&id);
                return Ok(());
            }
        };
        if ready > now {
            debug!(job = %id, at = %ready, "on the agenda");
            self.agenda.set(id, ready);
            return Ok(());
        }
        if !self.workers.send(&rec.spec.account, id.clone(), rec.spec.kind) {
            let why = if self.clients.contains_key(&rec.spec.account) {
                format!("account {}'s worker is not running", rec.spec.account)
            } else {
                format!("no client for account {}", rec.spec.account)
            };
            return self.set_waiting(&id, why);
        }
        debug!(job = %id, "handed to the worker");
        self.queued.insert(id);
        Ok(())
    }

    /// The job a job follows, as stored.
    pub(super) fn parent_of(&self, rec: &JobRecord) -> Result<Option<JobRecord>, EngineError> {
        Ok(match &rec.spec.parent {
            Some(p) => self.store.job(p)?,
            None => None,
        })
    }

    pub(super) fn set_waiting(&mut self, id: &JobId, why: String) -> Result<(), EngineError> {
        if let Some(mut rec) = self.store.job(id)? {
            if rec.waiting.as_deref() != Some(why.as_str()) {
                debug!(job = %id, why = %why, "waiting");
                rec.waiting = Some(why);
                self.store.put_job(&rec)?;
            }
        }
        Ok(())
    }

    /// The nearest ancestor of `rec` that was posted.
    pub(super) fn posted_ancestor(&self, rec: &JobRecord) -> Result<Option<JobRecord>, EngineError> {
        let mut cursor = rec.spec.parent.clone();
        let mut seen = HashSet::new();
        while let Some(p) = cursor {
            if !seen.insert(p.clone()) {
                break;
            }
            let Some(parent) = self.store.job(&p)? else { break };
            if parent.state == JobState::Done {
                return Ok(Some(parent));
            }
            cursor = parent.spec.parent;
        }
        Ok(None)
    }

    /// A client handed back what it made part-way through `id`'s request: kept with the intent,
    /// durably, before the client goes on.
    pub(super) fn keep_progress(
        &mut self,
        id: &JobId,
        value: serde_json::Value,
    ) -> Result<Result<(), String>, EngineError> {
        let Some(mut r) = self.store.job(id)? else {
            return Ok(Err(format!("job {id} is no longer stored")));
        };
        let Some(intent) = r.intent.as_mut() else {
            return Ok(Err(format!("job {id} has no intent to keep progress with")));
        };
        intent.progress = Some(value);
        self.store.put_job_durable(&r)?;
        Ok(Ok(()))
    }

    /// A worker is ready to send `id`: store the intent, durably, and hand over what to send.
    pub(super) fn claim(&mut self, id: &JobId) -> Result<Option<Claimed>, EngineError> {
        self.queued.remove(id);
        let now = self.now();
        let Some(rec) = self.store.job(id)? else {
            return Ok(None);
        };
        let refuse = self.stopping
            || !matches!(rec.state, JobState::Pending | JobState::InFlight)
            || self.paused.contains_key(&rec.spec.account);
        if refuse {
            return Ok(None);
        }
        if rec.state == JobState::Pending {
            let parent = self.parent_of(&rec)?;
            let ready = rules::readiness(&rec, parent.as_ref(), self.only.is_some(), now);
            if !rules::claimable(&ready, now) {
                // Moved, or its post is not there after all: back to the agenda.
                self.dispatch(rec)?;
                return Ok(None);
            }
        }
        let mut earlier = Vec::new();
        let (parent, root, origin) = match rec.spec.kind {
            JobKind::Boost | JobKind::Unboost | JobKind::Quote | JobKind::Digest => {
                let Some(target) = self.boost_target(&rec)? else {
                    return Ok(None);
                };
                if rec.spec.kind == JobKind::Unboost {
                    earlier = self.earlier_boosts(&rec, &target)?;
                }
                let origin = self.config.account(&target.spec.account).map(|a| a.server.clone());
                (target.remote.clone(), None, origin)
            }
            JobKind::External => (None, None, None),
            _ => {
                let parent = self.posted_ancestor(&rec)?.and_then(|p| p.remote);
                let root = match &rec.spec.root {
                    Some(r) => self.store.job(r)?.filter(|r| r.state == JobState::Done).and_then(|r| r.remote),
                    None => None,
                }
                .or_else(|| parent.clone());
                (parent, root, None)
            }
        };
        let Some(client) = self.clients.get(&rec.spec.account) else {
            return Ok(None);
        };
        let mut r = rec;
        let intent = r.intent.get_or_insert_with(|| Intent::new(client.new_key(now), now));
        let resend = intent.reached;
        // From here the request may reach the server: on disk before it goes.
        intent.reached = true;
        r.state = JobState::InFlight;
        r.attempts = r.attempts.saturating_add(1);
        r.waiting = None;
        self.store.put_job_durable(&r)?;
        self.index.update(&r);
        let max_file_bytes = self.config.media.max_file_bytes;
        Ok(Some(Claimed { record: r, parent, root, origin, resend, earlier, at: now, max_file_bytes }))
    }

    /// A worker uploaded images for a claimed post: they are stored with its intent, durably,
    /// before the post that uses them is sent, so a resend after a crash can attach them again.
    /// `false` when the job is not claimed (then the worker does not post).
    pub(super) fn store_uploads(&mut self, id: &JobId, media: Vec<Uploaded>) -> Result<bool, EngineError> {
        if !self.claimed.contains_key(id) {
            return Ok(false);
        }
        let Some(mut r) = self.store.job(id)? else { return Ok(false) };
        let Some(intent) = r.intent.as_mut() else { return Ok(false) };
        debug!(job = %id, uploads = media.len(), "images uploaded: stored with the intent");
        intent.media = media;
        self.store.put_job_durable(&r)?;
        Ok(true)
    }

    /// The post a boost (or an unboost) is of: its parent, or through an unboost to the post.
    pub(super) fn boost_target(&self, rec: &JobRecord) -> Result<Option<JobRecord>, EngineError> {
        let done = |id: Option<&JobId>| -> Result<Option<JobRecord>, EngineError> {
            Ok(match id {
                Some(p) => self.store.job(p)?.filter(|p| p.state == JobState::Done),
                None => None,
            })
        };
        let Some(parent) = done(rec.spec.parent.as_ref())? else { return Ok(None) };
        match parent.spec.kind {
            JobKind::Unboost => done(parent.spec.parent.as_ref()),
            _ => Ok(Some(parent)),
        }
    }

    /// What the account's earlier boosts of the same post made, for an unboost to undo.
    pub(super) fn earlier_boosts(&self, undo: &JobRecord, target: &JobRecord) -> Result<Vec<RemoteRef>, EngineError> {
        let scope = |j: &JobRecord| match self.config.account(&j.spec.account) {
            // Mastodon ids are the reading server's own.
            Some(a) if a.network == crate::network::Network::Mastodon => a.server.to_string(),
            _ => String::new(),
        };
        let Some(wanted) = target.remote.as_ref() else { return Ok(Vec::new()) };
        let boosts = self.store.jobs_where(|b| {
            b.spec.kind == JobKind::Boost && b.state == JobState::Done && b.spec.account == undo.spec.account
        })?;
        let mut out = Vec::new();
        for b in boosts {
            let same = self
                .boost_target(&b)?
                .and_then(|t| t.remote.clone().map(|r| (scope(&t), r)))
                .is_some_and(|(s, r)| crate::follow::same_post((&s, &r), (&scope(target), wanted)));
            if same {
                out.extend(b.remote);
            }
        }
        Ok(out)
    }

    pub(super) fn finish(
        &mut self,
        id: &JobId,
        answer: Result<RemoteRef, PlatformError>,
        resend: bool,
    ) -> Result<(), EngineError> {
        self.claimed.remove(id);
        let Some(r) = self.store.job(id)? else {
            return Ok(());
        };
        let now = self.now();
        let account = r.spec.account.clone();
        let kind = r.spec.kind;
        let attempt = rules::Attempt { resend, unit: rand::random::<f64>() };
        let (r, verdict) = rules::outcome(r, answer, now, self.config.event.timezone, attempt);
        match &verdict {
            Verdict::Sent => {
                let url = r.remote.as_ref().and_then(|x| x.url.as_deref()).unwrap_or("");
                info!(job = %id, account = %account, url, "{} sent", kind.as_str());
                self.sent += 1;
                if let Some(signal) = &self.sent_signal {
                    signal.notify_one();
                }
            }
            Verdict::Refused { status, message } => {
                error!(job = %id, account = %account, status, error = %message, "refused by the server: failed for good")
            }
            Verdict::Internal(message) => {
                error!(job = %id, account = %account, error = %message, "cannot be sent: failed")
            }
            Verdict::PauseAccount(why) => self.pause(&account, why)?,
            Verdict::RateLimited(until) => {
                warn!(job = %id, account = %account, until = %until, "rate limited; waiting")
            }
            Verdict::Backoff { until, message } => {
                warn!(job = %id, account = %account, attempt = r.attempts, error = %message, until = %until, "failed; will retry")
            }
            Verdict::Recalled(why) => {
                info!(job = %id, account = %account, reason = %why, "called off, and never sent: cancelled")
            }
            Verdict::GaveUp(message) => {
                error!(job = %id, account = %account, error = %message, "still failing long after it was due: giving up")
            }
        }
        self.store.put_job_durable(&r)?;
        self.index.update(&r);
        match r.state {
            JobState::Pending if !self.paused.contains_key(&account) => self.agenda.set(id.clone(), r.ready_at()),
            JobState::Done | JobState::Failed | JobState::Cancelled => {
                for child in self.index.children(id) {
                    self.try_dispatch(&child)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

//! The engine's decisions, as pure functions of plain data and the clock's reading: when a job
//! may go ([`readiness`]), what a restart does with what the last run left ([`leftover`]), what
//! a server's answer makes of a job ([`outcome`]), and how long a failing job is tried before it
//! is given up, and which earlier image uploads a resent post may use ([`uploads`]). The loop in
//! `engine/mod.rs` sleeps, sends and writes; it decides nothing itself.

pub mod uploads;

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::retry;
use crate::checked;
use crate::job::{JobKind, JobRecord, JobState, RemoteRef};
use crate::platform::PlatformError;

/// A job still failing this long after it was due is given up.
pub const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::hours(12);

/// How long the engine waits after a 429 that said nothing about when to try again.
pub const UNSAID_RATE_WAIT: chrono::Duration = chrono::Duration::seconds(60);

/// A claim is honoured this close to a job's time: the worker waited for the rate budget, so it
/// may come a moment early, never sooner.
pub const CLAIM_SLACK: chrono::Duration = chrono::Duration::seconds(1);

/// Whether a pending job can go, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// It may go at this instant.
    At(DateTime<Utc>),
    /// It waits for something else (its post); the reason, for `status`.
    Wait(String),
    /// It can never go: cancel it with this reason.
    Cancel(String),
}

/// When a pending job may go, given the job it follows (`parent`, read from the store): a reply
/// after its post, a boost the planned distance after its post went out (late, or early by
/// hand); a boost of a post that failed has nothing to boost. `by_hand`: sent by a person
/// (`send`), so now, whatever the plan said.
pub fn readiness(job: &JobRecord, parent: Option<&JobRecord>, by_hand: bool, now: DateTime<Utc>) -> Readiness {
    let mut ready = job.ready_at();
    if let Some(parent) = parent {
        match parent.state {
            JobState::Done if job.state == JobState::Pending => {
                let posted = parent.done_at.unwrap_or(parent.spec.at);
                ready = match job.spec.kind {
                    JobKind::Boost | JobKind::Quote => {
                        let distance = (job.spec.at - parent.spec.at).max(chrono::Duration::zero());
                        let follow = checked::saturating_add(posted, distance);
                        job.not_before.map_or(follow, |nb| nb.max(follow))
                    }
                    _ => ready.max(posted),
                };
            }
            JobState::Done => {}
            JobState::Failed | JobState::Cancelled
                if job.spec.kind.amplifies() || job.spec.kind == JobKind::Unboost =>
            {
                return Readiness::Cancel(format!("nothing to boost: {} {}", parent.spec.id, parent.state.as_str()));
            }
            // A reply whose post failed answers the nearest post that went out.
            JobState::Failed | JobState::Cancelled => {}
            JobState::Pending | JobState::InFlight | JobState::Missed => {
                return Readiness::Wait(format!("waits for {} ({})", parent.spec.id, parent.state.as_str()));
            }
        }
    }
    if by_hand {
        ready = now;
    }
    Readiness::At(ready)
}

/// Whether a worker's claim on a pending job is honoured now: the job is ready within
/// [`CLAIM_SLACK`]. Anything else (moved, its post not there after all) goes back on the agenda.
pub fn claimable(readiness: &Readiness, now: DateTime<Utc>) -> bool {
    matches!(readiness, Readiness::At(t) if *t <= checked::saturating_add(now, CLAIM_SLACK))
}

/// What a start does with a job the last run left unsettled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leftover {
    /// Sent before the stop without an answer: send again now, with the same key.
    Resend,
    /// On the agenda at this instant.
    Due(DateTime<Utc>),
    /// Due too long ago: marked missed, with the reason.
    Missed(String),
}

/// The catch-up rule: an in-flight job goes again with its key; a pending one due more than
/// `catch_up` before `now`, or due already while the post it follows was missed, is missed; the
/// rest keep their time. `by_hand` (`send`): pending jobs go now.
pub fn leftover(
    job: &JobRecord,
    parent_missed: bool,
    by_hand: bool,
    now: DateTime<Utc>,
    catch_up: Duration,
    tz: Tz,
) -> Option<Leftover> {
    match job.state {
        JobState::InFlight => Some(Leftover::Resend),
        JobState::Pending if by_hand => Some(Leftover::Due(job.ready_at().min(now))),
        JobState::Pending => {
            let ready = job.ready_at();
            let cutoff = checked::saturating_add(now, -checked::span(catch_up).unwrap_or(chrono::Duration::MAX));
            let local = ready.with_timezone(&tz).format("%Y-%m-%d %H:%M");
            if ready < cutoff {
                Some(Leftover::Missed(format!(
                    "was due at {local}, more than {} before loudhailer started; `loudhailer send {}` sends it",
                    humantime::format_duration(catch_up),
                    job.spec.id
                )))
            } else if parent_missed && ready <= now {
                Some(Leftover::Missed(format!("was due at {local}, but the post it follows was missed")))
            } else {
                Some(Leftover::Due(ready))
            }
        }
        _ => None,
    }
}

/// What a server's answer made of a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Done; the remote post is stored.
    Sent,
    /// Failed for good: the server will never take it.
    Refused { status: u16, message: String },
    /// Something in loudhailer itself went wrong (not the server's answer): failed, with why.
    Internal(String),
    /// The credentials were refused: the account pauses with this reason, the job waits.
    PauseAccount(String),
    /// The server said to wait until then.
    RateLimited(DateTime<Utc>),
    /// Try again after a backoff.
    Backoff { until: DateTime<Utc>, message: String },
    /// Failed too long after it was due: given up.
    GaveUp(String),
    /// A recalled job the server never had: cancelled, with the reason it was called off.
    Recalled(String),
}

/// The request a server answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Attempt {
    /// It was sent as a resend: an earlier request may have reached the server.
    pub resend: bool,
    /// In [0, 1): draws the backoff's jitter; the caller passes a random number, tests a fixed one.
    pub unit: f64,
}

/// The record after a server's answer to `attempt`, and the verdict.
pub fn outcome(
    mut r: JobRecord,
    answer: Result<RemoteRef, PlatformError>,
    now: DateTime<Utc>,
    tz: Tz,
    attempt: Attempt,
) -> (JobRecord, Verdict) {
    let unit = attempt.unit;
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%H:%M:%S").to_string();
    let verdict = match answer {
        Ok(remote) => {
            r.state = JobState::Done;
            r.remote = Some(remote);
            r.done_at = Some(now);
            // A recalled job the server had: it went out before it was called off.
            r.error = r.recall.take().map(|why| format!("went out before it was called off ({why})"));
            r.waiting = None;
            r.not_before = None;
            Verdict::Sent
        }
        Err(PlatformError::NotSent) => {
            let why = r.recall.take().unwrap_or_else(|| "never sent".into());
            r.state = JobState::Cancelled;
            r.error = Some(why.clone());
            r.waiting = None;
            Verdict::Recalled(why)
        }
        Err(PlatformError::Permanent { status, message }) => {
            r.state = JobState::Failed;
            r.error = Some(format!("the server refused it ({status}): {message}"));
            r.waiting = None;
            Verdict::Refused { status, message }
        }
        Err(PlatformError::Internal { message }) => {
            r.state = JobState::Failed;
            r.error = Some(format!("loudhailer could not send it: {message}"));
            r.waiting = None;
            Verdict::Internal(message)
        }
        Err(e @ (PlatformError::Auth { .. } | PlatformError::NoCredentials(_))) => {
            let why = e.credentials_pause().unwrap_or_else(|| e.to_string());
            r.state = JobState::Pending;
            r.error = Some(e.to_string());
            r.waiting = Some(format!("account {} paused", r.spec.account));
            Verdict::PauseAccount(why)
        }
        Err(PlatformError::RateLimited { until }) => {
            // A 429 says the request was not done: whether a request may have reached the
            // server is what it was before this one.
            if let Some(intent) = r.intent.as_mut() {
                intent.reached = attempt.resend;
            }
            let until = until.unwrap_or_else(|| checked::saturating_add(now, UNSAID_RATE_WAIT));
            r.state = JobState::Pending;
            r.not_before = Some(until);
            r.error = Some("rate limited by the server (429)".into());
            r.waiting = Some(format!("rate limited by the server until {}", local(until)));
            Verdict::RateLimited(until)
        }
        // Gone twice in one try: the next try uploads afresh (it reuses nothing the server lost).
        Err(PlatformError::Retry(message) | PlatformError::MediaGone(message)) => {
            if now - r.spec.at > GIVE_UP_AFTER {
                r.state = JobState::Failed;
                r.error = Some(format!("gave up after {} attempts: {message}", r.attempts));
                Verdict::GaveUp(message)
            } else {
                let wait = retry::backoff(r.attempts, retry::BASE, retry::CAP, unit);
                let until = checked::saturating_after(now, wait);
                r.state = JobState::Pending;
                r.not_before = Some(until);
                r.error = Some(message.clone());
                r.waiting = Some(format!(
                    "backoff after {} failed attempts (last: {message}), next at {}",
                    r.attempts,
                    local(until)
                ));
                Verdict::Backoff { until, message }
            }
        }
    };
    (r, verdict)
}

#[cfg(test)]
mod tests;

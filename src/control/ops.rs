//! The control operations, written once over the store: the running engine applies them in its
//! own loop (so none is lost to a race) and reschedules what they changed, and the CLI applies
//! them to the store directly when no daemon runs. Each reads only the jobs it works on.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use super::{ControlError, Request, Response};
use crate::config::Config;
use crate::job::{JobId, JobKind, JobRecord, JobState, Origin};
use crate::plan;
use crate::store::Store;

/// What an operation changed, for the engine to reschedule.
#[derive(Debug, Default)]
pub struct Outcome {
    pub response: Response,
    /// Jobs whose state or time changed.
    pub changed: Vec<JobId>,
    /// Account pauses changed.
    pub accounts: bool,
    /// The plan changed (a suggestion approved): plan again and write what changed.
    pub replan: bool,
}

/// What an operation works on: the config, and the store its jobs are read from and written to.
pub struct Book<'a> {
    pub config: &'a Config,
    pub store: &'a Store,
    pub now: DateTime<Utc>,
}

fn refused(text: impl Into<String>) -> ControlError {
    ControlError::Refused(text.into())
}

/// `+15m`, `-5m`, `+1h30m` → seconds.
pub fn parse_offset(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (sign, rest) = match t.strip_prefix('-') {
        Some(r) => (-1, r),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let d = humantime::parse_duration(rest.trim())
        .map_err(|_| format!("expected an offset such as +15m or -5m, found {text:?}"))?;
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX).saturating_mul(sign);
    crate::checked::shift(secs).map_err(|e| e.to_string())?;
    Ok(secs)
}

fn offset_text(secs: i64) -> String {
    crate::checked::signed_text(secs)
}

/// What a said text becomes on one primary account: the account, the counter its posts are
/// measured with, and the posts.
type SayPieces<'a> = (&'a crate::config::Account, crate::count::Counter, Vec<crate::compose::Piece>);

/// The scope of the jobs a keyed `say` makes: `say-{key}`, so asking again with the same key
/// finds them (the jobs and their key are written in one batch).
fn say_scope(key: &str) -> Result<String, ControlError> {
    let ok = (8..=32).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !ok {
        return Err(refused("a say's key is 8 to 32 lower-case letters and digits"));
    }
    Ok(format!("say-{key}"))
}

impl Book<'_> {
    /// Applies one request. Read-only requests (`status`) change nothing.
    pub fn apply(&mut self, request: &Request) -> Result<Outcome, ControlError> {
        match request {
            Request::Status => Ok(Outcome { response: self.status()?, ..Default::default() }),
            Request::Shift { session, by_secs } => self.shift(session.as_deref(), *by_secs),
            Request::Skip { session } => self.skip(session),
            Request::Approve { session, n } => self.approve(session, *n),
            Request::Send { target } => self.send(target),
            Request::Say { text, thread, key, images } => self.say(text, thread.as_deref(), key.as_deref(), images),
            Request::Snippet { label, thread, key } => self.snippet(label, thread.as_deref(), key.as_deref()),
            Request::SendNext { session } => self.send_next(session),
            Request::Preview { text } => self.preview(text),
            Request::Desk { upcoming } => self.desk(*upcoming),
            Request::DeskLink { hash, expires } => self.desk_link(hash, *expires),
            Request::DeskSignIn { link, session, expires } => self.desk_sign_in(link, session, *expires),
            Request::DeskCheck { session } => self.desk_check(session),
            Request::DeskSignOut { session } => self.desk_sign_out(session),
            Request::DeskRevoke => self.desk_revoke(),
            Request::Pause { account } => self.pause(account.as_deref(), true),
            Request::Resume { account } => self.pause(account.as_deref(), false),
            Request::Retry { job } => self.retry(job),
            Request::Export => {
                let mut out = Vec::new();
                self.store.export(&mut out)?;
                let export = String::from_utf8_lossy(&out).into_owned();
                Ok(Outcome {
                    response: Response { ok: true, output: Some(export), ..Default::default() },
                    ..Default::default()
                })
            }
            Request::Report { format } => {
                use clap::ValueEnum;
                let format = crate::report::format::Format::from_str(format, true).map_err(refused)?;
                let jobs = self.store.jobs()?;
                let snapshots = self.store.metrics::<crate::report::Snapshot>()?;
                let made = crate::report::report(self.config, &jobs, &snapshots, self.now);
                let mut text = Vec::new();
                crate::report::format::write(&made, format, &mut text)
                    .map_err(|e| refused(format!("cannot write the report: {e}")))?;
                let output = String::from_utf8_lossy(&text).into_owned();
                Ok(Outcome {
                    response: Response { ok: true, output: Some(output), ..Default::default() },
                    ..Default::default()
                })
            }
            Request::Reload => Err(refused("no daemon is running: the next `loudhailer run` reads the files")),
            Request::Repost { url, at, accounts } => self.repost(url, *at, accounts),
            Request::Found { watch, posts, state } => self.found(watch, posts, state),
        }
    }

    fn status(&self) -> Result<Response, ControlError> {
        let mut jobs = self.store.jobs()?;
        jobs.sort_by(|a, b| a.spec.at.cmp(&b.spec.at).then_with(|| a.spec.id.cmp(&b.spec.id)));
        let mut paused = BTreeMap::new();
        for a in &self.config.accounts {
            if let Some(why) = self.store.account(&a.id)?.paused {
                paused.insert(a.id.clone(), why);
            }
        }
        let suggestions = plan::suggestions(self.config, &self.store.adjustments()?.approved);
        Ok(Response {
            ok: true,
            jobs: Some(jobs),
            paused: Some(paused),
            suggestions: Some(suggestions),
            ..Default::default()
        })
    }

    /// A session id, or the id of the session whose title matches (case-insensitively).
    fn session_id(&self, name: &str) -> Result<String, ControlError> {
        if self.config.session(name).is_some() || !self.session_jobs(name)?.is_empty() {
            return Ok(name.to_string());
        }
        let lower = name.to_lowercase();
        let matches: Vec<String> = self
            .config
            .sessions
            .iter()
            .filter(|s| s.title.to_lowercase() == lower || s.title.to_lowercase().starts_with(&lower))
            .map(|s| s.id)
            .collect();
        match matches.as_slice() {
            [one] => Ok(one.to_string()),
            [] => {
                let ids: Vec<String> = self.config.sessions.iter().map(|s| s.id).collect();
                Err(refused(format!("no session {name:?}; sessions: {}", ids.join(", "))))
            }
            many => Err(refused(format!("{name:?} could be {}; give the session's id", many.join(", ")))),
        }
    }

    fn write(&mut self, records: Vec<JobRecord>) -> Result<Vec<JobId>, ControlError> {
        self.store.put_jobs(&records)?;
        Ok(records.iter().map(|r| r.spec.id.clone()).collect())
    }

    /// The jobs of a session (planned, said in its thread, and their boosts).
    fn session_jobs(&self, session: &str) -> Result<Vec<JobRecord>, ControlError> {
        Ok(self.store.jobs_where(|j| j.spec.session.as_deref() == Some(session))?)
    }

    fn job(&self, id: &JobId) -> Result<Option<JobRecord>, ControlError> {
        Ok(self.store.job(id)?)
    }

    fn shift(&mut self, session: Option<&str>, by: i64) -> Result<Outcome, ControlError> {
        let session = session.map(|s| self.session_id(s)).transpose()?;
        crate::checked::shift(by).map_err(|e| refused(e.to_string()))?;
        let mut adj = self.store.adjustments()?;
        // Shifts add up; their sum for any session stays within the same limit as one shift.
        let total = |adj: &plan::Adjustments, s: Option<&String>| {
            adj.shift_all.saturating_add(s.and_then(|s| adj.shifts.get(s)).copied().unwrap_or(0))
        };
        match &session {
            Some(id) => {
                let entry = adj.shifts.entry(id.clone()).or_default();
                *entry = entry.saturating_add(by);
            }
            None => adj.shift_all = adj.shift_all.saturating_add(by),
        }
        let sessions: Vec<Option<&String>> = match &session {
            Some(id) => vec![Some(id)],
            None => std::iter::once(None).chain(adj.shifts.keys().map(Some)).collect(),
        };
        for s in sessions {
            let sum = total(&adj, s);
            if crate::checked::shift(sum).is_err() {
                let what = s.map_or("the sessions".to_string(), |s| s.to_string());
                return Err(refused(format!(
                    "{what} would be moved by {} in all, beyond the limit of ±{} days; nothing was moved",
                    offset_text(sum),
                    crate::checked::MAX_SHIFT.as_secs() / 86_400
                )));
            }
        }
        // The jobs of the session (or all), and which posts already went out: a boost of a post
        // that already went out follows that post, not the session.
        let jobs = match &session {
            Some(id) => self.session_jobs(id)?,
            None => self.store.jobs()?,
        };
        let sent: HashSet<&JobId> = jobs
            .iter()
            .filter(|j| matches!(j.state, JobState::Done | JobState::InFlight))
            .map(|j| &j.spec.id)
            .collect();
        let follows_sent =
            |j: &JobRecord| j.spec.kind.amplifies() && j.spec.parent.as_ref().is_some_and(|p| sent.contains(p));
        let moved: Vec<JobRecord> = jobs
            .iter()
            .filter(|j| j.state == JobState::Pending && j.pinned_at.is_none() && j.spec.origin == Origin::Plan)
            .filter(|j| !follows_sent(j))
            .map(|j| {
                let mut r = j.clone();
                r.spec.at = crate::checked::shifted(r.spec.at, by)
                    .map_err(|e| refused(format!("{}: {e}; nothing was moved", j.spec.id)))?;
                Ok(r)
            })
            .collect::<Result<_, ControlError>>()?;
        self.store.put_adjustments(&adj)?;
        let n = moved.len();
        let changed = self.write(moved)?;
        let what = session.map_or("every session".to_string(), |s| s.to_string());
        let message = format!("moved {n} pending jobs of {what} by {} (sent ones stay)", offset_text(by));
        Ok(Outcome { response: Response::message(message), changed, accounts: false, replan: false })
    }

    fn skip(&mut self, session: &str) -> Result<Outcome, ControlError> {
        let id = self.session_id(session)?;
        let mut adj = self.store.adjustments()?;
        adj.skipped.insert(id.clone());
        self.store.put_adjustments(&adj)?;
        // Jobs a request of which may have reached the server are recalled, not cancelled blind.
        let cancelled: Vec<JobRecord> = self
            .session_jobs(&id)?
            .into_iter()
            .filter(|j| matches!(j.state, JobState::Pending | JobState::Missed | JobState::Failed) || j.maybe_sent())
            .filter(|j| j.recall.is_none())
            .map(|j| {
                let mut r = j;
                r.call_off("session skipped");
                r
            })
            .collect();
        let n = cancelled.len();
        let changed = self.write(cancelled)?;
        Ok(Outcome {
            response: Response::message(format!("skipped {id}: cancelled {n} jobs")),
            changed,
            accounts: false,
            replan: false,
        })
    }

    /// Makes jobs due now; their boosts come back too, keeping their delay.
    fn send(&mut self, target: &str) -> Result<Outcome, ControlError> {
        let id = JobId(target.to_string());
        let heads: Vec<JobRecord> = match self.job(&id)? {
            Some(job) => vec![job],
            None => {
                let session = self
                    .session_id(target)
                    .map_err(|_| refused(format!("no job or session {target:?}; `loudhailer status` lists them")))?;
                self.session_jobs(&session)?.into_iter().filter(|j| !j.spec.kind.amplifies()).collect()
            }
        };
        self.send_heads(heads)
    }

    /// Makes these posts due now, and brings back their boosts that will not go otherwise.
    fn send_heads(&mut self, mut heads: Vec<JobRecord>) -> Result<Outcome, ControlError> {
        heads.sort_by(|a, b| a.spec.at.cmp(&b.spec.at).then_with(|| a.spec.id.cmp(&b.spec.id)));
        let wanted: HashSet<&JobId> = heads.iter().map(|j| &j.spec.id).collect();
        let boosts = self
            .store
            .jobs_where(|b| b.spec.kind.amplifies() && b.spec.parent.as_ref().is_some_and(|p| wanted.contains(p)))?;
        let mut out = Vec::new();
        let mut already = Vec::new();
        for job in &heads {
            let head = &job.spec.id;
            match job.state {
                JobState::Done => already.push(head.to_string()),
                JobState::InFlight => {}
                _ => {
                    let mut r = job.clone();
                    r.state = JobState::Pending;
                    r.pinned_at = Some(self.now);
                    r.not_before = None;
                    r.error = None;
                    r.waiting = None;
                    out.push(r);
                }
            }
            for boost in boosts.iter().filter(|b| b.spec.parent.as_ref() == Some(head)) {
                if matches!(boost.state, JobState::Missed | JobState::Cancelled | JobState::Failed) {
                    let mut r = boost.clone();
                    r.state = JobState::Pending;
                    r.error = None;
                    r.waiting = None;
                    r.not_before = None;
                    out.push(r);
                }
            }
        }
        if out.is_empty() && !already.is_empty() {
            return Err(refused(format!("already sent: {}", already.join(", "))));
        }
        let posts = out.iter().filter(|r| r.spec.kind != JobKind::Boost).count();
        let changed = self.write(out)?;
        let mut message = format!("sending {posts} jobs now, their boosts after them");
        if !already.is_empty() {
            message.push_str(&format!(" ({} already sent)", already.len()));
        }
        Ok(Outcome { response: Response::message(message), changed, accounts: false, replan: false })
    }

    fn pause(&mut self, account: Option<&str>, pause: bool) -> Result<Outcome, ControlError> {
        let ids: Vec<String> = match account {
            Some(a) if self.config.account(a).is_some() => vec![a.to_string()],
            Some(a) => {
                let all: Vec<&str> = self.config.accounts.iter().map(|x| x.id.as_str()).collect();
                return Err(refused(format!("no account {a:?}; accounts: {}", all.join(", "))));
            }
            None => self.config.accounts.iter().map(|a| a.id.clone()).collect(),
        };
        for id in &ids {
            self.store.update_account(id, |s| s.paused = if pause { Some("paused by hand".into()) } else { None })?;
        }
        let changed: Vec<JobId> = self
            .store
            .jobs_where(|j| ids.contains(&j.spec.account) && j.state == JobState::Pending)?
            .into_iter()
            .map(|j| j.spec.id)
            .collect();
        let verb = if pause { "paused" } else { "resumed" };
        Ok(Outcome {
            response: Response::message(format!("{verb} {}", ids.join(", "))),
            changed,
            accounts: true,
            replan: false,
        })
    }

    fn retry(&mut self, job: &str) -> Result<Outcome, ControlError> {
        let id = JobId(job.to_string());
        let Some(mut r) = self.job(&id)? else {
            return Err(refused(format!("no job {job:?}; `loudhailer status` lists them")));
        };
        if matches!(r.state, JobState::Done | JobState::InFlight) {
            return Err(refused(format!("{job} is {}: nothing to retry", r.state.as_str())));
        }
        r.state = JobState::Pending;
        r.attempts = 0;
        r.error = None;
        r.waiting = None;
        r.not_before = None;
        r.pinned_at = Some(self.now);
        let changed = self.write(vec![r])?;
        Ok(Outcome {
            response: Response::message(format!("retrying {job} now")),
            changed,
            accounts: false,
            replan: false,
        })
    }
}

mod desk;
mod follow;
mod say;
pub use say::keep_photo;
mod suggest;
#[cfg(test)]
mod tests;

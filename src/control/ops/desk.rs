//! The live desk's operations: its view of the event, the preview of a point being typed,
//! one-tap snippets, sending a session's next point, and its sign-ins. The view reads a
//! bounded part of the store (the jobs of the sessions around now by their id prefix, the
//! posts typed while running, the latest reading of each post shown), never every job. The
//! sign-ins keep and compare only SHA-256 digests of the secrets: no secret reaches the engine.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};

use super::{refused, Book, Outcome};
use crate::checked::saturating_add;
use crate::control::view::{
    AccountView, DeskView, JobLine, PostCopy, PostView, Preview, PreviewPiece, SessionRef, SessionView, SnippetView,
    LINK_LIFETIME_MAX, MAX_LINKS, MAX_SESSIONS, MAX_UPCOMING, SESSION_LIFETIME_MAX,
};
use crate::control::{ControlError, Response};
use crate::job::{JobKind, JobRecord, JobState, Origin};
use crate::plan::Adjustments;
use crate::report::Snapshot;
use crate::schedule::Session;
use crate::store::{DeskAuth, Grant};

/// The longest text a preview measures, in bytes (the desk's form is smaller still).
const PREVIEW_MAX: usize = 20_000;
/// How many sessions the thread choice lists.
const THREAD_CHOICES: usize = 60;
/// How many sessions after the next one the upcoming jobs are read from.
const SESSIONS_AHEAD: usize = 3;
/// How many failed jobs the view lists.
const FAILED_SHOWN: usize = 20;

/// A session with its shift applied: start, end, and the seconds it was moved by.
struct Placed<'a> {
    session: &'a Session,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    by: i64,
}

fn placed<'a>(sessions: &'a [Session], adj: &Adjustments) -> Vec<Placed<'a>> {
    let mut out: Vec<Placed> = sessions
        .iter()
        .filter(|s| !adj.skipped.contains(&s.id))
        .map(|s| {
            let by = adj.total(Some(&s.id));
            let d = chrono::Duration::seconds(by);
            Placed { session: s, start: saturating_add(s.start, d), end: saturating_add(s.end, d), by }
        })
        .collect();
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.session.id.cmp(&b.session.id)));
    out
}

/// The item of a planned post job, without its continuation: `p2` for `s.p2-2.delegate`.
fn base_item<'a>(session: &str, job: &'a str) -> Option<&'a str> {
    let rest = job.strip_prefix(session)?.strip_prefix('.')?;
    let (item, _account) = rest.rsplit_once('.')?;
    Some(item.split('-').next().unwrap_or(item))
}

fn is_hex_digest(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The session under way: the latest begun that has not ended.
fn under_way<'p, 'a>(sessions: &'p [Placed<'a>], begun: &[bool], now: DateTime<Utc>) -> Option<&'p Placed<'a>> {
    sessions.iter().zip(begun).filter(|(p, b)| **b && now < p.end).map(|(p, _)| p).max_by_key(|p| p.start)
}

impl Book<'_> {
    /// Which sessions have begun: at their (moved) start, or earlier when their thread already
    /// went out (moving a session under way keeps it under way).
    fn begun(&self, sessions: &[Placed]) -> Result<Vec<bool>, ControlError> {
        let now = self.now;
        let mut begun = Vec::with_capacity(sessions.len());
        for p in sessions {
            let moved_on = p.start > now && p.session.start <= now && now < p.end;
            let started = p.start <= now
                || (moved_on
                    && self
                        .store
                        .jobs_with_prefix(&format!("{}.", p.session.id))?
                        .iter()
                        .any(|j| j.spec.kind.is_post() && j.state == JobState::Done));
            begun.push(started);
        }
        Ok(begun)
    }

    /// The id of the session under way now, as the desk shows it (its thread is where a point
    /// goes by default), if any.
    pub(super) fn session_under_way(&self) -> Result<Option<String>, ControlError> {
        let adj = self.store.adjustments()?;
        let all = self.config.sessions.to_vec();
        let sessions = placed(&all, &adj);
        let begun = self.begun(&sessions)?;
        Ok(under_way(&sessions, &begun, self.now).map(|p| p.session.id.clone()))
    }

    /// The desk's view of the event now.
    pub(super) fn desk(&self, upcoming: usize) -> Result<Outcome, ControlError> {
        let now = self.now;
        let config = self.config;
        let adj = self.store.adjustments()?;
        let all = config.sessions.to_vec();
        let sessions = placed(&all, &adj);
        let begun = self.begun(&sessions)?;
        let current = under_way(&sessions, &begun, now);
        let next_at = sessions.iter().zip(&begun).position(|(p, b)| !*b && p.start > now);
        let next = next_at.map(|i| &sessions[i]);

        // Posts typed while running (`say`, snippets, and the copies of posts typed in the
        // networks' apps): few, and found by their id prefix.
        let mut said: Vec<JobRecord> =
            self.store.jobs_with_prefix("say")?.into_iter().filter(|j| j.spec.origin == Origin::Manual).collect();
        said.extend(self.store.jobs_with_prefix("cross-")?.into_iter().filter(|j| j.spec.origin == Origin::Crosspost));
        let jobs_of = |id: &str| -> Result<Vec<JobRecord>, ControlError> {
            let mut jobs = self.store.jobs_with_prefix(&format!("{id}."))?;
            jobs.extend(said.iter().filter(|j| j.spec.session.as_deref() == Some(id)).cloned());
            Ok(jobs)
        };

        let mut seen: Vec<JobRecord> = Vec::new();
        let mut read: HashSet<String> = HashSet::new();
        let mut view_of = |p: &Placed, seen: &mut Vec<JobRecord>| -> Result<SessionView, ControlError> {
            let jobs = jobs_of(&p.session.id)?;
            let v = self.session_view(p, &jobs)?;
            read.insert(p.session.id.clone());
            seen.extend(jobs);
            Ok(v)
        };
        let current_view = current.map(|p| view_of(p, &mut seen)).transpose()?;
        let next_view = next.map(|p| view_of(p, &mut seen)).transpose()?;
        // For what comes next and what failed: a few sessions after the next, and the two
        // before now.
        let ahead = next_at.map(|i| sessions.iter().skip(i + 1).take(SESSIONS_AHEAD)).into_iter().flatten();
        let started = sessions.iter().filter(|p| p.start <= now).rev().take(2);
        for p in ahead.chain(started) {
            if read.insert(p.session.id.clone()) {
                seen.extend(jobs_of(&p.session.id)?);
            }
        }
        seen.extend(said.iter().filter(|j| j.spec.session.is_none()).cloned());
        for r in &config.recurring {
            seen.extend(self.store.jobs_with_prefix(&format!("{}.", r.id))?);
        }
        seen.extend(self.store.jobs_with_prefix("repost.")?);
        let mut ids = HashSet::new();
        seen.retain(|j| ids.insert(j.spec.id.clone()));

        let mut coming: Vec<&JobRecord> = seen
            .iter()
            .filter(|j| j.spec.kind.is_post() && matches!(j.state, JobState::Pending | JobState::InFlight))
            .collect();
        coming.sort_by(|a, b| a.ready_at().cmp(&b.ready_at()).then_with(|| a.spec.id.cmp(&b.spec.id)));
        let upcoming_lines = coming.into_iter().take(upcoming.min(MAX_UPCOMING)).map(|j| self.line(j)).collect();

        let mut failed: Vec<&JobRecord> =
            seen.iter().filter(|j| matches!(j.state, JobState::Failed | JobState::Missed)).collect();
        failed.sort_by(|a, b| b.ready_at().cmp(&a.ready_at()).then_with(|| a.spec.id.cmp(&b.spec.id)));
        let failed_lines = failed.into_iter().take(FAILED_SHOWN).map(|j| self.line(j)).collect();

        let mut accounts = Vec::new();
        for a in &config.accounts {
            let stored = self.store.account(&a.id)?;
            let held = stored.hold_until.filter(|t| *t > now);
            let failing = seen
                .iter()
                .filter(|j| j.spec.account == a.id)
                .filter(|j| {
                    j.state == JobState::Failed || (j.state == JobState::Pending && j.attempts > 0 && j.error.is_some())
                })
                .count();
            accounts.push(AccountView {
                id: a.id.clone(),
                network: a.network,
                role: match a.role {
                    crate::config::Role::Primary => "primary".into(),
                    crate::config::Role::Amplifier => "amplifier".into(),
                },
                paused: stored.paused,
                held_why: held.and(stored.hold_reason),
                held_until: held,
                failing,
            });
        }

        let tz = config.event.timezone;
        let day = current.or(next).map_or(now, |p| p.start).with_timezone(&tz).date_naive();
        let choices = sessions
            .iter()
            .filter(|p| p.start.with_timezone(&tz).date_naive() == day)
            .take(THREAD_CHOICES)
            .map(|p| SessionRef { id: p.session.id.clone(), title: p.session.title.clone(), start: p.start })
            .collect();

        let view = DeskView {
            event: config.event.name.clone(),
            timezone: tz.name().to_string(),
            now,
            current: current_view,
            next: next_view,
            sessions: choices,
            upcoming: upcoming_lines,
            accounts,
            failed: failed_lines,
            snippets: config
                .snippets
                .iter()
                .map(|s| SnippetView { label: s.label.clone(), text: s.text.clone(), thread: s.thread })
                .collect(),
        };
        Ok(Outcome {
            response: Response { ok: true, desk: Some(Box::new(view)), ..Default::default() },
            ..Default::default()
        })
    }

    /// A session and the posts of its thread made so far, from its jobs.
    fn session_view(&self, p: &Placed, jobs: &[JobRecord]) -> Result<SessionView, ControlError> {
        let mut groups: BTreeMap<String, PostView> = BTreeMap::new();
        for j in jobs.iter().filter(|j| j.spec.kind.is_post()) {
            if !matches!(j.state, JobState::Done | JobState::InFlight) {
                continue;
            }
            let key = j.spec.id.as_str().rsplit_once('.').map_or(j.spec.id.as_str(), |(k, _)| k).to_string();
            let Some(network) = self.config.account(&j.spec.account).map(|a| a.network) else { continue };
            let reading = match &j.remote {
                Some(_) => self.store.latest_metric::<Snapshot>(&j.spec.id)?.map(|(_, s)| s),
                None => None,
            };
            let boosts: Vec<&JobRecord> = jobs
                .iter()
                .filter(|b| b.spec.kind == JobKind::Boost && b.spec.parent.as_ref() == Some(&j.spec.id))
                .collect();
            let copy = PostCopy {
                job: j.spec.id.clone(),
                account: j.spec.account.clone(),
                network,
                state: j.state,
                url: j.remote.as_ref().and_then(|r| r.url.clone()),
                counts: reading.as_ref().and_then(|s| s.counts().copied()),
                gone: matches!(reading, Some(Snapshot::Gone)),
                boosts_done: boosts.iter().filter(|b| b.state == JobState::Done).count(),
                boosts: boosts.len(),
            };
            let at = j.done_at.unwrap_or_else(|| j.ready_at());
            let entry = groups.entry(key.clone()).or_insert_with(|| PostView {
                key,
                text: j.spec.text.clone().unwrap_or_default(),
                at,
                copies: Vec::new(),
            });
            entry.at = entry.at.min(at);
            entry.copies.push(copy);
        }
        let mut posts: Vec<PostView> = groups.into_values().collect();
        posts.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.key.cmp(&b.key)));
        for post in &mut posts {
            post.copies.sort_by(|a, b| a.network.cmp(&b.network).then_with(|| a.account.cmp(&b.account)));
        }
        let mut unsent: Vec<&JobRecord> = jobs
            .iter()
            .filter(|j| j.spec.kind.is_post() && matches!(j.state, JobState::Pending | JobState::Missed))
            .collect();
        unsent.sort_by(|a, b| a.due_at().cmp(&b.due_at()).then_with(|| a.spec.id.cmp(&b.spec.id)));
        Ok(SessionView {
            id: p.session.id.clone(),
            title: p.session.title.clone(),
            start: p.start,
            end: p.end,
            shift_secs: p.by,
            // Posts, not copies: a point going to two networks is one post to go.
            pending: unsent
                .iter()
                .filter(|j| j.state == JobState::Pending)
                .map(|j| j.spec.id.as_str().rsplit_once('.').map_or(j.spec.id.as_str(), |(k, _)| k))
                .collect::<HashSet<_>>()
                .len(),
            next_point: unsent.first().and_then(|j| j.spec.text.clone()),
            posts,
            suggested: crate::plan::suggestions_of(p.session, &self.store.adjustments()?.approved),
        })
    }

    fn line(&self, j: &JobRecord) -> JobLine {
        JobLine {
            job: j.spec.id.clone(),
            account: j.spec.account.clone(),
            network: self.config.account(&j.spec.account).map(|a| a.network),
            kind: j.spec.kind,
            state: j.state,
            at: j.ready_at(),
            session: j.spec.session.clone(),
            text: j.spec.text.clone(),
            why: j.error.clone().or_else(|| j.waiting.clone()),
        }
    }

    /// What `say` would post from each primary account, measured as each network counts.
    pub(super) fn preview(&self, text: &str) -> Result<Outcome, ControlError> {
        if text.len() > PREVIEW_MAX {
            return Err(refused(format!("a point of more than {PREVIEW_MAX} bytes is not measured")));
        }
        let text = text.trim();
        let counters = crate::plan::counters(self.config, &self.store.known_counters()?);
        let lines: Vec<Preview> = if text.is_empty() {
            self.config
                .primaries()
                .filter_map(|a| {
                    let max = counters.get(&a.id)?.max();
                    Some(Preview { account: a.id.clone(), network: a.network, max, pieces: Vec::new() })
                })
                .collect()
        } else {
            self.say_pieces("preview", text)?
                .into_iter()
                .map(|(account, counter, pieces)| Preview {
                    account: account.id.clone(),
                    network: account.network,
                    max: counter.max(),
                    pieces: pieces
                        .into_iter()
                        .map(|p| PreviewPiece { count: counter.len(&p.text), text: p.text })
                        .collect(),
                })
                .collect()
        };
        Ok(Outcome {
            response: Response { ok: true, preview: Some(lines), ..Default::default() },
            ..Default::default()
        })
    }

    /// Says a `[[snippet]]`'s text, found by its label.
    pub(super) fn snippet(
        &mut self,
        label: &str,
        thread: Option<&str>,
        key: Option<&str>,
    ) -> Result<Outcome, ControlError> {
        let Some(snippet) = self.config.snippets.iter().find(|s| s.label == label).cloned() else {
            let labels: Vec<&str> = self.config.snippets.iter().map(|s| s.label.as_str()).collect();
            return Err(refused(format!("no snippet {label:?}; snippets: {}", labels.join(", "))));
        };
        self.say(&snippet.text, if snippet.thread { thread } else { None }, key, &[])
    }

    /// Sends a session's next unsent item (each primary account's post of it, continuations
    /// included) now.
    pub(super) fn send_next(&mut self, session: &str) -> Result<Outcome, ControlError> {
        let id = self.session_id(session)?;
        let jobs = self.store.jobs_with_prefix(&format!("{id}."))?;
        let unsent: Vec<&JobRecord> = jobs
            .iter()
            .filter(|j| j.spec.kind.is_post() && matches!(j.state, JobState::Pending | JobState::Missed))
            .collect();
        let Some(first) =
            unsent.iter().min_by(|a, b| a.due_at().cmp(&b.due_at()).then_with(|| a.spec.id.cmp(&b.spec.id)))
        else {
            return Err(refused(format!("{id} has nothing left to send")));
        };
        let item = base_item(&id, first.spec.id.as_str()).unwrap_or_default().to_string();
        let heads: Vec<JobRecord> =
            unsent.into_iter().filter(|j| base_item(&id, j.spec.id.as_str()) == Some(item.as_str())).cloned().collect();
        let mut out = self.send_heads(heads)?;
        if let Some(m) = &mut out.response.message {
            *m = format!("{id}: {item}: {m}");
        }
        Ok(out)
    }

    /// Stores a one-time sign-in (its digest) until `expires`.
    pub(super) fn desk_link(&mut self, hash: &str, expires: DateTime<Utc>) -> Result<Outcome, ControlError> {
        if !is_hex_digest(hash) {
            return Err(refused("a sign-in is stored as the SHA-256 of its secret, in lower-case hex"));
        }
        let longest = crate::checked::saturating_after(self.now, LINK_LIFETIME_MAX);
        if expires <= self.now || expires > longest {
            return Err(refused(format!(
                "a sign-in link works for at most {} minutes",
                LINK_LIFETIME_MAX.as_secs() / 60
            )));
        }
        let mut auth = self.live_auth()?;
        auth.links.push(Grant { hash: hash.to_string(), expires });
        let extra = auth.links.len().saturating_sub(MAX_LINKS);
        auth.links.drain(..extra);
        self.store.put_desk_auth(&auth)?;
        let local = expires.with_timezone(&self.config.event.timezone).format("%H:%M:%S");
        Ok(Outcome {
            response: Response::message(format!("a desk sign-in link works once, until {local}")),
            ..Default::default()
        })
    }

    /// Uses a sign-in link once, opening a desk session.
    pub(super) fn desk_sign_in(
        &mut self,
        link: &str,
        session: &str,
        expires: DateTime<Utc>,
    ) -> Result<Outcome, ControlError> {
        if !is_hex_digest(session) || expires <= self.now {
            return Err(refused("a desk session needs the digest of its secret and a time it ends"));
        }
        let expires = expires.min(crate::checked::saturating_after(self.now, SESSION_LIFETIME_MAX));
        let stored = self.store.desk_auth()?;
        let mut auth = self.live_auth()?;
        // Digests of 256-bit random secrets: comparing them leaks nothing of a secret.
        let Some(at) = auth.links.iter().position(|g| g.hash == link) else {
            if auth != stored {
                self.store.put_desk_auth(&auth)?;
            }
            return Err(refused(
                "that sign-in link was used before, has expired, or is not one: run `loudhailer desk` for a new one",
            ));
        };
        auth.links.remove(at);
        auth.sessions.push(Grant { hash: session.to_string(), expires });
        let extra = auth.sessions.len().saturating_sub(MAX_SESSIONS);
        auth.sessions.drain(..extra);
        self.store.put_desk_auth(&auth)?;
        Ok(Outcome { response: Response::message("a browser signed in to the desk"), ..Default::default() })
    }

    /// Whether a desk session is open. Reads only.
    pub(super) fn desk_check(&self, session: &str) -> Result<Outcome, ControlError> {
        let auth = self.store.desk_auth()?;
        if auth.sessions.iter().any(|g| g.hash == session && g.expires > self.now) {
            Ok(Outcome { response: Response { ok: true, ..Default::default() }, ..Default::default() })
        } else {
            Err(refused("not signed in to the desk"))
        }
    }

    pub(super) fn desk_sign_out(&mut self, session: &str) -> Result<Outcome, ControlError> {
        let mut auth = self.live_auth()?;
        auth.sessions.retain(|g| g.hash != session);
        self.store.put_desk_auth(&auth)?;
        Ok(Outcome { response: Response::message("a browser signed out of the desk"), ..Default::default() })
    }

    /// Ends every desk session and every unused sign-in link.
    pub(super) fn desk_revoke(&mut self) -> Result<Outcome, ControlError> {
        let auth = self.live_auth()?;
        let (sessions, links) = (auth.sessions.len(), auth.links.len());
        self.store.put_desk_auth(&DeskAuth::default())?;
        Ok(Outcome {
            response: Response::message(format!(
                "ended {sessions} desk sessions and {links} unused sign-in links: every browser must sign in again"
            )),
            ..Default::default()
        })
    }

    /// The stored sign-ins, less those that expired.
    fn live_auth(&self) -> Result<DeskAuth, ControlError> {
        let mut auth = self.store.desk_auth()?;
        auth.links.retain(|g| g.expires > self.now);
        auth.sessions.retain(|g| g.expires > self.now);
        Ok(auth)
    }
}

#[cfg(test)]
mod tests;

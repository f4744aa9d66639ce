//! The engine's life around the deadline loop: start-up (what the store knows of each account,
//! the plan, what the last run left), control requests and reloads, and what happens when an
//! account's check answers or its worker stops.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{debug, error, info, warn};

use super::rules::{self, Leftover};
use super::workers::ToEngine;
use super::{Engine, EngineError, Refusal};
use crate::compose::ComposeError;
use crate::config::Config;
use crate::control::ops::Book;
use crate::control::{Request, Response};
use crate::job::{JobId, JobState};
use crate::platform::{Client, Platform, PlatformError};
use crate::store::Store;

/// The first run on an account reads its server's length limits before planning; later runs plan
/// with the stored ones and check them beside the running engine. Paused accounts are not asked.
async fn read_first_limits(
    config: &Config,
    store: &Store,
    clients: &HashMap<String, Arc<Client>>,
    paused: &HashMap<String, String>,
) -> Result<(), EngineError> {
    let first: Vec<String> = config
        .primaries()
        .filter(|a| clients.contains_key(&a.id))
        .filter(|a| !paused.contains_key(&a.id))
        .map(|a| a.id.clone())
        .collect();
    let known = store.known_counters()?;
    for id in first.iter().filter(|id| !known.contains_key(*id)) {
        if let Some(client) = clients.get(id).cloned() {
            match tokio::time::timeout(Duration::from_secs(20), client.limits()).await {
                Ok(Ok(counter)) => {
                    store.update_account(id, |a| a.counter = Some(counter))?;
                }
                Ok(Err(e)) => {
                    warn!(account = %id, error = %e, "cannot read the server's limits; using the default ones")
                }
                Err(_) => warn!(account = %id, "the server did not say its limits in time; using the default ones"),
            }
        }
    }
    Ok(())
}

/// What a plan made before the engine started had to say, and how many jobs it wrote.
#[derive(Debug, Default)]
pub struct Prepared {
    pub notes: Vec<String>,
    pub written: usize,
}

/// The part of the engine's start-up that plans: reads the servers' limits a first run needs
/// and plans and stores the event ([`super::plan_and_store`]), so that `run` can do it before
/// anything else holds the store (see `cli::run`). The engine's own start, told so through
/// [`super::Setup::prepared`], then reads no limits and plans nothing again. A plan that cannot
/// be made is an error, as at the engine's start.
pub async fn prepare(
    config: &Config,
    store: &Store,
    clients: &HashMap<String, Arc<Client>>,
) -> Result<Prepared, EngineError> {
    store.bind_event(&config.event.name)?;
    let mut paused = HashMap::new();
    for account in &config.accounts {
        if let Some(reason) = store.account(&account.id)?.paused {
            paused.insert(account.id.clone(), reason);
        }
    }
    read_first_limits(config, store, clients, &paused).await?;
    let planned = super::plan_and_store(config, store)?.map_err(EngineError::from)?;
    Ok(Prepared { notes: planned.notes, written: planned.written.len() })
}

impl Engine {
    /// Restores what the store knows of each account (pauses, the server's holds), plans,
    /// settles what the last run left (in-flight jobs go again with their key; jobs due too long
    /// ago become missed), and starts the workers and the accounts' checks.
    pub(super) async fn start(&mut self, tx: &mpsc::UnboundedSender<ToEngine>) -> Result<(), EngineError> {
        self.store.bind_event(&self.config.event.name)?;
        // The jobs are read and checked in full by the merge below; the rest is checked here.
        self.store.verify_except_jobs()?;
        let config = self.config.clone();
        let now = self.now();
        for account in &config.accounts {
            let stored = self.store.account(&account.id)?;
            if let Some(reason) = stored.paused {
                self.paused.insert(account.id.clone(), reason);
            }
            if let (Some(until), Some(limiter)) = (stored.hold_until, self.limiters.get(&account.id)) {
                if until > now {
                    // Never longer than this run allows (the config may have lowered it).
                    let until = until.min(crate::checked::saturating_after(now, limiter.longest_hold()));
                    let why = stored.hold_reason.unwrap_or_else(|| "the server asked to wait".into());
                    info!(account = %account.id, until = %until, "the server's hold from before the restart still stands");
                    limiter.hold_until(until, why);
                }
            }
        }
        // `run` planned already (`prepare`), with the same config and store.
        if !self.planned_ahead {
            read_first_limits(&config, &self.store, &self.clients, &self.paused).await?;
            let (notes, _) = match self.replan(&self.config.clone())? {
                Ok(done) => done,
                Err(e) => return Err(e.into()),
            };
            self.notes.extend(notes);
        }
        self.settle_leftovers()?;
        for (account, client) in &self.clients {
            if let Some(limiter) = self.limiters.get(account) {
                self.workers.start(account, client.clone(), limiter.clone());
                self.workers.forward_holds(account, limiter, tx.clone());
            }
        }
        for account in &config.accounts {
            if let Some(client) = self.clients.get(&account.id) {
                let primary = account.role == crate::config::Role::Primary;
                self.workers.check(&account.id, client.clone(), primary, tx.clone());
            }
        }
        Ok(())
    }

    /// Plans `config` and merges the plan into the stored jobs. A plan that cannot be made
    /// (a template that fails on a session) changes nothing and comes back as the inner error.
    /// Returns what the user should know, and the jobs written.
    #[allow(clippy::type_complexity)]
    pub(super) fn replan(
        &mut self,
        config: &Config,
    ) -> Result<Result<(Vec<String>, Vec<JobId>), ComposeError>, EngineError> {
        Ok(super::plan_and_store(config, &self.store)?.map(|p| {
            if p.unchanged {
                debug!(
                    "the config, its files and the servers' limits are as when the jobs were stored: nothing to plan"
                );
            }
            (p.notes, p.written)
        }))
    }

    /// Answers a control request; every change goes through here, one at a time.
    pub(super) fn control(&mut self, request: &Request) -> Result<Response, EngineError> {
        if *request == Request::Reload {
            return self.reload();
        }
        let now = self.now();
        let outcome = Book { config: &self.config, store: &self.store, now }.apply(request);
        let outcome = match outcome {
            Ok(o) => o,
            Err(crate::control::ControlError::Store(e)) => return Err(e.into()),
            Err(e) => return Ok(Response::error(e.to_string())),
        };
        if outcome.accounts {
            self.refresh_pauses()?;
        }
        let mut changed = outcome.changed;
        if outcome.replan {
            let config = self.config.clone();
            match self.replan(&config)? {
                Ok((_, written)) => changed.extend(written),
                Err(e) => return Ok(Response::error(format!("{e} (in a session of the schedule)"))),
            }
        }
        for id in &changed {
            self.reschedule(id)?;
        }
        if let Some(message) = &outcome.response.message {
            info!("control: {message}");
        }
        let mut response = outcome.response;
        if matches!(request, Request::Status | Request::Desk { .. }) {
            response.reload = self.refused_reload.as_ref().map(|r| self.refusal_text(r));
            response.workers = Some(self.workers.failures());
            let tz = self.config.event.timezone;
            let holds = self
                .limiters
                .iter()
                .filter_map(|(a, l)| {
                    let (until, why) = l.held()?;
                    Some((a.clone(), format!("until {} ({why})", until.with_timezone(&tz).format("%H:%M:%S"))))
                })
                .collect();
            response.holds = Some(holds);
        }
        Ok(response)
    }

    pub(super) fn refusal_text(&self, r: &Refusal) -> String {
        let local = r.at.with_timezone(&self.config.event.timezone).format("%H:%M:%S");
        format!("the config edit read at {local} was refused; the event runs on as before:\n{}", r.why)
    }

    /// Reads the config (and schedule) again and plans again. A file that no longer reads, or
    /// a plan that cannot be made, changes nothing: the reason is logged and shown by `status`
    /// until a good edit replaces it.
    pub(super) fn reload(&mut self) -> Result<Response, EngineError> {
        let refuse = |engine: &mut Engine, why: String| {
            error!("the config was not reloaded; nothing changed:\n{why}");
            engine.refused_reload = Some(Refusal { at: engine.now(), why: why.clone() });
            Ok(Response::error(format!("the config was not reloaded; nothing changed:\n{why}")))
        };
        let mut config = match Config::load_in(&self.config.path, Some(&self.config.state_dir)) {
            Ok(c) => c,
            Err(e) => return refuse(self, e.to_string()),
        };
        config.state_dir = self.config.state_dir.clone();
        if config.event.name != self.config.event.name {
            return refuse(
                self,
                format!(
                    "the event's name changed from {:?} to {:?}: the state dir belongs to the first; restart loudhailer with its own [state] dir for a new event",
                    self.config.event.name, config.event.name
                ),
            );
        }
        let (notes, written) = match self.replan(&config)? {
            Ok(done) => done,
            Err(e) => return refuse(self, format!("{e} (in a session of the schedule)")),
        };
        for a in &config.accounts {
            if !self.clients.contains_key(&a.id) {
                warn!(account = %a.id, "a new account in the config: restart loudhailer to use it");
            }
        }
        let announced = match config.announce_changes {
            Some(threshold) => crate::plan::announce::announcements(
                &self.config.sessions.to_vec(),
                &config.sessions.to_vec(),
                threshold,
                self.now(),
                config.event.timezone,
            ),
            None => Vec::new(),
        };
        self.config = Arc::new(config);
        self.refused_reload = None;
        self.refresh_pauses()?;
        for id in &written {
            self.reschedule(id)?;
        }
        self.announce(announced)?;
        let message = if notes.is_empty() {
            "reloaded the config".to_string()
        } else {
            format!("reloaded the config: {}", notes.join("; "))
        };
        info!("{message}");
        Ok(Response::message(message))
    }

    /// Posts each note from the primary accounts, as `say` does (amplified like the rest); its
    /// key makes the same change announced once, however often it is read.
    fn announce(&mut self, notes: Vec<crate::plan::announce::Announcement>) -> Result<(), EngineError> {
        for note in notes {
            let now = self.now();
            let request =
                Request::Say { text: note.text.clone(), thread: None, key: Some(note.key), images: Vec::new() };
            match (Book { config: &self.config, store: &self.store, now }).apply(&request) {
                Ok(outcome) => {
                    info!("announcing a change in the programme: {}", note.text);
                    for id in &outcome.changed {
                        self.reschedule(id)?;
                    }
                }
                Err(crate::control::ControlError::Store(e)) => return Err(e.into()),
                Err(e) => warn!(error = %e, "cannot announce {:?}", note.text),
            }
        }
        Ok(())
    }

    /// Puts a job back on the agenda (or off it) after its state or time changed in the store,
    /// by the same rule that dispatches it.
    pub(super) fn reschedule(&mut self, id: &JobId) -> Result<(), EngineError> {
        if self.queued.contains(id) || self.claimed.contains_key(id) {
            return Ok(());
        }
        self.agenda.remove(id);
        match self.store.job(id)? {
            // Beyond the horizon: left in the store until it comes within it.
            Some(rec) if !rec.state.is_settled() && rec.ready_at() > self.loaded_until && self.only.is_none() => {
                self.index.remove(id);
                let at = rec.ready_at();
                self.next_unloaded = Some(self.next_unloaded.map_or(at, |n| n.min(at)));
            }
            Some(rec) => {
                self.index.update(&rec);
                if !rec.state.is_settled() {
                    self.dispatch(rec)?;
                }
            }
            None => self.index.remove(id),
        }
        Ok(())
    }

    /// Reads which accounts are paused; jobs of resumed accounts go back on the agenda.
    pub(super) fn refresh_pauses(&mut self) -> Result<(), EngineError> {
        let mut resumed = Vec::new();
        for a in &self.config.accounts {
            match self.store.account(&a.id)?.paused {
                Some(why) => {
                    self.paused.insert(a.id.clone(), why);
                }
                None => {
                    if self.paused.remove(&a.id).is_some() {
                        resumed.push(a.id.clone());
                    }
                }
            }
        }
        for account in resumed {
            self.revive_worker(&account);
            for id in self.index.of_account(&account) {
                self.reschedule(&id)?;
            }
        }
        Ok(())
    }

    /// Builds the index of unsettled jobs from the store, and applies the catch-up rule to
    /// what the last run left.
    /// Reads from the store what is due up to the horizon (everything still unsettled before
    /// it, however old) and applies the catch-up rule to it: the last run's leftovers.
    pub(super) fn settle_leftovers(&mut self) -> Result<(), EngineError> {
        let now = self.now();
        let until = crate::checked::saturating_add(now, super::HORIZON);
        let mut open = self.store.due_until(None, until)?;
        if let Some(only) = &self.only {
            // `send` pins its jobs to now; any of them not due by the horizon still runs.
            let mut extra = Vec::new();
            for id in only.iter().filter(|id| !open.iter().any(|r| &r.spec.id == *id)) {
                extra.extend(self.store.job(id)?.filter(|r| !r.state.is_settled()));
            }
            open.extend(extra);
            open.retain(|r| only.contains(&r.spec.id));
        }
        let mut missed_now: HashSet<JobId> = HashSet::new();
        let mut changed = Vec::new();
        for rec in open {
            let id = rec.spec.id.clone();
            let parent_missed = match &rec.spec.parent {
                Some(p) if missed_now.contains(p) => true,
                Some(p) => self.store.job(p)?.is_some_and(|p| p.state == JobState::Missed),
                None => false,
            };
            let tz = self.config.event.timezone;
            match rules::leftover(&rec, parent_missed, self.only.is_some(), now, self.config.catch_up, tz) {
                Some(Leftover::Resend) => {
                    info!(job = %id, "sent before the last stop without an answer: sending again with the same key");
                    self.index.update(&rec);
                    self.agenda.set(id, now);
                }
                Some(Leftover::Due(at)) => {
                    self.index.update(&rec);
                    self.agenda.set(id, at);
                }
                Some(Leftover::Missed(why)) => {
                    let mut r = rec;
                    r.state = JobState::Missed;
                    r.waiting = Some(why);
                    missed_now.insert(id);
                    changed.push(r);
                }
                None => {}
            }
        }
        self.loaded_until = until;
        self.next_unloaded = if self.only.is_some() { None } else { self.store.next_due_after(until)? };
        let missed = changed.len();
        if missed > 0 {
            warn!(jobs = missed, "jobs were due too long ago and are marked missed (see `loudhailer status`)");
            self.notes.push(format!("{missed} jobs were missed (due more than the catch-up window before the start)"));
        }
        self.store.put_jobs(&changed)?;
        Ok(())
    }

    /// Reads the jobs that have come within the horizon since the last read, onto the agenda
    /// (at their own time: what they wait for is looked at when they are due).
    pub(super) fn load_ahead(&mut self) -> Result<(), EngineError> {
        let Some(next) = self.next_unloaded else { return Ok(()) };
        let now = self.now();
        if crate::checked::saturating_add(next, -super::HORIZON) > now {
            return Ok(());
        }
        let until = crate::checked::saturating_add(now, super::HORIZON);
        let records = self.store.due_until(Some(self.loaded_until), until)?;
        debug!(jobs = records.len(), until = %until, "jobs within the horizon read from the store");
        for rec in records {
            if self.queued.contains(&rec.spec.id) || self.claimed.contains_key(&rec.spec.id) {
                continue;
            }
            self.index.update(&rec);
            self.agenda.set(rec.spec.id.clone(), rec.ready_at());
        }
        self.loaded_until = until;
        self.next_unloaded = self.store.next_due_after(until)?;
        Ok(())
    }

    /// What an account's check found: its id on the network (or refused credentials), and the
    /// server's length limits (a change plans the account's posts again).
    pub(super) fn checked(
        &mut self,
        account: &str,
        verified: Result<String, PlatformError>,
        counter: Option<Result<crate::count::Counter, PlatformError>>,
    ) -> Result<(), EngineError> {
        match verified {
            Ok(remote_id) => {
                let auth_paused = self.paused.get(account).is_some_and(|p| crate::platform::is_credentials_pause(p));
                self.store.update_account(account, |a| {
                    a.remote_id = Some(remote_id);
                    if auth_paused {
                        a.paused = None;
                    }
                })?;
                if auth_paused {
                    info!(account = %account, "the credentials work again: resuming the account");
                    self.refresh_pauses()?;
                }
            }
            Err(e) => match e.credentials_pause() {
                Some(why) => self.pause(account, &why)?,
                None => warn!(account = %account, error = %e, "cannot check the account now; its jobs will be retried"),
            },
        }
        match counter {
            Some(Ok(counter)) => {
                let before = self.store.account(account)?.counter;
                if before != Some(counter) {
                    self.store.update_account(account, |a| a.counter = Some(counter))?;
                    info!(account = %account, "the server's length limits changed: planning its posts again");
                    let config = self.config.clone();
                    match self.replan(&config)? {
                        Ok((notes, written)) => {
                            self.notes.extend(notes);
                            for id in &written {
                                self.reschedule(id)?;
                            }
                        }
                        Err(e) => error!(account = %account, error = %e, "cannot plan with the new limits"),
                    }
                }
            }
            Some(Err(e)) => {
                warn!(account = %account, error = %e, "cannot read the server's limits; using the stored or default ones")
            }
            None => {}
        }
        Ok(())
    }

    /// A worker stopped on its own: its jobs go back to the agenda (claimed ones resend with
    /// their key), and it is restarted, or the account is paused when it keeps failing.
    pub(super) fn worker_stopped(&mut self, account: &str, why: &str) -> Result<(), EngineError> {
        if self.stopping {
            return Ok(());
        }
        let mut orphans: Vec<JobId> =
            self.claimed.iter().filter(|(_, a)| a.as_str() == account).map(|(id, _)| id.clone()).collect();
        for id in &orphans {
            self.claimed.remove(id);
        }
        for id in self.queued.clone() {
            if self.index.account(&id) == Some(account) {
                self.queued.remove(&id);
                orphans.push(id);
            }
        }
        match self.workers.restart(account, why, self.now()) {
            Ok(()) => {
                error!(account = %account, reason = %why, jobs = orphans.len(), "the account's worker stopped; restarted it, its jobs go on");
            }
            Err(gave_up) => {
                self.pause(account, &gave_up)?;
            }
        }
        for id in &orphans {
            self.reschedule(id)?;
        }
        Ok(())
    }

    /// Starts an account's worker again if it is not running (after a resume).
    pub(super) fn revive_worker(&mut self, account: &str) {
        if let (Some(client), Some(limiter)) = (self.clients.get(account), self.limiters.get(account)) {
            if !self.workers.is_running(account) {
                info!(account = %account, "starting the account's worker again");
                self.workers.start(account, client.clone(), limiter.clone());
            }
        }
    }
}

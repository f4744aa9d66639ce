//! The daemon: sleeps until the next deadline, hands due jobs to their account's worker, and
//! records every intent and outcome in the store. The one place that sleeps, sends and writes
//! jobs; what it decides is in [`rules`], pure.
//!
//! A job goes: pending → (due, parent done, account not paused, write budget free) → claimed:
//! the intent and its key are flushed to disk → in-flight → done with the remote id, or back
//! to pending with a backoff, or failed for good with the server's words. After a crash, an
//! in-flight job is sent again with the same key, so the server recognises it.
//!
//! The store is the memory: the engine keeps only the unsettled jobs' ids, accounts and
//! parents ([`index`]) and their deadlines ([`agenda`]); a job's record is read when it is due,
//! shown or changed. Each account's worker is watched: one that stops (a panic) is restarted,
//! and an account whose worker keeps failing is paused with the reason, never left silent.
//! The engine stops when the shutdown token is cancelled (or, with `exit_when_done`, when
//! nothing is left), and lets requests under way finish for a short grace.

mod agenda;
mod index;
pub mod retry;
pub mod rules;
mod workers;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::clock::Clock;
use crate::compose::ComposeError;
use crate::config::Config;
use crate::control::ops::Book;
use crate::control::server::Envelope;
use crate::control::{Request, Response};
use crate::job::{Intent, JobId, JobKind, JobRecord, JobState, RemoteRef};
use crate::limit::Limiter;
use crate::plan;
use crate::platform::{Client, Platform, PlatformError};
use crate::store::{Store, StoreError};
use agenda::Agenda;
use index::Index;
use rules::{Leftover, Readiness, Verdict};
use workers::{Claimed, ToEngine, Workers};

/// How long requests under way may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);
pub use rules::GIVE_UP_AFTER;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Compose(#[from] ComposeError),
}

/// Everything the engine runs with.
pub struct Setup {
    pub config: Arc<Config>,
    pub store: Store,
    pub clock: Clock,
    /// One client per account id.
    pub clients: HashMap<String, Arc<Client>>,
    pub limiters: HashMap<String, Arc<Limiter>>,
    /// Exit once nothing is left that can go out.
    pub exit_when_done: bool,
    /// Run only these jobs (`send`); `None` runs the whole plan.
    pub only: Option<HashSet<JobId>>,
    /// Control requests (the socket, SIGHUP, file edits), answered in the engine's own loop.
    pub control: Option<mpsc::UnboundedReceiver<Envelope>>,
    /// Signalled once when start-up is done (the planned jobs are merged and in-flight jobs
    /// settled), then whenever a job goes out: the engagement collector waits on it.
    pub sent: Option<Arc<tokio::sync::Notify>>,
    /// With `exit_when_done`: true once the `[[follow]]` watches have ended (what they find
    /// adds jobs, so nothing is done before they are).
    pub watches_over: Option<watch::Receiver<bool>>,
}

/// What a run ended with.
#[derive(Debug, Default)]
pub struct Summary {
    pub by_state: BTreeMap<&'static str, usize>,
    /// Requests that succeeded during this run.
    pub sent: usize,
    /// Things the user should know: missed jobs, failures, paused accounts, plan notes.
    pub notes: Vec<String>,
}

impl Summary {
    /// Jobs that did not go out and will not without a person's word: failed or missed.
    pub fn unsent(&self) -> usize {
        ["failed", "missed"].iter().filter_map(|s| self.by_state.get(s)).sum()
    }
}

/// A reload that was refused: when, and why. Shown by `status` until a good edit replaces it.
#[derive(Debug, Clone)]
struct Refusal {
    at: DateTime<Utc>,
    why: String,
}

struct Engine {
    config: Arc<Config>,
    store: Store,
    clock: Clock,
    clients: HashMap<String, Arc<Client>>,
    limiters: HashMap<String, Arc<Limiter>>,
    index: Index,
    agenda: Agenda,
    /// Handed to a worker, not yet claimed.
    queued: HashSet<JobId>,
    /// Claimed by a worker (the intent is stored): the answer is awaited.
    claimed: HashMap<JobId, String>,
    paused: HashMap<String, String>,
    workers: Workers,
    only: Option<HashSet<JobId>>,
    sent_signal: Option<Arc<tokio::sync::Notify>>,
    stopping: bool,
    sent: usize,
    notes: Vec<String>,
    refused_reload: Option<Refusal>,
}

/// Runs the event until `shutdown` is cancelled (or, with `exit_when_done`, until nothing is
/// left).
pub async fn run(setup: Setup, shutdown: CancellationToken) -> Result<Summary, EngineError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut control = setup.control;
    let mut watches_over = setup.watches_over;
    let exit_when_done = setup.exit_when_done;
    // The workers' own stop: cancelled with the shutdown, or when the engine is done.
    let stop = shutdown.child_token();
    let mut engine = Engine {
        workers: Workers::new(tx.clone(), stop.clone()),
        config: setup.config,
        store: setup.store,
        clock: setup.clock,
        clients: setup.clients,
        limiters: setup.limiters,
        index: Index::default(),
        agenda: Agenda::default(),
        queued: HashSet::new(),
        claimed: HashMap::new(),
        paused: HashMap::new(),
        only: setup.only,
        sent_signal: setup.sent,
        stopping: false,
        sent: 0,
        notes: Vec::new(),
        refused_reload: None,
    };
    let started = tokio::select! {
        biased;
        _ = shutdown.cancelled() => false,
        ready = engine.start(&tx) => { ready?; true }
    };
    if !started {
        info!("shutting down before the start finished");
        stop.cancel();
        return engine.summary();
    }
    // Start-up decoded and planned every job; most of that is free again.
    crate::heap::give_back();
    // The collector reads every job too: it waits for this, so start-up has the machine to
    // itself until the first due job can go.
    if let Some(signal) = &engine.sent_signal {
        signal.notify_one();
    }
    loop {
        let watched = watches_over.as_ref().is_none_or(|over| *over.borrow());
        if exit_when_done
            && watched
            && engine.agenda.is_empty()
            && engine.queued.is_empty()
            && engine.claimed.is_empty()
        {
            info!("nothing left to send");
            break;
        }
        let next = engine.agenda.next();
        let clock = engine.clock;
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => {
                info!("shutting down");
                break;
            }
            Some(msg) = rx.recv() => engine.handle(msg)?,
            Some((account, why)) = engine.workers.stopped() => engine.worker_stopped(&account, &why)?,
            _ = async {
                let changed = match watches_over.as_mut() {
                    Some(over) => over.changed().await.is_ok(),
                    None => false,
                };
                if !changed {
                    std::future::pending::<()>().await;
                }
            } => {}
            Some((request, reply)) = async {
                match control.as_mut() {
                    Some(c) => c.recv().await,
                    None => std::future::pending().await,
                }
            } => {
                let response = engine.control(&request)?;
                if let Some(reply) = reply {
                    let _ = reply.send(response);
                }
            }
            _ = async move {
                match next {
                    Some(t) => clock.sleep_until(t).await,
                    None => std::future::pending().await,
                }
            } => engine.dispatch_due()?,
        }
    }
    // Let requests under way finish (briefly); everything else stays safely resumable.
    engine.stopping = true;
    stop.cancel();
    let grace = tokio::time::sleep(SHUTDOWN_GRACE);
    tokio::pin!(grace);
    while !engine.claimed.is_empty() {
        tokio::select! {
            _ = &mut grace => {
                warn!(jobs = engine.claimed.len(), "requests still under way at shutdown; they resume with the same key on the next start");
                break;
            }
            Some(msg) = rx.recv() => engine.handle(msg)?,
        }
    }
    engine.workers.shut_down().await;
    engine.store.flush()?;
    engine.summary()
}

impl Engine {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Restores what the store knows of each account (pauses, the server's holds), plans,
    /// settles what the last run left (in-flight jobs go again with their key; jobs due too long
    /// ago become missed), and starts the workers and the accounts' checks.
    async fn start(&mut self, tx: &mpsc::UnboundedSender<ToEngine>) -> Result<(), EngineError> {
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
                    let why = stored.hold_reason.unwrap_or_else(|| "the server asked to wait".into());
                    info!(account = %account.id, until = %until, "the server's hold from before the restart still stands");
                    limiter.hold_until(until, why);
                }
            }
        }
        // The first run on an account reads its server's length limits before planning; later
        // runs plan with the stored ones and check them beside the running engine.
        let first: Vec<String> = config
            .primaries()
            .filter(|a| self.clients.contains_key(&a.id))
            .filter(|a| !self.paused.contains_key(&a.id))
            .map(|a| a.id.clone())
            .collect();
        let known = self.store.known_counters()?;
        for id in first.iter().filter(|id| !known.contains_key(*id)) {
            if let Some(client) = self.clients.get(id).cloned() {
                let no_wait = |_: DateTime<Utc>, _: &str| {};
                match tokio::time::timeout(Duration::from_secs(20), client.limits(&no_wait)).await {
                    Ok(Ok(counter)) => {
                        self.store.update_account(id, |a| a.counter = Some(counter))?;
                    }
                    Ok(Err(e)) => {
                        warn!(account = %id, error = %e, "cannot read the server's limits; using the default ones")
                    }
                    Err(_) => warn!(account = %id, "the server did not say its limits in time; using the default ones"),
                }
            }
        }
        let (notes, _) = match self.replan(&self.config.clone())? {
            Ok(done) => done,
            Err(e) => return Err(e.into()),
        };
        self.notes.extend(notes);
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
    fn replan(&mut self, config: &Config) -> Result<Result<(Vec<String>, Vec<JobId>), ComposeError>, EngineError> {
        let counters = plan::counters(config, &self.store.known_counters()?);
        // Planning and reading the stored jobs do not depend on each other: two threads.
        let (planned, stored) = std::thread::scope(|s| {
            let reading = s.spawn(|| self.store.jobs_by_id());
            (plan::plan(config, &counters), reading.join())
        });
        let stored = stored.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let planned = match planned {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        for note in &planned.notes {
            info!("{note}");
        }
        let mut notes = planned.notes;
        let merged = plan::merge(&stored, &planned.jobs, &self.store.adjustments()?);
        drop(stored);
        for note in &merged.notes {
            warn!("{note}");
        }
        notes.extend(merged.notes);
        self.store.put_planned(&merged.write)?;
        let written = merged.write.into_iter().map(|r| r.spec.id).collect();
        Ok(Ok((notes, written)))
    }

    /// Answers a control request; every change goes through here, one at a time.
    fn control(&mut self, request: &Request) -> Result<Response, EngineError> {
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
        for id in &outcome.changed {
            self.reschedule(id)?;
        }
        if let Some(message) = &outcome.response.message {
            info!("control: {message}");
        }
        let mut response = outcome.response;
        if *request == Request::Status {
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

    fn refusal_text(&self, r: &Refusal) -> String {
        let local = r.at.with_timezone(&self.config.event.timezone).format("%H:%M:%S");
        format!("the config edit read at {local} was refused; the event runs on as before:\n{}", r.why)
    }

    /// Reads the config (and schedule) again and plans again. A file that no longer reads, or
    /// a plan that cannot be made, changes nothing: the reason is logged and shown by `status`
    /// until a good edit replaces it.
    fn reload(&mut self) -> Result<Response, EngineError> {
        let refuse = |engine: &mut Engine, why: String| {
            error!("the config was not reloaded; nothing changed:\n{why}");
            engine.refused_reload = Some(Refusal { at: engine.now(), why: why.clone() });
            Ok(Response::error(format!("the config was not reloaded; nothing changed:\n{why}")))
        };
        let mut config = match Config::load(&self.config.path) {
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
        self.config = Arc::new(config);
        self.refused_reload = None;
        self.refresh_pauses()?;
        for id in &written {
            self.reschedule(id)?;
        }
        let message = if notes.is_empty() {
            "reloaded the config".to_string()
        } else {
            format!("reloaded the config: {}", notes.join("; "))
        };
        info!("{message}");
        Ok(Response::message(message))
    }

    /// Puts a job back on the agenda (or off it) after its state or time changed in the store,
    /// by the same rule that dispatches it.
    fn reschedule(&mut self, id: &JobId) -> Result<(), EngineError> {
        if self.queued.contains(id) || self.claimed.contains_key(id) {
            return Ok(());
        }
        self.agenda.remove(id);
        match self.store.job(id)? {
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
    fn refresh_pauses(&mut self) -> Result<(), EngineError> {
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
    fn settle_leftovers(&mut self) -> Result<(), EngineError> {
        let now = self.now();
        let mut missed_before: HashSet<JobId> = HashSet::new();
        let mut open: Vec<(DateTime<Utc>, JobId, Option<JobId>)> = Vec::new();
        for rec in self.store.each_job() {
            let rec = rec?;
            match rec.state {
                JobState::Missed => {
                    missed_before.insert(rec.spec.id.clone());
                }
                JobState::Pending | JobState::InFlight => {
                    self.index.update(&rec);
                    open.push((rec.ready_at(), rec.spec.id.clone(), rec.spec.parent.clone()));
                }
                _ => {}
            }
        }
        open.sort();
        let mut changed = Vec::new();
        for (_, id, parent) in open {
            if self.only.as_ref().is_some_and(|only| !only.contains(&id)) {
                continue;
            }
            let Some(rec) = self.store.job(&id)? else { continue };
            let parent_missed = parent.as_ref().is_some_and(|p| missed_before.contains(p));
            let tz = self.config.event.timezone;
            match rules::leftover(&rec, parent_missed, self.only.is_some(), now, self.config.catch_up, tz) {
                Some(Leftover::Resend) => {
                    info!(job = %id, "sent before the last stop without an answer: sending again with the same key");
                    self.agenda.set(id, now);
                }
                Some(Leftover::Due(at)) => self.agenda.set(id, at),
                Some(Leftover::Missed(why)) => {
                    let mut r = rec;
                    r.state = JobState::Missed;
                    r.waiting = Some(why);
                    self.index.remove(&id);
                    missed_before.insert(id);
                    changed.push(r);
                }
                None => {}
            }
        }
        let missed = changed.len();
        if missed > 0 {
            warn!(jobs = missed, "jobs were due too long ago and are marked missed (see `loudhailer status`)");
            self.notes.push(format!("{missed} jobs were missed (due more than the catch-up window before the start)"));
        }
        self.store.put_jobs(&changed)?;
        Ok(())
    }

    fn pause(&mut self, account: &str, reason: &str) -> Result<(), EngineError> {
        error!(account = %account, reason = %reason, "account paused; its jobs wait, the other accounts go on");
        self.store.update_account(account, |a| a.paused = Some(reason.to_string()))?;
        self.paused.insert(account.to_string(), reason.to_string());
        Ok(())
    }

    fn handle(&mut self, msg: ToEngine) -> Result<(), EngineError> {
        match msg {
            ToEngine::Waiting { id, until, why } => {
                let local = until.with_timezone(&self.config.event.timezone).format("%H:%M:%S");
                self.set_waiting(&id, format!("rate limit ({why}) until {local}"))?;
            }
            ToEngine::Claim { id, reply } => {
                let claimed = self.claim(&id)?;
                if let Some(c) = &claimed {
                    self.claimed.insert(id, c.record.spec.account.clone());
                }
                let _ = reply.send(claimed);
            }
            ToEngine::Released { id } => {
                self.queued.remove(&id);
            }
            ToEngine::Finished { id, outcome } => self.finish(&id, outcome)?,
            ToEngine::Held { account, hold } => {
                debug!(account = %account, hold = ?hold, "the server's hold changed");
                self.store.update_account(&account, |a| {
                    a.hold_until = hold.as_ref().map(|h| h.until);
                    a.hold_reason = hold.map(|h| h.why);
                })?;
            }
            ToEngine::Checked { account, verified, counter } => self.checked(&account, verified, counter)?,
        }
        Ok(())
    }

    /// What an account's check found: its id on the network (or refused credentials), and the
    /// server's length limits (a change plans the account's posts again).
    fn checked(
        &mut self,
        account: &str,
        verified: Result<String, PlatformError>,
        counter: Option<Result<crate::count::Counter, PlatformError>>,
    ) -> Result<(), EngineError> {
        match verified {
            Ok(remote_id) => {
                let auth_paused = self.paused.get(account).is_some_and(|p| p.starts_with("credentials refused"));
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
            Err(e @ PlatformError::Auth { .. }) => self.pause(account, &format!("credentials refused: {e}"))?,
            Err(e) => warn!(account = %account, error = %e, "cannot check the account now; its jobs will be retried"),
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
    fn worker_stopped(&mut self, account: &str, why: &str) -> Result<(), EngineError> {
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
    fn revive_worker(&mut self, account: &str) {
        if let (Some(client), Some(limiter)) = (self.clients.get(account), self.limiters.get(account)) {
            if !self.workers.is_running(account) {
                info!(account = %account, "starting the account's worker again");
                self.workers.start(account, client.clone(), limiter.clone());
            }
        }
    }

    fn dispatch_due(&mut self) -> Result<(), EngineError> {
        debug!(now = %self.now(), next = ?self.agenda.next(), "deadline");
        for id in self.agenda.take_due(self.now()) {
            self.try_dispatch(&id)?;
        }
        Ok(())
    }

    /// Sends a due job to its worker, or notes what it waits for.
    fn try_dispatch(&mut self, id: &JobId) -> Result<(), EngineError> {
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

    fn dispatch(&mut self, rec: JobRecord) -> Result<(), EngineError> {
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
    fn parent_of(&self, rec: &JobRecord) -> Result<Option<JobRecord>, EngineError> {
        Ok(match &rec.spec.parent {
            Some(p) => self.store.job(p)?,
            None => None,
        })
    }

    fn set_waiting(&mut self, id: &JobId, why: String) -> Result<(), EngineError> {
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
    fn posted_ancestor(&self, rec: &JobRecord) -> Result<Option<JobRecord>, EngineError> {
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

    /// A worker is ready to send `id`: store the intent, durably, and hand over what to send.
    fn claim(&mut self, id: &JobId) -> Result<Option<Claimed>, EngineError> {
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
            JobKind::Boost | JobKind::Unboost => {
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
        let resend = r.intent.is_some();
        if r.intent.is_none() {
            r.intent = Some(Intent { key: client.new_key(now), first_sent: now });
        }
        r.state = JobState::InFlight;
        r.attempts = r.attempts.saturating_add(1);
        r.waiting = None;
        self.store.put_job_durable(&r)?;
        self.index.update(&r);
        Ok(Some(Claimed { record: r, parent, root, origin, resend, earlier }))
    }

    /// The post a boost (or an unboost) is of: its parent, or through an unboost to the post.
    fn boost_target(&self, rec: &JobRecord) -> Result<Option<JobRecord>, EngineError> {
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
    fn earlier_boosts(&self, undo: &JobRecord, target: &JobRecord) -> Result<Vec<RemoteRef>, EngineError> {
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

    fn finish(&mut self, id: &JobId, answer: Result<RemoteRef, PlatformError>) -> Result<(), EngineError> {
        self.claimed.remove(id);
        let Some(r) = self.store.job(id)? else {
            return Ok(());
        };
        let now = self.now();
        let account = r.spec.account.clone();
        let kind = r.spec.kind;
        let (r, verdict) = rules::outcome(r, answer, now, self.config.event.timezone, rand::random::<f64>());
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
            Verdict::GaveUp(message) => {
                error!(job = %id, account = %account, error = %message, "still failing long after it was due: giving up")
            }
        }
        self.store.put_job_durable(&r)?;
        self.index.update(&r);
        match r.state {
            JobState::Pending if !self.paused.contains_key(&account) => self.agenda.set(id.clone(), r.ready_at()),
            JobState::Done | JobState::Failed => {
                for child in self.index.children(id) {
                    self.try_dispatch(&child)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn summary(&self) -> Result<Summary, EngineError> {
        let mut s = Summary { sent: self.sent, notes: self.notes.clone(), ..Default::default() };
        for rec in self.store.each_job() {
            *s.by_state.entry(rec?.state.as_str()).or_default() += 1;
        }
        for (account, reason) in &self.paused {
            s.notes.push(format!("account {account} is paused: {reason}"));
        }
        if let Some(r) = &self.refused_reload {
            s.notes.push(self.refusal_text(r));
        }
        for (account, why) in self.workers.failures() {
            s.notes.push(format!("account {account}'s worker stopped on its own, {why}"));
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests;

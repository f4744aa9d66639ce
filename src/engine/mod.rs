//! The daemon: sleeps until the next deadline, hands due jobs to their account's worker, and
//! records every intent and outcome in the store. The one place that sleeps, sends and writes.
//!
//! A job goes: pending → (due, parent done, account not paused, write budget free) → claimed:
//! the intent and its key are flushed to disk → in-flight → done with the remote id, or back
//! to pending with a backoff, or failed for good with the server's words. After a crash, an
//! in-flight job is sent again with the same key, so the server recognises it.

mod agenda;
pub mod retry;
mod worker;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
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
use worker::{Claimed, ToEngine};

/// How long requests under way may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);
/// A job still failing this long after it was due is given up.
pub const GIVE_UP_AFTER: chrono::Duration = chrono::Duration::hours(12);

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

/// Whether a pending job can go, and when.
enum Readiness {
    At(DateTime<Utc>),
    Wait(String),
    Cancel(String),
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

struct Engine {
    config: Arc<Config>,
    store: Store,
    clock: Clock,
    clients: HashMap<String, Arc<Client>>,
    jobs: HashMap<JobId, JobRecord>,
    children: HashMap<JobId, Vec<JobId>>,
    agenda: Agenda,
    queued: HashSet<JobId>,
    claimed: HashSet<JobId>,
    paused: HashMap<String, String>,
    workers: HashMap<String, mpsc::UnboundedSender<(JobId, JobKind)>>,
    only: Option<HashSet<JobId>>,
    sent_signal: Option<Arc<tokio::sync::Notify>>,
    stopping: bool,
    sent: usize,
    notes: Vec<String>,
}

/// Runs the event until `shutdown` resolves (or, with `exit_when_done`, until nothing is left).
pub async fn run(setup: Setup, shutdown: impl Future<Output = ()>) -> Result<Summary, EngineError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut control = setup.control;
    let mut watches_over = setup.watches_over;
    let mut engine = Engine {
        config: setup.config,
        store: setup.store,
        clock: setup.clock,
        clients: setup.clients,
        jobs: HashMap::new(),
        children: HashMap::new(),
        agenda: Agenda::default(),
        queued: HashSet::new(),
        claimed: HashSet::new(),
        paused: HashMap::new(),
        workers: HashMap::new(),
        only: setup.only,
        sent_signal: setup.sent,
        stopping: false,
        sent: 0,
        notes: Vec::new(),
    };
    let mut handles = Vec::new();
    for (account, client) in &engine.clients {
        let Some(limiter) = setup.limiters.get(account) else {
            continue;
        };
        let (jtx, jrx) = mpsc::unbounded_channel();
        engine.workers.insert(account.clone(), jtx);
        handles.push(tokio::spawn(worker::run(client.clone(), limiter.clone(), jrx, tx.clone(), stop_rx.clone())));
    }
    tokio::pin!(shutdown);
    let started = tokio::select! {
        biased;
        _ = &mut shutdown => false,
        ready = engine.start() => { ready?; true }
    };
    if !started {
        info!("shutting down before the start finished");
        let _ = stop_tx.send(true);
        return Ok(engine.summary());
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
        if setup.exit_when_done
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
            _ = &mut shutdown => {
                info!("shutting down");
                break;
            }
            Some(msg) = rx.recv() => engine.handle(msg)?,
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
    let _ = stop_tx.send(true);
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
    for h in handles {
        h.abort();
    }
    engine.store.flush()?;
    Ok(engine.summary())
}

impl Engine {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Checks the accounts, reads the servers' limits, plans, and settles what the last run
    /// left: in-flight jobs go again with their key; jobs due too long ago become missed.
    async fn start(&mut self) -> Result<(), EngineError> {
        self.store.bind_event(&self.config.event.name)?;
        // The jobs are read and checked in full by the merge below; the rest is checked here.
        self.store.verify_except_jobs()?;
        let no_wait = |_: DateTime<Utc>, _: &str| {};
        let config = self.config.clone();
        for account in &config.accounts {
            let Some(client) = self.clients.get(&account.id).cloned() else {
                continue;
            };
            let stored = self.store.account(&account.id)?;
            match client.verify(&no_wait).await {
                Ok(remote_id) => {
                    let auth_paused = stored.paused.as_deref().is_some_and(|p| p.starts_with("credentials refused"));
                    self.store.update_account(&account.id, |a| {
                        a.remote_id = Some(remote_id);
                        if auth_paused {
                            a.paused = None;
                        }
                    })?;
                }
                Err(e @ PlatformError::Auth { .. }) => self.pause(&account.id, &format!("credentials refused: {e}"))?,
                Err(e) => {
                    warn!(account = %account.id, error = %e, "cannot check the account now; its jobs will be retried")
                }
            }
            if let Some(reason) = self.store.account(&account.id)?.paused {
                self.paused.insert(account.id.clone(), reason);
            }
            if account.role == crate::config::Role::Primary && !self.paused.contains_key(&account.id) {
                match client.limits(&no_wait).await {
                    Ok(counter) => {
                        self.store.update_account(&account.id, |a| a.counter = Some(counter))?;
                    }
                    Err(e) => {
                        warn!(account = %account.id, error = %e, "cannot read the server's limits; using the stored or default ones")
                    }
                }
            }
        }
        let notes = self.replan()?;
        self.notes.extend(notes);
        self.settle_leftovers()?;
        Ok(())
    }

    /// Plans again and merges the plan into the stored jobs; returns what the user should know.
    fn replan(&mut self) -> Result<Vec<String>, EngineError> {
        let counters = plan::counters(&self.config, &self.store.known_counters()?);
        // Planning and reading the stored jobs do not depend on each other: two threads.
        let (planned, jobs) = std::thread::scope(|s| {
            let reading = s.spawn(|| self.store.jobs_by_id());
            (plan::plan(&self.config, &counters), reading.join())
        });
        let mut jobs = jobs.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        let planned = planned?;
        for note in &planned.notes {
            info!("{note}");
        }
        let mut notes = planned.notes;
        let merged = plan::merge(&jobs, &planned.jobs, &self.store.adjustments()?);
        for note in &merged.notes {
            warn!("{note}");
        }
        notes.extend(merged.notes);
        self.store.put_planned(&merged.write)?;
        // What is stored now: what was read, with what was just written over it.
        for r in merged.write {
            jobs.insert(r.spec.id.clone(), r);
        }
        self.jobs = jobs;
        self.children.clear();
        for rec in self.jobs.values() {
            if let Some(parent) = &rec.spec.parent {
                self.children.entry(parent.clone()).or_default().push(rec.spec.id.clone());
            }
        }
        for kids in self.children.values_mut() {
            kids.sort();
        }
        Ok(notes)
    }

    /// Answers a control request; every change goes through here, one at a time.
    fn control(&mut self, request: &Request) -> Result<Response, EngineError> {
        if *request == Request::Reload {
            return self.reload();
        }
        let now = self.now();
        let outcome = Book { config: &self.config, store: &self.store, jobs: &mut self.jobs, now }.apply(request);
        let outcome = match outcome {
            Ok(o) => o,
            Err(crate::control::ControlError::Store(e)) => return Err(e.into()),
            Err(e) => return Ok(Response::error(e.to_string())),
        };
        if outcome.accounts {
            self.refresh_pauses()?;
        }
        for id in &outcome.changed {
            if let Some(rec) = self.jobs.get(id) {
                if let Some(parent) = &rec.spec.parent {
                    let kids = self.children.entry(parent.clone()).or_default();
                    if !kids.contains(id) {
                        kids.push(id.clone());
                    }
                }
            }
            self.reschedule(id)?;
        }
        if let Some(message) = &outcome.response.message {
            info!("control: {message}");
        }
        Ok(outcome.response)
    }

    /// Reads the config (and schedule) again and plans again. A file that no longer reads
    /// changes nothing.
    fn reload(&mut self) -> Result<Response, EngineError> {
        let mut config = match Config::load(&self.config.path) {
            Ok(c) => c,
            Err(e) => {
                error!("the config no longer reads; nothing changed:\n{e}");
                return Ok(Response::error(format!("the config no longer reads; nothing changed:\n{e}")));
            }
        };
        config.state_dir = self.config.state_dir.clone();
        for a in &config.accounts {
            if !self.clients.contains_key(&a.id) {
                warn!(account = %a.id, "a new account in the config: restart loudhailer to use it");
            }
        }
        self.config = Arc::new(config);
        let notes = self.replan()?;
        self.refresh_pauses()?;
        let ids: Vec<JobId> = self.jobs.keys().cloned().collect();
        for id in &ids {
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

    /// Puts a job back on the agenda (or off it) after its state or time changed, by the same
    /// rule that dispatches it.
    fn reschedule(&mut self, id: &JobId) -> Result<(), EngineError> {
        if self.queued.contains(id) || self.claimed.contains(id) {
            return Ok(());
        }
        self.agenda.remove(id);
        match self.jobs.get(id).map(|r| r.state) {
            Some(JobState::Pending) | Some(JobState::InFlight) => self.try_dispatch(id),
            _ => Ok(()),
        }
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
        let ids: Vec<JobId> =
            self.jobs.values().filter(|j| resumed.contains(&j.spec.account)).map(|j| j.spec.id.clone()).collect();
        for id in &ids {
            self.reschedule(id)?;
        }
        Ok(())
    }

    fn settle_leftovers(&mut self) -> Result<(), EngineError> {
        let now = self.now();
        let cutoff = crate::checked::saturating_add(
            now,
            -crate::checked::span(self.config.catch_up).unwrap_or(chrono::Duration::MAX),
        );
        let mut order: Vec<(DateTime<Utc>, JobId)> =
            self.jobs.values().map(|r| (r.ready_at(), r.spec.id.clone())).collect();
        order.sort();
        let mut changed = Vec::new();
        for (_, id) in order {
            if let Some(only) = &self.only {
                if !only.contains(&id) {
                    continue;
                }
            }
            let Some(rec) = self.jobs.get(&id) else {
                continue;
            };
            match rec.state {
                JobState::InFlight => {
                    info!(job = %id, "sent before the last stop without an answer: sending again with the same key");
                    self.agenda.set(id.clone(), now);
                }
                JobState::Pending if self.only.is_none() => {
                    let parent_missed = rec
                        .spec
                        .parent
                        .as_ref()
                        .and_then(|p| self.jobs.get(p))
                        .is_some_and(|p| p.state == JobState::Missed);
                    let local = rec.ready_at().with_timezone(&self.config.event.timezone).format("%Y-%m-%d %H:%M");
                    let missed = if rec.ready_at() < cutoff {
                        Some(format!("was due at {local}, more than {} before loudhailer started; `loudhailer send {id}` sends it", humantime::format_duration(self.config.catch_up)))
                    } else if parent_missed && rec.ready_at() <= now {
                        Some(format!("was due at {local}, but the post it follows was missed"))
                    } else {
                        None
                    };
                    match missed {
                        Some(why) => {
                            let mut r = rec.clone();
                            r.state = JobState::Missed;
                            r.waiting = Some(why);
                            self.jobs.insert(id.clone(), r.clone());
                            changed.push(r);
                        }
                        None => self.agenda.set(id.clone(), rec.ready_at()),
                    }
                }
                JobState::Pending => self.agenda.set(id.clone(), rec.ready_at().min(now)),
                _ => {}
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
                if let Some(rec) = self.jobs.get_mut(&id) {
                    let local = until.with_timezone(&self.config.event.timezone).format("%H:%M:%S");
                    rec.waiting = Some(format!("rate limit ({why}) until {local}"));
                    self.store.put_job(rec)?;
                }
            }
            ToEngine::Claim { id, reply } => {
                let claimed = self.claim(&id)?;
                if claimed.is_some() {
                    self.claimed.insert(id);
                }
                let _ = reply.send(claimed);
            }
            ToEngine::Released { id } => {
                self.queued.remove(&id);
            }
            ToEngine::Finished { id, outcome } => self.finish(&id, outcome)?,
        }
        Ok(())
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
        if self.stopping || self.queued.contains(id) || self.claimed.contains(id) {
            return Ok(());
        }
        if self.only.as_ref().is_some_and(|only| !only.contains(id)) {
            return Ok(());
        }
        let Some(rec) = self.jobs.get(id).cloned() else {
            return Ok(());
        };
        if !matches!(rec.state, JobState::Pending | JobState::InFlight) {
            return Ok(());
        }
        if let Some(reason) = self.paused.get(&rec.spec.account) {
            self.set_waiting(id, format!("account {} paused: {reason}", rec.spec.account))?;
            return Ok(());
        }
        let now = self.now();
        let ready = match self.readiness(&rec, now) {
            Readiness::At(t) => t,
            Readiness::Wait(why) => {
                self.set_waiting(id, why)?;
                return Ok(());
            }
            Readiness::Cancel(why) => {
                let mut r = rec.clone();
                r.state = JobState::Cancelled;
                r.error = Some(why);
                self.store.put_job_durable(&r)?;
                self.jobs.insert(id.clone(), r);
                return Ok(());
            }
        };
        if ready > now {
            debug!(job = %id, at = %ready, "on the agenda");
            self.agenda.set(id.clone(), ready);
            return Ok(());
        }
        let Some(worker) = self.workers.get(&rec.spec.account) else {
            self.set_waiting(id, format!("no client for account {}", rec.spec.account))?;
            return Ok(());
        };
        if worker.send((id.clone(), rec.spec.kind)).is_ok() {
            debug!(job = %id, "handed to the worker");
            self.queued.insert(id.clone());
        }
        Ok(())
    }

    /// When a pending job may go, given its parent: a reply after its post, a boost the planned
    /// distance after its post went out (late, or early by hand); a boost of a post that failed
    /// has nothing to boost.
    fn readiness(&self, rec: &JobRecord, now: DateTime<Utc>) -> Readiness {
        let mut ready = rec.ready_at();
        if let Some(parent) = rec.spec.parent.as_ref().and_then(|p| self.jobs.get(p)) {
            match parent.state {
                JobState::Done if rec.state == JobState::Pending => {
                    let posted = parent.done_at.unwrap_or(parent.spec.at);
                    ready = match rec.spec.kind {
                        JobKind::Boost => {
                            let follow = crate::checked::saturating_add(
                                posted,
                                (rec.spec.at - parent.spec.at).max(chrono::Duration::zero()),
                            );
                            rec.not_before.map_or(follow, |nb| nb.max(follow))
                        }
                        _ => ready.max(posted),
                    };
                }
                JobState::Done => {}
                JobState::Failed | JobState::Cancelled
                    if matches!(rec.spec.kind, JobKind::Boost | JobKind::Unboost) =>
                {
                    return Readiness::Cancel(format!(
                        "nothing to boost: {} {}",
                        parent.spec.id,
                        parent.state.as_str()
                    ));
                }
                // A reply whose post failed answers the nearest post that went out.
                JobState::Failed | JobState::Cancelled => {}
                JobState::Pending | JobState::InFlight | JobState::Missed => {
                    return Readiness::Wait(format!("waits for {} ({})", parent.spec.id, parent.state.as_str()));
                }
            }
        }
        if self.only.is_some() {
            // Sent by hand: now, whatever the plan said.
            ready = now;
        }
        Readiness::At(ready)
    }

    fn set_waiting(&mut self, id: &JobId, why: String) -> Result<(), EngineError> {
        if let Some(rec) = self.jobs.get_mut(id) {
            if rec.waiting.as_deref() != Some(why.as_str()) {
                debug!(job = %id, why = %why, "waiting");
                rec.waiting = Some(why);
                self.store.put_job(rec)?;
            }
        }
        Ok(())
    }

    /// The nearest ancestor of `id` that was posted.
    fn posted_ancestor(&self, id: &JobId) -> Option<&JobRecord> {
        let mut cursor = self.jobs.get(id)?.spec.parent.as_ref();
        while let Some(p) = cursor {
            let rec = self.jobs.get(p)?;
            if rec.state == JobState::Done {
                return Some(rec);
            }
            cursor = rec.spec.parent.as_ref();
        }
        None
    }

    /// A worker is ready to send `id`: store the intent, durably, and hand over what to send.
    fn claim(&mut self, id: &JobId) -> Result<Option<Claimed>, EngineError> {
        self.queued.remove(id);
        let now = self.now();
        let Some(rec) = self.jobs.get(id).cloned() else {
            return Ok(None);
        };
        let refuse = self.stopping
            || !matches!(rec.state, JobState::Pending | JobState::InFlight)
            || self.paused.contains_key(&rec.spec.account);
        if refuse {
            return Ok(None);
        }
        if rec.state == JobState::Pending {
            match self.readiness(&rec, now) {
                Readiness::At(t) if t <= crate::checked::saturating_add(now, chrono::Duration::seconds(1)) => {}
                // Moved, or its post is not there after all: back to the agenda.
                _ => {
                    self.reschedule(id)?;
                    return Ok(None);
                }
            }
        }
        let mut earlier = Vec::new();
        let (parent, root, origin) = match rec.spec.kind {
            JobKind::Boost | JobKind::Unboost => {
                let Some(target) = self.boost_target(&rec) else {
                    return Ok(None);
                };
                if rec.spec.kind == JobKind::Unboost {
                    earlier = self.earlier_boosts(&rec, target);
                }
                let origin = self.config.account(&target.spec.account).map(|a| a.server.clone());
                (target.remote.clone(), None, origin)
            }
            JobKind::External => (None, None, None),
            _ => {
                let parent = self.posted_ancestor(id).and_then(|p| p.remote.clone());
                let root = rec
                    .spec
                    .root
                    .as_ref()
                    .and_then(|r| self.jobs.get(r))
                    .filter(|r| r.state == JobState::Done)
                    .and_then(|r| r.remote.clone())
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
        r.attempts += 1;
        r.waiting = None;
        self.store.put_job_durable(&r)?;
        self.jobs.insert(id.clone(), r.clone());
        Ok(Some(Claimed { record: r, parent, root, origin, resend, earlier }))
    }

    /// The post a boost (or an unboost) is of: its parent, or through an unboost to the post.
    fn boost_target(&self, rec: &JobRecord) -> Option<&JobRecord> {
        let done = |id: Option<&JobId>| id.and_then(|p| self.jobs.get(p)).filter(|p| p.state == JobState::Done);
        let parent = done(rec.spec.parent.as_ref())?;
        match parent.spec.kind {
            JobKind::Unboost => done(parent.spec.parent.as_ref()),
            _ => Some(parent),
        }
    }

    /// What the account's earlier boosts of the same post made, for an unboost to undo.
    fn earlier_boosts(&self, undo: &JobRecord, target: &JobRecord) -> Vec<RemoteRef> {
        let scope = |j: &JobRecord| match self.config.account(&j.spec.account) {
            // Mastodon ids are the reading server's own.
            Some(a) if a.network == crate::network::Network::Mastodon => a.server.to_string(),
            _ => String::new(),
        };
        let Some(wanted) = target.remote.as_ref() else { return Vec::new() };
        self.jobs
            .values()
            .filter(|b| b.spec.kind == JobKind::Boost && b.state == JobState::Done)
            .filter(|b| b.spec.account == undo.spec.account)
            .filter(|b| {
                self.boost_target(b)
                    .and_then(|t| t.remote.as_ref().map(|r| (scope(t), r)))
                    .is_some_and(|(s, r)| crate::follow::same_post((&s, r), (&scope(target), wanted)))
            })
            .filter_map(|b| b.remote.clone())
            .collect()
    }

    fn finish(&mut self, id: &JobId, outcome: Result<RemoteRef, PlatformError>) -> Result<(), EngineError> {
        self.claimed.remove(id);
        let Some(mut r) = self.jobs.get(id).cloned() else {
            return Ok(());
        };
        let now = self.now();
        let account = r.spec.account.clone();
        match outcome {
            Ok(remote) => {
                info!(job = %id, account = %account, url = remote.url.as_deref().unwrap_or(""), "{} sent", r.spec.kind.as_str());
                r.state = JobState::Done;
                r.remote = Some(remote);
                r.done_at = Some(now);
                r.error = None;
                r.waiting = None;
                r.not_before = None;
                self.sent += 1;
                if let Some(signal) = &self.sent_signal {
                    signal.notify_one();
                }
            }
            Err(PlatformError::Permanent { status, message }) => {
                error!(job = %id, account = %account, status, error = %message, "refused by the server: failed for good");
                r.state = JobState::Failed;
                r.error = Some(format!("the server refused it ({status}): {message}"));
                r.waiting = None;
            }
            Err(e @ PlatformError::Auth { .. }) => {
                r.state = JobState::Pending;
                r.error = Some(e.to_string());
                self.pause(&account, &format!("credentials refused: {e}"))?;
                r.waiting = Some(format!("account {account} paused"));
            }
            Err(PlatformError::RateLimited { until }) => {
                let until = until.unwrap_or_else(|| crate::checked::saturating_add(now, chrono::Duration::seconds(60)));
                warn!(job = %id, account = %account, until = %until, "rate limited; waiting");
                r.state = JobState::Pending;
                r.not_before = Some(until);
                r.error = Some("rate limited by the server (429)".into());
                let local = until.with_timezone(&self.config.event.timezone).format("%H:%M:%S");
                r.waiting = Some(format!("rate limited by the server until {local}"));
            }
            Err(PlatformError::Retry(message)) => {
                if now - r.spec.at > GIVE_UP_AFTER {
                    error!(job = %id, account = %account, error = %message, "still failing long after it was due: giving up");
                    r.state = JobState::Failed;
                    r.error = Some(format!("gave up after {} attempts: {message}", r.attempts));
                } else {
                    let wait = retry::backoff(r.attempts, retry::BASE, retry::CAP, rand::random::<f64>());
                    let until = crate::checked::saturating_after(now, wait);
                    warn!(job = %id, account = %account, attempt = r.attempts, error = %message, retry_in_ms = wait.as_millis() as u64, "failed; will retry");
                    r.state = JobState::Pending;
                    r.not_before = Some(until);
                    r.error = Some(message.clone());
                    let local = until.with_timezone(&self.config.event.timezone).format("%H:%M:%S");
                    r.waiting = Some(format!(
                        "backoff after {} failed attempts (last: {message}), next at {local}",
                        r.attempts
                    ));
                }
            }
        }
        self.store.put_job_durable(&r)?;
        let state = r.state;
        let ready = r.ready_at();
        self.jobs.insert(id.clone(), r);
        match state {
            JobState::Pending if !self.paused.contains_key(&account) => self.agenda.set(id.clone(), ready),
            JobState::Done | JobState::Failed => {
                for child in self.children.get(id).cloned().unwrap_or_default() {
                    self.try_dispatch(&child)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn summary(&self) -> Summary {
        let mut s = Summary { sent: self.sent, notes: self.notes.clone(), ..Default::default() };
        for rec in self.jobs.values() {
            *s.by_state.entry(rec.state.as_str()).or_default() += 1;
        }
        for (account, reason) in &self.paused {
            s.notes.push(format!("account {account} is paused: {reason}"));
        }
        s
    }
}

#[cfg(test)]
mod tests;

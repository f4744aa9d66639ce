//! The daemon: sleeps until the next deadline, hands due jobs to their account's worker, and
//! records every intent and outcome in the store. The one place that sleeps, sends and writes
//! jobs; what it decides is in [`rules`], pure.
//!
//! A job goes: pending → (due, parent done, account not paused, write budget free) → claimed:
//! the intent and its key are flushed to disk → in-flight → done with the remote id, or back
//! to pending with a backoff, or failed for good with the server's words. After a crash, an
//! in-flight job is sent again with the same key, so the server recognises it. A post with
//! images uploads them first ([`attach`]); each upload is stored with the intent before the
//! post is sent, and a resend attaches it again while the server still has it.
//!
//! The store is the memory: the engine keeps only the unsettled jobs due within the next
//! [`HORIZON`] — their ids, accounts and parents ([`index`]) and their deadlines ([`agenda`]);
//! a job's record is read when it is due, shown or changed, and jobs further ahead are read
//! from the store's `due` tree as they come within the horizon. Each account's worker is watched: one that stops (a panic) is restarted,
//! and an account whose worker keeps failing is paused with the reason, never left silent.
//! The engine stops when the shutdown token is cancelled (or, with `exit_when_done`, when
//! nothing is left), and lets requests under way finish for a short grace.

mod agenda;
mod attach;
mod dispatch;
mod index;
mod lifecycle;
mod messages;
pub mod published;
pub mod retry;
pub mod rules;
pub mod watcher;
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
use crate::control::server::Envelope;
use crate::job::JobId;
use crate::limit::Limiter;
use crate::plan;
use crate::platform::Client;
use crate::store::{Store, StoreError};
use agenda::Agenda;
use index::Index;
use workers::{ToEngine, Workers};

/// How long requests under way may take to finish after a shutdown signal.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);

/// How far ahead the engine holds jobs in memory; later ones stay in the store until then.
pub const HORIZON: chrono::Duration = chrono::Duration::hours(2);

/// The engine compacts the process's memory ([`crate::heap::compact`]) once it has had nothing
/// to do for this long (real time) and nothing is due within [`COMPACT_CLEAR`] (event time).
const IDLE: Duration = Duration::from_secs(10);
const COMPACT_CLEAR: chrono::Duration = chrono::Duration::minutes(1);
pub use lifecycle::{prepare, Prepared};
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
    /// Set when [`prepare`] planned the event before the engine started: the start then reads no
    /// limits and plans nothing again, and the plan's notes go into the summary.
    pub prepared: Option<Prepared>,
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
    /// The event was planned before the start ([`Setup::prepared`]).
    planned_ahead: bool,
    notes: Vec<String>,
    refused_reload: Option<Refusal>,
    /// Every unsettled job due up to this instant is in the index (later ones may be too).
    loaded_until: DateTime<Utc>,
    /// When the first unsettled job not yet in the index is due, if any.
    next_unloaded: Option<DateTime<Utc>>,
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
        planned_ahead: setup.prepared.is_some(),
        notes: setup.prepared.map(|p| p.notes).unwrap_or_default(),
        refused_reload: None,
        loaded_until: DateTime::<Utc>::MIN_UTC,
        next_unloaded: None,
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
    // When to compact, once nothing has happened for a while; `None` once done, until the next
    // thing happens. Only on the system's clock: a dry run or a sped-up clock is not a daemon
    // waiting for days.
    let compacts = matches!(engine.clock, crate::clock::Clock::Wall);
    let mut idle_at = compacts.then(|| tokio::time::Instant::now() + IDLE);
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
            && engine.next_unloaded.is_none()
        {
            info!("nothing left to send");
            break;
        }
        // The next deadline, or the moment the next jobs in the store come within the horizon.
        let load_at = engine.next_unloaded.map(|t| crate::checked::saturating_add(t, -HORIZON));
        let next = match (engine.agenda.next(), load_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let clock = engine.clock;
        let quiet = next.is_none_or(|t| t - engine.now() > COMPACT_CLEAR);
        let compact_at = idle_at.filter(|_| quiet);
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
            } => {
                engine.load_ahead()?;
                engine.dispatch_due()?;
            }
            _ = async move {
                match compact_at {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            } => {
                let done = crate::heap::compact();
                debug!(code_bytes = done.code_bytes, "idle: memory given back");
                idle_at = None;
                continue;
            }
        }
        idle_at = compacts.then(|| tokio::time::Instant::now() + IDLE);
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
            ToEngine::Uploaded { id, media, reply } => {
                let stored = self.store_uploads(&id, media)?;
                let _ = reply.send(stored);
            }
            ToEngine::Finished { id, outcome, resend } => self.finish(&id, outcome, resend)?,
            ToEngine::Progress { id, value, reply } => {
                let kept = self.keep_progress(&id, value)?;
                let _ = reply.send(kept);
            }
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

/// What [`plan_and_store`] did.
#[derive(Debug, Default)]
pub struct Planned {
    /// What the user should know about the plan and the merge.
    pub notes: Vec<String>,
    /// The jobs written (new, moved, reworded, cancelled).
    pub written: Vec<JobId>,
    /// The stored jobs were already merged with this very plan: nothing was planned or read.
    pub unchanged: bool,
    pub jobs: usize,
    pub plan_ms: f64,
    pub store_ms: f64,
}

/// Plans the event and merges the plan into the stored jobs, as a start and a reload do. The
/// plan is a pure function of the config, the files it names and the servers' length limits;
/// when their fingerprint is the one the store was last merged with, nothing needs doing (a
/// restart with the same files plans nothing). A plan that cannot be made (a template that
/// fails on a session) changes nothing and comes back as the inner error.
pub fn plan_and_store(config: &Config, store: &Store) -> Result<Result<Planned, ComposeError>, StoreError> {
    use sha2::Digest;
    let counters = plan::counters(config, &store.known_counters()?);
    let mut hash = sha2::Sha256::new();
    hash.update(config.fingerprint.as_bytes());
    let mut known: Vec<_> = counters.iter().collect();
    known.sort_by(|a, b| a.0.cmp(b.0));
    hash.update(serde_json::to_vec(&known).unwrap_or_default());
    // Approving a suggestion adds posts: it plans again.
    let adjustments = store.adjustments()?;
    if !adjustments.approved.is_empty() {
        hash.update(serde_json::to_vec(&adjustments.approved).unwrap_or_default());
    }
    let print: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    if store.planned()?.as_deref() == Some(print.as_str()) {
        return Ok(Ok(Planned { unchanged: true, ..Default::default() }));
    }
    let started = std::time::Instant::now();
    // Planning and reading the stored jobs do not depend on each other: two threads.
    let (planned, stored) = std::thread::scope(|s| {
        let reading = s.spawn(|| store.jobs_by_id());
        (plan::plan(config, &counters, &adjustments.approved), reading.join())
    });
    let stored = stored.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    let planned = match planned {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let plan_ms = started.elapsed().as_secs_f64() * 1e3;
    for note in &planned.notes {
        info!("{note}");
    }
    let mut notes = planned.notes;
    let jobs = planned.jobs.len();
    let merged = plan::merge(&stored, planned.jobs, &adjustments);
    // What the merge read from is not needed while its result is written.
    drop(stored);
    for note in &merged.notes {
        warn!("{note}");
    }
    notes.extend(merged.notes);
    store.put_planned(&merged.write)?;
    store.set_planned(&print)?;
    Ok(Ok(Planned {
        notes,
        written: merged.write.into_iter().map(|r| r.spec.id).collect(),
        unchanged: false,
        jobs,
        plan_ms,
        store_ms: started.elapsed().as_secs_f64() * 1e3 - plan_ms,
    }))
}

#[cfg(test)]
mod images_tests;
#[cfg(test)]
mod tests;

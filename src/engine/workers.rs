//! One worker per account: takes the account's jobs in due order, waits for the write budget,
//! claims the job from the engine (which stores the intent) and sends it. [`Workers`] keeps
//! them: a worker that stops on its own (a panic) is noticed, reported and restarted, and an
//! account whose worker keeps stopping is paused with the reason. Beside the workers run each
//! account's check (its credentials and the server's limits) and the forwarding of the
//! server's holds to the engine, which stores them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::attach;
pub use super::messages::{Claimed, ToEngine};
use crate::job::{JobId, JobKind, RemoteRef, Uploaded};
use crate::limit::{Charge, Limiter};
use crate::platform::{
    Attachment, BoostRequest, Client, Platform, PlatformError, PostRequest, Progress, UnboostRequest,
};

/// A worker that stops this many times within [`RESTART_WINDOW`] is not restarted: its account
/// is paused with the reason.
pub const MAX_RESTARTS: usize = 5;
pub const RESTART_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// The accounts' workers, watched.
pub struct Workers {
    to_engine: mpsc::UnboundedSender<ToEngine>,
    stop: CancellationToken,
    running: JoinSet<()>,
    /// Which account each running task belongs to.
    tasks: HashMap<tokio::task::Id, String>,
    /// Each account's job channel, while its worker runs.
    senders: HashMap<String, mpsc::UnboundedSender<(JobId, JobKind)>>,
    /// What each account's worker needs to start again.
    kit: HashMap<String, (Arc<Client>, Arc<Limiter>)>,
    /// When each account's worker stopped on its own, recently, and the last reason.
    stops: HashMap<String, (Vec<DateTime<Utc>>, String)>,
    /// Checks and hold forwarders: ended with the engine.
    helpers: JoinSet<()>,
}

impl Workers {
    pub fn new(to_engine: mpsc::UnboundedSender<ToEngine>, stop: CancellationToken) -> Workers {
        Workers {
            to_engine,
            stop,
            running: JoinSet::new(),
            tasks: HashMap::new(),
            senders: HashMap::new(),
            kit: HashMap::new(),
            stops: HashMap::new(),
            helpers: JoinSet::new(),
        }
    }

    /// Starts an account's worker.
    pub fn start(&mut self, account: &str, client: Arc<Client>, limiter: Arc<Limiter>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = run(client.clone(), limiter.clone(), rx, self.to_engine.clone(), self.stop.clone());
        let handle = self.running.spawn(task);
        self.tasks.insert(handle.id(), account.to_string());
        self.senders.insert(account.to_string(), tx);
        self.kit.insert(account.to_string(), (client, limiter));
    }

    pub fn is_running(&self, account: &str) -> bool {
        self.senders.get(account).is_some_and(|tx| !tx.is_closed())
    }

    /// Hands a job to its account's worker; false when no worker runs for it.
    pub fn send(&self, account: &str, id: JobId, kind: JobKind) -> bool {
        self.senders.get(account).is_some_and(|tx| tx.send((id, kind)).is_ok())
    }

    /// The next worker to stop on its own, and why (a panic's message). Pending while none
    /// stops; never resolves while no worker runs.
    pub async fn stopped(&mut self) -> Option<(String, String)> {
        loop {
            let Some(joined) = self.running.join_next_with_id().await else {
                return std::future::pending().await;
            };
            let (id, why) = match joined {
                Ok((id, ())) => (id, "it stopped without being asked to".to_string()),
                Err(e) => {
                    let id = e.id();
                    let why = if e.is_panic() { panic_text(e.into_panic()) } else { "it was cancelled".into() };
                    (id, why)
                }
            };
            let Some(account) = self.tasks.remove(&id) else { continue };
            self.senders.remove(&account);
            if self.stop.is_cancelled() {
                continue;
            }
            return Some((account, why));
        }
    }

    /// Starts a stopped worker again, unless it stopped [`MAX_RESTARTS`] times within
    /// [`RESTART_WINDOW`]; then says why the account should pause.
    pub fn restart(&mut self, account: &str, why_now: &str, now: DateTime<Utc>) -> Result<(), String> {
        let (times, last) = self.stops.entry(account.to_string()).or_default();
        times.retain(|t| now - *t < RESTART_WINDOW);
        times.push(now);
        *last = why_now.to_string();
        if times.len() >= MAX_RESTARTS {
            return Err(format!(
                "its worker failed {} times within {} minutes (last: {why_now}); `loudhailer resume {account}` tries again",
                times.len(),
                RESTART_WINDOW.num_minutes()
            ));
        }
        if let Some((client, limiter)) = self.kit.get(account).cloned() {
            self.start(account, client, limiter);
        }
        Ok(())
    }

    /// Accounts whose worker stopped on its own during this run, with the last reason.
    pub fn failures(&self) -> BTreeMap<String, String> {
        self.stops.iter().map(|(a, (times, why))| (a.clone(), format!("{} times; last: {why}", times.len()))).collect()
    }

    /// Forwards every hold the server puts on the account to the engine.
    pub fn forward_holds(&mut self, account: &str, limiter: &Limiter, to_engine: mpsc::UnboundedSender<ToEngine>) {
        let mut holds = limiter.holds();
        let account = account.to_string();
        self.helpers.spawn(async move {
            while holds.changed().await.is_ok() {
                let hold = holds.borrow_and_update().clone();
                if to_engine.send(ToEngine::Held { account: account.clone(), hold }).is_err() {
                    return;
                }
            }
        });
    }

    /// Checks an account beside the running engine: its credentials, and for a posting
    /// account the server's length limits.
    pub fn check(
        &mut self,
        account: &str,
        client: Arc<Client>,
        primary: bool,
        to_engine: mpsc::UnboundedSender<ToEngine>,
    ) {
        let account = account.to_string();
        self.helpers.spawn(async move {
            let verified = client.verify().await;
            let counter = if primary && verified.is_ok() { Some(client.limits().await) } else { None };
            let _ = to_engine.send(ToEngine::Checked { account, verified, counter });
        });
    }

    /// Waits for the workers to stop (the stop token is cancelled by then), briefly; the rest
    /// are aborted. Requests under way resume with their key on the next start.
    pub async fn shut_down(&mut self) {
        self.stop.cancel();
        self.helpers.abort_all();
        let _ =
            tokio::time::timeout(Duration::from_secs(1), async { while self.running.join_next().await.is_some() {} })
                .await;
        self.running.abort_all();
        while self.helpers.join_next().await.is_some() {}
        while self.running.join_next().await.is_some() {}
    }
}

/// A panic's message.
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    format!("panicked: {text}")
}

/// Runs until `stop` is cancelled or the job channel closes. A request under way is not
/// interrupted: its answer is still reported.
pub async fn run(
    client: Arc<Client>,
    limiter: Arc<Limiter>,
    mut jobs: mpsc::UnboundedReceiver<(JobId, JobKind)>,
    engine: mpsc::UnboundedSender<ToEngine>,
    stop: CancellationToken,
) {
    loop {
        let (id, kind) = tokio::select! {
            biased;
            _ = stop.cancelled() => return,
            job = jobs.recv() => match job { Some(job) => job, None => return },
        };
        let acquired = async {
            if let Some(charge) = Charge::write(kind) {
                limiter.acquire(charge).await;
            }
        };
        let ready = tokio::select! {
            biased;
            _ = stop.cancelled() => false,
            _ = reporting_waits(&limiter, &id, &engine, acquired) => true,
        };
        if !ready {
            let _ = engine.send(ToEngine::Released { id });
            return;
        }
        let (reply, answer) = oneshot::channel();
        if engine.send(ToEngine::Claim { id: id.clone(), reply }).is_err() {
            return;
        }
        let Ok(Some(claimed)) = answer.await else {
            continue;
        };
        let progress = progress_for(&id, &claimed, &engine);
        let outcome = reporting_waits(&limiter, &id, &engine, send(&client, &claimed, &engine, &progress)).await;
        if engine.send(ToEngine::Finished { id, outcome, resend: claimed.resend }).is_err() {
            return;
        }
    }
}

/// Runs `work` for job `id`, telling the engine each wait the account's limiter publishes
/// meanwhile, so `status` can say why the job is late.
async fn reporting_waits<T>(
    limiter: &Limiter,
    id: &JobId,
    engine: &mpsc::UnboundedSender<ToEngine>,
    work: impl std::future::Future<Output = T>,
) -> T {
    let mut waits = limiter.waits();
    tokio::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            changed = waits.changed() => {
                if changed.is_err() {
                    return work.await;
                }
                let wait = waits.borrow_and_update().clone();
                if let Some(w) = wait {
                    let _ = engine.send(ToEngine::Waiting { id: id.clone(), until: w.until, why: w.why });
                }
            }
        }
    }
}

/// Where the client keeps what it makes part-way through `id`'s request: through the engine,
/// which stores it with the intent before answering.
fn progress_for(id: &JobId, claimed: &Claimed, engine: &mpsc::UnboundedSender<ToEngine>) -> Progress {
    let earlier = claimed.record.intent.as_ref().and_then(|i| i.progress.clone());
    let (id, engine) = (id.clone(), engine.clone());
    Progress::new(earlier, move |value| {
        let (reply, answer) = oneshot::channel();
        let sent = engine.send(ToEngine::Progress { id: id.clone(), value, reply });
        Box::pin(async move {
            sent.map_err(|_| "the engine has stopped".to_string())?;
            answer.await.map_err(|_| "the engine has stopped".to_string())?
        })
    })
}

async fn send(
    client: &Client,
    claimed: &Claimed,
    engine: &mpsc::UnboundedSender<ToEngine>,
    progress: &Progress,
) -> Result<RemoteRef, PlatformError> {
    let record = &claimed.record;
    let Some(intent) = record.intent.as_ref() else {
        return Err(PlatformError::Internal { message: "claimed without an intent".into() });
    };
    let only_if_sent = record.recall.is_some();
    match record.spec.kind {
        // Looking a post up or undoing a boost leaves nothing to find: a recall ends here.
        JobKind::External | JobKind::Unboost if only_if_sent => Err(PlatformError::NotSent),
        JobKind::Boost | JobKind::Quote | JobKind::Digest => {
            let (Some(target), Some(origin)) = (claimed.parent.as_ref(), claimed.origin.as_ref()) else {
                return Err(PlatformError::Internal { message: "nothing to boost".into() });
            };
            let req = BoostRequest {
                target,
                origin,
                key: &intent.key,
                created_at: intent.first_sent,
                resend: claimed.resend,
                only_if_sent,
                // A Page's quote carries the post's text, a digest its own; a boost none.
                text: if record.spec.kind == JobKind::Boost { None } else { record.spec.text.as_deref() },
            };
            client.boost(&req).await
        }
        JobKind::Unboost => {
            let (Some(target), Some(origin)) = (claimed.parent.as_ref(), claimed.origin.as_ref()) else {
                return Err(PlatformError::Internal { message: "nothing to undo".into() });
            };
            client.unboost(&UnboostRequest { target, origin, earlier: &claimed.earlier }).await
        }
        JobKind::External => {
            let Some(url) = record.spec.url.as_deref() else {
                return Err(PlatformError::Internal { message: "no address to look the post up by".into() });
            };
            let address = crate::address::parse(url).map_err(|message| PlatformError::Internal { message })?;
            client.resolve(&address).await
        }
        // A recalled post is only looked for: nothing is uploaded for it.
        _ if record.spec.images.is_empty() || only_if_sent => post(client, claimed, &[], progress).await,
        _ => {
            let uploads = attach::uploads(client, claimed, engine, false).await?;
            match post(client, claimed, &uploads, progress).await {
                Err(PlatformError::MediaGone(why)) => {
                    tracing::warn!(job = %record.spec.id, reason = %why, "the server lost an uploaded image: uploading again");
                    let uploads = attach::uploads(client, claimed, engine, true).await?;
                    post(client, claimed, &uploads, progress).await
                }
                other => other,
            }
        }
    }
}

/// Sends a claimed post with its uploaded images.
async fn post(
    client: &Client,
    claimed: &Claimed,
    uploads: &[Uploaded],
    progress: &Progress,
) -> Result<RemoteRef, PlatformError> {
    let record = &claimed.record;
    let Some(intent) = record.intent.as_ref() else {
        return Err(PlatformError::Internal { message: "claimed without an intent".into() });
    };
    let images: Vec<Attachment> = uploads
        .iter()
        .filter_map(|u| record.spec.images.get(u.image).map(|image| Attachment { media: &u.media, alt: &image.alt }))
        .collect();
    let req = PostRequest {
        text: record.spec.text.as_deref().unwrap_or_default(),
        reply_to: claimed.parent.as_ref(),
        root: claimed.root.as_ref(),
        language: record.spec.language.as_deref(),
        key: &intent.key,
        created_at: intent.first_sent,
        resend: claimed.resend,
        thread: record.spec.thread,
        only_if_sent: record.recall.is_some(),
        images: &images,
        progress,
    };
    client.post(&req).await
}

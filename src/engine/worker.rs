//! One worker per account: takes the account's jobs in due order, waits for the write budget,
//! claims the job from the engine (which stores the intent) and sends it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, oneshot, watch};
use url::Url;

use crate::job::{JobId, JobKind, JobRecord, RemoteRef};
use crate::limit::{Charge, Limiter};
use crate::platform::{BoostRequest, Client, Platform, PlatformError, PostRequest, UnboostRequest};

/// What a worker needs to send a claimed job.
#[derive(Debug)]
pub struct Claimed {
    pub record: JobRecord,
    /// Replies: the post answered. Boosts: the post boosted.
    pub parent: Option<RemoteRef>,
    /// Replies: the head of the thread.
    pub root: Option<RemoteRef>,
    /// Boosts: the server the boosted post lives on.
    pub origin: Option<Url>,
    /// The intent existed before this claim: an earlier request may have reached the server.
    pub resend: bool,
    /// Unboosts: what the account's earlier boosts of the post made.
    pub earlier: Vec<RemoteRef>,
}

/// Messages from workers to the engine.
#[derive(Debug)]
pub enum ToEngine {
    /// The job waits for the rate limit until then, for this reason.
    Waiting { id: JobId, until: DateTime<Utc>, why: String },
    /// The worker may send now: the engine answers with what to send, or `None` if the job
    /// should not go (cancelled, moved, paused, shutting down).
    Claim { id: JobId, reply: oneshot::Sender<Option<Claimed>> },
    /// The worker stopped before claiming the job.
    Released { id: JobId },
    /// The server's answer.
    Finished { id: JobId, outcome: Result<RemoteRef, PlatformError> },
}

/// Runs until `stop` turns true or the job channel closes. A request under way is not
/// interrupted: its answer is still reported.
pub async fn run(
    client: Arc<Client>,
    limiter: Arc<Limiter>,
    mut jobs: mpsc::UnboundedReceiver<(JobId, JobKind)>,
    engine: mpsc::UnboundedSender<ToEngine>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (id, kind) = tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => return,
            job = jobs.recv() => match job { Some(job) => job, None => return },
        };
        let wait_tx = engine.clone();
        let wait_id = id.clone();
        let notify = move |until: DateTime<Utc>, why: &str| {
            let _ = wait_tx.send(ToEngine::Waiting { id: wait_id.clone(), until, why: why.to_string() });
        };
        tokio::select! {
            biased;
            _ = stop.wait_for(|s| *s) => {
                let _ = engine.send(ToEngine::Released { id });
                return;
            }
            _ = async {
                if let Some(charge) = Charge::write(kind) {
                    limiter.acquire(charge, &notify).await;
                }
            } => {}
        }
        let (reply, answer) = oneshot::channel();
        if engine.send(ToEngine::Claim { id: id.clone(), reply }).is_err() {
            return;
        }
        let Ok(Some(claimed)) = answer.await else {
            continue;
        };
        let outcome = send(&client, &claimed, &notify).await;
        if engine.send(ToEngine::Finished { id, outcome }).is_err() {
            return;
        }
    }
}

async fn send(
    client: &Client,
    claimed: &Claimed,
    wait: &(dyn Fn(DateTime<Utc>, &str) + Send + Sync),
) -> Result<RemoteRef, PlatformError> {
    let record = &claimed.record;
    let Some(intent) = record.intent.as_ref() else {
        return Err(PlatformError::Permanent { status: 0, message: "internal: claimed without an intent".into() });
    };
    match record.spec.kind {
        JobKind::Boost => {
            let (Some(target), Some(origin)) = (claimed.parent.as_ref(), claimed.origin.as_ref()) else {
                return Err(PlatformError::Permanent { status: 0, message: "nothing to boost".into() });
            };
            let req = BoostRequest {
                target,
                origin,
                key: &intent.key,
                created_at: intent.first_sent,
                resend: claimed.resend,
            };
            client.boost(&req, wait).await
        }
        JobKind::Unboost => {
            let (Some(target), Some(origin)) = (claimed.parent.as_ref(), claimed.origin.as_ref()) else {
                return Err(PlatformError::Permanent { status: 0, message: "nothing to undo".into() });
            };
            client.unboost(&UnboostRequest { target, origin, earlier: &claimed.earlier }, wait).await
        }
        JobKind::External => {
            let Some(url) = record.spec.url.as_deref() else {
                return Err(PlatformError::Permanent {
                    status: 0,
                    message: "no address to look the post up by".into(),
                });
            };
            let address =
                crate::address::parse(url).map_err(|message| PlatformError::Permanent { status: 0, message })?;
            client.resolve(&address, wait).await
        }
        _ => {
            let req = PostRequest {
                text: record.spec.text.as_deref().unwrap_or_default(),
                reply_to: claimed.parent.as_ref(),
                root: claimed.root.as_ref(),
                language: record.spec.language.as_deref(),
                key: &intent.key,
                created_at: intent.first_sent,
                resend: claimed.resend,
                thread: record.spec.thread,
            };
            client.post(&req, wait).await
        }
    }
}

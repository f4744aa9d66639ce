//! The messages between the engine and its workers: what a worker is given to send a claimed
//! job ([`Claimed`]), and what it tells the engine ([`ToEngine`]). Types only, so the worker's
//! parts (the worker loop, photo uploads) share them without depending on each other.

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use url::Url;

use crate::count::Counter;
use crate::job::{JobId, JobRecord, RemoteRef, Uploaded};
use crate::limit::Hold;
use crate::platform::PlatformError;

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
    /// When it was claimed (by the engine's clock).
    pub at: DateTime<Utc>,
    /// Posts with images: the largest image file read (`[media] max_file_bytes`).
    pub max_file_bytes: u64,
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
    /// Images were uploaded for a claimed post: the engine stores them with its intent, durably,
    /// and answers `true` once they are on disk (the post waits for that).
    Uploaded { id: JobId, media: Vec<Uploaded>, reply: oneshot::Sender<bool> },
    /// The server's answer; `resend`: the request was a resend (see `Claimed::resend`).
    Finished { id: JobId, outcome: Result<RemoteRef, PlatformError>, resend: bool },
    /// A client made something part-way through the job's request: keep it with the intent,
    /// durably, then answer.
    Progress { id: JobId, value: serde_json::Value, reply: oneshot::Sender<Result<(), String>> },
    /// The server put a hold on an account (or it ended): stored, so a restart honours it.
    Held { account: String, hold: Option<Hold> },
    /// An account's check: its own id on the network, and (posting accounts) the server's
    /// length limits.
    Checked {
        account: String,
        verified: Result<String, PlatformError>,
        counter: Option<Result<Counter, PlatformError>>,
    },
}

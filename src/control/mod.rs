//! Live control of a running daemon: a Unix socket in the state dir, owner-only.
//!
//! # Protocol
//!
//! The client connects to `<state dir>/control.sock` and writes one request per line, a JSON
//! object with an `op` field; the daemon answers each with one JSON line:
//!
//! ```text
//! → {"op":"shift","session":"case-studies","by_secs":900}
//! ← {"ok":true,"message":"moved 6 pending jobs of case-studies by +15m (sent ones stay)"}
//! → {"op":"status"}
//! ← {"ok":true,"jobs":[…JobRecord…],"paused":{"council":"paused by hand"}}
//! → {"op":"skip","session":"nope"}
//! ← {"ok":false,"error":"no session \"nope\"; sessions: equalities-law, …"}
//! ```
//!
//! Operations: `status`, `shift {session?, by_secs}` (no session: all), `skip {session}`,
//! `send {target}` (a job id or a session id), `say {text, thread?, images?: [{file, alt}]}`,
//! `pause {account?}`,
//! `resume {account?}`, `retry {job}`, `reload`, `export`, `report {format}`,
//! `repost {url, at?, accounts?}`, and `found {watch, posts, state}` (the daemon's own watcher
//! handing over what a `[[follow]]` watch read). The live desk adds `snippet {label, thread?}`,
//! `send-next {session}`, `preview {text}`, `desk {upcoming}` (its bounded view), and its
//! sign-ins: `desk-link`, `desk-sign-in`, `desk-check`, `desk-sign-out`, `desk-revoke`, which
//! carry only SHA-256 digests of the secrets. Every change goes through the
//! engine's own loop, one at a time, so concurrent commands never lose an update. When no
//! daemon runs, the CLI applies the same operations to the store directly (see [`ops`]).

pub mod client;
pub mod ops;
pub mod server;
pub mod view;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::follow::{Seen, WatchState};
use crate::job::{Image, JobId, JobRecord};

/// The socket's name inside the state dir.
pub const SOCKET: &str = "control.sock";

pub fn socket_path(state_dir: &Path) -> PathBuf {
    state_dir.join(SOCKET)
}

/// A request to the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    Status,
    /// Move the pending jobs of a session (or of every session) by `by_secs`.
    Shift {
        #[serde(default)]
        session: Option<String>,
        by_secs: i64,
    },
    Skip {
        session: String,
    },
    /// Approve a session's suggestion `n` (from 1): a sentence from its abstract, posted into
    /// its thread like a point once approved. Without `n`, lists them.
    Approve {
        session: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        n: Option<usize>,
    },
    /// Send a job, or a session's unsent jobs, now.
    Send {
        target: String,
    },
    /// An ad-hoc post from the primary accounts, amplified like the rest, with up to four
    /// images: each a file (its full path; a photo sent as bytes is kept first with
    /// [`ops::keep_photo`]) and its alt text (`""` for a decorative image). With a `key` (8 to
    /// 32 lower-case letters and digits, made by the one asking), asking again with the same
    /// key posts nothing more: a tap repeated after a lost answer posts once.
    Say {
        text: String,
        #[serde(default)]
        thread: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        images: Vec<Image>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// A `[[snippet]]`'s text, by its label, said like `say` (in `thread` when the snippet
    /// posts into the thread).
    Snippet {
        label: String,
        #[serde(default)]
        thread: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// Send a session's next unsent point (or its title, if that has not gone) now, from every
    /// primary account.
    SendNext {
        session: String,
    },
    /// What `say` would post from each primary account: each piece and its length as the
    /// network counts it, against its limit. Changes nothing.
    Preview {
        text: String,
    },
    /// What the live desk shows: the sessions now and next with their posts, the next
    /// `upcoming` jobs, the accounts and what holds them, the failed jobs, the snippets. Reads
    /// a bounded part of the store, never every job.
    Desk {
        #[serde(default = "view::default_upcoming")]
        upcoming: usize,
    },
    /// A one-time desk sign-in: the SHA-256 (hex) of its secret, until `expires` (at most
    /// [`view::LINK_LIFETIME_MAX`] ahead).
    DeskLink {
        hash: String,
        expires: DateTime<Utc>,
    },
    /// Uses a sign-in (`link`, its digest) once, opening a desk session (`session`, the digest
    /// of the cookie's secret) until `expires`.
    DeskSignIn {
        link: String,
        session: String,
        expires: DateTime<Utc>,
    },
    /// Whether a desk session (its digest) is open.
    DeskCheck {
        session: String,
    },
    /// Ends one desk session.
    DeskSignOut {
        session: String,
    },
    /// Ends every desk session and unused sign-in link.
    DeskRevoke,
    Pause {
        #[serde(default)]
        account: Option<String>,
    },
    Resume {
        #[serde(default)]
        account: Option<String>,
    },
    Retry {
        job: String,
    },
    /// Read the config and schedule again.
    Reload,
    /// All state as JSON Lines.
    Export,
    /// The engagement report, rendered (`format`: table, csv, json, markdown or html).
    Report {
        format: String,
    },
    /// Boost a post, named by its address, at `at` (now when none) from `accounts` (every
    /// amplifier on the post's network when none); a repeat of an earlier boost undoes it first.
    Repost {
        url: String,
        #[serde(default)]
        at: Option<DateTime<Utc>>,
        #[serde(default)]
        accounts: Vec<String>,
    },
    /// Posts a `[[follow]]` watch read (sent by the daemon's own watcher, not by people), and
    /// where the watch has read up to: stored once the jobs of what it found are.
    Found {
        watch: String,
        posts: Vec<Seen>,
        state: WatchState,
    },
}

/// The daemon's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Vec<JobRecord>>,
    /// Paused accounts and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<BTreeMap<String, String>>,
    /// `export` and `report`: the text produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// `status`: the last edit of the config that was refused, and why (until a good one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reload: Option<String>,
    /// `status`: accounts whose worker stopped on its own during this run, and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<BTreeMap<String, String>>,
    /// `status`: accounts the server holds back (a rate limit), until when and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds: Option<BTreeMap<String, String>>,
    /// `desk`: what the live desk shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desk: Option<Box<view::DeskView>>,
    /// `status`: the sentences offered as points, approved or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<Vec<crate::plan::Suggestion>>,
    /// `say`: the posts made (or found, for a key said before), by job id. The command line
    /// prints them after the words, for `status` and `retry`; the desk shows the words alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posts: Option<Vec<JobId>>,
    /// `preview`: what each primary account would post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<Vec<view::Preview>>,
}

impl Response {
    pub fn message(text: impl Into<String>) -> Response {
        Response { ok: true, message: Some(text.into()), ..Default::default() }
    }

    pub fn error(text: impl Into<String>) -> Response {
        Response { ok: false, error: Some(text.into()), ..Default::default() }
    }
}

/// Why a control operation could not be done.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The request names something that does not exist, or asks the impossible.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot reach the daemon at {}: {source}", path.display())]
    Socket { path: PathBuf, source: std::io::Error },
    #[error("the daemon's answer did not read: {0}")]
    Protocol(String),
}

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
//! handing over what a `[[follow]]` watch read). Every change goes through the
//! engine's own loop, one at a time, so concurrent commands never lose an update. When no
//! daemon runs, the CLI applies the same operations to the store directly (see [`ops`]).

pub mod client;
pub mod ops;
pub mod server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::follow::{Seen, WatchState};
use crate::job::{Image, JobRecord};

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
    /// Send a job, or a session's unsent jobs, now.
    Send {
        target: String,
    },
    /// An ad-hoc post from the primary accounts, amplified like the rest, with up to four
    /// images: each a file (its full path; a photo sent as bytes is kept first with
    /// [`ops::keep_photo`]) and its alt text (`""` for a decorative image).
    Say {
        text: String,
        #[serde(default)]
        thread: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        images: Vec<Image>,
    },
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

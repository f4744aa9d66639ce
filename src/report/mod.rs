//! Engagement after the event: collecting likes, reposts, replies and quotes of every post at
//! checkpoints after posting, and the report built from them.
//!
//! - [`collect`]: which posts are due a snapshot (pure), and the sweep that reads them through
//!   the accounts' own clients, inside the same rate budget as posting.
//! - [`collector`]: the task the daemon runs beside the engine, sleeping until the next checkpoint.
//! - [`model`] and [`build`]: the report as plain data, and [`report`] that makes it from stored
//!   jobs and snapshots (pure, so the control socket can serve it from a running daemon).
//! - [`format`]: one writer per output: table, CSV, JSON, Markdown, HTML.
//!
//! Boosts have no engagement of their own: a like or a repost of a boost lands on the boosted
//! post on Mastodon, Bluesky and X alike. So only posts are read, and each primary post is shown
//! with the boosts of it joined; a snapshot is also taken as each boost goes out, so the report
//! can say what came before the amplification and what after.
//!
//! A count a server would not give (a deleted post, a failed read) is unknown, never 0: it is
//! `None` in the model, and sums over unknowns say "at least".

pub mod build;
pub mod collect;
pub mod collector;
pub mod format;
pub mod model;

#[cfg(test)]
pub(crate) mod fixtures;

use serde::{Deserialize, Serialize};

use crate::metrics::{Counts, Reading};

pub use build::report;
pub use model::Report;

/// One stored engagement snapshot of a post (the store's metrics time series holds these).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Snapshot {
    /// What the server said.
    Counts(Counts),
    /// The server no longer has the post (deleted, or no longer visible to its account).
    Gone,
    /// The read failed (network error, refused credentials): nothing is known at this instant.
    Unknown { why: String },
}

impl From<Reading> for Snapshot {
    fn from(r: Reading) -> Self {
        match r {
            Reading::Counts(c) => Snapshot::Counts(c),
            Reading::Gone => Snapshot::Gone,
        }
    }
}

impl Snapshot {
    pub fn counts(&self) -> Option<&Counts> {
        match self {
            Snapshot::Counts(c) => Some(c),
            _ => None,
        }
    }
}

/// Why the report or a collection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("cannot write the report to {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

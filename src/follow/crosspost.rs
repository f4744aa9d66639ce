//! Copying a post typed by hand to the other networks (`[[follow]] crosspost = true`), pure:
//! which found posts are copied, the scope their copies' job ids share, and the copies
//! themselves once composed for each account.
//!
//! A copy is an ordinary stored job (a reply in the session's thread, or a standalone post) made
//! in the same write as the found post's own job, with an id derived from the post's
//! network-wide id (`cross-<hash>.post.<account>`): a restart, or a post read twice, finds the
//! found post's job already stored and copies nothing more. Copies carry
//! [`Origin::Crosspost`]; when the watch on the other network reads a copy it is one of
//! loudhailer's own posts (see [`super::is_ours`]), so it is never copied back.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{hashtags_in, Seen};
use crate::compose::Piece;
use crate::config::{Filter, Watch, Watched};
use crate::job::{JobId, JobKind, JobRecord, JobSpec, Origin};
use crate::network::Network;
use crate::plan;

/// The scope of the copies of a post: `cross-<the hash its found job's id carries>`.
pub fn scope(network: Network, key: &str) -> String {
    format!("cross-{}", crate::job::short_hash(&format!("{network}:{key}")))
}

/// Whether a post the watch took is copied: the watch copies, it is the watched account's own
/// post (not a boost of someone else's, not a reply to someone else), and it carries one of the
/// watch's hashtags (with `all_posts`, one of the event's).
pub fn copied(watch: &Watch, event_hashtags: &[String], post: &Seen) -> bool {
    if !watch.crosspost || post.repost || post.reply || !matches!(watch.watched, Watched::Account(_)) {
        return false;
    }
    let wanted: Vec<String> = match &watch.filter {
        Filter::Hashtags(tags) => tags.clone(),
        Filter::All => event_hashtags.iter().map(|t| t.trim_start_matches('#').to_lowercase()).collect(),
    };
    let found = hashtags_in(&post.text);
    wanted.iter().any(|t| post.tags.iter().chain(found.iter()).any(|f| f.to_lowercase() == *t))
}

/// Where one account's copy goes: its pieces (composed and split for its network), the post
/// it answers and the thread's head (none outside a session), its language and amplifiers.
#[derive(Debug, Clone)]
pub struct Target {
    pub account: String,
    pub pieces: Vec<Piece>,
    pub parent: Option<JobId>,
    pub root: Option<JobId>,
    pub language: Option<String>,
    pub amplifiers: Vec<String>,
}

/// The jobs of the copies: per target, its pieces chained as a thread (the first answering
/// `parent`, in the session's thread when `session` is given), due `now`, each boosted by the
/// target's amplifiers `delay` ± `jitter` after it goes.
pub fn copy_jobs(
    scope: &str,
    session: Option<&str>,
    targets: Vec<Target>,
    now: DateTime<Utc>,
    delay: Duration,
    jitter: Duration,
) -> Vec<JobRecord> {
    let mut records = Vec::new();
    for t in targets {
        // The thread's head: the one given, else the post answered, else (standalone) the first
        // piece.
        let mut root = t.root.or_else(|| t.parent.clone());
        let mut parent = t.parent;
        for (i, piece) in t.pieces.into_iter().enumerate() {
            let item = if i == 0 { "post".to_string() } else { format!("post-{}", i + 1) };
            let id = JobId::post(scope, &item, &t.account);
            let spec = JobSpec {
                id: id.clone(),
                kind: if parent.is_some() { JobKind::Reply } else { JobKind::Say },
                account: t.account.clone(),
                session: session.map(str::to_string),
                at: now,
                text: Some(piece.text),
                parent: parent.clone(),
                root: parent.as_ref().and(root.clone()),
                language: t.language.clone(),
                origin: Origin::Crosspost,
                thread: None,
                author: None,
                url: None,
                images: Vec::new(),
            };
            for amp in &t.amplifiers {
                records.push(JobRecord::new(plan::boost(&spec, amp, delay, jitter)));
            }
            let mut r = JobRecord::new(spec);
            r.pinned_at = Some(now);
            records.push(r);
            root = root.or_else(|| Some(id.clone()));
            parent = Some(id);
        }
    }
    records
}

//! Amplifying what people post by hand (pure, the clock passed in): which posts a watch takes,
//! the jobs a found post becomes, the jobs of a scheduled repost, when a watch watches and how
//! often it polls.
//!
//! A found post becomes an `External` job recorded as done (the post exists; nothing is sent)
//! and one boost job per amplifier, due `delay` ± `jitter` after it was seen. The job's id comes
//! from the post's own network-wide id (`follow.<hash>`), so seeing the post again (a restart,
//! an overlap of two polls) plans nothing new: the store already has it. A scheduled repost is
//! an `External` job that looks the post up by its address when due, then per account an
//! `Unboost` (undoing the account's earlier boost of it, if loudhailer made one) and the boost.
//!
//! The task that polls (and, on Mastodon, listens to the streaming API) and hands what it finds
//! to the engine is `engine::watcher`; [`stream`] reads what a live stream event says (pure).

pub mod crosspost;
pub mod stream;

use std::time::Duration;

use chrono::{DateTime, Utc};

use serde::{Deserialize, Serialize};

use crate::config::{Config, Filter, Watch, Watched};
use crate::job::{JobId, JobKind, JobRecord, JobSpec, JobState, Origin, RemoteRef};
use crate::limit::ServerHint;
use crate::network::Network;
use crate::plan;

/// While a Mastodon stream is open, polls are only a safety net: this far apart.
pub const STREAM_POLL: Duration = Duration::from_secs(300);
/// At most this share of the rate budget left in the server's window goes on watching.
pub const BUDGET_SHARE: u64 = 4;

/// Where a watch has read up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "at", rename_all = "lowercase")]
pub enum Cursor {
    /// Mastodon: the newest status id read (ids grow with time on a server).
    Id(String),
    /// Bluesky: the newest feed position read (the AppView's sort time).
    At(DateTime<Utc>),
}

/// What the store keeps for a watch between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchState {
    pub cursor: Option<Cursor>,
    /// When the watch first ran (with `always`, nothing older is taken).
    pub since: DateTime<Utc>,
}

/// A post a watch read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// The post as the reading account's server names it (Bluesky: its at:// URI and CID).
    pub remote: RemoteRef,
    /// The post's name everywhere: Mastodon's ActivityPub URI, Bluesky's at:// URI.
    pub key: String,
    pub created_at: DateTime<Utc>,
    /// Its text, without markup.
    pub text: String,
    /// Hashtags the network itself lists for it (lower-case, without `#`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// A reply to someone else (a thread of one's own posts is not).
    #[serde(default)]
    pub reply: bool,
    /// A boost of someone else's post by the watched account (then `remote` is the original).
    #[serde(default)]
    pub repost: bool,
}

/// What one poll read: posts oldest first, and where the next poll starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recent {
    pub posts: Vec<Seen>,
    pub cursor: Option<Cursor>,
}

/// The hashtags in a text, lower-case and without `#`: a `#` at the start or after anything
/// but a letter, digit, `_` or `&`, followed by letters, digits and `_` (not all digits).
pub fn hashtags_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let before_ok = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '&');
        if (chars[i] == '#' || chars[i] == '＃') && before_ok {
            let tag: String = chars[i + 1..].iter().take_while(|c| c.is_alphanumeric() || **c == '_').collect();
            if !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit()) {
                out.push(tag.to_lowercase());
            }
            i += 1 + tag.chars().count();
        } else {
            i += 1;
        }
    }
    out
}

/// Whether a watch takes a post: not a reply to someone else or a boost unless asked for, and
/// carrying one of its hashtags unless it takes every post.
pub fn wanted(watch: &Watch, post: &Seen) -> bool {
    if (post.reply && !watch.replies) || (post.repost && !watch.reposts) {
        return false;
    }
    match &watch.filter {
        Filter::All => true,
        Filter::Hashtags(tags) => {
            let found = hashtags_in(&post.text);
            tags.iter().any(|t| post.tags.iter().chain(found.iter()).any(|f| f.to_lowercase() == *t))
        }
    }
}

/// Whether the watch is on now, and until when; or when it starts; or that it never will.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watching {
    /// Watching now; stop at the instant given (none: always).
    Until(Option<DateTime<Utc>>),
    /// Not yet: the next hours start then.
    From(DateTime<Utc>),
    /// The event's hours are over.
    Over,
}

/// When a watch watches: within the event's `hours`, or at all times with `always`.
pub fn watching(hours: &[(DateTime<Utc>, DateTime<Utc>)], now: DateTime<Utc>, always: bool) -> Watching {
    if always {
        return Watching::Until(None);
    }
    if let Some((_, end)) = hours.iter().find(|(a, b)| *a <= now && now < *b) {
        return Watching::Until(Some(*end));
    }
    match hours.iter().map(|(a, _)| *a).filter(|a| *a > now).min() {
        Some(start) => Watching::From(start),
        None => Watching::Over,
    }
}

/// Whether a post was made when the watch takes posts: during the event's hours, or (with
/// `always`) since the watch first ran.
pub fn in_hours(hours: &[(DateTime<Utc>, DateTime<Utc>)], state: &WatchState, always: bool, at: DateTime<Utc>) -> bool {
    if always {
        at >= state.since
    } else {
        hours.iter().any(|(a, b)| *a <= at && at <= *b)
    }
}

/// How long to wait before the next poll: the watch's `poll`, or longer so the watches of one
/// account spend at most a quarter of what the server says is left in its window.
pub fn interval(poll: Duration, hint: Option<&ServerHint>, now: DateTime<Utc>, watches: usize) -> Duration {
    let Some((remaining, reset)) = hint.and_then(|h| Some((h.remaining?, h.reset?))) else {
        return poll;
    };
    let Ok(left) = (reset - now).to_std() else {
        // The window the hint spoke of is over: nothing is known about the next one.
        return poll;
    };
    let left = left.max(Duration::from_secs(1));
    let spare = remaining / (BUDGET_SHARE * watches.max(1) as u64);
    if spare == 0 {
        return left.max(poll);
    }
    (left / spare.min(u32::MAX as u64) as u32).max(poll)
}

/// The id of a found post's job: `follow.<hash of the post's network-wide id>`.
pub fn job_id(network: Network, key: &str) -> JobId {
    JobId(format!("follow.{}", crate::job::short_hash(&format!("{network}:{key}"))))
}

/// Collapses runs of spaces and trims, so texts compare as a reader sees them.
pub fn normalise(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether a post a watch found is one of loudhailer's own (which has its planned boosts
/// already): a job already names it, or a post of the watched account that may have reached the
/// server without its answer being stored yet has the same text or record key.
pub fn is_ours<'a>(watch: &Watch, post: &Seen, jobs: impl IntoIterator<Item = &'a JobRecord>) -> bool {
    let own_account = match &watch.watched {
        Watched::Account(a) => Some(a.as_str()),
        Watched::Handle(_) => None,
    };
    let rkey = post.key.rsplit('/').next().unwrap_or_default();
    let text = normalise(&post.text);
    jobs.into_iter().filter(|j| j.spec.kind.has_post()).any(|j| {
        let named = j.remote.as_ref().is_some_and(|r| {
            r.uri.as_deref() == Some(post.key.as_str())
                || r.id == post.key
                || (j.spec.account == watch.reader && r.id == post.remote.id)
        });
        let attempt = own_account == Some(j.spec.account.as_str())
            && j.spec.kind.is_post()
            && j.state != JobState::Done
            && j.intent.as_ref().is_some_and(|i| {
                (watch.network == Network::Bluesky && i.key == rkey)
                    || j.spec.text.as_deref().is_some_and(|t| normalise(t) == text)
            });
        named || attempt
    })
}

/// The jobs a found post becomes: the post, recorded done, and a boost by each amplifier
/// `delay` ± `jitter` after it was seen.
pub fn found_jobs(
    watch: &Watch,
    post: &Seen,
    seen_at: DateTime<Utc>,
    delay: Duration,
    jitter: Duration,
) -> Vec<JobRecord> {
    let mut spec = JobSpec {
        id: job_id(watch.network, &post.key),
        kind: JobKind::External,
        account: watch.reader.clone(),
        session: None,
        at: seen_at,
        text: Some(post.text.clone()),
        parent: None,
        root: None,
        language: None,
        origin: Origin::Followed,
        thread: None,
        author: match &watch.watched {
            Watched::Handle(h) => Some(h.clone()),
            Watched::Account(_) => None,
        },
        url: None,
        images: Vec::new(),
    };
    let boosts: Vec<JobRecord> =
        watch.amplifiers.iter().map(|a| JobRecord::new(plan::boost(&spec, a, delay, jitter))).collect();
    spec.at = post.created_at;
    let mut found = JobRecord::new(spec);
    found.state = JobState::Done;
    found.remote = Some(post.remote.clone());
    found.done_at = Some(post.created_at);
    std::iter::once(found).chain(boosts).collect()
}

/// What `plan` says about the watches: who is followed, for what, and who boosts it.
pub fn describe(config: &Config) -> Vec<String> {
    config
        .follows
        .iter()
        .map(|w| {
            let what = match &w.filter {
                Filter::All => "every post".to_string(),
                Filter::Hashtags(t) => {
                    format!("posts with {}", t.iter().map(|t| format!("#{t}")).collect::<Vec<_>>().join(" or "))
                }
            };
            let mut extra = Vec::new();
            if w.replies {
                extra.push("replies");
            }
            if w.reposts {
                extra.push("their boosts");
            }
            let extra = if extra.is_empty() { String::new() } else { format!(" (and {})", extra.join(", ")) };
            let when = if w.always { "at all times" } else { "during the event's hours" };
            let via = match &w.watched {
                Watched::Handle(_) => format!(", read as {}", w.reader),
                Watched::Account(_) => String::new(),
            };
            let copied = if w.crosspost {
                let to: Vec<&str> =
                    config.primaries().filter(|a| a.network != w.network).map(|a| a.id.as_str()).collect();
                format!("; copied to {} in the session's thread", to.join(", "))
            } else {
                String::new()
            };
            format!(
                "following {} on {}: {what}{extra}, {when}, polled every {} at most{via}; boosted by {}{copied}",
                w.key,
                w.network,
                humantime::format_duration(w.poll),
                w.amplifiers.join(", ")
            )
        })
        .collect()
}

/// Whether two references name the same post: the same at:// or ActivityPub URI, the same
/// address, or the same id read through the same account.
pub fn same_post(a: (&str, &RemoteRef), b: (&str, &RemoteRef)) -> bool {
    let (ra, rb) = (a.1, b.1);
    let uri = matches!((&ra.uri, &rb.uri), (Some(x), Some(y)) if x == y);
    let url = matches!((&ra.url, &rb.url), (Some(x), Some(y)) if x == y);
    uri || url || (a.0 == b.0 && ra.id == rb.id)
}

#[cfg(test)]
mod tests;

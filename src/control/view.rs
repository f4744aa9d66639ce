//! What the live desk reads through the control channel: its view of the event (the sessions
//! now and next with their posts, what comes next, the accounts and what holds them) and the
//! preview of a point being typed. Plain data, built by [`super::ops`] from bounded reads.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::job::{JobId, JobKind, JobState};
use crate::metrics::Counts;
use crate::network::Network;

/// How many upcoming jobs the desk asks for when it does not say.
pub const DEFAULT_UPCOMING: usize = 8;
/// The most upcoming jobs one view holds.
pub const MAX_UPCOMING: usize = 50;
/// The longest a sign-in link may work.
pub const LINK_LIFETIME_MAX: Duration = Duration::from_secs(15 * 60);
/// The longest a desk session may last.
pub const SESSION_LIFETIME_MAX: Duration = Duration::from_secs(7 * 86_400);
/// The most unused sign-in links and open desk sessions kept (the oldest go first).
pub const MAX_LINKS: usize = 8;
pub const MAX_SESSIONS: usize = 16;

pub(crate) fn default_upcoming() -> usize {
    DEFAULT_UPCOMING
}

/// The desk's view of the event at `now`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DeskView {
    pub event: String,
    /// The event's time zone (IANA name): every time is shown in it.
    pub timezone: String,
    pub now: DateTime<Utc>,
    /// The session under way (the latest to start, when several are), with its shift applied.
    pub current: Option<SessionView>,
    /// The next session to start.
    pub next: Option<SessionView>,
    /// The sessions of the day to choose a thread from, by start.
    pub sessions: Vec<SessionRef>,
    /// Jobs that will go out next (posts, not boosts), soonest first.
    pub upcoming: Vec<JobLine>,
    pub accounts: Vec<AccountView>,
    /// Jobs of the sessions around now and of the posts typed while running, that failed or
    /// were missed: each can be tried again.
    pub failed: Vec<JobLine>,
    pub snippets: Vec<SnippetView>,
}

/// A session to choose as a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRef {
    pub id: String,
    pub title: String,
    /// With its shift applied.
    pub start: DateTime<Utc>,
}

/// A session, with the posts of its thread made so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: String,
    pub title: String,
    /// With its shift applied.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Seconds its jobs were moved by (`shift`), in all.
    pub shift_secs: i64,
    /// The posts made so far (sent or being sent), in the order they went.
    pub posts: Vec<PostView>,
    /// Its posts not yet sent, each counted once however many networks it goes to.
    pub pending: usize,
    /// The text of the next post to go (`send-next` sends it), if any.
    pub next_point: Option<String>,
    /// Sentences from its abstract offered as points, approved or not.
    #[serde(default)]
    pub suggested: Vec<crate::plan::Suggestion>,
}

/// One post, made on each primary account's network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostView {
    /// Its job id without the account: `case-studies.p2`, `say-3f9a2c1b.post`.
    pub key: String,
    pub text: String,
    pub at: DateTime<Utc>,
    pub copies: Vec<PostCopy>,
}

/// A post on one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostCopy {
    pub job: JobId,
    pub account: String,
    pub network: Network,
    pub state: JobState,
    pub url: Option<String>,
    /// The latest engagement the collector read; `None` when never read or unknown.
    pub counts: Option<Counts>,
    /// The network no longer has it.
    pub gone: bool,
    /// Its boosts: how many went out of how many planned.
    pub boosts_done: usize,
    pub boosts: usize,
}

/// A job, in a line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobLine {
    pub job: JobId,
    pub account: String,
    pub network: Option<Network>,
    pub kind: JobKind,
    pub state: JobState,
    /// When it goes (or went): pinned, shifted or backed-off time included.
    pub at: DateTime<Utc>,
    pub session: Option<String>,
    pub text: Option<String>,
    /// Why it failed, or what it waits for.
    pub why: Option<String>,
}

/// An account, and anything that holds it back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub id: String,
    pub network: Network,
    /// `primary` (posts) or `amplifier` (boosts).
    pub role: String,
    /// Paused, and why (by hand, or refused credentials).
    pub paused: Option<String>,
    /// The server's rate limit holds it until then, and why.
    pub held_until: Option<DateTime<Utc>>,
    pub held_why: Option<String>,
    /// Among the jobs in view: how many failed, or wait after a failed attempt.
    pub failing: usize,
}

/// A `[[snippet]]`, as its button shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetView {
    pub label: String,
    pub text: String,
    /// Posted into the chosen thread rather than on its own.
    pub thread: bool,
}

/// What `say` would post from one primary account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub account: String,
    pub network: Network,
    /// The most one post may count on this account's server.
    pub max: usize,
    /// Each post the text becomes, with its length as the network counts it.
    pub pieces: Vec<PreviewPiece>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewPiece {
    pub text: String,
    pub count: usize,
}

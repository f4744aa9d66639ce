//! Jobs: one request to one network (a post, a reply, a boost) with a stable id and a due time.
//!
//! A [`JobSpec`] is what planning produces (pure, recomputed on every start and edit); a
//! [`JobRecord`] is what the store keeps: the spec plus its life so far (state, intent, remote
//! ids, errors). Ids are derived from the session, the item and the account, so planning the
//! same schedule again yields the same ids and nothing is sent twice.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A job's stable id, e.g. `equalities-law.p2.delegate` or `equalities-law.p2.delegate+council`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub String);

/// A set or map of ids can be asked with the `&str` a store key gives (the derived `Hash`, `Eq`
/// and `Ord` are the string's own, as `Borrow` requires).
impl std::borrow::Borrow<str> for JobId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl JobId {
    /// The id of a post job: `{scope}.{item}.{account}`.
    pub fn post(scope: &str, item: &str, account: &str) -> Self {
        JobId(format!("{scope}.{item}.{account}"))
    }

    /// The id of the boost of `post` by `amplifier`: `{post}+{amplifier}`.
    pub fn boost(post: &JobId, amplifier: &str) -> Self {
        JobId(format!("{}+{amplifier}", post.0))
    }

    /// The id of the step that undoes `amplifier`'s earlier boost of `post` before boosting it
    /// again: `{post}+{amplifier}.undo`.
    pub fn unboost(post: &JobId, amplifier: &str) -> Self {
        JobId(format!("{}+{amplifier}.undo", post.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// A session's title: the head of its thread.
    Post,
    /// A key point (or a continuation of an over-long post), replying in the thread.
    Reply,
    /// A boost/repost of another job's post by an amplifier account.
    Boost,
    /// A post from a `[[recurring]]` entry ("coffee break!").
    Recurring,
    /// An ad-hoc post typed while the daemon runs.
    Say,
    /// A post loudhailer did not make: found by a `[[follow]]` watch (recorded done as it is
    /// found), or named by its address for a scheduled repost (looked up when due). Never sent.
    External,
    /// Undoes an account's earlier boost of a post, so an "evergreen" repeat boost surfaces it
    /// again (the boost after it waits for it). Nothing to undo: done without a request.
    Unboost,
    /// An amplifier that cannot share (a Facebook Page) posting another account's post as its
    /// own: the post's text and a link to it, on the boosts' timer.
    Quote,
    /// An amplifier's one post about a session as it ends (a Facebook Page): its title, its
    /// points and a link to the thread.
    Digest,
}

impl JobKind {
    /// Whether the job creates a post (as opposed to boosting one, or naming someone's post).
    pub fn is_post(self) -> bool {
        matches!(
            self,
            JobKind::Post | JobKind::Reply | JobKind::Recurring | JobKind::Say | JobKind::Quote | JobKind::Digest
        )
    }

    /// Whether the job amplifies another job's post (a boost, or an amplifier's own post about
    /// it): it waits for that post, and goes with it.
    pub fn amplifies(self) -> bool {
        matches!(self, JobKind::Boost | JobKind::Quote | JobKind::Digest)
    }

    /// Whether a done job of this kind stands for a post people can engage with: one it made,
    /// or one it found or looked up.
    pub fn has_post(self) -> bool {
        self.is_post() || self == JobKind::External
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Post => "post",
            JobKind::Reply => "reply",
            JobKind::Boost => "boost",
            JobKind::Recurring => "recurring",
            JobKind::Say => "say",
            JobKind::External => "external",
            JobKind::Unboost => "unboost",
            JobKind::Quote => "quote",
            JobKind::Digest => "digest",
        }
    }
}

/// A planned job: everything needed to send it, and nothing about what happened since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub id: JobId,
    pub kind: JobKind,
    /// The account (config `[[account]] id`) that sends it.
    pub account: String,
    /// The session key, for session jobs.
    pub session: Option<String>,
    /// When it is due.
    pub at: DateTime<Utc>,
    /// The post text (posts only).
    pub text: Option<String>,
    /// Replies: the post answered. Boosts: the post boosted.
    pub parent: Option<JobId>,
    /// Replies: the head of the thread (Bluesky needs it in every reply).
    pub root: Option<JobId>,
    /// Language tag sent with the post.
    pub language: Option<String>,
    /// Where the job came from: only planned jobs are cancelled when the schedule drops them.
    #[serde(default)]
    pub origin: Origin,
    /// Posts of a thread of two or more: its place in the thread (1-based) and the thread's
    /// length, for a network that refuses the replies and takes them as numbered posts ("2/4").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<(u32, u32)>,
    /// External posts by someone not in the config: their handle (`@ada@example.social`,
    /// `ada.bsky.social`). `account` is then the configured account that reads the post.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// External posts named for a repost: the address given, looked up when the job is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Posts: the images attached to it (at most four), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<Image>,
}

impl JobSpec {
    /// Who made the post: the handle of someone outside the config, else the account.
    pub fn author(&self) -> &str {
        self.author.as_deref().unwrap_or(&self.account)
    }
}

/// An image attached to a post: a file, and what it shows for those who cannot see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Image {
    /// The image file, as an absolute path (the config's relative paths are resolved against the
    /// config's folder). A string, not a `PathBuf`: it is stored as JSON, which needs UTF-8.
    pub file: String,
    /// The alt text; `""` marks a decorative image (screen readers skip it).
    pub alt: String,
}

impl Image {
    pub fn path(&self) -> &std::path::Path {
        std::path::Path::new(&self.file)
    }
}

/// The most images one post carries: Mastodon, Bluesky and X all take four.
pub const MAX_IMAGES: usize = 4;

/// Where a job came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// The schedule and config.
    #[default]
    Plan,
    /// Typed while the daemon ran (`say`).
    Manual,
    /// Found by a `[[follow]]` watch: a post made by hand, and its boosts.
    Followed,
    /// A repost asked for while the daemon ran (`loudhailer repost`).
    Scheduled,
    /// A copy of a post typed by hand on another network (`[[follow]] crosspost = true`), and
    /// its boosts: never copied back.
    Crosspost,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Plan => "plan",
            Origin::Manual => "manual",
            Origin::Followed => "followed",
            Origin::Scheduled => "scheduled",
            Origin::Crosspost => "crosspost",
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobState {
    /// Not yet due, or due and waiting its turn.
    Pending,
    /// The intent is stored and the request may have reached the server.
    InFlight,
    /// The server confirmed it; the remote id is stored.
    Done,
    /// Failed for good (the server refused it); `error` says why.
    Failed,
    /// Was due too long ago when the daemon started; `send` sends it.
    Missed,
    /// Removed from the schedule, or skipped by hand.
    Cancelled,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::InFlight => "in-flight",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Missed => "missed",
            JobState::Cancelled => "cancelled",
        }
    }

    /// Whether the job will not be sent again without a user's word.
    pub fn is_settled(self) -> bool {
        matches!(self, JobState::Done | JobState::Failed | JobState::Missed | JobState::Cancelled)
    }
}

/// The post a job made, as the network names it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RemoteRef {
    /// The network's id (Mastodon status id, X tweet id; Bluesky: the at:// URI).
    pub id: String,
    /// A web address a person can open.
    pub url: Option<String>,
    /// Bluesky: the record's at:// URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Bluesky: the record's CID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
}

/// What is written, and flushed, before a request goes out: enough to recognise the request if
/// the process dies before the answer is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// Mastodon: the `Idempotency-Key`. Bluesky: the record key (a TID). X: a marker.
    pub key: String,
    /// When the first request with this key went out.
    pub first_sent: DateTime<Utc>,
    /// The job's images uploaded so far, stored before the post that uses them is sent: a
    /// resend uses them again while the server still has them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Uploaded>,
    /// Whether a request with this intent may have reached the server, so that the next one
    /// must look before it creates anything (`PostRequest::resend`). A server's answer that
    /// nothing was done (a 429) leaves it as it was before that request. Records written before
    /// this field existed read as true.
    #[serde(default = "may_have", skip_serializing_if = "Clone::clone")]
    pub reached: bool,
    /// What the client made part-way through the request and handed back to be kept with the
    /// intent (see `platform::Progress`): Threads' media container, uploaded media ids. Given
    /// back to the client on the next attempt, so it carries on instead of starting again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<serde_json::Value>,
}

fn may_have() -> bool {
    true
}

impl Intent {
    /// A new intent, before its first request goes out.
    pub fn new(key: String, first_sent: DateTime<Utc>) -> Intent {
        Intent { key, first_sent, media: Vec::new(), reached: false, progress: None }
    }
}

/// One of a job's images, uploaded: which image, made from what, and what the network calls it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    /// Its place in [`JobSpec::images`], from 0.
    pub image: usize,
    /// A digest of the file's bytes and the alt text it went with (see `media::digest`): an
    /// image whose file or alt text changed since is uploaded again, never reused.
    pub of: String,
    pub media: MediaRef,
    /// A small JPEG of the image as posted (at most [`crate::media::THUMBNAIL_SIDE`] pixels a
    /// side, base64), for the engagement report to show without reading the file again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

/// An image uploaded to a network, not yet (or already) part of a post: what a post attaches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    /// The network's id: Mastodon's media id, X's `media_id`, Bluesky's blob CID.
    pub id: String,
    /// Bluesky: the blob as `uploadBlob` answered it (`$type`, `ref`, `mimeType`, `size`), put
    /// into the post record as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<serde_json::Value>,
    /// The image as posted, upright (Bluesky's `aspectRatio`).
    pub width: u32,
    pub height: u32,
    /// When it was uploaded.
    pub at: DateTime<Utc>,
    /// When the network forgets it if no post uses it, where it says (X's `expires_after_secs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<DateTime<Utc>>,
}

/// A job as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    pub spec: JobSpec,
    pub state: JobState,
    #[serde(default)]
    pub intent: Option<Intent>,
    #[serde(default)]
    pub remote: Option<RemoteRef>,
    #[serde(default)]
    pub done_at: Option<DateTime<Utc>>,
    /// Requests made so far (for backoff).
    #[serde(default)]
    pub attempts: u32,
    /// The last error, in the server's words where it gave any.
    #[serde(default)]
    pub error: Option<String>,
    /// Not before this instant (backoff after a failure, or a rate limit).
    #[serde(default)]
    pub not_before: Option<DateTime<Utc>>,
    /// Why the job waits past its due time, for `status`.
    #[serde(default)]
    pub waiting: Option<String>,
    /// A person moved the job to this instant (`send`, `retry`): it replaces the planned time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_at: Option<DateTime<Utc>>,
    /// The job was called off (removed from the schedule, its session skipped) after a request
    /// of it may have reached the server: it is not cancelled blind but checked, without being
    /// sent again — done if the server has it, cancelled with this reason if not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<String>,
}

impl JobRecord {
    pub fn new(spec: JobSpec) -> Self {
        JobRecord {
            spec,
            state: JobState::Pending,
            intent: None,
            remote: None,
            done_at: None,
            attempts: 0,
            error: None,
            not_before: None,
            waiting: None,
            pinned_at: None,
            recall: None,
        }
    }

    /// Whether a request of this job may have reached the server: it was claimed (its intent
    /// stored) and has not settled.
    pub fn maybe_sent(&self) -> bool {
        self.intent.is_some() && !self.state.is_settled()
    }

    /// Calls the job off with `why`: cancelled, unless a request of it may have reached the
    /// server; then it is recalled (checked, not sent again).
    pub fn call_off(&mut self, why: &str) {
        if self.maybe_sent() {
            self.recall = Some(why.to_string());
        } else {
            self.state = JobState::Cancelled;
            self.error = Some(why.to_string());
        }
        self.waiting = None;
    }

    pub fn id(&self) -> &JobId {
        &self.spec.id
    }

    /// When the job is due: the time a person pinned it to, else the planned time.
    pub fn due_at(&self) -> DateTime<Utc> {
        self.pinned_at.unwrap_or(self.spec.at)
    }

    /// When the job may go next: its due time, or later after a backoff.
    pub fn ready_at(&self) -> DateTime<Utc> {
        match self.not_before {
            Some(t) if t > self.due_at() => t,
            _ => self.due_at(),
        }
    }
}

/// A short, stable hash of a text, as job ids carry it (the first 5 bytes of its SHA-256).
pub fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

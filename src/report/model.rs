//! The report as plain data: what `loudhailer report --format json` writes (its schema is
//! `docs/report.schema.json`) and what every other format is drawn from.
//!
//! Unknown stays unknown: a post's count the server would not give is `None` (JSON `null`),
//! and a sum over posts is a [`Tally`]: the sum of the known values plus how many were unknown,
//! shown as "at least" when any were.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::network::Network;

/// Names this shape of report; bumped when a field changes meaning or goes away.
pub const FORMAT: &str = "loudhailer-report/1";

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`FORMAT`].
    pub format: &'static str,
    pub event: EventInfo,
    pub generated_at: DateTime<Utc>,
    /// The `[report] checkpoints`, as written ("15m", "1h", …): the columns of each post's `growth`.
    pub checkpoints: Vec<String>,
    pub headline: Headline,
    /// In order of start; posts outside any session (recurring, typed) come last, under `id: null`.
    pub sessions: Vec<SessionReport>,
    pub networks: Vec<NetworkTotals>,
    pub accounts: Vec<AccountTotals>,
    /// The posts with the most engagement, most first (at most ten, only posts with some).
    pub top: Vec<PostRef>,
    /// Posts read with no engagement from others.
    pub nothing: Vec<PostRef>,
    /// Posts whose counts are unknown now: deleted, or never read successfully.
    pub unknown: Vec<PostRef>,
    /// By the hour of day each post went out, in the event's time zone; hours without posts left out.
    pub by_hour: Vec<HourTotals>,
    pub amplification: Amplification,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventInfo {
    pub name: String,
    /// IANA name; every `*_local` time is in it.
    pub timezone: String,
}

/// The figures a write-up opens with.
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    /// Posts that went out (titles, points, recurring and typed posts).
    pub posts: usize,
    /// Boosts that went out.
    pub boosts: usize,
    /// Post jobs that did not go out (failed, missed, cancelled, or not yet due).
    pub not_sent: usize,
    /// Posts whose counts are known now.
    pub read: usize,
    /// Posts the server no longer has.
    pub gone: usize,
    /// Posts never read successfully.
    pub unread: usize,
    /// Posts with some engagement.
    pub engaged: usize,
    /// Posts read with nothing from others.
    pub nothing: usize,
    pub totals: Totals,
    /// The event's own part of the reposts and replies in `totals` (boosts by its amplifiers,
    /// replies by its own threads), over posts whose counts are known.
    pub own: Own,
}

/// A sum over posts that keeps count of what it could not add.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// The sum of the known values: the total is at least this, and exactly this when `unknown` is 0.
    pub sum: u64,
    /// How many values were known.
    pub known: usize,
    /// How many were unknown (not reported, deleted, or not read).
    pub unknown: usize,
}

impl Tally {
    pub fn add(&mut self, value: Option<u64>) {
        match value {
            Some(v) => {
                self.sum += v;
                self.known += 1;
            }
            None => self.unknown += 1,
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.sum += other.sum;
        self.known += other.known;
        self.unknown += other.unknown;
    }

    /// Whether the sum is the whole total.
    pub fn complete(&self) -> bool {
        self.unknown == 0
    }

    /// "12", "at least 12" when some values were unknown, "unknown" when none was known.
    pub fn describe(&self) -> String {
        match (self.known, self.unknown) {
            (0, 0) => "0".into(),
            (0, _) => "unknown".into(),
            (_, 0) => self.sum.to_string(),
            _ => format!("at least {}", self.sum),
        }
    }

    /// The short form for tables and charts: "12", "≥12", "?".
    pub fn short(&self) -> String {
        match (self.known, self.unknown) {
            (0, 0) => "0".into(),
            (0, _) => "?".into(),
            (_, 0) => self.sum.to_string(),
            _ => format!("≥{}", self.sum),
        }
    }
}

/// Likes, reposts, replies, quotes and their sum, each a [`Tally`], and views beside them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub likes: Tally,
    pub reposts: Tally,
    pub replies: Tally,
    pub quotes: Tally,
    /// Per post: engagement by others (its known counts less the event's own boosts and
    /// thread replies); unknown for posts deleted or not read.
    pub engagement: Tally,
    /// How many times the posts were shown, where the network counts it (X, Threads); not
    /// part of `engagement`.
    pub views: Tally,
}

impl Totals {
    pub fn add(&mut self, post: &PostReport) {
        self.likes.add(post.counts.likes);
        self.reposts.add(post.counts.reposts);
        self.replies.add(post.counts.replies);
        self.quotes.add(post.counts.quotes);
        self.engagement.add(post.engagement);
        self.views.add(post.counts.views);
    }

    pub fn merge(&mut self, other: &Totals) {
        self.likes.merge(other.likes);
        self.reposts.merge(other.reposts);
        self.replies.merge(other.replies);
        self.quotes.merge(other.quotes);
        self.engagement.merge(other.engagement);
        self.views.merge(other.views);
    }
}

/// One post's counts; `None` is unknown (the server did not report it, or the post was not read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CountsView {
    pub likes: Option<u64>,
    pub reposts: Option<u64>,
    pub replies: Option<u64>,
    pub quotes: Option<u64>,
    /// How many times it was shown (X, Threads); reach, left out of engagement.
    pub views: Option<u64>,
}

impl CountsView {
    /// Engagement by others: the sum of the known counts less the event's `own` boosts and
    /// thread replies; `None` when no count is known.
    pub fn engagement(&self, own: Own) -> Option<u64> {
        let known: Vec<u64> = [
            self.likes,
            self.reposts.map(|n| n.saturating_sub(own.reposts)),
            self.replies.map(|n| n.saturating_sub(own.replies)),
            self.quotes,
        ]
        .into_iter()
        .flatten()
        .collect();
        (!known.is_empty()).then(|| known.iter().sum())
    }
}

/// What the event did to its own post and the server counts with the rest: the amplifiers'
/// boosts of it, and the thread's next post replying to it. Left out of engagement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Own {
    pub reposts: u64,
    pub replies: u64,
}

/// A post's counts at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Moment {
    pub at: DateTime<Utc>,
    pub counts: CountsView,
    /// Engagement by others then.
    pub engagement: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionReport {
    /// The session's id; `null` for posts outside any session.
    pub id: Option<String>,
    pub title: String,
    pub start: Option<DateTime<Utc>>,
    pub posts: Vec<PostReport>,
    pub totals: Totals,
    /// The session's engagement over time: at each instant a post went out or was read, the
    /// sum of each post's latest known engagement.
    pub series: Vec<SeriesPoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesPoint {
    pub at: DateTime<Utc>,
    pub engagement: Tally,
}

/// Where a post's counts stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PostStatus {
    /// Read; `counts` are the latest answer.
    Read,
    /// The latest read failed; `counts` are from the read before (`as_of`).
    Stale,
    /// The server no longer has it: counts unknown.
    Gone,
    /// Never read successfully: counts unknown.
    Unread,
}

impl PostStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PostStatus::Read => "read",
            PostStatus::Stale => "stale",
            PostStatus::Gone => "gone",
            PostStatus::Unread => "unread",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PostReport {
    pub job: String,
    /// post (a session's title), reply (a key point), recurring, say, or external (a post
    /// loudhailer did not make: found by a `[[follow]]` watch, or named for a repost).
    pub kind: &'static str,
    /// planned (made from the schedule) or hand-made (typed while running, or made by a
    /// person and amplified by loudhailer).
    pub origin: &'static str,
    pub session: Option<String>,
    pub text: String,
    pub network: Network,
    pub account: String,
    /// The post's id on its network (Mastodon status id, Bluesky at:// URI).
    pub remote_id: String,
    pub url: Option<String>,
    pub posted_at: DateTime<Utc>,
    /// `YYYY-MM-DD HH:MM` in the event's time zone.
    pub posted_local: String,
    pub status: PostStatus,
    /// Counts now (see `status`), as the server gives them.
    pub counts: CountsView,
    /// The event's own part of `counts` at `as_of` (its boosts, its thread's replies).
    pub own: Own,
    /// Engagement by others: the known counts added up, less `own`; `null` when the counts
    /// are unknown.
    pub engagement: Option<u64>,
    /// When `counts` were read.
    pub as_of: Option<DateTime<Utc>>,
    /// Why counts are unknown or stale, in the server's words where it gave any.
    pub note: Option<String>,
    /// Engagement at each checkpoint (`report.checkpoints`): from the first snapshot taken at
    /// or after it and before the next; `null` when there is none, or it was unknown.
    pub growth: Vec<Option<u64>>,
    /// Every snapshot, oldest first.
    pub readings: Vec<ReadingView>,
    /// The amplifiers' boosts of this post.
    pub boosts: Vec<BoostView>,
    /// Counts read as the first boost went out, when a snapshot was taken then: what the post
    /// had before the amplification.
    pub before_boost: Option<Moment>,
    /// The images the post carries, in order.
    pub images: Vec<ImageView>,
}

/// An image a post carries: its file, its alt text, and the thumbnail made when it was uploaded
/// (base64 JPEG; shown by the HTML report, left out of JSON).
#[derive(Debug, Clone, Serialize)]
pub struct ImageView {
    pub file: String,
    pub alt: String,
    #[serde(skip)]
    pub thumbnail: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReadingView {
    pub at: DateTime<Utc>,
    pub minutes_after: i64,
    /// counts, gone or unknown.
    pub status: &'static str,
    pub counts: CountsView,
    /// Engagement by others at that instant.
    pub engagement: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoostView {
    pub job: String,
    pub account: String,
    pub network: Network,
    /// The boost job's state: done, pending, failed, missed, cancelled, in-flight.
    pub state: &'static str,
    pub boosted_at: Option<DateTime<Utc>>,
    pub url: Option<String>,
}

/// A post named in a list (top, nothing, unknown).
#[derive(Debug, Clone, Serialize)]
pub struct PostRef {
    pub job: String,
    /// planned or hand-made, as [`PostReport::origin`].
    pub origin: &'static str,
    pub session: Option<String>,
    pub text: String,
    pub network: Network,
    pub account: String,
    pub url: Option<String>,
    pub posted_local: String,
    pub counts: CountsView,
    pub engagement: Option<u64>,
    pub status: PostStatus,
    /// How many images the post carries.
    pub images: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct NetworkTotals {
    pub network: Network,
    pub posts: usize,
    pub boosts: usize,
    pub totals: Totals,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccountTotals {
    pub account: String,
    pub network: Network,
    /// primary or amplifier (or unknown for an account no longer in the config).
    pub role: &'static str,
    pub posts: usize,
    pub boosts: usize,
    /// Engagement of the account's own posts.
    pub totals: Totals,
    /// Engagement of the posts it boosted (also counted on the posting account).
    pub boosted_engagement: Tally,
}

#[derive(Debug, Clone, Serialize)]
pub struct HourTotals {
    /// 0–23, in the event's time zone.
    pub hour: u32,
    pub posts: usize,
    pub totals: Totals,
}

/// Whether the organisation's boosts helped.
#[derive(Debug, Clone, Serialize)]
pub struct Amplification {
    /// Posts with at least one boost that went out.
    pub boosted_posts: usize,
    pub not_boosted_posts: usize,
    pub boosted: Tally,
    pub not_boosted: Tally,
    /// Of boosted posts with a snapshot taken as the boost went out: engagement then …
    pub before_boost: Tally,
    /// … and gained since.
    pub since_boost: Tally,
}

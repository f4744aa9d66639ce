//! Engagement counts of a post, as a network reports them.

use serde::{Deserialize, Serialize};

/// What a network says about one post right now. A count the network does not report is
/// `None` (unknown), never 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Favourites (Mastodon) or likes (Bluesky, X).
    pub likes: Option<u64>,
    /// Boosts, reposts or retweets.
    pub reposts: Option<u64>,
    pub replies: Option<u64>,
    pub quotes: Option<u64>,
    /// How many times the post was shown: X's `impression_count`, Threads' `views`. Reach,
    /// not engagement: never added to it. Mastodon and Bluesky count no views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
}

/// One post's counts, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Reading {
    Counts(Counts),
    /// The network no longer has the post (deleted, or never visible to us).
    Gone,
}

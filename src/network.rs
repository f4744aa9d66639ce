//! The social networks loudhailer speaks to.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A social network (the config's `platform`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    Mastodon,
    Bluesky,
    X,
    LinkedIn,
    /// Facebook Pages (a personal profile cannot be posted to by any API).
    Facebook,
    Threads,
}

impl Network {
    pub const ALL: [Network; 6] =
        [Network::Mastodon, Network::Bluesky, Network::X, Network::LinkedIn, Network::Facebook, Network::Threads];

    /// Whether loudhailer sends photos here. LinkedIn and Facebook take images through upload
    /// APIs loudhailer does not speak yet; Threads fetches an image from a public address, which
    /// loudhailer has none of. Posts there go without their photos (`plan` says so).
    pub fn takes_photos(self) -> bool {
        matches!(self, Network::Mastodon | Network::Bluesky | Network::X)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Network::Mastodon => "mastodon",
            Network::Bluesky => "bluesky",
            Network::X => "x",
            Network::LinkedIn => "linkedin",
            Network::Facebook => "facebook",
            Network::Threads => "threads",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

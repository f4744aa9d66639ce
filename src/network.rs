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
}

impl Network {
    pub const ALL: [Network; 4] = [Network::Mastodon, Network::Bluesky, Network::X, Network::LinkedIn];

    pub fn as_str(self) -> &'static str {
        match self {
            Network::Mastodon => "mastodon",
            Network::Bluesky => "bluesky",
            Network::X => "x",
            Network::LinkedIn => "linkedin",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

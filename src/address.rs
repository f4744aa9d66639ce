//! A post's address as a person gives it (a link from a browser or an app) → its network and
//! the parts the network's own id is made from (pure).
//!
//! - Bluesky: `https://bsky.app/profile/{handle or DID}/post/{rkey}`, or an `at://` URI.
//! - X: `https://x.com/{user}/status/{id}` (and twitter.com, mobile and www forms).
//! - LinkedIn: `https://www.linkedin.com/feed/update/{urn}`, or the URN itself
//!   (`urn:li:share:…`).
//! - Mastodon (and servers that speak its API): any other `http(s)` link. The trailing number
//!   of `/@user/{id}`, `/@user@server/{id}`, `/users/{user}/statuses/{id}` or `/notice/{id}` is
//!   the post's id on the server in the link; on any other server it is found by searching for
//!   the link (`resolve=true`).

use url::Url;

use crate::network::Network;

/// Where a post lives, and what names it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Bluesky {
        /// A handle or a DID.
        actor: String,
        rkey: String,
    },
    X {
        id: String,
    },
    /// A LinkedIn URN (a share, a ugcPost, or an activity, which cannot be reshared).
    LinkedIn {
        urn: String,
    },
    Mastodon {
        url: String,
        /// The host (with any port) of the server in the link.
        host: String,
        /// The post's id on that server, when the link shows it.
        local_id: Option<String>,
    },
}

impl Address {
    pub fn network(&self) -> Network {
        match self {
            Address::Bluesky { .. } => Network::Bluesky,
            Address::X { .. } => Network::X,
            Address::LinkedIn { .. } => Network::LinkedIn,
            Address::Mastodon { .. } => Network::Mastodon,
        }
    }

    /// Bluesky: the post's `at://` URI when the actor is a DID (a handle must be resolved).
    pub fn at_uri(&self) -> Option<String> {
        match self {
            Address::Bluesky { actor, rkey } if actor.starts_with("did:") => {
                Some(format!("at://{actor}/app.bsky.feed.post/{rkey}"))
            }
            _ => None,
        }
    }
}

/// Reads a post's address; the error says what was expected.
pub fn parse(text: &str) -> Result<Address, String> {
    let text = text.trim();
    if text.starts_with("urn:li:") {
        return linkedin_urn(text).ok_or_else(|| format!("{text:?} is not a LinkedIn URN (urn:li:share:ID)"));
    }
    if let Some(rest) = text.strip_prefix("at://") {
        let parts: Vec<&str> = rest.split('/').collect();
        return match parts.as_slice() {
            [actor, "app.bsky.feed.post", rkey] if !actor.is_empty() && is_rkey(rkey) => {
                Ok(Address::Bluesky { actor: actor.to_string(), rkey: rkey.to_string() })
            }
            _ => Err(format!("{text:?} is not the at:// URI of a Bluesky post (at://DID/app.bsky.feed.post/KEY)")),
        };
    }
    let url = Url::parse(text).map_err(|_| format!("{text:?} is not a link to a post (https://…)"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(format!("{text:?} is not a link to a post (https://…)"));
    }
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
    let bare = host.trim_start_matches("www.").trim_start_matches("mobile.");
    match bare {
        "bsky.app" | "staging.bsky.app" => match segments.as_slice() {
            ["profile", actor, "post", rkey] if is_rkey(rkey) => {
                Ok(Address::Bluesky { actor: actor.trim_start_matches('@').to_string(), rkey: rkey.to_string() })
            }
            _ => Err(format!("{text:?} is not a Bluesky post link (https://bsky.app/profile/HANDLE/post/KEY)")),
        },
        "x.com" | "twitter.com" => match segments.as_slice() {
            [_, "status" | "statuses", id, ..] if is_number(id) => Ok(Address::X { id: id.to_string() }),
            ["i", "web", "status", id, ..] if is_number(id) => Ok(Address::X { id: id.to_string() }),
            _ => Err(format!("{text:?} is not a link to a post on X (https://x.com/USER/status/ID)")),
        },
        "linkedin.com" => match segments.as_slice() {
            ["feed", "update", urn] => linkedin_urn(&urn.replace("%3A", ":").replace("%3a", ":")).ok_or_else(|| {
                format!("{text:?} is not a LinkedIn post link (https://www.linkedin.com/feed/update/urn:li:share:ID)")
            }),
            _ => Err(format!(
                "{text:?} is not a LinkedIn post link (https://www.linkedin.com/feed/update/urn:li:share:ID)"
            )),
        },
        _ => {
            if url.host().is_none() {
                return Err(format!("{text:?} is not a link to a post (https://…)"));
            }
            let host = match url.port() {
                Some(p) => format!("{host}:{p}"),
                None => host,
            };
            let local_id = match segments.as_slice() {
                [user, id] if user.starts_with('@') && is_number(id) => Some(id.to_string()),
                ["users", _, "statuses", id] if is_number(id) => Some(id.to_string()),
                ["notice" | "objects" | "statuses", id] if is_id(id) => Some(id.to_string()),
                _ => None,
            };
            Ok(Address::Mastodon { url: text.to_string(), host, local_id })
        }
    }
}

/// `urn:li:{share|ugcPost|activity}:{number}`.
fn linkedin_urn(text: &str) -> Option<Address> {
    let rest = text.strip_prefix("urn:li:")?;
    let (kind, id) = rest.split_once(':')?;
    (matches!(kind, "share" | "ugcPost" | "activity") && is_number(id))
        .then(|| Address::LinkedIn { urn: text.to_string() })
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.len() <= 24 && s.chars().all(|c| c.is_ascii_digit())
}

/// Pleroma and Akkoma ids are flake ids of letters and digits.
fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 40 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// A record key: 1 to 512 of letters, digits and `.-_:~`, not `.` or `..`.
fn is_rkey(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s != "."
        && s != ".."
        && s.chars().all(|c| c.is_ascii_alphanumeric() || ".-_:~".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mastodon(url: &str, host: &str, id: Option<&str>) -> Address {
        Address::Mastodon { url: url.into(), host: host.into(), local_id: id.map(str::to_string) }
    }

    #[test]
    fn links_from_each_network() {
        let cases = [
            (
                "https://bsky.app/profile/ada.bsky.social/post/3lzzzzzzzzz22",
                Address::Bluesky { actor: "ada.bsky.social".into(), rkey: "3lzzzzzzzzz22".into() },
            ),
            (
                "https://bsky.app/profile/did:plc:abc123/post/3lzzzzzzzzz22",
                Address::Bluesky { actor: "did:plc:abc123".into(), rkey: "3lzzzzzzzzz22".into() },
            ),
            (
                " at://did:plc:abc123/app.bsky.feed.post/3lzzzzzzzzz22 ",
                Address::Bluesky { actor: "did:plc:abc123".into(), rkey: "3lzzzzzzzzz22".into() },
            ),
            ("https://x.com/ada/status/1799999999999999999", Address::X { id: "1799999999999999999".into() }),
            ("https://twitter.com/ada/status/12345?s=20", Address::X { id: "12345".into() }),
            ("https://mobile.twitter.com/ada/status/12345/photo/1", Address::X { id: "12345".into() }),
            ("https://x.com/i/web/status/12345", Address::X { id: "12345".into() }),
            (
                "https://www.linkedin.com/feed/update/urn:li:share:7012345678901234567/",
                Address::LinkedIn { urn: "urn:li:share:7012345678901234567".into() },
            ),
            (
                "https://www.linkedin.com/feed/update/urn%3Ali%3AugcPost%3A70123",
                Address::LinkedIn { urn: "urn:li:ugcPost:70123".into() },
            ),
            ("urn:li:activity:70123", Address::LinkedIn { urn: "urn:li:activity:70123".into() }),
            (
                "https://mastodon.example/@ada/109876543210",
                mastodon("https://mastodon.example/@ada/109876543210", "mastodon.example", Some("109876543210")),
            ),
            (
                "https://mastodon.example/@grace@other.example/1098",
                mastodon("https://mastodon.example/@grace@other.example/1098", "mastodon.example", Some("1098")),
            ),
            (
                "https://Mastodon.Example/users/ada/statuses/42",
                mastodon("https://Mastodon.Example/users/ada/statuses/42", "mastodon.example", Some("42")),
            ),
            ("http://127.0.0.1:3000/@ada/7", mastodon("http://127.0.0.1:3000/@ada/7", "127.0.0.1:3000", Some("7"))),
            (
                "https://pleroma.example/notice/AbCd1234",
                mastodon("https://pleroma.example/notice/AbCd1234", "pleroma.example", Some("AbCd1234")),
            ),
            // A link without an id in it: found by searching for it.
            ("https://blog.example/2010/keynote", mastodon("https://blog.example/2010/keynote", "blog.example", None)),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).unwrap(), want, "{text}");
        }
        assert_eq!(parse("https://x.com/a/status/1").unwrap().network(), Network::X);
        assert_eq!(
            parse("https://bsky.app/profile/did:plc:abc/post/3k").unwrap().at_uri().as_deref(),
            Some("at://did:plc:abc/app.bsky.feed.post/3k")
        );
        assert_eq!(parse("https://bsky.app/profile/ada.test/post/3k").unwrap().at_uri(), None);
    }

    #[test]
    fn what_is_not_a_post_link_says_what_was_expected() {
        for (text, expected) in [
            ("keynote summary", "is not a link to a post"),
            ("ftp://example.org/1", "is not a link to a post"),
            ("https://bsky.app/profile/ada.bsky.social", "https://bsky.app/profile/HANDLE/post/KEY"),
            ("https://bsky.app/profile/ada/post/no%20pe", "https://bsky.app/profile/HANDLE/post/KEY"),
            ("https://x.com/ada", "https://x.com/USER/status/ID"),
            ("https://x.com/ada/status/abc", "https://x.com/USER/status/ID"),
            ("at://did:plc:abc/app.bsky.feed.like/3k", "at://DID/app.bsky.feed.post/KEY"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}

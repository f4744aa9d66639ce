//! Recognising a speaker's Mastodon, Bluesky and X profiles from the links schedules carry.
//!
//! Sources label links loosely (Sessionize's `linkType` "Twitter" or "Blog", the hub's
//! `service: MASTODON`, nothing at all in pretalx answers), so the URL decides: `x.com/NAME`
//! and `twitter.com/NAME` are X, `bsky.app/profile/HANDLE` and `HANDLE.bsky.social` are Bluesky,
//! and `https://SERVER/@NAME` is Mastodon unless SERVER is a known non-fediverse site that also
//! uses `/@name` paths (Medium, YouTube, …) or the label names another network. A label only adds `/users/NAME` actor URLs for
//! Mastodon; it never turns an unrecognisable URL into a handle.

use url::Url;

use super::Speaker;

/// A profile on one of the networks loudhailer posts to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profile {
    /// `@user@server`.
    Mastodon(String),
    /// A Bluesky handle such as `ada.bsky.social`.
    Bluesky(String),
    /// An X username without the `@`.
    X(String),
}

/// Hosts that use `/@name` paths but are not Mastodon-compatible servers.
const NOT_FEDIVERSE: &[&str] = &[
    "medium.com",
    "youtube.com",
    "m.youtube.com",
    "tiktok.com",
    "hashnode.com",
    "threads.net",
    "threads.com",
    "substack.com",
    "figma.com",
    "dribbble.com",
    "vimeo.com",
    "linktr.ee",
    "behance.net",
];

/// Reads a profile from a link; `label` is whatever the source says the link is
/// (`"Twitter"`, `"MASTODON"`, `"Blog"`), used only as a hint.
pub fn profile(url: &str, label: Option<&str>) -> Option<Profile> {
    let url = Url::parse(url.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    let mut segments = url.path_segments()?.filter(|s| !s.is_empty());
    let first = segments.next();
    let second = segments.next();
    match host.as_str() {
        "twitter.com" | "x.com" | "mobile.twitter.com" | "mobile.x.com" => {
            let name = first?.trim_start_matches('@');
            let reserved = ["intent", "share", "home", "i", "hashtag", "search", "explore"];
            let valid =
                !name.is_empty() && name.len() <= 50 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            (valid && !reserved.contains(&name)).then(|| Profile::X(name.to_owned()))
        }
        "bsky.app" | "staging.bsky.app" => match (first, second) {
            (Some("profile"), Some(handle)) if is_bluesky_handle(handle) => {
                Some(Profile::Bluesky(handle.to_ascii_lowercase()))
            }
            _ => None,
        },
        h if h.ends_with(".bsky.social") && first.is_none() && is_bluesky_handle(h) => {
            Some(Profile::Bluesky(h.to_owned()))
        }
        _ => {
            let labelled = label.is_some_and(|l| {
                let l = l.to_ascii_lowercase();
                l.contains("mastodon") || l.contains("activitypub") || l.contains("fediverse")
            });
            let other_network = label.is_some_and(|l| {
                let l = l.to_ascii_lowercase();
                l.contains("bluesky") || l.contains("bsky") || l.contains("twitter")
            });
            if other_network {
                return None;
            }
            let user = match (first, second) {
                (Some(f), _) if f.len() > 1 && f.starts_with('@') => f.get(1..)?,
                (Some("users"), Some(name)) if labelled => name,
                _ => return None,
            };
            let valid = !user.is_empty()
                && user.len() <= 64
                && user.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
            let excluded = NOT_FEDIVERSE.iter().any(|h| host == *h || host.ends_with(&format!(".{h}")));
            (valid && !excluded && host.contains('.')).then(|| Profile::Mastodon(format!("@{user}@{host}")))
        }
    }
}

fn is_bluesky_handle(handle: &str) -> bool {
    handle.starts_with("did:")
        || (handle.contains('.')
            && handle.len() <= 253
            && handle.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
}

/// Adds what a link says about a speaker; the first profile found for a network wins.
pub fn apply(speaker: &mut Speaker, url: &str, label: Option<&str>) {
    match profile(url, label) {
        Some(Profile::Mastodon(h)) if speaker.mastodon.is_none() => speaker.mastodon = Some(h),
        Some(Profile::Bluesky(h)) if speaker.bluesky.is_none() => speaker.bluesky = Some(h),
        Some(Profile::X(h)) if speaker.x.is_none() => speaker.x = Some(h),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles() {
        let m = |s: &str| Some(Profile::Mastodon(s.to_owned()));
        let b = |s: &str| Some(Profile::Bluesky(s.to_owned()));
        let x = |s: &str| Some(Profile::X(s.to_owned()));
        for (url, label, want) in [
            ("https://twitter.com/tornorbye", Some("Twitter"), x("tornorbye")),
            ("http://www.twitter.com/eenriquelopez", None, x("eenriquelopez")),
            ("https://twitter.com/@cafonsomota", None, x("cafonsomota")),
            ("https://x.com/ada_l/status/1", None, x("ada_l")),
            ("https://twitter.com/intent/tweet", None, None),
            ("https://androiddev.social/@tornorbye", Some("Blog"), m("@tornorbye@androiddev.social")),
            ("https://example.net/@handle/123456", Some("MASTODON"), m("@handle@example.net")),
            ("https://chaos.social/users/ada", Some("ACTIVITYPUB"), m("@ada@chaos.social")),
            ("https://chaos.social/users/ada", None, None),
            ("https://medium.com/@dagalpin", Some("Blog"), None),
            ("https://www.youtube.com/@chan", None, None),
            ("https://bsky.app/profile/ada.bsky.social", None, b("ada.bsky.social")),
            ("https://ada.bsky.social", Some("Bluesky"), b("ada.bsky.social")),
            ("https://example.net/@handle/123456", Some("BLUESKY"), None),
            ("https://bsky.app/profile/nodot", None, None),
            ("https://pinterest.com", Some("Company_Website"), None),
            ("not a url", Some("Twitter"), None),
            ("mailto:ada@example.org", None, None),
        ] {
            assert_eq!(profile(url, label), want, "{url}");
        }
    }
}

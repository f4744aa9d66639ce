//! `[[follow]]` (accounts to watch for posts made by hand, and which of their posts to boost)
//! and `[[repost]]` (a post, by its address, to boost at a given time), validated like the rest
//! of the config: every problem with its place.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::Problems;
use super::values::{self, S};
use super::{Account, Event, Role};
use crate::address::{self, Address};
use crate::network::Network;

/// How often a watch polls when nothing says otherwise.
pub const DEFAULT_POLL: &str = "30s";

/// `[[follow]]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFollow {
    /// Account ids from the config, or handles (`@user@server`, `name.bsky.social`, a DID).
    #[serde(default)]
    pub accounts: Option<S<Vec<String>>>,
    /// Posts with any of these are boosted (default: `[event] hashtags`).
    #[serde(default)]
    pub hashtags: Option<S<Vec<String>>>,
    /// Every post (while watching), whatever its hashtags.
    #[serde(default)]
    pub all_posts: Option<S<bool>>,
    /// Also replies to other people (a thread of one's own posts is always followed).
    #[serde(default)]
    pub replies: Option<bool>,
    /// Also their boosts of other people's posts (the original is boosted).
    #[serde(default)]
    pub reposts: Option<bool>,
    /// Watch outside the event's hours too.
    #[serde(default)]
    pub always: Option<bool>,
    /// The shortest interval between two polls ("30s"); longer when the rate budget runs low.
    #[serde(default)]
    pub poll: Option<S<String>>,
    /// Which accounts boost what is found (default: every amplifier on its network).
    #[serde(default)]
    pub amplifiers: Option<S<Vec<String>>>,
    /// Also copy each post taken (one with the hashtags) to the primary accounts on the other
    /// networks, into the session's thread there.
    #[serde(default)]
    pub crosspost: Option<S<bool>>,
}

/// `[[repost]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRepost {
    pub url: S<String>,
    pub at: S<toml::Value>,
    #[serde(default)]
    pub accounts: Option<S<Vec<String>>>,
}

/// Whose posts a watch reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// A configured account: read with its own credentials.
    Account(String),
    /// Someone else: `@user@server` on Mastodon, a handle or DID on Bluesky.
    Handle(String),
}

/// Which posts of a watched account are boosted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Posts carrying any of these hashtags (lower-case, without `#`).
    Hashtags(Vec<String>),
    /// Every post.
    All,
}

/// One watched account.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Names the watch in the store and the log: the account id, or the handle.
    pub key: String,
    pub network: Network,
    pub watched: Watched,
    /// The configured account whose client reads the posts (the watched account itself when it
    /// is configured).
    pub reader: String,
    pub filter: Filter,
    pub replies: bool,
    pub reposts: bool,
    pub always: bool,
    pub poll: Duration,
    /// The accounts that boost what it finds, all on `network`.
    pub amplifiers: Vec<String>,
    /// Copy what it takes to the primary accounts on the other networks (only a watch of a
    /// primary account of this config copies).
    pub crosspost: bool,
}

/// One scheduled repost.
#[derive(Debug, Clone)]
pub struct Repost {
    pub url: String,
    pub address: Address,
    pub at: DateTime<Utc>,
    /// The accounts that boost it, all on the post's network.
    pub accounts: Vec<String>,
}

/// A handle's network: `@user@server` is Mastodon; a domain name or a DID is Bluesky.
pub fn handle_network(handle: &str) -> Result<Network, String> {
    let h = handle.trim();
    let parts: Vec<&str> = h.trim_start_matches('@').split('@').collect();
    if h.starts_with('@') && parts.len() == 2 && parts.iter().all(|p| !p.is_empty()) {
        return Ok(Network::Mastodon);
    }
    if h.starts_with("did:") && h.len() > 8 {
        return Ok(Network::Bluesky);
    }
    let domain = h.trim_start_matches('@');
    let labels: Vec<&str> = domain.split('.').collect();
    if !h.contains('@') || (h.starts_with('@') && parts.len() == 1) {
        if labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Ok(Network::Bluesky);
        }
        if h.starts_with('@') {
            return Err(format!(
                "{h:?} looks like an X handle: X accounts cannot be followed (reading an account's posts is billed per post read, $0.005 each, all day)"
            ));
        }
    }
    Err(format!(
        "{h:?} is neither an account id from this config nor a handle (\"@user@server\" on Mastodon, \"name.bsky.social\" or a DID on Bluesky)"
    ))
}

const X_REFUSED: &str = "X accounts cannot be followed: X bills each post read ($0.005) and limits reading, so watching all day would cost more than it brings";
const META_REFUSED: &str =
    "Facebook Pages and Threads accounts cannot be followed yet: loudhailer watches Mastodon and Bluesky accounts";
const LINKEDIN_REFUSED: &str = "LinkedIn accounts cannot be followed: reading a member's posts needs r_member_social, which LinkedIn grants only to approved partners";

/// Why accounts on `network` cannot be watched, if they cannot.
fn refused(network: Network) -> Option<&'static str> {
    match network {
        Network::X => Some(X_REFUSED),
        Network::LinkedIn => Some(LINKEDIN_REFUSED),
        Network::Facebook | Network::Threads => Some(META_REFUSED),
        Network::Mastodon | Network::Bluesky => None,
    }
}

/// Checks `[[follow]]` and `[[repost]]` against the accounts and the event.
pub fn validate(
    follows: Vec<S<RawFollow>>,
    reposts: Vec<S<RawRepost>>,
    accounts: &[Account],
    event: &Event,
    p: &mut Problems<'_>,
    warnings: &mut Vec<String>,
) -> (Vec<Watch>, Vec<Repost>) {
    let mut watches: Vec<Watch> = Vec::new();
    let mut seen = HashSet::new();
    for (i, raw) in follows.into_iter().enumerate() {
        let span = raw.span();
        let raw = raw.into_inner();
        let key = format!("follow[{}]", i + 1);
        let filter = filter(&raw, &key, span.clone(), event, p);
        let poll = match &raw.poll {
            Some(v) => match values::duration_within(v.get_ref(), values::limit::POLL) {
                Ok(d) if d >= Duration::from_secs(1) => d,
                Ok(_) => {
                    p.at(v.span(), format!("{key}.poll"), "must be at least \"1s\"");
                    Duration::from_secs(1)
                }
                Err(e) => {
                    p.at(v.span(), format!("{key}.poll"), e);
                    Duration::from_secs(30)
                }
            },
            None => values::duration(DEFAULT_POLL).unwrap_or_default(),
        };
        let named: Vec<(String, std::ops::Range<usize>)> = match &raw.accounts {
            Some(list) => list.get_ref().iter().map(|a| (a.trim().to_string(), list.span())).collect(),
            None => accounts
                .iter()
                .filter(|a| a.role == Role::Primary)
                .filter(|a| {
                    let why = refused(a.network);
                    if let Some(why) = why {
                        warnings.push(format!("{key}: {} is on {} and is not watched ({why})", a.id, a.network));
                    }
                    why.is_none()
                })
                .map(|a| (a.id.clone(), span.clone()))
                .collect(),
        };
        let crosspost = raw.crosspost.as_ref().is_some_and(|c| *c.get_ref());
        let mut entry: Vec<Watch> = Vec::new();
        for (name, at) in named {
            let (network, watched, reader) = match accounts.iter().find(|a| a.id == name) {
                Some(a) if refused(a.network).is_some() => {
                    p.at(
                        at,
                        format!("{key}.accounts"),
                        format!("{}: {}", a.id, refused(a.network).unwrap_or_default()),
                    );
                    continue;
                }
                Some(a) => (a.network, Watched::Account(a.id.clone()), a.id.clone()),
                None => match handle_network(&name) {
                    Ok(network) => {
                        let handle = if network == Network::Mastodon {
                            name.to_ascii_lowercase()
                        } else {
                            name.trim_start_matches('@').to_ascii_lowercase()
                        };
                        let Some(reader) = reader_for(&handle, network, accounts) else {
                            p.at(at, format!("{key}.accounts"), format!("{name:?} is on {network}, but no account in this config is on {network} to read it"));
                            continue;
                        };
                        (network, Watched::Handle(handle), reader)
                    }
                    Err(e) => {
                        p.at(at, format!("{key}.accounts"), e);
                        continue;
                    }
                },
            };
            if crosspost {
                if let Err(e) = crosspost_source(&watched, network, accounts) {
                    let at = raw.crosspost.as_ref().map_or(at.clone(), |c| c.span());
                    p.at(at, format!("{key}.crosspost"), e);
                }
            }
            let id = match &watched {
                Watched::Account(a) => a.clone(),
                Watched::Handle(h) => h.clone(),
            };
            if !seen.insert(id.clone()) {
                p.at(
                    span.clone(),
                    format!("{key}.accounts"),
                    format!("{id} is followed by two [[follow]] entries; one entry per account"),
                );
                continue;
            }
            entry.push(Watch {
                key: id,
                network,
                watched,
                reader,
                filter: filter.clone(),
                replies: raw.replies.unwrap_or(false),
                reposts: raw.reposts.unwrap_or(false),
                always: raw.always.unwrap_or(false),
                poll,
                amplifiers: Vec::new(),
                crosspost,
            });
        }
        boosters(&mut entry, raw.amplifiers.as_ref(), accounts, &key, span, p);
        watches.extend(entry);
    }
    let reposts = reposts.into_iter().enumerate().filter_map(|(i, r)| repost(i, r, accounts, event, p)).collect();
    (watches, reposts)
}

fn filter(raw: &RawFollow, key: &str, span: std::ops::Range<usize>, event: &Event, p: &mut Problems<'_>) -> Filter {
    let all = raw.all_posts.as_ref().is_some_and(|a| *a.get_ref());
    match (&raw.hashtags, all) {
        (Some(tags), true) => {
            p.at(tags.span(), key.to_string(), "give hashtags or all_posts = true, not both");
            Filter::All
        }
        (None, true) => Filter::All,
        (Some(tags), false) => {
            let mut out = Vec::new();
            for t in tags.get_ref() {
                let bare = t.trim().trim_start_matches('#');
                if bare.is_empty() || !bare.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    p.at(tags.span(), format!("{key}.hashtags"), format!("{t:?} is not a hashtag such as \"#EMIEP\""));
                } else {
                    out.push(bare.to_lowercase());
                }
            }
            if out.is_empty() && tags.get_ref().is_empty() {
                p.at(tags.span(), format!("{key}.hashtags"), "is empty: give hashtags, or all_posts = true");
            }
            Filter::Hashtags(out)
        }
        (None, false) => {
            let tags: Vec<String> = event.hashtags.iter().map(|t| t.trim_start_matches('#').to_lowercase()).collect();
            if tags.is_empty() {
                p.at(
                    span,
                    format!("{key}.hashtags"),
                    "the event has no hashtags to follow: give hashtags, or all_posts = true",
                );
            }
            Filter::Hashtags(tags)
        }
    }
}

/// Why a watched account's posts cannot be copied to the other networks: only a primary
/// account's own posts are (someone else's words go out as boosts, not under the delegate's
/// name), and only when a primary account on another network is there to take the copy.
fn crosspost_source(watched: &Watched, network: Network, accounts: &[Account]) -> Result<(), String> {
    let who = match watched {
        Watched::Handle(h) => {
            return Err(format!(
                "{h} is not an account of this config: only the primary accounts' own posts are copied to the other networks"
            ))
        }
        Watched::Account(a) => a,
    };
    if !accounts.iter().any(|a| &a.id == who && a.role == Role::Primary) {
        return Err(format!(
            "{who} is an amplifier: only the primary accounts' own posts are copied to the other networks"
        ));
    }
    if !accounts.iter().any(|a| a.role == Role::Primary && a.network != network) {
        return Err(format!(
            "{who} is on {network}, and no primary account is on another network to copy its posts to"
        ));
    }
    Ok(())
}

/// The configured account that reads a handle's posts: on Mastodon one on the handle's own
/// server if there is one (its ids are that server's); else an amplifier, else any account.
fn reader_for(handle: &str, network: Network, accounts: &[Account]) -> Option<String> {
    let host = handle.rsplit('@').next().unwrap_or_default();
    let on = || accounts.iter().filter(move |a| a.network == network);
    on().find(|a| network == Network::Mastodon && a.server.host_str().is_some_and(|h| h.eq_ignore_ascii_case(host)))
        .or_else(|| on().find(|a| a.role == Role::Amplifier))
        .or_else(|| on().next())
        .map(|a| a.id.clone())
}

/// Who boosts each watch's finds: the entry's `amplifiers` on the watch's network, or every
/// amplifier there.
fn boosters(
    entry: &mut [Watch],
    named: Option<&S<Vec<String>>>,
    accounts: &[Account],
    key: &str,
    span: std::ops::Range<usize>,
    p: &mut Problems<'_>,
) {
    if let Some(list) = named {
        for a in list.get_ref() {
            match accounts.iter().find(|x| &x.id == a) {
                None => {
                    p.at(list.span(), format!("{key}.amplifiers"), format!("{a:?} is not an account in this config"))
                }
                Some(x) if !entry.iter().any(|w| w.network == x.network) => p.at(
                    list.span(),
                    format!("{key}.amplifiers"),
                    format!("{a} is on {}, where this entry watches nobody", x.network),
                ),
                Some(_) => {}
            }
        }
    }
    for w in entry.iter_mut() {
        w.amplifiers = accounts
            .iter()
            .filter(|a| a.network == w.network && Watched::Account(a.id.clone()) != w.watched)
            .filter(|a| match named {
                Some(list) => list.get_ref().contains(&a.id),
                None => a.role == Role::Amplifier,
            })
            .map(|a| a.id.clone())
            .collect();
        if w.amplifiers.is_empty() {
            p.at(
                span.clone(),
                format!("{key}.amplifiers"),
                format!("nothing would boost what {} posts: no amplifier account on {}", w.key, w.network),
            );
        }
    }
}

fn repost(i: usize, raw: S<RawRepost>, accounts: &[Account], event: &Event, p: &mut Problems<'_>) -> Option<Repost> {
    let span = raw.span();
    let raw = raw.into_inner();
    let key = format!("repost[{}]", i + 1);
    let address = address::parse(raw.url.get_ref()).map_err(|e| p.at(raw.url.span(), format!("{key}.url"), e)).ok();
    let at = values::instant(raw.at.get_ref(), event.timezone, event.date)
        .map_err(|e| p.at(raw.at.span(), format!("{key}.at"), e))
        .ok();
    let address = address?;
    let network = address.network();
    let chosen: Vec<String> = match &raw.accounts {
        Some(list) => {
            for a in list.get_ref() {
                match accounts.iter().find(|x| &x.id == a) {
                    None => {
                        p.at(list.span(), format!("{key}.accounts"), format!("{a:?} is not an account in this config"))
                    }
                    Some(x) if x.network != network => p.at(
                        list.span(),
                        format!("{key}.accounts"),
                        format!("{a} is on {}, but the post is on {network}", x.network),
                    ),
                    Some(_) => {}
                }
            }
            list.get_ref().clone()
        }
        None => accounts
            .iter()
            .filter(|a| a.network == network && a.role == Role::Amplifier)
            .map(|a| a.id.clone())
            .collect(),
    };
    if chosen.is_empty() {
        p.at(span, key, format!("the post is on {network}, where no amplifier account would repost it"));
        return None;
    }
    Some(Repost { url: raw.url.get_ref().trim().to_string(), address, at: at?, accounts: chosen })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_name_their_network() {
        for (h, want) in [
            ("@ada@mastodon.example", Network::Mastodon),
            ("@ada@127.0.0.1:3000", Network::Mastodon),
            ("ada.bsky.social", Network::Bluesky),
            ("@ada.bsky.social", Network::Bluesky),
            ("did:plc:abcdefgh", Network::Bluesky),
        ] {
            assert_eq!(handle_network(h).unwrap(), want, "{h}");
        }
        assert!(handle_network("@ada").unwrap_err().contains("X accounts cannot be followed"));
        for bad in ["ada", "ada@", "a b.example", ".example"] {
            assert!(handle_network(bad).unwrap_err().contains("neither an account id"), "{bad}");
        }
    }
}

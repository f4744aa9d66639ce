//! Accounts as a person names them (`@me@mastodon.social`, `me.bsky.social`), read into the
//! network, the server and an id for the config; every refusal says how to write it instead.

use url::Url;

/// An account, as `loudhailer init` was told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handle {
    /// `@user@host`: the server is `https://host`.
    Mastodon { user: String, server: Url },
    /// A domain handle (`name.bsky.social`) or a DID.
    Bluesky { handle: String },
}

impl Handle {
    /// A Mastodon handle: `@user@host`, `user@host`, or the profile's address
    /// `https://host/@user`.
    pub fn mastodon(text: &str) -> Result<Handle, String> {
        let text = text.trim();
        if let Ok(url) = Url::parse(text) {
            if matches!(url.scheme(), "https" | "http") {
                let user = url.path().trim_matches('/').strip_prefix('@').unwrap_or_default().to_string();
                let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
                return Self::mastodon_parts(text, &user, host, url.scheme());
            }
        }
        let bare = text.strip_prefix('@').unwrap_or(text);
        match bare.split_once('@') {
            Some((user, host)) => Self::mastodon_parts(text, user, host, "https"),
            None if bare.contains('.') && !bare.contains('/') => Err(format!(
                "{text:?} has no user name: a Mastodon handle is @you@{bare} (or use --bluesky for a Bluesky handle)"
            )),
            None => Err(format!(
                "{text:?} names no server: write the whole handle, @{bare}@your.server (e.g. @{bare}@mastodon.social)"
            )),
        }
    }

    fn mastodon_parts(text: &str, user: &str, host: &str, scheme: &str) -> Result<Handle, String> {
        let user_ok =
            !user.is_empty() && user.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !user_ok {
            return Err(format!(
                "{text:?} is not a Mastodon handle such as @you@mastodon.social (the user name has letters, digits and _)"
            ));
        }
        let plain_host = !host.contains('@') && !host.contains('/');
        let server = Url::parse(&format!("{scheme}://{host}"))
            .ok()
            .filter(|u| {
                plain_host
                    && u.host_str()
                        .is_some_and(|h| h.contains('.') || h == "localhost" || h.parse::<std::net::IpAddr>().is_ok())
            })
            .ok_or_else(|| {
                format!("{text:?}: {host:?} is not a server name; write the handle as @you@mastodon.social")
            })?;
        Ok(Handle::Mastodon { user: user.to_string(), server })
    }

    /// A Bluesky handle (`name.bsky.social`, with or without `@`) or a DID (`did:plc:…`).
    pub fn bluesky(text: &str) -> Result<Handle, String> {
        let text = text.trim();
        let bare = text.strip_prefix('@').unwrap_or(text);
        if bare.starts_with("did:") {
            return match atrium_api::types::string::Did::new(bare.to_string()) {
                Ok(_) => Ok(Handle::Bluesky { handle: bare.to_string() }),
                Err(_) => Err(format!("{text:?} is not a DID such as did:plc:z72i7hdynmk6r22z27h6tvur")),
            };
        }
        if bare.contains('@') {
            return Err(format!(
                "{text:?} looks like a Mastodon handle: use --mastodon for it; a Bluesky handle is a domain such as you.bsky.social"
            ));
        }
        if !bare.contains('.') {
            return Err(format!(
                "{text:?} is not a whole Bluesky handle: handles are domain names, such as {bare}.bsky.social"
            ));
        }
        match atrium_api::types::string::Handle::new(bare.to_ascii_lowercase()) {
            Ok(h) => Ok(Handle::Bluesky { handle: h.as_str().to_string() }),
            Err(_) => Err(format!("{text:?} is not a Bluesky handle such as you.bsky.social")),
        }
    }

    /// An amplifier, on whichever network its form says: `@org@server` (or `org@server`, or a
    /// profile address) is Mastodon; a domain handle or a DID is Bluesky.
    pub fn either(text: &str) -> Result<Handle, String> {
        let trimmed = text.trim();
        let bare = trimmed.strip_prefix('@').unwrap_or(trimmed);
        if bare.contains('@') || trimmed.starts_with("http://") || trimmed.starts_with("https://") {
            Self::mastodon(trimmed)
        } else if bare.starts_with("did:") || bare.contains('.') {
            Self::bluesky(trimmed)
        } else {
            Err(format!(
                "cannot tell the network of {trimmed:?}: write @{bare}@your.server for Mastodon or {bare}.bsky.social for Bluesky"
            ))
        }
    }

    /// The name an id is made from: the user name, or the handle's first label.
    fn stem(&self) -> String {
        let raw = match self {
            Handle::Mastodon { user, .. } => user.as_str(),
            Handle::Bluesky { handle } => {
                handle.strip_prefix("did:").map_or_else(|| handle.split('.').next().unwrap_or(""), |_| "bluesky")
            }
        };
        let mut id: String = raw
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect::<String>()
            .trim_matches('-')
            .to_string();
        if id.is_empty() {
            id = "account".into();
        }
        id
    }
}

/// Ids for the accounts, in order: each handle's stem, with `-bsky` for a Bluesky account whose
/// stem is taken, then a number.
pub fn ids(handles: &[&Handle]) -> Vec<String> {
    let mut taken: Vec<String> = Vec::new();
    for h in handles {
        let stem = h.stem();
        let mut candidates = vec![stem.clone()];
        if matches!(h, Handle::Bluesky { .. }) {
            candidates.push(format!("{stem}-bsky"));
        }
        let id = candidates
            .into_iter()
            .chain((2..).map(|n| format!("{stem}-{n}")))
            .find(|c| !taken.contains(c))
            .unwrap_or_default();
        taken.push(id);
    }
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(user: &str, server: &str) -> Handle {
        Handle::Mastodon { user: user.into(), server: Url::parse(server).unwrap() }
    }

    #[test]
    fn mastodon_handles_in_every_usual_form() {
        assert_eq!(Handle::mastodon("@ada@mastodon.social"), Ok(m("ada", "https://mastodon.social")));
        assert_eq!(Handle::mastodon("ada@Mastodon.Social"), Ok(m("ada", "https://mastodon.social")));
        assert_eq!(Handle::mastodon("https://fosstodon.org/@ada_l"), Ok(m("ada_l", "https://fosstodon.org")));
        assert_eq!(Handle::mastodon("http://127.0.0.1:3000/@ada"), Ok(m("ada", "http://127.0.0.1:3000")));
        assert_eq!(Handle::mastodon("@ada@localhost"), Ok(m("ada", "https://localhost")));
    }

    #[test]
    fn wrong_handles_say_how_to_write_them() {
        let cases = [
            ("@ada", "names no server: write the whole handle, @ada@your.server"),
            ("ada.bsky.social", "has no user name: a Mastodon handle is @you@ada.bsky.social (or use --bluesky"),
            ("@ada@", "is not a server name"),
            ("@@mastodon.social", "is not a Mastodon handle such as @you@mastodon.social"),
            ("@ada@mastodon", "is not a server name"),
            ("@ada@x.org@y.org", "is not a server name"),
            ("https://mastodon.social/about", "is not a Mastodon handle"),
        ];
        for (text, want) in cases {
            let err = Handle::mastodon(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn bluesky_handles_and_dids() {
        assert_eq!(Handle::bluesky("@Ada.bsky.social"), Ok(Handle::Bluesky { handle: "ada.bsky.social".into() }));
        assert_eq!(
            Handle::bluesky("did:plc:z72i7hdynmk6r22z27h6tvur"),
            Ok(Handle::Bluesky { handle: "did:plc:z72i7hdynmk6r22z27h6tvur".into() })
        );
        for (text, want) in [
            ("ada", "handles are domain names, such as ada.bsky.social"),
            ("@ada@mastodon.social", "use --mastodon"),
            ("ada..bsky.social", "is not a Bluesky handle"),
            ("did:nope", "is not a DID"),
        ] {
            let err = Handle::bluesky(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn amplifiers_are_told_apart_by_their_form() {
        assert_eq!(Handle::either("@org@social.example"), Ok(m("org", "https://social.example")));
        assert_eq!(Handle::either("org.bsky.social"), Ok(Handle::Bluesky { handle: "org.bsky.social".into() }));
        let err = Handle::either("org").unwrap_err();
        assert!(err.contains("write @org@your.server for Mastodon or org.bsky.social for Bluesky"), "{err}");
    }

    #[test]
    fn ids_are_unique_and_valid() {
        let ada = m("Ada.L", "https://a.example");
        let sky = Handle::Bluesky { handle: "ada-l.bsky.social".into() };
        let org = m("org", "https://a.example");
        let org2 = m("org", "https://b.example");
        let did = Handle::Bluesky { handle: "did:plc:abc".into() };
        assert_eq!(ids(&[&ada, &sky, &org, &org2, &did]), ["ada-l", "ada-l-bsky", "org", "org-2", "bluesky"]);
    }
}

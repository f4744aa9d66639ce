//! LinkedIn, Facebook Page and Threads accounts in the config: an access token
//! from `token_env`/`token_file`, an OAuth client whose tokens `loudhailer login <network>` keeps
//! in the state dir, or both (the stored tokens, once there, are the ones used and refreshed);
//! the organisation a LinkedIn account acts for, and the Page a Facebook account posts to.

use std::ops::Range;
use std::path::Path;

use url::Url;

use super::{secret_source, RawAccount, SecretSource};
use crate::config::error::Problems;
use crate::network::Network;

/// The callback `loudhailer login` listens on when the config names none: register it with the
/// app (LinkedIn: the app's Auth tab, "Authorized redirect URLs").
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// Where a network's API is when the config does not say.
pub fn default_server(network: Network) -> Option<&'static str> {
    match network {
        Network::X => Some(super::x::DEFAULT_SERVER),
        Network::LinkedIn => Some("https://api.linkedin.com"),
        Network::Facebook => Some("https://graph.facebook.com"),
        Network::Threads => Some("https://graph.threads.net"),
        _ => None,
    }
}

/// An OAuth 2.0 client (the app) an account signs in through; never a secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: Option<SecretSource>,
    /// Where the browser comes back to: a loopback address `loudhailer login` listens on.
    pub redirect_uri: Url,
}

/// The account's OAuth client, if the config names one (`client_id`, `client_secret_env` or
/// `_file`, `redirect_uri`). LinkedIn's token exchange needs the client secret.
pub fn client(a: &RawAccount, key: &str, span: Range<usize>, base: &Path, p: &mut Problems<'_>) -> Option<OAuthClient> {
    let any = a.client_id.is_some()
        || a.client_secret_env.is_some()
        || a.client_secret_file.is_some()
        || a.redirect_uri.is_some();
    if !any {
        return None;
    }
    let Some(id) = &a.client_id else {
        p.at(span, format!("{key}.client_id"), "client_secret and redirect_uri need the client_id they belong to");
        return None;
    };
    let client_id = id.get_ref().trim().to_string();
    if client_id.is_empty() || client_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        p.at(id.span(), format!("{key}.client_id"), "expected the app's client id from its developer page");
    }
    let client_secret = match (&a.client_secret_env, &a.client_secret_file) {
        (None, None) => {
            p.at(
                span.clone(),
                key.to_string(),
                "an OAuth client needs its client secret: client_secret_env or client_secret_file",
            );
            None
        }
        (e, f) => secret_source(e, f, "client_secret", key, span.clone(), base, p),
    };
    let redirect_uri = match &a.redirect_uri {
        Some(r) => match Url::parse(r.get_ref().trim()) {
            Ok(u) if loopback(&u) => u,
            _ => {
                p.at(
                    r.span(),
                    format!("{key}.redirect_uri"),
                    format!(
                        "{:?}: `loudhailer login` listens for the browser on this machine, so the callback is an http address on 127.0.0.1 or localhost with a port, such as \"{DEFAULT_REDIRECT_URI}\"",
                        r.get_ref()
                    ),
                );
                return None;
            }
        },
        None => Url::parse(DEFAULT_REDIRECT_URI).ok()?,
    };
    Some(OAuthClient { client_id, client_secret: client_secret.clone(), redirect_uri })
        .filter(|_| client_secret.is_some())
}

/// An `http` address on this machine with a port: where `loudhailer login` can listen.
pub fn loopback(u: &Url) -> bool {
    u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) && u.port().is_some()
}

/// A Facebook Page's id: its number (the Page's About section, or its address
/// facebook.com/profile.php?id=…).
pub fn page(text: &str) -> Result<String, String> {
    let t = text.trim();
    if !t.is_empty() && t.len() <= 24 && t.chars().all(|c| c.is_ascii_digit()) {
        Ok(t.to_string())
    } else {
        Err(format!("{text:?}: expected the Page's id, a number such as \"20000000000000022\" (the Page's About section shows it)"))
    }
}

/// A LinkedIn organisation: `urn:li:organization:{id}` or the bare number, as its URN.
pub fn organization(text: &str) -> Result<String, String> {
    let t = text.trim();
    let id = t.strip_prefix("urn:li:organization:").unwrap_or(t);
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) {
        Ok(format!("urn:li:organization:{id}"))
    } else {
        Err(format!(
            "{text:?}: expected the organisation's URN, \"urn:li:organization:12345\", or its number (in the page admin's address, linkedin.com/company/12345/admin)"
        ))
    }
}

/// A token-or-login account's token source; `None` when it signs in with `loudhailer login`
/// instead (`client_given`), or when it names neither (a problem reported).
pub fn token(
    a: &RawAccount,
    client_given: bool,
    network: Network,
    key: &str,
    span: Range<usize>,
    base: &Path,
    p: &mut Problems<'_>,
) -> Option<SecretSource> {
    if a.token_env.is_none() && a.token_file.is_none() {
        if client_given {
            return None;
        }
        let login = network.as_str();
        p.at(
            span,
            key.to_string(),
            format!("needs token_env or token_file (an access token), or client_id and client_secret_env for `loudhailer login {login}`; secrets never go in the config"),
        );
        return None;
    }
    secret_source(&a.token_env, &a.token_file, "token", key, span, base, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisations_are_read_as_urns() {
        assert_eq!(organization("urn:li:organization:2414183").unwrap(), "urn:li:organization:2414183");
        assert_eq!(organization(" 2414183 ").unwrap(), "urn:li:organization:2414183");
        for bad in ["", "urn:li:person:abc", "urn:li:organization:", "acme", "urn:li:organization:12a"] {
            assert!(organization(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn callbacks_must_be_on_this_machine() {
        for (u, ok) in [
            ("http://127.0.0.1:8765/callback", true),
            ("http://localhost:9000/cb", true),
            ("http://127.0.0.1/callback", false),
            ("https://127.0.0.1:8765/callback", false),
            ("http://example.org:8765/callback", false),
        ] {
            assert_eq!(loopback(&Url::parse(u).unwrap()), ok, "{u}");
        }
    }
}

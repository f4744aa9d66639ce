//! X accounts in the config: OAuth 1.0a keys, or an OAuth 2.0 client whose tokens
//! `loudhailer login x` puts in the store.

use std::ops::Range;
use std::path::Path;

use url::Url;

use super::{secret_source, RawAccount, SecretSource};
use crate::config::error::Problems;

/// Where an X account's API address is when the config does not say.
pub const DEFAULT_SERVER: &str = "https://api.x.com";

/// The callback `loudhailer login x` uses when the config names none; register it in the app's
/// settings on the developer portal.
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:8765/callback";

/// How an X account signs its requests (where the secrets are, never the secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XAuth {
    /// OAuth 1.0a user context, HMAC-SHA1: keys that do not expire.
    OAuth1 {
        consumer_key: SecretSource,
        consumer_secret: SecretSource,
        access_token: SecretSource,
        access_secret: SecretSource,
    },
    /// OAuth 2.0 user tokens (2 hours, refreshed with single-use refresh tokens), kept in the
    /// state store by `loudhailer login x`.
    OAuth2 { client_id: String, client_secret: Option<SecretSource>, redirect_uri: Url },
}

impl XAuth {
    pub fn is_oauth2(&self) -> bool {
        matches!(self, XAuth::OAuth2 { .. })
    }
}

/// Checks an X account's credentials keys; refuses the keys of other networks.
pub fn auth(a: &RawAccount, key: &str, span: Range<usize>, base: &Path, p: &mut Problems<'_>) -> Option<XAuth> {
    for (given, name) in [
        (a.token_env.as_ref().or(a.token_file.as_ref()).map(|s| s.span()), "token_env/token_file"),
        (a.password_env.as_ref().or(a.password_file.as_ref()).map(|s| s.span()), "password_env/password_file"),
        (a.identifier.as_ref().map(|s| s.span()), "identifier"),
        (a.visibility.as_ref().map(|s| s.span()), "visibility"),
    ] {
        if let Some(at) = given {
            p.at(
                at,
                key.to_string(),
                format!("{name} is not for X accounts: X takes OAuth 1.0a keys (consumer_key_env, consumer_secret_env, access_token_env, access_secret_env) or an OAuth 2.0 client_id"),
            );
        }
    }
    let oauth1_keys = [
        (&a.consumer_key_env, &a.consumer_key_file, "consumer_key"),
        (&a.consumer_secret_env, &a.consumer_secret_file, "consumer_secret"),
        (&a.access_token_env, &a.access_token_file, "access_token"),
        (&a.access_secret_env, &a.access_secret_file, "access_secret"),
    ];
    let any_oauth1 = oauth1_keys.iter().any(|(e, f, _)| e.is_some() || f.is_some());
    let any_oauth2 = a.client_id.is_some() || a.client_secret_env.is_some() || a.client_secret_file.is_some();
    match (any_oauth1, any_oauth2) {
        (true, true) => {
            p.at(
                span,
                key.to_string(),
                "give OAuth 1.0a keys (consumer_key_env, …) or an OAuth 2.0 client_id, not both",
            );
            None
        }
        (false, false) => {
            p.at(
                span,
                key.to_string(),
                "an X account needs OAuth 1.0a keys (consumer_key_env, consumer_secret_env, access_token_env and access_secret_env, or their _file forms) or an OAuth 2.0 client_id (then run `loudhailer login x`)",
            );
            None
        }
        (true, false) => {
            if let Some(r) = &a.redirect_uri {
                p.at(r.span(), format!("{key}.redirect_uri"), "redirect_uri is for OAuth 2.0 (client_id) accounts");
            }
            let mut sources = Vec::new();
            for (env, file, what) in oauth1_keys {
                sources.push(secret_source(env, file, what, key, span.clone(), base, p));
            }
            match sources.as_slice() {
                [Some(ck), Some(cs), Some(at), Some(as_)] => Some(XAuth::OAuth1 {
                    consumer_key: ck.clone(),
                    consumer_secret: cs.clone(),
                    access_token: at.clone(),
                    access_secret: as_.clone(),
                }),
                _ => None,
            }
        }
        (false, true) => {
            let client_id = match &a.client_id {
                Some(id) => {
                    let text = id.get_ref().trim();
                    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
                        p.at(
                            id.span(),
                            format!("{key}.client_id"),
                            "expected the OAuth 2.0 client id from the app's keys and tokens page",
                        );
                    }
                    text.to_string()
                }
                None => {
                    p.at(
                        span.clone(),
                        format!("{key}.client_id"),
                        "client_secret_env/client_secret_file need the client_id they belong to",
                    );
                    return None;
                }
            };
            let client_secret = match (&a.client_secret_env, &a.client_secret_file) {
                (None, None) => None,
                (e, f) => Some(secret_source(e, f, "client_secret", key, span.clone(), base, p)?),
            };
            let redirect_uri = match &a.redirect_uri {
                Some(r) => match Url::parse(r.get_ref().trim()) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
                    _ => {
                        p.at(
                            r.span(),
                            format!("{key}.redirect_uri"),
                            format!("{:?} is not a callback URL such as \"{DEFAULT_REDIRECT_URI}\"", r.get_ref()),
                        );
                        return None;
                    }
                },
                None => Url::parse(DEFAULT_REDIRECT_URI).ok()?,
            };
            Some(XAuth::OAuth2 { client_id, client_secret, redirect_uri })
        }
    }
}

//! `[[account]]`: who posts and who amplifies, on which network and server, and where each
//! account's secret comes from (never the secret itself).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use url::Url;

pub mod oauth;
pub mod x;

use super::error::Problems;
use super::event::{checked_id, checked_language};
use super::values::{self, Rate, S};
use crate::network::Network;
pub use oauth::OAuthClient;
pub use x::XAuth;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub id: S<String>,
    pub platform: S<String>,
    /// Required for Mastodon and Bluesky; X defaults to `https://api.x.com`, LinkedIn to
    /// `https://api.linkedin.com`.
    #[serde(default)]
    pub server: Option<S<String>>,
    #[serde(default)]
    pub role: Option<S<String>>,
    #[serde(default)]
    pub token_env: Option<S<String>>,
    #[serde(default)]
    pub token_file: Option<S<String>>,
    /// Bluesky: handle or DID.
    #[serde(default)]
    pub identifier: Option<S<String>>,
    #[serde(default)]
    pub password_env: Option<S<String>>,
    #[serde(default)]
    pub password_file: Option<S<String>>,
    /// Overrides `[amplify] rate` for this account.
    #[serde(default)]
    pub rate: Option<S<String>>,
    /// Overrides `[event] language` for this account's posts.
    #[serde(default)]
    pub language: Option<S<String>>,
    /// Mastodon: public, unlisted or private.
    #[serde(default)]
    pub visibility: Option<S<String>>,
    /// X, OAuth 1.0a user context: the app's consumer key and secret, the account's access
    /// token and secret (each from an environment variable or an owner-only file).
    #[serde(default)]
    pub consumer_key_env: Option<S<String>>,
    #[serde(default)]
    pub consumer_key_file: Option<S<String>>,
    #[serde(default)]
    pub consumer_secret_env: Option<S<String>>,
    #[serde(default)]
    pub consumer_secret_file: Option<S<String>>,
    #[serde(default)]
    pub access_token_env: Option<S<String>>,
    #[serde(default)]
    pub access_token_file: Option<S<String>>,
    #[serde(default)]
    pub access_secret_env: Option<S<String>>,
    #[serde(default)]
    pub access_secret_file: Option<S<String>>,
    /// X, OAuth 2.0: the app's client id (tokens come from `loudhailer login x`), the client
    /// secret of a confidential client, and the callback URL registered for the app.
    #[serde(default)]
    pub client_id: Option<S<String>>,
    #[serde(default)]
    pub client_secret_env: Option<S<String>>,
    #[serde(default)]
    pub client_secret_file: Option<S<String>>,
    #[serde(default)]
    pub redirect_uri: Option<S<String>>,
    /// LinkedIn: the organisation (page) the account posts and reshares as.
    #[serde(default)]
    pub organization: Option<S<String>>,
    /// Facebook: the Page's id.
    #[serde(default)]
    pub page: Option<S<String>>,
    /// Facebook amplifiers: the primary account whose posts the Page amplifies.
    #[serde(default)]
    pub amplifies: Option<S<String>>,
}

impl RawAccount {
    /// Whether any of X's OAuth 1.0a keys is present.
    pub fn has_oauth1_keys(&self) -> bool {
        [
            &self.consumer_key_env,
            &self.consumer_key_file,
            &self.consumer_secret_env,
            &self.consumer_secret_file,
            &self.access_token_env,
            &self.access_token_file,
            &self.access_secret_env,
            &self.access_secret_file,
        ]
        .iter()
        .any(|k| k.is_some())
    }

    /// Whether any OAuth 2.0 client key is present (X, LinkedIn).
    pub fn has_client_keys(&self) -> bool {
        [&self.client_id, &self.client_secret_env, &self.client_secret_file, &self.redirect_uri]
            .iter()
            .any(|k| k.is_some())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Posts the schedule.
    Primary,
    /// Boosts the primary accounts' posts on its network.
    Amplifier,
}

/// Where an account's secret comes from (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Env(String),
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub network: Network,
    pub server: Url,
    pub role: Role,
    /// Mastodon: the access token (none: the one `loudhailer login mastodon` keeps in the state
    /// dir). Bluesky: the app password. X: none (see `x`). LinkedIn: the access token, unless it
    /// signs in with `loudhailer login` (see `oauth`).
    pub secret: Option<SecretSource>,
    /// X: how requests are signed.
    pub x: Option<XAuth>,
    /// LinkedIn: the OAuth client `loudhailer login` signs in through and refreshes with.
    pub oauth: Option<OAuthClient>,
    /// LinkedIn: the organisation's URN (`urn:li:organization:…`) when the account acts as a page.
    pub organization: Option<String>,
    /// The API version pinned for the account's network (LinkedIn: `LinkedIn-Version`), from that
    /// network's section of the config.
    pub api_version: Option<String>,
    /// LinkedIn: how a thread's later posts go out (`[linkedin] points`).
    pub points: crate::config::Points,
    /// Facebook: the Page's id.
    pub page: Option<String>,
    /// Facebook amplifiers: the primary account whose posts the Page amplifies (checked against
    /// the accounts; the first primary on another network when the config names none).
    pub amplifies: Option<String>,
    /// Bluesky: handle or DID.
    pub identifier: Option<String>,
    /// Overrides `[amplify] rate`.
    pub rate: Option<Rate>,
    pub language: Option<String>,
    pub visibility: Option<String>,
}

pub(super) fn validate(raw: Vec<S<RawAccount>>, base: &Path, p: &mut Problems<'_>) -> Vec<Account> {
    let mut accounts = Vec::new();
    let mut seen = HashSet::new();
    for (i, a) in raw.into_iter().enumerate() {
        let span = a.span();
        let a = a.into_inner();
        let id = checked_id(&a.id, &format!("account[{}].id", i + 1), p);
        let key = format!("account[{id}]");
        if !seen.insert(id.clone()) {
            p.at(a.id.span(), format!("{key}.id"), "another account has the same id");
        }
        let network = match a.platform.get_ref().as_str() {
            "mastodon" => Some(Network::Mastodon),
            "bluesky" => Some(Network::Bluesky),
            "x" => Some(Network::X),
            "linkedin" => Some(Network::LinkedIn),
            "facebook" => Some(Network::Facebook),
            "threads" => Some(Network::Threads),
            other => {
                p.at(
                    a.platform.span(),
                    format!("{key}.platform"),
                    format!("unknown platform {other:?}: expected \"mastodon\", \"bluesky\", \"x\", \"linkedin\", \"facebook\" or \"threads\""),
                );
                None
            }
        };
        let server = match (&a.server, network) {
            (None, Some(n)) if oauth::default_server(n).is_some() => {
                oauth::default_server(n).and_then(|u| Url::parse(u).ok())
            }
            (None, _) => {
                p.at(
                    span.clone(),
                    format!("{key}.server"),
                    "needs server (the address of the account's server, such as \"https://mastodon.social\")",
                );
                None
            }
            (Some(server), _) => match Url::parse(server.get_ref().trim()) {
                Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Some(u),
                _ => {
                    p.at(
                        server.span(),
                        format!("{key}.server"),
                        format!("{:?} is not a server address such as \"https://mastodon.social\"", server.get_ref()),
                    );
                    None
                }
            },
        };
        let role = match a.role.as_ref().map(|r| r.get_ref().as_str()) {
            None | Some("primary") => Role::Primary,
            Some("amplifier") => Role::Amplifier,
            Some(other) => {
                let span = a.role.as_ref().map_or(span.clone(), |r| r.span());
                p.at(
                    span,
                    format!("{key}.role"),
                    format!("unknown role {other:?}: expected \"primary\" or \"amplifier\""),
                );
                Role::Primary
            }
        };
        if network != Some(Network::X) && a.has_oauth1_keys() {
            p.at(span.clone(), key.clone(), "consumer_key_env, access_token_env and the other OAuth 1.0a keys are for X accounts (platform = \"x\")");
        }
        if matches!(network, Some(Network::Mastodon | Network::Bluesky)) && a.has_client_keys() {
            p.at(
                span.clone(),
                key.clone(),
                "client_id, client_secret_env and redirect_uri are for X, LinkedIn, Facebook and Threads accounts",
            );
        }
        if network != Some(Network::LinkedIn) {
            if let Some(o) = &a.organization {
                p.at(
                    o.span(),
                    format!("{key}.organization"),
                    "organization is for LinkedIn accounts (platform = \"linkedin\")",
                );
            }
        }
        if network != Some(Network::Facebook) {
            for (given, name) in [(&a.page, "page"), (&a.amplifies, "amplifies")] {
                if let Some(g) = given {
                    p.at(
                        g.span(),
                        format!("{key}.{name}"),
                        format!("{name} is for Facebook Page accounts (platform = \"facebook\")"),
                    );
                }
            }
        }
        let mut x_auth = None;
        let mut signed_in = false;
        let mut oauth_client = None;
        let mut organization = None;
        let mut page = None;
        let secret = match network {
            Some(Network::X) => {
                x_auth = x::auth(&a, &key, span.clone(), base, p);
                None
            }
            Some(n @ (Network::LinkedIn | Network::Facebook | Network::Threads)) => {
                let name_of = match n {
                    Network::LinkedIn => "LinkedIn",
                    Network::Facebook => "Facebook",
                    _ => "Threads",
                };
                if n == Network::Facebook {
                    page = match &a.page {
                        Some(pg) => {
                            oauth::page(pg.get_ref()).map_err(|e| p.at(pg.span(), format!("{key}.page"), e)).ok()
                        }
                        None => {
                            p.at(span.clone(), format!("{key}.page"), "a Facebook account needs page, the id of the Page it posts to (no API posts to a personal profile)");
                            None
                        }
                    };
                }
                for (given, name) in [
                    (
                        a.password_env.as_ref().or(a.password_file.as_ref()).map(|s| s.span()),
                        "password_env/password_file",
                    ),
                    (a.identifier.as_ref().map(|s| s.span()), "identifier"),
                    (a.visibility.as_ref().map(|s| s.span()), "visibility"),
                ] {
                    if let Some(at) = given {
                        p.at(at, key.clone(), format!("{name} is not for {name_of} accounts: they take token_env/token_file or client_id for `loudhailer login {n}`"));
                    }
                }
                organization = a.organization.as_ref().and_then(|o| {
                    oauth::organization(o.get_ref()).map_err(|e| p.at(o.span(), format!("{key}.organization"), e)).ok()
                });
                oauth_client = oauth::client(&a, &key, span.clone(), base, p);
                oauth::token(&a, a.has_client_keys(), n, &key, span.clone(), base, p).map(Some)
            }
            Some(Network::Bluesky) => {
                if a.token_env.is_some() || a.token_file.is_some() {
                    p.at(span.clone(), key.clone(), "Bluesky accounts take password_env or password_file (an app password), not token_env/token_file");
                }
                if a.identifier.is_none() {
                    p.at(
                        span.clone(),
                        format!("{key}.identifier"),
                        "a Bluesky account needs identifier (its handle or DID)",
                    );
                }
                Some(secret_source(&a.password_env, &a.password_file, "password", &key, span.clone(), base, p))
            }
            _ => {
                if a.password_env.is_some() || a.password_file.is_some() || a.identifier.is_some() {
                    p.at(span.clone(), key.clone(), "identifier and password_env/password_file are for Bluesky accounts; Mastodon takes token_env or token_file");
                }
                if a.token_env.is_none() && a.token_file.is_none() {
                    // Signed in with `loudhailer login mastodon`: the token is in the state dir.
                    signed_in = true;
                    None
                } else {
                    Some(secret_source(&a.token_env, &a.token_file, "token", &key, span.clone(), base, p))
                }
            }
        };
        let rate = a
            .rate
            .as_ref()
            .and_then(|r| values::rate(r.get_ref()).map_err(|e| p.at(r.span(), format!("{key}.rate"), e)).ok());
        let language = a.language.as_ref().map(|l| checked_language(l, &format!("{key}.language"), p));
        let visibility = a.visibility.as_ref().map(|v| {
            let text = v.get_ref().clone();
            if !matches!(text.as_str(), "public" | "unlisted" | "private") {
                p.at(v.span(), format!("{key}.visibility"), "expected \"public\", \"unlisted\" or \"private\"");
            }
            text
        });
        let credentials_ok = match network {
            Some(Network::X) => x_auth.is_some(),
            Some(Network::LinkedIn | Network::Threads) => matches!(secret, Some(Some(_))) || oauth_client.is_some(),
            Some(Network::Facebook) => page.is_some() && (matches!(secret, Some(Some(_))) || oauth_client.is_some()),
            _ => signed_in || matches!(secret, Some(Some(_))),
        };
        if let (Some(network), Some(server), true) = (network, server, credentials_ok) {
            accounts.push(Account {
                id,
                network,
                server,
                role,
                secret: secret.flatten(),
                x: x_auth,
                oauth: oauth_client,
                organization,
                api_version: None,
                points: Default::default(),
                page,
                amplifies: a.amplifies.as_ref().map(|x| x.get_ref().trim().to_string()),
                identifier: a.identifier.map(|i| i.into_inner().trim().to_string()),
                rate,
                language,
                visibility,
            });
        }
    }
    if accounts.is_empty() && p.list.is_empty() {
        p.nowhere("account", "no [[account]]: at least one account with role = \"primary\" is needed");
    } else if !accounts.is_empty() && !accounts.iter().any(|a| a.role == Role::Primary) {
        p.nowhere("account", "no account has role = \"primary\": someone has to post");
    }
    accounts
}

/// The names a secret file's path may start with to mean systemd's credentials directory
/// (`LoadCredential=`; contrib/systemd/loudhailer@.service).
pub const CREDENTIALS_DIRECTORY: [&str; 2] = ["${CREDENTIALS_DIRECTORY}", "$CREDENTIALS_DIRECTORY"];

/// The rest of a path that starts with `${CREDENTIALS_DIRECTORY}`, if it does.
pub fn in_credentials_dir(path: &Path) -> Option<&Path> {
    let mut parts = path.components();
    let first = parts.next()?.as_os_str().to_str()?;
    CREDENTIALS_DIRECTORY.contains(&first).then_some(parts.as_path()).filter(|rest| !rest.as_os_str().is_empty())
}

pub(crate) fn secret_source(
    env: &Option<S<String>>,
    file: &Option<S<String>>,
    what: &str,
    key: &str,
    span: std::ops::Range<usize>,
    base: &Path,
    p: &mut Problems<'_>,
) -> Option<SecretSource> {
    match (env, file) {
        (Some(e), None) => {
            let name = e.get_ref().trim();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                p.at(e.span(), format!("{key}.{what}_env"), format!("{name:?} is not an environment variable name"));
            }
            Some(SecretSource::Env(name.to_string()))
        }
        (None, Some(f)) => {
            let path = PathBuf::from(f.get_ref());
            // `${CREDENTIALS_DIRECTORY}/NAME` is found where systemd puts it, when it is read.
            let keep = path.is_absolute() || in_credentials_dir(&path).is_some();
            Some(SecretSource::File(if keep { path } else { base.join(path) }))
        }
        (Some(_), Some(_)) => {
            p.at(span, key.to_string(), format!("give {what}_env or {what}_file, not both"));
            None
        }
        (None, None) => {
            p.at(span, key.to_string(), format!("needs {what}_env (the name of an environment variable) or {what}_file (a file only you can read); secrets never go in the config"));
            None
        }
    }
}

//! The config file as written: serde structs that refuse unknown keys and keep each value's span.

use serde::Deserialize;
use toml::Spanned;

use crate::schedule::ImportOptions;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub event: S<RawEvent>,
    #[serde(default)]
    pub account: Vec<S<RawAccount>>,
    #[serde(default)]
    pub amplify: Option<RawAmplify>,
    #[serde(default)]
    pub session: Vec<S<RawSession>>,
    #[serde(default)]
    pub recurring: Vec<S<RawRecurring>>,
    #[serde(default)]
    pub state: Option<RawState>,
    #[serde(default)]
    pub compose: Option<RawCompose>,
    #[serde(default)]
    pub run: Option<RawRun>,
    #[serde(default)]
    pub schedule: Option<S<ImportOptions>>,
    #[serde(default)]
    pub report: Option<super::report::RawReport>,
    #[serde(default)]
    pub follow: Vec<S<super::follow::RawFollow>>,
    #[serde(default)]
    pub repost: Vec<S<super::follow::RawRepost>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub name: S<String>,
    pub timezone: S<String>,
    #[serde(default)]
    pub date: Option<S<toml::Value>>,
    #[serde(default)]
    pub hashtags: Vec<S<String>>,
    /// Language tag for posts (ISO 639-1), e.g. "en".
    #[serde(default)]
    pub language: Option<S<String>>,
    /// The daily window recurring posts stay inside: ["09:00", "17:30"].
    #[serde(default)]
    pub hours: Option<S<Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccount {
    pub id: S<String>,
    pub platform: S<String>,
    /// Required for Mastodon and Bluesky; X defaults to `https://api.x.com`.
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
}

impl RawAccount {
    /// Whether any X credential key is present.
    pub fn has_x_keys(&self) -> bool {
        [
            &self.consumer_key_env,
            &self.consumer_key_file,
            &self.consumer_secret_env,
            &self.consumer_secret_file,
            &self.access_token_env,
            &self.access_token_file,
            &self.access_secret_env,
            &self.access_secret_file,
            &self.client_id,
            &self.client_secret_env,
            &self.client_secret_file,
            &self.redirect_uri,
        ]
        .iter()
        .any(|k| k.is_some())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAmplify {
    #[serde(default)]
    pub delay: Option<S<String>>,
    #[serde(default)]
    pub jitter: Option<S<String>>,
    #[serde(default)]
    pub rate: Option<S<String>>,
}

/// A point: a string, or `{ text = "...", at = "10:20" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawPoint {
    Text(String),
    Timed(RawTimedPoint),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimedPoint {
    pub text: String,
    pub at: toml::Value,
}

/// A speaker: a name, or `{ name = "...", mastodon = "@a@b", bluesky = "a.bsky.social", x = "a" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawSpeaker {
    Name(String),
    Full(RawFullSpeaker),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFullSpeaker {
    pub name: String,
    #[serde(default)]
    pub mastodon: Option<String>,
    #[serde(default)]
    pub bluesky: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSession {
    #[serde(default)]
    pub id: Option<S<String>>,
    pub title: S<String>,
    pub start: S<toml::Value>,
    #[serde(default)]
    pub end: Option<S<toml::Value>>,
    #[serde(default)]
    pub duration: Option<S<String>>,
    #[serde(default)]
    pub speakers: Vec<S<RawSpeaker>>,
    #[serde(default)]
    pub points: Vec<S<RawPoint>>,
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub track: Option<String>,
    #[serde(default)]
    pub hashtags: Vec<S<String>>,
    #[serde(default, rename = "abstract")]
    pub abstract_text: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub language: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecurring {
    #[serde(default)]
    pub id: Option<S<String>>,
    pub cron: S<String>,
    pub text: S<String>,
    /// Which primary accounts post it (default: all of them).
    #[serde(default)]
    pub accounts: Option<S<Vec<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    #[serde(default)]
    pub dir: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompose {
    #[serde(default)]
    pub title: Option<S<String>>,
    #[serde(default)]
    pub point: Option<S<String>>,
    #[serde(default)]
    pub note: Option<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRun {
    #[serde(default)]
    pub catch_up: Option<S<String>>,
}

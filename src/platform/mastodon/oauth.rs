//! Signing a Mastodon account in without copying a token (`loudhailer login mastodon`): the app
//! is registered on the account's server (`POST /api/v1/apps`), the person allows it in a
//! browser (`/oauth/authorize`, Authorization Code with PKCE where the server supports it), the
//! code is traded for a token (`POST /oauth/token`), and the token is kept in the state store.
//!
//! The scopes are the granular ones loudhailer's requests need, and no more:
//! - `read:accounts`: `verify_credentials` (the account's own id), `accounts/lookup` (watched
//!   handles) and `accounts/:id/statuses` (matching a post after an ambiguous failure).
//! - `read:statuses`: reading posts for engagement counts, boosts of posts from elsewhere, and
//!   the account's own `user` stream (`/api/v1/streaming/user`).
//! - `read:search`: finding a post from another server by its link before boosting it.
//! - `write:statuses`: posting, replying in threads, boosting and undoing a boost.
//! - `write:media`: media attachments, which loudhailer is gaining; asked now so a later
//!   version needs no second sign-in.
//!
//! Not asked: `read:notifications`, `follow`, `push`, `write:accounts` or any admin scope.
//!
//! Mastodon tokens do not expire; one is revoked by the person in their account's settings
//! (Preferences → Account → Authorized apps) or replaced by signing in again.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::super::http::Http;
use super::super::PlatformError;
use crate::secret::Secret;
use crate::sessions::Sessions;

/// The scopes asked for (see the module's doc for why each).
pub const SCOPES: &str = "read:accounts read:statuses read:search write:statuses write:media";

/// The redirect address for a person who pastes the code instead (the server shows it).
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// The app's name, as the account's "Authorized apps" list shows it.
pub const APP_NAME: &str = "loudhailer";

/// The marker of a Mastodon token in an account's stored session.
const KIND: &str = "mastodon-oauth";

/// The app registered on a server: its client id and secret.
#[derive(Debug, Clone)]
pub struct App {
    pub client_id: String,
    pub client_secret: Secret,
}

/// A token `loudhailer login mastodon` obtained, and for where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub access: Secret,
    /// The server it was issued by: a config that moved the account elsewhere needs a new one.
    pub server: Url,
    /// The scopes the server granted, as it said.
    pub scope: Option<String>,
    /// The app it belongs to (to revoke it, or to see it in "Authorized apps").
    pub client_id: String,
    pub client_secret: Secret,
    pub created_at: DateTime<Utc>,
}

impl Token {
    fn to_session(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": KIND,
            "access_token": self.access.expose(),
            "server": self.server.as_str(),
            "scope": self.scope,
            "client_id": self.client_id,
            "client_secret": self.client_secret.expose(),
            "created_at": self.created_at.to_rfc3339(),
        })
    }

    fn from_session(v: &serde_json::Value) -> Option<Token> {
        if v.get("kind")?.as_str()? != KIND {
            return None;
        }
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        Some(Token {
            access: Secret::new(text("access_token")?),
            server: Url::parse(&text("server")?).ok()?,
            scope: text("scope"),
            client_id: text("client_id").unwrap_or_default(),
            client_secret: Secret::new(text("client_secret").unwrap_or_default()),
            created_at: text("created_at")
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map_or(DateTime::UNIX_EPOCH, |t| t.to_utc()),
        })
    }

    /// Scopes loudhailer asks for that the server did not grant (none when it did not say).
    pub fn missing_scopes(&self) -> Vec<&'static str> {
        let Some(granted) = &self.scope else {
            return Vec::new();
        };
        let granted: Vec<&str> = granted.split_whitespace().collect();
        SCOPES
            .split(' ')
            .filter(|want| {
                // `read` covers every `read:…`, `write` every `write:…`.
                let family = want.split(':').next().unwrap_or(want);
                !granted.iter().any(|g| g == want || *g == family)
            })
            .collect()
    }
}

/// The token stored for `account`, if `loudhailer login mastodon` put one there.
pub fn load(sessions: &dyn Sessions, account: &str) -> Result<Option<Token>, String> {
    Ok(sessions.load(account)?.as_ref().and_then(Token::from_session))
}

/// Keeps `token` for `account`, durably.
pub fn save(sessions: &dyn Sessions, account: &str, token: &Token) -> Result<(), String> {
    sessions.save(account, Some(token.to_session()))
}

#[derive(Deserialize)]
struct AppAnswer {
    client_id: String,
    client_secret: String,
}

/// Registers loudhailer as an app on `server`, allowed to send people back to `redirect_uri`.
pub async fn register(http: &Http, server: &Url, redirect_uri: &str) -> Result<App, PlatformError> {
    let url = endpoint(server, "/api/v1/apps")?;
    let form = [("client_name", APP_NAME), ("redirect_uris", redirect_uri), ("scopes", SCOPES)];
    let reply = http.send(http.client().post(url).form(&form)).await?;
    let answer: AppAnswer = reply.json()?;
    Ok(App { client_id: answer.client_id, client_secret: Secret::new(answer.client_secret) })
}

/// Where the person allows the app: the server's authorize page. `force_login` lets them choose
/// which account signs in (an event's delegate and its amplifier often share a server).
pub fn authorize_url(server: &Url, app: &App, redirect_uri: &str, challenge: &str, state: &str) -> Url {
    let mut url = server.join("/oauth/authorize").unwrap_or_else(|_| server.clone());
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &app.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", SCOPES)
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("force_login", "true");
    url
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    scope: Option<String>,
}

/// Trades the authorization code for the account's token.
#[allow(clippy::too_many_arguments)]
pub async fn exchange_code(
    http: &Http,
    server: &Url,
    app: &App,
    redirect_uri: &str,
    code: &str,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<Token, PlatformError> {
    let url = endpoint(server, "/oauth/token")?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", &app.client_id),
        ("client_secret", app.client_secret.expose()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
        ("scope", SCOPES),
    ];
    let reply = http.send_raw(http.client().post(url).form(&form)).await?;
    if !reply.status.is_success() {
        let status = reply.status.as_u16();
        return Err(match status {
            400 | 401 | 403 => PlatformError::Auth {
                status,
                message: format!(
                    "the server refused the sign-in code ({}); run `loudhailer login mastodon` again",
                    reply.message()
                ),
            },
            _ => http.classify(&reply),
        });
    }
    let answer: TokenAnswer = reply.json()?;
    if answer.access_token.trim().is_empty() {
        return Err(PlatformError::Retry("the server answered the sign-in without a token".into()));
    }
    Ok(Token {
        access: Secret::new(answer.access_token),
        server: server.clone(),
        scope: answer.scope,
        client_id: app.client_id.clone(),
        client_secret: app.client_secret.clone(),
        created_at: now,
    })
}

fn endpoint(server: &Url, path: &str) -> Result<Url, PlatformError> {
    server.join(path).map_err(|e| PlatformError::Internal { message: format!("{server} cannot take {path}: {e}") })
}

/// Why what the browser or the person handed back cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("nothing was pasted")]
    Empty,
    #[error("the server did not grant access: {0}")]
    Denied(String),
    #[error("the address has no code in it")]
    NoCode,
    #[error(
        "the address belongs to another sign-in (its state does not match); start `loudhailer login mastodon` again"
    )]
    State,
}

/// The code from the query of the loopback redirect (`code=…&state=…`, or `error=…`).
pub fn code_from_query(query: &str, state: &str) -> Result<String, CallbackError> {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some(error) = get("error") {
        return Err(CallbackError::Denied(get("error_description").unwrap_or(error)));
    }
    if get("state").as_deref() != Some(state) {
        return Err(CallbackError::State);
    }
    get("code").filter(|c| !c.is_empty()).ok_or(CallbackError::NoCode)
}

/// The code from what the person pasted: the code the server showed, or a whole redirect
/// address (checked against `state`).
pub fn code_from_paste(input: &str, state: &str) -> Result<String, CallbackError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(CallbackError::Empty);
    }
    match Url::parse(input) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => code_from_query(url.query().unwrap_or(""), state),
        _ => Ok(input.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(scope: Option<&str>) -> Token {
        Token {
            access: Secret::new("a"),
            server: Url::parse("https://m.example/").unwrap(),
            scope: scope.map(str::to_string),
            client_id: "cid".into(),
            client_secret: Secret::new("cs"),
            created_at: DateTime::parse_from_rfc3339("2026-05-01T12:00:00Z").unwrap().to_utc(),
        }
    }

    #[test]
    fn tokens_round_trip_through_the_session() {
        let t = token(Some(SCOPES));
        assert_eq!(Token::from_session(&t.to_session()), Some(t.clone()));
        assert_eq!(Token::from_session(&serde_json::json!({"kind": "x-oauth2", "access_token": "x"})), None);
        assert_eq!(Token::from_session(&serde_json::json!({"accessJwt": "x"})), None);
        assert!(!format!("{t:?}").contains("\"a\""), "{t:?}");
    }

    #[test]
    fn the_scopes_granted_are_compared_with_those_asked() {
        assert!(token(Some(SCOPES)).missing_scopes().is_empty());
        assert!(token(Some("read write")).missing_scopes().is_empty(), "broad scopes cover the granular ones");
        assert!(token(None).missing_scopes().is_empty(), "a server that does not say is trusted");
        assert_eq!(token(Some("read")).missing_scopes(), vec!["write:statuses", "write:media"]);
        assert_eq!(
            token(Some("read:accounts read:statuses write:statuses")).missing_scopes(),
            vec!["read:search", "write:media"]
        );
    }

    #[test]
    fn the_authorize_address() {
        let app = App { client_id: "cid".into(), client_secret: Secret::new("cs") };
        let url = authorize_url(&Url::parse("https://m.example").unwrap(), &app, OOB, "ch", "st");
        assert_eq!(
            url.as_str(),
            "https://m.example/oauth/authorize?response_type=code&client_id=cid&redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob&scope=read%3Aaccounts+read%3Astatuses+read%3Asearch+write%3Astatuses+write%3Amedia&state=st&code_challenge=ch&code_challenge_method=S256&force_login=true"
        );
        assert!(!url.as_str().contains("cs"), "the client secret never goes to the browser");
    }

    #[test]
    fn what_comes_back() {
        let cases: &[(&str, Result<&str, CallbackError>)] = &[
            ("code=abc&state=s", Ok("abc")),
            ("state=s&code=a%2Bb", Ok("a+b")),
            ("code=abc&state=other", Err(CallbackError::State)),
            ("code=abc", Err(CallbackError::State)),
            ("state=s", Err(CallbackError::NoCode)),
            ("state=s&code=", Err(CallbackError::NoCode)),
            (
                "error=access_denied&error_description=The+resource+owner+denied+the+request",
                Err(CallbackError::Denied("The resource owner denied the request".into())),
            ),
        ];
        for (query, want) in cases {
            assert_eq!(code_from_query(query, "s"), want.clone().map(str::to_string), "{query:?}");
        }
        assert_eq!(code_from_paste("  mockcode_ada \n", "s"), Ok("mockcode_ada".into()));
        assert_eq!(code_from_paste("http://127.0.0.1:9/callback?code=c&state=s", "s"), Ok("c".into()));
        assert_eq!(code_from_paste("http://127.0.0.1:9/callback?code=c&state=t", "s"), Err(CallbackError::State));
        assert_eq!(code_from_paste("", "s"), Err(CallbackError::Empty));
    }
}

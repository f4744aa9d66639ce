//! OAuth 2.0 for X: the Authorization Code flow with PKCE (`loudhailer login x`), and refreshing
//! the 2-hour access tokens with single-use refresh tokens, each new pair written to the state
//! store (flushed) before it is used.
//!
//! X's endpoints (docs.x.com, fundamentals/authentication/oauth-2-0/authorization-code): the
//! browser goes to `https://x.com/i/oauth2/authorize`; codes and refresh tokens are exchanged at
//! `POST /2/oauth2/token` (form-encoded; a confidential client adds HTTP Basic auth with its
//! client id and secret, a public client sends `client_id` in the form).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::header::HeaderValue;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use super::super::http::Http;
use super::super::PlatformError;
use crate::secret::Secret;
use crate::sessions::Sessions;

/// What loudhailer asks for: read and write posts, read the account, and a refresh token.
pub const SCOPES: &str = "tweet.read tweet.write users.read offline.access";

/// The marker of X tokens in an account's stored session.
const KIND: &str = "x-oauth2";

/// An access token and what comes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access: Secret,
    /// Single-use: the next refresh returns a new one and the old one stops working.
    pub refresh: Option<Secret>,
    pub expires_at: Option<DateTime<Utc>>,
    pub scope: Option<String>,
}

impl Tokens {
    /// Whether the access token is expired or about to be (within a minute).
    pub fn stale(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|t| crate::checked::saturating_add(t, chrono::Duration::seconds(-60)) <= now)
    }

    fn to_session(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": KIND,
            "access_token": self.access.expose(),
            "refresh_token": self.refresh.as_ref().map(Secret::expose),
            "expires_at": self.expires_at.map(|t| t.to_rfc3339()),
            "scope": self.scope,
        })
    }

    fn from_session(v: &serde_json::Value) -> Option<Tokens> {
        if v.get("kind")?.as_str()? != KIND {
            return None;
        }
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        Some(Tokens {
            access: Secret::new(text("access_token")?),
            refresh: text("refresh_token").map(Secret::new),
            expires_at: text("expires_at").and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.to_utc()),
            scope: text("scope"),
        })
    }
}

/// The tokens stored for `account`, if `loudhailer login x` put some there.
pub fn load(sessions: &dyn Sessions, account: &str) -> Result<Option<Tokens>, String> {
    Ok(sessions.load(account)?.as_ref().and_then(Tokens::from_session))
}

/// Stores `tokens` for `account` and flushes: the one copy of a fresh refresh token must be on
/// disk before anything uses it.
pub fn save(sessions: &dyn Sessions, account: &str, tokens: &Tokens) -> Result<(), String> {
    sessions.save(account, Some(tokens.to_session()))
}

/// The values of one PKCE authorization: the verifier stays here, its challenge goes out.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
    pub state: String,
}

/// A fresh verifier (64 unreserved characters), its S256 challenge, and a state value.
pub fn pkce() -> Pkce {
    let verifier = random_text(64);
    Pkce { challenge: challenge(&verifier), state: random_text(32), verifier }
}

/// BASE64URL(SHA256(verifier)), without padding (RFC 7636 §4.2).
pub fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn random_text(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    let mut rng = rand::rng();
    (0..len).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect()
}

/// Where the person signs in: x.com's authorize page for the real API, the same server
/// otherwise (a test server).
pub fn authorize_url(server: &Url, client_id: &str, redirect_uri: &Url, pkce: &Pkce) -> Url {
    let base = if server.host_str() == Some("api.x.com") {
        Url::parse("https://x.com/i/oauth2/authorize").expect("static URL")
    } else {
        server.join("/i/oauth2/authorize").unwrap_or_else(|_| server.clone())
    };
    let mut url = base;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri.as_str())
        .append_pair("scope", SCOPES)
        .append_pair("state", &pkce.state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    url
}

/// Why the pasted answer cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectError {
    #[error("nothing was pasted")]
    Empty,
    #[error("X did not grant access: {0}")]
    Denied(String),
    #[error("the address has no code in it")]
    NoCode,
    #[error("the address belongs to another sign-in (its state does not match); start `loudhailer login x` again")]
    State,
}

/// The authorization code from what the person pasted: the whole redirect address, or the code.
pub fn code_from(input: &str, state: &str) -> Result<String, RedirectError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(RedirectError::Empty);
    }
    let Ok(url) = Url::parse(input) else {
        return Ok(input.to_string());
    };
    let get = |k: &str| url.query_pairs().find(|(n, _)| n == k).map(|(_, v)| v.into_owned());
    if let Some(error) = get("error") {
        return Err(RedirectError::Denied(get("error_description").unwrap_or(error)));
    }
    if get("state").as_deref() != Some(state) {
        return Err(RedirectError::State);
    }
    get("code").filter(|c| !c.is_empty()).ok_or(RedirectError::NoCode)
}

/// The client: its id, and its secret when it is a confidential client.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    pub id: String,
    pub secret: Option<Secret>,
}

/// Where tokens are had, and as whom.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The API server; the token endpoint is its `/2/oauth2/token`.
    pub server: Url,
    pub client: ClientAuth,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
}

/// Exchanges an authorization code for tokens.
pub async fn exchange_code(
    http: &Http,
    endpoint: &Endpoint,
    redirect_uri: &Url,
    code: &str,
    verifier: &str,
    now: DateTime<Utc>,
) -> Result<Tokens, PlatformError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier),
    ];
    token_request(http, endpoint, &form, now).await
}

/// Trades the refresh token for a new pair. The old refresh token stops working at once.
pub async fn refresh(
    http: &Http,
    endpoint: &Endpoint,
    refresh_token: &Secret,
    now: DateTime<Utc>,
) -> Result<Tokens, PlatformError> {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose())];
    token_request(http, endpoint, &form, now).await
}

async fn token_request(
    http: &Http,
    endpoint: &Endpoint,
    form: &[(&str, &str)],
    now: DateTime<Utc>,
) -> Result<Tokens, PlatformError> {
    let (server, client) = (&endpoint.server, &endpoint.client);
    let url = server.join("/2/oauth2/token").unwrap_or_else(|_| server.clone());
    let mut fields: Vec<(&str, &str)> = form.to_vec();
    fields.push(("client_id", &client.id));
    let mut request = http.client().post(url).form(&fields);
    if let Some(secret) = &client.secret {
        let mut basic =
            HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(format!("{}:{}", client.id, secret.expose()))))
                .map_err(|_| PlatformError::Internal { message: "the client id cannot go in a header".into() })?;
        basic.set_sensitive(true);
        request = request.header("Authorization", basic);
    }
    let reply = http.send_raw(request).await?;
    if !reply.status.is_success() {
        let status = reply.status.as_u16();
        let message = reply.message();
        return Err(match status {
            400 | 401 | 403 => PlatformError::Auth {
                status,
                message: format!(
                    "X refused the OAuth 2.0 token request ({message}); sign in again with `loudhailer login x`"
                ),
            },
            _ => http.classify(&reply),
        });
    }
    let answer: TokenAnswer = reply.json()?;
    Ok(Tokens {
        access: Secret::new(answer.access_token),
        refresh: answer.refresh_token.map(Secret::new),
        // A server's word, so checked: a huge `expires_in` is capped at a year (the token is
        // refreshed when X refuses it sooner), a negative one reads as expired.
        expires_at: answer
            .expires_in
            .map(|s| crate::checked::seconds_from(now, s as f64, crate::checked::MAX_TOKEN_LIFE).0),
        scope: answer.scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s() {
        // RFC 7636 Appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let p = pkce();
        assert_eq!(p.verifier.len(), 64);
        assert_eq!(challenge(&p.verifier), p.challenge);
        assert_ne!(pkce().state, p.state);
    }

    #[test]
    fn the_authorize_address() {
        let p = Pkce { verifier: "v".into(), challenge: "c".into(), state: "s".into() };
        let redirect = Url::parse("http://127.0.0.1:8765/callback").unwrap();
        let real = authorize_url(&Url::parse("https://api.x.com").unwrap(), "cid", &redirect, &p);
        assert_eq!(
            real.as_str(),
            "https://x.com/i/oauth2/authorize?response_type=code&client_id=cid&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&scope=tweet.read+tweet.write+users.read+offline.access&state=s&code_challenge=c&code_challenge_method=S256"
        );
        let local = authorize_url(&Url::parse("http://127.0.0.1:9/").unwrap(), "cid", &redirect, &p);
        assert!(local.as_str().starts_with("http://127.0.0.1:9/i/oauth2/authorize?"), "{local}");
    }

    #[test]
    fn what_the_person_pastes() {
        let cases: &[(&str, Result<&str, RedirectError>)] = &[
            ("http://127.0.0.1:8765/callback?state=s&code=abc", Ok("abc")),
            ("  abc \n", Ok("abc")),
            ("", Err(RedirectError::Empty)),
            ("http://127.0.0.1:8765/callback?state=other&code=abc", Err(RedirectError::State)),
            ("http://127.0.0.1:8765/callback?state=s", Err(RedirectError::NoCode)),
            (
                "http://127.0.0.1:8765/callback?error=access_denied&state=s",
                Err(RedirectError::Denied("access_denied".into())),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(code_from(input, "s"), want.clone().map(str::to_string), "{input:?}");
        }
    }

    #[test]
    fn tokens_round_trip_through_the_session() {
        let t = Tokens {
            access: Secret::new("a"),
            refresh: Some(Secret::new("r")),
            expires_at: Some(DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z").unwrap().to_utc()),
            scope: Some(SCOPES.into()),
        };
        assert_eq!(Tokens::from_session(&t.to_session()), Some(t.clone()));
        assert_eq!(Tokens::from_session(&serde_json::json!({"accessJwt": "x"})), None);
        let noon = t.expires_at.unwrap();
        assert!(!t.stale(noon - chrono::Duration::minutes(5)));
        assert!(t.stale(noon - chrono::Duration::seconds(30)));
    }
}

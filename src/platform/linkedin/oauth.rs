//! LinkedIn's three-legged OAuth 2.0 (`loudhailer login linkedin`), and refreshing access tokens
//! with programmatic refresh tokens where the app has them (NOTES.md §7).
//!
//! The browser goes to `https://www.linkedin.com/oauth/v2/authorization` (§7a); codes and refresh
//! tokens are exchanged at `POST /oauth/v2/accessToken`, form-encoded, with the client id and
//! secret in the form (§7b, §7c). Access tokens last 60 days; refresh tokens (approved partners
//! only) 365 days from the first authorisation, not extended by refreshing (L-REFRESH).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::super::http::Http;
use super::super::tokens::Tokens;
use super::super::PlatformError;
use crate::secret::Secret;

/// The marker of LinkedIn tokens in an account's session slot.
pub const KIND: &str = "linkedin-oauth2";

/// What a member account asks for: its id (OpenID Connect) and posting as itself.
pub const MEMBER_SCOPES: &str = "openid profile w_member_social";
/// What an organisation account asks for: the member's id, and posting and reading as the page.
pub const ORGANIZATION_SCOPES: &str = "openid profile w_organization_social r_organization_social";

/// Where people sign in: www.linkedin.com for the real API, the same server otherwise (a test
/// server serves both).
pub fn oauth_base(server: &Url) -> Url {
    if server.host_str() == Some("api.linkedin.com") {
        Url::parse("https://www.linkedin.com/").expect("static URL")
    } else {
        server.clone()
    }
}

/// The authorization page's address (§7a): scopes space-separated.
pub fn authorize_url(server: &Url, client_id: &str, redirect_uri: &Url, scopes: &str, state: &str) -> Url {
    let mut url = oauth_base(server).join("/oauth/v2/authorization").unwrap_or_else(|_| server.clone());
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri.as_str())
        .append_pair("scope", scopes)
        .append_pair("state", state);
    url
}

/// The app: its id and secret.
#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub secret: Secret,
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Option<i64>,
    #[serde(default)]
    scope: Option<String>,
}

/// Exchanges an authorization code for tokens (§7b).
pub async fn exchange_code(
    http: &Http,
    server: &Url,
    app: &App,
    redirect_uri: &Url,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Tokens, PlatformError> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", app.id.as_str()),
        ("client_secret", app.secret.expose()),
        ("redirect_uri", redirect_uri.as_str()),
    ];
    token_request(http, server, &form, now, None).await
}

/// A new access token for the refresh token (§7c); the refresh token stays what it was.
pub async fn refresh(
    http: &Http,
    server: &Url,
    app: &App,
    tokens: &Tokens,
    now: DateTime<Utc>,
) -> Result<Tokens, PlatformError> {
    let Some(refresh) = &tokens.refresh else {
        return Err(PlatformError::Internal { message: "no refresh token".into() });
    };
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.expose()),
        ("client_id", app.id.as_str()),
        ("client_secret", app.secret.expose()),
    ];
    token_request(http, server, &form, now, Some(tokens)).await
}

async fn token_request(
    http: &Http,
    server: &Url,
    form: &[(&str, &str)],
    now: DateTime<Utc>,
    before: Option<&Tokens>,
) -> Result<Tokens, PlatformError> {
    let url = oauth_base(server).join("/oauth/v2/accessToken").unwrap_or_else(|_| server.clone());
    let reply = http.send_raw(http.client().post(url).form(form)).await?;
    if !reply.status.is_success() {
        let status = reply.status.as_u16();
        return Err(match status {
            400 | 401 | 403 => PlatformError::Auth {
                status,
                message: format!(
                    "LinkedIn refused the token request ({}); sign in again with `loudhailer login linkedin`",
                    reply.message()
                ),
            },
            _ => http.classify(&reply),
        });
    }
    let answer: Answer = reply.json()?;
    // A server's word, so checked: a huge lifetime is capped, a negative one reads as expired.
    let at = |secs: i64| crate::checked::seconds_from(now, secs as f64, crate::checked::MAX_TOKEN_LIFE).0;
    let refresh = answer.refresh_token.map(Secret::new).or_else(|| before.and_then(|b| b.refresh.clone()));
    Ok(Tokens {
        access: Secret::new(answer.access_token),
        refresh,
        obtained_at: now,
        expires_at: answer.expires_in.map(at),
        refresh_expires_at: answer
            .refresh_token_expires_in
            .map(at)
            .or_else(|| before.and_then(|b| b.refresh_expires_at)),
        scope: answer.scope.or_else(|| before.and_then(|b| b.scope.clone())),
        seed: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_address() {
        let redirect = Url::parse("http://127.0.0.1:8765/callback").unwrap();
        let real =
            authorize_url(&Url::parse("https://api.linkedin.com").unwrap(), "cid", &redirect, MEMBER_SCOPES, "s");
        assert_eq!(
            real.as_str(),
            "https://www.linkedin.com/oauth/v2/authorization?response_type=code&client_id=cid&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&scope=openid+profile+w_member_social&state=s"
        );
        let local = authorize_url(&Url::parse("http://127.0.0.1:9/").unwrap(), "cid", &redirect, MEMBER_SCOPES, "s");
        assert!(local.as_str().starts_with("http://127.0.0.1:9/oauth/v2/authorization?"), "{local}");
    }
}

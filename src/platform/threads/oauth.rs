//! Threads tokens: `loudhailer login threads` (the authorization window, the code for a
//! short-lived token, that for a long-lived one) and the refresh of a long-lived token ("Get
//! Access Tokens", developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions;
//! "Long-Lived Tokens", …/threads/get-started/long-lived-tokens; the collection's Authorization
//! requests). Long-lived tokens last 60 days and can be refreshed once a day old.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::super::http::Http;
use super::super::meta::GraphError;
use super::super::tokens::Tokens;
use super::super::PlatformError;
use crate::secret::Secret;

/// The marker of Threads tokens in an account's session slot.
pub const KIND: &str = "threads-oauth2";

/// What loudhailer asks for: posting, replies (making and reading them), insights, deleting its
/// reposts ("Get Started", Authorization).
pub const SCOPES: &str =
    "threads_basic,threads_content_publish,threads_manage_replies,threads_read_replies,threads_manage_insights,threads_delete";

/// The authorization window: threads.net for the real API, the same server otherwise.
pub fn authorize_url(server: &Url, client_id: &str, redirect_uri: &Url, state: &str) -> Url {
    let base = if server.host_str() == Some("graph.threads.net") {
        Url::parse("https://threads.net/").expect("static URL")
    } else {
        server.clone()
    };
    let mut url = base.join("/oauth/authorize").unwrap_or(base);
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri.as_str())
        .append_pair("scope", SCOPES)
        .append_pair("response_type", "code")
        .append_pair("state", state);
    url
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

fn refused(reply: &super::super::http::Reply, what: &str) -> PlatformError {
    let words = GraphError::parse(&reply.body).map(|e| e.words()).unwrap_or_else(|| reply.message());
    PlatformError::Auth { status: reply.status.as_u16(), message: format!("Threads refused {what}: {words}") }
}

fn tokens(answer: Answer, now: DateTime<Utc>) -> Tokens {
    let at = |secs: i64| crate::checked::seconds_from(now, secs as f64, crate::checked::MAX_TOKEN_LIFE).0;
    Tokens {
        access: Secret::new(answer.access_token),
        refresh: None,
        obtained_at: now,
        expires_at: answer.expires_in.map(at),
        refresh_expires_at: None,
        scope: Some(SCOPES.into()),
        seed: None,
    }
}

/// The code for a short-lived token (`POST /oauth/access_token`), then that for a long-lived
/// one (`GET /access_token?grant_type=th_exchange_token`).
pub async fn exchange_code(
    http: &Http,
    server: &Url,
    client_id: &str,
    client_secret: &Secret,
    redirect_uri: &Url,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Tokens, PlatformError> {
    let url = server.join("/oauth/access_token").unwrap_or_else(|_| server.clone());
    let form = [
        ("client_id", client_id),
        ("client_secret", client_secret.expose()),
        ("code", code),
        ("grant_type", "authorization_code"),
        ("redirect_uri", redirect_uri.as_str()),
    ];
    let reply = http.send_raw(http.client().post(url).form(&form)).await?;
    if !reply.status.is_success() {
        return Err(refused(&reply, "the sign-in code"));
    }
    let short: Answer = reply.json()?;
    // The token goes as the `access_token` parameter, as the collection's requests send it (the
    // query is never logged).
    let mut url = server.join("/access_token").unwrap_or_else(|_| server.clone());
    url.query_pairs_mut()
        .append_pair("grant_type", "th_exchange_token")
        .append_pair("client_secret", client_secret.expose())
        .append_pair("access_token", &short.access_token);
    let reply = http.send_raw(http.client().get(url)).await?;
    if !reply.status.is_success() {
        return Err(refused(&reply, "the long-lived token exchange"));
    }
    Ok(tokens(reply.json()?, now))
}

/// A new long-lived token for one at least a day old and not expired
/// (`GET /refresh_access_token?grant_type=th_refresh_token`).
pub async fn refresh(http: &Http, server: &Url, current: &Tokens, now: DateTime<Utc>) -> Result<Tokens, PlatformError> {
    let mut url = server.join("/refresh_access_token").unwrap_or_else(|_| server.clone());
    url.query_pairs_mut()
        .append_pair("grant_type", "th_refresh_token")
        .append_pair("access_token", current.access.expose());
    let reply = http.send_raw(http.client().get(url)).await?;
    if !reply.status.is_success() {
        return Err(refused(&reply, "to refresh the token"));
    }
    let mut fresh = tokens(reply.json()?, now);
    fresh.seed = current.seed.clone();
    Ok(fresh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_windows_address() {
        let redirect = Url::parse("http://127.0.0.1:8765/callback").unwrap();
        let real = authorize_url(&Url::parse("https://graph.threads.net").unwrap(), "11", &redirect, "s");
        assert!(real.as_str().starts_with("https://threads.net/oauth/authorize?client_id=11&redirect_uri="), "{real}");
        assert!(real.as_str().contains("scope=threads_basic%2Cthreads_content_publish"), "{real}");
        let local = authorize_url(&Url::parse("http://127.0.0.1:9/").unwrap(), "11", &redirect, "s");
        assert!(local.as_str().starts_with("http://127.0.0.1:9/oauth/authorize?"), "{local}");
    }
}

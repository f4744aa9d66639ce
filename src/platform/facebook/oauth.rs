//! `loudhailer login facebook`: Facebook Login in a browser for a User token, exchanged for a
//! long-lived one, then the Page's own token from `/me/accounts`, which is what posts ("Manually
//! Build a Login Flow", developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow;
//! "Long-Lived Access Tokens", …/guides/access-tokens/get-long-lived; the Pages API "Getting
//! started"). A Page token got from a long-lived User token does not expire; Facebook may still
//! end it (a password change, the app's access removed), and then the account pauses and says to
//! sign in again.

use chrono::{DateTime, Utc};
use reqwest::header::AUTHORIZATION;
use serde::Deserialize;
use url::Url;

use super::super::http::Http;
use super::super::meta::GraphError;
use super::super::tokens::Tokens;
use super::super::PlatformError;
use crate::secret::Secret;

/// The marker of a Page token in an account's session slot.
pub const KIND: &str = "facebook-page";

/// What loudhailer asks for (the Pages API "Posts" guide, "Before you start"): listing the
/// person's Pages, posting and reading as a Page, and commenting as it (points under a title).
pub const SCOPES: &str = "pages_show_list,pages_manage_posts,pages_read_engagement,pages_manage_engagement";

/// Where the login dialog is: www.facebook.com for the real Graph API, the same server otherwise.
pub fn dialog_url(server: &Url, version: &str, client_id: &str, redirect_uri: &Url, scopes: &str, state: &str) -> Url {
    let base = if server.host_str() == Some("graph.facebook.com") {
        Url::parse("https://www.facebook.com/").expect("static URL")
    } else {
        server.clone()
    };
    let mut url = base.join(&format!("/{version}/dialog/oauth")).unwrap_or(base);
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri.as_str())
        .append_pair("state", state)
        .append_pair("response_type", "code")
        .append_pair("scope", scopes);
    url
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
}

fn refused(reply: &super::super::http::Reply, what: &str) -> PlatformError {
    let words = GraphError::parse(&reply.body).map(|e| e.words()).unwrap_or_else(|| reply.message());
    PlatformError::Auth { status: reply.status.as_u16(), message: format!("Facebook refused {what}: {words}") }
}

async fn token_get(
    http: &Http,
    server: &Url,
    version: &str,
    query: &[(&str, &str)],
    what: &str,
) -> Result<TokenAnswer, PlatformError> {
    let mut url = server.join(&format!("/{version}/oauth/access_token")).unwrap_or_else(|_| server.clone());
    url.query_pairs_mut().extend_pairs(query);
    let reply = http.send_raw(http.client().get(url)).await?;
    if !reply.status.is_success() {
        return Err(refused(&reply, what));
    }
    reply.json()
}

/// The code for a (short-lived) User token, then that for a long-lived one.
pub async fn user_token(
    http: &Http,
    server: &Url,
    version: &str,
    client_id: &str,
    client_secret: &Secret,
    redirect_uri: &Url,
    code: &str,
) -> Result<Secret, PlatformError> {
    let short = token_get(
        http,
        server,
        version,
        &[
            ("client_id", client_id),
            ("redirect_uri", redirect_uri.as_str()),
            ("client_secret", client_secret.expose()),
            ("code", code),
        ],
        "the sign-in code",
    )
    .await?;
    let long = token_get(
        http,
        server,
        version,
        &[
            ("grant_type", "fb_exchange_token"),
            ("client_id", client_id),
            ("client_secret", client_secret.expose()),
            ("fb_exchange_token", &short.access_token),
        ],
        "the long-lived token exchange",
    )
    .await?;
    Ok(Secret::new(long.access_token))
}

#[derive(Deserialize)]
struct Accounts {
    #[serde(default)]
    data: Vec<PageEntry>,
}

#[derive(Deserialize)]
struct PageEntry {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    tasks: Vec<String>,
}

/// The Page's token from `GET /me/accounts` (User.json `GET accounts`), and its name.
pub async fn page_token(
    http: &Http,
    server: &Url,
    version: &str,
    user_token: &Secret,
    page: &str,
    now: DateTime<Utc>,
) -> Result<(Tokens, String), PlatformError> {
    let mut url = server.join(&format!("/{version}/me/accounts")).unwrap_or_else(|_| server.clone());
    url.query_pairs_mut().append_pair("fields", "id,name,access_token,tasks");
    let reply = http.send_raw(http.client().get(url).header(AUTHORIZATION, Http::bearer(user_token))).await?;
    if !reply.status.is_success() {
        return Err(refused(&reply, "the list of Pages"));
    }
    let accounts: Accounts = reply.json()?;
    let names: Vec<String> =
        accounts.data.iter().map(|p| format!("{} ({})", p.name.as_deref().unwrap_or("?"), p.id)).collect();
    let Some(entry) = accounts.data.into_iter().find(|p| p.id == page) else {
        return Err(PlatformError::NoCredentials(format!(
            "the person who signed in manages no Page {page}; their Pages: {}",
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        )));
    };
    if !entry.tasks.is_empty() && !entry.tasks.iter().any(|t| t == "CREATE_CONTENT") {
        return Err(PlatformError::NoCredentials(format!(
            "the person who signed in cannot post on the Page {page} (no CREATE_CONTENT task)"
        )));
    }
    let access = entry.access_token.ok_or_else(|| {
        PlatformError::NoCredentials(format!(
            "Facebook gave no token for the Page {page} (was pages_show_list allowed?)"
        ))
    })?;
    let tokens = Tokens {
        access: Secret::new(access),
        refresh: None,
        obtained_at: now,
        // From a long-lived User token, a Page token has no expiry ("Long-Lived Access Tokens").
        expires_at: None,
        refresh_expires_at: None,
        scope: Some(SCOPES.into()),
        seed: None,
    };
    Ok((tokens, entry.name.unwrap_or_else(|| page.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_dialogs_address() {
        let redirect = Url::parse("http://127.0.0.1:8765/callback").unwrap();
        let real =
            dialog_url(&Url::parse("https://graph.facebook.com").unwrap(), "v25.0", "123", &redirect, SCOPES, "s");
        assert_eq!(
            real.as_str(),
            "https://www.facebook.com/v25.0/dialog/oauth?client_id=123&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&state=s&response_type=code&scope=pages_show_list%2Cpages_manage_posts%2Cpages_read_engagement%2Cpages_manage_engagement"
        );
        let local = dialog_url(&Url::parse("http://127.0.0.1:9/").unwrap(), "v25.0", "123", &redirect, SCOPES, "s");
        assert!(local.as_str().starts_with("http://127.0.0.1:9/v25.0/dialog/oauth?"), "{local}");
    }
}

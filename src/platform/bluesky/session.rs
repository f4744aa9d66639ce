//! Bluesky sessions: log in with the app password once, keep the access and refresh tokens in
//! the state store so a restart does not log in again, refresh an expired access token, and
//! send every authenticated request to the PDS the account's DID document names.
//!
//! `createSession` is limited to 30 per 5 minutes and 300 per day per account, so logging in
//! is the last resort: a stored session is used first, then refreshed (`refreshSession`), and
//! only a refresh token the server no longer accepts leads to a new login (charged to the
//! login budget in `limit`).

use reqwest::RequestBuilder;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::sync::Mutex;
use url::Url;

use super::super::http::{classify, Http, Reply};
use super::super::PlatformError;
use crate::limit::Charge;
use crate::secret::Secret;
use crate::sessions::Sessions;
use std::sync::Arc;

/// A logged-in session, as kept in the state store (`AccountState.session`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// The config's `identifier` the session was made for (a changed config logs in again).
    pub identifier: String,
    pub did: String,
    pub handle: String,
    pub access_jwt: String,
    pub refresh_jwt: String,
    /// The PDS from the DID document (`#atproto_pds`); `None`: the configured server.
    #[serde(default)]
    pub pds: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("did", &self.did)
            .field("handle", &self.handle)
            .field("pds", &self.pds)
            .finish_non_exhaustive()
    }
}

/// What `createSession` and `refreshSession` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    did: String,
    handle: String,
    access_jwt: String,
    refresh_jwt: String,
    #[serde(default)]
    did_doc: Option<Value>,
    #[serde(default)]
    active: Option<bool>,
    #[serde(default)]
    status: Option<String>,
}

/// The `#atproto_pds` service endpoint of a DID document, if it is an http(s) URL.
pub fn pds_of(did_doc: &Value) -> Option<String> {
    let services = did_doc.get("service")?.as_array()?;
    let pds = services.iter().find(|s| {
        s.get("id").and_then(Value::as_str).is_some_and(|id| id.ends_with("#atproto_pds"))
            && s.get("type").and_then(Value::as_str) == Some("AtprotoPersonalDataServer")
    })?;
    let endpoint = pds.get("serviceEndpoint")?.as_str()?;
    let url = Url::parse(endpoint).ok()?;
    matches!(url.scheme(), "https" | "http").then(|| endpoint.trim_end_matches('/').to_string())
}

/// The XRPC error name of an answer (`{"error": "ExpiredToken", …}`).
pub fn xrpc_error(reply: &Reply) -> Option<String> {
    serde_json::from_slice::<Value>(&reply.body).ok()?.get("error")?.as_str().map(str::to_string)
}

/// Whether the answer says the access token must be refreshed.
fn token_refused(reply: &Reply) -> bool {
    matches!(reply.status.as_u16(), 400 | 401)
        && matches!(xrpc_error(reply).as_deref(), Some("ExpiredToken" | "InvalidToken"))
}

/// `{base}/xrpc/{nsid}`.
pub fn xrpc(base: &Url, nsid: &str) -> String {
    format!("{}/xrpc/{nsid}", base.as_str().trim_end_matches('/'))
}

/// One account's session: where it logs in, and the tokens it holds.
pub struct Auth {
    account: String,
    identifier: String,
    /// The configured server: where to log in (the PDS, or an entryway such as bsky.social).
    entry: Url,
    password: Secret,
    http: Http,
    sessions: Arc<dyn Sessions>,
    /// The session; its lock also makes logins and refreshes happen one at a time.
    current: Mutex<Option<Session>>,
}

impl Auth {
    /// Picks up the session stored for `account`, if it was made for `identifier`.
    pub fn new(
        account: &str,
        identifier: &str,
        entry: Url,
        password: Secret,
        http: Http,
        sessions: Arc<dyn Sessions>,
    ) -> Auth {
        let stored = match sessions.load(account) {
            Ok(session) => session.and_then(|v| serde_json::from_value::<Session>(v).ok()),
            Err(e) => {
                tracing::warn!(account, error = %e, "cannot read the stored Bluesky session; logging in");
                None
            }
        };
        let stored = stored.filter(|s| s.identifier.eq_ignore_ascii_case(identifier));
        Auth {
            account: account.to_string(),
            identifier: identifier.to_string(),
            entry,
            password,
            http,
            sessions,
            current: Mutex::new(stored),
        }
    }

    /// The base URL requests of `session` go to.
    pub fn base(&self, session: &Session) -> Url {
        session.pds.as_deref().and_then(|p| Url::parse(p).ok()).unwrap_or_else(|| self.entry.clone())
    }

    /// The session now, logging in if there is none.
    pub async fn session(&self) -> Result<Session, PlatformError> {
        let mut current = self.current.lock().await;
        if let Some(s) = current.as_ref() {
            return Ok(s.clone());
        }
        let fresh = self.login().await?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// Sends the request `build` makes (for the session's PDS) with the access token; an
    /// expired token is refreshed and the request sent once more. Answers of any status come
    /// back with the session that got them; transport failures and 429s are errors.
    pub async fn send(
        &self,
        build: impl Fn(&Url, &Session) -> RequestBuilder,
    ) -> Result<(Reply, Session), PlatformError> {
        let session = self.session().await?;
        let reply = self.send_as(&session, &build).await?;
        if !token_refused(&reply) {
            return Ok((reply, session));
        }
        tracing::debug!(account = %self.account, "access token refused ({}); refreshing", reply.message());
        let session = self.refresh(&session).await?;
        let reply = self.send_as(&session, &build).await?;
        Ok((reply, session))
    }

    async fn send_as(
        &self,
        session: &Session,
        build: &impl Fn(&Url, &Session) -> RequestBuilder,
    ) -> Result<Reply, PlatformError> {
        let token = Secret::new(session.access_jwt.clone());
        let request = build(&self.base(session), session).header(reqwest::header::AUTHORIZATION, Http::bearer(&token));
        self.http.send_raw(request).await
    }

    /// A new access token for `stale` (unless another request already got one), or a new
    /// login when the refresh token is no longer accepted.
    async fn refresh(&self, stale: &Session) -> Result<Session, PlatformError> {
        let mut current = self.current.lock().await;
        if let Some(s) = current.as_ref().filter(|s| s.access_jwt != stale.access_jwt) {
            return Ok(s.clone());
        }
        let url = xrpc(&self.base(stale), "com.atproto.server.refreshSession");
        let token = Secret::new(stale.refresh_jwt.clone());
        let request = self.http.client().post(url).header(reqwest::header::AUTHORIZATION, Http::bearer(&token));
        let reply = self.http.send_raw(request).await?;
        let fresh = if reply.status.is_success() {
            tracing::info!(account = %self.account, "Bluesky access token refreshed");
            let mut fresh = self.adopt(reply.json()?);
            fresh.pds = fresh.pds.or_else(|| stale.pds.clone());
            fresh
        } else if matches!(reply.status.as_u16(), 400 | 401) {
            tracing::warn!(account = %self.account, answer = %reply.message(), "the refresh token was refused; logging in again");
            self.login().await?
        } else {
            return Err(classify(reply.status, reply.message()));
        };
        self.save(&fresh);
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// `createSession` with the app password, within the login budget.
    async fn login(&self) -> Result<Session, PlatformError> {
        self.http.limiter().acquire(Charge::Login).await;
        tracing::info!(account = %self.account, server = %self.entry, "logging in to Bluesky");
        let body = json!({ "identifier": self.identifier, "password": self.password.expose() });
        let request = self.http.client().post(xrpc(&self.entry, "com.atproto.server.createSession")).json(&body);
        let reply = self.http.send_raw(request).await?;
        if !reply.status.is_success() {
            let message = reply.message();
            let code = reply.status.as_u16();
            return Err(match xrpc_error(&reply).as_deref() {
                Some("AuthFactorTokenRequired") => PlatformError::Auth {
                    status: code,
                    message: format!("{message} (use an app password, which needs no second factor)"),
                },
                Some("AuthenticationRequired") | Some("AccountTakedown") => {
                    PlatformError::Auth { status: code, message }
                }
                _ => classify(reply.status, message),
            });
        }
        let answer: Answer = reply.json()?;
        if answer.active == Some(false) {
            let status = answer.status.clone().unwrap_or_else(|| "inactive".into());
            tracing::warn!(account = %self.account, status = %status, "the Bluesky account is not active");
        }
        let session = self.adopt(answer);
        self.save(&session);
        Ok(session)
    }

    fn adopt(&self, answer: Answer) -> Session {
        Session {
            identifier: self.identifier.clone(),
            pds: answer.did_doc.as_ref().and_then(pds_of),
            did: answer.did,
            handle: answer.handle,
            access_jwt: answer.access_jwt,
            refresh_jwt: answer.refresh_jwt,
        }
    }

    /// Keeps the session in the store, durably, so the next start does not log in.
    fn save(&self, session: &Session) {
        let value = serde_json::to_value(session).ok();
        if let Err(e) = self.sessions.save(&self.account, value) {
            tracing::warn!(account = %self.account, error = %e, "cannot store the Bluesky session; the next start logs in again");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pds_comes_from_the_did_document() {
        let doc = json!({
            "id": "did:plc:abc",
            "service": [
                {"id": "#atproto_labeler", "type": "AtprotoLabeler", "serviceEndpoint": "https://labeler.example"},
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://morel.us-east.host.bsky.network/"},
            ]
        });
        assert_eq!(pds_of(&doc).as_deref(), Some("https://morel.us-east.host.bsky.network"));
        let full_id = json!({"service": [{"id": "did:plc:abc#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "http://localhost:2583"}]});
        assert_eq!(pds_of(&full_id).as_deref(), Some("http://localhost:2583"));
        for bad in [
            json!({}),
            json!({"service": []}),
            json!({"service": [{"id": "#atproto_pds", "type": "Other", "serviceEndpoint": "https://x.example"}]}),
            json!({"service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "ftp://x.example"}]}),
            json!({"service": [{"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": 7}]}),
        ] {
            assert_eq!(pds_of(&bad), None, "{bad}");
        }
    }

    #[test]
    fn sessions_never_show_their_tokens() {
        let s = Session {
            identifier: "ada.test".into(),
            did: "did:plc:abc".into(),
            handle: "ada.test".into(),
            access_jwt: "eyJaccess".into(),
            refresh_jwt: "eyJrefresh".into(),
            pds: None,
        };
        let shown = format!("{s:?}");
        assert!(shown.contains("did:plc:abc") && !shown.contains("eyJ"), "{shown}");
        let stored = serde_json::to_value(&s).unwrap();
        assert_eq!(stored["accessJwt"], "eyJaccess");
        assert_eq!(serde_json::from_value::<Session>(stored).unwrap(), s);
    }

    #[test]
    fn urls_for_procedures() {
        let base = Url::parse("http://localhost:2583/").unwrap();
        assert_eq!(
            xrpc(&base, "com.atproto.server.getSession"),
            "http://localhost:2583/xrpc/com.atproto.server.getSession"
        );
    }
}

//! LinkedIn's REST API: posts and reshares (`POST /rest/posts`), a session's points as comments
//! under its title post (`socialActions/{post}/comments`) or as posts of their own, counts, and
//! OAuth 2.0 tokens kept and refreshed. Every fact comes from `../shared/specs/linkedin/NOTES.md`
//! (section numbers below), which cites LinkedIn's pages.
//!
//! Exactly once without an idempotency key (LinkedIn has none, NOTES §1): LinkedIn refuses the
//! same commentary from the same author again with 422 `DUPLICATE_POST`, naming the post it
//! already has ("Content is a duplicate of urn:li:share:…"). So a post or reshare that may have
//! reached LinkedIn (`resend`) is simply sent again: a 201 means the first never arrived, and a
//! duplicate answer names the post, which is recorded. No read is needed, which matters: reading
//! a member's posts needs `r_member_social`, which LinkedIn grants to approved partners only. On a
//! first attempt the same answer means the account posted that text before: the job fails with
//! LinkedIn's words. Comments have no duplicate check: a comment that may have arrived is looked
//! for among the post's comments first, which needs `r_member_social` or `r_organization_social`;
//! without it the job fails and says to look (it is never sent twice).
//!
//! - `wire`: bodies, URN encoding, error and count shapes (pure);
//! - `oauth`: the browser sign-in and the token exchanges;
//! - `daily`: what a 429 means (pure);
//! - `counts`: reading likes, comments and reshares from what the account may read.

mod counts;
pub mod daily;
pub mod oauth;
pub mod wire;

use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use url::Url;

use super::http::{Http, Reply};
use super::tokens::{Keeper, RefreshPolicy};
use super::{BoostRequest, Platform, PlatformError, PostRequest, UnboostRequest};
use crate::address::Address;
use crate::clock::Clock;
use crate::config::{Account, Points, Watch};
use crate::count::{linkedin::commentary, Counter};
use crate::follow::{Cursor, Recent};
use crate::job::RemoteRef;
use crate::metrics::{Counts, Reading};
use crate::network::Network;
use crate::secret::Credentials;
use crate::sessions::Sessions;
use oauth::App;
use wire::ErrorBody;

/// Access tokens (60 days) are refreshed in their last week, where the app has refresh tokens.
pub const REFRESH: RefreshPolicy =
    RefreshPolicy { window: chrono::Duration::days(7), min_age: chrono::Duration::zero() };

/// Where the counts of this account's posts can be read, learnt from LinkedIn's refusals.
const READ_UNTRIED: u8 = 0;
const READ_PRIMARY: u8 = 1;
const READ_METADATA: u8 = 2;
const READ_NONE: u8 = 3;

/// One LinkedIn account's client.
pub struct LinkedIn {
    account: String,
    server: Url,
    version: String,
    points: Points,
    organization: Option<String>,
    http: Http,
    keeper: Keeper,
    app: Option<App>,
    clock: Clock,
    /// The member's `urn:li:person:…`, read once.
    me: Mutex<Option<String>>,
    /// 429s in a row (see `daily`).
    strikes: AtomicU32,
    reads: AtomicU8,
}

/// What a create answered.
enum Created {
    Made(String),
    /// 422 DUPLICATE_POST naming the post LinkedIn has.
    Duplicate {
        urn: String,
        words: String,
    },
}

impl LinkedIn {
    pub fn new(
        account: &Account,
        credentials: Credentials,
        http: Http,
        sessions: Arc<dyn Sessions>,
        clock: Clock,
    ) -> Result<LinkedIn, PlatformError> {
        let Credentials::OAuth2 { token, client_secret } = credentials else {
            return Err(PlatformError::Internal {
                message: format!("account {}: the credentials loaded do not match its LinkedIn config", account.id),
            });
        };
        let app = match (&account.oauth, client_secret) {
            (Some(o), Some(secret)) => Some(App { id: o.client_id.clone(), secret }),
            _ => None,
        };
        Ok(LinkedIn {
            account: account.id.clone(),
            server: account.server.clone(),
            version: account.api_version.clone().unwrap_or_else(|| crate::config::networks::LINKEDIN_VERSION.into()),
            points: account.points,
            organization: account.organization.clone(),
            http,
            keeper: Keeper::new(&account.id, oauth::KIND, token, sessions, clock),
            app,
            clock,
            me: Mutex::new(None),
            strikes: AtomicU32::new(0),
            reads: AtomicU8::new(READ_UNTRIED),
        })
    }

    fn login_hint(&self) -> String {
        if self.app.is_some() {
            format!("run `loudhailer login linkedin --account {}`", self.account)
        } else {
            "put a new access token where the config's token_env or token_file points".to_string()
        }
    }

    /// The access token to send: refreshed first when its last week has come and the app can.
    async fn access(&self) -> Result<crate::secret::Secret, PlatformError> {
        let mut slot = self.keeper.lock().await?;
        let Some(Some(tokens)) = slot.as_ref() else {
            return Err(PlatformError::NoCredentials(format!(
                "no LinkedIn token for account {}: {}",
                self.account,
                self.login_hint()
            )));
        };
        let now = self.clock.now();
        if tokens.refresh.is_some() && tokens.refresh_due(REFRESH, now) {
            if let Some(app) = &self.app {
                match oauth::refresh(&self.http, &self.server, app, tokens, now).await {
                    Ok(fresh) => {
                        self.keeper.replace(&mut slot, fresh)?;
                        tracing::info!(account = %self.account, "LinkedIn access token refreshed before it expired, and stored");
                    }
                    // The old token still works until it expires: use it, and say so.
                    Err(e) if !tokens.expired(now) => {
                        tracing::warn!(account = %self.account, error = %e, "cannot refresh the LinkedIn token yet; the current one still works")
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        match slot.as_ref() {
            Some(Some(t)) => Ok(t.access.clone()),
            _ => Err(PlatformError::Internal { message: "the LinkedIn tokens went missing".into() }),
        }
    }

    /// After a 401: refresh once if the app can; false when it cannot.
    async fn refresh_after_refusal(&self, used: &crate::secret::Secret) -> Result<bool, PlatformError> {
        let Some(app) = &self.app else { return Ok(false) };
        let mut slot = self.keeper.lock().await?;
        let Some(Some(tokens)) = slot.as_ref() else { return Ok(false) };
        if &tokens.access != used {
            return Ok(true);
        }
        if tokens.refresh.is_none() {
            return Ok(false);
        }
        let fresh = oauth::refresh(&self.http, &self.server, app, tokens, self.clock.now()).await?;
        self.keeper.replace(&mut slot, fresh)?;
        tracing::info!(account = %self.account, "LinkedIn refused the token; refreshed and stored");
        Ok(true)
    }

    fn url(&self, path_and_query: &str) -> Result<Url, PlatformError> {
        let base = self.server.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path_and_query}"))
            .map_err(|e| PlatformError::Internal { message: format!("cannot make a LinkedIn address: {e}") })
    }

    /// One request with LinkedIn's headers (NOTES §0); a refused token is refreshed once where
    /// possible; 429s are counted (see `daily`). Non-2xx answers come back to read.
    async fn call(
        &self,
        method: Method,
        path: &str,
        restli: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, PlatformError> {
        let url = self.url(path)?;
        let mut refreshed = false;
        loop {
            let token = self.access().await?;
            let mut request =
                self.http.client().request(method.clone(), url.clone()).header(AUTHORIZATION, Http::bearer(&token));
            if path.starts_with("/rest/") {
                request =
                    request.header("LinkedIn-Version", &self.version).header("X-Restli-Protocol-Version", "2.0.0");
            }
            if let Some(m) = restli {
                request = request.header("X-RestLi-Method", m);
            }
            if let Some(b) = body {
                request = request.header(CONTENT_TYPE, "application/json").body(b.to_string());
            }
            let reply = match self.http.send_raw(request).await {
                Ok(r) => r,
                Err(PlatformError::RateLimited { until }) => return Err(self.rate_limited(until)),
                Err(e) => return Err(e),
            };
            if reply.status.is_success() {
                self.strikes.store(0, Ordering::Relaxed);
            }
            if reply.status.as_u16() == 401 && !refreshed && self.refresh_after_refusal(&token).await? {
                refreshed = true;
                continue;
            }
            return Ok(reply);
        }
    }

    /// A 429: a second in a row holds the account until midnight UTC.
    fn rate_limited(&self, until: Option<DateTime<Utc>>) -> PlatformError {
        let strikes = self.strikes.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        match daily::after_429(self.clock.now(), strikes) {
            Some((midnight, why)) => {
                tracing::warn!(account = %self.account, until = %midnight, "{why}");
                self.http.limiter().hold_until(midnight, why);
                // The account's hold is what keeps the job back; the job itself is due again
                // within `[run] max_server_wait`, as a restart honours the hold only that long.
                let cap = crate::checked::saturating_after(self.clock.now(), self.http.limiter().longest_hold());
                PlatformError::RateLimited { until: Some(midnight.min(cap)) }
            }
            None => PlatformError::RateLimited { until },
        }
    }

    /// An answer that is not a success, classified (NOTES §0, §1 errors).
    fn fail(&self, reply: &Reply) -> PlatformError {
        let e = ErrorBody::parse(&reply.body);
        let words = e.words(&reply.body);
        let status = reply.status.as_u16();
        match status {
            401 => PlatformError::Auth {
                status,
                message: format!("{words}; {}", self.login_hint()),
            },
            426 => PlatformError::Auth {
                status,
                message: format!("{words}: LinkedIn no longer serves LinkedIn-Version {}; set [linkedin] version to a current month (YYYYMM), then `loudhailer resume {}`", self.version, self.account),
            },
            _ => super::http::classify(reply.status, words),
        }
    }

    /// The member's person URN (OpenID Connect `userinfo`, NOTES §6a), read once.
    async fn me(&self) -> Result<String, PlatformError> {
        if let Some(me) = self.me.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(me);
        }
        let reply = self.call(Method::GET, "/v2/userinfo", None, None).await?;
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let v: Value = reply.json()?;
        let sub = v["sub"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| PlatformError::Retry("LinkedIn's userinfo has no sub".into()))?;
        let urn = format!("urn:li:person:{sub}");
        *self.me.lock().unwrap_or_else(|e| e.into_inner()) = Some(urn.clone());
        Ok(urn)
    }

    /// Who posts: the organisation, or the member.
    async fn author(&self) -> Result<String, PlatformError> {
        match &self.organization {
            Some(org) => Ok(org.clone()),
            None => self.me().await,
        }
    }

    /// `POST /rest/posts` (NOTES §1, §2).
    async fn create(&self, author: &str, text: &str, reshare_of: Option<&str>) -> Result<Created, PlatformError> {
        let body = wire::post_body(author, text, reshare_of);
        let reply = self.call(Method::POST, "/rest/posts", Some("CREATE"), Some(&body)).await?;
        if reply.status.is_success() {
            let urn = header(&reply, "x-restli-id").ok_or_else(|| {
                PlatformError::Retry("LinkedIn answered without the new post's URN (x-restli-id)".into())
            })?;
            return Ok(Created::Made(urn));
        }
        let e = ErrorBody::parse(&reply.body);
        if reply.status.as_u16() == 422 {
            if let Some(urn) = e.duplicate_of() {
                return Ok(Created::Duplicate { urn, words: e.words(&reply.body) });
            }
        }
        Err(self.fail(&reply))
    }

    /// A post or a reshare: sent again on a resend, LinkedIn's duplicate answer naming the one
    /// it has.
    async fn create_once(
        &self,
        author: &str,
        text: &str,
        reshare_of: Option<&str>,
        resend: bool,
    ) -> Result<String, PlatformError> {
        match self.create(author, text, reshare_of).await? {
            Created::Made(urn) => Ok(urn),
            Created::Duplicate { urn, .. } if resend => {
                tracing::info!(account = %self.account, urn = %urn, "an earlier attempt reached LinkedIn (it names the duplicate): recorded, not sent again");
                Ok(urn)
            }
            Created::Duplicate { urn, words } => Err(PlatformError::Permanent {
                status: 422,
                message: match reshare_of {
                    Some(parent) => format!(
                        "{words}: the account reshared {parent} before ({urn}); LinkedIn takes one reshare of a post"
                    ),
                    None => format!(
                        "{words}: the account posted the same text before this job was first sent ({}); reword it",
                        wire::post_url(&urn)
                    ),
                },
            }),
        }
    }

    /// A point as a comment under the thread's post (NOTES §3).
    async fn comment(&self, author: &str, post: &str, text: &str, resend: bool) -> Result<RemoteRef, PlatformError> {
        let path = format!("/rest/socialActions/{}/comments", wire::path_urn(post));
        if resend {
            if let Some(urn) = self.find_comment(&path, author, post, text).await? {
                tracing::info!(account = %self.account, urn = %urn, "an earlier attempt reached LinkedIn: its comment is recorded, not sent again");
                return Ok(RemoteRef { url: Some(wire::comment_url(post, &urn)), id: urn, uri: None, cid: None });
            }
        }
        let body = wire::comment_body(author, post, text);
        let reply = self.call(Method::POST, &path, Some("CREATE"), Some(&body)).await?;
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let from_body = || -> Option<String> {
            let v: Value = serde_json::from_slice(&reply.body).ok()?;
            v["commentUrn"].as_str().map(str::to_string)
        };
        let urn = header(&reply, "x-restli-id")
            .or_else(from_body)
            .ok_or_else(|| PlatformError::Retry("LinkedIn answered without the new comment's URN".into()))?;
        Ok(RemoteRef { url: Some(wire::comment_url(post, &urn)), id: urn, uri: None, cid: None })
    }

    /// The account's comment with this text under `post`, if LinkedIn lets it read them.
    async fn find_comment(
        &self,
        path: &str,
        author: &str,
        post: &str,
        text: &str,
    ) -> Result<Option<String>, PlatformError> {
        let reply = self.call(Method::GET, &format!("{path}?start=0&count=100"), None, None).await?;
        if reply.status.as_u16() == 403 {
            return Err(PlatformError::Permanent {
                status: 403,
                message: format!(
                    "an earlier attempt may already have reached LinkedIn, and this account cannot read the post's comments to check (that needs r_member_social, for approved partners, or r_organization_social): look under {}, and `loudhailer retry` the job if the point is not there",
                    wire::post_url(post)
                ),
            });
        }
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let page: wire::Elements<wire::CommentRead> = reply.json()?;
        Ok(page
            .elements
            .into_iter()
            .find(|c| {
                c.actor.as_deref() == Some(author) && c.message.as_ref().and_then(|m| m.text.as_deref()) == Some(text)
            })
            .and_then(|c| c.comment_urn.or(c.id)))
    }

    /// Deletes one of the account's posts or reshares (NOTES §4).
    pub async fn delete_post(&self, urn: &str) -> Result<(), PlatformError> {
        let reply =
            self.call(Method::DELETE, &format!("/rest/posts/{}", wire::path_urn(urn)), Some("DELETE"), None).await?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(self.fail(&reply))
        }
    }
}

/// A header's value as text.
fn header(reply: &Reply, name: &str) -> Option<String> {
    reply.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string).filter(|s| !s.is_empty())
}

impl Platform for LinkedIn {
    fn network(&self) -> Network {
        Network::LinkedIn
    }

    /// The member behind the token (`userinfo`); answers the author the account posts as.
    async fn verify(&self) -> Result<String, PlatformError> {
        *self.me.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let me = self.me().await?;
        if let Ok(slot) = self.keeper.lock().await {
            if let Some(Some(t)) = slot.as_ref() {
                let soon = t.expires_at.is_some_and(|e| e - self.clock.now() < chrono::Duration::days(7));
                if soon && (t.refresh.is_none() || self.app.is_none()) {
                    tracing::warn!(account = %self.account, expires = ?t.expires_at, "the LinkedIn token expires within a week and cannot be refreshed: {}", self.login_hint());
                }
            }
        }
        Ok(self.organization.clone().unwrap_or(me))
    }

    async fn limits(&self) -> Result<Counter, PlatformError> {
        Ok(Counter::default_for(Network::LinkedIn))
    }

    /// LinkedIn has no idempotency key; the key only marks the intent.
    fn new_key(&self, _now: DateTime<Utc>) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    async fn post(&self, req: &PostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        if req.only_if_sent {
            return Err(super::cannot_recall(crate::network::Network::LinkedIn));
        }
        let author = self.author().await?;
        let text = commentary(req.text);
        let head = req.root.or(req.reply_to).map(|r| r.id.as_str()).filter(|u| wire::is_post(u));
        if let (Some(post), Points::Comments) = (head, self.points) {
            return self.comment(&author, post, &text, req.resend).await;
        }
        let urn = self.create_once(&author, &text, None, req.resend).await?;
        Ok(RemoteRef { url: Some(wire::post_url(&urn)), id: urn, uri: None, cid: None })
    }

    /// A reshare of the post (NOTES §2): `reshareContext.parent` is the share or ugcPost URN
    /// stored when it was posted.
    async fn boost(&self, req: &BoostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        if req.only_if_sent {
            return Err(super::cannot_recall(crate::network::Network::LinkedIn));
        }
        let parent = req.target.id.as_str();
        if !wire::is_post(parent) {
            return Err(PlatformError::Internal {
                message: format!("LinkedIn reshares only posts named by a share or ugcPost URN, not {parent:?}"),
            });
        }
        let author = self.author().await?;
        let urn = self.create_once(&author, "", Some(parent), req.resend).await?;
        Ok(RemoteRef { url: Some(wire::post_url(&urn)), id: urn, uri: None, cid: None })
    }

    async fn metrics(&self, posts: &[RemoteRef]) -> Result<Vec<Reading>, PlatformError> {
        let readable: Vec<&str> = posts.iter().map(|p| p.id.as_str()).filter(|u| wire::is_post(u)).collect();
        let read = self.read_counts(&readable).await?;
        let mut by_urn = readable.iter().zip(read);
        Ok(posts
            .iter()
            .map(|p| {
                if !wire::is_post(&p.id) {
                    // A comment: LinkedIn reports no counts loudhailer can read for it.
                    return Reading::Counts(Counts::default());
                }
                by_urn.next().and_then(|(_, r)| r).unwrap_or(Reading::Counts(Counts::default()))
            })
            .collect())
    }

    async fn recent(&self, _watch: &Watch, _after: Option<&Cursor>) -> Result<Recent, PlatformError> {
        Err(PlatformError::Internal { message: "following LinkedIn accounts is not supported".into() })
    }

    async fn resolve(&self, address: &Address) -> Result<RemoteRef, PlatformError> {
        match address {
            Address::LinkedIn { urn } if wire::is_post(urn) => {
                Ok(RemoteRef { id: urn.clone(), url: Some(wire::post_url(urn)), uri: None, cid: None })
            }
            Address::LinkedIn { urn } => Err(PlatformError::Internal {
                message: format!("{urn} is not a post LinkedIn can reshare: give the post's urn:li:share:… or urn:li:ugcPost:… address (\"Copy link to post\" gives an activity, which LinkedIn refuses)"),
            }),
            other => Err(PlatformError::Internal { message: format!("a LinkedIn account cannot reshare a post on {}", other.network()) }),
        }
    }

    /// LinkedIn's duplicate check outlasts a delete (NOTES §4 "Side effect"), so a second reshare
    /// of a post cannot be made even after the first is deleted: an earlier reshare is left as it
    /// is, and the job says so.
    async fn unboost(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        match req.earlier.first() {
            None => Ok(req.target.clone()),
            Some(earlier) => Err(PlatformError::Permanent {
                status: 422,
                message: format!(
                    "the account reshared this post before ({}); LinkedIn refuses a second reshare of it even after the first is deleted",
                    earlier.id
                ),
            }),
        }
    }
}

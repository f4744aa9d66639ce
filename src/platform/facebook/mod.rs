//! Facebook Pages through the Graph API: a Page amplifies by posting (it cannot share another
//! post: "You cannot publish shares of an object using the Graph API",
//! reference/object/sharedposts), a Page may post the schedule itself with a session's points as
//! comments under its title post, and its posts' reactions, comments and shares are read. A
//! personal profile cannot be posted to by any API (since 2018).
//!
//! Requests go to `/{version}/…` (`[facebook] version`, the Graph API version pinned) with the
//! Page's access token, the parameters in a form body (posts) or the query (reads), as Page.json
//! and PagePost.json in `../shared/specs/facebook-graph/` name them. Errors and throttling are
//! Meta's (see `meta`).
//!
//! Exactly once without an idempotency key: a Page post that may have reached Facebook is looked
//! for among the Page's published posts (one read of the latest 25) before it is sent again, and a
//! comment among its post's comments (one read of up to 100). 506 (a duplicate of the Page's
//! latest post) on a first attempt fails the job with Facebook's words.
//!
//! - `oauth`: `loudhailer login facebook` (Facebook Login, the long-lived token, the Page's
//!   token from `/me/accounts`).

pub mod oauth;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use super::http::{Http, Reply};
use super::meta::{self, GraphError, Meaning};
use super::tokens::Keeper;
use super::{BoostRequest, Platform, PlatformError, PostRequest, UnboostRequest};
use crate::address::Address;
use crate::clock::Clock;
use crate::config::{Account, Watch};
use crate::count::Counter;
use crate::follow::{Cursor, Recent};
use crate::job::RemoteRef;
use crate::metrics::{Counts, Reading};
use crate::network::Network;
use crate::secret::Credentials;
use crate::sessions::Sessions;

/// Clocks disagree: a post found this long before the first attempt may still be the job's.
const SKEW: chrono::Duration = chrono::Duration::minutes(2);
/// How many of the Page's latest posts a look before a resend reads.
const LOOK_BACK: &str = "25";

/// One Page's client.
pub struct Facebook {
    account: String,
    server: Url,
    version: String,
    page: String,
    http: Http,
    keeper: Keeper,
    clock: Clock,
}

/// A Page post as the feed lists it.
#[derive(Debug, Deserialize)]
struct Listed {
    id: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    created_time: Option<String>,
    #[serde(default)]
    permalink_url: Option<String>,
    #[serde(default)]
    from: Option<From>,
}

#[derive(Debug, Deserialize)]
struct From {
    #[serde(default)]
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
}

/// Graph's timestamps: `2026-12-06T10:00:00+0000`.
fn graph_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z").ok().map(|t| t.to_utc())
}

impl Facebook {
    pub fn new(
        account: &Account,
        credentials: Credentials,
        http: Http,
        sessions: Arc<dyn Sessions>,
        clock: Clock,
    ) -> Result<Facebook, PlatformError> {
        let (Credentials::OAuth2 { token, .. }, Some(page)) = (credentials, account.page.clone()) else {
            return Err(PlatformError::Internal {
                message: format!("account {}: the credentials loaded do not match its Facebook config", account.id),
            });
        };
        Ok(Facebook {
            account: account.id.clone(),
            server: account.server.clone(),
            version: account.api_version.clone().unwrap_or_else(|| crate::config::networks::GRAPH_VERSION.into()),
            page,
            http,
            keeper: Keeper::new(&account.id, oauth::KIND, token, sessions, clock),
            clock,
        })
    }

    fn login_hint(&self) -> String {
        format!(
            "run `loudhailer login facebook --account {}` (or put a new Page access token where token_env or token_file points)",
            self.account
        )
    }

    async fn token(&self) -> Result<crate::secret::Secret, PlatformError> {
        let slot = self.keeper.lock().await?;
        match slot.as_ref() {
            Some(Some(t)) => Ok(t.access.clone()),
            _ => Err(PlatformError::NoCredentials(format!(
                "no Page access token for account {}: {}",
                self.account,
                self.login_hint()
            ))),
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, PlatformError> {
        let base = self.server.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!("{base}/{}/{path}", self.version))
            .map_err(|e| PlatformError::Internal { message: format!("cannot make a Graph API address: {e}") })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// One Graph request: reads with their parameters in the query, writes in a form body. A
    /// throttling answer (or a usage estimate) holds the account; other answers come back.
    async fn graph(&self, method: Method, path: &str, params: &[(&str, &str)]) -> Result<Reply, PlatformError> {
        let token = self.token().await?;
        let request = if method == Method::GET || method == Method::DELETE {
            self.http.client().request(method, self.url(path, params)?)
        } else {
            self.http.client().request(method, self.url(path, &[])?).form(params)
        };
        let reply = self.http.send_raw(request.header(AUTHORIZATION, Http::bearer(&token))).await?;
        self.heed_usage(&reply)?;
        Ok(reply)
    }

    /// Holds the account when Meta says it is throttled (an error with a throttling code) or gives
    /// an estimate of when access comes back.
    fn heed_usage(&self, reply: &Reply) -> Result<(), PlatformError> {
        let usage = reply.headers.get("x-business-use-case-usage").and_then(|v| v.to_str().ok());
        let error = (!reply.status.is_success()).then(|| GraphError::parse(&reply.body)).flatten();
        let throttled = error.as_ref().is_some_and(|e| meaning_of(reply, e) == Meaning::Throttled);
        if !throttled && meta::regain(usage).is_none() {
            return Ok(());
        }
        let e = error.unwrap_or_else(|| GraphError { message: "usage limit reached".into(), ..Default::default() });
        let (until, why, capped) =
            meta::throttle_hold(self.clock.now(), "Facebook", &e, usage, self.http.limiter().longest_hold());
        if let Some(c) = capped {
            tracing::warn!(account = %self.account, "{c}");
        }
        tracing::warn!(account = %self.account, until = %until, "{why}");
        self.http.limiter().hold_until(until, why);
        if throttled {
            return Err(PlatformError::RateLimited { until: Some(until) });
        }
        Ok(())
    }

    /// An answer that is not a success, classified (`meta`).
    fn fail(&self, reply: &Reply) -> PlatformError {
        let status = reply.status.as_u16();
        let Some(e) = GraphError::parse(&reply.body) else {
            return super::http::classify(reply.status, reply.message());
        };
        let words = e.words();
        match meaning_of(reply, &e) {
            Meaning::Throttled => PlatformError::RateLimited { until: None },
            Meaning::Duplicate => PlatformError::Permanent {
                status,
                message: format!("Facebook refuses it as a duplicate of the Page's latest post: {words}"),
            },
            Meaning::Blocked => PlatformError::Auth {
                status,
                message: format!(
                    "Facebook has blocked the Page from posting for a while ({words}); `loudhailer resume {}` once it may post again",
                    self.account
                ),
            },
            Meaning::Expired => PlatformError::Auth {
                status,
                message: format!("the Page's token has expired or was revoked ({words}); {}", self.login_hint()),
            },
            Meaning::Permission => PlatformError::Auth {
                status,
                message: format!(
                    "{words}: the Page token needs pages_manage_posts (and pages_read_engagement, pages_manage_engagement), from a person with the Page's CREATE_CONTENT task"
                ),
            },
            Meaning::Gone => PlatformError::Permanent { status, message: words },
            Meaning::Transient => PlatformError::Retry(format!("Facebook answered {status}: {words}")),
            Meaning::Refused => PlatformError::Permanent { status, message: words },
        }
    }

    fn post_ref(&self, id: String, permalink: Option<String>) -> RemoteRef {
        let number = id.split('_').nth(1).unwrap_or(&id).to_string();
        let url = permalink.unwrap_or_else(|| format!("https://www.facebook.com/{}/posts/{number}", self.page));
        RemoteRef { id, url: Some(url), uri: None, cid: None }
    }

    /// The Page's post with this message (and link), made since `since` less the skew.
    async fn find_post(&self, message: Option<&str>, since: DateTime<Utc>) -> Result<Option<RemoteRef>, PlatformError> {
        let path = format!("{}/published_posts", self.page);
        let fields = "id,message,created_time,permalink_url";
        let reply = self.graph(Method::GET, &path, &[("fields", fields), ("limit", LOOK_BACK)]).await?;
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let page: Page<Listed> = reply.json()?;
        let from = crate::checked::saturating_add(since, -SKEW);
        Ok(page
            .data
            .into_iter()
            .find(|p| {
                p.message.as_deref() == message
                    && p.created_time.as_deref().and_then(graph_time).is_none_or(|t| t >= from)
            })
            .map(|p| self.post_ref(p.id, p.permalink_url)))
    }

    /// `POST /{page}/feed` with `message` and/or `link`, looking first when it may be there.
    async fn publish(
        &self,
        message: Option<&str>,
        link: Option<&str>,
        since: DateTime<Utc>,
        resend: bool,
    ) -> Result<RemoteRef, PlatformError> {
        if resend {
            if let Some(found) = self.find_post(message, since).await? {
                tracing::info!(account = %self.account, id = %found.id, "an earlier attempt reached Facebook: recorded, not posted again");
                return Ok(found);
            }
        }
        let mut params: Vec<(&str, &str)> = Vec::new();
        if let Some(m) = message {
            params.push(("message", m));
        }
        if let Some(l) = link {
            params.push(("link", l));
        }
        if params.is_empty() {
            return Err(PlatformError::Internal { message: "a Page post needs a text or a link".into() });
        }
        let reply = self.graph(Method::POST, &format!("{}/feed", self.page), &params).await?;
        if reply.status.is_success() {
            let v: Value = reply.json()?;
            let id = v["id"]
                .as_str()
                .ok_or_else(|| PlatformError::Retry("Facebook answered without the post's id".into()))?;
            return Ok(self.post_ref(id.to_string(), None));
        }
        Err(self.fail(&reply))
    }

    /// A point as a comment under the Page's title post (PagePost.json `POST comments`).
    async fn comment(&self, post: &str, text: &str, resend: bool) -> Result<RemoteRef, PlatformError> {
        let path = format!("{post}/comments");
        let url = |id: &str| format!("https://www.facebook.com/{post}?comment_id={id}");
        if resend {
            let reply = self.graph(Method::GET, &path, &[("fields", "id,message,from"), ("limit", "100")]).await?;
            if !reply.status.is_success() {
                return Err(self.fail(&reply));
            }
            let page: Page<Listed> = reply.json()?;
            let mine = |c: &Listed| c.from.as_ref().and_then(|f| f.id.as_deref()) == Some(self.page.as_str());
            if let Some(c) = page.data.into_iter().find(|c| mine(c) && c.message.as_deref() == Some(text)) {
                tracing::info!(account = %self.account, id = %c.id, "an earlier attempt reached Facebook: its comment is recorded, not sent again");
                return Ok(RemoteRef { url: Some(url(&c.id)), id: c.id, uri: None, cid: None });
            }
        }
        let reply = self.graph(Method::POST, &path, &[("message", text)]).await?;
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let v: Value = reply.json()?;
        let id = v["id"]
            .as_str()
            .ok_or_else(|| PlatformError::Retry("Facebook answered without the comment's id".into()))?;
        Ok(RemoteRef { url: Some(url(id)), id: id.to_string(), uri: None, cid: None })
    }

    /// Whether an id names one of the Page's posts (`{page}_{post}`), not a comment.
    fn is_page_post(&self, id: &str) -> bool {
        id.strip_prefix(&self.page).is_some_and(|r| r.starts_with('_'))
    }
}

fn meaning_of(reply: &Reply, e: &GraphError) -> Meaning {
    meta::meaning(reply.status.as_u16(), e)
}

impl Platform for Facebook {
    fn network(&self) -> Network {
        Network::Facebook
    }

    /// `GET /me` with the Page's token names the Page; a User token names a person instead.
    async fn verify(&self) -> Result<String, PlatformError> {
        let reply = self.graph(Method::GET, "me", &[("fields", "id,name")]).await?;
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let v: Value = reply.json()?;
        match v["id"].as_str() {
            Some(id) if id == self.page => Ok(id.to_string()),
            Some(other) => Err(PlatformError::NoCredentials(format!(
                "the token is {other}'s, not the Page {}'s: a Page posts with its own Page access token; {}",
                self.page,
                self.login_hint()
            ))),
            None => Err(PlatformError::Retry("Facebook's /me has no id".into())),
        }
    }

    async fn limits(&self) -> Result<Counter, PlatformError> {
        Ok(Counter::default_for(Network::Facebook))
    }

    fn new_key(&self, _now: DateTime<Utc>) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    /// The Page posting the schedule itself: a title is a Page post, a point a comment under it.
    async fn post(&self, req: &PostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        if req.only_if_sent {
            return Err(super::cannot_recall(crate::network::Network::Facebook));
        }
        let head = req.root.or(req.reply_to).map(|r| r.id.as_str()).filter(|id| self.is_page_post(id));
        match head {
            Some(post) => self.comment(post, req.text, req.resend).await,
            None => self.publish(Some(req.text), None, req.created_at, req.resend).await,
        }
    }

    /// Amplifying another account's post: a Page post of the quote (or the session's digest)
    /// with the original's address as its `link`.
    async fn boost(&self, req: &BoostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        if req.only_if_sent {
            return Err(super::cannot_recall(crate::network::Network::Facebook));
        }
        let link = req.target.url.as_deref();
        self.publish(req.text, link, req.created_at, req.resend).await
    }

    /// `GET /{post}?fields=shares,reactions.summary(total_count).limit(0),comments.summary(true).limit(0)`
    /// (PagePost.json fields and edges); `shares` is left out when nobody shared, so it reads 0.
    async fn metrics(&self, posts: &[RemoteRef]) -> Result<Vec<Reading>, PlatformError> {
        let mut out = Vec::with_capacity(posts.len());
        for p in posts {
            if !self.is_page_post(&p.id) {
                out.push(Reading::Counts(Counts::default()));
                continue;
            }
            let fields = "shares,reactions.summary(total_count).limit(0),comments.summary(true).limit(0)";
            let reply = self.graph(Method::GET, &p.id, &[("fields", fields)]).await?;
            if !reply.status.is_success() {
                match GraphError::parse(&reply.body).map(|e| meaning_of(&reply, &e)) {
                    Some(Meaning::Gone) => {
                        out.push(Reading::Gone);
                        continue;
                    }
                    Some(Meaning::Permission) => {
                        out.push(Reading::Counts(Counts::default()));
                        continue;
                    }
                    _ => return Err(self.fail(&reply)),
                }
            }
            let v: Value = reply.json()?;
            out.push(Reading::Counts(Counts {
                likes: v["reactions"]["summary"]["total_count"].as_u64(),
                replies: v["comments"]["summary"]["total_count"].as_u64(),
                reposts: Some(v["shares"]["count"].as_u64().unwrap_or(0)),
                quotes: None,
                views: None,
            }));
        }
        Ok(out)
    }

    async fn recent(&self, _watch: &Watch, _after: Option<&Cursor>) -> Result<Recent, PlatformError> {
        Err(PlatformError::Internal { message: "following Facebook Pages is not supported".into() })
    }

    /// A Page cannot share, so it has no use for another post's address: `[[repost]]` entries
    /// name amplifiers on the post's own network, never a Page.
    async fn resolve(&self, address: &Address) -> Result<RemoteRef, PlatformError> {
        Err(PlatformError::Internal {
            message: format!("a Facebook Page cannot look up a post on {}; it amplifies by posting", address.network()),
        })
    }

    /// Nothing to undo: a Page's amplification is a post of its own, and another is simply made.
    async fn unboost(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        Ok(req.target.clone())
    }
}

//! The Threads API: two-step publishing (a media container, then `threads_publish` once the
//! container is FINISHED), threads with `reply_to_id`, reposts with the native repost, insights,
//! the publishing quota, and long-lived tokens refreshed after 24 hours. Request and field names
//! are those of Meta's Postman collection (`../shared/specs/threads/`); the rules it does not
//! hold come from Meta's Threads pages ("Threads Posts", "Troubleshooting", "Overview" rate
//! limits, "Long-Lived Tokens"). Errors and throttling are Meta's (see `meta`).
//!
//! Exactly once without an idempotency key: the container's id is kept with the job's intent
//! (`Progress`) before it is published, so a resend publishes that container rather than making
//! another: FINISHED (or still IN_PROGRESS) is published; PUBLISHED means the post is there, and
//! it is found among the account's latest posts; EXPIRED (24 hours unpublished) or unknown starts
//! again. A container made but not yet kept cannot have been published (publishing comes after
//! keeping), and an unpublished container expires on its own. `auto_publish_text` is never used:
//! it would publish before the container is kept.
//!
//! - `oauth`: the browser sign-in, the long-lived exchange and the refresh.
//! - `wire`: what the API answers, read into plain values (container status, quota, insights).

pub mod oauth;
pub mod wire;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use serde_json::{json, Value};
use url::Url;

use super::http::{Http, Reply};
use super::meta::{self, GraphError, Meaning};
use super::tokens::{Keeper, RefreshPolicy};
use super::{BoostRequest, Platform, PlatformError, PostRequest, UnboostRequest};
use crate::address::Address;
use crate::clock::Clock;
use crate::config::{Account, Watch};
use crate::count::Counter;
use crate::follow::{Cursor, Recent};
use crate::job::RemoteRef;
use crate::metrics::{Counts, Reading};
use crate::network::Network;
use crate::secret::{Credentials, Secret};
use crate::sessions::Sessions;
use wire::{graph_time, Listed, Page};
pub use wire::{insights, Quota, Status};

/// Long-lived tokens (60 days) are refreshed once at least a day old ("Long-Lived Tokens": a
/// token can be refreshed once it is 24 hours old), in their last 30 days.
pub const REFRESH: RefreshPolicy =
    RefreshPolicy { window: chrono::Duration::days(30), min_age: chrono::Duration::hours(24) };

/// Waits between a container's status reads: at once, then longer each time, about five
/// minutes in all ("Troubleshooting": query the status once a minute, for no more than five
/// minutes; a text container is usually FINISHED at the first read).
const STATUS_WAITS: [u64; 10] = [0, 1, 2, 4, 8, 15, 30, 60, 60, 120];
/// Clocks disagree: a post found this long before the first attempt may still be the job's.
const SKEW: chrono::Duration = chrono::Duration::minutes(2);
/// How long a reading of the publishing quota is trusted.
const QUOTA_FRESH: chrono::Duration = chrono::Duration::minutes(10);
/// How long an account whose quota is used up is held before reading it again (the quota is a
/// moving 24 hours; capped at `[run] max_server_wait`).
const QUOTA_WAIT: Duration = Duration::from_secs(3600);

/// One Threads account's client.
pub struct Threads {
    account: String,
    server: Url,
    version: String,
    http: Http,
    keeper: Keeper,
    clock: Clock,
    /// The account's user id and username, read once.
    me: Mutex<Option<(String, String)>>,
    /// The last reading of the publishing quota: when, and (posts used, posts allowed, replies
    /// used, replies allowed).
    quota: Mutex<Option<(DateTime<Utc>, Quota)>>,
}

impl Threads {
    pub fn new(
        account: &Account,
        credentials: Credentials,
        http: Http,
        sessions: Arc<dyn Sessions>,
        clock: Clock,
    ) -> Result<Threads, PlatformError> {
        let Credentials::OAuth2 { token, .. } = credentials else {
            return Err(PlatformError::Internal {
                message: format!("account {}: the credentials loaded do not match its Threads config", account.id),
            });
        };
        Ok(Threads {
            account: account.id.clone(),
            server: account.server.clone(),
            version: account.api_version.clone().unwrap_or_else(|| crate::config::networks::THREADS_VERSION.into()),
            http,
            keeper: Keeper::new(&account.id, oauth::KIND, token, sessions, clock),
            clock,
            me: Mutex::new(None),
            quota: Mutex::new(None),
        })
    }

    fn login_hint(&self) -> String {
        format!(
            "run `loudhailer login threads --account {}` (or put a new long-lived token where token_env or token_file points)",
            self.account
        )
    }

    /// The token to send: a long-lived token refreshed in its last 30 days once it is a day old.
    async fn token(&self) -> Result<Secret, PlatformError> {
        let mut slot = self.keeper.lock().await?;
        let Some(Some(tokens)) = slot.as_ref() else {
            return Err(PlatformError::NoCredentials(format!(
                "no Threads token for account {}: {}",
                self.account,
                self.login_hint()
            )));
        };
        let now = self.clock.now();
        if tokens.refresh_due(REFRESH, now) {
            match oauth::refresh(&self.http, &self.server, tokens, now).await {
                Ok(fresh) => {
                    self.keeper.replace(&mut slot, fresh)?;
                    tracing::info!(account = %self.account, "Threads token refreshed before it expired, and stored");
                }
                Err(e) if !tokens.expired(now) => {
                    tracing::warn!(account = %self.account, error = %e, "cannot refresh the Threads token yet; the current one still works")
                }
                Err(e) => return Err(e),
            }
        }
        match slot.as_ref() {
            Some(Some(t)) => Ok(t.access.clone()),
            _ => Err(PlatformError::Internal { message: "the Threads tokens went missing".into() }),
        }
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, PlatformError> {
        let base = self.server.as_str().trim_end_matches('/');
        let mut url = Url::parse(&format!("{base}/{}/{path}", self.version))
            .map_err(|e| PlatformError::Internal { message: format!("cannot make a Threads address: {e}") })?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }

    /// One request: reads' parameters in the query, writes' in a form body. Throttling holds the
    /// account (see `meta`); other answers come back to read.
    async fn call(&self, method: Method, path: &str, params: &[(&str, &str)]) -> Result<Reply, PlatformError> {
        let token = self.token().await?;
        let request = if method == Method::GET || method == Method::DELETE {
            self.http.client().request(method, self.url(path, params)?)
        } else {
            self.http.client().request(method, self.url(path, &[])?).form(params)
        };
        let reply = self.http.send_raw(request.header(AUTHORIZATION, Http::bearer(&token))).await?;
        let usage = reply.headers.get("x-business-use-case-usage").and_then(|v| v.to_str().ok());
        let error = (!reply.status.is_success()).then(|| GraphError::parse(&reply.body)).flatten();
        let throttled = error.as_ref().is_some_and(|e| meta::meaning(reply.status.as_u16(), e) == Meaning::Throttled);
        if throttled || meta::regain(usage).is_some() {
            let e = error.unwrap_or_else(|| GraphError { message: "usage limit reached".into(), ..Default::default() });
            let (until, why, capped) =
                meta::throttle_hold(self.clock.now(), "Threads", &e, usage, self.http.limiter().longest_hold());
            if let Some(c) = capped {
                tracing::warn!(account = %self.account, "{c}");
            }
            tracing::warn!(account = %self.account, until = %until, "{why}");
            self.http.limiter().hold_until(until, why);
            if throttled {
                return Err(PlatformError::RateLimited { until: Some(until) });
            }
        }
        Ok(reply)
    }

    fn fail(&self, reply: &Reply) -> PlatformError {
        let status = reply.status.as_u16();
        let Some(e) = GraphError::parse(&reply.body) else {
            return super::http::classify(reply.status, reply.message());
        };
        let words = e.words();
        match meta::meaning(status, &e) {
            Meaning::Throttled => PlatformError::RateLimited { until: None },
            Meaning::Blocked => PlatformError::Auth {
                status,
                message: format!("Threads has blocked the account for a while ({words}); `loudhailer resume {}` once it may post again", self.account),
            },
            Meaning::Expired => PlatformError::Auth {
                status,
                message: format!("the Threads token has expired or was revoked ({words}); {}", self.login_hint()),
            },
            Meaning::Permission => PlatformError::Auth {
                status,
                message: format!("{words}: the token needs threads_basic, threads_content_publish and threads_manage_replies (and threads_manage_insights for counts)"),
            },
            Meaning::Transient => PlatformError::Retry(format!("Threads answered {status}: {words}")),
            Meaning::Duplicate | Meaning::Gone | Meaning::Refused => PlatformError::Permanent { status, message: words },
        }
    }

    /// The account's id and username (`GET /me`), read once.
    async fn me(&self) -> Result<(String, String), PlatformError> {
        if let Some(me) = self.me.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(me);
        }
        let reply = self.call(Method::GET, "me", &[("fields", "id,username")]).await?;
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let v: Value = reply.json()?;
        let id = v["id"].as_str().ok_or_else(|| PlatformError::Retry("Threads' /me has no id".into()))?.to_string();
        let me = (id, v["username"].as_str().unwrap_or_default().to_string());
        *self.me.lock().unwrap_or_else(|e| e.into_inner()) = Some(me.clone());
        Ok(me)
    }

    fn post_ref(&self, id: String, permalink: Option<String>, username: &str) -> RemoteRef {
        let url = permalink.unwrap_or_else(|| format!("https://www.threads.net/@{username}/post/{id}"));
        RemoteRef { id, url: Some(url), uri: None, cid: None }
    }

    /// A container's status (Troubleshooting: `GET /{container}?fields=id,status,error_message`).
    async fn status(&self, container: &str) -> Result<Status, PlatformError> {
        let reply = self.call(Method::GET, container, &[("fields", "id,status,error_message")]).await?;
        if reply.status.is_success() {
            return Ok(Status::read(&reply.json()?));
        }
        match GraphError::parse(&reply.body).map(|e| meta::meaning(reply.status.as_u16(), &e)) {
            Some(Meaning::Gone) => Ok(Status::Unknown),
            _ => Err(self.fail(&reply)),
        }
    }

    /// Waits until the container is FINISHED (about five minutes at most); what it became.
    async fn settled(&self, container: &str) -> Result<Status, PlatformError> {
        for wait in STATUS_WAITS {
            if wait > 0 {
                self.clock
                    .sleep_until(crate::checked::saturating_after(self.clock.now(), Duration::from_secs(wait)))
                    .await;
            }
            let status = self.status(container).await?;
            if status != Status::InProgress {
                return Ok(status);
            }
        }
        Err(PlatformError::Retry(format!(
            "the Threads container {container} was not ready after five minutes; it is kept, and published when it is"
        )))
    }

    /// The publishing quota, read when the last reading is stale or near its end
    /// (`GET /me/threads_publishing_limit`, "Overview" Rate Limiting).
    async fn within_quota(&self, reply: bool) -> Result<(), PlatformError> {
        let now = self.clock.now();
        let cached = *self.quota.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = cached.filter(|(at, q)| now - *at < QUOTA_FRESH && q.allows(reply));
        let quota = match fresh {
            Some((_, q)) => q,
            None => {
                let fields = [("fields", "quota_usage,config,reply_quota_usage,reply_config")];
                let r = self.call(Method::GET, "me/threads_publishing_limit", &fields).await?;
                if !r.status.is_success() {
                    return Err(self.fail(&r));
                }
                let q = Quota::read(&r.json()?);
                *self.quota.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, q));
                q
            }
        };
        if quota.allows(reply) {
            return Ok(());
        }
        let (used, total) = if reply { quota.replies } else { quota.posts };
        let what = if reply { "replies" } else { "posts" };
        let until = crate::checked::saturating_after(now, QUOTA_WAIT.min(self.http.limiter().longest_hold()));
        let why = format!(
            "Threads' publishing quota is used up ({used} of {total} {what} in 24 hours); reading it again later"
        );
        tracing::warn!(account = %self.account, until = %until, "{why}");
        self.http.limiter().hold_until(until, why);
        Err(PlatformError::RateLimited { until: Some(until) })
    }

    /// `POST /me/threads_publish?creation_id=` ("Threads Posts", Step 2).
    async fn publish(&self, container: &str, reply: bool) -> Result<String, PlatformError> {
        self.within_quota(reply).await?;
        let r = self.call(Method::POST, "me/threads_publish", &[("creation_id", container)]).await?;
        if !r.status.is_success() {
            return Err(self.fail(&r));
        }
        let v: Value = r.json()?;
        let id =
            v["id"].as_str().ok_or_else(|| PlatformError::Retry("Threads answered without the post's id".into()))?;
        if let Some((_, q)) = self.quota.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            q.used_one(reply);
        }
        Ok(id.to_string())
    }

    /// The account's post with `text`, made since `since` less the skew (its latest posts, or
    /// its replies).
    async fn find(
        &self,
        text: &str,
        reply: bool,
        since: DateTime<Utc>,
    ) -> Result<Option<(String, Option<String>)>, PlatformError> {
        let edge = if reply { "me/replies" } else { "me/threads" };
        let r = self.call(Method::GET, edge, &[("fields", "id,text,timestamp,permalink"), ("limit", "25")]).await?;
        if !r.status.is_success() {
            return Err(self.fail(&r));
        }
        let page: Page<Listed> = r.json()?;
        let from = crate::checked::saturating_add(since, -SKEW);
        Ok(page
            .data
            .into_iter()
            .find(|m| {
                m.text.as_deref() == Some(text) && m.timestamp.as_deref().and_then(graph_time).is_none_or(|t| t >= from)
            })
            .map(|m| (m.id, m.permalink)))
    }

    /// A new text container (`POST /me/threads`, "Threads Posts" Step 1), kept with the intent
    /// before anything publishes it.
    async fn create(&self, req: &PostRequest<'_>) -> Result<String, PlatformError> {
        let mut params = vec![("media_type", "TEXT"), ("text", req.text)];
        if let Some(parent) = req.reply_to {
            params.push(("reply_to_id", parent.id.as_str()));
        }
        let r = self.call(Method::POST, "me/threads", &params).await?;
        if !r.status.is_success() {
            return Err(self.fail(&r));
        }
        let v: Value = r.json()?;
        let id = v["id"]
            .as_str()
            .ok_or_else(|| PlatformError::Retry("Threads answered without the container's id".into()))?;
        req.progress.keep(json!({ "container": id })).await?;
        Ok(id.to_string())
    }

    /// A new container, waited for until it is FINISHED.
    async fn fresh(&self, req: &PostRequest<'_>) -> Result<String, PlatformError> {
        let c = self.create(req).await?;
        match self.settled(&c).await? {
            Status::Finished => Ok(c),
            Status::Error(message) => Err(container_error(&message)),
            other => Err(PlatformError::Retry(format!("the new Threads container {c} is {other:?}"))),
        }
    }

    /// The account's repost of `target`, among its latest posts.
    async fn find_repost(&self, target: &str) -> Result<Option<String>, PlatformError> {
        let r =
            self.call(Method::GET, "me/threads", &[("fields", "id,media_type,reposted_post"), ("limit", "50")]).await?;
        if !r.status.is_success() {
            return Err(self.fail(&r));
        }
        let page: Page<Listed> = r.json()?;
        Ok(page
            .data
            .into_iter()
            .find(|m| {
                m.media_type.as_deref() == Some("REPOST_FACADE")
                    && m.reposted_post.as_ref().and_then(|p| p["id"].as_str()) == Some(target)
            })
            .map(|m| m.id))
    }
}

impl Platform for Threads {
    fn network(&self) -> Network {
        Network::Threads
    }

    async fn verify(&self) -> Result<String, PlatformError> {
        *self.me.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(self.me().await?.0)
    }

    async fn limits(&self) -> Result<Counter, PlatformError> {
        Ok(Counter::default_for(Network::Threads))
    }

    fn new_key(&self, _now: DateTime<Utc>) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    async fn post(&self, req: &PostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        if req.only_if_sent {
            return Err(super::cannot_recall(crate::network::Network::Threads));
        }
        let (_, username) = self.me().await?;
        let reply = req.reply_to.is_some();
        let earlier = req.progress.earlier.as_ref().and_then(|p| p["container"].as_str()).map(str::to_string);
        let container = match earlier {
            Some(c) => match self.settled(&c).await? {
                Status::Finished => c,
                Status::Published => {
                    // Published before the answer came back: the post is there.
                    return match self.find(req.text, reply, req.created_at).await? {
                        Some((id, permalink)) => {
                            tracing::info!(account = %self.account, id = %id, "an earlier attempt published this container: recorded, not published again");
                            Ok(self.post_ref(id, permalink, &username))
                        }
                        None => Err(PlatformError::Retry(format!(
                            "the Threads container {c} is published but its post is not among the account's latest yet"
                        ))),
                    };
                }
                Status::Error(message) => return Err(container_error(&message)),
                Status::Expired | Status::Unknown => {
                    tracing::info!(account = %self.account, container = %c, "the kept Threads container has expired; making another");
                    self.fresh(req).await?
                }
                Status::InProgress => {
                    return Err(PlatformError::Retry(format!("the Threads container {c} is still being made")))
                }
            },
            None => self.fresh(req).await?,
        };
        let id = self.publish(&container, reply).await?;
        Ok(self.post_ref(id, None, &username))
    }

    /// The native repost (`POST /{media}/repost`, "Reposts"); a repost that may have been made
    /// is looked for first among the account's latest posts.
    async fn boost(&self, req: &BoostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        let target = req.target.id.as_str();
        let (_, username) = self.me().await?;
        let made = |id: String| RemoteRef { url: req.target.url.clone(), ..self.post_ref(id, None, &username) };
        if req.only_if_sent {
            // Recalled: the repost an earlier attempt made, if any; never a new one.
            return self.find_repost(target).await?.map(made).ok_or(PlatformError::NotSent);
        }
        if req.resend {
            if let Some(id) = self.find_repost(target).await? {
                tracing::info!(account = %self.account, id = %id, "an earlier attempt reposted it: recorded, not reposted again");
                return Ok(made(id));
            }
        }
        let r = self.call(Method::POST, &format!("{target}/repost"), &[]).await?;
        if r.status.is_success() {
            let v: Value = r.json()?;
            let id = v["id"]
                .as_str()
                .ok_or_else(|| PlatformError::Retry("Threads answered without the repost's id".into()))?;
            return Ok(made(id.to_string()));
        }
        // Reposted already (by hand, say): the account's repost stands for the job.
        if GraphError::parse(&r.body).is_some_and(|e| e.message.contains("already reposted")) {
            if let Some(id) = self.find_repost(target).await? {
                return Ok(made(id));
            }
        }
        Err(self.fail(&r))
    }

    /// `GET /{media}/insights?metric=likes,replies,reposts,quotes` ("Insights"); what a post
    /// does not report (a repost's are empty) is unknown.
    async fn metrics(&self, posts: &[RemoteRef]) -> Result<Vec<Reading>, PlatformError> {
        let mut out = Vec::with_capacity(posts.len());
        for p in posts {
            let r = self
                .call(Method::GET, &format!("{}/insights", p.id), &[("metric", "views,likes,replies,reposts,quotes")])
                .await?;
            if !r.status.is_success() {
                match GraphError::parse(&r.body).map(|e| meta::meaning(r.status.as_u16(), &e)) {
                    Some(Meaning::Gone) => out.push(Reading::Gone),
                    Some(Meaning::Permission) => out.push(Reading::Counts(Counts::default())),
                    _ => return Err(self.fail(&r)),
                }
                continue;
            }
            out.push(Reading::Counts(insights(&r.json()?)));
        }
        Ok(out)
    }

    async fn recent(&self, _watch: &Watch, _after: Option<&Cursor>) -> Result<Recent, PlatformError> {
        Err(PlatformError::Internal { message: "following Threads accounts is not supported".into() })
    }

    async fn resolve(&self, address: &Address) -> Result<RemoteRef, PlatformError> {
        Err(PlatformError::Internal {
            message: format!("a Threads account cannot look up a post on {} by its address", address.network()),
        })
    }

    /// Deletes the account's earlier reposts of the post (`DELETE /{repost}`; how Threads undoes a
    /// repost is not documented, and deleting the repost is what its app does).
    async fn unboost(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        for earlier in req.earlier {
            let r = self.call(Method::DELETE, &earlier.id, &[]).await?;
            if !r.status.is_success() {
                let gone =
                    GraphError::parse(&r.body).is_some_and(|e| meta::meaning(r.status.as_u16(), &e) == Meaning::Gone);
                if !gone {
                    return Err(self.fail(&r));
                }
            }
        }
        Ok(req.target.clone())
    }
}

/// A container Threads could not make into a post: the job fails with its words.
fn container_error(message: &str) -> PlatformError {
    PlatformError::Permanent { status: 400, message: format!("Threads could not make the post: {message}") }
}

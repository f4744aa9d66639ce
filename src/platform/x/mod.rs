//! X API v2: posts, threads, retweets and public counts, signed with OAuth 1.0a or an OAuth 2.0
//! user token.
//!
//! X has no idempotency key, so exactly-once comes from reading back: a post that may already
//! have reached X (`resend`, an intent left in flight by a crash) is looked for among the
//! account's recent posts before it is sent, and a 403 "duplicate content" is answered by
//! finding the post X already has and recording it. Since 2026-02-23 X may refuse replies from
//! self-serve apps; then the rest of the thread goes out as standalone numbered posts ("2/4 …").
//! Retweets are one per account and post on X's side, so a repeat cannot double them.
//!
//! Images: `POST /2/media/upload` (the image base64-encoded in JSON, `media_category`
//! `tweet_image`), polled with `GET /2/media/upload?command=STATUS` while X processes it, then
//! the alt text through `POST /2/media/metadata`; the post names them in `media.media_ids`. X
//! forgets an upload no post used after `expires_after_secs`, which is stored with it.
//!
//! - `media`: image uploads and their alt text;
//! - `oauth2`: the PKCE login and refresh-token rotation;
//! - `auth`: signing each request;
//! - `wire`: the JSON X answers with, and texts compared as X stores them.

mod auth;
mod media;
pub mod oauth2;
pub mod wire;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use reqwest::header::AUTHORIZATION;
use reqwest::Method;
use url::Url;

use super::http::{self, Http, Reply};
use super::{BoostRequest, Platform, PlatformError, PostRequest, UnboostRequest, Upload};
use crate::address::Address;
use crate::clock::Clock;
use crate::compose;
use crate::config::Watch;
use crate::config::{Account, XAuth};
use crate::count::Counter;
use crate::follow::{Cursor, Recent};
use crate::job::{MediaRef, RemoteRef};
use crate::media::Limits;
use crate::metrics::Reading;
use crate::network::Network;
use crate::secret::Credentials;
use crate::sessions::Sessions;
use auth::{Bearer, Signer};
use oauth2::{ClientAuth, Endpoint};
use wire::{Envelope, Post, User};

/// How many ids one `GET /2/tweets` may carry.
const BATCH: usize = 100;
/// Posts of the account read back when looking for one that may already be there.
const LOOKBACK_PAGES: usize = 2;
/// Clocks disagree: a post found this long before the first attempt may still be ours.
const SKEW: chrono::Duration = chrono::Duration::minutes(2);
/// X's timeline can lag behind a post: after a duplicate refusal, look again after these waits.
const LOOK_AGAIN: [u64; 3] = [0, 1, 3];

/// One X account's client.
pub struct X {
    account: String,
    server: Url,
    http: Http,
    signer: Signer,
    clock: Clock,
    me: Mutex<Option<Me>>,
    /// X refused a reply of this account: replies go out standalone and numbered from now on.
    replies_refused: AtomicBool,
    /// The server wants `tweet.fields` (the prose docs' name) instead of `post.fields` (the spec's).
    legacy_fields: AtomicBool,
}

#[derive(Debug, Clone)]
struct Me {
    id: String,
    username: Option<String>,
}

/// Why X did not create a post.
enum Refusal {
    Duplicate(String),
    Reply(String),
}

/// What the account's recent posts say about a text.
#[derive(Default)]
struct Found {
    /// Made at or after the job's first attempt: the job's own post.
    ours: Option<Post>,
    /// Made before: someone posted the same text earlier.
    earlier: Option<Post>,
}

impl X {
    pub fn new(
        account: &Account,
        credentials: Credentials,
        http: Http,
        sessions: Arc<dyn Sessions>,
        clock: Clock,
    ) -> Result<X, PlatformError> {
        let signer = match (&account.x, credentials) {
            (Some(XAuth::OAuth1 { .. }), Credentials::XOAuth1(keys)) => Signer::OAuth1(keys),
            (Some(XAuth::OAuth2 { client_id, .. }), Credentials::XOAuth2 { client_secret }) => {
                let client = ClientAuth { id: client_id.clone(), secret: client_secret };
                let endpoint = Endpoint { server: account.server.clone(), client };
                Signer::OAuth2(Arc::new(Bearer::new(&account.id, endpoint, sessions, clock)))
            }
            _ => {
                return Err(PlatformError::Internal {
                    message: format!("account {}: the credentials loaded do not match its X config", account.id),
                })
            }
        };
        Ok(X {
            account: account.id.clone(),
            server: account.server.clone(),
            http,
            signer,
            clock,
            me: Mutex::new(None),
            replies_refused: AtomicBool::new(false),
            legacy_fields: AtomicBool::new(false),
        })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.server.join(path).unwrap_or_else(|_| self.server.clone());
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Signs and sends one request; an OAuth 2.0 token the server refuses is refreshed once and
    /// the request sent again. Non-2xx answers come back for the caller to read.
    async fn call(&self, method: Method, url: Url, body: Option<&serde_json::Value>) -> Result<Reply, PlatformError> {
        let mut refreshed = false;
        loop {
            let (authorization, used) = match &self.signer {
                Signer::OAuth1(keys) => (auth::oauth1_header(keys, method.as_str(), &url), None),
                Signer::OAuth2(bearer) => {
                    let token = bearer.access(&self.http).await?;
                    (Http::bearer(&token), Some((bearer, token)))
                }
            };
            let mut request =
                self.http.client().request(method.clone(), url.clone()).header(AUTHORIZATION, authorization);
            if let Some(body) = body {
                request = request.json(body);
            }
            let reply = self.http.send_raw(request).await?;
            if reply.status.as_u16() == 401 && !refreshed {
                if let Some((bearer, token)) = used {
                    bearer.refused(&token, &self.http).await?;
                    refreshed = true;
                    continue;
                }
            }
            return Ok(reply);
        }
    }

    /// A GET asking for post fields, under whichever name the server knows.
    async fn get_posts(&self, path: &str, query: &[(&str, &str)], fields: &str) -> Result<Reply, PlatformError> {
        for _ in 0..2 {
            let legacy = self.legacy_fields.load(Ordering::Relaxed);
            let name = if legacy { "tweet.fields" } else { "post.fields" };
            let mut q = query.to_vec();
            q.push((name, fields));
            let reply = self.call(Method::GET, self.url(path, &q), None).await?;
            if reply.status.as_u16() == 400 && !legacy && wire::message(&reply.body).contains("post.fields") {
                tracing::info!(account = %self.account, "X does not know post.fields here; asking with tweet.fields");
                self.legacy_fields.store(true, Ordering::Relaxed);
                continue;
            }
            return Ok(reply);
        }
        Err(PlatformError::Permanent { status: 400, message: "X knows neither post.fields nor tweet.fields".into() })
    }

    fn fail(&self, reply: &Reply) -> PlatformError {
        http::classify(reply.status, wire::message(&reply.body))
    }

    /// The account's own id and handle, read once.
    async fn me(&self) -> Result<Me, PlatformError> {
        if let Some(me) = self.me.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Ok(me);
        }
        let reply = self.call(Method::GET, self.url("/2/users/me", &[]), None).await?;
        if !reply.status.is_success() {
            return Err(self.fail(&reply));
        }
        let user = reply
            .json::<Envelope<User>>()?
            .data
            .ok_or_else(|| PlatformError::Retry("X answered /2/users/me without the user".into()))?;
        let me = Me { id: user.id, username: user.username };
        *self.me.lock().unwrap_or_else(|e| e.into_inner()) = Some(me.clone());
        Ok(me)
    }

    fn remote(&self, me: &Me, id: String) -> RemoteRef {
        RemoteRef { url: Some(wire::post_url(me.username.as_deref(), &id)), id, uri: None, cid: None }
    }

    /// `POST /2/tweets`; the refusals loudhailer answers come back as `Err(Refusal)`.
    async fn create(
        &self,
        text: &str,
        reply_to: Option<&RemoteRef>,
        media: &[String],
    ) -> Result<Result<String, Refusal>, PlatformError> {
        let mut body = serde_json::json!({ "text": text });
        if let Some(parent) = reply_to {
            body["reply"] = serde_json::json!({ "in_reply_to_tweet_id": parent.id });
        }
        if !media.is_empty() {
            body["media"] = serde_json::json!({ "media_ids": media });
        }
        let reply = self.call(Method::POST, self.url("/2/tweets", &[]), Some(&body)).await?;
        if reply.status.is_success() {
            let created = reply
                .json::<Envelope<wire::Created>>()?
                .data
                .ok_or_else(|| PlatformError::Retry("X answered without the new post's id".into()))?;
            return Ok(Ok(created.id));
        }
        let message = wire::message(&reply.body);
        Ok(match reply.status.as_u16() {
            403 if wire::is_duplicate(&message) => Err(Refusal::Duplicate(message)),
            // Any other refusal of a reply: try it as a post of its own (if that is refused
            // too, it is the account that cannot post).
            403 if reply_to.is_some() => Err(Refusal::Reply(message)),
            _ => return Err(self.fail(&reply)),
        })
    }

    /// Looks for `texts` among the account's posts: those made since `since` (less the skew),
    /// or with `earlier`, its latest posts whatever their age. X bills each post read, so the
    /// usual look asks only for the few posts made since the job's first attempt.
    async fn find(
        &self,
        me: &Me,
        texts: &[String],
        since: DateTime<Utc>,
        earlier: bool,
    ) -> Result<Found, PlatformError> {
        let wanted: Vec<String> = texts.iter().map(|t| wire::comparable(t)).collect();
        let path = format!("/2/users/{}/tweets", me.id);
        let start_time =
            crate::checked::saturating_add(since, -SKEW).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut found = Found::default();
        let mut token: Option<String> = None;
        for _ in 0..LOOKBACK_PAGES {
            let mut query = vec![("max_results", "100"), ("exclude", "retweets")];
            if !earlier {
                query.push(("start_time", &start_time));
            }
            if let Some(t) = &token {
                query.push(("pagination_token", t));
            }
            let reply = self.get_posts(&path, &query, "created_at,conversation_id").await?;
            if !reply.status.is_success() {
                return Err(self.fail(&reply));
            }
            let page: Envelope<Vec<Post>> = reply.json()?;
            for post in page.data.unwrap_or_default() {
                if !wanted.contains(&wire::comparable(&post.text)) {
                    continue;
                }
                let recent = post.created_at.is_none_or(|t| t >= crate::checked::saturating_add(since, -SKEW));
                if recent && found.ours.is_none() {
                    found.ours = Some(post);
                } else if !recent && found.earlier.is_none() {
                    found.earlier = Some(post);
                }
            }
            token = page.meta.and_then(|m| m.next_token);
            if found.ours.is_some() || token.is_none() || earlier {
                break;
            }
        }
        Ok(found)
    }

    /// Whether this account retweeted a post: `GET /2/tweets/:id/retweeted_by` (a recalled
    /// retweet is looked for, never made).
    async fn retweeted_by(&self, me: &Me, post: &str) -> Result<bool, PlatformError> {
        #[derive(serde::Deserialize)]
        struct User {
            id: String,
        }
        let mut token: Option<String> = None;
        for _ in 0..LOOKBACK_PAGES {
            let mut query = vec![("max_results", "100")];
            if let Some(t) = &token {
                query.push(("pagination_token", t));
            }
            let url = self.url(&format!("/2/tweets/{post}/retweeted_by"), &query);
            let reply = self.call(Method::GET, url, None).await?;
            if !reply.status.is_success() {
                return Err(self.fail(&reply));
            }
            let page: Envelope<Vec<User>> = reply.json()?;
            if page.data.unwrap_or_default().iter().any(|u| u.id == me.id) {
                return Ok(true);
            }
            token = page.meta.and_then(|m| m.next_token);
            if token.is_none() {
                break;
            }
        }
        Ok(false)
    }

    /// X refused the text as a duplicate: record the post it has, if it is this job's.
    async fn after_duplicate(
        &self,
        me: &Me,
        texts: &[String],
        since: DateTime<Utc>,
        message: &str,
    ) -> Result<RemoteRef, PlatformError> {
        for pause in LOOK_AGAIN {
            if pause > 0 {
                self.clock
                    .sleep_until(crate::checked::saturating_after(
                        self.clock.now(),
                        std::time::Duration::from_secs(pause),
                    ))
                    .await;
            }
            if let Some(post) = self.find(me, texts, since, false).await?.ours {
                tracing::info!(account = %self.account, id = %post.id, "X already had this post (duplicate content): recorded, not sent again");
                return Ok(self.remote(me, post.id));
            }
        }
        // Not this job's: find the earlier post X means, to name it.
        let found = self.find(me, texts, since, true).await?;
        if let Some(post) = found.ours {
            return Ok(self.remote(me, post.id));
        }
        match found.earlier {
            Some(post) => Err(PlatformError::Permanent {
                status: 403,
                message: format!(
                    "X refuses it as duplicate content: the account posted the same text before this job was first sent ({}{}); reword it",
                    wire::post_url(me.username.as_deref(), &post.id),
                    post.created_at.map(|t| format!(", at {}", t.to_rfc3339())).unwrap_or_default()
                ),
            }),
            None => Err(PlatformError::Retry(format!(
                "X says the text is already posted ({message}) but it is not among the account's recent posts yet"
            ))),
        }
    }

    /// Undoes a retweet of `source` (the retweeted post's id).
    pub async fn unretweet(&self, source: &str) -> Result<(), PlatformError> {
        let me = self.me().await?;
        let url = self.url(&format!("/2/users/{}/retweets/{source}", me.id), &[]);
        let reply = self.call(Method::DELETE, url, None).await?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(self.fail(&reply))
        }
    }

    /// Deletes one of the account's posts.
    pub async fn delete_post(&self, id: &str) -> Result<(), PlatformError> {
        let reply = self.call(Method::DELETE, self.url(&format!("/2/tweets/{id}"), &[]), None).await?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(self.fail(&reply))
        }
    }
}

impl Platform for X {
    fn network(&self) -> Network {
        Network::X
    }

    async fn verify(&self) -> Result<String, PlatformError> {
        *self.me.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(self.me().await?.id)
    }

    /// X publishes no per-server limits: 280 weighted characters.
    async fn limits(&self) -> Result<Counter, PlatformError> {
        Ok(Counter::default_for(Network::X))
    }

    /// X has no idempotency key; the key only marks the intent.
    fn new_key(&self, _now: DateTime<Utc>) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    async fn post(&self, req: &PostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        let me = self.me().await?;
        let standalone = req.reply_to.and(req.thread).map(|(n, of)| compose::numbered(n, of, req.text));
        let texts: Vec<String> = std::iter::once(req.text.to_string()).chain(standalone.clone()).collect();
        if req.resend || req.only_if_sent {
            if let Some(post) = self.find(&me, &texts, req.created_at, false).await?.ours {
                tracing::info!(account = %self.account, id = %post.id, "an earlier attempt reached X: recorded, not sent again");
                return Ok(self.remote(&me, post.id));
            }
            if req.only_if_sent {
                return Err(PlatformError::NotSent);
            }
        }
        let refused_before = self.replies_refused.load(Ordering::Relaxed);
        let (text, reply_to) = match (req.reply_to, &standalone) {
            (Some(_), Some(numbered)) if refused_before => (numbered.as_str(), None),
            _ => (req.text, req.reply_to),
        };
        let media: Vec<String> = req.images.iter().map(|i| i.media.id.clone()).collect();
        let refusal = match self.create(text, reply_to, &media).await? {
            Ok(id) => return Ok(self.remote(&me, id)),
            Err(r) => r,
        };
        let message = match refusal {
            Refusal::Duplicate(message) => {
                return self.after_duplicate(&me, &texts, req.created_at, &message).await;
            }
            Refusal::Reply(message) => message,
        };
        self.replies_refused.store(true, Ordering::Relaxed);
        tracing::warn!(account = %self.account, reason = %message, "X refused a reply: the thread goes on as standalone numbered posts");
        let text = standalone.as_deref().unwrap_or(req.text);
        match self.create(text, None, &media).await? {
            Ok(id) => Ok(self.remote(&me, id)),
            Err(Refusal::Duplicate(message)) => self.after_duplicate(&me, &texts, req.created_at, &message).await,
            Err(Refusal::Reply(message)) => Err(PlatformError::Auth { status: 403, message }),
        }
    }

    /// X's documented image limits: 5 MB, JPEG or PNG (see `media`).
    async fn image_limits(&self) -> Result<Limits, PlatformError> {
        Ok(Limits::x())
    }

    /// See [`media`]: the upload, then the alt text.
    async fn upload(&self, upload: &Upload<'_>) -> Result<MediaRef, PlatformError> {
        self.upload_image(upload).await
    }

    /// `GET /2/media/upload?command=STATUS`: X answers for an upload it still has.
    async fn media_alive(&self, media: &MediaRef) -> Result<bool, PlatformError> {
        Ok(self.media_status(&media.id).await?.is_some_and(|m| m.failure().is_none()))
    }

    async fn boost(&self, req: &BoostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        let me = self.me().await?;
        if req.only_if_sent {
            return match self.retweeted_by(&me, &req.target.id).await? {
                true => Ok(RemoteRef {
                    id: req.target.id.clone(),
                    url: req.target.url.clone().or_else(|| Some(wire::post_url(None, &req.target.id))),
                    uri: None,
                    cid: None,
                }),
                false => Err(PlatformError::NotSent),
            };
        }
        let url = self.url(&format!("/2/users/{}/retweets", me.id), &[]);
        let body = serde_json::json!({ "tweet_id": req.target.id });
        let reply = self.call(Method::POST, url, Some(&body)).await?;
        let done = if reply.status.is_success() {
            let answer = reply.json::<Envelope<wire::Retweeted>>()?.data;
            answer.is_none_or(|a| a.retweeted || a.rest_id.is_some())
        } else {
            reply.status.as_u16() == 403 && wire::is_already_retweeted(&wire::message(&reply.body))
        };
        if !done {
            return Err(if reply.status.is_success() {
                PlatformError::Retry("X answered that the post was not retweeted".into())
            } else {
                self.fail(&reply)
            });
        }
        // The retweet is known by the post it retweets (undo names the source post).
        Ok(RemoteRef {
            id: req.target.id.clone(),
            url: req.target.url.clone().or_else(|| Some(wire::post_url(None, &req.target.id))),
            uri: None,
            cid: None,
        })
    }

    /// `GET /2/tweets?ids=` with `public_metrics`, 100 ids at a time.
    async fn metrics(&self, posts: &[RemoteRef]) -> Result<Vec<Reading>, PlatformError> {
        let mut out = Vec::with_capacity(posts.len());
        for chunk in posts.chunks(BATCH) {
            let ids = chunk.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(",");
            let reply = self.get_posts("/2/tweets", &[("ids", &ids)], "public_metrics").await?;
            if !reply.status.is_success() {
                return Err(self.fail(&reply));
            }
            let page: Envelope<Vec<Post>> = reply.json()?;
            let found = page.data.unwrap_or_default();
            for p in chunk {
                out.push(match found.iter().find(|f| f.id == p.id) {
                    Some(f) => Reading::Counts(f.public_metrics.as_ref().map(|m| m.counts()).unwrap_or_default()),
                    None => Reading::Gone,
                });
            }
        }
        Ok(out)
    }

    /// Not offered: X bills each post read ($0.005) and limits reading, so watching an account
    /// all day would cost more than it brings (the config refuses it before this is reached).
    async fn recent(&self, _watch: &Watch, _after: Option<&Cursor>) -> Result<Recent, PlatformError> {
        Err(PlatformError::Internal { message: "following X accounts is not supported".into() })
    }

    /// The post's id is in its link: nothing to ask X (which would bill the read).
    async fn resolve(&self, address: &Address) -> Result<RemoteRef, PlatformError> {
        match address {
            Address::X { id } => {
                Ok(RemoteRef { id: id.clone(), url: Some(wire::post_url(None, id)), uri: None, cid: None })
            }
            other => Err(PlatformError::Internal {
                message: format!("an X account cannot repost a post on {}", other.network()),
            }),
        }
    }

    /// `DELETE /2/users/:id/retweets/:source`, only where loudhailer retweeted it before (X bills
    /// the delete).
    async fn unboost(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        if !req.earlier.is_empty() {
            self.unretweet(&req.target.id).await?;
        }
        Ok(req.target.clone())
    }
}

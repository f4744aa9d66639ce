//! Mastodon's REST API (and servers that speak it: GoToSocial, Pleroma, Akkoma).
//!
//! Posts carry an `Idempotency-Key` (the job's stored intent key), so a retry inside the
//! server's memory of it (an hour on Mastodon) returns the first post instead of a second one.
//! Boosts are idempotent on the server: boosting twice returns the same boost.
//!
//! After a crash or an ambiguous failure the engine sends the job again with `resend`: within
//! the server's memory of the key the same key is enough; past it (or on a server without the
//! header) the account's recent posts are read and matched first, so nothing is posted twice.
//!
//! Images: `POST /api/v2/media` with the file and its `description` (the alt text); a server
//! that answers 202 is still processing it, and `GET /api/v1/media/:id` is polled until the
//! image has a URL. The post names the uploads in `media_ids`. The limits come from the same
//! instance document as the length limits (`configuration.media_attachments`).

pub mod oauth;
mod reconcile;
mod watch;

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use url::Url;

use super::http::Http;
use super::{BoostRequest, Platform, PlatformError, PostRequest, UnboostRequest, Upload};
use crate::address::Address;
use crate::config::{Account, Watch};
use crate::count::Counter;
use crate::follow::{Cursor, Recent};
use crate::job::{MediaRef, RemoteRef};
use crate::media::Limits;
use crate::metrics::{Counts, Reading};
use crate::network::Network;
use crate::secret::Secret;

pub struct Mastodon {
    server: Url,
    token: Secret,
    http: Http,
    visibility: Option<String>,
    /// Learnt once: the account's own id, and how long the server remembers a key.
    me: Mutex<Option<String>>,
    key_memory: Mutex<Option<Duration>>,
    /// The server's own domain (links to its posts name it), once read.
    domain: Mutex<Option<String>>,
    /// What the server takes as an image, from its instance document, once read.
    image_limits: Mutex<Option<Limits>>,
    /// Watched handles → their ids on this server.
    handles: Mutex<std::collections::HashMap<String, String>>,
}

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    url: Option<String>,
    uri: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    in_reply_to_id: Option<String>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    reblogged: Option<bool>,
    #[serde(default)]
    favourites_count: Option<u64>,
    #[serde(default)]
    reblogs_count: Option<u64>,
    #[serde(default)]
    replies_count: Option<u64>,
    /// Mastodon 4.5+.
    #[serde(default)]
    quotes_count: Option<u64>,
    #[serde(default)]
    account: Option<StatusAccount>,
    #[serde(default)]
    in_reply_to_account_id: Option<String>,
    /// A boost: the boosted status.
    #[serde(default)]
    reblog: Option<Box<Status>>,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Debug, Deserialize)]
struct StatusAccount {
    id: String,
}

#[derive(Debug, Deserialize)]
struct Tag {
    name: String,
}

impl Status {
    fn counts(&self) -> Counts {
        Counts {
            likes: self.favourites_count,
            reposts: self.reblogs_count,
            replies: self.replies_count,
            quotes: self.quotes_count,
            views: None,
        }
    }
}

/// How many ids one `GET /api/v1/statuses?id[]=` may carry.
const BATCH: usize = 20;

#[derive(Debug, Deserialize)]
struct Instance {
    /// v2: the server's own domain, as its links and handles name it.
    #[serde(default)]
    domain: Option<String>,
    /// v1: the same.
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source_url: Option<String>,
    #[serde(default)]
    configuration: Option<InstanceConfig>,
    /// Pleroma/Akkoma on v1.
    #[serde(default)]
    max_toot_chars: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct InstanceConfig {
    #[serde(default)]
    statuses: Option<StatusLimits>,
}

#[derive(Debug, Deserialize)]
struct StatusLimits {
    #[serde(default)]
    max_characters: Option<usize>,
    #[serde(default)]
    characters_reserved_per_url: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct Credential {
    id: String,
}

/// A `MediaAttachment`: its URL is null while the server is still processing it.
#[derive(Debug, Deserialize)]
struct Attachment {
    id: String,
    #[serde(default)]
    url: Option<String>,
}

/// How often, and how many times, an image the server is still processing is looked at.
const PROCESSING_POLL: Duration = Duration::from_secs(1);
const PROCESSING_POLLS: usize = 60;

#[derive(Debug, Deserialize)]
struct SearchResults {
    #[serde(default)]
    statuses: Vec<Status>,
}

impl Mastodon {
    pub fn new(account: &Account, token: Secret, http: Http) -> Mastodon {
        Mastodon {
            server: account.server.clone(),
            token,
            http,
            visibility: account.visibility.clone(),
            me: Mutex::new(None),
            key_memory: Mutex::new(None),
            domain: Mutex::new(None),
            image_limits: Mutex::new(None),
            handles: Mutex::default(),
        }
    }

    fn url(&self, path: &str) -> Url {
        self.server.join(path).unwrap_or_else(|_| self.server.clone())
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.client().get(self.url(path)).header("Authorization", Http::bearer(&self.token))
    }

    fn post_to(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.client().post(self.url(path)).header("Authorization", Http::bearer(&self.token))
    }

    fn remember<T: Clone>(slot: &Mutex<Option<T>>, value: T) -> T {
        *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(value.clone());
        value
    }

    fn recall<T: Clone>(slot: &Mutex<Option<T>>) -> Option<T> {
        slot.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn instance(&self) -> Result<Instance, PlatformError> {
        let v2 = self.http.send_raw(self.http.client().get(self.url("/api/v2/instance"))).await?;
        let document: serde_json::Value = if v2.status.is_success() {
            v2.json()?
        } else {
            self.http.send(self.http.client().get(self.url("/api/v1/instance"))).await?.json()?
        };
        Self::remember(&self.image_limits, Limits::from_mastodon_instance(&document));
        let instance: Instance = serde_json::from_value(document)
            .map_err(|e| PlatformError::Retry(format!("malformed instance document from the server ({e})")))?;
        let memory = reconcile::key_memory(
            instance.version.as_deref().unwrap_or(""),
            instance.source_url.as_deref().unwrap_or(""),
        );
        Self::remember(&self.key_memory, memory);
        if let Some(domain) = instance.domain.clone().or_else(|| instance.uri.clone()) {
            let bare = domain.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
            Self::remember(&self.domain, bare.to_ascii_lowercase());
        }
        Ok(instance)
    }

    async fn me(&self) -> Result<String, PlatformError> {
        if let Some(id) = Self::recall(&self.me) {
            return Ok(id);
        }
        let reply = self.http.send(self.get("/api/v1/accounts/verify_credentials")).await?;
        Ok(Self::remember(&self.me, reply.json::<Credential>()?.id))
    }

    /// Our post among the account's recent ones (same text, same parent, made since the first
    /// attempt), if the server has it.
    async fn find_recent(&self, req: &PostRequest<'_>) -> Result<Option<Status>, PlatformError> {
        let me = self.me().await?;
        let want = reconcile::normalise(req.text);
        let since = crate::checked::saturating_add(req.created_at, chrono::Duration::minutes(-2));
        let mut max_id: Option<String> = None;
        for _page in 0..10 {
            let mut query = vec![("limit", "40".to_string()), ("exclude_reblogs", "true".to_string())];
            if let Some(m) = &max_id {
                query.push(("max_id", m.clone()));
            }
            let page: Vec<Status> =
                self.http.send(self.get(&format!("/api/v1/accounts/{me}/statuses")).query(&query)).await?.json()?;
            let Some(last) = page.last() else { return Ok(None) };
            let older_than_intent = last.created_at.is_some_and(|t| t < since);
            max_id = Some(last.id.clone());
            let parent = req.reply_to.map(|p| p.id.as_str());
            if let Some(found) = page.into_iter().find(|s| {
                s.in_reply_to_id.as_deref() == parent
                    && reconcile::html_text(s.content.as_deref().unwrap_or("")) == want
            }) {
                return Ok(Some(found));
            }
            if older_than_intent {
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// This server's id of a post whose id belongs to `origin`: the same id on the same server,
    /// else found by its URL.
    async fn local_id(&self, target: &RemoteRef, origin: &Url) -> Result<String, PlatformError> {
        let same_server = origin.host_str() == self.server.host_str()
            && origin.port_or_known_default() == self.server.port_or_known_default();
        if same_server {
            Ok(target.id.clone())
        } else {
            self.find_by_url(target).await
        }
    }

    /// This server's id of a post that lives on another server, found by its URL.
    async fn find_by_url(&self, target: &RemoteRef) -> Result<String, PlatformError> {
        let url = target.url.as_deref().or(target.uri.as_deref()).ok_or_else(|| PlatformError::Internal {
            message: "the post to boost has no URL to look up on this server".into(),
        })?;
        let request =
            self.get("/api/v2/search").query(&[("q", url), ("resolve", "true"), ("type", "statuses"), ("limit", "1")]);
        let results: SearchResults = self.http.send(request).await?.json()?;
        results
            .statuses
            .into_iter()
            .next()
            .map(|s| s.id)
            .ok_or_else(|| PlatformError::Retry(format!("this server cannot find {url} yet")))
    }
}

fn remote(status: Status) -> RemoteRef {
    RemoteRef { url: status.url.or(status.uri.clone()), uri: status.uri, id: status.id, cid: None }
}

impl Platform for Mastodon {
    fn network(&self) -> Network {
        Network::Mastodon
    }

    async fn verify(&self) -> Result<String, PlatformError> {
        let reply = self.http.send(self.get("/api/v1/accounts/verify_credentials")).await?;
        Ok(Self::remember(&self.me, reply.json::<Credential>()?.id))
    }

    async fn limits(&self) -> Result<Counter, PlatformError> {
        let default = Counter::default_for(Network::Mastodon);
        let (mut max, mut url) = (default.max(), 23);
        let instance = self.instance().await?;
        if let Some(s) = instance.configuration.and_then(|c| c.statuses) {
            max = s.max_characters.unwrap_or(max);
            url = s.characters_reserved_per_url.unwrap_or(url);
        } else if let Some(m) = instance.max_toot_chars {
            max = m;
        }
        Ok(Counter::Mastodon { max, url })
    }

    fn new_key(&self, _now: DateTime<Utc>) -> String {
        uuid::Uuid::new_v4().to_string()
    }

    async fn post(&self, req: &PostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        if req.only_if_sent {
            // A key cannot be asked about without posting: the account's recent posts can.
            return match self.find_recent(req).await? {
                Some(found) => Ok(remote(found)),
                None => Err(PlatformError::NotSent),
            };
        }
        if req.resend {
            let memory = match Self::recall(&self.key_memory) {
                Some(m) => m,
                None => {
                    self.instance().await?;
                    Self::recall(&self.key_memory).unwrap_or_default()
                }
            };
            let age = (self.http.now() - req.created_at).to_std().unwrap_or_default();
            if age >= memory {
                // The server may have forgotten the key: look before sending again.
                if let Some(found) = self.find_recent(req).await? {
                    tracing::info!(id = %found.id, "already on the server (found among the recent posts): not sent again");
                    return Ok(remote(found));
                }
            }
        }
        let mut body = serde_json::json!({ "status": req.text });
        if let Some(parent) = req.reply_to {
            body["in_reply_to_id"] = parent.id.clone().into();
        }
        if let Some(lang) = req.language {
            body["language"] = lang.into();
        }
        if let Some(v) = &self.visibility {
            body["visibility"] = v.clone().into();
        }
        if !req.images.is_empty() {
            body["media_ids"] = req.images.iter().map(|i| i.media.id.clone()).collect::<Vec<_>>().into();
        }
        let key = HeaderValue::from_str(req.key)
            .map_err(|_| PlatformError::Internal { message: "invalid idempotency key".into() })?;
        let request = self.post_to("/api/v1/statuses").header("Idempotency-Key", key).json(&body);
        let status: Status = self.http.send(request).await?.json()?;
        Ok(remote(status))
    }

    /// The server's `configuration.media_attachments` (read with the length limits).
    async fn image_limits(&self) -> Result<Limits, PlatformError> {
        if let Some(limits) = Self::recall(&self.image_limits) {
            return Ok(limits);
        }
        self.instance().await?;
        Ok(Self::recall(&self.image_limits).unwrap_or_else(Limits::mastodon_default))
    }

    /// `POST /api/v2/media` with the file and its description; a 202 (or an answer without a
    /// URL) is polled with `GET /api/v1/media/:id` until the server has processed it.
    async fn upload(&self, upload: &Upload<'_>) -> Result<MediaRef, PlatformError> {
        let image = upload.image;
        let name = if image.mime == "image/png" { "image.png" } else { "image.jpg" };
        let part = reqwest::multipart::Part::bytes(image.bytes.clone())
            .file_name(name)
            .mime_str(image.mime)
            .map_err(|e| PlatformError::Internal { message: format!("cannot name the image's type: {e}") })?;
        let mut form = reqwest::multipart::Form::new().part("file", part);
        if !upload.alt.is_empty() {
            form = form.text("description", upload.alt.to_string());
        }
        let reply = self.http.send(self.post_to("/api/v2/media").multipart(form)).await?;
        let attachment: Attachment = reply.json()?;
        // 202 Accepted: the server is still processing the image, and its URL is null until it
        // has (`GET` answers 206 meanwhile).
        let mut url = attachment.url;
        let mut polls = 0;
        while url.is_none() {
            if polls == PROCESSING_POLLS {
                return Err(PlatformError::Retry(format!(
                    "the server was still processing image {} after {} s",
                    attachment.id,
                    PROCESSING_POLL.as_secs() * PROCESSING_POLLS as u64
                )));
            }
            polls += 1;
            tokio::time::sleep(PROCESSING_POLL).await;
            let polled = self.http.send(self.get(&format!("/api/v1/media/{}", attachment.id))).await?;
            url = polled.json::<Attachment>()?.url;
        }
        tracing::debug!(media = %attachment.id, polls, "the server has the image");
        Ok(MediaRef {
            id: attachment.id,
            blob: None,
            width: image.width,
            height: image.height,
            at: self.http.now(),
            expires: None,
        })
    }

    /// `GET /api/v1/media/:id`: Mastodon answers only for an upload that is still there and no
    /// post has taken yet.
    async fn media_alive(&self, media: &MediaRef) -> Result<bool, PlatformError> {
        let reply = self.http.send_raw(self.get(&format!("/api/v1/media/{}", media.id))).await?;
        match reply.status.as_u16() {
            200..=299 => Ok(true),
            404 | 410 => Ok(false),
            _ => Err(self.http.classify(&reply)),
        }
    }

    async fn boost(&self, req: &BoostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        let id = self.local_id(req.target, req.origin).await?;
        if req.only_if_sent {
            let original: Status = self.http.send(self.get(&format!("/api/v1/statuses/{id}"))).await?.json()?;
            return match original.reblogged {
                Some(true) => Ok(remote(original)),
                _ => Err(PlatformError::NotSent),
            };
        }
        let mut request = self.post_to(&format!("/api/v1/statuses/{id}/reblog"));
        if let Some(v) = &self.visibility {
            request = request.json(&serde_json::json!({ "visibility": v }));
        }
        let status: Status = self.http.send(request).await?.json()?;
        if req.resend {
            // Boosting is idempotent on the server; read it back anyway before recording it.
            let original: Status = self.http.send(self.get(&format!("/api/v1/statuses/{id}"))).await?.json()?;
            if original.reblogged == Some(false) {
                return Err(PlatformError::Retry("the server does not show the boost yet".into()));
            }
        }
        Ok(remote(status))
    }

    /// `GET /api/v1/statuses?id[]=` in batches (Mastodon 4.3+); one by one where the server
    /// does not have the batch form.
    async fn metrics(&self, posts: &[RemoteRef]) -> Result<Vec<Reading>, PlatformError> {
        let mut out = Vec::with_capacity(posts.len());
        for chunk in posts.chunks(BATCH) {
            let query: Vec<(&str, &str)> = chunk.iter().map(|p| ("id[]", p.id.as_str())).collect();
            let reply = self.http.send_raw(self.get("/api/v1/statuses").query(&query)).await?;
            if reply.status.is_success() {
                let found: Vec<Status> = reply.json()?;
                for p in chunk {
                    let status = found.iter().find(|s| s.id == p.id);
                    out.push(status.map_or(Reading::Gone, |s| Reading::Counts(s.counts())));
                }
                continue;
            }
            if !matches!(reply.status.as_u16(), 400 | 404 | 405 | 422) {
                return Err(self.http.classify(&reply));
            }
            for p in chunk {
                let one = self.http.send_raw(self.get(&format!("/api/v1/statuses/{}", p.id))).await?;
                out.push(match one.status.as_u16() {
                    200..=299 => Reading::Counts(one.json::<Status>()?.counts()),
                    404 | 410 => Reading::Gone,
                    _ => return Err(self.http.classify(&one)),
                });
            }
        }
        Ok(out)
    }

    async fn recent(&self, watch: &Watch, after: Option<&Cursor>) -> Result<Recent, PlatformError> {
        self.read_recent(watch, after).await
    }

    async fn resolve(&self, address: &Address) -> Result<RemoteRef, PlatformError> {
        self.look_up(address).await
    }

    /// `POST /api/v1/statuses/:id/unreblog` (a no-op where there is no boost to undo).
    async fn unboost(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        if req.earlier.is_empty() {
            return Ok(req.target.clone());
        }
        let id = self.local_id(req.target, req.origin).await?;
        self.http.send(self.post_to(&format!("/api/v1/statuses/{id}/unreblog"))).await?;
        Ok(req.target.clone())
    }
}

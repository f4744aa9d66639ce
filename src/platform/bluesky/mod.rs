//! Bluesky, over the AT Protocol's XRPC: posts and reposts as records in the account's repo,
//! engagement counts from the AppView through the PDS.
//!
//! Exactly once: the intent key the engine stores before sending is the record key (a TID),
//! so a post or repost has one possible address before it is made. A first attempt is a
//! `createRecord` at that key. A resend (an earlier attempt may have reached the server) first
//! reads the key with `getRecord`: whatever is there was written for this job, since the key is
//! unique to it, and is taken as the result. The reference PDS answers a second `createRecord`
//! at a taken key with HTTP 500, so a 5xx is also checked with `getRecord` before it counts as
//! a failure. No sequence of retries can make a second record: the repo holds one per key.
//!
//! Images: `com.atproto.repo.uploadBlob` with the image's bytes answers a blob, which the post
//! embeds (`app.bsky.embed.images`, with `alt` and `aspectRatio`). The PDS keeps a blob no
//! record uses only for a while, and there is no asking whether it still has one: a post it
//! refuses with `BlobNotFound` is answered with [`PlatformError::MediaGone`], and the images are
//! uploaded again.

mod record;
mod richtext;
mod session;
mod watch;

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tracing::{info, warn};
use url::Url;

use super::http::{classify, Http, Reply};
use super::{BoostRequest, Platform, PlatformError, PostRequest, UnboostRequest, Upload};
use crate::address::Address;
use crate::config::Watch;
use crate::count::Counter;
use crate::follow::{Cursor, Recent};
use crate::job::{MediaRef, RemoteRef};
use crate::media::Limits;
use crate::metrics::{Counts, Reading};
use crate::network::Network;
use crate::secret::Secret;
use crate::sessions::Sessions;
pub use record::{is_tid, POST, REPOST};
pub use richtext::{detect, facets, Found};
pub use session::Session;
use session::{xrpc, xrpc_error, Auth};
use std::sync::Arc;

/// How many posts one `app.bsky.feed.getPosts` may ask for.
pub const BATCH: usize = 25;

/// One Bluesky account's client.
pub struct Bluesky {
    account: String,
    auth: Auth,
    http: Http,
    /// Handles resolved so far (lower-case) → DID.
    handles: Mutex<HashMap<String, String>>,
    /// The microsecond of the last key handed out.
    last_key: Mutex<i64>,
}

/// A record as `createRecord`/`getRecord` name it.
#[derive(Debug, Deserialize)]
struct Made {
    uri: String,
    cid: String,
}

#[derive(Debug, Deserialize)]
struct Resolved {
    did: String,
}

#[derive(Debug, Deserialize)]
struct Posts {
    posts: Vec<PostView>,
}

/// The parts of an AppView `postView` the counts need.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostView {
    uri: String,
    #[serde(default)]
    like_count: Option<u64>,
    #[serde(default)]
    repost_count: Option<u64>,
    #[serde(default)]
    reply_count: Option<u64>,
    #[serde(default)]
    quote_count: Option<u64>,
}

impl Bluesky {
    /// A client for `identifier` (handle or DID) with its app password, logging in at
    /// `server`; the session is read from and kept in `store` under `account`.
    pub fn new(
        account: &str,
        identifier: &str,
        server: Url,
        password: Secret,
        http: Http,
        sessions: Arc<dyn Sessions>,
    ) -> Bluesky {
        Bluesky {
            account: account.to_string(),
            auth: Auth::new(account, identifier, server, password, http.clone(), sessions),
            http,
            handles: Mutex::default(),
            last_key: Mutex::new(0),
        }
    }

    /// The record at `rkey` in the account's `collection`, if there is one.
    async fn get_record(&self, collection: &str, rkey: &str) -> Result<Option<Made>, PlatformError> {
        let build = |base: &Url, s: &Session| {
            let query = [("repo", s.did.as_str()), ("collection", collection), ("rkey", rkey)];
            self.http.client().get(xrpc(base, "com.atproto.repo.getRecord")).query(&query)
        };
        let (reply, _) = self.auth.send(build).await?;
        if reply.status.is_success() {
            return Ok(Some(reply.json()?));
        }
        match (reply.status.as_u16(), xrpc_error(&reply).as_deref()) {
            (400, Some("RecordNotFound")) | (404, _) => Ok(None),
            _ => Err(fail(&reply)),
        }
    }

    /// `createRecord` of `record` at `rkey`; a 5xx is checked with `getRecord` (the reference
    /// PDS answers 500 when the key is taken, i.e. when an earlier attempt succeeded).
    async fn create(
        &self,
        collection: &str,
        rkey: &str,
        record: &atrium_api::record::KnownRecord,
    ) -> Result<(Made, Session), PlatformError> {
        let build = |base: &Url, s: &Session| {
            let body = json!({ "repo": s.did, "collection": collection, "rkey": rkey, "record": record });
            self.http.client().post(xrpc(base, "com.atproto.repo.createRecord")).json(&body)
        };
        let (reply, session) = self.auth.send(build).await?;
        if reply.status.is_success() {
            return Ok((reply.json()?, session));
        }
        if reply.status.is_server_error() {
            if let Ok(Some(made)) = self.get_record(collection, rkey).await {
                info!(account = %self.account, rkey, "the server failed the create, but the record is there: an earlier attempt made it");
                return Ok((made, session));
            }
        }
        if xrpc_error(&reply).as_deref() == Some("BlobNotFound") {
            return Err(PlatformError::MediaGone(reply.message()));
        }
        Err(fail(&reply))
    }

    /// The DIDs of `handles`; those that do not resolve are left out with a warning (their
    /// mention stays plain text), and nothing here fails the post.
    async fn resolve(&self, handles: &[&str]) -> HashMap<String, String> {
        let mut out = HashMap::new();
        for &handle in handles {
            match self.lookup(handle).await {
                Ok(Some(did)) => {
                    out.insert(handle.to_string(), did);
                }
                Ok(None) => {
                    warn!(account = %self.account, handle, "@{handle} is not a Bluesky account; the mention stays plain text")
                }
                Err(e) => {
                    warn!(account = %self.account, handle, error = %e, "cannot look up a mentioned handle now; it stays plain text")
                }
            }
        }
        out
    }

    /// `com.atproto.identity.resolveHandle` on the account's PDS. DIDs found are kept for the
    /// run; a handle that is not found is asked again next time (it may be made later in the day).
    async fn lookup(&self, handle: &str) -> Result<Option<String>, PlatformError> {
        if let Some(did) = self.handles.lock().unwrap_or_else(|e| e.into_inner()).get(handle) {
            return Ok(Some(did.clone()));
        }
        let build = |base: &Url, _: &Session| {
            self.http.client().get(xrpc(base, "com.atproto.identity.resolveHandle")).query(&[("handle", handle)])
        };
        let (reply, _) = self.auth.send(build).await?;
        if matches!(reply.status.as_u16(), 400 | 404) {
            return Ok(None);
        }
        if !reply.status.is_success() {
            return Err(fail(&reply));
        }
        let did = reply.json::<Resolved>()?.did;
        self.handles.lock().unwrap_or_else(|e| e.into_inner()).insert(handle.to_string(), did.clone());
        Ok(Some(did))
    }

    fn checked_key(key: &str) -> Result<(), PlatformError> {
        if is_tid(key) {
            Ok(())
        } else {
            Err(PlatformError::Internal {
                message: format!("the stored intent key {key:?} is not a TID, so it cannot be a Bluesky record key"),
            })
        }
    }
}

/// An error answer, classified: a refused or deactivated account pauses it (auth), other
/// 4xx are permanent, 5xx are retried.
fn fail(reply: &Reply) -> PlatformError {
    let code = reply.status.as_u16();
    match xrpc_error(reply).as_deref() {
        Some("ExpiredToken" | "InvalidToken" | "AccountTakedown" | "AccountDeactivated" | "AuthenticationRequired") => {
            PlatformError::Auth { status: code, message: reply.message() }
        }
        _ => classify(reply.status, reply.message()),
    }
}

fn permanent(message: String) -> PlatformError {
    PlatformError::Internal { message }
}

/// The reference of a post this account made.
fn post_ref(made: Made, session: &Session) -> RemoteRef {
    let who =
        if session.handle.is_empty() || session.handle == "handle.invalid" { &session.did } else { &session.handle };
    RemoteRef {
        url: Some(record::post_url(who, &made.uri)),
        id: made.uri.clone(),
        uri: Some(made.uri),
        cid: Some(made.cid),
    }
}

impl Platform for Bluesky {
    fn network(&self) -> Network {
        Network::Bluesky
    }

    /// `getSession` with the stored (or a fresh) session: the account's DID.
    async fn verify(&self) -> Result<String, PlatformError> {
        let build = |base: &Url, _: &Session| self.http.client().get(xrpc(base, "com.atproto.server.getSession"));
        let (reply, session) = self.auth.send(build).await?;
        if !reply.status.is_success() {
            return Err(fail(&reply));
        }
        info!(account = %self.account, did = %session.did, handle = %session.handle, pds = %self.auth.base(&session), "signed in to Bluesky");
        Ok(session.did)
    }

    /// Bluesky's 300 graphemes per post; no server says otherwise.
    async fn limits(&self) -> Result<Counter, PlatformError> {
        Ok(Counter::default_for(Network::Bluesky))
    }

    /// A TID: the record key the post or repost will have.
    fn new_key(&self, now: DateTime<Utc>) -> String {
        let mut last = self.last_key.lock().unwrap_or_else(|e| e.into_inner());
        let (key, used) = record::tid(now, *last, rand::random::<u32>());
        *last = used;
        key
    }

    async fn post(&self, req: &PostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        Self::checked_key(req.key)?;
        if req.resend || req.only_if_sent {
            if let Some(made) = self.get_record(POST, req.key).await? {
                info!(account = %self.account, uri = %made.uri, "the post was made by an earlier attempt");
                let session = self.auth.session().await?;
                return Ok(post_ref(made, &session));
            }
            if req.only_if_sent {
                return Err(PlatformError::NotSent);
            }
        }
        let reply = match req.reply_to {
            Some(parent) => {
                let root = record::strong_ref(req.root.unwrap_or(parent)).map_err(permanent)?;
                Some((root, record::strong_ref(parent).map_err(permanent)?))
            }
            None => None,
        };
        let embed = match req.images {
            [] => None,
            images => Some(record::images_embed(images).map_err(permanent)?),
        };
        let found = detect(req.text);
        let dids = self.resolve(&richtext::mentioned(&found)).await;
        let record = record::post(req.text, facets(&found, &dids), reply, req.language, req.created_at, embed);
        let (made, session) = self.create(POST, req.key, &record).await?;
        Ok(post_ref(made, &session))
    }

    /// Bluesky's published limits: 1,000,000 bytes, 2,000 pixels a side (see `media`).
    async fn image_limits(&self) -> Result<Limits, PlatformError> {
        Ok(Limits::bluesky())
    }

    /// `com.atproto.repo.uploadBlob`: the blob the post will embed.
    async fn upload(&self, upload: &Upload<'_>) -> Result<MediaRef, PlatformError> {
        let image = upload.image;
        let bytes = bytes::Bytes::copy_from_slice(&image.bytes);
        let build = |base: &Url, _: &Session| {
            self.http
                .client()
                .post(xrpc(base, "com.atproto.repo.uploadBlob"))
                .header(reqwest::header::CONTENT_TYPE, image.mime)
                .body(bytes.clone())
        };
        let (reply, _) = self.auth.send(build).await?;
        if !reply.status.is_success() {
            return Err(fail(&reply));
        }
        let answer: serde_json::Value = reply.json()?;
        let blob = answer.get("blob").cloned().unwrap_or_default();
        let cid = blob["ref"]["$link"]
            .as_str()
            .ok_or_else(|| PlatformError::Retry("the server answered uploadBlob without a blob".into()))?
            .to_string();
        Ok(MediaRef {
            id: cid,
            blob: Some(blob),
            width: image.width,
            height: image.height,
            at: self.http.now(),
            expires: None,
        })
    }

    /// There is no asking a PDS whether it still holds a blob no record uses yet: the post says
    /// (`BlobNotFound`, see [`Bluesky::create`]).
    async fn media_alive(&self, _media: &MediaRef) -> Result<bool, PlatformError> {
        Ok(true)
    }

    async fn boost(&self, req: &BoostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        Self::checked_key(req.key)?;
        let subject = record::strong_ref(req.target).map_err(permanent)?;
        let made = match req.resend || req.only_if_sent {
            true => self.get_record(REPOST, req.key).await?,
            false => None,
        };
        let made = match made {
            Some(made) => {
                info!(account = %self.account, uri = %made.uri, "the repost was made by an earlier attempt");
                made
            }
            None if req.only_if_sent => return Err(PlatformError::NotSent),
            None => self.create(REPOST, req.key, &record::repost(subject, req.created_at)).await?.0,
        };
        Ok(RemoteRef { id: made.uri.clone(), url: req.target.url.clone(), uri: Some(made.uri), cid: Some(made.cid) })
    }

    /// `app.bsky.feed.getPosts` through the PDS (which asks its AppView), 25 at a time.
    async fn metrics(&self, posts: &[RemoteRef]) -> Result<Vec<Reading>, PlatformError> {
        let uri_of = |p: &RemoteRef| p.uri.clone().unwrap_or_else(|| p.id.clone());
        let mut out = Vec::with_capacity(posts.len());
        for chunk in posts.chunks(BATCH) {
            let uris: Vec<String> = chunk.iter().map(uri_of).filter(|u| u.starts_with("at://")).collect();
            let found = if uris.is_empty() {
                Vec::new()
            } else {
                let build = |base: &Url, _: &Session| {
                    let query: Vec<(&str, &str)> = uris.iter().map(|u| ("uris", u.as_str())).collect();
                    self.http.client().get(xrpc(base, "app.bsky.feed.getPosts")).query(&query)
                };
                let (reply, _) = self.auth.send(build).await?;
                if !reply.status.is_success() {
                    return Err(fail(&reply));
                }
                reply.json::<Posts>()?.posts
            };
            for p in chunk {
                let uri = uri_of(p);
                out.push(match found.iter().find(|v| v.uri == uri) {
                    Some(v) => Reading::Counts(Counts {
                        likes: v.like_count,
                        reposts: v.repost_count,
                        replies: v.reply_count,
                        quotes: v.quote_count,
                        views: None,
                    }),
                    None => Reading::Gone,
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

    async fn unboost(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        self.delete_reposts(req).await
    }
}

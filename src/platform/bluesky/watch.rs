//! Bluesky for posts made by hand: reading a watched account's feed (`getAuthorFeed`) since a
//! position, finding a post by its bsky.app link or at:// URI, and deleting earlier reposts.
//!
//! `getAuthorFeed` pages backwards in time with its own cursor, so a poll reads from the newest
//! item back to the stored position (the newest feed time read before), page by page. The feed
//! is ordered by each item's sort time (a post's earlier of creation and indexing, a repost's
//! time); a post indexed late can sort a little before the stored position, so each poll reads
//! [`OVERLAP`] further back: a post seen twice plans nothing new.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use super::session::{xrpc, Session};
use super::{fail, record, Bluesky, REPOST};
use crate::address::Address;
use crate::config::{Watch, Watched};
use crate::follow::{Cursor, Recent, Seen};
use crate::job::RemoteRef;
use crate::platform::{PlatformError, UnboostRequest};

/// Items per page.
const PAGE: usize = 50;
/// Pages read back in one poll at most.
const PAGES: usize = 5;
/// How far before the stored position each poll reads again.
pub const OVERLAP: chrono::Duration = chrono::Duration::minutes(5);

#[derive(Debug, Deserialize)]
pub(super) struct Feed {
    #[serde(default)]
    feed: Vec<FeedItem>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FeedItem {
    post: FeedPost,
    #[serde(default)]
    reason: Option<Reason>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FeedPost {
    uri: String,
    cid: String,
    author: Author,
    record: serde_json::Value,
    #[serde(default)]
    indexed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize)]
struct Author {
    did: String,
    #[serde(default)]
    handle: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reason {
    #[serde(rename = "$type", default)]
    kind: String,
    #[serde(default)]
    indexed_at: Option<DateTime<Utc>>,
}

impl FeedItem {
    /// Where the item sits in the feed.
    fn sort_at(&self) -> Option<DateTime<Utc>> {
        if let Some(r) = &self.reason {
            return r.indexed_at;
        }
        let created = self.post.record.get("createdAt").and_then(|v| v.as_str()).and_then(|t| t.parse().ok());
        match (created, self.post.indexed_at) {
            (Some(c), Some(i)) => Some(std::cmp::min(c, i)),
            (c, i) => c.or(i),
        }
    }

    fn is_repost(&self) -> bool {
        self.reason.as_ref().is_some_and(|r| r.kind.ends_with("#reasonRepost"))
    }
}

/// A feed item as a watch sees it, or `None` for what is not a post (a pin, say).
fn seen(item: &FeedItem, watched_did: &str) -> Option<Seen> {
    let repost = item.is_repost();
    if item.reason.is_some() && !repost {
        return None;
    }
    let record = &item.post.record;
    let text = record.get("text").and_then(|t| t.as_str()).unwrap_or_default().to_string();
    let parent = record.pointer("/reply/parent/uri").and_then(|u| u.as_str());
    let reply = parent.is_some_and(|u| !u.starts_with(&format!("at://{}/", item.post.author.did)));
    let mut tags: Vec<String> = record
        .get("facets")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
        .flat_map(|f| f.get("features").and_then(|x| x.as_array()).cloned().unwrap_or_default())
        .filter_map(|feature| feature.get("tag").and_then(|t| t.as_str()).map(|t| t.to_lowercase()))
        .collect();
    if let Some(list) = record.get("tags").and_then(|t| t.as_array()) {
        tags.extend(list.iter().filter_map(|t| t.as_str()).map(str::to_lowercase));
    }
    if !repost && item.post.author.did != watched_did {
        return None;
    }
    let who = item.post.author.handle.as_deref().filter(|h| *h != "handle.invalid").unwrap_or(&item.post.author.did);
    let remote = RemoteRef {
        url: Some(record::post_url(who, &item.post.uri)),
        id: item.post.uri.clone(),
        uri: Some(item.post.uri.clone()),
        cid: Some(item.post.cid.clone()),
    };
    Some(Seen { remote, key: item.post.uri.clone(), created_at: item.sort_at()?, text, tags, reply, repost })
}

impl Bluesky {
    /// The watched account's DID: the account's own, or a handle's, resolved.
    async fn watched_did(&self, watch: &Watch) -> Result<String, PlatformError> {
        match &watch.watched {
            Watched::Account(_) => Ok(self.auth.session().await?.did),
            Watched::Handle(h) if h.starts_with("did:") => Ok(h.clone()),
            Watched::Handle(h) => {
                self.lookup(h).await?.ok_or_else(|| PlatformError::Retry(format!("{h} is not a Bluesky handle (yet)")))
            }
        }
    }

    /// `app.bsky.feed.getAuthorFeed` back to the stored position (less [`OVERLAP`]).
    pub(super) async fn read_recent(&self, watch: &Watch, after: Option<&Cursor>) -> Result<Recent, PlatformError> {
        let did = self.watched_did(watch).await?;
        let floor = match after {
            Some(Cursor::At(t)) => Some(crate::checked::saturating_add(*t, -OVERLAP)),
            _ => None,
        };
        let mut items: Vec<FeedItem> = Vec::new();
        let mut page_cursor: Option<String> = None;
        for _ in 0..PAGES {
            let build = |base: &Url, _: &Session| {
                let mut query = vec![
                    ("actor", did.clone()),
                    ("limit", PAGE.to_string()),
                    ("filter", "posts_with_replies".to_string()),
                ];
                if let Some(c) = &page_cursor {
                    query.push(("cursor", c.clone()));
                }
                self.http.client().get(xrpc(base, "app.bsky.feed.getAuthorFeed")).query(&query)
            };
            let (reply, _) = self.auth.send(build).await?;
            if !reply.status.is_success() {
                // An account the AppView has not indexed yet (a new one, or one just moved):
                // its feed comes in a moment.
                if reply.status.as_u16() == 400 && reply.message().contains("Profile not found") {
                    return Err(PlatformError::Retry(format!("the AppView does not know {did} yet")));
                }
                return Err(fail(&reply));
            }
            let page: Feed = reply.json()?;
            let reached = floor.is_none_or(|f| page.feed.iter().any(|i| i.sort_at().is_some_and(|t| t < f)));
            items.extend(page.feed);
            page_cursor = page.cursor;
            // The first read takes the newest page only: what came before is not new.
            if floor.is_none() || reached || page_cursor.is_none() {
                break;
            }
        }
        let newest = items.iter().filter_map(FeedItem::sort_at).max();
        let mut posts: Vec<Seen> = items
            .iter()
            .filter(|i| floor.is_none_or(|f| i.sort_at().is_some_and(|t| t >= f)))
            .filter_map(|i| seen(i, &did))
            .collect();
        posts.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.key.cmp(&b.key)));
        posts.dedup_by(|a, b| a.key == b.key);
        let cursor = match (newest, after) {
            (Some(n), Some(Cursor::At(old))) if n < *old => Some(Cursor::At(*old)),
            (Some(n), _) => Some(Cursor::At(n)),
            (None, old) => old.cloned(),
        };
        Ok(Recent { posts, cursor })
    }

    /// A post by its bsky.app link or at:// URI: the author's DID (a handle is resolved), then
    /// the post's CID from the AppView.
    pub(super) async fn look_up(&self, address: &Address) -> Result<RemoteRef, PlatformError> {
        let Address::Bluesky { actor, rkey } = address else {
            return Err(PlatformError::Internal {
                message: format!("a Bluesky account cannot repost a post on {}", address.network()),
            });
        };
        let did = if actor.starts_with("did:") {
            actor.clone()
        } else {
            self.lookup(actor).await?.ok_or_else(|| PlatformError::Permanent {
                status: 400,
                message: format!("{actor} is not a Bluesky account"),
            })?
        };
        let uri = format!("at://{did}/app.bsky.feed.post/{rkey}");
        let build = |base: &Url, _: &Session| {
            self.http.client().get(xrpc(base, "app.bsky.feed.getPosts")).query(&[("uris", uri.as_str())])
        };
        let (reply, _) = self.auth.send(build).await?;
        if !reply.status.is_success() {
            return Err(fail(&reply));
        }
        #[derive(Deserialize)]
        struct Views {
            posts: Vec<View>,
        }
        #[derive(Deserialize)]
        struct View {
            uri: String,
            cid: String,
        }
        let view = reply.json::<Views>()?.posts.into_iter().find(|p| p.uri == uri).ok_or_else(|| {
            PlatformError::Retry(format!("{uri} is not on the AppView (deleted, or not indexed yet)"))
        })?;
        Ok(RemoteRef {
            url: Some(record::post_url(actor, &view.uri)),
            id: view.uri.clone(),
            uri: Some(view.uri),
            cid: Some(view.cid),
        })
    }

    /// Deletes this account's earlier reposts of the post (`deleteRecord` is a no-op for a record
    /// already gone, so a retry is safe). The PDS would also drop an older repost of the same
    /// post when the new one is made; deleting first makes the repeat the same on any PDS.
    pub(super) async fn delete_reposts(&self, req: &UnboostRequest<'_>) -> Result<RemoteRef, PlatformError> {
        for earlier in req.earlier {
            let uri = earlier.uri.as_deref().unwrap_or(&earlier.id);
            if !uri.contains(&format!("/{REPOST}/")) {
                continue;
            }
            let rkey = record::rkey(uri).to_string();
            let build = |base: &Url, s: &Session| {
                let body = serde_json::json!({ "repo": s.did, "collection": REPOST, "rkey": rkey });
                self.http.client().post(xrpc(base, "com.atproto.repo.deleteRecord")).json(&body)
            };
            let (reply, _) = self.auth.send(build).await?;
            if !reply.status.is_success() {
                return Err(fail(&reply));
            }
            tracing::info!(repost = %uri, "deleted the earlier repost, to repost again");
        }
        Ok(req.target.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(json: serde_json::Value) -> FeedItem {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn feed_items_read_as_the_watch_sees_them() {
        let did = "did:plc:ada";
        let post = item(serde_json::json!({"post": {
            "uri": "at://did:plc:ada/app.bsky.feed.post/3k1", "cid": "bafy1",
            "author": {"did": did, "handle": "ada.test"},
            "record": {"text": "Packed room #EMIEP", "createdAt": "2010-03-18T10:02:00Z",
                "facets": [{"index": {"byteStart": 12, "byteEnd": 18}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "EMIEP"}]}]},
            "indexedAt": "2010-03-18T10:02:01Z"}}));
        let s = seen(&post, did).unwrap();
        assert_eq!(
            (s.text.as_str(), s.tags.clone(), s.reply, s.repost),
            ("Packed room #EMIEP", vec!["emiep".to_string()], false, false)
        );
        assert_eq!(s.remote.url.as_deref(), Some("https://bsky.app/profile/ada.test/post/3k1"));
        assert_eq!(s.created_at.to_rfc3339(), "2010-03-18T10:02:00+00:00", "the earlier of created and indexed");
        // A reply to someone else, and one in the author's own thread.
        let reply = |parent: &str| {
            item(serde_json::json!({"post": {"uri": "at://did:plc:ada/app.bsky.feed.post/3k2", "cid": "b",
            "author": {"did": did}, "record": {"text": "", "createdAt": "2010-03-18T10:03:00Z", "reply": {"parent": {"uri": parent}, "root": {"uri": parent}}}}}))
        };
        assert!(seen(&reply("at://did:plc:bob/app.bsky.feed.post/1"), did).unwrap().reply);
        assert!(!seen(&reply("at://did:plc:ada/app.bsky.feed.post/3k1"), did).unwrap().reply);
        // A repost: the original, at the time of the repost.
        let repost = item(serde_json::json!({"post": {"uri": "at://did:plc:bob/app.bsky.feed.post/9", "cid": "b9",
            "author": {"did": "did:plc:bob", "handle": "bob.test"}, "record": {"text": "theirs", "createdAt": "2010-03-18T08:00:00Z"}},
            "reason": {"$type": "app.bsky.feed.defs#reasonRepost", "by": {"did": did}, "indexedAt": "2010-03-18T10:04:00Z"}}));
        let r = seen(&repost, did).unwrap();
        assert_eq!((r.repost, r.key.as_str()), (true, "at://did:plc:bob/app.bsky.feed.post/9"));
        assert_eq!(r.created_at.to_rfc3339(), "2010-03-18T10:04:00+00:00");
        // A pinned post is not news.
        let pin = item(
            serde_json::json!({"post": {"uri": "at://did:plc:ada/app.bsky.feed.post/1", "cid": "b", "author": {"did": did},
            "record": {"text": "", "createdAt": "2010-03-18T08:00:00Z"}}, "reason": {"$type": "app.bsky.feed.defs#reasonPin"}}),
        );
        assert!(seen(&pin, did).is_none());
    }
}

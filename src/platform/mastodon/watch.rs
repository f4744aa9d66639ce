//! Mastodon for posts made by hand: reading a watched account's statuses since a cursor, its
//! live stream, and finding a post by its link.
//!
//! Reading pages forward with `min_id` (the statuses just after the cursor, oldest first),
//! so a burst of more than a page between two polls is read in full. The live stream is the
//! account's own `user` stream (`/api/v1/streaming/user`, Server-Sent Events): it only says
//! that something happened; what happened is read with the same `min_id` request, so an event
//! lost on a broken connection costs nothing.

use chrono::{DateTime, Utc};
use url::Url;

use super::{reconcile, remote, Mastodon, Status};
use crate::address::Address;
use crate::config::{Watch, Watched};
use crate::follow::{Cursor, Recent, Seen};
use crate::job::RemoteRef;
use crate::platform::http::Http;
use crate::platform::PlatformError;

/// Statuses per page (Mastodon's maximum).
const PAGE: usize = 40;
/// Pages read forward in one poll at most (the rest on the next).
const PAGES: usize = 5;

/// Whether Mastodon id `a` is later than `b`: ids are decimal numbers growing with time.
pub fn later(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

impl Mastodon {
    /// The watched account's id on this server: the account itself, or a handle looked up once.
    async fn watched_id(&self, watch: &Watch) -> Result<String, PlatformError> {
        let handle = match &watch.watched {
            Watched::Account(_) => return self.me().await,
            Watched::Handle(h) => h,
        };
        if let Some(id) = self.handles.lock().unwrap_or_else(|e| e.into_inner()).get(handle) {
            return Ok(id.clone());
        }
        let acct = handle.trim_start_matches('@');
        let (user, host) = acct.split_once('@').unwrap_or((acct, ""));
        let mut tries = vec![acct.to_string()];
        if self.is_local_host(host).await {
            tries.push(user.to_string());
        }
        for q in tries {
            let reply = self.http.send_raw(self.get("/api/v1/accounts/lookup").query(&[("acct", &q)])).await?;
            match reply.status.as_u16() {
                200..=299 => {
                    let id = reply.json::<super::Credential>()?.id;
                    self.handles.lock().unwrap_or_else(|e| e.into_inner()).insert(handle.clone(), id.clone());
                    return Ok(id);
                }
                404 => continue,
                _ => return Err(self.http.classify(&reply)),
            }
        }
        Err(PlatformError::Retry(format!("{handle} is not known to {} (yet)", self.server)))
    }

    /// Whether a host (with any port) is this server's: the configured address, or the domain
    /// its links carry.
    async fn is_local_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        let ours = match (self.server.host_str(), self.server.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => String::new(),
        };
        if host == ours.to_ascii_lowercase() {
            return true;
        }
        if Self::recall(&self.domain).is_none() {
            let _ = self.instance().await;
        }
        Self::recall(&self.domain).is_some_and(|d| d == host)
    }

    /// `GET /api/v1/accounts/:id/statuses` after the cursor, oldest first.
    pub(super) async fn read_recent(&self, watch: &Watch, after: Option<&Cursor>) -> Result<Recent, PlatformError> {
        let id = self.watched_id(watch).await?;
        let mut cursor = match after {
            Some(Cursor::Id(c)) => Some(c.clone()),
            _ => None,
        };
        let first = cursor.is_none();
        let mut statuses: Vec<Status> = Vec::new();
        for _ in 0..PAGES {
            let mut query = vec![
                ("limit", PAGE.to_string()),
                ("exclude_replies", (!watch.replies).to_string()),
                ("exclude_reblogs", (!watch.reposts).to_string()),
            ];
            if let Some(c) = &cursor {
                query.push(("min_id", c.clone()));
            }
            let request = self.get(&format!("/api/v1/accounts/{id}/statuses")).query(&query);
            let page: Vec<Status> = self.http.send(request).await?.json()?;
            let full = page.len() >= PAGE;
            let newest = page.iter().map(|s| s.id.clone()).fold(cursor.clone(), |m, id| match m {
                Some(m) if !later(&id, &m) => Some(m),
                _ => Some(id),
            });
            let moved = newest != cursor;
            cursor = newest;
            statuses.extend(page);
            // The first read takes the newest page only: what came before is not new.
            if first || !full || !moved {
                break;
            }
        }
        statuses.sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
        statuses.dedup_by(|a, b| a.id == b.id);
        let posts = statuses.into_iter().filter_map(|s| seen(s, &id)).collect();
        Ok(Recent { posts, cursor: cursor.map(Cursor::Id).or_else(|| after.cloned()) })
    }

    /// A post by its link: on this server (the link's host is this server's) by the id in the
    /// link, checked against the link; elsewhere by searching for the link (`resolve=true`).
    pub(super) async fn look_up(&self, address: &Address) -> Result<RemoteRef, PlatformError> {
        let Address::Mastodon { url, host, local_id } = address else {
            return Err(PlatformError::Internal {
                message: format!("a Mastodon account cannot repost a post on {}", address.network()),
            });
        };
        if let Some(id) = local_id.as_deref() {
            if self.is_local_host(host).await {
                let reply = self.http.send_raw(self.get(&format!("/api/v1/statuses/{id}"))).await?;
                match reply.status.as_u16() {
                    200..=299 => {
                        let status: Status = reply.json()?;
                        let named = |u: &Option<String>| u.as_deref().is_some_and(|u| same_link(u, url));
                        if named(&status.url) || named(&status.uri) {
                            return Ok(remote(status));
                        }
                    }
                    404 | 410 => {
                        return Err(PlatformError::Permanent {
                            status: reply.status.as_u16(),
                            message: format!("{url}: no such post on {}", self.server),
                        })
                    }
                    _ => return Err(self.http.classify(&reply)),
                }
            }
        }
        let target = RemoteRef { id: String::new(), url: Some(url.clone()), uri: None, cid: None };
        let id = self.find_by_url(&target).await?;
        let status: Status = self.http.send(self.get(&format!("/api/v1/statuses/{id}"))).await?.json()?;
        Ok(remote(status))
    }

    /// Opens the account's own live stream (`/api/v1/streaming/user`). A redirect to another
    /// host (Mastodon's streaming server) is followed once, with the token only over https.
    pub async fn open_stream(&self) -> Result<reqwest::Response, PlatformError> {
        let mut url = self.url("/api/v1/streaming/user");
        for _ in 0..2 {
            let response = self.http.open(url.clone(), Http::bearer(&self.token)).await?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok());
                match next {
                    Some(n) if n.scheme() == "https" || n.host_str() == url.host_str() => {
                        url = n;
                        continue;
                    }
                    _ => break,
                }
            }
            if status.is_success() {
                return Ok(response);
            }
            let code = status.as_u16();
            return Err(match code {
                404 | 405 | 501 => {
                    PlatformError::Permanent { status: code, message: "the server offers no streaming API".into() }
                }
                _ => super::super::http::classify(status, format!("the stream answered {code}")),
            });
        }
        Err(PlatformError::Internal { message: "the stream is redirected where the token would not be safe".into() })
    }

    /// This account's own id on its server, for matching stream events.
    pub async fn own_id(&self) -> Result<String, PlatformError> {
        self.me().await
    }
}

/// Whether two links name the same page: scheme and host case aside, a trailing `/` aside.
fn same_link(a: &str, b: &str) -> bool {
    let norm = |s: &str| Url::parse(s.trim()).map(|u| u.to_string().trim_end_matches('/').to_string()).ok();
    matches!((norm(a), norm(b)), (Some(x), Some(y)) if x == y)
}

/// A status as a watch sees it.
fn seen(status: Status, watched_id: &str) -> Option<Seen> {
    let author = status.account.as_ref().map(|a| a.id.clone());
    let reply = status.in_reply_to_id.is_some()
        && status.in_reply_to_account_id.as_deref().is_none_or(|to| Some(to) != author.as_deref());
    let when: Option<DateTime<Utc>> = status.created_at;
    let (post, repost) = match status.reblog {
        Some(original) => (*original, true),
        None => (status, false),
    };
    if !repost && author.as_deref().is_some_and(|a| a != watched_id) {
        return None;
    }
    let key = post.uri.clone().or_else(|| post.url.clone())?;
    let text = reconcile::html_text(post.content.as_deref().unwrap_or(""));
    let tags = post.tags.iter().map(|t| t.name.to_lowercase()).collect();
    let created_at = when.or(post.created_at)?;
    Some(Seen { remote: remote(post), key, created_at, text, tags, reply, repost })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(json: serde_json::Value) -> Status {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn ids_compare_as_numbers() {
        assert!(later("110", "99"));
        assert!(later("1795476037779", "1795476037777"));
        assert!(!later("99", "99"));
        assert!(!later("1", "20"));
    }

    #[test]
    fn statuses_read_as_the_watch_sees_them() {
        let own = status(serde_json::json!({
            "id": "7", "uri": "https://m.example/users/ada/statuses/7", "url": "https://m.example/@ada/7",
            "content": "<p>Packed room <a href=\"https://m.example/tags/emiep\" class=\"hashtag\">#<span>EMIEP</span></a></p>",
            "created_at": "2010-03-18T10:02:00Z", "account": {"id": "1"},
            "tags": [{"name": "EMIEP"}],
        }));
        let s = seen(own, "1").unwrap();
        assert_eq!(
            (s.text.as_str(), s.tags.as_slice(), s.reply, s.repost),
            ("Packed room #EMIEP", &["emiep".to_string()][..], false, false)
        );
        assert_eq!(s.key, "https://m.example/users/ada/statuses/7");
        assert_eq!(s.remote.id, "7");
        // A reply in one's own thread is not a reply to someone else; one to another account is.
        let thread =
            status(serde_json::json!({"id": "8", "uri": "u8", "content": "", "created_at": "2010-03-18T10:03:00Z",
            "account": {"id": "1"}, "in_reply_to_id": "7", "in_reply_to_account_id": "1"}));
        assert!(!seen(thread, "1").unwrap().reply);
        let answer =
            status(serde_json::json!({"id": "9", "uri": "u9", "content": "", "created_at": "2010-03-18T10:04:00Z",
            "account": {"id": "1"}, "in_reply_to_id": "5", "in_reply_to_account_id": "2"}));
        assert!(seen(answer, "1").unwrap().reply);
        // A boost: the original post, at the time of the boost.
        let boost = status(
            serde_json::json!({"id": "10", "uri": "u10", "content": "", "created_at": "2010-03-18T10:05:00Z",
            "account": {"id": "1"}, "reblog": {"id": "4", "uri": "https://o.example/users/bo/statuses/4", "content": "<p>theirs</p>",
            "created_at": "2010-03-18T09:00:00Z", "account": {"id": "3"}}}),
        );
        let b = seen(boost, "1").unwrap();
        assert_eq!((b.repost, b.remote.id.as_str(), b.text.as_str()), (true, "4", "theirs"));
        assert_eq!(b.created_at.to_rfc3339(), "2010-03-18T10:05:00+00:00");
        // Someone else's status in the list (not a boost) is not the watched account's.
        let other = status(
            serde_json::json!({"id": "11", "uri": "u11", "content": "", "created_at": "2010-03-18T10:06:00Z", "account": {"id": "2"}}),
        );
        assert!(seen(other, "1").is_none());
    }

    #[test]
    fn links_compare_as_pages() {
        assert!(same_link("https://M.example/@ada/7", "https://m.example/@ada/7/"));
        assert!(!same_link("https://m.example/@ada/7", "https://m.example/@ada/8"));
    }
}

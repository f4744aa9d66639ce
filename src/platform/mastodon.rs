//! Mastodon's REST API (and servers that speak it: GoToSocial, Pleroma, Akkoma).
//!
//! Posts carry an `Idempotency-Key` (the job's stored intent key), so a retry inside the
//! server's memory of it (an hour on Mastodon) returns the first post instead of a second one.
//! Boosts are idempotent on the server: boosting twice returns the same boost.

use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use serde::Deserialize;
use url::Url;

use super::http::Http;
use super::{BoostRequest, Platform, PlatformError, PostRequest, WaitSink};
use crate::config::Account;
use crate::count::Counter;
use crate::job::RemoteRef;
use crate::metrics::{Counts, Reading};
use crate::network::Network;
use crate::secret::Secret;

pub struct Mastodon {
    server: Url,
    token: Secret,
    http: Http,
    visibility: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    url: Option<String>,
    uri: Option<String>,
    #[serde(default)]
    favourites_count: Option<u64>,
    #[serde(default)]
    reblogs_count: Option<u64>,
    #[serde(default)]
    replies_count: Option<u64>,
    /// Mastodon 4.5+.
    #[serde(default)]
    quotes_count: Option<u64>,
}

impl Status {
    fn counts(&self) -> Counts {
        Counts {
            likes: self.favourites_count,
            reposts: self.reblogs_count,
            replies: self.replies_count,
            quotes: self.quotes_count,
        }
    }
}

/// How many ids one `GET /api/v1/statuses?id[]=` may carry.
const BATCH: usize = 20;

#[derive(Debug, Deserialize)]
struct Instance {
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

#[derive(Debug, Deserialize)]
struct SearchResults {
    #[serde(default)]
    statuses: Vec<Status>,
}

impl Mastodon {
    pub fn new(account: &Account, token: Secret, http: Http) -> Mastodon {
        Mastodon { server: account.server.clone(), token, http, visibility: account.visibility.clone() }
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

    /// This server's id of a post that lives on another server, found by its URL.
    async fn resolve(&self, target: &RemoteRef, wait: WaitSink<'_>) -> Result<String, PlatformError> {
        let url = target.url.as_deref().or(target.uri.as_deref()).ok_or_else(|| PlatformError::Permanent {
            status: 0,
            message: "the post to boost has no URL to look up on this server".into(),
        })?;
        let request =
            self.get("/api/v2/search").query(&[("q", url), ("resolve", "true"), ("type", "statuses"), ("limit", "1")]);
        let results: SearchResults = self.http.send(request, wait).await?.json()?;
        results
            .statuses
            .into_iter()
            .next()
            .map(|s| s.id)
            .ok_or_else(|| PlatformError::Retry(format!("this server cannot find {url} yet")))
    }
}

impl Platform for Mastodon {
    fn network(&self) -> Network {
        Network::Mastodon
    }

    async fn verify(&self, wait: WaitSink<'_>) -> Result<String, PlatformError> {
        let reply = self.http.send(self.get("/api/v1/accounts/verify_credentials"), wait).await?;
        Ok(reply.json::<Credential>()?.id)
    }

    async fn limits(&self, wait: WaitSink<'_>) -> Result<Counter, PlatformError> {
        let default = Counter::default_for(Network::Mastodon);
        let (mut max, mut url) = (default.max(), 23);
        let v2 = self.http.send_raw(self.http.client().get(self.url("/api/v2/instance")), wait).await?;
        let instance: Instance = if v2.status.is_success() {
            v2.json()?
        } else {
            self.http.send(self.http.client().get(self.url("/api/v1/instance")), wait).await?.json()?
        };
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

    async fn post(&self, req: &PostRequest<'_>, wait: WaitSink<'_>) -> Result<RemoteRef, PlatformError> {
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
        let key = HeaderValue::from_str(req.key)
            .map_err(|_| PlatformError::Permanent { status: 0, message: "invalid idempotency key".into() })?;
        let request = self.post_to("/api/v1/statuses").header("Idempotency-Key", key).json(&body);
        let status: Status = self.http.send(request, wait).await?.json()?;
        Ok(RemoteRef { url: status.url.or(status.uri.clone()), uri: status.uri, id: status.id, cid: None })
    }

    async fn boost(&self, req: &BoostRequest<'_>, wait: WaitSink<'_>) -> Result<RemoteRef, PlatformError> {
        let same_server = req.origin.host_str() == self.server.host_str()
            && req.origin.port_or_known_default() == self.server.port_or_known_default();
        let id = if same_server { req.target.id.clone() } else { self.resolve(req.target, wait).await? };
        let mut request = self.post_to(&format!("/api/v1/statuses/{id}/reblog"));
        if let Some(v) = &self.visibility {
            request = request.json(&serde_json::json!({ "visibility": v }));
        }
        let status: Status = self.http.send(request, wait).await?.json()?;
        Ok(RemoteRef { url: status.url.or(status.uri.clone()), uri: status.uri, id: status.id, cid: None })
    }

    /// `GET /api/v1/statuses?id[]=` in batches (Mastodon 4.3+); one by one where the server
    /// does not have the batch form.
    async fn metrics(&self, posts: &[RemoteRef], wait: WaitSink<'_>) -> Result<Vec<Reading>, PlatformError> {
        let mut out = Vec::with_capacity(posts.len());
        for chunk in posts.chunks(BATCH) {
            let query: Vec<(&str, &str)> = chunk.iter().map(|p| ("id[]", p.id.as_str())).collect();
            let reply = self.http.send_raw(self.get("/api/v1/statuses").query(&query), wait).await?;
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
                let one = self.http.send_raw(self.get(&format!("/api/v1/statuses/{}", p.id)), wait).await?;
                out.push(match one.status.as_u16() {
                    200..=299 => Reading::Counts(one.json::<Status>()?.counts()),
                    404 | 410 => Reading::Gone,
                    _ => return Err(self.http.classify(&one)),
                });
            }
        }
        Ok(out)
    }
}

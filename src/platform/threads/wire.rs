//! What the Threads API answers, read into plain values (pure): a container's status, the
//! publishing quota (`threads_publishing_limit`), a listing of posts, and insights as counts.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::metrics::Counts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quota {
    pub posts: (u64, u64),
    pub replies: (u64, u64),
}

impl Quota {
    /// Whether another post (or reply) is within the quota (pure).
    pub fn allows(&self, reply: bool) -> bool {
        let (used, total) = if reply { self.replies } else { self.posts };
        total == 0 || used < total
    }

    /// `threads_publishing_limit`'s `data[0]`: `quota_usage`, `config.quota_total`,
    /// `reply_quota_usage`, `reply_config.quota_total`. Missing numbers read as no limit known.
    pub fn read(v: &Value) -> Quota {
        let d = &v["data"][0];
        let n = |x: &Value| x.as_u64().unwrap_or(0);
        Quota {
            posts: (n(&d["quota_usage"]), n(&d["config"]["quota_total"])),
            replies: (n(&d["reply_quota_usage"]), n(&d["reply_config"]["quota_total"])),
        }
    }

    pub(super) fn used_one(&mut self, reply: bool) {
        let slot = if reply { &mut self.replies } else { &mut self.posts };
        slot.0 = slot.0.saturating_add(1);
    }
}

/// What a container's status read says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Finished,
    Published,
    Error(String),
    Expired,
    /// Threads does not know the container.
    Unknown,
}

impl Status {
    /// `status` (and `error_message`) of `GET /{container}?fields=id,status,error_message`.
    pub fn read(v: &Value) -> Status {
        match v["status"].as_str() {
            Some("FINISHED") => Status::Finished,
            Some("PUBLISHED") => Status::Published,
            Some("ERROR") => Status::Error(v["error_message"].as_str().unwrap_or("no message").to_string()),
            Some("EXPIRED") => Status::Expired,
            Some("IN_PROGRESS") | None => Status::InProgress,
            Some(_) => Status::InProgress,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Listed {
    pub(super) id: String,
    #[serde(default)]
    pub(super) text: Option<String>,
    #[serde(default)]
    pub(super) timestamp: Option<String>,
    #[serde(default)]
    pub(super) media_type: Option<String>,
    #[serde(default)]
    pub(super) permalink: Option<String>,
    #[serde(default)]
    pub(super) reposted_post: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Page<T> {
    #[serde(default = "Vec::new")]
    pub(super) data: Vec<T>,
}

pub(super) fn graph_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%z").ok().map(|t| t.to_utc())
}

/// Counts from an insights answer: `{data: [{name, values: [{value}]}]}`.
pub fn insights(v: &Value) -> Counts {
    let get = |name: &str| {
        v["data"]
            .as_array()?
            .iter()
            .find(|m| m["name"] == name)
            .and_then(|m| m["values"][0]["value"].as_u64().or_else(|| m["total_value"]["value"].as_u64()))
    };
    Counts {
        likes: get("likes"),
        reposts: get("reposts"),
        replies: get("replies"),
        quotes: get("quotes"),
        views: get("views"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn container_statuses_are_read() {
        let cases = [
            (json!({ "status": "FINISHED" }), Status::Finished),
            (json!({ "status": "IN_PROGRESS" }), Status::InProgress),
            (json!({ "status": "PUBLISHED" }), Status::Published),
            (json!({ "status": "EXPIRED" }), Status::Expired),
            (
                json!({ "status": "ERROR", "error_message": "FAILED_DOWNLOADING_VIDEO" }),
                Status::Error("FAILED_DOWNLOADING_VIDEO".into()),
            ),
            (json!({}), Status::InProgress),
        ];
        for (v, want) in cases {
            assert_eq!(Status::read(&v), want, "{v}");
        }
    }

    #[test]
    fn the_quota_is_read_and_respected() {
        let v = json!({ "data": [{ "quota_usage": 249, "config": { "quota_total": 250, "quota_duration": 86400 }, "reply_quota_usage": 1000, "reply_config": { "quota_total": 1000 } }] });
        let mut q = Quota::read(&v);
        assert_eq!(q, Quota { posts: (249, 250), replies: (1000, 1000) });
        assert!(q.allows(false));
        assert!(!q.allows(true));
        q.used_one(false);
        assert!(!q.allows(false));
        // A quota Threads did not give is no reason to stop.
        assert!(Quota::read(&json!({})).allows(false));
    }

    #[test]
    fn insights_become_counts_and_missing_ones_stay_unknown() {
        let v = json!({ "data": [
            { "name": "likes", "values": [{ "value": 4 }] },
            { "name": "replies", "values": [{ "value": 1 }] },
            { "name": "reposts", "values": [{ "value": 2 }] },
            { "name": "views", "values": [{ "value": 90 }] },
        ]});
        assert_eq!(
            insights(&v),
            Counts { likes: Some(4), replies: Some(1), reposts: Some(2), quotes: None, views: Some(90) }
        );
        assert_eq!(insights(&json!({ "data": [] })), Counts::default());
    }
}

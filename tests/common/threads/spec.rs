//! Meta's Postman collection for the Threads API as a checker: which query parameters each
//! request takes, and the value lists its variables name (media types, reply controls, fields,
//! metrics, scopes).
//!
//! The collection is Meta's (fbsamples/threads_api `postman/threads-api.postman_collection.json`),
//! copied to `../shared/specs/threads/postman/`. Meta's platform licence keeps it out of this
//! repository: it is read where it is, and without it the server still runs, says so, and checks
//! only the rules written in code. It has example requests, not schemas: a parameter name is
//! known if some request for that method and path lists it (enabled or not).

use std::collections::HashMap;

use serde_json::Value;

use super::super::loopback::shared_file;
use super::super::meta;

const FILE: &str = "specs/threads/postman/threads-api.postman_collection.json";

#[derive(Debug, Clone)]
pub struct Request {
    pub name: String,
    pub method: String,
    /// Path segments, `{{variables}}` kept.
    pub path: Vec<String>,
    pub query: Vec<String>,
    /// The request says `auth: noauth` (no access token).
    pub noauth: bool,
}

pub struct Collection {
    pub requests: Vec<Request>,
    vars: HashMap<String, String>,
}

impl Collection {
    pub fn load() -> Option<Collection> {
        let path = shared_file(FILE)?;
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let vars = doc["variable"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| Some((v["key"].as_str()?.to_string(), v["value"].as_str().unwrap_or_default().to_string())))
            .collect();
        let mut requests = Vec::new();
        walk(&doc["item"], &mut requests);
        Some(Collection { requests, vars })
    }

    /// The requests for `method` whose path matches `segments` (a `{{variable}}` matches any
    /// segment; `me` also matches the user's own id, as the docs write `/{threads-user-id}/…`).
    pub fn matching(&self, method: &str, segments: &[&str], is_me: impl Fn(&str) -> bool) -> Vec<&Request> {
        self.requests
            .iter()
            .filter(|r| r.method.eq_ignore_ascii_case(method) && r.path.len() == segments.len())
            .filter(|r| {
                r.path
                    .iter()
                    .zip(segments)
                    .all(|(t, s)| (t.starts_with("{{") && t.ends_with("}}")) || t == s || (t == "me" && is_me(s)))
            })
            .collect()
    }

    /// A variable's comma-separated values, names only (`poll_attachment{…}` → `poll_attachment`).
    pub fn list(&self, var: &str) -> Vec<String> {
        let raw = self.vars.get(var).cloned().unwrap_or_default();
        meta::fields(&raw).into_iter().map(|(name, _)| name).collect()
    }
}

fn walk(items: &Value, out: &mut Vec<Request>) {
    for item in items.as_array().into_iter().flatten() {
        if item.get("item").is_some() {
            walk(&item["item"], out);
            continue;
        }
        let r = &item["request"];
        let url = &r["url"];
        out.push(Request {
            name: item["name"].as_str().unwrap_or_default().to_string(),
            method: r["method"].as_str().unwrap_or_default().to_string(),
            path: url["path"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            query: url["query"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|q| q["key"].as_str().map(str::to_string))
                .collect(),
            noauth: r["auth"]["type"] == "noauth",
        });
    }
}

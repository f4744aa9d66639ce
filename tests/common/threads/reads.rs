//! The Threads test server's reads: container status, posts and their lists, replies, insights,
//! the publishing quota and the profile, with `fields` and `metric` values held to the
//! collection's variable lists.

use chrono::Utc;
use serde_json::{json, Map, Value};

use super::super::loopback::{Answer, Incoming};
use super::super::meta;
use super::routes::{refuse, settle};
use super::spec::Collection;
use super::{Counts, Media, State, Status, Token, USERS};

pub fn answer(st: &mut State, spec: Option<&Collection>, req: &Incoming, token: &Token, segs: &[&str]) -> Answer {
    let me = super::user_id(&token.username);
    let mine = |s: &str| s == "me" || s == me;
    match segs {
        [who] if mine(who) => {
            let (username, id, _) = USERS.iter().copied().find(|u| u.0 == token.username).unwrap_or_default();
            let full = json!({
                "id": id,
                "username": username,
                "name": username.replace('_', " "),
                "threads_profile_picture_url": format!("https://scontent.cdninstagram.com/{id}.jpg"),
                "threads_biography": "",
                "is_verified": false,
            });
            pick(st, spec, req, "fields_profile", &full)
        }
        [who, "threads"] if mine(who) => {
            let list: Vec<Media> =
                st.media.iter().rev().filter(|m| m.owner == token.username && !m.deleted).cloned().collect();
            listing(st, spec, req, &list)
        }
        [who, "replies"] if mine(who) => {
            let list: Vec<Media> = st
                .media
                .iter()
                .rev()
                .filter(|m| m.owner == token.username && m.reply_to.is_some() && !m.deleted)
                .cloned()
                .collect();
            listing(st, spec, req, &list)
        }
        [who, "threads_publishing_limit"] if mine(who) => quota(st, spec, req, token),
        [id] => {
            if let Some(i) = st.containers.iter().position(|c| c.id == *id) {
                if st.containers[i].owner != token.username {
                    return refuse(st, req, 10, &format!("container {id} is not this user's"));
                }
                settle(&mut st.containers[i], true);
                let c = &st.containers[i];
                let mut full = json!({ "id": c.id, "status": c.status.name() });
                if let Status::Error(m) = &c.status {
                    full["error_message"] = json!(m);
                }
                return pick(st, spec, req, "fields_container", &full);
            }
            match st.media.iter().find(|m| m.id == *id && !m.deleted).cloned() {
                Some(m) => {
                    let full = media_json(st, &m, &token.username);
                    pick(st, spec, req, "fields_threads fields_replies", &full)
                }
                None => {
                    meta::error(400, 100, Some(33), "THApiException", &format!("Object with ID '{id}' does not exist"))
                }
            }
        }
        [id, edge @ ("replies" | "conversation")] => {
            if !token.scopes.iter().any(|s| s == "threads_read_replies") {
                let rule = "reading replies needs threads_read_replies (Get Started: required for GET calls to reply endpoints)";
                return refuse(st, req, 10, rule);
            }
            let reverse = meta::params(req).iter().find(|(k, _, _)| k == "reverse").map(|(_, v, _)| meta::text(v));
            let mut list: Vec<Media> = Vec::new();
            let mut frontier = vec![id.to_string()];
            while let Some(parent) = frontier.pop() {
                for m in st.media.iter().filter(|m| m.reply_to.as_deref() == Some(parent.as_str()) && !m.deleted) {
                    list.push(m.clone());
                    if *edge == "conversation" {
                        frontier.push(m.id.clone());
                    }
                }
            }
            list.sort_by_key(|m| m.created_at);
            if reverse.as_deref() != Some("false") {
                list.reverse();
            }
            listing(st, spec, req, &list)
        }
        [id, "insights"] => insights(st, spec, req, token, id),
        _ => refuse(st, req, 100, &format!("{} is not served by this test server", req.what())),
    }
}

fn fields_param(req: &Incoming) -> Option<String> {
    meta::params(req).into_iter().find(|(k, _, _)| k == "fields").map(|(_, v, _)| meta::text(&v))
}

/// The asked `fields` of `full`, each checked against the collection's lists (space-separated
/// variable names in `lists`); without `fields`, the id alone.
fn pick(st: &mut State, spec: Option<&Collection>, req: &Incoming, lists: &str, full: &Value) -> Answer {
    let Some(asked) = fields_param(req) else {
        return Answer::json(200, json!({ "id": full["id"] }));
    };
    match picked(st, spec, req, lists, full, &asked) {
        Ok(v) => Answer::json(200, v),
        Err(a) => a,
    }
}

fn picked(
    st: &mut State,
    spec: Option<&Collection>,
    req: &Incoming,
    lists: &str,
    full: &Value,
    asked: &str,
) -> Result<Value, Answer> {
    let known: Vec<String> = spec.map(|s| lists.split(' ').flat_map(|l| s.list(l)).collect()).unwrap_or_default();
    let mut out = Map::new();
    for (name, _) in meta::fields(asked) {
        if spec.is_some() && !known.contains(&name) {
            let rule = format!("Tried accessing nonexisting field ({name}); the collection's {lists} are {known:?}");
            return Err(refuse(st, req, 100, &rule));
        }
        if let Some(v) = full.get(&name) {
            out.insert(name, v.clone());
        }
    }
    Ok(Value::Object(out))
}

fn listing(st: &mut State, spec: Option<&Collection>, req: &Incoming, list: &[Media]) -> Answer {
    let limit = meta::params(req)
        .iter()
        .find(|(k, _, _)| k == "limit")
        .and_then(|(_, v, _)| meta::text(v).parse::<usize>().ok())
        .unwrap_or(25);
    let asked = fields_param(req).unwrap_or_else(|| "id".into());
    let mut data = Vec::new();
    for m in list.iter().take(limit) {
        let owner = m.owner.clone();
        let full = media_json(st, m, &owner);
        match picked(st, spec, req, "fields_threads fields_replies", &full, &asked) {
            Ok(v) => data.push(v),
            Err(a) => return a,
        }
    }
    Answer::json(200, json!({ "data": data, "paging": { "cursors": { "before": "BEFORE", "after": "AFTER" } } }))
}

/// Every field this server knows of a post (the collection's fields_threads and fields_replies).
fn media_json(st: &State, m: &Media, viewer: &str) -> Value {
    let username = m.owner.clone();
    let owner_id = USERS.iter().find(|u| u.0 == m.owner).map(|u| u.1).unwrap_or_default();
    let mut v = json!({
        "id": m.id,
        "media_product_type": "THREADS",
        "media_type": m.media_type,
        "permalink": format!("https://www.threads.net/@{username}/post/{}", m.id),
        "owner": { "id": owner_id },
        "username": username,
        "timestamp": meta::graph_time(m.created_at),
        "shortcode": m.id,
        "is_quote_post": m.quote_of.is_some(),
        "has_replies": st.media.iter().any(|r| r.reply_to.as_deref() == Some(m.id.as_str()) && !r.deleted),
        "is_reply": m.reply_to.is_some(),
        "is_reply_owned_by_me": m.reply_to.is_some() && m.owner == viewer,
        "hide_status": "NOT_HUSHED",
        "reply_audience": "EVERYONE",
        "is_verified": false,
    });
    if let Some(t) = &m.text {
        v["text"] = json!(t);
    }
    if let Some(q) = &m.quote_of {
        v["quoted_post"] = json!({ "id": q });
    }
    if let Some(r) = &m.repost_of {
        v["reposted_post"] = json!({ "id": r });
    }
    if let Some(parent) = &m.reply_to {
        v["replied_to"] = json!({ "id": parent });
        let mut root = parent.clone();
        while let Some(up) = st.media.iter().find(|x| x.id == root).and_then(|x| x.reply_to.clone()) {
            root = up;
        }
        v["root_post"] = json!({ "id": root });
    }
    v
}

fn counts(st: &State, id: &str) -> Counts {
    let mut c = st.counts.get(id).copied().unwrap_or_default();
    let live = st.media.iter().filter(|m| !m.deleted);
    for m in live {
        c.replies += u64::from(m.reply_to.as_deref() == Some(id));
        c.reposts += u64::from(m.repost_of.as_deref() == Some(id));
        c.quotes += u64::from(m.quote_of.as_deref() == Some(id));
    }
    c
}

/// `GET /{media-id}/insights?metric=…` ("Insights", Media Insights).
fn insights(st: &mut State, spec: Option<&Collection>, req: &Incoming, token: &Token, id: &str) -> Answer {
    if !token.scopes.iter().any(|s| s == "threads_manage_insights") {
        return refuse(st, req, 10, "insights need the threads_manage_insights permission (Insights, Permissions)");
    }
    let Some(asked) = meta::params(req).into_iter().find(|(k, _, _)| k == "metric").map(|(_, v, _)| meta::text(&v))
    else {
        return refuse(st, req, 100, "metric is required (Insights: a comma-separated list of metrics)");
    };
    let known = spec.map(|s| s.list("metrics_post"));
    let metrics: Vec<String> = asked.split(',').map(|s| s.trim().to_string()).collect();
    if let Some(known) = &known {
        if let Some(bad) = metrics.iter().find(|m| !known.contains(m)) {
            return refuse(
                st,
                req,
                100,
                &format!("metric {bad:?} is not one of {known:?} (the collection's metrics_post)"),
            );
        }
    }
    let Some(m) = st.media.iter().find(|m| m.id == id && !m.deleted).cloned() else {
        return meta::error(400, 100, Some(33), "THApiException", &format!("Object with ID '{id}' does not exist"));
    };
    if m.repost_of.is_some() {
        // Insights: "An empty array will be returned for REPOST_FACADE posts".
        return Answer::json(200, json!({ "data": [] }));
    }
    let c = counts(st, id);
    let data: Vec<Value> = metrics
        .iter()
        .map(|name| {
            let value = match name.as_str() {
                "views" => c.views,
                "likes" => c.likes,
                "replies" => c.replies,
                "reposts" => c.reposts,
                "quotes" => c.quotes,
                _ => c.shares,
            };
            json!({
                "name": name,
                "period": "lifetime",
                "values": [{ "value": value }],
                "title": name,
                "description": format!("The number of {name} of the post."),
                "id": format!("{id}/insights/{name}/lifetime"),
            })
        })
        .collect();
    Answer::json(200, json!({ "data": data }))
}

/// `GET /me/threads_publishing_limit` ("Overview", Rate Limiting).
fn quota(st: &mut State, spec: Option<&Collection>, req: &Incoming, token: &Token) -> Answer {
    let since = Utc::now() - chrono::Duration::hours(24);
    let used = |reply: bool| {
        st.media
            .iter()
            .filter(|m| {
                m.owner == token.username
                    && m.container.is_some()
                    && m.created_at > since
                    && m.reply_to.is_some() == reply
            })
            .count()
    };
    let full = json!({
        "quota_usage": used(false),
        "config": { "quota_total": st.quota.0, "quota_duration": 86400 },
        "reply_quota_usage": used(true),
        "reply_config": { "quota_total": st.quota.1, "quota_duration": 86400 },
    });
    let asked = fields_param(req).unwrap_or_else(|| "quota_usage,config".into());
    match picked(st, spec, req, "fields_quota", &full, &asked) {
        Ok(v) => Answer::json(200, json!({ "data": [v] })),
        Err(a) => a,
    }
}

//! The Facebook test server's routes: the version in the path, the token, faults, then Pages,
//! posts, comments and the user's Page list, each request's parameters checked against Meta's
//! spec files.

use std::sync::Mutex;

use chrono::Utc;
use serde_json::{json, Value};

use super::super::loopback::{self, Answer, Incoming};
use super::super::meta::{self, error};
use super::spec::GraphSpec;
use super::{oauth, Comment, Counts, Kind, Post, State, Token, PAGES, USERS};

/// Parameters Graph takes on every request (the access token and its proof).
const EVERYWHERE: [&str; 2] = ["access_token", "appsecret_proof"];
/// … and on every read: field selection and paging (Graph API "Using the Graph API": fields,
/// cursor paging with limit/after/before, `summary` on edges).
const READS: [&str; 7] = ["access_token", "appsecret_proof", "fields", "limit", "after", "before", "summary"];

/// Records `rule` as a mistake and answers a Graph error with it.
fn refuse(st: &mut State, req: &Incoming, code: i64, rule: &str) -> Answer {
    st.mistakes.push(req, rule);
    let kind = if code == 190 || code == 104 || code == 200 { "OAuthException" } else { "GraphMethodException" };
    error(400, code, None, kind, &format!("(#{code}) {rule}"))
}

pub fn answer(state: &Mutex<State>, spec: Option<&GraphSpec>, req: &Incoming) -> Answer {
    let lock = || loopback::lock(state);
    let segs: Vec<String> = req.segments().iter().map(|s| s.to_string()).collect();
    {
        let mut st = lock();
        if segs.first() != Some(&st.version) {
            let rule = format!(
                "the path must start with the Graph API version this server is pinned to, /{}/ (version.txt of the spec files); got {}",
                st.version, req.path
            );
            return refuse(&mut st, req, 100, &rule);
        }
    }
    let rest: Vec<&str> = segs[1..].iter().map(String::as_str).collect();
    let oauth_path = matches!(rest.as_slice(), ["dialog", "oauth"] | ["oauth", "access_token"]);
    let token = if oauth_path {
        None
    } else {
        match token(&mut lock(), req) {
            Ok(t) => Some(t),
            Err(a) => return a,
        }
    };
    let object = rest.first().map(|s| s.split('_').next().unwrap_or_default().to_string()).unwrap_or_default();
    let effect = loopback::fire(&mut lock().faults, req);
    let mut lose = false;
    if let Some(a) = meta::fault_answer(effect, &object, "pages", &mut lose) {
        return a;
    }
    let mut st = lock();
    let mut a = match token {
        None => oauth::answer(&mut st, req, &rest),
        Some(t) => route(&mut st, spec, req, &t, &rest),
    };
    a.lost = lose;
    a
}

/// The request's token (Handling Errors: 190 for an invalid or expired token; 104 when none).
fn token(st: &mut State, req: &Incoming) -> Result<Token, Answer> {
    let Some(value) = meta::access_token(req) else {
        st.mistakes.push(req, "no access token (access_token parameter or Authorization: Bearer)");
        return Err(error(400, 104, None, "OAuthException", "An access token is required to request this resource."));
    };
    let Some(t) = st.tokens.iter().find(|t| t.value == value).cloned() else {
        st.mistakes.push(req, "an access token this server never issued");
        return Err(error(400, 190, None, "OAuthException", "Invalid OAuth access token - Cannot parse access token"));
    };
    if t.expires.is_some_and(|e| e <= Utc::now()) {
        return Err(error(
            400,
            190,
            Some(463),
            "OAuthException",
            "Error validating access token: Session has expired on a day in the past.",
        ));
    }
    Ok(t)
}

fn route(st: &mut State, spec: Option<&GraphSpec>, req: &Incoming, token: &Token, rest: &[&str]) -> Answer {
    let method = req.method.as_str();
    let is_page = |id: &str| PAGES.iter().any(|p| p.0 == id);
    match (method, rest) {
        ("GET", ["me"]) => me(st, spec, req, token),
        ("GET", ["me", "accounts"]) => accounts(st, spec, req, token),
        ("GET", [id]) if is_page(id) => match checked(st, spec, req, "Page", "#get", &READS) {
            Ok(p) => node_fields(st, spec, req, "Page", &p, page_json(id)),
            Err(a) => a,
        },
        ("POST", [id, "feed"]) if is_page(id) => publish(st, spec, req, token, id),
        ("GET", [id, edge @ ("feed" | "posts" | "published_posts")]) if is_page(id) => {
            if let Err(a) = may_read(st, req, token) {
                return a;
            }
            match checked(st, spec, req, "Page", edge, &READS) {
                Ok(_) => {
                    let data: Vec<Value> = st
                        .posts
                        .iter()
                        .rev()
                        .filter(|p| p.page == *id && !p.deleted)
                        .map(|p| post_json(st, p))
                        .collect();
                    Answer::json(200, json!({ "data": data, "paging": {} }))
                }
                Err(a) => a,
            }
        }
        (_, [id, ..]) if is_page(id) => unsupported(st, req, "Page", spec),
        (_, [id, ..]) => {
            let Some(post) = st.posts.iter().find(|p| p.id == *id && !p.deleted).cloned() else {
                // Graph's answer for an id it cannot load (Handling Errors, code 100 subcode 33).
                let message = format!(
                    "Unsupported {} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
                    method.to_ascii_lowercase()
                );
                return error(400, 100, Some(33), "GraphMethodException", &message);
            };
            post_route(st, spec, req, token, &post, &rest[1..])
        }
        _ => unsupported(st, req, "?", spec),
    }
}

/// A request this server does not serve (or Graph does not have).
fn unsupported(st: &mut State, req: &Incoming, node: &str, spec: Option<&GraphSpec>) -> Answer {
    let has = spec.is_some_and(|s| {
        let edge = req.segments().get(2).map(|e| e.to_string()).unwrap_or("#get".into());
        s.api(node, &req.method, &edge).is_some()
    });
    let rule = if has {
        format!("{} is in {node}.json but not served by this test server", req.what())
    } else {
        format!("{} is not an operation of {node}.json", req.what())
    };
    refuse(st, req, 100, &format!("Unsupported {} request: {rule}", req.method.to_ascii_lowercase()))
}

/// The request's parameters, checked against `node`'s operation in the spec files.
fn checked(
    st: &mut State,
    spec: Option<&GraphSpec>,
    req: &Incoming,
    node: &str,
    endpoint: &str,
    extra: &[&str],
) -> Result<Vec<(String, Value)>, Answer> {
    let params: Vec<(String, Value)> = meta::params(req).into_iter().map(|(k, v, _)| (k, v)).collect();
    let Some(spec) = spec else { return Ok(params) };
    let Some(api) = spec.api(node, &req.method, endpoint) else {
        return Err(unsupported(st, req, node, Some(spec)));
    };
    let problems = spec.check(node, api, &params, extra);
    if problems.is_empty() {
        return Ok(params);
    }
    for p in &problems {
        st.mistakes.push(req, p);
    }
    Err(error(400, 100, None, "OAuthException", &format!("(#100) {}", problems.join("; "))))
}

fn param<'a>(params: &'a [(String, Value)], name: &str) -> Option<&'a Value> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Is `token` the Page token of `page` with `scope`? (Pages API "Posts" guide: publishing needs a
/// Page access token and pages_manage_posts; comments as the Page need pages_manage_engagement.)
fn page_token(
    st: &mut State,
    req: &Incoming,
    token: &Token,
    page: Option<&str>,
    scope: &str,
) -> Result<String, Answer> {
    let held = match &token.kind {
        Kind::User { .. } => {
            let rule = format!(
                "this needs a Page access token{}, not a User access token (Pages API Posts guide: \"receive a Page access token\"; get one from /me/accounts)",
                page.map(|p| format!(" of {p}")).unwrap_or_default()
            );
            return Err(refuse(st, req, 200, &rule));
        }
        Kind::Page { page: p, .. } => p.clone(),
    };
    if page.is_some_and(|p| p != held) {
        let rule = format!("the Page token is {held}'s, not {}'s (Pages API Posts guide)", page.unwrap_or_default());
        return Err(refuse(st, req, 200, &rule));
    }
    if !token.scopes.iter().any(|s| s == scope) {
        return Err(refuse(st, req, 200, &format!("the token lacks the {scope} permission (Pages API Posts guide)")));
    }
    Ok(held)
}

/// Reading a Page's posts and their engagement needs pages_read_engagement (Pages API "Posts"
/// guide, "Before you start").
fn may_read(st: &mut State, req: &Incoming, token: &Token) -> Result<(), Answer> {
    if token.scopes.iter().any(|s| s == "pages_read_engagement") {
        return Ok(());
    }
    let rule = "reading posts and their engagement needs the pages_read_engagement permission (Pages API Posts guide)";
    Err(refuse(st, req, 200, rule))
}

/// `POST /{page-id}/feed`.
fn publish(st: &mut State, spec: Option<&GraphSpec>, req: &Incoming, token: &Token, page: &str) -> Answer {
    let params = match checked(st, spec, req, "Page", "feed", &EVERYWHERE) {
        Ok(p) => p,
        Err(a) => return a,
    };
    if let Err(a) = page_token(st, req, token, Some(page), "pages_manage_posts") {
        return a;
    }
    let message = param(&params, "message").map(meta::text).filter(|m| !m.is_empty());
    let link = param(&params, "link").map(meta::text).filter(|l| !l.is_empty());
    if message.is_none() && link.is_none() {
        // Pages API "Posts" guide, "Publish posts": message (the text) and/or link (the URL).
        st.mistakes.push(req, "a Page post needs message or link (Pages API Posts guide, Publish posts)");
        return error(400, 100, None, "OAuthException", "(#100) Missing message or attachment");
    }
    // Handling Errors, 506 "Duplicate Post": duplicate posts cannot be published consecutively.
    let latest = st.posts.iter().rev().find(|p| p.page == page && !p.deleted);
    if latest.is_some_and(|p| p.message == message && p.link == link) {
        return error(400, 506, Some(1_455_006), "OAuthException", "Duplicate status message");
    }
    let id = store_post(st, page, message, link);
    Answer::json(200, json!({ "id": id }))
}

pub(super) fn store_post(st: &mut State, page: &str, message: Option<String>, link: Option<String>) -> String {
    let id = format!("{page}_{}", st.ids.next());
    st.posts.push(Post { id: id.clone(), page: page.into(), message, link, created_at: Utc::now(), deleted: false });
    id
}

fn post_route(
    st: &mut State,
    spec: Option<&GraphSpec>,
    req: &Incoming,
    token: &Token,
    post: &Post,
    rest: &[&str],
) -> Answer {
    if req.method == "GET" {
        if let Err(a) = may_read(st, req, token) {
            return a;
        }
    }
    match (req.method.as_str(), rest) {
        ("GET", []) => match checked(st, spec, req, "PagePost", "#get", &READS) {
            Ok(p) => {
                let full = post_json(st, post);
                node_fields(st, spec, req, "PagePost", &p, full)
            }
            Err(a) => a,
        },
        ("DELETE", []) => match checked(st, spec, req, "PagePost", "#delete", &EVERYWHERE) {
            Ok(_) => match page_token(st, req, token, Some(&post.page), "pages_manage_posts") {
                Ok(_) => {
                    if let Some(p) = st.posts.iter_mut().find(|p| p.id == post.id) {
                        p.deleted = true;
                    }
                    Answer::json(200, json!({ "success": true }))
                }
                Err(a) => a,
            },
            Err(a) => a,
        },
        ("POST", ["sharedposts"]) => {
            let rule = "You cannot publish shares of an object using the Graph API (reference/object/sharedposts, Publishing); post a link instead";
            refuse(st, req, 100, rule)
        }
        ("POST", ["comments"]) => comment(st, spec, req, token, post),
        ("GET", [edge @ ("comments" | "reactions" | "likes" | "sharedposts")]) => {
            match checked(st, spec, req, "PagePost", edge, &READS) {
                Ok(p) => {
                    let with_summary =
                        param(&p, "summary").is_some_and(|v| matches!(meta::text(v).as_str(), "true" | "1"));
                    Answer::json(200, edge_json(st, post, edge, with_summary, None))
                }
                Err(a) => a,
            }
        }
        _ => unsupported(st, req, "PagePost", spec),
    }
}

/// `POST /{post-id}/comments`.
fn comment(st: &mut State, spec: Option<&GraphSpec>, req: &Incoming, token: &Token, post: &Post) -> Answer {
    let params = match checked(st, spec, req, "PagePost", "comments", &EVERYWHERE) {
        Ok(p) => p,
        Err(a) => return a,
    };
    let from = match page_token(st, req, token, None, "pages_manage_engagement") {
        Ok(p) => p,
        Err(a) => return a,
    };
    let message = param(&params, "message").map(meta::text).unwrap_or_default();
    let attached =
        ["attachment_id", "attachment_share_url", "attachment_url"].iter().any(|a| param(&params, a).is_some());
    if message.is_empty() && !attached {
        st.mistakes.push(req, "a comment needs message or an attachment (PagePost.json POST comments)");
        return error(400, 100, None, "OAuthException", "(#100) Missing message or attachment");
    }
    let number = post.id.split('_').nth(1).unwrap_or_default().to_string();
    let id = format!("{number}_{}", st.ids.next());
    st.comments.push(Comment { id: id.clone(), post: post.id.clone(), from, message });
    Answer::json(200, json!({ "id": id }))
}

fn counts(st: &State, post: &str) -> Counts {
    let mut c = st.counts.get(post).copied().unwrap_or_default();
    c.comments += st.comments.iter().filter(|m| m.post == post).count() as u64;
    c
}

fn page_json(id: &str) -> Value {
    let (_, name, _, _) = PAGES.iter().copied().find(|p| p.0 == id).unwrap_or(("", "", "", ""));
    json!({ "id": id, "name": name, "category": "Community", "link": format!("https://www.facebook.com/{id}") })
}

/// Every field this server knows of a post.
fn post_json(st: &State, p: &Post) -> Value {
    let (_, name, _, _) = PAGES.iter().copied().find(|x| x.0 == p.page).unwrap_or(("", "", "", ""));
    let number = p.id.split('_').nth(1).unwrap_or_default();
    let mut v = json!({
        "id": p.id,
        "created_time": meta::graph_time(p.created_at),
        "updated_time": meta::graph_time(p.created_at),
        "permalink_url": format!("https://www.facebook.com/{}/posts/{number}", p.page),
        "from": { "name": name, "id": p.page },
        "is_published": true,
        "status_type": if p.link.is_some() { "shared_story" } else { "mobile_status_update" },
    });
    if let Some(m) = &p.message {
        v["message"] = json!(m);
    }
    let shares = counts(st, &p.id).shares;
    if shares > 0 {
        v["shares"] = json!({ "count": shares });
    }
    v
}

/// An edge of a post as `{data, summary?}`; `limit` cuts `data`.
fn edge_json(st: &State, post: &Post, edge: &str, summary: bool, limit: Option<usize>) -> Value {
    let c = counts(st, &post.id);
    let data: Vec<Value> = match edge {
        "comments" => st
            .comments
            .iter()
            .filter(|m| m.post == post.id)
            .map(|m| {
                let name = PAGES.iter().find(|p| p.0 == m.from).map(|p| p.1).unwrap_or_default();
                json!({ "id": m.id, "message": m.message, "from": { "name": name, "id": m.from }, "created_time": meta::graph_time(Utc::now()) })
            })
            .collect(),
        _ => Vec::new(),
    };
    let data: Vec<Value> = data.into_iter().take(limit.unwrap_or(usize::MAX)).collect();
    let mut v = json!({ "data": data, "paging": {} });
    if summary {
        v["summary"] = match edge {
            "comments" => json!({ "order": "ranked", "total_count": c.comments, "can_comment": true }),
            "reactions" => json!({ "total_count": c.reactions, "viewer_reaction": "NONE" }),
            "likes" => json!({ "total_count": c.reactions, "can_like": true, "has_liked": false }),
            _ => json!({ "total_count": c.shares }),
        };
    }
    v
}

/// The `fields` a read asked for, taken from `full` (and edges expanded); unknown ones refused.
fn node_fields(
    st: &mut State,
    spec: Option<&GraphSpec>,
    req: &Incoming,
    node: &str,
    params: &[(String, Value)],
    full: Value,
) -> Answer {
    let Some(asked) = param(params, "fields").map(meta::text) else {
        // Without `fields`, Graph gives a few defaults (for a post: created_time, message, id).
        let mut v = json!({ "id": full["id"] });
        for k in ["created_time", "message", "name"] {
            if let Some(x) = full.get(k) {
                v[k] = x.clone();
            }
        }
        return Answer::json(200, v);
    };
    let post = if node == "PagePost" {
        st.posts.iter().find(|p| Some(p.id.as_str()) == full["id"].as_str()).cloned()
    } else {
        None
    };
    let mut out = json!({ "id": full["id"] });
    for (name, modifiers) in meta::fields(&asked) {
        let known = spec.is_none_or(|s| s.field(node, &name).is_some() || s.has_edge(node, &name));
        if !known {
            let rule = format!(
                "Tried accessing nonexisting field ({name}) on node type ({node}) ({node}.json fields and edges)"
            );
            return refuse(st, req, 100, &rule);
        }
        if let (Some(p), true) = (&post, spec.is_none_or(|s| s.has_edge(node, &name))) {
            if ["comments", "reactions", "likes", "sharedposts"].contains(&name.as_str()) {
                let limit =
                    modifiers.split("limit(").nth(1).and_then(|r| r.split(')').next()).and_then(|n| n.parse().ok());
                out[&name] = edge_json(st, p, &name, modifiers.contains("summary("), limit);
                continue;
            }
        }
        if let Some(v) = full.get(&name) {
            out[&name] = v.clone();
        }
    }
    Answer::json(200, out)
}

/// `GET /me`: the user, or the Page for a Page token.
fn me(st: &mut State, spec: Option<&GraphSpec>, req: &Incoming, token: &Token) -> Answer {
    match &token.kind {
        Kind::Page { page, .. } => match checked(st, spec, req, "Page", "#get", &READS) {
            Ok(p) => node_fields(st, spec, req, "Page", &p, page_json(page)),
            Err(a) => a,
        },
        Kind::User { username, .. } => match checked(st, spec, req, "User", "#get", &READS) {
            Ok(p) => {
                let (_, id, name) = USERS.iter().copied().find(|u| u.0 == username).unwrap_or(("", "", ""));
                node_fields(st, spec, req, "User", &p, json!({ "id": id, "name": name }))
            }
            Err(a) => a,
        },
    }
}

/// `GET /me/accounts` (User.json; "Getting started" with the Pages API).
fn accounts(st: &mut State, spec: Option<&GraphSpec>, req: &Incoming, token: &Token) -> Answer {
    let Kind::User { username, long_lived } = token.kind.clone() else {
        return refuse(
            st,
            req,
            100,
            "Tried accessing nonexisting field (accounts) on node type (Page): /me/accounts needs a User access token",
        );
    };
    if let Err(a) = checked(st, spec, req, "User", "accounts", &READS) {
        return a;
    }
    if !token.scopes.iter().any(|s| s == "pages_show_list") {
        return refuse(st, req, 200, "listing Pages needs the pages_show_list permission (Pages API Getting started)");
    }
    let mut data = Vec::new();
    for (id, name, manager, known) in PAGES.iter().copied().filter(|p| p.2 == username) {
        let same_scopes = token.scopes.len() == super::PAGE_SCOPES.len();
        // "Long-Lived Access Tokens": a Page token from a long-lived User token has no expiry.
        let value = if long_lived && same_scopes {
            known.to_string()
        } else {
            let value = format!("fb-page-{}", st.ids.next());
            st.tokens.push(Token {
                value: value.clone(),
                kind: Kind::Page { page: id.into(), username: manager.into() },
                scopes: token.scopes.clone(),
                expires: if long_lived { None } else { token.expires },
            });
            value
        };
        data.push(json!({
            "access_token": value,
            "category": "Community",
            "category_list": [{ "id": "2612", "name": "Community" }],
            "name": name,
            "id": id,
            "tasks": ["ANALYZE", "ADVERTISE", "MODERATE", "CREATE_CONTENT", "MANAGE"],
        }));
    }
    Answer::json(200, json!({ "data": data, "paging": { "cursors": { "before": "b", "after": "a" } } }))
}

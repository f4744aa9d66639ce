//! The LinkedIn test server's routes that write: the request's way in (checks, faults), posts,
//! reshares, comments and deletes. Reads (counts, ids) are in `reads.rs`.

use std::sync::Mutex;

use chrono::Utc;
use serde_json::{json, Value};

use super::super::loopback::{self, Answer, Incoming};
use super::rules::{self, error, invalid, refuse};
use super::{little, oauth, reads, Comment, Counts, Effect, Post, State, Token};

/// The answer to any request.
pub fn answer(state: &Mutex<State>, req: &Incoming) -> Answer {
    let lock = || loopback::lock(state);
    let token = if req.path.starts_with("/oauth/v2/") {
        None
    } else if req.path == "/v2/userinfo" {
        match rules::token(&mut lock(), req) {
            Ok(t) => Some(t),
            Err(a) => return a,
        }
    } else if req.raw_path.starts_with("/rest/") {
        let mut st = lock();
        let t = match rules::token(&mut st, req) {
            Ok(t) => t,
            Err(a) => return a,
        };
        if let Err(a) = rules::versions(&mut st, req) {
            return a;
        }
        Some(t)
    } else {
        let rule = "no such LinkedIn endpoint (the ones served are listed in NOTES.md §1-§7)";
        return refuse(&mut lock(), req, 404, rule);
    };
    let effect = loopback::fire(&mut lock().faults, req);
    let mut lose = false;
    match effect {
        Some(Effect::RateLimit) => return error(429, "Too many requests (daily limit reached)", None, None),
        Some(Effect::Status(s)) => return error(s, "Injected failure", None, None),
        Some(Effect::ExpiredToken) => {
            return error(401, "Invalid access token", Some(65600), Some("EXPIRED_ACCESS_TOKEN"))
        }
        Some(Effect::RevokedToken) => {
            return error(
                401,
                "The token used in the request has been revoked",
                Some(65601),
                Some("REVOKED_ACCESS_TOKEN"),
            )
        }
        Some(Effect::Delay(d)) => std::thread::sleep(d),
        Some(Effect::LoseAnswer) => lose = true,
        None => {}
    }
    let mut st = lock();
    let mut a = match token {
        None => oauth::answer(&mut st, req),
        Some(t) if req.path == "/v2/userinfo" => reads::userinfo(&mut st, req, &t),
        Some(t) => rest(&mut st, req, &t),
    };
    a.lost = lose;
    a
}

fn rest(st: &mut State, req: &Incoming, token: &Token) -> Answer {
    let raw = req.raw_path.trim_start_matches("/rest/").trim_end_matches('/');
    let segs: Vec<&str> = raw.split('/').collect();
    let method = req.method.as_str();
    match (method, segs.as_slice()) {
        ("POST", ["posts"]) => no_query(st, req).unwrap_or_else(|| create_post(st, req, token)),
        ("DELETE", ["posts", urn]) => no_query(st, req).unwrap_or_else(|| delete_post(st, req, token, urn)),
        ("POST", ["socialActions", urn, "comments"]) => {
            no_query(st, req).unwrap_or_else(|| create_comment(st, req, token, urn))
        }
        ("DELETE", ["socialActions", urn, "comments", id]) => delete_comment(st, req, token, urn, id),
        ("GET", ["socialActions", urn, "comments"]) => reads::comments(st, req, token, urn),
        ("GET", ["socialActions", urn]) => {
            no_query(st, req).unwrap_or_else(|| reads::social_actions(st, req, token, urn))
        }
        ("GET", ["socialMetadata", urn]) => {
            no_query(st, req).unwrap_or_else(|| reads::social_metadata(st, req, token, urn))
        }
        ("GET", ["memberCreatorPostAnalytics"]) => reads::member_analytics(st, req, token),
        ("GET", ["organizationalEntityShareStatistics"]) => reads::org_statistics(st, req, token),
        ("GET", ["organizationAcls"]) => reads::acls(st, req, token),
        _ => refuse(st, req, 404, "no such LinkedIn endpoint or method (NOTES.md §1-§7 list the ones served)"),
    }
}

/// Refuses any query parameter on an endpoint that takes none.
fn no_query(st: &mut State, req: &Incoming) -> Option<Answer> {
    reads::params(st, req, &[]).err()
}

/// Counts a member's posts and comments of the UTC day against `daily_limit` (NOTES §0 Rate
/// limits: per member per application, per 24 h, reset at midnight UTC; 429, no headers).
fn over_daily_limit(st: &mut State, member: &str) -> bool {
    let day = Utc::now().date_naive();
    let made = st.made_today.get(&(member.to_string(), day)).copied().unwrap_or(0);
    if st.daily_limit.is_some_and(|n| made >= n) {
        return true;
    }
    st.made_today.insert((member.to_string(), day), made + 1);
    false
}

fn create_post(st: &mut State, req: &Incoming, token: &Token) -> Answer {
    if let Err(a) = rules::restli_method(st, req, "create") {
        return a;
    }
    let body = match rules::json_body(st, req) {
        Ok(b) => b,
        Err(a) => return a,
    };
    let shape = rules::post_shape(&body);
    if !shape.is_empty() {
        let words: Vec<String> = shape.into_iter().map(|(_, p)| p).collect();
        for w in &words {
            st.mistakes.push(req, w);
        }
        return error(400, &words.join("; "), None, None);
    }
    let s = |f: &str| body[f].as_str().unwrap_or_default().to_string();
    let (author, commentary) = (s("author"), s("commentary"));
    if let Err(rule) = rules::may_act_as(token, &author) {
        return refuse(st, req, 403, &rule);
    }
    let parent = body["reshareContext"]["parent"].as_str().map(str::to_string);
    if let Some(p) = &parent {
        match rules::urn_kind(p) {
            Some(("share" | "ugcPost" | "groupPost", _)) => {}
            _ => {
                // NOTES §2 "Errors beyond §1" (UNCONFIRMED, one third-party comment): an activity
                // URN is refused, naming groupPost, share and ugcPost; the status is this server's.
                let rule = format!(
                    "reshareContext.parent {p:?}: the allowed URN types are groupPost, share and ugcPost, never activity (NOTES §2)"
                );
                st.mistakes.push(req, &rule);
                return invalid("/reshareContext/parent", "INVALID_URN_TYPE", &rule);
            }
        }
        if !st.posts.iter().any(|q| &q.urn == p && !q.deleted) {
            return error(404, &format!("Post {p} does not exist"), None, Some("NOT_FOUND"));
        }
    } else if commentary.is_empty() {
        let rule = "commentary is empty; only a reshare may have \"\" (NOTES §1 commentary)";
        st.mistakes.push(req, rule);
        return invalid("/commentary", "MISSING_FIELD", rule);
    }
    // NOTES §1 "Text length": 3,000 is UNCONFIRMED (Postiz, IFTTT), held to here all the same.
    let length = commentary.chars().count();
    if length > 3000 {
        let rule = format!("commentary of {length} characters; LinkedIn takes 3,000 (NOTES §1, UNCONFIRMED)");
        st.mistakes.push(req, &rule);
        return invalid("/commentary", "MAX_LENGTH_EXCEEDED", &rule);
    }
    // NOTES §1 errors, 422 DUPLICATE_POST for the same content again, also after a delete
    // (composio#2710). The content is the text as LinkedIn shows it: `#EMIEP` and `\#EMIEP` are
    // the same words.
    let content = little::read(&commentary).text;
    let dup = st.posts.iter().find(|q| q.author == author && q.text == content && q.reshare_of == parent);
    if let Some(d) = dup {
        let message = format!("Content is a duplicate of {}", d.urn);
        return invalid("/commentary", "DUPLICATE_POST", &message);
    }
    if over_daily_limit(st, &token.member) {
        return error(
            429,
            "Too many requests: the member's daily limit is reached (resets at midnight UTC)",
            None,
            None,
        );
    }
    let shown = little::read(&commentary);
    if let Some((at, c)) = shown.cut {
        st.mistakes.push(
            req,
            format!("commentary has an unescaped reserved {c:?} at character {at}: LinkedIn cuts the post there, leaving {:?} (NOTES §1a, L-LITTLE)", shown.text),
        );
    }
    let visibility = s("visibility");
    let post = store_post(st, &author, &commentary, &visibility, parent);
    Answer::empty(201).with_header("x-restli-id", &post.urn)
}

/// Keeps a new post; its text as LinkedIn would show it.
pub(super) fn store_post(
    st: &mut State,
    author: &str,
    commentary: &str,
    visibility: &str,
    reshare_of: Option<String>,
) -> Post {
    let share = st.ids.next();
    let activity = st.ids.next();
    let post = Post {
        urn: format!("urn:li:share:{share}"),
        activity: format!("urn:li:activity:{activity}"),
        author: author.into(),
        commentary: commentary.into(),
        text: little::read(commentary).text,
        visibility: visibility.into(),
        reshare_of,
        created_at: Utc::now(),
        deleted: false,
    };
    st.posts.push(post.clone());
    post
}

fn delete_post(st: &mut State, req: &Incoming, token: &Token, raw: &str) -> Answer {
    if let Err(a) = rules::restli_method(st, req, "delete") {
        return a;
    }
    let urn = match rules::path_urn(st, req, raw) {
        Ok(u) => u,
        Err(a) => return a,
    };
    let Some(i) = st.posts.iter().position(|p| p.urn == urn) else {
        // NOTES §4: 404 for an unknown URN is UNCONFIRMED.
        return error(404, &format!("Post {urn} does not exist"), None, Some("NOT_FOUND"));
    };
    let author = st.posts[i].author.clone();
    if let Err(rule) = rules::may_act_as(token, &author) {
        return refuse(st, req, 403, &format!("only the author may delete {urn}: {rule} (NOTES §4, UNCONFIRMED)"));
    }
    // NOTES §4: 204, and 204 again for a deleted post (UNCONFIRMED, said by third-party docs).
    st.posts[i].deleted = true;
    Answer::empty(204)
}

const COMMENT_FIELDS: [&str; 4] = ["actor", "object", "message", "parentComment"];

fn create_comment(st: &mut State, req: &Incoming, token: &Token, raw: &str) -> Answer {
    if let Err(a) = rules::restli_method(st, req, "create") {
        return a;
    }
    let urn = match rules::path_urn(st, req, raw) {
        Ok(u) => u,
        Err(a) => return a,
    };
    let body = match rules::json_body(st, req) {
        Ok(b) => b,
        Err(a) => return a,
    };
    let mut problems = Vec::new();
    if let Some(o) = body.as_object() {
        for k in o.keys().filter(|k| !COMMENT_FIELDS.contains(&k.as_str())) {
            problems.push(format!("unknown field {k:?}; a comment has {COMMENT_FIELDS:?} (NOTES §3)"));
        }
        if let Some(m) = o.get("message").and_then(Value::as_object) {
            for k in m.keys().filter(|k| k.as_str() != "text") {
                problems.push(format!("unknown field message.{k} (NOTES §3: message is {{text}})"));
            }
        }
    }
    let (actor, object, text) = (body["actor"].as_str(), body["object"].as_str(), body["message"]["text"].as_str());
    let (Some(actor), Some(object), Some(text)) = (actor, object, text) else {
        problems.push("a comment needs actor, object and message.text, all strings (NOTES §3)".into());
        for p in &problems {
            st.mistakes.push(req, p);
        }
        return error(400, &problems.join("; "), None, None);
    };
    if object != urn {
        problems.push(format!("object {object:?} is not the post in the path ({urn}) (NOTES §3)"));
    }
    if !problems.is_empty() {
        for p in &problems {
            st.mistakes.push(req, p);
        }
        return error(400, &problems.join("; "), None, None);
    }
    if let Err(rule) = rules::may_act_as(token, actor) {
        return refuse(st, req, 403, &format!("{rule} (NOTES §3 Permission, L-COMMENTS)"));
    }
    let Some(post) = st.posts.iter().find(|p| p.urn == urn && !p.deleted).cloned() else {
        // NOTES §3: a URN LinkedIn cannot resolve has been seen to give 404 (composio#2710).
        return error(404, &format!("Post {urn} does not exist"), None, Some("NOT_FOUND"));
    };
    if let Some(parent) = body["parentComment"].as_str() {
        if !st.comments.iter().any(|c| c.urn == parent && c.post == urn && !c.deleted) {
            let rule = format!("parentComment {parent:?} is not a comment on {urn} (NOTES §3)");
            st.mistakes.push(req, &rule);
            return invalid("/parentComment", "INVALID_URN", &rule);
        }
    }
    if over_daily_limit(st, &token.member) {
        return error(
            429,
            "Too many requests: the member's daily limit is reached (resets at midnight UTC)",
            None,
            None,
        );
    }
    let shown = little::read(text);
    if let Some((at, c)) = shown.cut {
        st.mistakes.push(
            req,
            format!(
                "message.text has an unescaped reserved {c:?} at character {at}, cut to {:?} (NOTES §1a, §3)",
                shown.text
            ),
        );
    }
    let id = st.ids.next();
    let comment_urn = format!("urn:li:comment:({},{id})", post.activity);
    st.comments.push(Comment {
        urn: comment_urn.clone(),
        id: id.clone(),
        post: urn.clone(),
        actor: actor.into(),
        raw: text.into(),
        text: shown.text,
        deleted: false,
    });
    // NOTES §3 Response: where the id is given is UNCONFIRMED; this server gives it everywhere
    // a client has been seen to read it (x-restli-id, `id`, `commentUrn`; `object` is the post).
    let body =
        json!({ "id": id, "commentUrn": comment_urn, "object": urn, "actor": actor, "message": { "text": text } });
    Answer::json(201, body).with_header("x-restli-id", &comment_urn)
}

fn delete_comment(st: &mut State, req: &Incoming, token: &Token, raw: &str, id: &str) -> Answer {
    if let Err(a) = rules::restli_method(st, req, "delete") {
        return a;
    }
    if let Err(a) = reads::params(st, req, &["actor"]) {
        return a;
    }
    let urn = match rules::path_urn(st, req, raw) {
        Ok(u) => u,
        Err(a) => return a,
    };
    let actor_raw = req.raw_query_pairs().into_iter().find(|(k, _)| k == "actor").map(|(_, v)| v);
    let actor = match actor_raw.as_deref().map(rules::query_urn) {
        Some(Ok(a)) => a,
        Some(Err(rule)) => return refuse(st, req, 400, &rule),
        None => {
            return refuse(
                st,
                req,
                400,
                "a comment delete needs ?actor={encoded URN} (NOTES §3, OPENPOST DeleteComment)",
            )
        }
    };
    let id = loopback::percent_decode(id);
    let Some(i) = st.comments.iter().position(|c| c.post == urn && (c.id == id || c.urn == id)) else {
        return error(404, &format!("Comment {id} on {urn} does not exist"), None, Some("NOT_FOUND"));
    };
    if st.comments[i].actor != actor {
        let rule = format!("actor {actor} did not write comment {id} (NOTES §3)");
        return refuse(st, req, 403, &rule);
    }
    if let Err(rule) = rules::may_act_as(token, &actor) {
        return refuse(st, req, 403, &rule);
    }
    st.comments[i].deleted = true;
    Answer::empty(204)
}

/// The counts of a post: set ones plus live comments and reshares made through the server.
pub(super) fn counts_of(st: &State, urn: &str) -> Counts {
    let mut c = st.counts.get(urn).copied().unwrap_or_default();
    c.comments += st.comments.iter().filter(|m| m.post == urn && !m.deleted).count() as u64;
    c.reshares += st.posts.iter().filter(|p| p.reshare_of.as_deref() == Some(urn) && !p.deleted).count() as u64;
    c
}

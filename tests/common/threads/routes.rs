//! The Threads test server's way in (version, token, parameter names against the collection,
//! faults) and its writes: containers, publishing, reposts and deletes. Reads are in `reads.rs`,
//! tokens in `oauth.rs`.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Instant;

use chrono::Utc;
use serde_json::json;

use super::super::loopback::{self, Answer, Incoming};
use super::super::meta::{self, error};
use super::spec::Collection;
use super::{oauth, reads, text_length, Container, Media, State, Status, Token, TEXT_LIMIT, USERS};

/// Records `rule` as a mistake and answers a Graph-shaped error naming it.
pub fn refuse(st: &mut State, req: &Incoming, code: i64, rule: &str) -> Answer {
    st.mistakes.push(req, rule);
    let kind = if code == 190 { "OAuthException" } else { "THApiException" };
    error(400, code, None, kind, &format!("(#{code}) {rule}"))
}

pub fn answer(state: &Mutex<State>, spec: Option<&Collection>, req: &Incoming) -> Answer {
    let lock = || loopback::lock(state);
    let mut segs: Vec<String> = req.segments().iter().filter(|s| !s.is_empty()).map(|s| s.to_string()).collect();
    if segs.first().is_some_and(|s| s.starts_with('v') && s[1..].starts_with(|c: char| c.is_ascii_digit())) {
        let mut st = lock();
        if segs[0] != st.version {
            let rule = format!("version {} in the path; this server is pinned to {} (or none)", segs[0], st.version);
            return refuse(&mut st, req, 100, &rule);
        }
        segs.remove(0);
    }
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let token_path = matches!(segs.as_slice(), ["oauth", _] | ["access_token"] | ["refresh_access_token"]);
    let token = if token_path {
        None
    } else {
        match token(&mut lock(), req) {
            Ok(t) => Some(t),
            Err(a) => return a,
        }
    };
    let me = token.as_ref().map(|t| super::user_id(&t.username).to_string()).unwrap_or_default();
    if segs != ["oauth", "authorize"] {
        if let Err(a) = names(&mut lock(), spec, req, &segs, &me) {
            return a;
        }
    }
    let effect = loopback::fire(&mut lock().faults, req);
    let mut lose = false;
    if let Some(a) = meta::fault_answer(effect, &me, "threads", &mut lose) {
        return a;
    }
    let mut st = lock();
    let mut a = match token {
        None => oauth::answer(&mut st, spec, req, &segs),
        Some(t) => route(&mut st, spec, req, &t, &segs),
    };
    a.lost = lose;
    a
}

/// The request's token: 190 when unknown or expired, and a mistake when none or unknown.
fn token(st: &mut State, req: &Incoming) -> Result<Token, Answer> {
    let Some(value) = meta::access_token(req) else {
        return Err(refuse(st, req, 190, "no access token (the collection's auth adds access_token to the query)"));
    };
    let Some(t) = st.tokens.iter().find(|t| t.value == value).cloned() else {
        st.mistakes.push(req, "an access token this server never issued");
        return Err(error(400, 190, None, "OAuthException", "Invalid OAuth access token - Cannot parse access token"));
    };
    if t.expires <= Utc::now() {
        return Err(error(
            400,
            190,
            Some(463),
            "OAuthException",
            "Error validating access token: Session has expired.",
        ));
    }
    if !t.scopes.iter().any(|s| s == "threads_basic") {
        let rule = "the token lacks threads_basic, required for all Threads endpoints (Get Started, Authorization)";
        return Err(refuse(st, req, 10, rule));
    }
    Ok(t)
}

/// Parameter names against the collection's requests for this method and path.
fn names(st: &mut State, spec: Option<&Collection>, req: &Incoming, segs: &[&str], me: &str) -> Result<(), Answer> {
    let Some(spec) = spec else { return Ok(()) };
    let found = spec.matching(&req.method, segs, |s| s == me);
    if found.is_empty() {
        let rule = format!(
            "{} {}: no request of the Threads Postman collection has this method and path",
            req.method, req.path
        );
        return Err(refuse(st, req, 100, &rule));
    }
    let mut allowed: HashSet<&str> = found.iter().flat_map(|r| r.query.iter().map(String::as_str)).collect();
    if found.iter().any(|r| !r.noauth) {
        allowed.insert("access_token");
    }
    let mut seen = HashSet::new();
    for (name, _, _) in meta::params(req) {
        if !allowed.contains(name.as_str()) {
            let mut known: Vec<&str> = allowed.iter().copied().collect();
            known.sort();
            let rule = format!(
                "unknown parameter {name:?}: the collection's {:?} take {known:?}",
                found.iter().map(|r| r.name.as_str()).collect::<Vec<_>>()
            );
            return Err(refuse(st, req, 100, &rule));
        }
        if !seen.insert(name.clone()) {
            return Err(refuse(st, req, 100, &format!("parameter {name} is given twice")));
        }
    }
    Ok(())
}

fn route(st: &mut State, spec: Option<&Collection>, req: &Incoming, token: &Token, segs: &[&str]) -> Answer {
    let me = super::user_id(&token.username);
    let mine = |s: &str| s == "me" || s == me;
    match (req.method.as_str(), segs) {
        ("POST", [who, "threads"]) if mine(who) => create(st, spec, req, token),
        ("POST", [who, "threads_publish"]) if mine(who) => publish(st, req, token),
        ("POST", [id, "repost"]) => repost(st, req, token, id),
        ("DELETE", [id]) => delete(st, req, token, id),
        ("GET", _) => reads::answer(st, spec, req, token, segs),
        (_, [who, ..]) if USERS.iter().any(|u| u.1 == *who) || *who == "me" => {
            refuse(st, req, 10, &format!("{who} is not the token's user ({me}): a user acts only as themself"))
        }
        _ => refuse(st, req, 100, &format!("{} is not served by this test server", req.what())),
    }
}

fn param(req: &Incoming, name: &str) -> Option<String> {
    meta::params(req).into_iter().find(|(k, _, _)| k == name).map(|(_, v, _)| meta::text(&v))
}

fn scope(st: &mut State, req: &Incoming, token: &Token, scope: &str, source: &str) -> Result<(), Answer> {
    if token.scopes.iter().any(|s| s == scope) {
        return Ok(());
    }
    Err(refuse(st, req, 10, &format!("the token lacks the {scope} permission ({source})")))
}

/// `POST /me/threads`: a media container ("Threads Posts", Step 1).
fn create(st: &mut State, spec: Option<&Collection>, req: &Incoming, token: &Token) -> Answer {
    if let Err(a) = scope(st, req, token, "threads_content_publish", "Get Started: required for publishing endpoints") {
        return a;
    }
    let p = |n: &str| param(req, n);
    // Media types: the "Threads Posts" parameter table and the collection's media_type variable.
    let types = spec
        .map(|s| s.list("media_type"))
        .unwrap_or_else(|| ["TEXT", "IMAGE", "VIDEO", "CAROUSEL"].map(String::from).to_vec());
    let Some(media_type) = p("media_type") else {
        return refuse(st, req, 100, "media_type is required (Threads Posts, Step 1 parameters)");
    };
    if !types.contains(&media_type) {
        return refuse(
            st,
            req,
            100,
            &format!("media_type {media_type:?} is not one of {types:?} (Threads Posts; the collection's media_type)"),
        );
    }
    for b in ["auto_publish_text", "is_carousel_item", "is_ghost_post", "is_spoiler_media"] {
        if p(b).is_some_and(|v| v != "true" && v != "false") {
            return refuse(
                st,
                req,
                100,
                &format!("{b} is {:?}, not true or false (Threads Posts)", p(b).unwrap_or_default()),
            );
        }
    }
    if let (Some(spec), Some(rc)) = (spec, p("reply_control")) {
        let allowed = spec.list("reply_control");
        if !allowed.contains(&rc) {
            return refuse(
                st,
                req,
                100,
                &format!("reply_control {rc:?} is not one of {allowed:?} (the collection's reply_control)"),
            );
        }
    }
    for j in ["poll_attachment", "text_entities", "gif_attachment"] {
        if p(j).is_some_and(|v| serde_json::from_str::<serde_json::Value>(&v).is_err()) {
            return refuse(st, req, 100, &format!("{j} is not JSON (the collection's example is)"));
        }
    }
    let needs = |field: &str, for_type: &str| -> Option<String> {
        (media_type == for_type && p(field).is_none_or(|v| v.is_empty()))
            .then(|| format!("{field} is required for media_type={for_type} (Threads Posts, Step 1 parameters)"))
    };
    let missing = if media_type == "TEXT" && p("text").is_none_or(|t| t.is_empty()) && p("link_attachment").is_none() {
        Some(
            "text is required for media_type=TEXT unless link_attachment is given (Threads Posts; the collection)"
                .into(),
        )
    } else {
        needs("image_url", "IMAGE").or_else(|| needs("video_url", "VIDEO")).or_else(|| needs("children", "CAROUSEL"))
    };
    if let Some(rule) = missing {
        return refuse(st, req, 100, &rule);
    }
    let text = p("text").filter(|t| !t.is_empty());
    if let Some(t) = &text {
        let n = text_length(t);
        if n > TEXT_LIMIT {
            return refuse(st, req, 100, &format!("text of {n} characters (emojis as UTF-8 bytes); Threads takes {TEXT_LIMIT} (Threads Posts, Limitations)"));
        }
        let mut finder = linkify::LinkFinder::new();
        finder.kinds(&[linkify::LinkKind::Url]).url_must_have_scheme(false);
        let links: HashSet<String> = finder.links(t).map(|l| l.as_str().to_string()).collect();
        if links.len() > 5 {
            let rule = format!(
                "THREADS_API__LINK_LIMIT_EXCEEDED: {} links; at most 5 (Threads text attachments page)",
                links.len()
            );
            return refuse(st, req, 100, &rule);
        }
    }
    let user = token.username.clone();
    let live = |st: &State, id: &str| st.media.iter().any(|m| m.id == id && !m.deleted);
    for (field, what) in [("reply_to_id", "reply to"), ("quote_post_id", "quote")] {
        if let Some(id) = p(field) {
            if !live(st, &id) {
                return refuse(
                    st,
                    req,
                    100,
                    &format!("{field} {id}: no Threads post to {what} (Threads Posts; Reply Management)"),
                );
            }
        }
    }
    let reply_to = p("reply_to_id");
    if reply_to.is_some() {
        if let Err(a) =
            scope(st, req, token, "threads_manage_replies", "Get Started: required for POST calls to reply endpoints")
        {
            return a;
        }
    }
    let mut children = Vec::new();
    if let Some(list) = p("children") {
        if media_type != "CAROUSEL" {
            return refuse(st, req, 100, "children is for media_type=CAROUSEL (Threads Posts, carousel)");
        }
        children = list.split(',').map(|s| s.trim().to_string()).collect();
        let items_ok =
            children.iter().all(|c| st.containers.iter().any(|k| &k.id == c && k.owner == user && k.carousel_item));
        if !(2..=20).contains(&children.len()) || !items_ok {
            let rule = "children must be 2 to 20 of the user's containers made with is_carousel_item=true (the collection's Create a Carousel Container)";
            return refuse(st, req, 100, rule);
        }
    }
    let id = st.ids.next();
    let failed = st.fail_next.take();
    let mut c = Container {
        id: id.clone(),
        owner: user.clone(),
        media_type: media_type.clone(),
        text: text.clone(),
        reply_to: reply_to.clone(),
        quote_of: p("quote_post_id"),
        carousel_item: p("is_carousel_item").as_deref() == Some("true"),
        children,
        status: failed.map_or(Status::InProgress, Status::Error),
        polls: 0,
        created: Instant::now(),
        needs_polls: st.polls,
        needs_time: st.delay,
    };
    settle(&mut c, false);
    st.containers.push(c);
    if p("auto_publish_text").as_deref() == Some("true") && media_type == "TEXT" {
        // "When this optional flag is passed, a Threads post is published automatically" (the
        // collection's Create Text Container). Which id the answer carries is not documented.
        return publish_container(st, req, token, &id);
    }
    Answer::json(200, json!({ "id": id }))
}

/// Moves an IN_PROGRESS container on: FINISHED once it has been read `needs_polls` times and
/// `needs_time` has passed. `poll` counts this as a status read.
pub(super) fn settle(c: &mut Container, poll: bool) {
    if c.status != Status::InProgress {
        return;
    }
    if poll {
        c.polls += 1;
    }
    if c.polls >= c.needs_polls && c.created.elapsed() >= c.needs_time {
        c.status = Status::Finished;
    }
}

/// `POST /me/threads_publish?creation_id=` ("Threads Posts", Step 2).
fn publish(st: &mut State, req: &Incoming, token: &Token) -> Answer {
    if let Err(a) = scope(st, req, token, "threads_content_publish", "Get Started: required for publishing endpoints") {
        return a;
    }
    let Some(id) = param(req, "creation_id") else {
        return refuse(st, req, 100, "creation_id is required (the collection's Publish Threads Post)");
    };
    publish_container(st, req, token, &id)
}

fn publish_container(st: &mut State, req: &Incoming, token: &Token, id: &str) -> Answer {
    let Some(i) = st.containers.iter().position(|c| c.id == id && c.owner == token.username) else {
        return refuse(st, req, 100, &format!("creation_id {id} is not a container of this user"));
    };
    settle(&mut st.containers[i], false);
    let c = st.containers[i].clone();
    match &c.status {
        Status::Finished => {}
        Status::Published(media) => {
            let rule = format!("container {id} is already published as {media}; a container is published once (Troubleshooting: PUBLISHED)");
            return refuse(st, req, 100, &rule);
        }
        other => {
            // Troubleshooting: only FINISHED means "ready to be published".
            let rule = format!(
                "container {id} is {}: only a FINISHED container is ready to be published; read GET /{id}?fields=status first (Troubleshooting)",
                other.name()
            );
            return refuse(st, req, 100, &rule);
        }
    }
    // "Overview", Rate Limiting: 250 posts and 1,000 replies per 24-hour moving period.
    let since = Utc::now() - chrono::Duration::hours(24);
    let reply = c.reply_to.is_some();
    let used = st
        .media
        .iter()
        .filter(|m| {
            m.owner == c.owner && m.container.is_some() && m.created_at > since && m.reply_to.is_some() == reply
        })
        .count() as u32;
    let quota = if reply { st.quota.1 } else { st.quota.0 };
    if used >= quota {
        let what = if reply { "replies" } else { "API-published posts" };
        let message = format!(
            "(#4) The user has reached the limit of {quota} {what} per 24 hours (Threads Overview, Rate Limiting)"
        );
        return error(400, 4, None, "THApiException", &message);
    }
    let kind = match c.media_type.as_str() {
        "TEXT" => "TEXT_POST",
        "CAROUSEL" => "CAROUSEL_ALBUM",
        other => other,
    };
    let media = store_media(
        st,
        &c.owner,
        kind,
        c.text.clone(),
        c.reply_to.clone(),
        c.quote_of.clone(),
        None,
        Some(c.id.clone()),
    );
    st.containers[i].status = Status::Published(media.clone());
    Answer::json(200, json!({ "id": media }))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn store_media(
    st: &mut State,
    owner: &str,
    media_type: &str,
    text: Option<String>,
    reply_to: Option<String>,
    quote_of: Option<String>,
    repost_of: Option<String>,
    container: Option<String>,
) -> String {
    let id = st.ids.next();
    st.media.push(Media {
        id: id.clone(),
        owner: owner.into(),
        media_type: media_type.into(),
        text,
        reply_to,
        quote_of,
        repost_of,
        container,
        created_at: Utc::now(),
        deleted: false,
    });
    id
}

/// `POST /{media-id}/repost` ("Reposts").
fn repost(st: &mut State, req: &Incoming, token: &Token, id: &str) -> Answer {
    if let Err(a) = scope(st, req, token, "threads_content_publish", "Get Started: required for publishing endpoints") {
        return a;
    }
    let Some(m) = st.media.iter().find(|m| m.id == id && !m.deleted).cloned() else {
        return refuse(st, req, 100, &format!("{id} is not a Threads post"));
    };
    if m.repost_of.is_some() {
        return refuse(st, req, 100, &format!("{id} is itself a repost (REPOST_FACADE); repost the original"));
    }
    let user = token.username.clone();
    if st.media.iter().any(|r| r.owner == user && r.repost_of.as_deref() == Some(id) && !r.deleted) {
        // Not in Meta's docs: this server's assumption, as a post is reposted once in the app.
        return error(400, 100, None, "THApiException", &format!("(#100) {user} has already reposted {id}"));
    }
    let repost = store_media(st, &user, "REPOST_FACADE", None, None, None, Some(id.into()), None);
    Answer::json(200, json!({ "id": repost }))
}

/// `DELETE /{media-id}` (the collection's Delete Threads Post; scope threads_delete).
fn delete(st: &mut State, req: &Incoming, token: &Token, id: &str) -> Answer {
    if let Err(a) = scope(st, req, token, "threads_delete", "the collection's scope list") {
        return a;
    }
    let Some(i) = st.media.iter().position(|m| m.id == id && !m.deleted) else {
        return error(400, 100, Some(33), "THApiException", &format!("Object with ID '{id}' does not exist"));
    };
    if st.media[i].owner != token.username {
        return refuse(st, req, 10, &format!("{id} is {}'s; only the owner deletes a post", st.media[i].owner));
    }
    st.media[i].deleted = true;
    Answer::json(200, json!({ "success": true }))
}

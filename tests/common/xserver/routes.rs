//! The X test server's endpoints: users, posts (with images), threads, timelines, retweets,
//! counts and media uploads, as X keeps them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::{
    Answer, Incoming, Media, Post, State, ALREADY_RETWEETED, DUPLICATE, MAX_IMAGE_BYTES, MEDIA_LIFETIME, REPLY_REFUSED,
    USERS,
};

pub(super) fn route(st: &mut State, req: &Incoming, user: &str) -> Answer {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let q = |k: &str| req.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let fields: Vec<&str> = q("post.fields").or(q("tweet.fields")).map(|f| f.split(',').collect()).unwrap_or_default();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["2", "users", "me"]) => {
            let u = USERS.iter().find(|u| u.1 == user).expect("a known user");
            Answer::json(200, json!({ "data": { "id": u.1, "name": u.0.replace('_', " "), "username": u.0 } }))
        }
        ("POST", ["2", "tweets"]) => create_post(st, req, user),
        ("POST", ["2", "media", "upload"]) => upload(st, req, user),
        ("GET", ["2", "media", "upload"]) => match live_media(st, q("media_id").unwrap_or_default(), user) {
            Some(m) => Answer::json(200, json!({ "data": media_json(m) })),
            None => media_not_found(q("media_id").unwrap_or_default()),
        },
        ("POST", ["2", "media", "metadata"]) => {
            let body = req.json();
            let id = body["id"].as_str().unwrap_or_default().to_string();
            let alt = body["metadata"]["alt_text"]["text"].as_str().map(str::to_string);
            let owner = user.to_string();
            let now = Utc::now();
            match st.media.iter_mut().find(|m| m.id == id && m.owner == owner && live(m, now)) {
                Some(m) => {
                    m.alt = alt.clone();
                    Answer::json(
                        200,
                        json!({ "data": { "id": id, "associated_metadata": { "alt_text": { "text": alt } } } }),
                    )
                }
                None => media_not_found(&id),
            }
        }
        ("DELETE", ["2", "tweets", id]) => match st.posts.iter_mut().find(|p| p.id == *id && !p.deleted) {
            Some(p) if p.author == user => {
                p.deleted = true;
                Answer::json(200, json!({ "data": { "deleted": true } }))
            }
            Some(_) => Answer::forbidden("You are not allowed to delete a Tweet that is not yours."),
            None => Answer::problem(
                404,
                "resource-not-found",
                "Not Found Error",
                &format!("Could not find post with id: [{id}]."),
                json!({ "resource_type": "tweet", "resource_id": id }),
            ),
        },
        ("POST", ["2", "users", id, "retweets"]) => {
            if *id != user {
                return Answer::forbidden("You are not permitted to perform this action.");
            }
            let target = req.json()["tweet_id"].as_str().unwrap_or_default().to_string();
            if !st.posts.iter().any(|p| p.id == target && !p.deleted) {
                return Answer::problem(
                    404,
                    "resource-not-found",
                    "Not Found Error",
                    &format!("Could not find post with id: [{target}]."),
                    json!({ "resource_type": "tweet", "resource_id": target }),
                );
            }
            if st.retweets.iter().any(|(u, p)| u == user && *p == target) {
                return Answer::forbidden(ALREADY_RETWEETED);
            }
            st.retweets.push((user.to_string(), target.clone()));
            Answer::json(200, json!({ "data": { "retweeted": true, "rest_id": target } }))
        }
        // Who retweeted a post (GET /2/tweets/{id}/retweeted_by): a recalled retweet is looked
        // for here, never made.
        ("GET", ["2", "tweets", id, "retweeted_by"]) => {
            let users: Vec<Value> = st
                .retweets
                .iter()
                .filter(|(_, p)| p == id)
                .filter_map(|(u, _)| USERS.iter().find(|x| x.1 == u))
                .map(|u| json!({ "id": u.1, "name": u.0.replace('_', " "), "username": u.0 }))
                .collect();
            let count = users.len();
            if count == 0 {
                Answer::json(200, json!({ "meta": { "result_count": 0 } }))
            } else {
                Answer::json(200, json!({ "data": users, "meta": { "result_count": count } }))
            }
        }
        ("DELETE", ["2", "users", id, "retweets", source]) => {
            if *id != user {
                return Answer::forbidden("You are not permitted to perform this action.");
            }
            st.retweets.retain(|(u, p)| !(u == user && p == source));
            Answer::json(200, json!({ "data": { "retweeted": false } }))
        }
        ("GET", ["2", "users", id, "tweets"]) => {
            let now = Utc::now();
            let lag = chrono::Duration::from_std(st.timeline_lag).unwrap_or_default();
            let exclude_replies = q("exclude").is_some_and(|e| e.split(',').any(|x| x == "replies"));
            let mut mine: Vec<&Post> = st
                .posts
                .iter()
                .filter(|p| p.author == *id && !p.deleted && p.created_at + lag <= now)
                .filter(|p| !(exclude_replies && p.reply_to.is_some()))
                .filter(|p| {
                    q("start_time").and_then(|t| DateTime::parse_from_rfc3339(t).ok()).is_none_or(|t| p.created_at >= t)
                })
                .collect();
            mine.reverse();
            let max = q("max_results").and_then(|m| m.parse().ok()).unwrap_or(10usize);
            let skip = q("pagination_token")
                .and_then(|t| t.strip_prefix("page").and_then(|n| n.parse().ok()))
                .unwrap_or(0usize);
            let page: Vec<Value> = mine.iter().skip(skip).take(max).map(|p| post_json(st, p, &fields)).collect();
            let mut meta = json!({ "result_count": page.len() });
            if let (Some(first), Some(last)) = (page.first(), page.last()) {
                meta["newest_id"] = first["id"].clone();
                meta["oldest_id"] = last["id"].clone();
            }
            if skip + max < mine.len() {
                meta["next_token"] = json!(format!("page{}", skip + max));
            }
            if page.is_empty() {
                Answer::json(200, json!({ "meta": meta }))
            } else {
                Answer::json(200, json!({ "data": page, "meta": meta }))
            }
        }
        ("GET", ["2", "tweets"]) => {
            let ids: Vec<&str> = q("ids").unwrap_or_default().split(',').collect();
            let mut data = Vec::new();
            let mut errors = Vec::new();
            for id in ids {
                match st.posts.iter().find(|p| p.id == id && !p.deleted) {
                    Some(p) => data.push(post_json(st, p, &fields)),
                    None => errors.push(json!({
                        "type": "https://api.x.com/2/problems/resource-not-found",
                        "title": "Not Found Error",
                        "detail": format!("Could not find post with ids: [{id}]."),
                        "resource_type": "tweet",
                        "resource_id": id,
                        "parameter": "ids",
                        "value": id,
                    })),
                }
            }
            let mut body = json!({});
            if !data.is_empty() {
                body["data"] = json!(data);
            }
            if !errors.is_empty() {
                body["errors"] = json!(errors);
            }
            Answer::json(200, body)
        }
        _ => Answer::problem(
            404,
            "resource-not-found",
            "Not Found Error",
            "No such endpoint in this test server",
            json!({ "resource_type": "endpoint" }),
        ),
    }
}

fn live(m: &Media, now: DateTime<Utc>) -> bool {
    now < m.uploaded + chrono::Duration::seconds(MEDIA_LIFETIME)
}

fn live_media<'a>(st: &'a State, id: &str, user: &str) -> Option<&'a Media> {
    let now = Utc::now();
    st.media.iter().find(|m| m.id == id && m.owner == user && live(m, now))
}

fn media_not_found(id: &str) -> Answer {
    Answer::problem(
        404,
        "resource-not-found",
        "Not Found Error",
        &format!("Could not find media with id: [{id}]."),
        json!({ "resource_type": "media", "resource_id": id }),
    )
}

fn media_json(m: &Media) -> Value {
    let left = (m.uploaded + chrono::Duration::seconds(MEDIA_LIFETIME) - Utc::now()).num_seconds().max(0);
    let mut v =
        json!({ "id": m.id, "media_key": format!("3_{}", m.id), "size": m.bytes.len(), "expires_after_secs": left });
    if let Ok(image) = image::load_from_memory(&m.bytes) {
        let kind = image::guess_format(&m.bytes).map(|f| f.to_mime_type()).unwrap_or("image/jpeg");
        v["image"] = json!({ "image_type": kind, "w": image.width(), "h": image.height() });
    }
    v
}

/// `POST /2/media/upload`: a base64 image in JSON (the document: "base64-encoded in JSON bodies").
fn upload(st: &mut State, req: &Incoming, user: &str) -> Answer {
    use base64::Engine as _;
    let body = req.json();
    let category = body["media_category"].as_str().unwrap_or_default().to_string();
    let Some(bytes) = body["media"].as_str().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
    else {
        st.violations.push("request: POST /2/media/upload: media is not base64".into());
        return Answer::invalid("The media field must be base64-encoded");
    };
    if category != "tweet_image" {
        st.violations.push(format!("request: an image uploaded as {category:?}, not tweet_image"));
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        st.violations.push(format!("request: an image of {} bytes (X takes {MAX_IMAGE_BYTES})", bytes.len()));
        return Answer::invalid("File size exceeds 5242880 bytes.");
    }
    let known = matches!(
        image::guess_format(&bytes),
        Ok(image::ImageFormat::Jpeg | image::ImageFormat::Png | image::ImageFormat::WebP | image::ImageFormat::Gif)
    );
    if !known || image::load_from_memory(&bytes).is_err() {
        st.violations.push("request: the uploaded media is not an image X reads".into());
        return Answer::invalid("Unsupported or corrupt media.");
    }
    let id = st.new_id();
    st.media.push(Media { id: id.clone(), owner: user.to_string(), category, bytes, alt: None, uploaded: Utc::now() });
    let media = st.media.last().map(media_json).unwrap_or_default();
    Answer::json(200, json!({ "data": media }))
}

fn create_post(st: &mut State, req: &Incoming, user: &str) -> Answer {
    let body = req.json();
    let text = body["text"].as_str().unwrap_or_default().to_string();
    let media: Vec<String> = body["media"]["media_ids"]
        .as_array()
        .map(|ids| ids.iter().filter_map(|i| i.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    if let Some(bad) = media.iter().find(|id| live_media(st, id, user).is_none()) {
        return Answer::invalid(&format!("Your media IDs are invalid: {bad}"));
    }
    let reply_to = body["reply"]["in_reply_to_tweet_id"].as_str().map(str::to_string);
    let weighted = loudhailer::count::twitter::weighted_length(&text, &loudhailer::count::twitter::V3);
    if weighted > 280 {
        st.violations.push(format!("request: a post of {weighted} weighted characters (X takes 280): {text:?}"));
        return Answer::forbidden("Your Tweet text is too long.");
    }
    let conversation_id = match &reply_to {
        Some(parent) => {
            if st.replies_refused {
                return Answer::forbidden(REPLY_REFUSED);
            }
            match st.posts.iter().find(|p| p.id == *parent && !p.deleted) {
                Some(p) => p.conversation_id.clone(),
                None => return Answer::invalid(&format!("The post you are replying to ({parent}) does not exist")),
            }
        }
        None => String::new(),
    };
    if st.posts.iter().any(|p| p.author == user && !p.deleted && p.text == text) {
        return Answer::forbidden(DUPLICATE);
    }
    let id = st.new_id();
    let conversation_id = if conversation_id.is_empty() { id.clone() } else { conversation_id };
    st.posts.push(Post {
        id: id.clone(),
        author: user.to_string(),
        text: text.clone(),
        created_at: Utc::now(),
        reply_to,
        conversation_id,
        deleted: false,
        likes: 0,
        media,
    });
    Answer::json(201, json!({ "data": { "id": id, "text": text, "edit_history_post_ids": [id] } }))
}

fn post_json(st: &State, p: &Post, fields: &[&str]) -> Value {
    let mut v = json!({ "id": p.id, "text": p.text, "edit_history_post_ids": [p.id] });
    for f in fields {
        match *f {
            "created_at" => v["created_at"] = json!(p.created_at.to_rfc3339_opts(SecondsFormat::Millis, true)),
            "conversation_id" => v["conversation_id"] = json!(p.conversation_id),
            "public_metrics" => {
                let reposts = st.retweets.iter().filter(|(_, t)| *t == p.id).count();
                let replies = st.posts.iter().filter(|r| r.reply_to.as_deref() == Some(&p.id) && !r.deleted).count();
                v["public_metrics"] = if st.legacy_fields {
                    json!({ "retweet_count": reposts, "reply_count": replies, "like_count": p.likes, "quote_count": 0 })
                } else {
                    json!({ "repost_count": reposts, "reply_count": replies, "like_count": p.likes, "quote_count": 0, "bookmark_count": 0, "impression_count": 10 * p.likes })
                };
            }
            _ => {}
        }
    }
    v
}

//! A stand-in for the Threads API (two-step publishing through media containers, replies,
//! reposts, insights, the publishing quota, tokens), for loudhailer's Threads tests. Query
//! parameter names and the value lists (media types, reply controls, fields, metrics, scopes)
//! come from Meta's Postman collection, read from `../shared/specs/threads/postman/` (never
//! copied here: Meta's licence, see `spec.rs`); rules it does not hold are written in code with
//! the documentation page they come from.
//!
//! # Contract for a client
//!
//! One base URL (`ThreadsServer::base`) stands for `graph.threads.net` and, for the
//! authorization window, `threads.net`. Paths may start with the pinned version (`/v1.0/…`,
//! `version()`) or have none, as the collection's requests do. The access token comes as the
//! `access_token` query parameter (the collection's auth puts it there) or `Authorization:
//! Bearer …`. Parameters go in the query (as in the collection) or a form body; any name the
//! collection does not list for that request is refused.
//!
//! - `POST /me/threads` or `/{user-id}/threads` ("Threads Posts",
//!   https://developers.facebook.com/docs/threads/posts): `media_type` (TEXT, IMAGE, VIDEO,
//!   CAROUSEL), `text` (required for TEXT unless `link_attachment`), `image_url` (IMAGE),
//!   `video_url` (VIDEO), `children` (CAROUSEL, 2 to 20 item containers), `alt_text`,
//!   `reply_to_id`, `quote_post_id`, `reply_control`, `is_carousel_item`, `auto_publish_text`, ….
//!   Text is at most 500 characters, an emoji counting its UTF-8 bytes ("Limitations"), with at
//!   most 5 links (text attachments page: `THREADS_API__LINK_LIMIT_EXCEEDED`). Answers `{"id":
//!   container-id}`; with `auto_publish_text=true` (TEXT) the post is published at once and the
//!   answer's id is the post's.
//! - `GET /{container-id}?fields=id,status,error_message` (Troubleshooting,
//!   https://developers.facebook.com/docs/threads/troubleshooting): `status` IN_PROGRESS →
//!   FINISHED (or ERROR with `error_message`, or EXPIRED); PUBLISHED once published. By default a
//!   container is FINISHED at once; `container_polls(n)` makes the n-th status read the first
//!   FINISHED one, `container_delay(d)` holds it IN_PROGRESS for `d`.
//! - `POST /me/threads_publish?creation_id={container-id}`: `{"id": media-id}`. A container that
//!   is not FINISHED, or is published already, is refused (and recorded as the client's mistake:
//!   only FINISHED containers "are ready to be published"). 250 posts and 1,000 replies per 24
//!   hours ("Overview", Rate Limiting: Posts, Replies).
//! - `POST /{media-id}/repost` ("Reposts"): `{"id": repost-id}`, a REPOST_FACADE post of the
//!   caller. A second repost of the same post by the same user is refused (this server's
//!   assumption; the docs say nothing).
//! - `DELETE /{media-id}`: `{"success": true}` (the owner, scope threads_delete).
//! - `GET /{media-id}?fields=…` (the collection's fields_threads and fields_replies),
//!   `GET /me/threads`, `GET /{media-id}/replies|conversation`.
//! - `GET /{media-id}/insights?metric=views,likes,replies,reposts,quotes,shares` ("Insights"):
//!   `{data: [{name, period: "lifetime", values: [{value}], title, description, id}]}`; empty for
//!   a REPOST_FACADE. Scope threads_manage_insights.
//! - `GET /me/threads_publishing_limit?fields=quota_usage,config,reply_quota_usage,reply_config`:
//!   `{data: [{quota_usage, config: {quota_total, quota_duration}, …}]}`.
//! - `GET /me?fields=id,username,name,…` (fields_profile).
//! - Tokens ("Get Access Tokens", "Long-Lived Tokens",
//!   https://developers.facebook.com/docs/threads/get-started/long-lived-tokens):
//!   `GET /oauth/authorize?client_id&redirect_uri&scope&response_type=code&state` (scope
//!   comma-separated; the user set by `login_as` allows at once) redirects with `code`;
//!   `POST /oauth/access_token` (client_id, client_secret, code, grant_type=authorization_code,
//!   redirect_uri) → `{access_token, user_id}` valid one hour; `GET /access_token?grant_type=th_exchange_token&client_secret&access_token`
//!   → `{access_token, token_type: "bearer", expires_in: 5183944}` (60 days);
//!   `GET /refresh_access_token?grant_type=th_refresh_token&access_token` refreshes a long-lived
//!   token at least 24 hours old and not expired.
//!
//! Permissions ("Get Started", Authorization): threads_basic on every call;
//! threads_content_publish to create, publish and repost; threads_manage_replies to reply;
//! threads_read_replies to read replies; threads_manage_insights for insights; threads_delete to
//! delete. A missing one answers code 10 and is recorded as a mistake.
//!
//! Errors are Graph's shape (`meta.rs`): `{"error": {message, type, code, error_subcode?,
//! fbtrace_id}}`, HTTP 400 (5xx for injected outages); 190 for tokens; throttling codes 4, 17,
//! 32, 613, 80001 with or without `X-Business-Use-Case-Usage`.
//!
//! # Accounts
//!
//! App [`APP_ID`] / [`APP_SECRET`]; redirect URIs on 127.0.0.1 or localhost are valid. Users
//! ([`USERS`]) ada_delegate and faith_council with long-lived tokens [`ADA_TOKEN`] and
//! [`FAITH_TOKEN`] holding [`SCOPES`].
//!
//! # For tests
//!
//! Read back `containers()`, `media()`, `posts_by(user)`, `reposts()`, `tokens()`,
//! `requests()` (secrets blanked); set `set_counts(media, Counts)`; `fail_next_container(msg)`,
//! `expire_container(id)`, `age_token(token, by)`, `publishing_quota(posts, replies)`. Faults:
//! `add_fault(Fault::once("POST", "/threads_publish", Effect::LoseAnswer))` and the other
//! [`Effect`]s. Broken rules answer an error naming the rule and are recorded as mistakes:
//! `assert_clean()` (and dropping the server) fails the test on any; `take_mistakes()` hands them
//! to a test that provoked them. Without the collection (`checks_spec()` false) parameter names
//! and value lists are not checked and a NOTE says so.

mod oauth;
mod reads;
mod routes;
pub mod spec;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::loopback::{self, Fault, Ids, Logged, Loopback, Mistakes};
pub use super::meta::Effect;
use spec::Collection;

pub const APP_ID: &str = "1122334455667788";
pub const APP_SECRET: &str = "lh-threads-app-secret";
/// Users: (username, Threads user id, long-lived token).
pub const USERS: [(&str, &str, &str); 2] =
    [("ada_delegate", "25000000000000011", ADA_TOKEN), ("faith_council", "25000000000000022", FAITH_TOKEN)];
pub const ADA_TOKEN: &str = "th-ada-long-lived-token";
pub const FAITH_TOKEN: &str = "th-faith-long-lived-token";
/// The permissions the known tokens hold ("Get Started", Authorization).
pub const SCOPES: [&str; 6] = [
    "threads_basic",
    "threads_content_publish",
    "threads_manage_insights",
    "threads_manage_replies",
    "threads_read_replies",
    "threads_delete",
];
/// "Threads Posts", Limitations: text posts are limited to 500 characters.
pub const TEXT_LIMIT: usize = 500;
pub const DEFAULT_VERSION: &str = "v1.0";

/// A container's publishing status (Troubleshooting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Finished,
    Error(String),
    Expired,
    Published(String),
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::InProgress => "IN_PROGRESS",
            Status::Finished => "FINISHED",
            Status::Error(_) => "ERROR",
            Status::Expired => "EXPIRED",
            Status::Published(_) => "PUBLISHED",
        }
    }
}

/// A media container.
#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub owner: String,
    pub media_type: String,
    pub text: Option<String>,
    pub reply_to: Option<String>,
    pub quote_of: Option<String>,
    pub carousel_item: bool,
    pub children: Vec<String>,
    pub status: Status,
    /// Status reads so far.
    pub polls: u32,
    created: Instant,
    needs_polls: u32,
    needs_time: Duration,
}

/// A published post (or a repost).
#[derive(Debug, Clone)]
pub struct Media {
    pub id: String,
    pub owner: String,
    /// TEXT_POST, IMAGE, VIDEO, CAROUSEL_ALBUM or REPOST_FACADE.
    pub media_type: String,
    pub text: Option<String>,
    pub reply_to: Option<String>,
    pub quote_of: Option<String>,
    pub repost_of: Option<String>,
    pub container: Option<String>,
    pub created_at: DateTime<Utc>,
    pub deleted: bool,
}

/// Counts a test sets; replies, reposts and quotes made through the server are added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub views: u64,
    pub likes: u64,
    pub replies: u64,
    pub reposts: u64,
    pub quotes: u64,
    pub shares: u64,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub value: String,
    pub username: String,
    pub long_lived: bool,
    pub scopes: Vec<String>,
    pub issued: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}

#[derive(Default)]
pub(super) struct State {
    ids: Ids,
    version: String,
    containers: Vec<Container>,
    media: Vec<Media>,
    counts: HashMap<String, Counts>,
    tokens: Vec<Token>,
    codes: HashMap<String, (String, String, Vec<String>)>, // code -> (redirect_uri, username, scopes)
    login_as: String,
    polls: u32,
    delay: Duration,
    fail_next: Option<String>,
    quota: (u32, u32),
    faults: Vec<Fault<Effect>>,
    mistakes: Mistakes,
}

pub struct ThreadsServer {
    pub base: String,
    state: Arc<Mutex<State>>,
    spec: Option<Arc<Collection>>,
    net: Loopback,
}

impl ThreadsServer {
    pub fn start() -> ThreadsServer {
        let spec = Collection::load().map(Arc::new);
        if spec.is_none() {
            eprintln!(
                "NOTE: the Threads Postman collection (../shared/specs/threads/postman/, or under $LOUDHAILER_SHARED) \
                 was not found: this test's Threads parameters are NOT checked against Meta's collection"
            );
        }
        let now = Utc::now();
        let token = |(username, _, value): (&str, &str, &str)| Token {
            value: value.into(),
            username: username.into(),
            long_lived: true,
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            issued: now,
            expires: now + chrono::Duration::days(60),
        };
        let state = Arc::new(Mutex::new(State {
            ids: Ids::starting_at(17_890_000_000_000_000),
            version: DEFAULT_VERSION.into(),
            tokens: vec![token(USERS[0]), token(USERS[1])],
            login_as: USERS[0].0.into(),
            quota: (250, 1000),
            ..Default::default()
        }));
        let (st, sp) = (state.clone(), spec.clone());
        let net = Loopback::start("Threads", move |req| routes::answer(&st, sp.as_deref(), req));
        ThreadsServer { base: net.base.clone(), state, spec, net }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        loopback::lock(&self.state)
    }

    /// Whether parameters are checked against Meta's Postman collection.
    pub fn checks_spec(&self) -> bool {
        self.spec.is_some()
    }

    pub fn version(&self) -> String {
        self.lock().version.clone()
    }

    pub fn set_version(&self, version: &str) {
        self.lock().version = version.into();
    }

    pub fn add_fault(&self, fault: Fault<Effect>) {
        self.lock().faults.push(fault);
    }

    /// Containers made from now on turn FINISHED on their `n`-th status read (0: at once).
    pub fn container_polls(&self, n: u32) {
        self.lock().polls = n;
    }

    /// Containers made from now on stay IN_PROGRESS for `d`.
    pub fn container_delay(&self, d: Duration) {
        self.lock().delay = d;
    }

    /// The next container fails with this `error_message` (FAILED_DOWNLOADING_VIDEO, …).
    pub fn fail_next_container(&self, message: &str) {
        self.lock().fail_next = Some(message.into());
    }

    /// The container was not published within 24 hours.
    pub fn expire_container(&self, id: &str) {
        if let Some(c) = self.lock().containers.iter_mut().find(|c| c.id == id) {
            c.status = Status::Expired;
        }
    }

    /// Posts and replies a user may publish per 24 hours (250 and 1,000 by default).
    pub fn publishing_quota(&self, posts: u32, replies: u32) {
        self.lock().quota = (posts, replies);
    }

    /// The user who allows access in the authorization window.
    pub fn login_as(&self, username: &str) {
        self.lock().login_as = username.into();
    }

    /// Makes a token older by `by` (issued and expiry both move back).
    pub fn age_token(&self, token: &str, by: chrono::Duration) {
        if let Some(t) = self.lock().tokens.iter_mut().find(|t| t.value == token) {
            t.issued -= by;
            t.expires -= by;
        }
    }

    /// A live token for `username` with these permissions.
    pub fn issue_token(&self, username: &str, scopes: &[&str], long_lived: bool) -> String {
        let mut st = self.lock();
        let value = format!("th-{}", st.ids.next());
        let life = if long_lived { chrono::Duration::seconds(5_183_944) } else { chrono::Duration::hours(1) };
        let now = Utc::now();
        st.tokens.push(Token {
            value: value.clone(),
            username: username.into(),
            long_lived,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            issued: now,
            expires: now + life,
        });
        value
    }

    /// Every token of `username` has expired.
    pub fn expire_tokens(&self, username: &str) {
        for t in self.lock().tokens.iter_mut().filter(|t| t.username == username) {
            t.expires = Utc::now() - chrono::Duration::seconds(1);
        }
    }

    /// A post made outside loudhailer.
    pub fn seed_post(&self, username: &str, text: &str) -> String {
        let mut st = self.lock();
        routes::store_media(&mut st, username, "TEXT_POST", Some(text.into()), None, None, None, None)
    }

    pub fn set_counts(&self, media: &str, counts: Counts) {
        self.lock().counts.insert(media.into(), counts);
    }

    pub fn containers(&self) -> Vec<Container> {
        self.lock().containers.clone()
    }

    /// Every post, reply and repost, deleted ones too, oldest first.
    pub fn media(&self) -> Vec<Media> {
        self.lock().media.clone()
    }

    /// A user's live posts and replies (not reposts).
    pub fn posts_by(&self, username: &str) -> Vec<Media> {
        self.media().into_iter().filter(|m| m.owner == username && !m.deleted && m.repost_of.is_none()).collect()
    }

    /// (username, reposted media id) of every live repost.
    pub fn reposts(&self) -> Vec<(String, String)> {
        self.media().into_iter().filter(|m| !m.deleted).filter_map(|m| Some((m.owner, m.repost_of?))).collect()
    }

    pub fn tokens(&self) -> Vec<Token> {
        self.lock().tokens.clone()
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.net.requests()
    }

    pub fn take_mistakes(&self) -> Vec<String> {
        self.lock().mistakes.take()
    }

    pub fn assert_clean(&self) {
        loopback::assert_no_mistakes("Threads", self.take_mistakes());
    }
}

impl Drop for ThreadsServer {
    fn drop(&mut self) {
        let mistakes = self.take_mistakes();
        loopback::assert_no_mistakes("Threads", mistakes);
    }
}

/// A user's Threads id.
pub fn user_id(username: &str) -> &'static str {
    USERS.iter().find(|u| u.0 == username).map(|u| u.1).unwrap_or_else(|| panic!("no Threads user {username}"))
}

/// Text length as Threads counts it ("Threads Posts", Limitations: 500 characters, emojis
/// counted as the number of their UTF-8 bytes).
pub fn text_length(text: &str) -> usize {
    use unicode_properties::UnicodeEmoji;
    text.chars().map(|c| if !c.is_ascii() && c.is_emoji_char_or_emoji_component() { c.len_utf8() } else { 1 }).sum()
}

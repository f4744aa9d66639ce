//! A stand-in for the X API v2, for loudhailer's X tests. There is no X server to run, so this
//! one holds to X's own published OpenAPI document (see `openapi.rs`): every request is checked
//! against its operation, every answer against its response schema, and any mismatch fails the
//! test. It keeps what X keeps (posts, threads, retweets, counts, tokens) so tests can read it
//! back, and behaves as X is documented to:
//!
//! - OAuth 1.0a signatures are recomputed here (HMAC-SHA1, RFC 5849, an implementation of its
//!   own) with the known test secrets; timestamps must be within five minutes, nonces fresh;
//! - OAuth 2.0: the PKCE authorize and token endpoints; refresh tokens are single-use, and a
//!   reused one is refused (and recorded as the client's mistake);
//! - a repeated text from the same account is refused with 403 "duplicate content";
//! - images: `POST /2/media/upload` takes a base64 image (JPEG, PNG, WebP or GIF, at most 5 MB,
//!   X's documented limit for `tweet_image`) and keeps it a day, `GET /2/media/upload` answers
//!   its status, `POST /2/media/metadata` sets its alt text, and a post's `media.media_ids` must
//!   name the poster's own live uploads;
//! - faults on demand: 429 with `x-rate-limit-*` headers, 403 for replies, 5xx, delays, an
//!   answer lost after the work was done, and a timeline that lags behind new posts.

mod auth;
mod routes;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::openapi::{self, RequestParts, Spec};
pub use auth::sign_hmac_sha1;

/// The test app's OAuth 1.0a consumer key and secret.
pub const CONSUMER_KEY: &str = "lh-test-consumer-key";
pub const CONSUMER_SECRET: &str = "lh-test-consumer-secret";
/// The test app's OAuth 2.0 client (confidential).
pub const CLIENT_ID: &str = "lh-test-client";
pub const CLIENT_SECRET: &str = "lh-test-client-secret";

/// The accounts the server knows: (username, user id, access token, access token secret).
pub const USERS: [(&str, &str, &str, &str); 2] = [
    ("ada_delegate", "1111111111", "1111111111-delegate-access-token", "delegate-token-secret"),
    ("faith_council", "2222222222", "2222222222-council-access-token", "council-token-secret"),
];

/// X's words for the refusals loudhailer must understand.
pub const DUPLICATE: &str = "You are not allowed to create a Tweet with duplicate content.";
pub const REPLY_REFUSED: &str = "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.";
pub const ALREADY_RETWEETED: &str = "You cannot retweet a Tweet that you have already retweeted.";

/// A post as the server keeps it.
#[derive(Debug, Clone)]
pub struct Post {
    pub id: String,
    pub author: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub reply_to: Option<String>,
    pub conversation_id: String,
    pub deleted: bool,
    pub likes: u64,
    /// The uploads it carries (`media.media_ids`).
    pub media: Vec<String>,
}

/// An upload as the server keeps it.
#[derive(Debug, Clone)]
pub struct Media {
    pub id: String,
    pub owner: String,
    pub category: String,
    pub bytes: Vec<u8>,
    /// Set by `POST /2/media/metadata`.
    pub alt: Option<String>,
    pub uploaded: DateTime<Utc>,
}

/// How long an upload no post used is kept (X's `expires_after_secs` for images).
pub const MEDIA_LIFETIME: i64 = 86_400;
/// X's documented limit for an image upload (`tweet_image`): 5 MB.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// A request as the server logged it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Value,
    pub status: u16,
}

/// What a fault does.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Answer 429 with `x-rate-limit-remaining: 0` and a reset this many seconds away.
    RateLimit { reset_in: i64 },
    /// Answer this status with an X error body.
    Status(u16),
    /// Wait, then answer as usual.
    Delay(Duration),
    /// Do the work, then answer 503 as if the answer were lost on the way.
    LoseAnswer,
}

/// A fault for requests of `method` whose path contains `path`, `times` times (None: always).
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: &'static str,
    pub path: &'static str,
    pub effect: Effect,
    pub times: Option<usize>,
}

#[derive(Debug, Clone)]
pub(super) struct Grant {
    user: String,
    scopes: Vec<String>,
    expires: DateTime<Utc>,
}

#[derive(Default)]
pub(super) struct State {
    posts: Vec<Post>,
    media: Vec<Media>,
    retweets: Vec<(String, String)>,
    next_id: u64,
    nonces: HashSet<String>,
    faults: Vec<Fault>,
    requests: Vec<Logged>,
    violations: Vec<String>,
    bad_signatures: usize,
    good_signatures: usize,
    // OAuth 2.0
    codes: HashMap<String, (String, String, String)>, // code -> (challenge, redirect_uri, user)
    access: HashMap<String, Grant>,
    refresh: HashMap<String, (String, Vec<String>, bool)>, // token -> (user, scopes, used)
    token_lifetime: i64,
    refreshes: usize,
    // behaviour
    replies_refused: bool,
    timeline_lag: Duration,
    legacy_fields: bool,
}

pub struct XServer {
    pub base: String,
    state: Arc<Mutex<State>>,
    server: Arc<tiny_http::Server>,
    spec: Option<Arc<Spec>>,
}

impl XServer {
    pub fn start() -> XServer {
        let spec = match openapi::document_path() {
            Some(p) => Some(Arc::new(Spec::load(&p))),
            None => {
                eprintln!(
                    "NOTE: the X API document (../shared/specs/x-openapi/openapi.json, or under \
                     $LOUDHAILER_SHARED) was not found: this test's requests and answers are NOT \
                     checked against X's spec"
                );
                None
            }
        };
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind the X test server"));
        let base = format!("http://{}", server.server_addr().to_ip().expect("an IP address"));
        let state = Arc::new(Mutex::new(State {
            next_id: 1_860_000_000_000_000_000,
            token_lifetime: 7200,
            ..Default::default()
        }));
        let (s, st, sp, b) = (server.clone(), state.clone(), spec.clone(), base.clone());
        std::thread::spawn(move || {
            for request in s.incoming_requests() {
                let (st, sp, b) = (st.clone(), sp.clone(), b.clone());
                std::thread::spawn(move || handle(&st, sp.as_deref(), &b, request));
            }
        });
        XServer { base, state, server, spec }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether requests are checked against X's document.
    pub fn checks_spec(&self) -> bool {
        self.spec.is_some()
    }

    pub fn spec_version(&self) -> Option<String> {
        self.spec.as_ref().map(|s| s.version().to_string())
    }

    pub fn add_fault(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// Refuse every reply, as X may for self-serve apps since 2026-02-23.
    pub fn refuse_replies(&self, refuse: bool) {
        self.lock().replies_refused = refuse;
    }

    /// New posts appear in the author's timeline only after this long.
    pub fn lag_timeline(&self, lag: Duration) {
        self.lock().timeline_lag = lag;
    }

    /// Behave as the prose docs describe (`tweet.fields`, `retweet_count`) instead of the spec.
    pub fn use_legacy_field_names(&self, legacy: bool) {
        self.lock().legacy_fields = legacy;
    }

    /// How long OAuth 2.0 access tokens live from now on.
    pub fn token_lifetime(&self, seconds: i64) {
        self.lock().token_lifetime = seconds;
    }

    /// A post made outside loudhailer.
    pub fn seed_post(&self, username: &str, text: &str, created_at: DateTime<Utc>) -> String {
        let mut st = self.lock();
        let id = st.new_id();
        let author = user_id(username).to_string();
        st.posts.push(Post {
            id: id.clone(),
            author,
            text: text.into(),
            created_at,
            reply_to: None,
            conversation_id: id.clone(),
            deleted: false,
            likes: 0,
            media: Vec::new(),
        });
        id
    }

    /// An upload, by its id.
    pub fn media(&self, id: &str) -> Option<Media> {
        self.lock().media.iter().find(|m| m.id == id).cloned()
    }

    /// Every upload, oldest first.
    pub fn uploads(&self) -> Vec<Media> {
        self.lock().media.clone()
    }

    pub fn set_likes(&self, id: &str, likes: u64) {
        if let Some(p) = self.lock().posts.iter_mut().find(|p| p.id == id) {
            p.likes = likes;
        }
    }

    /// Every post (deleted ones too), oldest first.
    pub fn posts(&self) -> Vec<Post> {
        self.lock().posts.clone()
    }

    /// Live posts by `username`.
    pub fn posts_by(&self, username: &str) -> Vec<Post> {
        let id = user_id(username);
        self.posts().into_iter().filter(|p| p.author == id && !p.deleted).collect()
    }

    /// (username, retweeted post id) for every retweet.
    pub fn retweets(&self) -> Vec<(String, String)> {
        self.lock().retweets.iter().map(|(u, p)| (username(u).to_string(), p.clone())).collect()
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.lock().requests.clone()
    }

    /// (valid, invalid) OAuth 1.0a signatures seen.
    pub fn signatures(&self) -> (usize, usize) {
        let st = self.lock();
        (st.good_signatures, st.bad_signatures)
    }

    /// How many refresh tokens were traded.
    pub fn refreshes(&self) -> usize {
        self.lock().refreshes
    }

    /// The refresh token that is valid now for `username`, if any.
    pub fn live_refresh_token(&self, username: &str) -> Option<String> {
        let id = user_id(username);
        self.lock().refresh.iter().find(|(_, (u, _, used))| u == id && !used).map(|(t, _)| t.clone())
    }

    /// Makes every access token of `username` invalid (as if X revoked it).
    pub fn expire_access_tokens(&self, username: &str) {
        let id = user_id(username).to_string();
        for grant in self.lock().access.values_mut().filter(|g| g.user == id) {
            grant.expires = Utc::now() - chrono::Duration::seconds(1);
        }
    }

    /// Takes the spec and protocol violations seen so far (the test then owns them).
    pub fn take_violations(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().violations)
    }

    /// Fails the test if any request or answer broke X's document or protocol.
    pub fn assert_clean(&self) {
        let v = self.take_violations();
        assert!(v.is_empty(), "the X test server saw {} violations:\n{}", v.len(), v.join("\n"));
    }
}

impl Drop for XServer {
    fn drop(&mut self) {
        self.server.unblock();
        let v = self.take_violations();
        if !v.is_empty() && !std::thread::panicking() {
            panic!("the X test server saw {} violations:\n{}", v.len(), v.join("\n"));
        }
    }
}

impl State {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }
}

pub fn user_id(username: &str) -> &'static str {
    USERS.iter().find(|u| u.0 == username).map(|u| u.1).unwrap_or_else(|| panic!("no test user {username}"))
}

pub(super) fn username(id: &str) -> &'static str {
    USERS.iter().find(|u| u.1 == id).map(|u| u.0).unwrap_or("?")
}

/// An answer: status, JSON body, content type, extra headers.
pub(super) struct Answer {
    status: u16,
    body: Value,
    content_type: &'static str,
    headers: Vec<(String, String)>,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer { status, body, content_type: "application/json", headers: Vec::new() }
    }

    /// An error as the document's `Problem` (problem+json).
    fn problem(status: u16, kind: &str, title: &str, detail: &str, extra: Value) -> Answer {
        let mut body = json!({
            "type": format!("https://api.x.com/2/problems/{kind}"),
            "title": title,
            "detail": detail,
            "status": status,
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        Answer { status, body, content_type: "application/problem+json", headers: Vec::new() }
    }

    /// An error as the document's `Error` (`{code, message}`).
    fn error(status: u16, code: i64, message: &str) -> Answer {
        Answer::json(status, json!({ "code": code, "message": message }))
    }

    fn forbidden(detail: &str) -> Answer {
        Answer::problem(403, "disallowed-resource", "Forbidden", detail, json!({}))
    }

    fn invalid(detail: &str) -> Answer {
        Answer::problem(400, "invalid-request", "Invalid Request", detail, json!({}))
    }
}

pub(super) struct Incoming {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Incoming {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body).into_owned().collect()
    }
}

fn handle(state: &Mutex<State>, spec: Option<&Spec>, base: &str, mut request: tiny_http::Request) {
    let url = url::Url::parse(&format!("{base}{}", request.url())).expect("a request URL");
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    let incoming = Incoming {
        method: request.method().as_str().to_string(),
        path: url.path().to_string(),
        query: url.query_pairs().into_owned().collect(),
        headers: request
            .headers()
            .iter()
            .map(|h| (h.field.as_str().as_str().to_string(), h.value.as_str().to_string()))
            .collect(),
        body,
    };
    let answer = answer(state, spec, base, &incoming);
    {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        st.requests.push(Logged {
            at: Instant::now(),
            method: incoming.method.clone(),
            path: incoming.path.clone(),
            query: incoming.query.clone(),
            body: if incoming.header("content-type").is_some_and(|c| c.contains("json")) {
                incoming.json()
            } else {
                Value::Null
            },
            status: answer.status,
        });
    }
    let text = if answer.body.is_null() { String::new() } else { answer.body.to_string() };
    let mut response = tiny_http::Response::from_string(text).with_status_code(answer.status);
    let mut headers = answer.headers;
    headers.push(("content-type".into(), answer.content_type.into()));
    for (k, v) in headers {
        if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            response.add_header(h);
        }
    }
    let _ = request.respond(response);
}

fn answer(state: &Mutex<State>, spec: Option<&Spec>, base: &str, req: &Incoming) -> Answer {
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    if req.path == "/i/oauth2/authorize" {
        return auth::authorize(&mut lock(), req);
    }
    if req.path == "/2/oauth2/token" {
        return auth::token(&mut lock(), req);
    }
    let legacy = lock().legacy_fields;
    if legacy && req.query.iter().any(|(k, _)| k == "post.fields") {
        return Answer::invalid("The query parameter [post.fields] is not one of [ids,expansions,tweet.fields,media.fields,poll.fields,place.fields,user.fields]");
    }
    // The request against X's document.
    let aliases: &[(&str, &str)] = if legacy { &[("tweet.fields", "post.fields")] } else { &[] };
    let matched = match spec {
        Some(spec) => {
            let parts = RequestParts {
                method: &req.method,
                path: &req.path,
                query: &req.query,
                content_type: req.header("content-type"),
                body: &req.body,
            };
            let (matched, problems) = spec.check_request(&parts, aliases);
            if !problems.is_empty() {
                let mut st = lock();
                st.violations.extend(problems.iter().map(|p| format!("request: {p}")));
                return Answer::invalid(&problems.join("; "));
            }
            matched
        }
        None => None,
    };
    // Who is asking.
    let auth = req.header("authorization").unwrap_or_default().to_string();
    let who = {
        let mut st = lock();
        auth::authenticate(&mut st, base, req, &auth)
    };
    let (user, scheme, scopes) = match who {
        Ok(w) => w,
        Err(a) => return a,
    };
    if let (Some(spec), Some(m)) = (spec, &matched) {
        let alternatives = spec.security(&m.operation);
        let allowed = alternatives.iter().any(|(name, needed)| {
            let kind = spec.scheme_kind(name);
            match scheme {
                "OAuth" => kind == "oauth",
                _ => (kind == "oauth2" && needed.iter().all(|s| scopes.contains(s))) || kind == "bearer",
            }
        });
        if !allowed {
            lock().violations.push(format!(
                "request: {} {} signed with {scheme} (scopes {scopes:?}), which its security ({alternatives:?}) does not allow",
                req.method, m.template
            ));
        }
    }
    // Faults.
    let effect = {
        let mut st = lock();
        let found =
            st.faults.iter_mut().find(|f| f.method == req.method && req.path.contains(f.path) && f.times != Some(0));
        found.map(|f| {
            if let Some(n) = f.times.as_mut() {
                *n -= 1;
            }
            f.effect.clone()
        })
    };
    let mut lose = false;
    match effect {
        Some(Effect::RateLimit { reset_in }) => {
            let mut a = Answer::error(429, 88, "Rate limit exceeded");
            a.headers = rate_headers(0, reset_in);
            return checked(state, spec, matched.as_ref(), a, legacy);
        }
        Some(Effect::Status(code)) if code >= 500 => {
            let a = Answer::problem(code, "internal-error", "Service Unavailable", "Service Unavailable", json!({}));
            return checked(state, spec, matched.as_ref(), a, legacy);
        }
        Some(Effect::Status(code)) => {
            return checked(
                state,
                spec,
                matched.as_ref(),
                Answer::error(code, code as i64, "Injected failure"),
                legacy,
            );
        }
        Some(Effect::Delay(d)) => std::thread::sleep(d),
        Some(Effect::LoseAnswer) => lose = true,
        None => {}
    }
    let mut a = routes::route(&mut lock(), req, &user);
    if lose {
        a = Answer::problem(503, "internal-error", "Service Unavailable", "Service Unavailable", json!({}));
    }
    if a.status != 429 {
        a.headers.extend(rate_headers(99, 900));
    }
    checked(state, spec, matched.as_ref(), a, legacy)
}

/// Checks an answer against the document before it goes out; a mismatch is this server's bug,
/// and fails the test too.
fn checked(
    state: &Mutex<State>,
    spec: Option<&Spec>,
    matched: Option<&openapi::Matched>,
    a: Answer,
    legacy: bool,
) -> Answer {
    if let (Some(spec), Some(m), false) = (spec, matched, legacy) {
        let problems = spec.check_response(m, a.status, a.content_type, &a.body);
        if !problems.is_empty() {
            let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
            st.violations.extend(problems.into_iter().map(|p| format!("test server's own answer: {p}")));
        }
    }
    a
}

fn rate_headers(remaining: u64, reset_in: i64) -> Vec<(String, String)> {
    vec![
        ("x-rate-limit-limit".into(), "100".into()),
        ("x-rate-limit-remaining".into(), remaining.to_string()),
        ("x-rate-limit-reset".into(), (Utc::now().timestamp() + reset_in).to_string()),
    ]
}

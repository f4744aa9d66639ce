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
//! - faults on demand: 429 with `x-rate-limit-*` headers, 403 for replies, 5xx, delays, an
//!   answer lost after the work was done, and a timeline that lags behind new posts.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Digest;

use super::openapi::{self, RequestParts, Spec};

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
}

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
struct Grant {
    user: String,
    scopes: Vec<String>,
    expires: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    posts: Vec<Post>,
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
        });
        id
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

fn username(id: &str) -> &'static str {
    USERS.iter().find(|u| u.1 == id).map(|u| u.0).unwrap_or("?")
}

/// An answer: status, JSON body, content type, extra headers.
struct Answer {
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

struct Incoming {
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
        return authorize(&mut lock(), req);
    }
    if req.path == "/2/oauth2/token" {
        return token(&mut lock(), req);
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
        authenticate(&mut st, base, req, &auth)
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
    let mut a = route(&mut lock(), req, &user);
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

/// The user behind a request: (user id, "OAuth" or "Bearer", OAuth 2.0 scopes).
fn authenticate(
    st: &mut State,
    base: &str,
    req: &Incoming,
    auth: &str,
) -> Result<(String, &'static str, Vec<String>), Answer> {
    let unauthorized = || Answer::error(401, 32, "Could not authenticate you");
    if let Some(token) = auth.strip_prefix("Bearer ") {
        let grant = st.access.get(token.trim()).cloned().ok_or_else(unauthorized)?;
        if grant.expires <= Utc::now() {
            return Err(unauthorized());
        }
        return Ok((grant.user, "Bearer", grant.scopes));
    }
    let Some(params) = auth.strip_prefix("OAuth ") else {
        st.violations.push(format!("request: {} {} without Authorization", req.method, req.path));
        return Err(unauthorized());
    };
    let oauth: Vec<(String, String)> = params
        .split(',')
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.to_string(), pct_decode(v.trim_matches('"'))))
        })
        .collect();
    let get = |k: &str| oauth.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (Some(key), Some(token), Some(signature), Some(nonce), Some(ts)) = (
        get("oauth_consumer_key"),
        get("oauth_token"),
        get("oauth_signature"),
        get("oauth_nonce"),
        get("oauth_timestamp"),
    ) else {
        st.violations.push(format!("request: {} {}: an OAuth header without its parameters", req.method, req.path));
        return Err(unauthorized());
    };
    if get("oauth_signature_method").as_deref() != Some("HMAC-SHA1") {
        st.violations.push("request: OAuth 1.0a signature method is not HMAC-SHA1".into());
    }
    let Some(user) = USERS.iter().find(|u| u.2 == token) else { return Err(unauthorized()) };
    let secret = if key == CONSUMER_KEY { CONSUMER_SECRET } else { "" };
    let host = req.header("host").unwrap_or_else(|| base.trim_start_matches("http://"));
    let base_uri = format!("http://{host}{}", req.path);
    let mut params: Vec<(String, String)> =
        oauth.iter().filter(|(k, _)| k != "oauth_signature" && k != "realm").cloned().collect();
    params.extend(req.query.iter().cloned());
    if req.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        params.extend(req.form());
    }
    let expected = sign_hmac_sha1(&req.method, &base_uri, &params, secret, user.3);
    if expected != signature {
        st.bad_signatures += 1;
        return Err(unauthorized());
    }
    let age = ts.parse::<i64>().map(|t| (Utc::now().timestamp() - t).abs()).unwrap_or(i64::MAX);
    if age > 300 {
        st.violations.push(format!("request: OAuth timestamp {ts} is {age} s away from now"));
        return Err(unauthorized());
    }
    if !st.nonces.insert(nonce.clone()) {
        st.violations.push(format!("request: OAuth nonce {nonce:?} used twice"));
        return Err(unauthorized());
    }
    st.good_signatures += 1;
    Ok((user.1.to_string(), "OAuth", Vec::new()))
}

/// RFC 5849 §3.4: the signature base string and its HMAC-SHA1, base64.
pub fn sign_hmac_sha1(
    method: &str,
    base_uri: &str,
    params: &[(String, String)],
    consumer_secret: &str,
    token_secret: &str,
) -> String {
    let mut encoded: Vec<(String, String)> = params.iter().map(|(k, v)| (pct(k), pct(v))).collect();
    encoded.sort();
    let normalized = encoded.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let base = format!("{}&{}&{}", method.to_ascii_uppercase(), pct(base_uri), pct(&normalized));
    let key = format!("{}&{}", pct(consumer_secret), pct(token_secret));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(base.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn pct_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn route(st: &mut State, req: &Incoming, user: &str) -> Answer {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let q = |k: &str| req.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let fields: Vec<&str> = q("post.fields").or(q("tweet.fields")).map(|f| f.split(',').collect()).unwrap_or_default();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["2", "users", "me"]) => {
            let u = USERS.iter().find(|u| u.1 == user).expect("a known user");
            Answer::json(200, json!({ "data": { "id": u.1, "name": u.0.replace('_', " "), "username": u.0 } }))
        }
        ("POST", ["2", "tweets"]) => create_post(st, req, user),
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

fn create_post(st: &mut State, req: &Incoming, user: &str) -> Answer {
    let body = req.json();
    let text = body["text"].as_str().unwrap_or_default().to_string();
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

// --- OAuth 2.0: the authorize page and the token endpoint (not in the OpenAPI document; checked
// here against docs.x.com's authorization-code page) ---

/// `GET /i/oauth2/authorize`: the person (always ada_delegate here) allows access; the browser
/// is sent to the redirect address with a code.
fn authorize(st: &mut State, req: &Incoming) -> Answer {
    let q = |k: &str| req.query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut problems = Vec::new();
    for (k, want) in
        [("response_type", Some("code")), ("client_id", Some(CLIENT_ID)), ("code_challenge_method", Some("S256"))]
    {
        if q(k).as_deref() != want {
            problems.push(format!("authorize: {k} is {:?}, not {want:?}", q(k)));
        }
    }
    let scopes = q("scope").unwrap_or_default();
    for needed in ["tweet.read", "tweet.write", "users.read", "offline.access"] {
        if !scopes.split(' ').any(|s| s == needed) {
            problems.push(format!("authorize: scope {scopes:?} lacks {needed}"));
        }
    }
    let (Some(redirect), Some(state), Some(challenge)) = (q("redirect_uri"), q("state"), q("code_challenge")) else {
        problems.push("authorize: redirect_uri, state and code_challenge are required".into());
        st.violations.extend(problems);
        return Answer::json(400, json!({ "error": "invalid_request" }));
    };
    st.violations.extend(problems);
    let code = format!("code-{}", st.new_id());
    st.codes.insert(code.clone(), (challenge, redirect.clone(), user_id("ada_delegate").to_string()));
    let mut location = url::Url::parse(&redirect).expect("a redirect URL");
    location.query_pairs_mut().append_pair("state", &state).append_pair("code", &code);
    Answer {
        status: 302,
        body: Value::Null,
        content_type: "text/plain",
        headers: vec![("location".into(), location.to_string())],
    }
}

/// `POST /2/oauth2/token`: codes (with the PKCE verifier) and refresh tokens for new pairs.
fn token(st: &mut State, req: &Incoming) -> Answer {
    let invalid = |d: &str| Answer::json(400, json!({ "error": "invalid_request", "error_description": d }));
    if !req.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        st.violations.push("token: the body is not application/x-www-form-urlencoded".into());
        return invalid("Missing required parameter [grant_type].");
    }
    let form = req.form();
    let f = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    // A confidential client authenticates with Basic auth.
    let basic = req.header("authorization").and_then(|a| a.strip_prefix("Basic ")).map(|b| {
        let raw = base64::engine::general_purpose::STANDARD.decode(b.trim()).unwrap_or_default();
        String::from_utf8_lossy(&raw).into_owned()
    });
    match basic {
        Some(pair) if pair != format!("{CLIENT_ID}:{CLIENT_SECRET}") => {
            return Answer::json(
                401,
                json!({ "error": "unauthorized_client", "error_description": "Missing valid authorization header" }),
            )
        }
        None if f("client_id").as_deref() != Some(CLIENT_ID) => {
            return invalid("Missing required parameter [client_id].")
        }
        _ => {}
    }
    let (user, scopes) = match f("grant_type").as_deref() {
        Some("authorization_code") => {
            let Some((challenge, redirect, user)) = f("code").and_then(|c| st.codes.remove(&c)) else {
                return invalid("Value passed for the authorization code was invalid.");
            };
            if f("redirect_uri") != Some(redirect) {
                st.violations.push("token: redirect_uri differs from the authorize request's".into());
                return invalid("Value passed for the redirect uri did not match the uri of the authorization code.");
            }
            let verifier = f("code_verifier").unwrap_or_default();
            let computed =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
            if computed != challenge {
                st.violations.push("token: the PKCE code_verifier does not match the code_challenge".into());
                return invalid("Value passed for the code verifier did not match the code challenge.");
            }
            (user, vec!["tweet.read".into(), "tweet.write".into(), "users.read".into(), "offline.access".into()])
        }
        Some("refresh_token") => {
            let token = f("refresh_token").unwrap_or_default();
            match st.refresh.get_mut(&token) {
                Some((_, _, used)) if *used => {
                    st.violations
                        .push("token: a refresh token was used twice (X's refresh tokens are single-use)".into());
                    return invalid("Value passed for the token was invalid.");
                }
                Some((user, scopes, used)) => {
                    *used = true;
                    st.refreshes += 1;
                    (user.clone(), scopes.clone())
                }
                None => return invalid("Value passed for the token was invalid."),
            }
        }
        other => return invalid(&format!("Unsupported grant_type {other:?}")),
    };
    let access = format!("at-{}", st.new_id());
    let refresh = format!("rt-{}", st.new_id());
    let expires = Utc::now() + chrono::Duration::seconds(st.token_lifetime);
    st.access.insert(access.clone(), Grant { user: user.clone(), scopes: scopes.clone(), expires });
    st.refresh.insert(refresh.clone(), (user, scopes.clone(), false));
    Answer::json(
        200,
        json!({
            "token_type": "bearer",
            "expires_in": st.token_lifetime,
            "access_token": access,
            "scope": scopes.join(" "),
            "refresh_token": refresh,
        }),
    )
}

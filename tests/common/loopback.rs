//! What the LinkedIn, Facebook Pages and Threads test servers share: a tiny_http server on
//! 127.0.0.1, the request as a route sees it, the request log with its secrets blanked, faults that
//! fire a set number of times, an answer lost after the work was done, and where the shared specs
//! are read from.
//!
//! A lost answer is a broken status line written where the answer should be: the client's HTTP
//! stack fails the request as a transport error (no status, no body) although the server did the
//! work. tiny_http cannot close a connection on demand (a dropped request is answered 500), and a
//! broken answer is the same thing to a client: the outcome is unknown.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use serde_json::Value;

/// A file under the shared specs (`../shared/<rel>` beside the repository, or
/// `$LOUDHAILER_SHARED/<rel>`), if it is there.
pub fn shared_file(rel: &str) -> Option<PathBuf> {
    super::shared::file(rel, "requests checked against Meta's published specs")
}

/// Names (of headers, query and form parameters) whose values are secrets: the log keeps the name
/// and blanks the value.
const SECRET_NAMES: [&str; 10] = [
    "authorization",
    "access_token",
    "client_secret",
    "code",
    "refresh_token",
    "fb_exchange_token",
    "input_token",
    "token",
    "appsecret_proof",
    "id_token",
];
pub const BLANKED: &str = "<secret>";

fn blank(pairs: &[(String, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| {
            let secret = SECRET_NAMES.iter().any(|s| k.eq_ignore_ascii_case(s));
            (k.clone(), if secret { BLANKED.to_string() } else { v.clone() })
        })
        .collect()
}

/// A request as the routes see it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub method: String,
    /// The path as sent, percent-encoding kept (LinkedIn's rules are about that encoding).
    pub raw_path: String,
    /// The path with its percent-encoding decoded.
    pub path: String,
    /// The query as sent, percent-encoding kept.
    pub raw_query: String,
    /// The query's pairs, decoded.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The media type of the body, without parameters (`application/json`).
    pub fn content_type(&self) -> Option<String> {
        self.header("content-type").map(|c| c.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
    }

    /// The body as JSON, or the parse error.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_slice(&self.body).map_err(|e| e.to_string())
    }

    /// The body's pairs when it is `application/x-www-form-urlencoded`.
    pub fn form(&self) -> Vec<(String, String)> {
        if self.content_type().as_deref() == Some("application/x-www-form-urlencoded") {
            url::form_urlencoded::parse(&self.body).into_owned().collect()
        } else {
            Vec::new()
        }
    }

    /// A query parameter's first value.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Query parameters as sent (name and value still percent-encoded), split on `&` and `=`.
    pub fn raw_query_pairs(&self) -> Vec<(String, String)> {
        self.raw_query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect()
    }

    /// The decoded path's segments after the leading `/`.
    pub fn segments(&self) -> Vec<&str> {
        self.path.trim_start_matches('/').split('/').collect()
    }

    /// `METHOD /path`, for messages.
    pub fn what(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// An answer: status, JSON body (or none), headers; `lost` when the work is done but the answer
/// must not reach the client.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
    pub lost: bool,
}

impl Answer {
    pub fn json(status: u16, body: Value) -> Answer {
        Answer { status, body: Some(body), headers: Vec::new(), lost: false }
    }

    pub fn empty(status: u16) -> Answer {
        Answer { status, body: None, headers: Vec::new(), lost: false }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// A redirect (the OAuth authorization pages).
    pub fn redirect(location: &str) -> Answer {
        Answer::empty(302).with_header("location", location)
    }
}

/// A request as the server logged it, secrets blanked (`Authorization`, tokens, client secrets
/// and codes, in headers, the query and form bodies).
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Instant,
    pub method: String,
    /// The path as sent (percent-encoding kept).
    pub path: String,
    /// The query's pairs, decoded, secrets blanked.
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// A JSON body as JSON, a form body as an object of its (blanked) pairs, anything else as a
    /// string; `Null` when there was none.
    pub body: Value,
    pub status: u16,
    /// The answer was lost on purpose (see [`Answer::lost`]).
    pub lost: bool,
}

impl Logged {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn param(&self, name: &str) -> Option<String> {
        let from_query = self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        from_query.or_else(|| self.body.get(name).and_then(Value::as_str).map(str::to_string))
    }
}

/// What a fault does is each server's own (`E`); this is when it fires: on requests of `method`
/// whose decoded path contains `path`, `times` times (`None`: every time).
#[derive(Debug, Clone)]
pub struct Fault<E> {
    pub method: &'static str,
    pub path: &'static str,
    pub effect: E,
    pub times: Option<usize>,
}

impl<E> Fault<E> {
    pub fn once(method: &'static str, path: &'static str, effect: E) -> Fault<E> {
        Fault { method, path, effect, times: Some(1) }
    }

    pub fn always(method: &'static str, path: &'static str, effect: E) -> Fault<E> {
        Fault { method, path, effect, times: None }
    }
}

/// The first fault that fires on this request, used up by one.
pub fn fire<E: Clone>(faults: &mut [Fault<E>], req: &Incoming) -> Option<E> {
    let found = faults
        .iter_mut()
        .find(|f| f.method.eq_ignore_ascii_case(&req.method) && req.path.contains(f.path) && f.times != Some(0))?;
    if let Some(n) = found.times.as_mut() {
        *n -= 1;
    }
    Some(found.effect.clone())
}

/// Client mistakes a server has seen: each names the request and the rule it broke (with the
/// rule's source). A server's owner asserts the list empty.
#[derive(Debug, Default)]
pub struct Mistakes(Vec<String>);

impl Mistakes {
    pub fn push(&mut self, req: &Incoming, rule: impl std::fmt::Display) {
        self.0.push(format!("{}: {rule}", req.what()));
    }

    pub fn take(&mut self) -> Vec<String> {
        std::mem::take(&mut self.0)
    }
}

/// Panics with the mistakes, unless there are none (or the thread is already panicking).
pub fn assert_no_mistakes(server: &str, mistakes: Vec<String>) {
    if !mistakes.is_empty() && !std::thread::panicking() {
        panic!("the {server} test server saw {} client mistakes:\n{}", mistakes.len(), mistakes.join("\n"));
    }
}

/// The tiny_http server a network's routes run behind.
pub struct Loopback {
    pub base: String,
    server: Arc<tiny_http::Server>,
    log: Arc<Mutex<Vec<Logged>>>,
}

impl Loopback {
    /// Listens on a free loopback port; every request goes to `route` on a thread of its own.
    pub fn start<F>(name: &str, route: F) -> Loopback
    where
        F: Fn(&Incoming) -> Answer + Send + Sync + 'static,
    {
        let server = Arc::new(
            tiny_http::Server::http("127.0.0.1:0").unwrap_or_else(|e| panic!("bind the {name} test server: {e}")),
        );
        let addr = server.server_addr().to_ip().unwrap_or_else(|| panic!("the {name} test server has no IP address"));
        let base = format!("http://{addr}");
        let log: Arc<Mutex<Vec<Logged>>> = Arc::default();
        let route = Arc::new(route);
        let (s, l) = (server.clone(), log.clone());
        std::thread::spawn(move || {
            for request in s.incoming_requests() {
                let (l, r) = (l.clone(), route.clone());
                std::thread::spawn(move || serve(&l, r.as_ref(), request));
            }
        });
        Loopback { base, server, log }
    }

    pub fn requests(&self) -> Vec<Logged> {
        lock(&self.log).clone()
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn serve(log: &Mutex<Vec<Logged>>, route: &dyn Fn(&Incoming) -> Answer, mut request: tiny_http::Request) {
    let raw_url = request.url().to_string();
    let (raw_path, raw_query) = match raw_url.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (raw_url.clone(), String::new()),
    };
    let path = percent_decode(&raw_path);
    let query = url::form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    let incoming = Incoming {
        method: request.method().as_str().to_string(),
        raw_path,
        path,
        raw_query,
        query,
        headers: request
            .headers()
            .iter()
            .map(|h| (h.field.as_str().as_str().to_string(), h.value.as_str().to_string()))
            .collect(),
        body,
    };
    let answer = route(&incoming);
    lock(log).push(logged(&incoming, &answer));
    if answer.lost {
        let mut writer = request.into_writer();
        let _ = writer.write_all(b"\0 lost answer\r\n\r\n");
        let _ = writer.flush();
        return;
    }
    let text = answer.body.as_ref().map(Value::to_string).unwrap_or_default();
    let mut response = tiny_http::Response::from_string(text).with_status_code(answer.status);
    let mut headers = answer.headers.clone();
    if answer.body.is_some() {
        headers.push(("content-type".into(), "application/json; charset=UTF-8".into()));
    }
    for (k, v) in headers {
        if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            response.add_header(h);
        }
    }
    let _ = request.respond(response);
}

fn logged(req: &Incoming, answer: &Answer) -> Logged {
    let body = if req.body.is_empty() {
        Value::Null
    } else if req.content_type().as_deref() == Some("application/x-www-form-urlencoded") {
        Value::Object(blank(&req.form()).into_iter().map(|(k, v)| (k, Value::String(v))).collect())
    } else {
        req.json().unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&req.body).into_owned()))
    };
    Logged {
        at: Instant::now(),
        method: req.method.clone(),
        path: req.raw_path.clone(),
        query: blank(&req.query),
        headers: blank(&req.headers),
        body,
        status: answer.status,
        lost: answer.lost,
    }
}

/// Percent-decoding of a path (no `+` for space, unlike a query).
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Fresh numeric ids, unique within a server.
#[derive(Debug, Default)]
pub struct Ids(u64);

impl Ids {
    pub fn starting_at(first: u64) -> Ids {
        Ids(first)
    }

    pub fn next(&mut self) -> String {
        self.0 += 1;
        self.0.to_string()
    }
}

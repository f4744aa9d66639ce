//! A forward HTTP proxy for tests, given to the loudhailer process as `HTTP_PROXY` (plain
//! http only, one request per connection). It records every request, and can act on the
//! ones a [`Rule`] matches:
//!
//! - [`Effect::Hold`]: forward the request, then hold the server's answer until
//!   [`Proxy::release`], so a test can SIGKILL the client while a request it sent has reached
//!   the server but is unanswered.
//! - [`Effect::Answer`]: answer it without forwarding (a canned 429, say).
//! - [`Effect::Lose`]: forward it, let the server act, then close the connection without an
//!   answer (the answer lost on the way back).
//! - [`Effect::Strip`]: forward it without the named header, as a server that ignores (or has
//!   forgotten) it would see it.
//! - [`Effect::Processing`]: forward it, and answer 202 Accepted with the JSON answer's `url`
//!   fields null, as a Mastodon server still processing an upload answers.
//!
//! It exists because the AT Protocol client sends its requests to the PDS named in the
//! account's DID document, so pointing the config at a proxy would not put the proxy in the path.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What to do with a matching request.
#[derive(Clone, Debug)]
pub enum Effect {
    Hold,
    Answer { status: u16, headers: Vec<(String, String)>, body: String },
    Lose,
    Strip(String),
    Processing,
}

/// Which requests an [`Effect`] applies to, and how many times.
#[derive(Clone, Debug)]
pub struct Rule {
    /// A substring of the request's path (with its query).
    pub path: String,
    /// A substring the body must hold (empty: any body).
    pub body: String,
    pub effect: Effect,
    /// How many more requests it applies to.
    pub times: usize,
}

/// A request the proxy saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    /// `host:port` the request was for.
    pub host: String,
    pub path: String,
    pub body: String,
    /// The request's headers as sent (Authorization blanked).
    pub headers: Vec<(String, String)>,
    pub at: Instant,
    /// The status answered (0 when the client was gone or the server unreachable; the
    /// server's status for a lost answer, which the client never read).
    pub status: u16,
    /// The answer was lost on purpose ([`Effect::Lose`]).
    pub lost: bool,
}

impl Seen {
    /// A header's value, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    seen: Vec<Seen>,
    held: usize,
    release: bool,
    stop: bool,
}

/// A running proxy on 127.0.0.1; stopped when dropped.
pub struct Proxy {
    /// `http://127.0.0.1:PORT`, for `HTTP_PROXY`.
    pub url: String,
    shared: Arc<(Mutex<State>, Condvar)>,
    port: u16,
}

impl Proxy {
    pub fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the test proxy");
        let port = listener.local_addr().expect("the proxy's address").port();
        let shared: Arc<(Mutex<State>, Condvar)> = Arc::default();
        let accept = shared.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                if accept.0.lock().unwrap_or_else(|e| e.into_inner()).stop {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let shared = accept.clone();
                thread::spawn(move || handle(conn, &shared));
            }
        });
        Proxy { url: format!("http://127.0.0.1:{port}"), shared, port }
    }

    /// Adds a rule; earlier rules are tried first.
    pub fn rule(&self, path: &str, body: &str, effect: Effect, times: usize) {
        let rule = Rule { path: path.into(), body: body.into(), effect, times };
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).rules.push(rule);
    }

    /// Removes every rule whose path holds `path` (a fault that lasted as long as a test
    /// needed).
    pub fn remove_rules(&self, path: &str) {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).rules.retain(|r| !r.path.contains(path));
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.0.lock().unwrap_or_else(|e| e.into_inner()).seen.clone()
    }

    /// How many requests whose path holds `path` were seen.
    pub fn count(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path.contains(path)).count()
    }

    /// Waits until `n` answers are held; panics after `timeout`.
    pub fn wait_held(&self, n: usize, timeout: Duration) {
        let (lock, cv) = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        while state.held < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let held = state.held;
                drop(state);
                panic!("the proxy held {held} answers, not {n}, within {timeout:?}");
            }
            state = cv.wait_timeout(state, left).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Lets every held answer go (to a client that may be gone), and holds no more.
    pub fn release(&self) {
        let (lock, cv) = &*self.shared;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.release = true;
        state.rules.retain(|r| !matches!(r.effect, Effect::Hold));
        cv.notify_all();
    }

    /// Forgets released holds, so new hold rules hold again.
    pub fn rearm(&self) {
        let mut state = self.shared.0.lock().unwrap_or_else(|e| e.into_inner());
        state.release = false;
        state.held = 0;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        {
            let (lock, cv) = &*self.shared;
            let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
            state.stop = true;
            state.release = true;
            cv.notify_all();
        }
        // Wake the accept loop so it sees `stop`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one request head and body from `conn`: (head, body).
fn read_request(conn: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some((head, body))
}

fn handle(mut client: TcpStream, shared: &Arc<(Mutex<State>, Condvar)>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(30)));
    let Some((head, body)) = read_request(&mut client) else { return };
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, target) = (first.next().unwrap_or_default().to_string(), first.next().unwrap_or_default());
    let rest = target.strip_prefix("http://").unwrap_or(target);
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/".to_string() } else { path.to_string() };
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let effect = {
        let mut state = shared.0.lock().unwrap_or_else(|e| e.into_inner());
        let rule =
            state.rules.iter_mut().find(|r| r.times > 0 && path.contains(&r.path) && body_text.contains(&r.body));
        rule.map(|r| {
            r.times -= 1;
            r.effect.clone()
        })
    };
    let headers: Vec<(String, String)> = lines
        .clone()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| {
            let v = if k.trim().eq_ignore_ascii_case("authorization") { "(blanked)" } else { v.trim() };
            (k.trim().to_string(), v.to_string())
        })
        .collect();
    let lost = matches!(effect, Some(Effect::Lose));
    let record = |status: u16| {
        let seen = Seen {
            method: method.clone(),
            host: host.to_string(),
            path: path.clone(),
            body: body_text.clone(),
            headers: headers.clone(),
            at: Instant::now(),
            status,
            lost,
        };
        shared.0.lock().unwrap_or_else(|e| e.into_inner()).seen.push(seen);
    };
    if let Some(Effect::Answer { status, headers, body }) = &effect {
        let mut reply = format!(
            "HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (k, v) in headers {
            reply.push_str(&format!("{k}: {v}\r\n"));
        }
        reply.push_str("\r\n");
        reply.push_str(body);
        record(*status);
        let _ = client.write_all(reply.as_bytes());
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    // Forward: origin-form request line, the client's headers but its connection handling.
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    let stripped = match &effect {
        Some(Effect::Strip(h)) => Some(h.as_str()),
        _ => None,
    };
    for line in lines.filter(|l| !l.is_empty()) {
        let name = line.split(':').next().unwrap_or_default().trim();
        let dropped = stripped.is_some_and(|h| name.eq_ignore_ascii_case(h));
        if !dropped && !["connection", "proxy-connection", "keep-alive"].iter().any(|h| name.eq_ignore_ascii_case(h)) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    if effect.is_none() || matches!(effect, Some(Effect::Strip(_))) {
        // Plain forwarding streams the answer as it comes (a live event stream never ends).
        stream_through(&mut client, host, &out, &body, &record);
        return;
    }
    let answer = TcpStream::connect(host).ok().and_then(|mut upstream| {
        upstream.write_all(out.as_bytes()).ok()?;
        upstream.write_all(&body).ok()?;
        let mut answer = Vec::new();
        upstream.read_to_end(&mut answer).ok()?;
        Some(answer)
    });
    let Some(answer) = answer else {
        record(0);
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let status = String::from_utf8_lossy(&answer[..answer.len().min(16)])
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    record(status);
    if lost {
        // The server acted; the client hears nothing back.
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    if matches!(effect, Some(Effect::Processing)) {
        let split = answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(answer.len(), |i| i + 4);
        let mut json: serde_json::Value = serde_json::from_slice(&answer[split..]).unwrap_or_default();
        for field in ["url", "preview_url"] {
            if let Some(v) = json.get_mut(field) {
                *v = serde_json::Value::Null;
            }
        }
        let body = json.to_string();
        let reply = format!(
            "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = client.write_all(reply.as_bytes());
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    if matches!(effect, Some(Effect::Hold)) {
        let (lock, cv) = &**shared;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.held += 1;
        cv.notify_all();
        while !state.release {
            state = cv.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
    let _ = client.write_all(&answer);
    let _ = client.shutdown(Shutdown::Both);
}

/// Forwards a request and copies the answer to the client as it arrives, recording its status.
fn stream_through(client: &mut TcpStream, host: &str, head: &str, body: &[u8], record: &dyn Fn(u16)) {
    let Ok(mut upstream) = TcpStream::connect(host) else {
        record(0);
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    if upstream.write_all(head.as_bytes()).and_then(|_| upstream.write_all(body)).is_err() {
        record(0);
        return;
    }
    let mut chunk = [0u8; 8192];
    let mut first = true;
    loop {
        let n = match upstream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if first {
            let status = String::from_utf8_lossy(&chunk[..n.min(16)]).split(' ').nth(1).and_then(|s| s.parse().ok());
            record(status.unwrap_or(0));
            first = false;
        }
        if client.write_all(&chunk[..n]).is_err() {
            break;
        }
    }
    if first {
        record(0);
    }
    let _ = client.shutdown(Shutdown::Both);
}

//! Driving the live desk in tests: a daemon with its desk, the printed sign-in link, a signed-in
//! HTTP client (cookies kept by hand, so a test sees every value), and the browser harness.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

use super::lh::{text, wait_for, Event};

/// A running `loudhailer run` with its desk; killed when dropped. Its output goes to files, so
/// a test can read the log at any time.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    /// Starts `loudhailer [extra] run` and waits for its desk to write its address.
    pub fn start(event: &Event, env: &[(&str, &str)], extra: &[&str]) -> Daemon {
        let log = event.dir.path().join(format!("daemon-{}.log", std::process::id() ^ rand_u32()));
        let file = std::fs::File::create(&log).unwrap();
        let mut args: Vec<&str> = extra.to_vec();
        args.push("run");
        let _ = std::fs::remove_file(event.state_dir().join("desk.json"));
        let child = event
            .command(&args, env)
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .stdin(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut d = Daemon { child, log };
        let desk = event.state_dir().join("desk.json");
        let socket = event.state_dir().join("control.sock");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !(desk.exists() && std::os::unix::net::UnixStream::connect(&socket).is_ok()) {
            if let Ok(Some(status)) = d.child.try_wait() {
                panic!("loudhailer run exited ({status}) before its desk started:\n{}", d.log_text());
            }
            assert!(std::time::Instant::now() < deadline, "the desk did not start:\n{}", d.log_text());
            std::thread::sleep(Duration::from_millis(100));
        }
        d
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, and waits for the exit.
    pub fn stop(mut self) -> String {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        let _ = self.child.wait();
        self.log_text()
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill_hard(mut self) {
        Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap();
        let _ = self.child.wait();
    }
}

fn rand_u32() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}

/// The running desk's base address (`http://127.0.0.1:PORT`, no trailing slash) and fingerprint.
pub fn address(event: &Event) -> (String, Option<String>) {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(event.state_dir().join("desk.json")).unwrap()).unwrap();
    (v["url"].as_str().unwrap().trim_end_matches('/').to_string(), v["fingerprint"].as_str().map(str::to_string))
}

/// `loudhailer desk`: what it printed, and the sign-in link in it.
pub fn sign_in_link(event: &Event) -> (String, String) {
    let out = event.run(&["desk"], &[]);
    let printed = text(&out);
    assert!(out.status.success(), "loudhailer desk: {printed}");
    let link = printed
        .split_whitespace()
        .find(|w| w.contains("/signin#"))
        .unwrap_or_else(|| panic!("no link in: {printed}"))
        .to_string();
    (printed, link)
}

/// An HTTP client for the desk: no redirects followed, self-signed certificates accepted (the
/// tests compare fingerprints instead).
pub fn http() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A signed-in browser, as far as the server can tell: its two cookies.
#[derive(Debug, Clone)]
pub struct Session {
    pub base: String,
    pub cookie_names: (String, String),
    pub session: String,
    pub csrf: String,
}

/// A `Set-Cookie` named `name` (with or without the `__Host-` prefix): its full name, its value,
/// and the whole header.
pub fn set_cookie(r: &Response, name: &str) -> Option<(String, String, String)> {
    for c in r.headers().get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()) {
        let Some((k, rest)) = c.split_once('=') else { continue };
        if k.trim_start_matches("__Host-") == name {
            let value = rest.split(';').next().unwrap_or("").to_string();
            return Some((k.to_string(), value, c.to_string()));
        }
    }
    None
}

/// POSTs the link's secret as the sign-in page's script does.
pub fn post_sign_in(base: &str, secret: &str) -> Response {
    http()
        .post(format!("{base}/signin"))
        .header("content-type", "application/json")
        .header("origin", base)
        .body(json!({ "token": secret }).to_string())
        .send()
        .unwrap()
}

/// Signs in with a printed link.
pub fn sign_in(link: &str) -> Session {
    let (base, secret) = link.split_once("/signin#").unwrap();
    let r = post_sign_in(base, secret);
    assert_eq!(r.status(), 200, "sign-in refused: {:?}", r.text());
    let (sname, session, _) = set_cookie(&r, "lh_desk").expect("a session cookie");
    let (cname, csrf, _) = set_cookie(&r, "lh_csrf").expect("a CSRF cookie");
    Session { base: base.to_string(), cookie_names: (sname, cname), session, csrf }
}

impl Session {
    pub fn cookie_header(&self) -> String {
        format!("{}={}; {}={}", self.cookie_names.0, self.session, self.cookie_names.1, self.csrf)
    }

    pub fn get(&self, path: &str) -> Response {
        http().get(format!("{}{path}", self.base)).header("cookie", self.cookie_header()).send().unwrap()
    }

    /// A photo's upload, as the page sends it: the file's bytes as the body.
    pub fn post_bytes(&self, path: &str, body: Vec<u8>) -> Response {
        http()
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("x-csrf-token", &self.csrf)
            .header("origin", &self.base)
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .unwrap()
    }

    /// A state-changing request, as the page sends it (CSRF header, same origin).
    pub fn post(&self, path: &str, body: Value) -> Response {
        http()
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("x-csrf-token", &self.csrf)
            .header("origin", &self.base)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap()
    }
}

/// `status --format json` through the running daemon, by job id.
pub fn jobs(event: &Event) -> std::collections::HashMap<String, Value> {
    event.status().into_iter().map(|j| (j["id"].as_str().unwrap().to_string(), j)).collect()
}

/// Waits until the job is done.
pub fn wait_done(event: &Event, id: &str, timeout: Duration) {
    wait_for(&format!("{id} to be done"), timeout, || jobs(event).get(id).is_some_and(|j| j["state"] == "done"));
}

/// Node and the node_modules holding playwright-core and axe-core, or why the browser tests
/// cannot run here.
pub fn browser_tools() -> Result<(PathBuf, PathBuf), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let peers = |what: &str| {
        let out = Command::new(root.join("scripts/peers")).arg(what).output().map_err(|e| e.to_string())?;
        Ok::<String, String>(String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let (node, modules) = (PathBuf::from(peers("node")?), PathBuf::from(peers("playwright")?));
    for need in [modules.join("playwright-core"), modules.join("axe-core/axe.min.js"), node.clone()] {
        if !need.exists() {
            return Err(format!("{} is missing: run `scripts/peers install`", need.display()));
        }
    }
    if !Path::new("/usr/bin/chromium").exists() && std::env::var_os("CHROMIUM").is_none() {
        return Err("no Chromium at /usr/bin/chromium".into());
    }
    Ok((node, modules))
}

/// Runs a harness script in `tests/support` with node and returns what it printed, parsed.
pub fn run_harness(script: &str, args: &[&Path]) -> Value {
    let (node, modules) = browser_tools().unwrap_or_else(|e| panic!("{e}"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = Command::new(node)
        .arg(root.join("tests/support").join(script))
        .args(args)
        .env("NODE_PATH", modules)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{script} failed: {err}\n{out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{script} printed no JSON ({e}): {out}\n{err}"))
}

/// Where screenshots are kept after the tests: `target/desk-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/desk-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// axe-core's violations of serious or critical impact.
pub fn serious(violations: &Value) -> Vec<Value> {
    violations
        .as_array()
        .map(|v| v.iter().filter(|x| matches!(x["impact"].as_str(), Some("serious" | "critical"))).cloned().collect())
        .unwrap_or_default()
}

pub fn output_text(out: &Output) -> String {
    text(out)
}

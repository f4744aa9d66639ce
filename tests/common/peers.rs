//! The real peer servers the integration tests talk to, installed by
//! `scripts/peers install` into `.peers/`:
//!
//! - [`Mastodon`]: one `mastodon_mock` per test, on a free loopback port,
//!   killed when dropped. Seeded with the demo accounts and their tokens.
//! - [`Atproto`]: one `@atproto/dev-env` network (PLC, PDS, AppView) per
//!   machine, started by `scripts/peers start-atproto` (which `scripts/test`
//!   runs first) and described by `.peers/atproto.json`. Tests make their own
//!   fresh accounts on it with [`Atproto::create_account`].
//!
//! Blocking HTTP throughout: these helpers run in plain `#[test]` functions.
//!
//! What the dev-env PDS (@atproto/pds 0.5.35) was seen to answer:
//! - `createAccount` needs no invite code; handles are 3 to 18 characters of
//!   letters, digits and `-` before `.test` (some names are reserved, e.g.
//!   `org.test`); email is required and unique.
//! - `createRecord` with an rkey that exists: HTTP 500 `InternalServerError`.
//!   `putRecord` of the identical record: 200, same `cid`, no `commit` (a
//!   no-op); of a new rkey: 200 with `commit` (creates it).
//! - An expired access token: 400 `{"error":"ExpiredToken"}`; a badly signed
//!   one: 400 `InvalidToken`; none: 401 `AuthMissing`.
//! - Sessions carry `didDoc`, whose `#atproto_pds` endpoint is `pds` here.
//! - No rate limits and no `RateLimit-*` headers.

use std::fs;
use std::hash::{BuildHasher, RandomState};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;

/// How long a server may take to answer after it is started.
const MASTODON_READY: Duration = Duration::from_secs(30);

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(30)).build().expect("building a reqwest client")
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("binding 127.0.0.1:0").port()
}

/// The last `n` lines of a log file, for panic messages.
fn tail(path: &Path, n: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The body of a response as JSON, or `{"_text": body}` when it is not JSON.
fn json_of(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let text = resp.text().unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "_text": text }));
    (status, value)
}

// ------------------------------------------------------------------ Mastodon

/// A running `mastodon_mock serve --in-memory --demo` on 127.0.0.1, killed on
/// drop. Its state lives in memory, so every instance starts from the demo seed.
pub struct Mastodon {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base: String,
    child: Child,
    http: Client,
    // Working directory (so no stray `.mastodon_mock.toml` or `pyproject.toml`
    // is read) and TMPDIR, with the `--config` file and the server's log.
    dir: tempfile::TempDir,
}

impl Mastodon {
    /// Bearer tokens of the demo accounts (usernames ada, grace, alan, katherine).
    pub const ADA: &'static str = "ada_token";
    pub const GRACE: &'static str = "grace_token";
    pub const ALAN: &'static str = "alan_token";
    pub const KATHERINE: &'static str = "katherine_token";

    /// Starts a server with the built-in defaults (no rate limiting).
    pub fn start() -> Mastodon {
        Self::launch(None, true)
    }

    /// Starts a server with a `--config` file. The file is the whole config
    /// document (`mastodon_mock/config.py`, `MastodonMockConfig`), so rate
    /// limiting is a top-level table:
    ///
    /// ```toml
    /// [ratelimit]
    /// enabled = true
    /// limit = 300
    /// window_seconds = 300
    /// ```
    ///
    /// (`[tool.mastodon_mock.ratelimit]` is only the form inside a
    /// `pyproject.toml`.) `--demo` replaces any `[seed]` with the demo accounts.
    pub fn start_with_config(toml: &str) -> Mastodon {
        Self::launch(Some(toml), true)
    }

    /// Starts a server seeded only from `toml` (its `[seed]` accounts, with the tokens a
    /// test chooses), without the demo community.
    pub fn start_seeded(toml: &str) -> Mastodon {
        Self::launch(Some(toml), false)
    }

    fn launch(config: Option<&str>, demo: bool) -> Mastodon {
        let bin = root().join(".peers/venv/bin/mastodon_mock");
        assert!(bin.exists(), "{} is missing: run `scripts/peers install` first", bin.display());
        let mut dir = tempfile::tempdir().expect("creating a temporary directory");
        let config_path = dir.path().join("mastodon_mock.toml");
        if let Some(toml) = config {
            fs::write(&config_path, toml).expect("writing the mastodon_mock config");
        }
        let log_path = dir.path().join("mastodon_mock.log");
        let http = http();
        // The free port can be taken between our probe and the server's bind;
        // then the server exits at once and we try another.
        for _attempt in 0..3 {
            let port = free_port();
            let log = fs::File::create(&log_path).expect("creating the mastodon_mock log");
            let mut cmd = Command::new(&bin);
            cmd.args(["serve", "--in-memory", "--host", "127.0.0.1"])
                .args(["--port", &port.to_string()])
                .current_dir(dir.path())
                // Even with --in-memory it keeps an SQLite file and a media
                // directory under $TMPDIR; keep them in `dir`, removed on drop.
                .env("TMPDIR", dir.path())
                .env_remove("PORT")
                .env_remove("HOST")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("cloning a file handle"))
                .stderr(log);
            if demo {
                cmd.arg("--demo");
            }
            if config.is_some() {
                cmd.arg("--config").arg(&config_path);
            }
            let child = cmd.spawn().unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
            let mut server = Mastodon { base: format!("http://127.0.0.1:{port}"), child, http: http.clone(), dir };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(exited) => {
                    let log = tail(&log_path, 30);
                    if exited && log.contains("address already in use") {
                        dir = server.take_dir();
                        continue;
                    }
                    panic!("mastodon_mock did not become ready at {} (exited: {exited}); its log:\n{log}", server.base);
                }
            }
        }
        panic!("mastodon_mock: no free port after 3 attempts");
    }

    /// Polls `GET /api/v2/instance`; `Err(true)` when the process exited.
    fn wait_ready(&mut self) -> Result<(), bool> {
        let deadline = Instant::now() + MASTODON_READY;
        let url = self.url("/api/v2/instance");
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Err(true);
            }
            if let Ok(resp) = self.http.get(&url).send() {
                if resp.status().is_success() {
                    return Ok(());
                }
            }
            sleep(Duration::from_millis(100));
        }
        Err(false)
    }

    /// Hands the working directory to the next attempt (and kills this one).
    fn take_dir(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let placeholder = tempfile::tempdir().expect("creating a temporary directory");
        std::mem::replace(&mut self.dir, placeholder)
    }

    /// `base` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's output so far, for assertion messages.
    pub fn log(&self) -> String {
        tail(&self.dir.path().join("mastodon_mock.log"), 50)
    }

    /// Adds a fault rule (`POST /api/v1/_mock/faults`) and returns it as the
    /// server echoes it, with its `id`. Shape (see `mastodon_mock/faults.py`):
    /// `{"match": {"methods": ["POST"], "path": "/api/v1/statuses"},
    ///   "effect": {"type": "status", "status": 503}, "count": 1}`;
    /// effect types `status`, `ratelimit`, `latency` (`delay_ms`),
    /// `malformed`, `timeout`; omit `count` to fire forever.
    pub fn add_fault(&self, rule: Value) -> Value {
        let resp =
            self.http.post(self.url("/api/v1/_mock/faults")).json(&rule).send().expect("POST /api/v1/_mock/faults");
        let (status, body) = json_of(resp);
        assert!(status.is_success(), "adding fault {rule} answered {status}: {body}");
        body
    }

    /// The fault rules now in force (`GET /api/v1/_mock/faults`).
    pub fn faults(&self) -> Value {
        let resp = self.http.get(self.url("/api/v1/_mock/faults")).send().expect("GET /api/v1/_mock/faults");
        json_of(resp).1
    }

    /// Removes every fault rule (`DELETE /api/v1/_mock/faults`).
    pub fn clear_faults(&self) {
        let status =
            self.http.delete(self.url("/api/v1/_mock/faults")).send().expect("DELETE /api/v1/_mock/faults").status();
        assert!(status.is_success(), "clearing faults answered {status}");
    }
}

impl Drop for Mastodon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------- Atproto

/// The AT Protocol network of `scripts/peers start-atproto`, as described by
/// its JSON file. URLs have no trailing slash.
#[derive(Clone, Debug)]
pub struct Atproto {
    /// The PDS: accounts, sessions, records (`com.atproto.*`).
    pub pds: String,
    /// The AppView: `app.bsky.*` views with like/repost/reply counts.
    pub appview: String,
    /// The PLC directory: `GET {plc}/{did}` is the DID document.
    pub plc: String,
    /// `POST` here waits until the AppView has indexed everything so far.
    /// Not needed for correctness: the AppView follows the PDS by itself.
    pub process_all: Option<String>,
    /// The PDS's service DID, the `aud` of its access tokens.
    pub pds_did: String,
    /// The handle suffix accounts must use, with its dot (`.test`).
    pub handle_domain: String,
    jwt_secret: String,
}

/// A fresh account on the PDS, with the session `createAccount` returned.
#[derive(Clone, Debug)]
pub struct TestAccount {
    pub handle: String,
    pub did: String,
    pub password: String,
    pub email: String,
    pub access_jwt: String,
    pub refresh_jwt: String,
}

static NETWORK: OnceLock<Atproto> = OnceLock::new();
static ACCOUNTS: AtomicU64 = AtomicU64::new(0);

impl Atproto {
    /// The running network: the file named by `LOUDHAILER_TEST_ATPROTO`, else
    /// `.peers/atproto.json` if that network answers, else one started now by
    /// `scripts/peers start-atproto` (once per test process) and stopped when
    /// this process exits.
    ///
    /// Starting takes seconds to a minute; `scripts/test` starts it once for
    /// the whole run. With cargo-nextest (a process per test) start it first.
    pub fn get() -> Atproto {
        NETWORK.get_or_init(Self::locate).clone()
    }

    fn locate() -> Atproto {
        if let Some(file) = std::env::var_os("LOUDHAILER_TEST_ATPROTO") {
            let file = PathBuf::from(file);
            let net = Self::read(&file).unwrap_or_else(|e| panic!("LOUDHAILER_TEST_ATPROTO={}: {e}", file.display()));
            assert!(
                net.healthy(),
                "LOUDHAILER_TEST_ATPROTO={} names a network whose PDS {} does not answer; \
                 run `scripts/peers start-atproto`",
                file.display(),
                net.pds
            );
            return net;
        }
        let file = root().join(".peers/atproto.json");
        if let Ok(net) = Self::read(&file) {
            if net.healthy() {
                return net;
            }
        }
        Self::start(&file)
    }

    fn start(file: &Path) -> Atproto {
        let script = root().join("scripts/peers");
        let log_path = std::env::temp_dir().join(format!("loudhailer-start-atproto-{}.log", std::process::id()));
        let log = fs::File::create(&log_path).expect("creating the start-atproto log");
        // Output to a file, not a pipe: the daemons it starts may keep
        // inherited descriptors open.
        let status = Command::new(&script)
            .arg("start-atproto")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("cloning a file handle"))
            .stderr(log)
            .status()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        let output = fs::read_to_string(&log_path).unwrap_or_default();
        let _ = fs::remove_file(&log_path);
        assert!(
            status.success(),
            "`scripts/peers start-atproto` failed ({status}); did `scripts/peers install` run?\n{output}"
        );
        // Another test process may have started it first; then it is theirs to stop.
        if !output.contains("atproto: already running") {
            stop_at_exit(&script);
        }
        let net = Self::read(file).unwrap_or_else(|e| panic!("after start-atproto, {}: {e}", file.display()));
        assert!(net.healthy(), "the PDS at {} does not answer", net.pds);
        net
    }

    fn read(file: &Path) -> Result<Atproto, String> {
        let text = fs::read_to_string(file).map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let field = |k: &str| -> Result<String, String> {
            v[k].as_str().map(|s| s.trim_end_matches('/').to_owned()).ok_or_else(|| format!("no string field {k:?}"))
        };
        Ok(Atproto {
            pds: field("pds")?,
            appview: field("appview")?,
            plc: field("plc")?,
            process_all: field("process_all").ok(),
            pds_did: field("pds_did")?,
            handle_domain: v["handle_domains"][0].as_str().unwrap_or(".test").to_owned(),
            jwt_secret: field("jwt_secret")?,
        })
    }

    fn healthy(&self) -> bool {
        Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .ok()
            .and_then(|c| c.get(format!("{}/xrpc/_health", self.pds)).send().ok())
            .is_some_and(|r| r.status().is_success())
    }

    /// Makes a fresh account through `com.atproto.server.createAccount` (no
    /// invite code needed). Its handle is `name_prefix` (letters and digits,
    /// cut to 8) plus 10 random characters plus [`Self::handle_domain`]: the
    /// PDS wants 3 to 18 characters before `.test`.
    pub fn create_account(&self, name_prefix: &str) -> TestAccount {
        let prefix: String =
            name_prefix.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).take(8).collect();
        let prefix = if prefix.is_empty() { "u".into() } else { prefix };
        let http = http();
        let mut last = String::new();
        for _attempt in 0..3 {
            let front = format!("{prefix}{}", unique_suffix());
            let handle = format!("{front}{}", self.handle_domain);
            let email = format!("{front}@example.com");
            let password = format!("pw-{front}");
            let (status, body) = json_of(
                http.post(self.xrpc(&self.pds, "com.atproto.server.createAccount"))
                    .json(&json!({ "handle": handle, "email": email, "password": password }))
                    .send()
                    .expect("POST com.atproto.server.createAccount"),
            );
            if status.is_success() {
                let s = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
                return TestAccount {
                    did: s("did"),
                    handle,
                    password,
                    email,
                    access_jwt: s("accessJwt"),
                    refresh_jwt: s("refreshJwt"),
                };
            }
            last = format!("{status}: {body}");
            if !last.contains("already taken") {
                break;
            }
        }
        panic!("createAccount on {} failed: {last}", self.pds);
    }

    /// `{base}/xrpc/{nsid}`.
    pub fn xrpc(&self, base: &str, nsid: &str) -> String {
        format!("{base}/xrpc/{nsid}")
    }

    /// `com.atproto.server.createSession`; the JSON answer.
    pub fn create_session(&self, identifier: &str, password: &str) -> Value {
        let (status, body) = json_of(
            http()
                .post(self.xrpc(&self.pds, "com.atproto.server.createSession"))
                .json(&json!({ "identifier": identifier, "password": password }))
                .send()
                .expect("POST com.atproto.server.createSession"),
        );
        assert!(status.is_success(), "createSession answered {status}: {body}");
        body
    }

    /// `com.atproto.repo.createRecord` in the account's repo, with its current
    /// access token; the JSON answer (`uri`, `cid`, `commit`).
    pub fn create_record(&self, account: &TestAccount, collection: &str, record: Value) -> Value {
        let (status, body) = json_of(
            http()
                .post(self.xrpc(&self.pds, "com.atproto.repo.createRecord"))
                .bearer_auth(&account.access_jwt)
                .json(&json!({ "repo": account.did, "collection": collection, "record": record }))
                .send()
                .expect("POST com.atproto.repo.createRecord"),
        );
        assert!(status.is_success(), "createRecord {collection} answered {status}: {body}");
        body
    }

    /// `com.atproto.repo.createRecord` at a chosen record key (`rkey`); the JSON answer.
    pub fn create_record_at(&self, account: &TestAccount, collection: &str, rkey: &str, record: Value) -> Value {
        let (status, body) = json_of(
            http()
                .post(self.xrpc(&self.pds, "com.atproto.repo.createRecord"))
                .bearer_auth(&account.access_jwt)
                .json(&json!({ "repo": account.did, "collection": collection, "rkey": rkey, "record": record }))
                .send()
                .expect("POST com.atproto.repo.createRecord"),
        );
        assert!(status.is_success(), "createRecord {collection}/{rkey} answered {status}: {body}");
        body
    }

    /// `com.atproto.repo.deleteRecord` of the record at `uri` in the account's repo.
    pub fn delete_record(&self, account: &TestAccount, uri: &str) {
        let mut parts = uri.trim_start_matches("at://").split('/');
        let (_, collection, rkey) = (parts.next(), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (status, body) = json_of(
            http()
                .post(self.xrpc(&self.pds, "com.atproto.repo.deleteRecord"))
                .bearer_auth(&account.access_jwt)
                .json(&json!({ "repo": account.did, "collection": collection, "rkey": rkey }))
                .send()
                .expect("POST com.atproto.repo.deleteRecord"),
        );
        assert!(status.is_success(), "deleteRecord {uri} answered {status}: {body}");
    }

    /// `com.atproto.repo.getRecord` from the PDS: the JSON answer (`uri`, `cid`, `value`), or
    /// `None` when there is no such record.
    pub fn get_record(&self, did: &str, collection: &str, rkey: &str) -> Option<Value> {
        let (status, body) = json_of(
            http()
                .get(self.xrpc(&self.pds, "com.atproto.repo.getRecord"))
                .query(&[("repo", did), ("collection", collection), ("rkey", rkey)])
                .send()
                .expect("GET com.atproto.repo.getRecord"),
        );
        if status == StatusCode::BAD_REQUEST && body["error"] == "RecordNotFound" {
            return None;
        }
        assert!(status.is_success(), "getRecord {did}/{collection}/{rkey} answered {status}: {body}");
        Some(body)
    }

    /// Every record of `collection` in the repo of `did` (`com.atproto.repo.listRecords`,
    /// all pages), each `{uri, cid, value}`.
    pub fn list_records(&self, did: &str, collection: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query =
                vec![("repo", did.to_string()), ("collection", collection.to_string()), ("limit", "100".into())];
            if let Some(c) = &cursor {
                query.push(("cursor", c.clone()));
            }
            let (status, body) = json_of(
                http()
                    .get(self.xrpc(&self.pds, "com.atproto.repo.listRecords"))
                    .query(&query)
                    .send()
                    .expect("GET com.atproto.repo.listRecords"),
            );
            assert!(status.is_success(), "listRecords {did}/{collection} answered {status}: {body}");
            let page = body["records"].as_array().cloned().unwrap_or_default();
            let done = page.is_empty() || body["cursor"].as_str().is_none();
            out.extend(page);
            if done {
                return out;
            }
            cursor = body["cursor"].as_str().map(str::to_owned);
        }
    }

    /// A like of the post `{uri, cid}` by `account`.
    pub fn like(&self, account: &TestAccount, uri: &str, cid: &str) -> Value {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.create_record(
            account,
            "app.bsky.feed.like",
            json!({ "$type": "app.bsky.feed.like", "subject": { "uri": uri, "cid": cid }, "createdAt": now }),
        )
    }

    /// `app.bsky.feed.getPosts` on the AppView for the given `at://` URIs; the
    /// `posts` array (missing posts are left out, not errors).
    pub fn get_posts(&self, uris: &[&str]) -> Vec<Value> {
        let query: Vec<(&str, &str)> = uris.iter().map(|u| ("uris", *u)).collect();
        let (status, body) = json_of(
            http()
                .get(self.xrpc(&self.appview, "app.bsky.feed.getPosts"))
                .query(&query)
                .send()
                .expect("GET app.bsky.feed.getPosts"),
        );
        assert!(status.is_success(), "getPosts answered {status}: {body}");
        body["posts"].as_array().cloned().unwrap_or_default()
    }

    /// Polls the AppView until the post at `uri` satisfies `pred`, and returns
    /// its view; panics with the last view after `timeout`.
    pub fn wait_for_post(&self, uri: &str, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let post = self.get_posts(&[uri]).into_iter().next();
            if let Some(p) = &post {
                if pred(p) {
                    return p.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "the AppView did not show the expected state of {uri} within {timeout:?}; last: {post:?}"
            );
            sleep(Duration::from_millis(200));
        }
    }

    /// Waits until the PDS's queue and the AppView have processed everything
    /// so far (`POST process_all`). The AppView indexes on its own within a
    /// second; this only removes the wait.
    pub fn process_all(&self) {
        let url = self.process_all.as_deref().expect("this network has no process_all endpoint");
        let status = http().post(url).send().expect("POST process_all").status();
        assert!(status.is_success(), "process_all answered {status}");
    }

    /// An access JWT for `did` that expired an hour ago, signed the way the
    /// dev-env PDS signs its own (HS256 with its `jwt_secret`, header
    /// `typ: at+jwt`, `scope: com.atproto.access`, `aud` = the PDS's DID). The
    /// PDS answers it with HTTP 400 `{"error":"ExpiredToken"}`, as it does a
    /// real token past its 2 hours; the account's refresh token still works.
    pub fn expired_access_jwt(&self, did: &str) -> String {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs();
        self.sign_jwt(
            &json!({ "typ": "at+jwt", "alg": "HS256" }),
            &json!({
                "scope": "com.atproto.access",
                "aud": self.pds_did,
                "sub": did,
                "iat": now - 3 * 3600,
                "exp": now - 3600,
            }),
        )
    }

    /// Signs a JWT with the PDS's secret, for other token-shaped tests.
    pub fn sign_jwt(&self, header: &Value, payload: &Value) -> String {
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(payload.to_string()));
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.jwt_secret.as_bytes()).expect("HMAC takes keys of any length");
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }
}

/// 10 characters of `[a-z0-9]`, different in every call and process.
fn unique_suffix() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let n = ACCOUNTS.fetch_add(1, Ordering::Relaxed);
    let mut x = RandomState::new().hash_one((nanos, std::process::id(), n));
    (0..10)
        .map(|_| {
            let c = b"abcdefghijklmnopqrstuvwxyz0123456789"[(x % 36) as usize] as char;
            x /= 36;
            c
        })
        .collect()
}

/// Runs `scripts/peers stop-atproto` once this process has exited, from a
/// watcher in its own process group (so a Ctrl-C to the tests spares it).
fn stop_at_exit(script: &Path) {
    let watcher = Command::new("sh")
        .arg("-c")
        .arg(r#"while kill -0 "$0" 2>/dev/null; do sleep 1; done; exec "$1" stop-atproto"#)
        .arg(std::process::id().to_string())
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
    if let Err(e) = watcher {
        eprintln!("cannot watch for exit to stop the atproto network: {e}");
    }
}

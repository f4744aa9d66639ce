//! Driving the loudhailer binary in tests: configs in a temp dir, runs, status, and reading
//! what a Mastodon server holds.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use loudhailer::job::{JobRecord, RemoteRef};
use loudhailer::metrics::Reading;
use serde_json::Value;

use super::peers::{Atproto, TestAccount};

/// How long one `loudhailer` command may take in a test.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// An event under test: its config file and state dir in a temp dir.
pub struct Event {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Event {
    pub fn new(config_text: &str) -> Event {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("event.toml");
        let text = config_text.replace("{STATE}", &dir.path().join("state").display().to_string());
        std::fs::write(&config, text).unwrap();
        Event { dir, config }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn rewrite(&self, config_text: &str) {
        let text = config_text.replace("{STATE}", &self.state_dir().display().to_string());
        std::fs::write(&self.config, text).unwrap();
    }

    /// `loudhailer ARGS --config <this>` with the given environment.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_loudhailer"));
        c.args(args).arg("--config").arg(&self.config);
        c.env_remove("RUST_LOG");
        // The peer servers are on loopback: no machine-wide proxy between them and us.
        for var in
            ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
        {
            c.env_remove(var);
        }
        c.env("LOUDHAILER_STATE_DIR", self.state_dir());
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    /// Runs loudhailer to the end and returns what it printed; kills it and fails the test
    /// if it takes longer than [`RUN_LIMIT`] (a job retried forever would otherwise hang).
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut child = self.spawn(args, env);
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                let _ = pipe.read_to_end(&mut bytes);
                bytes
            })
        };
        let stdout = drain(Box::new(child.stdout.take().unwrap()));
        let stderr = drain(Box::new(child.stderr.take().unwrap()));
        let deadline = Instant::now() + RUN_LIMIT;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let (out, err) = (stdout.join().unwrap(), stderr.join().unwrap());
                panic!(
                    "loudhailer {args:?} did not finish within {RUN_LIMIT:?}; its output:\n{}{}",
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&err)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
    }

    /// Starts `loudhailer run` and waits until its control socket is up, so that commands run
    /// meanwhile (`status`) talk to it rather than open the store it is about to hold.
    pub fn daemon(&self, env: &[(&str, &str)]) -> Child {
        let child = self.spawn(&["run"], env);
        let socket = self.state_dir().join("control.sock");
        // A socket left by a killed daemon refuses connections; the new one's accepts them.
        wait_for("the daemon's control socket", Duration::from_secs(30), || {
            std::os::unix::net::UnixStream::connect(&socket).is_ok()
        });
        child
    }

    pub fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        self.command(args, env).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// The stored jobs, read through the library (no loudhailer may be running).
    pub fn jobs(&self) -> Vec<JobRecord> {
        loudhailer::store::Store::open(&self.state_dir()).unwrap().jobs().unwrap()
    }

    /// The stored job `id`.
    pub fn job(&self, id: &str) -> JobRecord {
        self.jobs().into_iter().find(|j| j.spec.id.as_str() == id).unwrap_or_else(|| panic!("no job {id}"))
    }

    /// Engagement counts of `posts` read by `account`'s own client, through the library, with
    /// its stored state (no loudhailer may be running).
    pub fn metrics(&self, account: &str, secret: &str, posts: &[RemoteRef]) -> Vec<Reading> {
        use loudhailer::platform::{Client, Platform};
        let config = loudhailer::config::Config::load(&self.config).unwrap();
        let account = config.account(account).unwrap();
        let clock = loudhailer::clock::Clock::Wall;
        let limiter =
            std::sync::Arc::new(loudhailer::limit::Limiter::new(clock, loudhailer::limit::published(account.network)));
        let store = loudhailer::store::Store::open(&self.state_dir()).unwrap();
        let secret = loudhailer::secret::Secret::new(secret);
        let client = Client::connect(account, secret, limiter, clock, std::sync::Arc::new(store)).unwrap();
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(client.metrics(posts)).unwrap()
    }

    /// `status --format json`, parsed.
    pub fn status(&self) -> Vec<Value> {
        let out = self.run(&["status", "--format", "json"], &[]);
        assert!(out.status.success(), "status failed: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
    }
}

/// Speaks the control protocol (one JSON line each way) to the daemon of a state dir.
pub fn control(state_dir: &Path, request: serde_json::Value) -> Value {
    use std::io::{BufRead, BufReader, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(state_dir.join("control.sock")).unwrap();
    stream.write_all(format!("{request}\n").as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).unwrap();
    serde_json::from_str(&line).unwrap()
}

/// An instant `secs` from now, as RFC 3339.
pub fn in_secs(secs: i64) -> String {
    (Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A Mastodon server's REST API, as a test reads it.
pub struct Api<'a> {
    pub base: &'a str,
}

impl Api<'_> {
    pub fn get(&self, token: &str, path: &str) -> Value {
        let r = reqwest::blocking::Client::new()
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .timeout(Duration::from_secs(10))
            .send()
            .unwrap();
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().unwrap()
    }

    pub fn post(&self, token: &str, path: &str, body: Value) -> Value {
        let r = reqwest::blocking::Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap();
        assert!(r.status().is_success(), "POST {path}: {}", r.status());
        r.json().unwrap()
    }

    pub fn account_id(&self, token: &str) -> String {
        self.get(token, "/api/v1/accounts/verify_credentials")["id"].as_str().unwrap().to_string()
    }

    /// Every status of the token's account (newest first), boosts included.
    pub fn statuses(&self, token: &str) -> Vec<Value> {
        let id = self.account_id(token);
        let mut all = Vec::new();
        let mut max_id: Option<String> = None;
        loop {
            let mut path = format!("/api/v1/accounts/{id}/statuses?limit=40");
            if let Some(m) = &max_id {
                path.push_str(&format!("&max_id={m}"));
            }
            let page = self.get(token, &path);
            let page = page.as_array().unwrap().clone();
            if page.is_empty() {
                break;
            }
            max_id = page.last().and_then(|s| s["id"].as_str()).map(str::to_string);
            all.extend(page);
        }
        all
    }
}

/// A status's text without its HTML.
pub fn plain(html: &str) -> String {
    let re = regex::Regex::new(r"<[^>]+>").unwrap();
    let breaks = html.replace("<br>", "\n").replace("<br/>", "\n").replace("<br />", "\n");
    let text = re.replace_all(&breaks, "");
    text.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .trim()
        .to_string()
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// A Mastodon event config: the delegate (`LH_DELEGATE`) posts, the council (`LH_COUNCIL`)
/// boosts, state in `{STATE}`.
pub fn mastodon_config(base: &str, amplify: &str, sessions: &str) -> String {
    format!(
        r##"[event]
name = "Test day"
timezone = "Europe/London"
hashtags = ["#EMIEP"]

[[account]]
id = "delegate"
platform = "mastodon"
server = "{base}"
token_env = "LH_DELEGATE"

[[account]]
id = "council"
platform = "mastodon"
server = "{base}"
token_env = "LH_COUNCIL"
role = "amplifier"

[amplify]
{amplify}

[state]
dir = "{{STATE}}"

{sessions}
"##
    )
}

/// An `[amplify]` body for tests: boosts one second after the post, no jitter, no rate to speak of.
pub const FAST_AMPLIFY: &str = "delay = \"1s\"\njitter = \"0s\"\nrate = \"600/m\"";

/// The environment the configs above read their tokens from (mastodon_mock's demo tokens).
pub const MASTODON_ENV: [(&str, &str); 2] = [("LH_DELEGATE", "ada_token"), ("LH_COUNCIL", "grace_token")];

/// A `[[session]]` from `start` to `end` seconds from now.
pub fn session(id: &str, start: i64, end: i64, points: &[&str]) -> String {
    format!(
        "[[session]]\nid = \"{id}\"\ntitle = \"Session {id}\"\nstart = \"{}\"\nend = \"{}\"\npoints = {:?}\n\n",
        in_secs(start),
        in_secs(end),
        points
    )
}

/// What the server holds: how many times each of the delegate's texts ending in `#EMIEP` was
/// posted, and how many times the council boosted each of them.
pub fn server_counts(
    api: &Api,
) -> (std::collections::HashMap<String, usize>, std::collections::HashMap<String, usize>) {
    let mut posts = std::collections::HashMap::new();
    let mut ids = std::collections::HashMap::new();
    for s in api.statuses("ada_token") {
        if s["reblog"].is_null() {
            let t = plain(s["content"].as_str().unwrap_or(""));
            if t.ends_with("#EMIEP") {
                *posts.entry(t.clone()).or_default() += 1;
                ids.insert(s["id"].as_str().unwrap_or_default().to_string(), t);
            }
        }
    }
    let mut boosts = std::collections::HashMap::new();
    for s in api.statuses("grace_token") {
        if let Some(t) = s["reblog"]["id"].as_str().and_then(|id| ids.get(id)) {
            *boosts.entry(t.clone()).or_default() += 1;
        }
    }
    (posts, boosts)
}

/// Asserts every text was posted once and boosted once, and nothing else of ours was.
pub fn assert_each_once(api: &Api, texts: &[String]) {
    let (posts, boosts) = server_counts(api);
    for t in texts {
        assert_eq!(posts.get(t), Some(&1), "{t:?} posted {:?} times", posts.get(t));
        assert_eq!(boosts.get(t), Some(&1), "{t:?} boosted {:?} times", boosts.get(t));
    }
    assert_eq!(posts.len(), texts.len(), "unexpected posts: {posts:?}");
    assert_eq!(boosts.len(), texts.len(), "unexpected boosts: {boosts:?}");
}

/// Polls until `ok`, or panics naming `what`.
pub fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !ok() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(150));
    }
}

/// An event on Mastodon and Bluesky at once: `masto` posts and `masto-council` boosts on the
/// Mastodon server (`LH_MASTO`, `LH_MASTO_COUNCIL`); `sky` posts and `sky-council` reposts on
/// the PDS (`LH_SKY`, `LH_SKY_COUNCIL`). Boosts after one second; state in `{STATE}`.
pub fn both_networks_config(mastodon: &str, pds: &str, sky: &str, sky_council: &str, sessions: &str) -> String {
    format!(
        r##"[event]
name = "Both networks"
timezone = "Europe/London"
hashtags = ["#EMIEP"]

[[account]]
id = "masto"
platform = "mastodon"
server = "{mastodon}"
token_env = "LH_MASTO"

[[account]]
id = "masto-council"
platform = "mastodon"
server = "{mastodon}"
token_env = "LH_MASTO_COUNCIL"
role = "amplifier"

[[account]]
id = "sky"
platform = "bluesky"
server = "{pds}"
identifier = "{sky}"
password_env = "LH_SKY"

[[account]]
id = "sky-council"
platform = "bluesky"
server = "{pds}"
identifier = "{sky_council}"
password_env = "LH_SKY_COUNCIL"
role = "amplifier"

[amplify]
delay = "1s"
jitter = "0s"
rate = "600/m"

[state]
dir = "{{STATE}}"

{sessions}"##
    )
}

/// A Bluesky event: `delegate` (primary, `LH_DELEGATE`) and, when given, `amp` (amplifier,
/// `LH_AMP`) on the PDS; boosts after one second; state in `{STATE}`.
pub fn bluesky_config(net: &Atproto, delegate: &TestAccount, amp: Option<&TestAccount>, sessions: &str) -> String {
    let amplifier = amp
        .map(|a| {
            format!(
                "[[account]]\nid = \"amp\"\nplatform = \"bluesky\"\nserver = \"{}\"\nidentifier = \"{}\"\npassword_env = \"LH_AMP\"\nrole = \"amplifier\"\n",
                net.pds, a.handle
            )
        })
        .unwrap_or_default();
    format!(
        r##"[event]
name = "Bluesky day"
timezone = "Europe/London"
hashtags = ["#EMIEP"]
language = "en"

[[account]]
id = "delegate"
platform = "bluesky"
server = "{pds}"
identifier = "{handle}"
password_env = "LH_DELEGATE"
role = "primary"

{amplifier}
[amplify]
delay = "1s"
jitter = "0s"
rate = "600/m"

[state]
dir = "{{STATE}}"

{sessions}
"##,
        pds = net.pds,
        handle = delegate.handle,
    )
}

/// Runs `loudhailer login NETWORK --account ACCOUNT` and plays the browser: opens the address it
/// prints and follows the network's redirect back to loudhailer's callback. Returns what it
/// printed; fails the test if it did not succeed.
pub fn browser_login(event: &Event, network: &str, account: &str, env: &[(&str, &str)]) -> String {
    use std::io::{BufRead, BufReader};
    let mut child = event.spawn(&["login", network, "--account", account], env);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let address = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "login ended before giving an address: {printed}");
        printed.push_str(&line);
        if line.starts_with("http") {
            break line.trim().to_string();
        }
    };
    let browser = reqwest::blocking::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let page = browser.get(&address).send().unwrap();
    let status = page.status();
    let body = page.text().unwrap_or_default();
    let exit = child.wait().unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    printed.push_str(&rest);
    printed.push_str(&err);
    assert_eq!(status, 200, "the callback's page: {body}\n{printed}");
    assert!(body.contains("Signed in"), "{body}");
    assert!(exit.success(), "{printed}");
    printed
}

/// A free port on 127.0.0.1 (for a login's callback).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A daemon killed when dropped.
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `loudhailer run` at debug level, its log gathered as it comes; returns once its control
/// socket answers.
pub fn logged_daemon(event: &Event, env: &[(&str, &str)]) -> (Daemon, u32, Arc<Mutex<String>>) {
    logged_daemon_as(event, Path::new(env!("CARGO_BIN_EXE_loudhailer")), env)
}

/// [`logged_daemon`] with another copy of the binary.
pub fn logged_daemon_as(event: &Event, binary: &Path, env: &[(&str, &str)]) -> (Daemon, u32, Arc<Mutex<String>>) {
    let made = event.command(&["run"], env);
    let mut command = Command::new(binary);
    command.args(made.get_args());
    for (k, v) in made.get_envs() {
        match v {
            Some(v) => command.env(k, v),
            None => command.env_remove(k),
        };
    }
    let mut child =
        command.env("RUST_LOG", "loudhailer=debug").stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let daemon = Daemon(child);
    let socket = event.state_dir().join("control.sock");
    wait_for("the control socket", Duration::from_secs(60), || {
        std::os::unix::net::UnixStream::connect(&socket).is_ok()
    });
    (daemon, pid, log)
}

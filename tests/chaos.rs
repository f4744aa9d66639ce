//! The chaos test: a compressed event (sessions seconds apart) on mastodon_mock and the Bluesky
//! reference network runs while a driver, at random moments:
//!
//! - saves random edits of the config and of its schedule file, valid (a session moved, renamed,
//!   given a new id, removed; a point added; another boost delay) and invalid (broken TOML, an
//!   unknown key, a template typo, an absurd duration, an unknown time zone, a session that ends
//!   before it starts, a broken schedule file);
//! - sends control commands over the socket, sensible and absurd (shifts by a hundred million
//!   years, unknown sessions and jobs, a report in no format, a repost of no address);
//! - injects server faults: 5xx, malformed bodies and 429s with huge, negative and past
//!   `Retry-After` and `X-RateLimit-Reset` through mastodon_mock's fault plane, and 503s and
//!   answers lost after the server acted through a proxy in front of the Bluesky PDS;
//! - SIGKILLs the daemon and starts it again.
//!
//! Then the files are set to the last valid edit, the faults cleared, the accounts resumed, and
//! `run --exit-when-done` finishes the event. The servers are counted against the store: every
//! post and boost of a job that is done is on its network exactly once, nothing else is there,
//! and every job is done, or cancelled because its session was removed or skipped. The daemon
//! must never have stopped by itself and nothing may have panicked.
//!
//! `scripts/chaos-test SECS` runs it longer and prints the figures; the suite's run lasts
//! `LOUDHAILER_CHAOS_SECS` (default 40) seconds of chaos.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use common::lh::{plain, text, Api, Daemon, Event};
use common::peers::{Atproto, Mastodon};
use common::proxy::{Effect, Proxy};
use loudhailer::job::{JobKind, JobState};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

const SESSIONS: usize = 8;
const POINTS: usize = 3;

/// A session as the driver holds it; the files are written from these.
#[derive(Clone, Debug)]
struct Session {
    id: String,
    title: String,
    start: chrono::DateTime<Utc>,
    end: chrono::DateTime<Utc>,
    points: Vec<String>,
    /// In the schedule file rather than the config.
    in_schedule: bool,
}

/// The last valid edit.
#[derive(Clone, Debug)]
struct Model {
    sessions: Vec<Session>,
    delay_secs: u32,
    /// Numbers titles, ids and points afresh, so no two texts are ever the same.
    serial: usize,
}

fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn session_toml(s: &Session) -> String {
    format!(
        "[[session]]\nid = \"{}\"\ntitle = \"{}\"\nstart = \"{}\"\nend = \"{}\"\npoints = {:?}\n\n",
        s.id,
        s.title,
        stamp(s.start),
        stamp(s.end),
        s.points
    )
}

/// The config and schedule file of a model, and the base config an invalid edit breaks.
fn files(m: &Model, mastodon: &str, pds: &str, sky: &str, sky_amp: &str) -> (String, String) {
    let own: String = m.sessions.iter().filter(|s| !s.in_schedule).map(session_toml).collect();
    let schedule: String = m.sessions.iter().filter(|s| s.in_schedule).map(session_toml).collect();
    let config = format!(
        r##"[event]
name = "Chaos day"
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
identifier = "{sky_amp}"
password_env = "LH_SKY_COUNCIL"
role = "amplifier"

[amplify]
delay = "{}s"
jitter = "0s"
rate = "600/m"

[run]
catch_up = "7d"
max_server_wait = "3s"

[schedule]
file = "talks.toml"

[state]
dir = "{{STATE}}"

{own}"##,
        m.delay_secs
    );
    (config, format!("[event]\ntimezone = \"Europe/London\"\n\n{schedule}"))
}

/// The kinds of edit the driver makes, valid and not.
const INVALID: [&str; 7] = [
    "broken TOML",
    "unknown key",
    "template typo",
    "absurd duration",
    "unknown zone",
    "end before start",
    "broken schedule",
];

/// A control request over the socket, if a daemon answers.
fn control(state: &Path, request: &Value) -> Option<Value> {
    let mut stream = std::os::unix::net::UnixStream::connect(state.join("control.sock")).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(15))).ok()?;
    stream.write_all(format!("{request}\n").as_bytes()).ok()?;
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).ok()?;
    serde_json::from_str(&line).ok()
}

struct Figures {
    kills: usize,
    refused_starts: usize,
    unplanned_exits: Vec<String>,
    edits: usize,
    invalid_edits: usize,
    commands_accepted: usize,
    commands_refused: usize,
    faults: usize,
}

#[test]
fn chaos_leaves_every_post_once_and_the_daemon_never_stops_by_itself() {
    let secs: u64 = std::env::var("LOUDHAILER_CHAOS_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let seed: u64 =
        std::env::var("LOUDHAILER_CHAOS_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let mastodon = Mastodon::start();
    let api = Api { base: &mastodon.base };
    let sample: HashSet<String> = ["ada_token", "grace_token"]
        .iter()
        .flat_map(|t| api.statuses(t))
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    let net = Atproto::get();
    let (sky, sky_amp) = (net.create_account("chaos"), net.create_account("chaosamp"));
    let proxy = Proxy::start();

    // Sessions spread over the chaos, each with its points; every other one in the schedule file.
    let t0 = Utc::now() + chrono::Duration::seconds(3);
    let step = chrono::Duration::milliseconds((secs * 1000 / SESSIONS as u64) as i64);
    let mut model = Model { sessions: Vec::new(), delay_secs: 1, serial: 0 };
    for i in 0..SESSIONS {
        let start = t0 + step * i as i32;
        model.sessions.push(Session {
            id: format!("s{i}"),
            title: format!("Chaos s{i} title #EMIEP"),
            start,
            end: start + step,
            points: (1..=POINTS).map(|p| format!("chaos s{i}.{p} #EMIEP")).collect(),
            in_schedule: i % 2 == 1,
        });
    }
    let write = |event: &Event, config: &str, schedule: &str| {
        std::fs::write(event.dir.path().join("talks.toml"), schedule).unwrap();
        event.rewrite(config);
    };
    let (config, schedule) = files(&model, &mastodon.base, &net.pds, &sky.handle, &sky_amp.handle);
    let event = Event::new(&config);
    write(&event, &config, &schedule);
    let state = event.state_dir();
    let logs = event.dir.path().join("daemons.log");
    let env = [
        ("LH_MASTO", "ada_token"),
        ("LH_MASTO_COUNCIL", "grace_token"),
        ("LH_SKY", sky.password.as_str()),
        ("LH_SKY_COUNCIL", sky_amp.password.as_str()),
        ("HTTP_PROXY", proxy.url.as_str()),
    ];
    // Killed when dropped, so a failing assertion leaves no daemon running after the test.
    let spawn = || -> Daemon {
        let log = OpenOptions::new().create(true).append(true).open(&logs).unwrap();
        Daemon(
            event
                .command(&["run"], &env)
                .stdout(Stdio::from(log.try_clone().unwrap()))
                .stderr(Stdio::from(log))
                .spawn()
                .unwrap(),
        )
    };
    let mut f = Figures {
        kills: 0,
        refused_starts: 0,
        unplanned_exits: Vec::new(),
        edits: 0,
        invalid_edits: 0,
        commands_accepted: 0,
        commands_refused: 0,
        faults: 0,
    };
    let mut daemon = spawn();
    let mut paused: HashSet<&str> = HashSet::new();
    let mut says = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(rng.random_range(200..900)));
        // A daemon that stopped by itself: an unplanned exit (a refused start is told apart).
        if let Some(status) = daemon.0.try_wait().unwrap() {
            if status.code() == Some(2) {
                f.refused_starts += 1;
            } else {
                f.unplanned_exits.push(format!("{status}"));
            }
            let (config, schedule) = files(&model, &mastodon.base, &net.pds, &sky.handle, &sky_amp.handle);
            write(&event, &config, &schedule);
            daemon = spawn();
            continue;
        }
        match rng.random_range(0..100) {
            // (a) An edit of the files.
            0..=29 => {
                f.edits += 1;
                if rng.random_bool(0.4) {
                    f.invalid_edits += 1;
                    let kind = INVALID[rng.random_range(0..INVALID.len())];
                    let (mut config, mut schedule) =
                        files(&model, &mastodon.base, &net.pds, &sky.handle, &sky_amp.handle);
                    match kind {
                        "broken TOML" => config.push_str("\n[[session]\ntitle = \"half"),
                        "unknown key" => config = config.replacen("[event]\n", "[event]\ncolour = \"red\"\n", 1),
                        "template typo" => config.push_str("\n[compose]\ntitle = \"{{ title | nosuchfilter }}\"\n"),
                        "absurd duration" => config = config.replacen("delay = \"", "delay = \"300000y\"\n# \"", 1),
                        "unknown zone" => config = config.replacen("Europe/London", "Mars/Olympus", 1),
                        "end before start" => {
                            config.push_str(&format!(
                                "[[session]]\ntitle = \"Backwards\"\nstart = \"{}\"\nend = \"{}\"\n",
                                stamp(Utc::now() + chrono::Duration::hours(2)),
                                stamp(Utc::now() + chrono::Duration::hours(1))
                            ));
                        }
                        _ => schedule.push_str("\n[[session]]\ntitle = 3\n"),
                    }
                    write(&event, &config, &schedule);
                } else {
                    model.serial += 1;
                    let n = model.serial;
                    let k = rng.random_range(0..model.sessions.len().max(1));
                    let removable = model.sessions.len() > 2;
                    match (rng.random_range(0..6), model.sessions.get_mut(k)) {
                        (0, Some(s)) => {
                            let by = chrono::Duration::seconds(rng.random_range(-4..8));
                            s.start += by;
                            s.end += by;
                        }
                        (1, Some(s)) => s.title = format!("Chaos {} renamed v{n} #EMIEP", s.id),
                        (2, Some(s)) => {
                            s.id = format!("{}-v{n}", s.id.split("-v").next().unwrap_or("s"));
                            s.title = format!("Chaos {} new id #EMIEP", s.id);
                            s.points = s
                                .points
                                .iter()
                                .enumerate()
                                .map(|(j, _)| format!("chaos {}.{j} #EMIEP", s.id))
                                .collect();
                        }
                        (3, Some(_)) if removable => {
                            model.sessions.remove(k);
                        }
                        (4, Some(s)) => s.points.push(format!("chaos added point v{n} #EMIEP")),
                        _ => model.delay_secs = rng.random_range(1..4),
                    }
                    let (config, schedule) = files(&model, &mastodon.base, &net.pds, &sky.handle, &sky_amp.handle);
                    write(&event, &config, &schedule);
                }
            }
            // (b) A control command, sensible or absurd.
            30..=59 => {
                let live: Vec<&str> = model.sessions.iter().map(|s| s.id.as_str()).collect();
                let some = live[rng.random_range(0..live.len())];
                let request = match rng.random_range(0..11) {
                    0 => json!({"op": "status"}),
                    1 => json!({"op": "shift", "session": some, "by_secs": rng.random_range(-20..30)}),
                    2 => json!({"op": "shift", "by_secs": 100_000_000i64 * 365 * 86_400}),
                    3 => json!({"op": "shift", "session": "no-such-session", "by_secs": 60}),
                    4 => json!({"op": "skip", "session": some}),
                    5 => json!({"op": "send", "target": some}),
                    6 => {
                        says += 1;
                        json!({"op": "say", "text": format!("chaos say {says} #EMIEP")})
                    }
                    7 => {
                        let account = ["masto", "sky"][rng.random_range(0..2)];
                        if paused.remove(account) {
                            json!({"op": "resume", "account": account})
                        } else {
                            paused.insert(account);
                            json!({"op": "pause", "account": account})
                        }
                    }
                    8 => json!({"op": "retry", "job": "no.such.job"}),
                    9 => json!({"op": "report", "format": "bogus"}),
                    _ => json!({"op": "repost", "url": "not an address"}),
                };
                match control(&state, &request) {
                    Some(answer) if answer["ok"] == true => f.commands_accepted += 1,
                    Some(_) => f.commands_refused += 1,
                    None => {}
                }
            }
            // (c) A server fault.
            60..=84 => {
                f.faults += 1;
                let write = json!({"methods": ["POST"], "path_regex": "^/api/v1/statuses(/[0-9]+/reblog)?$"});
                let effect = match rng.random_range(0..9) {
                    0 => json!({"type": "status", "status": 500}),
                    1 => json!({"type": "status", "status": 502}),
                    2 => json!({"type": "status", "status": 503}),
                    3 => json!({"type": "malformed"}),
                    4 => json!({"type": "ratelimit", "headers": {"Retry-After": "99999999999"}}),
                    5 => json!({"type": "ratelimit", "headers": {"Retry-After": "-5"}}),
                    6 => json!({"type": "ratelimit", "headers": {"Retry-After": "Mon, 01 Jan 1990 00:00:00 GMT"}}),
                    7 => {
                        json!({"type": "ratelimit", "headers": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1e300"}})
                    }
                    _ => {
                        json!({"type": "ratelimit", "headers": {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000000000"}})
                    }
                };
                if rng.random_bool(0.75) {
                    mastodon.add_fault(json!({"match": write, "effect": effect, "count": 1}));
                } else if rng.random_bool(0.5) {
                    let unavailable =
                        Effect::Answer { status: 503, headers: vec![], body: r#"{"error":"Unavailable"}"#.into() };
                    proxy.rule("com.atproto.repo.createRecord", "", unavailable, 1);
                } else {
                    proxy.rule("com.atproto.repo.createRecord", "", Effect::Lose, 1);
                }
            }
            // (d) A kill.
            _ => {
                daemon.0.kill().unwrap();
                daemon.0.wait().unwrap();
                f.kills += 1;
                daemon = spawn();
            }
        }
    }
    // The end of the chaos: the last daemon must still be running by itself.
    if let Some(status) = daemon.0.try_wait().unwrap() {
        if status.code() != Some(2) {
            f.unplanned_exits.push(format!("{status}"));
        }
    }
    drop(daemon);

    // Settle: the last valid edit, no faults, every account resumed, and the event finished.
    let (config, schedule) = files(&model, &mastodon.base, &net.pds, &sky.handle, &sky_amp.handle);
    write(&event, &config, &schedule);
    mastodon.clear_faults();
    proxy.remove_rules("com.atproto");
    let resumed = event.run(&["resume"], &env);
    assert!(resumed.status.success(), "{}", text(&resumed));
    let out = event.run(&["run", "--exit-when-done"], &env);
    let final_log = text(&out);

    // What the daemons said.
    let said = std::fs::read_to_string(&logs).unwrap_or_default() + &final_log;
    let applied = said.matches("reloaded the config").count();
    let refused = said.matches("the config was not reloaded").count();
    let panics = said.matches("panicked").count();

    // The store against the servers.
    let jobs = event.jobs();
    let by_id: HashMap<&str, &loudhailer::job::JobRecord> = jobs.iter().map(|j| (j.spec.id.as_str(), j)).collect();
    let mut missing = Vec::new();
    for j in &jobs {
        let fine = match j.state {
            JobState::Done => true,
            JobState::Cancelled => {
                let why = j.error.as_deref().unwrap_or("");
                why == "session skipped"
                    || why == "no longer in the schedule"
                    || why.starts_with("nothing to boost")
                        && j.spec
                            .parent
                            .as_ref()
                            .and_then(|p| by_id.get(p.as_str()))
                            .is_some_and(|p| p.state == JobState::Cancelled)
            }
            _ => false,
        };
        if !fine {
            missing.push(format!(
                "{} {} {:?}",
                j.spec.id,
                j.state.as_str(),
                j.error.as_deref().or(j.waiting.as_deref())
            ));
        }
    }
    // Expected on each network: the text of every done post, once; a boost of every done boost's post, once.
    let mut want_posts: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let mut want_boosts: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for j in jobs.iter().filter(|j| j.state == JobState::Done) {
        let network = if j.spec.account.starts_with("masto") { "mastodon" } else { "bluesky" };
        if j.spec.kind.is_post() {
            *want_posts.entry((network, j.spec.text.clone().unwrap_or_default())).or_default() += 1;
        } else if j.spec.kind == JobKind::Boost {
            let post = j.spec.parent.as_ref().and_then(|p| by_id.get(p.as_str()));
            *want_boosts.entry((network, post.and_then(|p| p.spec.text.clone()).unwrap_or_default())).or_default() += 1;
        }
    }
    let mut have_posts: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let mut have_boosts: BTreeMap<(&str, String), usize> = BTreeMap::new();
    let new = |s: &Value| !sample.contains(s["id"].as_str().unwrap_or_default());
    let mut ids: HashMap<String, String> = HashMap::new();
    for s in api.statuses("ada_token").iter().filter(|s| s["reblog"].is_null() && new(s)) {
        let t = plain(s["content"].as_str().unwrap_or(""));
        ids.insert(s["id"].as_str().unwrap_or_default().to_string(), t.clone());
        *have_posts.entry(("mastodon", t)).or_default() += 1;
    }
    for s in api.statuses("grace_token").iter().filter(|s| new(s)) {
        let t = ids.get(s["reblog"]["id"].as_str().unwrap_or_default()).cloned().unwrap_or_else(|| "(unknown)".into());
        *have_boosts.entry(("mastodon", t)).or_default() += 1;
    }
    let mut uris: HashMap<String, String> = HashMap::new();
    for r in net.list_records(&sky.did, "app.bsky.feed.post") {
        let t = r["value"]["text"].as_str().unwrap_or_default().to_string();
        uris.insert(r["uri"].as_str().unwrap_or_default().to_string(), t.clone());
        *have_posts.entry(("bluesky", t)).or_default() += 1;
    }
    for r in net.list_records(&sky_amp.did, "app.bsky.feed.repost") {
        let t = uris
            .get(r["value"]["subject"]["uri"].as_str().unwrap_or_default())
            .cloned()
            .unwrap_or_else(|| "(unknown)".into());
        *have_boosts.entry(("bluesky", t)).or_default() += 1;
    }
    let mut duplicates = Vec::new();
    for (want, have, what) in [(&want_posts, &have_posts, "post"), (&want_boosts, &have_boosts, "boost")] {
        for (key, n) in have {
            let expected = want.get(key).copied().unwrap_or(0);
            if *n > expected {
                duplicates.push(format!("{what} {key:?} {n} times, {expected} wanted"));
            }
        }
        for (key, n) in want {
            if have.get(key).copied().unwrap_or(0) < *n {
                missing.push(format!("{what} {key:?} not on the server"));
            }
        }
    }
    println!(
        "seed={seed} secs={secs} edits={} (applied {applied}, refused {refused}; {} written invalid) commands: accepted {} refused {} faults={} kills={} refused_starts={} unplanned_exits={} panics={panics} jobs={} duplicates={} missing={}",
        f.edits,
        f.invalid_edits,
        f.commands_accepted,
        f.commands_refused,
        f.faults,
        f.kills,
        f.refused_starts,
        f.unplanned_exits.len(),
        jobs.len(),
        duplicates.len(),
        missing.len()
    );
    assert!(out.status.success(), "the last run did not finish every job (seed {seed}):\n{final_log}");
    assert!(f.unplanned_exits.is_empty(), "the daemon stopped by itself (seed {seed}): {:?}", f.unplanned_exits);
    assert_eq!(panics, 0, "panics in the log (seed {seed})");
    assert!(
        duplicates.is_empty() && missing.is_empty(),
        "seed {seed}\nduplicates: {duplicates:#?}\nmissing: {missing:#?}"
    );
    assert!(refused > 0 && applied > 0, "edits both applied ({applied}) and refused ({refused})");
    assert!(f.commands_refused > 0 && f.commands_accepted > 0, "commands both accepted and refused");
    let _ = File::open(&logs);
}

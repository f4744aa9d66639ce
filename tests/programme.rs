//! The programme as published: sentences taken from an abstract wait for a person's approval
//! (FOSDEM 2024's Rust devroom against mastodon_mock, approved with `approve` and on the desk).

mod common;

use std::time::Duration;

use chrono::Timelike;

use common::desk::{self, Daemon};
use common::lh::{in_secs, mastodon_config, plain, text, Api, Event, FAST_AMPLIFY, MASTODON_ENV as ENV};
use common::peers::Mastodon;
use serde_json::json;

const FOSDEM: &str = "fixtures/schedules/pentabarf-xml_fosdem2024_mttcrsp-fosdem.xml";

/// `loudhailer import ARGS`: its exit code, what it wrote and what it logged.
fn import(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loudhailer"))
        .arg("import")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
#[cfg_attr(not(shared), ignore = "needs FOSDEM 2024's schedule in ../shared/fixtures/schedules")]
fn fosdem_rust_devroom_abstract_sentences_post_only_once_approved() {
    let Some(file) = common::shared::file(FOSDEM, "FOSDEM 2024's Rust devroom with approved suggestions") else {
        return;
    };
    let (code, toml_text, err) = import(&[file.to_str().unwrap(), "--track", "Rust", "--tz", "Europe/Brussels"]);
    assert_eq!(code, 0, "{err}");
    let mut doc: toml::Table = toml::from_str(&toml_text).unwrap();
    let sessions = doc["session"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 14, "--track Rust finds the Rust devroom's 14 talks");
    // No sentence of an abstract is scheduled: every one is offered instead.
    for s in &sessions {
        assert_eq!(s["points"].as_array().map(Vec::len), Some(0), "{}", s["title"]);
    }
    let offered: usize =
        sessions.iter().map(|s| s.get("suggested").and_then(|v| v.as_array()).map_or(0, Vec::len)).sum();
    assert!(offered >= 14 * 2, "sentences offered: {offered}");
    let semver = sessions.iter().find(|s| s["id"].as_str() == Some("10525")).unwrap();
    let suggested: Vec<&str> = semver["suggested"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(suggested[1..], ["SemVer rules do not change over time.", "Crates always adhere to SemVer."]);

    // The SemVer talk, moved to now, alone in a sessions file the config reads.
    let mut talk = semver.as_table().unwrap().clone();
    talk.insert("start".into(), in_secs(2).into());
    talk.insert("end".into(), in_secs(26).into());
    doc.insert("session".into(), toml::Value::Array(vec![toml::Value::Table(talk)]));
    let extra = "[desk]\nlisten = \"127.0.0.1:0\"\n\n[schedule]\nfile = \"rust.toml\"\n";
    let server = Mastodon::start();
    let event = Event::new(&mastodon_config(&server.base, FAST_AMPLIFY, extra));
    std::fs::write(event.dir.path().join("rust.toml"), toml::to_string(&doc).unwrap()).unwrap();

    let plan = event.run(&["plan"], &ENV);
    let planned = text(&plan);
    assert!(plan.status.success(), "{planned}");
    assert!(planned.contains("3 suggested points in 1 sessions"), "{planned}");
    assert!(planned.contains("suggested 10525 3: Crates always adhere to SemVer."), "{planned}");
    assert!(!planned.contains("10525.s"), "no suggestion is planned: {planned}");

    let d = Daemon::start(&event, &ENV, &[]);
    desk::wait_done(&event, "10525.title.delegate", Duration::from_secs(30));
    let status = event.run(&["status"], &ENV);
    assert!(text(&status).contains("suggested 10525 2: SemVer rules do not change over time."), "{}", text(&status));
    let listed = event.run(&["approve", "10525"], &ENV);
    assert!(text(&listed).contains("3. [suggested] Crates always adhere to SemVer."), "{}", text(&listed));

    // `approve`, twice: posted once.
    let out = event.run(&["approve", "10525", "1"], &ENV);
    assert!(out.status.success() && text(&out).contains("approved 10525 suggestion 1"), "{}", text(&out));
    let again = event.run(&["approve", "10525", "1"], &ENV);
    assert!(text(&again).contains("already approved: nothing more posted"), "{}", text(&again));
    let wrong = event.run(&["approve", "10525", "4"], &ENV);
    assert!(!wrong.status.success() && text(&wrong).contains("give N from 1 to 3"), "{}", text(&wrong));

    // The desk, one tap (twice): posted once.
    let (_, link) = desk::sign_in_link(&event);
    let s = desk::sign_in(&link);
    let page = s.get("/").text().unwrap();
    assert!(page.contains("data-action=\"approve\"") && page.contains("Crates always adhere to SemVer."));
    let r = s.post("/api/approve", json!({ "session": "10525", "n": 3 }));
    assert_eq!(r.status(), 200, "{:?}", r.text());
    let r = s.post("/api/approve", json!({ "session": "10525", "n": 3 }));
    assert!(r.text().unwrap().contains("already approved"));

    for job in ["10525.s1.delegate", "10525.s3.delegate", "10525.s3.delegate+council"] {
        desk::wait_done(&event, job, Duration::from_secs(60));
    }
    let jobs = desk::jobs(&event);
    assert!(!jobs.contains_key("10525.s2.delegate"), "the one not approved is not planned");
    drop(d);

    let api = Api { base: &server.base };
    let mine: Vec<serde_json::Value> =
        api.statuses(Mastodon::ADA).into_iter().filter(|s| s["reblog"].is_null()).collect();
    let title = mine.iter().find(|s| plain(s["content"].as_str().unwrap()).starts_with("SemVer in the Rust")).unwrap();
    let first = "In theory, semantic versioning (SemVer) is simple";
    let third = "Crates always adhere to SemVer.";
    for sentence in [first, third] {
        let posts: Vec<&serde_json::Value> =
            mine.iter().filter(|s| plain(s["content"].as_str().unwrap()).starts_with(sentence)).collect();
        assert_eq!(posts.len(), 1, "{sentence:?} posted once");
        assert!(!posts[0]["in_reply_to_id"].is_null(), "{sentence:?} is in the session's thread");
    }
    let s1 = mine.iter().find(|s| plain(s["content"].as_str().unwrap()).starts_with(first)).unwrap();
    assert_eq!(s1["in_reply_to_id"], title["id"], "the first approved answers the title");
    let said = |t: &str| mine.iter().any(|s| plain(s["content"].as_str().unwrap()).starts_with(t));
    assert!(!said("SemVer rules do not change over time."), "a sentence not approved is never posted");
}

/// A schedule served over HTTP as organisers publish one: the current document with its ETag,
/// answering 304 to a request that holds it; counts what it was asked.
struct Published {
    base: String,
    state: std::sync::Arc<std::sync::Mutex<Served>>,
}

#[derive(Default)]
struct Served {
    body: String,
    etag: String,
    requests: usize,
    not_modified: usize,
}

impl Published {
    fn start(body: String) -> Published {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let base = format!("http://{}", server.server_addr().to_ip().unwrap());
        let state = std::sync::Arc::new(std::sync::Mutex::new(Served::default()));
        let shared = state.clone();
        std::thread::spawn(move || {
            for request in server.incoming_requests() {
                let mut s = shared.lock().unwrap();
                s.requests += 1;
                let held =
                    request.headers().iter().find(|h| h.field.equiv("If-None-Match")).map(|h| h.value.to_string());
                let etag = tiny_http::Header::from_bytes("ETag", s.etag.as_bytes()).unwrap();
                let response = if held.as_deref() == Some(s.etag.as_str()) {
                    s.not_modified += 1;
                    tiny_http::Response::from_string("").with_status_code(304).with_header(etag)
                } else {
                    tiny_http::Response::from_string(s.body.clone()).with_header(etag)
                };
                drop(s);
                let _ = request.respond(response);
            }
        });
        let p = Published { base, state };
        p.serve(body);
        p
    }

    /// Publishes a new version.
    fn serve(&self, body: String) {
        let mut s = self.state.lock().unwrap();
        s.etag = format!("\"v{}\"", s.requests * 1000 + body.len());
        s.body = body;
    }
}

/// An iCalendar programme of sessions (`id`, seconds from `origin` to its start, to its end).
fn calendar(origin: chrono::DateTime<chrono::Utc>, sessions: &[(&str, i64, i64)]) -> String {
    let stamp = |s: i64| (origin + chrono::Duration::seconds(s)).format("%Y%m%dT%H%M%SZ").to_string();
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//loudhailer test//EN\r\n");
    for (id, start, end) in sessions {
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{id}\r\nDTSTAMP:{}\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Talk {id}\r\nEND:VEVENT\r\n",
            stamp(0),
            stamp(*start),
            stamp(*end)
        ));
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// The record kept beside the copy of the programme.
fn record(event: &Event) -> serde_json::Value {
    let dir = event.state_dir().join("published");
    let Ok(entries) = std::fs::read_dir(&dir) else { return serde_json::Value::Null };
    for e in entries.flatten() {
        if e.file_name().to_string_lossy().ends_with(".state.json") {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                if let Ok(v) = serde_json::from_str(&text) {
                    return v;
                }
            }
        }
    }
    serde_json::Value::Null
}

/// `loudhailer run` with its output in a file; killed when dropped.
struct Running {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Running {
    fn start(event: &Event, name: &str) -> Running {
        let log = event.dir.path().join(name);
        let file = std::fs::File::create(&log).unwrap();
        let child = event.command(&["run"], &ENV).stdout(file.try_clone().unwrap()).stderr(file).spawn().unwrap();
        let socket = event.state_dir().join("control.sock");
        common::lh::wait_for("the control socket", Duration::from_secs(30), || {
            std::os::unix::net::UnixStream::connect(&socket).is_ok()
        });
        Running { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn at_of(event: &Event, id: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let jobs = desk::jobs(event);
    let at = jobs.get(id)?["at"].as_str()?.to_string();
    Some(chrono::DateTime::parse_from_rfc3339(&at).ok()?.with_timezone(&chrono::Utc))
}

#[test]
fn a_published_programme_is_followed_while_the_daemon_runs() {
    let origin = chrono::Utc::now().with_nanosecond(0).unwrap();
    let server = Published::start(calendar(origin, &[("a", 600, 900), ("b", 1200, 1500)]));
    let gate = common::outage::Outage::start(&server.base);
    let mastodon = Mastodon::start();
    let url = format!("{}/2026/schedule.ics", gate.base);
    let extra = format!("[schedule]\nurl = \"{url}\"\nrefresh = \"5s\"\nannounce_changes = true\n");
    let event = Event::new(&mastodon_config(&mastodon.base, FAST_AMPLIFY, &extra));
    let daemon = Running::start(&event, "run-1.log");
    let secs = |n: i64| origin + chrono::Duration::seconds(n);
    assert_eq!(at_of(&event, "a.title.delegate"), Some(secs(600)), "{}", daemon.log());
    assert_eq!(at_of(&event, "b.title.delegate"), Some(secs(1200)));

    // Unchanged: a 304 each time, nothing parsed after the first version.
    common::lh::wait_for("two answers 304", Duration::from_secs(30), || server.state.lock().unwrap().not_modified >= 2);
    let r = record(&event);
    assert_eq!(r["counts"]["parsed"], 1, "{r}");
    assert!(r["counts"]["not_modified"].as_u64().unwrap() >= 2, "{r}");

    // Moved by the organisers (and b cancelled): a's pending posts move within one refresh,
    // b's are cancelled, and both changes are announced once.
    let moved_at = std::time::Instant::now();
    server.serve(calendar(origin, &[("a", 1800, 2100)]));
    common::lh::wait_for("a to move", Duration::from_secs(20), || {
        at_of(&event, "a.title.delegate") == Some(secs(1800))
    });
    let took = moved_at.elapsed();
    assert!(took < Duration::from_secs(12), "moved after {took:?} with refresh 5s");
    assert_eq!(desk::jobs(&event)["b.title.delegate"]["state"], "cancelled");
    assert_eq!(record(&event)["counts"]["parsed"], 2);
    eprintln!("a moved session's posts moved {took:?} after the new version was published (refresh 5s)");
    // The note names the day as well when the session moved to another day (a run just before
    // midnight in London moves it past midnight).
    let (was, now) =
        (secs(600).with_timezone(&chrono_tz::Europe::London), secs(1800).with_timezone(&chrono_tz::Europe::London));
    let london = now.format(if now.date_naive() == was.date_naive() { "%H:%M" } else { "%a %-d %b %H:%M" }).to_string();
    let notes = [format!("Now {london}: Talk a #EMIEP"), "Cancelled: Talk b #EMIEP".to_string()];
    let api = Api { base: &mastodon.base };
    let posted = |t: &str| {
        api.statuses(Mastodon::ADA).iter().filter(|s| plain(s["content"].as_str().unwrap_or("")) == t).count()
    };
    common::lh::wait_for("the changes announced", Duration::from_secs(30), || notes.iter().all(|n| posted(n) == 1));

    // The server goes away: nothing changes, and status says so; it comes back: all good again.
    gate.set_down(true);
    common::lh::wait_for("a failed fetch", Duration::from_secs(20), || {
        record(&event)["last"]["outcome"]["outcome"] == "failed"
    });
    let status = text(&event.run(&["status"], &ENV));
    assert!(status.contains("last fetch:") && status.contains("failed: the server cannot be reached"), "{status}");
    assert!(status.contains("the copy in use stays"), "{status}");
    assert_eq!(at_of(&event, "a.title.delegate"), Some(secs(1800)));
    gate.set_down(false);
    common::lh::wait_for("a good fetch", Duration::from_secs(20), || {
        record(&event)["last"]["outcome"]["outcome"] == "not-modified"
    });
    let status = text(&event.run(&["status"], &ENV));
    assert!(!status.contains("failed:"), "{status}");

    // A broken document changes nothing, is reported, and is not parsed again while current.
    server.serve("BEGIN:VCALENDAR\r\nthis is not a calendar\r\n".to_string());
    common::lh::wait_for("a refused document", Duration::from_secs(20), || {
        record(&event)["last"]["outcome"]["outcome"] == "refused"
    });
    let parsed = record(&event)["counts"]["parsed"].as_u64().unwrap();
    assert_eq!(parsed, 3);
    let status = text(&event.run(&["status"], &ENV));
    assert!(status.contains("a document that does not read, not used"), "{status}");
    assert_eq!(at_of(&event, "a.title.delegate"), Some(secs(1800)));
    assert_eq!(desk::jobs(&event)["b.title.delegate"]["state"], "cancelled");
    let requests = record(&event)["counts"]["requests"].as_u64().unwrap();
    common::lh::wait_for("two more fetches", Duration::from_secs(20), || {
        record(&event)["counts"]["requests"].as_u64().unwrap() >= requests + 2
    });
    assert_eq!(
        record(&event)["counts"]["parsed"].as_u64().unwrap(),
        parsed,
        "the same broken document is not parsed again"
    );
    assert!(daemon.log().contains("the published programme no longer reads"), "{}", daemon.log());
    drop(daemon);
    for n in &notes {
        assert_eq!(posted(n), 1, "{n:?} announced once");
    }

    // A start without the network: the last good copy, with its age.
    gate.set_down(true);
    let daemon = Running::start(&event, "run-2.log");
    common::lh::wait_for("the start to say", Duration::from_secs(20), || {
        daemon.log().contains("using the copy of the programme fetched")
    });
    assert_eq!(at_of(&event, "a.title.delegate"), Some(secs(1800)), "{}", daemon.log());
    let check = text(&event.run(&["check"], &ENV));
    assert!(
        check.contains(&format!("schedule: {url} (fetched again every 5s)")) && check.contains("copy in use: fetched"),
        "{check}"
    );
}

#[test]
fn import_reads_an_address_and_refuses_plain_http_elsewhere() {
    let origin = chrono::Utc::now().with_nanosecond(0).unwrap();
    let server = Published::start(calendar(origin, &[("a", 600, 900), ("b", 1200, 1500)]));
    let (code, out, err) = import(&[&format!("{}/2026/schedule.ics", server.base), "--tz", "Europe/Brussels"]);
    assert_eq!(code, 0, "{err}");
    let doc: toml::Table = toml::from_str(&out).unwrap();
    let titles: Vec<&str> = doc["session"].as_array().unwrap().iter().filter_map(|s| s["title"].as_str()).collect();
    assert_eq!(titles, ["Talk a", "Talk b"]);
    let (code, _, err) = import(&["http://schedule.example.org/s.ics"]);
    assert_ne!(code, 0);
    assert!(err.contains("plain HTTP"), "{err}");
}

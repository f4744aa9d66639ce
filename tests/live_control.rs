//! Live control of a running daemon against mastodon_mock: shift, skip, send, say, pause,
//! edits picked up, many commands at once, one daemon per state dir, shutdown.

mod common;

use std::collections::HashMap;
use std::process::Child;
use std::time::{Duration, Instant};

use common::lh::{mastodon_config, plain, server_counts, session, text, wait_for, Api, Event, MASTODON_ENV as ENV};
use common::peers::Mastodon;
use serde_json::Value;

fn config(base: &str, sessions: &str) -> String {
    mastodon_config(base, "delay = \"2s\"\njitter = \"0s\"\nrate = \"600/m\"", sessions)
}

/// A running daemon, killed if the test ends early.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(event: &Event) -> Daemon {
    let d = Daemon(event.spawn(&["run"], &ENV));
    let socket = event.state_dir().join("control.sock");
    // Wait until it answers: a socket file may be a stale one left by a crash.
    wait_for("the control socket", Duration::from_secs(15), || {
        std::os::unix::net::UnixStream::connect(&socket).is_ok()
    });
    d
}

fn by_id(status: &[Value]) -> HashMap<String, Value> {
    status.iter().map(|j| (j["id"].as_str().unwrap().to_string(), j.clone())).collect()
}

fn ctl(event: &Event, args: &[&str]) -> String {
    let out = event.run(args, &ENV);
    assert!(out.status.success(), "{args:?}: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn shift_moves_exactly_the_pending_jobs_and_skip_cancels() {
    let server = Mastodon::start();
    let sessions = session("a", 3, 60, &["a one", "a two", "a three"]) + &session("b", 50, 90, &["b one"]);
    let event = Event::new(&config(&server.base, &sessions));
    let _d = start(&event);
    wait_for("a's title to go out", Duration::from_secs(20), || {
        by_id(&event.status())["a.title.delegate"]["state"] == "done"
    });
    let before = by_id(&event.status());
    let out = ctl(&event, &["shift", "a", "+15m"]);
    assert!(out.contains("moved"), "{out}");
    let after = by_id(&event.status());
    let t = |v: &Value| chrono::DateTime::parse_from_rfc3339(v["at"].as_str().unwrap()).unwrap();
    let mut moved = 0;
    for (id, job) in &after {
        let old = &before[id];
        let shifted = (t(job) - t(old)).num_seconds();
        // The title's boost follows the title, which already went out.
        if job["session"] == "a" && old["state"] == "pending" && id != "a.title.delegate+council" {
            assert_eq!(shifted, 900, "{id} should move by 15 minutes");
            moved += 1;
        } else {
            assert_eq!(shifted, 0, "{id} ({}) should stay", old["state"]);
        }
    }
    assert_eq!(moved, 6, "a's three points and their boosts (the title and its boost went out or are going)");
    assert_eq!(after["a.title.delegate"]["state"], "done");

    let out = ctl(&event, &["skip", "b"]);
    assert!(out.contains("cancelled 4 jobs"), "{out}");
    let status = by_id(&event.status());
    for id in ["b.title.delegate", "b.p1.delegate", "b.title.delegate+council", "b.p1.delegate+council"] {
        assert_eq!(status[id]["state"], "cancelled", "{id}");
    }
    // `next` lists what is still to come, soonest first, moved times included.
    let next = ctl(&event, &["next", "-n", "3"]);
    assert!(next.contains("a.p1.delegate"), "{next}");
    assert!(!next.contains("b.title"), "{next}");
}

#[test]
fn say_and_send_post_now_and_are_boosted() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    // A session an hour away, sent now by hand.
    let sessions = session("later", 3600, 4000, &["later one"]) + &session("now", 2, 30, &["now one"]);
    let event = Event::new(&config(&server.base, &sessions));
    let _d = start(&event);
    let out = ctl(&event, &["say", "coffee break!"]);
    assert!(out.contains("say1.post.delegate"), "{out}");
    let out = ctl(&event, &["say", "great question from the floor", "--thread", "now"]);
    assert!(out.contains("say2.post.delegate"), "{out}");
    let out = ctl(&event, &["send", "later"]);
    assert!(out.contains("sending 2 jobs now"), "{out}");
    wait_for("everything sent and boosted", Duration::from_secs(30), || {
        let (posts, boosts) = server_counts(&api);
        ["coffee break! #EMIEP", "Session later #EMIEP", "later one #EMIEP", "great question from the floor #EMIEP"]
            .iter()
            .all(|t| posts.get(*t) == Some(&1) && boosts.get(*t) == Some(&1))
    });
    let status = by_id(&event.status());
    assert_eq!(status["say2.post.delegate"]["kind"], "reply");
    // The threaded say answers the session's thread.
    let reply_to = |text: &str| {
        api.statuses("ada_token").into_iter().find(|s| plain(s["content"].as_str().unwrap_or("")) == text).unwrap()
            ["in_reply_to_id"]
            .clone()
    };
    let thread_ids: Vec<Value> = api
        .statuses("ada_token")
        .into_iter()
        .filter(|s| {
            ["Session now #EMIEP", "now one #EMIEP"].contains(&plain(s["content"].as_str().unwrap_or("")).as_str())
        })
        .map(|s| s["id"].clone())
        .collect();
    assert!(thread_ids.contains(&reply_to("great question from the floor #EMIEP")));
    let (posts, _) = server_counts(&api);
    assert_eq!(posts.get("coffee break! #EMIEP"), Some(&1));
}

#[test]
fn pause_holds_one_account_while_the_other_goes_on() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    let event = Event::new(&config(&server.base, &session("s", 4, 10, &["one", "two"])));
    let _d = start(&event);
    ctl(&event, &["pause", "council"]);
    wait_for("the delegate's posts", Duration::from_secs(25), || {
        let (posts, _) = server_counts(&api);
        ["Session s #EMIEP", "one #EMIEP", "two #EMIEP"].iter().all(|t| posts.get(*t) == Some(&1))
    });
    std::thread::sleep(Duration::from_secs(3));
    let (_, boosts) = server_counts(&api);
    assert!(boosts.is_empty(), "a paused account boosts nothing: {boosts:?}");
    let status = ctl(&event, &["status"]);
    assert!(status.contains("account council is paused: paused by hand"), "{status}");
    ctl(&event, &["resume", "council"]);
    wait_for("the boosts after resume", Duration::from_secs(20), || server_counts(&api).1.values().sum::<usize>() == 3);
    let (posts, boosts) = server_counts(&api);
    assert!(posts.values().all(|n| *n == 1) && boosts.values().all(|n| *n == 1), "{posts:?} {boosts:?}");
}

#[test]
fn an_edit_moves_a_session_and_a_broken_edit_changes_nothing() {
    let server = Mastodon::start();
    let sessions = session("edit", 600, 1200, &["point"]);
    let text_before = config(&server.base, &sessions);
    let event = Event::new(&text_before);
    let _d = start(&event);
    let first = by_id(&event.status());
    let at = |m: &HashMap<String, Value>| m["edit.title.delegate"]["at"].as_str().unwrap().to_string();
    // Move the session 30 minutes later, with a new point, by editing the file.
    event.rewrite(&config(&server.base, &session("edit", 2400, 3000, &["point", "a new point"])));
    wait_for("the edit to be picked up", Duration::from_secs(15), || at(&by_id(&event.status())) != at(&first));
    let edited = by_id(&event.status());
    let t = |s: String| chrono::DateTime::parse_from_rfc3339(&s).unwrap();
    let shift = (t(at(&edited)) - t(at(&first))).num_seconds();
    assert!((1795..=1805).contains(&shift), "moved by {shift}s");
    assert!(edited.contains_key("edit.p2.delegate"), "the new point is planned");
    // A broken edit changes nothing.
    std::fs::write(&event.config, "[event]\nname = \"Live day\"\ntimezone = \"Mars/Olympus\"\n").unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let state = event.state_dir();
    let out = event.run(&["reload", "--state-dir", state.to_str().unwrap()], &ENV);
    assert!(!out.status.success());
    assert!(text(&out).contains("the config was not reloaded; nothing changed"), "{}", text(&out));
    assert!(text(&out).contains("unknown time zone \"Mars/Olympus\""), "{}", text(&out));
    // The daemon still runs the edited plan: ask it over the socket (the config no longer reads).
    let answer = common::lh::control(&event.state_dir(), serde_json::json!({"op": "status"}));
    assert_eq!(answer["ok"], true, "{answer}");
    // `status` says the edit was refused, and why, until a good edit replaces it.
    let refused = answer["reload"].as_str().unwrap_or_default();
    assert!(refused.contains("was refused") && refused.contains("Mars/Olympus"), "{answer}");
    let jobs = answer["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), edited.len());
    let title = jobs.iter().find(|j| j["spec"]["id"] == "edit.title.delegate").unwrap();
    assert_eq!(
        title["spec"]["at"].as_str().unwrap(),
        chrono::DateTime::parse_from_rfc3339(&at(&edited))
            .unwrap()
            .with_timezone(&chrono::Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    assert!(jobs.iter().all(|j| j["state"] == "pending"), "nothing was cancelled");
    // A template typo is refused the same way: at load, with the key, not when a post is due.
    let typo = config(&server.base, &session("edit", 2400, 3000, &["point", "a new point"])).replacen(
        "[[session]]",
        "[compose]\ntitle = \"{{ title | nosuchfilter }}\"\n\n[[session]]",
        1,
    );
    event.rewrite(&typo);
    wait_for("the typo to be refused", Duration::from_secs(15), || {
        let a = common::lh::control(&event.state_dir(), serde_json::json!({"op": "status"}));
        a["reload"].as_str().is_some_and(|r| r.contains("compose.title") && r.contains("unknown filter"))
    });
    let answer = common::lh::control(&event.state_dir(), serde_json::json!({"op": "status"}));
    assert_eq!(answer["jobs"].as_array().map(Vec::len), Some(edited.len()), "the plan is as before");
    // A good edit clears the refusal.
    event.rewrite(&text_before);
    wait_for("the good edit", Duration::from_secs(15), || {
        let a = common::lh::control(&event.state_dir(), serde_json::json!({"op": "status"}));
        a["reload"].is_null() && at(&by_id(&event.status())) == at(&first)
    });
}

#[test]
fn two_hundred_commands_while_posting_lose_no_update_and_post_nothing_twice() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    let points: Vec<String> = (1..=8).map(|i| format!("busy point {i}")).collect();
    let refs: Vec<&str> = points.iter().map(String::as_str).collect();
    let sessions = session("busy", 2, 14, &refs) + &session("late", 1800, 2400, &["late one"]);
    let event = Event::new(&config(&server.base, &sessions));
    let _d = start(&event);
    let before = by_id(&event.status());
    // 200 commands from four clients at once: +1m and -1m shifts of `late` in equal numbers,
    // status reads, and pause/resume of nobody in particular.
    let mut threads = Vec::new();
    for worker in 0..4 {
        let config = event.config.clone();
        let state = event.state_dir();
        threads.push(std::thread::spawn(move || {
            for i in 0..50 {
                let args: Vec<&str> = match (worker, i % 2) {
                    (0, 0) | (1, 1) => vec!["shift", "late", "+1m"],
                    (0, 1) | (1, 0) => vec!["shift", "late", "-1m"],
                    (2, _) => vec!["status", "--format", "json"],
                    _ => vec!["next"],
                };
                let out = std::process::Command::new(env!("CARGO_BIN_EXE_loudhailer"))
                    .args(&args)
                    .arg("--config")
                    .arg(&config)
                    .env("LOUDHAILER_STATE_DIR", &state)
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    // Every shift counted: +50 and -50 leave `late` where it was.
    let after = by_id(&event.status());
    for id in ["late.title.delegate", "late.p1.delegate", "late.p1.delegate+council"] {
        assert_eq!(after[id]["at"], before[id]["at"], "{id}");
    }
    wait_for("the busy session", Duration::from_secs(30), || {
        let (posts, boosts) = server_counts(&api);
        posts.get("busy point 8 #EMIEP") == Some(&1) && boosts.values().sum::<usize>() >= 9
    });
    let (posts, boosts) = server_counts(&api);
    let ours: HashMap<&String, &usize> = posts.iter().filter(|(t, _)| t.ends_with("#EMIEP")).collect();
    assert_eq!(ours.len(), 9, "{ours:?}");
    assert!(ours.values().all(|n| **n == 1), "{ours:?}");
    assert!(boosts.values().all(|n| *n == 1), "{boosts:?}");
}

#[test]
fn the_socket_is_owner_only_and_a_second_daemon_is_refused() {
    let server = Mastodon::start();
    let event = Event::new(&config(&server.base, &session("s", 600, 1200, &["p"])));
    let d = start(&event);
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let meta = std::fs::metadata(event.state_dir().join("control.sock")).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(event.state_dir()).unwrap().permissions().mode() & 0o777, 0o700);
    let second = event.run(&["run"], &ENV);
    assert!(!second.status.success());
    let msg = text(&second);
    assert!(msg.contains("in use by another loudhailer"), "{msg}");
    assert!(msg.contains(&format!("process {}", d.0.id())), "{msg}");
}

#[test]
fn a_stale_socket_from_a_crash_is_cleaned_up_and_sigterm_removes_it() {
    let server = Mastodon::start();
    let event = Event::new(&config(&server.base, &session("s", 600, 1200, &["p"])));
    let mut d = start(&event);
    d.0.kill().unwrap(); // SIGKILL: the socket file stays behind
    d.0.wait().unwrap();
    let socket = event.state_dir().join("control.sock");
    assert!(socket.exists());
    // Without a daemon, commands fall back to the store.
    assert!(ctl(&event, &["status"]).contains("pending"));
    let mut d = start(&event);
    let pid = d.0.id().to_string();
    // SIGHUP reads the config again.
    std::process::Command::new("kill").args(["-HUP", &pid]).status().unwrap();
    std::thread::sleep(Duration::from_secs(1));
    std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let started = Instant::now();
    let status = d.0.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(status.success(), "{status:?}");
    assert!(!socket.exists(), "SIGTERM removes the socket");
    let mut log = String::new();
    use std::io::Read;
    d.0.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("SIGHUP: reading the config again"), "{log}");
    assert!(log.contains("reloaded the config"), "{log}");
}

#[test]
fn sigterm_during_a_burst_finishes_or_leaves_resumable_work() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    // Every post takes 1.5 s, so SIGTERM lands while one is under way.
    server.add_fault(serde_json::json!({"match": {"methods": ["POST"], "path": "/api/v1/statuses"}, "effect": {"type": "latency", "delay_ms": 1500}}));
    let points: Vec<String> = (1..=5).map(|i| format!("burst {i}")).collect();
    let refs: Vec<&str> = points.iter().map(String::as_str).collect();
    let event = Event::new(&config(&server.base, &session("burst", 2, 3, &refs)));
    let mut d = start(&event);
    std::thread::sleep(Duration::from_millis(4200));
    std::process::Command::new("kill").args(["-TERM", &d.0.id().to_string()]).status().unwrap();
    let started = Instant::now();
    assert!(d.0.wait().unwrap().success());
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(!event.state_dir().join("control.sock").exists());
    let partial = event.status();
    assert!(partial.iter().any(|j| j["state"] != "done"), "the burst should be cut short");
    // A restart finishes the rest, each exactly once.
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    let (posts, boosts) = server_counts(&api);
    let ours: Vec<(&String, &usize)> = posts.iter().filter(|(t, _)| t.ends_with("#EMIEP")).collect();
    assert_eq!(ours.len(), 6, "{ours:?}");
    assert!(ours.iter().all(|(_, n)| **n == 1), "{ours:?}");
    assert!(boosts.len() == 6 && boosts.values().all(|n| *n == 1), "{boosts:?}");
}

//! Exactly once through server faults, outages and rate limits, against mastodon_mock (its
//! own fault injection and rate limiting) and a proxy that takes the server away.

mod common;

use std::time::Duration;

use common::lh::{
    assert_each_once, in_secs, mastodon_config, session, text, wait_for, Api, Event, FAST_AMPLIFY as FAST, MASTODON_ENV,
};
use common::outage::Outage;
use common::peers::Mastodon;
use serde_json::{json, Value};

fn texts(id: &str, points: &[&str]) -> Vec<String> {
    let mut t = vec![format!("Session {id} #EMIEP")];
    t.extend(points.iter().map(|p| format!("{p} #EMIEP")));
    t
}

#[test]
fn faults_of_every_kind_end_with_every_job_done_once() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    let write = json!({"methods": ["POST"], "path_regex": "^/api/v1/statuses(/[0-9]+/reblog)?$"});
    let soon = (chrono::Utc::now().timestamp() + 2).to_string();
    // The server applies the first rule that matches, so these fire in turn on the first writes:
    // one of each kind (stacking more would only stretch the backoff of one job).
    for (effect, count) in [
        (json!({"type": "status", "status": 500}), 1),
        (json!({"type": "status", "status": 502}), 1),
        (json!({"type": "status", "status": 503}), 1),
        (json!({"type": "malformed"}), 1),
        (json!({"type": "latency", "delay_ms": 700}), 2),
        (json!({"type": "ratelimit", "headers": {"Retry-After": "2", "X-RateLimit-Reset": soon}}), 1),
    ] {
        server.add_fault(json!({"match": write, "effect": effect, "count": count}));
    }
    let points = ["one", "two", "three", "four"];
    let event = Event::new(&mastodon_config(&server.base, FAST, &session("f", 2, 8, &points)));
    let out = event.run(&["run", "--exit-when-done"], &MASTODON_ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("10 jobs: 10 done"), "{log}");
    assert!(log.contains("server error 500"), "the 500s were seen: {log}");
    assert!(log.contains("malformed response"), "{log}");
    assert!(log.contains("rate limited"), "{log}");
    assert_eq!(server.faults().as_array().map(Vec::len), Some(0), "every fault fired");
    assert_each_once(&api, &texts("f", &points));
}

#[test]
fn a_timeout_is_retried_with_the_same_key_and_posts_once() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    // The first post hangs for 30 s (past loudhailer's 20 s limit), then the server handles it.
    server.add_fault(
        json!({"match": {"methods": ["POST"], "path": "/api/v1/statuses"}, "effect": {"type": "timeout"}, "count": 1}),
    );
    let event = Event::new(&mastodon_config(&server.base, FAST, &session("t", 2, 4, &["only"])));
    let out = event.run(&["run", "--exit-when-done"], &MASTODON_ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("timed out"), "{}", text(&out));
    // Let the held request finish on the server: it must find the key and post nothing new.
    std::thread::sleep(Duration::from_secs(12));
    assert_each_once(&api, &texts("t", &["only"]));
}

#[test]
fn a_server_down_and_back_loses_nothing_and_status_says_why() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    let proxy = Outage::start(&server.base);
    let points = ["during", "the", "outage"];
    let event = Event::new(&mastodon_config(&proxy.base, FAST, &session("down", 4, 10, &points)));
    let mut daemon = event.spawn(&["run", "--exit-when-done"], &MASTODON_ENV);
    // Up for the start, then down (connections refused) from before the first post.
    std::thread::sleep(Duration::from_millis(2500));
    proxy.set_down(true);
    let state = event.state_dir();
    wait_for("a backoff to show in status", Duration::from_secs(20), || {
        let answer = common::lh::control(&state, json!({"op": "status"}));
        answer["jobs"].as_array().is_some_and(|jobs| {
            jobs.iter().any(|j| {
                j["waiting"].as_str().is_some_and(|w| w.starts_with("backoff after") && w.contains("cannot connect"))
            })
        })
    });
    std::thread::sleep(Duration::from_secs(8));
    proxy.set_down(false);
    let status = daemon.wait().unwrap();
    assert!(status.success());
    assert_each_once(&api, &texts("down", &points));
    assert!(event.status().iter().all(|j| j["state"] == "done"));
}

#[test]
fn a_rate_limited_server_sees_at_most_one_429() {
    // 30 requests per 10 s per token; 40 posts due at once from one account.
    let server = Mastodon::start_with_config("[ratelimit]\nenabled = true\nlimit = 30\nwindow_seconds = 10\n");
    let api = Api { base: &server.base };
    let points: Vec<String> = (1..=39).map(|i| format!("rated {i}")).collect();
    let refs: Vec<&str> = points.iter().map(String::as_str).collect();
    let event = Event::new(&mastodon_config(&server.base, FAST, &session("r", 2, 3, &refs)));
    let started = std::time::Instant::now();
    let out = event.run(&["run", "--exit-when-done"], &MASTODON_ENV);
    assert!(out.status.success(), "{}", text(&out));
    let elapsed = started.elapsed();
    let too_many = server.log().matches("429 Too Many Requests").count();
    assert!(too_many <= 1, "{too_many} answers were 429");
    assert_each_once(&api, &texts("r", &refs));
    // 40 posts and 40 boosts on separate tokens, plus a handful of reads: at 30 per 10 s the
    // delegate's 40-odd requests need two windows; far more means waiting on the wrong clock.
    assert!(elapsed < Duration::from_secs(45), "took {elapsed:?}");
}

#[test]
fn export_then_import_into_a_new_state_dir_gives_the_same_status() {
    let server = Mastodon::start();
    let event = Event::new(&mastodon_config(&server.base, FAST, &session("e", 2, 4, &["one"])));
    let out = event.run(&["run", "--exit-when-done"], &MASTODON_ENV);
    assert!(out.status.success(), "{}", text(&out));
    // A session added afterwards, planned but not yet due.
    event.rewrite(&mastodon_config(
        &server.base,
        FAST,
        &(session("e", 2, 4, &["one"]) + &session("later", 3600, 4000, &["x"])),
    ));
    // Some state beyond jobs: a pause and a shift.
    assert!(event.run(&["pause", "council"], &MASTODON_ENV).status.success());
    assert!(event.run(&["shift", "later", "+10m"], &MASTODON_ENV).status.success());
    let export = event.dir.path().join("state.jsonl");
    let out = event.run(&["export", "--out", export.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let before = event.run(&["status", "--format", "json"], &[]).stdout;

    let other = event.dir.path().join("restored");
    let with = |args: &[&str]| {
        let mut c = event.command(args, &[]);
        c.env("LOUDHAILER_STATE_DIR", &other);
        c.output().unwrap()
    };
    let out = with(&["import-state", export.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let after = with(&["status", "--format", "json"]).stdout;
    let parse = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap();
    assert_eq!(parse(&after), parse(&before));
    assert!(String::from_utf8_lossy(&with(&["status"]).stdout).contains("account council is paused: paused by hand"));
    // A second import into the same (no longer empty) dir is refused; nothing changes.
    let again = with(&["import-state", export.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("already holds state"));
    let _ = in_secs(0);
}

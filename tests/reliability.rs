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
    // Every answer counted at a proxy, not in the server's log.
    let proxy = common::proxy::Proxy::start();
    let env = [MASTODON_ENV[0], MASTODON_ENV[1], ("HTTP_PROXY", proxy.url.as_str())];
    let started = std::time::Instant::now();
    let out = event.run(&["run", "--exit-when-done"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let elapsed = started.elapsed();
    let seen = proxy.seen();
    let too_many = seen.iter().filter(|s| s.status == 429).count();
    assert!(too_many <= 1, "{too_many} of {} answers were 429", seen.len());
    assert!(seen.len() >= 80, "every request went through the proxy: {}", seen.len());
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

/// Every status `account` (by its token) has that holds `text`, whatever else it says.
fn statuses_holding(api: &Api, token: &str, text: &str) -> usize {
    api.statuses(token)
        .iter()
        .filter(|s| s["reblog"].is_null() && s["content"].as_str().is_some_and(|c| c.contains(text)))
        .count()
}

/// The post reached the server and was made; its answer was lost on the way back. loudhailer
/// sends it again with the same `Idempotency-Key`, and the server hands back the status it
/// made: one post. (Checked to fail when each attempt carries a new key: two posts.)
#[test]
fn an_answer_lost_after_the_server_posted_is_resent_with_its_key_and_posts_once() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    let proxy = common::proxy::Proxy::start();
    proxy.rule("/api/v1/statuses", "Lost on the way back", common::proxy::Effect::Lose, 1);
    let event = Event::new(&mastodon_config(&server.base, FAST, &session("lost", 2, 4, &["Lost on the way back"])));
    let env = [MASTODON_ENV[0], MASTODON_ENV[1], ("HTTP_PROXY", proxy.url.as_str())];
    let out = event.run(&["run", "--exit-when-done"], &env);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let tries: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.method == "POST" && s.path == "/api/v1/statuses" && s.body.contains("Lost on the way back"))
        .collect();
    assert_eq!(tries.len(), 2, "sent, lost, sent again: {tries:?}");
    assert!(tries[0].lost && tries[0].status == 200, "the server made it the first time: {:?}", tries[0]);
    let keys: Vec<Option<&str>> = tries.iter().map(|s| s.header("Idempotency-Key")).collect();
    assert!(keys[0].is_some() && keys[0] == keys[1], "the same key both times: {keys:?}");
    assert_eq!(statuses_holding(&api, "ada_token", "Lost on the way back"), 1, "{log}");
    assert_eq!(event.job("lost.p1.delegate").attempts, 2);
    assert_each_once(&api, &texts("lost", &["Lost on the way back"]));
}

/// The same, but the server has forgotten the key by the time loudhailer tries again (the
/// job was in flight longer than the server remembers keys: 55 minutes of the daemon's clock,
/// here sped up 600 times, while the server answered 503): loudhailer looks for the post among
/// the account's recent ones first, finds it, and does not send it again. The proxy strips the
/// key from any later attempt, as a server that forgot it would ignore it. (Checked to fail
/// without the look-up: a second post.)
#[test]
fn a_post_whose_key_the_server_forgot_is_looked_up_not_sent_again() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    let proxy = common::proxy::Proxy::start();
    let post = "Forgotten key";
    proxy.rule("/api/v1/statuses", post, common::proxy::Effect::Lose, 1);
    let unavailable = common::proxy::Effect::Answer {
        status: 503,
        headers: vec![],
        body: r#"{"error":"Service Unavailable"}"#.into(),
    };
    proxy.rule("/api/v1/statuses", post, unavailable, usize::MAX);
    proxy.rule("/api/v1/statuses", "", common::proxy::Effect::Strip("Idempotency-Key".into()), usize::MAX);
    let event = Event::new(&mastodon_config(&server.base, FAST, &session("forgot", 2, 4, &[post])));
    let env = [MASTODON_ENV[0], MASTODON_ENV[1], ("HTTP_PROXY", proxy.url.as_str())];
    let daemon = event.spawn(&["run", "--exit-when-done", "--speed", "600"], &env);
    // 8 s of real time is 80 minutes of the daemon's: past the hour a Mastodon server keeps keys.
    std::thread::sleep(Duration::from_secs(8));
    proxy.remove_rules("/api/v1/statuses");
    proxy.rule("/api/v1/statuses", "", common::proxy::Effect::Strip("Idempotency-Key".into()), usize::MAX);
    let out = daemon.wait_with_output().unwrap();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let seen = proxy.seen();
    let unanswered = seen.iter().filter(|s| s.path == "/api/v1/statuses" && s.status == 503).count();
    assert!(unanswered >= 3, "the server was away for a while: {unanswered} attempts answered 503");
    let reached = seen
        .iter()
        .filter(|s| s.method == "POST" && s.path == "/api/v1/statuses" && s.body.contains(post) && s.status != 503)
        .count();
    assert_eq!(reached, 1, "only the first attempt reached the server ({unanswered} answered 503)");
    assert!(
        seen.iter().any(|s| s.method == "GET" && s.path.contains("/statuses?")),
        "loudhailer looked among the account's recent posts"
    );
    assert!(log.contains("already on the server"), "{log}");
    assert_eq!(statuses_holding(&api, "ada_token", post), 1, "{log}");
}

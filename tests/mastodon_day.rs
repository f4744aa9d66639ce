//! A conference day against a real Mastodon API server (mastodon_mock): every post once,
//! threaded, boosted once by the amplifier, through crashes and refused credentials.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::lh::{in_secs, plain, text, Api, Event, FAST_AMPLIFY};
use common::peers::Mastodon;
use serde_json::Value;

const DELEGATE: &str = "ada_token";
const COUNCIL: &str = "grace_token";

fn config(base: &str, sessions: &str, amplify: &str) -> String {
    common::lh::mastodon_config(base, amplify, sessions)
}

const ENV: [(&str, &str); 2] = [("LH_DELEGATE", DELEGATE), ("LH_COUNCIL", COUNCIL)];

/// The delegate's statuses (not boosts) whose text is one of ours, by text.
fn posts_by_text(api: &Api, texts: &[String]) -> HashMap<String, Vec<Value>> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for s in api.statuses(DELEGATE) {
        if !s["reblog"].is_null() {
            continue;
        }
        let t = plain(s["content"].as_str().unwrap_or(""));
        if texts.contains(&t) {
            out.entry(t).or_default().push(s);
        }
    }
    out
}

/// How many times the council boosted each status id.
fn boosts(api: &Api) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for s in api.statuses(COUNCIL) {
        if let Some(id) = s["reblog"]["id"].as_str() {
            *out.entry(id.to_string()).or_default() += 1;
        }
    }
    out
}

/// Asserts each text was posted exactly once and boosted exactly once; returns the posts.
fn assert_once_and_boosted(api: &Api, texts: &[String]) -> HashMap<String, Value> {
    let posts = posts_by_text(api, texts);
    let boosted = boosts(api);
    let mut once = HashMap::new();
    for t in texts {
        let found = posts.get(t).map(Vec::len).unwrap_or(0);
        assert_eq!(found, 1, "{t:?} was posted {found} times");
        let post = posts[t][0].clone();
        let id = post["id"].as_str().unwrap().to_string();
        assert_eq!(boosted.get(&id).copied().unwrap_or(0), 1, "{t:?} ({id}) boost count");
        once.insert(t.clone(), post);
    }
    assert_eq!(boosted.values().sum::<usize>(), texts.len(), "no other boosts: {boosted:?}");
    once
}

#[test]
fn a_day_goes_out_once_threaded_and_boosted() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    let sessions = format!(
        r#"[[session]]
title = "Equalities Law"
start = "{}"
end = "{}"
points = ["The Act is in force", "Duties apply to councils"]

[[session]]
title = "Data"
start = "{}"
end = "{}"
points = ["Start from what you hold"]
"#,
        in_secs(4),
        in_secs(10),
        in_secs(6),
        in_secs(12)
    );
    let event = Event::new(&config(&server.base, &sessions, "delay = \"2s\"\njitter = \"1s\"\nrate = \"600/m\""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("10 jobs: 10 done"), "{}", text(&out));

    let texts: Vec<String> = [
        "Equalities Law #EMIEP",
        "The Act is in force #EMIEP",
        "Duties apply to councils #EMIEP",
        "Data #EMIEP",
        "Start from what you hold #EMIEP",
    ]
    .map(String::from)
    .to_vec();
    let posts = assert_once_and_boosted(&api, &texts);
    let id = |t: &str| posts[t]["id"].as_str().unwrap().to_string();
    let reply_to = |t: &str| posts[t]["in_reply_to_id"].as_str().map(str::to_string);
    // Points are threaded under their title, in order.
    assert_eq!(reply_to("Equalities Law #EMIEP"), None);
    assert_eq!(reply_to("The Act is in force #EMIEP"), Some(id("Equalities Law #EMIEP")));
    assert_eq!(reply_to("Duties apply to councils #EMIEP"), Some(id("The Act is in force #EMIEP")));
    assert_eq!(reply_to("Start from what you hold #EMIEP"), Some(id("Data #EMIEP")));

    // status: every job done, with the server's URL.
    let status = event.status();
    assert_eq!(status.len(), 10);
    for job in &status {
        assert_eq!(job["state"], "done", "{job}");
        let url = job["url"].as_str().unwrap();
        assert!(
            url.starts_with(&server.base.replace("127.0.0.1", "localhost")) || url.starts_with(&server.base),
            "{url}"
        );
    }
    let title = status.iter().find(|j| j["id"] == "equalities-law.title.delegate").unwrap();
    assert_eq!(title["url"].as_str().unwrap(), posts["Equalities Law #EMIEP"]["url"].as_str().unwrap());

    // A second run sends nothing more.
    let again = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 sent in this run"), "{}", text(&again));
    assert_once_and_boosted(&api, &texts);
}

#[test]
fn sigkill_mid_run_then_restart_leaves_each_post_and_boost_once() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    // Slow every post down so the kill lands while requests are in flight.
    server.add_fault(serde_json::json!({"match": {"methods": ["POST"], "path": "/api/v1/statuses"}, "effect": {"type": "latency", "delay_ms": 700}}));
    let mut sessions = String::new();
    let mut texts = Vec::new();
    for s in 0..3 {
        let points: Vec<String> = (1..=3).map(|p| format!("Session {s} point {p}")).collect();
        sessions.push_str(&format!(
            "[[session]]\ntitle = \"Session {s}\"\nstart = \"{}\"\nend = \"{}\"\npoints = {:?}\n\n",
            in_secs(3 + s),
            in_secs(9 + s),
            points
        ));
        texts.push(format!("Session {s} #EMIEP"));
        texts.extend(points.iter().map(|p| format!("{p} #EMIEP")));
    }
    let event = Event::new(&config(&server.base, &sessions, FAST_AMPLIFY));
    let mut first = event.spawn(&["run"], &ENV);
    std::thread::sleep(Duration::from_millis(6500));
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let partial = event.status();
    let done_before = partial.iter().filter(|j| j["state"] == "done").count();
    assert!(done_before > 0 && done_before < 24, "the kill should land mid-run: {done_before} done");

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert_once_and_boosted(&api, &texts);
    assert!(event.status().iter().all(|j| j["state"] == "done"));
}

#[test]
fn a_refused_account_is_paused_while_the_other_goes_on() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    // The council's token stops working mid-event: every boost answers 401.
    server.add_fault(serde_json::json!({"match": {"methods": ["POST"], "path_regex": "/reblog$"}, "effect": {"type": "status", "status": 401, "body": {"error": "The access token was revoked"}}}));
    let sessions = format!(
        "[[session]]\ntitle = \"Law\"\nstart = \"{}\"\nend = \"{}\"\npoints = [\"One\", \"Two\"]\n",
        in_secs(3),
        in_secs(7)
    );
    let event = Event::new(&config(&server.base, &sessions, "delay = \"1s\"\njitter = \"0s\""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("account paused"), "{log}");
    assert!(log.contains("The access token was revoked"), "{log}");
    // Every post of the delegate went out, threaded.
    let texts: Vec<String> = ["Law #EMIEP", "One #EMIEP", "Two #EMIEP"].map(String::from).to_vec();
    let posts = posts_by_text(&api, &texts);
    assert!(texts.iter().all(|t| posts.get(t).map(Vec::len) == Some(1)), "{posts:?}");
    // No boost happened, and status says why the boosts wait.
    assert!(boosts(&api).is_empty());
    let status = event.status();
    for job in status.iter().filter(|j| j["kind"] == "boost") {
        assert_eq!(job["state"], "pending", "{job}");
        assert!(job["waiting"].as_str().unwrap_or("").contains("account council paused"), "{job}");
    }
    assert_eq!(status.iter().filter(|j| j["state"] == "done").count(), 3);
}

#[test]
fn missed_jobs_are_listed_and_sent_by_hand() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    // A session that ended an hour ago: beyond the 10-minute catch-up window.
    let sessions = format!(
        "[[session]]\ntitle = \"Earlier\"\nstart = \"{}\"\nend = \"{}\"\npoints = [\"Gone by\"]\n",
        in_secs(-3600),
        in_secs(-3000)
    );
    let event = Event::new(&config(&server.base, &sessions, "delay = \"1s\"\njitter = \"0s\""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    // A run that ends with jobs not sent says so, with its own exit code.
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("4 jobs did not go out (failed or missed)"), "{}", text(&out));
    let status = event.status();
    assert!(status.iter().all(|j| j["state"] == "missed"), "{status:?}");
    let title = status.iter().find(|j| j["id"] == "earlier.title.delegate").unwrap();
    assert!(title["waiting"].as_str().unwrap().contains("loudhailer send earlier.title.delegate"), "{title}");
    assert!(posts_by_text(&api, &["Earlier #EMIEP".into()]).is_empty());

    let sent = event.run(&["send", "earlier.title.delegate"], &ENV);
    assert!(sent.status.success(), "{}", text(&sent));
    assert!(text(&sent).contains("earlier.title.delegate: sent"), "{}", text(&sent));
    assert!(text(&sent).contains("earlier.title.delegate+council: sent"), "{}", text(&sent));
    let posts = assert_once_and_boosted(&api, &["Earlier #EMIEP".into()]);
    assert_eq!(posts.len(), 1);
    // Sending a done job again sends nothing.
    let again = event.run(&["send", "earlier.title.delegate"], &ENV);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("already sent: earlier.title.delegate"), "{}", text(&again));
    assert_eq!(posts_by_text(&api, &["Earlier #EMIEP".into()])["Earlier #EMIEP"].len(), 1);
}

#[test]
fn the_token_never_reaches_the_log_even_at_trace_level() {
    let secret = "lh-secret-token-7f3a9c1e";
    let server = Mastodon::start_seeded(&format!(
        "[seed]\n[[seed.accounts]]\nusername = \"delegate\"\naccess_token = \"{secret}\"\n[[seed.accounts]]\nusername = \"council\"\naccess_token = \"lh-council-token-2b8d\"\n"
    ));
    let sessions = format!(
        "[[session]]\ntitle = \"Law\"\nstart = \"{}\"\nend = \"{}\"\npoints = [\"One\"]\n",
        in_secs(2),
        in_secs(4)
    );
    let event = Event::new(&config(&server.base, &sessions, "delay = \"1s\"\njitter = \"0s\""));
    let out = event
        .command(
            &["run", "--exit-when-done", "-vv"],
            &[("LH_DELEGATE", secret), ("LH_COUNCIL", "lh-council-token-2b8d"), ("RUST_LOG", "trace")],
        )
        .output()
        .unwrap();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("TRACE"), "the log should be at trace level");
    assert!(log.contains("4 jobs: 4 done"), "{log}");
    assert!(!log.contains(secret), "the delegate's token leaked into the log");
    assert!(!log.contains("lh-council-token-2b8d"), "the council's token leaked into the log");
    let status =
        String::from_utf8(event.run(&["status", "--format", "json", "-vv"], &[("RUST_LOG", "trace")]).stdout).unwrap();
    assert!(!status.contains(secret));
}

#[test]
fn the_metrics_read_counts_favourites_and_boosts_and_notices_deleted_posts() {
    use loudhailer::job::RemoteRef;
    use loudhailer::metrics::{Counts, Reading};
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    let event = Event::new(&config(&server.base, "", "delay = \"1s\"\njitter = \"0s\""));
    let liked = api.post(DELEGATE, "/api/v1/statuses", serde_json::json!({"status": "Liked and boosted"}));
    let deleted = api.post(DELEGATE, "/api/v1/statuses", serde_json::json!({"status": "Deleted"}));
    let quiet = api.post(DELEGATE, "/api/v1/statuses", serde_json::json!({"status": "Quiet"}));
    let id = |s: &Value| s["id"].as_str().unwrap().to_string();
    // A third account engages; a reply counts too.
    api.post(Mastodon::ALAN, &format!("/api/v1/statuses/{}/favourite", id(&liked)), serde_json::json!({}));
    api.post(Mastodon::ALAN, &format!("/api/v1/statuses/{}/reblog", id(&liked)), serde_json::json!({}));
    api.post(Mastodon::ALAN, "/api/v1/statuses", serde_json::json!({"status": "Agreed", "in_reply_to_id": id(&liked)}));
    let gone = reqwest::blocking::Client::new()
        .delete(format!("{}/api/v1/statuses/{}", server.base, id(&deleted)))
        .bearer_auth(DELEGATE)
        .send()
        .unwrap();
    assert!(gone.status().is_success(), "{}", gone.status());

    let refs: Vec<RemoteRef> =
        [&liked, &deleted, &quiet].iter().map(|s| RemoteRef { id: id(s), ..Default::default() }).collect();
    let read = event.metrics("delegate", DELEGATE, &refs);
    let counts = |likes, reposts, replies| Counts {
        likes: Some(likes),
        reposts: Some(reposts),
        replies: Some(replies),
        quotes: None,
        views: None,
    };
    let Reading::Counts(first) = read[0] else { panic!("{read:?}") };
    // mastodon_mock may report quotes_count (Mastodon 4.5): whatever it says, it is not invented.
    assert_eq!(Counts { quotes: None, ..first }, counts(1, 1, 1), "{read:?}");
    assert_eq!(read[1], Reading::Gone, "{read:?}");
    let Reading::Counts(third) = read[2] else { panic!("{read:?}") };
    assert_eq!(Counts { quotes: None, ..third }, counts(0, 0, 0), "{read:?}");
}

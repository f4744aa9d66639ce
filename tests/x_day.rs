//! X, end to end: a conference day through the loudhailer binary against the X test server
//! (`tests/common/xserver/`), which checks every request and answer against X's OpenAPI document
//! and recomputes every OAuth 1.0a signature. Posted and retweeted once, with threads; replies
//! refused and the points numbered instead; a lost answer found rather than repeated; a real
//! duplicate refused; 429 honoured without spinning; SIGKILL and restart.

mod common;

use std::time::Duration;

use common::lh::{text, Event, FAST_AMPLIFY};
use common::xserver::{Effect, Fault, XServer};
use common::xtest::*;

#[test]
fn a_day_goes_out_once_threaded_and_retweeted() {
    let server = XServer::start();
    let sessions = session("Equalities Law", 4, 10, &["The Act is in force", "Duties apply to councils"])
        + &session("Data", 6, 12, &["Start from what you hold"]);
    let event = Event::new(&config(
        &server.base,
        &sessions,
        "delay = \"2s\"\njitter = \"1s\"\nrate = \"600/m\"",
        OAUTH1_DELEGATE,
    ));

    // plan: the cost of the day on X, beforehand; JSON keeps its fields and adds the price.
    let plan = event.run(&["plan"], &[]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(
        text(&plan).contains("Estimated API cost: $0.15 on X: 5 posts at $0.015, 5 retweets at $0.015 (est.)"),
        "{}",
        text(&plan)
    );
    let json: Vec<serde_json::Value> =
        serde_json::from_slice(&event.run(&["plan", "--format", "json"], &[]).stdout).unwrap();
    assert_eq!(json.len(), 10);
    for j in &json {
        for field in ["id", "at", "account", "kind", "session", "text"] {
            assert!(j.get(field).is_some(), "{field} missing from {j}");
        }
        assert_eq!(j["cost_usd"], 0.015, "{j}");
    }

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("10 jobs: 10 done"), "{}", text(&out));

    let texts = tagged(&[
        "Equalities Law",
        "The Act is in force",
        "Duties apply to councils",
        "Data",
        "Start from what you hold",
    ]);
    let posts = assert_once_and_retweeted(&server, &texts);
    let id = |t: &str| posts[&format!("{t} #EMIEP")].id.clone();
    let reply_to = |t: &str| posts[&format!("{t} #EMIEP")].reply_to.clone();
    assert_eq!(reply_to("Equalities Law"), None);
    assert_eq!(reply_to("The Act is in force"), Some(id("Equalities Law")));
    assert_eq!(reply_to("Duties apply to councils"), Some(id("The Act is in force")));
    assert_eq!(reply_to("Start from what you hold"), Some(id("Data")));

    let status = event.status();
    assert_eq!(status.len(), 10);
    assert!(status.iter().all(|j| j["state"] == "done"), "{status:?}");
    let title = status.iter().find(|j| j["id"] == "equalities-law.title.delegate").unwrap();
    assert_eq!(title["url"], format!("https://x.com/{DELEGATE}/status/{}", id("Equalities Law")));

    // Every request was OAuth 1.0a, and every signature checked out.
    let (good, bad) = server.signatures();
    assert!(good >= 10, "{good} good signatures");
    assert_eq!(bad, 0);

    // A second run sends nothing more.
    let again = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 sent in this run"), "{}", text(&again));
    assert_once_and_retweeted(&server, &texts);
    server.assert_clean();
}

#[test]
fn refused_replies_go_out_as_numbered_posts() {
    let server = XServer::start();
    server.refuse_replies(true);
    let sessions = session("Law", 3, 9, &["One", "Two", "Three"]);
    let event = Event::new(&config(&server.base, &sessions, FAST_AMPLIFY, OAUTH1_DELEGATE));

    // Said beforehand, by plan and by check.
    let plan = event.run(&["plan"], &[]);
    assert!(text(&plan).contains("X may refuse delegate's replies"), "{}", text(&plan));
    let check = event.run(&["check"], &ENV);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("each point goes out as a standalone numbered post"), "{}", text(&check));

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("8 jobs: 8 done"), "{log}");
    assert!(log.contains("X refused a reply"), "{log}");
    let texts: Vec<String> =
        ["Law #EMIEP", "2/4 One #EMIEP", "3/4 Two #EMIEP", "4/4 Three #EMIEP"].map(String::from).to_vec();
    let posts = assert_once_and_retweeted(&server, &texts);
    assert!(posts.values().all(|p| p.reply_to.is_none()), "{posts:?}");
    // One reply was tried and refused; after that the client did not ask again.
    let replies_tried = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/2/tweets" && r.body.get("reply").is_some())
        .count();
    assert_eq!(replies_tried, 1);
    server.assert_clean();
}

#[test]
fn a_lost_answer_is_found_not_posted_again() {
    let server = XServer::start();
    // X makes the post but the answer never arrives; the timeline shows new posts 3 s late, so
    // the look before the resend misses it and X answers 403 duplicate content.
    server.add_fault(Fault { method: "POST", path: "/2/tweets", effect: Effect::LoseAnswer, times: Some(1) });
    server.lag_timeline(Duration::from_secs(3));
    let sessions = session("Law", 3, 20, &[]);
    let event = Event::new(&config(&server.base, &sessions, FAST_AMPLIFY, OAUTH1_DELEGATE));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("2 jobs: 2 done"), "{log}");
    let posts = assert_once_and_retweeted(&server, &tagged(&["Law"]));
    let statuses: Vec<u16> =
        server.requests().iter().filter(|r| r.method == "POST" && r.path == "/2/tweets").map(|r| r.status).collect();
    assert_eq!(statuses, [503, 403], "the lost answer, then X's duplicate refusal");
    assert!(log.contains("X already had this post (duplicate content)"), "{log}");
    // X bills each post read: the looks ask only for posts made since the first attempt.
    let looks: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/2/users/") && r.path.ends_with("/tweets") && r.method == "GET")
        .collect();
    assert!(!looks.is_empty());
    assert!(looks.iter().all(|r| r.query.iter().any(|(k, _)| k == "start_time")), "{looks:?}");
    let title = event.status().into_iter().find(|j| j["id"] == "law.title.delegate").unwrap();
    assert_eq!(title["url"], format!("https://x.com/{DELEGATE}/status/{}", posts["Law #EMIEP"].id));
    server.assert_clean();
}

#[test]
fn a_text_posted_before_the_job_is_refused_not_claimed() {
    let server = XServer::start();
    let old = server.seed_post(DELEGATE, "Old news #EMIEP", chrono::Utc::now() - chrono::Duration::hours(1));
    let sessions = session("Fresh", 2, 6, &["Old news"]);
    let event = Event::new(&config(&server.base, &sessions, FAST_AMPLIFY, OAUTH1_DELEGATE));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    // The refused job fails; the run says so with its exit code.
    assert_eq!(out.status.code(), Some(3), "{log}");
    let status = event.status();
    let point = status.iter().find(|j| j["id"] == "fresh.p1.delegate").unwrap();
    assert_eq!(point["state"], "failed", "{point}");
    let error = point["error"].as_str().unwrap();
    assert!(error.contains("posted the same text before this job was first sent"), "{error}");
    assert!(error.contains(&old), "{error}");
    let boost = status.iter().find(|j| j["id"] == "fresh.p1.delegate+council").unwrap();
    assert_eq!(boost["state"], "cancelled", "{boost}");
    assert_eq!(server.posts_by(DELEGATE).iter().filter(|p| p.text == "Old news #EMIEP").count(), 1);
    // Only the last look, which names the earlier post, reads the account's older posts.
    let looks: Vec<bool> = server
        .requests()
        .iter()
        // The account's timeline (`/2/users/:id/tweets`), not the engagement reads (`/2/tweets`).
        .filter(|r| r.path.starts_with("/2/users/") && r.path.ends_with("/tweets") && r.method == "GET")
        .map(|r| r.query.iter().any(|(k, _)| k == "start_time"))
        .collect();
    assert_eq!(looks.last(), Some(&false), "{looks:?}");
    assert!(looks[..looks.len() - 1].iter().all(|s| *s), "{looks:?}");
    server.assert_clean();
}

#[test]
fn a_429_is_honoured_without_spinning() {
    let server = XServer::start();
    server.add_fault(Fault {
        method: "POST",
        path: "/2/tweets",
        effect: Effect::RateLimit { reset_in: 4 },
        times: Some(1),
    });
    let sessions = session("Law", 2, 8, &[]);
    let event = Event::new(&config(&server.base, &sessions, FAST_AMPLIFY, OAUTH1_DELEGATE));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("2 jobs: 2 done"), "{log}");
    assert!(log.contains("rate limited"), "{log}");
    let requests = server.requests();
    let limited = requests.iter().find(|r| r.status == 429).expect("the 429");
    let after: Vec<Duration> = requests
        .iter()
        .filter(|r| r.path.starts_with("/2/") && r.at > limited.at && r.method == "POST")
        .map(|r| r.at - limited.at)
        .collect();
    // The reset was 3–4 s away (whole seconds): nothing was sent before it.
    assert!(!after.is_empty());
    assert!(after[0] >= Duration::from_millis(2900), "sent again {:?} after the 429", after[0]);
    let posts_tried = requests.iter().filter(|r| r.method == "POST" && r.path == "/2/tweets").count();
    assert_eq!(posts_tried, 2, "one 429, one success");
    assert_once_and_retweeted(&server, &tagged(&["Law"]));
    server.assert_clean();
}

#[test]
fn sigkill_mid_run_then_restart_leaves_each_post_and_retweet_once() {
    let server = XServer::start();
    // Slow every post so the kill lands while requests are in flight.
    server.add_fault(Fault {
        method: "POST",
        path: "/2/tweets",
        effect: Effect::Delay(Duration::from_millis(700)),
        times: None,
    });
    let mut sessions = String::new();
    let mut texts = Vec::new();
    for s in 0..3 {
        let points: Vec<String> = (1..=3).map(|p| format!("Session {s} point {p}")).collect();
        let refs: Vec<&str> = points.iter().map(String::as_str).collect();
        sessions.push_str(&session(&format!("Session {s}"), 3 + s, 9 + s, &refs));
        texts.push(format!("Session {s} #EMIEP"));
        texts.extend(points.iter().map(|p| format!("{p} #EMIEP")));
    }
    let event = Event::new(&config(&server.base, &sessions, FAST_AMPLIFY, OAUTH1_DELEGATE));
    let mut first = event.spawn(&["run"], &ENV);
    std::thread::sleep(Duration::from_millis(6500));
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let done_before = event.status().iter().filter(|j| j["state"] == "done").count();
    assert!(done_before > 0 && done_before < 24, "the kill should land mid-run: {done_before} done");

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert_once_and_retweeted(&server, &texts);
    assert!(event.status().iter().all(|j| j["state"] == "done"));
    server.assert_clean();
}

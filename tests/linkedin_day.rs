//! LinkedIn, end to end: conference days through the loudhailer binary against the LinkedIn test
//! server (`tests/common/linkedin/`), which holds every request to the rules in
//! `../shared/specs/linkedin/NOTES.md` (headers, versions, body shapes, URN forms, little-text
//! escaping) and records any broken one as a mistake that fails the test. Titles posted once,
//! points as comments in order (or as posts), each reshared once by the organisation; a text
//! with every reserved character arrives whole; a lost answer found by LinkedIn's duplicate
//! answer; the daily limit held until midnight UTC with nothing lost; SIGKILL and restart; counts
//! in the report.

mod common;

use std::time::Duration;

use common::lh::{text, wait_for, Event};
use common::linkedin::{self, person_urn, Counts, Effect, LinkedInServer};
use common::litest::*;
use common::loopback::Fault;
use serde_json::Value;

const AMPLIFY: &str = "delay = \"1s\"\njitter = \"0s\"\nrate = \"600/m\"";

#[test]
fn a_day_goes_out_once_points_as_comments_in_order_each_title_reshared() {
    let server = LinkedInServer::start();
    // Every character little text reserves, in a title and a point.
    let reserved = r"Keep \ | { } @ [ ] ( ) < > # * _ ~ whole";
    let sessions = session("Equalities Law (Hall A)", 4, 12, &["The Act is in force", reserved])
        + &session("Data_Protection *now*", 6, 14, &["Start from what you hold"]);
    let event = Event::new(&config(&server.base, &sessions, AMPLIFY, ""));

    let plan = event.run(&["plan", "--format", "json"], &[]);
    assert!(plan.status.success(), "{}", text(&plan));
    let planned: Vec<Value> = serde_json::from_slice(&plan.stdout).unwrap();
    // 2 titles, 3 points, and a reshare of each title only: a comment cannot be reshared.
    assert_eq!(planned.len(), 7, "{planned:#?}");

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("7 jobs: 7 done"), "{}", text(&out));

    let titles = tagged(&["Equalities Law (Hall A)", "Data_Protection *now*"]);
    let posts = posts_once(&server, &titles);
    let law = &posts[&titles[0]];
    let data = &posts[&titles[1]];
    // The text LinkedIn shows is the text written: nothing cut, nothing escaped twice.
    let points: Vec<String> = comments_on(&server, &law.urn).into_iter().map(|c| c.text).collect();
    assert_eq!(points, tagged(&["The Act is in force", reserved]), "in order, whole");
    let points: Vec<String> = comments_on(&server, &data.urn).into_iter().map(|c| c.text).collect();
    assert_eq!(points, tagged(&["Start from what you hold"]));
    assert!(server.comments().iter().all(|c| c.actor == person_urn("ada_delegate")));
    reshared_once(&server, &[&law.urn, &data.urn]);

    let status = event.status();
    assert!(status.iter().all(|j| j["state"] == "done"), "{status:#?}");
    let title = status.iter().find(|j| j["id"].as_str().unwrap().ends_with(".title.delegate")).unwrap();
    assert!(title["url"].as_str().unwrap().starts_with("https://www.linkedin.com/feed/update/urn:li:share:"));

    // Every request carried LinkedIn's headers.
    for r in server.requests().iter().filter(|r| r.path.starts_with("/rest/")) {
        assert_eq!(r.header("linkedin-version"), Some("202601"), "{r:?}");
        assert_eq!(r.header("x-restli-protocol-version"), Some("2.0.0"), "{r:?}");
    }

    // A second run sends nothing more.
    let again = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(text(&again).contains("0 sent in this run"), "{}", text(&again));
    posts_once(&server, &titles);
    reshared_once(&server, &[&law.urn, &data.urn]);

    // Counts reach the report: the member's post analytics (r_member_postAnalytics).
    server.set_counts(&law.urn, Counts { likes: 7, impressions: 120, ..Default::default() });
    let out = event.run(&["collect"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    let report = event.run(&["report", "--format", "json"], &[]);
    assert!(report.status.success(), "{}", text(&report));
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    let all: Vec<&Value> =
        report["sessions"].as_array().unwrap().iter().flat_map(|s| s["posts"].as_array().unwrap()).collect();
    let law_post = all.iter().find(|p| p["remote_id"] == law.urn.as_str()).expect("the title in the report");
    assert_eq!(law_post["network"], "linkedin");
    assert_eq!(law_post["counts"]["likes"], 7);
    assert_eq!(law_post["counts"]["replies"], 2, "its two points, as LinkedIn counts comments");
    assert_eq!(law_post["counts"]["reposts"], 1, "the council's reshare");
    assert_eq!(law_post["engagement"], 7, "the points and the reshare are the event's own");
    assert_eq!(law_post["counts"]["views"], 120, "impressions, as views: reach, not engagement");
    // A comment's counts cannot be read: unknown, never 0.
    let comment = all.iter().find(|p| p["text"] == format!("{} #EMIEP", "The Act is in force")).unwrap();
    assert!(comment["counts"]["likes"].is_null(), "{comment:#}");
    server.assert_clean();
}

#[test]
fn points_as_posts_are_each_their_own_post_and_reshared() {
    let server = LinkedInServer::start();
    let sessions = session("Law", 3, 9, &["One", "Two"]);
    let event = Event::new(&config(&server.base, &sessions, AMPLIFY, "[linkedin]\npoints = \"posts\""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("6 jobs: 6 done"), "{}", text(&out));
    let texts = tagged(&["Law", "One", "Two"]);
    let posts = posts_once(&server, &texts);
    assert!(server.comments().is_empty());
    let urns: Vec<&str> = texts.iter().map(|t| posts[t].urn.as_str()).collect();
    reshared_once(&server, &urns);
    // In order: each after the one before.
    assert!(posts[&texts[0]].created_at <= posts[&texts[1]].created_at);
    assert!(posts[&texts[1]].created_at <= posts[&texts[2]].created_at);
    server.assert_clean();
}

#[test]
fn a_lost_answer_is_recorded_from_linkedins_duplicate_answer_not_posted_again() {
    let server = LinkedInServer::start();
    // LinkedIn makes the post, but the answer never arrives; then the answer to the first resend
    // (LinkedIn's duplicate answer) is lost too.
    server.add_fault(Fault::once("POST", "/rest/posts", Effect::LoseAnswer));
    server.add_fault(Fault::once("POST", "/rest/posts", Effect::LoseAnswer));
    let sessions = session("Law", 3, 20, &[]);
    let event = Event::new(&config(&server.base, &sessions, AMPLIFY, ""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("2 jobs: 2 done"), "{log}");
    assert!(log.contains("an earlier attempt reached LinkedIn"), "{log}");
    let posts = posts_once(&server, &tagged(&["Law"]));
    let urn = &posts["Law #EMIEP"].urn;
    reshared_once(&server, &[urn]);
    let statuses: Vec<u16> =
        server.requests().iter().filter(|r| r.method == "POST" && r.path == "/rest/posts").map(|r| r.status).collect();
    assert_eq!(statuses, [201, 422, 422, 201], "the post, two lost answers, the duplicate answer, the reshare");
    // The resend cost no read: LinkedIn's answer named the post.
    assert!(!server.requests().iter().any(|r| r.method == "GET" && r.path.starts_with("/rest/posts")));
    let title = event.job("law.title.delegate");
    assert_eq!(title.remote.unwrap().id, *urn);
    server.assert_clean();
}

#[test]
fn a_text_posted_before_the_job_is_refused_with_linkedins_words() {
    let server = LinkedInServer::start();
    let old = server.seed_post(&person_urn("ada_delegate"), "Old news #EMIEP");
    let sessions = session("Old news", 2, 8, &[]);
    let event = Event::new(&config(&server.base, &sessions, AMPLIFY, ""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let title = event.job("old-news.title.delegate");
    assert_eq!(format!("{:?}", title.state), "Failed");
    let error = title.error.unwrap();
    assert!(error.contains(&format!("Content is a duplicate of {old}")), "{error}");
    assert!(error.contains("posted the same text before this job was first sent"), "{error}");
    assert_eq!(server.posts_by(&person_urn("ada_delegate")).len(), 1);
    assert!(server.reshares().is_empty());
    server.assert_clean();
}

#[test]
fn the_daily_limit_holds_the_account_until_midnight_utc_and_nothing_is_lost() {
    let server = LinkedInServer::start();
    // Ada may make two posts or comments today: the title and one point go, the next is refused.
    server.daily_limit(Some(2));
    let sessions = session("Law", 2, 8, &["One", "Two", "Three"]);
    let run_cap = "[run]\nmax_server_wait = \"2s\"";
    let event = Event::new(&config(&server.base, &sessions, AMPLIFY, run_cap));
    let mut daemon = event.daemon(&ENV);
    wait_for("the account held until midnight UTC", Duration::from_secs(40), || {
        server.requests().iter().filter(|r| r.status == 429).count() >= 2
    });
    std::thread::sleep(Duration::from_secs(3));
    // Held, not spinning: no request since the second 429, and status says why and until when.
    let requests = server.requests();
    let last_429 = requests.iter().rposition(|r| r.status == 429).unwrap();
    let writes_after: Vec<_> =
        requests[last_429 + 1..].iter().filter(|r| r.method == "POST" && r.path.contains("comments")).collect();
    assert!(writes_after.is_empty(), "sent again while held: {writes_after:?}");
    let out = event.run(&["status"], &[]);
    let shown = text(&out);
    assert!(shown.contains("account delegate is held back by its server"), "{shown}");
    assert!(shown.contains("daily limit") && shown.contains("midnight UTC"), "{shown}");
    let status = event.status();
    let two = status.iter().find(|j| j["id"] == "law.p2.delegate").unwrap();
    assert_eq!(two["state"], "pending", "waiting, not failed: {two:#}");
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    // A new day (the limit lifted); a restart honours the stored hold up to max_server_wait.
    server.daily_limit(None);
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    let posts = posts_once(&server, &tagged(&["Law"]));
    let urn = &posts["Law #EMIEP"].urn;
    let points: Vec<String> = comments_on(&server, urn).into_iter().map(|c| c.text).collect();
    assert_eq!(points, tagged(&["One", "Two", "Three"]), "each once, in order");
    reshared_once(&server, &[urn]);
    assert!(event.status().iter().all(|j| j["state"] == "done"));
    server.assert_clean();
}

#[test]
fn sigkill_mid_run_then_restart_leaves_each_post_comment_and_reshare_once() {
    let server = LinkedInServer::start();
    // Slow every write so the kill lands while requests are in flight. Ada's token can read the
    // comments under her posts (r_member_social), so a comment that may have arrived is looked up.
    let mut scopes = vec!["openid", "profile", "w_member_social", "r_member_social"];
    scopes.push("r_member_postAnalytics");
    let ada = server.issue_token("ada_delegate", &scopes);
    server.add_fault(Fault::always("POST", "/rest/", Effect::Delay(Duration::from_millis(700))));
    let mut sessions = String::new();
    let mut titles = Vec::new();
    for s in 0..3 {
        let points: Vec<String> = (1..=3).map(|p| format!("Session {s} point {p}")).collect();
        let refs: Vec<&str> = points.iter().map(String::as_str).collect();
        sessions.push_str(&session(&format!("Session {s}"), 3 + s, 9 + s, &refs));
        titles.push(format!("Session {s} #EMIEP"));
    }
    let event = Event::new(&config(&server.base, &sessions, AMPLIFY, ""));
    let env = [("LH_LI_ADA", ada.as_str()), ENV[1]];
    let mut first = event.spawn(&["run"], &env);
    std::thread::sleep(Duration::from_millis(6500));
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let done_before = event.status().iter().filter(|j| j["state"] == "done").count();
    assert!(done_before > 0 && done_before < 15, "the kill should land mid-run: {done_before} done");

    let out = event.run(&["run", "--exit-when-done"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let posts = posts_once(&server, &titles);
    let mut urns = Vec::new();
    for s in 0..3 {
        let urn = &posts[&titles[s]].urn;
        let points: Vec<String> = comments_on(&server, urn).into_iter().map(|c| c.text).collect();
        let want: Vec<String> = (1..=3).map(|p| format!("Session {s} point {p} #EMIEP")).collect();
        assert_eq!(points, want, "session {s}: each point once, in order");
        urns.push(urn.as_str());
    }
    reshared_once(&server, &urns);
    assert!(event.status().iter().all(|j| j["state"] == "done"));
    server.assert_clean();
}

#[test]
fn a_comment_that_may_have_arrived_is_never_sent_twice_without_a_way_to_look() {
    let server = LinkedInServer::start();
    // The comment is made but its answer lost; Ada's token cannot read comments (no
    // r_member_social, which LinkedIn grants approved partners only).
    server.add_fault(Fault::once("POST", "/comments", Effect::LoseAnswer));
    let sessions = session("Law", 2, 6, &["One"]);
    let event = Event::new(&config(&server.base, &sessions, AMPLIFY, ""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let point = event.job("law.p1.delegate");
    assert_eq!(format!("{:?}", point.state), "Failed");
    let error = point.error.unwrap();
    assert!(error.contains("cannot read the post's comments to check"), "{error}");
    assert!(error.contains("https://www.linkedin.com/feed/update/urn:li:share:"), "{error}");
    assert_eq!(server.comments().len(), 1, "never two");
    // The refused read was LinkedIn's answer to a scope the token lacks, not a mistake.
    let mistakes = server.take_mistakes();
    assert!(mistakes.iter().all(|m| m.contains("r_member_social")), "{mistakes:#?}");
    assert_eq!(mistakes.len(), 1, "{mistakes:#?}");
}

#[test]
fn a_revoked_token_pauses_the_account_with_linkedins_words() {
    let server = LinkedInServer::start();
    server.revoke_tokens("ada_delegate");
    let sessions = session("Law", 2, 6, &[]);
    let event = Event::new(&config(&server.base, &sessions, AMPLIFY, ""));
    let mut daemon = event.daemon(&ENV);
    wait_for("the delegate paused", Duration::from_secs(30), || {
        let out = event.run(&["status"], &[]);
        text(&out).contains("account delegate is paused")
    });
    let out = event.run(&["status"], &[]);
    assert!(text(&out).contains("REVOKED_ACCESS_TOKEN"), "{}", text(&out));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert!(server.posts().is_empty());
    server.assert_clean();
}

#[test]
fn login_linkedin_signs_in_through_the_browser_and_refreshes_before_expiry() {
    let server = LinkedInServer::start();
    // Tokens issued from now on live 20 seconds: refreshed once half of that is gone.
    server.token_lifetime(20);
    let port = common::lh::free_port();
    let sessions = session("Law", 14, 20, &[]);
    let client = format!(
        "client_id = \"{}\"\nclient_secret_env = \"LH_LI_SECRET\"\nredirect_uri = \"http://127.0.0.1:{port}/callback\"",
        linkedin::CLIENT_ID
    );
    let written = config(&server.base, &sessions, AMPLIFY, "").replace("token_env = \"LH_LI_ADA\"", &client);
    let event = Event::new(&written);

    let printed = common::lh::browser_login(&event, "linkedin", "delegate", &ENV);
    assert!(printed.contains("signed in to LinkedIn as urn:li:person:AdaDelegate01"), "{printed}");
    assert!(printed.contains("loudhailer refreshes it"), "{printed}");
    assert!(!printed.contains("li-at-"), "no token is ever printed: {printed}");
    let authorize = server.requests().into_iter().find(|r| r.path == "/oauth/v2/authorization").unwrap();
    let scope = authorize.query.iter().find(|(k, _)| k == "scope").unwrap().1.clone();
    assert_eq!(scope, "openid profile w_member_social");
    // Kept owner-only in the state dir.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(event.state_dir()).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "state dir mode {mode:o}");

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("2 jobs: 2 done"), "{log}");
    assert!(log.contains("refreshed before it expired"), "{log}");
    let requests = server.requests();
    let refreshed = requests
        .iter()
        .position(|r| r.path == "/oauth/v2/accessToken" && r.body["grant_type"] == "refresh_token")
        .expect("a refresh");
    let posted = requests.iter().position(|r| r.path == "/rest/posts").expect("the post");
    assert!(refreshed < posted, "refreshed before the post went out");
    assert!(requests.iter().all(|r| r.status != 401), "never refused: the token was refreshed in time");
    posts_once(&server, &tagged(&["Law"]));
    assert!(!log.contains("li-at-"), "no token in the log");
    server.assert_clean();
}

#[test]
fn a_reshare_sent_again_is_recorded_from_linkedins_duplicate_answer() {
    use loudhailer::platform::{BoostRequest, Platform};
    let server = LinkedInServer::start();
    let post = server.seed_post(&person_urn("ada_delegate"), "A post to reshare");
    let council = client(&server, "council", linkedin::FAITH_TOKEN);
    let target = loudhailer::job::RemoteRef { id: post.clone(), ..Default::default() };
    let origin = url::Url::parse(&server.base).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let req = |resend| BoostRequest {
        only_if_sent: false,
        target: &target,
        origin: &origin,
        key: "k",
        created_at: chrono::Utc::now(),
        resend,
        text: None,
    };
    let first = runtime.block_on(council.boost(&req(false))).unwrap();
    assert!(first.id.starts_with("urn:li:share:"), "{first:?}");
    // The answer was lost, say: the resend is answered 422 DUPLICATE_POST naming the reshare.
    let again = runtime.block_on(council.boost(&req(true))).unwrap();
    assert_eq!(again.id, first.id);
    // A first attempt told the same is a second reshare LinkedIn refuses.
    let refused = runtime.block_on(council.boost(&req(false))).unwrap_err();
    assert!(refused.to_string().contains("LinkedIn takes one reshare of a post"), "{refused}");
    reshared_once(&server, &[&post]);
    // An activity URN is never sent as a reshare's parent.
    let activity = loudhailer::job::RemoteRef { id: "urn:li:activity:1".into(), ..Default::default() };
    let bad = BoostRequest { target: &activity, ..req(false) };
    assert!(runtime.block_on(council.boost(&bad)).is_err());
    assert_eq!(server.reshares().len(), 1);
    server.assert_clean();
}

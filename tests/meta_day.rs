//! Facebook Pages and Threads, end to end: conference days through the loudhailer binary with a
//! delegate on Mastodon (mastodon_mock), the organisation's Facebook Page and Threads accounts,
//! against the Facebook and Threads test servers (`tests/common/facebook/`, `threads/`), which
//! hold every request to Meta's spec files and Postman collection (read from `../shared`) and
//! record any broken rule as a mistake that fails the test. The Page posts a digest per session
//! (or a quote per post) linking to the originals; the Threads delegate's points form a thread
//! and the council reposts each once; a slow container is waited for; throttling holds the
//! account and loses nothing; SIGKILL around a publish leaves one post; counts reach the report;
//! a point too long as Threads counts it (emoji as UTF-8 bytes) continues in the next reply;
//! SIGKILL while a Page post is being made leaves exactly one, found by one look at the feed.

mod common;

use std::time::Duration;

use common::facebook::{self, FacebookServer};
use common::lh::{text, wait_for, Event};
use common::loopback::Fault;
use common::meta::Effect;
use common::metatest::*;
use common::peers::Mastodon;
use common::threads::{self, ThreadsServer};
use serde_json::Value;

fn tagged(t: &str) -> String {
    format!("{t} #EMIEP")
}

/// The Threads delegate's live posts with `text`.
fn threads_posts(server: &ThreadsServer, text: &str) -> Vec<threads::Media> {
    server.posts_by("ada_delegate").into_iter().filter(|m| m.text.as_deref() == Some(text)).collect()
}

#[test]
fn a_day_the_page_digests_each_session_and_threads_threads_and_reposts() {
    let mastodon = Mastodon::start();
    let fb = FacebookServer::start();
    let th = ThreadsServer::start();
    // Containers turn FINISHED only on their second status read: each is waited for.
    th.container_polls(2);
    let sessions = session("Equalities Law", 4, 12, &["The Act is in force", "Duties apply to councils"])
        + &session("Data", 6, 14, &["Start from what you hold"]);
    let event = Event::new(&config(Some(&mastodon.base), Some(&fb), Some(&th), &sessions, ""));

    let plan = event.run(&["plan", "--format", "json"], &[]);
    assert!(plan.status.success(), "{}", text(&plan));
    let planned: Vec<Value> = serde_json::from_slice(&plan.stdout).unwrap();
    let kinds = |k: &str| planned.iter().filter(|j| j["kind"] == k).count();
    // Mastodon and Threads: 2 titles and 3 points each; 5 reposts on Threads; 2 digests.
    assert_eq!((kinds("post"), kinds("reply"), kinds("boost"), kinds("digest")), (4, 6, 5, 2), "{planned:#?}");

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("17 jobs: 17 done"), "{}", text(&out));

    // The Page: one post per session, its title and points, linking to the Mastodon thread.
    let page_posts = fb.posts_on(PAGE);
    assert_eq!(page_posts.len(), 2, "{page_posts:#?}");
    let law = event.job("equalities-law.title.delegate").remote.unwrap().url.unwrap();
    let digest = page_posts.iter().find(|p| p.link.as_deref() == Some(law.as_str())).expect("the law digest");
    assert_eq!(
        digest.message.as_deref(),
        Some("Equalities Law #EMIEP\n\n• The Act is in force\n• Duties apply to councils")
    );
    let data = event.job("data.title.delegate").remote.unwrap().url.unwrap();
    assert!(page_posts.iter().any(|p| p.link.as_deref() == Some(data.as_str())));

    // Threads: each post once, the points replying in order, each reposted once by the council.
    let title = threads_posts(&th, &tagged("Equalities Law"));
    let one = threads_posts(&th, &tagged("The Act is in force"));
    let two = threads_posts(&th, &tagged("Duties apply to councils"));
    assert_eq!((title.len(), one.len(), two.len()), (1, 1, 1));
    assert_eq!(one[0].reply_to.as_deref(), Some(title[0].id.as_str()));
    assert_eq!(two[0].reply_to.as_deref(), Some(one[0].id.as_str()));
    let ours = th.posts_by("ada_delegate");
    assert_eq!(ours.len(), 5);
    let reposts = th.reposts();
    for p in &ours {
        let n = reposts.iter().filter(|(u, id)| u == "faith_council" && id == &p.id).count();
        assert_eq!(n, 1, "{:?} reposted {n} times", p.text);
    }
    assert_eq!(reposts.len(), 5);
    // Every container was read until FINISHED before it was published.
    assert!(th.containers().iter().all(|c| c.polls >= 2), "{:#?}", th.containers());
    assert_eq!(th.containers().len(), 5, "one container per post");

    // Counts reach the report: the Page's reactions, Threads' insights.
    fb.set_counts(&digest.id, facebook::Counts { reactions: 6, comments: 2, shares: 1 });
    th.set_counts(&title[0].id, threads::Counts { likes: 9, views: 100, ..Default::default() });
    let out = event.run(&["collect"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    let report = event.run(&["report", "--format", "json"], &[]);
    assert!(report.status.success(), "{}", text(&report));
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    let all: Vec<&Value> =
        report["sessions"].as_array().unwrap().iter().flat_map(|s| s["posts"].as_array().unwrap()).collect();
    let d = all.iter().find(|p| p["remote_id"] == digest.id.as_str()).expect("the digest in the report");
    assert_eq!((d["network"].as_str(), d["counts"]["likes"].as_u64()), (Some("facebook"), Some(6)));
    assert_eq!((d["counts"]["replies"].as_u64(), d["counts"]["reposts"].as_u64()), (Some(2), Some(1)));
    assert!(d["counts"]["quotes"].is_null(), "Facebook reports no quotes: unknown, not 0");
    assert!(d["counts"]["views"].is_null(), "nor views without the Page's insights: unknown, not 0");
    let t = all.iter().find(|p| p["remote_id"] == title[0].id.as_str()).expect("the Threads title");
    assert_eq!(t["counts"]["likes"], 9);
    assert_eq!(t["counts"]["views"], 100, "Threads' views");
    assert_eq!(report["headline"]["totals"]["views"]["sum"], 100);
    assert_eq!(t["counts"]["reposts"], 1, "the council's repost");
    assert_eq!(t["counts"]["replies"], 1, "its first point");
    fb.assert_clean();
    th.assert_clean();
}

#[test]
fn in_quote_mode_the_page_quotes_each_post_with_a_link_to_it() {
    let mastodon = Mastodon::start();
    let fb = FacebookServer::start();
    let sessions = session("Law", 3, 8, &["One"]);
    let event = Event::new(&config(Some(&mastodon.base), Some(&fb), None, &sessions, "[facebook]\nmode = \"quote\""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4 jobs: 4 done"), "{}", text(&out));
    let posts = fb.posts_on(PAGE);
    assert_eq!(posts.len(), 2, "{posts:#?}");
    for (job, words) in [("law.title.delegate", "Law #EMIEP"), ("law.p1.delegate", "One #EMIEP")] {
        let url = event.job(job).remote.unwrap().url.unwrap();
        let quoted: Vec<_> = posts.iter().filter(|p| p.link.as_deref() == Some(url.as_str())).collect();
        assert_eq!(quoted.len(), 1, "{job}");
        assert_eq!(quoted[0].message.as_deref(), Some(words));
    }
    // Quoted on the boosts' timer: after the post, in order.
    assert!(posts[0].created_at <= posts[1].created_at);
    fb.assert_clean();
}

#[test]
fn throttling_holds_each_account_and_nothing_is_lost() {
    let mastodon = Mastodon::start();
    let fb = FacebookServer::start();
    let th = ThreadsServer::start();
    // The Page is throttled with an estimate (5 minutes: capped by max_server_wait); Threads
    // without the usage header, which is not "no usage".
    fb.add_fault(Fault::once("POST", "/feed", Effect::Throttle { code: 80001, regain_minutes: Some(5) }));
    th.add_fault(Fault::once("POST", "/threads_publish", Effect::Throttle { code: 4, regain_minutes: None }));
    let sessions = session("Law", 3, 6, &["One"]);
    let capped = "[run]\nmax_server_wait = \"3s\"";
    let event = Event::new(&config(Some(&mastodon.base), Some(&fb), Some(&th), &sessions, capped));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("7 jobs: 7 done"), "{log}");
    assert!(log.contains("Facebook throttled the account (code 80001)"), "{log}");
    assert!(log.contains("Threads throttled the account (code 4)") && log.contains("gave no time to wait"), "{log}");
    // Held, not spinning: the next write came after the hold (3 s, the cap).
    for (requests, path) in [(fb.requests(), "/feed"), (th.requests(), "/threads_publish")] {
        let writes: Vec<_> = requests.iter().filter(|r| r.method == "POST" && r.path.ends_with(path)).collect();
        let throttled = writes.iter().position(|r| r.status == 400).expect("the throttled answer");
        let next = writes.get(throttled + 1).expect("sent again after the hold");
        assert!(next.at - writes[throttled].at >= Duration::from_millis(2900), "{path}: too soon");
    }
    assert_eq!(fb.posts_on(PAGE).len(), 1, "the digest, once");
    assert_eq!(th.posts_by("ada_delegate").len(), 2, "title and point, once each");
    assert_eq!(th.reposts().len(), 2);
    fb.assert_clean();
    th.assert_clean();
}

#[test]
fn sigkill_around_a_publish_leaves_exactly_one_post() {
    let th = ThreadsServer::start();
    // Each publish takes 2 s: the kill lands while one is under way.
    th.add_fault(Fault::always("POST", "/threads_publish", Effect::Delay(Duration::from_secs(2))));
    let sessions = session("Law", 2, 6, &["One", "Two"]);
    let event = Event::new(&config(None, None, Some(&th), &sessions, ""));
    let mut first = event.spawn(&["run"], &ENV);
    wait_for("a container", Duration::from_secs(30), || !th.containers().is_empty());
    std::thread::sleep(Duration::from_millis(1000));
    first.kill().unwrap(); // SIGKILL, mid-publish
    first.wait().unwrap();
    // The server finishes the publish it was given.
    std::thread::sleep(Duration::from_millis(1500));
    let before = th.containers().len();

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("an earlier attempt published this container"), "{log}");
    for t in ["Law", "One", "Two"] {
        assert_eq!(threads_posts(&th, &tagged(t)).len(), 1, "{t}: exactly one");
    }
    // The kept container was read, not made again: no second container for the title.
    let titles = th.containers().iter().filter(|c| c.text.as_deref() == Some(&tagged("Law"))).count();
    assert_eq!(titles, 1, "{before} containers before the restart");
    th.assert_clean();
}

#[test]
fn a_lost_answer_to_a_publish_and_to_a_page_post_are_found_not_made_again() {
    let mastodon = Mastodon::start();
    let fb = FacebookServer::start();
    let th = ThreadsServer::start();
    th.add_fault(Fault::once("POST", "/threads_publish", Effect::LoseAnswer));
    th.add_fault(Fault::once("POST", "/repost", Effect::LoseAnswer));
    fb.add_fault(Fault::once("POST", "/feed", Effect::LoseAnswer));
    let sessions = session("Law", 3, 6, &[]);
    let event =
        Event::new(&config(Some(&mastodon.base), Some(&fb), Some(&th), &sessions, "[facebook]\nmode = \"quote\""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("4 jobs: 4 done"), "{log}");
    assert_eq!(threads_posts(&th, &tagged("Law")).len(), 1);
    assert_eq!(th.reposts().len(), 1, "reposted once");
    assert_eq!(fb.posts_on(PAGE).len(), 1, "quoted once");
    // What each resend cost: a container status read and a look at the latest posts (Threads),
    // the latest reposts, the Page's latest posts (Facebook).
    assert!(th.requests().iter().any(|r| r.method == "GET" && r.path.ends_with("/me/threads")));
    assert!(fb.requests().iter().any(|r| r.method == "GET" && r.path.ends_with("/published_posts")));
    fb.assert_clean();
    th.assert_clean();
}

#[test]
fn facebook_errors_fail_or_pause_with_facebooks_words() {
    let mastodon = Mastodon::start();
    let fb = FacebookServer::start();
    fb.add_fault(Fault::once("POST", "/feed", Effect::Blocked));
    let sessions = session("Law", 2, 5, &[]);
    let event = Event::new(&config(Some(&mastodon.base), Some(&fb), None, &sessions, "[facebook]\nmode = \"quote\""));
    let mut daemon = event.daemon(&ENV);
    wait_for("the Page paused", Duration::from_secs(30), || {
        text(&event.run(&["status"], &[])).contains("account page is paused")
    });
    let shown = text(&event.run(&["status"], &[]));
    assert!(shown.contains("blocked the Page from posting"), "{shown}");
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert!(fb.posts_on(PAGE).is_empty());

    // An expired token pauses the account and says to log in again.
    fb.expire_tokens("faith_council");
    let out = event.run(&["resume", "page"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let mut daemon = event.daemon(&ENV);
    wait_for("the Page paused again", Duration::from_secs(30), || {
        text(&event.run(&["status"], &[])).contains("loudhailer login facebook --account page")
    });
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    fb.assert_clean();
}

#[test]
fn a_page_posting_the_same_text_as_its_latest_post_fails_with_facebooks_words() {
    let fb = FacebookServer::start();
    fb.seed_post(PAGE, &tagged("Old news"));
    let sessions = session("Old news", 2, 5, &[]);
    // The Page posts the schedule itself.
    let written = config(None, Some(&fb), None, &sessions, "").replace("role = \"amplifier\"\n", "");
    let event = Event::new(&written);
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let job = event.job("old-news.title.page");
    let error = job.error.unwrap();
    assert!(error.contains("Duplicate status message"), "{error}");
    assert_eq!(fb.posts_on(PAGE).len(), 1);
    fb.assert_clean();
}

#[test]
fn a_page_posting_the_schedule_puts_points_as_comments_under_the_title() {
    let fb = FacebookServer::start();
    let sessions = session("Law", 2, 6, &["One", "Two"]);
    let written = config(None, Some(&fb), None, &sessions, "").replace("role = \"amplifier\"\n", "");
    let event = Event::new(&written);
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    let posts = fb.posts_on(PAGE);
    assert_eq!(posts.len(), 1);
    let comments: Vec<String> =
        fb.comments().into_iter().filter(|c| c.post == posts[0].id).map(|c| c.message).collect();
    assert_eq!(comments, [tagged("One"), tagged("Two")]);
    assert!(fb.comments().iter().all(|c| c.from == PAGE));
    fb.assert_clean();
}

#[test]
fn the_threads_quota_is_read_and_respected_and_nothing_is_lost() {
    let th = ThreadsServer::start();
    // Two posts a day: the third title waits.
    th.publishing_quota(2, 1000);
    let sessions = session("A", 2, 4, &[]) + &session("B", 3, 5, &[]) + &session("C", 4, 6, &[]);
    let capped = "[run]\nmax_server_wait = \"2s\"";
    let event = Event::new(&config(None, None, Some(&th), &sessions, capped));
    let mut daemon = event.daemon(&ENV);
    wait_for("the quota used up", Duration::from_secs(40), || {
        text(&event.run(&["status"], &[])).contains("publishing quota is used up")
    });
    let published: Vec<_> =
        th.requests().into_iter().filter(|r| r.method == "POST" && r.path.ends_with("/threads_publish")).collect();
    assert_eq!(published.len(), 2, "no publish beyond the quota: {published:?}");
    assert!(th.requests().iter().any(|r| r.path.ends_with("/threads_publishing_limit")));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    th.publishing_quota(250, 1000);
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    for t in ["A", "B", "C"] {
        assert_eq!(threads_posts(&th, &tagged(t)).len(), 1, "{t}");
    }
    th.assert_clean();
}

#[test]
fn a_point_too_long_as_threads_counts_it_continues_in_the_next_reply() {
    let th = ThreadsServer::start();
    // 90 words of 4 characters, an emoji among each: 449 characters, but 719 as Threads counts
    // them (each emoji is its 4 bytes of UTF-8), more than the 500 a post may hold.
    let words: Vec<String> = (0..90).map(|i| format!("w{i:02}😀")).collect();
    let point = words.join(" ");
    assert_eq!(point.chars().count(), 449);
    assert_eq!(threads::text_length(&point), 719);
    let sessions = session("Long", 2, 5, &[point.as_str()]);
    let event = Event::new(&config(None, None, Some(&th), &sessions, ""));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    // The title, the point in two replies, and a repost of each.
    assert!(text(&out).contains("6 jobs: 6 done"), "{}", text(&out));

    let ids = ["long.title.th-delegate", "long.p1.th-delegate", "long.p1-2.th-delegate"];
    let posted: Vec<String> = ids.iter().map(|id| event.job(id).remote.unwrap().id).collect();
    let ours = th.posts_by("ada_delegate");
    let media = |id: &str| ours.iter().find(|m| m.id == id).unwrap_or_else(|| panic!("{id} is not on Threads")).clone();
    let mut rejoined = Vec::new();
    for (i, id) in posted.iter().enumerate().skip(1) {
        let m = media(id);
        let t = m.text.as_deref().unwrap();
        assert!(threads::text_length(t) <= 500, "{}: {} as Threads counts it", ids[i], threads::text_length(t));
        assert_eq!(m.reply_to.as_deref(), Some(posted[i - 1].as_str()), "{} replies to the post before it", ids[i]);
        rejoined.extend(t.split_whitespace().filter(|w| *w != "…" && *w != "#EMIEP").map(str::to_string));
    }
    assert_eq!(rejoined, words, "the replies hold every word, in order");
    assert_eq!(ours.len(), 3);
    assert_eq!(th.reposts().len(), 3);
    th.assert_clean();
}

#[test]
fn sigkill_around_a_page_post_leaves_exactly_one() {
    let fb = FacebookServer::start();
    // Every Page write takes 3 s: the title goes out 3 s from now, so a kill at 4.5 s lands while
    // Facebook is making it.
    fb.add_fault(Fault::always("POST", "/", Effect::Delay(Duration::from_secs(3))));
    let start = std::time::Instant::now();
    let sessions = session("Law", 3, 8, &["One", "Two"]);
    // The Page posts the schedule itself: the title a post, the points comments under it.
    let written = config(None, Some(&fb), None, &sessions, "").replace("role = \"amplifier\"\n", "");
    let event = Event::new(&written);
    let mut first = event.daemon(&ENV);
    std::thread::sleep(Duration::from_millis(4500).saturating_sub(start.elapsed()));
    first.kill().unwrap(); // SIGKILL, while the title is being posted
    first.wait().unwrap();
    // Facebook finishes the post it was given; loudhailer never heard of it.
    wait_for("the title on the Page", Duration::from_secs(10), || fb.posts_on(PAGE).len() == 1);
    assert_ne!(format!("{:?}", event.job("law.title.page").state), "Done", "the kill landed before the answer");

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("3 jobs: 3 done"), "{log}");
    assert!(log.contains("an earlier attempt reached Facebook"), "{log}");
    let posts = fb.posts_on(PAGE);
    assert_eq!(posts.len(), 1, "exactly one: {posts:#?}");
    assert_eq!(event.job("law.title.page").remote.unwrap().id, posts[0].id);
    let comments: Vec<String> =
        fb.comments().into_iter().filter(|c| c.post == posts[0].id).map(|c| c.message).collect();
    assert_eq!(comments, [tagged("One"), tagged("Two")], "each point once, in order");
    // What the resend cost: one look at the Page's latest posts.
    let looks = fb.requests().iter().filter(|r| r.method == "GET" && r.path.ends_with("/published_posts")).count();
    assert_eq!(looks, 1);
    fb.assert_clean();
}

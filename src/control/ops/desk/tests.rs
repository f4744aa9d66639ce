use std::path::Path;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::control::ops::Book;
use crate::control::{Request, Response};
use crate::job::{JobId, JobKind, JobRecord, JobState, RemoteRef};
use crate::metrics::Counts;
use crate::plan;
use crate::report::Snapshot;
use crate::store::Store;

fn example() -> Config {
    Config::parse(Path::new("example.toml"), include_str!("../../../../config/example.toml")).unwrap()
}

fn planned(config: &Config) -> Store {
    let store = Store::temporary().unwrap();
    let p = plan::plan(config, &plan::counters(config, &Default::default()), &Default::default()).unwrap();
    store.put_jobs(&p.jobs.into_iter().map(JobRecord::new).collect::<Vec<_>>()).unwrap();
    store
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn id(s: &str) -> JobId {
    JobId(s.into())
}

fn sent(store: &Store, job: &str, url: &str) {
    let mut r = store.job(&id(job)).unwrap().unwrap();
    r.state = JobState::Done;
    r.done_at = Some(r.spec.at);
    r.remote =
        Some(RemoteRef { id: url.rsplit('/').next().unwrap().into(), url: Some(url.into()), ..Default::default() });
    store.put_job(&r).unwrap();
}

/// Marks every job due before `now` as sent, as a running daemon would have.
fn sent_before(store: &Store, now: &str) {
    for mut r in store.jobs().unwrap() {
        if r.spec.at < t(now) {
            r.state = JobState::Done;
            store.put_job(&r).unwrap();
        }
    }
}

fn ask(config: &Config, store: &Store, now: &str, request: Request) -> Response {
    match (Book { config, store, now: t(now) }).apply(&request) {
        Ok(o) => o.response,
        Err(e) => Response::error(e.to_string()),
    }
}

fn view(config: &Config, store: &Store, now: &str) -> crate::control::view::DeskView {
    *ask(config, store, now, Request::Desk { upcoming: 5 }).desk.expect("a view")
}

#[test]
fn the_view_shows_the_session_under_way_its_posts_and_what_comes_next() {
    let config = example();
    let store = planned(&config);
    sent_before(&store, "2010-03-18T13:30:00Z");
    sent(&store, "case-studies.title.delegate", "https://mastodon.example/@delegate/1107");
    let likes = Counts { likes: Some(4), reposts: Some(1), replies: Some(0), quotes: None, views: None };
    store
        .append_metric(&id("case-studies.title.delegate"), t("2010-03-18T13:45:00Z"), &Snapshot::Counts(likes))
        .unwrap();
    let v = view(&config, &store, "2010-03-18T13:50:00Z");
    assert_eq!(
        (v.event.as_str(), v.timezone.as_str()),
        ("East Midlands Improvement and Efficiency Partnership: Equality and Diversity Training Day", "Europe/London")
    );
    let now = v.current.expect("case studies is under way");
    assert_eq!((now.id.as_str(), now.shift_secs, now.pending), ("case-studies", 0, 3));
    assert_eq!(now.posts.len(), 1);
    let title = &now.posts[0];
    assert_eq!(title.key, "case-studies.title");
    assert!(title.text.starts_with("Case study presentations"), "{}", title.text);
    let copy = &title.copies[0];
    assert_eq!(copy.url.as_deref(), Some("https://mastodon.example/@delegate/1107"));
    assert_eq!(copy.counts, Some(likes));
    assert_eq!((copy.boosts_done, copy.boosts), (0, 1));
    assert!(now.next_point.unwrap().starts_with("A district council"), "the first point is next");
    assert_eq!(v.next.unwrap().id, "eia-workshop");
    // Posts only, soonest first: the session's points, then the recurring coffee break.
    let upcoming: Vec<&str> = v.upcoming.iter().map(|l| l.job.as_str()).collect();
    assert_eq!(
        upcoming,
        [
            "case-studies.p1.delegate",
            "case-studies.p2.delegate",
            "case-studies.p3.delegate",
            "coffee-break.20100318-1500.delegate",
            "eia-workshop.title.delegate"
        ]
    );
    assert_eq!(v.sessions.len(), 5, "the day's sessions to choose a thread from");
    assert_eq!(
        v.accounts.iter().map(|a| (a.id.as_str(), a.role.as_str())).collect::<Vec<_>>(),
        [("delegate", "primary"), ("council", "amplifier")]
    );
    assert_eq!(v.snippets.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(), ["coffee break!", "Lunch"]);
    assert!(v.failed.is_empty());
}

#[test]
fn the_view_follows_shifts_skips_pauses_holds_and_failures() {
    let config = example();
    let store = planned(&config);
    let mut book = Book { config: &config, store: &store, now: t("2010-03-18T13:35:00Z") };
    book.apply(&Request::Shift { session: Some("case-studies".into()), by_secs: 900 }).unwrap();
    book.apply(&Request::Skip { session: "eia-workshop".into() }).unwrap();
    book.apply(&Request::Pause { account: Some("council".into()) }).unwrap();
    let mut r = store.job(&id("ehrc-priorities.p2.delegate")).unwrap().unwrap();
    r.state = JobState::Failed;
    r.error = Some("422 Validation failed: Text too long".into());
    store.put_job(&r).unwrap();
    let until = t("2010-03-18T14:00:00Z");
    store
        .update_account("delegate", |a| {
            a.hold_until = Some(until);
            a.hold_reason = Some("429 Too Many Requests".into());
        })
        .unwrap();
    let v = view(&config, &store, "2010-03-18T13:35:00Z");
    assert!(v.current.is_none(), "case studies was moved to 13:45 before it began: nothing is under way");
    let next = v.next.unwrap();
    assert_eq!((next.id.as_str(), next.start, next.shift_secs), ("case-studies", t("2010-03-18T13:45:00Z"), 900));
    assert!(v.sessions.iter().all(|s| s.id != "eia-workshop"), "a skipped session is no thread to post in");
    let council = v.accounts.iter().find(|a| a.id == "council").unwrap();
    assert_eq!(council.paused.as_deref(), Some("paused by hand"));
    let delegate = v.accounts.iter().find(|a| a.id == "delegate").unwrap();
    assert_eq!(
        (delegate.held_until, delegate.held_why.as_deref(), delegate.failing),
        (Some(until), Some("429 Too Many Requests"), 1)
    );
    assert_eq!(v.failed.len(), 1);
    assert_eq!(v.failed[0].why.as_deref(), Some("422 Validation failed: Text too long"));
    // An hour later the hold is over.
    let later = view(&config, &store, "2010-03-18T14:05:00Z");
    assert!(later.accounts.iter().all(|a| a.held_until.is_none()));
}

#[test]
fn a_session_moved_after_its_title_went_out_stays_under_way() {
    let config = example();
    let store = planned(&config);
    sent_before(&store, "2010-03-18T13:31:00Z");
    let mut book = Book { config: &config, store: &store, now: t("2010-03-18T13:35:00Z") };
    book.apply(&Request::Shift { session: Some("case-studies".into()), by_secs: 900 }).unwrap();
    let v = view(&config, &store, "2010-03-18T13:35:00Z");
    let now = v.current.expect("still under way");
    assert_eq!((now.id.as_str(), now.start, now.shift_secs), ("case-studies", t("2010-03-18T13:45:00Z"), 900));
    assert_eq!(now.posts.len(), 1, "its title");
    assert_eq!(v.next.unwrap().id, "eia-workshop");
}

#[test]
fn the_view_never_reads_the_jobs_of_sessions_far_from_now() {
    let config = example();
    let store = planned(&config);
    // A record that cannot be decoded, in a session of another day: reading every job would
    // stop on it; the view does not read it at all.
    store.put_raw_job("zz-another-day.title.delegate", b"not a record");
    assert!(store.jobs().is_err(), "a full read stops on the damaged record");
    let v = view(&config, &store, "2010-03-18T13:50:00Z");
    assert_eq!(v.current.unwrap().id, "case-studies");
}

#[test]
fn a_keyed_say_posts_once_however_often_it_is_asked() {
    let config = example();
    let store = planned(&config);
    sent(&store, "case-studies.title.delegate", "https://mastodon.example/@delegate/1107");
    let say = || Request::Say {
        text: "A point from the floor".into(),
        thread: Some("case-studies".into()),
        key: Some("k3f9a2c1b".into()),
        images: Vec::new(),
    };
    let first = ask(&config, &store, "2010-03-18T13:40:00Z", say());
    assert!(first.ok, "{first:?}");
    assert_eq!(
        first.message.as_deref(),
        Some("saying it now in the thread of \u{201c}Case study presentations of good practice from the region\u{201d}: 1 post from delegate, amplified by council")
    );
    let post = store.job(&id("say-k3f9a2c1b.post.delegate")).unwrap().unwrap();
    assert_eq!((post.spec.kind, post.spec.parent), (JobKind::Reply, Some(id("case-studies.title.delegate"))));
    let before = store.jobs().unwrap().len();
    let again = ask(&config, &store, "2010-03-18T13:41:00Z", say());
    assert!(again.ok);
    assert_eq!(
        again.message.as_deref(),
        Some("already said (1 post from delegate, amplified by council), nothing more posted")
    );
    assert_eq!(store.jobs().unwrap().len(), before);
    // The post shows in its session's thread on the desk.
    sent(&store, "say-k3f9a2c1b.post.delegate", "https://mastodon.example/@delegate/1120");
    let v = view(&config, &store, "2010-03-18T13:42:00Z");
    let keys: Vec<String> = v.current.unwrap().posts.into_iter().map(|p| p.key).collect();
    assert_eq!(keys, ["case-studies.title", "say-k3f9a2c1b.post"]);
    for bad in ["short", "UPPERCASE1", "has space 123", &"x".repeat(33)] {
        let r = ask(
            &config,
            &store,
            "2010-03-18T13:42:00Z",
            Request::Say { text: "x".into(), thread: None, key: Some(bad.into()), images: Vec::new() },
        );
        assert!(!r.ok && r.error.unwrap().contains("8 to 32 lower-case letters"), "{bad}");
    }
}

#[test]
fn the_preview_is_what_say_posts_measured_as_the_network_counts() {
    let config = example();
    let store = planned(&config);
    let preview = |text: &str| {
        ask(&config, &store, "2010-03-18T13:40:00Z", Request::Preview { text: text.into() }).preview.unwrap()
    };
    let p = preview("coffee break!");
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].account.as_str(), p[0].max), ("delegate", 500));
    assert_eq!(p[0].pieces.len(), 1);
    assert_eq!((p[0].pieces[0].text.as_str(), p[0].pieces[0].count), ("coffee break! #EMIEP", 20));
    let empty = preview("   ");
    assert!(empty[0].pieces.is_empty() && empty[0].max == 500);
    // Too long for one post: split where `say` splits it, each piece within the limit.
    let long = "Equality impact assessments work when people affected are asked early. ".repeat(9);
    let p = preview(&long);
    assert_eq!(p[0].pieces.len(), 2);
    assert!(p[0].pieces.iter().all(|x| x.count <= 500 && x.count == crate::count::mastodon_len(&x.text, 23)));
    let out = ask(
        &config,
        &store,
        "2010-03-18T13:40:00Z",
        Request::Say { text: long.clone(), thread: None, key: Some("longpoint1".into()), images: Vec::new() },
    );
    assert!(out.ok);
    let said: Vec<String> = store
        .jobs_with_prefix("say-longpoint1.")
        .unwrap()
        .into_iter()
        .filter(|j| j.spec.kind != JobKind::Boost)
        .map(|j| j.spec.text.unwrap())
        .collect();
    let mut previewed: Vec<String> = p[0].pieces.iter().map(|x| x.text.clone()).collect();
    previewed.sort();
    let mut said = said;
    said.sort();
    assert_eq!(said, previewed);
    let r = ask(&config, &store, "2010-03-18T13:40:00Z", Request::Preview { text: "x".repeat(20_001) });
    assert!(!r.ok);
}

#[test]
fn a_snippet_is_said_by_its_label_in_the_thread_only_when_it_asks_to_be() {
    let config = example();
    let store = planned(&config);
    sent(&store, "case-studies.title.delegate", "https://mastodon.example/@delegate/1107");
    let r = ask(
        &config,
        &store,
        "2010-03-18T13:40:00Z",
        Request::Snippet {
            label: "coffee break!".into(),
            thread: Some("case-studies".into()),
            key: Some("coffee0001".into()),
        },
    );
    assert!(r.ok, "{r:?}");
    let post = store.job(&id("say-coffee0001.post.delegate")).unwrap().unwrap();
    assert_eq!(
        (post.spec.kind, post.spec.session.as_deref()),
        (JobKind::Say, None),
        "a snippet posts on its own unless it asks for the thread"
    );
    assert_eq!(post.spec.text.as_deref(), Some("coffee break! #EMIEP"));
    assert!(store.job(&id("say-coffee0001.post.delegate+council")).unwrap().is_some(), "amplified");
    let r =
        ask(&config, &store, "2010-03-18T13:40:00Z", Request::Snippet { label: "tea".into(), thread: None, key: None });
    assert!(r.error.unwrap().contains("no snippet \"tea\"; snippets: coffee break!, Lunch"));
}

#[test]
fn send_next_sends_the_sessions_next_point_and_its_boost() {
    let config = example();
    let store = planned(&config);
    sent(&store, "case-studies.title.delegate", "https://mastodon.example/@delegate/1107");
    let now = t("2010-03-18T13:35:00Z");
    let mut book = Book { config: &config, store: &store, now };
    let out = book.apply(&Request::SendNext { session: "case-studies".into() }).unwrap();
    assert_eq!(out.changed, [id("case-studies.p1.delegate")]);
    assert!(out.response.message.unwrap().starts_with("case-studies: p1: sending 1 jobs now"));
    assert_eq!(store.job(&id("case-studies.p1.delegate")).unwrap().unwrap().ready_at(), now);
    sent(&store, "case-studies.p1.delegate", "https://mastodon.example/@delegate/1108");
    let out = book.apply(&Request::SendNext { session: "case-studies".into() }).unwrap();
    assert_eq!(out.changed, [id("case-studies.p2.delegate")]);
    for j in ["case-studies.p2.delegate", "case-studies.p3.delegate"] {
        sent(&store, j, "https://mastodon.example/@delegate/1");
    }
    assert!(book
        .apply(&Request::SendNext { session: "case-studies".into() })
        .unwrap_err()
        .to_string()
        .contains("nothing left to send"));
}

#[test]
fn a_sign_in_link_works_once_before_it_expires_and_revoke_ends_every_session() {
    let config = example();
    let store = Store::temporary().unwrap();
    let digest = |c: char| c.to_string().repeat(64);
    let at = |s: &str| t(&format!("2010-03-18T{s}Z"));
    let req = |now: &str, r: Request| ask(&config, &store, &format!("2010-03-18T{now}Z"), r);
    assert!(req("10:00:00", Request::DeskLink { hash: digest('a'), expires: at("10:05:00") }).ok);
    assert!(
        !req("10:00:00", Request::DeskLink { hash: digest('b'), expires: at("10:30:00") }).ok,
        "at most 15 minutes"
    );
    assert!(!req("10:00:00", Request::DeskLink { hash: "secret".into(), expires: at("10:05:00") }).ok, "digests only");
    let sign_in = |now: &str, link: char, session: char| {
        req(now, Request::DeskSignIn { link: digest(link), session: digest(session), expires: at("22:00:00") })
    };
    assert!(!sign_in("10:01:00", 'b', '1').ok, "a wrong link");
    assert!(sign_in("10:01:00", 'a', '1').ok);
    assert!(!sign_in("10:01:30", 'a', '2').ok, "the same link again");
    assert!(req("10:02:00", Request::DeskCheck { session: digest('1') }).ok);
    assert!(!req("10:02:00", Request::DeskCheck { session: digest('2') }).ok);
    assert!(req("10:02:00", Request::DeskLink { hash: digest('c'), expires: at("10:05:00") }).ok);
    assert!(!sign_in("10:05:01", 'c', '3').ok, "an expired link");
    assert!(req("10:06:00", Request::DeskLink { hash: digest('d'), expires: at("10:10:00") }).ok);
    assert!(sign_in("10:07:00", 'd', '4').ok);
    assert!(req("10:08:00", Request::DeskSignOut { session: digest('4') }).ok);
    assert!(!req("10:08:00", Request::DeskCheck { session: digest('4') }).ok, "signed out");
    assert!(req("10:08:00", Request::DeskLink { hash: digest('e'), expires: at("10:10:00") }).ok);
    let revoked = req("10:09:00", Request::DeskRevoke);
    assert_eq!(
        revoked.message.as_deref(),
        Some("ended 1 desk sessions and 1 unused sign-in links: every browser must sign in again")
    );
    assert!(!req("10:09:00", Request::DeskCheck { session: digest('1') }).ok, "revoked");
    assert!(!sign_in("10:09:10", 'e', '5').ok, "revoke ends unused links too");
    // Sessions end on their own too, and the store holds digests only.
    assert!(req("10:10:00", Request::DeskLink { hash: digest('f'), expires: at("10:12:00") }).ok);
    assert!(sign_in("10:11:00", 'f', '6').ok);
    assert!(!req("22:00:01", Request::DeskCheck { session: digest('6') }).ok, "expired");
}

#[test]
fn the_preview_counts_each_network_as_it_counts() {
    let text = include_str!("../../../../config/example.toml").to_string()
        + "\n[[account]]\nid = \"delegate-bsky\"\nplatform = \"bluesky\"\nserver = \"https://bsky.example\"\nidentifier = \"d.bsky.example\"\npassword_env = \"LH_UNUSED\"\n\n[[account]]\nid = \"council-bsky\"\nplatform = \"bluesky\"\nserver = \"https://bsky.example\"\nidentifier = \"c.bsky.example\"\npassword_env = \"LH_UNUSED\"\nrole = \"amplifier\"\n\n[[account]]\nid = \"delegate-x\"\nplatform = \"x\"\nclient_id = \"abc\"\n";
    let config = Config::parse(Path::new("example.toml"), &text).unwrap();
    let store = planned(&config);
    let point = "Café ☕ 東京 https://example.org/a-very-long-path-that-counts-as-twenty-three";
    let p = ask(&config, &store, "2010-03-18T13:40:00Z", Request::Preview { text: point.into() }).preview.unwrap();
    let by: std::collections::HashMap<&str, &crate::control::view::Preview> =
        p.iter().map(|l| (l.account.as_str(), l)).collect();
    let posted = format!("{point} #EMIEP");
    let x = crate::count::Counter::default_for(crate::network::Network::X);
    let bsky = crate::count::Counter::default_for(crate::network::Network::Bluesky);
    assert_eq!((by["delegate"].max, by["delegate-bsky"].max, by["delegate-x"].max), (500, 300, 280));
    assert_eq!(by["delegate"].pieces[0].count, crate::count::mastodon_len(&posted, 23));
    assert_eq!(by["delegate-bsky"].pieces[0].count, bsky.len(&posted));
    assert_eq!(by["delegate-x"].pieces[0].count, x.len(&posted));
    // Three different counts of one text: the URL is 23 on Mastodon and X, whole on Bluesky;
    // 東京 and ☕ weigh 2 each on X.
    assert!(by["delegate-bsky"].pieces[0].count > by["delegate"].pieces[0].count);
    assert_eq!(by["delegate-x"].pieces[0].count, by["delegate"].pieces[0].count + 3);
}

//! Amplifying what people post by hand, against the real servers: a post typed straight into
//! Mastodon (mastodon_mock) or the Bluesky PDS with the event's hashtag is boosted by the
//! amplifier once, within the delay and one polling interval; one without it is not; a restart
//! (even one that lost the watch's position) boosts nothing again. A repost scheduled for a post
//! by its link happens at its time, once, on each network.

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::lh::{bluesky_config, in_secs, mastodon_config, session, text, wait_for, Api, Event, MASTODON_ENV};
use common::peers::{Atproto, Mastodon, TestAccount};
use loudhailer::job::{JobKind, JobState, Origin};
use serde_json::{json, Value};

/// Boosts this long after a post is seen.
const DELAY: Duration = Duration::from_secs(2);
/// Polls at most this often.
const POLL: Duration = Duration::from_secs(3);
/// Room for starting requests and the server's own work.
const SLACK: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_secs(40);

fn amplify() -> String {
    format!("delay = \"{}s\"\njitter = \"0s\"\nrate = \"600/m\"", DELAY.as_secs())
}

fn follow_block() -> String {
    format!("\n[[follow]]\npoll = \"{}s\"\n", POLL.as_secs())
}

/// The statuses of `token`'s account that boost status `id`.
fn boosts_of(api: &Api, token: &str, id: &str) -> Vec<Value> {
    api.statuses(token).into_iter().filter(|s| s["reblog"]["id"].as_str() == Some(id)).collect()
}

/// The amplifier's repost records of `uri`.
fn reposts_of(net: &Atproto, amp: &TestAccount, uri: &str) -> Vec<Value> {
    net.list_records(&amp.did, "app.bsky.feed.repost")
        .into_iter()
        .filter(|r| r["value"]["subject"]["uri"].as_str() == Some(uri))
        .collect()
}

fn created_at(v: &Value) -> DateTime<Utc> {
    v.as_str().and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("not a time: {v}"))
}

/// Forgets where the watch of `key` had read up to, as a state dir restored from an old copy
/// would: the next start reads the newest posts again.
fn lose_position(event: &Event, key: &str) {
    let store = loudhailer::store::Store::open(&event.state_dir()).unwrap();
    let mut state = store.watch_state(key).unwrap().expect("the watch stored its position");
    assert!(state.cursor.is_some());
    state.cursor = None;
    store.put_watch_state(key, &state).unwrap();
}

fn followed_jobs(event: &Event) -> Vec<loudhailer::job::JobRecord> {
    event.jobs().into_iter().filter(|j| j.spec.kind == JobKind::External && j.spec.origin == Origin::Followed).collect()
}

#[test]
fn mastodon_a_post_typed_with_the_hashtag_is_boosted_once_and_not_again_after_a_restart() {
    let mastodon = Mastodon::start();
    let api = Api { base: &mastodon.base };
    let config = mastodon_config(&mastodon.base, &amplify(), &session("s1", -30, 600, &[])) + &follow_block();
    let event = Event::new(&config);
    let plan = event.run(&["plan"], &MASTODON_ENV);
    assert!(text(&plan).contains("following delegate on mastodon: posts with #emiep"), "{}", text(&plan));

    let mut daemon = event.spawn(&["run"], &MASTODON_ENV);
    // The planned title goes out (it is due already) and is boosted once, by the plan only.
    let title = wait_for_text(&api, Mastodon::ADA, "Session s1 #EMIEP");
    wait_for("the planned boost", WAIT, || !boosts_of(&api, Mastodon::GRACE, &title).is_empty());
    std::thread::sleep(Duration::from_secs(1));

    let started = Instant::now();
    let tagged = api.post(Mastodon::ADA, "/api/v1/statuses", json!({"status": "Typed in the room #EMIEP"}));
    let untagged = api.post(Mastodon::ADA, "/api/v1/statuses", json!({"status": "Typed in the room, no tag"}));
    let tagged_id = tagged["id"].as_str().unwrap().to_string();
    wait_for("the boost of the typed post", WAIT, || !boosts_of(&api, Mastodon::GRACE, &tagged_id).is_empty());
    let took = started.elapsed();
    println!("mastodon: boosted {:.1} s after it was posted (delay {DELAY:?}, poll {POLL:?})", took.as_secs_f64());
    assert!(took <= DELAY + POLL + SLACK, "boosted after {took:?}");
    std::thread::sleep(POLL * 2);
    daemon.kill().unwrap();
    let log = text(&daemon.wait_with_output().unwrap());
    assert!(log.contains("listening to the account's live stream"), "mastodon_mock's stream was not used: {log}");

    let untagged_id = untagged["id"].as_str().unwrap();
    assert!(boosts_of(&api, Mastodon::GRACE, untagged_id).is_empty(), "a post without the hashtag was boosted");
    assert_eq!(boosts_of(&api, Mastodon::GRACE, &tagged_id).len(), 1);
    assert_eq!(boosts_of(&api, Mastodon::GRACE, &title).len(), 1, "the planned post was boosted as found too");
    assert_eq!(followed_jobs(&event).len(), 1);

    // A restart that lost the watch's position reads the posts again: nothing is boosted again.
    lose_position(&event, "delegate");
    let mut daemon = event.spawn(&["run"], &MASTODON_ENV);
    std::thread::sleep(POLL * 3);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(boosts_of(&api, Mastodon::GRACE, &tagged_id).len(), 1, "boosted again after the restart");
    assert_eq!(followed_jobs(&event).len(), 1);
    assert!(read_again(&event, "delegate"), "the restart did not read the posts again");

    // `status` lists the found post and its boost beside the planned ones.
    let status = event.status();
    let found = status.iter().find(|j| j["origin"] == "followed" && j["kind"] == "external").expect("in status");
    assert_eq!(found["text"], "Typed in the room #EMIEP");
    assert!(status.iter().any(|j| j["origin"] == "followed" && j["kind"] == "boost" && j["state"] == "done"));
}

/// Waits for the account's own post with `text` and answers its id.
fn wait_for_text(api: &Api, token: &str, text: &str) -> String {
    let mut id = None;
    wait_for(text, WAIT, || {
        id = api
            .statuses(token)
            .into_iter()
            .find(|s| s["reblog"].is_null() && common::lh::plain(s["content"].as_str().unwrap_or("")) == text)
            .and_then(|s| s["id"].as_str().map(str::to_string));
        id.is_some()
    });
    id.unwrap()
}

/// Whether the watch of `key` stored a position again (after [`lose_position`]).
fn read_again(event: &Event, key: &str) -> bool {
    let store = loudhailer::store::Store::open(&event.state_dir()).unwrap();
    store.watch_state(key).unwrap().is_some_and(|s| s.cursor.is_some())
}

fn post_on_pds(net: &Atproto, who: &TestAccount, text: &str) -> Value {
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    net.create_record(who, "app.bsky.feed.post", json!({"$type": "app.bsky.feed.post", "text": text, "createdAt": now}))
}

#[test]
fn bluesky_a_post_made_on_the_pds_with_the_hashtag_is_boosted_once_and_not_again_after_a_restart() {
    let net = Atproto::get();
    let (delegate, amp) = (net.create_account("fdel"), net.create_account("famp"));
    let env = [("LH_DELEGATE", delegate.password.as_str()), ("LH_AMP", amp.password.as_str())];
    let sessions =
        format!("[[session]]\ntitle = \"Follow day\"\nstart = \"{}\"\nend = \"{}\"\n", in_secs(-30), in_secs(600));
    let config = bluesky_config(&net, &delegate, Some(&amp), &sessions) + &follow_block();
    let event = Event::new(&config);
    let mut daemon = event.spawn(&["run"], &env);
    wait_for("the planned title to be reposted", WAIT, || {
        !net.list_records(&amp.did, "app.bsky.feed.repost").is_empty()
    });
    std::thread::sleep(Duration::from_secs(1));

    let started = Instant::now();
    let tagged = post_on_pds(&net, &delegate, "Made on the PDS #EMIEP");
    let untagged = post_on_pds(&net, &delegate, "Made on the PDS, no tag");
    let uri = tagged["uri"].as_str().unwrap().to_string();
    wait_for("the repost of the post made on the PDS", WAIT, || !reposts_of(&net, &amp, &uri).is_empty());
    let took = started.elapsed();
    println!("bluesky: reposted {:.1} s after it was posted (delay {DELAY:?}, poll {POLL:?})", took.as_secs_f64());
    assert!(took <= DELAY + POLL + SLACK, "reposted after {took:?}");
    // Every poll reads a few minutes back: the post is read again and again, boosted once.
    std::thread::sleep(POLL * 2);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert!(reposts_of(&net, &amp, untagged["uri"].as_str().unwrap()).is_empty());
    assert_eq!(reposts_of(&net, &amp, &uri).len(), 1);
    assert_eq!(net.list_records(&amp.did, "app.bsky.feed.repost").len(), 2, "the title and the typed post only");

    lose_position(&event, "delegate");
    let mut daemon = event.spawn(&["run"], &env);
    std::thread::sleep(POLL * 3);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(reposts_of(&net, &amp, &uri).len(), 1, "reposted again after the restart");
    assert!(read_again(&event, "delegate"));
    assert_eq!(followed_jobs(&event).len(), 1);
}

#[test]
fn mastodon_scheduled_reposts_happen_at_their_time_once_and_an_evergreen_one_is_redone() {
    let mastodon = Mastodon::start();
    let api = Api { base: &mastodon.base };
    // Someone outside the config posts the keynote's summary.
    let keynote = api.post(Mastodon::ALAN, "/api/v1/statuses", json!({"status": "Keynote summary"}));
    let keynote_id = keynote["id"].as_str().unwrap().to_string();
    let at = in_secs(8);
    let reposts = format!("\n[[repost]]\nurl = \"{}\"\nat = \"{at}\"\n", keynote["url"].as_str().unwrap());
    let config = mastodon_config(&mastodon.base, &amplify(), &session("s1", -30, 600, &[])) + &reposts;
    let event = Event::new(&config);
    let mut daemon = event.spawn(&["run"], &MASTODON_ENV);

    // Live: boost the planned title again a few seconds from now (it was boosted at the start).
    let title = wait_for_text(&api, Mastodon::ADA, "Session s1 #EMIEP");
    wait_for("the planned boost", WAIT, || !boosts_of(&api, Mastodon::GRACE, &title).is_empty());
    let first_boost = created_at(&boosts_of(&api, Mastodon::GRACE, &title)[0]["created_at"]);
    let title_url = api.get(Mastodon::ADA, &format!("/api/v1/statuses/{title}"))["url"].as_str().unwrap().to_string();
    let again_at = in_secs(3);
    let out = event.run(&["repost", &title_url, "--at", &again_at], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("reposting"), "{}", text(&out));

    wait_for("the scheduled repost", WAIT, || !boosts_of(&api, Mastodon::GRACE, &keynote_id).is_empty());
    let due: DateTime<Utc> = at.parse().unwrap();
    let boosted = created_at(&boosts_of(&api, Mastodon::GRACE, &keynote_id)[0]["created_at"]);
    let late = (boosted - due).num_milliseconds() as f64 / 1000.0;
    println!("mastodon: the scheduled repost went out {late:.1} s after its time");
    assert!(
        boosted >= due - chrono::Duration::seconds(1) && late <= SLACK.as_secs_f64(),
        "boosted at {boosted}, due {due}"
    );
    wait_for("the evergreen repeat", WAIT, || {
        boosts_of(&api, Mastodon::GRACE, &title).iter().any(|b| created_at(&b["created_at"]) > first_boost)
    });
    std::thread::sleep(Duration::from_secs(3));
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    // Restarted, nothing more goes out.
    let mut daemon = event.spawn(&["run"], &MASTODON_ENV);
    std::thread::sleep(Duration::from_secs(5));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(boosts_of(&api, Mastodon::GRACE, &keynote_id).len(), 1);
    assert_eq!(boosts_of(&api, Mastodon::GRACE, &title).len(), 1, "the repeat undid the first boost");
    let jobs = event.jobs();
    let done = |kind: JobKind| jobs.iter().filter(|j| j.spec.kind == kind && j.state == JobState::Done).count();
    assert_eq!((done(JobKind::External), done(JobKind::Unboost)), (2, 2));
    assert!(jobs.iter().all(|j| j.attempts <= 1), "a job was sent twice: {jobs:#?}");
}

#[test]
fn bluesky_a_scheduled_repost_of_a_bsky_app_link_happens_at_its_time_once() {
    let net = Atproto::get();
    let (delegate, amp, speaker) = (net.create_account("rdel"), net.create_account("ramp"), net.create_account("rspk"));
    let env = [("LH_DELEGATE", delegate.password.as_str()), ("LH_AMP", amp.password.as_str())];
    let post = post_on_pds(&net, &speaker, "The keynote, summed up");
    let uri = post["uri"].as_str().unwrap().to_string();
    let rkey = uri.rsplit('/').next().unwrap();
    let link = format!("https://bsky.app/profile/{}/post/{rkey}", speaker.handle);
    let at = in_secs(8);
    let sessions = format!(
        "[[session]]\ntitle = \"Repost day\"\nstart = \"{}\"\nend = \"{}\"\n\n[[repost]]\nurl = \"{link}\"\nat = \"{at}\"\n",
        in_secs(-30),
        in_secs(600)
    );
    let event = Event::new(&bluesky_config(&net, &delegate, Some(&amp), &sessions));
    let mut daemon = event.spawn(&["run"], &env);
    wait_for("the scheduled repost", WAIT, || !reposts_of(&net, &amp, &uri).is_empty());
    let due: DateTime<Utc> = at.parse().unwrap();
    let made = created_at(&reposts_of(&net, &amp, &uri)[0]["value"]["createdAt"]);
    let late = (made - due).num_milliseconds() as f64 / 1000.0;
    println!("bluesky: the scheduled repost went out {late:.1} s after its time");
    assert!(made >= due - chrono::Duration::seconds(1) && late <= SLACK.as_secs_f64(), "reposted at {made}, due {due}");
    std::thread::sleep(Duration::from_secs(3));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    let mut daemon = event.spawn(&["run"], &env);
    std::thread::sleep(Duration::from_secs(5));
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(reposts_of(&net, &amp, &uri).len(), 1);
    let jobs = event.jobs();
    let looked_up = jobs.iter().find(|j| j.spec.kind == JobKind::External).expect("the repost's look-up");
    assert_eq!(looked_up.remote.as_ref().and_then(|r| r.uri.as_deref()), Some(uri.as_str()));
}

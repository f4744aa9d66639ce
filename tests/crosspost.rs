//! Copying what the delegate types by hand in a network's own app (`[[follow]] crosspost =
//! true`), against mastodon_mock and the Bluesky reference network, one delegate and one
//! amplifier on each: a post typed into Mastodon with the event's hashtag appears on the PDS
//! once, a reply to the session's title post there, and is reposted by the Bluesky amplifier
//! (the original is boosted on Mastodon as before); the Bluesky watch reads the copy and does not
//! copy it back; a restart that lost both watches' positions copies nothing twice.

mod common;

use std::time::{Duration, Instant};

use common::desk;
use common::lh::{both_networks_config, plain, session, wait_for, Api, Event};
use common::peers::{Atproto, Mastodon, TestAccount};
use serde_json::{json, Value};

/// Polls at most this often.
const POLL: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_secs(40);

/// The delegate's Bluesky posts with this text.
fn on_bluesky(net: &Atproto, who: &TestAccount, text: &str) -> Vec<Value> {
    net.list_records(&who.did, "app.bsky.feed.post").into_iter().filter(|p| p["value"]["text"] == text).collect()
}

/// The delegate's own Mastodon statuses with this text (not boosts).
fn on_mastodon(api: &Api, text: &str) -> Vec<Value> {
    api.statuses(Mastodon::ADA)
        .into_iter()
        .filter(|s| s["reblog"].is_null() && plain(s["content"].as_str().unwrap_or("")) == text)
        .collect()
}

fn reposts_of(net: &Atproto, amp: &TestAccount, uri: &str) -> usize {
    net.list_records(&amp.did, "app.bsky.feed.repost")
        .iter()
        .filter(|r| r["value"]["subject"]["uri"].as_str() == Some(uri))
        .count()
}

fn boosts_of(api: &Api, id: &str) -> usize {
    api.statuses(Mastodon::GRACE).iter().filter(|s| s["reblog"]["id"].as_str() == Some(id)).count()
}

/// Forgets where a watch had read up to, as a state dir restored from an old copy would.
fn lose_position(event: &Event, key: &str) {
    let store = loudhailer::store::Store::open(&event.state_dir()).unwrap();
    let mut state = store.watch_state(key).unwrap().unwrap_or_else(|| panic!("the watch of {key} stored no position"));
    state.cursor = None;
    store.put_watch_state(key, &state).unwrap();
}

#[test]
fn a_post_typed_on_mastodon_is_copied_into_the_bluesky_thread_once_and_not_back() {
    let mastodon = Mastodon::start();
    let api = Api { base: &mastodon.base };
    let net = Atproto::get();
    let (sky, sky_amp) = (net.create_account("xpost"), net.create_account("xpostamp"));
    let extra = format!(
        "[desk]\nenabled = false\n\n{}[[follow]]\npoll = \"{}s\"\ncrosspost = true\n",
        session("talk", -30, 1200, &["A point planned for later"]),
        POLL.as_secs()
    );
    let config = both_networks_config(&mastodon.base, &net.pds, &sky.handle, &sky_amp.handle, &extra);
    let event = Event::new(&config);
    let plan = common::lh::text(&event.run(&["plan"], &[]));
    assert!(
        plan.contains("following masto on mastodon") && plan.contains("copied to sky in the session's thread"),
        "{plan}"
    );
    let env = [
        ("LH_MASTO", Mastodon::ADA),
        ("LH_MASTO_COUNCIL", Mastodon::GRACE),
        ("LH_SKY", sky.password.as_str()),
        ("LH_SKY_COUNCIL", sky_amp.password.as_str()),
    ];
    let mut daemon = event.spawn(&["run"], &env);
    for job in ["talk.title.masto", "talk.title.sky", "talk.title.masto+masto-council", "talk.title.sky+sky-council"] {
        desk::wait_done(&event, job, WAIT);
    }

    // Typed by hand into Mastodon, as the delegate would in its app.
    let text = "Typed in the room: the council will publish its equality data #EMIEP";
    let started = Instant::now();
    let typed = api.post(Mastodon::ADA, "/api/v1/statuses", json!({ "status": text }));
    let typed_id = typed["id"].as_str().unwrap().to_string();
    wait_for("the copy on Bluesky", WAIT, || !on_bluesky(&net, &sky, text).is_empty());
    let copied_after = started.elapsed();
    let copy = on_bluesky(&net, &sky, text).remove(0);
    let uri = copy["uri"].as_str().unwrap().to_string();
    wait_for("the copy's repost", WAIT, || reposts_of(&net, &sky_amp, &uri) == 1);
    let reposted_after = started.elapsed();
    wait_for("the original's boost", WAIT, || boosts_of(&api, &typed_id) == 1);
    println!(
        "crosspost: on Bluesky {:.1} s after it was typed on Mastodon, reposted there {:.1} s after (poll {POLL:?}, delay 1 s)",
        copied_after.as_secs_f64(),
        reposted_after.as_secs_f64()
    );

    // Threaded under the session's title post there.
    let title = net
        .list_records(&sky.did, "app.bsky.feed.post")
        .into_iter()
        .find(|p| p["value"]["text"] == "Session talk #EMIEP")
        .expect("the title on Bluesky");
    assert_eq!(copy["value"]["reply"]["parent"]["uri"], title["uri"], "a reply to the title post");
    assert_eq!(copy["value"]["reply"]["root"]["uri"], title["uri"]);

    // The Bluesky watch reads the copy (several polls): it is loudhailer's own, not copied back
    // and not boosted a second time.
    std::thread::sleep(POLL * 3);
    daemon.kill().unwrap();
    let log = common::lh::text(&daemon.wait_with_output().unwrap());
    assert_eq!(on_mastodon(&api, text).len(), 1, "copied back to Mastodon: {log}");
    assert_eq!(on_bluesky(&net, &sky, text).len(), 1);
    assert_eq!(reposts_of(&net, &sky_amp, &uri), 1);
    assert_eq!(boosts_of(&api, &typed_id), 1);
    let copies: Vec<_> = event.jobs().into_iter().filter(|j| j.spec.id.as_str().starts_with("cross-")).collect();
    let ids: Vec<&str> = copies.iter().map(|j| j.spec.id.as_str()).collect();
    assert_eq!(copies.len(), 2, "the copy and its boost, on Bluesky only: {ids:?}");
    assert!(copies.iter().all(|j| j.spec.origin == loudhailer::job::Origin::Crosspost), "{ids:?}");

    // A restart that lost both watches' positions reads everything again: nothing twice.
    lose_position(&event, "masto");
    lose_position(&event, "sky");
    let mut daemon = event.spawn(&["run"], &env);
    std::thread::sleep(POLL * 3);
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(on_bluesky(&net, &sky, text).len(), 1, "copied again after the restart");
    assert_eq!(on_mastodon(&api, text).len(), 1, "copied back after the restart");
    assert_eq!(reposts_of(&net, &sky_amp, &uri), 1);
    assert_eq!(boosts_of(&api, &typed_id), 1);
    let after = event.jobs().into_iter().filter(|j| j.spec.id.as_str().starts_with("cross-")).count();
    assert_eq!(after, 2);
}

//! One event on Mastodon (mastodon_mock) and Bluesky (the reference PDS) at once: each post
//! goes out once on each network, and each amplifier boosts only on its own network.

mod common;

use std::collections::HashMap;

use common::lh::{both_networks_config, in_secs, plain, text, Api, Event};
use common::peers::{Atproto, Mastodon};
use loudhailer::job::JobKind;
use loudhailer::network::Network;

#[test]
fn a_delegate_on_both_networks_is_posted_and_boosted_on_each() {
    let mastodon = Mastodon::start();
    let api = Api { base: &mastodon.base };
    let net = Atproto::get();
    let (delegate, amp) = (net.create_account("both"), net.create_account("bothamp"));
    let sessions = format!(
        "[[session]]\ntitle = \"Both\"\nstart = \"{}\"\nend = \"{}\"\npoints = [\"Said once\", \"Said twice\"]\n",
        in_secs(2),
        in_secs(5)
    );
    let config = both_networks_config(&mastodon.base, &net.pds, &delegate.handle, &amp.handle, &sessions);
    let event = Event::new(&config);
    let boosted_before = grace_boosts(&api);
    let env = [
        ("LH_MASTO", Mastodon::ADA),
        ("LH_MASTO_COUNCIL", Mastodon::GRACE),
        ("LH_SKY", delegate.password.as_str()),
        ("LH_SKY_COUNCIL", amp.password.as_str()),
    ];
    let out = event.run(&["run", "--exit-when-done"], &env);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    // 3 posts on each network, 3 boosts on each: nothing crosses over.
    assert!(log.contains("12 jobs: 12 done"), "{log}");
    let jobs = event.jobs();
    let network = |account: &str| if account.starts_with("sky") { Network::Bluesky } else { Network::Mastodon };
    for job in jobs.iter().filter(|j| j.spec.kind == JobKind::Boost) {
        let parent = job.spec.parent.as_ref().unwrap();
        let poster = jobs.iter().find(|p| &p.spec.id == parent).unwrap();
        assert_eq!(network(&job.spec.account), network(&poster.spec.account), "{} boosts across networks", job.spec.id);
    }

    let texts = ["Both #EMIEP", "Said once #EMIEP", "Said twice #EMIEP"];
    // Mastodon: each text once from ada, each boosted once by grace, and nothing else boosted
    // since the run began (the demo accounts come with history of their own).
    let mut masto_ids = HashMap::new();
    for s in api.statuses(Mastodon::ADA).iter().filter(|s| s["reblog"].is_null()) {
        let t = plain(s["content"].as_str().unwrap_or(""));
        if texts.contains(&t.as_str()) {
            assert!(masto_ids.insert(t.clone(), s["id"].as_str().unwrap().to_string()).is_none(), "{t:?} twice");
        }
    }
    assert_eq!(masto_ids.len(), 3, "{masto_ids:?}");
    let mut boosted = grace_boosts(&api);
    for b in &boosted_before {
        let i = boosted.iter().position(|x| x == b).expect("an earlier boost vanished");
        boosted.remove(i);
    }
    let mut want: Vec<String> = texts.iter().map(|t| masto_ids[*t].clone()).collect();
    want.sort();
    assert_eq!(boosted, want);

    // Bluesky: each text once in the delegate's repo, each reposted once by the amplifier.
    let posts = net.list_records(&delegate.did, "app.bsky.feed.post");
    let mut sky_texts: Vec<&str> = posts.iter().map(|p| p["value"]["text"].as_str().unwrap()).collect();
    sky_texts.sort();
    assert_eq!(sky_texts, texts);
    let mut reposted: Vec<String> = net
        .list_records(&amp.did, "app.bsky.feed.repost")
        .iter()
        .map(|r| r["value"]["subject"]["uri"].as_str().unwrap().to_string())
        .collect();
    reposted.sort();
    let mut want: Vec<String> = posts.iter().map(|p| p["uri"].as_str().unwrap().to_string()).collect();
    want.sort();
    assert_eq!(reposted, want);
}

/// The ids of the statuses grace boosted, sorted.
fn grace_boosts(api: &Api) -> Vec<String> {
    let mut ids: Vec<String> =
        api.statuses(Mastodon::GRACE).iter().filter_map(|s| s["reblog"]["id"].as_str().map(str::to_string)).collect();
    ids.sort();
    ids
}

//! One event on Mastodon (mastodon_mock), Bluesky (the shared AT Protocol network), X (the X
//! test server) and LinkedIn (the LinkedIn test server) at once, through the loudhailer binary:
//! each post goes out once on each network, each amplifier amplifies only its own network's
//! posts (LinkedIn's organisation reshares the title, under which the points are comments), and
//! the report holds the posts of all four.

mod common;

use std::collections::HashMap;

use common::lh::{in_secs, plain, text, Api, Event};
use common::linkedin::{self, LinkedInServer};
use common::peers::{Atproto, Mastodon};
use common::xserver::XServer;
use common::{litest, xtest};
use loudhailer::job::JobKind;
use serde_json::Value;

fn config(mastodon: &str, pds: &str, sky: &str, sky_council: &str, x: &str, li: &str, sessions: &str) -> String {
    format!(
        r##"[event]
name = "Four networks"
timezone = "Europe/London"
hashtags = ["#EMIEP"]

[[account]]
id = "masto"
platform = "mastodon"
server = "{mastodon}"
token_env = "LH_MASTO"

[[account]]
id = "masto-council"
platform = "mastodon"
server = "{mastodon}"
token_env = "LH_MASTO_COUNCIL"
role = "amplifier"

[[account]]
id = "sky"
platform = "bluesky"
server = "{pds}"
identifier = "{sky}"
password_env = "LH_SKY"

[[account]]
id = "sky-council"
platform = "bluesky"
server = "{pds}"
identifier = "{sky_council}"
password_env = "LH_SKY_COUNCIL"
role = "amplifier"

[[account]]
id = "x"
platform = "x"
server = "{x}"
{x_auth}

[[account]]
id = "x-council"
platform = "x"
server = "{x}"
consumer_key_env = "LH_X_CK"
consumer_secret_env = "LH_X_CS"
access_token_env = "LH_X_COUNCIL_AT"
access_secret_env = "LH_X_COUNCIL_AS"
role = "amplifier"

[[account]]
id = "li"
platform = "linkedin"
server = "{li}"
token_env = "LH_LI_ADA"

[[account]]
id = "li-council"
platform = "linkedin"
server = "{li}"
token_env = "LH_LI_FAITH"
organization = "{org}"
role = "amplifier"

[amplify]
delay = "1s"
jitter = "0s"
rate = "600/m"

[state]
dir = "{{STATE}}"

{sessions}"##,
        x_auth = xtest::OAUTH1_DELEGATE,
        org = linkedin::ORG_ID,
    )
}

#[test]
fn one_event_on_mastodon_bluesky_x_and_linkedin_goes_out_once_on_each() {
    let mastodon = Mastodon::start();
    let api = Api { base: &mastodon.base };
    let net = Atproto::get();
    let (sky, sky_council) = (net.create_account("four"), net.create_account("fouramp"));
    let x = XServer::start();
    let li = LinkedInServer::start();
    let sessions = format!(
        "[[session]]\ntitle = \"Everywhere\"\nstart = \"{}\"\nend = \"{}\"\npoints = [\"Said once\", \"Said twice\"]\n",
        in_secs(3),
        in_secs(8)
    );
    let event =
        Event::new(&config(&mastodon.base, &net.pds, &sky.handle, &sky_council.handle, &x.base, &li.base, &sessions));
    let mut env: Vec<(&str, &str)> = vec![
        ("LH_MASTO", Mastodon::ADA),
        ("LH_MASTO_COUNCIL", Mastodon::GRACE),
        ("LH_SKY", sky.password.as_str()),
        ("LH_SKY_COUNCIL", sky_council.password.as_str()),
    ];
    env.extend(xtest::ENV);
    env.extend(litest::ENV);

    let out = event.run(&["run", "--exit-when-done"], &env);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    // 3 posts on each of the four networks; 3 boosts each on Mastodon, Bluesky and X, and one
    // reshare on LinkedIn (its points are comments, which cannot be reshared).
    assert!(log.contains("22 jobs: 22 done"), "{log}");
    let jobs = event.jobs();
    let network = |account: &str| account.split('-').next().unwrap().to_string();
    for job in jobs.iter().filter(|j| j.spec.kind == JobKind::Boost) {
        let parent = job.spec.parent.as_ref().unwrap();
        let poster = jobs.iter().find(|p| &p.spec.id == parent).unwrap();
        assert_eq!(network(&job.spec.account), network(&poster.spec.account), "{} crosses networks", job.spec.id);
    }
    let texts = ["Everywhere #EMIEP", "Said once #EMIEP", "Said twice #EMIEP"];

    // Mastodon: each text once from ada, each boosted once by grace.
    let mut masto = HashMap::new();
    for s in api.statuses(Mastodon::ADA).iter().filter(|s| s["reblog"].is_null()) {
        let t = plain(s["content"].as_str().unwrap_or(""));
        if texts.contains(&t.as_str()) {
            assert!(masto.insert(t.clone(), s["id"].as_str().unwrap().to_string()).is_none(), "{t:?} twice");
        }
    }
    assert_eq!(masto.len(), 3, "{masto:?}");
    let boosted: Vec<String> =
        api.statuses(Mastodon::GRACE).iter().filter_map(|s| s["reblog"]["id"].as_str().map(str::to_string)).collect();
    for id in masto.values() {
        assert_eq!(boosted.iter().filter(|b| *b == id).count(), 1, "{id} boosted once");
    }

    // Bluesky: each text once, each reposted once by the amplifier.
    let posts = net.list_records(&sky.did, "app.bsky.feed.post");
    let mut sky_texts: Vec<&str> = posts.iter().map(|p| p["value"]["text"].as_str().unwrap()).collect();
    sky_texts.sort();
    assert_eq!(sky_texts, texts);
    let mut reposted: Vec<String> = net
        .list_records(&sky_council.did, "app.bsky.feed.repost")
        .iter()
        .map(|r| r["value"]["subject"]["uri"].as_str().unwrap().to_string())
        .collect();
    reposted.sort();
    let mut want: Vec<String> = posts.iter().map(|p| p["uri"].as_str().unwrap().to_string()).collect();
    want.sort();
    assert_eq!(reposted, want);

    // X: each text once, threaded, each retweeted once by the council.
    let tagged = xtest::tagged(&["Everywhere", "Said once", "Said twice"]);
    let on_x = xtest::assert_once_and_retweeted(&x, &tagged);
    assert_eq!(on_x[&tagged[1]].reply_to.as_deref(), Some(on_x[&tagged[0]].id.as_str()));
    assert_eq!(on_x[&tagged[2]].reply_to.as_deref(), Some(on_x[&tagged[1]].id.as_str()));

    // LinkedIn: the title once, the points as comments under it in order, the title reshared once.
    let on_li = litest::posts_once(&li, &tagged[..1]);
    let urn = &on_li[&tagged[0]].urn;
    let comments: Vec<String> = litest::comments_on(&li, urn).into_iter().map(|c| c.text).collect();
    assert_eq!(comments, tagged[1..]);
    litest::reshared_once(&li, &[urn]);

    // The report holds the session's posts on all four networks.
    let out = event.run(&["collect"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let report = event.run(&["report", "--format", "json"], &[]);
    assert!(report.status.success(), "{}", text(&report));
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    let mut networks: Vec<&str> = report["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["posts"].as_array().unwrap())
        .filter_map(|p| p["network"].as_str())
        .collect();
    networks.sort();
    networks.dedup();
    assert_eq!(networks, ["bluesky", "linkedin", "mastodon", "x"]);
    x.assert_clean();
    li.assert_clean();
}

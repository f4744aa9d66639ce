//! The crash test: over a hundred posts and boosts on Mastodon (mastodon_mock) and Bluesky (the
//! reference PDS), the daemon SIGKILLed at random moments again and again and started again
//! each time, while posts are also typed by hand straight into both servers for `[[follow]]`
//! to find; then the servers are counted: every planned post and boost, and every boost of a
//! post typed by hand, exactly once.
//!
//! `scripts/crash-test` runs it with more kills and prints the figures; the suite's run uses
//! the minimum (50 kills, 100 jobs). Set `LOUDHAILER_CRASH_KILLS` for more.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::lh::{both_networks_config, in_secs, server_counts, text, Api, Event};
use common::peers::{Atproto, Mastodon};
use rand::Rng;
use serde_json::json;

const SESSIONS: usize = 5;
const POINTS: usize = 4;
/// Posts typed by hand on each network while the kills go on, two seconds apart.
const HAND: usize = 8;

#[test]
fn sigkill_at_random_moments_leaves_every_post_and_boost_exactly_once() {
    let kills: usize = std::env::var("LOUDHAILER_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let mastodon = Mastodon::start();
    // Every write takes a while, so kills land mid-request as often as between requests.
    mastodon.add_fault(json!({"match": {"methods": ["POST"], "path_regex": "^/api/v1/statuses(/[0-9]+/reblog)?$"}, "effect": {"type": "latency", "delay_ms": 250}}));
    let api = Api { base: &mastodon.base };
    let net = Atproto::get();
    let (sky, sky_amp) = (net.create_account("crash"), net.create_account("crashamp"));

    let mut sessions = String::new();
    let mut texts = Vec::new();
    for s in 0..SESSIONS {
        let points: Vec<String> = (1..=POINTS).map(|p| format!("crash {s}.{p}")).collect();
        let start = 3 + 4 * s as i64;
        sessions.push_str(&format!(
            "[[session]]\nid = \"c{s}\"\ntitle = \"Crash session {s}\"\nstart = \"{}\"\nend = \"{}\"\npoints = {:?}\n\n",
            in_secs(start),
            in_secs(start + 6),
            points
        ));
        texts.push(format!("Crash session {s} #EMIEP"));
        texts.extend(points.iter().map(|p| format!("{p} #EMIEP")));
    }
    let config = both_networks_config(&mastodon.base, &net.pds, &sky.handle, &sky_amp.handle, &sessions)
        + "\n[[follow]]\npoll = \"1s\"\n";
    let event = Event::new(&config);
    // Typed by hand within the event's hours: its first session starts 3 s after the times above
    // were taken, the last ends 25 s after, and the typist posts from 4 s to 18 s after them.
    let hand: Vec<String> = (1..=HAND).map(|i| format!("typed by hand {i} #EMIEP")).collect();
    texts.extend(hand.iter().cloned());
    let typist = {
        let (hand, base, net, sky) = (hand.clone(), mastodon.base.clone(), net.clone(), sky.clone());
        std::thread::spawn(move || {
            let api = Api { base: &base };
            std::thread::sleep(Duration::from_secs(2));
            for t in &hand {
                std::thread::sleep(Duration::from_secs(2));
                api.post("ada_token", "/api/v1/statuses", json!({ "status": t }));
                let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                net.create_record(
                    &sky,
                    "app.bsky.feed.post",
                    json!({"$type": "app.bsky.feed.post", "text": t, "createdAt": now}),
                );
            }
        })
    };
    let env = [
        ("LH_MASTO", "ada_token"),
        ("LH_MASTO_COUNCIL", "grace_token"),
        ("LH_SKY", sky.password.as_str()),
        ("LH_SKY_COUNCIL", sky_amp.password.as_str()),
    ];
    // Each planned text posted on two networks and boosted once there; each typed one boosted.
    let jobs = (texts.len() - HAND) * 2 * 2 + HAND * 2;
    assert!(jobs >= 100);

    let mut rng = rand::rng();
    let started = Instant::now();
    for _ in 0..kills {
        let mut daemon = event.spawn(&["run"], &env);
        std::thread::sleep(Duration::from_millis(rng.random_range(150..900)));
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();
    }
    typist.join().unwrap();
    let done_during_kills = event.jobs().iter().filter(|j| j.state == loudhailer::job::JobState::Done).count();
    let out = event.run(&["run", "--exit-when-done"], &env);
    assert!(out.status.success(), "{}", text(&out));

    // Count at the servers.
    let (posts, boosts) = server_counts(&api);
    let mut sky_posts: HashMap<String, usize> = HashMap::new();
    let mut sky_uris: HashMap<String, String> = HashMap::new();
    for r in net.list_records(&sky.did, "app.bsky.feed.post") {
        let t = r["value"]["text"].as_str().unwrap_or_default().to_string();
        *sky_posts.entry(t.clone()).or_default() += 1;
        sky_uris.insert(r["uri"].as_str().unwrap_or_default().to_string(), t);
    }
    let mut sky_reposts: HashMap<String, usize> = HashMap::new();
    for r in net.list_records(&sky_amp.did, "app.bsky.feed.repost") {
        let subject = r["value"]["subject"]["uri"].as_str().unwrap_or_default();
        let t = sky_uris.get(subject).cloned().unwrap_or_else(|| subject.to_string());
        *sky_reposts.entry(t).or_default() += 1;
    }
    let (mut duplicates, mut missing) = (0, 0);
    for counts in [&posts, &boosts, &sky_posts, &sky_reposts] {
        for t in &texts {
            match counts.get(t).copied().unwrap_or(0) {
                0 => missing += 1,
                n => duplicates += n - 1,
            }
        }
        duplicates += counts.keys().filter(|k| !texts.contains(k)).map(|k| counts[k]).sum::<usize>();
    }
    println!(
        "kills={kills} jobs={jobs} typed_by_hand={} duplicates={duplicates} missing={missing} (done before the last start: {done_during_kills}; {:.0} s)",
        HAND * 2,
        started.elapsed().as_secs_f64()
    );
    assert!(done_during_kills > 0, "the kills should land while work was being done");
    assert_eq!((duplicates, missing), (0, 0), "mastodon {posts:?} {boosts:?}\nbluesky {sky_posts:?} {sky_reposts:?}");
}

//! The crash test: over a hundred posts and boosts on Mastodon (mastodon_mock) and Bluesky (the
//! reference PDS), some of them with photos, the daemon SIGKILLed at random moments again and
//! again and started again each time, while posts are also typed by hand straight into both
//! servers for `[[follow]]` to find; then the servers are counted: every planned post and boost,
//! and every boost of a post typed by hand, exactly once, and every post with its images (each
//! with its alt text), no more and no fewer.
//!
//! The servers forgive some duplicates, so the test looks closer than their counts: every
//! request goes through a recording proxy. A Mastodon post resent with its key comes back as
//! the same status, and a second boost of a status is no second boost there; so each post's
//! key must reach the server no more often than its job was tried, each status be boosted by
//! no more requests than its boost jobs' tries, and every status the accounts hold (with the
//! hashtag or not) be one that was planned. The store must end with exactly the jobs planned
//! and found, every one done, and the last run must exit 0 (it exits 3 when any job is failed
//! or missed).
//!
//! `scripts/crash-test` runs it with more kills and prints the figures; the suite's run uses
//! the minimum (50 kills, 100 jobs). Set `LOUDHAILER_CRASH_KILLS` for more.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::lh::{both_networks_config, in_secs, plain, text, Api, Event};
use common::peers::{Atproto, Mastodon};
use common::photo;
use common::proxy::Proxy;
use loudhailer::job::{JobKind, JobState};
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
    mastodon.add_fault(json!({"match": {"methods": ["POST"], "path_regex": "^/api/v(1/statuses(/[0-9]+/reblog)?|2/media)$"}, "effect": {"type": "latency", "delay_ms": 250}}));
    let api = Api { base: &mastodon.base };
    // The demo server's own statuses, there before the test (the rest must all be planned).
    let sample: std::collections::HashSet<String> = ["ada_token", "grace_token"]
        .iter()
        .flat_map(|t| api.statuses(t))
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    let net = Atproto::get();
    let (sky, sky_amp) = (net.create_account("crash"), net.create_account("crashamp"));

    let mut sessions = String::new();
    let mut texts = Vec::new();
    // The alt texts of the photos each post carries (none for most).
    let mut photos: HashMap<String, Vec<String>> = HashMap::new();
    let images = |alts: &[String]| {
        let list: Vec<String> = alts.iter().map(|a| format!("{{ file = \"crash.jpg\", alt = {a:?} }}")).collect();
        format!("[{}]", list.join(", "))
    };
    for s in 0..SESSIONS {
        let points: Vec<String> = (1..=POINTS).map(|p| format!("crash {s}.{p}")).collect();
        let start = 3 + 4 * s as i64;
        // A photo on some points, two on one title.
        let mut written = Vec::new();
        for (p, point) in points.iter().enumerate() {
            if (s, p) == (1, 1) || (s, p) == (4, 3) {
                let alts = vec![format!("Photo of {point}")];
                written.push(format!("{{ text = {point:?}, images = {} }}", images(&alts)));
                photos.insert(format!("{point} #EMIEP"), alts);
            } else {
                written.push(format!("{point:?}"));
            }
        }
        let title_images = if s == 3 {
            let alts = vec![format!("Slide one of session {s}"), format!("Slide two of session {s}")];
            photos.insert(format!("Crash session {s} #EMIEP"), alts.clone());
            format!("images = {}\n", images(&alts))
        } else {
            String::new()
        };
        sessions.push_str(&format!(
            "[[session]]\nid = \"c{s}\"\ntitle = \"Crash session {s}\"\nstart = \"{}\"\nend = \"{}\"\n{title_images}points = [{}]\n\n",
            in_secs(start),
            in_secs(start + 6),
            written.join(", ")
        ));
        texts.push(format!("Crash session {s} #EMIEP"));
        texts.extend(points.iter().map(|p| format!("{p} #EMIEP")));
    }
    let config = both_networks_config(&mastodon.base, &net.pds, &sky.handle, &sky_amp.handle, &sessions)
        + "\n[[follow]]\npoll = \"1s\"\n";
    let event = Event::new(&config);
    // A phone photo with its metadata, stored sideways: prepared for each network in well under
    // a daemon's life.
    std::fs::write(event.dir.path().join("crash.jpg"), photo::phone_photo(1600, 1200, 90, 6)).unwrap();
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
    let proxy = Proxy::start();
    let env = [
        ("LH_MASTO", "ada_token"),
        ("LH_MASTO_COUNCIL", "grace_token"),
        ("LH_SKY", sky.password.as_str()),
        ("LH_SKY_COUNCIL", sky_amp.password.as_str()),
        ("HTTP_PROXY", proxy.url.as_str()),
    ];
    // Each planned text posted on two networks and boosted once there: the planned jobs. Each
    // post typed by hand, on each network, is found (a done job) and boosted once.
    let planned = (texts.len() - HAND) * 2 * 2;
    let jobs = planned + HAND * 2 * 2;
    assert_eq!(planned, SESSIONS * (1 + POINTS) * 4);

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

    // The store: exactly the jobs planned and found, every one done.
    let stored = event.jobs();
    let states: HashMap<&str, usize> = stored.iter().fold(HashMap::new(), |mut m, j| {
        *m.entry(j.state.as_str()).or_default() += 1;
        m
    });
    assert_eq!(stored.len(), jobs, "{states:?}");
    assert!(stored.iter().all(|j| j.state == JobState::Done), "{states:?}");
    let status = event.status();
    assert!(status.iter().all(|j| j["state"] == "done"), "status ends with every job done");

    // Every request, as the proxy saw it: how often each post's key reached the server, and
    // how often each status was boosted, against how often loudhailer tried.
    let seen = proxy.seen();
    let reached = |s: &&common::proxy::Seen| s.status != 0 && !(400..600).contains(&s.status);
    let mut key_reached: HashMap<String, usize> = HashMap::new();
    for s in seen.iter().filter(reached).filter(|s| s.method == "POST" && s.path == "/api/v1/statuses") {
        if let Some(k) = s.header("Idempotency-Key") {
            *key_reached.entry(k.to_string()).or_default() += 1;
        }
    }
    let mut reblogs_reached: HashMap<String, usize> = HashMap::new();
    for s in seen.iter().filter(reached).filter(|s| s.method == "POST" && s.path.ends_with("/reblog")) {
        let id = s.path.trim_start_matches("/api/v1/statuses/").trim_end_matches("/reblog").to_string();
        *reblogs_reached.entry(id).or_default() += 1;
    }
    let (mut resends, mut tries_over) = (0, Vec::new());
    let mut boost_tries: HashMap<String, u32> = HashMap::new();
    let by_id: HashMap<&str, &loudhailer::job::JobRecord> = stored.iter().map(|j| (j.spec.id.as_str(), j)).collect();
    for j in &stored {
        if j.attempts > 1 {
            resends += 1;
        }
        let mastodon = j.spec.account.starts_with("masto");
        if mastodon && j.spec.kind.is_post() {
            let key = j.intent.as_ref().map(|i| i.key.clone()).unwrap_or_default();
            let n = key_reached.get(&key).copied().unwrap_or(0);
            if n > j.attempts as usize {
                tries_over.push(format!("{}: its key reached the server {n} times in {} tries", j.spec.id, j.attempts));
            }
        }
        if mastodon && j.spec.kind == JobKind::Boost {
            let target = j.spec.parent.as_ref().and_then(|p| by_id.get(p.as_str())).and_then(|p| p.remote.as_ref());
            if let Some(t) = target {
                *boost_tries.entry(t.id.clone()).or_default() += j.attempts;
            }
        }
    }
    for (status, n) in &reblogs_reached {
        let tried = boost_tries.get(status).copied().unwrap_or(0) as usize;
        if *n > tried {
            tries_over.push(format!("status {status} was boosted by {n} requests in {tried} tries"));
        }
    }
    // A resent Mastodon post whose key the server knew: the server gave back the status it made.
    let absorbed = key_reached.values().map(|n| n.saturating_sub(1)).sum::<usize>();
    // A resent Bluesky record found by its key before creating it again.
    let found = seen.iter().filter(|s| s.path.contains("com.atproto.repo.getRecord") && s.status == 200).count();

    // Count at the servers: every status the accounts hold, with the hashtag or not.
    let mut posts: HashMap<String, usize> = HashMap::new();
    let mut ids: HashMap<String, String> = HashMap::new();
    // Each post's images as the servers hold them: their alt texts, per network.
    let mut images_at: Vec<(String, String, Vec<String>)> = Vec::new();
    let new = |s: &serde_json::Value| !sample.contains(s["id"].as_str().unwrap_or_default());
    for s in api.statuses("ada_token").iter().filter(|s| s["reblog"].is_null() && new(s)) {
        let t = plain(s["content"].as_str().unwrap_or(""));
        *posts.entry(t.clone()).or_default() += 1;
        ids.insert(s["id"].as_str().unwrap_or_default().to_string(), t.clone());
        let alts = s["media_attachments"].as_array().into_iter().flatten();
        images_at.push((
            "mastodon".into(),
            t,
            alts.map(|m| m["description"].as_str().unwrap_or("").to_string()).collect(),
        ));
    }
    let mut boosts: HashMap<String, usize> = HashMap::new();
    for s in api.statuses("grace_token").iter().filter(|s| new(s)) {
        let id = s["reblog"]["id"].as_str().unwrap_or_default();
        let t = ids.get(id).cloned().unwrap_or_else(|| format!("(a boost of {id})"));
        *boosts.entry(t).or_default() += 1;
    }
    let mut sky_posts: HashMap<String, usize> = HashMap::new();
    let mut sky_uris: HashMap<String, String> = HashMap::new();
    for r in net.list_records(&sky.did, "app.bsky.feed.post") {
        let t = r["value"]["text"].as_str().unwrap_or_default().to_string();
        *sky_posts.entry(t.clone()).or_default() += 1;
        sky_uris.insert(r["uri"].as_str().unwrap_or_default().to_string(), t.clone());
        let alts = r["value"]["embed"]["images"].as_array().into_iter().flatten();
        images_at.push(("bluesky".into(), t, alts.map(|i| i["alt"].as_str().unwrap_or("").to_string()).collect()));
    }
    let mut sky_reposts: HashMap<String, usize> = HashMap::new();
    for r in net.list_records(&sky_amp.did, "app.bsky.feed.repost") {
        let subject = r["value"]["subject"]["uri"].as_str().unwrap_or_default();
        let t = sky_uris.get(subject).cloned().unwrap_or_else(|| subject.to_string());
        *sky_reposts.entry(t).or_default() += 1;
    }
    // Every post with exactly its images, in order, each with its alt text.
    let mut wrong_images = Vec::new();
    for (network, t, alts) in &images_at {
        let want = photos.get(t).cloned().unwrap_or_default();
        if *alts != want {
            wrong_images.push(format!("{network}: {t:?} has images {alts:?}, not {want:?}"));
        }
    }
    let with_images = images_at.iter().filter(|(_, _, a)| !a.is_empty()).count();
    let images = images_at.iter().map(|(_, _, a)| a.len()).sum::<usize>();
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
    // Uploads the servers received, against those the posts use (a retried upload is harmless).
    let uploads = seen.iter().filter(reached).filter(|s| s.method == "POST" && s.path == "/api/v2/media").count()
        + seen.iter().filter(reached).filter(|s| s.path.contains("com.atproto.repo.uploadBlob")).count();
    println!(
        "kills={kills} jobs={jobs} typed_by_hand={} duplicates={duplicates} missing={missing} posts_with_images={with_images} images={images} wrong_images={} uploads={uploads} resends={resends} absorbed_by_key={absorbed} found_by_key={found} (done before the last start: {done_during_kills}; {:.0} s)",
        HAND * 2,
        wrong_images.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!((duplicates, missing), (0, 0), "mastodon {posts:?} {boosts:?}\nbluesky {sky_posts:?} {sky_reposts:?}");
    assert!(wrong_images.is_empty(), "posts without their images: {wrong_images:#?}");
    assert_eq!((with_images, images), (2 * photos.len(), 2 * photos.values().map(Vec::len).sum::<usize>()));
    assert!(tries_over.is_empty(), "requests beyond loudhailer's tries: {tries_over:#?}");
    assert!(done_during_kills > 0, "the kills should land while work was being done");
}

//! Bluesky against its own reference servers (the PDS, PLC and AppView of `@atproto/dev-env`):
//! facets, threads, reposts, counts, exactly-once through crashes, token refresh, rate limits.
//! Each test makes its own fresh accounts on the shared network.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::lh::{bluesky_config as config, in_secs, text, Event};
use common::peers::Atproto;
use common::proxy::{Effect, Proxy};
use loudhailer::count::graphemes;
use loudhailer::job::{Intent, JobKind, JobRecord, JobState, RemoteRef};
use loudhailer::metrics::{Counts, Reading};
use loudhailer::platform::bluesky::Session;
use serde_json::{json, Value};

const POST: &str = "app.bsky.feed.post";
const REPOST: &str = "app.bsky.feed.repost";
const WAIT: Duration = Duration::from_secs(20);

fn session(title: &str, start: i64, end: i64, extra: &str) -> String {
    format!("[[session]]\ntitle = {title:?}\nstart = \"{}\"\nend = \"{}\"\n{extra}\n", in_secs(start), in_secs(end))
}

/// The account's posts by text.
fn posts_by_text(net: &Atproto, did: &str) -> HashMap<String, Vec<Value>> {
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for r in net.list_records(did, POST) {
        out.entry(r["value"]["text"].as_str().unwrap_or_default().to_string()).or_default().push(r);
    }
    out
}

/// The text a facet's byte range covers.
fn covered(text: &str, facet: &Value) -> String {
    let (start, end) = (facet["index"]["byteStart"].as_u64().unwrap(), facet["index"]["byteEnd"].as_u64().unwrap());
    String::from_utf8(text.as_bytes()[start as usize..end as usize].to_vec()).expect("facet on char boundaries")
}

/// `(covered text, feature type, feature value)` of each facet of a record.
fn facet_list(record: &Value) -> Vec<(String, String, String)> {
    let text = record["text"].as_str().unwrap();
    let mut out: Vec<(String, String, String)> = record["facets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let feature = &f["features"][0];
            let kind = feature["$type"].as_str().unwrap().trim_start_matches("app.bsky.richtext.facet#").to_string();
            let value = feature["did"].as_str().or(feature["uri"].as_str()).or(feature["tag"].as_str()).unwrap();
            (covered(text, f), kind, value.to_string())
        })
        .collect();
    out.sort();
    out
}

fn row(covered: &str, kind: &str, value: &str) -> (String, String, String) {
    (covered.into(), kind.into(), value.into())
}

#[test]
fn facets_are_read_back_from_the_pds_and_seen_by_the_appview() {
    let net = Atproto::get();
    let (delegate, speaker) = (net.create_account("facet"), net.create_account("speaker"));
    let speakers = format!(
        "speakers = [{{ name = \"Speaker\", bluesky = \"{}\" }}, {{ name = \"Ghost\", bluesky = \"ghost-nobody.test\" }}]\n\
         points = [\"Naïve 🏳️‍🌈 reading: https://example.org/report?x=1 #Équité\"]",
        speaker.handle
    );
    let event = Event::new(&config(&net, &delegate, None, &session("Équalités", 2, 5, &speakers)));
    let env = [("LH_DELEGATE", delegate.password.as_str())];
    let out = event.run(&["run", "--exit-when-done"], &env);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("2 jobs: 2 done"), "{log}");
    assert!(log.contains("@ghost-nobody.test is not a Bluesky account; the mention stays plain text"), "{log}");

    let title_text = format!("Équalités with @{}, @ghost-nobody.test #EMIEP", speaker.handle);
    let point_text = "Naïve 🏳️‍🌈 reading: https://example.org/report?x=1 #Équité #EMIEP";
    let posts = posts_by_text(&net, &delegate.did);
    assert_eq!(posts.len(), 2, "{posts:?}");
    let want_title = vec![row("#EMIEP", "tag", "EMIEP"), row(&format!("@{}", speaker.handle), "mention", &speaker.did)];
    let want_point = vec![
        row("#EMIEP", "tag", "EMIEP"),
        row("#Équité", "tag", "Équité"),
        row("https://example.org/report?x=1", "link", "https://example.org/report?x=1"),
    ];
    for (text, want) in [(title_text.as_str(), &want_title), (point_text, &want_point)] {
        let [post] = posts[text].as_slice() else { panic!("{text:?} posted {} times", posts[text].len()) };
        // Read back from the PDS …
        let rkey = post["uri"].as_str().unwrap().rsplit('/').next().unwrap();
        let stored = net.get_record(&delegate.did, POST, rkey).unwrap();
        assert_eq!(&facet_list(&stored["value"]), want, "{text:?} on the PDS");
        assert_eq!(stored["value"]["langs"], json!(["en"]));
        // … and as the AppView indexed it.
        let view = net.wait_for_post(post["uri"].as_str().unwrap(), WAIT, |_| true);
        assert_eq!(&facet_list(&view["record"]), want, "{text:?} on the AppView");
    }

    // The session is kept: a restart with a wrong app password signs in with it, sends nothing.
    let again = event.run(&["run", "--exit-when-done"], &[("LH_DELEGATE", "not-the-password")]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 sent in this run") && !text(&again).contains("paused"), "{}", text(&again));
    assert!(!text(&again).contains("logging in"), "{}", text(&again));
}

#[test]
fn a_long_point_becomes_a_thread_within_300_graphemes() {
    let net = Atproto::get();
    let delegate = net.create_account("thread");
    // 66 words of 5 graphemes (an accented letter and an emoji among them): 395 graphemes,
    // 402 with the event's hashtag.
    let words: Vec<String> = (0..66).map(|i| format!("w{i:02}é🙂")).collect();
    let point = words.join(" ");
    assert_eq!(graphemes(&point), 395);
    let sessions = session("Long", 2, 5, &format!("points = [{point:?}]"));
    let event = Event::new(&config(&net, &delegate, None, &sessions));
    let out = event.run(&["run", "--exit-when-done"], &[("LH_DELEGATE", &delegate.password)]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 jobs: 3 done"), "{}", text(&out));

    let ids = ["long.title.delegate", "long.p1.delegate", "long.p1-2.delegate"];
    let remote: Vec<RemoteRef> = ids.iter().map(|id| event.job(id).remote.unwrap()).collect();
    let records: Vec<Value> = remote
        .iter()
        .map(|r| net.get_record(&delegate.did, POST, r.id.rsplit('/').next().unwrap()).unwrap()["value"].clone())
        .collect();
    let mut rejoined = Vec::new();
    for (r, id) in records.iter().zip(ids).skip(1) {
        let t = r["text"].as_str().unwrap();
        assert!(graphemes(t) <= 300, "{id}: {} graphemes", graphemes(t));
        rejoined.extend(t.split_whitespace().filter(|w| *w != "…" && *w != "#EMIEP").map(str::to_string));
    }
    assert_eq!(rejoined, words, "the parts hold every word, in order");
    // Each reply names the thread's head as root and the post before it as parent, by uri and cid.
    let strong = |r: &RemoteRef| json!({ "uri": r.id, "cid": r.cid.as_deref().unwrap() });
    assert!(records[0].get("reply").is_none());
    assert_eq!(records[1]["reply"], json!({ "root": strong(&remote[0]), "parent": strong(&remote[0]) }));
    assert_eq!(records[2]["reply"], json!({ "root": strong(&remote[0]), "parent": strong(&remote[1]) }));
    // The AppView sees the thread.
    net.wait_for_post(&remote[0].id, WAIT, |p| p["replyCount"] == 1);
    net.wait_for_post(&remote[1].id, WAIT, |p| p["replyCount"] == 1);
}

#[test]
fn the_amplifier_reposts_each_post_once_and_the_metrics_read_sees_a_like() {
    let net = Atproto::get();
    let (delegate, amp, fan) = (net.create_account("deleg"), net.create_account("amp"), net.create_account("fan"));
    let sessions = session("Counts", 2, 5, "points = [\"One point\"]");
    let event = Event::new(&config(&net, &delegate, Some(&amp), &sessions));
    let env = [("LH_DELEGATE", delegate.password.as_str()), ("LH_AMP", amp.password.as_str())];
    let out = event.run(&["run", "--exit-when-done"], &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4 jobs: 4 done"), "{}", text(&out));

    let title = event.job("counts.title.delegate").remote.unwrap();
    let point = event.job("counts.p1.delegate").remote.unwrap();
    // One repost record per post in the amplifier's repo, each pointing at its post.
    let reposts = net.list_records(&amp.did, REPOST);
    let mut subjects: Vec<&str> = reposts.iter().map(|r| r["value"]["subject"]["uri"].as_str().unwrap()).collect();
    subjects.sort();
    let mut want = vec![title.id.as_str(), point.id.as_str()];
    want.sort();
    assert_eq!(subjects, want, "{reposts:?}");
    assert_eq!(event.job("counts.title.delegate+amp").remote.unwrap().id, {
        let r = reposts.iter().find(|r| r["value"]["subject"]["uri"] == title.id.as_str()).unwrap();
        r["uri"].as_str().unwrap().to_string()
    });
    for p in [&title, &point] {
        net.wait_for_post(&p.id, WAIT, |v| v["repostCount"] == 1);
    }

    // A third account likes the title; a post that is deleted reads as gone.
    net.like(&fan, &title.id, title.cid.as_deref().unwrap());
    let doomed =
        net.create_record(&delegate, POST, json!({"$type": POST, "text": "soon gone", "createdAt": in_secs(0)}));
    let gone = RemoteRef {
        id: doomed["uri"].as_str().unwrap().into(),
        uri: doomed["uri"].as_str().map(str::to_string),
        cid: doomed["cid"].as_str().map(str::to_string),
        url: None,
    };
    net.delete_record(&delegate, &gone.id);
    net.process_all();
    net.wait_for_post(&title.id, WAIT, |v| v["likeCount"] == 1);
    // 28 posts to read: more than the 25 one getPosts may ask for (the AppView refuses 26).
    let mut asked = vec![title.clone(), point, gone];
    asked.extend(std::iter::repeat_n(title, 25));
    let read = event.metrics("delegate", "not-needed-the-session-is-stored", &asked);
    let counts = |likes, reposts, replies| {
        Reading::Counts(Counts {
            likes: Some(likes),
            reposts: Some(reposts),
            replies: Some(replies),
            quotes: Some(0),
            views: None,
        })
    };
    let mut want = vec![counts(1, 1, 1), counts(0, 1, 0), Reading::Gone];
    want.extend(std::iter::repeat_n(counts(1, 1, 1), 25));
    assert_eq!(read, want);
}

/// Seeds the state dir with the plan, the job `id` in flight with intent `key`.
fn seed_in_flight(event: &Event, id: &str, key: &str) -> JobRecord {
    let config = loudhailer::config::Config::load(&event.config).unwrap();
    let counters = loudhailer::plan::counters(&config, &HashMap::new());
    let planned = loudhailer::plan::plan(&config, &counters, &Default::default()).unwrap();
    let store = loudhailer::store::Store::open(&event.state_dir()).unwrap();
    store.bind_event(&config.event.name).unwrap();
    let mut records: Vec<JobRecord> = planned.jobs.into_iter().map(JobRecord::new).collect();
    let job = records.iter_mut().find(|r| r.spec.id.as_str() == id).unwrap();
    job.state = JobState::InFlight;
    job.attempts = 1;
    job.intent = Some(Intent { reached: true, ..Intent::new(key.into(), chrono::Utc::now()) });
    let seeded = job.clone();
    store.put_jobs(&records).unwrap();
    seeded
}

#[test]
fn an_in_flight_post_whose_record_exists_is_not_posted_again() {
    let net = Atproto::get();
    let delegate = net.create_account("seeded");
    let event = Event::new(&config(&net, &delegate, None, &session("Seeded", 1, 4, "")));
    // The last run stored the intent, its request reached the PDS, and then the process died.
    let key = "3m2kaaaaaaa22";
    let job = seed_in_flight(&event, "seeded.title.delegate", key);
    let text_sent = job.spec.text.clone().unwrap();
    assert_eq!(text_sent, "Seeded #EMIEP");
    let made =
        net.create_record_at(&delegate, POST, key, json!({"$type": POST, "text": text_sent, "createdAt": in_secs(0)}));

    let out = event.run(&["run", "--exit-when-done"], &[("LH_DELEGATE", &delegate.password)]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("the post was made by an earlier attempt"), "{log}");
    let posts = net.list_records(&delegate.did, POST);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let done = event.job("seeded.title.delegate");
    assert_eq!(done.state, JobState::Done);
    let remote = done.remote.unwrap();
    assert_eq!((remote.id.as_str(), remote.cid.as_deref()), (made["uri"].as_str().unwrap(), made["cid"].as_str()));
    assert_eq!(remote.url.unwrap(), format!("https://bsky.app/profile/{}/post/{key}", delegate.handle));
}

#[test]
fn sigkill_while_a_create_is_unanswered_then_restart_leaves_one_of_each() {
    let net = Atproto::get();
    let (delegate, amp) = (net.create_account("killed"), net.create_account("killamp"));
    let sessions = session("Crash", 2, 6, "points = [\"First point\", \"Second point\"]");
    let event = Event::new(&config(&net, &delegate, Some(&amp), &sessions));
    let proxy = Proxy::start();
    let env = [
        ("LH_DELEGATE", delegate.password.as_str()),
        ("LH_AMP", amp.password.as_str()),
        ("HTTP_PROXY", proxy.url.as_str()),
    ];
    let create = "com.atproto.repo.createRecord";
    // Each round: the first create of a kind reaches the PDS, its answer is held, and the
    // daemon is killed while it waits.
    for (round, collection) in [(1, POST), (2, REPOST)] {
        proxy.rearm();
        proxy.rule(create, collection, Effect::Hold, 1);
        let mut daemon = event.spawn(&["run"], &env);
        proxy.wait_held(1, Duration::from_secs(30));
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();
        proxy.release();
        let boosts = collection == REPOST;
        let in_flight: Vec<JobRecord> = event
            .jobs()
            .into_iter()
            .filter(|j| j.state == JobState::InFlight && (j.spec.kind == JobKind::Boost) == boosts)
            .collect();
        assert_eq!(in_flight.len(), 1, "round {round}: the held job is in flight: {in_flight:?}");
        let key = &in_flight[0].intent.as_ref().unwrap().key;
        let did = if collection == POST { &delegate.did } else { &amp.did };
        assert!(net.get_record(did, collection, key).is_some(), "round {round}: the held create reached the PDS");
    }
    let out = event.run(&["run", "--exit-when-done"], &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("6 jobs: 6 done"), "{}", text(&out));

    let posts = posts_by_text(&net, &delegate.did);
    for t in ["Crash #EMIEP", "First point #EMIEP", "Second point #EMIEP"] {
        assert_eq!(posts.get(t).map(Vec::len), Some(1), "{t:?}: {posts:?}");
    }
    assert_eq!(posts.len(), 3, "{posts:?}");
    let reposts = net.list_records(&amp.did, REPOST);
    let mut subjects: Vec<&str> = reposts.iter().map(|r| r["value"]["subject"]["uri"].as_str().unwrap()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!((reposts.len(), subjects.len()), (3, 3), "{reposts:?}");
    // Both resends asked the PDS what was at their key before creating anything.
    assert!(proxy.count("com.atproto.repo.getRecord") >= 2, "{:?}", proxy.seen());
}

#[test]
fn an_expired_access_token_is_refreshed_without_logging_in() {
    let net = Atproto::get();
    let delegate = net.create_account("expired");
    let event = Event::new(&config(&net, &delegate, None, &session("Refresh", 2, 4, "")));
    let stale = Session {
        identifier: delegate.handle.clone(),
        did: delegate.did.clone(),
        handle: delegate.handle.clone(),
        access_jwt: net.expired_access_jwt(&delegate.did),
        refresh_jwt: delegate.refresh_jwt.clone(),
        pds: Some(net.pds.clone()),
    };
    {
        let store = loudhailer::store::Store::open(&event.state_dir()).unwrap();
        store.update_account("delegate", |a| a.session = Some(serde_json::to_value(&stale).unwrap())).unwrap();
    }
    let proxy = Proxy::start();
    // A wrong app password: only a refresh can make this work.
    let env = [("LH_DELEGATE", "wrong-app-password"), ("HTTP_PROXY", proxy.url.as_str())];
    let out = event.run(&["run", "--exit-when-done"], &env);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("1 jobs: 1 done"), "{log}");
    assert_eq!(proxy.count("com.atproto.server.createSession"), 0, "{:?}", proxy.seen());
    assert_eq!(proxy.count("com.atproto.server.refreshSession"), 1, "{:?}", proxy.seen());
    let expired: Vec<_> = proxy.seen().into_iter().filter(|s| s.status == 400).collect();
    assert_eq!(expired.len(), 1, "one request met the expired token: {expired:?}");
    assert!(!log.contains(&stale.access_jwt) && !log.contains(&stale.refresh_jwt), "tokens in the log");
    let store = loudhailer::store::Store::open(&event.state_dir()).unwrap();
    let kept: Session = serde_json::from_value(store.account("delegate").unwrap().session.unwrap()).unwrap();
    assert_ne!(kept.access_jwt, stale.access_jwt, "the new access token is stored");
    assert_eq!(posts_by_text(&net, &delegate.did).len(), 1);
}

#[test]
fn a_wrong_app_password_pauses_the_account_with_the_servers_words() {
    let net = Atproto::get();
    let delegate = net.create_account("wrongpw");
    let event = Event::new(&config(&net, &delegate, None, &session("Refused", 2, 4, "")));
    let out = event.run(&["run", "--exit-when-done"], &[("LH_DELEGATE", "wrong-app-password")]);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("account paused") && log.contains("Invalid identifier or password"), "{log}");
    assert!(!log.contains("wrong-app-password"), "the password reached the log");
    assert!(net.list_records(&delegate.did, POST).is_empty());
    let status = event.status();
    assert!(status[0]["waiting"].as_str().unwrap_or("").contains("account delegate paused"), "{status:?}");
}

#[test]
fn a_429_with_retry_after_is_waited_out_then_sent_once() {
    let net = Atproto::get();
    let delegate = net.create_account("limited");
    let event = Event::new(&config(&net, &delegate, None, &session("Limited", 2, 4, "")));
    let proxy = Proxy::start();
    // As the PDS words it: the window is used up, and resets when Retry-After says.
    let reset = (chrono::Utc::now() + chrono::Duration::seconds(3)).timestamp().to_string();
    let headers = [
        ("RateLimit-Limit", "5000"),
        ("RateLimit-Remaining", "0"),
        ("RateLimit-Reset", reset.as_str()),
        ("RateLimit-Policy", "5000;w=3600"),
        ("Retry-After", "3"),
    ];
    let answer = Effect::Answer {
        status: 429,
        headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        body: r#"{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}"#.into(),
    };
    proxy.rule("com.atproto.repo.createRecord", "", answer, 1);
    let env = [("LH_DELEGATE", delegate.password.as_str()), ("HTTP_PROXY", proxy.url.as_str())];
    let out = event.run(&["run", "--exit-when-done"], &env);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("1 jobs: 1 done") && log.contains("rate limited"), "{log}");
    let creates: Vec<_> = proxy.seen().into_iter().filter(|s| s.path.contains("createRecord")).collect();
    assert_eq!(creates.iter().map(|s| s.status).collect::<Vec<_>>(), [429, 200], "{creates:?}");
    // The wait the server asked for is kept (the reset is in whole seconds: at least 2 s).
    let waited = creates[1].at - creates[0].at;
    assert!(waited >= Duration::from_secs(2) && waited < Duration::from_secs(30), "waited {waited:?}");
    assert_eq!(net.list_records(&delegate.did, POST).len(), 1);
}

#[test]
fn after_login_requests_go_to_the_pds_the_did_document_names() {
    let net = Atproto::get();
    let delegate = net.create_account("diddoc");
    // Sign in at the PDS by another name than the one its DID documents give (localhost).
    let entry = net.pds.replace("localhost", "127.0.0.1");
    assert_ne!(entry, net.pds);
    let event = Event::new(&config(&net, &delegate, None, &session("Where", 2, 4, "")).replace(&net.pds, &entry));
    let proxy = Proxy::start();
    let env = [("LH_DELEGATE", delegate.password.as_str()), ("HTTP_PROXY", proxy.url.as_str())];
    let out = event.run(&["run", "--exit-when-done"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let seen = proxy.seen();
    let hosts: Vec<(&str, &str)> = seen.iter().map(|s| (s.host.as_str(), s.path.split('?').next().unwrap())).collect();
    let entry_host = entry.trim_start_matches("http://");
    let pds_host = net.pds.trim_start_matches("http://");
    assert_eq!(hosts[0], (entry_host, "/xrpc/com.atproto.server.createSession"), "{hosts:?}");
    assert!(hosts[1..].iter().all(|(h, _)| *h == pds_host), "{hosts:?}");
    assert!(hosts.iter().any(|(_, p)| *p == "/xrpc/com.atproto.repo.createRecord"), "{hosts:?}");
}

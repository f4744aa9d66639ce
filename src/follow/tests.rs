use super::*;
use crate::job::Intent;
use crate::plan::repost_jobs;
use chrono_tz::Tz;

fn at(hms: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2010-03-18T{hms}Z")).unwrap().with_timezone(&Utc)
}

fn watch(filter: Filter) -> Watch {
    Watch {
        key: "delegate".into(),
        network: Network::Mastodon,
        watched: Watched::Account("delegate".into()),
        reader: "delegate".into(),
        filter,
        replies: false,
        reposts: false,
        always: false,
        poll: Duration::from_secs(30),
        amplifiers: vec!["council".into(), "union".into()],
        crosspost: false,
    }
}

fn post(id: &str, text: &str) -> Seen {
    Seen {
        remote: RemoteRef {
            id: id.into(),
            url: Some(format!("https://m.example/@ada/{id}")),
            uri: Some(format!("https://m.example/users/ada/statuses/{id}")),
            cid: None,
        },
        key: format!("https://m.example/users/ada/statuses/{id}"),
        created_at: at("10:02:00"),
        text: text.into(),
        tags: Vec::new(),
        reply: false,
        repost: false,
    }
}

#[test]
fn hashtags_are_found_as_the_networks_find_them() {
    for (text, want) in [
        ("Packed room #EMIEP", vec!["emiep"]),
        ("#EMIEP: law, #Equality_Act2010 and #2010", vec!["emiep", "equality_act2010"]),
        ("no tag in a#b, &#39; or a lone #", vec![]),
        ("（＃ÉGALITÉ）", vec!["égalité"]),
    ] {
        assert_eq!(hashtags_in(text), want, "{text}");
    }
}

#[test]
fn a_watch_takes_its_hashtags_and_leaves_replies_and_boosts_unless_asked() {
    let tags = watch(Filter::Hashtags(vec!["emiep".into()]));
    let mut with_tag = post("1", "Packed room #emiep");
    assert!(wanted(&tags, &with_tag));
    assert!(!wanted(&tags, &post("2", "Packed room")));
    // The network's own list of tags counts too (a tag in a link's text, say).
    let mut listed = post("3", "Packed room");
    listed.tags = vec!["emiep".into()];
    assert!(wanted(&tags, &listed));
    with_tag.reply = true;
    assert!(!wanted(&tags, &with_tag), "a reply to someone else");
    let mut replies = tags.clone();
    replies.replies = true;
    assert!(wanted(&replies, &with_tag));
    with_tag.reply = false;
    with_tag.repost = true;
    assert!(!wanted(&tags, &with_tag), "a boost of someone else's post");
    let all = watch(Filter::All);
    assert!(wanted(&all, &post("4", "coffee")));
}

#[test]
fn a_watch_watches_during_the_events_hours() {
    let hours = [(at("09:00:00"), at("12:00:00")), (at("13:00:00"), at("17:00:00"))];
    assert_eq!(watching(&hours, at("08:00:00"), false), Watching::From(at("09:00:00")));
    assert_eq!(watching(&hours, at("10:00:00"), false), Watching::Until(Some(at("12:00:00"))));
    assert_eq!(watching(&hours, at("12:30:00"), false), Watching::From(at("13:00:00")));
    assert_eq!(watching(&hours, at("17:00:00"), false), Watching::Over);
    assert_eq!(watching(&hours, at("20:00:00"), true), Watching::Until(None));
    let state = WatchState { cursor: None, since: at("11:00:00") };
    assert!(in_hours(&hours, &state, false, at("12:00:00")));
    assert!(!in_hours(&hours, &state, false, at("12:01:00")));
    assert!(in_hours(&hours, &state, true, at("20:00:00")));
    assert!(!in_hours(&hours, &state, true, at("10:59:00")), "with always: nothing older than the first run");
}

#[test]
fn polling_slows_down_as_the_rate_budget_runs_low() {
    let poll = Duration::from_secs(30);
    let now = at("10:00:00");
    let hint = |remaining, reset_in: i64| ServerHint {
        limit: Some(300),
        remaining: Some(remaining),
        reset: Some(now + chrono::Duration::seconds(reset_in)),
        retry_after: None,
        capped: None,
    };
    assert_eq!(interval(poll, None, now, 1), poll, "nothing known");
    assert_eq!(interval(poll, Some(&hint(300, 300)), now, 1), poll, "plenty left");
    // 40 left for 300 s: a quarter (10) goes on watching, one poll per 30 s at most.
    assert_eq!(interval(poll, Some(&hint(40, 300)), now, 1), Duration::from_secs(30));
    assert_eq!(interval(poll, Some(&hint(20, 300)), now, 1), Duration::from_secs(60));
    // Two watches read through the same account share that quarter.
    assert_eq!(interval(poll, Some(&hint(20, 300)), now, 2), Duration::from_secs(150));
    assert_eq!(interval(poll, Some(&hint(2, 300)), now, 1), Duration::from_secs(300), "none to spare: wait it out");
    assert_eq!(interval(poll, Some(&hint(0, -5)), now, 1), poll, "a window that is over says nothing");
}

#[test]
fn a_found_post_becomes_a_done_post_and_a_boost_by_each_amplifier() {
    let w = watch(Filter::All);
    let p = post("7", "Packed room #EMIEP");
    let jobs = found_jobs(&w, &p, at("10:02:05"), Duration::from_secs(300), Duration::ZERO);
    assert_eq!(jobs.len(), 3);
    let found = &jobs[0];
    assert_eq!(found.spec.id, job_id(Network::Mastodon, &p.key));
    assert!(found.spec.id.as_str().starts_with("follow."));
    assert_eq!(
        (found.spec.kind, found.state, found.spec.origin),
        (JobKind::External, JobState::Done, Origin::Followed)
    );
    assert_eq!(found.remote.as_ref().map(|r| r.id.as_str()), Some("7"));
    for (b, amp) in jobs[1..].iter().zip(["council", "union"]) {
        assert_eq!((b.spec.kind, b.spec.account.as_str(), b.state), (JobKind::Boost, amp, JobState::Pending));
        assert_eq!(b.spec.parent.as_ref(), Some(&found.spec.id));
        assert_eq!(b.spec.at, at("10:07:05"), "delay after it was seen");
    }
    // The same post on another network, or another post, has another id; the same post the same.
    assert_ne!(job_id(Network::Bluesky, &p.key), found.spec.id);
    assert_eq!(job_id(Network::Mastodon, &p.key), found.spec.id);
}

#[test]
fn a_post_loudhailer_made_is_not_taken_as_made_by_hand() {
    let w = watch(Filter::All);
    let mut made = JobRecord::new(JobSpec {
        id: JobId("law.title.delegate".into()),
        kind: JobKind::Post,
        account: "delegate".into(),
        session: Some("law".into()),
        at: at("10:00:00"),
        text: Some("Equalities  Law #EMIEP".into()),
        parent: None,
        root: None,
        language: None,
        origin: Origin::Plan,
        thread: None,
        author: None,
        url: None,
        images: Vec::new(),
    });
    let p = post("7", "Equalities Law #EMIEP");
    assert!(!is_ours(&w, &p, [&made]), "not sent yet: someone typed the same by hand");
    // Sent, the answer not stored yet (a crash): the same text is ours.
    made.intent = Some(Intent { reached: true, ..Intent::new("k".into(), at("10:00:00")) });
    made.state = JobState::InFlight;
    assert!(is_ours(&w, &p, [&made]));
    assert!(!is_ours(&w, &post("8", "Something else"), [&made]));
    // Done: its stored post names it.
    made.state = JobState::Done;
    made.remote = Some(p.remote.clone());
    assert!(is_ours(&w, &post("7", "edited since"), [&made]));
}

#[test]
fn a_scheduled_repost_looks_the_post_up_then_undoes_and_boosts_per_account() {
    let url = "https://bsky.app/profile/ada.test/post/3k1";
    let tz: Tz = "Europe/London".parse().unwrap();
    let specs = repost_jobs(url, at("17:00:00"), &["council".into(), "union".into()], Origin::Scheduled, tz);
    let kinds: Vec<(JobKind, &str, Option<&str>)> =
        specs.iter().map(|s| (s.kind, s.account.as_str(), s.parent.as_ref().map(|p| p.as_str()))).collect();
    let head = specs[0].id.as_str();
    assert!(head.starts_with("repost.") && head.ends_with("-20100318-1700"), "{head}");
    let undo = |a: &str| format!("{head}+{a}.undo");
    assert_eq!(
        kinds,
        vec![
            (JobKind::External, "council", None),
            (JobKind::Unboost, "council", Some(head)),
            (JobKind::Boost, "council", Some(undo("council").as_str())),
            (JobKind::Unboost, "union", Some(head)),
            (JobKind::Boost, "union", Some(undo("union").as_str())),
        ]
    );
    assert_eq!(specs[0].url.as_deref(), Some(url));
    assert!(specs.iter().all(|s| s.at == at("17:00:00")));
    // The same post at another time is another repost.
    let later = repost_jobs(url, at("18:00:00"), &["council".into()], Origin::Scheduled, tz);
    assert_ne!(later[0].id, specs[0].id);
    assert!(repost_jobs(url, at("17:00:00"), &[], Origin::Scheduled, tz).is_empty());
}

#[test]
fn two_references_name_the_same_post_by_uri_link_or_id_on_one_server() {
    let r = |id: &str, url: Option<&str>, uri: Option<&str>| RemoteRef {
        id: id.into(),
        url: url.map(str::to_string),
        uri: uri.map(str::to_string),
        cid: None,
    };
    let a = r("1", Some("https://m.example/@ada/1"), Some("https://m.example/users/ada/statuses/1"));
    assert!(same_post(("s1", &a), ("s2", &r("99", None, Some("https://m.example/users/ada/statuses/1")))));
    assert!(same_post(("s1", &a), ("s2", &r("99", Some("https://m.example/@ada/1"), None))));
    assert!(same_post(("s1", &a), ("s1", &r("1", None, None))));
    assert!(!same_post(("s1", &a), ("s2", &r("1", None, None))), "ids are each server's own");
}

#[test]
fn only_the_watched_accounts_own_posts_with_the_hashtags_are_copied() {
    let tags = vec!["#EMIEP".to_string()];
    let mut copying = watch(Filter::Hashtags(vec!["emiep".into()]));
    let tagged = post("1", "A point from the floor #EMIEP");
    assert!(!crosspost::copied(&copying, &tags, &tagged), "a watch copies only with crosspost = true");
    copying.crosspost = true;
    assert!(crosspost::copied(&copying, &tags, &tagged));
    assert!(!crosspost::copied(&copying, &tags, &post("2", "No tag here")));
    let mut listed = post("3", "Tag listed by the server only");
    listed.tags = vec!["EMIEP".into()];
    assert!(crosspost::copied(&copying, &tags, &listed));
    for (reply, repost) in [(true, false), (false, true)] {
        let mut p = tagged.clone();
        (p.reply, p.repost) = (reply, repost);
        assert!(!crosspost::copied(&copying, &tags, &p), "reply {reply}, repost {repost}");
    }
    // Every post is boosted, but only those with the event's hashtags are copied.
    let mut all = copying.clone();
    all.filter = Filter::All;
    assert!(crosspost::copied(&all, &tags, &tagged));
    assert!(!crosspost::copied(&all, &tags, &post("4", "Lunch was good")));
    // Someone else's posts are boosted, never copied under the delegate's name.
    let mut other = copying.clone();
    other.watched = Watched::Handle("@keynote@m.example".into());
    assert!(!crosspost::copied(&other, &tags, &tagged));
}

#[test]
fn a_copy_is_a_thread_on_each_account_boosted_there_with_ids_from_the_source_post() {
    let source = post("109", "x #EMIEP");
    let scope = crosspost::scope(Network::Mastodon, &source.key);
    // The same post always gives the same scope, and the scope carries its found job's hash.
    assert_eq!(scope, crosspost::scope(Network::Mastodon, &source.key));
    assert_ne!(scope, crosspost::scope(Network::Bluesky, &source.key));
    assert_eq!(scope.strip_prefix("cross-"), job_id(Network::Mastodon, &source.key).0.strip_prefix("follow."));
    let piece = |item: &str, text: &str| crate::compose::Piece {
        item: item.into(),
        text: text.into(),
        at: at("10:05:00"),
        split: true,
        images: Vec::new(),
    };
    let targets = vec![
        crosspost::Target {
            account: "sky".into(),
            pieces: vec![piece("a", "first half"), piece("a-2", "second half")],
            parent: Some(JobId("talk.title.sky".into())),
            root: None,
            language: Some("en".into()),
            amplifiers: vec!["sky-council".into()],
        },
        crosspost::Target {
            account: "x".into(),
            pieces: vec![piece("a", "all of it")],
            parent: None,
            root: None,
            language: None,
            amplifiers: Vec::new(),
        },
    ];
    let now = at("10:05:00");
    let jobs = crosspost::copy_jobs(&scope, Some("talk"), targets, now, Duration::from_secs(60), Duration::ZERO);
    let by_id = |i: &str| jobs.iter().find(|j| j.spec.id.0 == format!("{scope}.{i}")).unwrap_or_else(|| panic!("{i}"));
    let first = by_id("post.sky");
    assert_eq!((first.spec.kind, first.spec.origin), (JobKind::Reply, Origin::Crosspost));
    assert_eq!(first.spec.parent, Some(JobId("talk.title.sky".into())));
    assert_eq!(first.spec.root, first.spec.parent, "a reply to the title: the title is the root");
    assert_eq!((first.spec.session.as_deref(), first.ready_at()), (Some("talk"), now));
    let second = by_id("post-2.sky");
    assert_eq!(second.spec.parent, Some(first.spec.id.clone()));
    assert_eq!(second.spec.root, first.spec.root);
    for b in ["post.sky+sky-council", "post-2.sky+sky-council"] {
        let boost = by_id(b);
        assert_eq!((boost.spec.kind, boost.spec.origin), (JobKind::Boost, Origin::Crosspost));
        assert_eq!(boost.spec.at, now + chrono::Duration::seconds(60));
    }
    let alone = by_id("post.x");
    assert_eq!((alone.spec.kind, alone.spec.parent.as_ref()), (JobKind::Say, None));
    assert_eq!(jobs.len(), 5);
}

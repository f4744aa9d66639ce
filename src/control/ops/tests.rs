use std::path::Path;

use super::*;

fn example() -> Config {
    Config::parse(Path::new("example.toml"), include_str!("../../../config/example.toml")).unwrap()
}

/// A store holding the example's plan.
fn planned(config: &Config) -> Store {
    let store = Store::temporary().unwrap();
    let p = plan::plan(config, &plan::counters(config, &Default::default()), &Default::default()).unwrap();
    let records: Vec<JobRecord> = p.jobs.into_iter().map(JobRecord::new).collect();
    store.put_jobs(&records).unwrap();
    store
}

/// Every stored job by id.
fn jobs(store: &Store) -> std::collections::HashMap<JobId, JobRecord> {
    store.jobs_by_id().unwrap()
}

/// Changes a stored job.
fn change(store: &Store, job: &str, f: impl FnOnce(&mut JobRecord)) {
    let mut r = store.job(&id(job)).unwrap().unwrap();
    f(&mut r);
    store.put_job(&r).unwrap();
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn id(s: &str) -> JobId {
    JobId(s.into())
}

#[test]
fn offsets_parse() {
    for (text, want) in [("+15m", 900), ("-5m", -300), ("1h", 3600), ("+90s", 90), ("- 2m", -120)] {
        assert_eq!(parse_offset(text).unwrap(), want, "{text}");
    }
    assert!(parse_offset("soon").is_err());
    assert_eq!(offset_text(-300), "-5m");
    // Beyond a year either way: refused before anything is sent, naming the limit.
    assert_eq!(parse_offset("+366d").unwrap(), 366 * 86_400);
    for absurd in ["+300000y", "-367d", "+18446744073709551615s"] {
        let e = parse_offset(absurd).unwrap_err();
        assert!(e.contains("beyond the limit of ±366 days"), "{absurd}: {e}");
    }
}

#[test]
fn absurd_shifts_are_refused_and_move_nothing() {
    let config = example();
    let store = planned(&config);
    let before = jobs(&store);
    let now = t("2010-03-18T09:00:00Z");
    let mut book = Book { config: &config, store: &store, now };
    for by_secs in [300_000 * 365 * 86_400, i64::MAX, i64::MIN, -(367 * 86_400)] {
        let e = book.apply(&Request::Shift { session: None, by_secs }).unwrap_err();
        assert!(e.to_string().contains("beyond the limit of ±366 days"), "{by_secs}: {e}");
    }
    // Two shifts of 200 days add up past the limit: the second is refused.
    book.apply(&Request::Shift { session: Some("case-studies".into()), by_secs: 200 * 86_400 }).unwrap();
    let e = book.apply(&Request::Shift { session: None, by_secs: 200 * 86_400 }).unwrap_err();
    assert!(e.to_string().contains("case-studies would be moved by +400d in all"), "{e}");
    assert_eq!(store.adjustments().unwrap().shift_all, 0);
    let moved = jobs(&store).iter().filter(|(k, v)| v.spec.at != before[*k].spec.at).count();
    assert_eq!(moved, 8, "only the first shift moved anything: case-studies' 8 jobs");
}

#[test]
fn shift_moves_pending_jobs_and_remembers_it() {
    let config = example();
    let store = planned(&config);
    change(&store, "case-studies.title.delegate", |r| r.state = JobState::Done);
    let before = jobs(&store);
    let now = t("2010-03-18T13:35:00Z");
    let out = Book { config: &config, store: &store, now }
        .apply(&Request::Shift { session: Some("Case study".into()), by_secs: 900 })
        .unwrap();
    // Three points and their boosts; not the sent title, nor its boost.
    assert_eq!(out.changed.len(), 6, "{:?}", out.changed);
    assert!(out.response.message.unwrap().contains("moved 6 pending jobs of case-studies by +15m"));
    let after = jobs(&store);
    for (k, v) in &after {
        let moved = (v.spec.at - before[k].spec.at).num_seconds();
        let expect = if out.changed.contains(k) { 900 } else { 0 };
        assert_eq!(moved, expect, "{k}");
    }
    assert_eq!(store.adjustments().unwrap().shifts["case-studies"], 900);
    let err = Book { config: &config, store: &store, now }
        .apply(&Request::Shift { session: Some("nope".into()), by_secs: 60 })
        .unwrap_err();
    assert!(err.to_string().contains("no session \"nope\"; sessions: equalities-law"), "{err}");
}

#[test]
fn skip_send_retry_pause() {
    let config = example();
    let store = planned(&config);
    let now = t("2010-03-18T09:00:00Z");
    let mut book = Book { config: &config, store: &store, now };
    let out = book.apply(&Request::Skip { session: "eia-workshop".into() }).unwrap();
    assert_eq!(out.changed.len(), 8);
    assert!(jobs(&store)
        .values()
        .filter(|j| j.spec.session.as_deref() == Some("eia-workshop"))
        .all(|j| j.state == JobState::Cancelled));

    // send a session: its posts pinned to now; boosts untouched (they follow their posts).
    let out = book.apply(&Request::Send { target: "ehrc-priorities".into() }).unwrap();
    assert_eq!(out.changed.len(), 3);
    let all = jobs(&store);
    assert!(out.changed.iter().all(|i| all[i].pinned_at == Some(now) && all[i].ready_at() == now));
    change(&store, "ehrc-priorities.title.delegate", |r| r.state = JobState::Done);
    let err = book.apply(&Request::Send { target: "ehrc-priorities.title.delegate".into() }).unwrap_err();
    assert!(err.to_string().contains("already sent"), "{err}");

    // retry a failed job: pending, now, from a clean slate.
    let failed = id("equalities-law.p2.delegate");
    change(&store, failed.as_str(), |r| {
        r.state = JobState::Failed;
        r.attempts = 3;
    });
    book.apply(&Request::Retry { job: failed.0.clone() }).unwrap();
    let retried = store.job(&failed).unwrap().unwrap();
    assert_eq!((retried.state, retried.attempts), (JobState::Pending, 0));

    let out = book.apply(&Request::Pause { account: Some("council".into()) }).unwrap();
    assert!(out.accounts);
    assert_eq!(store.account("council").unwrap().paused.as_deref(), Some("paused by hand"));
    assert!(book.apply(&Request::Resume { account: Some("bob".into()) }).is_err());
    book.apply(&Request::Resume { account: None }).unwrap();
    assert_eq!(store.account("council").unwrap().paused, None);
}

#[test]
fn say_posts_from_every_primary_and_is_amplified() {
    let config = example();
    let store = planned(&config);
    change(&store, "case-studies.title.delegate", |r| r.state = JobState::Done);
    change(&store, "case-studies.p1.delegate", |r| r.state = JobState::Done);
    let now = t("2010-03-18T14:05:00Z");
    let mut book = Book { config: &config, store: &store, now };
    let out = book
        .apply(&Request::Say { text: "coffee break!".into(), thread: None, key: None, images: Vec::new() })
        .unwrap();
    assert_eq!(out.changed, vec![id("say1.post.delegate+council"), id("say1.post.delegate")]);
    // Told in a delegate's words, without the jobs' ids.
    assert_eq!(out.response.message.as_deref(), Some("saying it now: 1 post from delegate, amplified by council"));
    assert_eq!(out.response.posts, Some(vec![id("say1.post.delegate")]), "the ids, for the command line");
    let all = jobs(&store);
    let post = &all[&id("say1.post.delegate")];
    assert_eq!((post.spec.kind, post.spec.origin, post.ready_at()), (JobKind::Say, Origin::Manual, now));
    assert_eq!(post.spec.text.as_deref(), Some("coffee break! #EMIEP"));
    let boost = &all[&id("say1.post.delegate+council")];
    assert_eq!((boost.spec.at - now).num_seconds() / 60, 5);
    // In a thread: it answers the session's last post that went out.
    book.apply(&Request::Say {
        text: "A question from the floor".into(),
        thread: Some("case-studies".into()),
        key: None,
        images: Vec::new(),
    })
    .unwrap();
    let reply = store.job(&id("say2.post.delegate")).unwrap().unwrap();
    assert_eq!(reply.spec.kind, JobKind::Reply);
    assert_eq!(reply.spec.parent, Some(id("case-studies.p1.delegate")));
    assert_eq!(reply.spec.root, Some(id("case-studies.title.delegate")));
    assert!(book.apply(&Request::Say { text: "  ".into(), thread: None, key: None, images: Vec::new() }).is_err());
}

#[test]
fn a_say_in_a_thread_nothing_of_which_went_out_answers_its_head() {
    let config = example();
    let store = planned(&config);
    let now = t("2010-03-18T13:29:00Z");
    let mut book = Book { config: &config, store: &store, now };
    book.apply(&Request::Say {
        text: "Early".into(),
        thread: Some("case-studies".into()),
        key: None,
        images: Vec::new(),
    })
    .unwrap();
    let reply = store.job(&id("say1.post.delegate")).unwrap().unwrap();
    assert_eq!(reply.spec.parent, Some(id("case-studies.title.delegate")), "not its last planned point");
}

#[test]
fn say_carries_images_checked_as_the_config_is() {
    use crate::job::Image;
    use crate::media::testphoto;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("slide.jpg");
    std::fs::write(&photo, testphoto::phone_photo(120, 90, 80, 6)).unwrap();
    let broken = dir.path().join("broken.jpg");
    let bytes = testphoto::phone_photo(120, 90, 80, 6);
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let image = |path: &Path, alt: &str| Image { file: path.to_str().unwrap().into(), alt: alt.into() };
    let config = example();
    let store = planned(&config);
    let mut book = Book { config: &config, store: &store, now: t("2010-03-18T14:05:00Z") };
    let say = |images: Vec<Image>| Request::Say {
        text: "The slide that made the point".into(),
        thread: None,
        key: None,
        images,
    };

    book.apply(&say(vec![image(&photo, "The slide: who is affected?"), image(&photo, "")])).unwrap();
    let post = store.job(&id("say1.post.delegate")).unwrap().unwrap();
    assert_eq!(post.spec.images, [image(&photo, "The slide: who is affected?"), image(&photo, "")]);
    let boost = store.job(&id("say1.post.delegate+council")).unwrap().unwrap();
    assert!(boost.spec.images.is_empty());

    // Each refused with the file and the reason; nothing is planned.
    let mut refusal = |images: Vec<Image>| book.apply(&say(images)).unwrap_err().to_string();
    let r = refusal(vec![image(&broken, "cut")]);
    assert!(r.contains("broken.jpg") && r.contains("the file is incomplete"), "{r}");
    let r = refusal(vec![image(&dir.path().join("nowhere.jpg"), "x")]);
    assert!(r.contains("nowhere.jpg: cannot read it"), "{r}");
    let r = refusal(vec![Image { file: "slide.jpg".into(), alt: "x".into() }]);
    assert!(r.contains("give the image's full path"), "{r}");
    let r = refusal(vec![image(&photo, " ")]);
    assert!(r.contains("only blank space"), "{r}");
    let r = refusal(vec![image(&photo, &"a".repeat(1501))]);
    assert!(r.contains("over mastodon's limit of 1500"), "{r}");
    let r = refusal(vec![image(&photo, "x"); 5]);
    assert!(r.contains("at most 4"), "{r}");
    assert!(store.job(&id("say2.post.delegate")).unwrap().is_none());
}

#[test]
fn a_photo_sent_as_bytes_is_kept_for_a_say_to_name() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = crate::media::testphoto::phone_photo(80, 60, 80, 1);
    let kept = keep_photo(dir.path(), &bytes, 1_000_000).unwrap();
    assert!(kept.starts_with(dir.path().join("photos")) && kept.extension().unwrap() == "jpg", "{kept:?}");
    assert_eq!(std::fs::read(&kept).unwrap(), bytes);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&kept).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // The same photo again is the same file.
    assert_eq!(keep_photo(dir.path(), &bytes, 1_000_000).unwrap(), kept);
    assert!(keep_photo(dir.path(), b"not a photo", 1_000_000).unwrap_err().to_string().contains("not an image"));
    assert!(keep_photo(dir.path(), &bytes, 100).unwrap_err().to_string().contains("over the cap of 100 bytes"));
}

/// The example on Mastodon and Bluesky (its Bluesky accounts uncommented), its watch copying
/// what is typed by hand.
fn crossposting() -> Config {
    let text = include_str!("../../../config/example.toml");
    let start = text.find("# [[account]]\n# id = \"delegate-bsky\"").unwrap();
    let end = start + text[start..].find("\n\n").unwrap();
    let bluesky: Vec<&str> = text[start..end].lines().map(|l| l.trim_start_matches('#').trim_start()).collect();
    let text = format!("{}{}{}", &text[..start], bluesky.join("\n"), &text[end..])
        .replace("[[follow]]\npoll = \"30s\"", "[[follow]]\npoll = \"30s\"\ncrosspost = true");
    Config::parse(Path::new("example.toml"), &text).unwrap()
}

fn typed(key: &str, id: &str, text: &str) -> crate::follow::Seen {
    crate::follow::Seen {
        remote: crate::job::RemoteRef { id: id.into(), url: None, uri: Some(key.into()), cid: None },
        key: key.into(),
        created_at: t("2010-03-18T13:40:00Z"),
        text: text.into(),
        tags: Vec::new(),
        reply: false,
        repost: false,
    }
}

#[test]
fn a_post_typed_by_hand_is_copied_once_into_the_sessions_thread_and_never_back() {
    let config = crossposting();
    assert!(config.follows.iter().all(|w| w.crosspost), "both primaries' watches copy");
    let store = planned(&config);
    change(&store, "case-studies.title.delegate-bsky", |r| r.state = JobState::Done);
    let now = t("2010-03-18T13:45:00Z");
    let mut book = Book { config: &config, store: &store, now };
    let state = crate::follow::WatchState { cursor: None, since: now };
    let source = typed("https://mastodon.example/users/delegate/statuses/7", "7", "From the floor #EMIEP");
    let found = |book: &mut Book, watch: &str, post: &crate::follow::Seen| {
        book.apply(&Request::Found { watch: watch.into(), posts: vec![post.clone()], state: state.clone() }).unwrap()
    };
    let out = found(&mut book, "delegate", &source);
    assert!(out.response.message.as_deref().unwrap().contains("1 copied to the other networks"), "{:?}", out.response);
    let scope = crate::follow::crosspost::scope(crate::network::Network::Mastodon, &source.key);
    let copies: Vec<JobRecord> = store.jobs_with_prefix(&format!("{scope}.")).unwrap();
    let ids: Vec<&str> = copies.iter().map(|j| j.spec.id.as_str()).collect();
    assert_eq!(ids, vec![format!("{scope}.post.delegate-bsky"), format!("{scope}.post.delegate-bsky+council-bsky")]);
    let copy = &copies[0];
    assert_eq!((copy.spec.kind, copy.spec.origin), (JobKind::Reply, Origin::Crosspost));
    assert_eq!(copy.spec.parent, Some(id("case-studies.title.delegate-bsky")), "in the session's thread");
    assert_eq!(copy.spec.session.as_deref(), Some("case-studies"));
    assert_eq!(copy.spec.text.as_deref(), Some("From the floor #EMIEP"), "the hashtag is not added twice");
    assert_eq!(copy.ready_at(), now);

    // Read again (a restart, two polls overlapping): nothing more.
    let before = jobs(&store).len();
    let again = found(&mut book, "delegate", &source);
    assert!(again.response.message.as_deref().unwrap().contains("1 seen before"), "{:?}", again.response);
    assert_eq!(jobs(&store).len(), before);

    // The copy, once posted, is read by the Bluesky watch: loudhailer's own, not copied back.
    let uri = "at://did:plc:delegate/app.bsky.feed.post/3kcopy";
    change(&store, copy.spec.id.as_str(), |r| {
        r.state = JobState::Done;
        r.remote = Some(crate::job::RemoteRef { id: uri.into(), url: None, uri: Some(uri.into()), cid: None });
    });
    let back = found(&mut book, "delegate-bsky", &typed(uri, uri, "From the floor #EMIEP"));
    assert!(back.response.message.as_deref().unwrap().contains("1 loudhailer's own"), "{:?}", back.response);
    assert_eq!(jobs(&store).len(), before, "not copied back, not boosted as found");

    // Outside sessions: a post of its own.
    let mut later = Book { config: &config, store: &store, now: t("2010-03-18T17:30:00Z") };
    let evening = typed("at://did:plc:delegate/app.bsky.feed.post/3kevening", "e", "Thank you all #EMIEP");
    found(&mut later, "delegate-bsky", &evening);
    let scope = crate::follow::crosspost::scope(crate::network::Network::Bluesky, &evening.key);
    let alone = store.job(&JobId(format!("{scope}.post.delegate"))).unwrap().expect("copied to Mastodon");
    assert_eq!((alone.spec.kind, alone.spec.parent.as_ref(), alone.spec.session.as_ref()), (JobKind::Say, None, None));
    assert!(store.job(&JobId(format!("{scope}.post.delegate+council"))).unwrap().is_some(), "boosted there");
}

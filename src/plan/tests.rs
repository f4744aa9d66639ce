use std::path::Path;

use super::*;
use crate::job::{JobRecord, JobState};
use std::collections::BTreeSet;

fn example() -> Config {
    Config::parse(Path::new("example.toml"), include_str!("../../config/example.toml")).unwrap()
}

fn planned(config: &Config) -> Plan {
    plan(config, &counters(config, &HashMap::new()), &Approvals::new()).unwrap()
}

#[test]
fn the_example_day_plans_threads_and_boosts() {
    let c = example();
    let p = planned(&c);
    let posts: Vec<&JobSpec> = p.jobs.iter().filter(|j| j.kind != JobKind::Boost).collect();
    let boosts: Vec<&JobSpec> = p.jobs.iter().filter(|j| j.kind == JobKind::Boost).collect();
    // 5 titles + 14 points + 1 coffee break, each boosted once by the council.
    assert_eq!(posts.len(), 20);
    assert_eq!(boosts.len(), 20);
    let first = &p.jobs[0];
    assert_eq!(first.id.as_str(), "equalities-law.title.delegate");
    assert_eq!(first.kind, JobKind::Post);
    assert_eq!(first.at.to_rfc3339(), "2010-03-18T10:00:00+00:00");
    let p2 = p.jobs.iter().find(|j| j.id.as_str() == "equalities-law.p2.delegate").unwrap();
    assert_eq!(p2.kind, JobKind::Reply);
    assert_eq!(p2.parent.as_ref().unwrap().as_str(), "equalities-law.p1.delegate");
    assert_eq!(p2.root.as_ref().unwrap().as_str(), "equalities-law.title.delegate");
    let coffee = posts.iter().find(|j| j.kind == JobKind::Recurring).unwrap();
    assert_eq!(coffee.id.as_str(), "coffee-break.20100318-1500.delegate");
    assert_eq!(coffee.text.as_deref(), Some("coffee break! #EMIEP"));
    for b in &boosts {
        let post = posts.iter().find(|j| Some(&j.id) == b.parent.as_ref()).unwrap();
        let after = (b.at - post.at).num_seconds();
        assert!((240..=360).contains(&after), "{} boosts {after}s after", b.id);
        assert_eq!(b.account, "council");
        assert_eq!(b.id.as_str(), format!("{}+council", post.id));
    }
    // Sorted by time.
    assert!(p.jobs.windows(2).all(|w| w[0].at <= w[1].at));
}

#[test]
fn planning_again_gives_the_same_jobs() {
    let c = example();
    assert_eq!(planned(&c).jobs, planned(&c).jobs);
}

#[test]
fn jitter_is_stable_and_bounded() {
    let j = Duration::from_secs(60);
    let mut seen = BTreeSet::new();
    for i in 0..500 {
        let id = JobId(format!("s.p{i}.a+b"));
        let o = jitter_offset(&id, j).num_seconds();
        assert!((-60..=60).contains(&o));
        assert_eq!(o, jitter_offset(&id, j).num_seconds());
        seen.insert(o);
    }
    assert!(seen.len() > 60, "offsets should spread: {}", seen.len());
    assert_eq!(jitter_offset(&JobId("x".into()), Duration::ZERO).num_seconds(), 0);
}

#[test]
fn server_limits_change_the_split() {
    let c = example();
    let mut known = HashMap::new();
    known.insert("delegate".to_string(), Counter::Mastodon { max: 100, url: 23 });
    let p = plan(&c, &counters(&c, &known), &Approvals::new()).unwrap();
    assert!(p.jobs.iter().any(|j| j.id.as_str() == "equalities-law.p2-2.delegate"));
    assert!(p.notes.iter().any(|n| n.contains("equalities-law.p2.delegate is too long")), "{:?}", p.notes);
    let cont = p.jobs.iter().find(|j| j.id.as_str() == "equalities-law.p2-2.delegate").unwrap();
    assert_eq!(cont.parent.as_ref().unwrap().as_str(), "equalities-law.p2.delegate");
}

fn stored(jobs: &[JobSpec]) -> HashMap<JobId, JobRecord> {
    jobs.iter().map(|j| (j.id.clone(), JobRecord::new(j.clone()))).collect()
}

#[test]
fn merging_keeps_what_was_sent_and_moves_what_was_not() {
    let c = example();
    let jobs = planned(&c).jobs;
    let mut store = stored(&jobs);
    // Nothing changes: nothing to write.
    assert!(merge(&store, jobs.clone(), &Adjustments::default()).write.is_empty());

    let title = JobId("equalities-law.title.delegate".into());
    store.get_mut(&title).unwrap().state = JobState::Done;
    let mut edited = jobs.clone();
    for j in edited.iter_mut().filter(|j| j.session.as_deref() == Some("equalities-law")) {
        j.at += chrono::Duration::minutes(15);
        if let Some(t) = j.text.as_mut() {
            *t = t.replace("Equalities Law", "Equality Law");
        }
    }
    // Drop the last session from the schedule.
    edited.retain(|j| j.session.as_deref() != Some("eia-workshop"));
    let m = merge(&store, edited.clone(), &Adjustments::default());
    assert!(m.write.iter().all(|r| r.spec.id != title), "a done job is never rewritten");
    assert!(m.notes.iter().any(|n| n.starts_with("equalities-law.title.delegate was already posted")));
    let p1 = m.write.iter().find(|r| r.spec.id.as_str() == "equalities-law.p1.delegate").unwrap();
    assert_eq!(p1.spec.at.to_rfc3339(), "2010-03-18T10:26:15+00:00");
    let cancelled: Vec<_> = m.write.iter().filter(|r| r.state == JobState::Cancelled).collect();
    assert_eq!(cancelled.len(), 8, "3 points + title, each with its boost");
    assert!(cancelled.iter().all(|r| r.spec.session.as_deref() == Some("eia-workshop")));
}

#[test]
fn adjustments_shift_and_skip() {
    let c = example();
    let jobs = planned(&c).jobs;
    let store = stored(&jobs);
    let mut adj = Adjustments::default();
    adj.shifts.insert("case-studies".into(), 900);
    adj.shift_all = -60;
    adj.skipped.insert("eia-workshop".into());
    let m = merge(&store, jobs.clone(), &adj);
    let get = |id: &str| m.write.iter().find(|r| r.spec.id.as_str() == id).unwrap();
    assert_eq!(get("case-studies.title.delegate").spec.at.to_rfc3339(), "2010-03-18T13:44:00+00:00");
    assert_eq!(get("equalities-law.title.delegate").spec.at.to_rfc3339(), "2010-03-18T09:59:00+00:00");
    assert_eq!(get("eia-workshop.p1.delegate").state, JobState::Cancelled);
    // A failed job whose text was corrected is tried again.
    let mut store = stored(&jobs);
    let id = JobId("ehrc-priorities.p1.delegate".into());
    store.get_mut(&id).unwrap().state = JobState::Failed;
    let mut edited = jobs.clone();
    edited.iter_mut().find(|j| j.id == id).unwrap().text = Some("shorter".into());
    let m = merge(&store, edited.clone(), &Adjustments::default());
    assert_eq!(m.write.iter().find(|r| r.spec.id == id).unwrap().state, JobState::Pending);
}

#[test]
fn a_boost_of_a_sent_post_keeps_its_distance_through_shifts() {
    let c = example();
    let jobs = planned(&c).jobs;
    let mut store = stored(&jobs);
    let title = JobId("equalities-law.title.delegate".into());
    let boost = JobId("equalities-law.title.delegate+council".into());
    store.get_mut(&title).unwrap().state = JobState::Done;
    let before = store[&boost].spec.at;
    let mut adj = Adjustments::default();
    adj.shifts.insert("equalities-law".into(), 900);
    let m = merge(&store, jobs.clone(), &adj);
    let moved_point = m.write.iter().find(|r| r.spec.id.as_str() == "equalities-law.p1.delegate").unwrap();
    assert_eq!(moved_point.spec.at - store[&moved_point.spec.id].spec.at, chrono::Duration::seconds(900));
    // The boost of the sent title stays with the title.
    assert!(m.write.iter().all(|r| r.spec.id != boost), "unchanged, so not rewritten");
    assert_eq!(store[&boost].spec.at, before);
}

/// The example day with both accounts on X.
fn example_on_x() -> Config {
    let text = include_str!("../../config/example.toml")
        .replace("platform = \"mastodon\"", "platform = \"x\"")
        .replace("server = \"https://mastodon.example\"\n", "")
        .replace(
            "token_env = \"LOUDHAILER_DELEGATE_TOKEN\"   # or token_file = \"path\" (a file only you can read)",
            "client_id = \"delegate-app\"",
        )
        .replace("token_env = \"LOUDHAILER_COUNCIL_TOKEN\"", "client_id = \"council-app\"");
    Config::parse(Path::new("example.toml"), &text).unwrap()
}

#[test]
fn x_threads_carry_their_positions_and_keep_room_for_numbers() {
    let c = example_on_x();
    let p = planned(&c);
    let pos = |id: &str| p.jobs.iter().find(|j| j.id.as_str() == id).unwrap().thread;
    assert_eq!(pos("equalities-law.title.delegate"), Some((1, 4)));
    assert_eq!(pos("equalities-law.p1.delegate"), Some((2, 4)));
    assert_eq!(pos("equalities-law.p3.delegate"), Some((4, 4)));
    assert_eq!(pos("ehrc-priorities.p2.delegate"), Some((3, 3)));
    assert_eq!(pos("coffee-break.20100318-1500.delegate"), None);
    assert_eq!(pos("equalities-law.p1.delegate+council"), None);
    let x = Counter::default_for(Network::X);
    for j in p.jobs.iter().filter(|j| j.kind.is_post()) {
        let (n, of) = j.thread.unwrap_or((1, 1));
        let numbered = crate::compose::numbered(n, of, j.text.as_deref().unwrap());
        assert!(x.fits(&numbered), "{} does not fit once numbered", j.id);
    }
    assert!(
        p.notes.iter().any(|n| n.starts_with("X may refuse delegate's replies") && n.contains("\"2/4 …\"")),
        "{:?}",
        p.notes
    );
    // The same day on Mastodon says nothing of it.
    assert!(!planned(&example()).notes.iter().any(|n| n.contains("X may refuse")));
}

#[test]
fn x_warns_of_texts_it_would_refuse_as_duplicates() {
    let text = include_str!("../../config/example.toml").replace(
        "\"Publish the assessment and review it when the policy changes.\",",
        "\"Publish the assessment and review it when the policy changes.\",\n  \"The Equality Bill brings nine separate pieces of discrimination law into one Act.\",",
    );
    let on_x = text.replace("platform = \"mastodon\"", "platform = \"x\"").replace(
        "token_env = \"LOUDHAILER_DELEGATE_TOKEN\"   # or token_file = \"path\" (a file only you can read)",
        "client_id = \"d\"",
    );
    let on_x = on_x.replace("token_env = \"LOUDHAILER_COUNCIL_TOKEN\"", "client_id = \"c\"");
    let p = planned(&Config::parse(Path::new("e.toml"), &on_x).unwrap());
    let dup: Vec<&String> = p.notes.iter().filter(|n| n.contains("repeats a recent one")).collect();
    assert_eq!(dup.len(), 1, "{:?}", p.notes);
    assert!(dup[0].contains("eia-workshop.p4.delegate has the same text as equalities-law.p1.delegate"), "{}", dup[0]);
}

#[test]
fn the_example_day_costs_on_x() {
    let c = example_on_x();
    let p = planned(&c);
    let e = crate::cost::Estimate::of(&c, &p.jobs).unwrap();
    assert_eq!(e, crate::cost::Estimate { posts: 20, posts_with_url: 0, retweets: 20 });
    assert_eq!(e.total_micro_usd(), 600_000);
    assert_eq!(crate::cost::Estimate::of(&example(), &planned(&example()).jobs), None);
}

/// A start stores the merge's writes in batches, not atomically (`Store::put_planned`): a crash
/// may leave any part of them stored. The next start's merge of the same plan writes exactly
/// what is missing, and then nothing: the store ends as if the first write had finished.
#[test]
fn merge_completes_a_partly_stored_plan() {
    let c = example();
    let jobs = planned(&c).jobs;
    let mut adj = Adjustments::default();
    adj.shifts.insert("case-studies".into(), 900);
    adj.skipped.insert("eia-workshop".into());
    // A first start cut short, and a reload with new adjustments cut short.
    for (before, adj) in [(HashMap::new(), Adjustments::default()), (stored(&jobs), adj)] {
        let full = merge(&before, jobs.clone(), &adj).write;
        assert!(!full.is_empty());
        let store = crate::store::Store::temporary().unwrap();
        let old: Vec<JobRecord> = before.values().cloned().collect();
        store.put_jobs(&old).unwrap();
        // Every other record of what the merge wrote reached the disk.
        let (reached, lost): (Vec<_>, Vec<_>) = full.iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let reached: Vec<JobRecord> = reached.into_iter().map(|(_, r)| r.clone()).collect();
        store.put_planned(&reached).unwrap();
        let again = merge(&store.jobs_by_id().unwrap(), jobs.clone(), &adj);
        let lost: Vec<&JobRecord> = lost.into_iter().map(|(_, r)| r).collect();
        assert_eq!(again.write.iter().collect::<Vec<_>>(), lost, "the second merge writes what is missing");
        store.put_planned(&again.write).unwrap();
        let now = store.jobs_by_id().unwrap();
        assert!(merge(&now, jobs.clone(), &adj).write.is_empty(), "then nothing");
        let mut whole = before.clone();
        whole.extend(full.into_iter().map(|r| (r.spec.id.clone(), r)));
        assert_eq!(now, whole, "as if the first write had finished");
    }
}

#[test]
fn images_go_on_the_first_post_of_their_item_and_a_failed_post_with_new_images_is_tried_again() {
    use crate::job::Image;
    let mut c = example();
    let slide = Image { file: "/event/slide.jpg".into(), alt: "The slide".into() };
    let room = Image { file: "/event/room.jpg".into(), alt: String::new() };
    let mut sessions = c.sessions.to_vec();
    sessions[0].images = vec![slide.clone()];
    // A point too long for one post: its images go with its first part only.
    sessions[0].points[1].text = "word ".repeat(120);
    sessions[0].points[1].images = vec![room.clone(), slide.clone()];
    c.sessions = sessions.clone().into();
    let p = planned(&c);
    let job = |id: &str| p.jobs.iter().find(|j| j.id.as_str() == id).unwrap_or_else(|| panic!("no {id}"));
    assert_eq!(job("equalities-law.title.delegate").images, std::slice::from_ref(&slide));
    assert_eq!(job("equalities-law.p2.delegate").images, [room.clone(), slide.clone()]);
    assert!(job("equalities-law.p2-2.delegate").images.is_empty());
    assert!(job("equalities-law.p1.delegate").images.is_empty());
    assert!(job("equalities-law.title.delegate+council").images.is_empty(), "a boost carries none");

    // Stored: the title failed (its image would not upload), p2 was posted.
    let mut stored: HashMap<JobId, JobRecord> =
        p.jobs.iter().map(|j| (j.id.clone(), JobRecord::new(j.clone()))).collect();
    let title = JobId("equalities-law.title.delegate".into());
    let p2 = JobId("equalities-law.p2.delegate".into());
    stored.get_mut(&title).unwrap().state = JobState::Failed;
    stored.get_mut(&p2).unwrap().state = JobState::Done;
    // Unchanged: nothing to write.
    assert!(merge(&stored, p.jobs.clone(), &Adjustments::default()).write.is_empty());
    // New images: the failed title is tried again; the posted point is reported, not edited.
    let fixed = Image { file: "/event/slide-fixed.jpg".into(), ..slide };
    sessions[0].images = vec![fixed.clone()];
    sessions[0].points[1].images = vec![room];
    c.sessions = sessions.into();
    let again = planned(&c);
    let m = merge(&stored, again.jobs.clone(), &Adjustments::default());
    let rewritten: Vec<&JobRecord> = m.write.iter().collect();
    assert_eq!(rewritten.len(), 1, "{:?}", m.write.iter().map(|r| &r.spec.id).collect::<Vec<_>>());
    assert_eq!(rewritten[0].spec.id, title);
    assert_eq!(rewritten[0].state, JobState::Pending);
    assert_eq!(rewritten[0].spec.images, [fixed]);
    assert!(
        m.notes.iter().any(|n| n.contains("equalities-law.p2.delegate") && n.contains("new images")),
        "{:?}",
        m.notes
    );
}

#[test]
fn a_job_that_may_have_reached_the_server_is_recalled_not_cancelled_nor_reworded() {
    let c = example();
    let jobs = planned(&c).jobs;
    let mut store = stored(&jobs);
    let intent = || Some(crate::job::Intent::new("k".into(), jobs[0].at));
    // One point was tried and will be tried again (pending with its key); one is in flight.
    let tried = JobId("eia-workshop.p1.delegate".into());
    let flying = JobId("eia-workshop.p2.delegate".into());
    let reworded = JobId("case-studies.p1.delegate".into());
    for (id, state) in [(&tried, JobState::Pending), (&flying, JobState::InFlight), (&reworded, JobState::Pending)] {
        let r = store.get_mut(id).unwrap();
        r.state = state;
        r.intent = intent();
    }
    let mut edited = jobs.clone();
    edited.retain(|j| j.session.as_deref() != Some("eia-workshop"));
    for j in edited.iter_mut().filter(|j| j.id == reworded) {
        j.text = Some("Another text".into());
        j.at += chrono::Duration::minutes(5);
    }
    let m = merge(&store, edited.clone(), &Adjustments::default());
    let get = |id: &JobId| m.write.iter().find(|r| &r.spec.id == id);
    for id in [&tried, &flying] {
        let r = get(id).unwrap();
        assert_eq!(r.recall.as_deref(), Some("no longer in the schedule"), "{id}");
        assert!(!r.state.is_settled(), "{id}: checked, not cancelled blind");
    }
    assert!(get(&reworded).is_none(), "a job that may have gone out keeps its text and time");
    assert!(m.notes.iter().any(|n| n.contains("case-studies.p1.delegate was already posted (or may have been)")));
    assert!(m.notes.iter().any(|n| n.contains("eia-workshop.p1.delegate is no longer in the schedule, but a request")));
    // The rest of the session, never tried, is cancelled.
    assert_eq!(get(&JobId("eia-workshop.title.delegate".into())).unwrap().state, JobState::Cancelled);
    // Merged again: nothing more to write; planned again: the recall is lifted.
    for r in &m.write {
        store.insert(r.spec.id.clone(), r.clone());
    }
    assert!(merge(&store, edited.clone(), &Adjustments::default()).write.iter().all(|r| r.spec.id != tried));
    let again = merge(&store, jobs.clone(), &Adjustments::default());
    assert_eq!(again.write.iter().find(|r| r.spec.id == tried).unwrap().recall, None);
    // A skipped session recalls the same way.
    let mut adj = Adjustments::default();
    adj.skipped.insert("eia-workshop".into());
    let mut fresh = stored(&jobs);
    fresh.get_mut(&tried).unwrap().intent = intent();
    let skipped = merge(&fresh, jobs.clone(), &adj);
    let r = skipped.write.iter().find(|r| r.spec.id == tried).unwrap();
    assert_eq!((r.state, r.recall.as_deref()), (JobState::Pending, Some("session skipped")));
}

fn example_on_linkedin(points: &str) -> Config {
    let text = include_str!("../../config/example.toml")
        .replace("platform = \"mastodon\"", "platform = \"linkedin\"")
        .replace("server = \"https://mastodon.example\"\n", "")
        + &format!("\n[linkedin]\npoints = \"{points}\"\n");
    Config::parse(Path::new("example.toml"), &text).unwrap()
}

#[test]
fn on_linkedin_only_posts_are_reshared_and_points_as_comments_are_not() {
    // Points as comments (the default): 5 titles and the coffee break are reshared, 14 points not.
    let p = planned(&example_on_linkedin("comments"));
    let boosts: Vec<&JobSpec> = p.jobs.iter().filter(|j| j.kind == JobKind::Boost).collect();
    assert_eq!(boosts.len(), 6, "{boosts:#?}");
    let by_id: HashMap<&JobId, &JobSpec> = p.jobs.iter().map(|j| (&j.id, j)).collect();
    assert!(boosts.iter().all(|b| by_id[b.parent.as_ref().unwrap()].kind != JobKind::Reply));
    assert_eq!(p.jobs.iter().filter(|j| j.kind == JobKind::Reply).count(), 14, "the points still go out");
    // Points as posts: every post is reshared.
    let p = planned(&example_on_linkedin("posts"));
    assert_eq!(p.jobs.iter().filter(|j| j.kind == JobKind::Boost).count(), 20);
}

#[test]
fn linkedin_warns_of_posts_it_would_refuse_as_duplicates_but_not_of_comments() {
    let text = include_str!("../../config/example.toml")
        .replace("platform = \"mastodon\"", "platform = \"linkedin\"")
        .replace("server = \"https://mastodon.example\"\n", "")
        + "\n[[session]]\ntitle = \"Panel\"\nstart = \"16:00\"\nend = \"16:30\"\npoints = [\"Agreed.\", \"Agreed.\"]\n"
        + "\n[[session]]\ntitle = \"Panel\"\nstart = \"16:30\"\nend = \"17:00\"\n";
    let c = Config::parse(Path::new("example.toml"), &text).unwrap();
    let notes = planned(&c).notes;
    let dup: Vec<&String> =
        notes.iter().filter(|n| n.starts_with("LinkedIn refuses a post whose text repeats")).collect();
    // The second "Panel" title repeats the first; the repeated points are comments.
    assert_eq!(dup.len(), 1, "{notes:#?}");
    assert!(dup[0].contains("title.delegate"), "{}", dup[0]);
}

/// A sentence from an abstract is planned only once approved: then as a reply in its session's
/// thread, at its place among the suggestions (or at once if that has passed), with its boosts.
#[test]
fn suggestions_are_planned_only_once_approved() {
    let mut c = example();
    let mut sessions = c.sessions.to_vec();
    let session = sessions.iter_mut().find(|s| s.id == "equalities-law").unwrap();
    session.suggested = vec!["None of those statements are true!".into(), "Second sentence.".into()];
    let (start, end) = (session.start, session.end);
    c.sessions = sessions.into();
    let before = planned(&c);
    assert!(!before.jobs.iter().any(|j| j.id.as_str().contains(".s1.") || j.id.as_str().contains(".s2.")));
    let listed = suggestions(&c, &Approvals::new());
    assert_eq!(listed.len(), 2);
    assert_eq!((listed[1].n, listed[1].approved), (2, None));

    // Approved before the session: at its place (2 of 2, two thirds through).
    let mut approved = Approvals::new();
    let early = start - chrono::Duration::hours(1);
    approved.entry("equalities-law".into()).or_default().insert("Second sentence.".into(), early);
    let p = plan(&c, &counters(&c, &HashMap::new()), &approved).unwrap();
    let s2 = p.jobs.iter().find(|j| j.id.as_str() == "equalities-law.s2.delegate").unwrap();
    assert_eq!(s2.kind, JobKind::Reply);
    assert_eq!(s2.at, start + (end - start) * 2 / 3);
    assert!(s2.text.as_deref().unwrap().starts_with("Second sentence."));
    assert_eq!(s2.root.as_ref().unwrap().as_str(), "equalities-law.title.delegate");
    // In the thread in time order: the post before it is due no later.
    let parent = p.jobs.iter().find(|j| Some(&j.id) == s2.parent.as_ref()).unwrap();
    assert!(parent.at <= s2.at, "{} at {} before {}", parent.id, parent.at, s2.at);
    assert!(p.jobs.iter().any(|j| j.id.as_str() == "equalities-law.s2.delegate+council"));
    assert!(!p.jobs.iter().any(|j| j.id.as_str().contains(".s1.")), "only the approved one");
    assert_eq!(p.jobs.len(), before.jobs.len() + 2);
    assert!(suggestions(&c, &approved)[1].approved.is_some());

    // Approved after its place has passed: when approved.
    let late = end + chrono::Duration::minutes(5);
    approved.entry("equalities-law".into()).or_default().insert("Second sentence.".into(), late);
    let p = plan(&c, &counters(&c, &HashMap::new()), &approved).unwrap();
    let s2 = p.jobs.iter().find(|j| j.id.as_str() == "equalities-law.s2.delegate").unwrap();
    assert_eq!(s2.at, late);
}

/// A long programme is composed in parts on several threads: the same pieces, in the same
/// order, as one thread composes; and the error is the first failing session's.
#[test]
fn a_long_programme_is_composed_in_parts_as_one_thread_would() {
    let c = example();
    let example_sessions = c.sessions.to_vec();
    let sessions: Vec<crate::schedule::Session> = (0..PARALLEL_FROM + 100)
        .map(|i| {
            let mut s = example_sessions[i % example_sessions.len()].clone();
            s.id = format!("s{i}");
            s.title = format!("Talk {i}");
            s
        })
        .collect();
    let counter = Counter::default_for(Network::Mastodon);
    let composer = Composer::new(&c.compose, &c.event.hashtags, c.event.timezone).unwrap();
    let together = compose_sessions(&composer, &sessions, Network::Mastodon, &counter).unwrap();
    let alone: Vec<Vec<Piece>> =
        sessions.iter().map(|s| composer.session(s, Network::Mastodon, &counter).unwrap()).collect();
    assert_eq!(together.len(), sessions.len());
    assert_eq!(together, alone);
    let mut failing = c.compose.clone();
    failing.title = "{{ title }}{% if title == 'Talk 20' %}{{ nope_twenty() }}{% elif title == 'Talk 550' %}{{ nope_550() }}{% endif %}".into();
    let composer = Composer::new(&failing, &c.event.hashtags, c.event.timezone).unwrap();
    let err = compose_sessions(&composer, &sessions, Network::Mastodon, &counter).unwrap_err().to_string();
    assert!(err.contains("nope_twenty"), "{err}");
    let err = compose_sessions(&composer, &sessions[100..], Network::Mastodon, &counter).unwrap_err().to_string();
    assert!(err.contains("nope_550"), "{err}");
}

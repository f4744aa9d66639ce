use std::path::Path;
use std::sync::atomic::AtomicU64;

use super::*;
use crate::job::{JobRecord, JobState};
use crate::platform::dryrun::DryRun;

fn example() -> Arc<Config> {
    Arc::new(Config::parse(Path::new("example.toml"), include_str!("../../config/example.toml")).unwrap())
}

/// The example day on dry-run clients and a temporary store, on `clock`.
fn dry(config: &Arc<Config>, clock: Clock) -> (Setup, Store) {
    let counter = Arc::new(AtomicU64::new(0));
    let mut clients = HashMap::new();
    let mut limiters = HashMap::new();
    for a in &config.accounts {
        let c = DryRun::new(&a.id, a.network, a.server.clone(), clock, config.event.timezone, counter.clone());
        clients.insert(a.id.clone(), Arc::new(Client::DryRun(c)));
        limiters.insert(a.id.clone(), Arc::new(Limiter::new(clock, crate::limit::published(a.network))));
    }
    let store = Store::temporary().unwrap();
    let setup = Setup {
        config: config.clone(),
        store: store.clone(),
        clock,
        clients,
        limiters,
        exit_when_done: true,
        only: None,
        control: None,
        sent: None,
        watches_over: None,
        prepared: None,
    };
    (setup, store)
}

#[tokio::test(start_paused = true)]
async fn a_day_plays_on_a_paused_clock() {
    let config = example();
    let origin = config.sessions.to_vec()[0].start;
    let clock = Clock::scaled(origin, 1.0);
    let (setup, store) = dry(&config, clock);
    let summary = run(setup, CancellationToken::new()).await.unwrap();
    assert_eq!(summary.sent, 40);
    // The engine slept until each deadline and no longer: every job went out at its planned
    // instant, within tokio's timer resolution of a millisecond per wait (a boost waits on its
    // post, so two).
    for job in store.jobs().unwrap() {
        let done = job.done_at.expect("done");
        let late = (done - job.spec.at).num_milliseconds();
        assert!((0..=2).contains(&late), "{} went out {late} ms after {}", job.spec.id, job.spec.at);
    }
}

/// The deadline choice when a post goes out late: its boost keeps the planned distance from
/// the post's real time, and a reply never goes before the post it answers.
#[tokio::test(start_paused = true)]
async fn late_posts_carry_their_boosts_and_replies_with_them() {
    let config = example();
    let origin = config.sessions.to_vec()[0].start;
    // Start five minutes into the day (within the ten-minute catch-up): the title goes at once.
    let clock = Clock::scaled(origin + chrono::Duration::minutes(5), 1.0);
    let (setup, store) = dry(&config, clock);
    run(setup, CancellationToken::new()).await.unwrap();
    let jobs: HashMap<String, JobRecord> =
        store.jobs().unwrap().into_iter().map(|j| (j.spec.id.0.clone(), j)).collect();
    let title = &jobs["equalities-law.title.delegate"];
    let boost = &jobs["equalities-law.title.delegate+council"];
    // Caught up at once, five minutes late …
    assert!((title.done_at.unwrap() - (origin + chrono::Duration::minutes(5))).num_milliseconds() <= 2);
    // … and its boost followed it by the planned distance, not at its own planned time.
    let planned_gap = boost.spec.at - title.spec.at;
    let gap = boost.done_at.unwrap() - title.done_at.unwrap();
    assert!((gap - planned_gap).num_milliseconds().abs() <= 2, "{gap} vs {planned_gap}");
    assert!(boost.done_at.unwrap() - boost.spec.at >= chrono::Duration::minutes(4), "the boost moved with its post");
    // The first point was due at 10:11:15, after the late title: it kept its own time.
    let p1 = &jobs["equalities-law.p1.delegate"];
    assert!((p1.done_at.unwrap() - p1.spec.at).num_milliseconds() <= 2);
}

/// The dry-run client of an account, to script.
fn dry_client(setup: &Setup, account: &str) -> Arc<Client> {
    setup.clients[account].clone()
}

fn script(client: &Client, step: crate::platform::dryrun::Scripted) {
    match client {
        Client::DryRun(d) => d.script.lock().unwrap().push_back(step),
        _ => panic!("not a dry-run client"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_panics_is_reported_and_its_jobs_go_out_after_its_restart() {
    let config = example();
    let origin = config.sessions.to_vec()[0].start;
    let clock = Clock::scaled(origin, 1.0);
    let (setup, store) = dry(&config, clock);
    let delegate = dry_client(&setup, "delegate");
    // The first post panics in the worker, mid-send (after its intent is stored).
    script(&delegate, crate::platform::dryrun::Scripted::Panic("scripted panic"));
    let summary = run(setup, CancellationToken::new()).await.unwrap();
    assert_eq!(summary.sent, 40, "every job still went out: {:?}", summary.notes);
    assert!(summary.by_state.get("done") == Some(&40), "{:?}", summary.by_state);
    let note = summary.notes.iter().find(|n| n.contains("worker stopped")).expect("the stop is reported");
    assert!(
        note.contains("delegate") && note.contains("panicked: scripted panic") && note.contains("1 times"),
        "{note}"
    );
    // The job it was sending went again with its stored key: one post, two attempts.
    let title = store.job(&JobId("equalities-law.title.delegate".into())).unwrap().unwrap();
    assert_eq!((title.state, title.attempts), (JobState::Done, 2));
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_keeps_panicking_pauses_its_account_and_the_others_go_on() {
    let config = example();
    let origin = config.sessions.to_vec()[0].start;
    let clock = Clock::scaled(origin, 1.0);
    let (setup, store) = dry(&config, clock);
    let delegate = dry_client(&setup, "delegate");
    for _ in 0..workers::MAX_RESTARTS {
        script(&delegate, crate::platform::dryrun::Scripted::Panic("scripted panic"));
    }
    let summary = run(setup, CancellationToken::new()).await.unwrap();
    let paused = store.account("delegate").unwrap().paused.expect("paused");
    assert!(paused.contains("its worker failed 5 times") && paused.contains("loudhailer resume delegate"), "{paused}");
    // Nothing of the delegate went out; the council had nothing of its own to boost.
    assert_eq!(summary.sent, 0);
    assert!(summary.notes.iter().any(|n| n.contains("account delegate is paused")), "{:?}", summary.notes);
}

#[tokio::test(start_paused = true)]
async fn a_hold_the_server_asked_for_survives_a_restart() {
    let config = example();
    let origin = config.sessions.to_vec()[0].start;
    // A minute before the first post.
    let clock = Clock::scaled(origin - chrono::Duration::minutes(1), 1.0);
    let (mut setup, store) = dry(&config, clock);
    setup.exit_when_done = false;
    let limiter = setup.limiters["delegate"].clone();
    let hold_until = origin + chrono::Duration::minutes(30);
    let stop = CancellationToken::new();
    let stopper = stop.clone();
    let running = tokio::spawn(run(setup, stop));
    // Half a second in, the server answers 429 with half an hour to wait; a second in, the
    // daemon stops (as a kill would, before the hold ends).
    tokio::time::sleep(Duration::from_millis(500)).await;
    limiter.hold_until(hold_until, "the server answered 429 Too Many Requests");
    tokio::time::sleep(Duration::from_millis(500)).await;
    stopper.cancel();
    running.await.unwrap().unwrap();
    let stored = store.account("delegate").unwrap();
    assert_eq!(stored.hold_until, Some(hold_until));
    assert!(stored.hold_reason.unwrap().contains("429"));
    assert_eq!(store.jobs().unwrap().iter().filter(|j| j.state == JobState::Done).count(), 0);
    // Restart: new limiters (nothing in memory), same store. The delegate's first post, due at
    // 10:00, waits for the stored hold.
    let (mut again, _) = dry(&config, clock);
    again.store = store.clone();
    let summary = run(again, CancellationToken::new()).await.unwrap();
    assert_eq!(summary.sent, 40);
    let title = store.job(&JobId("equalities-law.title.delegate".into())).unwrap().unwrap();
    let done = title.done_at.unwrap();
    assert!(done >= hold_until, "went out at {done}, inside the hold until {hold_until}");
}

#[tokio::test]
async fn a_start_with_the_same_files_and_limits_plans_nothing() {
    let config = example();
    let store = Store::temporary().unwrap();
    let first = plan_and_store(&config, &store).unwrap().unwrap();
    assert!(!first.unchanged);
    assert_eq!(first.written.len(), 40);
    let again = plan_and_store(&config, &store).unwrap().unwrap();
    assert!(again.unchanged && again.written.is_empty());
    // Another text in the config: planned and merged again.
    let text = include_str!("../../config/example.toml").replace("Equalities Law", "Equalities Law today");
    let edited = Arc::new(Config::parse(Path::new("example.toml"), &text).unwrap());
    let third = plan_and_store(&edited, &store).unwrap().unwrap();
    assert!(!third.unchanged);
    assert!(third.written.iter().any(|id| id.as_str() == "equalities-law.title.delegate"));
    // A server's new length limit plans again too.
    store
        .update_account("delegate", |a| a.counter = Some(crate::count::Counter::Mastodon { max: 5000, url: 23 }))
        .unwrap();
    assert!(!plan_and_store(&edited, &store).unwrap().unwrap().unchanged);
}

#[tokio::test(start_paused = true)]
async fn jobs_beyond_the_horizon_stay_in_the_store_until_they_come_within_it() {
    // The example day runs 10:00 to 16:00: at 10:00 only the first two hours are read.
    let config = example();
    let origin = config.sessions.to_vec()[0].start;
    let clock = Clock::scaled(origin, 1.0);
    let (setup, store) = dry(&config, clock);
    let stop = CancellationToken::new();
    let stopper = stop.clone();
    let running = tokio::spawn(run(setup, stop));
    tokio::time::sleep(Duration::from_secs(1)).await;
    stopper.cancel();
    let summary = running.await.unwrap().unwrap();
    assert_eq!(summary.sent, 1, "only the first title was due");
    // All forty are stored; the rest waits in the store's due tree.
    let later = store.due_until(Some(origin + HORIZON), origin + chrono::Duration::hours(12)).unwrap();
    assert!(!later.is_empty(), "jobs after the horizon are in the store");
    let total = store.jobs().unwrap().len();
    assert_eq!(total, 40);
}

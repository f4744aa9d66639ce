use std::path::Path;
use std::sync::atomic::AtomicU64;

use super::*;
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
    };
    (setup, store)
}

#[tokio::test(start_paused = true)]
async fn a_day_plays_on_a_paused_clock() {
    let config = example();
    let origin = config.sessions[0].start;
    let clock = Clock::scaled(origin, 1.0);
    let (setup, store) = dry(&config, clock);
    let summary = run(setup, std::future::pending()).await.unwrap();
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
    let origin = config.sessions[0].start;
    // Start five minutes into the day (within the ten-minute catch-up): the title goes at once.
    let clock = Clock::scaled(origin + chrono::Duration::minutes(5), 1.0);
    let (setup, store) = dry(&config, clock);
    run(setup, std::future::pending()).await.unwrap();
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

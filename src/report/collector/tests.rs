use std::sync::atomic::AtomicU64;

use super::*;
use crate::config::Account;
use crate::job::{JobId, JobKind, JobState};
use crate::platform::dryrun::DryRun;
use crate::report::fixtures::{config, jobs, t, A, B, C, D};
use crate::report::Snapshot;

fn dry_run(account: &Account, clock: Clock, counter: &Arc<AtomicU64>) -> Arc<Client> {
    let tz = chrono_tz::Europe::London;
    Arc::new(Client::DryRun(DryRun::new(
        &account.id,
        account.network,
        account.server.clone(),
        clock,
        tz,
        counter.clone(),
    )))
}

/// The daemon's collector, on a paused clock from 10:00 to 12:00: it wakes at each checkpoint
/// (15m, 1h) and as each boost went out, reads through the account's client, and stops when told.
#[tokio::test(start_paused = true)]
async fn the_collector_reads_at_each_checkpoint_and_stops_when_told() {
    let config = config();
    let clock = Clock::scaled(t("10:00:00"), 1.0);
    let store = Store::temporary().unwrap();
    store.put_jobs(&jobs()).unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let clients = config.accounts.iter().map(|a| (a.id.clone(), dry_run(a, clock, &counter))).collect();
    let collector = Collector {
        settings: config.report.clone(),
        timezone: config.event.timezone,
        store: store.clone(),
        clock,
        clients,
        sent: Arc::new(tokio::sync::Notify::new()),
    };
    run(collector, clock.sleep_until(t("12:00:00"))).await.unwrap();

    let mut got: HashMap<JobId, Vec<DateTime<Utc>>> = HashMap::new();
    for (id, at, snap) in store.metrics::<Snapshot>().unwrap() {
        assert!(snap.counts().is_some(), "{id} at {at}: {snap:?}");
        got.entry(id).or_default().push(at);
    }
    // Every job was done by 10:00 on this clock; D went out at 10:40, C at 15:00 (not yet).
    let want = [
        (A, vec!["10:05:00", "10:15:00", "11:00:00"]),
        (B, vec!["10:25:00", "10:35:00", "11:20:00"]),
        (D, vec!["10:55:00", "11:40:00"]),
    ];
    for (id, instants) in want {
        let at = &got[&JobId(id.into())];
        assert_eq!(at.len(), instants.len(), "{id}: {at:?}");
        for (a, w) in at.iter().zip(instants) {
            let late = *a - t(w);
            assert!(
                late >= chrono::Duration::zero() && late < chrono::Duration::seconds(1),
                "{id}: read at {a}, due {w}"
            );
        }
    }
    assert!(!got.contains_key(&JobId(C.into())), "C is not due before 15:15");
    assert_eq!(got.len(), 3, "boost jobs are never read: {got:?}");
}

/// A post that goes out while the collector sleeps: the engine's signal wakes it, and the
/// post's checkpoints are kept from then on; without a signal it would sleep on.
#[tokio::test(start_paused = true)]
async fn a_post_sent_while_it_sleeps_wakes_the_collector() {
    let config = config();
    let clock = Clock::scaled(t("10:00:00"), 1.0);
    let store = Store::temporary().unwrap();
    // Nothing is done yet: the collector has nothing to wait for but the signal.
    let mut all = jobs();
    for j in &mut all {
        j.state = crate::job::JobState::Pending;
        j.done_at = None;
    }
    store.put_jobs(&all).unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let clients = config.accounts.iter().map(|a| (a.id.clone(), dry_run(a, clock, &counter))).collect();
    let sent = Arc::new(tokio::sync::Notify::new());
    let collector = Collector {
        settings: config.report.clone(),
        timezone: config.event.timezone,
        store: store.clone(),
        clock,
        clients,
        sent: sent.clone(),
    };
    let task = tokio::spawn(run(collector, async move { clock.sleep_until(t("10:30:00")).await }));
    clock.sleep_until(t("10:10:00")).await;
    // A goes out now, as the engine would record it, and says so.
    let mut a = all.iter().find(|j| j.spec.id.as_str() == A).unwrap().clone();
    a.state = crate::job::JobState::Done;
    a.done_at = Some(clock.now());
    store.put_job(&a).unwrap();
    sent.notify_one();
    task.await.unwrap().unwrap();
    let reads: Vec<DateTime<Utc>> = store
        .metrics::<Snapshot>()
        .unwrap()
        .into_iter()
        .filter(|(id, _, _)| id.as_str() == A)
        .map(|(_, at, _)| at)
        .collect();
    // Its 15-minute checkpoint (10:25) was kept, because the signal woke the collector.
    assert!(reads.iter().any(|at| (*at - t("10:25:00")).num_seconds().abs() < 3), "{reads:?}");
}

/// One wake of the collector as `run` makes it, at `now`: what it reads (stored as read at
/// `now`), in id order.
fn wake(live: &mut super::live::Live, store: &Store, checkpoints: &[Duration], now: &str) -> Vec<String> {
    let now = t(now);
    let w = live.wake(store, false, checkpoints, now).unwrap();
    for p in &w.posts {
        store.append_metric(&p.spec.id, now, &crate::report::fixtures::counts(1, 0, 0)).unwrap();
    }
    live.read(store, &w.posts, checkpoints, now).unwrap();
    w.posts.iter().map(|p| p.spec.id.as_str().to_string()).collect()
}

/// Between wakes the collector keeps only what is still to come: a post read after its last
/// checkpoint is set aside (and not read from the store again), a post with a checkpoint ahead
/// stays, and a new boost of a post set aside brings it back for one reading.
#[test]
fn posts_whose_instants_have_all_passed_are_set_aside_until_a_new_boost() {
    let checkpoints = config().report.checkpoints;
    let store = Store::temporary().unwrap();
    store.put_jobs(&jobs()).unwrap();
    let mut live = super::live::Live::start();

    // 10:30: A (posted 10:00, boosted 10:05, checkpoint 10:15) and B (10:20, boosted 10:25)
    // are due (in id order); A has 11:00 ahead, B 10:35 and 11:20, D 10:55 and 11:40; C (15:00) too.
    assert_eq!(wake(&mut live, &store, &checkpoints, "10:30:00"), [B, A]);
    assert_eq!(live.kept(), 4, "four posts kept");
    // 12:00: every instant but C's has passed; they are read once more and set aside.
    assert_eq!(wake(&mut live, &store, &checkpoints, "12:00:00"), [B, D, A]);
    assert_eq!(live.kept(), 1, "only C is kept");
    assert!(wake(&mut live, &store, &checkpoints, "12:10:00").is_empty());

    // 12:30: a new boost of A goes out; A comes back, is read once, and is set aside again.
    let mut boost = jobs().into_iter().find(|j| j.spec.id.as_str() == format!("{A}+council")).unwrap();
    boost.spec.id = JobId(format!("{A}+council.again"));
    boost.done_at = Some(t("12:30:00"));
    store.put_job(&boost).unwrap();
    assert_eq!(wake(&mut live, &store, &checkpoints, "12:30:02"), [A]);
    assert!(wake(&mut live, &store, &checkpoints, "12:40:00").is_empty());
    assert_eq!(live.kept(), 1);
}

/// The index kept between wakes says what a full read of every job says: at each instant of a
/// day with a post, boosts and a late boost of a post set aside, the posts due and the next
/// instant are those `collect::due` finds in every record.
#[test]
fn the_index_agrees_with_a_full_read_at_every_instant() {
    let checkpoints = config().report.checkpoints;
    let store = Store::temporary().unwrap();
    let mut all = jobs();
    // D, set aside by then, is boosted late.
    all.push(crate::report::fixtures::job(
        &format!("{D}+council"),
        JobKind::Boost,
        "council",
        Some("13:10:00"),
        Some(D),
    ));
    let mut live = super::live::Live::start();
    let mut taken: HashMap<JobId, collect::Taken> = HashMap::new();
    for minute in (0..=330).step_by(5) {
        let now = t("10:00:00") + chrono::Duration::minutes(minute);
        // What went out by now is in the store, as the engine would have recorded it.
        let out: Vec<_> = all.iter().filter(|j| j.done_at.is_some_and(|d| d <= now)).cloned().collect();
        store.put_jobs(&out).unwrap();
        let full = collect::due(&store.done_jobs().unwrap(), &taken, &checkpoints, now);
        let w = live.wake(&store, false, &checkpoints, now).unwrap();
        let got: Vec<JobId> = w.posts.iter().map(|p| p.spec.id.clone()).collect();
        assert_eq!(got, full.jobs, "due at {now}");
        assert_eq!(w.next, full.next, "next instant at {now}");
        for p in &w.posts {
            store.append_metric(&p.spec.id, now, &crate::report::fixtures::counts(1, 0, 0)).unwrap();
            taken.insert(p.spec.id.clone(), collect::Taken { last: now, gone: false });
        }
        live.read(&store, &w.posts, &checkpoints, now).unwrap();
    }
    assert!(taken.contains_key(&JobId(D.into())) && taken.contains_key(&JobId(C.into())));
}

/// A job that is neither a post nor a boost of one (an unboost, a found post) makes the wake
/// read every job that went out, so what hangs off it is known; what is due is the same.
#[test]
fn an_unboost_makes_the_wake_read_everything() {
    let checkpoints = config().report.checkpoints;
    let store = Store::temporary().unwrap();
    store.put_jobs(&jobs()).unwrap();
    let mut live = super::live::Live::start();
    assert_eq!(wake(&mut live, &store, &checkpoints, "12:00:00"), [B, D, A]);
    assert_eq!(live.kept(), 1);
    // An evergreen repeat of A's boost: the unboost, then a boost hanging off the unboost.
    let mut unboost = crate::report::fixtures::job(
        &format!("{A}+council.undo"),
        JobKind::Unboost,
        "council",
        Some("12:20:00"),
        Some(A),
    );
    unboost.remote = None;
    let again = crate::report::fixtures::job(
        &format!("{A}+council.again"),
        JobKind::Boost,
        "council",
        Some("12:21:00"),
        Some(&format!("{A}+council.undo")),
    );
    store.put_jobs(&[unboost, again]).unwrap();
    assert_eq!(wake(&mut live, &store, &checkpoints, "12:22:00"), [A], "the repeat's boost brings A back");
    assert_eq!(live.kept(), 1);
}

/// A wake reads only what the store's `went` log lists and forgets it, and a post sent again
/// after a change by hand counts from its new time, whether the index still kept it or had set
/// it aside.
#[test]
fn a_wake_reads_the_went_log_and_a_post_sent_again_counts_from_its_new_time() {
    let checkpoints = config().report.checkpoints;
    let store = Store::temporary().unwrap();
    store.put_jobs(&jobs()).unwrap();
    // Changed by hand and sent again at `at`, as the engine writes it: pending, then done.
    let again = |id: &str, at: &str| {
        let mut r = store.job(&JobId(id.into())).unwrap().unwrap();
        r.state = JobState::Pending;
        store.put_job(&r).unwrap();
        r.state = JobState::Done;
        r.done_at = Some(t(at));
        store.put_job(&r).unwrap();
    };
    let mut live = super::live::Live::start();
    assert_eq!(wake(&mut live, &store, &checkpoints, "10:30:00"), [B, A]);
    assert!(store.went().unwrap().is_empty(), "the first wake read everything and forgot the log");
    // A, still kept (11:00 ahead), goes again at 10:40: its checkpoints are 10:55 and 11:40 now.
    again(A, "10:40:00");
    assert_eq!(store.went().unwrap().len(), 1);
    assert_eq!(wake(&mut live, &store, &checkpoints, "10:41:00"), [B], "B's 10:35; A has nothing due");
    assert!(store.went().unwrap().is_empty());
    assert_eq!(wake(&mut live, &store, &checkpoints, "10:55:00"), [D, A]);
    assert!(wake(&mut live, &store, &checkpoints, "11:00:00").is_empty(), "A's old 11:00 is gone");
    assert_eq!(wake(&mut live, &store, &checkpoints, "12:00:00"), [B, D, A]);
    // B, set aside by now, goes again at 12:30: due 15 minutes later, once.
    again(B, "12:30:00");
    assert!(wake(&mut live, &store, &checkpoints, "12:31:00").is_empty());
    assert_eq!(wake(&mut live, &store, &checkpoints, "12:45:00"), [B]);
    assert!(wake(&mut live, &store, &checkpoints, "12:50:00").is_empty());
}

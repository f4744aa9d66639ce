use std::sync::atomic::AtomicU64;

use super::*;
use crate::config::Account;
use crate::platform::dryrun::DryRun;
use crate::report::fixtures::{config, jobs, t, A, B, C, D};

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

use std::collections::HashMap;
use std::time::Duration;

use super::*;
use crate::report::fixtures::{jobs, t, A, B, C, D};

/// Due jobs come in id order.
fn ids(list: &[&str]) -> Vec<JobId> {
    let mut ids: Vec<JobId> = list.iter().map(|s| JobId(s.to_string())).collect();
    ids.sort();
    ids
}

fn seen(list: &[(&str, &str, bool)]) -> HashMap<JobId, Taken> {
    list.iter().map(|(id, at, gone)| (JobId(id.to_string()), Taken { last: t(at), gone: *gone })).collect()
}

/// (now, taken so far, due, next)
type Row<'a> = (&'a str, Vec<(&'a str, &'a str, bool)>, Vec<&'a str>, Option<&'a str>);

const CHECKPOINTS: [Duration; 2] = [Duration::from_secs(15 * 60), Duration::from_secs(3600)];

#[test]
fn posts_fall_due_at_checkpoints_and_as_their_boosts_go_out() {
    let jobs = jobs();
    // (now, taken so far, due, next)
    let table: [Row; 7] = [
        // A's boost went out at 10:05: read A then, to know what came before the boost.
        ("10:04:00", vec![], vec![], Some("10:05:00")),
        ("10:05:00", vec![], vec![A], Some("10:15:00")),
        ("10:06:00", vec![(A, "10:05:00", false)], vec![], Some("10:15:00")),
        ("10:15:00", vec![(A, "10:05:00", false)], vec![A], Some("10:25:00")),
        // B's boost (10:25) and D's first checkpoint (10:55) come next; C's is in the afternoon.
        ("10:26:00", vec![(A, "10:15:00", false)], vec![B], Some("10:35:00")),
        // A day later, without a daemon: one read each covers every checkpoint missed.
        ("23:00:00", vec![(A, "10:15:00", false), (B, "10:26:00", false)], vec![A, B, C, D], None),
        (
            "23:00:00",
            vec![(A, "23:00:00", false), (B, "23:00:00", false), (C, "23:00:00", false), (D, "23:00:00", false)],
            vec![],
            None,
        ),
    ];
    for (now, taken, want, next) in table {
        let due = due(&jobs, &seen(&taken), &CHECKPOINTS, t(now));
        assert_eq!(due.jobs, ids(&want), "due at {now} with {taken:?}");
        assert_eq!(due.next, next.map(t), "next after {now} with {taken:?}");
    }
}

#[test]
fn boosts_failed_posts_and_gone_posts_are_never_due() {
    let jobs = jobs();
    let due = due(&jobs, &seen(&[(C, "15:15:00", true)]), &CHECKPOINTS, t("23:59:00"));
    assert_eq!(due.jobs, ids(&[A, B, D]), "no boost job, no failed post, not the deleted coffee break");
    // Without checkpoints, only the boosts bring reads.
    let due = super::due(&jobs, &HashMap::new(), &[], t("23:59:00"));
    assert_eq!(due.jobs, ids(&[A, B]));
}

#[test]
fn the_latest_snapshot_is_what_counts() {
    let series = vec![
        (JobId("a".into()), t("10:15:00"), Snapshot::Gone),
        (JobId("a".into()), t("11:00:00"), Snapshot::Unknown { why: "x".into() }),
        (JobId("b".into()), t("11:00:00"), Snapshot::Gone),
        (JobId("b".into()), t("10:15:00"), Snapshot::Unknown { why: "x".into() }),
    ];
    let taken = taken(&series);
    assert_eq!(taken[&JobId("a".into())], Taken { last: t("11:00:00"), gone: false });
    assert_eq!(taken[&JobId("b".into())], Taken { last: t("11:00:00"), gone: true });
}

#[test]
fn reads_come_in_the_networks_batch_sizes() {
    assert_eq!(batch_size(Network::Mastodon), 20);
    assert_eq!(batch_size(Network::Bluesky), 25);
}

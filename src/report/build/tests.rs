use super::*;
use crate::report::fixtures::{config, jobs, snapshots, t, A, B, C, D};

fn find<'a>(r: &'a Report, job: &str) -> &'a PostReport {
    r.sessions.iter().flat_map(|s| &s.posts).find(|p| p.job == job).unwrap()
}

fn tally(sum: u64, known: usize, unknown: usize) -> Tally {
    Tally { sum, known, unknown }
}

#[test]
fn each_post_has_its_counts_now_growth_and_boosts() {
    let r = report(&config(), &jobs(), &snapshots(), t("23:00:00"));
    let a = find(&r, A);
    assert_eq!(a.status, PostStatus::Read);
    assert_eq!(a.counts, CountsView { likes: Some(3), reposts: Some(2), replies: Some(1), quotes: None, views: None });
    // The council's boost and the thread's next point are the event's own: not engagement.
    assert_eq!(a.own, Own { reposts: 1, replies: 1 });
    assert_eq!(a.engagement, Some(4));
    assert_eq!(a.as_of, Some(t("11:00:00")));
    assert_eq!(r.checkpoints, ["15m", "1h"]);
    assert_eq!(a.growth, [Some(1), Some(4)]);
    assert_eq!(a.readings.len(), 3);
    assert_eq!(a.readings[1].minutes_after, 15);
    assert_eq!(a.boosts.len(), 1);
    assert_eq!((a.boosts[0].account.as_str(), a.boosts[0].state), ("council", "done"));
    assert_eq!(a.boosts[0].boosted_at, Some(t("10:05:00")));
    let before = a.before_boost.unwrap();
    assert_eq!((before.at, before.engagement), (t("10:05:30"), Some(0)), "read 30 s after the boost");
    assert_eq!(a.posted_local, "2010-03-18 10:00");

    // The latest read of B failed: its counts are from the read before, and say so.
    let b = find(&r, B);
    assert_eq!(b.status, PostStatus::Stale);
    assert_eq!(b.engagement, Some(0));
    assert!(b.note.as_deref().unwrap().contains("timed out"), "{:?}", b.note);
    assert_eq!(b.growth, [Some(0), None], "the 1h read failed: unknown, not 0");
    assert_eq!(b.before_boost, None, "its first read came 10 minutes after the boost");

    // C was read, then deleted: unknown now, never 0.
    let c = find(&r, C);
    assert_eq!((c.status, c.engagement, c.counts.likes), (PostStatus::Gone, None, None));
    assert_eq!(c.session, None);
    let d = find(&r, D);
    assert_eq!((d.status, d.engagement), (PostStatus::Unread, None));
    assert!(d.note.as_deref().unwrap().contains("loudhailer collect"));
}

#[test]
fn totals_keep_count_of_what_they_could_not_add() {
    let r = report(&config(), &jobs(), &snapshots(), t("23:00:00"));
    let h = &r.headline;
    assert_eq!((h.posts, h.boosts, h.not_sent), (4, 2, 1));
    assert_eq!((h.read, h.gone, h.unread, h.engaged, h.nothing), (2, 1, 1, 1, 1));
    assert_eq!(h.totals.likes, tally(3, 2, 2));
    assert_eq!(h.totals.reposts, tally(2, 2, 2));
    assert_eq!(h.totals.engagement, tally(4, 2, 2));
    assert_eq!(h.totals.engagement.describe(), "at least 4");
    assert_eq!(h.totals.engagement.short(), "≥4");
    assert_eq!(h.totals.quotes.describe(), "unknown", "Mastodon before 4.5 reports no quotes");
    assert_eq!(tally(4, 3, 0).describe(), "4");
    assert_eq!(Tally::default().describe(), "0");

    let ids = |list: &[PostRef]| list.iter().map(|p| p.job.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&r.top), [A]);
    assert_eq!(ids(&r.nothing), [B]);
    assert_eq!(ids(&r.unknown), [D, C]);

    let titles: Vec<&str> = r.sessions.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles, ["Equalities Law", "Other posts"]);
    assert_eq!(r.sessions[0].posts.len(), 3);
    assert_eq!(r.sessions[0].totals.engagement, tally(4, 2, 1));

    assert_eq!(r.networks.len(), 1);
    assert_eq!((r.networks[0].posts, r.networks[0].boosts), (4, 2));
    let council = r.accounts.iter().find(|a| a.account == "council").unwrap();
    assert_eq!((council.role, council.posts, council.boosts), ("amplifier", 0, 2));
    assert_eq!(council.boosted_engagement, tally(4, 2, 0));
    let delegate = r.accounts.iter().find(|a| a.account == "delegate").unwrap();
    assert_eq!(delegate.totals.engagement, h.totals.engagement);

    let hours: Vec<(u32, usize)> = r.by_hour.iter().map(|h| (h.hour, h.posts)).collect();
    assert_eq!(hours, [(10, 3), (15, 1)]);
    assert_eq!(r.by_hour[0].totals.engagement, tally(4, 2, 1));

    let amp = &r.amplification;
    assert_eq!((amp.boosted_posts, amp.not_boosted_posts), (2, 2));
    assert_eq!(amp.boosted, tally(4, 2, 0));
    assert_eq!(amp.not_boosted, tally(0, 0, 2));
    assert_eq!((amp.before_boost, amp.since_boost), (tally(0, 1, 0), tally(4, 1, 0)));
}

#[test]
fn a_sessions_series_adds_each_posts_latest_known_engagement() {
    let r = report(&config(), &jobs(), &snapshots(), t("23:00:00"));
    let law: Vec<(DateTime<Utc>, Tally)> = r.sessions[0].series.iter().map(|p| (p.at, p.engagement)).collect();
    let want = [
        ("10:00:00", tally(0, 1, 0)),
        ("10:05:30", tally(0, 1, 0)),
        ("10:15:00", tally(1, 1, 0)),
        ("10:20:00", tally(1, 2, 0)),
        ("10:35:00", tally(1, 2, 0)),
        ("10:40:00", tally(1, 3, 0)),
        ("11:00:00", tally(4, 3, 0)),
        // B's failed read changes nothing: its last known count stands.
        ("11:20:00", tally(4, 3, 0)),
    ];
    assert_eq!(law, want.map(|(at, v)| (t(at), v)));
    // The coffee break: 2 likes, then deleted: unknown from then on.
    let other: Vec<Tally> = r.sessions[1].series.iter().map(|p| p.engagement).collect();
    assert_eq!(other, [tally(0, 1, 0), tally(2, 1, 0), tally(0, 0, 1)]);
}

#[test]
fn no_reads_means_unknown_not_nothing() {
    let only_failed =
        vec![(JobId(A.into()), t("10:15:00"), Snapshot::Unknown { why: "401: The access token is invalid".into() })];
    let r = report(&config(), &jobs(), &only_failed, t("23:00:00"));
    let a = find(&r, A);
    assert_eq!((a.status, a.engagement), (PostStatus::Unread, None));
    assert!(a.note.as_deref().unwrap().contains("access token"), "{:?}", a.note);
    assert!(r.nothing.is_empty(), "a post nobody could read did not get nothing");
    assert_eq!(r.headline.totals.engagement, tally(0, 0, 4));
    assert_eq!(r.headline.totals.engagement.describe(), "unknown");
}

#[test]
fn checkpoints_are_labelled_as_written() {
    let label = |s| checkpoint_label(Duration::from_secs(s));
    assert_eq!([label(900), label(3600), label(86_400), label(5400), label(90)], ["15m", "1h", "24h", "90m", "90s"]);
}

#[test]
fn posts_made_by_hand_are_marked_and_a_repost_of_our_own_counts_under_it() {
    use crate::job::{JobKind, Origin};
    use crate::report::fixtures::job;
    let mut all = jobs();
    // A post the delegate typed on a phone, found by a watch, boosted by the council.
    let mut found = job("follow.abc", JobKind::External, "delegate", Some("11:00:00"), None);
    found.spec.origin = Origin::Followed;
    found.spec.text = Some("Packed room #EMIEP".into());
    found.spec.session = None;
    let mut boost = job("follow.abc+council", JobKind::Boost, "council", Some("11:01:00"), Some("follow.abc"));
    boost.spec.origin = Origin::Followed;
    // A repost of A later in the day: looked up by its link, undone and boosted again.
    let mut again = job("repost.x", JobKind::External, "council", Some("17:00:00"), None);
    again.remote = all[0].remote.clone();
    let undo = job("repost.x+council.undo", JobKind::Unboost, "council", Some("17:00:00"), Some("repost.x"));
    let redo = job("repost.x+council", JobKind::Boost, "council", Some("17:00:01"), Some("repost.x+council.undo"));
    all.extend([found, boost, again, undo, redo]);
    let r = report(&config(), &all, &snapshots(), t("23:00:00"));
    let posts: Vec<&PostReport> = r.sessions.iter().flat_map(|s| &s.posts).collect();
    let hand = posts.iter().find(|p| p.job == "follow.abc").expect("the followed post is reported");
    assert_eq!((hand.kind, hand.origin, hand.boosts.len()), ("external", "hand-made", 1));
    assert!(!posts.iter().any(|p| p.job == "repost.x"), "the repost names A: reported once, as A");
    let a = find(&r, A);
    assert_eq!(a.origin, "planned");
    assert_eq!(a.boosts.len(), 2, "the planned boost and the 17:00 repeat");
    assert_eq!(find(&r, C).origin, "planned");
    assert_eq!(crate::report::format::marked("Packed room", hand.origin, 0), "(by hand) Packed room");
    assert_eq!(crate::report::format::marked("Equalities Law", a.origin, 0), "Equalities Law");
    assert_eq!(crate::report::format::marked("Packed room", hand.origin, 2), "(by hand) [2 photos] Packed room");
    assert_eq!(crate::report::format::marked("Equalities Law", a.origin, 1), "[photo] Equalities Law");
}

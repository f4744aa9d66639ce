//! Table tests of the engine's decisions.

use super::*;
use crate::job::{Intent, JobId, JobSpec, Origin};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("2010-03-18T{s}Z")).unwrap().with_timezone(&Utc)
}

fn job(id: &str, kind: JobKind, at: &str, parent: Option<&str>) -> JobRecord {
    JobRecord::new(JobSpec {
        id: JobId(id.into()),
        kind,
        account: "delegate".into(),
        session: Some("s".into()),
        at: t(at),
        text: Some("text".into()),
        parent: parent.map(|p| JobId(p.into())),
        root: None,
        language: None,
        origin: Origin::Plan,
        thread: None,
        author: None,
        url: None,
        images: Vec::new(),
    })
}

fn with(mut r: JobRecord, state: JobState, done_at: Option<&str>) -> JobRecord {
    r.state = state;
    r.done_at = done_at.map(t);
    r
}

const TZ: Tz = chrono_tz::Europe::London;

type ReadinessCase<'a> = (&'a str, &'a JobRecord, Option<JobRecord>, bool, Readiness);

#[test]
fn readiness_table() {
    let post = job("s.title.d", JobKind::Post, "10:00:00", None);
    let reply = job("s.p1.d", JobKind::Reply, "10:10:00", Some("s.title.d"));
    let boost = job("s.title.d+c", JobKind::Boost, "10:05:00", Some("s.title.d"));
    let mut boost_backed_off = boost.clone();
    boost_backed_off.not_before = Some(t("10:30:00"));
    let now = t("10:20:00");
    use Readiness::*;
    let cases: Vec<ReadinessCase> = vec![
        ("a post without a parent keeps its time", &post, None, false, At(t("10:00:00"))),
        ("by hand: now", &post, None, true, At(now)),
        (
            "a reply after its post went out on time",
            &reply,
            Some(with(post.clone(), JobState::Done, Some("10:00:00"))),
            false,
            At(t("10:10:00")),
        ),
        (
            "a reply never before its post, which went out late",
            &reply,
            Some(with(post.clone(), JobState::Done, Some("10:15:00"))),
            false,
            At(t("10:15:00")),
        ),
        (
            "a boost keeps the planned distance from its late post",
            &boost,
            Some(with(post.clone(), JobState::Done, Some("10:12:00"))),
            false,
            At(t("10:17:00")),
        ),
        (
            "a boost's backoff wins when later",
            &boost_backed_off,
            Some(with(post.clone(), JobState::Done, Some("10:00:00"))),
            false,
            At(t("10:30:00")),
        ),
        (
            "a boost of a failed post is cancelled",
            &boost,
            Some(with(post.clone(), JobState::Failed, None)),
            false,
            Cancel("nothing to boost: s.title.d failed".into()),
        ),
        (
            "a reply to a cancelled post answers the nearest post instead",
            &reply,
            Some(with(post.clone(), JobState::Cancelled, None)),
            false,
            At(t("10:10:00")),
        ),
        (
            "a reply waits for its pending post",
            &reply,
            Some(post.clone()),
            false,
            Wait("waits for s.title.d (pending)".into()),
        ),
        (
            "a boost waits for its post in flight",
            &boost,
            Some(with(post.clone(), JobState::InFlight, None)),
            false,
            Wait("waits for s.title.d (in-flight)".into()),
        ),
        (
            "a boost waits for a missed post (sent by hand later)",
            &boost,
            Some(with(post.clone(), JobState::Missed, None)),
            true,
            Wait("waits for s.title.d (missed)".into()),
        ),
    ];
    for (what, job, parent, by_hand, want) in cases {
        assert_eq!(readiness(job, parent.as_ref(), by_hand, now), want, "{what}");
    }
}

#[test]
fn claims_are_honoured_only_when_ready() {
    let now = t("10:00:00");
    assert!(claimable(&Readiness::At(t("10:00:01")), now));
    assert!(claimable(&Readiness::At(t("09:00:00")), now));
    assert!(!claimable(&Readiness::At(t("10:00:02")), now));
    assert!(!claimable(&Readiness::Wait("x".into()), now));
    assert!(!claimable(&Readiness::Cancel("x".into()), now));
    // At the end of the calendar nothing overflows.
    assert!(claimable(&Readiness::At(DateTime::<Utc>::MAX_UTC), DateTime::<Utc>::MAX_UTC));
}

#[test]
fn leftovers_table() {
    let now = t("12:00:00");
    let ten = Duration::from_secs(600);
    let pending = |at: &str| job("s.p1.d", JobKind::Reply, at, Some("s.title.d"));
    let mut in_flight = pending("09:00:00");
    in_flight.state = JobState::InFlight;
    in_flight.intent = Some(Intent { reached: true, ..Intent::new("k".into(), t("09:00:00")) });
    let done = with(pending("09:00:00"), JobState::Done, Some("09:00:00"));
    let cases: Vec<(&str, JobRecord, bool, bool, Option<&str>)> = vec![
        // (what, job, parent missed, by hand, want: "resend" | "due HH:MM:SS" | words of a miss)
        ("in flight: resent, however old", in_flight, false, false, Some("resend")),
        ("within the catch-up window: goes", pending("11:55:00"), false, false, Some("due 11:55:00")),
        ("just inside the window", pending("11:50:00"), false, false, Some("due 11:50:00")),
        ("beyond the window: missed", pending("11:49:59"), false, false, Some("more than 10m before")),
        ("in the future: kept", pending("13:00:00"), false, false, Some("due 13:00:00")),
        ("due, but its post was missed", pending("11:59:00"), true, false, Some("the post it follows was missed")),
        ("not yet due, its post missed: kept", pending("12:30:00"), true, false, Some("due 12:30:00")),
        ("by hand: now, however old", pending("08:00:00"), false, true, Some("due 08:00:00")),
        ("settled: nothing to do", done, false, false, None),
    ];
    for (what, job, parent_missed, by_hand, want) in cases {
        let got = leftover(&job, parent_missed, by_hand, now, ten, TZ);
        match (got, want) {
            (None, None) => {}
            (Some(Leftover::Resend), Some("resend")) => {}
            (Some(Leftover::Due(at)), Some(w)) if w.starts_with("due ") => assert_eq!(at, t(&w[4..]), "{what}"),
            (Some(Leftover::Missed(why)), Some(w)) => assert!(why.contains(w), "{what}: {why}"),
            (got, want) => panic!("{what}: got {got:?}, want {want:?}"),
        }
    }
    // A catch-up window longer than the calendar never overflows.
    assert!(matches!(leftover(&pending("11:00:00"), false, false, now, Duration::MAX, TZ), Some(Leftover::Due(_))));
}

type OutcomeCase<'a> = (&'a str, JobRecord, Result<RemoteRef, PlatformError>, JobState, &'a str);

#[test]
fn outcomes_table() {
    let now = t("10:01:00");
    let mut sent = job("s.title.d", JobKind::Post, "10:00:00", None);
    sent.state = JobState::InFlight;
    sent.attempts = 3;
    let remote = RemoteRef { id: "1".into(), url: Some("https://x/1".into()), uri: None, cid: None };
    let mut recalled = sent.clone();
    recalled.recall = Some("no longer in the schedule".into());
    let mut very_old = sent.clone();
    very_old.spec.at = now - GIVE_UP_AFTER - chrono::Duration::seconds(1);
    let cases: Vec<OutcomeCase> = vec![
        ("sent", sent.clone(), Ok(remote.clone()), JobState::Done, "Sent"),
        ("recalled, and the server had it: done", recalled.clone(), Ok(remote.clone()), JobState::Done, "Sent"),
        (
            "recalled, and the server never had it: cancelled with why",
            recalled.clone(),
            Err(PlatformError::NotSent),
            JobState::Cancelled,
            "Recalled no longer in the schedule",
        ),
        (
            "recalled, the server away: tried again",
            recalled,
            Err(PlatformError::Retry("502".into())),
            JobState::Pending,
            "Backoff",
        ),
        (
            "refused for good",
            sent.clone(),
            Err(PlatformError::Permanent { status: 422, message: "Text too long".into() }),
            JobState::Failed,
            "Refused",
        ),
        (
            "internal: failed with why",
            sent.clone(),
            Err(PlatformError::Internal { message: "nothing to boost".into() }),
            JobState::Failed,
            "Internal",
        ),
        (
            "credentials refused: pending, the account pauses",
            sent.clone(),
            Err(PlatformError::Auth { status: 401, message: "The access token is invalid".into() }),
            JobState::Pending,
            "PauseAccount credentials refused: the server refused the credentials (401): The access token is invalid",
        ),
        (
            "no credentials at all: pending, the account pauses, told how to sign in",
            sent.clone(),
            Err(PlatformError::NoCredentials(
                "no LinkedIn token for account page: run `loudhailer login linkedin`".into(),
            )),
            JobState::Pending,
            "PauseAccount cannot sign in: no LinkedIn token for account page: run `loudhailer login linkedin`",
        ),
        (
            "rate limited with a time",
            sent.clone(),
            Err(PlatformError::RateLimited { until: Some(t("10:30:00")) }),
            JobState::Pending,
            "RateLimited 10:30:00",
        ),
        (
            "rate limited without a time: a minute",
            sent.clone(),
            Err(PlatformError::RateLimited { until: None }),
            JobState::Pending,
            "RateLimited 10:02:00",
        ),
        ("a 5xx: backoff", sent.clone(), Err(PlatformError::Retry("502".into())), JobState::Pending, "Backoff"),
        (
            "failing twelve hours after it was due: given up",
            very_old,
            Err(PlatformError::Retry("502".into())),
            JobState::Failed,
            "GaveUp",
        ),
    ];
    for (what, job, answer, state, want) in cases {
        let (r, verdict) = outcome(job, answer, now, TZ, Attempt { resend: true, unit: 0.5 });
        assert_eq!(r.state, state, "{what}");
        let got = match &verdict {
            Verdict::Sent => "Sent".to_string(),
            Verdict::Refused { .. } => "Refused".into(),
            Verdict::Internal(_) => "Internal".into(),
            Verdict::PauseAccount(why) => {
                // Both lifted by signing in again.
                assert!(crate::platform::is_credentials_pause(why), "{why}");
                format!("PauseAccount {why}")
            }
            Verdict::RateLimited(until) => {
                assert_eq!(r.not_before, Some(*until), "{what}");
                format!("RateLimited {}", until.format("%H:%M:%S"))
            }
            Verdict::Backoff { until, .. } => {
                // Attempt 3 with the unit 0.5: half of 8 s.
                assert_eq!(*until, now + chrono::Duration::seconds(4), "{what}");
                assert!(r.waiting.as_deref().is_some_and(|w| w.contains("backoff after 3 failed attempts")));
                "Backoff".into()
            }
            Verdict::GaveUp(_) => "GaveUp".into(),
            Verdict::Recalled(why) => format!("Recalled {why}"),
        };
        assert_eq!(got, want, "{what}");
        if what.starts_with("recalled") && r.state != JobState::Pending {
            assert_eq!(r.recall, None, "{what}: a settled recall is no longer one");
        }
        match r.state {
            JobState::Done if what.starts_with("recalled") => {
                assert_eq!(r.error.as_deref(), Some("went out before it was called off (no longer in the schedule)"))
            }
            JobState::Done => assert_eq!((r.remote.as_ref(), r.done_at, &r.error), (Some(&remote), Some(now), &None)),
            JobState::Failed => assert!(r.error.is_some(), "{what}"),
            _ => {}
        }
    }
}

#[test]
fn a_429_leaves_whether_a_request_may_have_reached_the_server_as_it_was() {
    let now = t("10:01:00");
    let mut job = job("s.p1.d", JobKind::Reply, "10:00:00", Some("s.title.d"));
    job.state = JobState::InFlight;
    let limited = || Err(PlatformError::RateLimited { until: None });
    // (what, this attempt was a resend, the answer, reached afterwards)
    let cases: Vec<(&str, bool, Result<RemoteRef, PlatformError>, bool)> = vec![
        ("a first request refused with 429: nothing reached the server", false, limited(), false),
        ("a resend refused with 429: an earlier request still may have", true, limited(), true),
        ("a first request that failed on the way: it may have", false, Err(PlatformError::Retry("reset".into())), true),
        (
            "a first request refused for good",
            false,
            Err(PlatformError::Permanent { status: 422, message: "no".into() }),
            true,
        ),
    ];
    for (what, resend, answer, want) in cases {
        let mut j = job.clone();
        // As the claim leaves it: the request may reach the server from there on.
        j.intent = Some(Intent { reached: true, ..Intent::new("k".into(), t("10:00:00")) });
        let (r, _) = outcome(j, answer, now, TZ, Attempt { resend, unit: 0.5 });
        assert_eq!(r.intent.map(|i| i.reached), Some(want), "{what}");
    }
}

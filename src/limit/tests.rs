use reqwest::header::{HeaderName, HeaderValue};

use super::*;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
    }
    h
}

#[test]
fn server_hints_in_every_dialect() {
    let now = t("2026-11-23T12:00:00Z");
    let cases: Vec<(Vec<(&str, &str)>, ServerHint)> = vec![
        // Mastodon: ISO 8601 with microseconds.
        (
            vec![
                ("X-RateLimit-Limit", "300"),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", "2026-11-23T12:05:00.123456Z"),
            ],
            ServerHint {
                limit: Some(300),
                remaining: Some(0),
                reset: Some(t("2026-11-23T12:05:00.123456Z")),
                retry_after: None,
                capped: None,
            },
        ),
        // GoToSocial / mastodon_mock: Unix seconds.
        (
            vec![("X-RateLimit-Remaining", "12"), ("X-RateLimit-Reset", "1795435500")],
            ServerHint {
                limit: None,
                remaining: Some(12),
                reset: DateTime::from_timestamp(1795435501, 0),
                retry_after: None,
                capped: None,
            },
        ),
        // Bluesky: RateLimit-* with Unix seconds, and Retry-After in seconds.
        (
            vec![
                ("RateLimit-Limit", "5000"),
                ("RateLimit-Remaining", "0"),
                ("RateLimit-Reset", "1795435500"),
                ("Retry-After", "90"),
            ],
            ServerHint {
                limit: Some(5000),
                remaining: Some(0),
                reset: DateTime::from_timestamp(1795435501, 0),
                retry_after: Some(t("2026-11-23T12:01:30Z")),
                capped: None,
            },
        ),
        // The IETF draft: reset in seconds from now.
        (
            vec![("RateLimit-Remaining", "3"), ("RateLimit-Reset", "30")],
            ServerHint {
                limit: None,
                remaining: Some(3),
                reset: Some(t("2026-11-23T12:00:30Z")),
                retry_after: None,
                capped: None,
            },
        ),
        // X.
        (
            vec![("x-rate-limit-remaining", "99"), ("x-rate-limit-reset", "1795435500")],
            ServerHint {
                limit: None,
                remaining: Some(99),
                reset: DateTime::from_timestamp(1795435501, 0),
                retry_after: None,
                capped: None,
            },
        ),
        // Retry-After as an HTTP date.
        (
            vec![("Retry-After", "Mon, 23 Nov 2026 12:10:00 GMT")],
            ServerHint { retry_after: Some(t("2026-11-23T12:10:00Z")), ..Default::default() },
        ),
        // Garbage is ignored.
        (vec![("X-RateLimit-Remaining", "lots"), ("X-RateLimit-Reset", "soon")], ServerHint::default()),
    ];
    for (pairs, want) in cases {
        assert_eq!(read_headers(&headers(&pairs), now, crate::checked::MAX_SERVER_WAIT), want, "{pairs:?}");
    }
}

/// Acquires `charge`, collecting the waits the limiter publishes meanwhile.
async fn waits_of(limiter: &Limiter, charge: Charge) -> Vec<(DateTime<Utc>, String)> {
    let mut rx = limiter.waits();
    let mut out = Vec::new();
    let acquire = limiter.acquire(charge);
    tokio::pin!(acquire);
    loop {
        tokio::select! {
            biased;
            changed = rx.changed() => {
                if changed.is_err() {
                    acquire.as_mut().await;
                    return out;
                }
                if let Some(w) = rx.borrow_and_update().clone() {
                    out.push((w.until, w.why));
                }
            }
            _ = &mut acquire => return out,
        }
    }
}

/// The reason of the last wait while acquiring `charge` (empty when it did not wait).
async fn last_why(limiter: &Limiter, charge: Charge) -> String {
    waits_of(limiter, charge).await.pop().map(|w| w.1).unwrap_or_default()
}

fn origin() -> DateTime<Utc> {
    t("2010-03-18T10:00:00Z")
}

#[tokio::test(start_paused = true)]
async fn a_configured_rate_spaces_requests() {
    let clock = Clock::scaled(origin(), 1.0);
    // 20/h: one every 3 minutes, bursts of 3.
    let limiter = Limiter::new(clock, vec![configured(Rate::new(20, Duration::from_secs(3600)))]);
    let mut waits = Vec::new();
    let mut at = Vec::new();
    for _ in 0..6 {
        waits.extend(waits_of(&limiter, Charge::Post).await);
        at.push((clock.now() - origin()).num_seconds());
    }
    assert_eq!(at, [0, 0, 0, 180, 360, 540]);
    assert!(waits[0].1.contains("configured rate of 20/1h"), "{:?}", waits[0]);
    // Reads are not counted against a write rate.
    assert!(waits_of(&limiter, Charge::Request).await.is_empty(), "requests do not count against a write rate");
}

#[tokio::test(start_paused = true)]
async fn bluesky_points_cost_three_per_write() {
    let clock = Clock::scaled(origin(), 1.0);
    let budget =
        Budget { label: "tiny".into(), rate: Rate::new(9, Duration::from_secs(90)), burst: 9, per: Per::Write(3) };
    let limiter = Limiter::new(clock, vec![budget]);
    for _ in 0..3 {
        assert!(waits_of(&limiter, Charge::Post).await.is_empty(), "three creates fit in nine points");
    }
    let waited = !waits_of(&limiter, Charge::Post).await.is_empty();
    assert!(waited);
    assert_eq!((clock.now() - origin()).num_seconds(), 30);
}

#[tokio::test(start_paused = true)]
async fn the_server_holds_the_account_back() {
    let clock = Clock::scaled(origin(), 1.0);
    let limiter = Limiter::new(clock, published(Network::Mastodon));
    limiter.observe(&ServerHint {
        remaining: Some(0),
        reset: Some(origin() + chrono::Duration::seconds(42)),
        ..Default::default()
    });
    let why = last_why(&limiter, Charge::Post).await;
    assert_eq!((clock.now() - origin()).num_seconds(), 42);
    assert!(why.contains("used up"));
    // Remaining above zero does not hold.
    limiter.observe(&ServerHint {
        remaining: Some(5),
        reset: Some(clock.now() + chrono::Duration::seconds(300)),
        ..Default::default()
    });
    assert!(limiter.held().is_none());
    // A later Retry-After extends; an earlier one does not shorten.
    let now = clock.now();
    limiter.hold_until(now + chrono::Duration::seconds(60), "a");
    limiter.hold_until(now + chrono::Duration::seconds(10), "b");
    assert_eq!(limiter.held().unwrap().1, "a");
}

#[tokio::test(start_paused = true)]
async fn bluesky_logins_have_their_own_budget() {
    let clock = Clock::scaled(origin(), 1.0);
    let limiter = Limiter::new(clock, published(Network::Bluesky));
    for _ in 0..30 {
        assert!(waits_of(&limiter, Charge::Login).await.is_empty(), "30 logins fit in five minutes");
    }
    // Logins cost nothing against the write points, and writes nothing against logins.
    assert!(waits_of(&limiter, Charge::Post).await.is_empty(), "logins are not writes");
    let why = last_why(&limiter, Charge::Login).await;
    assert!(why.contains("30 logins per 5 minutes"), "{why}");
    assert_eq!((clock.now() - origin()).num_seconds(), 10);
}

#[tokio::test(start_paused = true)]
async fn x_counts_posts_and_retweets_apart_and_together() {
    let clock = Clock::scaled(origin(), 1.0);
    let limiter = Limiter::new(clock, published(Network::X));
    // 100 posts go at once (the 15-minute burst); the 101st waits 9 s.
    for _ in 0..100 {
        assert!(waits_of(&limiter, Charge::Post).await.is_empty(), "a post waited");
    }
    let why = last_why(&limiter, Charge::Post).await;
    assert!(why.contains("100 posts per 15 minutes"), "{why}");
    assert_eq!((clock.now() - origin()).num_seconds(), 9);
    // Retweets have their own 50 per 15 minutes, untouched by the posts.
    for _ in 0..50 {
        assert!(waits_of(&limiter, Charge::Boost).await.is_empty(), "a retweet waited");
    }
    let why = last_why(&limiter, Charge::Boost).await;
    assert!(why.contains("50 retweets per 15 minutes"), "{why}");
    assert_eq!((clock.now() - origin()).num_seconds(), 9 + 18);
    // Requests (reads, the lookups before a resend) are not writes.
    assert!(waits_of(&limiter, Charge::Request).await.is_empty(), "a request waited");
}

#[tokio::test(start_paused = true)]
async fn x_shares_300_writes_per_three_hours() {
    let clock = Clock::scaled(origin(), 1.0);
    let limiter = Limiter::new(clock, published(Network::X));
    let mut reasons = std::collections::BTreeSet::new();
    // Posts alone: 100 at once, then one per 9 s, until the 3-hour cap (one per 36 s after
    // its 300) binds, after about 367 posts.
    for _ in 0..400 {
        reasons.extend(waits_of(&limiter, Charge::Post).await.into_iter().map(|w| w.1));
    }
    assert!(reasons.iter().any(|r| r.contains("100 posts per 15 minutes")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("300 posts and retweets per 3 hours")), "{reasons:?}");
    // And a retweet now waits for the shared cap too, though its own budget is full.
    let why = last_why(&limiter, Charge::Boost).await;
    assert!(why.contains("3 hours"), "{why}");
}

#[test]
fn absurd_waits_from_a_server_are_capped_at_an_hour_and_past_ones_are_a_pause() {
    let now = t("2026-11-23T12:00:00Z");
    let hour = t("2026-11-23T13:00:00Z");
    let second = t("2026-11-23T12:00:01Z");
    type Case<'a> = (Vec<(&'a str, &'a str)>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<&'a str>);
    let cases: Vec<Case> = vec![
        // (headers, reset, retry_after, words of the warning)
        (vec![("Retry-After", "99999999999999999999")], None, Some(hour), Some("retry-after: 9999")),
        (vec![("Retry-After", "9999999999")], None, Some(hour), Some("retry-after: 9999999999")),
        (vec![("Retry-After", "18446744073709551615")], None, Some(hour), Some("retry-after: 1844")),
        (vec![("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")], None, Some(hour), Some("retry-after: Fri")),
        (vec![("Retry-After", "Mon, 01 Jan 1990 00:00:00 GMT")], None, Some(second), None),
        (vec![("Retry-After", "-5")], None, None, None),
        (vec![("X-RateLimit-Reset", "1e300")], Some(hour), None, Some("x-ratelimit-reset: 1e300")),
        (vec![("X-RateLimit-Reset", "-1e300")], Some(second), None, None),
        (vec![("X-RateLimit-Reset", "NaN")], None, None, None),
        (vec![("X-RateLimit-Reset", "inf")], Some(hour), None, Some("x-ratelimit-reset: inf")),
        (vec![("X-RateLimit-Reset", "1000000000")], Some(second), None, None),
        (vec![("X-RateLimit-Reset", "+262143-01-01T00:00:00Z")], None, None, None),
        (vec![("X-RateLimit-Reset", "9999-01-01T00:00:00Z")], Some(hour), None, Some("in 7973years")),
        (vec![("x-rate-limit-reset", "99999999999999")], Some(hour), None, Some("x-rate-limit-reset")),
    ];
    for (pairs, reset, retry_after, warned) in cases {
        let hint = read_headers(&headers(&pairs), now, crate::checked::MAX_SERVER_WAIT);
        assert_eq!((hint.reset, hint.retry_after), (reset, retry_after), "{pairs:?}");
        match (warned, &hint.capped) {
            (None, None) => {}
            (Some(words), Some(w)) if words.starts_with("in ") => assert!(w.contains("waiting 1h instead"), "{w}"),
            (Some(words), Some(w)) => assert!(w.contains(words) && w.contains("waiting 1h instead"), "{w}"),
            (want, got) => panic!("{pairs:?}: want {want:?}, got {got:?}"),
        }
    }
}

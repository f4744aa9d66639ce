//! Checked time arithmetic (pure): every duration, offset and instant that comes from outside
//! (a config, a schedule, a control command, a server's answer) goes through here, so no value
//! makes loudhailer panic or wrap around.
//!
//! chrono's `DateTime + Duration` panics on overflow, and `Duration::from_std` fails beyond
//! about 292 billion years; a `Retry-After: 99999999999` or a `shift +300000y` must be
//! refused or capped instead. The limits, and where they show:
//!
//! | value | limit | what happens beyond it |
//! |---|---|---|
//! | `shift` offset | ±[`MAX_SHIFT`] (366 days) | refused, exit code 2 |
//! | a server's wait (`Retry-After`, a rate-limit reset, a 429) | [`MAX_SERVER_WAIT`] (1 hour; `[run] max_server_wait`) | capped, with a warning naming the header and value |
//! | a reset or `Retry-After` in the past | — | a one-second pause |
//! | a token's `expires_in` | [`MAX_TOKEN_LIFE`] (366 days) | capped |
//! | config durations | per key, see `config::values::Limit` | refused by `check` with file, line and key |

use std::time::Duration;

use chrono::{DateTime, Utc};

/// The furthest `shift` moves sessions, either way: an event moved by more is a new event.
pub const MAX_SHIFT: Duration = Duration::from_secs(366 * 86_400);

/// The longest loudhailer holds an account because a server said so, unless `[run]
/// max_server_wait` says otherwise. A server asking for more (a wrong clock, a bug, a hostile
/// proxy) would otherwise silence the account for the rest of the event; after an hour the next
/// request asks again, and a server that still refuses answers 429 again.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(3600);

/// The longest a token is trusted to live when a server says how long it lives.
pub const MAX_TOKEN_LIFE: Duration = Duration::from_secs(366 * 86_400);

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("{what} of {given} is beyond the limit of {limit}")]
    TooLarge { what: &'static str, given: String, limit: String },
    #[error("{what}: the result falls outside the calendar loudhailer can represent")]
    OutOfRange { what: &'static str },
}

/// A std duration as chrono's, or `None` when it does not fit.
pub fn span(d: Duration) -> Option<chrono::Duration> {
    chrono::Duration::from_std(d).ok()
}

/// `t + d`, or `None` when the result is not a representable instant.
pub fn add(t: DateTime<Utc>, d: chrono::Duration) -> Option<DateTime<Utc>> {
    t.checked_add_signed(d)
}

/// `t + d` for a std duration, or `None`.
pub fn after(t: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
    add(t, span(d)?)
}

/// `t + d`, saturating at the end (or start) of the representable calendar: for instants that
/// only order things (a wait's end, a deadline), where "never" is the honest meaning of an
/// overflow.
pub fn saturating_add(t: DateTime<Utc>, d: chrono::Duration) -> DateTime<Utc> {
    add(t, d).unwrap_or(if d < chrono::Duration::zero() { DateTime::<Utc>::MIN_UTC } else { DateTime::<Utc>::MAX_UTC })
}

/// `t + d` for a std duration, saturating.
pub fn saturating_after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    match span(d) {
        Some(s) => saturating_add(t, s),
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// A signed offset in seconds (a `shift`), checked against [`MAX_SHIFT`].
pub fn shift(secs: i64) -> Result<chrono::Duration, TimeError> {
    if secs.unsigned_abs() > MAX_SHIFT.as_secs() {
        return Err(TimeError::TooLarge {
            what: "a shift",
            given: signed_text(secs),
            limit: format!("±{} days", MAX_SHIFT.as_secs() / 86_400),
        });
    }
    Ok(chrono::Duration::seconds(secs))
}

/// `t` moved by a checked shift.
pub fn shifted(t: DateTime<Utc>, secs: i64) -> Result<DateTime<Utc>, TimeError> {
    add(t, shift(secs)?).ok_or(TimeError::OutOfRange { what: "a shift" })
}

/// `+15m`, `-2h 30m`, `+400d`: a signed offset as people write it (in days, not humantime's
/// years of 365.25 days, beyond a day).
pub fn signed_text(secs: i64) -> String {
    let sign = if secs < 0 { "-" } else { "+" };
    let abs = secs.unsigned_abs();
    let (days, rest) = (abs / 86_400, abs % 86_400);
    let rest = humantime::format_duration(Duration::from_secs(rest));
    match (days, rest) {
        (0, r) => format!("{sign}{r}"),
        (d, _) if abs.is_multiple_of(86_400) => format!("{sign}{d}d"),
        (d, r) => format!("{sign}{d}d {r}"),
    }
}

/// A wait a server asked for, made safe: an instant in the past becomes a one-second pause,
/// one beyond `longest` ([`MAX_SERVER_WAIT`] unless configured) is capped. Returns the instant
/// to wait until and, when it was capped, a warning naming `source` (the header) and its value.
pub fn server_wait(
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    source: &str,
    longest: Duration,
) -> (DateTime<Utc>, Option<String>) {
    let cap = saturating_after(now, longest);
    if until <= now {
        (saturating_add(now, chrono::Duration::seconds(1)), None)
    } else if until > cap {
        let asked = until - now;
        let warning = format!(
            "the server asked to wait {} ({source}); waiting {} instead, then asking again",
            human_span(asked),
            humantime::format_duration(longest)
        );
        (cap, Some(warning))
    } else {
        (until, None)
    }
}

/// A number of seconds a server gave (`Retry-After: 120`, `expires_in`), as an instant from
/// `now`, capped at `cap` (and flagged when it was).
pub fn seconds_from(now: DateTime<Utc>, secs: f64, cap: Duration) -> (DateTime<Utc>, bool) {
    if !secs.is_finite() || secs <= 0.0 {
        return (now, false);
    }
    let capped = secs > cap.as_secs_f64();
    let wanted = if capped { cap } else { Duration::from_secs_f64(secs) };
    (saturating_after(now, wanted), capped)
}

/// A span for messages: "3h 20m", or "more than 100 years".
fn human_span(d: chrono::Duration) -> String {
    match d.to_std() {
        Ok(s) if s < Duration::from_secs(100 * 365 * 86_400) => {
            humantime::format_duration(Duration::from_secs(s.as_secs())).to_string()
        }
        _ => "more than 100 years".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn additions_that_overflow_are_none_or_saturate() {
        let now = t("2026-12-06T10:00:00Z");
        assert_eq!(after(now, Duration::from_secs(60)), Some(t("2026-12-06T10:01:00Z")));
        assert_eq!(after(now, Duration::MAX), None);
        assert_eq!(add(DateTime::<Utc>::MAX_UTC, chrono::Duration::seconds(1)), None);
        assert_eq!(saturating_add(now, chrono::Duration::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(saturating_add(now, chrono::Duration::MIN), DateTime::<Utc>::MIN_UTC);
        assert_eq!(saturating_after(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(span(Duration::MAX), None);
    }

    #[test]
    fn shifts_are_limited_to_a_year() {
        let now = t("2026-12-06T10:00:00Z");
        let cases: [(i64, Result<&str, &str>); 7] = [
            (900, Ok("2026-12-06T10:15:00Z")),
            (-300, Ok("2026-12-06T09:55:00Z")),
            (366 * 86_400, Ok("2027-12-07T10:00:00Z")),
            (366 * 86_400 + 1, Err("beyond the limit of ±366 days")),
            (-(366 * 86_400) - 1, Err("beyond the limit")),
            (300_000 * 365 * 86_400, Err("a shift of +")),
            (i64::MIN, Err("beyond the limit")),
        ];
        for (secs, want) in cases {
            match (shifted(now, secs), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, t(w), "{secs}"),
                (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{secs}: {e}"),
                (got, w) => panic!("{secs}: got {got:?}, want {w:?}"),
            }
        }
        // At the calendar's end a legal shift still cannot overflow.
        assert!(matches!(shifted(DateTime::<Utc>::MAX_UTC, 60), Err(TimeError::OutOfRange { .. })));
    }

    #[test]
    fn server_waits_are_capped_and_past_ones_are_a_pause() {
        let now = t("2026-12-06T10:00:00Z");
        let cases = [
            // (until, want, warned)
            (t("2026-12-06T10:00:30Z"), t("2026-12-06T10:00:30Z"), false),
            (t("2026-12-06T11:00:00Z"), t("2026-12-06T11:00:00Z"), false),
            (t("2026-12-06T11:00:01Z"), t("2026-12-06T11:00:00Z"), true),
            (DateTime::<Utc>::MAX_UTC, t("2026-12-06T11:00:00Z"), true),
            (t("2026-12-06T09:59:59Z"), t("2026-12-06T10:00:01Z"), false),
            (DateTime::<Utc>::MIN_UTC, t("2026-12-06T10:00:01Z"), false),
            (now, t("2026-12-06T10:00:01Z"), false),
        ];
        for (until, want, warned) in cases {
            let (got, warning) = server_wait(now, until, "Retry-After: x", MAX_SERVER_WAIT);
            assert_eq!(got, want, "{until}");
            assert_eq!(warning.is_some(), warned, "{until}: {warning:?}");
            if let Some(w) = warning {
                assert!(w.contains("Retry-After: x") && w.contains("1h"), "{w}");
            }
        }
    }

    #[test]
    fn seconds_from_servers_are_capped() {
        let now = t("2026-12-06T10:00:00Z");
        let hour = Duration::from_secs(3600);
        assert_eq!(seconds_from(now, 120.0, hour), (t("2026-12-06T10:02:00Z"), false));
        assert_eq!(seconds_from(now, 1e300, hour), (t("2026-12-06T11:00:00Z"), true));
        assert_eq!(seconds_from(now, f64::INFINITY, hour), (now, false));
        assert_eq!(seconds_from(now, f64::NAN, hour), (now, false));
        assert_eq!(seconds_from(now, -5.0, hour), (now, false));
    }
}

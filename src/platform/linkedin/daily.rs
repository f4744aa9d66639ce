//! What a LinkedIn 429 means (pure). LinkedIn's limits are per member and per app per UTC day,
//! reset at midnight UTC, with no rate-limit headers; it may also answer 429 to protect itself,
//! and recovers on its own (NOTES.md §0 "Rate limits", L-RATE). So a first 429 is waited out
//! briefly, and a second in a row (nothing succeeded between them) is the daily limit: the
//! account is held until midnight UTC.

use chrono::{DateTime, Duration, NaiveTime, Utc};

/// How long a first 429 is waited out.
pub const FIRST_WAIT: Duration = Duration::seconds(60);

/// The next midnight UTC after `now`.
pub fn next_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    tomorrow.and_time(NaiveTime::MIN).and_utc()
}

/// Until when a 429 holds the account, and why, after `strikes` 429s in a row (this one
/// included). `None`: the usual short wait (the HTTP layer's).
pub fn after_429(now: DateTime<Utc>, strikes: u32) -> Option<(DateTime<Utc>, String)> {
    (strikes >= 2).then(|| {
        (
            next_midnight(now),
            "LinkedIn's daily limit for this member and app is reached (429 twice in a row); it resets at midnight UTC"
                .to_string(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn a_second_429_in_a_row_holds_until_midnight_utc() {
        let cases = [
            ("2026-03-18T10:15:00Z", 1, None),
            ("2026-03-18T10:15:00Z", 2, Some("2026-03-19T00:00:00Z")),
            ("2026-03-18T23:59:59Z", 3, Some("2026-03-19T00:00:00Z")),
            ("2026-03-19T00:00:00Z", 2, Some("2026-03-20T00:00:00Z")),
            // An evening in UTC-8 is the next UTC day already: the reset is UTC's.
            ("2026-12-31T23:30:00-08:00", 2, Some("2027-01-02T00:00:00Z")),
        ];
        for (now, strikes, want) in cases {
            let got = after_429(at(now), strikes).map(|(t, _)| t);
            assert_eq!(got, want.map(at), "{now} strike {strikes}");
        }
        assert!(after_429(at("2026-03-18T10:00:00Z"), 2).unwrap().1.contains("midnight UTC"));
    }
}

//! What Facebook's Graph API and the Threads API answer when something is wrong, and what
//! loudhailer does about it (pure): both are Meta Graph APIs, with one error shape and one
//! throttling scheme.
//!
//! Sources: Graph API "Handling Errors"
//! (developers.facebook.com/docs/graph-api/guides/error-handling): the body `{"error": {message,
//! type, code, error_subcode, error_user_title, error_user_msg, fbtrace_id}}`; 1 and 2 transient;
//! 4, 17, 32, 613 throttling; 10 and 200–299 permissions; 100 a bad parameter (subcode 33: the
//! object does not exist); 102 and 190 a session or token gone (subcode 463: expired); 368
//! temporarily blocked for policy; 506 a duplicate post. Graph API "Rate Limits"
//! (developers.facebook.com/docs/graph-api/overview/rate-limiting): Business Use Case codes from
//! 80000 (80001 Pages), and the `X-Business-Use-Case-Usage` header, `{object-id: [{type,
//! call_count, total_cputime, total_time, estimated_time_to_regain_access}]}`, the last in
//! minutes. The Threads API answers the same codes (its "Troubleshooting" and rate-limit pages).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// How long a throttled account is held when the answer does not say: Meta's usage is counted
/// over a rolling hour, so a few minutes, then asking again. An absent
/// `X-Business-Use-Case-Usage` is not "no usage": it only means Meta gave no estimate.
pub const UNSAID_THROTTLE: Duration = Duration::from_secs(300);

/// A Graph API error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GraphError {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub error_user_title: Option<String>,
    #[serde(default)]
    pub error_user_msg: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    error: GraphError,
}

impl GraphError {
    /// The error in a body, if it has Graph's shape.
    pub fn parse(body: &[u8]) -> Option<GraphError> {
        serde_json::from_slice::<Envelope>(body).ok().map(|e| e.error)
    }

    /// Meta's own words: the message, and the message for people where it adds one.
    pub fn words(&self) -> String {
        let mut out = self.message.clone();
        if let Some(m) = self.error_user_msg.as_deref().filter(|m| !m.is_empty() && !out.contains(*m)) {
            out.push_str(&format!(" ({m})"));
        }
        match self.code {
            Some(c) if !out.contains(&format!("#{c}")) => format!("{out} [code {c}]"),
            _ => out,
        }
    }
}

/// What an error means for the job and the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// A rate limit: hold the account and try again.
    Throttled,
    /// 506: the same post again; the job fails with Meta's words.
    Duplicate,
    /// 368: blocked for a while for policy; the account pauses.
    Blocked,
    /// 190 / 102: the token is expired or revoked; the account pauses until a new login.
    Expired,
    /// 10, 200–299: a permission is missing; the account pauses.
    Permission,
    /// 100/33: the object does not exist (deleted).
    Gone,
    /// 1, 2 or a 5xx: try again later.
    Transient,
    /// Anything else: the job fails with Meta's words.
    Refused,
}

/// What `e` (answered with HTTP `status`) means.
pub fn meaning(status: u16, e: &GraphError) -> Meaning {
    match (e.code, e.error_subcode) {
        (Some(4 | 17 | 32 | 613), _) | (Some(80000..=80014), _) => Meaning::Throttled,
        (Some(506), _) => Meaning::Duplicate,
        (Some(368), _) => Meaning::Blocked,
        (Some(190 | 102), _) | (_, Some(458 | 459 | 460 | 463 | 464 | 467)) => Meaning::Expired,
        (Some(10 | 200..=299), _) => Meaning::Permission,
        (Some(100), Some(33)) => Meaning::Gone,
        (Some(1 | 2), _) => Meaning::Transient,
        _ if status >= 500 => Meaning::Transient,
        _ => Meaning::Refused,
    }
}

/// The longest `estimated_time_to_regain_access` in an `X-Business-Use-Case-Usage` value, if
/// any entry gives one above zero. A header that does not read gives nothing.
pub fn regain(header: Option<&str>) -> Option<Duration> {
    let v: serde_json::Value = serde_json::from_str(header?).ok()?;
    let minutes = v
        .as_object()?
        .values()
        .filter_map(|entries| entries.as_array())
        .flatten()
        .filter_map(|e| e["estimated_time_to_regain_access"].as_f64())
        .filter(|m| m.is_finite() && *m > 0.0)
        .fold(0.0_f64, f64::max);
    // Minutes as Meta gives them; a value beyond any calendar saturates, for the cap.
    (minutes > 0.0).then(|| Duration::from_secs_f64((minutes * 60.0).min(1e12)))
}

/// Until when a throttling answer holds the account, and why: Meta's estimate when it gives one,
/// else [`UNSAID_THROTTLE`]; capped at `longest` (`[run] max_server_wait`).
pub fn throttle_hold(
    now: DateTime<Utc>,
    network: &str,
    e: &GraphError,
    usage: Option<&str>,
    longest: Duration,
) -> (DateTime<Utc>, String, Option<String>) {
    let code = e.code.map(|c| format!(" (code {c})")).unwrap_or_default();
    match regain(usage) {
        Some(wait) => {
            let until = crate::checked::saturating_after(now, wait);
            let (until, capped) = crate::checked::server_wait(now, until, "X-Business-Use-Case-Usage", longest);
            let why = format!(
                "{network} throttled the account{code}: {}; it estimates access back in {} minutes",
                e.message,
                wait.as_secs().div_ceil(60)
            );
            (until, why, capped)
        }
        None => {
            let until = crate::checked::saturating_after(now, UNSAID_THROTTLE.min(longest));
            let why = format!(
                "{network} throttled the account{code}: {}; it gave no time to wait (no X-Business-Use-Case-Usage estimate), so asking again in {} minutes",
                e.message,
                UNSAID_THROTTLE.min(longest).as_secs().div_ceil(60)
            );
            (until, why, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(code: i64, subcode: Option<i64>) -> GraphError {
        GraphError { code: Some(code), error_subcode: subcode, message: "m".into(), ..Default::default() }
    }

    #[test]
    fn codes_mean_what_meta_documents() {
        let cases = [
            (400, e(4, None), Meaning::Throttled),
            (400, e(17, None), Meaning::Throttled),
            (400, e(32, None), Meaning::Throttled),
            (400, e(613, None), Meaning::Throttled),
            (400, e(80001, None), Meaning::Throttled),
            (400, e(506, Some(1_455_006)), Meaning::Duplicate),
            (400, e(368, None), Meaning::Blocked),
            (400, e(190, Some(463)), Meaning::Expired),
            (400, e(190, None), Meaning::Expired),
            (400, e(102, None), Meaning::Expired),
            (400, e(10, None), Meaning::Permission),
            (400, e(200, None), Meaning::Permission),
            (400, e(100, Some(33)), Meaning::Gone),
            (400, e(100, None), Meaning::Refused),
            (500, e(2, None), Meaning::Transient),
            (400, e(1, None), Meaning::Transient),
            (503, GraphError::default(), Meaning::Transient),
            (400, GraphError::default(), Meaning::Refused),
        ];
        for (status, err, want) in cases {
            assert_eq!(meaning(status, &err), want, "{status} {err:?}");
        }
    }

    #[test]
    fn the_usage_header_gives_the_wait_and_its_absence_is_not_zero() {
        let h = r#"{"20000000000000022":[{"type":"pages","call_count":100,"total_cputime":100,"total_time":100,"estimated_time_to_regain_access":5},{"type":"pages","estimated_time_to_regain_access":2}]}"#;
        assert_eq!(regain(Some(h)), Some(Duration::from_secs(300)));
        let zero = r#"{"1":[{"type":"pages","call_count":40,"estimated_time_to_regain_access":0}]}"#;
        assert_eq!(regain(Some(zero)), None);
        assert_eq!(regain(Some("not json")), None);
        assert_eq!(regain(None), None);

        let now = DateTime::parse_from_rfc3339("2026-03-18T10:00:00Z").unwrap().to_utc();
        let hour = Duration::from_secs(3600);
        let (until, why, capped) = throttle_hold(now, "Facebook", &e(80001, None), Some(h), hour);
        assert_eq!(until - now, chrono::Duration::minutes(5));
        assert!(why.contains("estimates access back in 5 minutes"), "{why}");
        assert_eq!(capped, None);
        // No header: not "no usage", a wait all the same.
        let (until, why, _) = throttle_hold(now, "Facebook", &e(4, None), None, hour);
        assert_eq!(until - now, chrono::Duration::minutes(5));
        assert!(why.contains("gave no time to wait"), "{why}");
        // Meta's estimate beyond the configured cap is capped, and says so.
        let long = r#"{"1":[{"estimated_time_to_regain_access":1440}]}"#;
        let (until, _, capped) = throttle_hold(now, "Threads", &e(4, None), Some(long), hour);
        assert_eq!(until - now, chrono::Duration::hours(1));
        assert!(capped.is_some());
    }

    #[test]
    fn errors_are_read_in_metas_words() {
        let body = br#"{"error":{"message":"Duplicate status message","type":"OAuthException","code":506,"error_subcode":1455006,"fbtrace_id":"Ab"}}"#;
        let err = GraphError::parse(body).unwrap();
        assert_eq!(err.code, Some(506));
        assert_eq!(err.words(), "Duplicate status message [code 506]");
        let body = br#"{"error":{"message":"(#368) Blocked","code":368,"error_user_msg":"You can't post right now."}}"#;
        assert_eq!(GraphError::parse(body).unwrap().words(), "(#368) Blocked (You can't post right now.)");
        assert_eq!(GraphError::parse(b"<html>"), None);
    }
}

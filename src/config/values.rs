//! Parsing the humane values of the config: durations, rates and session times (pure), and
//! [`S`], a value with its place in the file.

use std::time::Duration;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A value as written, with its byte range in the file (for errors that name the line).
pub type S<T> = toml::Spanned<T>;

/// `"5m"`, `"90s"`, `"1h 30m"`.
pub fn duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("expected a duration such as \"5m\" or \"90s\" ({e})"))
}

/// The longest each configurable duration may be. Longer values are mistakes (a unit typed
/// wrong, a number with too many digits), and refusing them keeps every instant computed from
/// them inside the calendar.
pub mod limit {
    use std::time::Duration;

    const DAY: u64 = 86_400;
    /// `[amplify] delay` and `jitter`: a boost a week after its post.
    pub const AMPLIFY: Duration = Duration::from_secs(7 * DAY);
    /// `[run] catch_up`.
    pub const CATCH_UP: Duration = Duration::from_secs(7 * DAY);
    /// A session's length (`duration`, or `end` minus `start`).
    pub const SESSION: Duration = Duration::from_secs(14 * DAY);
    /// `[[follow]] poll`.
    pub const POLL: Duration = Duration::from_secs(DAY);
    /// `[run] max_server_wait`.
    pub const SERVER_WAIT: Duration = Duration::from_secs(DAY);
    /// `[report] checkpoints`.
    pub const CHECKPOINT: Duration = Duration::from_secs(366 * DAY);
    /// The period of a rate (`"20/h"`: an hour).
    pub const RATE_PERIOD: Duration = Duration::from_secs(7 * DAY);
}

/// A duration no longer than `max`.
pub fn duration_within(text: &str, max: Duration) -> Result<Duration, String> {
    let d = duration(text)?;
    if d > max {
        return Err(format!("{:?} is longer than the limit of {}", text.trim(), humantime::format_duration(max)));
    }
    Ok(d)
}

/// At most `count` events per `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rate {
    pub count: u32,
    #[serde(with = "humantime_serde_secs")]
    pub per: Duration,
}

impl Rate {
    pub fn new(count: u32, per: Duration) -> Self {
        Rate { count, per }
    }

    /// The even spacing that keeps to the rate.
    pub fn interval(&self) -> Duration {
        self.per / self.count.max(1)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.count, humantime::format_duration(self.per))
    }
}

mod humantime_serde_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

/// `"20/h"`, `"300/5m"`, `"1/90s"`.
pub fn rate(text: &str) -> Result<Rate, String> {
    let expected = || format!("expected a rate such as \"20/h\" or \"300/5m\", found {text:?}");
    let (count, per) = text.trim().split_once('/').ok_or_else(expected)?;
    let count: u32 = count.trim().parse().map_err(|_| expected())?;
    if count == 0 {
        return Err(format!("{}: the count must be at least 1", expected()));
    }
    let per = per.trim();
    let per = match per {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        "d" | "day" => Duration::from_secs(86_400),
        other => humantime::parse_duration(other).map_err(|_| expected())?,
    };
    if per.is_zero() {
        return Err(expected());
    }
    if per > limit::RATE_PERIOD {
        return Err(format!(
            "{}: the period must be at most {}",
            expected(),
            humantime::format_duration(limit::RATE_PERIOD)
        ));
    }
    Ok(Rate { count, per })
}

/// `"HH:MM"` or `"HH:MM:SS"`.
pub fn clock_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S")).ok()
}

/// Resolves a local date-time in `tz`: a time in a DST gap is an error; in an overlap, the
/// earlier instant wins (the clock shows that time first).
pub fn local_instant(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, String> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => {
            Err(format!("{local} does not exist in {tz} (the clocks skip it when summer time starts)"))
        }
    }
}

/// A session time: `"HH:MM"` on `date`, a local date-time in `tz`, or RFC 3339 with an offset,
/// written as a string or as a TOML date-time.
pub fn instant(value: &toml::Value, tz: Tz, date: Option<NaiveDate>) -> Result<DateTime<Utc>, String> {
    const EXPECTED: &str =
        "expected \"HH:MM\" (on event.date), a local date-time like 2010-03-18T10:00:00, or RFC 3339 with an offset";
    match value {
        toml::Value::String(text) => instant_text(text.trim(), tz, date),
        toml::Value::Datetime(dt) => {
            let text = dt.to_string();
            match (dt.date, dt.time) {
                (Some(_), Some(_)) => instant_text(&text, tz, date),
                (None, Some(_)) => instant_text(&text, tz, date),
                _ => Err(format!("{EXPECTED}; found the date {text} without a time")),
            }
        }
        other => Err(format!("{EXPECTED}; found {}", other.type_str())),
    }
}

fn instant_text(text: &str, tz: Tz, date: Option<NaiveDate>) -> Result<DateTime<Utc>, String> {
    if let Some(time) = clock_time(text) {
        let date = date.ok_or_else(|| format!("\"{text}\" needs event.date (or write a full date-time)"))?;
        return local_instant(tz, date.and_time(time));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(text, format) {
            return local_instant(tz, local);
        }
    }
    Err(format!(
        "expected \"HH:MM\" (on event.date), a local date-time like 2010-03-18T10:00:00, or RFC 3339 with an offset; found {text:?}"
    ))
}

/// `event.date`: a TOML date (`2010-03-18`) or the same as a string.
pub fn date(value: &toml::Value) -> Result<NaiveDate, String> {
    let text = match value {
        toml::Value::Datetime(dt) if dt.time.is_none() && dt.date.is_some() => dt.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => return Err("expected a date such as 2010-03-18".into()),
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("expected a date such as 2010-03-18, found {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates() {
        assert_eq!(duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(duration(" 90s ").unwrap(), Duration::from_secs(90));
        assert!(duration("five minutes").is_err());
        for (text, count, secs) in [("20/h", 20, 3600), ("300/5m", 300, 300), ("1/90s", 1, 90), ("5 / min", 5, 60)] {
            assert_eq!(rate(text).unwrap(), Rate::new(count, Duration::from_secs(secs)), "{text}");
        }
        for bad in ["20", "0/h", "x/h", "20/fortnightish", "20/0s", "20/8d", "1/300000y"] {
            assert!(rate(bad).is_err(), "{bad}");
        }
        assert_eq!(rate("20/h").unwrap().interval(), Duration::from_secs(180));
    }

    #[test]
    fn durations_beyond_their_limit_are_refused() {
        let week = limit::AMPLIFY;
        assert_eq!(duration_within("7d", week).unwrap(), week);
        for bad in ["8d", "300000y", "1000000000000000h"] {
            let e = duration_within(bad, week).unwrap_err();
            assert!(e.contains("limit of 7days") || e.contains("expected a duration"), "{bad}: {e}");
        }
        assert!(duration_within("99999999999999999999999y", week).unwrap_err().contains("expected a duration"));
    }

    #[test]
    fn session_times() {
        let tz: Tz = "Europe/London".parse().unwrap();
        let day = NaiveDate::from_ymd_opt(2010, 3, 18);
        let s = |t: &str| toml::Value::String(t.into());
        let utc = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        // March 18th 2010 is GMT (summer time starts on the 28th).
        assert_eq!(instant(&s("10:00"), tz, day).unwrap(), utc("2010-03-18T10:00:00Z"));
        assert_eq!(instant(&s("2010-06-01T10:00:00"), tz, day).unwrap(), utc("2010-06-01T09:00:00Z"));
        assert_eq!(instant(&s("2010-06-01T10:00:00+02:00"), tz, day).unwrap(), utc("2010-06-01T08:00:00Z"));
        let toml_local: toml::Value = toml::from_str::<toml::Table>("t = 2010-06-01T10:00:00").unwrap()["t"].clone();
        assert_eq!(instant(&toml_local, tz, day).unwrap(), utc("2010-06-01T09:00:00Z"));
        assert!(instant(&s("10:00"), tz, None).unwrap_err().contains("event.date"));
        assert!(instant(&s("25:00"), tz, day).is_err());
        assert!(instant(&toml::Value::Integer(10), tz, day).is_err());
        // 01:30 on 2010-03-28 does not exist in London.
        assert!(instant(&s("2010-03-28T01:30:00"), tz, day).unwrap_err().contains("does not exist"));
        // 01:30 on 2010-10-31 happens twice; the first (BST) wins.
        assert_eq!(instant(&s("2010-10-31T01:30:00"), tz, day).unwrap(), utc("2010-10-31T00:30:00Z"));
    }
}

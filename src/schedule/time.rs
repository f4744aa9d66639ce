//! Time helpers shared by the importers: durations, clock times, zones and the DST rule.
//!
//! # The DST rule
//! A local time that falls in a spring-forward gap (02:30 on the night clocks jump from 02:00
//! to 03:00) is read with the offset in force just before the gap, so it lands as far after the
//! jump as it was after 02:00 (02:30 → 03:30 summer time): what a wall clock that was not yet
//! changed would have shown. A local time that occurs twice (the autumn fall-back hour) is read
//! as its first occurrence (summer time). Both are reported as warnings by the caller.

use chrono::{
    DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;

/// How a local time was mapped onto the time line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalFit {
    /// The local time exists exactly once.
    Exact,
    /// The local time was skipped by a DST change; read with the earlier offset.
    Gap,
    /// The local time occurred twice; the first occurrence was taken.
    Overlap,
}

/// Resolves a local date-time in `tz` to an instant, following the module's DST rule.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> (DateTime<Utc>, LocalFit) {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => (t.with_timezone(&Utc), LocalFit::Exact),
        LocalResult::Ambiguous(first, _) => (first.with_timezone(&Utc), LocalFit::Overlap),
        LocalResult::None => {
            // The offset in force a few hours earlier is the one before the jump.
            let before = local
                .checked_sub_signed(Duration::hours(6))
                .map(|t| tz.offset_from_local_datetime(&t))
                .and_then(|r| r.earliest())
                .map(|o| o.fix())
                .unwrap_or_else(|| Utc.fix());
            let utc = local.checked_sub_signed(Duration::seconds(i64::from(before.local_minus_utc()))).unwrap_or(local);
            (Utc.from_utc_datetime(&utc), LocalFit::Gap)
        }
    }
}

/// Whether a local date-time names exactly one instant in `tz` (used when writing local times).
pub fn is_unambiguous(tz: Tz, local: NaiveDateTime) -> bool {
    matches!(tz.from_local_datetime(&local), LocalResult::Single(_))
}

/// Parses an IANA zone name (`Europe/Berlin`, `UTC`).
pub fn parse_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    name.parse::<Tz>().ok()
}

/// Parses a clock time: `9:30`, `09:30`, `09:30:00`, `9.30`, and with AM/PM as spreadsheets
/// write it: `9:30 AM`, `1:30pm`.
pub fn parse_clock(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    ["%H:%M", "%H:%M:%S", "%H.%M", "%I:%M %p", "%I:%M%p", "%I:%M:%S %p"]
        .iter()
        .find_map(|format| NaiveTime::parse_from_str(text, format).ok())
}

/// Parses a calendar date `2013-08-24` (a trailing `T00:00:00` is accepted).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let head = text.get(..10).unwrap_or(text);
    let date = NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()?;
    let rest = text.get(10..).unwrap_or("");
    (rest.is_empty() || rest.starts_with('T') || rest.starts_with(' ')).then_some(date)
}

/// A date-time as written in a schedule: with an explicit offset, or local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    Offset(DateTime<FixedOffset>),
    Local(NaiveDateTime),
}

/// Parses RFC 3339 / ISO 8601 date-times with or without an offset:
/// `2019-12-27T11:00:00+01:00`, `2024-01-01T10:00:00Z`, `2023-06-08T09:00:00`,
/// `2011-06-23 19:00`, `2011-06-23T19:00`.
pub fn parse_stamp(text: &str) -> Option<Stamp> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(Stamp::Offset(t));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M%:z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(Stamp::Offset(t));
        }
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Stamp::Local(t));
        }
    }
    None
}

/// Parses a duration: `HH:MM`, `H:MM`, `HH:MM:SS`, ISO 8601 (`PT1H30M`, `P1DT2H`) or a
/// humantime span (`90m`, `1h 30m`). Negative or absurd (over 30 days) durations are refused.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let duration = if text.starts_with(['P', 'p']) {
        parse_iso_duration(text)?
    } else if text.contains(':') {
        parse_clock_duration(text)?
    } else {
        let std = humantime::parse_duration(text).ok()?;
        Duration::from_std(std).ok()?
    };
    (duration >= Duration::zero() && duration <= Duration::days(30)).then_some(duration)
}

fn parse_clock_duration(text: &str) -> Option<Duration> {
    let mut parts = text.split(':');
    let hours: i64 = parts.next()?.trim().parse().ok()?;
    let minutes: i64 = parts.next()?.trim().parse().ok()?;
    let seconds: i64 = match parts.next() {
        Some(s) => s.trim().parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() || !(0..60).contains(&minutes) || !(0..60).contains(&seconds) {
        return None;
    }
    if !(0..=24 * 30).contains(&hours) {
        return None;
    }
    Some(Duration::seconds(hours * 3600 + minutes * 60 + seconds))
}

/// ISO 8601 durations as iCalendar and schedule JSON use them: `P[nW][nD][T[nH][nM][nS]]`.
fn parse_iso_duration(text: &str) -> Option<Duration> {
    let body = text.get(1..)?;
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut in_time = false;
    let mut any = false;
    for c in body.chars() {
        match c {
            '0'..='9' => number.push(c),
            'T' | 't' if number.is_empty() => in_time = true,
            _ => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                let unit = match (c.to_ascii_uppercase(), in_time) {
                    ('W', false) => 7 * 86_400,
                    ('D', false) => 86_400,
                    ('H', true) => 3600,
                    ('M', true) => 60,
                    ('S', true) => 1,
                    _ => return None,
                };
                total = total.checked_add(n.checked_mul(unit)?)?;
                any = true;
            }
        }
        if number.len() > 9 {
            return None;
        }
    }
    if !any || !number.is_empty() {
        return None;
    }
    Duration::try_seconds(total)
}

/// Formats a duration for messages: `30m`, `1h 30m`.
pub fn describe(duration: Duration) -> String {
    let minutes = duration.num_minutes();
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn durations() {
        for (input, minutes) in [
            ("00:30", Some(30)),
            ("1:30", Some(90)),
            ("01:00:00", Some(60)),
            ("6:59", Some(419)),
            ("PT1H30M", Some(90)),
            ("PT45M", Some(45)),
            ("P1DT1H", Some(25 * 60)),
            ("90m", Some(90)),
            ("1h 15m", Some(75)),
            ("", None),
            ("1:75", None),
            ("-1:00", None),
            ("PT", None),
            ("P1H", None),
            ("PT1H30", None),
            ("banana", None),
            ("99999999999:00", None),
            ("P99999999999999999999D", None),
        ] {
            assert_eq!(parse_duration(input).map(|d| d.num_minutes()), minutes, "{input}");
        }
    }

    #[test]
    fn huge_iso_durations_are_refused_not_panicked_on() {
        assert_eq!(parse_duration(&"P999999999W".repeat(40)), None);
    }

    #[test]
    fn stamps() {
        let berlin = DateTime::parse_from_rfc3339("2019-12-27T11:00:00+01:00").unwrap();
        for (input, want) in [
            ("2019-12-27T11:00:00+01:00", Some(Stamp::Offset(berlin))),
            ("2019-12-27T10:00:00Z", Some(Stamp::Offset(berlin))),
            ("2019-12-27T11:00+01:00", Some(Stamp::Offset(berlin))),
            ("2019-12-27T11:00", Some(Stamp::Local(local("2019-12-27T11:00")))),
            ("2019-12-27 11:00", Some(Stamp::Local(local("2019-12-27T11:00")))),
            ("2019-12-27T11:00:00", Some(Stamp::Local(local("2019-12-27T11:00")))),
            ("11:00", None),
            ("2019-13-27T11:00", None),
        ] {
            assert_eq!(parse_stamp(input), want, "{input}");
        }
    }

    #[test]
    fn dst_rule() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        for (input, utc, fit) in [
            // Winter time, plain.
            ("2023-03-25T10:00", "2023-03-25T09:00:00Z", LocalFit::Exact),
            // 02:30 does not exist on 2023-03-26: read with +01:00, i.e. 03:30 summer time.
            ("2023-03-26T02:30", "2023-03-26T01:30:00Z", LocalFit::Gap),
            ("2023-03-26T03:30", "2023-03-26T01:30:00Z", LocalFit::Exact),
            // 02:30 happens twice on 2023-10-29: the first (summer time, +02:00) is taken.
            ("2023-10-29T02:30", "2023-10-29T00:30:00Z", LocalFit::Overlap),
            ("2023-10-29T03:30", "2023-10-29T02:30:00Z", LocalFit::Exact),
        ] {
            let (got, got_fit) = resolve_local(berlin, local(input));
            assert_eq!(got.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), utc, "{input}");
            assert_eq!(got_fit, fit, "{input}");
        }
    }

    #[test]
    fn clocks_dates_zones() {
        assert_eq!(parse_clock("9:05"), NaiveTime::from_hms_opt(9, 5, 0));
        assert_eq!(parse_clock("09:05:30"), NaiveTime::from_hms_opt(9, 5, 30));
        assert_eq!(parse_clock("25:00"), None);
        assert_eq!(parse_clock("9.20"), NaiveTime::from_hms_opt(9, 20, 0));
        assert_eq!(parse_clock("9:20 AM"), NaiveTime::from_hms_opt(9, 20, 0));
        assert_eq!(parse_clock("1:30pm"), NaiveTime::from_hms_opt(13, 30, 0));
        assert_eq!(parse_clock("12:05 am"), NaiveTime::from_hms_opt(0, 5, 0));
        assert_eq!(parse_clock("13:30 PM"), None);
        assert_eq!(parse_date("2023-06-08T00:00:00"), NaiveDate::from_ymd_opt(2023, 6, 8));
        assert_eq!(parse_date("2023-06-08"), NaiveDate::from_ymd_opt(2023, 6, 8));
        assert_eq!(parse_date("2023-06-08x"), None);
        assert_eq!(parse_date("é"), None);
        assert_eq!(parse_zone("Europe/Brussels"), Some(chrono_tz::Europe::Brussels));
        assert_eq!(parse_zone("Mars/Olympus"), None);
        assert_eq!(describe(Duration::minutes(90)), "1h 30m");
    }
}

//! `[event]`: the event's name, time zone, date, hashtags, language and daily hours; and the
//! id and language checks other sections share.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::error::Problems;
use super::values::{self, S};
use super::Config;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    pub name: S<String>,
    pub timezone: S<String>,
    #[serde(default)]
    pub date: Option<S<toml::Value>>,
    #[serde(default)]
    pub hashtags: Vec<S<String>>,
    /// Language tag for posts (ISO 639-1), e.g. "en".
    #[serde(default)]
    pub language: Option<S<String>>,
    /// The daily window recurring posts stay inside: ["09:00", "17:30"].
    #[serde(default)]
    pub hours: Option<S<Vec<String>>>,
}

#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    pub timezone: Tz,
    pub date: Option<NaiveDate>,
    /// With their `#`.
    pub hashtags: Vec<String>,
    pub language: Option<String>,
    /// The daily window for recurring posts; by default each day's first start to last end.
    pub hours: Option<(NaiveTime, NaiveTime)>,
}

pub(super) fn validate(raw: S<RawEvent>, p: &mut Problems<'_>) -> Option<Event> {
    let raw = raw.into_inner();
    let name = raw.name.get_ref().trim().to_string();
    if name.is_empty() {
        p.at(raw.name.span(), "event.name", "must not be empty");
    }
    let timezone: Tz = match raw.timezone.get_ref().trim().parse() {
        Ok(tz) => tz,
        Err(_) => {
            p.at(
                raw.timezone.span(),
                "event.timezone",
                format!(
                    "unknown time zone {:?}: expected an IANA name such as \"Europe/London\"",
                    raw.timezone.get_ref()
                ),
            );
            return None;
        }
    };
    let date =
        raw.date.as_ref().and_then(|d| values::date(d.get_ref()).map_err(|e| p.at(d.span(), "event.date", e)).ok());
    let hashtags = raw
        .hashtags
        .iter()
        .filter_map(|h| {
            let tag = h.get_ref().trim();
            let bare = tag.trim_start_matches('#');
            if bare.is_empty() || !bare.chars().all(|c| c.is_alphanumeric() || c == '_') {
                p.at(
                    h.span(),
                    "event.hashtags",
                    format!("{tag:?} is not a hashtag: expected letters, digits or _ after #"),
                );
                None
            } else {
                Some(format!("#{bare}"))
            }
        })
        .collect();
    let language = raw.language.as_ref().map(|l| checked_language(l, "event.language", p));
    let hours = raw.hours.as_ref().and_then(|h| {
        let list = h.get_ref();
        let parsed: Vec<_> = list.iter().filter_map(|t| values::clock_time(t)).collect();
        match parsed.as_slice() {
            [a, b] if list.len() == 2 && a < b => Some((*a, *b)),
            _ => {
                p.at(h.span(), "event.hours", "expected two times, the first earlier, such as [\"09:00\", \"17:30\"]");
                None
            }
        }
    });
    Some(Event { name, timezone, date, hashtags, language, hours })
}

pub(super) fn checked_language(l: &S<String>, key: &str, p: &mut Problems<'_>) -> String {
    let tag = l.get_ref().trim();
    let ok = !tag.is_empty()
        && tag.len() <= 35
        && tag.split('-').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric()))
        && tag
            .split('-')
            .next()
            .is_some_and(|first| (2..=3).contains(&first.len()) && first.chars().all(|c| c.is_ascii_alphabetic()));
    if !ok {
        p.at(l.span(), key, format!("{tag:?} is not a language tag such as \"en\" or \"pt-BR\""));
    }
    tag.to_string()
}

/// Ids that appear in job ids: lower-case letters, digits, `-` and `_`.
pub(super) fn checked_id(id: &S<String>, key: &str, p: &mut Problems<'_>) -> String {
    let text = id.get_ref().trim();
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_') {
        p.at(id.span(), key, format!("{text:?}: expected lower-case letters, digits, '-' or '_'"));
    }
    text.to_string()
}

/// The event's hours, day by day, in order: each day's first session start to its last end, or
/// `[event] hours` on each day with sessions (or on `event.date` when there are none).
pub fn event_hours(config: &Config) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = config.event.timezone;
    let mut windows: BTreeMap<NaiveDate, (DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for s in config.sessions.iter() {
        let day = s.local_date(tz);
        let w = windows.entry(day).or_insert((s.start, s.end));
        w.0 = w.0.min(s.start);
        w.1 = w.1.max(s.end);
    }
    if let (Some(date), true) = (config.event.date, windows.is_empty()) {
        if let Some((a, b)) = config.event.hours {
            if let (Ok(a), Ok(b)) =
                (values::local_instant(tz, date.and_time(a)), values::local_instant(tz, date.and_time(b)))
            {
                windows.insert(date, (a, b));
            }
        }
    }
    let mut out = Vec::new();
    for (day, (mut from, mut until)) in windows {
        if let Some((a, b)) = config.event.hours {
            if let (Ok(a), Ok(b)) =
                (values::local_instant(tz, day.and_time(a)), values::local_instant(tz, day.and_time(b)))
            {
                from = a;
                until = b;
            }
        }
        out.push((from, until));
    }
    out
}

//! Writing a schedule as loudhailer's native TOML, for a person to edit before the day.
//!
//! Times are local date-times in the event zone (`2013-08-24T10:00:00`), except a time that
//! is ambiguous there (the repeated hour when clocks go back), which is written in RFC 3339
//! with its offset so that reading it back gives the same instant.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use chrono_tz::Tz;
use toml_edit::{value, Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use super::time::is_unambiguous;
use super::{Schedule, Session, Speaker};

/// The native TOML for `schedule`, with times in `tz`.
pub fn to_toml(schedule: &Schedule, tz: Tz) -> String {
    let mut doc = DocumentMut::new();
    let mut event = Table::new();
    event.decor_mut().set_prefix(
        "# Written by `loudhailer import`. Edit titles and key points freely; keep the ids,\n\
         # which tie planned posts to sessions.\n",
    );
    if let Some(name) = &schedule.name {
        event["name"] = value(name.as_str());
    }
    event["timezone"] = value(tz.name());
    let first_day = schedule.sessions.iter().map(|s| s.day.unwrap_or_else(|| s.local_date(tz))).min();
    if let Some(day) = first_day {
        let date = toml_edit::Date {
            year: u16::try_from(day.year()).unwrap_or(0),
            month: u8::try_from(day.month()).unwrap_or(1),
            day: u8::try_from(day.day()).unwrap_or(1),
        };
        event["date"] = value(toml_edit::Datetime { date: Some(date), time: None, offset: None });
    }
    doc["event"] = Item::Table(event);
    let mut sessions = ArrayOfTables::new();
    for session in &schedule.sessions {
        sessions.push(session_table(session, tz));
    }
    doc["session"] = Item::ArrayOfTables(sessions);
    doc.to_string()
}

fn session_table(session: &Session, tz: Tz) -> Table {
    let mut t = Table::new();
    t["id"] = value(session.id.as_str());
    t["title"] = value(session.title.as_str());
    t["start"] = value(local_time(session.start, tz));
    t["end"] = value(local_time(session.end, tz));
    let optional = [("room", &session.room), ("track", &session.track), ("language", &session.language)];
    for (key, text) in optional {
        if let Some(text) = text {
            t[key] = value(text.as_str());
        }
    }
    if !session.hashtags.is_empty() {
        let tags: Array = session.hashtags.iter().map(String::as_str).collect();
        t["hashtags"] = value(tags);
    }
    if !session.speakers.is_empty() {
        let speakers: Array = session.speakers.iter().map(speaker_value).collect();
        t["speakers"] = value(speakers);
    }
    let mut points = Array::new();
    for point in &session.points {
        match point.at {
            None => points.push(point.text.as_str()),
            Some(at) => {
                let mut p = InlineTable::new();
                p.insert("text", point.text.as_str().into());
                p.insert("at", local_time(at, tz).into());
                points.push(p);
            }
        }
    }
    if points.len() > 1 {
        for item in points.iter_mut() {
            item.decor_mut().set_prefix("\n  ");
        }
        points.set_trailing("\n");
        points.set_trailing_comma(true);
    }
    t["points"] = value(points);
    if !session.suggested.is_empty() {
        // Offered, not posted: a person moves a sentence into `points` to post it.
        let mut suggested: Array = session.suggested.iter().map(String::as_str).collect();
        for item in suggested.iter_mut() {
            item.decor_mut().set_prefix("\n  ");
        }
        suggested.set_trailing("\n");
        suggested.set_trailing_comma(true);
        t["suggested"] = value(suggested);
        if let Some(mut key) = t.key_mut("suggested") {
            key.leaf_decor_mut().set_prefix(
                "# From the abstract, not posted: move a sentence into points, or approve it while\n\
                 # running (`loudhailer approve SESSION N`, or the desk).\n",
            );
        }
    }
    if let Some(text) = &session.abstract_text {
        t["abstract"] = value(text.as_str());
    }
    if let Some(url) = &session.url {
        t["url"] = value(url.as_str());
    }
    t
}

fn speaker_value(speaker: &Speaker) -> Value {
    let handles = [("mastodon", &speaker.mastodon), ("bluesky", &speaker.bluesky), ("x", &speaker.x)];
    if handles.iter().all(|(_, h)| h.is_none()) {
        return speaker.name.as_str().into();
    }
    let mut table = InlineTable::new();
    table.insert("name", speaker.name.as_str().into());
    for (key, handle) in handles {
        if let Some(handle) = handle {
            table.insert(key, handle.as_str().into());
        }
    }
    Value::InlineTable(table)
}

/// `2013-08-24T10:00:00` in `tz`, or RFC 3339 with the offset when that local time is ambiguous.
pub fn local_time(instant: DateTime<Utc>, tz: Tz) -> String {
    let local = instant.with_timezone(&tz);
    if is_unambiguous(tz, local.naive_local()) {
        local.format("%Y-%m-%dT%H:%M:%S").to_string()
    } else {
        local.to_rfc3339_opts(SecondsFormat::Secs, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::Point;
    use chrono::{NaiveDate, TimeZone};

    fn sample() -> Schedule {
        let berlin = chrono_tz::Europe::Berlin;
        let at = |h, m| Utc.with_ymd_and_hms(2023, 10, 29, h, m, 0).unwrap();
        let session = Session {
            id: "fiy1isgujvq3ycgi6dywba".into(),
            title: "Quotes \" and \\ backslashes".into(),
            // 00:30Z is 02:30 summer time, the first of the two 02:30s that night.
            start: at(0, 30),
            end: at(2, 0),
            speakers: vec![
                Speaker { name: "Plain Name".into(), ..Speaker::default() },
                Speaker {
                    name: "Ada".into(),
                    mastodon: Some("@ada@example.social".into()),
                    bluesky: Some("ada.bsky.social".into()),
                    x: Some("ada".into()),
                    linkedin: None,
                    threads: None,
                },
            ],
            points: vec![Point::text("first key point"), Point { at: Some(at(1, 0)), ..Point::text("timed") }],
            room: Some("HS1/2".into()),
            track: None,
            day: NaiveDate::from_ymd_opt(2023, 10, 28),
            abstract_text: Some("Two\nlines".into()),
            suggested: vec!["Said in the abstract.".into()],
            url: Some("https://example.org/t".into()),
            language: Some("de".into()),
            hashtags: vec!["#froscon".into()],
            images: Vec::new(),
        };
        let _ = berlin;
        Schedule {
            name: Some("Démo \"Con\"".into()),
            timezone: Some(berlin),
            sessions: vec![session],
            warnings: vec![],
        }
    }

    #[test]
    fn round_trip() {
        let text = to_toml(&sample(), chrono_tz::Europe::Berlin);
        let parsed: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let event = parsed["event"].as_table().unwrap();
        assert_eq!(event["name"].as_str(), Some("Démo \"Con\""));
        assert_eq!(event["timezone"].as_str(), Some("Europe/Berlin"));
        assert_eq!(event["date"].as_datetime().map(|d| d.to_string()).as_deref(), Some("2023-10-28"));
        let s = parsed["session"].as_array().unwrap()[0].as_table().unwrap();
        assert_eq!(s["id"].as_str(), Some("fiy1isgujvq3ycgi6dywba"));
        assert_eq!(s["title"].as_str(), Some("Quotes \" and \\ backslashes"));
        assert_eq!(s["start"].as_str(), Some("2023-10-29T02:30:00+02:00"), "ambiguous: offset kept");
        assert_eq!(s["end"].as_str(), Some("2023-10-29T03:00:00"));
        assert_eq!(s["room"].as_str(), Some("HS1/2"));
        assert!(s.get("track").is_none());
        assert_eq!(s["language"].as_str(), Some("de"));
        assert_eq!(s["hashtags"][0].as_str(), Some("#froscon"));
        let speakers = s["speakers"].as_array().unwrap();
        assert_eq!(speakers[0].as_str(), Some("Plain Name"));
        let ada = speakers[1].as_table().unwrap();
        assert_eq!(ada["mastodon"].as_str(), Some("@ada@example.social"));
        assert_eq!(ada["bluesky"].as_str(), Some("ada.bsky.social"));
        assert_eq!(ada["x"].as_str(), Some("ada"));
        let points = s["points"].as_array().unwrap();
        assert_eq!(points[0].as_str(), Some("first key point"));
        assert_eq!(points[1]["at"].as_str(), Some("2023-10-29T02:00:00+01:00"));
        assert_eq!(s["abstract"].as_str(), Some("Two\nlines"));
        assert_eq!(s["suggested"][0].as_str(), Some("Said in the abstract."));
        assert!(text.contains("# From the abstract, not posted"), "{text}");
        assert_eq!(s["url"].as_str(), Some("https://example.org/t"));
    }
}

//! Keeping only the sessions a delegate follows: by track, room, day and title pattern.

use chrono::NaiveDate;
use regex::Regex;

use super::Session;

/// Checked filters; an empty filter keeps everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Case-insensitive track name.
    pub track: Option<String>,
    /// Case-insensitive room name; also matches one room of a comma-separated list
    /// ("Arena, Room 8" is in room "Room 8").
    pub room: Option<String>,
    /// The conference day (the day the source files the session under).
    pub day: Option<NaiveDate>,
    /// Matched against the title.
    pub title: Option<Regex>,
}

impl Filter {
    pub fn keeps(&self, session: &Session) -> bool {
        let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
        if let Some(track) = &self.track {
            if !session.track.as_deref().is_some_and(|t| same(t, track)) {
                return false;
            }
        }
        if let Some(room) = &self.room {
            let in_room =
                session.room.as_deref().is_some_and(|r| same(r, room) || r.split(',').any(|part| same(part, room)));
            if !in_room {
                return false;
            }
        }
        if let Some(day) = self.day {
            if session.day != Some(day) {
                return false;
            }
        }
        if let Some(title) = &self.title {
            if !title.is_match(&session.title) {
                return false;
            }
        }
        true
    }

    pub fn apply(&self, sessions: &mut Vec<Session>) {
        sessions.retain(|s| self.keeps(s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn session(title: &str, room: &str, track: &str, day: u32) -> Session {
        let start = Utc.with_ymd_and_hms(2020, 1, day, 10, 0, 0).unwrap();
        Session {
            id: super::super::slug(title),
            title: title.into(),
            start,
            end: start,
            speakers: vec![],
            points: vec![],
            room: Some(room.into()),
            track: Some(track.into()),
            day: NaiveDate::from_ymd_opt(2020, 1, day),
            abstract_text: None,
            url: None,
            language: None,
            hashtags: vec![],
        }
    }

    #[test]
    fn filters() {
        let all = vec![
            session("Rust in space", "Room 5", "Rust devroom", 13),
            session("Go fast", "Arena, Room 8, Room 5", "Go devroom", 14),
            session("Keynote", "Arena", "Main", 14),
        ];
        let titles = |f: Filter| -> Vec<String> {
            let mut s = all.clone();
            f.apply(&mut s);
            s.into_iter().map(|s| s.title).collect()
        };
        let day14 = NaiveDate::from_ymd_opt(2020, 1, 14);
        for (filter, want) in [
            (Filter::default(), vec!["Rust in space", "Go fast", "Keynote"]),
            (Filter { track: Some("rust DEVROOM".into()), ..Filter::default() }, vec!["Rust in space"]),
            (Filter { room: Some("room 5".into()), ..Filter::default() }, vec!["Rust in space", "Go fast"]),
            (Filter { room: Some("Room".into()), ..Filter::default() }, vec![]),
            (Filter { day: day14, ..Filter::default() }, vec!["Go fast", "Keynote"]),
            (Filter { title: Regex::new("(?i)^k").ok(), ..Filter::default() }, vec!["Keynote"]),
            (Filter { day: day14, room: Some("Arena".into()), ..Filter::default() }, vec!["Go fast", "Keynote"]),
        ] {
            assert_eq!(titles(filter), want);
        }
    }
}

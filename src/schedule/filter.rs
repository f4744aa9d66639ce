//! Keeping only the sessions a delegate follows: by track, room, day and title pattern.
//!
//! Track and room filters match case-insensitively on whole words: `Rust` finds the track
//! "Rust devroom", `room 5` finds "Arena, Room 8, Room 5", and `Go` does not find "Golang".
//! A day is a date, a weekday name or the conference day's number. A filter that keeps no
//! session is an error that lists the closest names the file has, so a typo is never a
//! silently empty programme.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, Weekday};
use regex::Regex;

use super::Session;

/// The day filter: `2024-02-03`, `sat` / `Saturday`, or `2` (the file's second day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayFilter {
    Date(NaiveDate),
    Weekday(Weekday),
    /// 1-based, counting the distinct conference days in the file.
    Nth(u32),
}

impl FromStr for DayFilter {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            return Ok(DayFilter::Date(date));
        }
        if let Ok(n) = text.parse::<u32>() {
            if (1..=366).contains(&n) {
                return Ok(DayFilter::Nth(n));
            }
        }
        if let Ok(weekday) = text.trim_end_matches('.').parse::<Weekday>() {
            return Ok(DayFilter::Weekday(weekday));
        }
        Err(format!(
            "expected a date such as 2024-02-03, a weekday such as sat or saturday, or a day number \
             (1 for the first day), found {text:?}"
        ))
    }
}

impl From<NaiveDate> for DayFilter {
    fn from(date: NaiveDate) -> Self {
        DayFilter::Date(date)
    }
}

impl fmt::Display for DayFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DayFilter::Date(d) => write!(f, "{d}"),
            DayFilter::Weekday(w) => write!(f, "{}", long_weekday(*w)),
            DayFilter::Nth(n) => write!(f, "{n}"),
        }
    }
}

/// Checked filters; an empty filter keeps everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Track name: whole words, any case.
    pub track: Option<String>,
    /// Room name: whole words, any case (one room of "Arena, Room 8" is enough).
    pub room: Option<String>,
    /// The conference day (the day the source files the session under).
    pub day: Option<DayFilter>,
    /// Matched against the title.
    pub title: Option<Regex>,
}

/// A filter (or the filters together) kept no session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoMatch {
    /// What was asked: `track "Rsut"`, `day 2024-02-05`, ….
    pub asked: String,
    /// What the closest names are: "the closest tracks in the file".
    pub label: String,
    /// The closest names, best first (empty when the file has none at all).
    pub closest: Vec<String>,
}

impl fmt::Display for NoMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no session matches {}; {}", self.asked, self.label)?;
        if !self.closest.is_empty() {
            write!(f, ": {}", self.closest.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for NoMatch {}

/// One filter as a predicate over sessions.
type Test<'a> = Box<dyn Fn(&Session) -> bool + 'a>;

/// How many close names a refusal lists.
const CLOSEST: usize = 5;

impl Filter {
    fn is_empty(&self) -> bool {
        self.track.is_none() && self.room.is_none() && self.day.is_none() && self.title.is_none()
    }

    /// Keeps the sessions every filter lets through. A filter that alone keeps none, or filters
    /// that together keep none, are refused with the closest names in `sessions`. A schedule
    /// that is empty to begin with stays empty without complaint.
    pub fn apply(&self, sessions: &mut Vec<Session>) -> Result<(), NoMatch> {
        if self.is_empty() || sessions.is_empty() {
            return Ok(());
        }
        let days: Vec<NaiveDate> = sessions.iter().filter_map(|s| s.day).collect::<BTreeSet<_>>().into_iter().collect();
        let mut tests: Vec<(String, Test<'_>)> = Vec::new();
        if let Some(track) = &self.track {
            let wanted = words(track);
            tests.push((format!("track {track:?}"), Box::new(move |s| named(s.track.as_deref(), track, &wanted))));
        }
        if let Some(room) = &self.room {
            let wanted = words(room);
            tests.push((format!("room {room:?}"), Box::new(move |s| named(s.room.as_deref(), room, &wanted))));
        }
        if let Some(day) = self.day {
            let date = match day {
                DayFilter::Nth(n) => (n as usize).checked_sub(1).and_then(|i| days.get(i)).copied(),
                _ => None,
            };
            tests.push((
                format!("day {day}"),
                Box::new(move |s| match (day, s.day) {
                    (DayFilter::Date(d), Some(on)) => on == d,
                    (DayFilter::Weekday(w), Some(on)) => on.weekday() == w,
                    (DayFilter::Nth(_), Some(on)) => Some(on) == date,
                    (_, None) => false,
                }),
            ));
        }
        if let Some(title) = &self.title {
            tests.push((format!("title /{title}/"), Box::new(move |s| title.is_match(&s.title))));
        }
        let mut counts = Vec::new();
        for (asked, test) in &tests {
            let kept = sessions.iter().filter(|s| test(s)).count();
            if kept == 0 {
                return Err(self.closest(asked.clone(), sessions, &days));
            }
            counts.push(format!("{asked} alone keeps {kept}"));
        }
        sessions.retain(|s| tests.iter().all(|(_, test)| test(s)));
        if sessions.is_empty() {
            let asked: Vec<&str> = tests.iter().map(|(a, _)| a.as_str()).collect();
            return Err(NoMatch {
                asked: asked.join(" and "),
                label: "each filter alone does match".into(),
                closest: counts,
            });
        }
        Ok(())
    }

    /// The refusal for one filter that keeps nothing.
    fn closest(&self, asked: String, sessions: &[Session], days: &[NaiveDate]) -> NoMatch {
        let names = |get: fn(&Session) -> Option<&str>| -> BTreeSet<String> {
            sessions.iter().filter_map(get).map(str::to_owned).collect()
        };
        let (label, closest) = if asked.starts_with("track") {
            let query = self.track.as_deref().unwrap_or("");
            ("tracks", ranked(query, names(|s| s.track.as_deref())))
        } else if asked.starts_with("room") {
            let query = self.room.as_deref().unwrap_or("");
            ("rooms", ranked(query, names(|s| s.room.as_deref())))
        } else if asked.starts_with("day") {
            let listed = days
                .iter()
                .enumerate()
                .map(|(i, d)| format!("{} (day {}, {})", d, i + 1, long_weekday(d.weekday())))
                .collect();
            return NoMatch { asked, label: "the days in the file".into(), closest: listed };
        } else {
            let loose = self.title.as_ref().and_then(|t| Regex::new(&format!("(?i){t}")).ok());
            let matching: Vec<String> = sessions
                .iter()
                .filter(|s| loose.as_ref().is_some_and(|r| r.is_match(&s.title)))
                .take(CLOSEST)
                .map(|s| format!("{:?}", s.title))
                .collect();
            let label = if matching.is_empty() {
                "no title matches it even ignoring case".to_owned()
            } else {
                "the pattern is case-sensitive (start it with (?i) to ignore case); ignoring case it finds".to_owned()
            };
            return NoMatch { asked, label, closest: matching };
        };
        let label = if closest.is_empty() {
            format!("no session in the file has any {}", label.trim_end_matches('s'))
        } else {
            format!("the closest {label} in the file")
        };
        NoMatch { asked, label, closest: closest.into_iter().map(|n| format!("{n:?}")).collect() }
    }
}

/// Whether `name` holds the filter's words, in order and whole (or equals it, for a filter
/// with no words such as "?").
fn named(name: Option<&str>, filter: &str, wanted: &[String]) -> bool {
    let Some(name) = name else { return false };
    if wanted.is_empty() {
        return name.trim().to_lowercase() == filter.trim().to_lowercase();
    }
    words(name).windows(wanted.len()).any(|w| w == wanted)
}

/// Lower-case words: runs of letters and digits, with a trailing `+` or `#` kept (`C++`, `C#`),
/// so "Rust/Go devroom" is rust, go, devroom and "C++ devroom" is c++, devroom.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() {
            current.extend(c.to_lowercase());
            continue;
        }
        if (c == '+' || c == '#') && !current.is_empty() {
            let mut suffix = String::from(c);
            while let Some(&next) = chars.peek().filter(|n| **n == '+' || **n == '#') {
                suffix.push(next);
                chars.next();
            }
            if !chars.peek().is_some_and(|n| n.is_alphanumeric()) {
                current.push_str(&suffix);
            }
        }
        if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The names closest to what was typed, best first: each name is scored by its best
/// Jaro-Winkler similarity, whole or any run of as many words as were typed (so "Rsut" is
/// close to "Rust devroom" through its word "rust"). strsim is already in the build (clap).
fn ranked(query: &str, names: BTreeSet<String>) -> Vec<String> {
    let query_words = words(query);
    let joined = query_words.join(" ");
    let query_lower = query.trim().to_lowercase();
    let mut scored: Vec<(f64, String)> = names
        .into_iter()
        .map(|name| {
            let whole = strsim::jaro_winkler(&query_lower, &name.to_lowercase());
            let parts = words(&name);
            let best_run = parts
                .windows(query_words.len().clamp(1, parts.len().max(1)))
                .map(|w| strsim::jaro_winkler(&joined, &w.join(" ")))
                .fold(0.0, f64::max);
            (whole.max(best_run), name)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.into_iter().take(CLOSEST).map(|(_, name)| name).collect()
}

fn long_weekday(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
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
            suggested: Vec::new(),
            url: None,
            language: None,
            hashtags: vec![],
            images: Vec::new(),
        }
    }

    fn all() -> Vec<Session> {
        vec![
            session("Rust in space", "Room 5", "Rust devroom", 13),
            session("Go fast", "Arena, Room 8, Room 5", "Go devroom", 14),
            session("Golang history", "Arena", "Golang", 14),
            session("Keynote", "Arena", "Main track", 14),
            session("Templates", "K.3.201", "C++ devroom", 15),
            session("Pointers", "K.3.401", "C devroom", 15),
        ]
    }

    fn titles(f: Filter) -> Result<Vec<String>, NoMatch> {
        let mut s = all();
        f.apply(&mut s)?;
        Ok(s.into_iter().map(|s| s.title).collect())
    }

    #[test]
    fn whole_words_in_any_case() {
        let day = |t: &str| Some(t.parse::<DayFilter>().unwrap());
        let track = |t: &str| Filter { track: Some(t.into()), ..Filter::default() };
        let room = |t: &str| Filter { room: Some(t.into()), ..Filter::default() };
        for (filter, want) in [
            (Filter::default(), vec!["Rust in space", "Go fast", "Golang history", "Keynote", "Templates", "Pointers"]),
            (track("rust"), vec!["Rust in space"]),
            (track("rust DEVROOM"), vec!["Rust in space"]),
            (track("Go"), vec!["Go fast"]),
            (track("golang"), vec!["Golang history"]),
            (track("c++"), vec!["Templates"]),
            (track("C"), vec!["Pointers"]),
            (track("devroom"), vec!["Rust in space", "Go fast", "Templates", "Pointers"]),
            (room("room 5"), vec!["Rust in space", "Go fast"]),
            (room("Room"), vec!["Rust in space", "Go fast"]),
            (room("k.3.201"), vec!["Templates"]),
            (Filter { day: day("2020-01-14"), ..Filter::default() }, vec!["Go fast", "Golang history", "Keynote"]),
            // 2020-01-15 was a Wednesday, and the file's third day.
            (Filter { day: day("wed"), ..Filter::default() }, vec!["Templates", "Pointers"]),
            (Filter { day: day("3"), ..Filter::default() }, vec!["Templates", "Pointers"]),
            (Filter { title: Regex::new("(?i)^k").ok(), ..Filter::default() }, vec!["Keynote"]),
            (
                Filter { day: day("2020-01-14"), room: Some("Arena".into()), ..Filter::default() },
                vec!["Go fast", "Golang history", "Keynote"],
            ),
        ] {
            let what = format!("{filter:?}");
            assert_eq!(titles(filter).unwrap_or_else(|e| panic!("{what}: {e}")), want, "{what}");
        }
    }

    #[test]
    fn nothing_matched_lists_the_closest_names() {
        let e = titles(Filter { track: Some("Rsut".into()), ..Filter::default() }).unwrap_err();
        assert_eq!(e.asked, "track \"Rsut\"");
        assert_eq!(e.closest.first().map(String::as_str), Some("\"Rust devroom\""), "{e}");
        assert!(
            e.to_string()
                .starts_with("no session matches track \"Rsut\"; the closest tracks in the file: \"Rust devroom\""),
            "{e}"
        );
        let e = titles(Filter { room: Some("Room 6".into()), ..Filter::default() }).unwrap_err();
        assert!(e.closest.iter().take(2).any(|c| c.contains("Room 5")), "{e}");
        let e = titles(Filter { day: Some(DayFilter::Weekday(Weekday::Sat)), ..Filter::default() }).unwrap_err();
        assert_eq!(e.closest[0], "2020-01-13 (day 1, Monday)", "{e}");
        assert_eq!(e.closest.len(), 3);
        let e = titles(Filter { day: Some(DayFilter::Nth(4)), ..Filter::default() }).unwrap_err();
        assert_eq!(e.asked, "day 4");
        let e = titles(Filter { title: Regex::new("^keynote").ok(), ..Filter::default() }).unwrap_err();
        assert_eq!(e.closest, ["\"Keynote\""], "{e}");
        // Each filter finds something, together nothing.
        let e = titles(Filter { track: Some("rust".into()), day: Some(DayFilter::Nth(2)), ..Filter::default() })
            .unwrap_err();
        assert_eq!(e.asked, "track \"rust\" and day 2");
        assert_eq!(e.closest, ["track \"rust\" alone keeps 1", "day 2 alone keeps 3"]);
        // An empty schedule is not a filter's fault.
        assert!(Filter { track: Some("x".into()), ..Filter::default() }.apply(&mut Vec::new()).is_ok());
    }

    #[test]
    fn words_and_days_parse() {
        assert_eq!(words("Rust/Go devroom"), ["rust", "go", "devroom"]);
        assert_eq!(words("C++ and C# (F#)"), ["c++", "and", "c#", "f#"]);
        assert_eq!(words("Rust+Go"), ["rust", "go"]);
        assert_eq!(words("H.1302 (Depage)"), ["h", "1302", "depage"]);
        assert_eq!(words("Grüße"), ["grüße"]);
        for (text, want) in [
            ("2024-02-03", Some(DayFilter::Date(NaiveDate::from_ymd_opt(2024, 2, 3).unwrap()))),
            ("sat", Some(DayFilter::Weekday(Weekday::Sat))),
            ("Saturday", Some(DayFilter::Weekday(Weekday::Sat))),
            ("Sat.", Some(DayFilter::Weekday(Weekday::Sat))),
            ("2", Some(DayFilter::Nth(2))),
            ("0", None),
            ("someday", None),
        ] {
            assert_eq!(text.parse::<DayFilter>().ok(), want, "{text}");
        }
    }
}

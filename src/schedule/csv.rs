//! Spreadsheets saved as CSV with a header row; columns found by their usual names or mapped
//! by the user (`columns = { title = "Talk", start = "Begin" }`).
//!
//! `Start` may be a full date-time or a clock time with a `Date` column; the end comes from an
//! `End` (a clock time earlier than the start is on the next day) or a `Duration` (`H:MM`,
//! `90m`, ISO 8601 or plain minutes). A numeric `Day` column is a conference-day index: its date
//! is the earliest date among that day's rows, so a 00:00 row filed under day 3 stays on day 3.
//! Speakers are split on `|`, `;`, `,` and new lines, and an `id:` prefix (`10:Konrad Meier`)
//! is dropped. Errors name the spreadsheet row (the header is row 1) and its first line.

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::draft::{speaker, Draft, Location, ParseError, Parsed, When};
use super::text;
use super::time::{self, Stamp};

/// Every field a column can feed, with the header names recognised without a mapping.
const FIELDS: &[(&str, &[&str])] = &[
    ("id", &["id", "code", "guid", "uid", "session id"]),
    ("title", &["title", "name", "session", "talk", "session title"]),
    ("start", &["start", "begin", "starts", "starts at", "start time", "time", "from"]),
    ("end", &["end", "ends", "ends at", "end time", "until"]),
    ("duration", &["duration", "length", "minutes"]),
    ("date", &["date", "day date"]),
    ("day", &["day", "conference day"]),
    ("room", &["room", "location", "venue", "stage", "hall"]),
    ("track", &["track", "topic", "category", "stream"]),
    ("speakers", &["speakers", "speaker", "persons", "presenters", "presenter", "people"]),
    ("abstract", &["abstract", "teaser", "short description"]),
    ("description", &["description", "details", "long description"]),
    ("points", &["points", "key points", "keypoints", "highlights"]),
    ("url", &["url", "link", "website"]),
    ("language", &["language", "lang"]),
];

/// Checks the user's column mapping names known fields; `Err((field, reason))`.
pub fn check_columns(columns: &BTreeMap<String, String>) -> Result<(), (String, String)> {
    for field in columns.keys() {
        if !FIELDS.iter().any(|(f, _)| f == field) {
            let known: Vec<&str> = FIELDS.iter().map(|(f, _)| *f).collect();
            return Err((field.clone(), format!("not a session field; use one of {}", known.join(", "))));
        }
    }
    Ok(())
}

/// Whether the first line looks like a schedule's header row.
pub fn looks_like_csv(head: &str) -> bool {
    let first = head.lines().next().unwrap_or("");
    let cells: Vec<String> =
        first.split(delimiter_of(first) as char).map(|c| c.trim().trim_matches('"').to_lowercase()).collect();
    let has = |field: &str| {
        FIELDS
            .iter()
            .find(|(f, _)| *f == field)
            .is_some_and(|(_, names)| cells.iter().any(|c| names.contains(&c.as_str())))
    };
    cells.len() >= 2 && has("title") && has("start")
}

fn delimiter_of(header: &str) -> u8 {
    let mut counts = [(b',', 0), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        match b {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            _ => {
                for (d, n) in counts.iter_mut() {
                    if *d == b {
                        *n += 1;
                    }
                }
            }
        }
    }
    counts.iter().max_by_key(|(_, n)| *n).filter(|(_, n)| *n > 0).map_or(b',', |(d, _)| *d)
}

/// Reads a CSV schedule.
pub fn parse(source: &str, columns: &BTreeMap<String, String>, delimiter: Option<char>) -> Result<Parsed, ParseError> {
    let header_line = source.lines().next().unwrap_or("");
    let delimiter = match delimiter {
        Some(c) => u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
            ParseError::new(Location::File, format!("the delimiter {c:?} is not a single ASCII character"))
        })?,
        None => delimiter_of(header_line),
    };
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(false)
        .from_reader(source.as_bytes());
    let header_at = Location::Row { row: 1, line: 1 };
    let headers = reader.headers().map_err(csv_error)?.clone();
    let names: Vec<String> = headers.iter().map(|h| h.trim().to_lowercase()).collect();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (field, aliases) in FIELDS {
        let found = match columns.get(*field) {
            Some(wanted) => Some(names.iter().position(|n| *n == wanted.trim().to_lowercase()).ok_or_else(|| {
                ParseError::new(
                    header_at,
                    format!(
                        "no column named {wanted:?} (mapped to {field}); the header has: {}",
                        headers.iter().collect::<Vec<_>>().join(", ")
                    ),
                )
            })?),
            None => aliases.iter().find_map(|a| names.iter().position(|n| n == a)),
        };
        if let Some(i) = found {
            index.insert(field, i);
        }
    }
    for required in ["title", "start"] {
        if !index.contains_key(required) {
            return Err(ParseError::new(
                header_at,
                format!(
                    "no {required} column; name one in `columns` (the header has: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
    }
    let mut parsed = Parsed::default();
    let mut day_index: Vec<(usize, u32)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let location = record.position().map_or(Location::File, row_of);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |field: &str| index.get(field).and_then(|i| record.get(*i)).map(str::trim).filter(|c| !c.is_empty());
        let fail = |message: String| ParseError::new(location, message);
        let title = cell("title").map(text::line).ok_or_else(|| fail("the title is empty".into()))?;
        let date = match cell("date") {
            Some(d) => Some(time::parse_date(d).ok_or_else(|| fail(format!("date {d:?} is not YYYY-MM-DD")))?),
            None => None,
        };
        let start_text = cell("start").ok_or_else(|| fail("the start is empty".into()))?;
        let start = moment(start_text, date, None)
            .ok_or_else(|| fail(format!("start {start_text:?} is neither a date-time nor HH:MM with a Date column")))?;
        let mut draft = Draft::new(location, title, start);
        if let Some(end) = cell("end") {
            let end_date = date.or(Some(local_date(start)));
            draft.end =
                Some(moment(end, end_date, Some(start)).ok_or_else(|| fail(format!("end {end:?} is not a time")))?);
        }
        if let Some(d) = cell("duration") {
            let minutes = d.parse::<u32>().ok().filter(|m| *m <= 30 * 24 * 60);
            let duration = minutes.map(|m| Duration::minutes(i64::from(m))).or_else(|| time::parse_duration(d));
            draft.duration = Some(duration.ok_or_else(|| fail(format!("duration {d:?} is not H:MM or minutes")))?);
        }
        match cell("day") {
            Some(d) => match (d.parse::<u32>(), time::parse_date(d)) {
                (Ok(n), _) => day_index.push((parsed.drafts.len(), n)),
                (_, Some(day)) => draft.day = Some(day),
                _ => return Err(fail(format!("day {d:?} is neither a day number nor a date"))),
            },
            None => draft.day = date,
        }
        draft.source_id = cell("id").map(str::to_owned);
        draft.room = cell("room").map(text::line);
        draft.track = cell("track").map(text::line);
        draft.url = cell("url").map(str::to_owned);
        draft.language = cell("language").map(text::line);
        draft.abstract_text = text::non_empty(cell("abstract")).or_else(|| text::non_empty(cell("description")));
        draft.speakers = cell("speakers").map(speakers).unwrap_or_default();
        draft.points = cell("points")
            .map(|p| p.split(['\n', '|']).map(text::line).filter(|l| !l.is_empty()).collect())
            .unwrap_or_default();
        parsed.drafts.push(draft);
    }
    // A day number's date is the earliest date filed under it.
    let mut first_date: HashMap<u32, NaiveDate> = HashMap::new();
    for (i, n) in &day_index {
        if let Some(d) = parsed.drafts.get(*i) {
            let date = local_date(d.start);
            first_date.entry(*n).and_modify(|e| *e = (*e).min(date)).or_insert(date);
        }
    }
    for (i, n) in day_index {
        if let Some(d) = parsed.drafts.get_mut(i) {
            d.day = first_date.get(&n).copied();
        }
    }
    Ok(parsed)
}

/// A date-time cell, or a clock time on `date`; an end clock earlier than `after` is next day.
fn moment(cell: &str, date: Option<NaiveDate>, after: Option<When>) -> Option<When> {
    if let Some(stamp) = time::parse_stamp(cell) {
        return Some(match stamp {
            Stamp::Offset(t) => When::Offset(t),
            Stamp::Local(t) => When::Local(t),
        });
    }
    let clock = time::parse_clock(cell)?;
    let mut local: NaiveDateTime = date?.and_time(clock);
    if let Some(start) = after {
        if local <= local_start(start) {
            local = local.checked_add_signed(Duration::days(1))?;
        }
    }
    Some(match after {
        Some(When::Offset(t)) => When::Offset(local.and_local_timezone(*t.offset()).single()?),
        _ => When::Local(local),
    })
}

fn local_start(when: When) -> NaiveDateTime {
    match when {
        When::Offset(t) => t.naive_local(),
        When::Local(t) | When::Zoned(t, _) => t,
    }
}

fn local_date(when: When) -> NaiveDate {
    local_start(when).date()
}

/// "10:Konrad Meier|11:Dennis Wehrle" → two speakers.
fn speakers(cell: &str) -> Vec<super::Speaker> {
    cell.split(['|', ';', ',', '\n'])
        .map(|part| {
            let part = part.trim();
            match part.split_once(':') {
                Some((id, name)) if !id.is_empty() && id.trim().chars().all(|c| c.is_ascii_digit()) => name,
                _ => part,
            }
        })
        .map(text::line)
        .filter(|n| !n.is_empty())
        .map(|n| speaker(&n))
        .collect()
}

/// The spreadsheet row (the header is row 1) of a record.
fn row_of(p: &::csv::Position) -> Location {
    Location::Row {
        row: usize::try_from(p.record()).unwrap_or(usize::MAX).saturating_add(1),
        line: usize::try_from(p.line()).unwrap_or(usize::MAX),
    }
}

fn csv_error(e: ::csv::Error) -> ParseError {
    let location = e.position().map_or(Location::File, row_of);
    let message = match e.kind() {
        ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("expected {expected_len} fields like the header, found {len}")
        }
        _ => e.to_string(),
    };
    ParseError::new(location, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_plain(source: &str) -> Result<Parsed, ParseError> {
        parse(source, &BTreeMap::new(), None)
    }

    #[test]
    fn rows_days_and_speakers() {
        let p = parse_plain("Room,Date,Day,Start,Duration,Title,ID,Speakers\nA,2011-06-25,3,23:00,1:30,Late,1,10:Konrad Meier|11:Dennis Wehrle\nA,2011-06-26,3,00:30,0:30,Later,2,1:diverse\n").unwrap();
        let d = &p.drafts;
        assert_eq!(d[1].day, NaiveDate::from_ymd_opt(2011, 6, 25));
        assert_eq!(d[0].duration, Some(Duration::minutes(90)));
        let names: Vec<&str> = d[0].speakers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Konrad Meier", "Dennis Wehrle"]);
    }

    #[test]
    fn mapped_columns_and_end_times() {
        let columns =
            BTreeMap::from([("title".to_owned(), "Talk".to_owned()), ("start".to_owned(), "Begin".to_owned())]);
        let p = parse("Talk;Begin;End;Points\nX;2024-03-01 23:30;00:15;One|Two\n", &columns, None).unwrap();
        let want = NaiveDateTime::parse_from_str("2024-03-02T00:15", "%Y-%m-%dT%H:%M").unwrap();
        assert_eq!(p.drafts[0].end, Some(When::Local(want)));
        assert_eq!(p.drafts[0].points, ["One", "Two"]);
    }

    #[test]
    fn refusals_name_the_row() {
        for (source, row, want) in [
            ("Title,Start\nA,2024-01-01T10:00\nB,2024-01-01T11:00,extra\n", 3, "expected 2 fields"),
            ("Title,Start\n,2024-01-01T10:00\n", 2, "title is empty"),
            ("Title,Start\nA,soon\n", 2, "neither"),
            ("Title,Start,Duration\nA,2024-01-01T10:00,long\n", 2, "duration"),
            ("Name,When\nA,2024-01-01T10:00\n", 1, "no start column"),
        ] {
            let e = parse_plain(source).unwrap_err();
            assert!(matches!(e.location, Location::Row { row: r, .. } if r == row), "{source}: {e:?}");
            assert!(e.message.contains(want), "{source}: {}", e.message);
        }
    }

    #[test]
    fn header_sniffing() {
        assert!(looks_like_csv("Title;Start;Room\n"));
        assert!(!looks_like_csv("hello world"));
        assert_eq!(delimiter_of("a\tb\tc"), b'\t');
        assert_eq!(delimiter_of("\"a;b\",c"), b',');
    }
}

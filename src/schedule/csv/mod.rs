//! Spreadsheets saved as CSV with a header row; columns found by their usual names or mapped
//! by the user (`columns = { title = "Talk", start = "Begin" }`).
//!
//! `Start` may be a full date-time or a clock time (`9:20`, `09:20`, `9:20 AM`); the clock's
//! date comes from a `Date` column, else from a `Day` column (a date, a conference-day number
//! or a weekday name such as `fri`, placed from the event's first day: see `days`), else the
//! first day itself. The end comes from an `End` (a clock time earlier than the start is on
//! the next day) or a `Duration`/`Length` (`H:MM`, `90m`, ISO 8601 or plain minutes). A
//! numeric `Day` next to a `Date` column is a conference-day index: its date is the earliest
//! date among that day's rows, so a 00:00 row filed under day 3 stays on day 3. Speakers are
//! split on `|`, `;`, `,` and new lines, and an `id:` prefix (`10:Konrad Meier`) is dropped.
//!
//! Rows a spreadsheet holds besides sessions are skipped and counted in a warning: break rows
//! (a `Type` of break, or a title such as "Coffee break" or "Lunch" with no speaker) unless
//! asked for, and rows not yet scheduled (no start, or no day where the sheet has a day or
//! date column). A programme kept as two sheets is joined by a key column first (`sheet`).
//! Errors name the spreadsheet row (the header is row 1) and its first line.

mod days;
mod sheet;

use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::draft::{speaker, Draft, Location, ParseError, Parsed, When};
use super::text;
use super::time::{self, Stamp};
use days::Day;
pub use sheet::Join;

/// Every field a column can feed, with the header names recognised without a mapping.
const FIELDS: &[(&str, &[&str])] = &[
    ("id", &["id", "code", "guid", "uid", "session id"]),
    ("title", &["title", "name", "session", "talk", "session title", "talk title"]),
    ("start", &["start", "begin", "starts", "starts at", "start time", "time", "from"]),
    ("end", &["end", "ends", "ends at", "end time", "until", "to"]),
    ("duration", &["duration", "length", "minutes", "mins", "min"]),
    ("date", &["date", "day date"]),
    ("day", &["day", "conference day", "weekday"]),
    ("room", &["room", "location", "venue", "stage", "hall"]),
    ("track", &["track", "topic", "category", "stream"]),
    ("kind", &["type", "kind", "session type"]),
    ("speakers", &["speakers", "speaker", "persons", "presenters", "presenter", "people", "speaker name"]),
    ("abstract", &["abstract", "teaser", "short description"]),
    ("description", &["description", "details", "long description"]),
    ("points", &["points", "key points", "keypoints", "highlights"]),
    ("url", &["url", "link", "website"]),
    ("language", &["language", "lang"]),
];

/// Words of a break row's title (every word must be one of them) or its `Type` (any).
const BREAK_TITLE_WORDS: &[&str] =
    &["break", "breaks", "coffee", "tea", "lunch", "dinner", "breakfast", "pause", "registration", "snacks", "and"];
const BREAK_KINDS: &[&str] = &["break", "pause", "service", "meal", "lunch", "coffee"];

/// How to read a CSV schedule.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    pub columns: Option<&'a BTreeMap<String, String>>,
    pub delimiter: Option<char>,
    /// The event's first day, for clock times without dates.
    pub first_day: Option<NaiveDate>,
    /// Keep break rows.
    pub breaks: bool,
    pub join: Option<Join<'a>>,
}

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
        first.split(delimiter_of(first) as char).map(|c| sheet::normal(c.trim_matches('"'))).collect();
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
pub fn parse(source: &str, options: &Options<'_>) -> Result<Parsed, ParseError> {
    let header_line = source.lines().next().unwrap_or("");
    let delimiter = match options.delimiter {
        Some(c) => u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
            ParseError::new(Location::File, format!("the delimiter {c:?} is not a single ASCII character"))
        })?,
        None => delimiter_of(header_line),
    };
    let mut parsed = Parsed::default();
    let mut sheet = sheet::read(source, delimiter)?;
    if let Some(join) = &options.join {
        let talks_delimiter = match options.delimiter {
            Some(_) => delimiter,
            None => delimiter_of(join.text.lines().next().unwrap_or("")),
        };
        sheet = sheet::join(sheet, join, talks_delimiter, &mut parsed.warnings)?;
    }
    let index = columns(&sheet, options.columns)?;
    let has = |field: &str| index.get(field).is_some_and(|c| !c.is_empty());
    let from_zero = has("day")
        && sheet.rows.iter().any(|row| {
            index.get("day").into_iter().flatten().any(|i| row.cells.get(*i).is_some_and(|c| c.trim() == "0"))
        });
    let mut day_index: Vec<(usize, u32)> = Vec::new();
    let mut breaks: Vec<String> = Vec::new();
    let mut unscheduled: Vec<String> = Vec::new();
    for row in &sheet.rows {
        let location = row.location;
        if row.cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cell = |field: &str| {
            index
                .get(field)
                .into_iter()
                .flatten()
                .filter_map(|i| row.cells.get(*i))
                .map(|c| c.trim())
                .find(|c| !c.is_empty())
        };
        let fail = |message: String| ParseError::new(location, message);
        let title =
            cell("title").map(text::line).filter(|t| !t.is_empty()).ok_or_else(|| fail("the title is empty".into()))?;
        let speakers = cell("speakers").map(speakers).unwrap_or_default();
        if !options.breaks && is_break(&title, cell("kind"), speakers.is_empty()) {
            breaks.push(format!("{title:?} at {location}"));
            continue;
        }
        let date = match cell("date") {
            Some(d) => Some(time::parse_date(d).ok_or_else(|| fail(format!("date {d:?} is not YYYY-MM-DD")))?),
            None => None,
        };
        let day = match cell("day") {
            Some(d) => Some(Day::parse(d).ok_or_else(|| {
                fail(format!("day {d:?} is neither a date, a day number nor a weekday name such as fri"))
            })?),
            None => None,
        };
        let Some(start_text) = cell("start") else {
            unscheduled.push(format!("{title:?} at {location}"));
            continue;
        };
        let stamp = time::parse_stamp(start_text);
        let on = match (stamp, date, day) {
            (Some(_), _, _) | (None, Some(_), _) => date,
            (None, None, Some(day)) => {
                let first = match (day, options.first_day) {
                    (Day::Date(d), _) => d,
                    (_, Some(first)) => first,
                    (_, None) => {
                        return Err(ParseError::no_date(
                            location,
                            format!(
                                "the day {:?} is not a date, so the first day is needed",
                                cell("day").unwrap_or("")
                            ),
                        ))
                    }
                };
                Some(day.date(first, from_zero).ok_or_else(|| fail(format!("day {day:?} is too far from {first}")))?)
            }
            (None, None, None) if has("date") || has("day") => {
                unscheduled.push(format!("{title:?} at {location}"));
                continue;
            }
            (None, None, None) => match (time::parse_clock(start_text), options.first_day) {
                (Some(_), None) => {
                    return Err(ParseError::no_date(
                        location,
                        format!("the start {start_text:?} is a clock time and the sheet has no date or day column"),
                    ))
                }
                (_, first) => first,
            },
        };
        let start = moment(start_text, on, None).ok_or_else(|| {
            fail(format!("start {start_text:?} is neither a date-time nor a clock time such as 9:20"))
        })?;
        let mut draft = Draft::new(location, title, start);
        if let Some(end) = cell("end") {
            let end_date = on.or(Some(local_date(start)));
            draft.end =
                Some(moment(end, end_date, Some(start)).ok_or_else(|| fail(format!("end {end:?} is not a time")))?);
        }
        if let Some(d) = cell("duration") {
            let minutes = d.parse::<u32>().ok().filter(|m| *m <= 30 * 24 * 60);
            let duration = minutes.map(|m| Duration::minutes(i64::from(m))).or_else(|| time::parse_duration(d));
            draft.duration = Some(duration.ok_or_else(|| fail(format!("duration {d:?} is not H:MM or minutes")))?);
        }
        match day {
            Some(Day::Number(n)) if date.is_some() || stamp.is_some() => day_index.push((parsed.drafts.len(), n)),
            Some(Day::Date(d)) => draft.day = Some(d),
            Some(_) => draft.day = on,
            None => draft.day = date,
        }
        draft.source_id = cell("id").map(str::to_owned);
        draft.room = cell("room").map(text::line);
        draft.track = cell("track").map(text::line);
        draft.url = cell("url").map(str::to_owned);
        draft.language = cell("language").map(text::line);
        draft.abstract_text = text::non_empty(cell("abstract")).or_else(|| text::non_empty(cell("description")));
        draft.speakers = speakers;
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
    if let Some(first) = breaks.first() {
        parsed.warnings.push(format!(
            "{} break rows were skipped (first: {first}); keep them with --service-sessions or \
             `service_sessions = true`",
            breaks.len()
        ));
    }
    if let Some(first) = unscheduled.first() {
        parsed
            .warnings
            .push(format!("{} rows have no day or time yet and were skipped (first: {first})", unscheduled.len()));
    }
    Ok(parsed)
}

/// The columns of each field, best first: the user's mapping, else the usual names. With a
/// joined talks sheet a name may be found in both sheets; the timetable's comes first.
fn columns(
    sheet: &sheet::Sheet,
    mapping: Option<&BTreeMap<String, String>>,
) -> Result<HashMap<&'static str, Vec<usize>>, ParseError> {
    let header_at = Location::Row { row: 1, line: 1 };
    let names: Vec<String> = sheet.headers.iter().map(|h| sheet::normal(h)).collect();
    let mut index: HashMap<&'static str, Vec<usize>> = HashMap::new();
    for (field, aliases) in FIELDS {
        let found: Vec<usize> = match mapping.and_then(|m| m.get(*field)) {
            Some(wanted) => {
                let wanted_name = sheet::normal(wanted);
                let found: Vec<usize> =
                    names.iter().enumerate().filter(|(_, n)| **n == wanted_name).map(|(i, _)| i).collect();
                if found.is_empty() {
                    return Err(ParseError::new(
                        header_at,
                        format!(
                            "no column named {wanted:?} (mapped to {field}); the header has: {}",
                            sheet.header_list()
                        ),
                    ));
                }
                found
            }
            None => aliases
                .iter()
                .flat_map(|a| names.iter().enumerate().filter(move |(_, n)| n == a).map(|(i, _)| i))
                .collect(),
        };
        if !found.is_empty() {
            index.insert(field, found);
        }
    }
    for required in ["title", "start"] {
        if !index.contains_key(required) {
            return Err(ParseError::new(
                header_at,
                format!("no {required} column; name one in `columns` (the header has: {})", sheet.header_list()),
            ));
        }
    }
    Ok(index)
}

/// A break row: its type says so, or (with no type given) a title made only of words such as
/// "coffee", "lunch" and "break", with nobody speaking.
fn is_break(title: &str, kind: Option<&str>, nobody: bool) -> bool {
    let words = |t: &str| -> Vec<String> {
        t.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
    };
    match kind {
        Some(kind) => words(kind).iter().any(|w| BREAK_KINDS.contains(&w.as_str())),
        None => {
            let title = words(title);
            nobody && !title.is_empty() && title.iter().all(|w| BREAK_TITLE_WORDS.contains(&w.as_str()))
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_plain(source: &str) -> Result<Parsed, ParseError> {
        parse(source, &Options::default())
    }

    fn on(first_day: &str) -> Options<'static> {
        Options { first_day: NaiveDate::parse_from_str(first_day, "%Y-%m-%d").ok(), ..Options::default() }
    }

    fn local(s: &str) -> When {
        When::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
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
        let options = Options { columns: Some(&columns), ..Options::default() };
        let p = parse("Talk;Begin;End;Points\nX;2024-03-01 23:30;00:15;One|Two\n", &options).unwrap();
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
            ("Day,Start,Title\nsoonish,9:00,A\n", 2, "weekday name"),
            ("Title,Start,Duration\nA,2024-01-01T10:00,long\n", 2, "duration"),
            ("Name,When\nA,2024-01-01T10:00\n", 1, "no start column"),
        ] {
            let e = parse_plain(source).unwrap_err();
            assert!(matches!(e.location, Location::Row { row: r, .. } if r == row), "{source}: {e:?}");
            assert!(e.message.contains(want), "{source}: {}", e.message);
        }
    }

    #[test]
    fn weekday_names_day_numbers_and_bare_clocks_from_the_first_day() {
        // 2024-05-16 is a Thursday: fri and sat are the 17th and 18th.
        let p = parse("Day,Time,Length (min),Title\nfri,9:20,20,A\nSat.,14:05,45,B\n", &on("2024-05-16")).unwrap();
        assert_eq!(p.drafts[0].start, local("2024-05-17 09:20"));
        assert_eq!(p.drafts[0].duration, Some(Duration::minutes(20)));
        assert_eq!(p.drafts[1].start, local("2024-05-18 14:05"));
        assert_eq!(p.drafts[1].day, NaiveDate::from_ymd_opt(2024, 5, 18));
        let p = parse("Day,Start,Title\n1,9:00,A\n2,9:00 AM,B\n2,1:30 PM,C\n", &on("2024-05-16")).unwrap();
        let starts: Vec<When> = p.drafts.iter().map(|d| d.start).collect();
        assert_eq!(starts, [local("2024-05-16 09:00"), local("2024-05-17 09:00"), local("2024-05-17 13:30")]);
        assert_eq!(p.drafts[2].day, NaiveDate::from_ymd_opt(2024, 5, 17));
        let p = parse("Day,Start,Title\n0,9:00,A\n1,9:00,B\n", &on("2024-05-16")).unwrap();
        assert_eq!(p.drafts[1].start, local("2024-05-17 09:00"), "counted from 0");
        let p = parse("Start,Title\n9:20,A\n", &on("2024-05-16")).unwrap();
        assert_eq!(p.drafts[0].start, local("2024-05-16 09:20"));
        // Without the first day, the refusal says it is needed (and is not "malformed").
        for source in ["Day,Start,Title\nfri,9:20,A\n", "Day,Start,Title\n2,9:20,A\n", "Start,Title\n9:20,A\n"] {
            let e = parse_plain(source).unwrap_err();
            assert_eq!(e.kind, super::super::draft::ErrorKind::NoDate, "{source}: {}", e.message);
            assert_eq!(e.location, Location::Row { row: 2, line: 2 });
        }
        // A date in the day column needs nothing more.
        let p = parse_plain("Day,Start,Title\n2024-05-17,9:20,A\n").unwrap();
        assert_eq!(p.drafts[0].start, local("2024-05-17 09:20"));
    }

    #[test]
    fn breaks_and_unscheduled_rows_are_skipped_and_counted() {
        let source = "Day,Time,Title,Speaker,\n\
                      fri,9:20,Welcome &amp; intro,Ada,\n\
                      fri,10:30,Coffee break,,\n\
                      fri,12:00,Lunch,,\n\
                      fri,13:00,Lunch &amp; Learn,Bo,\n\
                      ,,Not placed yet,Cy,\n\
                      sat,,Time to be announced,Di,\n";
        let p = parse(source, &on("2024-05-16")).unwrap();
        let titles: Vec<&str> = p.drafts.iter().map(|d| d.title.as_str()).collect();
        assert_eq!(titles, ["Welcome & intro", "Lunch & Learn"]);
        assert_eq!(
            p.warnings,
            [
                "2 break rows were skipped (first: \"Coffee break\" at row 3 (line 3)); keep them with \
             --service-sessions or `service_sessions = true`",
                "2 rows have no day or time yet and were skipped (first: \"Not placed yet\" at row 6 (line 6))",
            ]
        );
        let keep = Options { breaks: true, ..on("2024-05-16") };
        assert_eq!(parse(source, &keep).unwrap().drafts.len(), 4);
        // A Type column decides over the title.
        let p = parse(
            "Type,Start,Title\nbreak,2024-05-16 10:00,Meet the sponsors\ntalk,2024-05-16 12:00,Lunch\n",
            &Options::default(),
        )
        .unwrap();
        assert_eq!(p.drafts.iter().map(|d| d.title.as_str()).collect::<Vec<_>>(), ["Lunch"]);
    }

    #[test]
    fn header_sniffing() {
        assert!(looks_like_csv("Title;Start;Room\n"));
        assert!(!looks_like_csv("hello world"));
        assert_eq!(delimiter_of("a\tb\tc"), b'\t');
        assert_eq!(delimiter_of("\"a;b\",c"), b',');
    }
}

//! Reading published schedule files: format detection, options and filters.
//!
//! [`import`] reads a file, [`import_bytes`] does the same on bytes already in memory (what
//! the fuzz targets and benchmarks call). Either the whole file is read or an error names the
//! file and the place: nothing is half-imported.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use regex::Regex;
use serde::Deserialize;

use super::draft::{ErrorKind, Location, ParseError, Parsed};
use super::filter::{DayFilter, Filter, NoMatch};
use super::resolve::{resolve, NoZone, Settings};
pub use super::resolve::{AbstractPoints, Approve, DEFAULT_ABSTRACT_POINTS};
use super::{c3voc, csv, frab, ical, sessionize, time, Schedule};

/// The formats loudhailer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Detect from the content (and the file name as a hint).
    #[default]
    Auto,
    /// frab / Pentabarf / pretalx schedule XML.
    Frab,
    /// c3voc schedule JSON, v1 and the v2 "hub" shape.
    C3voc,
    /// iCalendar (.ics).
    Ical,
    /// Sessionize JSON (GridSmart or sessions view), with an optional speakers file.
    Sessionize,
    /// CSV with a header row.
    Csv,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Auto => "auto-detected",
            Format::Frab => "frab/Pentabarf XML",
            Format::C3voc => "c3voc schedule JSON",
            Format::Ical => "iCalendar",
            Format::Sessionize => "Sessionize JSON",
            Format::Csv => "CSV",
        })
    }
}

/// The `[schedule]` table of the config, and the options of `loudhailer import`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    /// The schedule file (relative paths are resolved against the config file's folder). A
    /// config gives `file` or `url`.
    #[serde(default)]
    pub file: PathBuf,
    /// Config only: the address the programme is published at, instead of `file`; fetched at
    /// start and every `refresh`, its last good copy kept in the state dir (`published`).
    #[serde(default)]
    pub url: Option<String>,
    /// Config only, with `url`: how often it is fetched again ("5m" by default, 5s to 24h).
    #[serde(default)]
    pub refresh: Option<String>,
    /// Config only, with `url`: fetch a plain-HTTP address that is not on this machine.
    #[serde(default)]
    pub allow_http: bool,
    /// Config only: post a short note from the primary accounts when a session moves by more
    /// than `announce_threshold` or is cancelled ("Now 10:30: Equalities Law").
    #[serde(default)]
    pub announce_changes: bool,
    /// Config only, with `announce_changes`: the smallest move announced ("10m" by default).
    #[serde(default)]
    pub announce_threshold: Option<String>,
    #[serde(default)]
    pub format: Format,
    /// The event's zone for local times when the file declares none. A zone the file declares
    /// wins; an explicit offset on a time wins over both.
    #[serde(default)]
    pub timezone: Option<String>,
    /// The event's first day, for files that give clock times without dates (spreadsheets with
    /// a day column of weekday names or day numbers, or none): `date = 2024-05-16`. Day 1 is
    /// this date; a weekday name is the first such day on or after it.
    #[serde(default, deserialize_with = "toml_date")]
    pub date: Option<NaiveDate>,
    /// Keep only sessions on this track: whole words, any case (`Rust` finds "Rust devroom").
    #[serde(default)]
    pub track: Option<String>,
    /// Keep only sessions in this room: whole words, any case.
    #[serde(default)]
    pub room: Option<String>,
    /// Keep only sessions on this conference day: `day = 2024-02-03` (bare or quoted),
    /// `day = "sat"` or `day = 2` (the file's second day).
    #[serde(default, deserialize_with = "day_filter")]
    pub day: Option<DayFilter>,
    /// Keep only sessions whose title matches this regular expression.
    #[serde(default)]
    pub title: Option<String>,
    /// How many sentences of the abstract are offered as key points when none are written (0:
    /// none; default 3), and whether they are posted only once approved (`approve = "ask"`,
    /// the default) or as they are (`"auto"`): `points_from_abstract = 2`, or
    /// `points_from_abstract = { count = 2, approve = "auto" }`.
    #[serde(default, deserialize_with = "abstract_points")]
    pub points_from_abstract: Option<AbstractPoints>,
    /// Used when a session has neither an end nor a duration, e.g. "30m" (the default).
    #[serde(default)]
    pub default_duration: Option<String>,
    /// Sessionize only: the speakers view, for profile links.
    #[serde(default)]
    pub speakers_file: Option<PathBuf>,
    /// Sessionize and CSV: keep service sessions and break rows (breaks, lunch, registration),
    /// which are skipped by default because there is nothing to amplify in them.
    #[serde(default)]
    pub service_sessions: bool,
    /// CSV only: which header holds which field, e.g. `{ title = "Talk", start = "Begin" }`.
    /// Fields: id, title, start, end, duration, date, day, room, track, speakers, abstract,
    /// description, points, url, language. Unmapped fields are found by their usual names.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// CSV only: the field delimiter; by default the header line decides between `,` `;` and tab.
    #[serde(default)]
    pub csv_delimiter: Option<char>,
    /// CSV only: a talks sheet to join to the timetable `file` (a programme kept as two
    /// sheets), by the key columns in `join_on`.
    #[serde(default)]
    pub join: Option<PathBuf>,
    /// CSV only: `"timetable column=talks column"`, or one name when both sheets use it.
    #[serde(default)]
    pub join_on: Option<String>,
}

/// A date written as a TOML date (`2024-02-03`) or as a string (`"2024-02-03"`).
fn toml_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    let text = match Written::deserialize(d)? {
        Written::Toml(t) => t.to_string(),
        Written::Number(n) => n.to_string(),
        Written::Text(t) => t,
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map(Some)
        .map_err(|_| serde::de::Error::custom(format!("expected a date such as 2024-02-03, found {text:?}")))
}

/// A day filter: a TOML date, a day number, or a string (a date or a weekday name).
fn day_filter<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DayFilter>, D::Error> {
    let text = match Written::deserialize(d)? {
        Written::Toml(t) => t.to_string(),
        Written::Number(n) => n.to_string(),
        Written::Text(t) => t,
    };
    text.parse().map(Some).map_err(serde::de::Error::custom)
}

/// `points_from_abstract`: a number, or `{ count = 2, approve = "auto" }`.
fn abstract_points<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<AbstractPoints>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Count(usize),
        Table(AbstractPoints),
    }
    match Written::deserialize(d) {
        Ok(Written::Count(count)) => Ok(Some(AbstractPoints::suggest(count))),
        Ok(Written::Table(t)) => Ok(Some(t)),
        Err(_) => Err(serde::de::Error::custom(
            "expected a number of sentences (2), or { count = 2, approve = \"auto\" } with approve \"ask\" (the default) or \"auto\"",
        )),
    }
}

/// A date or day as a config may write it.
#[derive(Deserialize)]
#[serde(untagged)]
enum Written {
    Toml(toml::value::Datetime),
    Number(i64),
    Text(String),
}

/// Why a schedule file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}, {location}: not a valid {format} schedule: {message}")]
    Malformed { path: PathBuf, format: Format, location: Location, message: String },
    #[error(
        "{path}, {location}: this schedule gives local times without a time zone; pass \
         --tz ZONE or set `timezone = \"Area/City\"` in [schedule]"
    )]
    NoTimezone { path: PathBuf, location: Location },
    #[error(
        "{path}, {location}: {message}; pass --date YYYY-MM-DD (the first day) or set \
         `date = 2024-05-16` in [schedule]"
    )]
    NoDate { path: PathBuf, location: Location, message: String },
    #[error(
        "{path}: cannot tell the schedule format; pass --format (frab, c3voc, ical, \
         sessionize or csv)"
    )]
    UnknownFormat { path: PathBuf },
    #[error("cannot write the schedule: {source}")]
    Write { source: std::io::Error },
    #[error("{path}: {source}")]
    NoMatch { path: PathBuf, source: NoMatch },
    #[error("invalid {option} {value:?}: {reason}")]
    BadOption { option: &'static str, value: String, reason: String },
}

/// A file's bytes, with the Sessionize speakers file when there is one.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// Named in error messages; not read.
    pub path: &'a Path,
    pub bytes: &'a [u8],
    pub speakers: Option<(&'a Path, &'a [u8])>,
    /// The CSV talks sheet to join (`ImportOptions::join`).
    pub join: Option<(&'a Path, &'a [u8])>,
}

/// Reads a schedule file into sessions sorted by start.
pub fn import(path: &Path, options: &ImportOptions, default_tz: Option<Tz>) -> Result<Schedule, ImportError> {
    let read = |p: &Path| std::fs::read(p).map_err(|source| ImportError::Read { path: p.to_owned(), source });
    let bytes = read(path)?;
    let speakers = match &options.speakers_file {
        Some(p) => Some((p.as_path(), read(p)?)),
        None => None,
    };
    let join = match &options.join {
        Some(p) => Some((p.as_path(), read(p)?)),
        None => None,
    };
    let input = Input {
        path,
        bytes: &bytes,
        speakers: speakers.as_ref().map(|(p, b)| (*p, b.as_slice())),
        join: join.as_ref().map(|(p, b)| (*p, b.as_slice())),
    };
    import_bytes(&input, options, default_tz)
}

/// Reads a schedule already in memory. Pure: no file system access.
pub fn import_bytes(
    input: &Input<'_>,
    options: &ImportOptions,
    default_tz: Option<Tz>,
) -> Result<Schedule, ImportError> {
    let (settings, filter) = checked(options, default_tz)?;
    let path = input.path;
    let bytes = input.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input.bytes);
    let format = match options.format {
        Format::Auto => {
            let head = String::from_utf8_lossy(bytes.get(..16 * 1024).unwrap_or(bytes));
            detect(path, &head).ok_or_else(|| ImportError::UnknownFormat { path: path.to_owned() })?
        }
        f => f,
    };
    let malformed = |e: ParseError| match e.kind {
        ErrorKind::NoDate => ImportError::NoDate {
            path: e.file.unwrap_or_else(|| path.to_owned()),
            location: e.location,
            message: e.message,
        },
        ErrorKind::Malformed => ImportError::Malformed {
            path: e.file.unwrap_or_else(|| path.to_owned()),
            format,
            location: e.location,
            message: e.message,
        },
    };
    if options.join.is_some() && format != Format::Csv {
        return Err(ImportError::BadOption {
            option: "join",
            value: options.join.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            reason: format!("joins CSV sheets only, and {} is {format}", path.display()),
        });
    }
    let parsed = match format {
        // iCalendar is decoded line by line after unfolding: a fold may split a character.
        Format::Ical => ical::parse(bytes),
        _ => utf8(bytes)
            .map_err(|(location, message)| ParseError::new(location, message))
            .and_then(|text| parse(format, text, input, options)),
    }
    .map_err(malformed)?;
    let mut schedule = resolve(parsed, &settings)
        .map_err(|NoZone(location)| ImportError::NoTimezone { path: path.to_owned(), location })?;
    filter.apply(&mut schedule.sessions).map_err(|source| ImportError::NoMatch { path: path.to_owned(), source })?;
    Ok(schedule)
}

fn parse(format: Format, text: &str, input: &Input<'_>, options: &ImportOptions) -> Result<Parsed, ParseError> {
    match format {
        Format::Auto | Format::Frab => frab::parse(text),
        Format::C3voc => c3voc::parse(text),
        Format::Ical => ical::parse(text.as_bytes()),
        Format::Sessionize => {
            let speakers = input.speakers.map(companion).transpose()?;
            sessionize::parse(text, speakers, options.service_sessions)
        }
        Format::Csv => {
            let talks = input.join.map(companion).transpose()?;
            let (left, right) = join_on(options).unwrap_or(("", ""));
            let join = talks.map(|(path, text)| csv::Join { path, text, left, right });
            let csv_options = csv::Options {
                columns: Some(&options.columns),
                delimiter: options.csv_delimiter,
                first_day: options.date,
                breaks: options.service_sessions,
                join,
            };
            csv::parse(text, &csv_options)
        }
    }
}

/// A companion file's text (the speakers view, the talks sheet); errors name that file.
fn companion<'a>((p, bytes): (&'a Path, &'a [u8])) -> Result<(&'a Path, &'a str), ParseError> {
    utf8(bytes)
        .map(|text| (p, text))
        .map_err(|(location, message)| ParseError { file: Some(p.to_owned()), ..ParseError::new(location, message) })
}

/// The key columns of a join: `"talk=id"`, or `"id"` for the same name on both sides.
fn join_on(options: &ImportOptions) -> Option<(&str, &str)> {
    let on = options.join_on.as_deref()?;
    Some(match on.split_once('=') {
        Some((left, right)) => (left.trim(), right.trim()),
        None => (on.trim(), on.trim()),
    })
}

fn checked(options: &ImportOptions, default_tz: Option<Tz>) -> Result<(Settings, Filter), ImportError> {
    let bad = |option, value: &str, reason: String| ImportError::BadOption { option, value: value.to_owned(), reason };
    let fallback_zone = match &options.timezone {
        Some(name) => Some(
            time::parse_zone(name)
                .ok_or_else(|| bad("timezone", name, "not an IANA time zone such as Europe/Berlin".into()))?,
        ),
        None => None,
    };
    let default_duration = match &options.default_duration {
        Some(text) => time::parse_duration(text)
            .filter(|d| *d > Duration::zero())
            .ok_or_else(|| bad("default_duration", text, "expected e.g. \"30m\" or \"1h\"".into()))?,
        None => Duration::minutes(30),
    };
    let title = match &options.title {
        Some(pattern) => Some(Regex::new(pattern).map_err(|e| bad("title", pattern, e.to_string()))?),
        None => None,
    };
    csv::check_columns(&options.columns).map_err(|(key, reason)| bad("columns", &key, reason))?;
    match (&options.join, join_on(options)) {
        (Some(_), None) => {
            let file = options.join.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            return Err(bad("join", &file, "needs the key columns: --on TIMETABLE_COLUMN=TALKS_COLUMN".into()));
        }
        (None, Some(_)) => {
            let on = options.join_on.clone().unwrap_or_default();
            return Err(bad("join_on", &on, "names the key columns of a --join FILE, and there is none".into()));
        }
        (_, Some((left, right))) if left.is_empty() || right.is_empty() => {
            let on = options.join_on.clone().unwrap_or_default();
            return Err(bad("join_on", &on, "expected TIMETABLE_COLUMN=TALKS_COLUMN, e.g. talk=id".into()));
        }
        _ => {}
    }
    let settings = Settings {
        fallback_zone: fallback_zone.or(default_tz),
        default_duration,
        points: options.points_from_abstract.unwrap_or_default(),
    };
    let filter = Filter { track: options.track.clone(), room: options.room.clone(), day: options.day, title };
    Ok((settings, filter))
}

/// The text of a file: UTF-8, a byte-order mark dropped.
fn utf8(bytes: &[u8]) -> Result<&str, (Location, String)> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let valid = bytes.get(..e.valid_up_to()).unwrap_or(&[]);
        let text = std::str::from_utf8(valid).unwrap_or("");
        (Location::at_offset(text, text.len()), "the file is not UTF-8 text (convert it, e.g. with iconv)".to_owned())
    })
}

/// Guesses the format from the content, with the extension as a tie-breaker.
pub fn detect(path: &Path, text: &str) -> Option<Format> {
    let head: String = text.trim_start().chars().take(4096).collect();
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if head.starts_with('<') {
        return Some(Format::Frab);
    }
    if head.get(..15).is_some_and(|h| h.eq_ignore_ascii_case("BEGIN:VCALENDAR")) {
        return Some(Format::Ical);
    }
    if head.starts_with('[') {
        return Some(Format::Sessionize);
    }
    if head.starts_with('{') {
        if head.contains("\"schedule\"") || head.contains("\"conference\"") {
            return Some(Format::C3voc);
        }
        if head.contains("\"sessions\"") || head.contains("\"speakers\"") {
            return Some(Format::Sessionize);
        }
        return match extension.as_deref() {
            Some("json") if head.contains("\"startsAt\"") => Some(Format::Sessionize),
            _ => None,
        };
    }
    match extension.as_deref() {
        Some("csv" | "tsv") => Some(Format::Csv),
        Some("ics" | "ical" | "ifb") => Some(Format::Ical),
        Some("xml") => Some(Format::Frab),
        _ => csv::looks_like_csv(&head).then_some(Format::Csv),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        for (name, text, want) in [
            ("a.xml", "<?xml version='1.0'?><schedule/>", Some(Format::Frab)),
            ("a.txt", "  <schedule><version>x</version>", Some(Format::Frab)),
            ("a", "BEGIN:VCALENDAR\r\nVERSION:2.0", Some(Format::Ical)),
            ("a", "begin:vcalendar\n", Some(Format::Ical)),
            ("a.json", "{\"schedule\": {\"conference\": {}}}", Some(Format::C3voc)),
            ("a.json", "[{\"date\": \"2023-06-08T00:00:00\"}]", Some(Format::Sessionize)),
            ("a.json", "{\"sessions\": [], \"speakers\": []}", Some(Format::Sessionize)),
            ("a.json", "{\"other\": 1}", None),
            ("a.csv", "whatever", Some(Format::Csv)),
            ("a", "Title,Start,Room\nx,y,z", Some(Format::Csv)),
            ("a", "hello", None),
            ("a", "", None),
        ] {
            assert_eq!(detect(Path::new(name), text), want, "{name}: {text}");
        }
    }

    #[test]
    fn schedule_table_from_config() {
        let o: ImportOptions = toml::from_str(
            r#"
            file = "talks.csv"
            format = "csv"
            timezone = "Europe/Berlin"
            track = "Rust"
            room = "Hall A"
            day = 2024-02-03
            title = "(?i)rust"
            points_from_abstract = 2
            default_duration = "45m"
            service_sessions = true
            columns = { title = "Talk", start = "Begin" }
            csv_delimiter = ";"
            date = 2024-05-16
            join = "talks.csv"
            join_on = "talk=id"
            "#,
        )
        .unwrap();
        assert_eq!(o.format, Format::Csv);
        assert_eq!(o.day, NaiveDate::from_ymd_opt(2024, 2, 3).map(DayFilter::Date));
        assert_eq!(o.columns.get("title").map(String::as_str), Some("Talk"));
        assert_eq!(o.csv_delimiter, Some(';'));
        assert_eq!(o.date, NaiveDate::from_ymd_opt(2024, 5, 16));
        assert_eq!(join_on(&o), Some(("talk", "id")));
        let (settings, filter) = checked(&o, None).unwrap();
        assert_eq!(settings.default_duration, Duration::minutes(45));
        assert_eq!(settings.points, AbstractPoints::suggest(2));
        assert!(filter.title.is_some());
        let quoted: ImportOptions = toml::from_str("file = \"x\"\nday = \"2024-02-04\"").unwrap();
        assert_eq!(quoted.day, NaiveDate::from_ymd_opt(2024, 2, 4).map(DayFilter::Date));
        assert!(toml::from_str::<ImportOptions>("file = \"x\"\nday = \"soon\"").is_err());
        let weekday: ImportOptions = toml::from_str("file = \"x\"\nday = \"Sat\"").unwrap();
        assert_eq!(weekday.day, Some(DayFilter::Weekday(chrono::Weekday::Sat)));
        let nth: ImportOptions = toml::from_str("file = \"x\"\nday = 2").unwrap();
        assert_eq!(nth.day, Some(DayFilter::Nth(2)));
        let unknown = toml::from_str::<ImportOptions>("file = \"x\"\ncolour = \"red\"");
        assert!(unknown.unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn utf8_errors_have_a_place() {
        assert_eq!(utf8(b"\xEF\xBB\xBFok").unwrap(), "ok");
        let (location, _) = utf8(b"ab\ncd\xFF").unwrap_err();
        assert_eq!(location, Location::LineColumn { line: 2, column: 3 });
    }

    #[test]
    fn options_are_checked() {
        let with = |f: fn(&mut ImportOptions)| {
            let mut o = ImportOptions::default();
            f(&mut o);
            checked(&o, None).err().map(|e| e.to_string())
        };
        assert!(with(|_| {}).is_none());
        assert!(with(|o| o.timezone = Some("Mars/Base".into())).unwrap().contains("timezone"));
        assert!(with(|o| o.default_duration = Some("soon".into())).unwrap().contains("default_duration"));
        assert!(with(|o| o.default_duration = Some("0m".into())).is_some());
        assert!(with(|o| o.title = Some("(".into())).unwrap().contains("title"));
        assert!(with(|o| o.join = Some("talks.csv".into())).unwrap().contains("--on"));
        assert!(with(|o| o.join_on = Some("talk=id".into())).unwrap().contains("join_on"));
        assert!(with(|o| {
            o.join = Some("talks.csv".into());
            o.join_on = Some("talk=".into());
        })
        .unwrap()
        .contains("TIMETABLE_COLUMN=TALKS_COLUMN"));
        assert!(with(|o| {
            o.join = Some("talks.csv".into());
            o.join_on = Some("id".into());
        })
        .is_none());
        assert!(with(|o| {
            o.columns.insert("colour".into(), "X".into());
        })
        .unwrap()
        .contains("colour"));
    }
}

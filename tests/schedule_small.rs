//! Small schedules written for loudhailer (`tests/fixtures/schedules/`), one or more per format,
//! each with a malformed sibling whose error location is checked. These always run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use loudhailer::schedule::{
    import, run_import, Format, ImportArgs, ImportError, ImportOptions, Location, Schedule, Session,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schedules").join(name)
}

fn options(name: &str, tz: Option<&str>) -> ImportOptions {
    ImportOptions { file: fixture(name), timezone: tz.map(str::to_owned), ..ImportOptions::default() }
}

fn load_with(o: &ImportOptions) -> Schedule {
    import(&o.file, o, None).unwrap_or_else(|e| panic!("{e}"))
}

fn load(name: &str, tz: Option<&str>) -> Schedule {
    load_with(&options(name, tz))
}

fn named<'a>(s: &'a Schedule, title: &str) -> &'a Session {
    s.sessions.iter().find(|x| x.title == title).unwrap_or_else(|| panic!("no {title:?}"))
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// (title, start, end) of every session, in order, as RFC 3339 UTC.
fn times(s: &Schedule) -> Vec<(String, String, String)> {
    s.sessions.iter().map(|x| (x.title.clone(), x.start.to_rfc3339(), x.end.to_rfc3339())).collect()
}

fn error_location(name: &str, tz: Option<&str>) -> (Location, String) {
    let o = options(name, tz);
    match import(&o.file, &o, None) {
        Err(ImportError::Malformed { location, message, .. }) => (location, message),
        other => panic!("{name}: expected a located error, got {other:?}"),
    }
}

#[test]
fn frab_xml_with_a_dst_change_inside_the_event() {
    let s = load("frab-dst.xml", None);
    assert_eq!(s.name.as_deref(), Some("Tiny Conf & Friends"));
    assert_eq!(s.timezone, Some(chrono_tz::Europe::Berlin));
    let t = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        times(&s),
        [
            t("Opening", "2023-10-28T08:00:00+00:00", "2023-10-28T08:45:00+00:00"),
            // 23:30 CEST; two real hours later it is 00:30 CET the next day.
            t("Night Shift", "2023-10-28T21:30:00+00:00", "2023-10-28T23:30:00+00:00"),
            // 02:30 is before the 06:00 day change, so on the 29th, where it occurs twice:
            // the first (summer time) is taken.
            t("Twice at Half Past Two", "2023-10-29T00:30:00+00:00", "2023-10-29T01:00:00+00:00"),
            t("No Duration Given", "2023-10-29T10:00:00+00:00", "2023-10-29T10:30:00+00:00"),
        ]
    );
    let twice = named(&s, "Twice at Half Past Two");
    assert_eq!(twice.day, day("2023-10-28"), "filed under the day before");
    assert!(s.warnings.iter().any(|w| w.contains("occur twice")), "{:?}", s.warnings);
    assert!(s.warnings.iter().any(|w| w.contains("1 sessions have neither")), "{:?}", s.warnings);
    let opening = named(&s, "Opening");
    assert_eq!(opening.id, "guid-opening");
    assert_eq!(opening.abstract_text.as_deref(), Some("Welcome to Tiny. We start on time!\n\nBring water."));
    // Sentences of the abstract are offered, not scheduled.
    assert!(opening.points.is_empty());
    assert_eq!(opening.suggested, ["Welcome to Tiny.", "We start on time!", "Bring water."]);
    assert_eq!(opening.speakers[0].name, "Ada Lovelace");
    assert_eq!(named(&s, "Night Shift").id, "102");
}

#[test]
fn frab_xml_malformed() {
    let (location, message) = error_location("frab-malformed.xml", Some("UTC"));
    // `</room>` on line 7 closes the `<event>` opened on line 4.
    assert!(matches!(location, Location::LineColumn { line: 7, .. }), "{location}: {message}");
    assert!(message.contains("event"), "{message}");
}

#[test]
fn c3voc_v1_and_v2() {
    let s = load("c3voc-v1.json", None);
    let late = named(&s, "Late Night");
    assert_eq!(late.start, utc("2023-08-24T23:00:00Z"));
    assert_eq!(late.day, day("2023-08-24"));
    assert_eq!(named(&s, "Hello Camp").speakers[0].name, "jinxx");
    assert_eq!(named(&s, "Hello Camp").id, "g-1");

    let s = load("c3voc-v2.json", None);
    let spring = named(&s, "Spring Forward");
    // 01:30+01:00 to 03:30+02:00 is one real hour, across the spring-forward jump.
    assert_eq!((spring.start, spring.end), (utc("2024-03-31T00:30:00Z"), utc("2024-03-31T01:30:00Z")));
    assert_eq!(spring.day, day("2024-03-30"));
    assert_eq!(named(&s, "Morning After").day, day("2024-03-31"));
    assert_eq!(spring.id, "aaa111");
    assert_eq!(spring.track.as_deref(), Some("Art & Beauty"));
    assert_eq!(spring.abstract_text.as_deref(), Some("An hour vanishes tonight. Mind the clock."));
    assert_eq!(spring.speakers.len(), 1, "the contributor is not a speaker");
    let bo = &spring.speakers[0];
    assert_eq!(bo.mastodon.as_deref(), Some("@bo@chaos.social"));
    assert_eq!(bo.bluesky.as_deref(), Some("bo.example.org"));
    assert_eq!(bo.x.as_deref(), Some("bo_tweets"));
    assert!(s.warnings.is_empty(), "offsets agree with Europe/Berlin: {:?}", s.warnings);
}

#[test]
fn c3voc_malformed() {
    let (location, message) = error_location("c3voc-malformed.json", None);
    assert!(matches!(location, Location::LineColumn { line: 3, .. }), "{location}: {message}");
    assert!(message.contains("\"tomorrow\""), "{message}");
}

#[test]
fn ical_folding_prefixed_tzid_and_utc() {
    let s = load("ical-folded.ics", None);
    assert_eq!(s.name.as_deref(), Some("Folded Fest"));
    let folded = named(&s, "Folding Lines, Carefully");
    // 00:30 GMT, then 02:30 BST after the jump at 01:00: two hours on the wall, one real hour.
    assert_eq!((folded.start, folded.end), (utc("2024-03-31T00:30:00Z"), utc("2024-03-31T01:30:00Z")));
    assert_eq!(folded.id, "one");
    assert_eq!(folded.room.as_deref(), Some("Main Hall, Annex"));
    assert_eq!(folded.track.as_deref(), Some("Talks"));
    let names: Vec<&str> = folded.speakers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Ada Lovelace", "Bo Smith"]);
    assert_eq!(
        folded.abstract_text.as_deref(),
        Some("We fold long lines at seventy-five octets. Then we unfold them.")
    );
    assert_eq!(folded.url.as_deref(), Some("https://folded.example/one"));
    let utc_talk = named(&s, "UTC Talk");
    assert_eq!((utc_talk.start, utc_talk.end), (utc("2024-03-31T09:00:00Z"), utc("2024-03-31T09:45:00Z")));
    assert_eq!(utc_talk.abstract_text, None, "the alarm's DESCRIPTION is not the event's");
    assert_eq!(s.sessions.len(), 2);
    assert!(s.warnings.iter().any(|w| w.contains("1 all-day")), "{:?}", s.warnings);
}

#[test]
fn ical_malformed() {
    let (location, message) = error_location("ical-malformed.ics", None);
    assert_eq!(location, Location::Line(6), "{message}");
    assert!(message.contains("DTSTART"), "{message}");
}

#[test]
fn sessionize_grid_with_speakers() {
    let mut o = options("sessionize-grid.json", None);
    o.speakers_file = Some(fixture("sessionize-speakers.json"));
    let e = import(&o.file, &o, None).unwrap_err();
    assert!(matches!(e, ImportError::NoTimezone { .. }), "{e}");
    o.timezone = Some("America/Los_Angeles".into());
    let s = load_with(&o);
    let titles: Vec<&str> = s.sessions.iter().map(|x| x.title.as_str()).collect();
    assert_eq!(titles, ["Kotlin Everywhere", "Compose Deep Dive"]);
    let kotlin = named(&s, "Kotlin Everywhere");
    assert_eq!(kotlin.start, utc("2023-06-08T16:00:00Z"));
    assert_eq!(kotlin.track.as_deref(), Some("Mobile"));
    assert_eq!(kotlin.id, "901");
    let ada = &kotlin.speakers[0];
    assert_eq!(ada.name, "Ada Lovelace");
    assert_eq!(ada.x.as_deref(), Some("ada_l"));
    assert_eq!(ada.mastodon.as_deref(), Some("@ada@hachyderm.io"));
    // Only the speakers file (integer session id 902) says who gives this one.
    let compose = named(&s, "Compose Deep Dive");
    assert_eq!(compose.speakers[0].bluesky.as_deref(), Some("bo.bsky.social"));
    assert_eq!(compose.room.as_deref(), Some("Side"));
    o.service_sessions = true;
    assert_eq!(load_with(&o).sessions.len(), 3);
}

#[test]
fn sessionize_malformed() {
    let (location, message) = error_location("sessionize-malformed.json", Some("UTC"));
    assert!(matches!(location, Location::LineColumn { line: 2, .. }), "{location}: {message}");
    assert!(message.contains("expected a string"), "{message}");
}

#[test]
fn csv_by_usual_names() {
    let s = load("talks.csv", Some("Europe/Berlin"));
    let hack = named(&s, "What to hack");
    assert_eq!((hack.start, hack.end), (utc("2011-06-23T17:00:00Z"), utc("2011-06-23T18:30:00Z")));
    let names: Vec<&str> = hack.speakers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Konrad Meier", "Dennis Wehrle"]);
    assert_eq!(hack.abstract_text.as_deref(), Some("Projects, projects.\nAlso a film."));
    assert_eq!(hack.url.as_deref(), Some("https://example.org/1"));
    assert_eq!(hack.language.as_deref(), Some("de"));
    let late = named(&s, "Very Late");
    assert_eq!(late.day, day("2011-06-24"), "Day 2 is the 24th");
    assert_eq!(late.start, utc("2011-06-24T22:45:00Z"));
}

#[test]
fn csv_mapped_columns_and_a_dst_gap() {
    let mut o = options("mapped.csv", Some("Europe/Berlin"));
    o.format = Format::Csv;
    o.columns = BTreeMap::from(
        [("title", "Talk"), ("start", "Begin"), ("end", "Ende"), ("room", "Raum"), ("speakers", "Wer")]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let s = load_with(&o);
    let zwei = named(&s, "Zwei");
    assert_eq!(zwei.end, utc("2024-05-01T22:15:00Z"), "00:15 after 23:30 is the next day");
    assert_eq!(zwei.speakers.len(), 2);
    // 02:30 does not exist in Berlin on 2024-03-31; read with +01:00 it is 03:30 CEST.
    let drei = named(&s, "Drei");
    assert_eq!((drei.start, drei.end), (utc("2024-03-31T01:30:00Z"), utc("2024-03-31T02:00:00Z")));
    assert!(s.warnings.iter().any(|w| w.contains("daylight-saving gap")), "{:?}", s.warnings);
}

#[test]
fn csv_malformed() {
    let (location, message) = error_location("csv-malformed.csv", Some("UTC"));
    // The header is row 1; the row with a fourth field is row 3, starting on line 3.
    assert_eq!(location, Location::Row { row: 3, line: 3 }, "{message}");
    assert!(message.contains("expected 3 fields"), "{message}");
}

#[test]
fn auto_detection_matches_the_format() {
    for (name, tz) in [
        ("frab-dst.xml", None),
        ("c3voc-v1.json", None),
        ("c3voc-v2.json", None),
        ("ical-folded.ics", None),
        ("sessionize-grid.json", Some("UTC")),
        ("talks.csv", Some("UTC")),
    ] {
        assert!(!load(name, tz).sessions.is_empty(), "{name}");
    }
    // The wrong explicit format is refused, not half-read.
    let mut o = options("talks.csv", Some("UTC"));
    o.format = Format::Frab;
    assert!(matches!(import(&o.file, &o, None), Err(ImportError::Malformed { .. })));
}

#[test]
fn filters_by_track_room_day_and_title() {
    let titles = |f: fn(&mut ImportOptions)| -> Vec<String> {
        let mut o = options("frab-dst.xml", None);
        f(&mut o);
        load_with(&o).sessions.into_iter().map(|x| x.title).collect()
    };
    assert_eq!(titles(|o| o.track = Some("night".into())), ["Night Shift", "Twice at Half Past Two"]);
    assert_eq!(titles(|o| o.room = Some("hall b".into())), ["No Duration Given"]);
    assert_eq!(titles(|o| o.day = day("2023-10-29").map(Into::into)), ["No Duration Given"]);
    assert_eq!(titles(|o| o.title = Some("^(?i)open".into())), ["Opening"]);
    // Ids do not depend on the filter.
    let mut o = options("frab-dst.xml", None);
    o.track = Some("Night".into());
    assert_eq!(load_with(&o).sessions[0].id, "102");
}

#[test]
fn import_command_writes_native_toml_that_reads_back() {
    let args = ImportArgs {
        file: fixture("talks.csv"),
        tz: Some("Europe/Berlin".into()),
        points: Some(1),
        ..ImportArgs::default()
    };
    let mut out = Vec::new();
    run_import(&args, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let event = doc["event"].as_table().unwrap();
    assert_eq!(event["timezone"].as_str(), Some("Europe/Berlin"));
    assert_eq!(event["date"].as_datetime().map(|d| d.to_string()).as_deref(), Some("2011-06-23"));
    let sessions = doc["session"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    let first = sessions[0].as_table().unwrap();
    assert_eq!(first["id"].as_str(), Some("1"));
    assert_eq!(first["title"].as_str(), Some("What to hack"));
    assert_eq!(first["start"].as_str(), Some("2011-06-23T19:00:00"));
    assert_eq!(first["end"].as_str(), Some("2011-06-23T20:30:00"));
    assert_eq!(first["room"].as_str(), Some("Saal 1"));
    assert_eq!(first["speakers"].as_array().unwrap()[1].as_str(), Some("Dennis Wehrle"));
    assert_eq!(first["points"].as_array().unwrap().len(), 0);
    assert_eq!(first["suggested"].as_array().unwrap().len(), 1);
    assert_eq!(first["abstract"].as_str(), Some("Projects, projects.\nAlso a film."));
    // The local times read back in the zone give the imported instants.
    let tz: Tz = event["timezone"].as_str().unwrap().parse().unwrap();
    let s = load("talks.csv", Some("Europe/Berlin"));
    for (table, session) in sessions.iter().zip(&s.sessions) {
        let start = table["start"].as_str().unwrap();
        let local = chrono::NaiveDateTime::parse_from_str(start, "%Y-%m-%dT%H:%M:%S").unwrap();
        assert_eq!(local.and_local_timezone(tz).single().unwrap().with_timezone(&Utc), session.start);
    }
}

#[test]
fn errors_name_the_file() {
    let o = options("does-not-exist.xml", None);
    let e = import(&o.file, &o, None).unwrap_err();
    assert!(e.to_string().contains("does-not-exist.xml"), "{e}");
    let e = import(&fixture("csv-malformed.csv"), &options("csv-malformed.csv", Some("UTC")), None).unwrap_err();
    assert!(e.to_string().contains("csv-malformed.csv, row 3 (line 3): not a valid CSV schedule"), "{e}");
}

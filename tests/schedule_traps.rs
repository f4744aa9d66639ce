//! The traps published schedules set for a new user, each in a small file written for
//! loudhailer (`tests/fixtures/schedules/`) with the trap in it byte for byte: iCalendar folds
//! inside a UTF-8 character, spreadsheets with clock times and weekday names but no dates, a
//! timetable and a talks sheet joined by a key, and filters that find what people type.

mod common;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use loudhailer::schedule::{import, Format, ImportError, ImportOptions, Location, Schedule, Session};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schedules").join(name)
}

fn options(name: &str, tz: Option<&str>) -> ImportOptions {
    ImportOptions { file: fixture(name), timezone: tz.map(str::to_owned), ..ImportOptions::default() }
}

fn load_with(o: &ImportOptions) -> Schedule {
    import(&o.file, o, None).unwrap_or_else(|e| panic!("{e}"))
}

fn named<'a>(s: &'a Schedule, title: &str) -> &'a Session {
    s.sessions.iter().find(|x| x.title == title).unwrap_or_else(|| panic!("no {title:?} in {:?}", titles(s)))
}

fn titles(s: &Schedule) -> Vec<&str> {
    s.sessions.iter().map(|x| x.title.as_str()).collect()
}

/// "YYYY-MM-DD HH:MM–HH:MM" of a session in `tz`.
fn local(session: &Session, tz: Tz) -> String {
    let start = session.start.with_timezone(&tz);
    let end = session.end.with_timezone(&tz);
    format!("{}–{}", start.format("%Y-%m-%d %H:%M"), end.format("%H:%M"))
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn ical_folded_inside_utf8_characters_with_stray_carriage_returns() {
    // The raw file is not UTF-8: `’` (E2 80 99) is split by CRLF + space after E2 80, `é`
    // (C3 A9) after C3, and 🎉 (F0 9F 8E 89) by CRLF + tab after F0 9F. Six lines end in
    // CR CR LF. Parameters come vCard-2.1 style (CHARSET, ENCODING=8BIT, a bare `;8BIT`), and
    // DTSTAMP carries a TZID.
    let raw = std::fs::read(fixture("ical-traps.ics")).unwrap();
    assert!(std::str::from_utf8(&raw).is_err(), "the fixture must hold split characters");
    assert!(raw.windows(5).any(|w| w == b"\xE2\x80\r\n\x20"), "a fold inside the quote");
    assert_eq!(raw.windows(3).filter(|w| w == b"\r\r\n").count(), 6);

    let s = load_with(&options("ical-traps.ics", None));
    assert_eq!(s.name.as_deref(), Some("Trap Conf"));
    let ams = chrono_tz::Europe::Amsterdam;
    assert_eq!(s.timezone, Some(ams));
    assert_eq!(titles(&s), ["Don’t Panic", "Grüße aus Köln"]);
    let panic = named(&s, "Don’t Panic");
    assert_eq!(local(panic, ams), "2024-03-16 09:20–10:00");
    assert_eq!(panic.start, utc("2024-03-16T08:20:00Z"));
    assert_eq!(panic.room.as_deref(), Some("Salle Café"));
    assert_eq!(panic.speakers[0].name, "Zoë Lefèvre");
    let koeln = named(&s, "Grüße aus Köln");
    assert_eq!(local(koeln, ams), "2024-03-16 14:00–14:45");
    assert_eq!(koeln.room.as_deref(), Some("Zaal 2"));
    assert_eq!(koeln.speakers[0].name, "Jürgen");
    assert_eq!(koeln.abstract_text.as_deref(), Some("A party 🎉 in the hall."));
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
}

#[test]
fn ical_not_utf8_even_unfolded_names_the_physical_line() {
    // Line 6 is the continuation " \xE9": a Latin-1 é, which no unfolding makes UTF-8.
    let o = options("ical-not-utf8.ics", None);
    match import(&o.file, &o, None) {
        Err(ImportError::Malformed { location, message, path, .. }) => {
            assert_eq!(location, Location::Line(6), "{message}");
            assert!(message.contains("not UTF-8"), "{message}");
            assert!(path.ends_with("ical-not-utf8.ics"));
        }
        other => panic!("expected a located refusal, got {other:?}"),
    }
}

/// A real schedule of the shared folder (the tests that need one are listed as ignored without it).
fn shared(file: &str) -> Option<PathBuf> {
    common::shared::file(&format!("fixtures/schedules/{file}"), "FOSDEM 2024's filters")
}

const FOSDEM: &str = "pentabarf-xml_fosdem2024_mttcrsp-fosdem.xml";

/// `loudhailer import ARGS`: (exit code, stdout, stderr).
fn loudhailer_import(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loudhailer"))
        .arg("import")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
#[cfg_attr(not(shared), ignore = "needs FOSDEM 2024's schedule in ../shared/fixtures/schedules")]
fn fosdem_track_rust_finds_the_rust_devroom() {
    let Some(file) = shared(FOSDEM) else { return };
    // 14, counted without loudhailer by Python's xml.etree:
    //   sum(1 for e in ET.parse(F).iter('event')
    //       if re.search(r'(?i)\brust\b', e.findtext('track') or ''))
    // and equal to Counter(e.findtext('track') for e in ...)['Rust devroom']: no other of the
    // 55 tracks has the word "rust" in it.
    let mut o = ImportOptions { file: file.clone(), track: Some("Rust".into()), ..ImportOptions::default() };
    o.timezone = Some("Europe/Brussels".into());
    let s = load_with(&o);
    assert_eq!(s.sessions.len(), 14);
    assert!(s.sessions.iter().all(|x| x.track.as_deref() == Some("Rust devroom")));
    let path = file.to_str().unwrap();
    let (code, out, err) = loudhailer_import(&[path, "--track", "Rust", "--tz", "Europe/Brussels"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("[[session]]").count(), 14, "{out}");
    // Whole words, any case: "rust DEVROOM" is the same 14; "go" is the Go devroom (16 by the
    // same count) and not "Public Code and Digital Public Goods devroom" (8).
    o.track = Some("rust DEVROOM".into());
    assert_eq!(load_with(&o).sessions.len(), 14);
    o.track = Some("go".into());
    assert_eq!(load_with(&o).sessions.len(), 16);
}

#[test]
#[cfg_attr(not(shared), ignore = "needs FOSDEM 2024's schedule in ../shared/fixtures/schedules")]
fn a_filter_that_matches_nothing_exits_2_naming_the_closest() {
    let Some(file) = shared(FOSDEM) else { return };
    let path = file.to_str().unwrap();
    for (args, closest) in [
        (["--track", "Rsut"], "\"Rust devroom\""),
        (["--room", "K.3.2"], "\"K.3.201\""),
        (["--day", "fri"], "2024-02-03 (day 1, Saturday)"),
    ] {
        let (code, out, err) = loudhailer_import(&[path, "--tz", "Europe/Brussels", args[0], args[1]]);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "no config is written: {out}");
        assert!(err.contains(FOSDEM) && err.contains("no session matches"), "{err}");
        let listed = err.split_once("in the file: ").map(|(_, l)| l).unwrap_or("");
        assert!(listed.starts_with(closest), "{args:?}: {err}");
    }
}

fn csv_options(name: &str, first_day: Option<&str>) -> ImportOptions {
    let mut o = options(name, Some("Europe/Berlin"));
    o.date = first_day.map(|d| d.parse().unwrap());
    o
}

#[test]
fn csv_with_weekday_names_clock_times_and_no_dates() {
    // A spreadsheet as exported: CRLF, a day column of weekday names, `9:20` without a leading
    // zero, a length column in minutes headed "Length (min)", two empty header cells (one
    // column under them holds notes), two break rows, two rows not scheduled yet (no day and
    // time; no time), and `&amp;` / `&#8217;` in titles.
    let o = csv_options("csv-weekdays.csv", Some("2024-05-16"));
    let s = load_with(&o);
    assert_eq!(titles(&s), ["Welcome & Housekeeping", "Don’t Panic: Async Rust", "Tea & Types", "Saturday Keynote"]);
    let berlin = chrono_tz::Europe::Berlin;
    // 2024-05-16 is a Thursday: fri is the first Friday on or after it, the 17th.
    assert_eq!(local(named(&s, "Welcome & Housekeeping"), berlin), "2024-05-17 09:20–09:30");
    assert_eq!(local(named(&s, "Don’t Panic: Async Rust"), berlin), "2024-05-17 09:30–10:15");
    assert_eq!(local(named(&s, "Tea & Types"), berlin), "2024-05-17 10:45–11:30");
    let keynote = named(&s, "Saturday Keynote");
    assert_eq!(local(keynote, berlin), "2024-05-18 09:00–10:00");
    assert_eq!(keynote.start, utc("2024-05-18T07:00:00Z"));
    assert_eq!(keynote.day, "2024-05-18".parse().ok());
    assert_eq!(keynote.speakers[0].name, "Di Prince");
    assert_eq!(named(&s, "Tea & Types").room.as_deref(), Some("Room 2"));
    assert_eq!(
        s.warnings,
        [
            "2 break rows were skipped (first: \"Coffee break\" at row 4 (line 4)); keep them with \
             --service-sessions or `service_sessions = true`",
            "2 rows have no day or time yet and were skipped (first: \"Lightning talks (to be scheduled)\" at \
             row 8 (line 8))",
        ]
    );
    // The same first day given as a Friday places fri and sat on the same dates.
    assert_eq!(times(&load_with(&csv_options("csv-weekdays.csv", Some("2024-05-17")))), times(&s));
    // Break rows come back when asked for.
    let mut keep = o.clone();
    keep.service_sessions = true;
    assert_eq!(load_with(&keep).sessions.len(), 6);
}

/// (title, start in UTC) of every session.
fn times(s: &Schedule) -> Vec<(String, DateTime<Utc>)> {
    s.sessions.iter().map(|x| (x.title.clone(), x.start)).collect()
}

#[test]
fn csv_with_day_numbers_from_the_first_day() {
    let s = load_with(&csv_options("csv-daynumbers.csv", Some("2024-05-16")));
    let berlin = chrono_tz::Europe::Berlin;
    let got: Vec<String> = s.sessions.iter().map(|x| format!("{} {}", x.title, local(x, berlin))).collect();
    assert_eq!(
        got,
        ["Opening 2024-05-16 09:05–09:30", "Afternoon 2024-05-16 14:00–14:50", "Second Morning 2024-05-17 09:05–09:30"]
    );
}

#[test]
fn csv_without_dates_asks_for_the_first_day() {
    for name in ["csv-weekdays.csv", "csv-daynumbers.csv"] {
        let o = csv_options(name, None);
        let e = import(&o.file, &o, None).unwrap_err();
        assert!(matches!(e, ImportError::NoDate { location: Location::Row { row: 2, .. }, .. }), "{e:?}");
        let text = e.to_string();
        assert!(text.contains(name) && text.contains("row 2"), "{text}");
        assert!(text.contains("pass --date YYYY-MM-DD"), "{text}");
    }
    let path = fixture("csv-weekdays.csv");
    let (code, out, err) = loudhailer_import(&[path.to_str().unwrap(), "--tz", "Europe/Berlin"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("the day \"fri\" is not a date") && err.contains("--date"), "{err}");
    let (code, out, err) =
        loudhailer_import(&[path.to_str().unwrap(), "--tz", "Europe/Berlin", "--date", "2024-05-16"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("[[session]]").count(), 4, "{out}");
    assert!(out.contains("start = \"2024-05-17T09:20:00\""), "{out}");
}

#[test]
fn csv_timetable_joined_to_a_talks_sheet() {
    // The timetable names talks by key (column Talk); the talks sheet holds their titles and
    // speakers (column ID). Keys match in any case ("t3" is T3). A row with an empty key
    // stands alone (the coffee break, then skipped as a break); a row whose key is not in the
    // talks sheet (T9) is skipped with a warning; a talk no row schedules (T4) is counted.
    let mut o = csv_options("csv-timetable.csv", Some("2024-05-16"));
    o.join = Some(fixture("csv-talks.csv"));
    o.join_on = Some("Talk=ID".into());
    let s = load_with(&o);
    assert_eq!(titles(&s), ["Opening the Box", "Second Talk & More", "Saturday Special"]);
    let berlin = chrono_tz::Europe::Berlin;
    let opening = named(&s, "Opening the Box");
    assert_eq!(local(opening, berlin), "2024-05-17 09:20–10:00");
    assert_eq!(opening.id, "t1");
    assert_eq!(opening.speakers[0].name, "Ada Lovelace");
    assert_eq!(opening.room.as_deref(), Some("Main Hall"));
    assert_eq!(opening.abstract_text.as_deref(), Some("We open it. Then we close it."));
    assert_eq!(local(named(&s, "Saturday Special"), berlin), "2024-05-18 09:00–09:40");
    assert_eq!(
        s.warnings,
        [
            "1 timetable rows name a key that is not in csv-talks.csv and were skipped (first: row 5 (line 5), \"T9\")",
            "1 talks in csv-talks.csv are in no timetable row (first: row 5 (line 5), \"T4\")",
            "1 break rows were skipped (first: \"Coffee break\" at row 3 (line 3)); keep them with \
             --service-sessions or `service_sessions = true`",
        ]
    );
    // Only CSV sheets are joined.
    let mut xml = o.clone();
    xml.file = fixture("frab-dst.xml");
    xml.format = Format::Frab;
    let e = import(&xml.file, &xml, None).unwrap_err();
    assert!(matches!(e, ImportError::BadOption { option: "join", .. }), "{e}");
    // The command line: --join FILE --on a=b, and --join without --on is a usage error.
    let path = fixture("csv-timetable.csv");
    let talks = fixture("csv-talks.csv");
    let base =
        [path.to_str().unwrap(), "--tz", "Europe/Berlin", "--date", "2024-05-16", "--join", talks.to_str().unwrap()];
    let (code, out, err) = loudhailer_import(&[&base[..], &["--on", "talk=id"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("[[session]]").count(), 3, "{out}");
    let (code, _, err) = loudhailer_import(&base);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--on"), "{err}");
    // A key column that is not there is named, with the sheet's header.
    let (code, _, err) = loudhailer_import(&[&base[..], &["--on", "talk=code"]].concat());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("csv-talks.csv, row 1") && err.contains("no column named \"code\""), "{err}");
}

#[test]
fn config_schedule_date_places_a_spreadsheet_and_event_date_stands_in() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("csv-weekdays.csv");
    let plan = |event_date: &str, schedule_date: &str| {
        let config = dir.path().join("event.toml");
        let text = format!(
            "[event]\nname = \"Trap Conf\"\ntimezone = \"Europe/Berlin\"\n{event_date}\n\n\
             [[account]]\nid = \"delegate\"\nplatform = \"mastodon\"\nserver = \"https://mastodon.example\"\n\
             token_env = \"LOUDHAILER_DELEGATE_TOKEN\"\nrole = \"primary\"\n\n\
             [schedule]\nfile = {file:?}\n{schedule_date}\npoints_from_abstract = 0\n",
            file = file.display().to_string()
        );
        std::fs::write(&config, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_loudhailer"))
            .args(["plan", "--format", "json", "--config"])
            .arg(&config)
            .env("LOUDHAILER_STATE_DIR", dir.path().join("state"))
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        let posts: Vec<String> = serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout)
            .unwrap_or_default()
            .iter()
            .filter(|j| j["kind"] == "post")
            .map(|j| j["at"].as_str().unwrap_or("").to_owned())
            .collect();
        (out.status.code(), posts, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let want = [
        "2024-05-17T07:20:00+00:00",
        "2024-05-17T07:30:00+00:00",
        "2024-05-17T08:45:00+00:00",
        "2024-05-18T07:00:00+00:00",
    ];
    let (code, posts, err) = plan("", "date = 2024-05-16");
    assert_eq!((code, posts), (Some(0), want.map(String::from).to_vec()), "{err}");
    // Without [schedule] date, the event's date is the first day.
    let (code, posts, err) = plan("date = 2024-05-16", "");
    assert_eq!((code, posts), (Some(0), want.map(String::from).to_vec()), "{err}");
    let (code, _, err) = plan("", "");
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("csv-weekdays.csv, row 2") && err.contains("--date"), "{err}");
}

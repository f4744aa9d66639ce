//! The traps published schedules set for a new user, each in a small file written for
//! loudhailer (`tests/fixtures/schedules/`) with the trap in it byte for byte: iCalendar folds
//! inside a UTF-8 character, spreadsheets with clock times and weekday names but no dates, a
//! timetable and a talks sheet joined by a key, and filters that find what people type.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use loudhailer::schedule::{import, ImportError, ImportOptions, Location, Schedule, Session};

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

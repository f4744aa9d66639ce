//! Property tests standing in for fuzzing in CI: every parser gets arbitrary bytes and mutated
//! copies of the small fixtures, and must answer with sessions or an error, never a panic.
//! Bounded to a few hundred cases each so `cargo test` stays quick; `fuzz/` has the
//! cargo-fuzz targets for long runs (see `fuzz/README.md`), and
//! `PROPTEST_CASES=100000 cargo test --test schedule_fuzz` runs these longer.

use std::path::Path;

use loudhailer::schedule::{import_bytes, to_toml, Format, ImportOptions, Input};
use proptest::prelude::*;

const FRAB: &[u8] = include_bytes!("fixtures/schedules/frab-dst.xml");
const C3VOC_V1: &[u8] = include_bytes!("fixtures/schedules/c3voc-v1.json");
const C3VOC_V2: &[u8] = include_bytes!("fixtures/schedules/c3voc-v2.json");
const ICAL: &[u8] = include_bytes!("fixtures/schedules/ical-folded.ics");
const GRID: &[u8] = include_bytes!("fixtures/schedules/sessionize-grid.json");
const SPEAKERS: &[u8] = include_bytes!("fixtures/schedules/sessionize-speakers.json");
const CSV: &[u8] = include_bytes!("fixtures/schedules/talks.csv");
const ICAL_TRAPS: &[u8] = include_bytes!("fixtures/schedules/ical-traps.ics");
const CSV_WEEKDAYS: &[u8] = include_bytes!("fixtures/schedules/csv-weekdays.csv");
const CSV_TIMETABLE: &[u8] = include_bytes!("fixtures/schedules/csv-timetable.csv");
const CSV_TALKS: &[u8] = include_bytes!("fixtures/schedules/csv-talks.csv");

/// 256 cases per property unless `PROPTEST_CASES` asks for more.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256)
}

/// Bytes that matter to the syntaxes involved, so mutations reach past the UTF-8 check.
const TOKENS: &[u8] = b"<>/\"'=&;:,.\n\r\t {}[]\\0123456789TZ+-PHMabz#*_`|";

fn run(format: Format, bytes: &[u8], speakers: Option<&[u8]>) {
    let options = ImportOptions {
        format,
        timezone: Some("Europe/Berlin".into()),
        default_duration: Some("30m".into()),
        ..ImportOptions::default()
    };
    let input = Input {
        path: Path::new("fuzz-input"),
        bytes,
        speakers: speakers.map(|s| (Path::new("fuzz-speakers"), s)),
        join: None,
    };
    if let Ok(schedule) = import_bytes(&input, &options, None) {
        let _ = to_toml(&schedule, schedule.timezone.unwrap_or(chrono_tz::UTC));
    }
}

/// A CSV sheet read with a first day, maybe joined to a talks sheet, and maybe filtered.
fn run_csv(bytes: &[u8], talks: Option<&[u8]>, track: Option<String>, day: Option<String>) {
    let options = ImportOptions {
        format: Format::Csv,
        timezone: Some("Europe/Berlin".into()),
        date: chrono::NaiveDate::from_ymd_opt(2024, 5, 16),
        join: talks.map(|_| "talks.csv".into()),
        join_on: talks.map(|_| "Talk=ID".into()),
        track,
        day: day.and_then(|d| d.parse().ok()),
        ..ImportOptions::default()
    };
    let input = Input {
        path: Path::new("fuzz-input"),
        bytes,
        speakers: None,
        join: talks.map(|t| (Path::new("talks.csv"), t)),
    };
    if let Ok(schedule) = import_bytes(&input, &options, None) {
        let _ = to_toml(&schedule, schedule.timezone.unwrap_or(chrono_tz::UTC));
    }
}

/// Imports iCalendar bytes; the sessions and warnings, or the error's text.
fn ical(bytes: &[u8]) -> Result<(Vec<loudhailer::schedule::Session>, Vec<String>), String> {
    let options = ImportOptions { format: Format::Ical, timezone: Some("UTC".into()), ..ImportOptions::default() };
    let input = Input { path: Path::new("folded.ics"), bytes, speakers: None, join: None };
    import_bytes(&input, &options, None).map(|s| (s.sessions, s.warnings)).map_err(|e| e.to_string())
}

/// The file with a fold (a line end and a space or tab) inserted at each of `at`, wherever a
/// fold may go: inside a line, not at its start nor inside its line end. The positions may
/// split a UTF-8 character, as RFC 5545 allows.
fn folded(base: &[u8], at: &[usize], ends: &[&[u8]]) -> Vec<u8> {
    let mut cuts: Vec<usize> = at
        .iter()
        .map(|i| i % base.len().max(1))
        .filter(|&i| {
            i > 0 && !matches!(base.get(i - 1), Some(b'\r' | b'\n')) && !matches!(base.get(i), Some(b'\r' | b'\n'))
        })
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut out = Vec::with_capacity(base.len() + 4 * cuts.len());
    let mut last = 0;
    for (n, cut) in cuts.into_iter().enumerate() {
        out.extend_from_slice(&base[last..cut]);
        out.extend_from_slice(ends[n % ends.len()]);
        last = cut;
    }
    out.extend_from_slice(&base[last..]);
    out
}

/// A fixture with some bytes replaced, some removed, tokens inserted and maybe truncated.
fn mutated(base: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len().max(1);
    (
        prop::collection::vec((0..len, any::<u8>()), 0..8),
        prop::collection::vec((0..len, prop::sample::select(TOKENS)), 0..8),
        prop::collection::vec(0..len, 0..8),
        prop::option::of(0..len),
    )
        .prop_map(move |(replace, insert, remove, cut)| {
            let mut bytes = base.to_vec();
            for (i, b) in replace {
                if let Some(slot) = bytes.get_mut(i) {
                    *slot = b;
                }
            }
            for (i, b) in insert {
                let i = i.min(bytes.len());
                bytes.insert(i, b);
            }
            for i in remove {
                if i < bytes.len() {
                    bytes.remove(i);
                }
            }
            if let Some(cut) = cut {
                bytes.truncate(cut);
            }
            bytes
        })
}

fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..512), prop::collection::vec(prop::sample::select(TOKENS), 0..512),]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn frab_never_panics(bytes in prop_oneof![mutated(FRAB), noise()]) {
        run(Format::Frab, &bytes, None);
    }

    #[test]
    fn c3voc_never_panics(bytes in prop_oneof![mutated(C3VOC_V1), mutated(C3VOC_V2), noise()]) {
        run(Format::C3voc, &bytes, None);
    }

    #[test]
    fn ical_never_panics(bytes in prop_oneof![mutated(ICAL), noise()]) {
        run(Format::Ical, &bytes, None);
    }

    #[test]
    fn sessionize_never_panics(bytes in prop_oneof![mutated(GRID), noise()], speakers in mutated(SPEAKERS)) {
        run(Format::Sessionize, &bytes, Some(&speakers));
    }

    #[test]
    fn csv_never_panics(bytes in prop_oneof![mutated(CSV), noise()]) {
        run(Format::Csv, &bytes, None);
    }

    #[test]
    fn ical_traps_never_panic(bytes in mutated(ICAL_TRAPS)) {
        run(Format::Ical, &bytes, None);
    }

    /// Folding at any byte inside any line, with CRLF, LF or CR CR LF and a space or a tab,
    /// even in the middle of a character, imports exactly what the unfolded file does.
    #[test]
    fn ical_folds_anywhere_change_nothing(at in prop::collection::vec(any::<usize>(), 1..40), end in 0..3usize) {
        let ends: [&[&[u8]]; 3] = [&[b"\r\n ", b"\r\n\t"], &[b"\n "], &[b"\r\r\n ", b"\r\n "]];
        for base in [ICAL, ICAL_TRAPS] {
            let want = ical(base);
            prop_assert!(want.is_ok(), "{want:?}");
            prop_assert_eq!(ical(&folded(base, &at, ends[end])), want);
        }
    }

    #[test]
    fn csv_first_day_breaks_and_filters_never_panic(
        bytes in prop_oneof![mutated(CSV_WEEKDAYS), mutated(CSV_TIMETABLE), noise()],
        track in prop::option::of(".{0,12}"),
        day in prop::option::of(prop_oneof![Just("fri".to_owned()), Just("2".to_owned()), ".{0,10}"]),
    ) {
        run_csv(&bytes, None, track, day);
    }

    #[test]
    fn csv_joins_never_panic(timetable in mutated(CSV_TIMETABLE), talks in prop_oneof![mutated(CSV_TALKS), noise()]) {
        run_csv(&timetable, Some(&talks), None, None);
    }

    #[test]
    fn day_filters_parse_or_refuse(text in ".{0,20}") {
        let _ = text.parse::<loudhailer::schedule::DayFilter>();
    }

    #[test]
    fn detection_never_panics(bytes in prop_oneof![mutated(FRAB), mutated(ICAL), mutated(CSV), noise()]) {
        run(Format::Auto, &bytes, None);
    }

    #[test]
    fn markup_never_panics(text in ".{0,300}") {
        let plain = loudhailer::schedule::text::plain(&text);
        let _ = loudhailer::schedule::text::key_points(&plain, 3);
    }
}

#[test]
fn unmutated_fixtures_import() {
    // The seeds themselves must get past the parsers, or the mutations test little.
    for (format, bytes) in [
        (Format::Frab, FRAB),
        (Format::C3voc, C3VOC_V1),
        (Format::C3voc, C3VOC_V2),
        (Format::Ical, ICAL),
        (Format::Sessionize, GRID),
        (Format::Csv, CSV),
        (Format::Ical, ICAL_TRAPS),
    ] {
        let options = ImportOptions { format, timezone: Some("Europe/Berlin".into()), ..ImportOptions::default() };
        let input = Input { path: Path::new("seed"), bytes, speakers: None, join: None };
        assert!(import_bytes(&input, &options, None).is_ok(), "{format:?}");
    }
    let talks = Input { path: Path::new("seed"), bytes: CSV_TIMETABLE, speakers: None, join: None };
    let mut options = ImportOptions { format: Format::Csv, timezone: Some("UTC".into()), ..ImportOptions::default() };
    options.date = chrono::NaiveDate::from_ymd_opt(2024, 5, 16);
    options.join = Some("talks.csv".into());
    options.join_on = Some("Talk=ID".into());
    let joined = Input { join: Some((Path::new("talks.csv"), CSV_TALKS)), ..talks };
    assert_eq!(import_bytes(&joined, &options, None).map(|s| s.sessions.len()).ok(), Some(3));
    let weekdays = Input { bytes: CSV_WEEKDAYS, ..talks };
    options.join = None;
    options.join_on = None;
    assert_eq!(import_bytes(&weekdays, &options, None).map(|s| s.sessions.len()).ok(), Some(4));
}

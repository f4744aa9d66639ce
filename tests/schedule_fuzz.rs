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
    ] {
        let options = ImportOptions { format, timezone: Some("Europe/Berlin".into()), ..ImportOptions::default() };
        let input = Input { path: Path::new("seed"), bytes, speakers: None, join: None };
        assert!(import_bytes(&input, &options, None).is_ok(), "{format:?}");
    }
}

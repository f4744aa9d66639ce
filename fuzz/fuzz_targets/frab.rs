//! Fuzzes the frab schedule reader: any bytes give sessions or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use loudhailer::schedule::{import_bytes, to_toml, Format, ImportOptions, Input};

fuzz_target!(|data: &[u8]| {
    let options = ImportOptions {
        format: Format::Frab,
        timezone: Some("Europe/Berlin".into()),
        ..ImportOptions::default()
    };
    let input = Input {
        path: std::path::Path::new("fuzz"),
        bytes: data,
        speakers: None,
    };
    if let Ok(schedule) = import_bytes(&input, &options, None) {
        let _ = to_toml(&schedule, schedule.timezone.unwrap_or(chrono_tz::UTC));
    }
});

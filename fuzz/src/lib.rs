//! What every fuzz target does: read the bytes as a schedule of one format and, when a schedule
//! comes out, write it as TOML. Any bytes give sessions or an error, never a panic.

use loudhailer::schedule::{import_bytes, to_toml, Format, ImportOptions, Input};

pub fn read(format: Format, data: &[u8]) {
    let options = ImportOptions { format, timezone: Some("Europe/Berlin".into()), ..ImportOptions::default() };
    let input = Input { path: std::path::Path::new("fuzz"), bytes: data, speakers: None, join: None };
    if let Ok(schedule) = import_bytes(&input, &options, None) {
        let _ = to_toml(&schedule, schedule.timezone.unwrap_or(chrono_tz::UTC));
    }
}

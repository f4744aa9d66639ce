//! Times `loudhailer import` on one schedule file, e.g. the FOSDEM 2024 Pentabarf export:
//! `cargo run --release --example import_timing -- FILE [ZONE] [RUNS]`.
//! Prints the sessions, days and rooms found, the warnings, and the median time of the runs.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use loudhailer::schedule::{import_bytes, to_toml, ImportOptions, Input};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(args.next().ok_or("usage: import_timing FILE [ZONE] [RUNS]")?);
    let zone = args.next().map(|z| z.parse::<chrono_tz::Tz>()).transpose()?;
    let runs: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(20);
    let bytes = std::fs::read(&file)?;
    let options = ImportOptions::default();
    let input = Input { path: &file, bytes: &bytes, speakers: None, join: None };
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let schedule = import_bytes(&input, &options, zone)?;
        let toml = to_toml(&schedule, schedule.timezone.unwrap_or(chrono_tz::UTC));
        times.push(started.elapsed());
        last = Some((schedule, toml.len()));
    }
    times.sort();
    let (schedule, toml_len) = last.ok_or("no run")?;
    let days: BTreeSet<_> = schedule.sessions.iter().filter_map(|s| s.day).collect();
    let rooms: BTreeSet<_> = schedule.sessions.iter().filter_map(|s| s.room.as_deref()).collect();
    println!(
        "{}: {} sessions, {} days, {} rooms, {} bytes of TOML",
        file.display(),
        schedule.sessions.len(),
        days.len(),
        rooms.len(),
        toml_len
    );
    for warning in &schedule.warnings {
        println!("warning: {warning}");
    }
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    println!("import + to_toml: median {median:?} over {} runs (min {:?})", times.len(), times[0]);
    Ok(())
}

//! `loudhailer init`: writes a commented starter config from what the person has (a schedule
//! file or address, their handles, the accounts that boost them), taken from flags or, at a
//! terminal, from a few questions. `loudhailer check` accepts what it writes as it is.
//!
//! - [`handle`]: `@me@server` and `me.bsky.social` → network, server and id (pure).
//! - [`render`]: the decisions → commented TOML (pure).

mod handle;
mod render;

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use chrono_tz::Tz;

use super::{Cli, CliError};
use crate::schedule::{self, ImportError, ImportOptions};
pub use handle::Handle;
use render::{password_env, render, ScheduleRef, Starter};

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// The programme: a schedule file (frab/pretalx XML, c3voc JSON, iCalendar, Sessionize, CSV),
    /// or an http(s) address to download it from into the config's folder.
    #[arg(long, value_name = "FILE|URL")]
    pub schedule: Option<String>,
    /// Your Mastodon account, which posts: @you@server. Repeat for more.
    #[arg(long, value_name = "@USER@SERVER")]
    pub mastodon: Vec<String>,
    /// Your Bluesky account, which posts: you.bsky.social. Repeat for more.
    #[arg(long, value_name = "HANDLE")]
    pub bluesky: Vec<String>,
    /// An account that boosts the posts: @org@server (Mastodon) or org.bsky.social (Bluesky).
    /// Repeat for more.
    #[arg(long, value_name = "ACCOUNT")]
    pub amplifier: Vec<String>,
    /// The event's name (default: the schedule's).
    #[arg(long)]
    pub name: Option<String>,
    /// The event's time zone, such as Europe/Brussels (default: the schedule's, else UTC).
    #[arg(long, value_name = "ZONE")]
    pub timezone: Option<String>,
    /// The event's (first) day, for clock times without a date.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// A hashtag for every post, such as '#FOSDEM'. Repeat for more.
    #[arg(long)]
    pub hashtag: Vec<String>,
    /// Print the config instead of writing it to --config.
    #[arg(long)]
    pub stdout: bool,
    /// Overwrite the config (and a downloaded schedule) if it exists.
    #[arg(long)]
    pub force: bool,
}

/// The largest schedule download accepted.
const MAX_DOWNLOAD: usize = 64 * 1024 * 1024;

pub async fn run(cli: &Cli, args: &Args) -> Result<(), CliError> {
    let target = &cli.config;
    if !args.stdout && target.exists() && !args.force {
        return Err(CliError::Usage(format!(
            "{} exists already: pass --force to overwrite it, or --config OTHER.toml to write another",
            target.display()
        )));
    }
    let asked;
    let args = if std::io::stdin().is_terminal() && args.mastodon.is_empty() && args.bluesky.is_empty() {
        asked = ask_all(args)?;
        &asked
    } else {
        args
    };
    let primaries = args
        .mastodon
        .iter()
        .map(|h| Handle::mastodon(h).map_err(|e| CliError::Usage(format!("--mastodon: {e}"))))
        .chain(args.bluesky.iter().map(|h| Handle::bluesky(h).map_err(|e| CliError::Usage(format!("--bluesky: {e}")))))
        .collect::<Result<Vec<_>, _>>()?;
    if primaries.is_empty() {
        return Err(CliError::Usage(
            "loudhailer init needs the account that posts: --mastodon @you@server or --bluesky you.bsky.social".into(),
        ));
    }
    let amplifiers = args
        .amplifier
        .iter()
        .map(|h| Handle::either(h).map_err(|e| CliError::Usage(format!("--amplifier: {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let zone = args.timezone.as_deref().map(zone).transpose()?;
    let config_dir = folder_of(target);
    let today = Utc::now().date_naive();
    let mut found = None;
    let schedule = match &args.schedule {
        Some(given) => {
            let (path, source) = if given.starts_with("https://") || given.starts_with("http://") {
                let path = download(given, &config_dir, args.force || args.stdout).await?;
                (path, Some(given.clone()))
            } else {
                (PathBuf::from(given), None)
            };
            let read = read_schedule(&path, args.timezone.clone(), args.date)?;
            let reference = ScheduleRef { file: as_written(&path, &config_dir), source, sessions: read.sessions.len() };
            found = Some(read);
            Some(reference)
        }
        None => None,
    };
    let from_schedule = found.as_ref();
    let timezone = zone.or_else(|| from_schedule.and_then(|s| s.timezone)).unwrap_or_else(|| {
        eprintln!("note: no time zone given or found in a schedule: UTC is written; change [event] timezone (or pass --timezone)");
        chrono_tz::UTC
    });
    let name = args
        .name
        .clone()
        .or_else(|| from_schedule.and_then(|s| s.name.clone()))
        .unwrap_or_else(|| "My event".to_string());
    let hashtags = args.hashtag.iter().map(|h| hashtag(h)).collect::<Result<Vec<_>, _>>()?;
    for warning in past(from_schedule, args.date, timezone, today) {
        eprintln!("warning: {warning}");
    }
    let starter = Starter { name, timezone, date: args.date, hashtags, schedule, primaries, amplifiers, today };
    let text = render(&starter);
    if args.stdout {
        print!("{text}");
        return Ok(());
    }
    std::fs::write(target, &text).map_err(|e| CliError::Failed(format!("cannot write {}: {e}", target.display())))?;
    println!("wrote {}", target.display());
    next_steps(&starter, target);
    Ok(())
}

/// What to do next, in order, with the commands to type.
fn next_steps(starter: &Starter, target: &Path) {
    let config =
        if target == Path::new("loudhailer.toml") { String::new() } else { format!(" -c {}", target.display()) };
    println!("Next:");
    for a in starter.accounts() {
        match a.handle {
            Handle::Mastodon { .. } => {
                println!("  loudhailer{config} login mastodon --account {}    # sign in (a browser opens)", a.id)
            }
            Handle::Bluesky { .. } => {
                println!("  export {}=…    # {}'s Bluesky app password", password_env(&a.id), a.id)
            }
        }
    }
    println!("  loudhailer{config} check          # the config, the schedule and the credentials");
    println!("  loudhailer{config} run --dry-run  # every post, at its time, without sending");
}

/// The folder the config is written into (the current one for a bare file name).
fn folder_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The schedule's path as the config names it: relative to the config's folder when it is
/// inside it, else absolute.
fn as_written(path: &Path, config_dir: &Path) -> String {
    let (Ok(file), Ok(dir)) = (std::path::absolute(path), std::path::absolute(config_dir)) else {
        return path.display().to_string();
    };
    let (file, dir) = (normalise(&file), normalise(&dir));
    match file.strip_prefix(&dir) {
        Ok(rel) => rel.display().to_string(),
        Err(_) => file.display().to_string(),
    }
}

/// `a/./b` → `a/b`, `a/x/../b` → `a/b` (lexically).
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn zone(text: &str) -> Result<Tz, CliError> {
    text.trim().parse().map_err(|_| {
        CliError::Usage(format!("unknown time zone {text:?}: expected an IANA name such as Europe/Brussels"))
    })
}

fn hashtag(text: &str) -> Result<String, CliError> {
    let bare = text.trim().trim_start_matches('#');
    if bare.is_empty() || !bare.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(CliError::Usage(format!(
            "--hashtag {text:?}: a hashtag is letters, digits and _, such as '#FOSDEM'"
        )));
    }
    Ok(format!("#{bare}"))
}

/// Reads the schedule as the config will, to learn its name, zone and sessions; a refusal says
/// which `init` flag fixes it.
fn read_schedule(
    path: &Path,
    timezone: Option<String>,
    date: Option<NaiveDate>,
) -> Result<schedule::Schedule, CliError> {
    let options = ImportOptions { file: path.to_path_buf(), timezone, date, ..Default::default() };
    match schedule::import(path, &options, None) {
        Ok(s) => Ok(s),
        Err(ImportError::NoTimezone { path, location }) => Err(CliError::Usage(format!(
            "{}, {location}: the schedule gives local times without a time zone: pass --timezone Area/City (the event's, such as Europe/Brussels)",
            path.display()
        ))),
        Err(ImportError::NoDate { path, location, message }) => Err(CliError::Usage(format!(
            "{}, {location}: {message}: pass --date YYYY-MM-DD (the event's first day)",
            path.display()
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Warnings for an event that is over: a schedule whose sessions all ended, or a past date.
fn past(schedule: Option<&schedule::Schedule>, date: Option<NaiveDate>, tz: Tz, today: NaiveDate) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(last) = schedule.and_then(|s| s.sessions.iter().map(|x| x.end).max()) {
        let last_day = last.with_timezone(&tz).date_naive();
        if last_day < today {
            out.push(format!(
                "every session in the schedule is over (the last on {last_day}): is it an earlier edition's? Use this year's file, or rehearse with `loudhailer run --dry-run`"
            ));
        }
    }
    if let Some(d) = date.filter(|d| *d < today) {
        out.push(format!("--date {d} is in the past: give the coming event's first day"));
    }
    out
}

/// Downloads a schedule into `dir`, named after the address (or what its content looks like).
async fn download(url: &str, dir: &Path, overwrite: bool) -> Result<PathBuf, CliError> {
    let failed = |why: String| CliError::Failed(format!("cannot download the schedule from {url}: {why}"));
    let parsed =
        url::Url::parse(url).map_err(|e| CliError::Usage(format!("--schedule {url:?} is not an address: {e}")))?;
    let client = reqwest::Client::builder()
        .user_agent(concat!("loudhailer/", env!("CARGO_PKG_VERSION")))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let mut response = client.get(parsed.clone()).send().await.map_err(|e| {
        failed(if e.is_connect() || e.is_timeout() {
            "the server cannot be reached; check the address and the network".to_string()
        } else {
            e.to_string()
        })
    })?;
    if !response.status().is_success() {
        return Err(failed(format!("the server answered {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
        if body.len() + chunk.len() > MAX_DOWNLOAD {
            return Err(failed(format!("it is larger than {} MB", MAX_DOWNLOAD / 1024 / 1024)));
        }
        body.extend_from_slice(&chunk);
    }
    let path = dir.join(file_name(&parsed, &body));
    if path.exists() && !overwrite {
        return Err(CliError::Usage(format!(
            "{} exists already: pass --force to download over it, or give the file itself with --schedule",
            path.display()
        )));
    }
    std::fs::write(&path, &body).map_err(|e| failed(format!("cannot write {}: {e}", path.display())))?;
    eprintln!("downloaded {url} into {} ({} bytes)", path.display(), body.len());
    Ok(path)
}

/// The address's last segment when it names a schedule file, else `schedule.EXT` by content.
fn file_name(url: &url::Url, body: &[u8]) -> String {
    const KNOWN: [&str; 5] = ["xml", "json", "ics", "ical", "csv"];
    let last = url.path_segments().and_then(|mut s| s.next_back()).unwrap_or("");
    let safe = !last.is_empty() && last.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if safe && !last.starts_with('.') && last.rsplit_once('.').is_some_and(|(_, ext)| KNOWN.contains(&ext)) {
        return last.to_string();
    }
    let start = String::from_utf8_lossy(&body[..body.len().min(512)]).trim_start().to_string();
    let ext = if start.starts_with('<') {
        "xml"
    } else if start.starts_with('{') || start.starts_with('[') {
        "json"
    } else if start.to_ascii_uppercase().starts_with("BEGIN:VCALENDAR") {
        "ics"
    } else {
        "csv"
    };
    format!("schedule.{ext}")
}

/// At a terminal: the few questions, each checked and asked again until it reads well.
fn ask_all(given: &Args) -> Result<Args, CliError> {
    let mut args = Args { stdout: given.stdout, force: given.force, hashtag: given.hashtag.clone(), ..Args::default() };
    eprintln!("A few questions for the starter config (Enter keeps what is in [brackets]).");
    args.schedule =
        ask("Schedule: a file or an https:// address (Enter: none, for now)", given.schedule.as_deref(), |a| {
            Ok(Some(a.to_string()))
        })?
        .flatten();
    args.name =
        ask("Event name (Enter: the schedule's)", given.name.as_deref(), |a| Ok(Some(a.to_string())))?.flatten();
    args.timezone =
        ask("Time zone, such as Europe/Brussels (Enter: the schedule's, else UTC)", given.timezone.as_deref(), |a| {
            zone(a).map(|_| Some(a.to_string())).map_err(|e| e.to_string())
        })?
        .flatten();
    let date = given.date.map(|d| d.to_string());
    args.date = ask("The event's first day, YYYY-MM-DD (Enter: none)", date.as_deref(), |a| {
        a.parse::<NaiveDate>().map(Some).map_err(|_| format!("{a:?} is not a date such as 2030-05-16"))
    })?
    .flatten();
    let list = |a: &str, check: fn(&str) -> Result<Handle, String>| -> Result<Vec<String>, String> {
        let items: Vec<String> =
            a.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
        items.iter().try_for_each(|i| check(i).map(|_| ()))?;
        Ok(items)
    };
    args.mastodon =
        ask("Your Mastodon account, which posts: @you@server (Enter: none)", None, |a| list(a, Handle::mastodon))?
            .unwrap_or_default();
    args.bluesky =
        ask("Your Bluesky account, which posts: you.bsky.social (Enter: none)", None, |a| list(a, Handle::bluesky))?
            .unwrap_or_default();
    args.amplifier = ask(
        "Accounts that boost your posts: @org@server or org.bsky.social, comma-separated (Enter: none)",
        None,
        |a| list(a, Handle::either),
    )?
    .unwrap_or_default();
    Ok(args)
}

/// Asks one question until `check` accepts the answer; an empty answer keeps `default`
/// (`None` when there is none). End of input stops with an error.
fn ask<T>(
    question: &str,
    default: Option<&str>,
    check: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, CliError> {
    let stdin = std::io::stdin();
    loop {
        match default {
            Some(d) => eprint!("{question} [{d}]: "),
            None => eprint!("{question}: "),
        }
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let read =
            stdin.lock().read_line(&mut line).map_err(|e| CliError::Failed(format!("cannot read the answer: {e}")))?;
        if read == 0 {
            return Err(CliError::Usage("no answer (end of input): run `loudhailer init` again, or give flags".into()));
        }
        let answer = line.trim();
        let answer = if answer.is_empty() { default.unwrap_or("") } else { answer };
        if answer.is_empty() {
            return Ok(None);
        }
        match check(answer) {
            Ok(v) => return Ok(Some(v)),
            Err(why) => eprintln!("  {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloaded_files_are_named_by_address_or_content() {
        let u = |s: &str| url::Url::parse(s).unwrap();
        assert_eq!(file_name(&u("https://fosdem.org/2030/schedule/xml"), b"<?xml"), "schedule.xml");
        assert_eq!(file_name(&u("https://e.example/s/fahrplan.json"), b"{}"), "fahrplan.json");
        assert_eq!(file_name(&u("https://e.example/cal"), b"  BEGIN:VCALENDAR"), "schedule.ics");
        assert_eq!(file_name(&u("https://e.example/api/v2/grid"), b"[{}]"), "schedule.json");
        assert_eq!(file_name(&u("https://e.example/x.exe"), b"id,title"), "schedule.csv");
        assert_eq!(file_name(&u("https://e.example/..%2F..%2Fetc.xml"), b"<x"), "schedule.xml");
    }

    #[test]
    fn the_schedule_path_is_written_relative_to_the_config() {
        assert_eq!(as_written(Path::new("talks.csv"), Path::new(".")), "talks.csv");
        assert_eq!(as_written(Path::new("./event/../event/s.xml"), Path::new("event")), "s.xml");
        assert_eq!(as_written(Path::new("/srv/s.xml"), Path::new("/etc/loudhailer")), "/srv/s.xml");
    }

    #[test]
    fn hashtags_and_zones_are_checked() {
        assert_eq!(hashtag("FOSDEM").unwrap(), "#FOSDEM");
        assert_eq!(hashtag("#rust_2030").unwrap(), "#rust_2030");
        assert!(hashtag("#two words").unwrap_err().to_string().contains("a hashtag is letters"));
        assert!(zone("Europe/Londn").unwrap_err().to_string().contains("expected an IANA name"));
    }

    #[test]
    fn an_event_that_is_over_is_pointed_out() {
        let today = NaiveDate::from_ymd_opt(2030, 6, 1).unwrap();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(past(None, Some(d("2030-06-01")), chrono_tz::UTC, today).is_empty());
        let w = past(None, Some(d("2029-06-01")), chrono_tz::UTC, today);
        assert_eq!(w, ["--date 2029-06-01 is in the past: give the coming event's first day"]);
    }
}

//! `loudhailer import FILE [options] > schedule.toml`: read a published schedule and write
//! the native TOML, so that a person can edit the key points before the day.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use chrono::NaiveDate;

use super::filter::DayFilter;
use super::import::{import, AbstractPoints, Approve, Format, ImportError, ImportOptions, DEFAULT_ABSTRACT_POINTS};
use super::native::to_toml;

/// Options of `loudhailer import`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ImportArgs {
    /// The schedule file: frab/Pentabarf XML, c3voc JSON, iCalendar, Sessionize JSON or CSV;
    /// or the address it is published at (https://, or http:// on this machine).
    pub file: PathBuf,
    /// The file's format.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// The event's time zone (IANA, e.g. Europe/Berlin) when the file declares none.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// The first day (YYYY-MM-DD), for spreadsheets with clock times but no dates: day 1 is
    /// this date, and a weekday name (fri, sat) the first such day on or after it.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<NaiveDate>,
    /// Keep only sessions on this track: whole words, any case (`Rust` finds "Rust devroom").
    #[arg(long)]
    pub track: Option<String>,
    /// Keep only sessions in this room: whole words, any case.
    #[arg(long)]
    pub room: Option<String>,
    /// Keep only sessions on this conference day: YYYY-MM-DD, a weekday (sat) or a number (2).
    #[arg(long)]
    pub day: Option<DayFilter>,
    /// Keep only sessions whose title matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub title: Option<String>,
    /// How many abstract sentences are offered as key points when none are written (default
    /// 3). They are written as `suggested`, not posted, unless --approve auto.
    #[arg(long, value_name = "N")]
    pub points: Option<usize>,
    /// Whether abstract sentences wait for a person's approval (ask, the default: written as
    /// `suggested`) or become key points at once (auto).
    #[arg(long, value_enum, value_name = "WHEN")]
    pub approve: Option<Approve>,
    /// Length of sessions that have neither an end nor a duration (default 30m).
    #[arg(long, value_name = "DURATION")]
    pub default_duration: Option<String>,
    /// Sessionize: the speakers view, for speakers' profile links.
    #[arg(long, value_name = "FILE")]
    pub speakers: Option<PathBuf>,
    /// Sessionize and CSV: keep service sessions and break rows (breaks, lunch, registration).
    #[arg(long)]
    pub service_sessions: bool,
    /// CSV: which header holds a field, e.g. `--column title=Talk` (repeatable).
    #[arg(long = "column", value_name = "FIELD=HEADER")]
    pub columns: Vec<String>,
    /// CSV: the field delimiter (default: guessed from the header).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
    /// CSV: a talks sheet to join to the timetable FILE by a key column (see --on).
    #[arg(long, value_name = "FILE", requires = "on")]
    pub join: Option<PathBuf>,
    /// CSV: the key columns of --join, TIMETABLE_COLUMN=TALKS_COLUMN (or one name for both).
    #[arg(long, value_name = "COLUMN=COLUMN", requires = "join")]
    pub on: Option<String>,
}

impl ImportArgs {
    /// The same choices as a `[schedule]` table would make them.
    pub fn options(&self) -> Result<ImportOptions, ImportError> {
        let mut columns = BTreeMap::new();
        for mapping in &self.columns {
            let (field, header) = mapping.split_once('=').ok_or_else(|| ImportError::BadOption {
                option: "--column",
                value: mapping.clone(),
                reason: "expected FIELD=HEADER, e.g. title=Talk".into(),
            })?;
            columns.insert(field.trim().to_owned(), header.trim().to_owned());
        }
        Ok(ImportOptions {
            file: self.file.clone(),
            format: self.format,
            timezone: self.tz.clone(),
            date: self.date,
            track: self.track.clone(),
            room: self.room.clone(),
            day: self.day,
            title: self.title.clone(),
            points_from_abstract: match (self.points, self.approve) {
                (None, None) => None,
                (count, approve) => Some(AbstractPoints {
                    count: count.unwrap_or(DEFAULT_ABSTRACT_POINTS),
                    approve: approve.unwrap_or_default(),
                }),
            },
            default_duration: self.default_duration.clone(),
            speakers_file: self.speakers.clone(),
            service_sessions: self.service_sessions,
            columns,
            csv_delimiter: self.delimiter,
            join: self.join.clone(),
            join_on: self.on.clone(),
            ..ImportOptions::default()
        })
    }
}

/// Runs `loudhailer import`: warnings go to the log, the TOML to `out`.
pub fn run_import(args: &ImportArgs, out: &mut impl Write) -> Result<(), ImportError> {
    let options = args.options()?;
    let schedule = import(&args.file, &options, None)?;
    write_schedule(args, schedule, out)
}

/// Whether `loudhailer import` was given an address rather than a file.
pub fn is_address(args: &ImportArgs) -> bool {
    let text = args.file.to_string_lossy();
    text.starts_with("https://") || text.starts_with("http://")
}

/// `loudhailer import URL`: the document fetched from the address (`bytes`), read as a file
/// named like the address's last part (a hint for its format).
pub fn run_import_fetched(args: &ImportArgs, bytes: &[u8], out: &mut impl Write) -> Result<(), ImportError> {
    let options = args.options()?;
    let address = args.file.to_string_lossy();
    let name = address.split(['?', '#']).next().unwrap_or("").rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    let hint = PathBuf::from(name);
    let read =
        |p: &std::path::Path| std::fs::read(p).map_err(|source| ImportError::Read { path: p.to_owned(), source });
    let speakers = options.speakers_file.as_ref().map(|p| read(p).map(|b| (p.clone(), b))).transpose()?;
    let join = options.join.as_ref().map(|p| read(p).map(|b| (p.clone(), b))).transpose()?;
    let input = super::Input {
        path: &hint,
        bytes,
        speakers: speakers.as_ref().map(|(p, b)| (p.as_path(), b.as_slice())),
        join: join.as_ref().map(|(p, b)| (p.as_path(), b.as_slice())),
    };
    let schedule = super::import_bytes(&input, &options, None)?;
    write_schedule(args, schedule, out)
}

fn write_schedule(args: &ImportArgs, schedule: super::Schedule, out: &mut impl Write) -> Result<(), ImportError> {
    for warning in &schedule.warnings {
        tracing::warn!(file = %args.file.display(), "{warning}");
    }
    let tz = schedule.timezone.unwrap_or_else(|| {
        tracing::warn!(
            file = %args.file.display(),
            "the schedule names no time zone; times are written in UTC (pass --tz to choose)"
        );
        chrono_tz::UTC
    });
    if schedule.sessions.is_empty() {
        tracing::warn!(file = %args.file.display(), "no sessions left to write (check the filters)");
    }
    out.write_all(to_toml(&schedule, tz).as_bytes()).map_err(|source| ImportError::Write { source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ImportArgs,
    }

    #[test]
    fn arguments_become_options() {
        let cli = Cli::try_parse_from([
            "import",
            "talks.csv",
            "--format",
            "csv",
            "--tz",
            "Europe/Berlin",
            "--day",
            "2024-02-03",
            "--column",
            "title=Talk",
            "--column",
            "start = Begin",
            "--points",
            "2",
            "--delimiter",
            ";",
        ])
        .unwrap();
        let o = cli.args.options().unwrap();
        assert_eq!(o.format, Format::Csv);
        assert_eq!(o.timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(o.day, NaiveDate::from_ymd_opt(2024, 2, 3).map(DayFilter::Date));
        assert_eq!(o.columns.get("start").map(String::as_str), Some("Begin"));
        assert_eq!(o.points_from_abstract, Some(AbstractPoints::suggest(2)));
        let auto = Cli::try_parse_from(["import", "x", "--approve", "auto"]).unwrap().args.options().unwrap();
        assert_eq!(auto.points_from_abstract, Some(AbstractPoints { count: 3, approve: Approve::Auto }));
        assert_eq!(o.csv_delimiter, Some(';'));
        let bad = Cli::try_parse_from(["import", "x", "--column", "title"]).unwrap();
        assert!(bad.args.options().is_err());
    }
}

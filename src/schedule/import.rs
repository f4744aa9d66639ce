//! Reading published schedule files: format detection, options and filters.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use super::Schedule;

/// The formats loudhailer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Detect from the content (and the file name as a hint).
    #[default]
    Auto,
    /// frab / Pentabarf / pretalx schedule XML.
    Frab,
    /// c3voc schedule JSON, v1 and the v2 "hub" shape.
    C3voc,
    /// iCalendar (.ics).
    Ical,
    /// Sessionize JSON (GridSmart or sessions view), with an optional speakers file.
    Sessionize,
    /// CSV with a header row.
    Csv,
}

/// The `[schedule]` table of the config, and the options of `loudhailer import`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    /// The schedule file (relative paths are resolved against the config file's folder).
    pub file: PathBuf,
    #[serde(default)]
    pub format: Format,
    /// The event's zone when the file declares none (or to override a wrong declaration).
    #[serde(default)]
    pub timezone: Option<String>,
    /// Keep only sessions on this track (case-insensitive).
    #[serde(default)]
    pub track: Option<String>,
    /// Keep only sessions in this room (case-insensitive).
    #[serde(default)]
    pub room: Option<String>,
    /// Keep only sessions on this conference day.
    #[serde(default)]
    pub day: Option<NaiveDate>,
    /// Keep only sessions whose title matches this regular expression.
    #[serde(default)]
    pub title: Option<String>,
    /// How many sentences of the abstract become key points when none are written (0: none).
    #[serde(default)]
    pub points_from_abstract: Option<usize>,
    /// Used when a session has neither an end nor a duration, e.g. "30m".
    #[serde(default)]
    pub default_duration: Option<String>,
    /// Sessionize only: the speakers view, for profile links.
    #[serde(default)]
    pub speakers_file: Option<PathBuf>,
}

/// Why a schedule file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: schedule import is not available yet")]
    Unsupported { path: PathBuf },
}

/// Reads a schedule file into sessions.
pub fn import(
    path: &Path,
    _options: &ImportOptions,
    _default_tz: Option<Tz>,
) -> Result<Schedule, ImportError> {
    Err(ImportError::Unsupported {
        path: path.to_owned(),
    })
}

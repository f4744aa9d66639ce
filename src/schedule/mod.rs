//! The session model every schedule source produces, and the importers for published formats.
//!
//! A [`Schedule`] is what loudhailer posts from: sessions with absolute start and end instants,
//! speakers (with their profiles on each network, when known) and key points. The native TOML
//! config (see `config`) and the importers for the formats conferences publish all produce it.
//!
//! # Layout
//! - `import`: options, errors, format detection; [`import()`] and [`import_bytes`].
//! - `frab` (with `xml`), `c3voc`, `ical`, `sessionize`, `csv` (with `json` helpers): one
//!   reader per format, each producing `draft::Parsed` as the file states it; `csv/` has
//!   `sheet` (cells, rows, joining a talks sheet) and `days` (weekday names, day numbers).
//! - `resolve`: zones, instants, default lengths, unique ids, key points (one place for all).
//! - `filter`: track, room, day and title filters (whole words; refusing to match nothing).
//! - `text`: HTML/Markdown/wiki markup to plain text; abstract sentences to key points.
//! - `social`: profile links to Mastodon, Bluesky and X mentions.
//! - `time`: durations, clock times, zones and the DST rule.
//! - `native`: [`to_toml`], the native TOML a person edits; `cli`: `loudhailer import`.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::job::Image;

mod c3voc;
pub mod cli;
mod csv;
pub mod draft;
pub mod filter;
mod frab;
mod ical;
pub mod import;
mod json;
mod kept;
pub mod native;
mod resolve;
mod sessionize;
pub mod social;
pub mod text;
pub mod time;
mod xml;

pub use cli::{is_address, run_import, run_import_fetched, ImportArgs};
pub use draft::Location;
pub use filter::{DayFilter, NoMatch};
pub use import::{import, import_bytes, AbstractPoints, Approve, Format, ImportError, ImportOptions, Input};
pub use kept::EncodedSessions;
pub use native::to_toml;

/// A conference programme, already resolved to absolute times.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    /// The event's name as the source gives it, when it gives one.
    pub name: Option<String>,
    /// The event's time zone: as the source declares it, else as the options or the caller
    /// gave it (the zone local times were read in).
    pub timezone: Option<Tz>,
    pub sessions: Vec<Session>,
    /// Things the reader noticed and the user should know (a missing end time filled in, …).
    pub warnings: Vec<String>,
}

/// One session (talk, workshop, break) of the programme.
///
/// Its serde form is what a running daemon keeps ([`EncodedSessions`], postcard): every field
/// is written, so neither it nor `Speaker`, `Point` or `Image` may skip one
/// (`skip_serializing_if`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Stable key: stays the same when the title is reworded, so planned jobs keep their ids.
    pub id: String,
    pub title: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub speakers: Vec<Speaker>,
    /// Key points, posted through the session as replies under the title.
    pub points: Vec<Point>,
    /// Sentences taken from the abstract, offered as key points: an abstract is not what the
    /// speaker will say, so none is posted until a person approves it (`loudhailer approve`,
    /// the desk), or `points_from_abstract = { approve = "auto" }` makes them points.
    #[serde(default)]
    pub suggested: Vec<String>,
    pub room: Option<String>,
    pub track: Option<String>,
    /// The conference day the source files the session under (a talk at 01:00 after day 1's
    /// party belongs to day 1 here, while its start instant is on the next calendar date).
    pub day: Option<NaiveDate>,
    /// Plain-text abstract, when the source has one.
    pub abstract_text: Option<String>,
    pub url: Option<String>,
    /// Language tag (ISO 639-1 or BCP 47) when the source gives one.
    pub language: Option<String>,
    /// Hashtags for this session's posts, besides the event's (with their `#`).
    #[serde(default)]
    pub hashtags: Vec<String>,
    /// Images attached to the title post (the config's `images`; importers give none).
    #[serde(default)]
    pub images: Vec<Image>,
}

/// A person on the programme, with the accounts a post can mention.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Speaker {
    pub name: String,
    /// `@user@server`.
    #[serde(default)]
    pub mastodon: Option<String>,
    /// A handle such as `alice.bsky.social` (no leading `@`).
    #[serde(default)]
    pub bluesky: Option<String>,
    /// An X username without the `@`.
    #[serde(default)]
    pub x: Option<String>,
    /// A LinkedIn member or organisation URN (`urn:li:person:…`, `urn:li:organization:…`):
    /// LinkedIn's mentions name the URN, not a handle.
    #[serde(default)]
    pub linkedin: Option<String>,
    /// A Threads username without the `@`.
    #[serde(default)]
    pub threads: Option<String>,
}

/// A key point of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub text: String,
    /// When the point should go out; `None` spreads it evenly through the session.
    pub at: Option<DateTime<Utc>>,
    /// Images attached to the point's post.
    #[serde(default)]
    pub images: Vec<Image>,
}

impl Point {
    /// A point of text only, at its planned place.
    pub fn text(text: impl Into<String>) -> Point {
        Point { text: text.into(), at: None, images: Vec::new() }
    }
}

impl Session {
    /// The local calendar date of the start in `tz`.
    pub fn local_date(&self, tz: Tz) -> NaiveDate {
        self.start.with_timezone(&tz).date_naive()
    }
}

/// Lower-case ASCII slug of a title, for session keys and job ids: `Equalities Law` → `equalities-law`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in deunicode::deunicode(text).chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
        if out.len() >= 40 {
            break;
        }
    }
    if out.is_empty() {
        out.push_str("session");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for (input, want) in [
            ("Equalities Law", "equalities-law"),
            ("  Case study: good practice!  ", "case-study-good-practice"),
            ("Über — Ünïcode", "uber-unicode"),
            ("", "session"),
            ("A/B", "a-b"),
        ] {
            assert_eq!(slug(input), want, "{input}");
        }
    }
}

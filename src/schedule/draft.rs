//! What each format parser hands back: sessions as the file states them, before zones,
//! default durations, ids and key points are settled in one place (`resolve`).

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime};
use chrono_tz::Tz;

use super::Speaker;

/// Where in a file something is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and column (XML, JSON).
    LineColumn { line: usize, column: usize },
    /// 1-based line (iCalendar content lines, which may be folded over several).
    Line(usize),
    /// 1-based spreadsheet row (the header is row 1) and the line it starts on (CSV).
    Row { row: usize, line: usize },
    /// The file as a whole.
    File,
}

impl Location {
    /// The line and column of byte `offset` in `text` (columns count characters).
    pub fn at_offset(text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
        Location::LineColumn { line, column }
    }
}

/// Line starts of a text, for turning many byte offsets into locations cheaply.
#[derive(Debug, Clone)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
    /// Where the last [`LineIndex::find`] matched, to search on from there.
    cursor: usize,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { text, starts, cursor: 0 }
    }

    /// The line and column of byte `offset`.
    pub fn at(&self, offset: usize) -> Location {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let mut end = offset.min(self.text.len()).max(start);
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let column = self.text.get(start..end).map_or(0, |t| t.chars().count()) + 1;
        Location::LineColumn { line, column }
    }

    /// Where `needle` next occurs after the previous match (else anywhere), for problems found
    /// after parsing when the parser kept no positions (JSON read through serde).
    pub fn find(&mut self, needle: &str) -> Location {
        let after = self.text.get(self.cursor..).and_then(|t| t.find(needle)).map(|i| i + self.cursor);
        match after.or_else(|| self.text.find(needle)) {
            Some(offset) => {
                self.cursor = offset + needle.len();
                self.at(offset)
            }
            None => Location::File,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::LineColumn { line, column } => write!(f, "line {line}, column {column}"),
            Location::Line(line) => write!(f, "line {line}"),
            Location::Row { row, line } => write!(f, "row {row} (line {line})"),
            Location::File => write!(f, "whole file"),
        }
    }
}

/// A file that cannot be read as the format it claims to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub location: Location,
    /// What was found and what was expected.
    pub message: String,
    /// Set when the problem is in a companion file (the Sessionize speakers view, a joined
    /// talks sheet).
    pub file: Option<PathBuf>,
    /// Whether the file is wrong, or only lacks what the user can give (the first day).
    pub kind: ErrorKind,
}

/// What a [`ParseError`] asks of the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorKind {
    /// The file is not what its format says.
    #[default]
    Malformed,
    /// Clock times without dates: the event's first day is needed (`--date`).
    NoDate,
}

impl ParseError {
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        ParseError { location, message: message.into(), file: None, kind: ErrorKind::Malformed }
    }

    /// Times that need the event's first day to be placed.
    pub fn no_date(location: Location, message: impl Into<String>) -> Self {
        ParseError { kind: ErrorKind::NoDate, ..ParseError::new(location, message) }
    }
}

/// A time as the file writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// With an explicit offset: the offset wins over any zone.
    Offset(DateTime<FixedOffset>),
    /// A local time in the event's zone (declared by the file, else given by the user).
    Local(NaiveDateTime),
    /// A local time in a zone named on the time itself (iCalendar `TZID`).
    Zoned(NaiveDateTime, Tz),
}

/// One session as the file states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Where the session is written, for messages.
    pub location: Location,
    /// The source's own key (event code, guid, UID, ID column), not yet made into an id.
    pub source_id: Option<String>,
    pub title: String,
    pub start: When,
    pub end: Option<When>,
    pub duration: Option<Duration>,
    /// The conference day the source files the session under.
    pub day: Option<NaiveDate>,
    pub speakers: Vec<Speaker>,
    /// Key points the source wrote itself (CSV `Points` column).
    pub points: Vec<String>,
    pub room: Option<String>,
    pub track: Option<String>,
    /// Plain text.
    pub abstract_text: Option<String>,
    pub url: Option<String>,
    pub language: Option<String>,
}

impl Draft {
    pub fn new(location: Location, title: String, start: When) -> Self {
        Draft {
            location,
            source_id: None,
            title,
            start,
            end: None,
            duration: None,
            day: None,
            speakers: Vec::new(),
            points: Vec::new(),
            room: None,
            track: None,
            abstract_text: None,
            url: None,
            language: None,
        }
    }
}

/// Everything a parser read from a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub name: Option<String>,
    /// The zone the file declares for its local times.
    pub zone: Option<Tz>,
    pub drafts: Vec<Draft>,
    pub warnings: Vec<String>,
}

/// A speaker known only by name.
pub fn speaker(name: &str) -> Speaker {
    Speaker { name: name.to_owned(), ..Speaker::default() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_to_lines() {
        let text = "ab\ncdé\nf";
        for (offset, line, column) in [(0, 1, 1), (2, 1, 3), (3, 2, 1), (6, 2, 3), (7, 2, 4), (99, 3, 2)] {
            assert_eq!(Location::at_offset(text, offset), Location::LineColumn { line, column }, "{offset}");
        }
        let index = LineIndex::new(text);
        for offset in [0, 2, 3, 6, 7, 99] {
            assert_eq!(index.at(offset), Location::at_offset(text, offset), "{offset}");
        }
        let mut index = LineIndex::new("a x\nb x\n");
        assert_eq!(index.find("x"), Location::LineColumn { line: 1, column: 3 });
        assert_eq!(index.find("x"), Location::LineColumn { line: 2, column: 3 });
        assert_eq!(index.find("a"), Location::LineColumn { line: 1, column: 1 });
        assert_eq!(index.find("zz"), Location::File);
        assert_eq!(Location::Row { row: 3, line: 7 }.to_string(), "row 3 (line 7)");
    }
}

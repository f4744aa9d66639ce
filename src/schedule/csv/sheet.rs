//! One spreadsheet saved as CSV: its header and rows, each row with its place in the file; and
//! a talks sheet joined to a timetable by a key column.
//!
//! Spreadsheets export a rectangle: cells past the last named column come out empty, and so
//! may header cells. Extra cells are accepted while they are empty; a row with more (or fewer)
//! cells holding text than the header is refused with its row, as a shifted column would
//! otherwise put titles in the room field.

use std::collections::HashMap;
use std::path::Path;

use super::super::draft::{LineIndex, Location, ParseError};

/// A sheet read whole: header cells as written (trimmed) and rows of the same width.
#[derive(Debug, Clone, Default)]
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub cells: Vec<String>,
    pub location: Location,
}

impl Sheet {
    /// The header cells for messages; empty ones shown as `(empty)`.
    pub fn header_list(&self) -> String {
        let names: Vec<&str> = self.headers.iter().map(|h| if h.is_empty() { "(empty)" } else { h.as_str() }).collect();
        names.join(", ")
    }

    /// The index of the column whose header is `name` (compared as [`normal`] names).
    pub fn column(&self, name: &str) -> Option<usize> {
        let wanted = normal(name);
        self.headers.iter().position(|h| normal(h) == wanted)
    }
}

/// A header as compared with the names loudhailer knows: lower case, single spaces, and a
/// trailing unit in brackets dropped ("Length (min)" is "length").
pub fn normal(header: &str) -> String {
    let mut text = header.trim().to_lowercase();
    for (open, close) in [('(', ')'), ('[', ']')] {
        if text.ends_with(close) {
            if let Some(start) = text.rfind(open).filter(|&i| i > 0) {
                text.truncate(start);
            }
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads a sheet with a header row.
pub fn read(source: &str, delimiter: u8) -> Result<Sheet, ParseError> {
    let mut reader = ::csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(source.as_bytes());
    let lines = Lines { index: LineIndex::new(source), bytes: source.as_bytes() };
    let csv_error = |e: ::csv::Error| csv_error(e, &lines);
    let header = reader.headers().map_err(csv_error)?.clone();
    let headers: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
    let width = headers.len();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let location = record.position().map_or(Location::File, |p| row_of(p, &lines));
        let mut cells: Vec<String> = record.iter().map(str::to_owned).collect();
        let filled = cells.iter().rposition(|c| !c.trim().is_empty()).map_or(0, |i| i + 1);
        if filled > width || (cells.len() < width && filled > 0) {
            return Err(ParseError::new(
                location,
                format!("expected {width} fields like the header, found {}", cells.len()),
            ));
        }
        cells.resize(width, String::new());
        rows.push(Row { cells, location });
    }
    Ok(Sheet { headers, rows })
}

/// The talks sheet of a programme kept as two sheets, and the key columns that join them.
#[derive(Debug, Clone, Copy)]
pub struct Join<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    /// The timetable's key column.
    pub left: &'a str,
    /// The talks sheet's key column.
    pub right: &'a str,
}

/// Joins a talks sheet onto a timetable: each timetable row gets the cells of the talk its
/// key names, after its own (so a field both sheets have is read from the timetable first,
/// and from the talk when the timetable's cell is empty). A timetable row with an empty key
/// stands alone (a break, a plenary written in the timetable). A row whose key is not in the
/// talks sheet is skipped with a warning, as are talks that no row schedules (only counted).
pub fn join(timetable: Sheet, join: &Join<'_>, delimiter: u8, warnings: &mut Vec<String>) -> Result<Sheet, ParseError> {
    let in_talks = |mut e: ParseError| {
        e.file = Some(join.path.to_owned());
        e
    };
    let talks = read(join.text, delimiter).map_err(in_talks)?;
    let header_at = Location::Row { row: 1, line: 1 };
    let left = timetable.column(join.left).ok_or_else(|| {
        ParseError::new(
            header_at,
            format!("no column named {:?} to join on; the header has: {}", join.left, timetable.header_list()),
        )
    })?;
    let right = talks.column(join.right).ok_or_else(|| {
        in_talks(ParseError::new(
            header_at,
            format!("no column named {:?} to join on; the header has: {}", join.right, talks.header_list()),
        ))
    })?;
    let key = |cells: &[String], i: usize| cells.get(i).map(|c| c.trim().to_lowercase()).unwrap_or_default();
    let mut by_key: HashMap<String, usize> = HashMap::new();
    for (i, talk) in talks.rows.iter().enumerate() {
        let k = key(&talk.cells, right);
        if k.is_empty() {
            continue;
        }
        if let Some(first) = by_key.insert(k, i) {
            let first = talks.rows.get(first).map_or(Location::File, |r| r.location);
            return Err(in_talks(ParseError::new(
                talk.location,
                format!("the key {:?} is also used at {first}; each talk needs its own key", talk.cells[right].trim()),
            )));
        }
    }
    let width = talks.headers.len();
    let mut used = vec![false; talks.rows.len()];
    let mut missing: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(timetable.rows.len());
    for mut row in timetable.rows {
        let k = key(&row.cells, left);
        if k.is_empty() {
            row.cells.resize(row.cells.len() + width, String::new());
        } else if let Some(&i) = by_key.get(&k) {
            used[i] = true;
            row.cells.extend(talks.rows[i].cells.iter().cloned());
        } else {
            missing.push(format!("{}, {:?}", row.location, row.cells[left].trim()));
            continue;
        }
        rows.push(row);
    }
    let name = join.path.file_name().map_or_else(|| join.path.display().to_string(), |n| n.to_string_lossy().into());
    if let Some(first) = missing.first() {
        warnings.push(format!(
            "{} timetable rows name a key that is not in {name} and were skipped (first: {first})",
            missing.len()
        ));
    }
    let unplaced: Vec<&Row> = talks
        .rows
        .iter()
        .zip(&used)
        .filter(|(r, u)| !**u && !key(&r.cells, right).is_empty())
        .map(|(r, _)| r)
        .collect();
    if let Some(first) = unplaced.first() {
        warnings.push(format!(
            "{} talks in {name} are in no timetable row (first: {}, {:?})",
            unplaced.len(),
            first.location,
            first.cells[right].trim()
        ));
    }
    let mut headers = timetable.headers;
    headers.extend(talks.headers);
    Ok(Sheet { headers, rows })
}

/// The source's lines, to name the line a record starts on.
struct Lines<'a> {
    index: LineIndex<'a>,
    bytes: &'a [u8],
}

/// The spreadsheet row (the header is row 1) of a record, and the line it starts on. After a
/// CRLF the csv crate places the next record at the LF, so its line (and its own line count)
/// is one short: the line ends at that offset are skipped first.
fn row_of(p: &::csv::Position, lines: &Lines<'_>) -> Location {
    let mut byte = usize::try_from(p.byte()).unwrap_or(usize::MAX);
    while matches!(lines.bytes.get(byte), Some(b'\r' | b'\n')) {
        byte += 1;
    }
    let line = match lines.index.at(byte) {
        Location::LineColumn { line, .. } => line,
        _ => usize::try_from(p.line()).unwrap_or(usize::MAX),
    };
    Location::Row { row: usize::try_from(p.record()).unwrap_or(usize::MAX).saturating_add(1), line }
}

fn csv_error(e: ::csv::Error, lines: &Lines<'_>) -> ParseError {
    let location = e.position().map_or(Location::File, |p| row_of(p, lines));
    let message = match e.kind() {
        ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("expected {expected_len} fields like the header, found {len}")
        }
        _ => e.to_string(),
    };
    ParseError::new(location, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names() {
        assert_eq!(normal("  Length (min) "), "length");
        assert_eq!(normal("Start   Time"), "start time");
        assert_eq!(normal("(min)"), "(min)");
        assert_eq!(normal("Dauer [Minuten]"), "dauer");
    }

    #[test]
    fn empty_extra_cells_are_fine_text_past_the_header_is_not() {
        let sheet = read("Day,Time,Title,,\nfri,9:20,Hello,,\nsat,10:00,Again,,,\n", b',').unwrap();
        assert_eq!(sheet.header_list(), "Day, Time, Title, (empty), (empty)");
        assert_eq!(sheet.rows.len(), 2);
        assert!(sheet.rows.iter().all(|r| r.cells.len() == 5));
        let e = read("A,B\n1,2\n1,2,3\n", b',').unwrap_err();
        assert_eq!(e.location, Location::Row { row: 3, line: 3 });
        assert!(e.message.contains("expected 2 fields"), "{}", e.message);
        assert!(read("A,B,C\n1,2\n", b',').is_err(), "a short row is refused");
    }

    #[test]
    fn joining_two_sheets() {
        let timetable = read("Day,Time,Talk\nfri,9:00,T1\nfri,10:00,\nfri,11:00,T9\nsat,9:00,t1\n", b',').unwrap();
        let talks = "ID,Title,Speaker\nT1,Hello,Ada\nT2,Never placed,Bo\n";
        let j = Join { path: Path::new("talks.csv"), text: talks, left: "talk", right: "id" };
        let mut warnings = Vec::new();
        let sheet = join(timetable, &j, b',', &mut warnings).unwrap();
        assert_eq!(sheet.headers, ["Day", "Time", "Talk", "ID", "Title", "Speaker"]);
        let cells: Vec<Vec<&str>> = sheet.rows.iter().map(|r| r.cells.iter().map(String::as_str).collect()).collect();
        assert_eq!(
            cells,
            [
                vec!["fri", "9:00", "T1", "T1", "Hello", "Ada"],
                vec!["fri", "10:00", "", "", "", ""],
                vec!["sat", "9:00", "t1", "T1", "Hello", "Ada"],
            ]
        );
        assert_eq!(
            warnings,
            [
                "1 timetable rows name a key that is not in talks.csv and were skipped (first: row 4 (line 4), \"T9\")",
                "1 talks in talks.csv are in no timetable row (first: row 3 (line 3), \"T2\")",
            ]
        );
        let duplicate = Join { text: "ID,Title\nT1,A\nT1,B\n", ..j };
        let timetable = read("Day,Time,Talk\nfri,9:00,T1\n", b',').unwrap();
        let e = join(timetable.clone(), &duplicate, b',', &mut warnings).unwrap_err();
        assert_eq!(e.location, Location::Row { row: 3, line: 3 });
        assert_eq!(e.file.as_deref(), Some(Path::new("talks.csv")));
        let wrong = Join { right: "code", ..j };
        let e = join(timetable, &wrong, b',', &mut warnings).unwrap_err();
        assert!(e.message.contains("no column named \"code\""), "{}", e.message);
    }
}

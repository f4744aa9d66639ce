//! iCalendar (RFC 5545) feeds: one session per `VEVENT`.
//!
//! A small content-line reader of our own rather than the `ical` crate: that crate trims the
//! trailing space of every physical line before unfolding (so "Exhibition \r\n Centre" becomes
//! "ExhibitionCentre"), silently stops at the first non-UTF-8 line (a half import), and does
//! not unescape `\,` `\n`; `icalendar` reports lines of the unfolded text, not of the file.
//! Here every content line keeps the number of the physical line it starts on.
//!
//! Published files set a few more traps, all read here: lines folded in the middle of a UTF-8
//! character (RFC 5545 folds by octets, so unfolding is done on bytes and each unfolded line
//! is decoded on its own), stray `CR CR LF` line ends, vCard-2.1-style parameters
//! (`SUMMARY;CHARSET=UTF-8;ENCODING=8BIT:`, bare `;8BIT`) and a `DTSTAMP` with a `TZID`.
//! Quoted-printable text (vCalendar 1.0) is refused by name rather than posted encoded.
//!
//! Times: `…Z` is UTC; `TZID=Area/City` is local time in that zone (no `VTIMEZONE` needed;
//! Outlook/Mozilla-style prefixed ids such as `/mozilla.org/…/Europe/Berlin` are reduced to
//! the IANA name); a floating time uses `X-WR-TIMEZONE`, else the user's zone. All-day
//! (`VALUE=DATE`) entries are not sessions and are skipped with a warning; a repeating entry
//! (`RRULE`, `RDATE`) is imported at its first occurrence, with a warning.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;

use super::draft::{speaker, Draft, Location, ParseError, Parsed, When};
use super::text;
use super::time;

/// One unfolded content line: `NAME;PARAM=a,b:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ContentLine {
    name: String,
    params: Vec<(String, Vec<String>)>,
    value: String,
    line: usize,
}

impl ContentLine {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).and_then(|(_, v)| v.first()).map(String::as_str)
    }

    /// `ENCODING=QUOTED-PRINTABLE`, or vCard 2.1's bare `;QUOTED-PRINTABLE`.
    fn encoded_as(&self, encoding: &str) -> bool {
        self.param("ENCODING").is_some_and(|e| e.eq_ignore_ascii_case(encoding))
            || self.params.iter().any(|(k, v)| v.is_empty() && k == encoding)
    }
}

/// Reads an iCalendar file.
pub fn parse(source: &[u8]) -> Result<Parsed, ParseError> {
    let lines = content_lines(source)?;
    let mut parsed = Parsed::default();
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut event: Vec<ContentLine> = Vec::new();
    let mut events: Vec<(usize, Vec<ContentLine>)> = Vec::new();
    let mut all_day = 0;
    let mut unknown_zones: Vec<String> = Vec::new();
    if !lines.first().is_some_and(|l| l.name == "BEGIN" && l.value.eq_ignore_ascii_case("VCALENDAR")) {
        let at = lines.first().map_or(1, |l| l.line);
        return Err(ParseError::new(Location::Line(at), "expected BEGIN:VCALENDAR"));
    }
    for line in lines {
        let here = Location::Line(line.line);
        match line.name.as_str() {
            "BEGIN" => {
                if stack.len() >= 16 {
                    return Err(ParseError::new(here, "components nested too deeply"));
                }
                stack.push((line.value.to_ascii_uppercase(), line.line));
            }
            "END" => {
                let closing = line.value.to_ascii_uppercase();
                match stack.pop() {
                    Some((open, at)) if open == closing => {
                        if open == "VEVENT" && stack.len() == 1 {
                            events.push((at, std::mem::take(&mut event)));
                        }
                    }
                    Some((open, at)) => {
                        return Err(ParseError::new(here, format!("END:{closing} closes BEGIN:{open} (line {at})")))
                    }
                    None => return Err(ParseError::new(here, format!("END:{closing} without BEGIN"))),
                }
            }
            _ => match stack.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().as_slice() {
                ["VCALENDAR"] => match line.name.as_str() {
                    "X-WR-CALNAME" | "NAME" => parsed.name = text::non_empty_line(Some(&unescape(&line.value))),
                    "X-WR-TIMEZONE" => parsed.zone = zone(&line.value),
                    _ => {}
                },
                ["VCALENDAR", "VEVENT"] => event.push(line),
                _ => {}
            },
        }
    }
    if let Some((open, at)) = stack.last() {
        return Err(ParseError::new(
            Location::Line(source.strip_suffix(b"\n").unwrap_or(source).split(|&b| b == b'\n').count()),
            format!("the file ends inside BEGIN:{open} (line {at})"),
        ));
    }
    let mut repeating = Vec::new();
    for (at, props) in events {
        if props.iter().any(|p| p.name == "RRULE" || p.name == "RDATE") {
            repeating.push(at);
        }
        match draft(at, &props, &mut unknown_zones)? {
            Some(draft) => parsed.drafts.push(draft),
            None => all_day += 1,
        }
    }
    if all_day > 0 {
        parsed.warnings.push(format!("{all_day} all-day entries (VALUE=DATE) are not sessions and were skipped"));
    }
    if let Some(first) = repeating.first() {
        let n = repeating.len();
        let (what, does) = if n == 1 { ("entry", "repeats") } else { ("entries", "repeat") };
        parsed.warnings.push(format!(
            "{n} {what} {does} (RRULE or RDATE, the first at line {first}); only the first occurrence \
             was imported"
        ));
    }
    if let Some(first) = unknown_zones.first() {
        parsed.warnings.push(format!(
            "{} times name a TZID that is not an IANA zone ({first}); they were read in the \
             calendar's zone",
            unknown_zones.len()
        ));
    }
    Ok(parsed)
}

fn draft(at: usize, props: &[ContentLine], unknown_zones: &mut Vec<String>) -> Result<Option<Draft>, ParseError> {
    let location = Location::Line(at);
    let get = |name: &str| props.iter().find(|p| p.name == name);
    let title = get("SUMMARY")
        .map(|p| text::line(&unescape(&p.value)))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ParseError::new(location, "VEVENT has no SUMMARY"))?;
    let start_line = get("DTSTART").ok_or_else(|| ParseError::new(location, "VEVENT has no DTSTART"))?;
    let Some(start) = when(start_line, unknown_zones)? else {
        return Ok(None);
    };
    let mut draft = Draft::new(location, title, start);
    if let Some(end) = get("DTEND") {
        draft.end = when(end, unknown_zones)?;
    } else if let Some(duration) = get("DURATION") {
        draft.duration = Some(time::parse_duration(&duration.value).ok_or_else(|| {
            ParseError::new(
                Location::Line(duration.line),
                format!("DURATION {:?} is not an ISO 8601 duration such as PT45M", duration.value),
            )
        })?);
    }
    draft.source_id = get("UID").map(|p| {
        let uid = p.value.trim();
        match uid.split_once('@') {
            Some((local, _)) if !local.is_empty() => local.to_owned(),
            _ => uid.to_owned(),
        }
    });
    draft.room = get("LOCATION").and_then(|p| text::non_empty_line(Some(&unescape(&p.value))));
    draft.track = get("CATEGORIES").and_then(|p| {
        let categories = unescape_list(&p.value);
        text::non_empty_line(categories.first().map(String::as_str))
    });
    draft.url = get("URL").map(|p| p.value.trim().to_owned()).filter(|u| !u.is_empty());
    if let Some(description) = get("DESCRIPTION") {
        let description = unescape(&description.value);
        let (speakers, rest) = speakers_line(&description);
        draft.speakers = speakers.iter().map(|n| speaker(n)).collect();
        draft.abstract_text = text::non_empty(Some(rest));
    }
    Ok(Some(draft))
}

/// "Speaker: Ada Lovelace\n…" or "Speakers: Ada, Bo\n…" on the first line of a description.
fn speakers_line(description: &str) -> (Vec<String>, &str) {
    let (first, rest) = description.split_once('\n').unwrap_or((description, ""));
    let lower = first.to_lowercase();
    for (label, plural) in [("speakers:", true), ("speaker:", false), ("presenters:", true), ("presenter:", false)] {
        if lower.starts_with(label) {
            let names = first.get(label.len()..).unwrap_or("").trim();
            let names: Vec<String> = if plural {
                names
                    .split([',', ';', '&'])
                    .flat_map(|n| n.split(" and "))
                    .map(text::line)
                    .filter(|n| !n.is_empty())
                    .collect()
            } else {
                Some(text::line(names)).into_iter().filter(|n| !n.is_empty()).collect()
            };
            return (names, rest);
        }
    }
    (Vec::new(), description)
}

/// A DTSTART/DTEND value; `None` for an all-day date.
fn when(line: &ContentLine, unknown_zones: &mut Vec<String>) -> Result<Option<When>, ParseError> {
    let value = line.value.trim();
    let bad = || {
        ParseError::new(
            Location::Line(line.line),
            format!("{} {value:?} is not an iCalendar date-time such as 20200114T070000", line.name),
        )
    };
    if line.param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE")) || value.len() == 8 {
        NaiveDate::parse_from_str(value, "%Y%m%d").map_err(|_| bad())?;
        return Ok(None);
    }
    if let Some(utc) = value.strip_suffix(['Z', 'z']) {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
        return Ok(Some(When::Offset(DateTime::<Utc>::from_naive_utc_and_offset(t, Utc).fixed_offset())));
    }
    let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
    Ok(Some(match line.param("TZID") {
        Some(tzid) => match zone(tzid) {
            Some(tz) => When::Zoned(local, tz),
            None => {
                unknown_zones.push(format!("{tzid:?} at line {}", line.line));
                When::Local(local)
            }
        },
        None => When::Local(local),
    }))
}

/// An IANA zone from a TZID, also from prefixed ids like `/mozilla.org/20070129_1/Europe/Paris`.
fn zone(tzid: &str) -> Option<Tz> {
    let tzid = tzid.trim().trim_matches('"');
    time::parse_zone(tzid).or_else(|| {
        let parts: Vec<&str> = tzid.split('/').filter(|p| !p.is_empty()).collect();
        (1..parts.len()).find_map(|skip| time::parse_zone(&parts.get(skip..)?.join("/")))
    })
}

/// One content line's bytes: the physical line it starts on, and where in the bytes each
/// physical line's part starts (to name the line of a bad byte).
type Unfolded = (usize, Vec<u8>, Vec<(usize, usize)>);

/// Unfolds the file into content lines, keeping the physical line each starts on.
///
/// Unfolding works on bytes, before decoding: RFC 5545 folds lines at 75 octets, so a fold may
/// split a multi-byte character (`’` = E2 80 99 written as E2 80, CRLF, space, 99), and only
/// the unfolded line is UTF-8. Line ends may be LF, CRLF or the stray CR CR LF some exporters
/// write: a physical line loses all its trailing CRs. Lines are counted by LF.
fn content_lines(source: &[u8]) -> Result<Vec<ContentLine>, ParseError> {
    let mut logical: Vec<Unfolded> = Vec::new();
    for (i, raw) in source.split(|&b| b == b'\n').enumerate() {
        let mut raw = raw;
        while let Some(shorter) = raw.strip_suffix(b"\r") {
            raw = shorter;
        }
        match (raw.split_first(), logical.last_mut()) {
            (Some((b' ' | b'\t', continued)), Some((_, current, parts))) => {
                parts.push((current.len(), i + 1));
                current.extend_from_slice(continued);
            }
            _ if raw.iter().all(u8::is_ascii_whitespace) => {}
            _ => logical.push((i + 1, raw.to_vec(), vec![(0, i + 1)])),
        }
    }
    logical
        .into_iter()
        .map(|(line, bytes, parts)| {
            let text = std::str::from_utf8(&bytes).map_err(|e| {
                let at = parts.iter().rev().find(|(start, _)| *start <= e.valid_up_to()).map_or(line, |(_, l)| *l);
                ParseError::new(
                    Location::Line(at),
                    "not UTF-8 text, even with folded lines joined (convert the file, e.g. with iconv)",
                )
            })?;
            let content = content_line(line, text)?;
            if content.encoded_as("QUOTED-PRINTABLE") {
                return Err(ParseError::new(
                    Location::Line(line),
                    format!(
                        "{} is ENCODING=QUOTED-PRINTABLE (vCalendar 1.0), which is not read; export the \
                         calendar as iCalendar 2.0",
                        content.name
                    ),
                ));
            }
            Ok(content)
        })
        .collect()
}

fn content_line(line: usize, text: &str) -> Result<ContentLine, ParseError> {
    let column =
        |byte: usize| Location::LineColumn { line, column: text.get(..byte).map_or(1, |t| t.chars().count() + 1) };
    let name_end = text.find([';', ':']).unwrap_or(text.len());
    let name = text.get(..name_end).unwrap_or("");
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(ParseError::new(column(0), format!("expected a property name, found {text:?}")));
    }
    let mut params = Vec::new();
    let mut rest = text.get(name_end..).unwrap_or("");
    let mut offset = name_end;
    while let Some(after) = rest.strip_prefix(';') {
        let end = after.find(['=', ';', ':']).unwrap_or(after.len());
        let key = after.get(..end).unwrap_or("").trim().to_ascii_uppercase();
        if key.is_empty() {
            return Err(ParseError::new(column(offset + 1), "expected a parameter name after ';'"));
        }
        let mut values = Vec::new();
        let Some(mut tail) = after.get(end..).and_then(|t| t.strip_prefix('=')) else {
            // vCard 2.1 style: a bare value such as `;QUOTED-PRINTABLE` or `;WORK`.
            params.push((key, values));
            rest = after.get(end..).unwrap_or("");
            offset = text.len() - rest.len();
            continue;
        };
        loop {
            if let Some(quoted) = tail.strip_prefix('"') {
                let close =
                    quoted.find('"').ok_or_else(|| ParseError::new(column(offset), "unclosed quote in a parameter"))?;
                values.push(quoted.get(..close).unwrap_or("").to_owned());
                tail = quoted.get(close + 1..).unwrap_or("");
            } else {
                let end = tail.find([',', ';', ':']).unwrap_or(tail.len());
                values.push(tail.get(..end).unwrap_or("").to_owned());
                tail = tail.get(end..).unwrap_or("");
            }
            match tail.strip_prefix(',') {
                Some(more) => tail = more,
                None => break,
            }
        }
        params.push((key, values));
        offset = text.len() - tail.len();
        rest = tail;
    }
    let value =
        rest.strip_prefix(':').ok_or_else(|| ParseError::new(column(offset), format!("expected ':' after {name}")))?;
    Ok(ContentLine { name: name.to_ascii_uppercase(), params, value: value.to_owned(), line })
}

/// Undoes TEXT escaping: `\\` `\,` `\;` `\n`.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A comma-separated TEXT list (CATEGORIES), honouring `\,`.
fn unescape_list(value: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(last)) = (chars.next(), items.last_mut()) {
                    last.push(if next == 'n' || next == 'N' { '\n' } else { next });
                }
            }
            ',' => items.push(String::new()),
            c => {
                if let Some(last) = items.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfolding_keeps_spaces_and_lines() {
        let lines = content_lines(
            b"BEGIN:VCALENDAR\r\nDESCRIPTION:Exhibition \r\n Centre\\, Room 5\r\n\r\nX;A=\"x:y\",b;C=d:v:w\r\n",
        )
        .unwrap();
        assert_eq!(lines[1].value, "Exhibition Centre\\, Room 5");
        assert_eq!(lines[1].line, 2);
        assert_eq!(lines[2].line, 5);
        assert_eq!(
            lines[2].params,
            [("A".to_owned(), vec!["x:y".to_owned(), "b".to_owned()]), ("C".to_owned(), vec!["d".to_owned()])]
        );
        assert_eq!(lines[2].value, "v:w");
        assert_eq!(unescape("a\\, b\\nc\\\\"), "a, b\nc\\");
        assert_eq!(unescape_list("Talk\\, long,Rust"), ["Talk, long", "Rust"]);
    }

    #[test]
    fn unfolding_is_by_bytes_and_drops_every_trailing_cr() {
        // `’` is E2 80 99; the fold falls after E2 80. The first line ends in CR CR LF.
        let lines = content_lines(b"BEGIN:VCALENDAR\r\r\nSUMMARY:Don\xE2\x80\r\n \x99t\r\r\n\tPanic\r\n").unwrap();
        assert_eq!(lines[0].value, "VCALENDAR");
        assert_eq!(lines[1].value, "Don’tPanic");
        assert_eq!(lines[1].line, 2);
        // Not UTF-8 even once unfolded: the physical line with the bad byte is named.
        let e = content_lines(b"BEGIN:VCALENDAR\nSUMMARY:ok\n more\n caf\xE9\n").unwrap_err();
        assert_eq!(e.location, Location::Line(4), "{}", e.message);
    }

    #[test]
    fn vcard_style_parameters() {
        let line = content_line(3, "SUMMARY;CHARSET=UTF-8;ENCODING=8BIT;LANGUAGE=de:Grüße").unwrap();
        assert_eq!(line.value, "Grüße");
        assert_eq!(line.param("CHARSET"), Some("UTF-8"));
        let bare = content_line(3, "LOCATION;CHARSET=UTF-8;8BIT:Zaal 2").unwrap();
        assert_eq!(bare.params[1], ("8BIT".to_owned(), vec![]));
        assert_eq!(bare.value, "Zaal 2");
        // Quoted-printable text (vCalendar 1.0) is refused by name rather than posted encoded.
        for text in ["SUMMARY;ENCODING=QUOTED-PRINTABLE:Gr=C3=BC=C3=9Fe", "SUMMARY;QUOTED-PRINTABLE:Gr=C3=BC"] {
            let e = content_lines(format!("BEGIN:VCALENDAR\n{text}\n").as_bytes()).unwrap_err();
            assert_eq!(e.location, Location::Line(2));
            assert!(e.message.contains("QUOTED-PRINTABLE"), "{}", e.message);
        }
    }

    #[test]
    fn content_line_errors() {
        for (text, column) in [("NOCOLON", 8), ("X;:v", 3), ("X;A=\"open:v", 2), (":v", 1), ("BAD NAME:v", 1)] {
            let e = content_line(7, text).unwrap_err();
            assert_eq!(e.location, Location::LineColumn { line: 7, column }, "{text}: {}", e.message);
        }
    }

    #[test]
    fn speakers_from_description() {
        assert_eq!(speakers_line("Speaker: Joel Addison\nOpening"), (vec!["Joel Addison".to_owned()], "Opening"));
        assert_eq!(speakers_line("Speakers: Ada, Bo and Cy\n"), (vec!["Ada".into(), "Bo".into(), "Cy".into()], ""));
        assert_eq!(speakers_line("No speaker here"), (vec![], "No speaker here"));
    }

    #[test]
    fn a_repeating_entry_is_imported_once_and_said_so() {
        let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Daily stand-up\r\n\
                   DTSTART:20240203T090000Z\r\nDTEND:20240203T091500Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\n\
                   END:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Keynote\r\nDTSTART:20240203T100000Z\r\n\
                   END:VEVENT\r\nEND:VCALENDAR\r\n";
        let parsed = parse(ics.as_bytes()).unwrap();
        assert_eq!(parsed.drafts.len(), 2);
        assert_eq!(
            parsed.warnings,
            ["1 entry repeats (RRULE or RDATE, the first at line 2); only the first occurrence was imported"]
        );
    }

    #[test]
    fn zones_from_tzids() {
        assert_eq!(zone("Australia/Brisbane"), Some(chrono_tz::Australia::Brisbane));
        assert_eq!(zone("/mozilla.org/20070129_1/Europe/Paris"), Some(chrono_tz::Europe::Paris));
        assert_eq!(zone("W. Europe Standard Time"), None);
    }
}

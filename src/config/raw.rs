//! The config file as written: the top-level table, each section's raw form owned by its own
//! module. serde refuses unknown keys and keeps each value's span.

use std::ops::Range;

use serde::Deserialize;

use super::account::RawAccount;
use super::amplify::{RawAmplify, RawRun};
use super::compose::RawCompose;
use super::desk::RawDesk;
use super::event::RawEvent;
use super::follow::{RawFollow, RawRepost};
use super::media::RawMedia;
use super::networks::{RawFacebook, RawLinkedIn, RawThreads};
use super::recurring::RawRecurring;
use super::report::RawReport;
use super::session::RawSession;
use super::snippet::RawSnippet;
use super::values::S;
use crate::schedule::ImportOptions;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub event: S<RawEvent>,
    #[serde(default)]
    pub account: Vec<S<RawAccount>>,
    #[serde(default)]
    pub amplify: Option<RawAmplify>,
    #[serde(default)]
    pub session: Vec<S<RawSession>>,
    #[serde(default)]
    pub recurring: Vec<S<RawRecurring>>,
    #[serde(default)]
    pub state: Option<RawState>,
    #[serde(default)]
    pub compose: Option<RawCompose>,
    #[serde(default)]
    pub run: Option<RawRun>,
    #[serde(default)]
    pub schedule: Option<S<ImportOptions>>,
    #[serde(default)]
    pub report: Option<RawReport>,
    #[serde(default)]
    pub follow: Vec<S<RawFollow>>,
    #[serde(default)]
    pub repost: Vec<S<RawRepost>>,
    #[serde(default)]
    pub media: Option<RawMedia>,
    #[serde(default)]
    pub desk: Option<S<RawDesk>>,
    #[serde(default)]
    pub snippet: Vec<S<RawSnippet>>,
    #[serde(default)]
    pub linkedin: Option<RawLinkedIn>,
    #[serde(default)]
    pub facebook: Option<RawFacebook>,
    #[serde(default)]
    pub threads: Option<RawThreads>,
}

/// `[state]`: where the store lives.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    #[serde(default)]
    pub dir: Option<S<String>>,
}

/// A config holding `[[session]]`s and nothing else: one part of a big config read in parts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionsPart {
    #[serde(default)]
    session: Vec<S<RawSession>>,
}

/// From this size on, a config is read in parts ([`read_in_parts`]).
pub const PARTS_FROM: usize = 128 * 1024;

/// About how much of a config's `[[session]]`s one part holds at least, and at most how many
/// parts a config is read in (each read scans the whole text): 64 KiB parts up to 512 KiB, then
/// eight parts. Eight rather than more: 20,000 sessions (3.8 MB) read in 50 ms more than at
/// once and leave 22 MB of heap; sixteen parts, 100 ms and 18 MB; at once, 67 MB.
const PART_BYTES: usize = 64 * 1024;
const MOST_PARTS: usize = 8;

/// A big config read a part at a time: the TOML document of a config built at once takes about
/// twenty times the text (70 MB for 20,000 sessions in 3.8 MB), and what is kept of it is spread
/// over that peak for as long as the daemon runs. Here each run of `[[session]]`s is read in
/// parts of about [`PART_BYTES`] (at most [`MOST_PARTS`]), and the rest of the config on its own; each read sees the
/// whole text with everything not its own turned into spaces (line ends kept), so every span,
/// line and column is the file's own. The parts are cut only at lines that open a
/// `[[session]]`; any part that does not read (a cut inside a multi-line string, a session's
/// sub-table the cut missed, a real mistake) gives `None`, and the config is read at once as
/// before, so the result and every error are the same as reading it whole. The `toml` crate has
/// no reader that builds less than the whole document, hence this cut (BENCHMARKS.md).
pub fn read_in_parts(text: &str) -> Option<RawConfig> {
    let parts = session_parts(text);
    if parts.is_empty() {
        return None;
    }
    let rest = blanked(text, &parts)?;
    let mut raw: RawConfig = toml::from_str(&rest).ok()?;
    drop(rest);
    if !raw.session.is_empty() {
        return None;
    }
    let mut sessions = Vec::new();
    for part in &parts {
        let only = blanked(text, &[0..part.start, part.end..text.len()])?;
        let read: SessionsPart = toml::from_str(&only).ok()?;
        sessions.extend(read.session);
    }
    sessions.shrink_to_fit();
    raw.session = sessions;
    Some(raw)
}

/// The byte ranges of the parts: runs of `[[session]]` tables (each with its `[session.…]`
/// sub-tables), cut at `[[session]]` lines into parts of about [`PART_BYTES`] (or a
/// [`MOST_PARTS`]th of the text).
fn session_parts(text: &str) -> Vec<Range<usize>> {
    let size = PART_BYTES.max(text.len() / MOST_PARTS);
    let mut parts = Vec::new();
    let mut open: Option<usize> = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let session = t.starts_with("[[session]]");
        let header = t.starts_with('[') && !t.starts_with("[session.") && !t.starts_with("[[session.");
        match open {
            Some(start) if header && (!session || at - start >= size) => {
                parts.push(start..at);
                open = session.then_some(at);
            }
            None if session => open = Some(at),
            _ => {}
        }
        at += line.len();
    }
    if let Some(start) = open {
        parts.push(start..at);
    }
    parts
}

/// `text` with the bytes of `blank` (ranges that start and end at line starts) turned into
/// spaces, line ends kept: the same offsets, lines and columns.
fn blanked(text: &str, blank: &[Range<usize>]) -> Option<String> {
    let mut bytes = text.as_bytes().to_vec();
    for r in blank {
        for b in bytes.get_mut(r.clone())? {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::{minimal, parse, problems};

    /// `n` sessions of a title, two points (one a sub-table), a speaker and a multi-line
    /// abstract, from 09:00; then `[amplify]`, after them.
    fn big(n: usize, abstract_line: &str) -> String {
        let mut s = minimal("");
        for k in 0..n {
            s.push_str(&format!(
                "\n[[session]]\nid = \"s{k:04}\"\ntitle = \"Session {k}: on the cost of reading a document at once\"\n\
                 start = \"{:02}:{:02}\"\nduration = \"5m\"\nroom = \"Room {k}\"\n\
                 abstract = \"\"\"\nA talk about {k}.\n{abstract_line}\n\"\"\"\n\n[[session.points]]\ntext = \"First point of {k}\"\n\n\
                 [[session.points]]\ntext = \"Second point of {k}\"\n\n\
                 [[session.speakers]]\nname = \"Speaker {k}\"\n",
                9 + k / 120,
                (k % 120) / 2
            ));
        }
        s.push_str("\n[amplify]\ndelay = \"2m\"\n");
        s
    }

    /// A big config reads the same in parts as at once: every session, every span, the tables
    /// after the sessions.
    #[test]
    fn a_big_config_reads_the_same_in_parts_as_at_once() {
        let text = big(1200, "Nothing special.");
        assert!(text.len() > PARTS_FROM, "{} bytes", text.len());
        let parts = session_parts(&text);
        assert!(parts.len() > 3, "{} parts", parts.len());
        for p in &parts {
            assert!(text[p.clone()].starts_with("[[session]]"), "a part starts at a session: {p:?}");
        }
        let whole: RawConfig = toml::from_str(&text).unwrap();
        let in_parts = read_in_parts(&text).expect("read in parts");
        assert_eq!(in_parts.session.len(), 1200);
        assert!(in_parts.amplify.is_some(), "the table after the sessions is read");
        assert_eq!(format!("{in_parts:?}"), format!("{whole:?}"));
        let config = parse(&text).unwrap();
        assert_eq!(config.sessions.len(), 1200);
        assert_eq!(config.sessions.to_vec()[1199].points.len(), 2);
    }

    /// A line inside a multi-line string that looks like a `[[session]]` header cuts a string in
    /// two: that part does not read, and the config is read at once, with the same result.
    #[test]
    fn a_cut_inside_a_string_reads_the_config_at_once() {
        let text = big(1200, "[[session]]");
        assert!(read_in_parts(&text).is_none());
        let config = parse(&text).unwrap();
        assert_eq!(config.sessions.len(), 1200);
        assert!(config.sessions.to_vec()[0].abstract_text.as_deref().is_some_and(|a| a.contains("[[session]]")));
    }

    /// A mistake in a late session of a big config is reported at its own line, whether the
    /// parts read (a value the checks refuse: its span is the file's own) or not (a value of
    /// the wrong type: read at once, the same words).
    #[test]
    fn a_mistake_in_a_big_config_names_its_own_line() {
        let good = big(1200, "Nothing special.");
        let at = "duration = \"5m\"\nroom = \"Room 555\"";
        for (wrong, in_parts) in [("duration = \"five\"", true), ("duration = 5", false)] {
            let text = good.replacen(at, &at.replace("duration = \"5m\"", wrong), 1);
            assert_ne!(text, good);
            assert_eq!(read_in_parts(&text).is_some(), in_parts, "{wrong}");
            let line = text[..text.find(wrong).unwrap()].matches('\n').count() + 1;
            let found = problems(&text);
            assert!(found.iter().any(|p| p.line.map(|l| l.0) == Some(line)), "{wrong}: line {line}: {found:?}");
            if !in_parts {
                let at_once = super::super::read_whole(std::path::Path::new("test.toml"), &text).err();
                assert_eq!(parse(&text).err().map(|e| e.to_string()), at_once.map(|e| e.to_string()));
            }
        }
    }
}

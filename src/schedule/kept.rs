//! [`EncodedSessions`]: the programme a running daemon keeps, encoded in one buffer.
//!
//! A daemon keeps its config for the whole event, but once the plan is written it reads the
//! sessions rarely: the desk's view, a control operation that names a session, a reload's
//! comparison, the report. As `Vec<Session>`, 20,000 sessions are about 12 MB of small
//! allocations (a `Session` is 320 bytes, each text its own allocation), made while reading the
//! config and spread over the heap that reading left, so the heap cannot shrink under them.
//! Kept encoded in one buffer (postcard: about 170 bytes for a session with a title and two
//! points, where JSON took 351; one allocation that gets pages of its own), they cost little
//! more than their text, and reading the config leaves nothing behind. Each read decodes what it
//! reads.
//!
//! postcard writes no field names, so `Session`, `Speaker`, `Point` and `Image` must write every
//! field: none of them may use `skip_serializing_if` (the tests below read back a session with
//! every field empty and one with every field set).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Session;
use crate::parts::in_parts;

/// Sessions in order, kept encoded; read by decoding (see the module's notes).
#[derive(Clone, Default)]
pub struct EncodedSessions {
    /// Each session's encoding, one after another.
    bytes: Arc<[u8]>,
    /// Where each session's encoding ends in `bytes`.
    ends: Arc<[usize]>,
    /// The earliest start and the latest end, read at start-up without decoding.
    bounds: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl EncodedSessions {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The session at `index`, decoded.
    pub fn get(&self, index: usize) -> Option<Session> {
        (index < self.len()).then(|| self.at(index))
    }

    fn at(&self, index: usize) -> Session {
        let (start, end) = self.span(index);
        decode(&self.bytes[start..end])
    }

    fn span(&self, index: usize) -> (usize, usize) {
        (if index == 0 { 0 } else { self.ends[index - 1] }, self.ends[index])
    }

    pub fn first(&self) -> Option<Session> {
        self.get(0)
    }

    /// When the earliest session starts.
    pub fn earliest_start(&self) -> Option<DateTime<Utc>> {
        self.bounds.map(|b| b.0)
    }

    /// When the latest session ends.
    pub fn latest_end(&self) -> Option<DateTime<Utc>> {
        self.bounds.map(|b| b.1)
    }

    /// Every session in order, each decoded as it is reached.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Session> + '_ {
        (0..self.len()).map(|i| self.at(i))
    }

    /// Every session, decoded into a vector (a big programme on up to four threads: a plan
    /// reads them all).
    pub fn to_vec(&self) -> Vec<Session> {
        let spans: Vec<(usize, usize)> = (0..self.len()).map(|i| self.span(i)).collect();
        let parts = in_parts(&spans, PARALLEL_FROM, |part| {
            part.iter().map(|&(start, end)| decode(&self.bytes[start..end])).collect::<Vec<_>>()
        });
        parts.into_iter().flatten().collect()
    }

    /// The session with this id.
    pub fn find(&self, id: &str) -> Option<Session> {
        self.iter().find(|s| s.id == id)
    }

    /// The bytes kept (for figures and tests).
    pub fn encoded_len(&self) -> usize {
        self.bytes.len()
    }
}

/// A session as this module wrote it. Encoding and decoding are one type's own serde form, shown
/// to read back equal for every field (tests below, and every real schedule in
/// `tests/schedule_fixtures.rs`); a failure is a fault in loudhailer, never in the input.
fn decode(bytes: &[u8]) -> Session {
    postcard::from_bytes(bytes).unwrap_or_else(|e| panic!("a kept session does not read back: {e}"))
}

/// From this many sessions, encoding and decoding them all is done in parts on several threads.
const PARALLEL_FROM: usize = 2_000;

impl From<Vec<Session>> for EncodedSessions {
    fn from(sessions: Vec<Session>) -> EncodedSessions {
        EncodedSessions::from(&sessions[..])
    }
}

impl From<&[Session]> for EncodedSessions {
    fn from(sessions: &[Session]) -> EncodedSessions {
        let parts = in_parts(sessions, PARALLEL_FROM, |part| {
            let mut bytes = Vec::new();
            let mut ends = Vec::with_capacity(part.len());
            for s in part {
                // Writing to a growing vector cannot run out of room; a session has no
                // sequence of unknown length (what postcard refuses).
                bytes = postcard::to_extend(s, bytes).unwrap_or_else(|e| panic!("a session does not encode: {e}"));
                ends.push(bytes.len());
            }
            (bytes, ends)
        });
        let mut bytes = Vec::with_capacity(parts.iter().map(|(b, _)| b.len()).sum());
        let mut ends = Vec::with_capacity(sessions.len());
        for (part, part_ends) in parts {
            let offset = bytes.len();
            ends.extend(part_ends.into_iter().map(|e| e + offset));
            bytes.extend_from_slice(&part);
        }
        let earliest = sessions.iter().map(|s| s.start).min();
        let latest = sessions.iter().map(|s| s.end).max();
        EncodedSessions { bytes: bytes.into(), ends: ends.into(), bounds: earliest.zip(latest) }
    }
}

impl PartialEq for EncodedSessions {
    fn eq(&self, other: &EncodedSessions) -> bool {
        self.ends == other.ends && self.bytes == other.bytes
    }
}

impl std::fmt::Debug for EncodedSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::Image;
    use crate::schedule::{Point, Speaker};
    use chrono::{NaiveDate, TimeZone, Utc};

    fn full() -> Session {
        Session {
            id: "s1".into(),
            title: "Keynote \"quoted\" — ünïcode 🎉".into(),
            start: Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap(),
            speakers: vec![Speaker {
                name: "Ada".into(),
                mastodon: Some("@ada@example.org".into()),
                bluesky: Some("ada.example.org".into()),
                x: Some("ada".into()),
                linkedin: Some("urn:li:person:1".into()),
                threads: Some("ada".into()),
            }],
            points: vec![
                Point {
                    text: "one".into(),
                    at: Some(Utc.with_ymd_and_hms(2026, 3, 1, 9, 20, 0).unwrap()),
                    images: vec![],
                },
                Point { text: "two".into(), at: None, images: vec![Image { file: "/p/a.jpg".into(), alt: "".into() }] },
            ],
            suggested: vec!["a sentence".into()],
            room: Some("Hall A".into()),
            track: Some("Main".into()),
            day: NaiveDate::from_ymd_opt(2026, 3, 1),
            abstract_text: Some("line\nbreak".into()),
            url: Some("https://example.org/s1".into()),
            language: Some("en".into()),
            hashtags: vec!["#tag".into()],
            images: vec![Image { file: "/p/b.png".into(), alt: "a hall".into() }],
        }
    }

    fn bare() -> Session {
        Session {
            id: "s2".into(),
            title: String::new(),
            start: Utc.with_ymd_and_hms(2026, 3, 1, 11, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 3, 1, 11, 0, 0).unwrap(),
            speakers: vec![],
            points: vec![],
            suggested: vec![],
            room: None,
            track: None,
            day: None,
            abstract_text: None,
            url: None,
            language: None,
            hashtags: vec![],
            images: vec![],
        }
    }

    #[test]
    fn sessions_read_back_equal_field_for_field_in_order() {
        let all = vec![full(), bare(), full()];
        let kept = EncodedSessions::from(all.clone());
        assert_eq!(kept.len(), 3);
        assert_eq!(kept.to_vec(), all);
        assert_eq!(kept.get(1), Some(bare()));
        assert_eq!(kept.get(3), None);
        assert_eq!(kept.first(), Some(full()));
        assert_eq!(kept.find("s2"), Some(bare()));
        assert_eq!(kept.find("nope"), None);
        assert_eq!(kept.iter().len(), 3);
        assert_eq!(kept.earliest_start(), Some(full().start));
        assert_eq!(kept.latest_end(), Some(bare().end));
    }

    #[test]
    fn a_big_programme_encoded_and_decoded_in_parts_keeps_its_order() {
        let all: Vec<Session> = (0..PARALLEL_FROM * 2 + 7)
            .map(|i| Session {
                id: format!("s{i}"),
                title: format!("Talk {i}"),
                ..if i % 3 == 0 { full() } else { bare() }
            })
            .collect();
        let kept = EncodedSessions::from(all.clone());
        assert_eq!(kept.to_vec(), all);
        assert!(kept.iter().eq(all.iter().cloned()));
        assert_eq!(kept.get(PARALLEL_FROM * 2 + 6).map(|s| s.id), Some(format!("s{}", PARALLEL_FROM * 2 + 6)));
    }

    #[test]
    fn no_sessions_is_empty() {
        let kept = EncodedSessions::from(Vec::new());
        assert!(kept.is_empty());
        assert_eq!(kept.first(), None);
        assert_eq!((kept.earliest_start(), kept.latest_end()), (None, None));
        assert_eq!(kept.iter().count(), 0);
        assert_eq!(kept, EncodedSessions::default());
    }
}

//! `[schedule] announce_changes`: what the audience should hear when the programme changes
//! under them (pure). A session moved by more than the threshold, or gone from the programme,
//! before it is over, becomes a short note from the primary accounts: "Now 10:30: Equalities
//! Law", "Cancelled: Equalities Law". Each note has a key made from what it says, so reading
//! the same change again (a restart, a second reload) announces it once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::schedule::Session;

/// A note to post, and the key that makes posting it again a no-op.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub key: String,
    pub text: String,
}

/// The changes between the sessions before and after a reload worth announcing at `now`.
pub fn announcements(
    before: &[Session],
    after: &[Session],
    threshold: Duration,
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Announcement> {
    let limit = chrono::Duration::from_std(threshold).unwrap_or(chrono::Duration::MAX);
    let mut out = Vec::new();
    for old in before.iter().filter(|s| s.end > now) {
        match after.iter().find(|s| s.id == old.id) {
            Some(new) if (new.start - old.start).abs() > limit && new.end > now => {
                let local = new.start.with_timezone(&tz);
                let when = if local.date_naive() == old.start.with_timezone(&tz).date_naive() {
                    local.format("%H:%M").to_string()
                } else {
                    local.format("%a %-d %b %H:%M").to_string()
                };
                out.push(Announcement {
                    key: key(&old.id, &new.start.to_rfc3339()),
                    text: format!("Now {when}: {}", new.title),
                });
            }
            Some(_) => {}
            None => {
                out.push(Announcement { key: key(&old.id, "cancelled"), text: format!("Cancelled: {}", old.title) })
            }
        }
    }
    out
}

/// `ann` and a hash of the session and what changed: 13 lower-case letters and digits.
fn key(session: &str, what: &str) -> String {
    format!("ann{}", crate::job::short_hash(&format!("{session}\0{what}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn session(id: &str, h: u32, m: u32) -> Session {
        let start = Utc.with_ymd_and_hms(2010, 3, 18, h, m, 0).unwrap();
        Session {
            id: id.into(),
            title: format!("Talk {id}"),
            start,
            end: start + chrono::Duration::minutes(30),
            speakers: vec![],
            points: vec![],
            suggested: vec![],
            images: vec![],
            room: None,
            track: None,
            day: None,
            abstract_text: None,
            url: None,
            language: None,
            hashtags: vec![],
        }
    }

    #[test]
    fn moves_past_the_threshold_and_cancellations_before_the_end_are_announced_once() {
        let now = Utc.with_ymd_and_hms(2010, 3, 18, 9, 0, 0).unwrap();
        let tz = chrono_tz::Europe::London;
        let ten = Duration::from_secs(600);
        let before = [session("a", 10, 0), session("b", 11, 0), session("c", 12, 0), session("done", 8, 0)];
        let mut after = vec![session("a", 10, 30), session("b", 11, 5), session("done", 9, 30)];
        let got = announcements(&before, &after, ten, now, tz);
        let texts: Vec<&str> = got.iter().map(|a| a.text.as_str()).collect();
        // 10:30 UTC is 10:30 in London in March 2010 (summer time starts on the 28th).
        assert_eq!(texts, ["Now 10:30: Talk a", "Cancelled: Talk c"], "a 5-minute move and a session over are not");
        assert!(got.iter().all(|a| a.key.len() == 13 && a.key.bytes().all(|b| b.is_ascii_alphanumeric())));
        // The same change read again: the same keys.
        assert_eq!(announcements(&before, &after, ten, now, tz), got);
        // Moved again: a new note.
        after[0] = session("a", 11, 0);
        let again = announcements(&before, &after, ten, now, tz);
        assert_ne!(again[0].key, got[0].key);
        // To another day: the day is said.
        after[0].start += chrono::Duration::days(1);
        after[0].end += chrono::Duration::days(1);
        assert_eq!(announcements(&before, &after, ten, now, tz)[0].text, "Now Fri 19 Mar 11:00: Talk a");
        assert!(announcements(&before, &before, ten, now, tz).is_empty());
    }
}

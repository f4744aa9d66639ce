//! Settles what every format leaves open: which zone local times are in, instants, missing
//! ends, stable unique ids and key points drawn from abstracts.
//!
//! Zone precedence: an explicit offset on a time, then a zone named on the time (iCalendar
//! `TZID`), then the zone the file declares, then the user's `timezone`/`--tz`, then the
//! caller's default. With none of them, local times cannot be placed and the import is refused.

use std::collections::HashSet;

use chrono::{DateTime, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use super::draft::{Draft, Location, Parsed, When};
use super::text::key_points;
use super::time::{self, LocalFit};
use super::{slug, Point, Schedule, Session};

/// What the user chose that affects resolution.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The zone for local times when the file declares none.
    pub fallback_zone: Option<Tz>,
    /// Used for sessions with neither an end nor a duration.
    pub default_duration: Duration,
    /// How many abstract sentences are offered as key points when the source wrote none, and
    /// whether they wait for approval (suggestions) or are points at once.
    pub points: AbstractPoints,
}

/// Local times were found but no zone is known; carries the first such session's location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoZone(pub Location);

#[derive(Default)]
struct Notes {
    mismatched: Vec<String>,
    offsets_checked: usize,
    gaps: Vec<String>,
    overlaps: Vec<String>,
    defaulted: usize,
    backwards: Vec<String>,
}

/// Turns drafts into sessions with instants and ids, in the order of their start.
pub fn resolve(parsed: Parsed, settings: &Settings) -> Result<Schedule, NoZone> {
    let zone = parsed.zone.or(settings.fallback_zone);
    let mut notes = Notes::default();
    let mut taken = HashSet::new();
    let mut sessions = Vec::with_capacity(parsed.drafts.len());
    for draft in parsed.drafts {
        sessions.push(session(draft, zone, settings, &mut notes, &mut taken)?);
    }
    sessions.sort_by_key(|s| s.start);
    let mut warnings = parsed.warnings;
    warnings.extend(summarise(&notes, zone, settings));
    Ok(Schedule { name: parsed.name, timezone: zone, sessions, warnings })
}

fn session(
    draft: Draft,
    zone: Option<Tz>,
    settings: &Settings,
    notes: &mut Notes,
    taken: &mut HashSet<String>,
) -> Result<Session, NoZone> {
    let label = format!("“{}” ({})", draft.title, draft.location);
    let start = instant(draft.start, zone, draft.location, &label, notes)?;
    let mut end = match draft.end {
        Some(end) => Some(instant(end, zone, draft.location, &label, notes)?),
        None => draft.duration.and_then(|d| start.checked_add_signed(d)),
    };
    if end.is_some_and(|e| e < start) {
        notes.backwards.push(label.clone());
        end = None;
    }
    let end = end.unwrap_or_else(|| {
        notes.defaulted += 1;
        start.checked_add_signed(settings.default_duration).unwrap_or(start)
    });
    let day = draft.day.or_else(|| Some(local_date(start, draft.start, zone)));
    // Points the source wrote are the speaker's; sentences from the abstract are only offered.
    let from_abstract = match (draft.points.is_empty(), draft.abstract_text.as_deref()) {
        (true, Some(a)) => key_points(a, settings.points.count),
        _ => Vec::new(),
    };
    let (points, suggested) = match settings.points.approve {
        Approve::Auto if draft.points.is_empty() => (from_abstract, Vec::new()),
        _ => (draft.points, from_abstract),
    };
    Ok(Session {
        id: unique_id(draft.source_id.as_deref(), &draft.title, taken),
        title: draft.title,
        start,
        end,
        speakers: draft.speakers,
        points: points.into_iter().map(Point::text).collect(),
        suggested,
        room: draft.room,
        track: draft.track,
        day,
        abstract_text: draft.abstract_text,
        url: draft.url,
        language: draft.language,
        hashtags: Vec::new(),
        images: Vec::new(),
    })
}

fn instant(
    when: When,
    zone: Option<Tz>,
    location: Location,
    label: &str,
    notes: &mut Notes,
) -> Result<DateTime<Utc>, NoZone> {
    let (utc, fit) = match when {
        When::Offset(t) => {
            if let Some(zone) = zone {
                notes.offsets_checked += 1;
                let expected = zone.offset_from_utc_datetime(&t.naive_utc()).fix();
                if expected != *t.offset() {
                    notes.mismatched.push(format!("{label} at {} where {zone} is {expected}", t.to_rfc3339()));
                }
            }
            return Ok(t.with_timezone(&Utc));
        }
        When::Local(local) => time::resolve_local(zone.ok_or(NoZone(location))?, local),
        When::Zoned(local, tz) => time::resolve_local(tz, local),
    };
    match fit {
        LocalFit::Exact => {}
        LocalFit::Gap => notes.gaps.push(label.to_owned()),
        LocalFit::Overlap => notes.overlaps.push(label.to_owned()),
    }
    Ok(utc)
}

fn local_date(start: DateTime<Utc>, written: When, zone: Option<Tz>) -> NaiveDate {
    match (written, zone) {
        (When::Zoned(local, _), _) => local.date(),
        (_, Some(zone)) => start.with_timezone(&zone).date_naive(),
        (When::Offset(t), None) => t.date_naive(),
        (When::Local(local), None) => local.date(),
    }
}

/// The source's key made into `[a-z0-9-]+`, else the title's slug; `-2`, `-3`… when taken.
fn unique_id(source: Option<&str>, title: &str, taken: &mut HashSet<String>) -> String {
    let base = source.map(clean_id).filter(|id| !id.is_empty()).unwrap_or_else(|| slug(title));
    let mut id = base.clone();
    let mut n = 2;
    while !taken.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Lower-case ASCII letters, digits and single dashes, at most 64 characters.
pub fn clean_id(raw: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in deunicode::deunicode(raw).chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
            if out.len() >= 64 {
                break;
            }
        } else {
            dash = true;
        }
    }
    out
}

fn summarise(notes: &Notes, zone: Option<Tz>, settings: &Settings) -> Vec<String> {
    let mut warnings = Vec::new();
    let first = |list: &[String]| list.first().cloned().unwrap_or_default();
    if let (Some(zone), false) = (zone, notes.mismatched.is_empty()) {
        warnings.push(format!(
            "{} of {} times carry an offset that disagrees with the zone {zone}; the offsets \
             were used (first: {})",
            notes.mismatched.len(),
            notes.offsets_checked,
            first(&notes.mismatched)
        ));
    }
    if !notes.gaps.is_empty() {
        warnings.push(format!(
            "{} local times fall in a daylight-saving gap and were moved forward by the jump \
             (first: {})",
            notes.gaps.len(),
            first(&notes.gaps)
        ));
    }
    if !notes.overlaps.is_empty() {
        warnings.push(format!(
            "{} local times occur twice at a daylight-saving change; the first occurrence was \
             used (first: {})",
            notes.overlaps.len(),
            first(&notes.overlaps)
        ));
    }
    if !notes.backwards.is_empty() {
        warnings.push(format!(
            "{} sessions end before they start; their end was replaced by the default length \
             (first: {})",
            notes.backwards.len(),
            first(&notes.backwards)
        ));
    }
    let defaulted = notes.defaulted - notes.backwards.len().min(notes.defaulted);
    if defaulted > 0 {
        warnings.push(format!(
            "{defaulted} sessions have neither an end nor a duration; they were given the \
             default length of {}",
            time::describe(settings.default_duration)
        ));
    }
    warnings
}

/// Sentences from abstracts: how many, and whether they wait for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AbstractPoints {
    #[serde(default = "default_count")]
    pub count: usize,
    #[serde(default)]
    pub approve: Approve,
}

impl AbstractPoints {
    /// `count` sentences, offered as suggestions.
    pub fn suggest(count: usize) -> AbstractPoints {
        AbstractPoints { count, approve: Approve::Ask }
    }
}

impl Default for AbstractPoints {
    fn default() -> Self {
        AbstractPoints::suggest(DEFAULT_ABSTRACT_POINTS)
    }
}

/// How many abstract sentences are offered when `points_from_abstract` does not say.
pub const DEFAULT_ABSTRACT_POINTS: usize = 3;

fn default_count() -> usize {
    DEFAULT_ABSTRACT_POINTS
}

/// Whether sentences from an abstract are posted only once a person approves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Approve {
    /// Suggestions: listed by `plan`, `status` and the desk, posted once approved.
    #[default]
    Ask,
    /// Key points, posted like the ones written by hand.
    Auto,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDateTime};

    fn settings(zone: Option<Tz>) -> Settings {
        Settings { fallback_zone: zone, default_duration: Duration::minutes(30), points: AbstractPoints::suggest(2) }
    }

    fn local(s: &str) -> When {
        When::Local(NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap())
    }

    fn draft(id: Option<&str>, title: &str, start: When) -> Draft {
        let mut d = Draft::new(Location::Line(1), title.to_owned(), start);
        d.source_id = id.map(str::to_owned);
        d
    }

    #[test]
    fn ids() {
        let mut taken = HashSet::new();
        for (source, title, want) in [
            (Some("fiY1iSGUjvq3YcgI6dYBwA"), "init", "fiy1isgujvq3ycgi6dybwa"),
            (Some("FIY1ISGUJVQ3YCGI6DYBWA"), "init", "fiy1isgujvq3ycgi6dybwa-2"),
            (Some("Ünï code!"), "x", "uni-code"),
            (Some("  "), "Hello World", "hello-world"),
            (None, "Hello World", "hello-world-2"),
            (None, "Hello World", "hello-world-3"),
        ] {
            assert_eq!(unique_id(source, title, &mut taken), want);
        }
    }

    #[test]
    fn zones_and_ends() {
        let berlin = Some(chrono_tz::Europe::Berlin);
        let offset = When::Offset(DateTime::parse_from_rfc3339("2020-12-14T09:00:00+01:00").unwrap());
        let mut with_duration = draft(Some("a"), "A", local("2023-08-24T10:00"));
        with_duration.duration = Some(Duration::minutes(45));
        let parsed = Parsed {
            zone: Some(chrono_tz::UTC),
            drafts: vec![draft(None, "Offset", offset), with_duration, draft(None, "Bare", local("2023-08-24T09:00"))],
            ..Parsed::default()
        };
        let s = resolve(parsed, &settings(berlin)).unwrap();
        // Declared UTC wins over the fallback for local times; the explicit offset wins over both.
        assert_eq!(s.timezone, Some(chrono_tz::UTC));
        let times: Vec<(String, String, String)> =
            s.sessions.iter().map(|s| (s.title.clone(), s.start.to_rfc3339(), s.end.to_rfc3339())).collect();
        assert_eq!(
            times,
            [
                ("Offset".into(), "2020-12-14T08:00:00+00:00".into(), "2020-12-14T08:30:00+00:00".into()),
                ("Bare".into(), "2023-08-24T09:00:00+00:00".into(), "2023-08-24T09:30:00+00:00".into()),
                ("A".into(), "2023-08-24T10:00:00+00:00".into(), "2023-08-24T10:45:00+00:00".into()),
            ]
        );
        assert!(s.warnings.iter().any(|w| w.contains("1 of 1 times carry an offset")), "{:?}", s.warnings);
        assert!(s.warnings.iter().any(|w| w.contains("2 sessions have neither")), "{:?}", s.warnings);
    }

    #[test]
    fn local_times_need_a_zone() {
        let parsed = Parsed { drafts: vec![draft(None, "Bare", local("2023-08-24T09:00"))], ..Parsed::default() };
        assert_eq!(resolve(parsed, &settings(None)), Err(NoZone(Location::Line(1))));
        let offset = When::Offset(DateTime::parse_from_rfc3339("2019-12-28T01:00:00+01:00").unwrap());
        let parsed = Parsed { drafts: vec![draft(None, "Late", offset)], ..Parsed::default() };
        let s = resolve(parsed, &settings(None)).unwrap();
        assert_eq!(s.sessions[0].day, NaiveDate::from_ymd_opt(2019, 12, 28));
    }

    #[test]
    fn abstract_sentences_are_suggested_unless_written_or_approved() {
        let mut a = draft(None, "A", local("2023-08-24T09:00"));
        a.abstract_text = Some("One. Two. Three.".into());
        let mut b = a.clone();
        b.points = vec!["Written".into()];
        let parsed = Parsed { drafts: vec![a, b], ..Parsed::default() };
        let texts = |s: &Schedule| -> Vec<(Vec<String>, Vec<String>)> {
            s.sessions
                .iter()
                .map(|s| (s.points.iter().map(|p| p.text.clone()).collect(), s.suggested.clone()))
                .collect()
        };
        let v = |x: &[&str]| x.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        // By default the abstract's sentences are only suggested; written points are points.
        let s = resolve(parsed.clone(), &settings(Some(chrono_tz::UTC))).unwrap();
        assert_eq!(texts(&s), [(v(&[]), v(&["One.", "Two."])), (v(&["Written"]), v(&[]))]);
        // `approve = "auto"` makes them points, as written ones.
        let mut auto = settings(Some(chrono_tz::UTC));
        auto.points = AbstractPoints { count: 2, approve: Approve::Auto };
        let s = resolve(parsed.clone(), &auto).unwrap();
        assert_eq!(texts(&s), [(v(&["One.", "Two."]), v(&[])), (v(&["Written"]), v(&[]))]);
        // None at all.
        let mut none = settings(Some(chrono_tz::UTC));
        none.points.count = 0;
        let s = resolve(parsed, &none).unwrap();
        assert_eq!(texts(&s), [(v(&[]), v(&[])), (v(&["Written"]), v(&[]))]);
    }
}

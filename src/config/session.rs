//! `[[session]]`: a session as written in the config (or in a sessions file that
//! `loudhailer import` wrote), checked into a [`Session`].

use std::collections::HashSet;
use std::path::Path;

use chrono_tz::Tz;
use serde::Deserialize;

use super::error::Problems;
use super::event::{checked_id, checked_language, Event};
use super::media::{self, ImageContext, RawImage};
use super::values::{self, limit, S};
use crate::schedule::{self, Point, Schedule, Session, Speaker};

/// A point: a string, or `{ text = "...", at = "10:20", images = [{ file = "…", alt = "…" }] }`
/// (`at` and `images` optional).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawPoint {
    Text(String),
    Timed(RawTimedPoint),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimedPoint {
    pub text: String,
    #[serde(default)]
    pub at: Option<toml::Value>,
    /// Inside an untagged enum a value loses its span: problems are placed at the point.
    #[serde(default)]
    pub images: Vec<RawImage>,
}

/// A speaker: a name, or `{ name = "...", mastodon = "@a@b", bluesky = "a.bsky.social", x = "a",
/// linkedin = "urn:li:person:…", threads = "a" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawSpeaker {
    Name(String),
    Full(RawFullSpeaker),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFullSpeaker {
    pub name: String,
    #[serde(default)]
    pub mastodon: Option<String>,
    #[serde(default)]
    pub bluesky: Option<String>,
    #[serde(default)]
    pub x: Option<String>,
    /// `urn:li:person:…` or `urn:li:organization:…`.
    #[serde(default)]
    pub linkedin: Option<String>,
    #[serde(default)]
    pub threads: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSession {
    #[serde(default)]
    pub id: Option<S<String>>,
    pub title: S<String>,
    pub start: S<toml::Value>,
    #[serde(default)]
    pub end: Option<S<toml::Value>>,
    #[serde(default)]
    pub duration: Option<S<String>>,
    #[serde(default)]
    pub speakers: Vec<S<RawSpeaker>>,
    #[serde(default)]
    pub points: Vec<S<RawPoint>>,
    /// Sentences offered as points (from the abstract): posted only once approved.
    #[serde(default)]
    pub suggested: Vec<S<String>>,
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub track: Option<String>,
    #[serde(default)]
    pub hashtags: Vec<S<String>>,
    #[serde(default, rename = "abstract")]
    pub abstract_text: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub language: Option<S<String>>,
    /// Images on the title post.
    #[serde(default)]
    pub images: Vec<S<RawImage>>,
}

impl RawSession {
    /// The image files this session names, as written (title first, then the points').
    pub(super) fn image_files(&self) -> impl Iterator<Item = &str> {
        let title = self.images.iter().map(|i| i.get_ref().file.as_str());
        let points = self.points.iter().flat_map(|p| match p.get_ref() {
            RawPoint::Timed(t) => t.images.as_slice(),
            RawPoint::Text(_) => &[],
        });
        title.chain(points.map(|i| i.file.as_str()))
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessionsFile {
    #[serde(default)]
    event: Option<RawSessionsEvent>,
    #[serde(default)]
    session: Vec<S<RawSession>>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSessionsEvent {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    timezone: Option<S<String>>,
    #[serde(default)]
    date: Option<S<toml::Value>>,
}

pub(super) fn validate(
    index: usize,
    raw: S<RawSession>,
    event: &Event,
    p: &mut Problems<'_>,
    ids: &mut HashSet<String>,
    warnings: &mut Vec<String>,
    cx: &ImageContext<'_>,
) -> Option<Session> {
    let raw = raw.into_inner();
    let title = raw.title.get_ref().trim().to_string();
    let mut key = format!("session[{}]", index + 1);
    if title.is_empty() {
        p.at(raw.title.span(), format!("{key}.title"), "must not be empty");
    }
    let id = match &raw.id {
        Some(id) => {
            let id_text = checked_id(id, &format!("{key}.id"), p);
            if !ids.insert(id_text.clone()) {
                p.at(id.span(), format!("{key}.id"), format!("another session has the id {id_text:?}"));
            }
            id_text
        }
        None => {
            let base = schedule::slug(&title);
            let mut candidate = base.clone();
            let mut n = 2;
            while !ids.insert(candidate.clone()) {
                candidate = format!("{base}-{n}");
                n += 1;
            }
            candidate
        }
    };
    key = format!("{key} ({id})");
    let tz = event.timezone;
    let start = values::instant(raw.start.get_ref(), tz, event.date)
        .map_err(|e| p.at(raw.start.span(), format!("{key}.start"), e))
        .ok();
    let end = match (&raw.end, &raw.duration) {
        (Some(_), Some(d)) => {
            p.at(d.span(), format!("{key}.duration"), "give end or duration, not both");
            None
        }
        (Some(end), None) => {
            values::instant(end.get_ref(), tz, event.date).map_err(|e| p.at(end.span(), format!("{key}.end"), e)).ok()
        }
        (None, Some(d)) => match (values::duration_within(d.get_ref(), limit::SESSION), start) {
            (Ok(d), Some(s)) => crate::checked::after(s, d),
            (Err(e), _) => {
                p.at(d.span(), format!("{key}.duration"), e);
                None
            }
            _ => None,
        },
        (None, None) => {
            warnings.push(format!("{key}: no end or duration given; it is taken to last 30 minutes"));
            start.and_then(|s| crate::checked::after(s, std::time::Duration::from_secs(30 * 60)))
        }
    };
    if let (Some(s), Some(e)) = (start, end) {
        let too_long =
            crate::checked::span(limit::SESSION).and_then(|l| crate::checked::add(s, l)).is_some_and(|l| e > l);
        if too_long {
            let span = raw.end.as_ref().map_or(raw.start.span(), |e| e.span());
            p.at(
                span,
                format!("{key}.end"),
                format!(
                    "the session would last from {} to {}, longer than the limit of {}",
                    s.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                    e.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                    humantime::format_duration(limit::SESSION)
                ),
            );
        }
        if e <= s {
            let span = raw.end.as_ref().map_or(raw.start.span(), |e| e.span());
            p.at(
                span,
                format!("{key}.end"),
                format!(
                    "the session ends ({}) before it starts ({})",
                    e.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                    s.with_timezone(&tz).format("%Y-%m-%d %H:%M")
                ),
            );
        }
    }
    let speakers = raw
        .speakers
        .iter()
        .map(|s| match s.get_ref() {
            RawSpeaker::Name(name) => Speaker { name: name.trim().to_string(), ..Default::default() },
            RawSpeaker::Full(f) => {
                if let Some(m) = &f.mastodon {
                    let parts: Vec<_> = m.trim_start_matches('@').split('@').collect();
                    if parts.len() != 2 || parts.iter().any(|x| x.is_empty()) {
                        p.at(
                            s.span(),
                            format!("{key}.speakers"),
                            format!("mastodon = {m:?}: expected \"@user@server\""),
                        );
                    }
                }
                if let Some(urn) = &f.linkedin {
                    if !crate::count::linkedin::is_mentionable(urn.trim()) {
                        p.at(
                            s.span(),
                            format!("{key}.speakers"),
                            format!("linkedin = {urn:?}: expected the member's or organisation's URN, \"urn:li:person:…\" or \"urn:li:organization:…\""),
                        );
                    }
                }
                Speaker {
                    name: f.name.trim().to_string(),
                    mastodon: f.mastodon.as_ref().map(|m| format!("@{}", m.trim().trim_start_matches('@'))),
                    bluesky: f.bluesky.as_ref().map(|b| b.trim().trim_start_matches('@').to_string()),
                    x: f.x.as_ref().map(|x| x.trim().trim_start_matches('@').to_string()),
                    linkedin: f.linkedin.as_ref().map(|l| l.trim().to_string()),
                    threads: f.threads.as_ref().map(|t| t.trim().trim_start_matches('@').to_string()),
                }
            }
        })
        .collect();
    // Kept all event: no room to spare (a pushed vector of two points holds four).
    let mut points = Vec::with_capacity(raw.points.len());
    for (j, pt) in raw.points.iter().enumerate() {
        let pkey = format!("{key}.points[{}]", j + 1);
        let (text, at, images) = match pt.get_ref() {
            RawPoint::Text(t) => (t.trim().to_string(), None, Vec::new()),
            RawPoint::Timed(t) => {
                let day = event.date.or_else(|| start.map(|s| s.with_timezone(&tz).date_naive()));
                let at = t.at.as_ref().and_then(|at| {
                    values::instant(at, tz, day).map_err(|e| p.at(pt.span(), format!("{pkey}.at"), e)).ok()
                });
                if let (Some(at), Some(s), Some(e)) = (at, start, end) {
                    if at < s || at > e {
                        warnings.push(format!("{pkey}: its time is outside the session"));
                    }
                }
                let images = media::images(&t.images, &pkey, pt.span(), cx, p, warnings);
                (t.text.trim().to_string(), at, images)
            }
        };
        if text.is_empty() {
            p.at(pt.span(), pkey, "must not be empty");
        }
        points.push(Point { text, at, images });
    }
    let mut suggested = Vec::new();
    for (j, text) in raw.suggested.iter().enumerate() {
        let t = text.get_ref().trim();
        if t.is_empty() {
            p.at(text.span(), format!("{key}.suggested[{}]", j + 1), "must not be empty");
        } else if !suggested.iter().any(|s| s == t) {
            suggested.push(t.to_string());
        }
    }
    let mut hashtags_extra = Vec::new();
    for h in &raw.hashtags {
        let bare = h.get_ref().trim().trim_start_matches('#');
        if bare.is_empty() || !bare.chars().all(|c| c.is_alphanumeric() || c == '_') {
            p.at(h.span(), format!("{key}.hashtags"), "expected hashtags such as \"#keynote\"");
        } else {
            hashtags_extra.push(format!("#{bare}"));
        }
    }
    let language = raw.language.as_ref().map(|l| checked_language(l, &format!("{key}.language"), p));
    let mut images = Vec::new();
    if !raw.images.is_empty() {
        let written: Vec<RawImage> = raw.images.iter().map(|i| i.get_ref().clone()).collect();
        let span = raw.images[0].span().start..raw.images[raw.images.len() - 1].span().end;
        images = media::images(&written, &key, span, cx, p, warnings);
    }
    let (start, end) = (start?, end?);
    Some(Session {
        id,
        title,
        start,
        end,
        speakers,
        points,
        room: raw.room,
        track: raw.track,
        day: Some(start.with_timezone(&tz).date_naive()),
        abstract_text: raw.abstract_text,
        suggested,
        url: raw.url,
        language,
        hashtags: hashtags_extra,
        images,
    })
}

/// Reads a sessions file; its problems are reported against its own lines. `Ok(None)` when
/// it had problems (already recorded).
pub(super) fn sessions_file(
    path: &Path,
    text: &str,
    event: &Event,
    ids: &mut HashSet<String>,
    warnings: &mut Vec<String>,
    cx: &ImageContext<'_>,
    outer: &mut Problems<'_>,
) -> Option<Schedule> {
    let mut p = Problems::new(path, text);
    let raw: RawSessionsFile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            p.serde(&e);
            outer.list.extend(p.list);
            return None;
        }
    };
    let mut local = event.clone();
    if let Some(ev) = raw.event {
        if let Some(tz) = ev.timezone {
            match tz.get_ref().parse::<Tz>() {
                Ok(z) => local.timezone = z,
                Err(_) => p.at(tz.span(), "event.timezone", format!("unknown time zone {:?}", tz.get_ref())),
            }
        }
        if let Some(d) = ev.date {
            match values::date(d.get_ref()) {
                Ok(date) => local.date = Some(date),
                Err(e) => p.at(d.span(), "event.date", e),
            }
        }
        let _ = ev.name;
    }
    let mut sessions = Vec::new();
    for (i, s) in raw.session.into_iter().enumerate() {
        if let Some(session) = validate(i, s, &local, &mut p, ids, warnings, cx) {
            sessions.push(session);
        }
    }
    let ok = p.list.is_empty();
    outer.list.extend(p.list);
    ok.then(|| Schedule { sessions, ..Default::default() })
}

/// The image files a sessions file names, as written; none when it does not read (checking it
/// says why).
pub(super) fn sessions_file_images(text: &str) -> Vec<String> {
    match toml::from_str::<RawSessionsFile>(text) {
        Ok(raw) => raw.session.iter().flat_map(|s| s.get_ref().image_files().map(str::to_string)).collect(),
        Err(_) => Vec::new(),
    }
}

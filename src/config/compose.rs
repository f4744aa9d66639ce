//! `[compose]`: the templates posts are written from. Each template is compiled and rendered
//! once against a sample session here, so a typo (`{{ title | nosuchfilter }}`) is refused by
//! `check` and by a reload, never found when a post is due.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::error::Problems;
use super::event::Event;
use super::values::S;
use crate::compose::{ComposeError, Composer, Templates};
use crate::count::Counter;
use crate::network::Network;
use crate::schedule::{Point, Session, Speaker};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompose {
    #[serde(default)]
    pub title: Option<S<String>>,
    #[serde(default)]
    pub point: Option<S<String>>,
    #[serde(default)]
    pub note: Option<S<String>>,
}

/// Compiles the templates, then renders them for every network against `sessions`' first
/// session and a sample with every field filled in. A problem is placed at the template's key.
pub(super) fn validate(raw: RawCompose, event: &Event, sessions: &[Session], p: &mut Problems<'_>) -> Templates {
    let mut templates = Templates::default();
    let mut spans = Vec::new();
    for (value, slot, key) in [
        (raw.title, &mut templates.title, "compose.title"),
        (raw.point, &mut templates.point, "compose.point"),
        (raw.note, &mut templates.note, "compose.note"),
    ] {
        if let Some(v) = value {
            spans.push((key, v.span()));
            *slot = v.into_inner();
        }
    }
    let place = |name: &str| {
        let key = format!("compose.{name}");
        let span = spans.iter().find(|(k, _)| *k == key).map(|(_, s)| s.clone());
        (key, span)
    };
    let mut report = |name: &str, message: String| match place(name) {
        (key, Some(span)) => p.at(span, key, message),
        (key, None) => p.nowhere(key, message),
    };
    let composer = match Composer::new(&templates, &event.hashtags, event.timezone) {
        Ok(c) => c,
        Err(ComposeError::Template { name, source }) => {
            report(name, format!("not a valid template: {}", detail(&source)));
            return Templates::default();
        }
    };
    let sample = sample_session(event, sessions.first().map(|s| s.start));
    for session in sessions.iter().take(1).chain([&sample]) {
        for network in Network::ALL {
            let counter = Counter::default_for(network);
            let rendered = composer
                .session(session, network, &counter)
                .and_then(|_| composer.note("check", "Coffee break!", session.start, &counter));
            if let Err(ComposeError::Template { name, source }) = rendered {
                report(name, format!("cannot be rendered for session {:?}: {}", session.id, detail(&source)));
                return Templates::default();
            }
        }
    }
    templates
}

/// minijinja's message with its own causes, on one line.
fn detail(e: &minijinja::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

/// A session with every field a template can use filled in.
fn sample_session(event: &Event, at: Option<DateTime<Utc>>) -> Session {
    let start = at.unwrap_or_else(|| DateTime::<Utc>::from_timestamp(1_268_906_400, 0).unwrap_or_default());
    let end = crate::checked::saturating_add(start, chrono::Duration::minutes(45));
    Session {
        id: "sample-session".into(),
        title: "A sample session".into(),
        start,
        end,
        speakers: vec![
            Speaker {
                name: "Ada Sample".into(),
                mastodon: Some("@ada@example.social".into()),
                bluesky: Some("ada.example.social".into()),
                x: Some("ada_sample".into()),
                linkedin: Some("urn:li:person:AdaSample01".into()),
                threads: Some("ada_sample".into()),
            },
            Speaker { name: "Grace Sample".into(), ..Default::default() },
        ],
        points: vec![Point::text("A first key point."), Point::text("A second.")],
        room: Some("Room 1".into()),
        track: Some("Main track".into()),
        day: Some(start.with_timezone(&event.timezone).date_naive()),
        abstract_text: Some("What the session is about.".into()),
        suggested: Vec::new(),
        url: Some("https://example.org/sample-session".into()),
        language: event.language.clone(),
        hashtags: vec!["#sample".into()],
        images: Vec::new(),
    }
}

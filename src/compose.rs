//! Sessions -> post texts: templates, hashtags, mentions per network, threads and splitting (pure).
//!
//! A session becomes a thread: the title at its start, then each key point as a reply, spread
//! evenly through the session unless a point names its own time. A text longer than the
//! network allows is never cut: it continues in the next post of the thread.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::{context, Environment};

use crate::count::Counter;
use crate::job::Image;
use crate::network::Network;
use crate::schedule::{Session, Speaker};

/// One post of a session's thread, before it is bound to an account.
#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    /// `title`, `p1`, `p2`…; a continuation adds `-2`, `-3`: `p2-2`.
    pub item: String,
    pub text: String,
    pub at: DateTime<Utc>,
    /// Whether the item had to be split over several posts.
    pub split: bool,
    /// The item's images: on its first post only (a continuation carries text alone).
    pub images: Vec<Image>,
}

/// The minijinja templates posts are composed from (`[compose]`).
#[derive(Debug, Clone)]
pub struct Templates {
    pub title: String,
    pub point: String,
    pub note: String,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            title: "{{ title }}{% if speakers %} with {{ speakers | join(\", \") }}{% endif %}{% for tag in hashtags %} {{ tag }}{% endfor %}".into(),
            point: "{{ point }}{% for tag in hashtags %} {{ tag }}{% endfor %}".into(),
            note: "{{ text }}{% for tag in hashtags %} {{ tag }}{% endfor %}".into(),
        }
    }
}

/// Why a post could not be composed.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("template {name}: {source}")]
    Template {
        name: &'static str,
        #[source]
        source: minijinja::Error,
    },
}

/// Renders posts from the config's templates.
pub struct Composer {
    env: Environment<'static>,
    hashtags: Vec<String>,
    tz: Tz,
}

impl Composer {
    pub fn new(templates: &Templates, hashtags: &[String], tz: Tz) -> Result<Self, ComposeError> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        for (name, source) in [("title", &templates.title), ("point", &templates.point), ("note", &templates.note)] {
            env.add_template_owned(name, source.clone()).map_err(|source| ComposeError::Template { name, source })?;
        }
        Ok(Composer { env, hashtags: hashtags.to_vec(), tz })
    }

    fn render(&self, name: &'static str, ctx: minijinja::Value) -> Result<String, ComposeError> {
        let t = self.env.get_template(name).map_err(|source| ComposeError::Template { name, source })?;
        let text = t.render(ctx).map_err(|source| ComposeError::Template { name, source })?;
        Ok(tidy(&text))
    }

    /// The tags to add to `text`: the event's and `extra`, minus those already in it.
    fn tags_for(&self, text: &str, extra: &[String]) -> Vec<String> {
        let present: Vec<String> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '#'))
            .filter(|w| w.starts_with('#'))
            .map(|w| w.to_lowercase())
            .collect();
        let mut tags: Vec<String> = Vec::new();
        for tag in self.hashtags.iter().chain(extra) {
            let lower = tag.to_lowercase();
            if !present.contains(&lower) && !tags.iter().any(|t| t.to_lowercase() == lower) {
                tags.push(tag.clone());
            }
        }
        tags
    }

    /// The thread for one session on one network.
    pub fn session(&self, session: &Session, network: Network, counter: &Counter) -> Result<Vec<Piece>, ComposeError> {
        let speakers: Vec<String> = session.speakers.iter().map(|s| speaker_on(s, network)).collect();
        let local_start = session.start.with_timezone(&self.tz);
        let title = self.render(
            "title",
            context! {
                title => &session.title,
                speakers => &speakers,
                hashtags => self.tags_for(&session.title, &session.hashtags),
                room => &session.room,
                track => &session.track,
                start => local_start.format("%H:%M").to_string(),
                url => &session.url,
            },
        )?;
        let mut pieces = Vec::new();
        push_split(&mut pieces, "title", &title, session.start, counter, &session.images);
        let times = point_times(session);
        let total = session.points.len();
        for (i, (point, at)) in session.points.iter().zip(times).enumerate() {
            let text = self.render(
                "point",
                context! {
                    point => &point.text,
                    n => i + 1,
                    total => total,
                    title => &session.title,
                    speakers => &speakers,
                    hashtags => self.tags_for(&point.text, &session.hashtags),
                },
            )?;
            push_split(&mut pieces, &format!("p{}", i + 1), &text, at, counter, &point.images);
        }
        Ok(pieces)
    }

    /// One post about a whole session, for an amplifier that posts it as the session ends (a
    /// Facebook Page's digest): the title as the title template makes it, then each point on a
    /// line of its own. Never split: a Page post takes 63,206 characters.
    pub fn digest(&self, session: &Session, network: Network) -> Result<String, ComposeError> {
        let speakers: Vec<String> = session.speakers.iter().map(|s| speaker_on(s, network)).collect();
        let local_start = session.start.with_timezone(&self.tz);
        let mut text = self.render(
            "title",
            context! {
                title => &session.title,
                speakers => &speakers,
                hashtags => self.tags_for(&session.title, &session.hashtags),
                room => &session.room,
                track => &session.track,
                start => local_start.format("%H:%M").to_string(),
                url => &session.url,
            },
        )?;
        if !session.points.is_empty() {
            text.push('\n');
            for p in &session.points {
                text.push_str(&format!("\n• {}", p.text.trim()));
            }
        }
        Ok(text)
    }

    /// The approved suggestions of a session (sentences from its abstract a person approved,
    /// each with when), composed with the `point` template as items `s1`, `s2`… (the
    /// sentence's place among the suggestions). Each goes where it would have as a point,
    /// spread through the session among the suggestions, but never before it was approved.
    pub fn approved(
        &self,
        session: &Session,
        approved: &std::collections::BTreeMap<String, DateTime<Utc>>,
        network: Network,
        counter: &Counter,
    ) -> Result<Vec<Piece>, ComposeError> {
        let speakers: Vec<String> = session.speakers.iter().map(|s| speaker_on(s, network)).collect();
        let total = session.suggested.len();
        let span = (session.end - session.start).num_seconds().max(0);
        let mut pieces = Vec::new();
        for (i, text) in session.suggested.iter().enumerate() {
            let Some(when) = approved.get(text) else { continue };
            let nth = i128::try_from(i).unwrap_or(0) + 1;
            let offset = i128::from(span) * nth / (i128::try_from(total).unwrap_or(i128::MAX) + 1);
            let planned = crate::checked::saturating_add(
                session.start,
                chrono::Duration::seconds(i64::try_from(offset).unwrap_or(span)),
            );
            let rendered = self.render(
                "point",
                context! {
                    point => text,
                    n => i + 1,
                    total => total,
                    title => &session.title,
                    speakers => &speakers,
                    hashtags => self.tags_for(text, &session.hashtags),
                },
            )?;
            push_split(&mut pieces, &format!("s{}", i + 1), &rendered, planned.max(*when), counter, &[]);
        }
        Ok(pieces)
    }

    /// A standalone post (recurring or ad hoc) from the `note` template.
    pub fn note(
        &self,
        item: &str,
        text: &str,
        at: DateTime<Utc>,
        counter: &Counter,
    ) -> Result<Vec<Piece>, ComposeError> {
        let rendered = self.render("note", context! { text => text, hashtags => self.tags_for(text, &[]) })?;
        let mut pieces = Vec::new();
        push_split(&mut pieces, item, &rendered, at, counter, &[]);
        Ok(pieces)
    }
}

/// How a speaker is named on a network: a mention where we know their account there.
pub fn speaker_on(speaker: &Speaker, network: Network) -> String {
    let handle = match network {
        Network::Mastodon => speaker.mastodon.clone(),
        Network::Bluesky => speaker.bluesky.as_ref().map(|h| format!("@{h}")),
        Network::X => speaker.x.as_ref().map(|h| format!("@{h}")),
        // A mention element of LinkedIn's little text (the client leaves it unescaped).
        Network::LinkedIn => speaker.linkedin.as_deref().map(|urn| crate::count::linkedin::mention(&speaker.name, urn)),
        Network::Threads => speaker.threads.as_ref().map(|h| format!("@{h}")),
        // A Page names people by name: tagging needs their Page's id.
        Network::Facebook => None,
    };
    handle.unwrap_or_else(|| speaker.name.clone())
}

/// When each point goes out: its own time, or spread evenly between start and end.
pub fn point_times(session: &Session) -> Vec<DateTime<Utc>> {
    let n = i64::try_from(session.points.len()).unwrap_or(i64::MAX);
    let span = (session.end - session.start).num_seconds().max(0);
    session
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let nth = i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1);
            // At most `span`: no overflow, whatever the session's length.
            let offset = i128::from(span) * i128::from(nth) / (i128::from(n) + 1);
            let offset = chrono::Duration::seconds(i64::try_from(offset).unwrap_or(span));
            p.at.unwrap_or_else(|| crate::checked::saturating_add(session.start, offset))
        })
        .collect()
}

fn push_split(out: &mut Vec<Piece>, item: &str, text: &str, at: DateTime<Utc>, counter: &Counter, images: &[Image]) {
    let parts = split(text, counter);
    let split = parts.len() > 1;
    for (i, part) in parts.into_iter().enumerate() {
        let (item, images) =
            if i == 0 { (item.to_string(), images.to_vec()) } else { (format!("{item}-{}", i + 1), Vec::new()) };
        out.push(Piece { item, text: part, at, split, images });
    }
}

/// Collapses runs of spaces the templates leave and trims the ends.
fn tidy(text: &str) -> String {
    text.lines()
        .map(|l| l.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// Marks a post that continues in the next one.
pub const CONTINUED: &str = " …";

/// Room kept free in each post for a network that may have to send a thread's replies as
/// standalone numbered posts: the length of "999/999 ".
pub const NUMBERING_ROOM: usize = 8;

/// A thread's post as a standalone post: "2/4 " before its text.
pub fn numbered(n: u32, of: u32, text: &str) -> String {
    format!("{n}/{of} {text}")
}

/// Splits `text` into posts that each fit `counter`, at word boundaries (preferring the end of
/// a sentence), marking all but the last with [`CONTINUED`]. A word longer than a whole post is
/// broken between graphemes. Nothing is dropped: the parts, without their marks, joined by
/// spaces, give back the words of `text`.
pub fn split(text: &str, counter: &Counter) -> Vec<String> {
    let text = text.trim();
    if counter.fits(text) {
        return vec![text.to_string()];
    }
    let words = words_fitting(text, counter);
    let mut parts = Vec::new();
    let mut start = 0;
    while start < words.len() {
        // The longest run of words from `start` that fits with the continuation mark.
        let mut end = start + 1;
        while end < words.len() {
            let candidate = words[start..=end].join(" ");
            let fits_whole = end + 1 == words.len() && counter.fits(&candidate);
            if fits_whole || counter.fits(&format!("{candidate}{CONTINUED}")) {
                end += 1;
            } else {
                break;
            }
        }
        if end == words.len() && counter.fits(&words[start..end].join(" ")) {
            parts.push(words[start..end].join(" "));
            break;
        }
        // Prefer to break after a sentence in the second half of the run.
        let run = end - start;
        if let Some(k) = (start + run / 2..end - 1).rev().find(|&k| words[k].ends_with(['.', '!', '?', ':', ';'])) {
            end = k + 1;
        }
        parts.push(format!("{}{CONTINUED}", words[start..end].join(" ")));
        start = end;
    }
    parts
}

/// The words of `text`, with any word too long for a post (even alone) broken into pieces.
fn words_fitting(text: &str, counter: &Counter) -> Vec<String> {
    use unicode_segmentation::UnicodeSegmentation;
    let mut words = Vec::new();
    for word in text.split_whitespace() {
        if counter.fits(&format!("{word}{CONTINUED}")) {
            words.push(word.to_string());
            continue;
        }
        let mut piece = String::new();
        for g in word.graphemes(true) {
            let next = format!("{piece}{g}");
            if !piece.is_empty() && !counter.fits(&format!("{next}{CONTINUED}")) {
                words.push(std::mem::take(&mut piece));
            }
            piece.push_str(g);
        }
        if !piece.is_empty() {
            words.push(piece);
        }
    }
    words
}

#[cfg(test)]
mod tests;

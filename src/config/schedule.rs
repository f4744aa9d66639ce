//! `[schedule]`: the programme read from a published file (any format `loudhailer import`
//! reads), from a sessions file `loudhailer import` wrote, or from an address (`url`), read
//! from its last good copy in the state dir. The files are read before the config is checked
//! ([`Files`]); checking them here is pure.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::error::Problems;
use super::event::Event;
pub use super::files::Files;
use super::media::ImageContext;
use super::session;
use super::values::S;
use crate::published::rules::Source;
use crate::published::rules::{self, DEFAULT_REFRESH};
use crate::schedule::{self, ImportOptions, Schedule, Session};

/// `[schedule]` with its relative paths resolved against the config's folder, and for a `url`
/// the copy in `state_dir` as its file.
pub(super) fn resolved(raw: &S<ImportOptions>, base: &Path, state_dir: &Path) -> ImportOptions {
    let mut opts = raw.get_ref().clone();
    let url = opts.url.as_deref().and_then(|u| url::Url::parse(u.trim()).ok());
    if let (Some(url), true) = (url, opts.file.as_os_str().is_empty()) {
        opts.file = Source::new(url, DEFAULT_REFRESH, opts.allow_http, state_dir).copy;
    } else if opts.file.is_relative() {
        opts.file = base.join(&opts.file);
    }
    if let Some(f) = opts.speakers_file.as_mut().filter(|f| f.is_relative()) {
        *f = base.join(&*f);
    }
    if let Some(f) = opts.join.as_mut().filter(|f| f.is_relative()) {
        *f = base.join(&*f);
    }
    opts
}

/// The files `[schedule]` reads.
pub(super) fn wanted(opts: &ImportOptions) -> Vec<PathBuf> {
    let mut out = vec![opts.file.clone()];
    out.extend(opts.speakers_file.clone());
    out.extend(opts.join.clone());
    out
}

/// `[schedule] url` checked: the address (HTTPS unless on loopback or `allow_http`), `refresh`
/// and where the copy is kept. `None` for a `file` (or when the address is refused).
pub(super) fn source(raw: &S<ImportOptions>, state_dir: &Path, p: &mut Problems<'_>) -> Option<Source> {
    let o = raw.get_ref();
    let span = raw.span();
    let has_file = !o.file.as_os_str().is_empty();
    let Some(text) = &o.url else {
        if !has_file {
            p.at(span.clone(), "schedule", "give `file` (a schedule file) or `url` (the address it is published at)");
        }
        for (set, key) in [(o.refresh.is_some(), "refresh"), (o.allow_http, "allow_http")] {
            if set {
                p.at(span.clone(), format!("schedule.{key}"), "only goes with `url`");
            }
        }
        return None;
    };
    if has_file {
        p.at(span, "schedule", "give `file` or `url`, not both (the copy of `url` is kept in the state dir)");
        return None;
    }
    let url = match rules::check_url(text, o.allow_http) {
        Ok(u) => u,
        Err(e) => {
            p.at(span, "schedule.url", e);
            return None;
        }
    };
    let refresh = match o.refresh.as_deref().map(rules::parse_refresh) {
        None => DEFAULT_REFRESH,
        Some(Ok(d)) => d,
        Some(Err(e)) => {
            p.at(span, "schedule.refresh", e);
            return None;
        }
    };
    Some(Source::new(url, refresh, o.allow_http, state_dir))
}

/// How far a session must move to be announced ("10m" by default), when `announce_changes`.
pub const DEFAULT_ANNOUNCE_THRESHOLD: std::time::Duration = std::time::Duration::from_secs(600);

/// `announce_changes` and `announce_threshold`, checked.
pub(super) fn announce(raw: &S<ImportOptions>, p: &mut Problems<'_>) -> Option<std::time::Duration> {
    let o = raw.get_ref();
    let threshold = match o.announce_threshold.as_deref() {
        None => DEFAULT_ANNOUNCE_THRESHOLD,
        Some(text) => match humantime::parse_duration(text.trim()) {
            Ok(d) if d.as_secs() >= 60 => d,
            _ => {
                p.at(
                    raw.span(),
                    "schedule.announce_threshold",
                    format!("expected a duration of a minute or more such as \"10m\", found {text:?}"),
                );
                return None;
            }
        },
    };
    if !o.announce_changes && o.announce_threshold.is_some() {
        p.at(raw.span(), "schedule.announce_threshold", "only goes with `announce_changes = true`");
    }
    o.announce_changes.then_some(threshold)
}

/// What the sessions of `[schedule]` are read with.
pub(super) struct Context<'a> {
    /// The published programme, when `url` names one (its copy is the file).
    pub source: Option<&'a Source>,
    pub files: &'a Files,
    pub event: &'a Event,
}

/// The sessions `[schedule]` brings; their ids must not clash with the `[[session]]` ones.
pub(super) fn validate(
    raw: &S<ImportOptions>,
    opts: &ImportOptions,
    ctx: &Context<'_>,
    explicit_ids: &mut HashSet<String>,
    warnings: &mut Vec<String>,
    images: &ImageContext<'_>,
    p: &mut Problems<'_>,
) -> Vec<Session> {
    let (files, event) = (ctx.files, ctx.event);
    let span = raw.span();
    if let (Some(source), Err(_)) = (ctx.source, files.get(&opts.file)) {
        // Not fetched yet: `run` and `check` fetch it before they read the config again.
        warnings
            .push(format!("the programme at {} has not been fetched yet: no sessions from it until it is", source.url));
        return Vec::new();
    }
    // `[event] date` stands in for `[schedule] date` (a spreadsheet's first day).
    let mut opts = opts.clone();
    opts.date = opts.date.or(event.date);
    let opts = &opts;
    let imported = match files.get(&opts.file) {
        Err(e) => Err(e),
        Ok(bytes) if is_sessions_file(opts) => match std::str::from_utf8(bytes) {
            Ok(text) => {
                // Its images are named relative to its own folder.
                let base = opts.file.parent().unwrap_or(Path::new("."));
                let cx = images.based(base);
                let ids = &mut HashSet::new();
                Ok(session::sessions_file(&opts.file, text, event, ids, warnings, &cx, p).unwrap_or_default())
            }
            Err(_) => Err(format!("{}: the file is not UTF-8 text", opts.file.display())),
        },
        Ok(bytes) => {
            let speakers = match &opts.speakers_file {
                Some(path) => match files.get(path) {
                    Ok(b) => Some((path.as_path(), b)),
                    Err(e) => {
                        p.at(span.clone(), "schedule.speakers_file", e);
                        return Vec::new();
                    }
                },
                None => None,
            };
            let join = match &opts.join {
                Some(path) => match files.get(path) {
                    Ok(b) => Some((path.as_path(), b)),
                    Err(e) => {
                        p.at(span.clone(), "schedule.join", e);
                        return Vec::new();
                    }
                },
                None => None,
            };
            let input = schedule::Input { path: &opts.file, bytes, speakers, join };
            schedule::import_bytes(&input, opts, Some(event.timezone)).map_err(|e| e.to_string())
        }
    };
    let Schedule { sessions, warnings: w, .. } = match imported {
        Ok(s) => s,
        Err(e) => {
            p.at(span, "schedule.file", e);
            return Vec::new();
        }
    };
    warnings.extend(w);
    for s in &sessions {
        if !explicit_ids.insert(s.id.clone()) {
            p.at(
                span.clone(),
                "schedule",
                format!("session id {:?} is also used by a [[session]] entry; give one of them another `id`", s.id),
            );
        }
    }
    sessions
}

/// The image files a sessions file names (relative to its folder), once it has been read; none
/// when it is not a sessions file, or does not read (checking it says why).
pub(super) fn images_named(opts: &ImportOptions, files: &Files) -> Vec<PathBuf> {
    if !is_sessions_file(opts) {
        return Vec::new();
    }
    let Some(text) = files.bytes(&opts.file).and_then(|b| std::str::from_utf8(b).ok()) else {
        return Vec::new();
    };
    let base = opts.file.parent().unwrap_or(Path::new("."));
    session::sessions_file_images(text).iter().map(|f| super::media::resolve(f, base)).collect()
}

/// A `[schedule] file` ending in `.toml` holds loudhailer's own sessions, as `loudhailer import`
/// writes them: an optional `[event]` (its `timezone` and `date` read the times) and
/// `[[session]]` entries, checked exactly like the config's own.
fn is_sessions_file(opts: &ImportOptions) -> bool {
    opts.format == schedule::Format::Auto && opts.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"))
}

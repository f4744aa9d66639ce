//! `[schedule]`: the programme read from a published file (any format `loudhailer import`
//! reads) or from a sessions file `loudhailer import` wrote. The files are read before the
//! config is checked ([`Files`]); checking them here is pure.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::error::Problems;
use super::event::Event;
use super::media::ImageContext;
use super::session;
use super::values::S;
use crate::media::{self, Inspected};
use crate::schedule::{self, ImportOptions, Schedule, Session};

/// The files a config names, read before it is checked: each file's bytes, or why it could not
/// be read; and each image file's format and size, or why it cannot be posted (images are
/// inspected as they are read and their bytes let go, so a config naming many photos does not
/// hold them all in memory).
#[derive(Debug, Default)]
pub struct Files {
    read: BTreeMap<PathBuf, Result<Vec<u8>, String>>,
    images: BTreeMap<PathBuf, Result<Inspected, String>>,
}

impl Files {
    /// Reads each file (once).
    pub fn read(paths: impl IntoIterator<Item = PathBuf>) -> Files {
        let mut files = Files::default();
        for path in paths {
            files.read.entry(path).or_insert_with_key(|p| std::fs::read(p).map_err(|e| e.to_string()));
        }
        files
    }

    /// Files given in memory (tests). Image files among them are inspected when asked for.
    pub fn from_memory(files: impl IntoIterator<Item = (PathBuf, Vec<u8>)>) -> Files {
        Files { read: files.into_iter().map(|(p, b)| (p, Ok(b))).collect(), images: BTreeMap::new() }
    }

    /// Reads each image file (once), at most `cap` bytes, and keeps what [`media::inspect`]
    /// finds in it (or why it cannot be posted), not its bytes.
    pub fn read_images(&mut self, paths: impl IntoIterator<Item = PathBuf>, cap: u64) {
        for path in paths {
            self.images.entry(path).or_insert_with_key(|p| {
                let bytes = media::read(p, cap).map_err(|e| e.reason.to_string())?;
                media::inspect(&bytes).map_err(|e| e.to_string())
            });
        }
    }

    /// An image file's format and upright size, or why it cannot be posted.
    pub(super) fn image(&self, path: &Path) -> Result<Inspected, String> {
        if let Some(found) = self.images.get(path) {
            return found.clone();
        }
        match self.read.get(path) {
            Some(Ok(bytes)) => media::inspect(bytes).map_err(|e| e.to_string()),
            Some(Err(e)) => Err(format!("cannot read it: {e}")),
            None => Err("it was not read before the config was checked".into()),
        }
    }

    fn get(&self, path: &Path) -> Result<&[u8], String> {
        match self.read.get(path) {
            Some(Ok(bytes)) => Ok(bytes),
            Some(Err(e)) => Err(format!("cannot read {}: {e}", path.display())),
            None => Err(format!("cannot read {}: it was not read before the config was checked", path.display())),
        }
    }

    /// The paths read, in order (image files after the others).
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.read.keys().chain(self.images.keys()).map(PathBuf::as_path)
    }

    /// The bytes of a file read (not an image's: those are let go once inspected).
    pub(super) fn bytes(&self, path: &Path) -> Option<&[u8]> {
        self.read.get(path).and_then(|r| r.as_deref().ok())
    }

    /// Feeds every file's path and bytes (or its error) to `hash`.
    pub(super) fn digest(&self, hash: &mut sha2::Sha256) {
        use sha2::Digest;
        for (path, bytes) in &self.read {
            hash.update(path.to_string_lossy().as_bytes());
            hash.update([0]);
            match bytes {
                Ok(b) => hash.update(b),
                Err(e) => hash.update(e.as_bytes()),
            }
            hash.update([0]);
        }
    }
}

/// `[schedule]` with its relative paths resolved against the config's folder.
pub(super) fn resolved(raw: &S<ImportOptions>, base: &Path) -> ImportOptions {
    let mut opts = raw.get_ref().clone();
    if opts.file.is_relative() {
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

/// The sessions `[schedule]` brings; their ids must not clash with the `[[session]]` ones.
pub(super) fn validate(
    raw: &S<ImportOptions>,
    opts: &ImportOptions,
    event: &Event,
    explicit_ids: &mut HashSet<String>,
    warnings: &mut Vec<String>,
    images: &ImageContext<'_>,
    p: &mut Problems<'_>,
) -> Vec<Session> {
    // The files were read with the images, before checking.
    let files = images.files;
    let span = raw.span();
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

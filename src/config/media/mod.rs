//! `[media]` (the cap on an image file's size) and the images a session's title or a key point
//! carries: `images = [{ file = "slides/eqia.jpg", alt = "…" }]`. The files are read and
//! inspected before the config is checked ([`Files::read_images`]: format, size, completeness,
//! no pixel decoded); checking them here is pure.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::Problems;
use super::files::Files;
use super::values::S;
use crate::job::{Image, MAX_IMAGES};
use crate::media::{self, AltCheck, AltLimit};
use crate::network::Network;

/// `[media]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMedia {
    /// The largest image file loudhailer reads, in bytes (`50_000_000` by default).
    #[serde(default)]
    pub max_file_bytes: Option<S<i64>>,
}

/// An image as written: `{ file = "slides/eqia.jpg", alt = "The slide: …" }`. `alt` may be left
/// out only to be refused with a clear reason.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImage {
    pub file: String,
    #[serde(default)]
    pub alt: Option<String>,
}

/// What `[media]` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaSettings {
    /// The largest image file read, in bytes.
    pub max_file_bytes: u64,
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings { max_file_bytes: media::DEFAULT_MAX_FILE_BYTES }
    }
}

/// The cap may be set anywhere from a kilobyte to a gigabyte; the pixel limits (50 megapixels)
/// hold whatever it is.
const CAP_RANGE: std::ops::RangeInclusive<i64> = 1_000..=1_000_000_000;

/// The cap as written, when it is a sensible one (else the default; `validate` says why).
pub(super) fn cap(raw: Option<&RawMedia>) -> u64 {
    raw.and_then(|m| m.max_file_bytes.as_ref())
        .map(|v| *v.get_ref())
        .filter(|v| CAP_RANGE.contains(v))
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(media::DEFAULT_MAX_FILE_BYTES)
}

pub(super) fn validate(raw: Option<&RawMedia>, p: &mut Problems<'_>) -> MediaSettings {
    if let Some(v) = raw.and_then(|m| m.max_file_bytes.as_ref()) {
        if !CAP_RANGE.contains(v.get_ref()) {
            p.at(
                v.span(),
                "media.max_file_bytes",
                format!(
                    "expected a number of bytes from {} to {} (e.g. 20_000_000 for 20 MB), found {}",
                    CAP_RANGE.start(),
                    CAP_RANGE.end(),
                    v.get_ref()
                ),
            );
        }
    }
    MediaSettings { max_file_bytes: cap(raw) }
}

/// The file an image names, resolved against the folder of the file that names it.
pub(super) fn resolve(file: &str, base: &Path) -> PathBuf {
    let path = Path::new(file.trim());
    if path.is_relative() {
        base.join(path)
    } else {
        path.to_owned()
    }
}

/// What checking a list of images needs: the files as read, the folder relative names start
/// from, and the networks the images will be posted to (the primary accounts').
pub(super) struct ImageContext<'a> {
    pub files: &'a Files,
    pub base: &'a Path,
    pub networks: &'a [Network],
}

impl ImageContext<'_> {
    /// The same context for a file in another folder (a sessions file).
    pub fn based<'b>(&'b self, base: &'b Path) -> ImageContext<'b> {
        ImageContext { files: self.files, base, networks: self.networks }
    }
}

/// Checks the images of one post (`key` names its place, `span` its text): at most four, each a
/// readable image with alt text each network takes. Returns the images that passed.
pub(super) fn images(
    raw: &[RawImage],
    key: &str,
    span: Range<usize>,
    cx: &ImageContext<'_>,
    p: &mut Problems<'_>,
    warnings: &mut Vec<String>,
) -> Vec<Image> {
    if raw.len() > MAX_IMAGES {
        p.at(
            span.clone(),
            format!("{key}.images"),
            format!("{} images: a post carries at most {MAX_IMAGES} (on Mastodon, Bluesky and X alike)", raw.len()),
        );
    }
    let networks: BTreeSet<Network> = cx.networks.iter().copied().collect();
    let mut out = Vec::new();
    for (i, image) in raw.iter().enumerate() {
        let ikey = format!("{key}.images[{}]", i + 1);
        let name = image.file.trim();
        if name.is_empty() {
            p.at(span.clone(), format!("{ikey}.file"), "must name an image file");
            continue;
        }
        let path = resolve(name, cx.base);
        let Some(file) = path.to_str() else {
            p.at(span.clone(), format!("{ikey}.file"), format!("{name}: the path is not UTF-8; rename the file"));
            continue;
        };
        let mut ok = true;
        if let Err(reason) = cx.files.image(&path) {
            p.at(span.clone(), format!("{ikey}.file"), format!("{name}: {reason}"));
            ok = false;
        }
        let alt = image.alt.as_deref();
        // At least one limit, so a missing or blank alt text is refused with no account yet.
        let limits: Vec<AltLimit> = if networks.is_empty() {
            vec![AltLimit::MASTODON]
        } else {
            networks.iter().map(|&n| AltLimit::of(n)).collect()
        };
        for limit in limits {
            match media::check_alt(alt, limit) {
                Ok(AltCheck::Described { .. }) => {}
                Ok(decorative @ AltCheck::Decorative) => {
                    if let Some(w) = decorative.warning() {
                        let note = format!("{ikey}: {name}: {w}");
                        if !warnings.contains(&note) {
                            warnings.push(note);
                        }
                    }
                }
                Err(e) => {
                    p.at(span.clone(), format!("{ikey}.alt"), format!("{name}: {e}"));
                    ok = false;
                    break;
                }
            }
        }
        if ok && out.len() < MAX_IMAGES {
            out.push(Image { file: file.to_string(), alt: alt.unwrap_or_default().to_string() });
        }
    }
    out
}

#[cfg(test)]
mod tests;

//! Photos made ready to post: a user's image file → bytes each network accepts, upright, with
//! every piece of metadata (GPS position, camera, time) gone, and alt text checked.
//!
//! Pure over bytes except [`read`], which reads a file with a size cap. The steps:
//! - [`inspect`]: the format and upright size from the header, and whether the file is complete,
//!   without decoding pixels (for a config check).
//! - [`decode`]: the pixels, turned upright from the EXIF orientation, within safe limits.
//! - [`Decoded::fit`]: re-encoded for one network's [`Limits`], stepping quality and then size
//!   down until it fits. [`prepare`] is both for one network.
//! - [`check_alt`]: alt text against a network's limit, counted as that network counts.
//!
//! Every image is re-encoded from its pixels, never copied: what reaches a network is a new JPEG
//! or PNG holding pixels only, so no EXIF, XMP, IPTC, ICC profile, comment or trailer of the
//! original can survive. The tests read the output back with an EXIF reader and scan it for the
//! test photo's camera, time, GPS and XMP data. (Dropping the ICC profile means a wide-gamut
//! photo, Display P3 from a recent phone, is shown as sRGB: a little less saturated.)
//!
//! Decoding is the `image` crate's (image-rs): the maintained pure-Rust codec family (zune-jpeg,
//! png, image-webp, gif), fuzzed upstream, with limits against decompression bombs and its own
//! EXIF orientation support, so no C library and no second EXIF parser ships in the binary. PNG is
//! encoded by it too; JPEG by `jpeg-encoder` (more than twice as fast as image's own, and smaller
//! at the same quality), and resizing is `fast_image_resize`'s (8-bit fixed point: no float copy
//! of the whole photo).

mod alt;
mod fit;
mod inspect;
mod limits;

#[cfg(test)]
mod tests;
// The test photo generator, shared with the integration tests (`tests/common/photo.rs`) and the
// benchmark: one file, compiled into each, so test-only code and its EXIF-writing dependency
// stay out of the library.
#[cfg(test)]
#[path = "../../tests/common/photo.rs"]
pub(crate) mod testphoto;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use alt::{check_alt, AltCheck, AltError, AltLimit, AltUnit};
pub use fit::{decode, prepare, Decoded, Prepared};
pub use inspect::{inspect, Format, Inspected, MAX_DECODE_PIXELS, MAX_DECODE_SIDE};
pub use limits::{Encoding, Limits};

use crate::network::Network;

/// A sensible cap on an image file's size before it is read (50 MB): a 48-megapixel phone JPEG
/// is 10–25 MB, a PNG screenshot a few MB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 50_000_000;

/// Why an image cannot be posted. Says what is wrong, not where: [`MediaError::in_file`] adds the
/// file, as [`read`] does.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("cannot read it: {0}")]
    Read(std::io::Error),
    #[error("it is {} bytes, over the cap of {cap} bytes for an image file", size.map_or_else(|| format!("more than {cap}"), |s| s.to_string()))]
    FileTooLarge {
        /// `None` when the file grew while being read.
        size: Option<u64>,
        cap: u64,
    },
    #[error("not an image loudhailer can read (JPEG, PNG, WebP or GIF)")]
    NotAnImage,
    #[error("{format} images are not supported: save it as JPEG or PNG")]
    Unsupported { format: String },
    #[error("the file is incomplete ({detail}): copy it again from its source")]
    Truncated { detail: String },
    #[error("the image is damaged: {detail}")]
    Corrupt { detail: String },
    #[error(
        "{width}×{height} pixels is more than loudhailer opens ({} megapixels, {MAX_DECODE_SIDE} pixels a side): \
         scale it down first",
        MAX_DECODE_PIXELS / 1_000_000
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error(
        "cannot make it fit {network}'s limit of {max_bytes} bytes: the smallest try, {width}×{height} pixels, \
         was {smallest} bytes"
    )]
    CannotFit { network: Network, max_bytes: u64, smallest: u64, width: u32, height: u32 },
    #[error("could not encode the image: {detail}")]
    Encode { detail: String },
    #[error("{network} takes neither JPEG nor PNG images")]
    NoEncoding { network: Network },
}

impl MediaError {
    /// This error, naming the file it is about.
    pub fn in_file(self, path: &Path) -> FileError {
        FileError { path: path.to_owned(), reason: self }
    }
}

/// A [`MediaError`] with the file it is about: `slides/keynote.jpg: the file is incomplete (…)`.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub reason: MediaError,
}

/// The longest side of a report's thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 160;

/// A thumbnail of `image` for the report (a small JPEG, base64), or `None` if it cannot be made.
/// Pure.
pub fn thumbnail(image: &Decoded) -> Option<String> {
    use base64::Engine as _;
    let small = image.fit(&Limits::thumbnail(THUMBNAIL_SIDE, 24_000)).ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(small.bytes))
}

/// A digest of an image file's bytes and its alt text (hex SHA-256): an upload made from them is
/// used again only while both are unchanged.
pub fn digest(bytes: &[u8], alt: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(bytes);
    // A separator no image ends with, so bytes and alt text cannot be shifted into each other.
    hash.update(b"\0alt\0");
    hash.update(alt.as_bytes());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads an image file of at most `cap` bytes. The one function here that touches the disk.
pub fn read(path: &Path, cap: u64) -> Result<Vec<u8>, FileError> {
    let fail = |reason| MediaError::in_file(reason, path);
    let file = std::fs::File::open(path).map_err(|e| fail(MediaError::Read(e)))?;
    let meta = file.metadata().map_err(|e| fail(MediaError::Read(e)))?;
    if !meta.is_file() {
        let e = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
        return Err(fail(MediaError::Read(e)));
    }
    if meta.len() > cap {
        return Err(fail(MediaError::FileTooLarge { size: Some(meta.len()), cap }));
    }
    // Read at most one byte past the cap: a file that grows meanwhile is refused, not read whole.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| fail(MediaError::Read(e)))?;
    if bytes.len() as u64 > cap {
        return Err(fail(MediaError::FileTooLarge { size: None, cap }));
    }
    Ok(bytes)
}

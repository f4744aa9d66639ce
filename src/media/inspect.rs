//! What an image file is, read from its header and structure without decoding pixels: refuses
//! non-images, unsupported formats, incomplete files and decompression bombs early and cheaply.
//!
//! A truncated JPEG must be caught here, and a full decode would not catch it: the `image` crate
//! decodes JPEG leniently (zune-jpeg in non-strict mode fills a scan that ends early with grey and
//! reports no error, with no switch to make it strict). So [`inspect`] walks the file's segments
//! to the end-of-image marker (JPEG) or the `IEND` chunk (PNG), and checks a WebP's RIFF length:
//! one pass over the bytes that decodes no pixel (`scripts/bench --only media` times it). The walk
//! is hand-written because no maintained crate offers it alone (kamadak-exif and the decoders
//! stop at the first scan or tolerate a missing end); it reads lengths and markers only, and every
//! read is bounds-checked.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{ImageDecoder, ImageFormat, ImageReader};

use super::MediaError;

/// The most pixels loudhailer decodes (50 megapixels: 48- and 50-megapixel phone photos open;
/// a 200-megapixel one would take 600 MB and is refused, with a hint to scale it down).
pub const MAX_DECODE_PIXELS: u64 = 50_000_000;
/// The longest side loudhailer decodes, in pixels.
pub const MAX_DECODE_SIDE: u32 = 16_384;
/// The most memory a decoder may allocate: a 50-megapixel image of 16-bit RGBA.
pub(crate) const MAX_DECODE_ALLOC: u64 = MAX_DECODE_PIXELS * 8;

/// The formats loudhailer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
    /// The first frame only: an animation is posted as its first frame.
    Gif,
}

impl Format {
    pub(crate) fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::WebP => ImageFormat::WebP,
            Format::Gif => ImageFormat::Gif,
        }
    }
}

/// An image file's format and its size as it will be shown (after its EXIF orientation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspected {
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

/// The format, upright size and completeness of an image, without decoding its pixels. Pure.
pub fn inspect(bytes: &[u8]) -> Result<Inspected, MediaError> {
    let format = checked_format(bytes)?;
    let mut decoder = open(bytes, format)?;
    let (w, h) = decoder.dimensions();
    let (width, height) = if turns(decoder.orientation().map_err(decode_error)?) { (h, w) } else { (w, h) };
    Ok(Inspected { format, width, height })
}

/// The format of a file that runs to its end.
pub(crate) fn checked_format(bytes: &[u8]) -> Result<Format, MediaError> {
    let format = sniff(bytes)?;
    complete(format, bytes)?;
    Ok(format)
}

/// Whether an EXIF orientation swaps width and height.
fn turns(orientation: Orientation) -> bool {
    use Orientation::*;
    matches!(orientation, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
}

/// A decoder for a complete file in `format`, once its declared size is within
/// [`MAX_DECODE_PIXELS`] and [`MAX_DECODE_SIDE`] (checked from the header, before any pixel is
/// decoded), with the `image` crate's limits set against decompression bombs.
pub(crate) fn open(bytes: &[u8], format: Format) -> Result<impl ImageDecoder + '_, MediaError> {
    // The side limits are checked here first, so that a bomb is refused with its size.
    let mut limits = image::Limits::default();
    limits.max_image_width = None;
    limits.max_image_height = None;
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_size(width, height)?;
    limits.max_image_width = Some(MAX_DECODE_SIDE);
    limits.max_image_height = Some(MAX_DECODE_SIDE);
    decoder.set_limits(limits).map_err(decode_error)?;
    Ok(decoder)
}

fn check_size(width: u32, height: u32) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::Corrupt { detail: format!("it claims to be {width}×{height} pixels") });
    }
    if width > MAX_DECODE_SIDE || height > MAX_DECODE_SIDE || u64::from(width) * u64::from(height) > MAX_DECODE_PIXELS {
        return Err(MediaError::TooManyPixels { width, height });
    }
    Ok(())
}

/// The `image` crate's error, as a reason a user can act on.
pub(crate) fn decode_error(e: image::ImageError) -> MediaError {
    use image::ImageError as E;
    match e {
        E::Limits(l) => MediaError::Corrupt { detail: format!("it would take too much memory to open ({l})") },
        E::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated { detail: "it ends in the middle of the image data".into() }
        }
        E::Unsupported(u) => MediaError::Unsupported { format: u.to_string() },
        other => MediaError::Corrupt { detail: other.to_string() },
    }
}

/// The format, from the file's first bytes.
fn sniff(bytes: &[u8]) -> Result<Format, MediaError> {
    if let Some(name) = iso_media(bytes) {
        return Err(MediaError::Unsupported { format: name.into() });
    }
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => Ok(Format::Jpeg),
        Ok(ImageFormat::Png) => Ok(Format::Png),
        Ok(ImageFormat::WebP) => Ok(Format::WebP),
        Ok(ImageFormat::Gif) => Ok(Format::Gif),
        Ok(ImageFormat::Tiff) => Err(MediaError::Unsupported { format: "TIFF".into() }),
        Ok(ImageFormat::OpenExr) => Err(MediaError::Unsupported { format: "OpenEXR".into() }),
        // The other signatures are two to four bytes that a text file can begin with ("BM",
        // "P1"): "not an image" is the truer answer, and it lists what loudhailer reads.
        _ => Err(MediaError::NotAnImage),
    }
}

/// HEIC, HEIF and AVIF (ISO base media files): an iPhone's photos by default.
fn iso_media(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(4..8) != Some(b"ftyp") {
        return None;
    }
    match bytes.get(8..12)? {
        b"heic" | b"heix" | b"heim" | b"heis" | b"hevc" | b"hevx" | b"hevm" | b"hevs" => {
            Some("HEIC (an iPhone's default; choose \"Most Compatible\" in its camera settings, or export as JPEG)")
        }
        b"mif1" | b"msf1" => Some("HEIF"),
        b"avif" | b"avis" => Some("AVIF"),
        _ => None,
    }
}

fn truncated(detail: &str) -> MediaError {
    MediaError::Truncated { detail: detail.into() }
}

fn corrupt(detail: &str) -> MediaError {
    MediaError::Corrupt { detail: detail.into() }
}

/// Whether the file runs to its format's end marker.
fn complete(format: Format, bytes: &[u8]) -> Result<(), MediaError> {
    match format {
        Format::Jpeg => jpeg_complete(bytes),
        Format::Png => png_complete(bytes),
        Format::WebP => {
            let size = bytes.get(4..8).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
            match size {
                Some(size) if 8 + u64::from(size) <= bytes.len() as u64 => Ok(()),
                _ => Err(truncated("its RIFF header promises more bytes than the file has")),
            }
        }
        // A GIF's frames are checked by decoding the first; one cut short fails to decode.
        Format::Gif => Ok(()),
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    bytes.get(at..at + 2).map(|s| usize::from(u16::from_be_bytes([s[0], s[1]])))
}

/// Walks a JPEG's segments, and the entropy-coded data after each start of scan, to the
/// end-of-image marker (ITU T.81, B.1).
fn jpeg_complete(b: &[u8]) -> Result<(), MediaError> {
    const NO_END: &str = "no end-of-image marker";
    let mut i = 2; // after SOI, which sniff() saw
    loop {
        match b.get(i) {
            None => return Err(truncated(NO_END)),
            Some(0xFF) => {}
            Some(_) => return Err(corrupt("a JPEG segment does not start with a marker")),
        }
        while b.get(i) == Some(&0xFF) {
            i += 1; // fill bytes
        }
        let marker = *b.get(i).ok_or_else(|| truncated(NO_END))?;
        i += 1;
        match marker {
            0xD9 => return Ok(()),
            0x01 | 0xD0..=0xD7 => continue, // TEM and RSTn stand alone
            0xD8 => return Err(corrupt("a second start-of-image marker")),
            _ => {}
        }
        let len = be16(b, i).ok_or_else(|| truncated(NO_END))?;
        if len < 2 {
            return Err(corrupt("a JPEG segment with a length under 2"));
        }
        i += len;
        if i > b.len() {
            return Err(truncated("a JPEG segment runs past the end of the file"));
        }
        if marker == 0xDA {
            // Entropy-coded data: 0xFF is followed by 0x00 (a stuffed byte), RSTn, more 0xFF
            // (fill), or the next marker.
            loop {
                let at = b[i..].iter().position(|&x| x == 0xFF).ok_or_else(|| truncated(NO_END))?;
                let next = *b.get(i + at + 1).ok_or_else(|| truncated(NO_END))?;
                match next {
                    0x00 | 0xD0..=0xD7 => i += at + 2,
                    0xFF => i += at + 1,
                    _ => {
                        i += at;
                        break;
                    }
                }
            }
        }
    }
}

/// Walks a PNG's chunks to `IEND`.
fn png_complete(b: &[u8]) -> Result<(), MediaError> {
    let mut i = 8; // after the signature, which sniff() saw
    loop {
        let Some(head) = b.get(i..i + 8) else {
            return Err(truncated("no IEND chunk"));
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if len > 0x7FFF_FFFF {
            return Err(corrupt("a PNG chunk longer than the format allows"));
        }
        if &head[4..8] == b"IEND" {
            return Ok(());
        }
        // The length, type, data and CRC.
        i = i.saturating_add(12).saturating_add(len as usize);
        if i > b.len() {
            return Err(truncated("a PNG chunk runs past the end of the file"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_walk_finds_the_end_past_stuffed_bytes_and_restart_markers() {
        // SOI, a 4-byte APP0, SOS with 6-byte header, entropy data holding FF00 and FFD0, EOI.
        let good: &[u8] = &[
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xDA, 0x00, 0x04, 0x01, 0x00, 0x12, 0xFF, 0x00, 0x34,
            0xFF, 0xD0, 0x56, 0xFF, 0xFF, 0xD9,
        ];
        assert!(jpeg_complete(good).is_ok());
        for cut in 2..good.len() {
            assert!(
                matches!(jpeg_complete(&good[..cut]), Err(MediaError::Truncated { .. })),
                "cut at {cut} must be incomplete"
            );
        }
        let bad_length = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xD9];
        assert!(matches!(jpeg_complete(&bad_length), Err(MediaError::Corrupt { .. })));
        let no_marker = [0xFF, 0xD8, 0x12, 0x34];
        assert!(matches!(jpeg_complete(&no_marker), Err(MediaError::Corrupt { .. })));
    }

    #[test]
    fn heic_and_avif_are_named_when_refused() {
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        let e = sniff(heic).unwrap_err();
        assert!(e.to_string().starts_with("HEIC"), "{e}");
        assert!(matches!(sniff(b"\0\0\0\x18ftypavif"), Err(MediaError::Unsupported { .. })));
        assert!(matches!(sniff(b"II*\0rest"), Err(MediaError::Unsupported { .. })));
        assert!(matches!(sniff(b"BMW service plan"), Err(MediaError::NotAnImage)));
        assert!(matches!(sniff(b""), Err(MediaError::NotAnImage)));
    }
}

//! Decoding an image upright, and re-encoding it to fit one network's limits.

use std::borrow::Cow;

use fast_image_resize::pixels::{U8x3, U8x4, U8};
use fast_image_resize::FilterType;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{DynamicImage, GrayImage, ImageDecoder, RgbImage, RgbaImage};

use super::inspect::{checked_format, decode_error, open, Format};
use super::limits::{Encoding, Limits};
use super::MediaError;

/// JPEG qualities tried in turn at each size. 90 is visually lossless for photos; below 70,
/// blocks show in flat areas (a slide's background), so a smaller image is the better trade.
const JPEG_QUALITIES: [u8; 3] = [90, 80, 70];
/// A lower quality is tried at the same size only if the file is at most this many times the
/// limit: a JPEG shrinks by about that much from quality 90 to 70. Past it, the size steps down.
const QUALITY_REACH: f64 = 1.8;
/// Sizes step down until the longer side would be shorter than this; then the image cannot fit.
const MIN_SIDE: u32 = 32;
/// Downscaling filter: Catmull-Rom is sharp, without Lanczos' ringing, and cheaper (4 taps, not
/// 6).
const RESIZE: FilterType = FilterType::CatmullRom;

/// An image ready for posting to a network: a new file holding pixels only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub mime: &'static str,
    /// The size as shown (upright): Bluesky's `aspectRatio`.
    pub width: u32,
    pub height: u32,
}

/// An image's pixels, upright, ready to be fitted to each network in turn (decode once, fit
/// many).
#[derive(Debug, Clone)]
pub struct Decoded {
    /// RGBA only when some pixel is transparent, else RGB or grey.
    image: DynamicImage,
    format: Format,
    transparent: bool,
}

/// Decodes an image within safe limits and turns it upright from its EXIF orientation. Pure.
pub fn decode(bytes: &[u8]) -> Result<Decoded, MediaError> {
    let format = checked_format(bytes)?;
    let mut decoder = open(bytes, format)?;
    let orientation = decoder.orientation().map_err(decode_error)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    image.apply_orientation(orientation);
    let (image, transparent) = normalise(image);
    Ok(Decoded { image, format, transparent })
}

/// Decodes `bytes` and fits them to `limits`: [`decode`] then [`Decoded::fit`].
pub fn prepare(bytes: &[u8], limits: &Limits) -> Result<Prepared, MediaError> {
    decode(bytes)?.fit(limits)
}

/// 8 bits a channel; an alpha channel kept only where some pixel is not opaque.
fn normalise(image: DynamicImage) -> (DynamicImage, bool) {
    let grey = matches!(
        image.color(),
        image::ColorType::L8 | image::ColorType::L16 | image::ColorType::La8 | image::ColorType::La16
    );
    if image.color().has_alpha() {
        let rgba = match image {
            DynamicImage::ImageRgba8(rgba) => rgba,
            other => other.to_rgba8(),
        };
        if rgba.pixels().any(|p| p[3] < u8::MAX) {
            return (DynamicImage::ImageRgba8(rgba), true);
        }
        let opaque = DynamicImage::ImageRgba8(rgba);
        return (if grey { opaque.to_luma8().into() } else { opaque.to_rgb8().into() }, false);
    }
    let image = match image {
        DynamicImage::ImageRgb8(_) | DynamicImage::ImageLuma8(_) => image,
        other if grey => other.to_luma8().into(),
        other => other.to_rgb8().into(),
    };
    (image, false)
}

impl Decoded {
    /// Width as shown (upright).
    pub fn width(&self) -> u32 {
        self.image.width()
    }

    /// Height as shown (upright).
    pub fn height(&self) -> u32 {
        self.image.height()
    }

    /// The format it was read from.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether some pixel is transparent.
    pub fn has_transparency(&self) -> bool {
        self.transparent
    }

    /// A new file of these pixels that `limits` accept. Shrinks the image to the network's
    /// pixel limits first; then a transparent image is kept as PNG if that fits, and anything
    /// else is JPEG, stepping quality and then size down until it fits. Pure.
    pub fn fit(&self, limits: &Limits) -> Result<Prepared, MediaError> {
        let size = largest_size(self.width(), self.height(), limits);
        let jpeg = limits.accepts(Encoding::Jpeg);
        let png = limits.accepts(Encoding::Png);
        if self.transparent && png {
            let image = resized(&self.image, size)?;
            let bytes = encode(&image, Encoding::Png, 0)?;
            if bytes.len() as u64 <= limits.max_bytes || !jpeg {
                return step_down(&self.image, image, bytes, limits, Encoding::Png);
            }
        }
        if !jpeg {
            if png {
                let image = resized(&self.image, size)?;
                let bytes = encode(&image, Encoding::Png, 0)?;
                return step_down(&self.image, image, bytes, limits, Encoding::Png);
            }
            return Err(MediaError::NoEncoding { network: limits.network });
        }
        // JPEG has no alpha: transparent pixels are laid over white, as a viewer shows them.
        let opaque: Cow<'_, DynamicImage> = match &self.image {
            DynamicImage::ImageRgba8(rgba) if self.transparent => Cow::Owned(over_white(rgba).into()),
            image => Cow::Borrowed(image),
        };
        let image = resized(&opaque, size)?;
        let bytes = encode(&image, Encoding::Jpeg, JPEG_QUALITIES[0])?;
        step_down(&opaque, image, bytes, limits, Encoding::Jpeg)
    }
}

/// From a first try (`image` encoded as `bytes`), lower the quality, then the size, until the
/// file fits `limits.max_bytes`.
fn step_down<'a>(
    source: &'a DynamicImage,
    mut image: Cow<'a, DynamicImage>,
    mut bytes: Vec<u8>,
    limits: &Limits,
    encoding: Encoding,
) -> Result<Prepared, MediaError> {
    let qualities: &[u8] = if encoding == Encoding::Jpeg { &JPEG_QUALITIES } else { &[0] };
    let max = limits.max_bytes;
    let mut q = 0;
    loop {
        let len = bytes.len() as u64;
        if len <= max {
            return Ok(Prepared { bytes, mime: encoding.mime(), width: image.width(), height: image.height() });
        }
        if q + 1 < qualities.len() && len as f64 <= max as f64 * QUALITY_REACH {
            q += 1;
        } else {
            // Bytes grow about with the pixel count: aim just under the limit, by at least a tenth
            // and at most a half of each side per step.
            let factor = ((max as f64 / len as f64).sqrt() * 0.95).clamp(0.5, 0.9);
            let (w, h) = scaled(image.width(), image.height(), factor);
            if w.max(h) < MIN_SIDE {
                return Err(MediaError::CannotFit {
                    network: limits.network,
                    max_bytes: max,
                    smallest: len,
                    width: image.width(),
                    height: image.height(),
                });
            }
            image = resized(source, (w, h))?;
        }
        bytes = encode(&image, encoding, qualities[q])?;
    }
}

/// The largest size within the network's pixel and side limits, keeping the aspect ratio.
fn largest_size(width: u32, height: u32, limits: &Limits) -> (u32, u32) {
    let mut factor: f64 = 1.0;
    if let Some(side) = limits.max_side {
        factor = factor.min(f64::from(side) / f64::from(width.max(height)));
    }
    if let Some(pixels) = limits.max_pixels {
        factor = factor.min((pixels as f64 / (f64::from(width) * f64::from(height))).sqrt());
    }
    if factor >= 1.0 {
        return (width, height);
    }
    let (mut w, mut h) = scaled(width, height, factor);
    // Guard against rounding: step the longer side down until both limits hold.
    while limits.max_side.is_some_and(|s| w.max(h) > s)
        || limits.max_pixels.is_some_and(|p| u64::from(w) * u64::from(h) > p)
    {
        if w >= h {
            w -= 1;
        } else {
            h -= 1;
        }
        if w == 0 || h == 0 {
            return (w.max(1), h.max(1));
        }
    }
    (w, h)
}

fn scaled(width: u32, height: u32, factor: f64) -> (u32, u32) {
    let side = |n: u32| ((f64::from(n) * factor).floor() as u32).max(1);
    (side(width), side(height))
}

fn resized(source: &DynamicImage, (w, h): (u32, u32)) -> Result<Cow<'_, DynamicImage>, MediaError> {
    if (w, h) == (source.width(), source.height()) {
        return Ok(Cow::Borrowed(source));
    }
    let image = match source {
        DynamicImage::ImageRgb8(i) => {
            RgbImage::from_raw(w, h, resample::<U8x3>(i.as_raw(), i.dimensions(), (w, h))?).map(DynamicImage::ImageRgb8)
        }
        DynamicImage::ImageRgba8(i) => RgbaImage::from_raw(w, h, resample::<U8x4>(i.as_raw(), i.dimensions(), (w, h))?)
            .map(DynamicImage::ImageRgba8),
        DynamicImage::ImageLuma8(i) => {
            GrayImage::from_raw(w, h, resample::<U8>(i.as_raw(), i.dimensions(), (w, h))?).map(DynamicImage::ImageLuma8)
        }
        // normalise() leaves no other kind; were there one, it would be resized as RGB.
        other => {
            let rgb = other.to_rgb8();
            RgbImage::from_raw(w, h, resample::<U8x3>(rgb.as_raw(), rgb.dimensions(), (w, h))?)
                .map(DynamicImage::ImageRgb8)
        }
    };
    image.map(Cow::Owned).ok_or_else(|| resize_failed(&"the resized buffer has the wrong size"))
}

fn resize_failed(e: &dyn std::fmt::Display) -> MediaError {
    MediaError::Encode { detail: format!("resizing: {e}") }
}

/// `from` (8-bit pixels of type `P`, `from_size`) resampled to `to_size`. Typed, so that only the
/// three pixel types used here are compiled (fast_image_resize's untyped `resize` compiles all 14).
fn resample<P: fast_image_resize::PixelTrait>(
    from: &[u8],
    (fw, fh): (u32, u32),
    (w, h): (u32, u32),
) -> Result<Vec<u8>, MediaError> {
    use fast_image_resize::images::{TypedImage, TypedImageRef};
    use fast_image_resize::{ResizeAlg, ResizeOptions, Resizer};
    let source = TypedImageRef::<P>::from_buffer(fw, fh, from).map_err(|e| resize_failed(&e))?;
    let mut out = vec![0u8; w as usize * h as usize * P::size()];
    let mut target = TypedImage::<P>::from_buffer(w, h, &mut out).map_err(|e| resize_failed(&e))?;
    // Transparent pixels are premultiplied while resizing (use_alpha), so no dark fringes.
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(RESIZE)).use_alpha(true);
    Resizer::new().resize_typed(&source, &mut target, &options).map_err(|e| resize_failed(&e))?;
    Ok(out)
}

fn over_white(rgba: &RgbaImage) -> RgbImage {
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let p = rgba.get_pixel(x, y).0;
        let a = u16::from(p[3]);
        let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
    })
}

/// A new file holding the pixels only: neither encoder is given any metadata (jpeg-encoder
/// writes a JFIF header, no more).
fn encode(image: &DynamicImage, encoding: Encoding, quality: u8) -> Result<Vec<u8>, MediaError> {
    let failed = |e: &dyn std::fmt::Display| MediaError::Encode { detail: e.to_string() };
    let mut out = Vec::new();
    match encoding {
        Encoding::Jpeg => {
            let (color, raw) = match image {
                DynamicImage::ImageLuma8(grey) => (jpeg_encoder::ColorType::Luma, Cow::Borrowed(grey.as_raw())),
                DynamicImage::ImageRgb8(rgb) => (jpeg_encoder::ColorType::Rgb, Cow::Borrowed(rgb.as_raw())),
                other => (jpeg_encoder::ColorType::Rgb, Cow::Owned(other.to_rgb8().into_raw())),
            };
            let (Ok(w), Ok(h)) = (u16::try_from(image.width()), u16::try_from(image.height())) else {
                return Err(failed(&"a JPEG is at most 65,535 pixels a side"));
            };
            let mut encoder = jpeg_encoder::Encoder::new(&mut out, quality);
            // 4:2:0 chroma, averaged, as cameras write photos.
            encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
            // No optimised Huffman tables (5 % smaller): jpeg-encoder then writes each colour
            // component in a scan of its own, which zune-jpeg 0.5 (the `image` crate's decoder)
            // decodes to garbage with 4:2:0 chroma (etemesi254/zune-image#422), and it holds every
            // coefficient in memory (another 145 MB for 12 megapixels).
            encoder.encode(&raw, w, h, color).map_err(|e| failed(&e))?;
        }
        Encoding::Png => {
            let encoder = PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive);
            image.write_with_encoder(encoder).map_err(|e| failed(&e))?;
        }
    }
    Ok(out)
}

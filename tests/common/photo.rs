//! Test photos made on the spot: a 12-megapixel phone JPEG that knows too much (GPS position,
//! camera, time, an XMP packet and a comment) and is stored sideways (EXIF orientation 6), and a
//! PNG with transparency.
//!
//! One file for every test that needs them: the integration tests (`mod common;`), the media
//! unit tests (`src/media/mod.rs` includes it with `#[path]`) and the benchmark
//! (`examples/bench/media.rs`). It uses only the `image` crate and the `kamadak-exif`
//! dev-dependency, so it compiles in each of them and nothing of it ships in the library.
#![allow(dead_code)]

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageEncoder, RgbImage, RgbaImage};

/// The photo as stored: landscape, to be turned 90° clockwise for display.
pub const STORED: (u32, u32) = (4000, 3000);
/// The photo as shown.
pub const UPRIGHT: (u32, u32) = (3000, 4000);
/// EXIF orientation 6: the 0th row is the right-hand side; turn 90° clockwise to show it.
pub const ORIENTATION: u16 = 6;
pub const MAKE: &str = "Loudhailer Test Camera Co";
pub const MODEL: &str = "LTC Phone 12 Pro";
pub const DATE_TIME: &str = "2024:02:03 10:30:00";
/// FOSDEM's venue, the ULB Solbosch campus in Brussels: 50° 48' 47.16" N, 4° 22' 54.84" E.
pub const LATITUDE: [(u32, u32); 3] = [(50, 1), (48, 1), (4716, 100)];
pub const LONGITUDE: [(u32, u32); 3] = [(4, 1), (22, 1), (5484, 100)];
pub const XMP_SECRET: &str = "Home, 12 Rue Imaginaire, Ixelles";
pub const COMMENT: &str = "Taken from row 7, seat 12";

/// Byte strings of the photo's metadata: none of them may appear in what loudhailer sends.
pub fn telltales() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("EXIF header", b"Exif\0\0".to_vec()),
        ("XMP namespace", b"http://ns.adobe.com/xap/1.0/".to_vec()),
        ("camera make", MAKE.as_bytes().to_vec()),
        ("camera model", MODEL.as_bytes().to_vec()),
        ("date and time", DATE_TIME.as_bytes().to_vec()),
        ("XMP home address", XMP_SECRET.as_bytes().to_vec()),
        ("comment", COMMENT.as_bytes().to_vec()),
    ]
}

/// The 4000×3000 photo (a few MB), made once per process.
pub fn photo() -> &'static [u8] {
    static PHOTO: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PHOTO.get_or_init(|| phone_photo(STORED.0, STORED.1, 92, ORIENTATION))
}

/// A phone photo of any stored size and EXIF orientation (1–8) with all the metadata above, at
/// JPEG `quality`.
pub fn phone_photo(width: u32, height: u32, quality: u8, orientation: u16) -> Vec<u8> {
    let mut jpeg = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut jpeg, quality);
    encoder.set_exif_metadata(exif_tiff(orientation)).expect("the JPEG encoder takes EXIF");
    encoder
        .write_image(scene(width, height).as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .expect("encoding");
    // After SOI: an XMP packet (APP1) and a comment (COM), as phones and editors leave them.
    let xmp = format!(
        "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF \
         xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"><rdf:Description \
         xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" \
         xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\" exif:GPSLatitude=\"50,48.786N\" \
         exif:GPSLongitude=\"4,22.914E\" photoshop:Location=\"{XMP_SECRET}\"/></rdf:RDF></x:xmpmeta>"
    );
    let mut out = jpeg[..2].to_vec();
    out.extend(segment(0xE1, xmp.as_bytes()));
    out.extend(segment(0xFE, COMMENT.as_bytes()));
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len() + 2).expect("a JPEG segment is under 64 KiB");
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&len.to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// The EXIF block (a TIFF structure): camera, time, GPS and orientation.
pub fn exif_tiff(orientation: u16) -> Vec<u8> {
    let ascii = |s: &str| Value::Ascii(vec![s.as_bytes().to_vec()]);
    let rationals =
        |r: [(u32, u32); 3]| Value::Rational(r.iter().map(|&(num, denom)| Rational { num, denom }).collect());
    let fields = [
        Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: ascii(MAKE) },
        Field { tag: Tag::Model, ifd_num: In::PRIMARY, value: ascii(MODEL) },
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![orientation]) },
        Field { tag: Tag::DateTime, ifd_num: In::PRIMARY, value: ascii(DATE_TIME) },
        Field { tag: Tag::DateTimeOriginal, ifd_num: In::PRIMARY, value: ascii(DATE_TIME) },
        Field { tag: Tag::GPSVersionID, ifd_num: In::PRIMARY, value: Value::Byte(vec![2, 3, 0, 0]) },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: ascii("N") },
        Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: rationals(LATITUDE) },
        Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: ascii("E") },
        Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: rationals(LONGITUDE) },
    ];
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).expect("writing EXIF");
    tiff.into_inner()
}

/// A scene with detail everywhere (gradients under noise, so the JPEG is genuinely large; never
/// red) and a red block in the stored top-left corner: after orientation 6 it is in the shown top-right.
pub fn scene(width: u32, height: u32) -> RgbImage {
    let mut seed: u64 = 0x5eed_1e55_c0ff_ee00;
    let mut noise = move || {
        // xorshift64*: deterministic, fast, good enough for texture.
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as i32 - 128
    };
    RgbImage::from_fn(width, height, |x, y| {
        let marker = x < width / 4 && y < height / 4;
        let (r, g, b) = if marker {
            (230, 20, 20)
        } else {
            (20 + (x * 100 / width) as i32, 60 + (y * 150 / height) as i32, 90 + ((x + y) % 97) as i32)
        };
        let n = noise() / 6;
        let px = |c: i32| (c + n).clamp(0, 255) as u8;
        image::Rgb([px(r), px(g), px(b)])
    })
}

/// A PNG logo-like image with a transparent background and an opaque disc.
pub fn transparent_png(width: u32, height: u32) -> Vec<u8> {
    let (cx, cy, r) = (width as f32 / 2.0, height as f32 / 2.0, width.min(height) as f32 / 3.0);
    let image = RgbaImage::from_fn(width, height, |x, y| {
        let inside = (x as f32 - cx).hypot(y as f32 - cy) < r;
        if inside {
            image::Rgba([20, 90, 200, 255])
        } else {
            image::Rgba([0, 0, 0, 0])
        }
    });
    png(&DynamicImage::ImageRgba8(image))
}

pub fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).expect("encoding PNG");
    out.into_inner()
}

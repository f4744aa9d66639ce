//! The media pipeline end to end on a real 12-megapixel phone photo: fits, upright, private; and
//! every way a file can be refused.

use std::io::Cursor;

use image::{DynamicImage, GenericImageView, RgbaImage};
use serde_json::json;

use super::testphoto::{self as photo, UPRIGHT};
use super::*;

/// A Mastodon 4.4+ server's limits, as its `/api/v2/instance` documents them.
fn mastodon_v2() -> Limits {
    Limits::from_mastodon_instance(&json!({"configuration": {"media_attachments": {
        "description_limit": 1500, "image_matrix_limit": 33177600, "image_size_limit": 16777216,
        "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"]
    }}}))
}

fn every_network() -> Vec<(&'static str, Limits)> {
    vec![
        ("bluesky", Limits::bluesky()),
        ("x", Limits::x()),
        ("mastodon (defaults)", Limits::mastodon_default()),
        ("mastodon 4.4+", mastodon_v2()),
    ]
}

/// The markers before a JPEG's first scan, e.g. `[0xE0, 0xDB, 0xC0, 0xC4, 0xDA]`.
fn jpeg_markers(bytes: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut i = 2;
    while i + 4 <= bytes.len() && bytes[i] == 0xFF {
        let marker = bytes[i + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        i += 2 + usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
    }
    markers
}

fn exif_of(bytes: &[u8]) -> Result<exif::Exif, exif::Error> {
    exif::Reader::new().read_from_container(&mut Cursor::new(bytes))
}

fn is_red(p: image::Rgba<u8>) -> bool {
    p[0] > 150 && p[1] < 90 && p[2] < 90
}

/// Where the stored top-left red block is once shown: (right half?, bottom half?).
fn red_corner(image: &DynamicImage) -> Option<(bool, bool)> {
    let (w, h) = image.dimensions();
    let corners = [(false, false), (true, false), (false, true), (true, true)];
    let found: Vec<_> = corners
        .into_iter()
        .filter(|&(right, bottom)| {
            let x = if right { w - 1 - w / 10 } else { w / 10 };
            let y = if bottom { h - 1 - h / 10 } else { h / 10 };
            is_red(image.get_pixel(x, y))
        })
        .collect();
    (found.len() == 1).then(|| found[0])
}

#[test]
fn the_test_photo_carries_everything_that_must_not_leak() {
    let bytes = photo::photo();
    assert!(bytes.len() > 3_000_000, "the test photo is a genuinely large JPEG: {} bytes", bytes.len());
    let exif = exif_of(bytes).expect("the photo has EXIF");
    let field = |tag| exif.get_field(tag, exif::In::PRIMARY).map(|f| f.display_value().to_string());
    assert_eq!(field(exif::Tag::Orientation).as_deref(), Some("row 0 at right and column 0 at top"));
    assert_eq!(field(exif::Tag::Make).as_deref(), Some(format!("\"{}\"", photo::MAKE).as_str()));
    assert_eq!(field(exif::Tag::Model).as_deref(), Some(format!("\"{}\"", photo::MODEL).as_str()));
    assert!(field(exif::Tag::DateTimeOriginal).is_some());
    assert!(
        field(exif::Tag::GPSLatitude).is_some_and(|v| v.starts_with("50 deg 48 min")),
        "{:?}",
        field(exif::Tag::GPSLatitude)
    );
    assert!(field(exif::Tag::GPSLongitude).is_some_and(|v| v.starts_with("4 deg 22 min")));
    for (what, telltale) in photo::telltales() {
        assert!(bytes.windows(telltale.len()).any(|w| w == telltale), "the photo should hold its {what}");
    }
    let seen = inspect(bytes).unwrap();
    assert_eq!((seen.format, seen.width, seen.height), (Format::Jpeg, UPRIGHT.0, UPRIGHT.1));
}

#[test]
fn the_photo_prepared_for_each_network_fits_is_upright_and_keeps_no_metadata() {
    let decoded = decode(photo::photo()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), UPRIGHT);
    for (name, limits) in every_network() {
        let out = decoded.fit(&limits).unwrap();
        assert!(out.bytes.len() as u64 <= limits.max_bytes, "{name}: {} bytes", out.bytes.len());
        assert_eq!(out.mime, "image/jpeg", "{name}");
        assert!(limits.max_side.is_none_or(|s| out.width.max(out.height) <= s), "{name}: {}×{}", out.width, out.height);
        assert!(limits.max_pixels.is_none_or(|p| u64::from(out.width) * u64::from(out.height) <= p), "{name}");
        // Upright: portrait 3:4, the stored top-left red block now top-right.
        let shown = image::load_from_memory(&out.bytes).unwrap();
        assert_eq!(shown.dimensions(), (out.width, out.height), "{name}");
        let ratio = f64::from(out.width) / f64::from(out.height);
        assert!((ratio - 0.75).abs() < 0.01, "{name}: {}×{}", out.width, out.height);
        assert_eq!(red_corner(&shown), Some((true, false)), "{name}: the red block should be top right");
        // Private: no EXIF an EXIF reader can find, no metadata segment, none of the values.
        let found = exif_of(&out.bytes).map(|e| e.fields().map(|f| f.tag.to_string()).collect::<Vec<_>>());
        assert!(matches!(found, Err(exif::Error::NotFound(_))), "{name}: {found:?}");
        let markers = jpeg_markers(&out.bytes);
        assert!(
            markers.iter().all(|&m| m == 0xE0 || !(0xE1..=0xEF).contains(&m) && m != 0xFE),
            "{name}: only JFIF's APP0 may precede the image, found {markers:02X?}"
        );
        for (what, telltale) in photo::telltales() {
            assert!(!out.bytes.windows(telltale.len()).any(|w| w == telltale), "{name}: the {what} leaked");
        }
    }
    // Faithful: X takes the photo at full size; its pixels are the source's, turned upright.
    let source = image::load_from_memory(photo::photo()).unwrap().rotate90().to_rgb8();
    let x = image::load_from_memory(&decoded.fit(&Limits::x()).unwrap().bytes).unwrap().to_rgb8();
    assert_eq!(x.dimensions(), source.dimensions());
    let error = x.as_raw().iter().zip(source.as_raw()).map(|(a, b)| u64::from(a.abs_diff(*b))).sum::<u64>() as f64
        / source.as_raw().len() as f64;
    assert!(error < 8.0, "mean error per channel {error:.1}");
    // Decoding once and fitting many is the same as preparing each.
    assert_eq!(prepare(photo::photo(), &Limits::bluesky()).unwrap(), decoded.fit(&Limits::bluesky()).unwrap());
}

#[test]
fn every_exif_orientation_is_turned_upright() {
    // (orientation, shown size of a 80×60 stored image, where the stored top-left block ends up)
    let cases = [
        (1, (80, 60), (false, false)),
        (2, (80, 60), (true, false)),
        (3, (80, 60), (true, true)),
        (4, (80, 60), (false, true)),
        (5, (60, 80), (false, false)),
        (6, (60, 80), (true, false)),
        (7, (60, 80), (true, true)),
        (8, (60, 80), (false, true)),
    ];
    for (orientation, size, corner) in cases {
        let bytes = photo::phone_photo(80, 60, 95, orientation);
        let seen = inspect(&bytes).unwrap();
        assert_eq!((seen.width, seen.height), size, "orientation {orientation}: inspect");
        let out = prepare(&bytes, &Limits::x()).unwrap();
        assert_eq!((out.width, out.height), size, "orientation {orientation}");
        let shown = image::load_from_memory(&out.bytes).unwrap();
        assert_eq!(red_corner(&shown), Some(corner), "orientation {orientation}");
    }
}

#[test]
fn each_readable_format_is_decoded() {
    let scene = DynamicImage::ImageRgb8(photo::scene(64, 48));
    let encoded = |format| {
        let mut out = Cursor::new(Vec::new());
        scene.to_rgba8().write_to(&mut out, format).unwrap();
        out.into_inner()
    };
    for (format, bytes) in [
        (Format::Png, photo::png(&scene)),
        (Format::WebP, encoded(image::ImageFormat::WebP)),
        (Format::Gif, encoded(image::ImageFormat::Gif)),
        (Format::Jpeg, photo::phone_photo(64, 48, 90, 1)),
    ] {
        let seen = inspect(&bytes).unwrap();
        assert_eq!((seen.format, seen.width, seen.height), (format, 64, 48));
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.format(), format);
        assert!(!decoded.has_transparency(), "{format:?}: opaque pixels in an RGBA file are not transparency");
        let out = decoded.fit(&Limits::x()).unwrap();
        assert_eq!((out.mime, out.width, out.height), ("image/jpeg", 64, 48), "{format:?}");
    }
}

#[test]
fn a_transparent_png_stays_png_where_it_fits_and_is_laid_on_white_where_it_cannot() {
    let logo = photo::transparent_png(800, 600);
    let out = prepare(&logo, &Limits::bluesky()).unwrap();
    assert_eq!((out.mime, out.width, out.height), ("image/png", 800, 600));
    let shown = image::load_from_memory(&out.bytes).unwrap();
    assert_eq!(shown.get_pixel(0, 0)[3], 0, "the corner stays transparent");
    assert_eq!(shown.get_pixel(400, 300), image::Rgba([20, 90, 200, 255]));

    // A server that takes JPEG only: the transparent corner becomes white, not black.
    let jpeg_only = Limits::from_mastodon_instance(&json!({"configuration": {"media_attachments": {
        "supported_mime_types": ["image/jpeg"]
    }}}));
    let out = prepare(&logo, &jpeg_only).unwrap();
    assert_eq!(out.mime, "image/jpeg");
    let corner = image::load_from_memory(&out.bytes).unwrap().get_pixel(0, 0);
    assert!(corner.0[..3].iter().all(|&c| c > 245), "{corner:?}");

    // Transparency too detailed for PNG within the limit: JPEG at the same size.
    let scene = photo::scene(600, 600);
    let noisy = RgbaImage::from_fn(600, 600, |x, y| {
        let [r, g, b] = scene.get_pixel(x, y).0;
        image::Rgba([r, g, b, if x < 300 { 0 } else { 255 }])
    });
    let noisy = photo::png(&DynamicImage::ImageRgba8(noisy));
    let mut tight = Limits::bluesky();
    tight.max_bytes = 300_000;
    assert!(noisy.len() as u64 > tight.max_bytes, "the test needs a PNG over the limit: {}", noisy.len());
    let out = prepare(&noisy, &tight).unwrap();
    assert_eq!(out.mime, "image/jpeg");
    assert!(out.bytes.len() as u64 <= tight.max_bytes);
}

/// A PNG that declares `width`×`height` with a tiny body: what a decompression bomb looks like.
fn declared_png(width: u32, height: u32) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        c.extend_from_slice(&crc.finalize().to_be_bytes());
        c
    };
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(chunk(b"IEND", b""));
    png
}

#[test]
fn bad_files_are_refused_with_the_reason() {
    let photo = photo::photo();
    let cut_jpeg = &photo[..photo.len() * 6 / 10];
    let logo = photo::transparent_png(200, 100);
    let cut_png = &logo[..logo.len() - 20];
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    // (what, bytes, does the reason fit?, words the message must hold)
    type Check = fn(&MediaError) -> bool;
    let cases: Vec<(&str, Vec<u8>, Check, &str)> = vec![
        ("text", b"speaker: Ada Lovelace\n".to_vec(), |e| matches!(e, MediaError::NotAnImage), "not an image"),
        ("empty", Vec::new(), |e| matches!(e, MediaError::NotAnImage), "JPEG, PNG, WebP or GIF"),
        ("truncated JPEG", cut_jpeg.to_vec(), |e| matches!(e, MediaError::Truncated { .. }), "incomplete"),
        ("truncated PNG", cut_png.to_vec(), |e| matches!(e, MediaError::Truncated { .. }), "incomplete"),
        ("HEIC", heic, |e| matches!(e, MediaError::Unsupported { .. }), "HEIC"),
        ("bomb", declared_png(100_000, 100_000), |e| matches!(e, MediaError::TooManyPixels { .. }), "100000×100000"),
        (
            "51 megapixels",
            declared_png(16_000, 3_200),
            |e| matches!(e, MediaError::TooManyPixels { width: 16_000, height: 3_200 }),
            "scale it down",
        ),
        ("zero pixels", declared_png(0, 10), |e| matches!(e, MediaError::Corrupt { .. }), "damaged"),
    ];
    for (what, bytes, fits, words) in cases {
        for (step, result) in [("inspect", inspect(&bytes).err()), ("prepare", prepare(&bytes, &Limits::x()).err())] {
            let e = result.unwrap_or_else(|| panic!("{what}: {step} should refuse it"));
            assert!(fits(&e), "{what}: {step} gave {e:?}");
            let message = e.in_file(std::path::Path::new("photos/room.jpg")).to_string();
            assert!(message.starts_with("photos/room.jpg: ") && message.contains(words), "{what}: {message}");
        }
    }
}

#[test]
fn an_image_that_cannot_fit_says_how_close_it_came() {
    let mut tiny = Limits::x();
    tiny.max_bytes = 100;
    let e = prepare(photo::photo(), &tiny).unwrap_err();
    let MediaError::CannotFit { network, max_bytes, smallest, width, height } = e else {
        panic!("expected CannotFit, got {e:?}");
    };
    assert_eq!((network, max_bytes), (Network::X, 100));
    assert!(smallest > 100 && width.max(height) < 64, "{smallest} bytes at {width}×{height}");
    let message = e.to_string();
    assert!(message.contains("cannot make it fit x's limit of 100 bytes"), "{message}");

    let mut neither = Limits::bluesky();
    neither.encodings.clear();
    assert!(matches!(prepare(&photo::transparent_png(10, 10), &neither), Err(MediaError::NoEncoding { .. })));
}

#[test]
fn read_refuses_a_file_over_the_cap_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keynote.jpg");
    std::fs::write(&path, photo::phone_photo(64, 48, 90, 1)).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    assert_eq!(read(&path, size).unwrap().len() as u64, size);
    let e = read(&path, size - 1).unwrap_err();
    assert!(matches!(e.reason, MediaError::FileTooLarge { size: Some(s), .. } if s == size), "{e:?}");
    let message = e.to_string();
    assert!(message.contains("keynote.jpg") && message.contains("over the cap"), "{message}");

    let missing = read(&dir.path().join("gone.jpg"), 1000).unwrap_err();
    assert!(matches!(missing.reason, MediaError::Read(_)) && missing.to_string().contains("gone.jpg"));
    let a_dir = read(dir.path(), 1000).unwrap_err();
    assert!(a_dir.to_string().contains("not a regular file"), "{a_dir}");
}

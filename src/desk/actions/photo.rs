//! `POST /api/photo`: a photo from the phone's camera or gallery, sent as the request's body
//! (no multipart: one file, its bytes as they are), checked to be a complete JPEG, PNG, WebP or
//! GIF within the desk's cap and kept in the state dir under its digest; the answer names it
//! for the post that attaches it ([`attached`]), with its alt text. The metadata (GPS position,
//! camera, time) is stripped when the post is sent, as for the config's photos.

use std::path::{Path, PathBuf};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::super::{answer, Shared};
use crate::control::ops::keep_photo;
use crate::job::Image;

/// The extensions [`keep_photo`] names its files with.
const KINDS: [&str; 4] = ["jpg", "png", "webp", "gif"];

/// A size in words: "20 MB", "750 KB".
pub fn size_text(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        if bytes.is_multiple_of(1_000_000) {
            format!("{} MB", bytes / 1_000_000)
        } else {
            format!("{:.1} MB", bytes as f64 / 1_000_000.0)
        }
    } else {
        format!("{} KB", bytes.div_ceil(1000))
    }
}

/// Keeps the photo and answers its name, or says why it was refused (not an image, incomplete,
/// too large).
pub async fn upload(State(s): State<Shared>, body: Bytes) -> Response {
    if body.is_empty() {
        return answer(StatusCode::UNPROCESSABLE_ENTITY, false, "no photo was sent: choose one again");
    }
    let (dir, cap, size) = (s.state_dir.clone(), s.photo_cap, body.len() as u64);
    // Reading the header and writing the file are blocking work: off the runtime's threads.
    match tokio::task::spawn_blocking(move || keep_photo(&dir, &body, cap)).await {
        Ok(Ok(path)) => match path.file_name().and_then(|n| n.to_str()) {
            Some(name) => (
                StatusCode::OK,
                Json(serde_json::json!({
                    "ok": true,
                    "photo": name,
                    "message": format!("photo ready ({}); describe it below", size_text(size)),
                })),
            )
                .into_response(),
            None => answer(StatusCode::INTERNAL_SERVER_ERROR, false, "the photo could not be kept"),
        },
        Ok(Err(e)) => answer(StatusCode::UNPROCESSABLE_ENTITY, false, e.to_string()),
        Err(_) => answer(StatusCode::INTERNAL_SERVER_ERROR, false, "the photo could not be kept"),
    }
}

/// Where a name the upload answered is kept: 32 hex digits and a photo's extension inside
/// `photos/`, nothing else (so a request cannot name any other file).
pub fn kept_path(state_dir: &Path, name: &str) -> Option<PathBuf> {
    let (stem, ext) = name.split_once('.')?;
    let ok = stem.len() == 32
        && stem.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && KINDS.contains(&ext);
    ok.then(|| state_dir.join("photos").join(name))
}

/// The images a post from the desk attaches: each a photo uploaded before and still kept, with
/// alt text (required on the desk: the delegate is asked to describe every photo).
pub fn attached(state_dir: &Path, photos: &[(String, String)]) -> Result<Vec<Image>, String> {
    let mut out = Vec::with_capacity(photos.len());
    for (name, alt) in photos {
        let alt = alt.trim();
        if alt.is_empty() {
            return Err(
                "describe the photo first: its alt text is required (what it shows, for people who cannot see it)"
                    .into(),
            );
        }
        let path = kept_path(state_dir, name).ok_or_else(|| format!("{name:?} is not a photo the desk took"))?;
        if !path.is_file() {
            return Err("the photo is no longer on the desk: choose it again".into());
        }
        let file = path.to_str().ok_or("the state dir's path is not UTF-8: photos cannot be named")?;
        out.push(Image { file: file.to_string(), alt: alt.to_string() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_text(20_000_000), "20 MB");
        assert_eq!(size_text(2_500_000), "2.5 MB");
        assert_eq!(size_text(750_000), "750 KB");
        assert_eq!(size_text(1), "1 KB");
    }

    #[test]
    fn only_a_kept_photos_name_is_taken() {
        let dir = Path::new("/state");
        let good = format!("{}.jpg", "0123456789abcdef".repeat(2));
        assert_eq!(kept_path(dir, &good), Some(dir.join("photos").join(&good)));
        for bad in [
            "../config.toml".to_string(),
            format!("{}.toml", "0".repeat(32)),
            format!("{}.jpg", "0".repeat(31)),
            format!("{}.jpg", "A".repeat(32)),
            format!("../{}.jpg", "0".repeat(29)),
            format!("{}.jpg/..", "0".repeat(32)),
            String::new(),
        ] {
            assert_eq!(kept_path(dir, &bad), None, "{bad}");
        }
    }

    #[test]
    fn a_photo_needs_its_alt_text_and_must_still_be_kept() {
        let dir = tempfile::tempdir().unwrap();
        let name = format!("{}.png", "a".repeat(32));
        std::fs::create_dir_all(dir.path().join("photos")).unwrap();
        let missing = attached(dir.path(), &[(name.clone(), "A full room".into())]).unwrap_err();
        assert!(missing.contains("no longer on the desk"), "{missing}");
        std::fs::write(dir.path().join("photos").join(&name), b"png").unwrap();
        let images = attached(dir.path(), &[(name.clone(), "  A full room ".into())]).unwrap();
        assert_eq!(images[0].alt, "A full room");
        assert!(images[0].path().ends_with(format!("photos/{name}")));
        let no_alt = attached(dir.path(), &[(name.clone(), " ".into())]).unwrap_err();
        assert!(no_alt.contains("alt text is required"), "{no_alt}");
        assert!(attached(dir.path(), &[("x.jpg".into(), "alt".into())]).unwrap_err().contains("not a photo the desk"));
    }
}

//! Images in the config: where they are read from, and every way one is refused by `check`.

use std::path::{Path, PathBuf};

use crate::config::tests::minimal;
use crate::config::{Config, Files, Problem};
use crate::media::testphoto;

/// A small phone photo (with EXIF, stored sideways) and a few non-photos, in memory.
fn files() -> Files {
    let photo = testphoto::phone_photo(160, 120, 80, 6);
    let cut = photo[..photo.len() - 200].to_vec();
    Files::from_memory([
        (PathBuf::from("/event/slides/eqia.jpg"), photo.clone()),
        (PathBuf::from("/event/room.jpg"), photo),
        (PathBuf::from("/event/cut.jpg"), cut),
        (PathBuf::from("/event/notes.txt"), b"Speaker notes, not a picture".to_vec()),
        (PathBuf::from("/event/logo.png"), testphoto::transparent_png(40, 30)),
    ])
}

fn parse(text: &str) -> Result<Config, Vec<Problem>> {
    Config::parse_with(Path::new("/event/event.toml"), text, &files()).map_err(|e| e.problems().to_vec())
}

fn session(images: &str, points: &str) -> String {
    minimal(&format!(
        "\n[[session]]\nid = \"eqia\"\ntitle = \"Equality impact\"\nstart = \"10:00\"\nend = \"10:45\"\nimages = {images}\npoints = {points}\n"
    ))
}

#[test]
fn titles_and_points_carry_images_read_relative_to_the_config() {
    let text = session(
        r#"[{ file = "slides/eqia.jpg", alt = "The slide: Equality impact assessment" }]"#,
        r#"["A plain point", { text = "With a photo", images = [{ file = "room.jpg", alt = "The room, full" }, { file = "/event/logo.png", alt = "" }] }, { text = "Timed", at = "10:30" }]"#,
    );
    let c = parse(&text).unwrap();
    let s = &c.sessions.to_vec()[0];
    assert_eq!(s.images.len(), 1);
    assert_eq!(s.images[0].file, "/event/slides/eqia.jpg");
    assert_eq!(s.images[0].alt, "The slide: Equality impact assessment");
    assert!(s.points[0].images.is_empty());
    let files: Vec<&str> = s.points[1].images.iter().map(|i| i.file.as_str()).collect();
    assert_eq!(files, ["/event/room.jpg", "/event/logo.png"]);
    assert_eq!(s.points[2].at.map(|t| t.to_rfc3339()).as_deref(), Some("2010-03-18T10:30:00+00:00"));
    // The decorative image is allowed, with a warning that names it.
    assert!(c.warnings.iter().any(|w| w.contains("logo.png") && w.contains("decorative")), "{:?}", c.warnings);
    // Image files are watched with the config: a good copy put in place is read again.
    assert!(c.inputs.contains(&PathBuf::from("/event/room.jpg")));
}

#[test]
fn check_refuses_each_bad_image_naming_the_file_and_the_reason() {
    let text = session(
        r#"[{ file = "slides/eqia.jpg" }]"#,
        r#"[{ text = "a", images = [{ file = "notes.txt", alt = "notes" }] }, { text = "b", images = [{ file = "cut.jpg", alt = "cut" }] }, { text = "c", images = [{ file = "gone.jpg", alt = "gone" }] }, { text = "d", images = [{ file = "room.jpg", alt = "   " }] }]"#,
    );
    let p = parse(&text).unwrap_err();
    let find = |key: &str| {
        p.iter().find(|x| x.key == key).unwrap_or_else(|| panic!("no problem at {key}: {p:#?}")).message.clone()
    };
    let missing = find("session[1] (eqia).images[1].alt");
    assert!(missing.starts_with("slides/eqia.jpg: the image has no alt text"), "{missing}");
    let not_image = find("session[1] (eqia).points[1].images[1].file");
    assert!(not_image.starts_with("notes.txt: not an image"), "{not_image}");
    let truncated = find("session[1] (eqia).points[2].images[1].file");
    assert!(truncated.starts_with("cut.jpg: the file is incomplete"), "{truncated}");
    let unread = find("session[1] (eqia).points[3].images[1].file");
    assert!(unread.starts_with("gone.jpg:"), "{unread}");
    let blank = find("session[1] (eqia).points[4].images[1].alt");
    assert!(blank.contains("only blank space"), "{blank}");
    // Each is placed on its line in the config.
    assert!(p.iter().all(|x| x.line.is_some()), "{p:#?}");
}

#[test]
fn alt_text_is_held_to_each_posting_networks_limit() {
    let long = "a".repeat(1200);
    let x = "\n[[account]]\nid = \"x-delegate\"\nplatform = \"x\"\nconsumer_key_env = \"A\"\nconsumer_secret_env = \"B\"\naccess_token_env = \"C\"\naccess_secret_env = \"D\"\n";
    let images = format!(r#"[{{ file = "slides/eqia.jpg", alt = "{long}" }}]"#);
    // Mastodon alone takes 1,200 characters …
    assert!(parse(&session(&images, "[]")).is_ok());
    // … X takes 1,000.
    let with_x = session(&images, "[]") + x;
    let p = parse(&with_x).unwrap_err();
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].key, "session[1] (eqia).images[1].alt");
    assert!(p[0].message.contains("over x's limit of 1000: shorten it by 200"), "{}", p[0].message);
}

#[test]
fn a_post_carries_at_most_four_images() {
    let one = r#"{ file = "room.jpg", alt = "r" }"#;
    let five = format!("[{}]", [one; 5].join(", "));
    let p = parse(&session(&five, "[]")).unwrap_err();
    assert!(p.iter().any(|x| x.key == "session[1] (eqia).images" && x.message.contains("at most 4")), "{p:#?}");
}

#[test]
fn the_file_size_cap_is_a_config_key_and_over_cap_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let photo = testphoto::phone_photo(400, 300, 95, 1);
    std::fs::write(dir.path().join("big.jpg"), &photo).unwrap();
    let text = session(r#"[{ file = "big.jpg", alt = "A big one" }]"#, "[]");
    let config = dir.path().join("event.toml");
    assert!(Config::parse(&config, &text).is_ok());
    let capped = text.clone() + "\n[media]\nmax_file_bytes = 1_000\n";
    let p = Config::parse(&config, &capped).unwrap_err();
    let m = &p.problems()[0];
    assert_eq!(m.key, "session[1] (eqia).images[1].file");
    assert_eq!(
        m.message,
        format!("big.jpg: it is {} bytes, over the cap of 1000 bytes for an image file", photo.len())
    );
    assert_eq!(Config::parse(&config, &text).unwrap().media.max_file_bytes, crate::media::DEFAULT_MAX_FILE_BYTES);
    let absurd = text + "\n[media]\nmax_file_bytes = 0\n";
    let p = Config::parse(&config, &absurd).unwrap_err();
    assert_eq!(p.problems()[0].key, "media.max_file_bytes");
}

#[test]
fn a_sessions_files_images_are_read_relative_to_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("programme")).unwrap();
    std::fs::write(dir.path().join("programme/keynote.jpg"), testphoto::phone_photo(64, 48, 80, 1)).unwrap();
    std::fs::write(
        dir.path().join("programme/sessions.toml"),
        "[[session]]\ntitle = \"Keynote\"\nstart = \"09:00\"\nimages = [{ file = \"keynote.jpg\", alt = \"The keynote speaker\" }]\n\
         points = [{ text = \"Missing\", images = [{ file = \"nowhere.jpg\", alt = \"x\" }] }]\n",
    )
    .unwrap();
    let text = minimal("[schedule]\nfile = \"programme/sessions.toml\"\n");
    let err = Config::parse(&dir.path().join("event.toml"), &text).unwrap_err();
    let p = err.problems();
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].file, dir.path().join("programme/sessions.toml"));
    assert!(p[0].message.starts_with("nowhere.jpg: cannot read it"), "{}", p[0].message);
    std::fs::write(dir.path().join("programme/nowhere.jpg"), testphoto::phone_photo(64, 48, 80, 1)).unwrap();
    let c = Config::parse(&dir.path().join("event.toml"), &text).unwrap();
    let keynote = dir.path().join("programme/keynote.jpg");
    assert_eq!(c.sessions.to_vec()[0].images[0].file, keynote.to_str().unwrap());
}

//! Photos with alt text, end to end through the loudhailer binary against the real servers:
//! mastodon_mock (its media endpoints, with the upload answered as still processing), the
//! Bluesky reference PDS and AppView, and the X test server held to X's OpenAPI document. The
//! photo is the test's own 12-megapixel phone JPEG full of metadata (`common/photo.rs`); what
//! each server holds is read back: upright, within the server's limits, no EXIF, the alt text
//! kept. And `check` refuses each kind of bad image, naming the file and the reason, while a
//! photo that breaks during a run fails its own post and nothing else.

mod common;

use std::io::Cursor;
use std::time::Duration;

use common::lh::{
    bluesky_config, in_secs, mastodon_config, plain, text, wait_for, Api, Event, FAST_AMPLIFY, MASTODON_ENV,
};
use common::peers::{Atproto, Mastodon};
use common::photo;
use common::proxy::{Effect, Proxy};
use common::xserver::XServer;
use common::xtest;
use loudhailer::job::JobState;
use serde_json::Value;

const ALT: &str = "A slide headed \"Equality impact assessment\": who is affected, and how?";
const POINT: &str = "Who is affected, and how?";
const WAIT: Duration = Duration::from_secs(30);

/// A session whose one key point carries the photo `slides/eqia.jpg`, due a few seconds from now.
fn sessions() -> String {
    format!(
        "[[session]]\nid = \"eqia\"\ntitle = \"Equality impact\"\nstart = \"{}\"\nend = \"{}\"\n\
         points = [{{ text = \"{POINT}\", images = [{{ file = \"slides/eqia.jpg\", alt = {ALT:?} }}] }}]\n",
        in_secs(2),
        in_secs(6)
    )
}

/// Puts `bytes` at `name` beside the event's config.
fn put(event: &Event, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = event.dir.path().join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Checks an image a server holds: it decodes, carries no EXIF an EXIF reader can find and none
/// of the photo's metadata, and is upright (the photo is stored sideways, 4000×3000 with
/// orientation 6: shown as 3:4 portrait). Returns its size.
fn clean(bytes: &[u8], what: &str) -> (u32, u32) {
    let image = image::load_from_memory(bytes).unwrap_or_else(|e| panic!("{what}: does not decode: {e}"));
    let exif = exif::Reader::new().read_from_container(&mut Cursor::new(bytes));
    assert!(
        matches!(exif, Err(exif::Error::NotFound(_))),
        "{what}: EXIF found: {:?}",
        exif.map(|e| e.fields().count())
    );
    for (name, telltale) in photo::telltales() {
        assert!(!bytes.windows(telltale.len()).any(|w| w == telltale), "{what}: the photo's {name} is in it");
    }
    let (w, h) = (image.width(), image.height());
    assert!(w < h && (f64::from(w) / f64::from(h) - 0.75).abs() < 0.01, "{what}: {w}×{h} is not the photo upright");
    (w, h)
}

fn get_bytes(url: &str) -> Vec<u8> {
    let r = reqwest::blocking::Client::new().get(url).timeout(WAIT).send().unwrap();
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.bytes().unwrap().to_vec()
}

#[test]
fn a_point_with_a_photo_arrives_on_mastodon_with_its_description_within_the_servers_limits_and_without_exif() {
    let server = Mastodon::start();
    let proxy = Proxy::start();
    // The server answers the upload as still processing (202, no URL), and the first two looks
    // at it as well (206): loudhailer waits until the image has a URL, then posts.
    proxy.rule("/api/v2/media", "", Effect::Processing, 1);
    let processing = Effect::Answer { status: 206, headers: vec![], body: r#"{"id":"0","url":null}"#.into() };
    proxy.rule("/api/v1/media/", "", processing, 2);
    let event = Event::new(&mastodon_config(&server.base, FAST_AMPLIFY, &sessions()));
    put(&event, "slides/eqia.jpg", photo::photo());
    let mut env = MASTODON_ENV.to_vec();
    env.push(("HTTP_PROXY", proxy.url.as_str()));

    // plan shows the photo with its alt text.
    let plan = event.run(&["plan"], &[]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(text(&plan).contains("[image] eqia.jpg, alt: A slide headed"), "{}", text(&plan));

    let out = event.run(&["run", "--exit-when-done"], &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4 jobs: 4 done"), "{}", text(&out));

    let api = Api { base: &server.base };
    let statuses = api.statuses(Mastodon::ADA);
    let point = statuses
        .iter()
        .find(|s| plain(s["content"].as_str().unwrap_or("")) == format!("{POINT} #EMIEP"))
        .expect("the point was posted");
    let media = point["media_attachments"].as_array().unwrap();
    assert_eq!(media.len(), 1, "{point}");
    assert_eq!(media[0]["description"], ALT);
    assert_eq!(media[0]["type"], "image");
    // The upload stored with the job's intent is the one the status carries.
    let job = event.job("eqia.p1.delegate");
    let uploads = &job.intent.as_ref().unwrap().media;
    assert_eq!(uploads.len(), 1);
    assert_eq!(media[0]["id"].as_str(), Some(uploads[0].media.id.as_str()));
    // The stored file, fetched back: within the server's published limits, upright, no EXIF.
    let limits = api.get(Mastodon::ADA, "/api/v2/instance")["configuration"]["media_attachments"].clone();
    let bytes = get_bytes(media[0]["url"].as_str().unwrap());
    assert!(
        bytes.len() as u64 <= limits["image_size_limit"].as_u64().unwrap(),
        "{} bytes, limits {limits}",
        bytes.len()
    );
    let (w, h) = clean(&bytes, "mastodon's copy");
    assert!(u64::from(w) * u64::from(h) <= limits["image_matrix_limit"].as_u64().unwrap(), "{w}×{h}, limits {limits}");
    // Once uploaded, twice looked at while processing, once more when done.
    assert_eq!(proxy.seen().iter().filter(|s| s.method == "POST" && s.path == "/api/v2/media").count(), 1);
    assert_eq!(proxy.seen().iter().filter(|s| s.method == "GET" && s.path.starts_with("/api/v1/media/")).count(), 3);
    // The title carries none.
    let title =
        statuses.iter().find(|s| plain(s["content"].as_str().unwrap_or("")) == "Equality impact #EMIEP").unwrap();
    assert_eq!(title["media_attachments"], Value::Array(vec![]));

    // `say` with a photo, no daemon running: posted at once with its alt text.
    let room = put(&event, "room.jpg", &photo::phone_photo(1200, 900, 90, 1));
    let say = event.run(
        &["say", "The room is full", "--image", room.to_str().unwrap(), "--alt", "A full lecture room"],
        &MASTODON_ENV,
    );
    assert!(say.status.success(), "{}", text(&say));
    let said = api.statuses(Mastodon::ADA);
    let said = said.iter().find(|s| plain(s["content"].as_str().unwrap_or("")) == "The room is full #EMIEP").unwrap();
    assert_eq!(said["media_attachments"][0]["description"], "A full lecture room");
    // An image without its alt text is refused before anything is sent.
    let refused = event.run(&["say", "No alt", "--image", room.to_str().unwrap()], &MASTODON_ENV);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("give each image its --alt"), "{}", text(&refused));
}

#[test]
fn a_point_with_a_photo_arrives_on_bluesky_with_alt_text_aspect_ratio_and_a_small_clean_blob() {
    let net = Atproto::get();
    let delegate = net.create_account("photo");
    let event = Event::new(&bluesky_config(&net, &delegate, None, &sessions()));
    put(&event, "slides/eqia.jpg", photo::photo());
    let out = event.run(&["run", "--exit-when-done"], &[("LH_DELEGATE", delegate.password.as_str())]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("2 jobs: 2 done"), "{}", text(&out));

    // The record on the PDS: an images embed with the alt text and the aspect ratio.
    let uri = event.job("eqia.p1.delegate").remote.unwrap().uri.unwrap();
    let rkey = uri.rsplit('/').next().unwrap();
    let record = net.get_record(&delegate.did, "app.bsky.feed.post", rkey).unwrap()["value"].clone();
    assert_eq!(record["text"], format!("{POINT} #EMIEP"));
    let embed = &record["embed"];
    assert_eq!(embed["$type"], "app.bsky.embed.images");
    let images = embed["images"].as_array().unwrap();
    assert_eq!(images.len(), 1, "{embed}");
    assert_eq!(images[0]["alt"], ALT);
    let (aw, ah) =
        (images[0]["aspectRatio"]["width"].as_u64().unwrap(), images[0]["aspectRatio"]["height"].as_u64().unwrap());
    let blob = &images[0]["image"];
    assert_eq!(blob["mimeType"], "image/jpeg");
    let size = blob["size"].as_u64().unwrap();
    assert!(size < 1_000_000, "a blob of {size} bytes");
    // The blob itself, from the PDS: as big as it says, upright, no EXIF, the aspect ratio's size.
    let cid = blob["ref"]["$link"].as_str().unwrap();
    let bytes = get_bytes(&format!("{}/xrpc/com.atproto.sync.getBlob?did={}&cid={cid}", net.pds, delegate.did));
    assert_eq!(bytes.len() as u64, size);
    let (w, h) = clean(&bytes, "the blob");
    assert_eq!((u64::from(w), u64::from(h)), (aw, ah));
    assert!(w.max(h) <= 2000, "{w}×{h}");

    // The AppView shows the image with its alt text.
    let view = net.wait_for_post(&uri, WAIT, |p| p["embed"]["images"][0]["alt"] == ALT);
    let shown = &view["embed"];
    assert_eq!(shown["$type"], "app.bsky.embed.images#view");
    assert!(shown["images"][0]["fullsize"].as_str().is_some_and(|u| u.contains(cid)), "{shown}");
    assert!(shown["images"][0]["thumb"].as_str().is_some_and(|u| !u.is_empty()), "{shown}");
    assert_eq!(shown["images"][0]["aspectRatio"], images[0]["aspectRatio"]);
}

#[test]
fn on_x_the_upload_its_alt_text_and_the_post_check_against_the_openapi_document() {
    let server = XServer::start();
    let event = Event::new(&xtest::config(&server.base, &sessions(), FAST_AMPLIFY, xtest::OAUTH1_DELEGATE));
    put(&event, "slides/eqia.jpg", photo::photo());
    let out = event.run(&["run", "--exit-when-done"], &xtest::ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4 jobs: 4 done"), "{}", text(&out));

    let posts = server.posts_by(xtest::DELEGATE);
    let point = posts.iter().find(|p| p.text == format!("{POINT} #EMIEP")).expect("the point was posted");
    assert_eq!(point.media.len(), 1, "{point:?}");
    let media = server.media(&point.media[0]).unwrap();
    assert_eq!(media.alt.as_deref(), Some(ALT));
    assert_eq!(media.category, "tweet_image");
    assert!(media.bytes.len() <= 5_000_000, "{} bytes", media.bytes.len());
    clean(&media.bytes, "X's copy");
    // The requests, in order: upload, alt text, then the post naming the upload.
    let requests = server.requests();
    let at = |method: &str, path: &str| requests.iter().position(|r| r.method == method && r.path == path).unwrap();
    assert!(at("POST", "/2/media/upload") < at("POST", "/2/media/metadata"));
    let metadata = &requests[at("POST", "/2/media/metadata")];
    assert_eq!(metadata.body["metadata"]["alt_text"]["text"], ALT);
    let posted = requests
        .iter()
        .find(|r| r.method == "POST" && r.path == "/2/tweets" && r.body["text"] == format!("{POINT} #EMIEP"))
        .unwrap();
    assert_eq!(posted.body["media"]["media_ids"], serde_json::json!([point.media[0]]));
    assert!(at("POST", "/2/media/metadata") < requests.iter().position(|r| std::ptr::eq(r, posted)).unwrap());
    assert_eq!(server.uploads().len(), 1, "one upload, no more");
    if !server.checks_spec() {
        eprintln!(
            "not run: checking the X requests against the OpenAPI document (../shared/specs/x-openapi is absent)"
        );
    }
    server.assert_clean();
}

#[test]
fn check_refuses_each_bad_image_and_a_photo_broken_during_a_run_fails_only_its_post() {
    let server = Mastodon::start();
    let point = |text: &str, file: &str, alt: Option<&str>| {
        let alt = alt.map(|a| format!(", alt = {a:?}")).unwrap_or_default();
        format!("{{ text = \"{text}\", images = [{{ file = \"{file}\"{alt} }}] }}")
    };
    let session = |points: &[String], start: i64, end: i64| {
        format!(
            "[[session]]\nid = \"photos\"\ntitle = \"Photos\"\nstart = \"{}\"\nend = \"{}\"\npoints = [{}]\n",
            in_secs(start),
            in_secs(end),
            points.join(", ")
        )
    };
    let bad = [
        point("no alt", "good.jpg", None),
        point("not an image", "notes.txt", Some("notes")),
        point("cut short", "cut.jpg", Some("a cut photo")),
        point("too big", "big.jpg", Some("a big photo")),
    ];
    let cap = "\n[media]\nmax_file_bytes = 300_000\n";
    let event = Event::new(&(mastodon_config(&server.base, FAST_AMPLIFY, &session(&bad, 60, 120)) + cap));
    let good = photo::phone_photo(800, 600, 85, 1);
    put(&event, "good.jpg", &good);
    put(&event, "notes.txt", b"Speaker notes: thank the organisers");
    put(&event, "cut.jpg", &good[..good.len() * 2 / 3]);
    let big = photo::phone_photo(1600, 1200, 95, 1);
    assert!(big.len() > 300_000);
    put(&event, "big.jpg", &big);
    let out = event.run(&["check"], &MASTODON_ENV);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    for (n, reason) in [
        (1, "alt: good.jpg: the image has no alt text"),
        (2, "file: notes.txt: not an image loudhailer can read"),
        (3, "file: cut.jpg: the file is incomplete"),
        (4, &format!("file: big.jpg: it is {} bytes, over the cap of 300000 bytes", big.len())),
    ] {
        let line = format!("session[1] (photos).points[{n}].images[1].{reason}");
        assert!(said.contains(&line), "no {line:?} in:\n{said}");
    }
    assert!(said.contains("event.toml:"), "each problem names the config and its line:\n{said}");

    // Two good photos: checked, then the second breaks while the daemon runs.
    let fine = [point("first", "good.jpg", Some("the first")), point("second", "second.jpg", Some("the second"))];
    event.rewrite(&(mastodon_config(&server.base, FAST_AMPLIFY, &session(&fine, 2, 12)) + cap));
    let second = put(&event, "second.jpg", &good);
    let checked = event.run(&["check"], &MASTODON_ENV);
    assert!(checked.status.success(), "{}", text(&checked));
    let mut daemon = event.spawn(&["run", "--exit-when-done"], &MASTODON_ENV);
    let api = Api { base: &server.base };
    let posted = |t: &str| api.statuses(Mastodon::ADA).iter().any(|s| plain(s["content"].as_str().unwrap_or("")) == t);
    wait_for("the title", WAIT, || posted("Photos #EMIEP"));
    std::fs::write(&second, &good[..good.len() / 2]).unwrap();
    let status = wait_exit(&mut daemon, Duration::from_secs(60));
    // Exit 3: a job did not go out.
    assert_eq!(status.code(), Some(3));
    let failed = event.job("photos.p2.delegate");
    assert_eq!(failed.state, JobState::Failed);
    let error = failed.error.unwrap_or_default();
    assert!(error.contains("second.jpg") && error.contains("the file is incomplete"), "{error}");
    assert_eq!(event.job("photos.p2.delegate+council").state, JobState::Cancelled);
    for id in
        ["photos.title.delegate", "photos.p1.delegate", "photos.p1.delegate+council", "photos.title.delegate+council"]
    {
        assert_eq!(event.job(id).state, JobState::Done, "{id}");
    }
    assert!(posted("first #EMIEP") && !posted("second #EMIEP"));
}

fn wait_exit(child: &mut std::process::Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("loudhailer did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn plan_and_the_dry_run_show_each_photo() {
    let event = Event::new(&mastodon_config("https://mastodon.example", FAST_AMPLIFY, &sessions()));
    let file = put(&event, "slides/eqia.jpg", &photo::phone_photo(1200, 900, 90, 6));
    let plan = event.run(&["plan", "--format", "json"], &[]);
    assert!(plan.status.success(), "{}", text(&plan));
    let jobs: Vec<Value> = serde_json::from_slice(&plan.stdout).unwrap();
    let point = jobs.iter().find(|j| j["id"] == "eqia.p1.delegate").unwrap();
    assert_eq!(point["images"], serde_json::json!([{"file": file.to_str().unwrap(), "alt": ALT}]));
    let title = jobs.iter().find(|j| j["id"] == "eqia.title.delegate").unwrap();
    assert!(title.get("images").is_none(), "{title}");

    // The dry run makes each photo for real (so it is known to fit) and shows it with its post.
    let out = event.run(&["run", "--dry-run"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout.contains("delegate on mastodon: image img2 ready: 900×1200 image/jpeg"), "{stdout}");
    assert!(stdout.contains(&format!("    {POINT} #EMIEP\n    [image img2 900×1200, alt: {ALT}]")), "{stdout}");
    assert!(!event.state_dir().exists(), "a dry run writes no state");
}

#[test]
fn check_decodes_each_photo_and_refuses_one_whose_pixels_are_damaged() {
    let event = Event::new(&mastodon_config("https://mastodon.example", FAST_AMPLIFY, &sessions()));
    // A PNG whose structure is whole (so reading its header finds nothing wrong) but whose
    // compressed pixels are damaged: only decoding it finds out.
    let mut png = photo::png(&image::DynamicImage::ImageRgb8(photo::scene(64, 48)));
    let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
    for b in &mut png[idat + 8..idat + 24] {
        *b ^= 0x5a;
    }
    put(&event, "slides/eqia.jpg", &png);
    let out = event.run(&["check"], &MASTODON_ENV);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("photos that cannot be posted:"), "{}", text(&out));
    assert!(text(&out).contains("slides/eqia.jpg: the image is damaged"), "{}", text(&out));

    put(&event, "slides/eqia.jpg", &photo::phone_photo(1200, 900, 90, 6));
    let out = event.run(&["check"], &MASTODON_ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("photos: 1 file, each decoded and made to fit mastodon"), "{}", text(&out));
}

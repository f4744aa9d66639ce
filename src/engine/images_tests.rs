//! Upload-then-post, on dry-run clients and a real store: each image uploaded and stored with the
//! intent before the post; a resend uses what is stored while the server has it; a changed file
//! or a lost upload is uploaded again; a broken image fails its own job and nothing else.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use super::*;
use crate::job::{JobRecord, JobState};
use crate::media::testphoto;
use crate::platform::dryrun::{DryRun, Scripted};
use crate::platform::PlatformError;

/// A day with one session: a photo on the title, two on the first point, none on the second.
fn config(dir: &Path) -> Arc<Config> {
    std::fs::write(dir.join("slide.jpg"), testphoto::phone_photo(400, 300, 85, 6)).unwrap();
    std::fs::write(dir.join("room.jpg"), testphoto::phone_photo(320, 240, 85, 1)).unwrap();
    std::fs::write(dir.join("logo.png"), testphoto::transparent_png(60, 40)).unwrap();
    let text = r##"[event]
name = "Photo day"
timezone = "Europe/London"
date = 2010-03-18
hashtags = ["#EMIEP"]

[[account]]
id = "delegate"
platform = "mastodon"
server = "https://mastodon.example"
token_env = "LH_TEST_TOKEN"

[[account]]
id = "council"
platform = "mastodon"
server = "https://mastodon.example"
token_env = "LH_TEST_TOKEN"
role = "amplifier"

[[session]]
id = "eqia"
title = "Equality impact"
start = "10:00"
end = "10:30"
images = [{ file = "slide.jpg", alt = "The slide: Equality impact assessment" }]
points = [
  { text = "The room is full", images = [{ file = "room.jpg", alt = "A full room" }, { file = "logo.png", alt = "" }] },
  "Text only",
]
"##;
    Arc::new(Config::parse(&dir.join("event.toml"), text).unwrap())
}

fn setup(config: &Arc<Config>, store: &Store) -> (Setup, HashMap<String, Arc<Client>>) {
    let origin = config.sessions.to_vec()[0].start;
    let clock = Clock::scaled(origin, 1.0);
    let counter = Arc::new(AtomicU64::new(0));
    let mut clients = HashMap::new();
    let mut limiters = HashMap::new();
    for a in &config.accounts {
        let c = DryRun::new(&a.id, a.network, a.server.clone(), clock, config.event.timezone, counter.clone());
        clients.insert(a.id.clone(), Arc::new(Client::DryRun(c)));
        limiters.insert(a.id.clone(), Arc::new(Limiter::new(clock, crate::limit::published(a.network))));
    }
    let setup = Setup {
        config: config.clone(),
        store: store.clone(),
        clock,
        clients: clients.clone(),
        limiters,
        exit_when_done: true,
        only: None,
        control: None,
        sent: None,
        watches_over: None,
        prepared: None,
    };
    (setup, clients)
}

fn dry(client: &Client) -> &DryRun {
    match client {
        Client::DryRun(d) => d,
        _ => panic!("not a dry-run client"),
    }
}

fn done(clients: &HashMap<String, Arc<Client>>) -> Vec<String> {
    dry(&clients["delegate"]).log.lock().unwrap().clone()
}

fn job(store: &Store, id: &str) -> JobRecord {
    store.job(&JobId(id.into())).unwrap().unwrap()
}

fn uploads(r: &JobRecord) -> Vec<String> {
    r.intent.as_ref().map(|i| i.media.iter().map(|u| u.media.id.clone()).collect()).unwrap_or_default()
}

const TITLE: &str = "eqia.title.delegate";
const P1: &str = "eqia.p1.delegate";

#[tokio::test(start_paused = true)]
async fn each_image_is_uploaded_and_stored_with_the_intent_before_its_post() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let store = Store::temporary().unwrap();
    let (setup, clients) = setup(&config, &store);
    let summary = run(setup, CancellationToken::new()).await.unwrap();
    assert_eq!(summary.sent, 6, "{:?}", summary.notes);
    let log = done(&clients);
    let title = job(&store, TITLE);
    let p1 = job(&store, P1);
    assert_eq!(uploads(&title).len(), 1);
    assert_eq!(uploads(&p1).len(), 2);
    // The posts carry the uploads stored with their intents, in the images' order.
    let posted = |r: &JobRecord| format!("post {} [{}]", r.spec.text.as_deref().unwrap(), uploads(r).join(" "));
    assert!(log.contains(&posted(&title)), "{log:#?}");
    assert!(log.contains(&posted(&p1)), "{log:#?}");
    assert!(log.iter().any(|l| l.starts_with("post Text only") && l.ends_with("[]")), "{log:#?}");
    // Uploaded before the post that uses them, each with its alt text, upright (the slide was
    // stored sideways: 400×300 with orientation 6).
    let at = |prefix: &str| log.iter().position(|l| l.starts_with(prefix)).unwrap();
    assert!(at(&format!("upload {}", uploads(&title)[0])) < at(&posted(&title)));
    assert!(log.contains(&format!("upload {} 300x400 The slide: Equality impact assessment", uploads(&title)[0])));
    assert!(log.contains(&format!("upload {} 60x40 ", uploads(&p1)[1])), "{log:#?}");
    assert_eq!(log.iter().filter(|l| l.starts_with("upload")).count(), 3);
    // Each stored upload names its image and what it was made from.
    let stored = &p1.intent.as_ref().unwrap().media;
    assert_eq!(stored.iter().map(|u| u.image).collect::<Vec<_>>(), [0, 1]);
    let room = std::fs::read(dir.path().join("room.jpg")).unwrap();
    assert_eq!(stored[0].of, crate::media::digest(&room, "A full room"));
}

/// As a SIGKILL after the uploads were stored and before the answer to the post was: the job is
/// in flight with its uploads.
fn crashed_after_upload(store: &Store, id: &str) {
    let mut r = job(store, id);
    r.state = JobState::InFlight;
    r.remote = None;
    r.done_at = None;
    store.put_job_durable(&r).unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_resent_post_attaches_its_stored_uploads_while_the_server_has_them_and_uploads_again_when_not() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let store = Store::temporary().unwrap();
    let (first, _) = setup(&config, &store);
    run(first, CancellationToken::new()).await.unwrap();
    let before = uploads(&job(&store, P1));

    // The server still has both uploads: the resend uploads nothing and attaches them.
    crashed_after_upload(&store, P1);
    let (again, clients) = setup(&config, &store);
    run(again, CancellationToken::new()).await.unwrap();
    let log = done(&clients);
    assert!(!log.iter().any(|l| l.starts_with("upload")), "{log:#?}");
    assert!(log.iter().any(|l| l.ends_with(&format!("[{}]", before.join(" ")))), "{log:#?}");
    let p1 = job(&store, P1);
    assert_eq!((p1.state, uploads(&p1)), (JobState::Done, before.clone()));

    // The server has forgotten the first: only that one is uploaded again, and stored.
    crashed_after_upload(&store, P1);
    let (third, clients) = setup(&config, &store);
    dry(&clients["delegate"]).forgotten.lock().unwrap().push(before[0].clone());
    run(third, CancellationToken::new()).await.unwrap();
    let log = done(&clients);
    assert_eq!(log.iter().filter(|l| l.starts_with("upload")).count(), 1, "{log:#?}");
    let now = uploads(&job(&store, P1));
    assert_ne!(now[0], before[0]);
    assert_eq!(now[1], before[1]);
    assert!(log.iter().any(|l| l.ends_with(&format!("[{}]", now.join(" ")))), "{log:#?}");

    // The photo was replaced by another under the same name: never the old upload.
    crashed_after_upload(&store, P1);
    std::fs::write(dir.path().join("room.jpg"), testphoto::phone_photo(200, 100, 85, 1)).unwrap();
    let (fourth, clients) = setup(&config, &store);
    run(fourth, CancellationToken::new()).await.unwrap();
    let log = done(&clients);
    assert_eq!(log.iter().filter(|l| l.starts_with("upload")).collect::<Vec<_>>().len(), 1, "{log:#?}");
    assert!(log.iter().any(|l| l.contains(" 200x100 A full room")), "{log:#?}");
}

#[tokio::test(start_paused = true)]
async fn a_post_the_server_refuses_for_a_lost_upload_is_uploaded_again_and_made_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let store = Store::temporary().unwrap();
    let (setup, clients) = setup(&config, &store);
    let gone = PlatformError::MediaGone("BlobNotFound: Could not find blob".into());
    dry(&clients["delegate"]).script.lock().unwrap().push_back(Scripted::Fail(gone));
    let summary = run(setup, CancellationToken::new()).await.unwrap();
    assert_eq!(summary.sent, 6);
    let log = done(&clients);
    let title = job(&store, TITLE);
    // The title's image went up twice; the post was made once, with the second upload.
    let title_uploads: Vec<&String> =
        log.iter().filter(|l| l.ends_with("The slide: Equality impact assessment")).collect();
    assert_eq!(title_uploads.len(), 2, "{log:#?}");
    assert_eq!(log.iter().filter(|l| l.starts_with("post Equality impact")).count(), 1);
    assert!(title_uploads[1].starts_with(&format!("upload {} ", uploads(&title)[0])), "{log:#?}");
    assert_eq!((title.state, title.attempts), (JobState::Done, 1));
}

#[tokio::test(start_paused = true)]
async fn an_image_broken_after_the_check_fails_its_own_job_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    // Cut short after the config was checked (a copy that had not finished, say).
    let path: PathBuf = dir.path().join("room.jpg");
    let whole = std::fs::read(&path).unwrap();
    std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
    let store = Store::temporary().unwrap();
    let (setup, _) = setup(&config, &store);
    let summary = run(setup, CancellationToken::new()).await.unwrap();
    let p1 = job(&store, P1);
    assert_eq!(p1.state, JobState::Failed);
    let error = p1.error.unwrap();
    assert!(error.contains("room.jpg") && error.contains("the file is incomplete"), "{error}");
    // Everything else went: the title, the next point (answering the title), their boosts.
    assert_eq!(summary.sent, 4, "{:?}", summary.by_state);
    assert_eq!(job(&store, TITLE).state, JobState::Done);
    let p2 = job(&store, "eqia.p2.delegate");
    assert_eq!(p2.state, JobState::Done);
    assert_eq!(job(&store, "eqia.p1.delegate+council").state, JobState::Cancelled);
}

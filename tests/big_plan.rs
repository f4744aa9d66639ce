//! A first start that plans a big event writes it, then starts itself afresh before it runs
//! (`cli::run`, `AFRESH_AFTER`), so the daemon waits without the heap the plan churned through.
//! Against mastodon_mock.

mod common;

use std::time::Duration;

use common::lh::{
    logged_daemon, logged_daemon_as, mastodon_config, server_counts, session, wait_for, Api, Event, FAST_AMPLIFY,
    MASTODON_ENV as ENV,
};
use common::peers::Mastodon;

/// The first session is due in a few seconds, 400 more tomorrow: 2,404 jobs written at start.
fn big_event(server: &Mastodon) -> Event {
    let mut sessions = session("now", 5, 60, &["now one"]);
    for k in 0..400 {
        sessions += &session(&format!("t{k:03}"), 86_400 + k * 60, 86_400 + k * 60 + 50, &["one", "two"]);
    }
    Event::new(&mastodon_config(&server.base, FAST_AMPLIFY, &sessions))
}

/// The session due at once is at the server once, and boosted once.
fn sent_and_boosted_once(server: &Mastodon) -> bool {
    let (posts, boosts) = server_counts(&Api { base: &server.base });
    ["Session now #EMIEP", "now one #EMIEP"].iter().all(|t| posts.get(*t) == Some(&1) && boosts.get(*t) == Some(&1))
}

#[test]
fn a_first_start_that_writes_a_big_plan_starts_afresh_and_posts_each_job_once() {
    let server = Mastodon::start();
    let event = big_event(&server);
    let sent_and_boosted = || sent_and_boosted_once(&server);
    {
        let (daemon, _, log) = logged_daemon(&event, &ENV);
        wait_for("the first session sent and boosted", Duration::from_secs(60), sent_and_boosted);
        let log = log.lock().unwrap();
        let line = log.lines().find(|l| l.contains("starting afresh")).unwrap_or_else(|| panic!("{log}"));
        assert!(line.contains("jobs=2404"), "{line}");
        assert!(!log.contains("cannot start afresh"), "{log}");
        // The same process (its pid), started once more: it planned nothing the second time.
        assert_eq!(log.matches("loudhailer starting").count(), 1, "{log}");
        let pid = std::fs::read_to_string(event.state_dir().join("daemon.pid")).unwrap();
        assert_eq!(pid.trim(), daemon.0.id().to_string());
    }
    // A restart plans nothing, so starts nothing afresh, and sends nothing twice.
    let (daemon, _, log) = logged_daemon(&event, &ENV);
    std::thread::sleep(Duration::from_secs(3));
    assert!(!log.lock().unwrap().contains("starting afresh"), "{}", log.lock().unwrap());
    drop(daemon);
    assert!(sent_and_boosted());
    let status = event.status();
    assert_eq!(status.len(), 2404);
    assert_eq!(status.iter().filter(|j| j["state"] == "done").count(), 4, "{status:?}");
}

/// A binary removed while the daemon starts (an upgrade that replaced it) cannot be started
/// again: the daemon says so, opens the store again itself, and posts each job once.
#[test]
fn a_start_that_cannot_start_afresh_opens_the_store_again_and_goes_on() {
    let server = Mastodon::start();
    let event = big_event(&server);
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("loudhailer");
    std::fs::copy(env!("CARGO_BIN_EXE_loudhailer"), &binary).unwrap();
    // Removed as soon as it runs (it writes its pid file first thing): long before its plan of
    // 2,404 jobs is written.
    let remove = std::thread::spawn({
        let (binary, pid_file) = (binary.clone(), event.state_dir().join("daemon.pid"));
        move || {
            let until = std::time::Instant::now() + Duration::from_secs(60);
            while !pid_file.exists() && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::fs::remove_file(&binary).unwrap();
        }
    });
    let (_daemon, _, log) = logged_daemon_as(&event, &binary, &ENV);
    remove.join().unwrap();
    wait_for("the first session sent and boosted", Duration::from_secs(60), || sent_and_boosted_once(&server));
    let log = log.lock().unwrap();
    assert!(log.contains("starting afresh"), "{log}");
    assert!(log.contains("cannot start afresh; opening the store again instead"), "{log}");
    assert_eq!(log.matches("loudhailer starting").count(), 1, "{log}");
}

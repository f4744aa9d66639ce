//! A daemon with nothing due for a while gives memory back (src/heap.rs): the binary's pages that
//! start-up touched are reclaimed, and what it runs afterwards comes back and works.
//! Against mastodon_mock.

mod common;

use std::time::Duration;

use common::lh::{
    logged_daemon_as, mastodon_config, server_counts, session, text, wait_for, Api, Event, FAST_AMPLIFY,
    MASTODON_ENV as ENV,
};
use common::peers::Mastodon;

/// Resident pages of the process mapped from files (`RssFile`, kB): its binary, mostly.
fn rss_file_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("RssFile:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn an_idle_daemon_gives_back_its_start_up_code_and_still_posts() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("not run: no /proc here to read the daemon's memory from");
        return;
    }
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    // Nothing due for a day: the engine has nothing to do once started.
    let sessions = session("later", 86_400, 88_200, &["later one"]);
    let event = Event::new(&mastodon_config(&server.base, FAST_AMPLIFY, &sessions));
    // The kernel leaves alone pages another process maps too: this daemon runs a copy of the
    // binary of its own, written back to disk (dirty pages are written back before they go).
    let own = tempfile::tempdir().unwrap();
    let binary = own.path().join("loudhailer");
    std::fs::copy(env!("CARGO_BIN_EXE_loudhailer"), &binary).unwrap();
    std::fs::File::open(&binary).unwrap().sync_all().unwrap();
    let (_daemon, pid, log) = logged_daemon_as(&event, &binary, &ENV);
    // Started and settled, well before the ten idle seconds are up.
    std::thread::sleep(Duration::from_secs(2));
    let before = rss_file_kb(pid);
    assert!(!log.lock().unwrap().contains("idle: memory given back"), "compacted too early");
    wait_for("the idle compaction", Duration::from_secs(30), || {
        log.lock().unwrap().contains("idle: memory given back")
    });
    let after = rss_file_kb(pid);
    let logged = log.lock().unwrap().clone();
    let line = logged.lines().find(|l| l.contains("idle: memory given back")).unwrap();
    let code: u64 =
        line.split("code_bytes=").nth(1).and_then(|v| v.split_whitespace().next()).unwrap().parse().unwrap();
    assert!(code > 1_000_000, "the binary's mappings were not all asked for: {line}");
    // What start-up alone touched is gone; a kernel without MADV_PAGEOUT (before 5.4) keeps it.
    assert!(after * 2 < before, "RssFile {before} kB before, {after} kB after: {line}");

    // The code paged out comes back when it runs: a command, then the session sent on request.
    let sent = event.run(&["send", "later"], &ENV);
    assert!(sent.status.success(), "{}", text(&sent));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (posts, boosts) = server_counts(&api);
        // Their boosts keep their planned time, tomorrow.
        let each_once = ["Session later #EMIEP", "later one #EMIEP"].iter().all(|t| posts.get(*t) == Some(&1));
        if each_once {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not each sent once: posts {posts:?}, boosts {boosts:?}; send said {}; the daemon's log:\n{}",
            text(&sent),
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // Busy again, then idle again: it compacts once more.
    wait_for("a second idle compaction", Duration::from_secs(30), || {
        log.lock().unwrap().matches("idle: memory given back").count() >= 2
    });
}

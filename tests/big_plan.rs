//! A first start that plans a big event writes it, then opens the store afresh before it runs
//! (`cli::run`, `REOPEN_AFTER`), so the daemon waits without the heap the plan churned through.
//! Against mastodon_mock.

mod common;

use std::time::Duration;

use common::lh::{
    logged_daemon, mastodon_config, server_counts, session, wait_for, Api, Event, FAST_AMPLIFY, MASTODON_ENV as ENV,
};
use common::peers::Mastodon;

#[test]
fn a_first_start_that_writes_a_big_plan_reopens_the_store_and_posts_each_job_once() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    // The first session is due in a few seconds, 400 more tomorrow: 2,404 jobs written at start.
    let mut sessions = session("now", 5, 60, &["now one"]);
    for k in 0..400 {
        sessions += &session(&format!("t{k:03}"), 86_400 + k * 60, 86_400 + k * 60 + 50, &["one", "two"]);
    }
    let event = Event::new(&mastodon_config(&server.base, FAST_AMPLIFY, &sessions));
    let texts = ["Session now #EMIEP", "now one #EMIEP"];
    let sent_and_boosted = || {
        let (posts, boosts) = server_counts(&api);
        texts.iter().all(|t| posts.get(*t) == Some(&1) && boosts.get(*t) == Some(&1))
    };
    {
        let (_daemon, _, log) = logged_daemon(&event, &ENV);
        wait_for("the first session sent and boosted", Duration::from_secs(60), sent_and_boosted);
        let log = log.lock().unwrap();
        let line = log.lines().find(|l| l.contains("opening the store afresh")).unwrap_or_else(|| panic!("{log}"));
        assert!(line.contains("jobs=2404"), "{line}");
    }
    // A restart plans nothing, so opens nothing afresh, and sends nothing twice.
    let (daemon, _, log) = logged_daemon(&event, &ENV);
    std::thread::sleep(Duration::from_secs(3));
    assert!(!log.lock().unwrap().contains("opening the store afresh"), "{}", log.lock().unwrap());
    drop(daemon);
    assert!(sent_and_boosted());
    let status = event.status();
    assert_eq!(status.len(), 2404);
    assert_eq!(status.iter().filter(|j| j["state"] == "done").count(), 4, "{status:?}");
}

//! The programme as published: sentences taken from an abstract wait for a person's approval
//! (FOSDEM 2024's Rust devroom against mastodon_mock, approved with `approve` and on the desk).

mod common;

use std::time::Duration;

use common::desk::{self, Daemon};
use common::lh::{in_secs, mastodon_config, plain, text, Api, Event, FAST_AMPLIFY, MASTODON_ENV as ENV};
use common::peers::Mastodon;
use serde_json::json;

const FOSDEM: &str = "fixtures/schedules/pentabarf-xml_fosdem2024_mttcrsp-fosdem.xml";

/// `loudhailer import ARGS`: its exit code, what it wrote and what it logged.
fn import(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_loudhailer"))
        .arg("import")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

#[test]
#[cfg_attr(not(shared), ignore = "needs FOSDEM 2024's schedule in ../shared/fixtures/schedules")]
fn fosdem_rust_devroom_abstract_sentences_post_only_once_approved() {
    let Some(file) = common::shared::file(FOSDEM, "FOSDEM 2024's Rust devroom with approved suggestions") else {
        return;
    };
    let (code, toml_text, err) = import(&[file.to_str().unwrap(), "--track", "Rust", "--tz", "Europe/Brussels"]);
    assert_eq!(code, 0, "{err}");
    let mut doc: toml::Table = toml::from_str(&toml_text).unwrap();
    let sessions = doc["session"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 14, "--track Rust finds the Rust devroom's 14 talks");
    // No sentence of an abstract is scheduled: every one is offered instead.
    for s in &sessions {
        assert_eq!(s["points"].as_array().map(Vec::len), Some(0), "{}", s["title"]);
    }
    let offered: usize =
        sessions.iter().map(|s| s.get("suggested").and_then(|v| v.as_array()).map_or(0, Vec::len)).sum();
    assert!(offered >= 14 * 2, "sentences offered: {offered}");
    let semver = sessions.iter().find(|s| s["id"].as_str() == Some("10525")).unwrap();
    let suggested: Vec<&str> = semver["suggested"].as_array().unwrap().iter().filter_map(|v| v.as_str()).collect();
    assert_eq!(suggested[1..], ["SemVer rules do not change over time.", "Crates always adhere to SemVer."]);

    // The SemVer talk, moved to now, alone in a sessions file the config reads.
    let mut talk = semver.as_table().unwrap().clone();
    talk.insert("start".into(), in_secs(2).into());
    talk.insert("end".into(), in_secs(26).into());
    doc.insert("session".into(), toml::Value::Array(vec![toml::Value::Table(talk)]));
    let extra = "[desk]\nlisten = \"127.0.0.1:0\"\n\n[schedule]\nfile = \"rust.toml\"\n";
    let server = Mastodon::start();
    let event = Event::new(&mastodon_config(&server.base, FAST_AMPLIFY, extra));
    std::fs::write(event.dir.path().join("rust.toml"), toml::to_string(&doc).unwrap()).unwrap();

    let plan = event.run(&["plan"], &ENV);
    let planned = text(&plan);
    assert!(plan.status.success(), "{planned}");
    assert!(planned.contains("3 suggested points in 1 sessions"), "{planned}");
    assert!(planned.contains("suggested 10525 3: Crates always adhere to SemVer."), "{planned}");
    assert!(!planned.contains("10525.s"), "no suggestion is planned: {planned}");

    let d = Daemon::start(&event, &ENV, &[]);
    desk::wait_done(&event, "10525.title.delegate", Duration::from_secs(30));
    let status = event.run(&["status"], &ENV);
    assert!(text(&status).contains("suggested 10525 2: SemVer rules do not change over time."), "{}", text(&status));
    let listed = event.run(&["approve", "10525"], &ENV);
    assert!(text(&listed).contains("3. [suggested] Crates always adhere to SemVer."), "{}", text(&listed));

    // `approve`, twice: posted once.
    let out = event.run(&["approve", "10525", "1"], &ENV);
    assert!(out.status.success() && text(&out).contains("approved 10525 suggestion 1"), "{}", text(&out));
    let again = event.run(&["approve", "10525", "1"], &ENV);
    assert!(text(&again).contains("already approved: nothing more posted"), "{}", text(&again));
    let wrong = event.run(&["approve", "10525", "4"], &ENV);
    assert!(!wrong.status.success() && text(&wrong).contains("give N from 1 to 3"), "{}", text(&wrong));

    // The desk, one tap (twice): posted once.
    let (_, link) = desk::sign_in_link(&event);
    let s = desk::sign_in(&link);
    let page = s.get("/").text().unwrap();
    assert!(page.contains("data-action=\"approve\"") && page.contains("Crates always adhere to SemVer."));
    let r = s.post("/api/approve", json!({ "session": "10525", "n": 3 }));
    assert_eq!(r.status(), 200, "{:?}", r.text());
    let r = s.post("/api/approve", json!({ "session": "10525", "n": 3 }));
    assert!(r.text().unwrap().contains("already approved"));

    for job in ["10525.s1.delegate", "10525.s3.delegate", "10525.s3.delegate+council"] {
        desk::wait_done(&event, job, Duration::from_secs(60));
    }
    let jobs = desk::jobs(&event);
    assert!(!jobs.contains_key("10525.s2.delegate"), "the one not approved is not planned");
    drop(d);

    let api = Api { base: &server.base };
    let mine: Vec<serde_json::Value> =
        api.statuses(Mastodon::ADA).into_iter().filter(|s| s["reblog"].is_null()).collect();
    let title = mine.iter().find(|s| plain(s["content"].as_str().unwrap()).starts_with("SemVer in the Rust")).unwrap();
    let first = "In theory, semantic versioning (SemVer) is simple";
    let third = "Crates always adhere to SemVer.";
    for sentence in [first, third] {
        let posts: Vec<&serde_json::Value> =
            mine.iter().filter(|s| plain(s["content"].as_str().unwrap()).starts_with(sentence)).collect();
        assert_eq!(posts.len(), 1, "{sentence:?} posted once");
        assert!(!posts[0]["in_reply_to_id"].is_null(), "{sentence:?} is in the session's thread");
    }
    let s1 = mine.iter().find(|s| plain(s["content"].as_str().unwrap()).starts_with(first)).unwrap();
    assert_eq!(s1["in_reply_to_id"], title["id"], "the first approved answers the title");
    let said = |t: &str| mine.iter().any(|s| plain(s["content"].as_str().unwrap()).starts_with(t));
    assert!(!said("SemVer rules do not change over time."), "a sentence not approved is never posted");
}

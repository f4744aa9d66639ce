//! The command line without a network: config errors, plan output, dry runs.

mod common;

use common::lh::{text, Event};
use serde_json::Value;

fn example_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml")
}

fn example_text() -> String {
    std::fs::read_to_string(example_path()).unwrap()
}

/// Runs `check` on a config and returns (exit code, all output).
fn check(config: &str, env: &[(&str, &str)]) -> (i32, String) {
    let event = Event::new(config);
    let out = event.run(&["check"], env);
    (out.status.code().unwrap_or(-1), text(&out))
}

const TOKENS: [(&str, &str); 2] = [("LOUDHAILER_DELEGATE_TOKEN", "t1"), ("LOUDHAILER_COUNCIL_TOKEN", "t2")];

#[test]
fn the_example_checks_clean() {
    let (code, out) = check(&example_text(), &TOKENS);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("5 sessions, 2 accounts (1 primary)"), "{out}");
    assert!(out.contains("40 jobs from 2010-03-18 10:00 to 2010-03-18 16:16 (Europe/London)"), "{out}");
}

#[test]
fn config_errors_exit_2_naming_file_line_and_key() {
    let cases: &[(&str, &str, &str)] = &[
        // (what to change, replacement, expected text)
        ("[amplify]\n", "[amplify]\ncolour = \"red\"\n", "event.toml:36:1: amplify.colour: unknown field `colour`"),
        (
            "timezone = \"Europe/London\"",
            "timezone = \"Europe/Londn\"",
            "event.toml:14:12: event.timezone: unknown time zone \"Europe/Londn\"",
        ),
        (
            "start = \"11:00\"\nend = \"11:45\"",
            "start = \"11:00\"\nend = \"10:45\"",
            "session[2] (equalities-data).end: the session ends (2010-03-18 10:45) before it starts (2010-03-18 11:00)",
        ),
        ("cron = \"0 0 15 * * *\"", "cron = \"at three\"", "recurring[1].cron: expected a cron expression"),
        ("delay = \"5m\"", "delay = \"five minutes\"", "amplify.delay: expected a duration such as \"5m\""),
        ("role = \"amplifier\"", "role = \"booster\"", "account[council].role: unknown role \"booster\""),
        ("date = 2010-03-18 ", "# no date ", "\"10:00\" needs event.date"),
    ];
    for (from, to, want) in cases {
        let text = example_text();
        assert!(text.contains(from), "the example has no {from:?}");
        let (code, out) = check(&text.replacen(from, to, 1), &TOKENS);
        assert_eq!(code, 2, "{from:?} -> {to:?}: {out}");
        assert!(out.contains(want), "{from:?} -> {to:?}: expected {want:?} in\n{out}");
        assert!(out.contains("see config/example.toml"), "{out}");
    }
}

#[test]
fn a_missing_token_variable_is_named_before_anything_is_sent() {
    let (code, out) = check(&example_text(), &[("LOUDHAILER_DELEGATE_TOKEN", "t1")]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("account council: the environment variable LOUDHAILER_COUNCIL_TOKEN is not set"), "{out}");
    // `run` refuses the same way, before opening any connection.
    let event = Event::new(&example_text());
    let run = event.run(&["run"], &[("LOUDHAILER_DELEGATE_TOKEN", "t1")]);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run));
    assert!(text(&run).contains("LOUDHAILER_COUNCIL_TOKEN is not set"));
}

#[test]
fn a_token_file_others_can_read_is_refused() {
    let event = Event::new("");
    let token = event.dir.path().join("token");
    std::fs::write(&token, "secret").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = example_text().replacen(
        "token_env = \"LOUDHAILER_DELEGATE_TOKEN\"",
        &format!("token_file = \"{}\"", token.display()),
        1,
    );
    let (code, out) = check(&config, &TOKENS);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("can be read by others (mode 644)"), "{out}");
    assert!(!out.contains("secret\n"));
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, out) = check(&config, &TOKENS);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn plan_json_lists_every_job() {
    let event = Event::new(&example_text());
    let out = event.run(&["plan", "--format", "json"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let jobs: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs.len(), 40);
    for j in &jobs {
        for key in ["id", "at", "account", "kind", "session", "text"] {
            assert!(j.get(key).is_some(), "{key} missing in {j}");
        }
        assert!(chrono::DateTime::parse_from_rfc3339(j["at"].as_str().unwrap()).is_ok());
        assert!(["post", "reply", "boost", "recurring"].contains(&j["kind"].as_str().unwrap()), "{j}");
    }
    assert_eq!(jobs[0]["id"], "equalities-law.title.delegate");
    assert_eq!(jobs[0]["at"], "2010-03-18T10:00:00+00:00");
    assert_eq!(jobs[0]["kind"], "post");
    assert_eq!(jobs[0]["session"], "equalities-law");
    assert_eq!(jobs[0]["text"], "Equalities Law with Regional employment law adviser #EMIEP");
    let coffee = jobs.iter().find(|j| j["kind"] == "recurring").unwrap();
    assert_eq!(coffee["text"], "coffee break! #EMIEP");
    assert!(coffee["session"].is_null());
    let boost = jobs.iter().find(|j| j["id"] == "equalities-law.title.delegate+council").unwrap();
    assert_eq!(boost["kind"], "boost");
    assert!(boost["text"].is_null());
    // plan needs no credentials and creates no state.
    assert!(!event.state_dir().exists());
}

#[test]
fn dry_run_prints_every_post_and_a_summary() {
    let event = Event::new(&example_text());
    let out = event.run(&["run", "--dry-run"], &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout.starts_with("Dry run of East Midlands"), "{stdout}");
    assert!(stdout.contains("\n10:00:00  delegate on mastodon: post #1"), "{stdout}");
    assert!(stdout.contains("\n15:00:00  delegate on mastodon: post #16\n    coffee break! #EMIEP"), "{stdout}");
    assert!(
        stdout
            .contains("delegate on mastodon: post #1\n    Equalities Law with Regional employment law adviser #EMIEP"),
        "{stdout}"
    );
    assert!(stdout.contains("delegate on mastodon: reply to #1 #2\n    The Equality Bill brings nine"), "{stdout}");
    assert!(stdout.contains("council on mastodon: boost #1"), "{stdout}");
    assert!(stdout.contains("    coffee break! #EMIEP"), "{stdout}");
    assert_eq!(stdout.matches("council on mastodon: boost").count(), 20);
    assert!(stdout.contains("40 jobs: 40 done; 40 sent in this run"), "{stdout}");
    assert!(stdout.contains("delegate: 20 posts, 0 boosts"), "{stdout}");
    assert!(stdout.contains("council: 0 posts, 20 boosts"), "{stdout}");
    // Nothing was written to the real state dir.
    assert!(!event.state_dir().exists());
}

#[test]
fn status_before_any_run_shows_the_plan_pending() {
    let event = Event::new(&example_text());
    let status = event.status();
    assert_eq!(status.len(), 40);
    assert!(status.iter().all(|j| j["state"] == "pending"));
}

/// A daemon holds the store from the moment it starts but listens on its socket only once it
/// is up: `status` and `shift` asked in between wait for it instead of failing. Stood in for
/// by the test (the store held; a socket that opens 700 ms later and answers one request).
#[test]
fn a_command_asked_while_the_daemon_starts_waits_for_its_socket() {
    use std::io::{BufRead, BufReader, Write};
    let event = Event::new(&example_text());
    let dir = event.state_dir();
    let held = loudhailer::store::Store::open(&dir).unwrap();
    let socket = loudhailer::control::socket_path(&dir);
    for (args, answer) in [
        (vec!["status", "--format", "json"], r#"{"ok":true,"jobs":[]}"#),
        (vec!["shift", "equalities-law", "+5m"], r#"{"ok":true,"message":"moved 3 pending jobs"}"#),
    ] {
        let _ = std::fs::remove_file(&socket);
        let path = socket.clone();
        let daemon = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(700));
            let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
            let (mut conn, _) = listener.accept().unwrap();
            let mut line = String::new();
            BufReader::new(&conn).read_line(&mut line).unwrap();
            conn.write_all(format!("{answer}\n").as_bytes()).unwrap();
            line
        });
        let out = event.run(&args, &TOKENS);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        let asked = daemon.join().unwrap();
        assert!(asked.contains(if args[0] == "status" { "status" } else { "shift" }), "{asked}");
    }
    drop(held);
}

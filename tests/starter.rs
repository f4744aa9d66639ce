//! `loudhailer init`: the starter config it writes from flags (or, at a terminal, from its
//! questions) is accepted by `loudhailer check` as it is, for several combinations; a schedule
//! address is downloaded beside the config; wrong handles and clashes are refused with what to do.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::lh::text;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schedules").join(name)
}

/// `loudhailer ARGS` in `dir`, with the environment given and nothing else of ours.
fn lh(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_loudhailer"));
    c.args(args).current_dir(dir).stdin(Stdio::null());
    for var in ["RUST_LOG", "LOUDHAILER_CONFIG", "LOUDHAILER_STATE_DIR", "HTTP_PROXY", "http_proxy", "ALL_PROXY"] {
        c.env_remove(var);
    }
    // The state dir of a config without [state] dir is under the XDG data dir: keep it here.
    c.env("XDG_DATA_HOME", dir.join("data"));
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// `init ARGS` then `check` in a fresh folder; both must succeed. Returns the folder, the
/// config's text and check's output.
fn init_then_check(args: &[&str], env: &[(&str, &str)]) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    let init = lh(dir.path(), &all, &[]);
    assert!(init.status.success(), "init {args:?}: {}", text(&init));
    let config = std::fs::read_to_string(dir.path().join("loudhailer.toml")).unwrap();
    let check = lh(dir.path(), &["check"], env);
    assert!(check.status.success(), "check after init {args:?}:\n{}\n--- config:\n{config}", text(&check));
    (dir, config, text(&check))
}

#[test]
fn init_output_passes_check_for_each_combination() {
    // One Mastodon account, nothing else: accepted, with what to do next.
    let (_d, config, check) = init_then_check(&["--mastodon", "@ada@mastodon.example"], &[]);
    assert!(config.contains("loudhailer login mastodon --account ada"), "{config}");
    assert!(check.contains("account ada: not signed in yet: run `loudhailer login mastodon --account ada`"), "{check}");
    assert!(check.contains("nothing will be posted"), "{check}");

    // A frab schedule (name and zone from it), a profile address, an amplifier, a hashtag.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("frab-dst.xml"), dir.path().join("programme.xml")).unwrap();
    let init = lh(
        dir.path(),
        &[
            "init",
            "--schedule",
            "programme.xml",
            "--mastodon",
            "https://social.example/@ada",
            "--amplifier",
            "@council@social.example",
            "--hashtag",
            "TinyConf",
        ],
        &[],
    );
    assert!(init.status.success(), "{}", text(&init));
    assert!(text(&init).contains("every session in the schedule is over"), "{}", text(&init));
    let config = std::fs::read_to_string(dir.path().join("loudhailer.toml")).unwrap();
    for want in [
        "name = \"Tiny Conf & Friends\"",
        "timezone = \"Europe/Berlin\"",
        "file = \"programme.xml\"",
        "hashtags = [\"#TinyConf\"]",
        "role = \"amplifier\"",
        "[amplify]",
    ] {
        assert!(config.contains(want), "{want:?} not in\n{config}");
    }
    let check = lh(dir.path(), &["check"], &[]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("Tiny Conf & Friends: 4 sessions, 2 accounts (1 primary)"), "{}", text(&check));

    // Bluesky accounts (primary and amplifier) with an iCalendar file, named and zoned by flags.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("event")).unwrap();
    std::fs::copy(fixture("ical-folded.ics"), dir.path().join("event/cal.ics")).unwrap();
    let init = lh(
        dir.path(),
        &[
            "init",
            "--config",
            "event/day.toml",
            "--schedule",
            "event/cal.ics",
            "--bluesky",
            "ada.bsky.social",
            "--amplifier",
            "org.bsky.social",
            "--name",
            "Folded \"Fest\"",
            "--timezone",
            "Europe/Brussels",
        ],
        &[],
    );
    assert!(init.status.success(), "{}", text(&init));
    assert!(text(&init).contains("export LOUDHAILER_ADA_PASSWORD=…"), "{}", text(&init));
    let config = std::fs::read_to_string(dir.path().join("event/day.toml")).unwrap();
    assert!(config.contains("file = \"cal.ics\""), "the path is relative to the config:\n{config}");
    let env = [("LOUDHAILER_ADA_PASSWORD", "app-pw"), ("LOUDHAILER_ORG_PASSWORD", "app-pw")];
    let check = lh(dir.path(), &["check", "--config", "event/day.toml"], &env);
    assert!(check.status.success(), "{}\n{config}", text(&check));
    assert!(text(&check).contains("Folded \"Fest\":"), "{}", text(&check));
    // Without the app password, check names the variable.
    let check = lh(dir.path(), &["check", "--config", "event/day.toml"], &env[..1]);
    assert_eq!(check.status.code(), Some(2), "{}", text(&check));
    assert!(text(&check).contains("LOUDHAILER_ORG_PASSWORD is not set"), "{}", text(&check));

    // A CSV without a zone needs --timezone, and says so; with it, both networks.
    let dir = tempfile::tempdir().unwrap();
    let talks = fixture("talks.csv");
    let talks = talks.to_str().unwrap();
    let refused = lh(dir.path(), &["init", "--schedule", talks, "--mastodon", "@ada@m.example"], &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("pass --timezone Area/City"), "{}", text(&refused));
    let (_d, config, _) = init_then_check(
        &[
            "--schedule",
            talks,
            "--timezone",
            "Europe/London",
            "--date",
            "2011-06-23",
            "--mastodon",
            "@ada@m.example",
            "--bluesky",
            "ada.bsky.social",
        ],
        &[("LOUDHAILER_ADA_BSKY_PASSWORD", "app-pw")],
    );
    assert!(config.contains(&format!("file = \"{talks}\"")), "an absolute path outside the folder:\n{config}");
    assert!(config.contains("date = 2011-06-23"), "{config}");
}

#[test]
fn a_schedule_address_is_downloaded_beside_the_config() {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let body = std::fs::read(fixture("frab-dst.xml")).unwrap();
    let serve = std::thread::spawn(move || {
        let request = server.recv().unwrap();
        let url = request.url().to_string();
        request.respond(tiny_http::Response::from_data(body)).unwrap();
        url
    });
    let dir = tempfile::tempdir().unwrap();
    let address = format!("http://127.0.0.1:{port}/2030/schedule/xml");
    let init = lh(dir.path(), &["init", "--schedule", &address, "--mastodon", "@ada@m.example"], &[]);
    assert!(init.status.success(), "{}", text(&init));
    assert_eq!(serve.join().unwrap(), "/2030/schedule/xml");
    assert!(dir.path().join("schedule.xml").is_file(), "named by its content");
    let config = std::fs::read_to_string(dir.path().join("loudhailer.toml")).unwrap();
    assert!(config.contains(&format!("# Downloaded from {address}")), "{config}");
    assert!(config.contains("file = \"schedule.xml\""), "{config}");
    let check = lh(dir.path(), &["check"], &[]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("4 sessions"), "{}", text(&check));
    // Nothing listens there any more: the refusal says what to check.
    let again = lh(dir.path(), &["init", "--force", "--schedule", &address, "--mastodon", "@ada@m.example"], &[]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        text(&again).contains("the server cannot be reached; check the address and the network"),
        "{}",
        text(&again)
    );
}

#[test]
fn init_refuses_what_it_cannot_write_well() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&[], "needs the account that posts: --mastodon @you@server or --bluesky you.bsky.social"),
        (&["--mastodon", "@ada"], "names no server: write the whole handle, @ada@your.server"),
        (&["--mastodon", "ada.bsky.social"], "use --bluesky for a Bluesky handle"),
        (&["--bluesky", "@ada@mastodon.social"], "use --mastodon for it"),
        (&["--bluesky", "ada"], "handles are domain names, such as ada.bsky.social"),
        (&["--mastodon", "@a@m.example", "--amplifier", "council"], "write @council@your.server for Mastodon"),
        (&["--mastodon", "@a@m.example", "--timezone", "Europe/Londn"], "unknown time zone \"Europe/Londn\""),
        (&["--mastodon", "@a@m.example", "--schedule", "missing.xml"], "missing.xml"),
    ];
    for (args, want) in cases {
        let mut all = vec!["init"];
        all.extend_from_slice(args);
        let out = lh(dir.path(), &all, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(want), "{args:?}: expected {want:?} in {}", text(&out));
        assert!(!dir.path().join("loudhailer.toml").exists(), "{args:?} wrote a config");
    }
    // An existing config is kept unless --force.
    assert!(lh(dir.path(), &["init", "--mastodon", "@a@m.example"], &[]).status.success());
    let out = lh(dir.path(), &["init", "--mastodon", "@b@m.example"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("loudhailer.toml exists already: pass --force"), "{}", text(&out));
    assert!(lh(dir.path(), &["init", "--force", "--mastodon", "@b@m.example"], &[]).status.success());
    assert!(std::fs::read_to_string(dir.path().join("loudhailer.toml")).unwrap().contains("id = \"b\""));
}

#[test]
fn at_a_terminal_init_asks_and_asks_again() {
    // `script` gives loudhailer a terminal (util-linux; Debian has it in bsdutils).
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("not run: at_a_terminal_init_asks_and_asks_again: no `script` command to give init a terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("frab-dst.xml"), dir.path().join("s.xml")).unwrap();
    // Schedule, name (the schedule's), a wrong zone then none, no date, a handle without its
    // server then a good one, no Bluesky, one amplifier.
    let answers = "s.xml\n\nEurope/Londn\n\n\n@ada\n@ada@m.example\n\n@org@m.example\n";
    let mut child = Command::new("script")
        .args(["-qec", &format!("{} init", env!("CARGO_BIN_EXE_loudhailer")), "/dev/null"])
        .current_dir(dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env_remove("LOUDHAILER_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(answers.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("unknown time zone \"Europe/Londn\""), "{said}");
    assert!(said.contains("\"@ada\" names no server"), "{said}");
    let config = std::fs::read_to_string(dir.path().join("loudhailer.toml")).unwrap();
    assert!(config.contains("timezone = \"Europe/Berlin\""), "the schedule's zone:\n{config}");
    assert!(config.contains("id = \"org\""), "{config}");
    let check = lh(dir.path(), &["check"], &[]);
    assert!(check.status.success(), "{}", text(&check));
}

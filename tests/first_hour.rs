//! The errors a newcomer meets in the first hour, each saying what to do next in one line: a
//! token variable that is not set, a server that cannot be reached, a wrong handle or token, a
//! schedule without a time zone, and an event that is over.

mod common;

use std::path::Path;

use common::lh::{bluesky_config, session, text, Event};
use common::{Atproto, Mastodon};

fn example() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml")).unwrap()
}

/// The line of `out` that holds `needle`; fails when there is none.
fn line_with(out: &str, needle: &str) -> String {
    out.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no line with {needle:?} in:\n{out}")).to_string()
}

fn mastodon(server: &str, secret: &str, sessions: &str) -> String {
    format!(
        "[event]\nname = \"First hour\"\ntimezone = \"Europe/London\"\n\n[[account]]\nid = \"delegate\"\n\
         platform = \"mastodon\"\nserver = \"{server}\"\n{secret}\n[state]\ndir = \"{{STATE}}\"\n\n{sessions}"
    )
}

#[test]
fn a_missing_token_variable_says_how_to_set_it() {
    let event = Event::new(&example());
    let out = event.run(&["check"], &[("LOUDHAILER_DELEGATE_TOKEN", "t1")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let line = line_with(&text(&out), "LOUDHAILER_COUNCIL_TOKEN is not set");
    assert!(
        line.ends_with(
            "`export LOUDHAILER_COUNCIL_TOKEN=…` before running loudhailer, or leave token_env out and run `loudhailer login mastodon`"
        ),
        "{line}"
    );
}

#[test]
fn an_unreachable_server_says_what_to_check() {
    // Nothing listens on a port just given back.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let server = format!("http://127.0.0.1:{port}");
    let event = Event::new(&mastodon(&server, "token_env = \"LH_T\"", &session("s1", 3600, 3700, &[])));
    let out = event.run(&["check", "--online"], &[("LH_T", "t")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let line = line_with(&text(&out), "account delegate:");
    assert!(
        line.starts_with(&format!("account delegate: cannot reach {server} (cannot connect to the server")),
        "{line}"
    );
    assert!(
        line.ends_with(
            "check `server` in the config and this machine's network, then run `loudhailer check --online` again"
        ),
        "{line}"
    );
    // Signing in there says the same.
    event.rewrite(&mastodon(&server, "", ""));
    let out = event.run(&["login", "mastodon", "--paste"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(&format!("cannot reach {server}")), "{}", text(&out));
}

#[test]
fn a_wrong_token_or_handle_says_what_to_check() {
    let server = Mastodon::start();
    let event = Event::new(&mastodon(&server.base, "token_env = \"LH_T\"", &session("s1", 3600, 3700, &[])));
    let out = event.run(&["check", "--online"], &[("LH_T", "not-a-token")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let line = line_with(&text(&out), "account delegate:");
    assert!(line.contains("refused the credentials (401"), "{line}");
    assert!(
        line.ends_with("the token in the variable LH_T is wrong or revoked: make a new one, or leave token_env/token_file out and run `loudhailer login mastodon --account delegate`"),
        "{line}"
    );
    assert!(!text(&out).contains("not-a-token"), "the token reached the output");

    // A Bluesky handle that is not the account's.
    let net = Atproto::get();
    let mut account = net.create_account("firsthour");
    let password = account.password.clone();
    account.handle = format!("not-{}", account.handle);
    let event = Event::new(&bluesky_config(&net, &account, None, &session("s1", 3600, 3700, &[])));
    let out = event.run(&["check", "--online"], &[("LH_DELEGATE", &password)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let line = line_with(&text(&out), "account delegate:");
    assert!(line.contains("refused the credentials"), "{line}");
    assert!(
        line.contains(&format!(
            "check identifier = \"{}\" (the handle, such as name.bsky.social, or the DID) and that the variable LH_DELEGATE holds an app password",
            account.handle
        )),
        "{line}"
    );
}

#[test]
fn a_schedule_without_a_zone_says_which_option_gives_one() {
    let talks = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/schedules/talks.csv");
    let event = Event::new("");
    let out = event.run(&["import", talks.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let line = line_with(&text(&out), "without a time zone");
    assert!(line.ends_with("pass --tz ZONE or set `timezone = \"Area/City\"` in [schedule]"), "{line}");
    let out = event.run(&["import", "--tz", "Europe/London", talks.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn an_event_that_is_over_is_said_to_be() {
    // check: the example day is in 2010.
    let event = Event::new(&example());
    let tokens = [("LOUDHAILER_DELEGATE_TOKEN", "t1"), ("LOUDHAILER_COUNCIL_TOKEN", "t2")];
    let out = event.run(&["check"], &tokens);
    assert!(out.status.success(), "{}", text(&out));
    let line = line_with(&text(&out), "every session is over");
    assert!(line.contains("(the last ended 2010-03-18 16:30 Europe/London)"), "{line}");
    assert!(line.ends_with("or rehearse with `loudhailer run --dry-run`"), "{line}");

    // run: the same warning as it starts, then the jobs are missed.
    let server = Mastodon::start();
    let event = Event::new(&mastodon(&server.base, "token_env = \"LH_T\"", &session("s1", -7200, -3600, &["A point"])));
    let out = event.run(&["run", "--exit-when-done"], &[("LH_T", Mastodon::ADA)]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("every session is over"), "{}", text(&out));
    // A coming event has no such warning.
    let event = Event::new(&mastodon(&server.base, "token_env = \"LH_T\"", &session("s1", 3600, 3700, &[])));
    let out = event.run(&["check"], &[("LH_T", Mastodon::ADA)]);
    assert!(out.status.success() && !text(&out).contains("is over"), "{}", text(&out));
}

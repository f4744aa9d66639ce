//! X accounts, end to end: OAuth 1.0a signatures that do not check out, `loudhailer login x`
//! (OAuth 2.0 with PKCE), and single-use refresh tokens rotated and stored before use.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::time::Duration;

use common::lh::{text, Event, FAST_AMPLIFY};
use common::xserver::{XServer, CLIENT_SECRET, CONSUMER_SECRET, USERS};
use common::xtest::*;
use loudhailer::store::Store;

#[test]
fn wrong_oauth1_secrets_pause_the_account_and_post_nothing() {
    let server = XServer::start();
    let sessions = session("Law", 2, 5, &["One"]);
    let event = Event::new(&config(&server.base, &sessions, "delay = \"1s\"\njitter = \"0s\"", OAUTH1_DELEGATE));
    let mut env = ENV.to_vec();
    env[1] = ("LH_X_CS", "not-the-consumer-secret");
    let out = event.run(&["run", "--exit-when-done"], &env);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("credentials refused"), "{log}");
    assert!(!log.contains("not-the-consumer-secret") && !log.contains(USERS[0].3), "a secret reached the log");
    assert!(server.posts().is_empty());
    let (good, bad) = server.signatures();
    assert_eq!(good, 0);
    assert!(bad >= 2, "{bad}");
    server.assert_clean();
}

/// Runs `loudhailer login x --account delegate`, playing the browser: opens the authorize
/// address on the test server and pastes where it redirects (or `paste` instead, if given).
fn login(event: &Event, paste: Option<&str>) -> std::process::Output {
    let mut child = event
        .command(&["login", "x", "--account", "delegate"], &ENV)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    let address = loop {
        let mut line = String::new();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "login ended before printing the address: {printed}");
        printed.push_str(&line);
        if line.contains("/i/oauth2/authorize?") {
            break line.trim().to_string();
        }
    };
    let browser = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answer = browser.get(&address).send().unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    let redirect = answer.headers()["location"].to_str().unwrap().to_string();
    assert!(redirect.starts_with("http://127.0.0.1:8765/callback?"), "{redirect}");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", paste.unwrap_or(&redirect)).unwrap();
    drop(stdin);
    stdout.read_to_string(&mut printed).unwrap();
    let mut out = child.wait_with_output().unwrap();
    out.stdout = printed.into_bytes();
    out
}

fn stored_refresh_token(event: &Event) -> String {
    let store = Store::open(&event.state_dir()).unwrap();
    let tokens = loudhailer::platform::x::oauth2::load(&store, "delegate").unwrap().expect("tokens in the store");
    tokens.refresh.expect("a refresh token").expose().to_string()
}

#[test]
fn login_x_walks_the_pkce_flow() {
    let server = XServer::start();
    let event = Event::new(&config(
        &server.base,
        &session("Law", 3600, 3700, &[]),
        "delay = \"1s\"\njitter = \"0s\"",
        &oauth2_delegate(),
    ));
    // A pasted address from another sign-in is refused.
    let wrong = login(&event, Some("http://127.0.0.1:8765/callback?state=someone-else&code=abc"));
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong));
    assert!(text(&wrong).contains("its state does not match"), "{}", text(&wrong));

    let out = login(&event, None);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("signed in to X (user id 1111111111)"), "{log}");
    assert!(!log.contains("at-18") && !log.contains("rt-18"), "a token reached the output: {log}");
    assert_eq!(Some(stored_refresh_token(&event)), server.live_refresh_token(DELEGATE));
    // check --online signs in with the stored tokens.
    let check = event.run(&["check", "--online"], &ENV);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("account delegate: signed in"), "{}", text(&check));
    server.assert_clean();
}

#[test]
fn oauth2_refresh_tokens_rotate_and_each_new_pair_is_stored_before_use() {
    let server = XServer::start();
    // Access tokens that go stale a second after they are issued: every few requests refresh.
    server.token_lifetime(61);
    let sessions = session("Law", 4, 10, &["One", "Two"]);
    let event = Event::new(&config(&server.base, &sessions, FAST_AMPLIFY, &oauth2_delegate()));
    let out = login(&event, None);
    assert!(out.status.success(), "{}", text(&out));
    std::thread::sleep(Duration::from_millis(1100));

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("6 jobs: 6 done"), "{log}");
    assert_once_and_retweeted(&server, &tagged(&["Law", "One", "Two"]));
    let refreshed = server.refreshes();
    assert!(refreshed >= 2, "{refreshed} refreshes");
    // The store holds the one refresh token X still honours (each old one was dropped only
    // after the new pair was stored; the server refuses and reports any reuse).
    assert_eq!(Some(stored_refresh_token(&event)), server.live_refresh_token(DELEGATE));

    // X revokes the access token: the next request (a post said now) is refused, the token
    // refreshed once, and the post sent again.
    server.token_lifetime(7200);
    server.expire_access_tokens(DELEGATE);
    let again = event.run(&["say", "After the revocation"], &ENV);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains(": sent https://x.com/"), "{}", text(&again));
    assert_eq!(server.refreshes(), refreshed + 1);
    assert_eq!(Some(stored_refresh_token(&event)), server.live_refresh_token(DELEGATE));
    assert!(!text(&again).contains("credentials refused"), "{}", text(&again));
    server.assert_clean();
}

#[test]
fn no_key_token_or_signature_reaches_the_log_even_at_trace_level() {
    let server = XServer::start();
    server.token_lifetime(61);
    let sessions = session("Law", 3, 6, &["One"]);
    let event = Event::new(&config(&server.base, &sessions, FAST_AMPLIFY, &oauth2_delegate()));
    assert!(login(&event, None).status.success());
    std::thread::sleep(Duration::from_millis(1100));
    let mut env = ENV.to_vec();
    env.push(("RUST_LOG", "trace"));
    let out = event.command(&["run", "--exit-when-done", "-vv"], &env).output().unwrap();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("TRACE"), "the log should be at trace level");
    assert!(log.contains("4 jobs: 4 done"), "{log}");
    assert!(server.refreshes() >= 1, "the run should have refreshed the token");
    let secrets = [CONSUMER_SECRET, USERS[1].2, USERS[1].3, CLIENT_SECRET];
    for s in secrets {
        assert!(!log.contains(s), "{s:?} reached the log");
    }
    for marker in ["oauth_signature", "Basic ", "Bearer ", "at-18", "rt-18", "refresh_token="] {
        assert!(!log.contains(marker), "{marker:?} reached the log");
    }
    server.assert_clean();
}

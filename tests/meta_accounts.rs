//! Facebook and Threads sign-in and tokens, end to end against the test servers: `loudhailer login
//! facebook` through Facebook Login to the Page's own token, `loudhailer login threads` to a
//! long-lived token, and a long-lived Threads token refreshed before it expires, without a new
//! login. No token is ever printed.

mod common;

use std::sync::Arc;

use common::facebook::{self, FacebookServer};
use common::lh::{browser_login, free_port, text, Event};
use common::metatest::*;
use common::threads::{self, ThreadsServer};
use loudhailer::platform::tokens::{seed_hash, Tokens};
use loudhailer::secret::Secret;
use loudhailer::sessions::Sessions;

#[test]
fn login_facebook_keeps_the_pages_own_token_and_the_page_posts_with_it() {
    let fb = FacebookServer::start();
    fb.login_as("faith_council");
    let port = free_port();
    let sessions = session("Law", 12, 16, &[]);
    let client = format!(
        "client_id = \"{}\"\nclient_secret_env = \"LH_FB_SECRET\"\nredirect_uri = \"http://127.0.0.1:{port}/callback\"",
        facebook::APP_ID
    );
    // The Page posts the schedule itself, signed in rather than given a token.
    let written = config(None, Some(&fb), None, &sessions, "")
        .replace("role = \"amplifier\"\n", "")
        .replace("token_env = \"LH_PAGE\"", &client);
    let event = Event::new(&written);
    let printed = browser_login(&event, "facebook", "page", &ENV);
    assert!(printed.contains(&format!("signed in to Facebook for the Page Emerging Council ({PAGE})")), "{printed}");
    for t in fb.tokens() {
        assert!(!printed.contains(&t.value), "no token is printed: {printed}");
    }
    // Facebook Login's steps, in order: the dialog, the code, the long-lived exchange, the Pages.
    let paths: Vec<String> = fb.requests().into_iter().map(|r| r.path).collect();
    let at = |p: &str| paths.iter().position(|x| x.ends_with(p)).unwrap_or_else(|| panic!("no {p} in {paths:?}"));
    assert!(at("/dialog/oauth") < at("/oauth/access_token") && at("/oauth/access_token") < at("/me/accounts"));
    let exchanges = fb.requests().into_iter().filter(|r| r.path.ends_with("/oauth/access_token")).count();
    assert_eq!(exchanges, 2, "the code, then the long-lived token");

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fb.posts_on(PAGE).len(), 1);
    assert!(!text(&out).contains("fb-page-"), "no token in the log");
    fb.assert_clean();
}

#[test]
fn login_threads_gets_a_long_lived_token_and_posts_with_it() {
    let th = ThreadsServer::start();
    let port = free_port();
    let sessions = session("Law", 12, 16, &[]);
    let client = format!(
        "client_id = \"{}\"\nclient_secret_env = \"LH_TH_SECRET\"\nredirect_uri = \"http://127.0.0.1:{port}/callback\"",
        threads::APP_ID
    );
    let written = config(None, None, Some(&th), &sessions, "").replacen("token_env = \"LH_TH_ADA\"", &client, 1);
    let event = Event::new(&written);
    let printed = browser_login(&event, "threads", "th-delegate", &ENV);
    assert!(
        printed.contains(&format!("signed in to Threads as user {}", threads::user_id("ada_delegate"))),
        "{printed}"
    );
    for t in th.tokens() {
        assert!(!printed.contains(&t.value), "no token is printed: {printed}");
    }
    let long_lived = th.tokens().into_iter().filter(|t| t.username == "ada_delegate" && t.long_lived).count();
    assert_eq!(long_lived, 2, "the one the server started with, and the one got now");

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(th.posts_by("ada_delegate").len(), 1);
    th.assert_clean();
}

#[test]
fn a_threads_token_is_refreshed_before_it_expires_without_a_new_login() {
    let th = ThreadsServer::start();
    let sessions = session("Law", 3, 6, &["One"]);
    let event = Event::new(&config(None, None, Some(&th), &sessions, ""));
    // 59 days on: the delegate's token has a day left, on the server and in the state dir.
    let age = chrono::Duration::days(59);
    th.age_token(threads::ADA_TOKEN, age);
    let now = chrono::Utc::now();
    let seed = Secret::new(threads::ADA_TOKEN);
    let kept = Tokens {
        access: seed.clone(),
        refresh: None,
        obtained_at: now - age,
        expires_at: Some(now + chrono::Duration::days(1)),
        refresh_expires_at: None,
        scope: None,
        seed: Some(seed_hash(&seed)),
    };
    {
        let store = Arc::new(loudhailer::store::Store::open(&event.state_dir()).unwrap());
        store.save("th-delegate", Some(kept.to_session(loudhailer::platform::threads::oauth::KIND))).unwrap();
    }
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("Threads token refreshed before it expired"), "{log}");
    let requests = th.requests();
    let refreshed = requests.iter().position(|r| r.path.ends_with("/refresh_access_token")).expect("a refresh");
    let published = requests.iter().position(|r| r.path.ends_with("/threads_publish")).expect("a publish");
    assert!(refreshed < published, "refreshed before anything was published");
    assert_eq!(requests.iter().filter(|r| r.path.ends_with("/refresh_access_token")).count(), 1, "once");
    assert_eq!(th.posts_by("ada_delegate").len(), 2);
    // The new token is stored: the next run does not refresh again.
    let again = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(th.requests().iter().filter(|r| r.path.ends_with("/refresh_access_token")).count(), 1);
    th.assert_clean();
}

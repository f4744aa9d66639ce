//! `loudhailer login mastodon` against mastodon_mock's OAuth endpoints: the app is registered
//! with loudhailer's scopes, the browser comes back to 127.0.0.1 (or the code is pasted), the
//! token is stored owner-only in the state dir and never printed, even at trace level, and the
//! account then posts with it: `check --online` and `run` need no token_env.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, Output, Stdio};

use common::lh::{session, text, Api, Event};
use common::Mastodon;
use loudhailer::platform::mastodon::oauth;
use loudhailer::store::Store;
use regex::Regex;

/// A delegate on `base` with no token_env/token_file: it signs in with `loudhailer login`.
fn config(base: &str, sessions: &str) -> String {
    format!(
        "[event]\nname = \"Login day\"\ntimezone = \"Europe/London\"\nhashtags = [\"#LOGIN\"]\n\n\
         [[account]]\nid = \"delegate\"\nplatform = \"mastodon\"\nserver = \"{base}\"\n\n\
         [state]\ndir = \"{{STATE}}\"\n\n{sessions}"
    )
}

/// A browser that does not follow redirects, so the test sees where the server sends it.
fn browser() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Plays the person at mastodon_mock's authorize page: opens it (an account picker form) and
/// chooses `username`; returns the server's answer to the choice.
fn allow(address: &str, server: &Mastodon, username: &str) -> reqwest::blocking::Response {
    let page = browser().get(address).send().unwrap();
    assert!(page.status().is_success(), "{}", page.status());
    let html = page.text().unwrap();
    assert!(html.contains(&format!("value=\"{username}\"")), "the picker does not offer {username}:\n{html}");
    let hidden = Regex::new(r#"<input type="hidden" name="(\w+)" value="([^"]*)">"#).unwrap();
    let mut form: Vec<(String, String)> =
        hidden.captures_iter(&html).map(|c| (c[1].to_string(), c[2].to_string())).collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(field("scope"), oauth::SCOPES, "the scopes asked for");
    form.push(("username".into(), username.into()));
    browser().post(server.url("/oauth/authorize")).form(&form).send().unwrap()
}

/// A running `loudhailer -vv login mastodon ARGS`: its stdout to read line by line, and its
/// stderr drained on a thread (trace logs would fill the pipe and stall it).
struct Login {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
    stderr: std::thread::JoinHandle<Vec<u8>>,
    printed: String,
}

impl Login {
    fn start(event: &Event, args: &[&str]) -> Login {
        let mut all = vec!["-vv", "login", "mastodon"];
        all.extend_from_slice(args);
        let mut child = event
            .command(&all, &[])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut err = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = err.read_to_end(&mut bytes);
            bytes
        });
        Login { child, stdout, stderr, printed: String::new() }
    }

    /// Reads up to the authorize address and returns it.
    fn address(&mut self) -> String {
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "login ended before printing the address:\n{}",
                self.printed
            );
            self.printed.push_str(&line);
            if line.contains("/oauth/authorize?") {
                return line.trim().to_string();
            }
        }
    }

    fn type_line(&mut self, line: &str) {
        writeln!(self.child.stdin.take().unwrap(), "{line}").unwrap();
    }

    /// Waits for the end; everything it printed, on both streams.
    fn finish(mut self) -> Output {
        self.stdout.read_to_string(&mut self.printed).unwrap();
        let status = self.child.wait().unwrap();
        Output { status, stdout: self.printed.into_bytes(), stderr: self.stderr.join().unwrap() }
    }
}

/// The stored token, read through the library (no loudhailer running).
fn stored(event: &Event) -> oauth::Token {
    let store = Store::open(&event.state_dir()).unwrap();
    oauth::load(&store, "delegate").unwrap().expect("a token in the state store")
}

/// Neither the token nor the app's secret appear anywhere in `log`.
fn assert_no_secret(log: &str, token: &oauth::Token) {
    assert!(!log.contains(token.access.expose()), "the token reached the output:\n{log}");
    assert!(!log.contains(token.client_secret.expose()), "the client secret reached the output:\n{log}");
}

#[test]
fn login_by_loopback_stores_the_token_owner_only_and_the_account_posts_with_it() {
    let server = Mastodon::start();
    let event = Event::new(&config(&server.base, &session("opening", 4, 60, &["Welcome"])));
    // Before the login: `check` says what to do, `check --online` and `run` refuse.
    let before = event.run(&["check"], &[]);
    assert!(before.status.success(), "{}", text(&before));
    assert!(
        text(&before)
            .contains("account delegate: not signed in yet: run `loudhailer login mastodon --account delegate`"),
        "{}",
        text(&before)
    );
    let online = event.run(&["check", "--online"], &[]);
    assert_eq!(online.status.code(), Some(2), "{}", text(&online));
    assert!(text(&online).contains("run `loudhailer login mastodon --account delegate`"), "{}", text(&online));

    let mut login = Login::start(&event, &["--server", &server.base]);
    let address = login.address();
    assert!(address.starts_with(&format!("{}/oauth/authorize?", server.base)), "{address}");
    let answer = allow(&address, &server, "ada");
    assert_eq!(answer.status().as_u16(), 302);
    let back = answer.headers()["location"].to_str().unwrap().to_string();
    assert!(back.starts_with("http://127.0.0.1:") && back.contains("/callback?code="), "{back}");
    // The browser follows the redirect to loudhailer, which thanks it.
    let thanks = browser().get(&back).send().unwrap();
    assert!(thanks.status().is_success(), "{}", thanks.status());
    assert!(thanks.text().unwrap().contains("Signed in"));
    let out = login.finish();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let api = Api { base: &server.base };
    let ada = api.account_id(Mastodon::ADA);
    assert!(log.contains(&format!("account delegate: signed in on {}/ (account id {ada})", server.base)), "{log}");
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "the login ran at trace level: {log}");

    let token = stored(&event);
    assert_no_secret(&log, &token);
    assert_eq!(token.server.as_str(), format!("{}/", server.base));
    // The token is ada's, and the app holds exactly loudhailer's scopes.
    assert_eq!(api.account_id(token.access.expose()), ada);
    let app = api.get(token.access.expose(), "/api/v1/apps/verify_credentials");
    assert_eq!(app["name"], "loudhailer");
    let scopes: Vec<&str> = app["scopes"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(scopes.join(" "), oauth::SCOPES);
    // Owner-only: the state dir holding it is 0700.
    let mode = std::fs::metadata(event.state_dir()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "state dir mode {mode:o}");

    // `check --online` signs in with the stored token; `run` posts with it.
    let check = event.run(&["-vv", "check", "--online"], &[]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("account delegate: signed in on"), "{}", text(&check));
    assert_no_secret(&text(&check), &token);
    let run = event.run(&["run", "--exit-when-done"], &[]);
    assert!(run.status.success(), "{}", text(&run));
    let posted = api.statuses(Mastodon::ADA);
    assert!(
        posted.iter().any(|s| s["content"].as_str().unwrap_or("").contains("Session opening")),
        "the session was not posted as ada: {posted:?}"
    );
}

#[test]
fn login_by_pasting_the_code_and_its_refusals() {
    let server = Mastodon::start();
    let event = Event::new(&config(&server.base, &session("opening", 3600, 3700, &[])));
    // A pasted address from another sign-in is refused.
    let mut login = Login::start(&event, &["--paste"]);
    let address = login.address();
    assert!(address.contains("redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"), "{address}");
    login.type_line("http://127.0.0.1:9/callback?code=c&state=not-this-one");
    let out = login.finish();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("its state does not match"), "{}", text(&out));

    // The code the server shows, pasted: grace signs in.
    let mut login = Login::start(&event, &["--paste", "--account", "delegate"]);
    let address = login.address();
    let shown = allow(&address, &server, "grace");
    assert!(shown.status().is_success(), "{}", shown.status());
    let page = shown.text().unwrap();
    let code = Regex::new(r"Authorization code: (\S+)</p>").unwrap().captures(&page).expect(&page)[1].to_string();
    login.type_line(&code);
    let out = login.finish();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let api = Api { base: &server.base };
    assert_eq!(api.account_id(stored(&event).access.expose()), api.account_id(Mastodon::GRACE));
    assert_no_secret(&log, &stored(&event));

    // A code the server does not know: refused, and the stored token is kept.
    let before = stored(&event);
    let mut login = Login::start(&event, &["--paste"]);
    login.address();
    login.type_line("not-a-code");
    let out = login.finish();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("the server refused the sign-in code"), "{}", text(&out));
    assert_eq!(stored(&event), before);

    // An account with a token_env does not use a stored token: login says so.
    event.rewrite(
        &config(&server.base, "")
            .replace("platform = \"mastodon\"\n", "platform = \"mastodon\"\ntoken_env = \"LH_T\"\n"),
    );
    let out = event.run(&["login", "mastodon"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("takes its token from token_env/token_file"), "{}", text(&out));
}

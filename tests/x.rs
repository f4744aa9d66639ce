//! X, end to end: the loudhailer binary against the X test server (`tests/common/xserver.rs`),
//! which checks every request and answer against X's OpenAPI document and recomputes every
//! OAuth 1.0a signature. A day posted and retweeted once with threads; replies refused and the
//! points numbered instead; a lost answer found rather than repeated; 429 honoured; SIGKILL and
//! restart; counts read; OAuth 2.0 login, refresh and rotation; and the checker's own teeth.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::lh::{in_secs, text, Event};
use common::xserver::{Effect, Fault, Post, XServer, CLIENT_ID, CLIENT_SECRET, CONSUMER_KEY, CONSUMER_SECRET, USERS};
use loudhailer::clock::Clock;
use loudhailer::config::Config;
use loudhailer::job::RemoteRef;
use loudhailer::limit::{self, Limiter};
use loudhailer::metrics::{Counts, Reading};
use loudhailer::network::Network;
use loudhailer::platform::{Client, Platform};
use loudhailer::secret::{Credentials, OAuth1Keys, Secret};
use loudhailer::store::Store;

const DELEGATE: &str = "ada_delegate";
const COUNCIL: &str = "faith_council";

const ENV: [(&str, &str); 7] = [
    ("LH_X_CK", CONSUMER_KEY),
    ("LH_X_CS", CONSUMER_SECRET),
    ("LH_X_DELEGATE_AT", USERS[0].2),
    ("LH_X_DELEGATE_AS", USERS[0].3),
    ("LH_X_COUNCIL_AT", USERS[1].2),
    ("LH_X_COUNCIL_AS", USERS[1].3),
    ("LH_X_CLIENT_SECRET", CLIENT_SECRET),
];

const OAUTH1_DELEGATE: &str = "consumer_key_env = \"LH_X_CK\"\nconsumer_secret_env = \"LH_X_CS\"\naccess_token_env = \"LH_X_DELEGATE_AT\"\naccess_secret_env = \"LH_X_DELEGATE_AS\"";

fn oauth2_delegate() -> String {
    format!("client_id = \"{CLIENT_ID}\"\nclient_secret_env = \"LH_X_CLIENT_SECRET\"")
}

fn config(base: &str, sessions: &str, amplify: &str, delegate_auth: &str) -> String {
    format!(
        r##"[event]
name = "Test day on X"
timezone = "Europe/London"
hashtags = ["#EMIEP"]

[[account]]
id = "delegate"
platform = "x"
server = "{base}"
{delegate_auth}
role = "primary"

[[account]]
id = "council"
platform = "x"
server = "{base}"
consumer_key_env = "LH_X_CK"
consumer_secret_env = "LH_X_CS"
access_token_env = "LH_X_COUNCIL_AT"
access_secret_env = "LH_X_COUNCIL_AS"
role = "amplifier"

[amplify]
{amplify}

[state]
dir = "{{STATE}}"

{sessions}
"##
    )
}

fn session(title: &str, start: i64, end: i64, points: &[&str]) -> String {
    format!(
        "[[session]]\ntitle = \"{title}\"\nstart = \"{}\"\nend = \"{}\"\npoints = {points:?}\n\n",
        in_secs(start),
        in_secs(end)
    )
}

/// Asserts each text was posted by the delegate exactly once and retweeted by the council
/// exactly once, and that nothing else was retweeted; returns the posts by text.
fn assert_once_and_retweeted(server: &XServer, texts: &[String]) -> HashMap<String, Post> {
    let posts = server.posts_by(DELEGATE);
    let retweets = server.retweets();
    let mut out = HashMap::new();
    for t in texts {
        let found: Vec<&Post> = posts.iter().filter(|p| &p.text == t).collect();
        assert_eq!(found.len(), 1, "{t:?} was posted {} times", found.len());
        let id = &found[0].id;
        let n = retweets.iter().filter(|(u, p)| u == COUNCIL && p == id).count();
        assert_eq!(n, 1, "{t:?} ({id}) was retweeted {n} times");
        out.insert(t.clone(), found[0].clone());
    }
    assert_eq!(retweets.len(), texts.len(), "no other retweets: {retweets:?}");
    out
}

fn tagged(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|t| format!("{t} #EMIEP")).collect()
}

#[test]
fn a_day_goes_out_once_threaded_and_retweeted() {
    let server = XServer::start();
    let sessions = session("Equalities Law", 4, 10, &["The Act is in force", "Duties apply to councils"])
        + &session("Data", 6, 12, &["Start from what you hold"]);
    let event = Event::new(&config(
        &server.base,
        &sessions,
        "delay = \"2s\"\njitter = \"1s\"\nrate = \"600/m\"",
        OAUTH1_DELEGATE,
    ));

    // plan: the cost of the day on X, beforehand; JSON keeps its fields and adds the price.
    let plan = event.run(&["plan"], &[]);
    assert!(plan.status.success(), "{}", text(&plan));
    assert!(
        text(&plan).contains("Estimated API cost: $0.15 on X: 5 posts at $0.015, 5 retweets at $0.015 (est.)"),
        "{}",
        text(&plan)
    );
    let json: Vec<serde_json::Value> =
        serde_json::from_slice(&event.run(&["plan", "--format", "json"], &[]).stdout).unwrap();
    assert_eq!(json.len(), 10);
    for j in &json {
        for field in ["id", "at", "account", "kind", "session", "text"] {
            assert!(j.get(field).is_some(), "{field} missing from {j}");
        }
        assert_eq!(j["cost_usd"], 0.015, "{j}");
    }

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("10 jobs: 10 done"), "{}", text(&out));

    let texts = tagged(&[
        "Equalities Law",
        "The Act is in force",
        "Duties apply to councils",
        "Data",
        "Start from what you hold",
    ]);
    let posts = assert_once_and_retweeted(&server, &texts);
    let id = |t: &str| posts[&format!("{t} #EMIEP")].id.clone();
    let reply_to = |t: &str| posts[&format!("{t} #EMIEP")].reply_to.clone();
    assert_eq!(reply_to("Equalities Law"), None);
    assert_eq!(reply_to("The Act is in force"), Some(id("Equalities Law")));
    assert_eq!(reply_to("Duties apply to councils"), Some(id("The Act is in force")));
    assert_eq!(reply_to("Start from what you hold"), Some(id("Data")));

    let status = event.status();
    assert_eq!(status.len(), 10);
    assert!(status.iter().all(|j| j["state"] == "done"), "{status:?}");
    let title = status.iter().find(|j| j["id"] == "equalities-law.title.delegate").unwrap();
    assert_eq!(title["url"], format!("https://x.com/{DELEGATE}/status/{}", id("Equalities Law")));

    // Every request was OAuth 1.0a, and every signature checked out.
    let (good, bad) = server.signatures();
    assert!(good >= 10, "{good} good signatures");
    assert_eq!(bad, 0);

    // A second run sends nothing more.
    let again = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 sent in this run"), "{}", text(&again));
    assert_once_and_retweeted(&server, &texts);
    server.assert_clean();
}

#[test]
fn refused_replies_go_out_as_numbered_posts() {
    let server = XServer::start();
    server.refuse_replies(true);
    let sessions = session("Law", 3, 9, &["One", "Two", "Three"]);
    let event = Event::new(&config(
        &server.base,
        &sessions,
        "delay = \"1s\"\njitter = \"0s\"\nrate = \"600/m\"",
        OAUTH1_DELEGATE,
    ));

    // Said beforehand, by plan and by check.
    let plan = event.run(&["plan"], &[]);
    assert!(text(&plan).contains("X may refuse delegate's replies"), "{}", text(&plan));
    let check = event.run(&["check"], &ENV);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("each point goes out as a standalone numbered post"), "{}", text(&check));

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("8 jobs: 8 done"), "{log}");
    assert!(log.contains("X refused a reply"), "{log}");
    let texts: Vec<String> =
        ["Law #EMIEP", "2/4 One #EMIEP", "3/4 Two #EMIEP", "4/4 Three #EMIEP"].map(String::from).to_vec();
    let posts = assert_once_and_retweeted(&server, &texts);
    assert!(posts.values().all(|p| p.reply_to.is_none()), "{posts:?}");
    // One reply was tried and refused; after that the client did not ask again.
    let replies_tried = server
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/2/tweets" && r.body.get("reply").is_some())
        .count();
    assert_eq!(replies_tried, 1);
    server.assert_clean();
}

#[test]
fn a_lost_answer_is_found_not_posted_again() {
    let server = XServer::start();
    // X makes the post but the answer never arrives; the timeline shows new posts 3 s late, so
    // the look before the resend misses it and X answers 403 duplicate content.
    server.add_fault(Fault { method: "POST", path: "/2/tweets", effect: Effect::LoseAnswer, times: Some(1) });
    server.lag_timeline(Duration::from_secs(3));
    let sessions = session("Law", 3, 20, &[]);
    let event = Event::new(&config(
        &server.base,
        &sessions,
        "delay = \"1s\"\njitter = \"0s\"\nrate = \"600/m\"",
        OAUTH1_DELEGATE,
    ));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("2 jobs: 2 done"), "{log}");
    let posts = assert_once_and_retweeted(&server, &tagged(&["Law"]));
    let statuses: Vec<u16> =
        server.requests().iter().filter(|r| r.method == "POST" && r.path == "/2/tweets").map(|r| r.status).collect();
    assert_eq!(statuses, [503, 403], "the lost answer, then X's duplicate refusal");
    assert!(log.contains("X already had this post (duplicate content)"), "{log}");
    let title = event.status().into_iter().find(|j| j["id"] == "law.title.delegate").unwrap();
    assert_eq!(title["url"], format!("https://x.com/{DELEGATE}/status/{}", posts["Law #EMIEP"].id));
    server.assert_clean();
}

#[test]
fn a_text_posted_before_the_job_is_refused_not_claimed() {
    let server = XServer::start();
    let old = server.seed_post(DELEGATE, "Old news #EMIEP", chrono::Utc::now() - chrono::Duration::hours(1));
    let sessions = session("Fresh", 2, 6, &["Old news"]);
    let event = Event::new(&config(
        &server.base,
        &sessions,
        "delay = \"1s\"\njitter = \"0s\"\nrate = \"600/m\"",
        OAUTH1_DELEGATE,
    ));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    let status = event.status();
    let point = status.iter().find(|j| j["id"] == "fresh.p1.delegate").unwrap();
    assert_eq!(point["state"], "failed", "{point}");
    let error = point["error"].as_str().unwrap();
    assert!(error.contains("posted the same text before this job was first sent"), "{error}");
    assert!(error.contains(&old), "{error}");
    let boost = status.iter().find(|j| j["id"] == "fresh.p1.delegate+council").unwrap();
    assert_eq!(boost["state"], "cancelled", "{boost}");
    assert_eq!(server.posts_by(DELEGATE).iter().filter(|p| p.text == "Old news #EMIEP").count(), 1);
    server.assert_clean();
}

#[test]
fn a_429_is_honoured_without_spinning() {
    let server = XServer::start();
    server.add_fault(Fault {
        method: "POST",
        path: "/2/tweets",
        effect: Effect::RateLimit { reset_in: 4 },
        times: Some(1),
    });
    let sessions = session("Law", 2, 8, &[]);
    let event = Event::new(&config(
        &server.base,
        &sessions,
        "delay = \"1s\"\njitter = \"0s\"\nrate = \"600/m\"",
        OAUTH1_DELEGATE,
    ));
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("2 jobs: 2 done"), "{log}");
    assert!(log.contains("rate limited"), "{log}");
    let requests = server.requests();
    let limited = requests.iter().find(|r| r.status == 429).expect("the 429");
    let after: Vec<Duration> = requests
        .iter()
        .filter(|r| r.path.starts_with("/2/") && r.at > limited.at && r.method == "POST")
        .map(|r| r.at - limited.at)
        .collect();
    // The reset was 3–4 s away (whole seconds): nothing was sent before it.
    assert!(!after.is_empty());
    assert!(after[0] >= Duration::from_millis(2900), "sent again {:?} after the 429", after[0]);
    let posts_tried = requests.iter().filter(|r| r.method == "POST" && r.path == "/2/tweets").count();
    assert_eq!(posts_tried, 2, "one 429, one success");
    assert_once_and_retweeted(&server, &tagged(&["Law"]));
    server.assert_clean();
}

#[test]
fn sigkill_mid_run_then_restart_leaves_each_post_and_retweet_once() {
    let server = XServer::start();
    // Slow every post so the kill lands while requests are in flight.
    server.add_fault(Fault {
        method: "POST",
        path: "/2/tweets",
        effect: Effect::Delay(Duration::from_millis(700)),
        times: None,
    });
    let mut sessions = String::new();
    let mut texts = Vec::new();
    for s in 0..3 {
        let points: Vec<String> = (1..=3).map(|p| format!("Session {s} point {p}")).collect();
        let refs: Vec<&str> = points.iter().map(String::as_str).collect();
        sessions.push_str(&session(&format!("Session {s}"), 3 + s, 9 + s, &refs));
        texts.push(format!("Session {s} #EMIEP"));
        texts.extend(points.iter().map(|p| format!("{p} #EMIEP")));
    }
    let event = Event::new(&config(
        &server.base,
        &sessions,
        "delay = \"1s\"\njitter = \"0s\"\nrate = \"600/m\"",
        OAUTH1_DELEGATE,
    ));
    let mut first = event.spawn(&["run"], &ENV);
    std::thread::sleep(Duration::from_millis(6500));
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let done_before = event.status().iter().filter(|j| j["state"] == "done").count();
    assert!(done_before > 0 && done_before < 24, "the kill should land mid-run: {done_before} done");

    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert_once_and_retweeted(&server, &texts);
    assert!(event.status().iter().all(|j| j["state"] == "done"));
    server.assert_clean();
}

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
    let event = Event::new(&config(
        &server.base,
        &sessions,
        "delay = \"1s\"\njitter = \"0s\"\nrate = \"600/m\"",
        &oauth2_delegate(),
    ));
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

    // X revokes the access token: the next request is refused, refreshed once, and sent again.
    server.token_lifetime(7200);
    server.expire_access_tokens(DELEGATE);
    let again = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("0 sent in this run"), "{}", text(&again));
    assert_eq!(server.refreshes(), refreshed + 1);
    assert_eq!(Some(stored_refresh_token(&event)), server.live_refresh_token(DELEGATE));
    assert!(!text(&again).contains("credentials refused"), "{}", text(&again));
    server.assert_clean();
}

/// A client for `account` of a config pointing at `server`, outside the binary.
fn client(server: &XServer, account: &str) -> Client {
    let text = config(&server.base, "", "delay = \"1s\"\njitter = \"0s\"", OAUTH1_DELEGATE);
    let config = Config::parse(std::path::Path::new("x.toml"), &text.replace("{STATE}", "/nonexistent")).unwrap();
    let (token, secret) = if account == "delegate" { (USERS[0].2, USERS[0].3) } else { (USERS[1].2, USERS[1].3) };
    let keys = OAuth1Keys {
        consumer_key: Secret::new(CONSUMER_KEY),
        consumer_secret: Secret::new(CONSUMER_SECRET),
        access_token: Secret::new(token),
        access_secret: Secret::new(secret),
    };
    let limiter = Arc::new(Limiter::new(Clock::Wall, limit::published(Network::X)));
    Client::connect(
        config.account(account).unwrap(),
        Credentials::XOAuth1(keys),
        limiter,
        Clock::Wall,
        Store::temporary().unwrap(),
    )
    .unwrap()
}

fn no_wait(_: chrono::DateTime<chrono::Utc>, _: &str) {}

fn remote(id: &str) -> RemoteRef {
    RemoteRef { id: id.into(), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_are_read_in_batches_and_gone_posts_say_so() {
    let server = XServer::start();
    let now = chrono::Utc::now();
    let liked = server.seed_post(DELEGATE, "Liked", now);
    let gone = server.seed_post(DELEGATE, "Deleted later", now);
    server.set_likes(&liked, 7);
    let delegate = client(&server, "delegate");
    let council = client(&server, "council");
    let boost = loudhailer::platform::BoostRequest {
        target: &remote(&liked),
        origin: &url::Url::parse(&server.base).unwrap(),
        key: "k",
        created_at: now,
        resend: false,
    };
    council.boost(&boost, &no_wait).await.unwrap();
    // A second retweet is refused by X as already made: done, not doubled.
    council.boost(&boost, &no_wait).await.unwrap();
    assert_eq!(server.retweets().len(), 1);
    let Client::X(d) = &delegate else { panic!("an X client") };
    d.delete_post(&gone, &no_wait).await.unwrap();

    let readings = delegate.metrics(&[remote(&liked), remote(&gone), remote("1234567")], &no_wait).await.unwrap();
    assert_eq!(
        readings,
        [
            Reading::Counts(Counts { likes: Some(7), reposts: Some(1), replies: Some(0), quotes: Some(0) }),
            Reading::Gone,
            Reading::Gone
        ]
    );
    // 150 posts: two requests of at most 100 ids.
    let many: Vec<RemoteRef> = (0..150).map(|i| remote(&(1_000_000 + i).to_string())).collect();
    let before = server.requests().len();
    let readings = delegate.metrics(&many, &no_wait).await.unwrap();
    assert_eq!(readings.len(), 150);
    assert!(readings.iter().all(|r| *r == Reading::Gone));
    let batches: Vec<usize> = server.requests()[before..]
        .iter()
        .map(|r| r.query.iter().find(|(k, _)| k == "ids").unwrap().1.split(',').count())
        .collect();
    assert_eq!(batches, [100, 50]);

    // Where X speaks as its prose docs do (tweet.fields, retweet_count), the same counts.
    server.use_legacy_field_names(true);
    let fresh = client(&server, "delegate");
    let readings = fresh.metrics(&[remote(&liked)], &no_wait).await.unwrap();
    assert_eq!(
        readings,
        [Reading::Counts(Counts { likes: Some(7), reposts: Some(1), replies: Some(0), quotes: Some(0) })]
    );
    assert!(server.requests().last().unwrap().query.iter().any(|(k, _)| k == "tweet.fields"));
    server.use_legacy_field_names(false);

    // Undo: the retweet, then the post.
    let Client::X(c) = &council else { panic!("an X client") };
    c.unretweet(&liked, &no_wait).await.unwrap();
    assert!(server.retweets().is_empty());
    d.delete_post(&liked, &no_wait).await.unwrap();
    assert!(server.posts_by(DELEGATE).is_empty());
    server.assert_clean();
}

#[test]
fn the_spec_checker_has_teeth() {
    let server = XServer::start();
    let Some(version) = server.spec_version() else {
        eprintln!("NOTE: X's OpenAPI document not found; the checker was not exercised");
        return;
    };
    assert_eq!(version, "2.167");
    let http = reqwest::blocking::Client::new();
    let cases: &[(&str, &str, Option<&str>, &str)] = &[
        ("GET", "/2/tweets?ids=abc&post.fields=public_metrics", None, "does not match ^[0-9]{1,19}$"),
        ("GET", "/2/tweets?ids=1&tweet.fields=public_metrics", None, "unknown query parameter \"tweet.fields\""),
        ("GET", "/2/tweets?post.fields=public_metrics", None, "required query parameter ids is missing"),
        ("GET", "/2/users/1111111111/tweets?max_results=500", None, "above the maximum 100"),
        ("GET", "/2/users/1111111111/tweets?exclude=replies,replies", None, "is repeated"),
        ("POST", "/2/tweets", Some(r#"{"text": 5}"#), "is not of type string"),
        ("POST", "/2/tweets", Some(r#"{"text": "a", "reply": {}}"#), "required field in_reply_to_tweet_id is missing"),
        ("POST", "/2/tweets", Some(r#"{"text": "a", "colour": "red"}"#), "field colour is not allowed"),
        ("POST", "/2/tweets", None, "the required body is missing"),
        ("POST", "/2/users/1111111111/retweets", Some("{}"), "required field tweet_id is missing"),
        ("DELETE", "/2/users/1111111111/retweets/x1", None, "path source_tweet_id"),
        ("GET", "/2/users/me/extra", None, "no such operation"),
    ];
    for (method, path, body, words) in cases {
        let mut r = http.request(method.parse().unwrap(), format!("{}{path}", server.base));
        if let Some(b) = body {
            r = r.header("content-type", "application/json").body(b.to_string());
        }
        let answer = r.send().unwrap();
        assert_eq!(answer.status().as_u16(), 400, "{method} {path}");
        let seen = server.take_violations();
        assert!(seen.iter().any(|v| v.contains(words)), "{method} {path}: wanted {words:?} in {seen:?}");
    }
    // Answers are checked too: a post id as a number is not X's shape.
    let spec = common::openapi::Spec::load(&common::openapi::document_path().unwrap());
    let m = spec.operation("GET", "/2/tweets").unwrap();
    let bad =
        spec.check_response(&m, 200, "application/json", &serde_json::json!({ "data": [{ "id": 1, "text": "t" }] }));
    assert!(bad.iter().any(|v| v.contains("is not of type string")), "{bad:?}");
    let fine =
        spec.check_response(&m, 200, "application/json", &serde_json::json!({ "data": [{ "id": "1", "text": "t" }] }));
    assert!(fine.is_empty(), "{fine:?}");
    // The test server's signature check is RFC 5849's (§1.2), not the client's own.
    let params: Vec<(String, String)> = [
        ("file", "vacation.jpg"),
        ("size", "original"),
        ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
        ("oauth_token", "nnch734d00sl2jdk"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131202"),
        ("oauth_nonce", "chapoH"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sig = common::xserver::sign_hmac_sha1(
        "GET",
        "http://photos.example.net/photos",
        &params,
        "kd94hf93k423kf44",
        "pfkkdhi9sl3r4s00",
    );
    assert_eq!(sig, "MdpQcU8iPSUjWoN/UDMsK2sui9I=");
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(5));
}

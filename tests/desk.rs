//! The live desk's security and lifecycle against a running daemon: sign-in links that work
//! once and for minutes, CSRF, revoke, TLS only when it is on, plain HTTP off loopback refused,
//! limits, no secret in any page, body or log line, and a post tapped just before a SIGKILL
//! going out once per network.

mod common;

use std::time::Duration;

use common::desk::{self, Daemon};
use common::lh::{in_secs, mastodon_config, session, text, Api, Event, FAST_AMPLIFY, MASTODON_ENV as ENV};
use common::peers::{Atproto, Mastodon};
use serde_json::json;

/// A Mastodon event with its desk on a free loopback port, a session under way and one to come.
fn event(server: &Mastodon, desk_section: &str) -> Event {
    let sessions = format!(
        "{desk_section}\n[[snippet]]\ntext = \"coffee break!\"\n\n{}{}",
        session("talk", 1, 900, &["planned one", "planned two"]),
        session("later", 1000, 1600, &["later one"])
    );
    Event::new(&mastodon_config(&server.base, FAST_AMPLIFY, &sessions))
}

const LOOPBACK: &str = "[desk]\nlisten = \"127.0.0.1:0\"\n";

#[test]
fn a_state_change_without_the_csrf_token_is_refused() {
    let server = Mastodon::start();
    let event = event(&server, LOOPBACK);
    let _d = Daemon::start(&event, &ENV, &[]);
    let (_, link) = desk::sign_in_link(&event);
    let s = desk::sign_in(&link);
    let body = json!({ "text": "should never be posted", "thread": "", "key": "csrfcheck01" });
    let attempt = |csrf: Option<&str>, origin: Option<&str>| {
        let mut r = desk::http()
            .post(format!("{}/api/say", s.base))
            .header("cookie", s.cookie_header())
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(c) = csrf {
            r = r.header("x-csrf-token", c);
        }
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send().unwrap()
    };
    for (csrf, origin, why) in [
        (None, None, "no token"),
        (Some("0".repeat(64)), None, "a wrong token"),
        (Some(s.csrf.clone()), Some("http://evil.example".to_string()), "another site"),
    ] {
        let r = attempt(csrf.as_deref(), origin.as_deref());
        assert_eq!(r.status(), 403, "{why}");
        assert!(r.text().unwrap().contains("CSRF"), "{why}");
    }
    // Every other state-changing route is guarded the same way.
    for path in [
        "/api/shift",
        "/api/skip",
        "/api/send-next",
        "/api/pause",
        "/api/resume",
        "/api/retry",
        "/api/snippet",
        "/api/photo",
        "/signout",
    ] {
        let r = desk::http()
            .post(format!("{}{path}", s.base))
            .header("cookie", s.cookie_header())
            .body("{}")
            .send()
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
    }
    assert!(!desk::jobs(&event).keys().any(|k| k.starts_with("say")), "nothing was said");
    // With the token, the same request goes through.
    let r = s.post("/api/say", body.clone());
    assert_eq!(r.status(), 200);
    assert!(desk::jobs(&event).contains_key("say-csrfcheck01.post.delegate"));
    // Without a session the CSRF token alone does nothing.
    let r = desk::http()
        .post(format!("{}/api/say", s.base))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[test]
fn a_sign_in_link_works_once_and_reused_expired_or_wrong_links_are_refused() {
    let server = Mastodon::start();
    let event = event(&server, LOOPBACK);
    let _d = Daemon::start(&event, &ENV, &[]);
    let (printed, link) = desk::sign_in_link(&event);
    assert!(printed.contains("within 5 minutes"), "{printed}");
    assert!(printed.contains('█') || printed.contains('▀'), "a QR code: {printed}");
    let (base, secret) = link.split_once("/signin#").unwrap();
    assert!(base.starts_with("http://127.0.0.1:"));
    // GET of the sign-in page does not use the link up (the secret never reaches the server).
    let page = desk::http().get(format!("{base}/signin")).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(!page.text().unwrap().contains(secret));
    let first = desk::post_sign_in(base, secret);
    assert_eq!(first.status(), 200);
    let again = desk::post_sign_in(base, secret);
    assert_eq!(again.status(), 403, "a link works once");
    assert!(again.text().unwrap().contains("used before, has expired, or is not one"));
    let wrong = format!("{}A", &secret[..42]);
    assert_eq!(desk::post_sign_in(base, &wrong).status(), 403, "a wrong link");
    // A link that expires in two seconds, stored as `loudhailer desk` stores one.
    let expiring = "x".repeat(43);
    let digest = loudhailer::desk::auth::digest(&expiring);
    let expires = chrono::Utc::now() + chrono::Duration::seconds(2);
    let r = common::lh::control(&event.state_dir(), json!({"op": "desk-link", "hash": digest, "expires": expires}));
    assert_eq!(r["ok"], true, "{r}");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(desk::post_sign_in(base, &expiring).status(), 403, "an expired link");
    // From another site: refused before the link is even looked at.
    let foreign = desk::http()
        .post(format!("{base}/signin"))
        .header("origin", "http://evil.example")
        .header("content-type", "application/json")
        .body(json!({"token": secret}).to_string())
        .send()
        .unwrap();
    assert_eq!(foreign.status(), 403);
    // Sign-ins are limited: four tries so far; the fifth in a minute from one address is
    // looked at, the sixth is refused unread.
    let statuses: Vec<u16> = (0..3).map(|_| desk::post_sign_in(base, &wrong).status().as_u16()).collect();
    assert_eq!(statuses, [403, 429, 429], "five tries a minute, then wait");
}

#[test]
fn after_desk_revoke_the_old_cookie_is_refused() {
    let server = Mastodon::start();
    let event = event(&server, LOOPBACK);
    let _d = Daemon::start(&event, &ENV, &[]);
    let (_, link) = desk::sign_in_link(&event);
    let s = desk::sign_in(&link);
    assert_eq!(s.get("/").status(), 200);
    let mut stream = s.get("/events");
    assert_eq!(stream.status(), 200);
    let out = event.run(&["desk", "revoke"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ended 1 desk sessions"), "{}", text(&out));
    let page = s.get("/");
    assert_eq!(page.status(), 303, "back to the sign-in page");
    assert_eq!(page.headers()["location"], "/signin");
    assert_eq!(s.get("/events").status(), 401);
    assert_eq!(s.post("/api/pause", json!({"account": "council"})).status(), 401);
    // An open event stream says so and ends (within its recheck, at most half a minute).
    let mut seen = String::new();
    use std::io::Read;
    let _ = stream.read_to_string(&mut seen);
    assert!(seen.contains("event: signed-out"), "{seen}");
}

#[test]
fn plain_http_off_loopback_is_refused_and_insecure_http_warns_at_every_start() {
    let server = Mastodon::start();
    let event = event(&server, "[desk]\nlisten = \"0.0.0.0:0\"\n");
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("desk.listen") && said.contains("plain HTTP"), "{said}");
    assert!(said.contains("tls = \"self-signed\"") && said.contains("insecure_http = true"), "{said}");
    // Asked for by name, it runs, and says so every time it starts.
    event.rewrite(&mastodon_config(
        &server.base,
        FAST_AMPLIFY,
        &format!("[desk]\nlisten = \"0.0.0.0:0\"\ninsecure_http = true\n\n{}", session("soon", 1, 2, &[])),
    ));
    for _ in 0..2 {
        let out = event.run(&["run", "--exit-when-done"], &ENV);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("the desk serves plain HTTP off this machine"), "{}", text(&out));
    }
}

#[test]
fn with_a_self_signed_certificate_the_desk_answers_over_https_only() {
    let server = Mastodon::start();
    let event = event(&server, "[desk]\nlisten = \"127.0.0.1:0\"\ntls = \"self-signed\"\n");
    let d = Daemon::start(&event, &ENV, &[]);
    let (base, fingerprint) = desk::address(&event);
    let fingerprint = fingerprint.expect("a fingerprint");
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    // The fingerprint in the log and printed by `loudhailer desk` is the certificate's own.
    let cert = std::fs::read_to_string(event.state_dir().join("desk-cert.pem")).unwrap();
    let der = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        cert.lines().filter(|l| !l.starts_with("-----")).collect::<String>(),
    )
    .unwrap();
    let own: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
    };
    assert_eq!(fingerprint, own);
    assert!(d.log_text().contains(&own), "{}", d.log_text());
    let (printed, link) = desk::sign_in_link(&event);
    assert!(printed.contains(&own), "{printed}");
    assert!(link.starts_with("https://"));
    let r = desk::http().get(format!("{base}/signin")).send().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["strict-transport-security"].to_str().unwrap().starts_with("max-age="));
    // Plain HTTP on the same port gets no HTTP answer at all.
    let plain = base.replace("https://", "http://");
    assert!(desk::http().get(format!("{plain}/signin")).send().is_err(), "plain HTTP must not be answered");
    // The cookies are Secure, for this host only.
    let (_, secret) = link.split_once("/signin#").unwrap();
    let r = desk::post_sign_in(&base, secret);
    assert_eq!(r.status(), 200);
    let (name, _, header) = desk::set_cookie(&r, "lh_desk").unwrap();
    assert_eq!(name, "__Host-lh_desk");
    for attr in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(header.contains(attr), "{header}");
    }
    let (_, _, csrf) = desk::set_cookie(&r, "lh_csrf").unwrap();
    assert!(csrf.contains("Secure") && !csrf.contains("HttpOnly"), "{csrf}");
    // A restart keeps the certificate: the phone's check stays good.
    drop(d);
    let _d = Daemon::start(&event, &ENV, &[]);
    assert_eq!(desk::address(&event).1.as_deref(), Some(own.as_str()));
}

#[test]
fn no_secret_reaches_a_page_a_body_or_a_log_line_at_trace_level() {
    let server = Mastodon::start();
    let event = event(&server, LOOPBACK);
    let d = Daemon::start(&event, &ENV, &["-vv"]);
    desk::wait_done(&event, "talk.title.delegate", Duration::from_secs(30));
    let (_, link) = desk::sign_in_link(&event);
    let secret = link.split_once("/signin#").unwrap().1.to_string();
    let s = desk::sign_in(&link);
    let mut bodies = Vec::new();
    for path in ["/", "/signin", "/events-not-a-page"] {
        bodies.push(s.get(path).text().unwrap());
    }
    for (path, body) in [
        ("/api/preview", json!({"text": "Measured"})),
        ("/api/say", json!({"text": "A point from the floor", "thread": "talk", "key": "tracecheck1"})),
        ("/api/shift", json!({"session": "later", "by": 300})),
        ("/api/snippet", json!({"label": "coffee break!", "thread": "", "key": "tracecheck2"})),
        ("/api/pause", json!({"account": "council"})),
        ("/api/resume", json!({"account": "council"})),
    ] {
        let r = s.post(path, body);
        assert_eq!(r.status(), 200, "{path}");
        bodies.push(r.text().unwrap());
    }
    let mut events = s.get("/events");
    let mut chunk = [0u8; 4096];
    use std::io::Read;
    let n = events.read(&mut chunk).unwrap();
    bodies.push(String::from_utf8_lossy(&chunk[..n]).into_owned());
    desk::wait_done(&event, "say-tracecheck1.post.delegate", Duration::from_secs(20));
    let sign_out = s.post("/signout", json!({}));
    bodies.push(sign_out.text().unwrap());
    let log = d.stop();
    assert!(log.contains("TRACE"), "the daemon logged at trace level");
    let secrets = [secret.as_str(), s.session.as_str(), s.csrf.as_str(), Mastodon::ADA, Mastodon::GRACE];
    for (i, body) in bodies.iter().enumerate() {
        for x in secrets {
            assert!(!body.contains(x), "body {i} holds a secret: {body}");
        }
    }
    for line in log.lines() {
        for x in secrets {
            assert!(!line.contains(x), "a log line holds a secret: {line}");
        }
    }
    // Nor does the store keep them: only digests.
    let state = std::fs::read_dir(event.state_dir().join("db")).unwrap();
    for f in state.flatten() {
        let bytes = std::fs::read(f.path()).unwrap_or_default();
        let hay = String::from_utf8_lossy(&bytes);
        assert!(!hay.contains(&secret) && !hay.contains(&s.session), "{} holds a desk secret", f.path().display());
    }
}

#[test]
fn request_bodies_past_the_limit_are_refused() {
    let server = Mastodon::start();
    let event = event(&server, LOOPBACK);
    let _d = Daemon::start(&event, &ENV, &[]);
    let (_, link) = desk::sign_in_link(&event);
    let s = desk::sign_in(&link);
    let r = s.post("/api/preview", json!({ "text": "x".repeat(20 * 1024) }));
    assert_eq!(r.status(), 413);
    let r = s.post("/api/preview", json!({ "text": "x".repeat(4 * 1024) }));
    assert_eq!(r.status(), 200);
    // Unknown fields are refused, not ignored.
    let r = s.post("/api/pause", json!({ "account": "council", "all": true }));
    assert_eq!(r.status(), 422);
    // Every answer carries the policy and the headers.
    let r = s.get("/");
    let h = r.headers();
    // Only the page's own script and stylesheet run, named by their digests.
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'; script-src 'sha256-"), "{csp}");
    assert!(csp.contains("style-src 'sha256-") && csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
}

#[test]
fn a_photo_is_checked_as_it_is_uploaded_and_a_post_needs_its_alt_text() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    // The config's cap (300 KB) is below the desk's own: it rules.
    let event = event(&server, &format!("{LOOPBACK}\n[media]\nmax_file_bytes = 300_000\n"));
    let _d = Daemon::start(&event, &ENV, &[]);
    let (_, link) = desk::sign_in_link(&event);
    let s = desk::sign_in(&link);
    let page = s.get("/").text().unwrap();
    assert!(page.contains("up to 300 KB"), "the page states the cap");

    // Not an image, or over the cap: refused, saying why; nothing kept.
    let r = s.post_bytes("/api/photo", b"my notes, not a photo".to_vec());
    assert_eq!(r.status(), 422);
    let said = r.text().unwrap();
    assert!(said.contains("not an image"), "{said}");
    let r = s.post_bytes("/api/photo", vec![0xff; 400_000]);
    assert_eq!(r.status(), 413, "over the cap");
    assert!(
        !event.state_dir().join("photos").exists()
            || std::fs::read_dir(event.state_dir().join("photos")).unwrap().count() == 0
    );
    // A phone photo within it: kept under its digest, owner-only.
    let jpeg = common::photo::phone_photo(800, 600, 85, 6);
    assert!(jpeg.len() < 300_000, "{} bytes", jpeg.len());
    let r = s.post_bytes("/api/photo", jpeg);
    assert_eq!(r.status(), 200);
    let kept: serde_json::Value = r.json().unwrap();
    let name = kept["photo"].as_str().unwrap().to_string();
    assert!(name.ends_with(".jpg") && name.len() == 36, "{name}");
    assert!(kept["message"].as_str().unwrap().starts_with("photo ready"), "{kept}");

    // A post naming it without alt text, or naming anything else: refused, nothing said.
    let say = |photo: &str, alt: &str, key: &str| {
        s.post(
            "/api/say",
            json!({ "text": "The room is full", "thread": "", "key": key, "photos": [{ "photo": photo, "alt": alt }] }),
        )
    };
    let r = say(&name, "  ", "photocheck01");
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("alt text is required"));
    let r = say("../../config.toml", "a file", "photocheck02");
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains("not a photo the desk took"));
    assert!(!desk::jobs(&event).keys().any(|k| k.starts_with("say")), "nothing was said");
    // With its alt text: on Mastodon with its description.
    let r = say(&name, "A full lecture room, hands raised", "photocheck03");
    assert_eq!(r.status(), 200, "{:?}", r.text());
    desk::wait_done(&event, "say-photocheck03.post.delegate", Duration::from_secs(30));
    let posted = api
        .statuses(Mastodon::ADA)
        .into_iter()
        .find(|st| common::lh::plain(st["content"].as_str().unwrap_or("")) == "The room is full #EMIEP")
        .expect("the post");
    assert_eq!(posted["media_attachments"][0]["description"], "A full lecture room, hands raised");
}

#[test]
fn a_sigkill_right_after_post_is_tapped_still_posts_once_per_network() {
    let mastodon = Mastodon::start();
    let api = Api { base: &mastodon.base };
    let net = Atproto::get();
    let (sky, sky_amp) = (net.create_account("dkill"), net.create_account("dkillamp"));
    let sessions = format!("{LOOPBACK}\n{}", session("talk", 1, 900, &["planned one"]));
    let config = common::lh::both_networks_config(&mastodon.base, &net.pds, &sky.handle, &sky_amp.handle, &sessions);
    let event = Event::new(&config);
    let env = [
        ("LH_MASTO", Mastodon::ADA),
        ("LH_MASTO_COUNCIL", Mastodon::GRACE),
        ("LH_SKY", sky.password.as_str()),
        ("LH_SKY_COUNCIL", sky_amp.password.as_str()),
    ];
    let d = Daemon::start(&event, &env, &[]);
    for job in ["talk.title.masto", "talk.title.sky"] {
        desk::wait_done(&event, job, Duration::from_secs(30));
    }
    let (_, link) = desk::sign_in_link(&event);
    let s = desk::sign_in(&link);
    let point = format!("Killed right after the tap {}", in_secs(0));
    let body = json!({ "text": point, "thread": "talk", "key": "killtest01" });
    let r = s.post("/api/say", body.clone());
    assert_eq!(r.status(), 200, "{:?}", r.text());
    d.kill_hard();
    let d = Daemon::start(&event, &env, &[]);
    // The same tap again (the page kept its key after the lost answer): nothing more.
    let (_, link) = desk::sign_in_link(&event);
    let s = desk::sign_in(&link);
    let again = s.post("/api/say", body);
    assert!(again.text().unwrap().contains("already said (1 post from "), "nothing more posted, and said so");
    for job in [
        "say-killtest01.post.masto",
        "say-killtest01.post.sky",
        "say-killtest01.post.masto+masto-council",
        "say-killtest01.post.sky+sky-council",
    ] {
        desk::wait_done(&event, job, Duration::from_secs(40));
    }
    drop(d);
    let want = format!("{point} #EMIEP");
    let on_mastodon = api
        .statuses(Mastodon::ADA)
        .iter()
        .filter(|s| s["reblog"].is_null() && common::lh::plain(s["content"].as_str().unwrap_or("")) == want)
        .count();
    assert_eq!(on_mastodon, 1, "once on Mastodon");
    let on_bluesky =
        net.list_records(&sky.did, "app.bsky.feed.post").iter().filter(|p| p["value"]["text"] == want.as_str()).count();
    assert_eq!(on_bluesky, 1, "once on Bluesky");
}

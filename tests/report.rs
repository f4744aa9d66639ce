//! Engagement collection and the post-event report, end to end: a day posted to a real
//! Mastodon API server (mastodon_mock), favourites, boosts and replies from third accounts, a
//! deleted post, `loudhailer collect`, then every format of `loudhailer report` checked against
//! what the server answers, and the HTML opened in headless Chromium.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::lh::{bluesky_config, in_secs, text, Api, Event, FAST_AMPLIFY};
use common::peers::{Atproto, Mastodon};
use serde_json::{json, Value};

const ENV: [(&str, &str); 2] = [("LH_DELEGATE", Mastodon::ADA), ("LH_COUNCIL", Mastodon::GRACE)];

/// The shared Mastodon event, with a `[report]` table and a name that needs escaping in every
/// output format.
fn config(base: &str, sessions: &str, report: &str) -> String {
    common::lh::mastodon_config(base, FAST_AMPLIFY, &format!("[report]\n{report}\n\n{sessions}"))
        .replace("name = \"Test day\"", "name = \"Report <day> & \\\"friends\\\"\"")
}

/// The photo on "The Act is in force" (beside the config, as `act.jpg`), and its alt text.
const PHOTO_ALT: &str = "The Act's first page";

fn two_sessions() -> String {
    format!(
        "[[session]]\ntitle = \"Equalities Law\"\nstart = \"{}\"\nend = \"{}\"\npoints = [{{ text = \"The Act is in force\", images = [{{ file = \"act.jpg\", alt = \"{PHOTO_ALT}\" }}] }}, \"Duties apply to councils\"]\n\n\
         [[session]]\ntitle = \"Data\"\nstart = \"{}\"\nend = \"{}\"\npoints = [\"Start from what you hold\"]\n",
        in_secs(2),
        in_secs(6),
        in_secs(3),
        in_secs(7)
    )
}

/// `report --format json`, parsed.
fn report_json(event: &Event) -> Value {
    let out = event.run(&["report", "--format", "json"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn posts(report: &Value) -> Vec<Value> {
    report["sessions"].as_array().unwrap().iter().flat_map(|s| s["posts"].as_array().unwrap().clone()).collect()
}

fn by_text<'a>(posts: &'a [Value], text: &str) -> &'a Value {
    posts.iter().find(|p| p["text"] == format!("{text} #EMIEP")).unwrap_or_else(|| panic!("no post {text:?}"))
}

fn delete(base: &str, token: &str, id: &str) {
    let r = reqwest::blocking::Client::new()
        .delete(format!("{base}/api/v1/statuses/{id}"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert!(r.status().is_success(), "DELETE {id}: {}", r.status());
}

/// What the server answers for a status now: (likes, reposts, replies, quotes), or None when
/// it no longer has it.
fn server_counts(base: &str, id: &str) -> Option<[Value; 4]> {
    let r = reqwest::blocking::Client::new()
        .get(format!("{base}/api/v1/statuses/{id}"))
        .bearer_auth(Mastodon::ALAN)
        .send()
        .unwrap();
    if r.status() == 404 {
        return None;
    }
    let s: Value = r.json().unwrap();
    Some([
        s["favourites_count"].clone(),
        s["reblogs_count"].clone(),
        s["replies_count"].clone(),
        s["quotes_count"].clone(),
    ])
}

fn validate_against_schema(report: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(report).map(|e| format!("{}: {e}", e.instance_path())).collect();
    assert!(errors.is_empty(), "the report does not follow docs/report.schema.json: {errors:#?}");
}

#[test]
fn after_the_day_the_report_counts_what_the_server_answers() {
    let server = Mastodon::start();
    let api = Api { base: &server.base };
    let event = Event::new(&config(&server.base, &two_sessions(), "checkpoints = [\"15m\", \"1h\"]"));
    std::fs::write(event.dir.path().join("act.jpg"), common::photo::phone_photo(1200, 900, 90, 6)).unwrap();
    let out = event.run(&["run", "--exit-when-done"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("10 jobs: 10 done"), "{}", text(&out));

    // Every post is listed with its id on the server (the daemon may have read some as their
    // boosts went out).
    let listed = posts(&report_json(&event));
    assert_eq!(listed.len(), 5);
    let id = |t: &str| by_text(&listed, t)["remote_id"].as_str().unwrap().to_string();

    // A third and a fourth account engage; the delegate deletes one point.
    let title = id("Equalities Law");
    api.post(Mastodon::ALAN, &format!("/api/v1/statuses/{title}/favourite"), json!({}));
    api.post(Mastodon::KATHERINE, &format!("/api/v1/statuses/{title}/favourite"), json!({}));
    api.post(Mastodon::ALAN, &format!("/api/v1/statuses/{title}/reblog"), json!({}));
    let act = id("The Act is in force");
    api.post(Mastodon::ALAN, &format!("/api/v1/statuses/{act}/favourite"), json!({}));
    let hold = id("Start from what you hold");
    api.post(Mastodon::ALAN, "/api/v1/statuses", json!({"status": "Well said", "in_reply_to_id": hold}));
    let duties = id("Duties apply to councils");
    delete(&server.base, Mastodon::ADA, &duties);

    let out = event.run(&["collect"], &ENV);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Read 5 posts: 4 with counts, 1 gone, 0 unknown"), "{}", text(&out));

    let report_file = event.dir.path().join("report.json");
    let out = event.run(&["report", "--format", "json", "--out", report_file.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report_file).unwrap()).unwrap();
    validate_against_schema(&report);

    // Every post's counts are what the server answers for it now.
    let mut likes = 0;
    for p in posts(&report) {
        let remote = p["remote_id"].as_str().unwrap();
        match server_counts(&server.base, remote) {
            Some([fav, reblogs, replies, quotes]) => {
                assert_eq!(p["status"], "read", "{p:#}");
                assert_eq!(p["counts"]["likes"], fav, "{}", p["text"]);
                assert_eq!(p["counts"]["reposts"], reblogs, "{}", p["text"]);
                assert_eq!(p["counts"]["replies"], replies, "{}", p["text"]);
                assert_eq!(p["counts"]["quotes"], quotes, "{}: null when the server does not say", p["text"]);
                likes += fav.as_u64().unwrap();
                let boosts = p["boosts"].as_array().unwrap();
                assert_eq!(boosts.len(), 1, "{p:#}");
                assert_eq!(
                    (boosts[0]["account"].as_str(), boosts[0]["state"].as_str()),
                    (Some("council"), Some("done"))
                );
            }
            None => {
                assert_eq!(remote, duties);
                assert_eq!(p["status"], "gone", "{p:#}");
                assert!(
                    p["counts"]["likes"].is_null() && p["engagement"].is_null(),
                    "deleted: unknown, never 0: {p:#}"
                );
            }
        }
    }
    let all = posts(&report);
    let title_post = by_text(&all, "Equalities Law");
    assert_eq!(title_post["counts"]["likes"], 2);
    assert_eq!(title_post["counts"]["reposts"], 2, "the council's boost and Alan's");
    // Engagement is what others did: the council's boost and the thread's own next point are
    // on the server's counts, but not engagement.
    assert_eq!(title_post["own"], json!({"reposts": 1, "replies": 1}));
    assert_eq!(title_post["engagement"], 3);
    let nothing: Vec<&str> =
        report["nothing"].as_array().unwrap().iter().map(|p| p["text"].as_str().unwrap()).collect();
    assert_eq!(nothing, ["Data #EMIEP"], "boosted by the council and answered by its own point, nothing else");
    let totals = &report["headline"]["totals"];
    assert_eq!(totals["likes"], json!({"sum": likes, "known": 4, "unknown": 1}));
    assert_eq!(report["headline"]["gone"], 1);
    assert_eq!(report["unknown"][0]["remote_id"], Value::Null, "post refs carry no remote id");
    assert_eq!(report["unknown"][0]["text"], "Duties apply to councils #EMIEP");
    assert_eq!(report["top"][0]["text"], "Equalities Law #EMIEP");
    assert_eq!(report["accounts"][1]["boosts"], 5);
    // The post with a photo is marked with it: its file and alt text.
    let act_post = by_text(&all, "The Act is in force");
    let act_file = event.dir.path().join("act.jpg");
    assert_eq!(act_post["images"], json!([{"file": act_file.to_str().unwrap(), "alt": PHOTO_ALT}]));
    assert_eq!(title_post["images"], json!([]));

    // CSV for spreadsheets: the same numbers, unknown as an empty cell.
    let out = event.run(&["report", "--format", "csv"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let mut csv = csv::Reader::from_reader(out.stdout.as_slice());
    let header = csv.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"));
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    for row in &rows {
        let p = by_text(&all, row[col("text")].trim_end_matches(" #EMIEP"));
        let want = p["counts"]["likes"].as_u64().map(|n| n.to_string()).unwrap_or_default();
        assert_eq!(&row[col("likes")], want, "{row:?}");
        assert_eq!(&row[col("status")], p["status"].as_str().unwrap());
        assert_eq!(row[col("images")].parse::<usize>().unwrap(), p["images"].as_array().unwrap().len(), "{row:?}");
    }

    for (format, needle) in [
        ("markdown", "## What got nothing"),
        ("markdown", r"\[photo\] The Act is in force"),
        ("table", "By hour of day"),
    ] {
        let out = event.run(&["report", "--format", format], &[]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains(needle), "{format}: {}", text(&out));
    }

    let html = event.dir.path().join("report.html");
    let out = event.run(&["report", "--format", "html", "--out", html.to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out));
    // Kept as a test artefact, to be looked at: target/report-screenshots/report.png.
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    check_in_chromium(&html, &shots.join("report.png"));

    // While a daemon runs it holds the state: report goes through its control socket and says
    // the same.
    let stopped = event.run(&["report", "--format", "json"], &[]);
    assert!(stopped.status.success(), "{}", text(&stopped));
    let mut daemon = event.spawn(&["run"], &ENV);
    let socket = event.state_dir().join("control.sock");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let live = event.run(&["report", "--format", "json"], &[]);
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert!(live.status.success(), "{}", text(&live));
    let figures = |out: &std::process::Output| {
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        (v["headline"].clone(), v["sessions"].clone(), v["top"].clone())
    };
    assert_eq!(figures(&live).0["posts"], 5, "{:?}", figures(&live).0);
    assert_eq!(figures(&live), figures(&stopped), "the same report either way");
}

/// Opens the page in headless Chromium (playwright-core): a screenshot, the charts drawn and
/// sized, and no request made beyond the file itself.
fn check_in_chromium(html: &Path, screenshot: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let peers = |what: &str| {
        let out = Command::new(root.join("scripts/peers")).arg(what).output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let (node, modules) = (peers("node"), peers("playwright"));
    assert!(Path::new(&modules).join("playwright-core").exists(), "{modules}: run `scripts/peers install`");
    let out = Command::new(&node)
        .arg(root.join("tests/support/html_check.cjs"))
        .arg(html)
        .arg(screenshot)
        .env("NODE_PATH", &modules)
        .output()
        .unwrap();
    assert!(out.status.success(), "the browser check failed: {}", text(&out));
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["requests"], json!([]), "the page asked for something beyond itself");
    assert_eq!(seen["errors"], json!([]));
    // Held to the same accessibility as the live desk: no serious or critical axe-core finding.
    let serious: Vec<&Value> = seen["axe"]
        .as_array()
        .expect("axe-core ran")
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(serious.is_empty(), "axe-core on the report: {serious:#?}");
    assert!(seen["title"].as_str().unwrap().contains("Report <day> & \"friends\""), "{}", seen["title"]);
    let charts = seen["charts"].as_array().unwrap();
    let chart = |id: &str| charts.iter().find(|c| c["id"] == id).unwrap_or_else(|| panic!("no chart {id}: {seen}"));
    for c in charts {
        assert!(c["width"].as_f64().unwrap() > 300.0 && c["height"].as_f64().unwrap() > 100.0, "{c}");
    }
    assert_eq!(chart("chart-sessions")["series"], 2, "a line per session");
    assert!(chart("chart-sessions")["dots"].as_u64().unwrap() >= 5);
    assert!(
        chart("chart-posts")["bars"].as_u64().unwrap() >= 5,
        "a bar per count kind of each engaged post, and the unknown one"
    );
    assert!(chart("chart-hours")["bars"].as_u64().unwrap() >= 1);
    // The photo's thumbnail is in the page itself, drawn, with its alt text.
    let thumbs = seen["thumbs"].as_array().unwrap();
    assert_eq!(thumbs.len(), 1, "{seen}");
    assert_eq!(thumbs[0]["alt"], PHOTO_ALT);
    assert!(thumbs[0]["src"].as_str().unwrap().starts_with("data:image/jpeg;base64,"));
    let (w, h) = (thumbs[0]["natural"][0].as_u64().unwrap(), thumbs[0]["natural"][1].as_u64().unwrap());
    assert_eq!((w, h), (120, 160), "a small thumbnail, upright");
    let png = std::fs::read(screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "screenshot of {} bytes", png.len());
    if let Some(keep) = std::env::var_os("LOUDHAILER_KEEP_SCREENSHOT") {
        std::fs::copy(screenshot, keep).unwrap();
    }
}

#[test]
fn the_daemon_reads_engagement_at_its_checkpoints() {
    let server = Mastodon::start();
    let sessions = format!(
        "[[session]]\ntitle = \"Law\"\nstart = \"{}\"\nend = \"{}\"\npoints = [\"One\"]\n",
        in_secs(2),
        in_secs(4)
    );
    let event = Event::new(&config(&server.base, &sessions, "checkpoints = [\"5s\", \"9s\"]"));
    let mut daemon = event.spawn(&["run"], &ENV);
    // Posts at about +2 s and +3 s, boosts a second later, read as each boost goes out (the
    // collector lets a send settle for 2 s first, so about 3 s after the post: well apart from
    // the first checkpoint, which would otherwise take both readings at once), then 5 s and 9 s
    // after each post.
    std::thread::sleep(Duration::from_secs(17));
    let _ = Command::new("kill").arg("-TERM").arg(daemon.id().to_string()).status();
    let status = daemon.wait().unwrap();
    assert!(status.success(), "the daemon should stop cleanly on SIGTERM: {status}");
    let report = report_json(&event);
    let listed = posts(&report);
    assert_eq!(listed.len(), 2);
    for p in &listed {
        let readings = p["readings"].as_array().unwrap();
        assert!(readings.len() >= 3, "read as the boost went out and at 5s and 9s: {p:#}");
        assert!(readings.iter().all(|r| r["status"] == "counts"), "{p:#}");
        assert!(
            p["growth"].as_array().unwrap().iter().all(Value::is_u64),
            "a reading in each checkpoint's window: {p:#}"
        );
        assert!(p["before_boost"].is_object(), "{p:#}");
        // The council's boost is on the server's count.
        assert_eq!(p["counts"]["reposts"], 1, "{p:#}");
    }
}

/// The same against Bluesky's AppView: likes and reposts from a third account.
#[test]
fn against_the_bluesky_appview_the_report_counts_what_it_answers() {
    let net = Atproto::get();
    let delegate = net.create_account("delegate");
    let council = net.create_account("council");
    let fan = net.create_account("fan");
    let sessions = format!(
        "[[session]]\ntitle = \"Law\"\nstart = \"{}\"\nend = \"{}\"\npoints = [\"One\", \"Two\"]\n",
        in_secs(2),
        in_secs(5)
    );
    let event = Event::new(&bluesky_config(&net, &delegate, Some(&council), &sessions));
    let env = [("LH_DELEGATE", delegate.password.as_str()), ("LH_AMP", council.password.as_str())];
    let out = event.run(&["run", "--exit-when-done"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let listed = posts(&report_json(&event));
    assert_eq!(listed.len(), 3);
    // The fan likes the title and one point, and reposts the title.
    let uri = |t: &str| {
        listed.iter().find(|p| p["text"].as_str().unwrap().starts_with(t)).unwrap()["remote_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    for (target, collections) in
        [(uri("Law"), &["app.bsky.feed.like", "app.bsky.feed.repost"][..]), (uri("One"), &["app.bsky.feed.like"][..])]
    {
        let view = net.get_posts(&[target.as_str()]).pop().unwrap();
        for collection in collections {
            net.create_record(
                &fan,
                collection,
                json!({"$type": collection, "subject": {"uri": target, "cid": view["cid"]}, "createdAt": chrono::Utc::now().to_rfc3339()}),
            );
        }
    }
    net.wait_for_post(&uri("Law"), Duration::from_secs(20), |p| p["likeCount"] == 1 && p["repostCount"] == 2);
    let out = event.run(&["collect"], &env);
    assert!(out.status.success(), "{}", text(&out));
    let report = report_json(&event);
    validate_against_schema(&report);
    for p in posts(&report) {
        let view = net.get_posts(&[p["remote_id"].as_str().unwrap()]).pop().unwrap();
        assert_eq!(p["counts"]["likes"], view["likeCount"], "{p:#}");
        assert_eq!(p["counts"]["reposts"], view["repostCount"], "{p:#}");
        assert_eq!(p["counts"]["replies"], view["replyCount"], "{p:#}");
        assert_eq!(p["counts"]["quotes"], view["quoteCount"], "{p:#}");
    }
}

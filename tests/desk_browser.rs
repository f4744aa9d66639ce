//! The live desk in real Chromium, as a delegate's phone (360 px wide, touch): against
//! mastodon_mock and the Bluesky reference network, one delegate and one amplifier on each.
//! Sign in through the printed link; type a point and tap Post during a session (it appears once
//! on each network as a reply to the session's title post, boosted once by each amplifier);
//! shift the session +15 minutes (exactly its pending jobs move); pause and resume an account;
//! tap a snippet; post a point with a photo from the phone (a file that is no photo, and Post
//! without alt text, refused on the page), which arrives on both networks with its description. No request goes to any host but the desk; axe-core finds no serious or
//! critical violation. Screenshots are kept in `target/desk-screenshots/`.

mod common;

use std::time::Duration;

use common::desk::{self, Daemon};
use common::lh::{plain, session, wait_for, Api, Event};
use common::peers::{Atproto, Mastodon};
use serde_json::{json, Value};

/// A point posted with a photo from the phone, and the photo's alt text.
const PHOTO_POINT: &str = "The room voted on it: hands up for publishing the data.";
const ALT: &str = "A lecture room from the back, about forty hands raised";

#[test]
fn a_delegate_runs_a_session_from_a_phone() {
    if let Err(why) = desk::browser_tools() {
        eprintln!("not run: {why}");
        return;
    }
    let mastodon = Mastodon::start();
    let api = Api { base: &mastodon.base };
    let net = Atproto::get();
    let (sky, sky_amp) = (net.create_account("dphone"), net.create_account("dphoneamp"));
    let extra = format!(
        "[desk]\nlisten = \"127.0.0.1:0\"\n\n[[snippet]]\ntext = \"coffee break!\"\n\n{}{}",
        session("talk", 2, 1200, &["Planned point one", "Planned point two"]),
        session("later", 1300, 1900, &["Later point"])
    );
    let config = common::lh::both_networks_config(&mastodon.base, &net.pds, &sky.handle, &sky_amp.handle, &extra);
    let event = Event::new(&config);
    let env = [
        ("LH_MASTO", Mastodon::ADA),
        ("LH_MASTO_COUNCIL", Mastodon::GRACE),
        ("LH_SKY", sky.password.as_str()),
        ("LH_SKY_COUNCIL", sky_amp.password.as_str()),
    ];
    let grace_before = boosted_by(&api, Mastodon::GRACE);
    let d = Daemon::start(&event, &env, &[]);
    for job in ["talk.title.masto", "talk.title.sky", "talk.title.masto+masto-council", "talk.title.sky+sky-council"] {
        desk::wait_done(&event, job, Duration::from_secs(40));
    }
    let before = desk::jobs(&event);
    let (_, link) = desk::sign_in_link(&event);
    let shots = desk::screenshot_dir();
    let point = "Row 12 says: publish the data you act on, and say what changed because of it.";
    let plan = event.dir.path().join("plan.json");
    // A phone's photo (turned by its EXIF orientation, full of metadata), and a file that is not
    // a photo at all though its name says so.
    let photo = event.dir.path().join("IMG_2041.jpg");
    std::fs::write(&photo, common::photo::phone_photo(1600, 1200, 90, 6)).unwrap();
    let not_photo = event.dir.path().join("notes.jpg");
    std::fs::write(&not_photo, "Notes from the session, not a photo").unwrap();
    std::fs::write(
        &plan,
        json!({
            "link": link, "shots": shots, "point": point, "pause": "masto-council", "snippet": "coffee break!",
            "photo": photo, "not_photo": not_photo, "photo_point": PHOTO_POINT, "alt": ALT,
        })
        .to_string(),
    )
    .unwrap();
    let seen = desk::run_harness("desk_check.cjs", &[&plan]);
    assert!(seen["failed"].is_null(), "the browser run stopped: {}\n{seen:#}", seen["failed"]);

    // Nothing but the desk was asked for, nothing failed in the page.
    assert_eq!(seen["outside"], json!([]), "requests to other hosts");
    assert_eq!(seen["errors"], json!([]));
    // Console errors (a refused script or style would show here): only Chromium's note of the
    // one refusal the run asks for, the file that is not a photo (422).
    assert_eq!(
        seen["console"],
        json!(["Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]),
        "console errors"
    );
    for page in ["desk", "desk_paused", "desk_photo", "signin"] {
        assert_eq!(desk::serious(&seen["axe"][page]), Vec::<Value>::new(), "axe-core on {page}");
    }
    // Signed in through the printed link; the cookies as promised, their values in no page.
    assert!(seen["seen"]["url_after_signin"].as_str().unwrap().ends_with('/'));
    let cookies = seen["seen"]["cookies"].as_array().unwrap();
    let cookie =
        |n: &str| cookies.iter().find(|c| c["name"] == n).unwrap_or_else(|| panic!("no cookie {n}: {cookies:?}"));
    assert_eq!(
        (cookie("lh_desk")["httpOnly"].as_bool(), cookie("lh_desk")["sameSite"].as_str()),
        (Some(true), Some("Strict"))
    );
    assert_eq!(cookie("lh_csrf")["sameSite"], "Strict");
    assert_eq!(seen["seen"]["page_has_cookie_value"], false);
    assert!(seen["seen"]["fresh_url"].as_str().unwrap().ends_with("/signin"), "not signed in: to the sign-in page");
    // Each network's count against its own limit, and where a long point splits.
    let counts = seen["seen"]["counts"].as_str().unwrap();
    let want = |limit: &str, network: &str| format!("{network}: {} / {limit}", point.chars().count() + " #EMIEP".len());
    assert!(counts.contains(&want("500", "Mastodon (masto)")), "{counts}");
    assert!(counts.contains(&want("300", "Bluesky (sky)")), "{counts}");
    let long = seen["seen"]["counts_long"].as_str().unwrap();
    assert!(long.contains("Bluesky (sky):") && long.contains("splits into"), "{long}");
    assert_eq!(seen["seen"]["thread"], "talk", "the session under way is the thread by default");
    assert_eq!(seen["seen"]["text_after_post"], "", "the box empties once the point is taken");
    assert_eq!(seen["seen"]["zoom"]["scroll"], seen["seen"]["zoom"]["width"], "no sideways scrolling at 200 %");

    // The point: once on each network, a reply to the session's title post, boosted once by
    // each amplifier.
    let posted = &seen["messages"]["post"];
    // Said in the delegate's words: the session's title and the accounts, no job ids.
    assert_eq!(
        posted,
        "saying it now in the thread of \u{201c}Session talk\u{201d}: 1 post from masto and 1 from sky, amplified by masto-council and sky-council"
    );
    let said = desk::jobs(&event)
        .into_values()
        .find(|j| {
            j["id"].as_str().unwrap().ends_with(".post.masto") && j["text"].as_str() == Some(&format!("{point} #EMIEP"))
        })
        .expect("the point's job");
    let scope = said["id"].as_str().unwrap().trim_end_matches(".post.masto").to_string();
    for job in ["post.masto", "post.sky", "post.masto+masto-council", "post.sky+sky-council"] {
        desk::wait_done(&event, &format!("{scope}.{job}"), Duration::from_secs(40));
    }
    let text = format!("{point} #EMIEP");
    let title_masto = before["talk.title.masto"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let mine: Vec<Value> = api
        .statuses(Mastodon::ADA)
        .into_iter()
        .filter(|s| s["reblog"].is_null() && plain(s["content"].as_str().unwrap_or("")) == text)
        .collect();
    assert_eq!(mine.len(), 1, "once on Mastodon");
    assert_eq!(mine[0]["in_reply_to_id"].as_str(), Some(title_masto.as_str()), "a reply to the title post");
    let grace_now = boosted_by(&api, Mastodon::GRACE);
    let point_id = mine[0]["id"].as_str().unwrap();
    assert_eq!(grace_now.iter().filter(|id| id.as_str() == point_id).count(), 1, "boosted once on Mastodon");
    assert!(!grace_before.iter().any(|id| id == point_id));
    let sky_posts = net.list_records(&sky.did, "app.bsky.feed.post");
    let title_sky =
        sky_posts.iter().find(|p| p["value"]["text"] == "Session talk #EMIEP").expect("the title on Bluesky");
    let ours: Vec<&Value> = sky_posts.iter().filter(|p| p["value"]["text"] == text.as_str()).collect();
    assert_eq!(ours.len(), 1, "once on Bluesky");
    assert_eq!(ours[0]["value"]["reply"]["parent"]["uri"], title_sky["uri"], "a reply to the title post");
    assert_eq!(ours[0]["value"]["reply"]["root"]["uri"], title_sky["uri"]);
    let reposts = net.list_records(&sky_amp.did, "app.bsky.feed.repost");
    assert_eq!(reposts.iter().filter(|r| r["value"]["subject"]["uri"] == ours[0]["uri"]).count(), 1, "reposted once");
    // Its links on the desk are shared through Facebook's own dialog.
    let shares: Vec<&str> = seen["seen"]["shares"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(shares.iter().all(|s| s.starts_with("https://www.facebook.com/sharer/sharer.php?u=")), "{shares:?}");
    let encoded: String = url::form_urlencoded::byte_serialize(mine[0]["url"].as_str().unwrap().as_bytes()).collect();
    assert!(shares.iter().any(|s| s.ends_with(&encoded)), "{shares:?} {encoded}");

    // The shift moved exactly the session's pending jobs, by 15 minutes.
    let shifted = seen["messages"]["shift"].as_str().unwrap();
    assert!(shifted.contains("of talk by +15m"), "{shifted}");
    let after = desk::jobs(&event);
    let mut moved = 0;
    for (id, was) in &before {
        let now = &after[id];
        let secs = |j: &Value| chrono::DateTime::parse_from_rfc3339(j["at"].as_str().unwrap()).unwrap().timestamp();
        let by = secs(now) - secs(was);
        let expect = if was["session"] == "talk" && was["state"] == "pending" { 900 } else { 0 };
        assert_eq!(by, expect, "{id} ({}) moved by {by}", was["state"]);
        moved += usize::from(by == 900);
    }
    assert!(shifted.contains(&format!("moved {moved} pending jobs")), "{shifted}: {moved}");
    assert!(moved >= 4, "two points and their boosts on two networks");

    // Paused, then resumed.
    assert_eq!(seen["messages"]["pause"], "paused masto-council");
    assert!(seen["seen"]["attention"].as_str().unwrap().contains("masto-council"), "{}", seen["seen"]["attention"]);
    assert_eq!(seen["messages"]["resume"], "resumed masto-council");
    let paused = common::lh::control(&event.state_dir(), json!({"op": "status"}));
    assert_eq!(paused["paused"], json!({}), "nothing left paused");

    // The snippet: once on each network, on its own, boosted.
    let snippet = seen["messages"]["snippet"].as_str().unwrap();
    // In the delegate's words: which accounts, not the jobs' ids.
    assert!(snippet.starts_with("saying it now: 1 post from ") && snippet.contains(" and 1 from "), "{snippet}");
    assert!(snippet.contains(", amplified by ") && !snippet.contains(".post"), "{snippet}");
    let coffee =
        desk::jobs(&event).into_values().filter(|j| j["text"] == "coffee break! #EMIEP" && j["kind"] == "say").count();
    assert_eq!(coffee, 2, "one post per network");
    wait_for("the coffee break on both networks", Duration::from_secs(40), || {
        let ada = api.statuses(Mastodon::ADA);
        let on_masto =
            ada.iter().filter(|s| plain(s["content"].as_str().unwrap_or("")) == "coffee break! #EMIEP").count();
        let on_sky = net
            .list_records(&sky.did, "app.bsky.feed.post")
            .iter()
            .filter(|p| p["value"]["text"] == "coffee break! #EMIEP" && p["value"]["reply"].is_null())
            .count();
        on_masto == 1 && on_sky == 1
    });

    // The photo: a file that is no photo refused as it was chosen, Post without alt text refused
    // on the page (the alt field given focus); with it, the point arrives on both networks with
    // the photo and its description.
    let refused = seen["seen"]["photo_refused"].as_str().unwrap();
    assert!(refused.contains("not an image"), "{refused}");
    assert_eq!(seen["seen"]["photo_refused_invalid"], "true");
    assert!(
        seen["seen"]["photo_ready"].as_str().unwrap().starts_with("photo ready"),
        "{}",
        seen["seen"]["photo_ready"]
    );
    assert_eq!(seen["seen"]["alt_label"], "Describe the photo (alt text, required)");
    assert!(seen["messages"]["photo_no_alt"].as_str().unwrap().contains("Describe the photo first"));
    assert_eq!(seen["seen"]["refusal_after_alt"], "", "the refusal is cleared once the photo is described");
    assert_eq!(seen["seen"]["alt_focused"], "alt");
    assert!(
        seen["messages"]["photo_post"].as_str().unwrap().contains("saying it now"),
        "{}",
        seen["messages"]["photo_post"]
    );
    assert_eq!(seen["seen"]["photo_after_post"], json!({ "hidden": true, "files": 0, "alt": "" }), "the box empties");
    let photo_text = format!("{PHOTO_POINT} #EMIEP");
    let photo_job = desk::jobs(&event)
        .into_values()
        .find(|j| j["id"].as_str().unwrap().ends_with(".post.masto") && j["text"].as_str() == Some(photo_text.as_str()))
        .expect("the photo point's job");
    let photo_scope = photo_job["id"].as_str().unwrap().trim_end_matches(".post.masto").to_string();
    for job in ["post.masto", "post.sky"] {
        desk::wait_done(&event, &format!("{photo_scope}.{job}"), Duration::from_secs(60));
    }
    let on_masto: Vec<Value> = api
        .statuses(Mastodon::ADA)
        .into_iter()
        .filter(|s| s["reblog"].is_null() && plain(s["content"].as_str().unwrap_or("")) == photo_text)
        .collect();
    assert_eq!(on_masto.len(), 1, "once on Mastodon");
    let media = on_masto[0]["media_attachments"].as_array().unwrap();
    assert_eq!((media.len(), media[0]["type"].as_str()), (1, Some("image")), "{media:?}");
    assert_eq!(media[0]["description"], ALT, "its description on Mastodon");
    let on_sky: Vec<Value> = net
        .list_records(&sky.did, "app.bsky.feed.post")
        .into_iter()
        .filter(|p| p["value"]["text"] == photo_text.as_str())
        .collect();
    assert_eq!(on_sky.len(), 1, "once on Bluesky");
    let embed = &on_sky[0]["value"]["embed"];
    assert_eq!(embed["$type"], "app.bsky.embed.images", "{embed}");
    assert_eq!(embed["images"][0]["alt"], ALT, "its alt text on the PDS");
    let uri = on_sky[0]["uri"].as_str().unwrap();
    let view = net.wait_for_post(uri, Duration::from_secs(40), |p| p["embed"]["images"][0]["alt"] == ALT);
    assert_eq!(view["embed"]["$type"], "app.bsky.embed.images#view", "the AppView shows it with its alt text");

    let log = d.stop();
    assert!(!log.contains(&link), "the link is in no log line");
    let taken: Vec<String> = std::fs::read_dir(&shots)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("desk-"))
        .collect();
    assert!(taken.len() >= 9, "screenshots: {taken:?}");
    assert!(taken.iter().any(|n| n == "desk-8-photo.png"), "{taken:?}");
    eprintln!("screenshots in {}", shots.display());
}

/// The ids of the statuses an account boosted.
fn boosted_by(api: &Api, token: &str) -> Vec<String> {
    api.statuses(token).iter().filter_map(|s| s["reblog"]["id"].as_str().map(str::to_string)).collect()
}

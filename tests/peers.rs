//! The test harness itself: the real peer servers start, answer and count as
//! loudhailer's tests expect. When these fail, look at `scripts/peers` before
//! looking at loudhailer.

mod common;

use std::time::Duration;

use common::{Atproto, Mastodon};
use reqwest::blocking::Client;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn http() -> Client {
    Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

fn post_status(m: &Mastodon, token: &str, text: &str) -> (StatusCode, Value) {
    let resp = http()
        .post(m.url("/api/v1/statuses"))
        .bearer_auth(token)
        .json(&json!({ "status": text, "visibility": "public" }))
        .send()
        .unwrap();
    let status = resp.status();
    (status, resp.json().unwrap_or(Value::Null))
}

#[test]
fn mastodon_posts_a_status_and_reads_it_back() {
    let m = Mastodon::start();
    let (status, posted) = post_status(&m, Mastodon::ADA, "Opening keynote at 09:00 #loudhailer");
    assert_eq!(status, StatusCode::OK, "{posted}\n{}", m.log());
    let id = posted["id"].as_str().expect("status id");

    let boost =
        http().post(m.url(&format!("/api/v1/statuses/{id}/reblog"))).bearer_auth(Mastodon::GRACE).send().unwrap();
    assert_eq!(boost.status(), StatusCode::OK);

    let read: Value =
        http().get(m.url(&format!("/api/v1/statuses/{id}"))).bearer_auth(Mastodon::ADA).send().unwrap().json().unwrap();
    assert_eq!(read["id"], id);
    assert_eq!(read["account"]["username"], "ada");
    assert!(read["content"].as_str().unwrap().contains("Opening keynote at 09:00"), "{read}");
    assert_eq!(read["reblogs_count"], 1, "{read}");
}

#[test]
fn mastodon_instances_are_separate_and_faults_fire() {
    let a = Mastodon::start();
    let b = Mastodon::start();
    assert_ne!(a.base, b.base);

    let rule = a.add_fault(json!({
        "match": { "methods": ["POST"], "path": "/api/v1/statuses" },
        "effect": { "type": "status", "status": 503 },
        "count": 1,
    }));
    assert!(rule["id"].is_string(), "{rule}");
    assert_eq!(post_status(&a, Mastodon::ADA, "one").0, 503);
    assert_eq!(post_status(&a, Mastodon::ADA, "two").0, 200);
    // The other server has no faults.
    assert_eq!(post_status(&b, Mastodon::ADA, "three").0, 200);

    a.add_fault(json!({ "match": { "path": "/api/v1/statuses" }, "effect": { "type": "status", "status": 500 } }));
    assert_eq!(post_status(&a, Mastodon::ADA, "four").0, 500);
    a.clear_faults();
    assert_eq!(a.faults().as_array().map(Vec::len), Some(0), "{}", a.faults());
    assert_eq!(post_status(&a, Mastodon::ADA, "five").0, 200);
}

#[test]
fn mastodon_config_turns_on_rate_limiting() {
    let m = Mastodon::start_with_config("[ratelimit]\nenabled = true\nlimit = 2\nwindow_seconds = 300\n");
    assert_eq!(post_status(&m, Mastodon::ADA, "one").0, 200);
    assert_eq!(post_status(&m, Mastodon::ADA, "two").0, 200);
    let resp = http()
        .post(m.url("/api/v1/statuses"))
        .bearer_auth(Mastodon::ADA)
        .json(&json!({ "status": "three" }))
        .send()
        .unwrap();
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    for header in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"] {
        assert!(resp.headers().contains_key(header), "no {header}: {resp:?}");
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[test]
fn atproto_appview_counts_a_like_from_another_account() {
    let net = Atproto::get();
    let author = net.create_account("author");
    let fan = net.create_account("fan");
    assert!(author.handle.ends_with(".test"), "{}", author.handle);
    assert_ne!(author.did, fan.did);

    let post = net.create_record(
        &author,
        "app.bsky.feed.post",
        json!({ "$type": "app.bsky.feed.post", "text": "Talk starts now", "createdAt": now_rfc3339() }),
    );
    let (uri, cid) = (post["uri"].as_str().unwrap(), post["cid"].as_str().unwrap());
    net.create_record(
        &fan,
        "app.bsky.feed.like",
        json!({ "$type": "app.bsky.feed.like", "subject": { "uri": uri, "cid": cid }, "createdAt": now_rfc3339() }),
    );

    // No process_all: the AppView must index from the PDS's firehose by itself.
    let view = net.wait_for_post(uri, Duration::from_secs(20), |p| p["likeCount"] == 1);
    assert_eq!(view["author"]["did"], author.did.as_str());
    assert_eq!(view["repostCount"], 0);
    assert_eq!(view["replyCount"], 0);
}

#[test]
fn atproto_pds_answers_an_expired_token_and_refresh_still_works() {
    let net = Atproto::get();
    let acct = net.create_account("expiry");
    let get_session = |jwt: &str| {
        let resp = http().get(net.xrpc(&net.pds, "com.atproto.server.getSession")).bearer_auth(jwt).send().unwrap();
        (resp.status(), resp.json::<Value>().unwrap())
    };

    let (status, body) = get_session(&acct.access_jwt);
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["did"], acct.did.as_str());

    let (status, body) = get_session(&net.expired_access_jwt(&acct.did));
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "ExpiredToken", "{body}");

    let resp = http()
        .post(net.xrpc(&net.pds, "com.atproto.server.refreshSession"))
        .bearer_auth(&acct.refresh_jwt)
        .send()
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let refreshed: Value = resp.json().unwrap();
    let (status, body) = get_session(refreshed["accessJwt"].as_str().unwrap());
    assert_eq!(status, StatusCode::OK, "{body}");

    // The session's DID document names the PDS the tests can reach.
    let endpoint = &refreshed["didDoc"]["service"][0]["serviceEndpoint"];
    assert_eq!(endpoint, net.pds.as_str(), "{refreshed}");
}

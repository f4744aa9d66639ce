//! The X client through the library against the X test server: counts read in batches, gone
//! posts, both spellings of X's field names, undo; and the test server's spec checker shown to
//! catch what it should.

mod common;

use std::time::{Duration, Instant};

use common::xserver::XServer;
use common::xtest::*;
use loudhailer::job::RemoteRef;
use loudhailer::metrics::{Counts, Reading};
use loudhailer::platform::{Client, Platform};

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
        only_if_sent: false,
        text: None,
    };
    // A recalled retweet is looked for (GET retweeted_by), never made.
    let recall = loudhailer::platform::BoostRequest { only_if_sent: true, ..boost.clone() };
    assert!(matches!(council.boost(&recall).await, Err(loudhailer::platform::PlatformError::NotSent)));
    assert!(server.retweets().is_empty());
    council.boost(&boost).await.unwrap();
    // A second retweet is refused by X as already made: done, not doubled.
    council.boost(&boost).await.unwrap();
    assert_eq!(server.retweets().len(), 1);
    assert_eq!(council.boost(&recall).await.unwrap().id, liked, "found once made");
    let Client::X(d) = &delegate else { panic!("an X client") };
    d.delete_post(&gone).await.unwrap();

    let readings = delegate.metrics(&[remote(&liked), remote(&gone), remote("1234567")]).await.unwrap();
    assert_eq!(
        readings,
        [
            // impression_count: how many times it was shown (the test server's is ten per like).
            Reading::Counts(Counts {
                likes: Some(7),
                reposts: Some(1),
                replies: Some(0),
                quotes: Some(0),
                views: Some(70)
            }),
            Reading::Gone,
            Reading::Gone
        ]
    );
    // 150 posts: two requests of at most 100 ids.
    let many: Vec<RemoteRef> = (0..150).map(|i| remote(&(1_000_000 + i).to_string())).collect();
    let before = server.requests().len();
    let readings = delegate.metrics(&many).await.unwrap();
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
    let readings = fresh.metrics(&[remote(&liked)]).await.unwrap();
    assert_eq!(
        readings,
        [Reading::Counts(Counts { likes: Some(7), reposts: Some(1), replies: Some(0), quotes: Some(0), views: None })],
        "the legacy shape has no impression_count here: views unknown"
    );
    assert!(server.requests().last().unwrap().query.iter().any(|(k, _)| k == "tweet.fields"));
    server.use_legacy_field_names(false);

    // Undo: the retweet, then the post.
    let Client::X(c) = &council else { panic!("an X client") };
    c.unretweet(&liked).await.unwrap();
    assert!(server.retweets().is_empty());
    d.delete_post(&liked).await.unwrap();
    assert!(server.posts_by(DELEGATE).is_empty());
    server.assert_clean();
}

#[test]
#[cfg_attr(not(shared), ignore = "needs X's OpenAPI document in ../shared/specs/x-openapi")]
fn the_spec_checker_has_teeth() {
    let server = XServer::start();
    let version = server.spec_version().expect("the OpenAPI document is read");
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

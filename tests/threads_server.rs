//! The Threads test server held to Meta's Postman collection and documentation with plain HTTP:
//! two-step publishing with containers that take time, replies, reposts, insights, the quota and
//! tokens pass and read back; an unfinished or twice-published container, a misspelt parameter,
//! field or metric, an over-long text, each fail with the rule they broke. The collection's
//! checks need ../shared and say `not run` without it; the documented rules always run.

mod common;

use std::time::Duration;

use common::loopback::Fault;
use common::threads::{self, user_id, Counts, Effect, ThreadsServer, ADA_TOKEN, FAITH_TOKEN};
use reqwest::blocking::{Client, Response};
use serde_json::Value;

fn http() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(10)).build().unwrap()
}

/// A request as the collection writes it: everything in the query, the token as access_token.
fn call(server: &ThreadsServer, method: &str, path: &str, params: &[(&str, &str)], token: &str) -> Response {
    let mut q: Vec<(&str, &str)> = params.to_vec();
    q.push(("access_token", token));
    http().request(method.parse().unwrap(), format!("{}{path}", server.base)).query(&q).send().unwrap()
}

fn json(r: Response) -> Value {
    let status = r.status();
    let v: Value = r.json().unwrap();
    assert_eq!(status, 200, "{v}");
    v
}

fn error_of(r: Response) -> (i64, String) {
    assert_eq!(r.status(), 400);
    let v: Value = r.json().unwrap();
    assert!(v["error"]["fbtrace_id"].is_string(), "{v}");
    (v["error"]["code"].as_i64().unwrap(), v["error"]["message"].as_str().unwrap().to_string())
}

fn one_mistake(server: &ThreadsServer, words: &[&str]) {
    let seen = server.take_mistakes();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    for w in words {
        assert!(seen[0].contains(w), "wanted {w:?} in {:?}", seen[0]);
    }
}

fn container(server: &ThreadsServer, token: &str, params: &[(&str, &str)]) -> String {
    json(call(server, "POST", "/me/threads", params, token))["id"].as_str().unwrap().to_string()
}

fn status(server: &ThreadsServer, id: &str, token: &str) -> String {
    let v = json(call(server, "GET", &format!("/{id}"), &[("fields", "id,status,error_message")], token));
    v["status"].as_str().unwrap().to_string()
}

fn publish(server: &ThreadsServer, id: &str, token: &str) -> Response {
    call(server, "POST", "/me/threads_publish", &[("creation_id", id)], token)
}

#[test]
fn a_text_post_is_made_in_two_steps_and_reads_back() {
    let server = ThreadsServer::start();
    let id = container(&server, ADA_TOKEN, &[("media_type", "TEXT"), ("text", "Keynote at 10:00 #EMIEP")]);
    assert_eq!(status(&server, &id, ADA_TOKEN), "FINISHED");
    let media = json(publish(&server, &id, ADA_TOKEN))["id"].as_str().unwrap().to_string();
    assert_eq!(status(&server, &id, ADA_TOKEN), "PUBLISHED");
    let v = json(call(
        &server,
        "GET",
        &format!("/v1.0/{media}"),
        &[("fields", "id,text,media_type,permalink,timestamp,username")],
        ADA_TOKEN,
    ));
    assert_eq!((v["text"].as_str(), v["media_type"].as_str()), (Some("Keynote at 10:00 #EMIEP"), Some("TEXT_POST")));
    assert!(v["timestamp"].as_str().unwrap().ends_with("+0000"));
    assert_eq!(server.posts_by("ada_delegate")[0].text.as_deref(), Some("Keynote at 10:00 #EMIEP"));

    // The versioned path with the numeric user id, and the token in a header, work as well.
    let path = format!("{}/v1.0/{}/threads", server.base, user_id("ada_delegate"));
    let r =
        http().post(&path).bearer_auth(ADA_TOKEN).query(&[("media_type", "TEXT"), ("text", "Second")]).send().unwrap();
    let second = json(r)["id"].as_str().unwrap().to_string();
    json(publish(&server, &second, ADA_TOKEN));
    let list = json(call(&server, "GET", "/me/threads", &[("fields", "id,text"), ("limit", "50")], ADA_TOKEN));
    assert_eq!(list["data"][0]["text"], "Second");
    assert_eq!(list["data"].as_array().unwrap().len(), 2);

    assert_eq!(json(call(&server, "DELETE", &format!("/{media}"), &[], ADA_TOKEN))["success"], true);
    assert_eq!(server.posts_by("ada_delegate").len(), 1);
    assert!(server.requests().iter().all(|l| l.param("access_token").as_deref() != Some(ADA_TOKEN)));
    server.assert_clean();
}

#[test]
fn only_finished_containers_are_published_and_only_once() {
    let server = ThreadsServer::start();
    server.container_polls(3);
    let id = container(&server, ADA_TOKEN, &[("media_type", "TEXT"), ("text", "Patience")]);
    let (code, message) = error_of(publish(&server, &id, ADA_TOKEN));
    assert_eq!(code, 100);
    assert!(message.contains("is IN_PROGRESS: only a FINISHED container is ready to be published"), "{message}");
    one_mistake(&server, &["Troubleshooting"]);
    let seen: Vec<String> = (0..3).map(|_| status(&server, &id, ADA_TOKEN)).collect();
    assert_eq!(seen, ["IN_PROGRESS", "IN_PROGRESS", "FINISHED"]);
    json(publish(&server, &id, ADA_TOKEN));
    let (_, message) = error_of(publish(&server, &id, ADA_TOKEN));
    assert!(message.contains("already published"), "{message}");
    one_mistake(&server, &["published once"]);
    assert_eq!(server.posts_by("ada_delegate").len(), 1);

    // Time, not reads: IN_PROGRESS for 300 ms.
    server.container_polls(0);
    server.container_delay(Duration::from_millis(300));
    let id = container(&server, ADA_TOKEN, &[("media_type", "TEXT"), ("text", "Slow")]);
    assert_eq!(status(&server, &id, ADA_TOKEN), "IN_PROGRESS");
    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(status(&server, &id, ADA_TOKEN), "FINISHED");
    server.container_delay(Duration::ZERO);

    // A container that fails, and one that expires.
    server.fail_next_container("FAILED_DOWNLOADING_VIDEO");
    let id = container(
        &server,
        ADA_TOKEN,
        &[("media_type", "VIDEO"), ("video_url", "https://example.org/v.mp4"), ("text", "Clip")],
    );
    let v = json(call(&server, "GET", &format!("/{id}"), &[("fields", "status,error_message")], ADA_TOKEN));
    assert_eq!((v["status"].as_str(), v["error_message"].as_str()), (Some("ERROR"), Some("FAILED_DOWNLOADING_VIDEO")));
    error_of(publish(&server, &id, ADA_TOKEN));
    one_mistake(&server, &["is ERROR"]);
    let id = container(
        &server,
        ADA_TOKEN,
        &[("media_type", "IMAGE"), ("image_url", "https://example.org/i.jpg"), ("alt_text", "A hall")],
    );
    server.expire_container(&id);
    error_of(publish(&server, &id, ADA_TOKEN));
    one_mistake(&server, &["is EXPIRED"]);
    server.assert_clean();
}

#[test]
fn replies_reposts_quotes_insights_and_the_quota() {
    let server = ThreadsServer::start();
    let post = container(&server, ADA_TOKEN, &[("media_type", "TEXT"), ("text", "Part 1")]);
    let post = json(publish(&server, &post, ADA_TOKEN))["id"].as_str().unwrap().to_string();
    let reply = container(&server, ADA_TOKEN, &[("media_type", "TEXT"), ("text", "Part 2"), ("reply_to_id", &post)]);
    let reply = json(publish(&server, &reply, ADA_TOKEN))["id"].as_str().unwrap().to_string();
    let v =
        json(call(&server, "GET", &format!("/{reply}"), &[("fields", "id,is_reply,root_post,replied_to")], ADA_TOKEN));
    assert_eq!((v["is_reply"].as_bool(), v["root_post"]["id"].as_str()), (Some(true), Some(post.as_str())));
    let replies = json(call(
        &server,
        "GET",
        &format!("/{post}/replies"),
        &[("fields", "id,text"), ("reverse", "false")],
        ADA_TOKEN,
    ));
    assert_eq!(replies["data"][0]["id"], reply);
    // Permissions: replies are read with threads_read_replies, posts made with threads_content_publish.
    let basic = server.issue_token("ada_delegate", &["threads_basic"], true);
    assert_eq!(error_of(call(&server, "GET", &format!("/{post}/replies"), &[("fields", "id")], &basic)).0, 10);
    one_mistake(&server, &["threads_read_replies"]);
    assert_eq!(error_of(call(&server, "POST", "/me/threads", &[("media_type", "TEXT"), ("text", "x")], &basic)).0, 10);
    one_mistake(&server, &["threads_content_publish"]);
    let none = server.issue_token("ada_delegate", &["threads_content_publish"], true);
    assert_eq!(error_of(call(&server, "GET", "/me", &[("fields", "id")], &none)).0, 10);
    one_mistake(&server, &["threads_basic"]);

    // The council reposts once; a second repost is refused.
    let repost =
        json(call(&server, "POST", &format!("/{post}/repost"), &[], FAITH_TOKEN))["id"].as_str().unwrap().to_string();
    assert_eq!(server.reposts(), [("faith_council".to_string(), post.clone())]);
    let v =
        json(call(&server, "GET", &format!("/{repost}"), &[("fields", "id,media_type,reposted_post")], FAITH_TOKEN));
    assert_eq!(
        (v["media_type"].as_str(), v["reposted_post"]["id"].as_str()),
        (Some("REPOST_FACADE"), Some(post.as_str()))
    );
    assert!(error_of(call(&server, "POST", &format!("/{post}/repost"), &[], FAITH_TOKEN))
        .1
        .contains("already reposted"));
    let quote =
        container(&server, FAITH_TOKEN, &[("media_type", "TEXT"), ("text", "Worth it"), ("quote_post_id", &post)]);
    json(publish(&server, &quote, FAITH_TOKEN));

    server.set_counts(&post, Counts { views: 400, likes: 12, shares: 1, ..Default::default() });
    let v = json(call(
        &server,
        "GET",
        &format!("/{post}/insights"),
        &[("metric", "views,likes,replies,reposts,quotes,shares")],
        ADA_TOKEN,
    ));
    let got: Vec<(String, u64)> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().to_string(), m["values"][0]["value"].as_u64().unwrap()))
        .collect();
    let want = [("views", 400), ("likes", 12), ("replies", 1), ("reposts", 1), ("quotes", 1), ("shares", 1)];
    assert_eq!(got, want.map(|(n, c)| (n.to_string(), c)));
    let v = json(call(&server, "GET", &format!("/{repost}/insights"), &[("metric", "likes")], FAITH_TOKEN));
    assert_eq!(v["data"].as_array().unwrap().len(), 0, "REPOST_FACADE insights are empty");

    let v = json(call(
        &server,
        "GET",
        "/me/threads_publishing_limit",
        &[("fields", "quota_usage,config,reply_quota_usage,reply_config")],
        ADA_TOKEN,
    ));
    assert_eq!((v["data"][0]["quota_usage"].as_u64(), v["data"][0]["reply_quota_usage"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v["data"][0]["config"]["quota_total"], 250);
    server.publishing_quota(1, 1000);
    let next = container(&server, ADA_TOKEN, &[("media_type", "TEXT"), ("text", "One too many")]);
    assert_eq!(error_of(publish(&server, &next, ADA_TOKEN)).0, 4);
    server.assert_clean();
}

#[test]
#[cfg_attr(not(shared), ignore = "needs Meta's Threads Postman collection in ../shared/specs/threads")]
fn parameter_names_fields_and_metrics_follow_the_collection() {
    let server = ThreadsServer::start();
    assert!(server.checks_spec(), "the collection is read");
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        ("POST", "/me/threads", &[("media_type", "TEXT"), ("txt", "Typo")], "unknown parameter \"txt\""),
        ("POST", "/me/threads", &[("media_type", "STORY"), ("text", "x")], "media_type \"STORY\" is not one of"),
        (
            "POST",
            "/me/threads",
            &[("media_type", "TEXT"), ("text", "x"), ("reply_control", "nobody")],
            "reply_control \"nobody\"",
        ),
        (
            "POST",
            "/me/threads",
            &[("media_type", "TEXT"), ("text", "x"), ("auto_publish_text", "yes")],
            "not true or false",
        ),
        ("POST", "/me/threads_publish", &[("container_id", "1")], "unknown parameter \"container_id\""),
        ("GET", "/me", &[("fields", "id,username,followers")], "nonexisting field (followers)"),
        ("GET", "/me/threads_publishing_limit", &[("fields", "quota_used")], "nonexisting field (quota_used)"),
        ("POST", "/me/thread", &[("media_type", "TEXT")], "no request of the Threads Postman collection"),
    ];
    for (method, path, params, words) in cases {
        let (code, message) = error_of(call(&server, method, path, params, ADA_TOKEN));
        assert_eq!(code, 100, "{path} {params:?}");
        assert!(message.contains(words), "{path} {params:?}: wanted {words:?} in {message:?}");
        one_mistake(&server, &[words]);
    }
    let id = container(&server, ADA_TOKEN, &[("media_type", "TEXT"), ("text", "Fields")]);
    error_of(call(&server, "GET", &format!("/{id}"), &[("fields", "id,state")], ADA_TOKEN));
    one_mistake(&server, &["fields_container"]);
    let media = json(publish(&server, &id, ADA_TOKEN))["id"].as_str().unwrap().to_string();
    error_of(call(&server, "GET", &format!("/{media}/insights"), &[("metric", "likes,impressions")], ADA_TOKEN));
    one_mistake(&server, &["metric \"impressions\"", "metrics_post"]);
    error_of(call(&server, "GET", &format!("/{media}/insights"), &[("metrics", "likes")], ADA_TOKEN));
    one_mistake(&server, &["unknown parameter \"metrics\""]);
    server.assert_clean();
}

#[test]
fn text_limits_and_tokens_follow_the_docs() {
    let server = ThreadsServer::start();
    let exactly = "a".repeat(496) + "😀";
    assert_eq!(threads::text_length(&exactly), 500, "an emoji counts its four UTF-8 bytes");
    container(&server, ADA_TOKEN, &[("media_type", "TEXT"), ("text", &exactly)]);
    let over = "a".repeat(497) + "😀";
    let (_, message) =
        error_of(call(&server, "POST", "/me/threads", &[("media_type", "TEXT"), ("text", &over)], ADA_TOKEN));
    assert!(message.contains("text of 501 characters"), "{message}");
    one_mistake(&server, &["Limitations"]);
    let links = (1..=6).map(|i| format!("https://example.org/{i}")).collect::<Vec<_>>().join(" ");
    let (_, message) =
        error_of(call(&server, "POST", "/me/threads", &[("media_type", "TEXT"), ("text", &links)], ADA_TOKEN));
    assert!(message.contains("THREADS_API__LINK_LIMIT_EXCEEDED"), "{message}");
    one_mistake(&server, &["6 links"]);
    let (_, message) =
        error_of(call(&server, "POST", "/me/threads", &[("media_type", "IMAGE"), ("text", "No image")], ADA_TOKEN));
    assert!(message.contains("image_url is required"), "{message}");
    one_mistake(&server, &["media_type=IMAGE"]);
    let r = http()
        .post(format!("{}/me/threads", server.base))
        .query(&[("media_type", "TEXT"), ("text", "x")])
        .send()
        .unwrap();
    assert_eq!(error_of(r).0, 190);
    one_mistake(&server, &["no access token"]);

    // Authorization window → code → short-lived token → long-lived → refresh after 24 hours.
    server.login_as("faith_council");
    let r = http()
        .get(format!("{}/oauth/authorize", server.base))
        .query(&[
            ("client_id", threads::APP_ID),
            ("redirect_uri", "http://127.0.0.1:9/threads"),
            ("scope", "threads_basic,threads_content_publish"),
            ("response_type", "code"),
            ("state", "s"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let exchange = [
        ("client_id", threads::APP_ID),
        ("client_secret", threads::APP_SECRET),
        ("code", &code),
        ("grant_type", "authorization_code"),
        ("redirect_uri", "http://127.0.0.1:9/threads"),
    ];
    let v = json(http().post(format!("{}/oauth/access_token", server.base)).query(&exchange).send().unwrap());
    assert_eq!(v["user_id"].as_u64(), Some(user_id("faith_council").parse().unwrap()));
    let short = v["access_token"].as_str().unwrap().to_string();
    let v = json(call(
        &server,
        "GET",
        "/access_token",
        &[("grant_type", "th_exchange_token"), ("client_secret", threads::APP_SECRET)],
        &short,
    ));
    assert_eq!((v["token_type"].as_str(), v["expires_in"].as_u64()), (Some("bearer"), Some(5_183_944)));
    let long = v["access_token"].as_str().unwrap().to_string();
    let (_, message) =
        error_of(call(&server, "GET", "/refresh_access_token", &[("grant_type", "th_refresh_token")], &long));
    assert!(message.contains("at least 24 hours old"), "{message}");
    one_mistake(&server, &["Long-Lived Tokens"]);
    server.age_token(&long, chrono::Duration::hours(25));
    let v = json(call(&server, "GET", "/refresh_access_token", &[("grant_type", "th_refresh_token")], &long));
    assert_ne!(v["access_token"].as_str(), Some(long.as_str()));
    assert!(server
        .requests()
        .iter()
        .all(|l| !format!("{l:?}").contains(threads::APP_SECRET) && !format!("{l:?}").contains(&long)));
    server.expire_tokens("ada_delegate");
    let (code, _) = error_of(call(&server, "GET", "/me", &[("fields", "id")], ADA_TOKEN));
    assert_eq!(code, 190);
    server.assert_clean();
}

#[test]
fn throttling_outages_and_a_publish_whose_answer_is_lost() {
    let server = ThreadsServer::start();
    server.add_fault(Fault::once("POST", "/threads", Effect::Throttle { code: 4, regain_minutes: Some(3) }));
    let r = call(&server, "POST", "/me/threads", &[("media_type", "TEXT"), ("text", "Busy")], ADA_TOKEN);
    let usage: Value = serde_json::from_str(r.headers()["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage[user_id("ada_delegate")][0]["estimated_time_to_regain_access"], 3);
    assert_eq!(error_of(r).0, 4);
    server.add_fault(Fault::once("POST", "/threads", Effect::Status(500)));
    assert_eq!(
        call(&server, "POST", "/me/threads", &[("media_type", "TEXT"), ("text", "Busy")], ADA_TOKEN).status(),
        500
    );
    server.add_fault(Fault::once("GET", "/", Effect::ExpiredToken));
    assert_eq!(error_of(call(&server, "GET", "/me", &[("fields", "id")], ADA_TOKEN)).0, 190);

    let id = container(&server, ADA_TOKEN, &[("media_type", "TEXT"), ("text", "Exactly once")]);
    server.add_fault(Fault::once("POST", "/threads_publish", Effect::LoseAnswer));
    let lost = http()
        .post(format!("{}/me/threads_publish", server.base))
        .query(&[("creation_id", id.as_str()), ("access_token", ADA_TOKEN)])
        .send();
    assert!(lost.is_err(), "the answer is lost");
    assert_eq!(server.posts_by("ada_delegate").len(), 1, "but the post was made");
    // A client that reads the container's status first knows not to publish again.
    assert_eq!(status(&server, &id, ADA_TOKEN), "PUBLISHED");
    server.assert_clean();
}

//! The Facebook Pages test server held to Meta's spec files and documentation with plain HTTP:
//! correct requests pass and read back; a User token on a Page endpoint, a missing message, a
//! share, a mistyped parameter or field, a wrong version, each fail with the rule they broke.
//! The parameter checks need Meta's spec files from ../shared and say `not run` without them.

mod common;

use std::time::Duration;

use common::facebook::{
    self, page_of, Counts, Effect, FacebookServer, ADA_PAGE_TOKEN, ADA_USER_TOKEN, COUNCIL_PAGE_TOKEN, PAGES,
};
use common::loopback::Fault;
use reqwest::blocking::{Client, Response};
use serde_json::Value;

fn http() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(10)).build().unwrap()
}

fn post(server: &FacebookServer, path: &str, token: &str, form: &[(&str, &str)]) -> Response {
    http().post(format!("{}{path}", server.graph())).bearer_auth(token).form(form).send().unwrap()
}

fn get(server: &FacebookServer, path_and_query: &str, token: &str) -> Response {
    http().get(format!("{}{path_and_query}", server.graph())).bearer_auth(token).send().unwrap()
}

fn graph_error(r: Response) -> (u16, i64, String) {
    let status = r.status().as_u16();
    let v: Value = r.json().unwrap();
    let e = &v["error"];
    assert!(e["fbtrace_id"].is_string() && e["type"].is_string(), "Graph's error shape: {v}");
    (status, e["code"].as_i64().unwrap(), e["message"].as_str().unwrap().to_string())
}

fn one_mistake(server: &FacebookServer, words: &[&str]) {
    let seen = server.take_mistakes();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    for w in words {
        assert!(seen[0].contains(w), "wanted {w:?} in {:?}", seen[0]);
    }
}

#[test]
fn a_page_publishes_with_its_page_token_and_the_counts_read_back() {
    let server = FacebookServer::start();
    let council = page_of("faith_council");
    let r = post(
        &server,
        &format!("/{council}/feed"),
        COUNCIL_PAGE_TOKEN,
        &[("message", "Keynote at 10:00"), ("link", "https://example.org/k")],
    );
    assert_eq!(r.status(), 200);
    let id = r.json::<Value>().unwrap()["id"].as_str().unwrap().to_string();
    assert!(id.starts_with(&format!("{council}_")), "{id}");
    assert_eq!(server.posts_on(council)[0].message.as_deref(), Some("Keynote at 10:00"));

    let fields =
        "id,message,created_time,shares,reactions.summary(total_count).limit(0),comments.summary(true).limit(0)";
    let v: Value = get(&server, &format!("/{id}?fields={fields}"), COUNCIL_PAGE_TOKEN).json().unwrap();
    assert_eq!(v["message"], "Keynote at 10:00");
    assert!(v.get("shares").is_none(), "no `shares` until someone shares: {v}");
    assert_eq!(v["reactions"]["summary"]["total_count"], 0);
    assert!(v["created_time"].as_str().unwrap().ends_with("+0000"));

    // The delegate's Page comments on the council's post; counts are set by the test.
    let r = post(&server, &format!("/{id}/comments"), ADA_PAGE_TOKEN, &[("message", "See you there")]);
    assert_eq!(r.status(), 200);
    server.set_counts(&id, Counts { reactions: 5, shares: 2, comments: 0 });
    let v: Value = get(&server, &format!("/{id}?fields={fields}"), COUNCIL_PAGE_TOKEN).json().unwrap();
    assert_eq!((v["reactions"]["summary"]["total_count"].as_u64(), v["shares"]["count"].as_u64()), (Some(5), Some(2)));
    assert_eq!(v["comments"]["summary"]["total_count"], 1);
    assert_eq!(v["comments"]["data"].as_array().unwrap().len(), 0, "limit(0)");
    let v: Value = get(&server, &format!("/{id}/comments?summary=true"), COUNCIL_PAGE_TOKEN).json().unwrap();
    assert_eq!(v["data"][0]["from"]["id"], page_of("ada_delegate"));

    // The Page's feed lists it; delete takes it away.
    let v: Value = get(&server, &format!("/{council}/published_posts"), COUNCIL_PAGE_TOKEN).json().unwrap();
    assert_eq!(v["data"][0]["id"], id);
    let r = http().delete(format!("{}/{id}", server.graph())).bearer_auth(COUNCIL_PAGE_TOKEN).send().unwrap();
    assert_eq!(r.json::<Value>().unwrap()["success"], true);
    assert!(server.posts_on(council).is_empty());
    assert!(server.requests().iter().all(|l| l.header("authorization") == Some(common::loopback::BLANKED)));
    server.assert_clean();
}

#[test]
fn page_rules_hold_user_tokens_empty_posts_duplicates_and_shares() {
    let server = FacebookServer::start();
    let council = page_of("faith_council");
    let feed = format!("/{council}/feed");
    let (status, code, message) =
        graph_error(post(&server, &feed, facebook::FAITH_USER_TOKEN, &[("message", "As me")]));
    assert_eq!((status, code), (400, 200));
    assert!(message.contains("Page access token"), "{message}");
    one_mistake(&server, &["not a User access token", "Pages API Posts guide"]);

    let (_, code, _) = graph_error(post(&server, &feed, ADA_PAGE_TOKEN, &[("message", "Wrong Page")]));
    assert_eq!(code, 200);
    one_mistake(&server, &["not 20000000000000022's"]);

    let (_, code, message) = graph_error(post(&server, &feed, COUNCIL_PAGE_TOKEN, &[("published", "true")]));
    assert_eq!((code, message.as_str()), (100, "(#100) Missing message or attachment"));
    one_mistake(&server, &["needs message or link"]);

    // Posting the same text twice in a row is Facebook's refusal (506), not a client mistake.
    assert_eq!(post(&server, &feed, COUNCIL_PAGE_TOKEN, &[("message", "Twice")]).status(), 200);
    let (_, code, _) = graph_error(post(&server, &feed, COUNCIL_PAGE_TOKEN, &[("message", "Twice")]));
    assert_eq!(code, 506);

    // A share cannot be made through the Graph API; a post with a link can.
    let id = server.posts_on(council)[0].id.clone();
    let (_, code, message) = graph_error(post(&server, &format!("/{id}/sharedposts"), ADA_PAGE_TOKEN, &[]));
    assert_eq!(code, 100);
    assert!(message.contains("You cannot publish shares of an object using the Graph API"), "{message}");
    one_mistake(&server, &["sharedposts"]);
    let link = format!("https://www.facebook.com/{council}/posts/{}", id.split('_').nth(1).unwrap());
    let r = post(&server, &format!("/{}/feed", page_of("ada_delegate")), ADA_PAGE_TOKEN, &[("link", &link)]);
    assert_eq!(r.status(), 200);
    // Reading needs pages_read_engagement.
    let blind = server.issue_user_token("faith_council", &["pages_show_list"], true);
    assert_eq!(graph_error(get(&server, &format!("/{id}?fields=id"), &blind)).1, 200);
    one_mistake(&server, &["pages_read_engagement"]);

    // Tokens: none, unknown (mistakes), expired (not a mistake).
    let r = http().post(format!("{}{feed}", server.graph())).form(&[("message", "x")]).send().unwrap();
    assert_eq!(graph_error(r).1, 104);
    one_mistake(&server, &["no access token"]);
    assert_eq!(graph_error(post(&server, &feed, "EAAmadeup", &[("message", "x")])).1, 190);
    one_mistake(&server, &["never issued"]);
    server.expire_tokens("faith_council");
    let r = post(&server, &feed, COUNCIL_PAGE_TOKEN, &[("message", "Late")]);
    assert_eq!(r.json::<Value>().unwrap()["error"]["error_subcode"], 463);
    // The version is pinned: another one in the path is the client's mistake.
    let r = http().get(format!("{}/v19.0/me", server.base)).bearer_auth(ADA_USER_TOKEN).send().unwrap();
    assert_eq!(graph_error(r).1, 100);
    one_mistake(&server, &["pinned"]);
    server.assert_clean();
}

#[test]
#[cfg_attr(not(shared), ignore = "needs Meta's Graph API spec files in ../shared/specs/facebook-graph")]
fn parameters_and_fields_are_checked_against_metas_spec_files() {
    let server = FacebookServer::start();
    assert!(server.checks_spec(), "the spec files are read");
    assert_eq!(server.version(), "v25.0");
    let council = page_of("faith_council");
    let feed = format!("/{council}/feed");
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("mesage", "Typo")], "unknown parameter \"mesage\": Page.json POST feed"),
        (&[("message", "x"), ("published", "maybe")], "parameter published = \"maybe\": not a valid bool"),
        (
            &[("message", "x"), ("formatting", "HTML")],
            "not one of [\"MARKDOWN\", \"PLAINTEXT\"] (enum_types.json pagefeed_formatting_enum_param)",
        ),
        (&[("message", "x"), ("scheduled_publish_time", "tomorrow")], "not a valid datetime"),
        (&[("message", "x"), ("targeting", "{}"), ("tags", "[1,\"a\"]")], "parameter tags"),
    ];
    for (form, words) in cases {
        let (status, code, message) = graph_error(post(&server, &feed, COUNCIL_PAGE_TOKEN, form));
        assert_eq!((status, code), (400, 100), "{form:?}");
        assert!(message.contains(words), "{form:?}: wanted {words:?} in {message:?}");
        one_mistake(&server, &[words]);
    }
    // Correctly typed parameters of the spec pass: booleans, enums, lists.
    let fine = [("message", "Typed"), ("published", "true"), ("formatting", "PLAINTEXT"), ("tags", "[1,2]")];
    assert_eq!(post(&server, &feed, COUNCIL_PAGE_TOKEN, &fine).status(), 200);
    let id = server.posts_on(council)[0].id.clone();

    let (_, code, message) = graph_error(get(&server, &format!("/{id}?fields=id,mesage"), COUNCIL_PAGE_TOKEN));
    assert_eq!(code, 100);
    assert!(message.contains("Tried accessing nonexisting field (mesage) on node type (PagePost)"), "{message}");
    one_mistake(&server, &["PagePost.json"]);
    let (_, _, message) = graph_error(get(&server, &format!("/{id}/comments?order=newest"), COUNCIL_PAGE_TOKEN));
    assert!(message.contains("chronological"), "{message}");
    one_mistake(&server, &["pagepostcomments_order_enum_param"]);
    let (_, _, message) = graph_error(get(&server, "/me/accounts?is_place=yes", ADA_USER_TOKEN));
    assert!(message.contains("User.json GET accounts"), "{message}");
    one_mistake(&server, &["is_place"]);
    let (_, _, message) = graph_error(get(&server, &format!("/{id}/reactions?type=CLAP"), COUNCIL_PAGE_TOKEN));
    assert!(message.contains("THANKFUL"), "{message}");
    one_mistake(&server, &["pagepostreactions_type_enum_param"]);
    // An edge the spec does not have.
    let (_, _, message) = graph_error(post(&server, &format!("/{id}/reactions"), COUNCIL_PAGE_TOKEN, &[]));
    assert!(message.contains("not an operation of PagePost.json"), "{message}");
    one_mistake(&server, &["POST"]);
    server.assert_clean();
}

#[test]
fn login_gives_a_user_token_then_page_tokens_that_publish() {
    let server = FacebookServer::start();
    server.login_as("faith_council");
    let redirect = "http://localhost:8765/facebook";
    let dialog = format!(
        "{}/dialog/oauth?client_id={}&redirect_uri={}&state=xyz&scope=pages_show_list,pages_manage_posts,pages_read_engagement",
        server.graph(),
        facebook::APP_ID,
        redirect
    );
    let r = http().get(&dialog).send().unwrap();
    assert_eq!(r.status(), 302);
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let exchange = |code: &str, redirect: &str| {
        http()
            .get(format!("{}/oauth/access_token", server.graph()))
            .query(&[
                ("client_id", facebook::APP_ID),
                ("redirect_uri", redirect),
                ("client_secret", facebook::APP_SECRET),
                ("code", code),
            ])
            .send()
            .unwrap()
    };
    let v: Value = exchange(&code, redirect).json().unwrap();
    assert_eq!((v["token_type"].as_str(), v["expires_in"].as_i64()), (Some("bearer"), Some(3600)));
    let short = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(graph_error(exchange(&code, redirect)).1, 100, "a code is used once");

    // A short-lived User token gives Page tokens that expire with it.
    let v: Value = get(&server, "/me/accounts", &short).json().unwrap();
    let page_token = v["data"][0]["access_token"].as_str().unwrap().to_string();
    assert_eq!(v["data"][0]["id"], page_of("faith_council"));
    let t = server.tokens().into_iter().find(|t| t.value == page_token).unwrap();
    assert!(t.expires.is_some());

    let v: Value = http()
        .get(format!("{}/oauth/access_token", server.graph()))
        .query(&[
            ("grant_type", "fb_exchange_token"),
            ("client_id", facebook::APP_ID),
            ("client_secret", facebook::APP_SECRET),
            ("fb_exchange_token", &short),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["expires_in"], 5_183_944);
    let long = v["access_token"].as_str().unwrap().to_string();
    let v: Value = get(&server, "/me/accounts", &long).json().unwrap();
    let page_token = v["data"][0]["access_token"].as_str().unwrap().to_string();
    assert!(
        server.tokens().into_iter().find(|t| t.value == page_token).unwrap().expires.is_none(),
        "a long-lived Page token"
    );
    let r = post(&server, &format!("/{}/feed", page_of("faith_council")), &page_token, &[("message", "Logged in")]);
    assert_eq!(r.status(), 200);
    // /me/accounts is for User tokens; the Page token reads /me as the Page.
    assert_eq!(graph_error(get(&server, "/me/accounts", &page_token)).1, 100);
    one_mistake(&server, &["needs a User access token"]);
    assert_eq!(get(&server, "/me?fields=id,name", &page_token).json::<Value>().unwrap()["name"], PAGES[1].1);

    // The redirect must be the dialog's.
    let r = http().get(&dialog).send().unwrap();
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    assert_eq!(graph_error(exchange(&code, "http://localhost:8765/other")).1, 100);
    one_mistake(&server, &["redirect_uri differs"]);
    assert!(server.requests().iter().all(|l| !format!("{l:?}").contains(facebook::APP_SECRET)));
    server.assert_clean();
}

#[test]
fn throttling_outages_and_lost_answers() {
    let server = FacebookServer::start();
    let council = page_of("faith_council");
    let feed = format!("/{council}/feed");
    server.add_fault(Fault::once("POST", "/feed", Effect::Throttle { code: 80001, regain_minutes: Some(5) }));
    let r = post(&server, &feed, COUNCIL_PAGE_TOKEN, &[("message", "Busy")]);
    let usage: Value = serde_json::from_str(r.headers()["x-business-use-case-usage"].to_str().unwrap()).unwrap();
    assert_eq!(usage[council][0]["estimated_time_to_regain_access"], 5);
    assert_eq!(graph_error(r).1, 80001);
    for code in [4, 17, 32, 613] {
        server.add_fault(Fault::once("POST", "/feed", Effect::Throttle { code, regain_minutes: None }));
        let r = post(&server, &feed, COUNCIL_PAGE_TOKEN, &[("message", "Busy")]);
        assert!(r.headers().get("x-business-use-case-usage").is_none());
        let (_, got, message) = graph_error(r);
        assert_eq!(got, code);
        assert!(message.starts_with(&format!("(#{code})")));
    }
    server.add_fault(Fault::once("POST", "/feed", Effect::ExpiredToken));
    let r = post(&server, &feed, COUNCIL_PAGE_TOKEN, &[("message", "Busy")]);
    assert_eq!(r.json::<Value>().unwrap()["error"]["code"], 190);
    server.add_fault(Fault::once("POST", "/feed", Effect::Blocked));
    assert_eq!(graph_error(post(&server, &feed, COUNCIL_PAGE_TOKEN, &[("message", "Busy")])).1, 368);
    server.add_fault(Fault::once("POST", "/feed", Effect::Status(503)));
    assert_eq!(graph_error(post(&server, &feed, COUNCIL_PAGE_TOKEN, &[("message", "Busy")])).0, 503);
    assert!(server.posts_on(council).is_empty());

    server.add_fault(Fault::once("POST", "/feed", Effect::LoseAnswer));
    let lost = http()
        .post(format!("{}{feed}", server.graph()))
        .bearer_auth(COUNCIL_PAGE_TOKEN)
        .form(&[("message", "Lost")])
        .send();
    assert!(lost.is_err(), "the answer is lost");
    assert_eq!(server.posts_on(council).len(), 1, "but the post was made");
    server.assert_clean();
}

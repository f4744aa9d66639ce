//! The LinkedIn test server held to its own rules with plain HTTP: correct requests pass and read
//! back; each broken rule (a header, a version, a field name, a URN form, an unescaped character)
//! is refused or flagged with the rule it broke. Its rules live in code, so these always run.

mod common;

use std::time::Duration;

use common::linkedin::{self, org_urn, person_urn, Counts, Effect, LinkedInServer, ADA_TOKEN, FAITH_TOKEN};
use common::loopback::Fault;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};

const VERSION: &str = "202601";

fn http() -> Client {
    Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(Duration::from_secs(10)).build().unwrap()
}

/// A `/rest/` request with every header LinkedIn asks for.
fn rest(server: &LinkedInServer, method: &str, path: &str, token: &str) -> RequestBuilder {
    http()
        .request(method.parse().unwrap(), format!("{}{path}", server.base))
        .bearer_auth(token)
        .header("LinkedIn-Version", VERSION)
        .header("X-Restli-Protocol-Version", "2.0.0")
}

fn enc(urn: &str) -> String {
    url::form_urlencoded::byte_serialize(urn.as_bytes()).collect()
}

fn post_body(author: &str, commentary: &str) -> Value {
    json!({
        "author": author,
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": { "feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": [] },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    })
}

fn create(server: &LinkedInServer, token: &str, body: &Value) -> Response {
    rest(server, "POST", "/rest/posts", token).json(body).send().unwrap()
}

fn created_urn(r: &Response) -> String {
    assert_eq!(r.status(), 201);
    r.headers()["x-restli-id"].to_str().unwrap().to_string()
}

/// Asserts the server recorded exactly one mistake, containing every one of `words`.
fn one_mistake(server: &LinkedInServer, words: &[&str]) {
    let seen = server.take_mistakes();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    for w in words {
        assert!(seen[0].contains(w), "wanted {w:?} in {:?}", seen[0]);
    }
}

#[test]
fn a_member_post_made_with_escaped_text_reads_back_as_written() {
    let server = LinkedInServer::start();
    let me = person_urn("ada_delegate");
    let text = "Keynote (Hall A) at 10:00 - ask @ada_delegate, use_underscores ~ok~ #EMIEP";
    let commentary =
        linkedin::escape("Keynote (Hall A) at 10:00 - ask @ada_delegate, use_underscores ~ok~ ") + "#EMIEP";
    let r = create(&server, ADA_TOKEN, &post_body(&me, &commentary));
    let urn = created_urn(&r);
    assert!(urn.starts_with("urn:li:share:"), "{urn}");
    assert_eq!(r.text().unwrap(), "");
    let posts = server.posts_by(&me);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].text, text);
    assert_eq!(posts[0].commentary, commentary);
    // The log keeps the request but not its secret.
    let logged = server.requests();
    assert_eq!(logged[0].header("authorization"), Some(common::loopback::BLANKED));
    assert_eq!(logged[0].body["author"], me);
    server.assert_clean();
}

#[test]
fn an_unescaped_reserved_character_cuts_the_post_and_is_recorded() {
    let server = LinkedInServer::start();
    let me = person_urn("ada_delegate");
    let r = create(&server, ADA_TOKEN, &post_body(&me, "Keynote (Hall A) starts now"));
    created_urn(&r);
    assert_eq!(server.posts_by(&me)[0].text, "Keynote ");
    one_mistake(&server, &["unescaped reserved '('", "character 8", "NOTES §1a"]);
    // A hashtag, a mention and a hashtag template are elements, not mistakes.
    let fine = format!("See @[Faith](urn:li:person:FaithCouncil02) at {{hashtag|\\#|Keynote}} #EMIEP{}", "");
    created_urn(&create(&server, ADA_TOKEN, &post_body(&me, &fine)));
    assert_eq!(server.posts_by(&me)[1].text, "See Faith at #Keynote #EMIEP");
    server.assert_clean();
}

#[test]
fn little_text_is_read_as_linkedin_reads_it() {
    type Cut = Option<(usize, char)>;
    let cases: &[(&str, &str, Cut)] = &[
        ("plain text", "plain text", None),
        (r"a \(b\) c", "a (b) c", None),
        ("C# rocks", "C", Some((1, '#'))),
        ("#tag and #more2", "#tag and #more2", None),
        ("snake_case", "snake", Some((5, '_'))),
        ("mail me@x", "mail me", Some((7, '@'))),
        (r"ends with \", "ends with ", Some((10, '\\'))),
        ("@[Ada](urn:li:person:A1) hi", "Ada hi", None),
        ("@[Ada](urn:li:activity:1)", "", Some((0, '@'))),
        ("{hashtag|#|Day1} go", "#Day1 go", None),
        ("{hashtag|＃|Day1}", "#Day1", None),
        ("{notatag|#|x}", "", Some((0, '{'))),
        ("a > b", "a ", Some((2, '>'))),
    ];
    for (source, text, cut) in cases {
        let shown = linkedin::read_little(source);
        assert_eq!((&shown.text.as_str(), shown.cut), (text, *cut), "{source:?}");
    }
    for c in linkedin::RESERVED {
        let s = format!("x{c}y");
        assert_eq!(linkedin::read_little(&linkedin::escape(&s)).text, s);
    }
}

#[test]
fn headers_versions_and_tokens_are_checked() {
    let server = LinkedInServer::start();
    let body = post_body(&person_urn("ada_delegate"), "Checked");
    let base = format!("{}/rest/posts", server.base);
    let bare = || http().post(&base).bearer_auth(ADA_TOKEN).json(&body);

    let r = bare().header("X-Restli-Protocol-Version", "2.0.0").send().unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["x-restli-error-response"], "true");
    assert!(r.text().unwrap().contains("LinkedIn-Version"));
    one_mistake(&server, &["no `LinkedIn-Version` header", "NOTES §0"]);

    let r = bare().header("LinkedIn-Version", "2026-01").header("X-Restli-Protocol-Version", "2.0.0").send().unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["not YYYYMM"]);

    let r = bare().header("linkedin-version", "202301").header("X-Restli-Protocol-Version", "2.0.0").send().unwrap();
    assert_eq!(r.status(), 426);
    let v: Value = r.json().unwrap();
    assert_eq!(
        (v["code"].as_str(), v["message"].as_str()),
        (Some("NONEXISTENT_VERSION"), Some("Requested version 20230101 is not active"))
    );
    one_mistake(&server, &["202301", "not an active version"]);

    let r = bare().header("LinkedIn-Version", "202601.01").send().unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["X-Restli-Protocol-Version: 2.0.0", "L-PROTO"]);

    let r = rest(&server, "POST", "/rest/posts", "li-made-up").json(&body).send().unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().unwrap()["serviceErrorCode"], 65600);
    one_mistake(&server, &["never issued"]);

    let r = http().post(&base).header("LinkedIn-Version", VERSION).json(&body).send().unwrap();
    assert_eq!(r.status(), 401);
    one_mistake(&server, &["Authorization: Bearer"]);

    // An expired or revoked token is the server's doing, not the client's: 401, no mistake.
    let fresh = server.issue_token("ada_delegate", &["w_member_social"]);
    server.expire_tokens("ada_delegate");
    assert_eq!(create(&server, &fresh, &body).status(), 401);
    let token = server.issue_token("faith_council", &["w_member_social"]);
    server.revoke_tokens("faith_council");
    let r = create(&server, &token, &post_body(&person_urn("faith_council"), "x"));
    assert_eq!(r.json::<Value>().unwrap()["code"], "REVOKED_ACCESS_TOKEN");
    server.assert_clean();
}

#[test]
fn a_typo_in_the_body_is_refused_with_the_field_named() {
    let server = LinkedInServer::start();
    let me = person_urn("ada_delegate");
    let cases: &[(&str, Value, &str)] = &[
        ("commentary", json!("x"), "unknown field \"comentary\""),
        ("visibility", json!("public"), "visibility \"public\" is not one of"),
        ("lifecycleState", json!(5), "lifecycleState is 5, not a string"),
        ("distribution", json!({ "feedDistribution": "MAIN" }), "feedDistribution is Some(\"MAIN\")"),
        (
            "reshareContext",
            json!({ "parent": "urn:li:share:1", "root": "urn:li:share:1" }),
            "reshareContext.root is read-only",
        ),
    ];
    for (field, value, words) in cases {
        let mut body = post_body(&me, "Typo");
        if *field == "commentary" {
            body["comentary"] = value.clone();
        } else {
            body[field] = value.clone();
        }
        let r = create(&server, ADA_TOKEN, &body);
        assert_eq!(r.status(), 400, "{field}");
        let seen = server.take_mistakes();
        assert!(seen.iter().any(|m| m.contains(words)), "{field}: wanted {words:?} in {seen:#?}");
    }
    // Not JSON, or JSON sent as something else.
    let r = rest(&server, "POST", "/rest/posts", ADA_TOKEN).body(post_body(&me, "x").to_string()).send().unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["application/json"]);
    // Posting as someone else, or as an organization without a role on it.
    let r = create(&server, ADA_TOKEN, &post_body(&person_urn("faith_council"), "Not me"));
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().unwrap()["code"], "ACCESS_DENIED");
    one_mistake(&server, &["is not the token's member"]);
    let r = create(&server, ADA_TOKEN, &post_body(&org_urn(), "Not my org"));
    assert_eq!(r.status(), 403);
    one_mistake(&server, &["w_organization_social"]);
    server.assert_clean();
}

#[test]
fn an_organization_reshares_a_share_urn_but_never_an_activity_urn() {
    let server = LinkedInServer::start();
    let original = created_urn(&create(&server, ADA_TOKEN, &post_body(&person_urn("ada_delegate"), "Original")));
    let activity = server.posts()[0].activity.clone();
    let mut reshare = post_body(&org_urn(), "");
    reshare["reshareContext"] = json!({ "parent": activity });
    let r = create(&server, FAITH_TOKEN, &reshare);
    assert_eq!(r.status(), 422);
    let v: Value = r.json().unwrap();
    assert!(v["errorDetails"]["inputErrors"][0]["description"]
        .as_str()
        .unwrap()
        .contains("groupPost, share and ugcPost"));
    one_mistake(&server, &["never activity", "NOTES §2"]);

    reshare["reshareContext"] = json!({ "parent": original });
    let urn = created_urn(&create(&server, FAITH_TOKEN, &reshare));
    assert_eq!(server.reshares(), [(org_urn(), original.clone())]);
    // A second identical reshare is LinkedIn's duplicate, not a mistake.
    let again = create(&server, FAITH_TOKEN, &reshare);
    assert_eq!(again.status(), 422);
    assert_eq!(again.json::<Value>().unwrap()["errorDetails"]["inputErrors"][0]["code"], "DUPLICATE_POST");
    // An empty commentary is for reshares only.
    let r = create(&server, ADA_TOKEN, &post_body(&person_urn("ada_delegate"), ""));
    assert_eq!(r.status(), 422);
    one_mistake(&server, &["only a reshare may have"]);
    assert_eq!(server.counts(&original).reshares, 1);
    assert_ne!(urn, original);
    server.assert_clean();
}

#[test]
fn deletes_need_the_method_header_and_an_encoded_urn_and_duplicates_outlive_them() {
    let server = LinkedInServer::start();
    let me = person_urn("ada_delegate");
    let urn = created_urn(&create(&server, ADA_TOKEN, &post_body(&me, "Short-lived")));
    let path = format!("/rest/posts/{}", enc(&urn));
    assert!(path.contains("urn%3Ali%3Ashare%3A"));

    let r = rest(&server, "DELETE", &path, ADA_TOKEN).send().unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["X-RestLi-Method: DELETE"]);
    let r = rest(&server, "DELETE", &format!("/rest/posts/{urn}"), ADA_TOKEN)
        .header("X-RestLi-Method", "DELETE")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["not percent-encoded", "L-PROTO"]);
    let r = rest(&server, "DELETE", &format!("/rest/posts/{}", enc(&enc(&urn))), ADA_TOKEN)
        .header("X-RestLi-Method", "DELETE")
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["encoded twice"]);

    for _ in 0..2 {
        let r = rest(&server, "DELETE", &path, ADA_TOKEN).header("X-RestLi-Method", "DELETE").send().unwrap();
        assert_eq!(r.status(), 204);
    }
    assert!(server.posts_by(&me).is_empty());
    let r = create(&server, ADA_TOKEN, &post_body(&me, "Short-lived"));
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains(&format!("Content is a duplicate of {urn}")));
    // The same content however it is escaped: the words as LinkedIn shows them.
    let tagged = created_urn(&create(&server, ADA_TOKEN, &post_body(&me, "Tagged #EMIEP")));
    let r = create(&server, ADA_TOKEN, &post_body(&me, &linkedin::escape("Tagged #EMIEP")));
    assert_eq!(r.status(), 422);
    assert!(r.text().unwrap().contains(&format!("Content is a duplicate of {tagged}")));
    server.assert_clean();
}

#[test]
fn comments_and_counts_read_back_through_every_count_endpoint() {
    let server = LinkedInServer::start();
    let me = person_urn("ada_delegate");
    let urn = created_urn(&create(&server, ADA_TOKEN, &post_body(&me, "Counted")));
    let comments = format!("/rest/socialActions/{}/comments", enc(&urn));
    let body = json!({ "actor": me, "object": urn, "message": { "text": linkedin::escape("Part 2 (of 2)") } });
    let r = rest(&server, "POST", &comments, ADA_TOKEN).json(&body).send().unwrap();
    assert_eq!(r.status(), 201);
    let comment_urn = r.headers()["x-restli-id"].to_str().unwrap().to_string();
    assert!(comment_urn.starts_with("urn:li:comment:(urn:li:activity:"), "{comment_urn}");
    assert_eq!(r.json::<Value>().unwrap()["commentUrn"], comment_urn);
    assert_eq!(server.comments()[0].text, "Part 2 (of 2)");
    let id = server.comments()[0].id.clone();
    let remove = format!("{comments}/{id}?actor={}", enc(&me));
    let r = rest(&server, "DELETE", &remove, ADA_TOKEN).header("X-RestLi-Method", "DELETE").send().unwrap();
    assert_eq!(r.status(), 204);
    assert!(server.comments()[0].deleted);
    let body = json!({ "actor": me, "object": urn, "message": { "text": "Part 2, again" } });
    assert_eq!(rest(&server, "POST", &comments, ADA_TOKEN).json(&body).send().unwrap().status(), 201);
    // Reading them back needs r_member_social or r_organization_social (L-COMMENTS): the
    // organization's admin reads its comments page by page, oldest first.
    let listed = format!("{comments}?start=0&count=10");
    assert_eq!(rest(&server, "GET", &listed, ADA_TOKEN).send().unwrap().status(), 403);
    one_mistake(&server, &["r_member_social"]);
    let v: Value = rest(&server, "GET", &listed, FAITH_TOKEN).send().unwrap().json().unwrap();
    assert_eq!(v["paging"]["total"], 1, "the deleted comment is not listed: {v}");
    assert_eq!(v["elements"][0]["message"]["text"], "Part 2, again");
    assert_eq!(v["elements"][0]["actor"], me);
    assert!(v["elements"][0]["commentUrn"].as_str().unwrap().starts_with("urn:li:comment:("));
    let r = rest(&server, "GET", &format!("{comments}?begin=0"), FAITH_TOKEN).send().unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["unknown query parameter \"begin\""]);
    let typo = json!({ "actor": me, "object": urn, "mesage": { "text": "x" } });
    assert_eq!(rest(&server, "POST", &comments, ADA_TOKEN).json(&typo).send().unwrap().status(), 400);
    let seen = server.take_mistakes();
    assert!(seen.iter().any(|m| m.contains("unknown field \"mesage\"")), "{seen:#?}");

    server.set_counts(
        &urn,
        Counts { likes: 7, impressions: 120, unique_impressions: 90, clicks: 4, ..Default::default() },
    );
    // socialMetadata needs r_member_social or r_organization_social: the delegate has neither.
    let meta = format!("/rest/socialMetadata/{}", enc(&urn));
    assert_eq!(rest(&server, "GET", &meta, ADA_TOKEN).send().unwrap().status(), 403);
    one_mistake(&server, &["r_member_social", "L-SOCIALMETA"]);
    let v: Value = rest(&server, "GET", &meta, FAITH_TOKEN).send().unwrap().json().unwrap();
    assert_eq!(
        (v["reactionSummaries"]["LIKE"]["count"].as_u64(), v["commentSummary"]["count"].as_u64()),
        (Some(7), Some(1))
    );
    let v: Value = rest(&server, "GET", &format!("/rest/socialActions/{}", enc(&urn)), FAITH_TOKEN)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["likesSummary"]["totalLikes"], 7);

    // The member's own analytics: the URN encoded inside a literal Rest.li union.
    let q = format!(
        "/rest/memberCreatorPostAnalytics?q=entity&entity=(share:{})&queryType=IMPRESSION&aggregation=TOTAL",
        enc(&urn)
    );
    let v: Value = rest(&server, "GET", &q, ADA_TOKEN).send().unwrap().json().unwrap();
    assert_eq!(v["elements"][0]["count"], 120);
    // reqwest's own query encoder escapes the union's parentheses: refused.
    let r = rest(&server, "GET", "/rest/memberCreatorPostAnalytics", ADA_TOKEN)
        .query(&[
            ("q", "entity"),
            ("entity", &format!("(share:{urn})")),
            ("queryType", "REACTION"),
            ("aggregation", "TOTAL"),
        ])
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["stays literal"]);
    let r = rest(&server, "GET", &q.replace("queryType", "querytype"), ADA_TOKEN).send().unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["unknown query parameter \"querytype\""]);

    // The organization's statistics for its reshare.
    let mut reshare = post_body(&org_urn(), "");
    reshare["reshareContext"] = json!({ "parent": urn });
    let shared = created_urn(&create(&server, FAITH_TOKEN, &reshare));
    server.set_counts(&shared, Counts { likes: 3, impressions: 50, ..Default::default() });
    let q = format!(
        "/rest/organizationalEntityShareStatistics?q=organizationalEntity&organizationalEntity={}&shares=List({})",
        enc(&org_urn()),
        enc(&shared)
    );
    let v: Value = rest(&server, "GET", &q, FAITH_TOKEN).send().unwrap().json().unwrap();
    assert_eq!(v["elements"][0]["share"], shared);
    assert_eq!(v["elements"][0]["totalShareStatistics"]["likeCount"], 3);
    assert_eq!(v["elements"][0]["totalShareStatistics"]["impressionCount"], 50);
    let r = rest(&server, "GET", &q.replace("List(", "List%28").replace(")", "%29"), FAITH_TOKEN).send().unwrap();
    assert_eq!(r.status(), 400);
    one_mistake(&server, &["not List(…) with literal parentheses"]);
    server.assert_clean();
}

#[test]
fn oauth_gives_tokens_that_reach_the_ids() {
    let server = LinkedInServer::start();
    let redirect = "http://127.0.0.1:9/callback";
    let authorize = format!(
        "{}/oauth/v2/authorization?response_type=code&client_id={}&redirect_uri={}&scope={}&state=s1",
        server.base,
        linkedin::CLIENT_ID,
        enc(redirect),
        enc("openid profile w_member_social rw_organization_admin")
    );
    server.login_as("faith_council");
    let r = http().get(&authorize).send().unwrap();
    assert_eq!(r.status(), 302);
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let q: Vec<(String, String)> = location.query_pairs().into_owned().collect();
    assert_eq!(q[1], ("state".to_string(), "s1".to_string()));
    let code = q[0].1.clone();
    let token_url = format!("{}/oauth/v2/accessToken", server.base);
    let form = |extra: &[(&str, &str)]| {
        let mut f = vec![("client_id", linkedin::CLIENT_ID), ("client_secret", linkedin::CLIENT_SECRET)];
        f.extend_from_slice(extra);
        f.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>()
    };
    let v: Value = http()
        .post(&token_url)
        .form(&form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", redirect)]))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["expires_in"], 5_184_000);
    assert_eq!(v["scope"], "openid,profile,w_member_social,rw_organization_admin");
    assert_eq!(v["id_token"].as_str().unwrap().split('.').count(), 3);
    let access = v["access_token"].as_str().unwrap().to_string();
    let refresh = v["refresh_token"].as_str().unwrap().to_string();
    // The code is single-use.
    let again = http()
        .post(&token_url)
        .form(&form(&[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", redirect)]))
        .send()
        .unwrap();
    assert_eq!(again.status(), 400);

    let v: Value =
        http().get(format!("{}/v2/userinfo", server.base)).bearer_auth(&access).send().unwrap().json().unwrap();
    assert_eq!(v["sub"], "FaithCouncil02");
    let v: Value = rest(
        &server,
        "GET",
        "/rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED&count=20&start=0",
        &access,
    )
    .send()
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(v["elements"][0]["organization"], org_urn());

    // Refreshing keeps the refresh token and gives a new access token.
    let v: Value = http()
        .post(&token_url)
        .form(&form(&[("grant_type", "refresh_token"), ("refresh_token", &refresh)]))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["refresh_token"], refresh);
    assert_ne!(v["access_token"], access.as_str());
    let v: Value = http()
        .post(format!("{}/oauth/v2/introspectToken", server.base))
        .form(&form(&[("token", &access)]))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!((v["active"].as_bool(), v["status"].as_str()), (Some(true), Some("active")));
    // No secret reaches the log.
    assert!(server
        .requests()
        .iter()
        .all(|l| !format!("{l:?}").contains(linkedin::CLIENT_SECRET) && !format!("{l:?}").contains(&access)));

    // A comma-separated scope and a redirect the app does not know are the client's mistakes.
    let bad = authorize.replace(&enc("openid profile w_member_social rw_organization_admin"), "openid,profile");
    assert_eq!(http().get(&bad).send().unwrap().status(), 400);
    one_mistake(&server, &["comma-separated"]);
    let bad = authorize.replace(&enc(redirect), &enc("https://evil.example/cb"));
    assert_eq!(http().get(&bad).send().unwrap().status(), 400);
    one_mistake(&server, &["not registered"]);
    // userinfo without openid: LinkedIn's 403.
    let r = http().get(format!("{}/v2/userinfo", server.base)).bearer_auth(FAITH_TOKEN).send().unwrap();
    assert_eq!(r.status(), 200);
    let no_openid = server.issue_token("ada_delegate", &["w_member_social"]);
    let r = http().get(format!("{}/v2/userinfo", server.base)).bearer_auth(no_openid).send().unwrap();
    assert_eq!(r.status(), 403);
    one_mistake(&server, &["openid and profile"]);
    server.assert_clean();
}

#[test]
fn faults_rate_limits_and_lost_answers() {
    let server = LinkedInServer::start();
    let me = person_urn("ada_delegate");
    server.add_fault(Fault::once("POST", "/rest/posts", Effect::RateLimit));
    let r = create(&server, ADA_TOKEN, &post_body(&me, "One"));
    assert_eq!(r.status(), 429);
    let names: Vec<&str> = r.headers().keys().map(|k| k.as_str()).collect();
    assert!(!names.iter().any(|n| n.contains("rate") || n.contains("retry")), "no rate-limit headers: {names:?}");

    server.add_fault(Fault::once("POST", "/rest/posts", Effect::LoseAnswer));
    let lost = create_result(&server, &post_body(&me, "Two"));
    assert!(lost.is_err(), "the answer is lost");
    assert_eq!(server.posts_by(&me).len(), 1, "but the post was made");
    assert!(server.requests().last().unwrap().lost);

    server.add_fault(Fault::once("POST", "/rest/posts", Effect::Status(503)));
    assert_eq!(create(&server, ADA_TOKEN, &post_body(&me, "Three")).status(), 503);
    server.add_fault(Fault::once("POST", "/rest/posts", Effect::ExpiredToken));
    assert_eq!(create(&server, ADA_TOKEN, &post_body(&me, "Three")).status(), 401);
    server.add_fault(Fault::once("POST", "/rest/posts", Effect::Delay(Duration::from_millis(300))));
    let started = std::time::Instant::now();
    created_urn(&create(&server, ADA_TOKEN, &post_body(&me, "Three")));
    assert!(started.elapsed() >= Duration::from_millis(300));

    // A daily limit: the member's next post today is refused until midnight UTC.
    server.daily_limit(Some(2));
    assert_eq!(create(&server, ADA_TOKEN, &post_body(&me, "Four")).status(), 429);
    assert_eq!(server.posts_by(&me).len(), 2);
    server.assert_clean();
}

fn create_result(server: &LinkedInServer, body: &Value) -> Result<Response, reqwest::Error> {
    rest(server, "POST", "/rest/posts", ADA_TOKEN).json(body).send()
}

//! Threads tokens for the test server: the authorization window, the code exchange, the
//! long-lived exchange and the refresh ("Get Access Tokens",
//! https://developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions;
//! "Long-Lived Tokens", https://developers.facebook.com/docs/threads/get-started/long-lived-tokens;
//! the collection's Authorization folder).

use chrono::Utc;
use serde_json::json;

use super::super::loopback::{Answer, Incoming};
use super::super::meta::{self, error};
use super::routes::refuse;
use super::spec::Collection;
use super::{State, Token, APP_ID, APP_SECRET, SCOPES};

pub fn answer(st: &mut State, spec: Option<&Collection>, req: &Incoming, segs: &[&str]) -> Answer {
    let p: Vec<(String, String)> = meta::params(req).into_iter().map(|(k, v, _)| (k, meta::text(&v))).collect();
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    match (req.method.as_str(), segs) {
        ("GET", ["oauth", "authorize"]) => authorize(st, spec, req),
        (_, ["oauth", "access_token"]) => {
            if get("client_id").as_deref() != Some(APP_ID) || get("client_secret").as_deref() != Some(APP_SECRET) {
                st.mistakes.push(req, "client_id or client_secret is not the app's (Get Access Tokens, Step 2)");
                return error(400, 1, None, "OAuthException", "Error validating client secret.");
            }
            match get("grant_type").as_deref() {
                Some("authorization_code") => code(st, req, get("code"), get("redirect_uri")),
                Some("client_credentials") => Answer::json(
                    200,
                    json!({ "access_token": format!("TH|{APP_ID}|app-token"), "token_type": "bearer" }),
                ),
                other => refuse(
                    st,
                    req,
                    100,
                    &format!(
                        "grant_type {other:?}: the collection's requests use authorization_code or client_credentials"
                    ),
                ),
            }
        }
        ("GET", ["access_token"]) => exchange(st, req, get("grant_type"), get("client_secret"), get("access_token")),
        ("GET", ["refresh_access_token"]) => refresh(st, req, get("grant_type"), get("access_token")),
        _ => refuse(st, req, 100, &format!("{} is not a Threads token endpoint", req.what())),
    }
}

/// `GET /oauth/authorize` on threads.net (Get Access Tokens, Step 1): the person allows at once.
fn authorize(st: &mut State, spec: Option<&Collection>, req: &Incoming) -> Answer {
    let allowed = ["client_id", "redirect_uri", "scope", "response_type", "state"];
    if let Some((k, _)) = req.query.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
        return refuse(st, req, 100, &format!("unknown parameter {k:?}; the Authorization Window takes {allowed:?}"));
    }
    if req.query("client_id") != Some(APP_ID) {
        return refuse(st, req, 100, "client_id is not the Threads app's (Get Access Tokens, Step 1)");
    }
    if req.query("response_type") != Some("code") {
        return refuse(st, req, 100, "response_type must be code (Get Access Tokens, Step 1)");
    }
    let redirect = req.query("redirect_uri").unwrap_or_default().to_string();
    let Some(mut location) =
        url::Url::parse(&redirect).ok().filter(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost")))
    else {
        return refuse(st, req, 100, &format!("redirect_uri {redirect:?} is not a valid OAuth URI of the app"));
    };
    let known: Vec<String> = spec.map(|s| s.list("scope")).unwrap_or_else(|| SCOPES.map(String::from).to_vec());
    let scope = req.query("scope").unwrap_or_default();
    let scopes: Vec<String> = scope.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if scopes.is_empty() || scope.contains(' ') {
        return refuse(
            st,
            req,
            100,
            &format!("scope {scope:?}: a comma-separated list of permissions (the collection's scope)"),
        );
    }
    if let Some(bad) = scopes.iter().find(|s| !known.contains(s)) {
        return refuse(st, req, 100, &format!("unknown permission {bad:?} (the collection's scope lists {known:?})"));
    }
    let code = format!("th-code-{}", st.ids.next());
    st.codes.insert(code.clone(), (redirect, st.login_as.clone(), scopes));
    location.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = req.query("state") {
        location.query_pairs_mut().append_pair("state", state);
    }
    Answer::redirect(location.as_str())
}

fn issue(st: &mut State, username: &str, scopes: Vec<String>, long_lived: bool) -> Token {
    let now = Utc::now();
    let life = if long_lived { chrono::Duration::seconds(5_183_944) } else { chrono::Duration::hours(1) };
    let token = Token {
        value: format!("th-{}", st.ids.next()),
        username: username.into(),
        long_lived,
        scopes,
        issued: now,
        expires: now + life,
    };
    st.tokens.push(token.clone());
    token
}

/// `POST /oauth/access_token` with a code: a short-lived token, valid one hour.
fn code(st: &mut State, req: &Incoming, code: Option<String>, redirect: Option<String>) -> Answer {
    let Some((expected, username, scopes)) = code.and_then(|c| st.codes.remove(&c)) else {
        return error(400, 100, Some(36009), "OAuthException", "This authorization code has been used.");
    };
    if redirect.as_deref() != Some(expected.as_str()) {
        // The collection: "This must be the same URI or the request will be rejected."
        return refuse(
            st,
            req,
            100,
            "redirect_uri differs from the Authorization Window's (the collection's Exchange the Code For a Token)",
        );
    }
    let token = issue(st, &username, scopes, false);
    let id: u64 = super::user_id(&username).parse().unwrap_or_default();
    Answer::json(200, json!({ "access_token": token.value, "user_id": id }))
}

/// `GET /access_token?grant_type=th_exchange_token`: a short-lived token for a long-lived one.
fn exchange(
    st: &mut State,
    req: &Incoming,
    grant: Option<String>,
    secret: Option<String>,
    old: Option<String>,
) -> Answer {
    if grant.as_deref() != Some("th_exchange_token") {
        return refuse(st, req, 100, "grant_type must be th_exchange_token (Long-Lived Tokens)");
    }
    if secret.as_deref() != Some(APP_SECRET) {
        st.mistakes.push(req, "client_secret is not the app's (Long-Lived Tokens)");
        return error(400, 1, None, "OAuthException", "Error validating client secret.");
    }
    let Some(t) = old.and_then(|o| st.tokens.iter().find(|t| t.value == o).cloned()) else {
        return refuse(st, req, 190, "access_token is not a token this server issued");
    };
    if t.expires <= Utc::now() {
        return error(400, 190, Some(463), "OAuthException", "Error validating access token: Session has expired.");
    }
    if t.long_lived {
        return refuse(
            st,
            req,
            100,
            "access_token is long-lived already; th_exchange_token takes a short-lived one (Long-Lived Tokens)",
        );
    }
    let token = issue(st, &t.username, t.scopes, true);
    Answer::json(200, json!({ "access_token": token.value, "token_type": "bearer", "expires_in": 5_183_944 }))
}

/// `GET /refresh_access_token?grant_type=th_refresh_token`: a long-lived token at least 24 hours
/// old and not expired, for a new one valid 60 days (Long-Lived Tokens).
fn refresh(st: &mut State, req: &Incoming, grant: Option<String>, old: Option<String>) -> Answer {
    if grant.as_deref() != Some("th_refresh_token") {
        return refuse(st, req, 100, "grant_type must be th_refresh_token (Long-Lived Tokens)");
    }
    let Some(t) = old.and_then(|o| st.tokens.iter().find(|t| t.value == o).cloned()) else {
        return refuse(st, req, 190, "access_token is not a token this server issued");
    };
    if t.expires <= Utc::now() {
        return error(400, 190, Some(463), "OAuthException", "Error validating access token: Session has expired.");
    }
    if !t.long_lived {
        return refuse(st, req, 100, "only a long-lived token can be refreshed (Long-Lived Tokens)");
    }
    if Utc::now() - t.issued < chrono::Duration::hours(24) {
        return refuse(st, req, 100, "the token is less than 24 hours old; a long-lived token can be refreshed once it is at least 24 hours old (Long-Lived Tokens)");
    }
    let token = issue(st, &t.username, t.scopes, true);
    Answer::json(200, json!({ "access_token": token.value, "token_type": "bearer", "expires_in": 5_183_944 }))
}

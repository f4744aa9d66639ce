//! Facebook Login for the test server: the login dialog, the code exchange and the long-lived
//! token exchange ("Manually Build a Login Flow",
//! https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow; "Long-Lived
//! Access Tokens", https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived).

use chrono::Utc;
use serde_json::json;

use super::super::loopback::{Answer, Incoming};
use super::super::meta::{self, error};
use super::{Kind, State, Token, APP_ID, APP_SECRET, PAGE_SCOPES};

pub fn answer(st: &mut State, req: &Incoming, rest: &[&str]) -> Answer {
    match rest {
        ["dialog", "oauth"] => dialog(st, req),
        _ => access_token(st, req),
    }
}

fn oauth_refusal(st: &mut State, req: &Incoming, rule: &str) -> Answer {
    st.mistakes.push(req, rule);
    error(400, 100, None, "OAuthException", &format!("(#100) {rule}"))
}

fn registered(uri: &str) -> bool {
    url::Url::parse(uri).is_ok_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost")))
}

/// Refuses parameters outside `allowed`.
fn only(st: &mut State, req: &Incoming, allowed: &[&str]) -> Result<(), Answer> {
    for (k, _, _) in meta::params(req) {
        if !allowed.contains(&k.as_str()) {
            let rule =
                format!("unknown parameter {k:?}; this step of Facebook Login takes {allowed:?} (manual-flow guide)");
            return Err(oauth_refusal(st, req, &rule));
        }
    }
    Ok(())
}

/// `GET /{v}/dialog/oauth`: the person allows at once; the browser goes to the redirect URI with
/// `code` and `state` (manual-flow guide, "Invoking the Login Dialog" and "Handling Login Dialog
/// Response").
fn dialog(st: &mut State, req: &Incoming) -> Answer {
    if let Err(a) = only(st, req, &["client_id", "redirect_uri", "state", "response_type", "scope"]) {
        return a;
    }
    if req.query("client_id") != Some(APP_ID) {
        return oauth_refusal(
            st,
            req,
            &format!("client_id {:?} is not the app's (manual-flow guide)", req.query("client_id")),
        );
    }
    let redirect = req.query("redirect_uri").unwrap_or_default().to_string();
    if !registered(&redirect) {
        return oauth_refusal(
            st,
            req,
            &format!("redirect_uri {redirect:?} is not a valid OAuth redirect URI of the app"),
        );
    }
    if req.query("response_type").is_some_and(|r| r != "code") {
        return oauth_refusal(st, req, "response_type must be code for a server-side exchange (manual-flow guide)");
    }
    let known: Vec<&str> = PAGE_SCOPES.iter().copied().chain(["public_profile", "email"]).collect();
    let scopes: Vec<String> = req
        .query("scope")
        .unwrap_or_default()
        .split([',', ' '])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(bad) = scopes.iter().find(|s| !known.contains(&s.as_str())) {
        return oauth_refusal(st, req, &format!("unknown permission {bad:?} in scope"));
    }
    let code = format!("fb-code-{}", st.ids.next());
    st.codes.insert(code.clone(), (redirect.clone(), st.login_as.clone(), scopes));
    let Ok(mut location) = url::Url::parse(&redirect) else {
        return oauth_refusal(st, req, "redirect_uri is not a URL");
    };
    location.query_pairs_mut().append_pair("code", &code);
    if let Some(state) = req.query("state") {
        location.query_pairs_mut().append_pair("state", state);
    }
    Answer::redirect(location.as_str())
}

/// `GET /{v}/oauth/access_token`: a code for a short-lived User token, or a short-lived token
/// for a long-lived one (`grant_type=fb_exchange_token`).
fn access_token(st: &mut State, req: &Incoming) -> Answer {
    let p: Vec<(String, String)> = meta::params(req).into_iter().map(|(k, v, _)| (k, meta::text(&v))).collect();
    let get = |k: &str| p.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("client_id").as_deref() != Some(APP_ID) || get("client_secret").as_deref() != Some(APP_SECRET) {
        st.mistakes.push(req, "client_id or client_secret is not the app's (manual-flow guide, Exchanging Code)");
        return error(400, 1, None, "OAuthException", "Error validating client secret.");
    }
    if get("grant_type").as_deref() == Some("fb_exchange_token") {
        if let Err(a) = only(st, req, &["grant_type", "client_id", "client_secret", "fb_exchange_token"]) {
            return a;
        }
        let old = get("fb_exchange_token").unwrap_or_default();
        let user = st.tokens.iter().find(|t| t.value == old).cloned();
        let Some(Token { kind: Kind::User { username, .. }, scopes, expires, .. }) = user else {
            return oauth_refusal(st, req, "fb_exchange_token is not a User access token this server issued");
        };
        if expires.is_some_and(|e| e <= Utc::now()) {
            // "You can not use an expired token to request a long-lived token."
            return error(400, 190, Some(463), "OAuthException", "Error validating access token: Session has expired.");
        }
        return issue(st, &username, scopes, true);
    }
    if let Err(a) = only(st, req, &["client_id", "redirect_uri", "client_secret", "code"]) {
        return a;
    }
    let code = get("code").unwrap_or_default();
    let Some((redirect, username, scopes)) = st.codes.remove(&code) else {
        return error(400, 100, Some(36009), "OAuthException", "This authorization code has been used.");
    };
    if get("redirect_uri").as_deref() != Some(redirect.as_str()) {
        st.mistakes.push(req, "redirect_uri differs from the login dialog's (manual-flow guide, Exchanging Code)");
        return error(
            400,
            100,
            Some(36008),
            "OAuthException",
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
        );
    }
    issue(st, &username, scopes, false)
}

fn issue(st: &mut State, username: &str, scopes: Vec<String>, long_lived: bool) -> Answer {
    let value = format!("fb-user-{}", st.ids.next());
    let life = if long_lived { 5_183_944 } else { 3600 };
    st.tokens.push(Token {
        value: value.clone(),
        kind: Kind::User { username: username.into(), long_lived },
        scopes,
        expires: Some(Utc::now() + chrono::Duration::seconds(life)),
    });
    Answer::json(200, json!({ "access_token": value, "token_type": "bearer", "expires_in": life }))
}
